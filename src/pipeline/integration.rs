//! The integration call: `aws` (`states:action/<Action>` through [`backend::dispatch`]),
//! Lambda custom integrations (`lambda:path/2015-03-31/functions/<arn>/invocations` through
//! [`backend::lambda::Lambda`]), `mock` (the status code read from the rendered request
//! template) and `http` (a real non-proxy HTTP call, `http://` or `https://` through the
//! shared client of [`crate::https`]), all under the integration timeout (`timeoutInMillis`,
//! 504 past it). An endpoint that cannot be reached — refused, unresolvable, or a TLS
//! handshake that fails (certificate not trusted, wrong host name) — is API Gateway's
//! `INTEGRATION_FAILURE` answer (504 `Internal server error`), the log saying why.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full};

use super::gateway_error::{GatewayError, GatewayResponseType as T};
use super::App;
use crate::backend;
use crate::backend::lambda;
use crate::config::{Integration, IntegrationType};
use crate::sfn::Action;

/// What is sent to the integration, after every transformation.
#[derive(Clone, Debug)]
pub struct EndpointRequest {
    /// The endpoint URI (for `aws`, the Step Functions endpoint with `?Action=`).
    pub uri: String,
    pub method: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What the integration answered.
#[derive(Clone, Debug)]
pub struct EndpointResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// stepgate's selection extension: `<__type>: <message>` of a Step Functions error, or
    /// `<error>: <cause>` of a synchronous execution that ended FAILED/TIMED_OUT/ABORTED.
    pub error_text: Option<String>,
    /// Lambda: the `errorMessage` of an invocation that answered `X-Amz-Function-Error`
    /// (what selection patterns match; a successful invocation matches as `""`).
    pub function_error: Option<String>,
    /// The document `integration.response.body.<path>` mappings read when it is not `body`:
    /// for a Lambda custom error whose `errorMessage` holds JSON, the error with that JSON
    /// deserialised (`integration.response.body.errorMessage.httpStatus`).
    pub mapping_body: Option<Bytes>,
}

impl EndpointResponse {
    /// An answer with no error text and nothing Lambda-specific.
    pub(crate) fn new(status: u16, headers: HeaderMap, body: Bytes) -> EndpointResponse {
        EndpointResponse { status, headers, body, error_text: None, function_error: None, mapping_body: None }
    }
}

/// The HTTP(S) client used by `http` integrations.
#[derive(Clone, Debug)]
pub(crate) struct HttpClient(crate::https::Client);

impl HttpClient {
    /// A client trusting the platform's native roots.
    pub fn new() -> HttpClient {
        HttpClient::with_trust(&crate::https::Trust::default())
    }

    /// A client trusting the native roots and `trust`'s CA bundle.
    pub fn with_trust(trust: &crate::https::Trust) -> HttpClient {
        HttpClient(crate::https::client(trust))
    }
}

impl App {
    /// Calls `https://` endpoints of `http` integrations trusting `trust` (the native roots
    /// and the `tls.ca_file` bundle of stepgate.yaml) instead of the native roots only.
    pub fn with_trust(mut self, trust: &crate::https::Trust) -> App {
        self.http = HttpClient::with_trust(trust);
        self
    }
}

/// Calls the integration under its timeout.
pub(crate) async fn call(
    app: &App,
    integration: &Integration,
    request: EndpointRequest,
) -> Result<EndpointResponse, GatewayError> {
    // A mock answers at once, without I/O: it needs no timer.
    if let IntegrationType::Mock = integration.kind {
        return call_mock(&request);
    }
    // The other calls run boxed: their futures (the backend's, an HTTP client's) are large,
    // and inline they would make every request's future that large, mock ones included.
    Box::pin(call_remote(app, integration, request)).await
}

