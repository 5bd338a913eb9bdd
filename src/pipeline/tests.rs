//! Socket-free tests of whole invocations, over models built in code.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{Method as HttpMethod, StatusCode};
use indexmap::IndexMap;

use super::*;
use crate::backend::{self, StepFunctions};
use crate::config::{
    Api, ApiKeySource, Integration, IntegrationRequestTarget, IntegrationResponse, IntegrationType,
    MethodRequestParameter, ParameterLocation, ParameterSource, PassthroughBehavior, RequestValidator,
    Route, SelectionMode, SelectionPattern,
};
use crate::vtl;
use crate::sfn::AwsError;
use crate::sfn::model::*;

/// A backend that answers StartExecution and StartSyncExecution, and refuses the rest.
pub(crate) struct Fake;

fn refuse<T>() -> Result<T, backend::Error> {
    Err(backend::Error::Service(AwsError::bad_request("UnknownOperationException", "not in this fake")))
}

#[async_trait]
impl StepFunctions for Fake {
    async fn start_execution(&self, i: StartExecutionInput) -> Result<StartExecutionOutput, backend::Error> {
        if i.name.as_deref() == Some("taken") {
            return Err(AwsError::execution_already_exists("arn:x").into());
        }
        Ok(StartExecutionOutput {
            execution_arn: format!("{}:{}", i.state_machine_arn, i.name.unwrap_or_default()),
            start_date: Timestamp::now(),
        })
    }
    async fn start_sync_execution(&self, i: StartSyncExecutionInput) -> Result<StartSyncExecutionOutput, backend::Error> {
        let failed = i.input.as_deref().is_some_and(|s| s.contains("fail"));
        Ok(StartSyncExecutionOutput {
            execution_arn: "arn:aws:states:us-east-1:123456789012:express:m:n:u".into(),
            state_machine_arn: Some(i.state_machine_arn),
            name: i.name,
            start_date: Timestamp::now(),
            stop_date: Timestamp::now(),
            status: if failed { SyncExecutionStatus::Failed } else { SyncExecutionStatus::Succeeded },
            error: failed.then(|| "EmployeeDoesNotExist".to_string()),
            cause: failed.then(|| "no employee 7".to_string()),
            input: i.input,
            input_details: None,
            output: (!failed).then(|| "{\"ok\":true}".to_string()),
            output_details: None,
            trace_header: None,
            billing_details: None,
        })
    }
    async fn describe_execution(&self, _: DescribeExecutionInput) -> Result<DescribeExecutionOutput, backend::Error> { refuse() }
    async fn stop_execution(&self, _: StopExecutionInput) -> Result<StopExecutionOutput, backend::Error> { refuse() }
    async fn list_executions(&self, _: ListExecutionsInput) -> Result<ListExecutionsOutput, backend::Error> { refuse() }
    async fn get_execution_history(&self, _: GetExecutionHistoryInput) -> Result<GetExecutionHistoryOutput, backend::Error> { refuse() }
    async fn send_task_success(&self, _: SendTaskSuccessInput) -> Result<SendTaskSuccessOutput, backend::Error> { refuse() }
    async fn send_task_failure(&self, _: SendTaskFailureInput) -> Result<SendTaskFailureOutput, backend::Error> { refuse() }
    async fn send_task_heartbeat(&self, _: SendTaskHeartbeatInput) -> Result<SendTaskHeartbeatOutput, backend::Error> { refuse() }
    async fn describe_state_machine(&self, _: DescribeStateMachineInput) -> Result<DescribeStateMachineOutput, backend::Error> { refuse() }
    async fn list_state_machines(&self, _: ListStateMachinesInput) -> Result<ListStateMachinesOutput, backend::Error> { refuse() }
    async fn create_state_machine(&self, _: CreateStateMachineInput) -> Result<CreateStateMachineOutput, backend::Error> { refuse() }
    async fn delete_state_machine(&self, _: DeleteStateMachineInput) -> Result<DeleteStateMachineOutput, backend::Error> { refuse() }
}

