//! The gateway conformance runner: every gateway-level case of `conformance_dir()/apigw/`
//! (all of `localstack_aws_validated_gateway.json`; the `routing`, `request_validation`,
//! `gateway_response_default`, `template_selection`, `request_parameters`,
//! `response_parameters` kinds and the `end_to_end` / `integration_response_selection`
//! stages of the other files) is turned into a one-route OpenAPI document, loaded through
//! `config::load` like any user file, and invoked through the pipeline. `http` integrations
//! call a stub upstream that records what it received and answers with the case's recorded
//! endpoint response. Lambda custom integrations invoke a function `case-<n>` on the local
//! backend: through `local.lambda_endpoint` (the same stub, serving the Lambda Invoke API
//! path with the case's recorded endpoint response, `X-Amz-Function-Error` included), or —
//! for a case with no recorded response, whose function echoes its event — a `cat` command.
//!
//! A case that does not pass must be listed with its reason in
//! `tests/conformance/gateway-divergences.txt`; a listed case that passes fails the run too,
//! so the file stays honest.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Map, Value, json};
use stepgate::config;
use stepgate::pipeline::{self, GatewayRequest, GatewayResponse, gateway_error};
use stepgate::server::{Gateway, Storage};

const GATEWAY_KINDS: [&str; 6] = [
    "routing",
    "request_validation",
    "gateway_response_default",
    "template_selection",
    "request_parameters",
    "response_parameters",
];
const GATEWAY_STAGES: [&str; 2] = ["end_to_end", "integration_response_selection"];

// === stub upstream ===

/// A recorded endpoint response: status, headers, body.
type Answer = (u16, Vec<(String, String)>, String);

/// What the stub answers on `/case/<n>` and what it received there.
#[derive(Default)]
struct Stub {
    answers: HashMap<String, Answer>,
    received: HashMap<String, Bytes>,
}

async fn start_stub(stub: Arc<Mutex<Stub>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let stub = stub.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let stub = stub.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let body = req.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
                        let mut s = stub.lock().unwrap();
                        s.received.insert(path.clone(), body);
                        let (status, headers, body) =
                            s.answers.get(&path).cloned().unwrap_or((200, vec![], "{}".to_string()));
                        let mut r = hyper::Response::builder().status(status);
                        for (k, v) in headers {
                            r = r.header(k, v);
                        }
                        Ok::<_, std::convert::Infallible>(r.body(Full::new(Bytes::from(body))).unwrap())
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

// === cases ===

struct Case {
    file: String,
    value: Value,
}

impl Case {
    fn id(&self) -> &str {
        self.value["id"].as_str().unwrap_or("?")
    }
    fn validated(&self) -> bool {
        self.value["validated_against_aws"].as_bool().unwrap_or(false)
    }
    fn kind(&self) -> &str {
        self.value.get("kind").or(self.value.get("stage")).and_then(Value::as_str).unwrap_or("")
    }
}

fn load_cases() -> Vec<Case> {
    let dir = common::conformance_dir().join("apigw");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let whole_file = name == "localstack_aws_validated_gateway.json";
        for value in all {
            let case = Case { file: name.clone(), value };
            let kind = case.kind().to_string();
            if whole_file || GATEWAY_KINDS.contains(&kind.as_str()) || GATEWAY_STAGES.contains(&kind.as_str()) {
                cases.push(case);
            }
        }
    }
    cases
}

/// Why a case could not be expressed, or what differed.
type Outcome = Result<(), String>;

// === building a scenario ===

/// One route, its request, and what to expect.
struct Scenario {
    stage: Option<String>,
    resource: String,
    method: String,
    operation: Map<String, Value>,
    schemas: Map<String, Value>,
    validators: Map<String, Value>,
    request: GatewayRequest,
    stub_path: Option<String>,
    /// The `local:` settings of stepgate.yaml (Lambda endpoint and handlers).
    local: Option<Value>,
}