/// An `aws`, Lambda or `http` call under the integration timeout.
async fn call_remote(
    app: &App,
    integration: &Integration,
    request: EndpointRequest,
) -> Result<EndpointResponse, GatewayError> {
    let timeout = if integration.timeout.is_zero() {
        app.limits().default_integration_timeout
    } else {
        integration.timeout
    };
    let work = async {
        match &integration.kind {
            IntegrationType::Aws { service, action, .. } => call_aws(app, service, action, request).await,
            IntegrationType::Lambda { function_arn, .. } => call_lambda(app, function_arn, request).await,
            IntegrationType::Mock => call_mock(&request),
            IntegrationType::Http { .. } => call_http(app, request).await,
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(GatewayError::new(T::IntegrationTimeout)
            .with_detail(format!("no answer within {} ms", timeout.as_millis()))),
    }
}

async fn call_aws(
    app: &App,
    service: &str,
    action: &str,
    request: EndpointRequest,
) -> Result<EndpointResponse, GatewayError> {
    if service != "states" {
        return Err(GatewayError::configuration(format!(
            "AWS service `{service}` is not supported (only `states`)"
        )));
    }
    let action: Action = action
        .parse()
        .map_err(|_| GatewayError::configuration(format!("unknown Step Functions action `{action}`")))?;
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
    match backend::dispatch(app.backend.as_ref(), action, &request.body).await {
        Ok(body) => {
            let error_text = (action == Action::StartSyncExecution)
                .then(|| sync_execution_failure(&body))
                .flatten();
            Ok(EndpointResponse { error_text, ..EndpointResponse::new(200, headers, Bytes::from(body)) })
        }
        Err(backend::Error::Service(e)) => {
            let error_text = Some(format!("{}: {}", e.type_, e.message));
            Ok(EndpointResponse { error_text, ..EndpointResponse::new(e.status, headers, Bytes::from(e.to_body())) })
        }
        Err(backend::Error::Timeout(m)) => {
            Err(GatewayError::new(T::IntegrationTimeout).with_detail(m))
        }
        Err(e) => Err(GatewayError::new(T::IntegrationFailure).with_detail(e.to_string())),
    }
}

/// Invokes the function (RequestResponse) with the body after transformations as the
/// event. The Invoke API's answer is the endpoint response, function errors included (200
/// with `X-Amz-Function-Error`); a function that cannot be invoked at all is API Gateway's
/// 500 `Internal server error` (504 when it timed out), the log saying why.
async fn call_lambda(
    app: &App,
    function_arn: &str,
    request: EndpointRequest,
) -> Result<EndpointResponse, GatewayError> {
    let function = resolve_function(app, function_arn)?;
    let invocation_type = request.headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok());
    if invocation_type.is_some_and(|t| t.eq_ignore_ascii_case("Event")) {
        // `integration.request.header.X-Amz-Invocation-Type: 'Event'`: Lambda queues the event
        // and answers 202 with no body; the function runs on its own.
        let lambda = app.lambda.clone();
        tokio::spawn(async move {
            if let Err(e) = lambda.invoke(&function, request.body).await {
                tracing::warn!(function = %function, "asynchronous Lambda invocation failed: {e}");
            }
        });
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            headers.insert(HeaderName::from_static("x-amzn-requestid"), v);
        }
        return Ok(EndpointResponse::new(202, headers, Bytes::new()));
    }
    let invocation = match app.lambda.invoke(&function, request.body).await {
        Ok(invocation) => invocation,
        Err(lambda::Error::Timeout(m)) => return Err(GatewayError::new(T::IntegrationTimeout).with_detail(m)),
        Err(e) => {
            return Err(GatewayError::configuration(format!(
                "Execution failed due to configuration error: {e}"
            )));
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert(HeaderName::from_static("x-amzn-requestid"), v);
    }
    if let Ok(v) = HeaderValue::from_str(&invocation.executed_version) {
        headers.insert(HeaderName::from_static("x-amz-executed-version"), v);
    }
    let mut response = EndpointResponse::new(invocation.status, headers, invocation.payload);
    if let Some(kind) = invocation.function_error {
        if let Ok(v) = HeaderValue::from_str(&kind) {
            response.headers.insert(HeaderName::from_static("x-amz-function-error"), v);
        }
        let (message, mapping_body) = lambda_error(&response.body);
        response.function_error = Some(message);
        response.mapping_body = mapping_body;
    }
    Ok(response)
}

/// The `errorMessage` of a Lambda error payload (`""` when there is none; a non-string value
/// as JSON), and the payload with that message deserialised when it holds a JSON object or
/// array (API Gateway's custom-error header mappings read into it).
fn lambda_error(payload: &[u8]) -> (String, Option<Bytes>) {
    let Ok(serde_json::Value::Object(mut error)) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return (String::new(), None);
    };
    let message = match error.get("errorMessage") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => return (String::new(), None),
        Some(other) => return (other.to_string(), None),
    };
    let inner = serde_json::from_str::<serde_json::Value>(&message).ok().filter(|v| v.is_object() || v.is_array());
    let mapping_body = inner.map(|inner| {
        error.insert("errorMessage".into(), inner);
        Bytes::from(serde_json::Value::Object(error).to_string())
    });
    (message, mapping_body)
}