fn template(text: &str) -> vtl::Template {
    vtl::Template::parse("test", text).unwrap()
}

fn templates(list: &[(&str, &str)]) -> IndexMap<String, vtl::Template> {
    list.iter().map(|(k, v)| (k.to_string(), template(v))).collect()
}

pub(super) fn rule(pattern: Option<&str>, status: u16) -> IntegrationResponse {
    IntegrationResponse {
        selection_pattern: pattern.map(|p| SelectionPattern::new(p).unwrap()),
        status_code: status,
        response_parameters: vec![],
        response_templates: IndexMap::new(),
        content_handling: None,
    }
}

pub(super) fn integration(kind: IntegrationType, request_templates: &[(&str, &str)], responses: Vec<IntegrationResponse>) -> Integration {
    Integration {
        kind,
        credentials: None,
        request_templates: templates(request_templates),
        passthrough_behavior: PassthroughBehavior::WhenNoMatch,
        request_parameters: vec![],
        responses,
        timeout: Duration::from_secs(29),
        content_handling: None,
    }
}

fn mock(status: u16) -> Integration {
    integration(IntegrationType::Mock, &[("application/json", &format!("{{\"statusCode\": {status}}}"))], vec![rule(None, 200)])
}

fn method(integration: Integration) -> config::Method {
    config::Method {
        operation_name: None,
        api_key_required: false,
        request_validator: None,
        request_parameters: vec![],
        request_models: IndexMap::new(),
        integration,
        method_responses: IndexMap::new(),
    }
}

fn route(http_method: &str, path: &str, method: config::Method) -> Route {
    Route { path_template: path.into(), http_method: http_method.into(), method }
}

pub(crate) fn api(routes: Vec<Route>) -> Api {
    Api {
        title: None,
        routes,
        gateway_responses: IndexMap::new(),
        api_key_source: ApiKeySource::Header,
        api_keys: vec!["k1".into()],
        binary_media_types: vec![],
        stage: "dev".into(),
        stage_in_path: false,
        stage_variables: IndexMap::new(),
        selection_mode: SelectionMode::Extended,
    }
}

fn app(routes: Vec<Route>) -> App {
    App::new(api(routes), Arc::new(Fake)).unwrap()
}

fn run(app: &App, r: GatewayRequest) -> GatewayResponse {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(invoke(app, r))
}

fn body_json(r: &GatewayResponse) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[test]
fn unknown_route_is_missing_authentication_token() {
    let a = app(vec![route("GET", "/existing", method(mock(200)))]);
    for (m, p) in [(HttpMethod::POST, "/existing"), (HttpMethod::GET, "/nope")] {
        let r = run(&a, GatewayRequest::new(m, p));
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.headers["x-amzn-errortype"], "MissingAuthenticationTokenException");
        assert_eq!(body_json(&r), serde_json::json!({"message": "Missing Authentication Token"}));
        assert!(r.headers.contains_key("x-amzn-requestid"));
    }
}

#[test]
fn mock_status_selects_the_rule_and_response_is_empty() {
    let mut i = mock(404);
    i.responses = vec![rule(None, 200), rule(Some("4\\d{2}"), 418)];
    let a = app(vec![route("GET", "/m", method(i))]);
    let r = run(&a, GatewayRequest::new(HttpMethod::GET, "/m"));
    assert_eq!(r.status.as_u16(), 418);
    assert!(r.body.is_empty());
    assert_eq!(r.headers["content-type"], "application/json");
}

