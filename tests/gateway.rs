//! End to end over a real socket: the gateway on 127.0.0.1:0 (and, for http integrations, a
//! small upstream server on another free port), talked to with a real HTTP client.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use stepgate::config;
use stepgate::server::{Gateway, Server, Storage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, oneshot};

/// A gateway served on a free port until dropped.
struct Running {
    addr: SocketAddr,
    gateway: Gateway,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    client: reqwest::Client,
}

impl Running {
    async fn start(config: config::Config) -> Running {
        let gateway = Gateway::open(config, Storage::InMemory).await.expect("gateway opens");
        let server = Server::bind("127.0.0.1:0".parse().unwrap(), gateway.app.clone()).await.unwrap();
        let addr = server.local_addr();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        Running { addr, gateway, stop: Some(tx), task: Some(task), client: reqwest::Client::new() }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

async fn json_body(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

fn assert_gateway_error(r: &reqwest::Response, status: u16, error_type: &str) {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(header(r, "x-amzn-errortype"), error_type);
    assert!(!header(r, "x-amzn-requestid").is_empty());
}

// === the seed API (config/stepgate.yaml) ===

async fn seed() -> Running {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/stepgate.yaml");
    Running::start(config::load(&path).expect("config/stepgate.yaml loads")).await
}

#[tokio::test]
async fn seed_post_execute_starts_the_workflow_named_after_the_request_id() {
    let g = seed().await;
    let r = g.client.post(g.url("/execute")).json(&json!({"orderId": "o-1", "n": 2})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), "http://localhost:3000");
    let request_id = header(&r, "x-amzn-requestid");
    let body = json_body(r).await;
    let arn = body["executionArn"].as_str().unwrap_or_else(|| panic!("no executionArn in {body}"));
    assert!(arn.ends_with(&format!(":{request_id}")), "{arn} is not named after {request_id}");
    assert!(body["startDate"].is_number());
    // The execution's input is the client's body.
    let described = stepgate::backend::dispatch(
        g.gateway.backend.as_ref(),
        stepgate::sfn::Action::DescribeExecution,
        json!({"executionArn": arn}).to_string().as_bytes(),
    )
    .await
    .unwrap();
    let described: Value = serde_json::from_slice(&described).unwrap();
    let input: Value = serde_json::from_str(described["input"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"orderId": "o-1", "n": 2}));
    g.stop().await;
}

#[tokio::test]
async fn seed_template_without_the_quote_fix_breaks_on_apostrophes_like_api_gateway() {
    // escapeJavaScript turns ' into \' inside a JSON string: Step Functions rejects the body,
    // and the seed's only matching rule is the default one, so the client gets 200 + the error.
    let g = seed().await;
    let r = g.client.post(g.url("/execute")).json(&json!({"name": "O'Brien"})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(json_body(r).await["__type"], "SerializationException");
    g.stop().await;
}

#[tokio::test]
async fn seed_options_execute_answers_the_cors_preflight() {
    let g = seed().await;
    let r = g
        .client
        .request(reqwest::Method::OPTIONS, g.url("/execute"))
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), "http://localhost:3000");
    assert_eq!(header(&r, "access-control-allow-methods"), "*");
    assert_eq!(header(&r, "access-control-allow-headers"), "Content-Type,X-Amz-Date,Authorization,X-Api-Key");
    assert_eq!(header(&r, "content-type"), "application/json");
    assert_eq!(r.text().await.unwrap().trim(), "{}");
    g.stop().await;
}

#[tokio::test]
async fn unknown_route_or_method_is_403_missing_authentication_token() {
    let g = seed().await;
    for (method, path) in [(reqwest::Method::GET, "/nope"), (reqwest::Method::GET, "/execute"), (reqwest::Method::DELETE, "/")] {
        let r = g.client.request(method, g.url(path)).send().await.unwrap();
        assert_gateway_error(&r, 403, "MissingAuthenticationTokenException");
        assert_eq!(json_body(r).await, json!({"message": "Missing Authentication Token"}));
    }
    g.stop().await;
}

