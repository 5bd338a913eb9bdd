//! JSONPath tests: the Jayway results recorded with Jayway JsonPath 2.0 + json-smart
//! (`../shared/tools/velocity-oracle` classpath), the dependencies.md §5.1 table, and
//! serde_json_path as a differential oracle for the RFC 9535 subset.

use serde_json::{Value, json};

use super::*;

fn doc() -> Value {
    json!({
        "a": {"b": "AB", "b-c": "hyphen", "1x": "digitkey"},
        "x": "X",
        "user-name": "bob",
        "items": [
            {"id": 1, "name": "n1", "price": 5, "t": "ab", "n": null},
            {"id": 2, "name": "n2", "price": 15.5, "t": "cd"}
        ],
        "nested": {"name": "deep"},
        "o": {"price": 20}
    })
}

fn eval(path: &str) -> Option<Value> {
    let d = doc();
    JsonPath::parse(path).unwrap_or_else(|e| panic!("{e}")).evaluate(&d).map(|v| v.into_owned())
}

#[test]
fn definite_paths_give_the_value() {
    assert_eq!(eval("$"), Some(doc()));
    assert_eq!(eval("$.a.b"), Some(json!("AB")));
    assert_eq!(eval("$['x']"), Some(json!("X")));
    assert_eq!(eval("$[\"x\"]"), Some(json!("X")));
    assert_eq!(eval("$.items[0].id"), Some(json!(1)));
    assert_eq!(eval("$.items[-1].id"), Some(json!(2)));
    assert_eq!(eval("$['a']['b']"), Some(json!("AB")));
}

#[test]
fn jayway_dot_names_accept_hyphens_and_leading_digits() {
    assert_eq!(eval("$.user-name"), Some(json!("bob")));
    assert_eq!(eval("$.a.b-c"), Some(json!("hyphen")));
    assert_eq!(eval("$.a.1x"), Some(json!("digitkey")));
}

#[test]
fn a_path_without_dollar_is_rooted() {
    assert_eq!(eval("a.b"), Some(json!("AB")));
    assert_eq!(eval("  $.x  "), Some(json!("X")));
}

#[test]
fn missing_definite_paths_give_nothing() {
    assert_eq!(eval("$.missing"), None);
    assert_eq!(eval("$.a.missing"), None);
    assert_eq!(eval("$.items.b"), None, "a name on an array");
    assert_eq!(eval("$.items[5]"), None);
    assert_eq!(eval("$.a.b.c"), None, "a name on a string");
}

#[test]
fn indefinite_paths_give_arrays() {
    assert_eq!(eval("$..name"), Some(json!(["n1", "n2", "deep"])));
    assert_eq!(eval("$.items[*].id"), Some(json!([1, 2])));
    assert_eq!(eval("$.items.*.id"), Some(json!([1, 2])));
    assert_eq!(eval("$.items[0,1].id"), Some(json!([1, 2])));
    assert_eq!(eval("$.items[0:1].id"), Some(json!([1])));
    assert_eq!(eval("$.items[1:].id"), Some(json!([2])));
    assert_eq!(eval("$.items[:-1].id"), Some(json!([1])));
    assert_eq!(eval("$.a.*"), Some(json!(["AB", "hyphen", "digitkey"])));
    assert_eq!(eval("$.items[*].zz"), Some(json!([])), "missing leaves are skipped, not null");
    assert_eq!(eval("$..[0].id"), Some(json!([1])));
}

#[test]
fn a_type_mismatch_after_definite_steps_is_not_found() {
    // Jayway throws PathNotFoundException here although the paths are indefinite.
    let text = json!("a=b");
    assert_eq!(JsonPath::parse("$.a.*").unwrap().evaluate(&text), None);
    assert_eq!(eval("$.x[0:1]"), None, "a slice of a string");
    assert_eq!(eval("$.x[*]"), Some(json!([])), "a wildcard never throws");
    // ...but a missing name on an object, or a mismatch after an indefinite step, is [].
    assert_eq!(eval("$.zz.*"), Some(json!([])));
    assert_eq!(eval("$.items[*].id.x"), Some(json!([])));
}

#[test]
fn deep_wildcard_lists_a_node_before_its_children() {
    let d = json!({"l": [{"a": 1}], "o": {"p": 2}});
    let got = JsonPath::parse("$..*").unwrap().evaluate(&d).unwrap().into_owned();
    assert_eq!(got, json!([[{"a": 1}], {"p": 2}, {"a": 1}, 1, 2]));
}

#[test]
fn several_names_as_the_last_step_merge_into_a_map() {
    assert_eq!(eval("$.a['b','x']"), Some(json!({"b": "AB"})));
    assert_eq!(eval("$['x','user-name']"), Some(json!({"x": "X", "user-name": "bob"})));
    assert!(JsonPath::parse("$['x','y']").unwrap().is_definite());
}