/// The function ARN with its `${stageVariables.x}` references filled in.
fn resolve_function(app: &App, function_arn: &str) -> Result<String, GatewayError> {
    let mut out = String::with_capacity(function_arn.len());
    let mut rest = function_arn;
    while let Some(at) = rest.find("${stageVariables.") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "${stageVariables.".len()..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        let value = app.api().stage_variables.get(name).ok_or_else(|| {
            GatewayError::configuration(format!(
                "Execution failed due to configuration error: stage variable `{name}` of Lambda function `{function_arn}` is not set"
            ))
        })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The Lambda Invoke URI API Gateway calls (for the transcript).
pub(crate) fn lambda_uri(app: &App, region: &str, function_arn: &str) -> String {
    let function = resolve_function(app, function_arn).unwrap_or_else(|_| function_arn.to_string());
    format!("https://lambda.{region}.amazonaws.com/2015-03-31/functions/{function}/invocations")
}

/// `<error>: <cause>` when a StartSyncExecution answer reports FAILED, TIMED_OUT or ABORTED.
fn sync_execution_failure(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let status = v.get("status")?.as_str()?;
    if !matches!(status, "FAILED" | "TIMED_OUT" | "ABORTED") {
        return None;
    }
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    Some(format!("{}: {}", text("error"), text("cause")))
}

/// A mock integration answers with the `statusCode` of the rendered request template
/// (read leniently: `{statusCode: 200}` works as on AWS) and an empty body.
fn call_mock(request: &EndpointRequest) -> Result<EndpointResponse, GatewayError> {
    let status = mock_status(&request.body).ok_or_else(|| {
        GatewayError::configuration("mock integration: the request template gave no statusCode")
    })?;
    Ok(EndpointResponse::new(status, HeaderMap::new(), Bytes::new()))
}

/// Finds `statusCode` in a JSON-ish text: `{"statusCode": 200}`, `{statusCode: 200}`,
/// `{"statusCode": "404"}`.
pub(crate) fn mock_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    if let Some(status) = leading_status(text) {
        return status;
    }
    if let Ok(MockBody(status)) = serde_json::from_str::<MockBody>(text) {
        return match status? {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
    }
    let at = text.find("statusCode")?;
    let rest = text[at + "statusCode".len()..].trim_start_matches(['"', '\'']).trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().trim_start_matches(['"', '\'']);
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// The common shape, `{"statusCode": 200, ...}`, read without a parser: `Some` with what
/// [`mock_status`] would find, `None` when the text needs the full reading.
///
/// It applies only when `statusCode` opens the object, is followed by an integer, appears
/// nowhere else in the text, and the text has no `\` (so no escaped key can spell it
/// either). Then both of the full reading's paths agree with it: a JSON parse finds that one
/// member, and for text that is not JSON the scan finds the same first digits.
fn leading_status(text: &str) -> Option<Option<u16>> {
    const KEY: &str = "\"statusCode\"";
    let rest = text.trim_start().strip_prefix('{')?.trim_start().strip_prefix(KEY)?;
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !matches!(rest[digits..].trim_start().bytes().next(), Some(b',' | b'}')) {
        return None;
    }
    // `statusCode` opened the text, so any other occurrence lies after the digits.
    if text.contains('\\') || rest[digits..].contains("statusCode") {
        return None;
    }
    Some(rest[..digits].parse().ok())
}

/// A JSON object read only for its `statusCode` (the last one if repeated): the other
/// members are skipped without being built, which a `serde_json::Value` would do.
/// Anything but an object fails, as before, so the text scan below takes over.
struct MockBody(Option<serde_json::Value>);

impl<'de> serde::Deserialize<'de> for MockBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<MockBody, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = MockBody;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<MockBody, A::Error> {
                let mut status = None;
                while let Some(key) = map.next_key::<MockKey>()? {
                    if key.0 {
                        status = Some(map.next_value::<serde_json::Value>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(MockBody(status))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// A member name of [`MockBody`], read only for whether it is `statusCode` (compared in
/// place: no copy of the name is made unless it holds escapes).
struct MockKey(bool);

impl<'de> serde::Deserialize<'de> for MockKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<MockKey, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = MockKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<MockKey, E> {
                Ok(MockKey(key == "statusCode"))
            }
        }
        d.deserialize_str(Visitor)
    }
}

async fn call_http(app: &App, request: EndpointRequest) -> Result<EndpointResponse, GatewayError> {
    let uri: http::Uri = request
        .uri
        .parse()
        .map_err(|e| GatewayError::configuration(format!("http integration URI `{}`: {e}", request.uri)))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(GatewayError::new(T::IntegrationFailure)
            .with_detail(format!("only http:// and https:// endpoints are supported, not `{}`", request.uri)));
    }
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| GatewayError::configuration(format!("bad HTTP method `{}`", request.method)))?;
    let request_uri = request.uri;
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let outgoing = builder
        .body(Full::new(request.body))
        .map_err(|e| GatewayError::configuration(format!("http integration request: {e}")))?;
    let response = app
        .http
        .0
        .request(outgoing)
        .await
        .map_err(|e| {
            GatewayError::new(T::IntegrationFailure)
                .with_detail(format!("http integration {}: {}", request_uri, crate::https::describe(&e)))
        })?;
    let (parts, body) = response.into_parts();
    let limit = app.limits().max_body_bytes;
    let body = http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| GatewayError::new(T::IntegrationFailure).with_detail(format!("http integration body: {e}")))?
        .to_bytes();
    Ok(EndpointResponse::new(parts.status.as_u16(), parts.headers, body))
}