/// Whether a case describes a Lambda custom integration.
fn is_lambda(case: &Value) -> bool {
    let integration = &case["integration"];
    text(&integration["type"]).contains("Lambda") || text(&integration["uri"]).contains(":lambda:")
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The stage and resource path a case's request implies.
fn stage_and_resource(case: &Value) -> (Option<String>, String) {
    let req = &case["request"];
    let path = text(&req["path"]).replace("<stage>", "dev");
    let path = path.split('?').next().unwrap_or("").to_string();
    let context_stage = req["context"]["stage"].as_str().map(str::to_string);
    let explicit_resource = case["method"]["resource"]
        .as_str()
        .or(req["context"]["resourcePath"].as_str())
        .map(str::to_string);
    let has_stage_prefix = |s: &str| path == format!("/{s}") || path.starts_with(&format!("/{s}/"));
    let id = case["id"].as_str().unwrap_or("");
    // LocalStack's AWS runs and the docs' validation sample call execute-api URLs, whose
    // first segment is the stage.
    let stage = match &context_stage {
        Some(s) if has_stage_prefix(s) => Some(s.clone()),
        _ if id.starts_with("ls-") || id.starts_with("docs-validation") => {
            path.split('/').nth(1).filter(|s| !s.is_empty()).map(str::to_string)
        }
        _ => None,
    };
    let rest = match &stage {
        Some(s) => path[s.len() + 1..].to_string(),
        None => path.clone(),
    };
    let rest = if rest.is_empty() { "/".to_string() } else { rest };
    let resource = explicit_resource.unwrap_or_else(|| {
        let mut r = rest.clone();
        if let Some(params) = req["path_params"].as_object() {
            for (k, v) in params {
                let v = text(v);
                r = r
                    .split('/')
                    .map(|seg| if seg == v { format!("{{{k}}}") } else { seg.to_string() })
                    .collect::<Vec<_>>()
                    .join("/");
            }
        }
        r
    });
    (stage, resource)
}

fn request_of(case: &Value) -> GatewayRequest {
    let req = &case["request"];
    let method = http::Method::from_bytes(text(&req["method"]).as_bytes()).unwrap_or(http::Method::GET);
    let mut path = text(&req["path"]).replace("<stage>", "dev");
    if !path.contains('?')
        && let Some(q) = req["query"].as_object().filter(|q| !q.is_empty()) {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in q {
                s.append_pair(k, &text(v));
            }
            path = format!("{path}?{}", s.finish());
        }
    let mut r = GatewayRequest::new(method, path);
    if let Some(h) = req["headers"].as_object() {
        for (k, v) in h {
            r = r.with_header(k, &text(v));
        }
    }
    if let Some(b) = req["body"].as_str() {
        r = r.with_body(b.to_string());
    }
    r
}

/// `x-amazon-apigateway-integration.responses` from a case's `integrationResponses`.
fn responses(list: Option<&Value>, fallback_template: Option<&str>) -> (Value, Map<String, Value>) {
    let mut out = Map::new();
    let mut method_responses = Map::new();
    let items = list.and_then(Value::as_array).cloned().unwrap_or_else(|| vec![json!({"statusCode": "200"})]);
    for item in items {
        let status = text(&item["statusCode"]);
        let key = match item["selectionPattern"].as_str() {
            None | Some("") => "default".to_string(),
            Some(p) => p.to_string(),
        };
        let mut r = Map::new();
        r.insert("statusCode".into(), json!(status));
        let mut templates = item["responseTemplates"].clone();
        if templates.is_null() && key == "default"
            && let Some(t) = fallback_template {
                templates = json!({"application/json": t});
            }
        if !templates.is_null() {
            r.insert("responseTemplates".into(), templates);
        }
        let mut headers = Map::new();
        if let Some(p) = item["responseParameters"].as_object() {
            r.insert("responseParameters".into(), Value::Object(p.clone()));
            for k in p.keys() {
                if let Some(h) = k.strip_prefix("method.response.header.") {
                    headers.insert(h.to_string(), json!({"schema": {"type": "string"}}));
                }
            }
        }
        out.insert(key, Value::Object(r));
        method_responses.insert(status, json!({"description": "response", "headers": headers}));
    }
    (Value::Object(out), method_responses)
}

/// Why a case cannot be expressed against stepgate at all (before trying it).
fn unsupported(case: &Value) -> Option<String> {
    let integration = &case["integration"];
    if case["method"]["see"].is_string() && !case["id"].as_str().unwrap_or("").starts_with("docs-validation") {
        return Some("the case refers to an external sample API".into());
    }
    if case["selection"].is_object() {
        return None;
    }
    if integration.is_null() && case["kind"] != "gateway_response_default" && case["kind"] != "request_validation" && case["kind"] != "routing" {
        return Some("no integration is described (a console test of an unknown API)".into());
    }
    None
}

fn scenario(case: &Value, stub: &Arc<Mutex<Stub>>, stub_addr: SocketAddr, n: usize) -> Scenario {
    let (stage, resource) = stage_and_resource(case);
    let request = request_of(case);
    let method = request.method.as_str().to_string();
    let mut operation = Map::new();
    let mut schemas = Map::new();
    let mut validators = Map::new();
    let mut stub_path = None;
    let mut local = None;
    let integration = &case["integration"];
    let kind = case["kind"].as_str().or(case["stage"].as_str()).unwrap_or("");
    let id = case["id"].as_str().unwrap_or("");

    // The method request.
    let mut parameters = Vec::new();
    if let Some(p) = case["method"]["requestParameters"].as_object() {
        for (k, required) in p {
            let parts: Vec<&str> = k.splitn(4, '.').collect();
            if parts.len() == 4 {
                let location = match parts[2] {
                    "querystring" => "query",
                    other => other,
                };
                parameters.push(json!({"name": parts[3], "in": location, "required": required, "schema": {"type": "string"}}));
            }
        }
    }
    if let Some(v) = case["method"]["requestValidator"].as_object() {
        validators.insert("validator".into(), Value::Object(v.clone()));
        operation.insert("x-amazon-apigateway-request-validator".into(), json!("validator"));
    }
    if let Some(models) = case["method"]["models"].as_object() {
        for (name, schema) in models {
            let s = schema.to_string().replace(
                "https://apigateway.amazonaws.com/restapis/<api-id>/models/",
                "#/components/schemas/",
            );
            schemas.insert(name.clone(), serde_json::from_str(&s).unwrap());
        }
    }
    if let Some(m) = case["method"]["requestModels"].as_object() {
        let content: Map<String, Value> = m
            .iter()
            .map(|(ct, name)| (ct.clone(), json!({"schema": {"$ref": format!("#/components/schemas/{}", text(name))}})))
            .collect();
        operation.insert("requestBody".into(), json!({"content": content}));
    }
    if id.starts_with("docs-validation") {
        // The documentation's sample API: GET needs q1; POST needs h1 and a PetsModel body.
        validators.insert("all".into(), json!({"validateRequestParameters": true, "validateRequestBody": true}));
        operation.insert("x-amazon-apigateway-request-validator".into(), json!("all"));
        schemas.insert(
            "PetsModel".into(),
            json!({"type": "object", "required": ["name", "type", "price"], "properties": {
                "name": {"type": "string"}, "type": {"type": "string", "enum": ["dog", "cat", "fish"]},
                "price": {"type": "number", "minimum": 25, "maximum": 500}}}),
        );
        if method == "GET" {
            parameters.push(json!({"name": "q1", "in": "query", "required": true, "schema": {"type": "string"}}));
        } else {
            parameters.push(json!({"name": "h1", "in": "header", "required": true, "schema": {"type": "string"}}));
            operation.insert("requestBody".into(), json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PetsModel"}}}}));
        }
    }
    // Declared path parameters (mappings read them).
    for seg in resource.split('/') {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let name = name.trim_end_matches('+');
            if !parameters.iter().any(|p| p["name"] == name && p["in"] == "path") {
                parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
    }
    if !parameters.is_empty() {
        operation.insert("parameters".into(), Value::Array(parameters));
    }

    // The integration.
    let mut x = Map::new();
    let ty = text(&integration["type"]).to_ascii_uppercase();
    let fallback_template = case["response_template"].as_str();
    let (mut rs, mut method_responses) = responses(integration.get("integrationResponses"), fallback_template);
    let observe = matches!(kind, "template_selection");
    if !integration.is_object() || kind == "request_validation" {
        // Validation cases: the backend is irrelevant; a mock answers 200 {"data": "ok"}.
        x.insert("type".into(), json!("mock"));
        x.insert("requestTemplates".into(), json!({"application/json": "{\"statusCode\": 200}"}));
        rs = json!({"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"data\": \"ok\"}"}}});
        method_responses = Map::new();
    } else if is_lambda(case) {
        let function = format!("case-{n}");
        let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{function}");
        x.insert("type".into(), json!("aws"));
        x.insert("httpMethod".into(), json!("POST"));
        x.insert(
            "uri".into(),
            json!(format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations")),
        );
        if let Some(t) = case["template"].as_str() {
            x.insert("requestTemplates".into(), json!({"application/json": t}));
        }
        if let Some(er) = case["endpoint_response"].as_object() {
            // The Lambda Invoke API answers with the recorded response.
            let path = format!("/2015-03-31/functions/{function}/invocations");
            let headers = er
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| h.iter().map(|(k, v)| (k.clone(), text(v))).collect())
                .unwrap_or_default();
            let status = er.get("status").and_then(Value::as_u64).unwrap_or(200) as u16;
            stub.lock().unwrap().answers.insert(path.clone(), (status, headers, text(&er["body"])));
            local = Some(json!({"lambda_endpoint": format!("http://{stub_addr}")}));
            stub_path = Some(path);
        } else {
            // An echo function: the event is the answer.
            local = Some(json!({"lambda": {function: {"command": ["cat"]}}}));
        }
    } else if ty == "MOCK" {
        x.insert("type".into(), json!("mock"));
    } else if ty == "HTTP" || observe || case["endpoint_response"].is_object() {
        let path = format!("/case/{n}");
        if let Some(er) = case["endpoint_response"].as_object() {
            let headers = er
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| h.iter().map(|(k, v)| (k.clone(), text(v))).collect())
                .unwrap_or_default();
            let status = er.get("status").and_then(Value::as_u64).unwrap_or(200) as u16;
            stub.lock().unwrap().answers.insert(path.clone(), (status, headers, text(&er["body"])));
        }
        x.insert("type".into(), json!("http"));
        x.insert("httpMethod".into(), json!("POST"));
        x.insert("uri".into(), json!(format!("http://{stub_addr}{path}")));
        stub_path = Some(path);
    } else {
        let uri = text(&integration["uri"]).replace("<region>", "us-east-1");
        let uri = if uri.is_empty() { "arn:aws:apigateway:us-east-1:states:action/ListStateMachines".to_string() } else { uri };
        x.insert("type".into(), json!("aws"));
        x.insert("httpMethod".into(), json!("POST"));
        x.insert("uri".into(), json!(uri));
        if integration.get("requestTemplates").is_none() && uri.ends_with("ListStateMachines") {
            x.insert("requestTemplates".into(), json!({"application/json": "{}"}));
        }
    }
    if let Some(p) = integration.get("passthroughBehavior").and_then(Value::as_str) {
        x.insert("passthroughBehavior".into(), json!(p.to_ascii_lowercase()));
    }
    if let Some(t) = integration.get("requestTemplates").filter(|t| t.is_object()) {
        x.insert("requestTemplates".into(), t.clone());
    }
    if let Some(p) = integration.get("requestParameters").filter(|p| p.is_object()) {
        x.insert("requestParameters".into(), p.clone());
    }
    x.insert("responses".into(), rs);
    operation.insert("x-amazon-apigateway-integration".into(), Value::Object(x));
    operation.insert("responses".into(), Value::Object(method_responses));
    Scenario { stage, resource, method, operation, schemas, validators, request, stub_path, local }
}