#[test]
fn api_key_missing_or_wrong_is_forbidden() {
    let mut m = method(mock(200));
    m.api_key_required = true;
    let a = app(vec![route("GET", "/k", m)]);
    let r = run(&a, GatewayRequest::new(HttpMethod::GET, "/k"));
    assert_eq!((r.status, body_json(&r)), (StatusCode::FORBIDDEN, serde_json::json!({"message": "Forbidden"})));
    let r = run(&a, GatewayRequest::new(HttpMethod::GET, "/k").with_header("x-api-key", "nope"));
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = run(&a, GatewayRequest::new(HttpMethod::GET, "/k").with_header("x-api-key", "k1"));
    assert_eq!(r.status, StatusCode::OK);
}

#[test]
fn required_parameters_are_listed_header_path_query() {
    let mut m = method(mock(200));
    m.request_validator = Some(RequestValidator { name: "v".into(), validate_request_body: false, validate_request_parameters: true });
    m.request_parameters = vec![
        MethodRequestParameter { location: ParameterLocation::Header, name: "x-h".into(), required: true },
        MethodRequestParameter { location: ParameterLocation::Path, name: "issuer".into(), required: true },
        MethodRequestParameter { location: ParameterLocation::QueryString, name: "qs1".into(), required: true },
        MethodRequestParameter { location: ParameterLocation::QueryString, name: "opt".into(), required: false },
    ];
    let a = app(vec![route("GET", "/n/{test}", m)]);
    let r = run(&a, GatewayRequest::new(HttpMethod::GET, "/n/v?qs1=").with_header("x-h", " "));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&r), serde_json::json!({"message": "Missing required request parameters: [x-h, issuer, qs1]"}));
}

#[test]
fn passthrough_behaviours() {
    let mk = |behavior, tpl: &[(&str, &str)]| {
        let mut i = integration(IntegrationType::Mock, tpl, vec![rule(None, 200)]);
        i.passthrough_behavior = behavior;
        app(vec![route("POST", "/p", method(i))])
    };
    let req = || GatewayRequest::new(HttpMethod::POST, "/p").with_header("content-type", "text/plain").with_body("{\"statusCode\":200}");
    use PassthroughBehavior::*;
    assert_eq!(run(&mk(WhenNoMatch, &[("application/json", "{}")]), req()).status, StatusCode::OK);
    assert_eq!(run(&mk(WhenNoTemplates, &[]), req()).status, StatusCode::OK);
    let r = run(&mk(WhenNoTemplates, &[("application/json", "{}")]), req());
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body_json(&r), serde_json::json!({"message": "Unsupported Media Type"}));
    assert_eq!(run(&mk(Never, &[]), req()).status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The MIME type selects, parameters ignored.
    let r = run(&mk(Never, &[("text/plain", "{\"statusCode\": 200}")]), req().with_header("content-type", "text/plain; charset=utf-8"));
    assert_eq!(r.status, StatusCode::OK);
}

#[test]
fn aws_start_execution_passes_the_body_through() {
    let i = integration(
        IntegrationType::Aws { service: "states".into(), region: "us-east-1".into(), action: "StartExecution".into() },
        &[],
        vec![rule(None, 200), rule(Some("400"), 400)],
    );
    let a = app(vec![route("POST", "/execute", method(i))]);
    let req = |name: &str| {
        GatewayRequest::new(HttpMethod::POST, "/execute")
            .with_body(format!("{{\"stateMachineArn\":\"arn:aws:states:us-east-1:123456789012:stateMachine:m\",\"name\":\"{name}\"}}"))
    };
    let r = run(&a, req("n1"));
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(body_json(&r)["executionArn"].as_str().unwrap().ends_with(":n1"));
    let r = run(&a, req("taken"));
    assert_eq!(r.status.as_u16(), 400);
    assert_eq!(body_json(&r)["__type"], "ExecutionAlreadyExists");
}