/// The request headers API Gateway sends to Step Functions (for the transcript).
pub(crate) fn aws_headers(action: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
    if let Ok(v) = HeaderValue::from_str(&format!("AWSStepFunctions.{action}")) {
        h.insert(HeaderName::from_static("x-amz-target"), v);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_status_is_read_leniently() {
        assert_eq!(mock_status(br#"{"statusCode": 200}"#), Some(200));
        assert_eq!(mock_status(b"{statusCode: 404}"), Some(404));
        assert_eq!(mock_status(b"{\n  \"statusCode\" : \"500\"\n}"), Some(500));
        assert_eq!(mock_status(b"{'statusCode': 201, x}"), Some(201));
        assert_eq!(mock_status(b"{}"), None);
        // Other members, however nested, are skipped; a repeated statusCode: the last one.
        assert_eq!(mock_status(br#"{"a": {"statusCode": 1, "b": [1, {"c": null}]}, "statusCode": 202}"#), Some(202));
        assert_eq!(mock_status(br#"{"statusCode": 200, "statusCode": 418}"#), Some(418));
        assert_eq!(mock_status(br#"{"statusCode": null}"#), None);
        assert_eq!(mock_status(br#"{"statusCode": 70000}"#), None);
        // An array is not an object: only the text scan applies.
        assert_eq!(mock_status(br#"[200]"#), None);
        assert_eq!(mock_status(br#"["statusCode", 200]"#), None);
        assert_eq!(mock_status(b""), None);
        // The shapes the fast reading takes, and the ones it leaves to the full one.
        assert_eq!(mock_status(br#" { "statusCode" : 200 , "id": "42"}"#), Some(200));
        assert_eq!(mock_status(br#"{"statusCode": 99999}"#), None);
        assert_eq!(mock_status(br#"{"statusCode": 200, "\u0073tatusCode": 418}"#), Some(418));
        assert_eq!(mock_status(br#"{"statusCode": 200.5}"#), None);
        assert_eq!(mock_status(br#"{"statusCode": 0200}"#), Some(200));
        assert_eq!(mock_status(br#"{"statusCode": 200 "id": 1}"#), Some(200));
    }

    #[test]
    fn lambda_errors_give_their_message_and_deserialised_json() {
        let (m, body) = lambda_error(br#"{"errorMessage":"Error: four hundred","errorType":"Exception"}"#);
        assert_eq!((m.as_str(), body), ("Error: four hundred", None));
        let (m, body) = lambda_error(br#"{"errorMessage":"{\"httpStatus\":500,\"trace\":{\"line\":1}}"}"#);
        assert_eq!(m, r#"{"httpStatus":500,"trace":{"line":1}}"#);
        assert_eq!(body.unwrap(), Bytes::from(r#"{"errorMessage":{"httpStatus":500,"trace":{"line":1}}}"#));
        // No message, or not an object: nothing to match but the empty string.
        assert_eq!(lambda_error(br#"{"errorType":"E"}"#), (String::new(), None));
        assert_eq!(lambda_error(b"\"oops\""), (String::new(), None));
        assert_eq!(lambda_error(br#"{"errorMessage":42}"#), ("42".to_string(), None));
    }

    #[test]
    fn failed_sync_execution_gives_error_text() {
        let body = br#"{"status":"FAILED","error":"EmployeeDoesNotExist","cause":"no such id"}"#;
        assert_eq!(sync_execution_failure(body).as_deref(), Some("EmployeeDoesNotExist: no such id"));
        assert_eq!(sync_execution_failure(br#"{"status":"SUCCEEDED","output":"{}"}"#), None);
    }
}
