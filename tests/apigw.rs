//! The template environment end to end: the templates in `templates/` rendered through
//! the library with exact expected bytes (expectations checked against Apache Velocity
//! 1.7 + json-smart + commons-lang, `../shared/tools/velocity-oracle`), and the
//! `stepgate render` command run as a built binary.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use stepgate::apigw::{RequestContext, RequestData, TemplateEnv};
use stepgate::vtl::Template;

fn template_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates").join(name)
}

fn template(name: &str) -> Template {
    let path = template_path(name);
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Template::parse(&path.display().to_string(), &src).unwrap_or_else(|e| panic!("{e:#}"))
}

/// A body with `'`, `"`, `/`, a newline and non-ASCII (BMP and astral).
const ORDER: &str = "{\"order\": {\"id\": \"o-1\", \"note\": \"it's \\\"quoted\\\" a/b\\nline2 é 😀\"}}";

fn order_request() -> RequestData {
    RequestData {
        method: "POST".into(),
        path: "/execute".into(),
        resource_path: "/execute".into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: ORDER.into(),
        context: RequestContext { request_id: "req-1".into(), ..RequestContext::default() },
        ..RequestData::default()
    }
}

const SEED_OUTPUT: &str = "{\n  \"input\": \"{\\\"order\\\":{\\\"id\\\":\\\"o-1\\\",\\\"note\\\":\\\"it\\'s \\\\\\\"quoted\\\\\\\" a\\\\\\/b\\\\nline2 \\u00E9 \\uD83D\\uDE00\\\"}}\",\n  \"name\": \"req-1\",\n  \"stateMachineArn\": \"arn:aws:states:us-east-1:123456789012:stateMachine:Workflow\"\n}\n";

#[test]
fn seed_request_template_renders_exactly() {
    let env = TemplateEnv::new(order_request());
    let out = template("start-execution.vtl").render(&mut env.request_context()).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(out, SEED_OUTPUT);
    // The `\'` escape makes the body invalid JSON: that is the documented trap.
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_err());
}

#[test]
fn quote_fix_template_gives_valid_json_carrying_the_body() {
    let env = TemplateEnv::new(order_request());
    let out = template("start-execution-quote-fix.vtl")
        .render(&mut env.request_context())
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(out, SEED_OUTPUT.replace("\\'", "'"));
    let start: serde_json::Value = serde_json::from_str(&out).expect("valid StartExecution JSON");
    let input: serde_json::Value = serde_json::from_str(start["input"].as_str().expect("input string")).expect("input is JSON");
    let body: serde_json::Value = serde_json::from_str(ORDER).expect("test body");
    assert_eq!(input, body);
    assert_eq!(start["name"], "req-1");
}

#[test]
fn seed_template_with_an_empty_body_sends_an_empty_object() {
    let env = TemplateEnv::new(RequestData { body: Default::default(), ..order_request() });
    let out = template("start-execution.vtl").render(&mut env.request_context()).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(out.starts_with("{\n  \"input\": \"{}\",\n"), "{out}");
}

#[test]
fn sync_response_template_maps_failed_to_500() {
    let env = TemplateEnv::new(order_request());
    let backend = r#"{"status": "FAILED", "error": "States.TaskFailed", "cause": "boom"}"#;
    let out = template("start-sync-execution-response.vtl")
        .render(&mut env.response_context(backend))
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(out, "{\n  \"error\": \"States.TaskFailed\",\n  \"cause\": \"boom\"\n}\n");
    assert_eq!(env.overrides().expect("valid status").response_status, Some(500));
}

#[test]
fn sync_response_template_passes_the_output_through() {
    let env = TemplateEnv::new(order_request());
    let backend = r#"{"status": "SUCCEEDED", "output": "{\"ok\": true, \"n\": 1}"}"#;
    let out = template("start-sync-execution-response.vtl")
        .render(&mut env.response_context(backend))
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(out, "{\"ok\": true, \"n\": 1}\n");
    assert_eq!(env.overrides().expect("valid status").response_status, None);
}

#[test]
fn request_and_response_templates_share_the_context() {
    let env = TemplateEnv::new(order_request());
    let req = Template::parse("req", "#set($context.responseOverride.header.X-Trace = \"t1\")ok").unwrap();
    assert_eq!(req.render(&mut env.request_context()).unwrap(), "ok");
    let resp = Template::parse("resp", "$context.responseOverride.header.X-Trace").unwrap();
    assert_eq!(resp.render(&mut env.response_context("{}")).unwrap(), "t1");
    assert_eq!(env.overrides().unwrap().response_headers["X-Trace"], ["t1"]);
}