#[test]
fn error_text_extension_and_aws_strict() {
    let mk = |mode| {
        let mut i = integration(
            IntegrationType::Aws { service: "states".into(), region: "us-east-1".into(), action: "StartSyncExecution".into() },
            &[],
            vec![rule(None, 200), rule(Some(".*EmployeeDoesNotExist.*"), 404)],
        );
        i.responses[1].response_parameters = vec![("X-Why".into(), ParameterSource::IntegrationResponseBody(Some("$.error".into())))];
        let mut api = api(vec![route("POST", "/sync", method(i))]);
        api.selection_mode = mode;
        App::new(api, Arc::new(Fake)).unwrap()
    };
    let req = || GatewayRequest::new(HttpMethod::POST, "/sync").with_body("{\"stateMachineArn\":\"arn:aws:states:us-east-1:123456789012:stateMachine:m\",\"input\":\"{\\\"fail\\\":1}\"}");
    let r = run(&mk(SelectionMode::Extended), req());
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.headers["x-why"], "EmployeeDoesNotExist");
    let r = run(&mk(SelectionMode::AwsStrict), req());
    assert_eq!(r.status, StatusCode::OK);
}

#[test]
fn response_parameters_and_reserved_headers() {
    let mut i = mock(200);
    i.responses[0].response_parameters = vec![
        ("method.response.header.Access-Control-Allow-Origin".into(), ParameterSource::Static("*".into())),
        ("method.response.header.X-Id".into(), ParameterSource::MethodRequestPath("id".into())),
        ("method.response.header.X-Req".into(), ParameterSource::Context("requestId".into())),
        ("method.response.header.Server".into(), ParameterSource::Static("mine".into())),
        ("method.response.header.X-Q".into(), ParameterSource::MethodRequestQueryString("q".into())),
        ("method.response.header.X-Stage".into(), ParameterSource::StageVariable("v".into())),
    ];
    let mut api = api(vec![route("GET", "/r/{id}", method(i))]);
    api.stage_variables.insert("v".into(), "sv".into());
    let a = App::new(api, Arc::new(Fake)).unwrap();
    let r = run(&a, GatewayRequest::new(HttpMethod::GET, "/r/a%20b?q=1&q=2"));
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert_eq!(r.headers["x-id"], "a b");
    assert_eq!(r.headers["x-req"], r.headers["x-amzn-requestid"]);
    assert_eq!(r.headers["x-amzn-remapped-server"], "mine");
    assert_eq!(r.headers["x-q"], "2");
    assert_eq!(r.headers["x-stage"], "sv");
}

#[test]
fn forbidden_integration_header_mapping_is_a_500() {
    let mut i = integration(
        IntegrationType::Aws { service: "states".into(), region: "us-east-1".into(), action: "StartExecution".into() },
        &[],
        vec![rule(None, 200)],
    );
    i.request_parameters = vec![(IntegrationRequestTarget::Header("Authorization".into()), ParameterSource::Static("x".into()))];
    let a = app(vec![route("GET", "/f", method(i))]);
    let r = run(&a, GatewayRequest::new(HttpMethod::GET, "/f"));
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.headers["x-amzn-errortype"], "InternalServerErrorException");
    assert_eq!(body_json(&r), serde_json::json!({"message": "Internal server error"}));
}

#[test]
fn no_matching_rule_and_no_default_is_a_500() {
    let mut i = mock(503);
    i.responses = vec![rule(Some("2\\d{2}"), 200)];
    let a = app(vec![route("GET", "/x", method(i))]);
    assert_eq!(run(&a, GatewayRequest::new(HttpMethod::GET, "/x")).status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn transcript_records_every_phase() {
    let a = app(vec![route("GET", "/t", method(mock(200)))]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (r, t) = rt.block_on(invoke_traced(&a, GatewayRequest::new(HttpMethod::GET, "/t")));
    assert_eq!(r.status, StatusCode::OK);
    let text = t.to_string();
    for needle in [
        "HTTP Method: GET, Resource Path: /t",
        "Endpoint request body after transformations: {\"statusCode\": 200}",
        "Received response. Status: 200",
        "Selected integration response: `default` → 200",
        "Method completed with status: 200",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