#[test]
fn filters_follow_jayway() {
    assert_eq!(eval("$.items[?(@.price > 10)].id"), Some(json!([2])));
    assert_eq!(eval("$.items[?(@.price>10)].id"), Some(json!([2])));
    assert_eq!(eval("$.items[?(@.t == 'ab')].id"), Some(json!([1])));
    assert_eq!(eval("$.items[?(@.t == \"cd\")].id"), Some(json!([2])));
    assert_eq!(eval("$.items[?(@.t != 'ab')].id"), Some(json!([2])));
    assert_eq!(eval("$.items[?(@.zz != 'ab')].id"), Some(json!([])), "missing compares false");
    assert_eq!(eval("$.items[?(@.t =~ /A.*/i)].id"), Some(json!([1])));
    assert_eq!(eval("$.items[?(@.price > 1 && @.id == 2)].id"), Some(json!([2])));
    assert_eq!(eval("$.items[?(@.id == 1 || @.id == 2)].id"), Some(json!([1, 2])));
    assert_eq!(eval("$.items[?(@.n)].id"), Some(json!([])), "existence is false for null");
    assert_eq!(eval("$.items[?(!@.n)].id"), Some(json!([1, 2])));
    assert_eq!(eval("$.items[?(@.n == null)].id"), Some(json!([1])));
    assert_eq!(eval("$.items[?(@.id in [1, 3])].id"), Some(json!([1])));
    assert_eq!(eval("$.items[?(@.id nin [1, 3])].id"), Some(json!([2])));
    assert_eq!(eval("$.items[?(@.price > $.o.price)].id"), Some(json!([])));
    assert_eq!(eval("$.o[?(@.price > 10)]"), Some(json!([{"price": 20}])), "a filter on an object tests it");
    assert_eq!(
        eval("$..[?(@.price > 10)]"),
        Some(json!([{"id": 2, "name": "n2", "price": 15.5, "t": "cd"}, {"price": 20}]))
    );
}

#[test]
fn length_function() {
    assert_eq!(eval("$.items.length()"), Some(json!(2)));
    assert_eq!(eval("$.a.length()"), Some(json!(3)));
    assert_eq!(eval("$.x.length()"), Some(json!(1)));
    assert_eq!(eval("$..id.length()"), Some(json!(2)));
    assert_eq!(eval("$.missing.length()"), None);
    assert_eq!(eval("$.items[?(@.t.length() == 2)].id"), Some(json!([1, 2])));
}

#[test]
fn syntax_errors_carry_a_position() {
    for bad in ["$.", "$..", "$.a[", "$[?(@.a ==)]", "$['a", "$.a b", "$.a.nope()", "$[1:2:3]", ""] {
        let e = JsonPath::parse(bad).expect_err(bad);
        assert!(e.to_string().contains("invalid JSONPath"), "{bad}: {e}");
    }
    assert_eq!(JsonPath::parse("$.a b").unwrap_err().position(), 3);
}

#[test]
fn definiteness() {
    for p in ["$", "$.a", "$.a[0]", "$['a'].b"] {
        assert!(JsonPath::parse(p).unwrap().is_definite(), "{p}");
    }
    for p in ["$..a", "$.a[*]", "$.a.*", "$.a[0,1]", "$.a[1:]", "$.a[?(@.x)]", "$['a','b'].c"] {
        assert!(!JsonPath::parse(p).unwrap().is_definite(), "{p}");
    }
}

#[test]
fn only_a_bare_dollar_is_the_root() {
    assert!(JsonPath::parse("$").unwrap().is_root());
    for p in ["$.a", "$..*", "$[*]", "$.length()", "a"] {
        assert!(!JsonPath::parse(p).unwrap().is_root(), "{p}");
    }
}

#[test]
fn definite_results_borrow_the_document() {
    let d = doc();
    let p = JsonPath::parse("$").unwrap();
    assert!(matches!(p.evaluate(&d), Some(std::borrow::Cow::Borrowed(_))));
}

#[test]
fn cache_returns_the_same_parsed_path() {
    let c = Cache::new();
    let a = c.get("$.a").unwrap();
    let b = c.get("$.a").unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    assert!(c.get("$.").is_err());
    assert!(std::sync::Arc::ptr_eq(&cached("$.zz").unwrap(), &cached("$.zz").unwrap()));
}

/// serde_json_path (RFC 9535) as a differential oracle for paths both dialects share.
#[test]
fn agrees_with_serde_json_path_on_the_rfc_subset() {
    let d = doc();
    for p in [
        "$", "$.a.b", "$['x']", "$.items[0]", "$.items[-1]", "$.items[0:1]", "$.items[0,1].id", "$.items.*.id",
        "$.a.*", "$.a['b','x']", "$..name", "$.items[*].id", "$.items[?(@.price > 10)].id", "$.missing",
        "$..id", "$..*", "$.items[*].name", "$.nested.name", "$..[0]", "$.items[?(@.t == 'ab')]",
    ] {
        let ours: Vec<&Value> = JsonPath::parse(p).unwrap().query(&d);
        let theirs: Vec<&Value> = serde_json_path::JsonPath::parse(p).unwrap().query(&d).all();
        assert_eq!(ours, theirs, "{p}");
    }
}

proptest::proptest! {
    #[test]
    fn parsing_and_evaluating_never_panics(s in "[$@.\\[\\]*?()'\"a-c0-9:,=<>!&|/ -]{0,24}") {
        if let Ok(p) = JsonPath::parse(&s) {
            let _ = p.evaluate(&doc());
        }
    }
}