/// Writes the scenario as files and loads it the way `serve` would.
fn load(s: &Scenario, dir: &Path) -> Result<config::Config, String> {
    let mut paths = Map::new();
    let mut item = Map::new();
    item.insert(s.method.to_ascii_lowercase(), Value::Object(s.operation.clone()));
    paths.insert(s.resource.clone(), Value::Object(item));
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "case", "version": "1"},
        "x-amazon-apigateway-request-validators": s.validators,
        "components": {"schemas": s.schemas},
        "paths": paths,
    });
    std::fs::write(dir.join("api.json"), serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let mut yaml = String::from("api: api.json\nbackend: local\n");
    if let Some(local) = &s.local {
        yaml.push_str(&format!("local: {local}\n"));
    }
    if let Some(stage) = &s.stage {
        yaml.push_str(&format!("stage: {stage}\nstage_in_path: true\n"));
    }
    std::fs::write(dir.join("stepgate.yaml"), yaml).unwrap();
    config::load(&dir.join("stepgate.yaml")).map_err(|e| format!("the case's API does not load: {e}"))
}

// === checking ===

fn subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| subset(v, av))),
        _ => expected == actual,
    }
}

fn check_response(case: &Value, r: &GatewayResponse, received: Option<&Bytes>) -> Outcome {
    let expect = &case["expect"];
    let body = String::from_utf8_lossy(&r.body).to_string();
    let mut problems = Vec::new();
    if let Some(s) = expect.get("status").and_then(Value::as_u64)
        && r.status.as_u16() as u64 != s {
            problems.push(format!("status {} (expected {s})", r.status.as_u16()));
        }
    if let Some(s) = expect.get("selected_status")
        && r.status.as_u16().to_string() != text(s) {
            problems.push(format!("selected status {} (expected {})", r.status.as_u16(), text(s)));
        }
    if let Some(h) = expect.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            let got = r.headers.get(k.as_str()).map(|x| String::from_utf8_lossy(x.as_bytes()).to_string());
            if got.as_deref() != Some(text(v).as_str()) {
                problems.push(format!("header {k}: {got:?} (expected {:?})", text(v)));
            }
        }
    }
    if let Some(h) = expect.get("headers_absent").and_then(Value::as_array) {
        for k in h {
            if r.headers.contains_key(text(k).as_str()) {
                problems.push(format!("header {} should be absent", text(k)));
            }
        }
    }
    if let Some(b) = expect.get("body")
        && body != text(b) {
            problems.push(format!("body {body:?} (expected {:?})", text(b)));
        }
    let parsed: Option<Value> = serde_json::from_str(&body).ok();
    if let Some(b) = expect.get("body_json")
        && parsed.as_ref() != Some(b) {
            problems.push(format!("body {body:?} (expected JSON {b})"));
        }
    if let Some(b) = expect.get("body_json_subset")
        && !parsed.as_ref().is_some_and(|p| subset(b, p)) {
            problems.push(format!("body {body:?} (expected to contain {b})"));
        }
    let templates = &case["integration"]["requestTemplates"];
    let request_body = text(&case["request"]["body"]);
    let sent = received.map(|b| String::from_utf8_lossy(b).to_string());
    if let Some(applied) = expect.get("template_applied").and_then(Value::as_bool) {
        let rendered = templates.as_object().and_then(|t| t.values().next()).map(text);
        let ok = match (applied, &sent) {
            (true, Some(s)) => rendered.as_deref() == Some(s.as_str()),
            (false, Some(s)) => *s == request_body,
            (_, None) => false,
        };
        if !ok {
            problems.push(format!("integration request body {sent:?} (template applied expected: {applied})"));
        }
    }
    if let Some(b) = expect.get("integration_request_body")
        && sent.as_deref() != Some(text(b).as_str()) {
            problems.push(format!("integration request body {sent:?} (expected {:?})", text(b)));
        }
    if let Some(key) = expect.get("selected_request_template").and_then(Value::as_str) {
        let want = text(&templates[key]);
        if sent.as_deref() != Some(want.as_str()) {
            problems.push(format!("integration request body {sent:?} (expected template {key}: {want:?})"));
        }
    }
    if let Some(key) = expect.get("selected_response_template").and_then(Value::as_str) {
        let want = text(&case["integration"]["integrationResponses"][0]["responseTemplates"][key]);
        if body != want {
            problems.push(format!("body {body:?} (expected response template {key}: {want:?})"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// `gateway_response_default`: the built-in table (and a status-only override) as
/// `GetGatewayResponse` reports them.
fn check_gateway_response(case: &Value) -> Outcome {
    let want = &case["expect"]["gateway_response"];
    let t = config::GatewayResponseType::from_name(&text(&want["responseType"])).ok_or("unknown response type")?;
    let default = want["defaultResponse"].as_bool().unwrap_or(true);
    let mut overrides = indexmap::IndexMap::new();
    if !default {
        let status = text(&want["statusCode"]).parse().ok();
        overrides.insert(t, config::GatewayResponse {
            response_type: t,
            status_code: status,
            response_parameters: vec![],
            response_templates: indexmap::IndexMap::new(),
        });
    }
    let error = pipeline::GatewayError::new(t);
    let r = gateway_error::respond(&overrides, &error, None, &|_| None);
    let mut problems = Vec::new();
    let declared = t.default_status().map(|s| s.to_string());
    let expected_status = want["statusCode"].as_str().map(str::to_string);
    if default && declared != expected_status {
        problems.push(format!("default status {declared:?} (expected {expected_status:?})"));
    }
    if let Some(s) = &expected_status
        && r.status.as_u16().to_string() != *s {
            problems.push(format!("answered {} (expected {s})", r.status.as_u16()));
        }
    let template = text(&want["responseTemplates"]["application/json"]);
    if template != gateway_error::DEFAULT_TEMPLATE {
        problems.push(format!("default template differs: {template:?}"));
    }
    let expected_body = template.replace("$context.error.messageString", &json!(error.message).to_string());
    if r.body != expected_body.as_bytes() {
        problems.push(format!("body {:?} (expected {expected_body:?})", String::from_utf8_lossy(&r.body)));
    }
    if want["responseParameters"].as_object().is_some_and(|p| !p.is_empty()) {
        problems.push("expected response parameters".into());
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// Selection-only cases: the Java-regex semantics of `selectionPattern`.
fn check_selection(case: &Value) -> Outcome {
    let sel = &case["selection"];
    let pattern = config::SelectionPattern::new(&text(&sel["selectionPattern"])).map_err(|e| e.to_string())?;
    let want = case["expect"]["pattern_matches"].as_bool().unwrap_or(false);
    let got = pattern.is_match(&text(&sel["errorMessage"]));
    if got == want { Ok(()) } else { Err(format!("pattern matched: {got} (expected {want})")) }
}

async fn run_case(case: &Case, stub: &Arc<Mutex<Stub>>, stub_addr: SocketAddr, n: usize) -> Outcome {
    let v = &case.value;
    if let Some(reason) = unsupported(v) {
        return Err(reason);
    }
    if case.kind() == "gateway_response_default" {
        return check_gateway_response(v);
    }
    if v["selection"].is_object() {
        return check_selection(v);
    }
    let mut s = scenario(v, stub, stub_addr, n);
    if case.id() == "ls-routing-wrong-method" {
        // "Only GET /existing (MOCK) exists."
        s.method = "GET".into();
        s.resource = "/existing".into();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = load(&s, dir.path())?;
    let gateway = Gateway::open(config, Storage::InMemory).await.map_err(|e| e.to_string())?;
    let mut request = s.request.clone();
    if String::from_utf8_lossy(&request.body).contains("<state-machine-arn>") {
        let created = stepgate::backend::dispatch(
            gateway.backend.as_ref(),
            stepgate::sfn::Action::CreateStateMachine,
            json!({"name": "case", "roleArn": "arn:aws:iam::123456789012:role/r",
                   "definition": "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"})
            .to_string()
            .as_bytes(),
        )
        .await
        .map_err(|e| format!("could not create the state machine: {e}"))?;
        let arn = serde_json::from_slice::<Value>(&created).unwrap()["stateMachineArn"].as_str().unwrap().to_string();
        request.body = Bytes::from(String::from_utf8_lossy(&request.body).replace("<state-machine-arn>", &arn));
    }
    let response = pipeline::invoke(&gateway.app, request).await;
    let received = s.stub_path.as_ref().and_then(|p| stub.lock().unwrap().received.get(p).cloned());
    check_response(v, &response, received.as_ref())
}

fn divergences() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/gateway-divergences.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':').map(|(id, reason)| (id.trim().to_string(), reason.trim().to_string())))
        .collect()
}

#[tokio::test]
async fn gateway_conformance() {
    let cases = load_cases();
    let listed = divergences();
    let stub = Arc::new(Mutex::new(Stub::default()));
    let stub_addr = start_stub(stub.clone()).await;
    let (mut passed, mut diverged) = (0, 0);
    let (mut validated_total, mut validated_passed) = (0, 0);
    let mut failures = Vec::new();
    let mut per_file: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (n, case) in cases.iter().enumerate() {
        let outcome = run_case(case, &stub, stub_addr, n).await;
        if case.validated() {
            validated_total += 1;
        }
        let entry = per_file.entry(case.file.as_str()).or_default();
        entry.1 += 1;
        if outcome.is_ok() {
            entry.0 += 1;
        }
        match (&outcome, listed.get(case.id())) {
            (Ok(()), None) => {
                passed += 1;
                if case.validated() {
                    validated_passed += 1;
                }
            }
            (Ok(()), Some(_)) => {
                passed += 1;
                if case.validated() {
                    validated_passed += 1;
                }
                failures.push(format!("{}: passes now; remove it from gateway-divergences.txt", case.id()));
            }
            (Err(why), Some(reason)) => {
                diverged += 1;
                println!("diverged {} ({}): {reason} [{why}]", case.id(), case.file);
            }
            (Err(why), None) => {
                diverged += 1;
                failures.push(format!("{} ({}): {why}", case.id(), case.file));
            }
        }
    }
    let ids: Vec<&str> = cases.iter().map(Case::id).collect();
    for id in listed.keys() {
        if !ids.contains(&id.as_str()) {
            failures.push(format!("{id}: listed in gateway-divergences.txt but no such case"));
        }
    }
    println!("gateway conformance: passed {passed} / diverged {diverged} / total {}", cases.len());
    println!("  AWS-validated: passed {validated_passed} / total {validated_total}");
    for (file, (ok, total)) in &per_file {
        println!("  {file}: passed {ok} / total {total}");
    }
    assert!(failures.is_empty(), "unexpected results:\n{}", failures.join("\n"));
}
