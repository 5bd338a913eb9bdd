use super::*;

fn router(routes: &[(&str, &str)]) -> Router<usize> {
    let mut r = Router::new();
    for (i, (m, p)) in routes.iter().enumerate() {
        r.insert(m, p, i).unwrap();
    }
    r
}

fn hit(r: &Router<usize>, method: &str, path: &str) -> Option<usize> {
    r.find(method, path).map(|m| *m.value)
}

#[test]
fn literal_beats_param_beats_greedy() {
    let r = router(&[("GET", "/{proxy+}"), ("GET", "/orders/{id}"), ("GET", "/orders/latest")]);
    assert_eq!(hit(&r, "GET", "/orders/latest"), Some(2));
    assert_eq!(hit(&r, "GET", "/orders/7"), Some(1));
    assert_eq!(hit(&r, "GET", "/orders/7/items"), Some(0));
    assert_eq!(hit(&r, "GET", "/x"), Some(0));
}

#[test]
fn precedence_is_decided_from_the_left() {
    let r = router(&[("GET", "/{a}/b"), ("GET", "/a/{b}")]);
    assert_eq!(hit(&r, "GET", "/a/b"), Some(1));
}

#[test]
fn greedy_proxy_matches_nested_paths_but_not_the_root() {
    let r = router(&[("ANY", "/files/{proxy+}")]);
    let m = r.find("DELETE", "/files/a/b%20c/d").unwrap();
    assert_eq!(m.path_params, vec![("proxy".to_string(), "a/b c/d".to_string())]);
    assert!(r.find("GET", "/files").is_none());
    assert!(r.find("GET", "/files/").is_none());
}

#[test]
fn exact_method_beats_any_and_unknown_method_misses() {
    let r = router(&[("ANY", "/x"), ("POST", "/x"), ("GET", "/y")]);
    assert_eq!(hit(&r, "POST", "/x"), Some(1));
    assert_eq!(hit(&r, "PATCH", "/x"), Some(0));
    assert_eq!(hit(&r, "POST", "/y"), None);
    assert_eq!(hit(&r, "GET", "/nope"), None);
}

#[test]
fn method_missing_on_best_resource_falls_back_to_a_less_specific_one() {
    let r = router(&[("GET", "/a/b"), ("ANY", "/{proxy+}")]);
    assert_eq!(hit(&r, "POST", "/a/b"), Some(1));
}

#[test]
fn path_params_are_decoded_and_named() {
    let r = router(&[("GET", "/users/{user}/orders/{id}")]);
    let m = r.find("GET", "/users/a%40b/orders/9/").unwrap();
    assert_eq!(m.resource_path, "/users/{user}/orders/{id}");
    assert_eq!(
        m.path_params,
        vec![("user".into(), "a@b".into()), ("id".into(), "9".into())]
    );
}

#[test]
fn root_resource_matches_slash_only() {
    let r = router(&[("GET", "/")]);
    assert_eq!(hit(&r, "GET", "/"), Some(0));
    assert_eq!(hit(&r, "GET", "/a"), None);
}

#[test]
fn stage_prefix_is_required_and_stripped() {
    let r = router(&[("GET", "/existing")]).with_stage(Some("dev".into()));
    assert_eq!(hit(&r, "GET", "/dev/existing"), Some(0));
    assert_eq!(hit(&r, "GET", "/existing"), None);
    assert_eq!(hit(&r, "GET", "/devx/existing"), None);
    assert_eq!(hit(&r, "POST", "/dev/existing"), None);
}

#[test]
fn bad_templates_are_errors_not_panics() {
    let mut r: Router<()> = Router::new();
    for bad in ["orders", "/a//b", "/a{id}", "/{id", "/{proxy+}/x", "/{a}/{a}", "/{+}", "/{}"] {
        assert!(r.insert("GET", bad, ()).is_err(), "{bad} should be rejected");
    }
    r.insert("GET", "/a/{id}", ()).unwrap();
    assert!(matches!(r.insert("GET", "/a/{id}", ()), Err(Error::Duplicate { .. })));
    assert!(matches!(r.insert("GET", "/a/{name}", ()), Err(Error::Ambiguous { .. })));
}

#[test]
fn routes_lists_every_method() {
    let r = router(&[("GET", "/a"), ("x-amazon-apigateway-any-method", "/a")]);
    let listed: Vec<String> = r.routes().map(|(m, p, _)| format!("{m} {p}")).collect();
    assert_eq!(listed, ["GET /a", "ANY /a"]);
}