#[test]
fn every_file_in_templates_parses() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("templates/") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "vtl") {
            let src = std::fs::read_to_string(&path).expect("readable");
            Template::parse(&path.display().to_string(), &src).unwrap_or_else(|e| panic!("{e:#}"));
            n += 1;
        }
    }
    assert!(n >= 3, "expected the seed templates, found {n}");
}

// === the `stepgate render` command ===

fn stepgate(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run stepgate");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or_default().as_bytes()).expect("write stdin");
    drop(pipe);
    child.wait_with_output().expect("stepgate exits")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn render_prints_the_seed_template() {
    let dir = tempfile::tempdir().expect("temp dir");
    let body = dir.path().join("order.json");
    std::fs::write(&body, ORDER).expect("write body");
    let t = template_path("start-execution.vtl");
    let out = stepgate(
        &[
            "render",
            t.to_str().expect("utf-8 path"),
            "--body",
            body.to_str().expect("utf-8 path"),
            "--header",
            "Content-Type: application/json",
            "--context",
            "requestId=req-1",
        ],
        None,
    );
    assert_eq!(text(&out.stderr), "");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), SEED_OUTPUT);
}

#[test]
fn render_reads_the_body_from_stdin_and_sees_params() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = dir.path().join("t.vtl");
    std::fs::write(
        &t,
        "$input.path('$.a') $input.params('id') $input.params('q') $input.params('X-H') $stageVariables.v $context.stage $context.identity.sourceIp",
    )
    .expect("write template");
    let out = stepgate(
        &[
            "render",
            t.to_str().expect("utf-8 path"),
            "--body",
            "-",
            "--path",
            "id=7",
            "--query",
            "q=a b",
            "-H",
            "X-H: hv",
            "--stage-var",
            "v=v2",
            "--context",
            "stage=prod",
            "--context",
            "identity.sourceIp=10.1.2.3",
        ],
        Some(r#"{"a": "from stdin"}"#),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "from stdin 7 a b hv v2 prod 10.1.2.3");
}

#[test]
fn render_response_mode_reports_the_status_override() {
    let t = template_path("start-sync-execution-response.vtl");
    let out = stepgate(
        &["render", t.to_str().expect("utf-8 path"), "--response", "--body", "-"],
        Some(r#"{"status": "FAILED", "error": "E", "cause": "C"}"#),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "{\n  \"error\": \"E\",\n  \"cause\": \"C\"\n}\n");
    let err = text(&out.stderr);
    assert!(err.contains("responseOverride.status: 500"), "{err}");
    assert!(err.contains("status: 500"), "{err}");
}

#[test]
fn render_syntax_error_prints_a_caret_and_exits_1() {
    let out = stepgate(&["render", "-"], Some("line one\n#if($x)\nnever closed\n"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let err = text(&out.stderr);
    assert!(err.contains('^'), "no caret in: {err}");
    assert!(err.contains("-:2:") || err.contains("--> -"), "no location in: {err}");
}

#[test]
fn render_malformed_payload_reports_api_gateways_400() {
    let out = stepgate(&["render", "-", "--body", "/dev/null"], Some("x"));
    assert!(out.status.success(), "empty body reads as {{}}: {}", text(&out.stderr));
    let dir = tempfile::tempdir().expect("temp dir");
    let body = dir.path().join("bad.json");
    std::fs::write(&body, "[a").expect("write body");
    let t = dir.path().join("t.vtl");
    std::fs::write(&t, "$input.json('$')").expect("write template");
    let out = stepgate(&["render", t.to_str().unwrap_or_default(), "--body", body.to_str().unwrap_or_default()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("Could not process payloadnet.minidev.json.parser.ParseException: Unexpected End Of File position 1: EOF"),
        "{err}"
    );
    assert!(err.contains("API Gateway would answer 400"), "{err}");
}

#[test]
fn render_rejects_bad_arguments() {
    let out = stepgate(&["render", "-", "--header", "no-colon"], Some(""));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--header expects"), "{}", text(&out.stderr));
    let out = stepgate(&["render", "/nonexistent/t.vtl"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/t.vtl"));
    let out = stepgate(&["render", "--help"], None);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("--stage-var"));
}