#[tokio::test]
async fn body_over_ten_megabytes_is_413_in_api_gateways_shape() {
    let g = seed().await;
    // Announce an 11 MB body and send none of it: the gateway answers from the headers.
    let mut s = tokio::net::TcpStream::connect(g.addr).await.unwrap();
    s.write_all(b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 11534336\r\n\r\n")
        .await
        .unwrap();
    let head = read_response_head(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.to_ascii_lowercase().contains("x-amzn-errortype: requestentitytoolargeexception"), "{head}");
    g.stop().await;
}

async fn read_response_head(s: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

// === a test API: validators, 415, API key, template error, gateway responses, http ===

const TEST_API: &str = r#"
openapi: 3.0.1
info: {title: e2e, version: '1'}
x-amazon-apigateway-request-validators:
  all: {validateRequestParameters: true, validateRequestBody: true}
x-amazon-apigateway-gateway-responses:
  MISSING_AUTHENTICATION_TOKEN:
    statusCode: 404
    responseParameters:
      gatewayresponse.header.Access-Control-Allow-Origin: "'*'"
    responseTemplates:
      application/json: '{"error": "no route", "type": "$context.error.responseType"}'
  DEFAULT_4XX:
    responseParameters:
      gatewayresponse.header.X-Default: "'4xx'"
components:
  schemas:
    Order:
      type: object
      required: [id]
      properties: {id: {type: integer}}
  securitySchemes:
    key: {type: apiKey, name: x-api-key, in: header}
paths:
  /orders/{id}:
    post:
      x-amazon-apigateway-request-validator: all
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: X-Tenant, in: header, required: true, schema: {type: string}}
        - {name: verbose, in: query, required: true, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: 200
            responseParameters:
              method.response.header.X-Order: method.request.path.id
      responses: {'200': {description: ok}}
  /strict:
    post:
      x-amazon-apigateway-integration:
        type: mock
        passthroughBehavior: never
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses: {default: {statusCode: 200}}
  /secret:
    get:
      security: [{key: []}]
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses: {default: {statusCode: 200}}
  /broken:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '#foreach($i in [1..5000])x#end'}
        responses: {default: {statusCode: 200}}
  /slow:
    get:
      x-amazon-apigateway-integration:
        type: http
        httpMethod: GET
        uri: http://UPSTREAM/slow
        timeoutInMillis: 200
        responses: {default: {statusCode: 200}}
  /echo:
    post:
      parameters:
        - {name: name, in: query, required: false, schema: {type: string}}
      x-amazon-apigateway-integration:
        type: http
        httpMethod: POST
        uri: http://UPSTREAM/echo/{name}
        requestParameters:
          integration.request.path.name: method.request.querystring.name
          integration.request.header.X-From: "'stepgate'"
        responses:
          default:
            statusCode: 200
            responseParameters:
              method.response.header.X-Upstream: integration.response.header.X-Upstream
          "4\\d{2}":
            statusCode: 400
            responseTemplates:
              application/json: '{"upstream": "failed"}'
"#;

/// An upstream for http integrations: `/slow` answers after 2 s, `/echo/missing` 404,
/// `/echo/<name>` echoes the body with `X-Upstream: <name>,<X-From>`.
async fn upstream(slow_hit: Arc<Notify>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let slow_hit = slow_hit.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let slow_hit = slow_hit.clone();
                    async move {
                    use http_body_util::BodyExt;
                    let path = req.uri().path().to_string();
                    let from = req.headers().get("x-from").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    if path == "/slow" {
                        slow_hit.notify_one();
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                    let status = if path == "/echo/missing" { 404 } else { 200 };
                    let name = path.trim_start_matches("/echo/").to_string();
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder()
                            .status(status)
                            .header("X-Upstream", format!("{name},{from}"))
                            .body(Full::new(body))
                            .unwrap(),
                    )
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

async fn test_api() -> Running {
    test_api_notifying(Arc::new(Notify::new())).await
}

async fn test_api_notifying(slow_hit: Arc<Notify>) -> Running {
    let up = upstream(slow_hit).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.yaml"), TEST_API.replace("UPSTREAM", &up.to_string())).unwrap();
    std::fs::write(
        dir.path().join("stepgate.yaml"),
        "api: api.yaml\nstage: test\napi_keys: [k-123]\nbackend: local\nlimits:\n  max_body_bytes: 1024\n",
    )
    .unwrap();
    let config = config::load(&dir.path().join("stepgate.yaml")).unwrap_or_else(|e| panic!("{e:#}"));
    Running::start(config).await
}

#[tokio::test]
async fn validators_report_missing_parameters_then_invalid_body() {
    let g = test_api().await;
    let r = g.client.post(g.url("/orders/7")).json(&json!({"id": 1})).send().await.unwrap();
    assert_gateway_error(&r, 400, "BadRequestException");
    assert_eq!(header(&r, "x-default"), "4xx", "DEFAULT_4XX override applies");
    assert_eq!(json_body(r).await, json!({"message": "Missing required request parameters: [X-Tenant, verbose]"}));

    let r = g.client.post(g.url("/orders/7?verbose=1")).header("X-Tenant", "t").json(&json!({"id": "x"})).send().await.unwrap();
    assert_gateway_error(&r, 400, "BadRequestException");
    assert_eq!(json_body(r).await, json!({"message": "Invalid request body"}));

    let r = g.client.post(g.url("/orders/7?verbose=1")).header("X-Tenant", "t").json(&json!({"id": 3})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "x-order"), "7");
    g.stop().await;
}

#[tokio::test]
async fn passthrough_never_without_a_template_is_415() {
    let g = test_api().await;
    let r = g.client.post(g.url("/strict")).header("Content-Type", "text/plain").body("x").send().await.unwrap();
    assert_gateway_error(&r, 415, "UnsupportedMediaTypeException");
    assert_eq!(json_body(r).await, json!({"message": "Unsupported Media Type"}));
    // application/json with parameters still selects the application/json template.
    let r = g.client.post(g.url("/strict")).header("Content-Type", "application/json; charset=UTF-8").body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    g.stop().await;
}

#[tokio::test]
async fn api_key_is_required_where_security_says_so() {
    let g = test_api().await;
    let r = g.client.get(g.url("/secret")).send().await.unwrap();
    assert_gateway_error(&r, 403, "ForbiddenException");
    assert_eq!(json_body(r).await, json!({"message": "Forbidden"}));
    let r = g.client.get(g.url("/secret")).header("x-api-key", "wrong").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = g.client.get(g.url("/secret")).header("x-api-key", "k-123").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    g.stop().await;
}

#[tokio::test]
async fn template_error_is_500_internal_server_error() {
    let g = test_api().await;
    let r = g.client.get(g.url("/broken")).send().await.unwrap();
    assert_gateway_error(&r, 500, "InternalServerErrorException");
    assert_eq!(json_body(r).await, json!({"message": "Internal server error"}));
    g.stop().await;
}

#[tokio::test]
async fn custom_gateway_response_for_unknown_routes() {
    let g = test_api().await;
    let r = g.client.get(g.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(header(&r, "access-control-allow-origin"), "*");
    assert_eq!(header(&r, "x-amzn-errortype"), "MissingAuthenticationTokenException");
    assert_eq!(json_body(r).await, json!({"error": "no route", "type": "MISSING_AUTHENTICATION_TOKEN"}));
    g.stop().await;
}

#[tokio::test]
async fn slow_http_integration_times_out_with_504() {
    let g = test_api().await;
    let r = g.client.get(g.url("/slow")).send().await.unwrap();
    assert_gateway_error(&r, 504, "InternalServerErrorException");
    assert_eq!(json_body(r).await, json!({"message": "Endpoint request timed out"}));
    g.stop().await;
}

#[tokio::test]
async fn http_integration_maps_parameters_and_selects_by_status() {
    let g = test_api().await;
    let r = g.client.post(g.url("/echo?name=bob")).json(&json!({"a": 1})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "x-upstream"), "bob,stepgate");
    assert_eq!(json_body(r).await, json!({"a": 1}), "no template: the body passes through");
    let r = g.client.post(g.url("/echo?name=missing")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(json_body(r).await, json!({"upstream": "failed"}));
    g.stop().await;
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_413() {
    let g = test_api().await;
    let mut s = tokio::net::TcpStream::connect(g.addr).await.unwrap();
    let chunk = "a".repeat(600);
    let request = format!(
        "POST /strict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
         258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let head = read_response_head(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    g.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_drains_in_flight_requests() {
    let slow_hit = Arc::new(Notify::new());
    let g = test_api_notifying(slow_hit.clone()).await;
    let url = g.url("/slow");
    let client = g.client.clone();
    // /slow times out after 200 ms inside the gateway; shut down once it reached upstream.
    let in_flight = tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) });
    slow_hit.notified().await;
    g.stop().await;
    assert_eq!(in_flight.await.unwrap().unwrap(), 504, "the in-flight request got its answer");
}

#[tokio::test]
async fn request_id_header_is_unique_per_request() {
    let g = test_api().await;
    let a = g.client.get(g.url("/nowhere")).send().await.unwrap();
    let b = g.client.get(g.url("/nowhere")).send().await.unwrap();
    assert_ne!(header(&a, "x-amzn-requestid"), header(&b, "x-amzn-requestid"));
    g.stop().await;
}

// === error-text selection against the local engine (StartSyncExecution) ===

const SYNC_API: &str = r#"
openapi: 3.0.1
info: {title: sync, version: '1'}
paths:
  /employees/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:states:action/StartSyncExecution
        requestTemplates:
          application/json: |
            {"stateMachineArn": "${Lookup}", "input": "{\"id\": \"$input.params('id')\"}"}
        responses:
          default:
            statusCode: 200
            responseTemplates:
              application/json: $input.path('$.output')
          ".*EmployeeDoesNotExist.*":
            statusCode: 404
            responseTemplates:
              application/json: '{"error": "$input.path(''$.error'')", "cause": "$input.path(''$.cause'')"}'
"#;

const LOOKUP_ASL: &str = r#"{
  "StartAt": "Known?",
  "States": {
    "Known?": {"Type": "Choice", "Choices": [{"Variable": "$.id", "StringEquals": "7", "Next": "Found"}], "Default": "Missing"},
    "Found": {"Type": "Pass", "Result": {"name": "Ada"}, "End": true},
    "Missing": {"Type": "Fail", "Error": "EmployeeDoesNotExist", "Cause": "no employee with this id"}
  }
}"#;

async fn sync_api(selection: &str) -> Running {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.yaml"), SYNC_API.replace("${Lookup}", "arn:aws:states:us-east-1:123456789012:stateMachine:lookup")).unwrap();
    std::fs::write(dir.path().join("lookup.asl.json"), LOOKUP_ASL).unwrap();
    std::fs::write(
        dir.path().join("stepgate.yaml"),
        format!("api: api.yaml\nselection: {selection}\nbackend: local\nstate_machines:\n  Lookup: {{file: lookup.asl.json, name: lookup, type: EXPRESS}}\n"),
    )
    .unwrap();
    let config = config::load(&dir.path().join("stepgate.yaml")).unwrap_or_else(|e| panic!("{e:#}"));
    Running::start(config).await
}

#[tokio::test]
async fn failed_sync_execution_selects_the_error_text_rule() {
    let g = sync_api("extended").await;
    let r = g.client.get(g.url("/employees/7")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(json_body(r).await, json!({"name": "Ada"}));
    let r = g.client.get(g.url("/employees/8")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(json_body(r).await, json!({"error": "EmployeeDoesNotExist", "cause": "no employee with this id"}));
    g.stop().await;
}

#[tokio::test]
async fn aws_strict_selection_matches_status_codes_only() {
    let g = sync_api("aws-strict").await;
    // The execution failed, but StartSyncExecution answered 200: the default rule applies.
    let r = g.client.get(g.url("/employees/8")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    g.stop().await;
}

// === the invoke command ===

#[test]
fn invoke_prints_the_test_invoke_transcript() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["invoke", "OPTIONS", "/execute", "config/stepgate.yaml", "-H", "Origin: http://localhost:3000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "HTTP Method: OPTIONS, Resource Path: /execute",
        "Method request headers: {origin=http://localhost:3000}",
        "Endpoint request: mock integration",
        "Endpoint request body after transformations: {\n  \"statusCode\" : 200\n}",
        "Selected integration response: `default` → 200",
        "Method completed with status: 200",
        "access-control-allow-origin: http://localhost:3000",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn invoke_rejects_a_bad_header_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["invoke", "GET", "/x", "config/stepgate.yaml", "-H", "no-colon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--header expects `Name: value`"));
}

// === Lambda custom integrations on the local backend ===

const LAMBDA_API: &str = r#"
openapi: 3.0.1
info: {title: lambda, version: '1'}
paths:
  /orders/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        '200': {description: found}
        '404':
          description: no such order
          headers:
            X-Error-Type: {schema: {type: string}}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders:live/invocations
        requestTemplates:
          application/json: '{"id": "$input.params(''id'')"}'
        responses:
          default:
            statusCode: 200
          "200":
            statusCode: 500
          ".*not found.*":
            statusCode: 404
            responseParameters:
              method.response.header.X-Error-Type: integration.response.body.errorType
            responseTemplates:
              application/json: '{"message": "$input.path(''$.errorMessage'')"}'
  /orders/{id}/audit:
    post:
      responses:
        '200': {description: queued}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders/invocations
        requestParameters:
          integration.request.header.X-Amz-Invocation-Type: "'Event'"
        responses:
          default:
            statusCode: 200
            responseTemplates:
              application/json: '{"queued": true}'
  /payments:
    post:
      responses:
        '200': {description: paid}
        '402': {description: declined}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.payments}/invocations
        responses:
          default:
            statusCode: 200
          ".+":
            statusCode: 402
  /refunds:
    post:
      responses:
        '200': {description: done}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:refunds/invocations
        responses:
          default:
            statusCode: 200
"#;

/// `orders` finds order 7 and raises "order not found" for any other id.
const ORDERS_FUNCTION: &str = r#"event=$(cat); case "$event" in *'"7"'*) printf '{"id":"7","item":"book"}';; *) printf '{"errorMessage":"order not found","errorType":"NotFound"}'; exit 1;; esac"#;

fn lambda_config(dir: &Path, payments: &str) -> config::Config {
    std::fs::write(dir.join("api.yaml"), LAMBDA_API).unwrap();
    let local = json!({"lambda": {
        "orders": {"command": ["sh", "-c", ORDERS_FUNCTION]},
        "charge": {"return": {"paid": true}},
        "decline": {"error": "PaymentDeclined", "cause": "card declined"},
    }});
    std::fs::write(
        dir.join("stepgate.yaml"),
        format!("api: api.yaml\nbackend: local\nstage_variables: {{payments: {payments}}}\nlocal: {local}\n"),
    )
    .unwrap();
    config::load(&dir.join("stepgate.yaml")).unwrap_or_else(|e| panic!("{e:#}"))
}

#[tokio::test]
async fn lambda_custom_integration_selects_on_the_error_message() {
    let dir = tempfile::tempdir().unwrap();
    let g = Running::start(lambda_config(dir.path(), "charge")).await;

    // Success: the rendered template is the event, the result passes through, and the
    // `200` rule is not matched against the status code.
    let r = g.client.get(g.url("/orders/7")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(json_body(r).await, json!({"id": "7", "item": "book"}));

    // The function raised: its errorMessage selects the 404 rule.
    let r = g.client.get(g.url("/orders/8")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(header(&r, "x-error-type"), "NotFound");
    assert_eq!(json_body(r).await, json!({"message": "order not found"}));

    // An `Event` invocation is queued: Lambda's 202 with no body, the default rule.
    let r = g.client.post(g.url("/orders/8/audit")).json(&json!({"id": "8"})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(json_body(r).await, json!({"queued": true}));

    // A fixed `{return: ...}` answer; the function name comes from a stage variable.
    let r = g.client.post(g.url("/payments")).json(&json!({"amount": 3})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(json_body(r).await, json!({"paid": true}));

    // No local answer for `refunds`: API Gateway's 500, as for a function that cannot be invoked.
    let r = g.client.post(g.url("/refunds")).json(&json!({"order": 7})).send().await.unwrap();
    assert_gateway_error(&r, 500, "InternalServerErrorException");
    assert_eq!(json_body(r).await, json!({"message": "Internal server error"}));
    g.stop().await;
}

#[tokio::test]
async fn lambda_error_answer_is_an_unhandled_function_error() {
    // `{error: PaymentDeclined, cause: ...}` raises: `.+` catches it, and with no response
    // template the client gets Lambda's error object.
    let dir = tempfile::tempdir().unwrap();
    let g = Running::start(lambda_config(dir.path(), "decline")).await;
    let r = g.client.post(g.url("/payments")).json(&json!({"amount": 3})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 402);
    assert_eq!(json_body(r).await, json!({"errorMessage": "card declined", "errorType": "PaymentDeclined"}));
    g.stop().await;
}

#[test]
fn invoke_shows_the_lambda_invoke_uri_and_the_error_message_rule() {
    let dir = tempfile::tempdir().unwrap();
    lambda_config(dir.path(), "charge");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .args(["invoke", "GET", "/orders/8"])
        .arg(dir.path().join("stepgate.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Endpoint request URI: https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders:live/invocations",
        "Endpoint request body after transformations: {\"id\": \"8\"}",
        "x-amz-function-error=Unhandled",
        "Selected integration response: `.*not found.*` → 404 (Lambda errorMessage `order not found`)",
        "Method completed with status: 404",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
