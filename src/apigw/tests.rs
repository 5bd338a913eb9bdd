//! Template environment tests: the `$context` shape, overrides, header visibility, the
//! shared payload-error slot, and the lazy `$context` rendering exactly like its map.

use super::*;

fn request() -> RequestData {
    RequestData {
        method: "POST".into(),
        path: "/sqs".into(),
        resource_path: "/sqs".into(),
        headers: vec![
            ("User-Agent".into(), "python/requests/tests".into()),
            ("Connection".into(), "close".into()),
            ("Accept".into(), "application/json".into()),
        ],
        query: vec![("q".into(), "test 3".into())],
        path_params: vec![("id".into(), "7".into())],
        body: Bytes::from_static(b"{\"a\": 1}"),
        stage_variables: vec![("version".into(), "v2".into())],
        context: RequestContext {
            request_id: "rid".into(),
            stage: "testing".into(),
            api_id: "abc123".into(),
            domain_name: "abc123.execute-api.us-east-1.amazonaws.com".into(),
            request_time_epoch_ms: 1_795_266_942_123,
            ..RequestContext::default()
        },
    }
}

fn keys(v: &Value) -> Vec<String> {
    match v {
        Value::Map(m) => m.lock().entries.keys().map(|k| k.to_string()).collect(),
        Value::Object(o) => match o.call("keySet", &[]) {
            Some(Ok(Value::List(l))) => l.items().iter().filter_map(to_java_string).collect(),
            other => panic!("keySet gave {other:?}"),
        },
        other => panic!("not a map: {other:?}"),
    }
}

fn sub(v: &Value, k: &str) -> Value {
    let got = match v {
        Value::Map(m) => m.get(k),
        Value::Object(o) => o.get(k),
        _ => None,
    };
    got.unwrap_or_else(|| panic!("no {k} in {v:?}"))
}

fn put(v: &Value, k: &str, value: Value) {
    let Value::Object(o) = v else { panic!("not a context object: {v:?}") };
    assert!(o.call("put", &[Value::from(k), value]).is_some_and(|r| r.is_ok()));
}

fn text(v: &Value, k: &str) -> String {
    let got = match v {
        Value::Map(m) => m.get(k),
        Value::Object(o) => o.get(k),
        _ => None,
    };
    got.and_then(|v| to_java_string(&v)).unwrap_or_default()
}

fn root(env: &TemplateEnv) -> Value {
    Value::Map(env.context_map().clone())
}

#[test]
fn context_keys_come_in_aws_order() {
    let env = TemplateEnv::new(request());
    let ctx = &root(&env);
    assert_eq!(
        keys(ctx),
        [
            "resourceId", "resourcePath", "httpMethod", "extendedRequestId", "requestTime", "path", "accountId",
            "protocol", "requestOverride", "stage", "domainPrefix", "requestTimeEpoch", "requestId", "identity",
            "domainName", "deploymentId", "responseOverride", "apiId",
        ]
    );
    assert_eq!(
        keys(&sub(ctx, "identity")),
        [
            "cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "sourceIp", "principalOrgId",
            "accessKey", "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "userAgent", "user",
        ]
    );
    assert_eq!(keys(&sub(ctx, "requestOverride")), ["path", "header", "querystring"]);
    assert_eq!(keys(&sub(ctx, "responseOverride")), ["header"]);
}

#[test]
fn context_values_are_derived_from_the_request() {
    let env = TemplateEnv::new(request());
    let ctx = &root(&env);
    assert_eq!(text(ctx, "path"), "/testing/sqs");
    assert_eq!(text(ctx, "resourcePath"), "/sqs");
    assert_eq!(text(ctx, "httpMethod"), "POST");
    assert_eq!(text(ctx, "domainPrefix"), "abc123");
    assert_eq!(text(ctx, "requestTime"), "21/Nov/2026:13:15:42 +0000");
    assert_eq!(text(ctx, "requestTimeEpoch"), "1795266942123");
    assert_eq!(text(ctx, "protocol"), "HTTP/1.1");
    let identity = sub(ctx, "identity");
    assert_eq!(text(&identity, "userAgent"), "python/requests/tests");
    assert_eq!(text(&identity, "sourceIp"), "127.0.0.1");
    assert!(sub(&identity, "user").is_null());
    assert!(env.context_map().get("authorizer").is_none(), "no authorizer key without an authorizer");
    // Nested context objects render as nothing, as on AWS.
    let Value::Object(o) = sub(ctx, "identity") else { panic!("identity is not an object") };
    assert_eq!(o.render(), "");
}

#[test]
fn authorizer_values_are_stringified_and_extras_are_set_last() {
    let mut req = request();
    req.context.authorizer = serde_json::from_str(r#"{"principalId": "u1", "n": 1, "ok": true, "claims": {"sub": "s"}}"#).ok();
    req.context.extra = vec![("isCanaryRequest".into(), serde_json::json!(false)), ("identity.user".into(), serde_json::json!("me"))];
    let env = TemplateEnv::new(req);
    let auth = sub(&root(&env), "authorizer");
    assert_eq!(text(&auth, "n"), "1");
    assert!(matches!(sub(&auth, "n"), Value::String(_)));
    assert_eq!(text(&auth, "ok"), "true");
    assert_eq!(text(&sub(&auth, "claims"), "sub"), "s");
    assert_eq!(text(&root(&env), "isCanaryRequest"), "false");
    assert_eq!(text(&sub(&root(&env), "identity"), "user"), "me");
}

#[test]
fn overrides_are_read_back_from_the_shared_context() {
    let env = TemplateEnv::new(request());
    assert_eq!(env.overrides().unwrap(), Overrides::default());
    // What `#set($context.requestOverride.header.X-Amz-Target = "...")` etc. do:
    let ctx = &root(&env);
    put(&sub(&sub(ctx, "requestOverride"), "header"), "X-Amz-Target", Value::from("AWSEvents.PutEvents"));
    put(&sub(&sub(ctx, "requestOverride"), "header"), "multi", Value::java_list(vec![Value::from("a"), Value::from("b")]));
    put(&sub(&sub(ctx, "requestOverride"), "path"), "proxy", Value::from("p"));
    put(&sub(&sub(ctx, "requestOverride"), "querystring"), "q", Value::from("v"));
    put(&sub(ctx, "responseOverride"), "status", Value::Int(444));
    put(&sub(&sub(ctx, "responseOverride"), "header"), "foo", Value::from("bar"));
    let o = env.overrides().unwrap();
    assert_eq!(o.request_headers["X-Amz-Target"], ["AWSEvents.PutEvents"]);
    assert_eq!(o.request_headers["multi"], ["a", "b"]);
    assert_eq!(Overrides::joined(&o.request_headers["multi"]), "a,b");
    assert_eq!(o.request_path["proxy"], "p");
    assert_eq!(o.request_querystring["q"], ["v"]);
    assert_eq!(o.response_status, Some(444));
    assert_eq!(o.response_headers["foo"], ["bar"]);
    // A response context made later sees the same map.
    let rc = env.response_context("{}");
    let Some(Value::Object(c2)) = rc.get("context") else { panic!("no $context") };
    assert!(c2.as_map().is_some_and(|m| m.ptr_eq(env.context_map())));
}

#[test]
fn a_bad_status_override_is_an_error() {
    let env = TemplateEnv::new(request());
    put(&sub(&root(&env), "responseOverride"), "status", Value::from("abc"));
    assert_eq!(env.overrides().unwrap_err().value, "abc");
    put(&sub(&root(&env), "responseOverride"), "status", Value::from("201"));
    assert_eq!(env.overrides().unwrap().response_status, Some(201));
}

#[test]
fn hop_by_hop_headers_are_invisible_to_templates() {
    let env = TemplateEnv::new(request());
    let ctx = env.request_context();
    let Some(Value::Object(input)) = ctx.get("input") else { panic!("no $input") };
    let p = |name: &str| input.call("params", &[Value::from(name)]).unwrap().unwrap();
    assert_eq!(p("Connection").as_str(), Some(""));
    assert_eq!(p("Accept").as_str(), Some("application/json"));
    assert_eq!(p("q").as_str(), Some("test 3"));
    assert_eq!(p("id").as_str(), Some("7"));
}

#[test]
fn payload_errors_reach_the_env() {
    let mut req = request();
    req.body = Bytes::from_static(b"{a");
    let env = TemplateEnv::new(req);
    assert_eq!(env.payload_error(), None);
    let ctx = env.request_context();
    let Some(Value::Object(input)) = ctx.get("input") else { panic!("no $input") };
    assert!(input.call("json", &[Value::from("$")]).unwrap().is_err());
    assert_eq!(
        env.payload_error().as_deref(),
        Some("Could not process payloadnet.minidev.json.parser.ParseException: Unexpected End Of File position 1: null")
    );
}

#[test]
fn the_render_context_has_the_four_variables() {
    let env = TemplateEnv::new(request());
    let ctx = env.request_context();
    for name in ["input", "util", "context", "stageVariables"] {
        assert!(ctx.get(name).is_some(), "{name}");
    }
    let Some(Value::Map(sv)) = ctx.get("stageVariables") else { panic!("no $stageVariables") };
    assert_eq!(text(&Value::Map(sv.clone()), "version"), "v2");
}

/// Renders `source` on a fresh environment of `request()`: lazily (`$context` untouched
/// before the render) or with the map built first.
fn render_context(source: &str, built_first: bool) -> String {
    let mut req = request();
    req.context.extended_request_id = "ext".into();
    let env = TemplateEnv::new(req);
    if built_first {
        env.context_map();
    }
    let t = crate::vtl::Template::parse("t", source).unwrap_or_else(|e| panic!("{e:#}"));
    let out = t.render(&mut env.request_context()).unwrap_or_else(|e| panic!("{e:#}"));
    // What the template set is in the map afterwards, and the overrides read back.
    let map = Value::Map(env.context_map().clone());
    format!("{out}|{:?}|{}", env.overrides(), keys(&map).join(","))
}

#[test]
fn lazy_context_renders_exactly_like_the_map() {
    let templates = [
        "$context.requestId $context.path $context.requestTime $context.requestTimeEpoch $context.domainPrefix",
        "$context.keySet() $context.size() $context.isEmpty()",
        "#foreach($k in $context.keySet())$k=$context.get($k);#end",
        "#foreach($v in $context)[$v]#end",
        "#foreach($e in $context.entrySet())$e.key,#end",
        "$context",
        "$context.toString() $context.containsKey('stage') $context['stage'] $context.get('nope')",
        "#set($context.requestId = 'mine')$context.requestId $context.keySet()",
        "#set($context.custom = 'x')$context.custom $context.size()",
        "#set($context['stage'] = 'other')$context.stage",
        "#set($c = $context)$c.put('k', 1)$context.k $c.size()",
        "#set($context.requestOverride.header.h = 'v')#set($context.responseOverride.status = 201)$context.requestOverride.header.h",
        "$context.identity.sourceIp $context.identity.keySet() $context.responseOverride.keySet()",
        "$context.nope|$!context.nope|$context.identity|$context.requestOverride.path.x",
        "$util.toJson($context.requestId) $context.equals($context)",
    ];
    for source in templates {
        assert_eq!(render_context(source, false), render_context(source, true), "template {source}");
    }
}

#[test]
fn plain_reads_do_not_build_the_map() {
    let env = TemplateEnv::new(request());
    let t = crate::vtl::Template::parse("t", "$context.requestId $context.identity.sourceIp").unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(t.render(&mut env.request_context()).ok().as_deref(), Some("rid 127.0.0.1"));
    assert!(!env.context.is_built(), "plain reads built the map");
    // A later `#set` builds it and keeps the nested objects the reads handed out.
    let t = crate::vtl::Template::parse("t", "#set($context.responseOverride.status = 202)$context.size()").unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(t.render(&mut env.response_context("{}")).ok().as_deref(), Some("18"));
    assert_eq!(env.overrides().ok().and_then(|o| o.response_status), Some(202));
    let t = crate::vtl::Template::parse("t", "#set($context.stage = 'x')$context.stage").unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(t.render(&mut env.response_context("{}")).ok().as_deref(), Some("x"));
    assert!(env.context.is_built());
}
