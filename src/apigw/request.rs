//! The plain request description the template environment is built from
//! ([`RequestData`]): no HTTP types, so the pipeline, the CLI and tests fill it alike.
//! Its single values are `Arc<str>`, so the pipeline shares them with `$context` instead
//! of copying each one per request (build them with `"text".into()`).

use std::sync::Arc;

use bytes::Bytes;

/// One method request, as the mapping templates see it.
#[derive(Debug, Clone, Default)]
pub struct RequestData {
    /// `GET`, `POST`, ... (`$context.httpMethod`)
    pub method: Arc<str>,
    /// The request path without the stage (`/orders/12`); `$context.path` adds `/{stage}`.
    pub path: Arc<str>,
    /// The matched resource (`/orders/{id}`, `$context.resourcePath`).
    pub resource_path: Arc<str>,
    /// Headers in arrival order; repeated names allowed (the template sees the last).
    pub headers: Vec<(String, String)>,
    /// Query parameters, URL-decoded, in order; repeated names allowed (last wins).
    pub query: Vec<(String, String)>,
    /// Path parameters, URL-decoded (`id` → `12`).
    pub path_params: Vec<(String, String)>,
    /// The raw body (`$input.body`; empty reads as `{}`).
    pub body: Bytes,
    /// `$stageVariables`.
    pub stage_variables: Vec<(String, String)>,
    /// The values `$context` is built from.
    pub context: RequestContext,
}

/// Values for `$context` that do not come from the HTTP request itself.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// `$context.requestId` (also the `x-amzn-RequestId` response header).
    pub request_id: Arc<str>,
    pub extended_request_id: Arc<str>,
    pub stage: Arc<str>,
    pub api_id: Arc<str>,
    pub account_id: Arc<str>,
    pub resource_id: Arc<str>,
    pub domain_name: Arc<str>,
    pub deployment_id: Arc<str>,
    /// `HTTP/1.1`
    pub protocol: Arc<str>,
    /// `$context.requestTimeEpoch`; `requestTime` is formatted from it.
    pub request_time_epoch_ms: i64,
    /// `$context.identity.sourceIp`
    pub source_ip: Arc<str>,
    /// `$context.identity.userAgent`; `None` takes the `User-Agent` header.
    pub user_agent: Option<String>,
    /// `$context.path` when it is not `/{stage}{path}` (custom domains).
    pub path: Option<String>,
    /// More `$context.identity.*` values (`apiKey`, `caller`, `user`, ...).
    pub identity: Vec<(String, String)>,
    /// `$context.authorizer.*` when the method has an authorizer.
    pub authorizer: Option<serde_json::Map<String, serde_json::Value>>,
    /// `$context.error.*` (gateway responses).
    pub error: Option<ErrorContext>,
    /// Anything else, by dotted name, set last (`isCanaryRequest`, `identity.user`,
    /// `wafResponseCode`); objects merge into existing maps.
    pub extra: Vec<(String, serde_json::Value)>,
}

impl Default for RequestContext {
    /// Fresh ids and the current time; local placeholders for the deployment values.
    fn default() -> RequestContext {
        let now = time::OffsetDateTime::now_utc();
        RequestContext {
            request_id: random_uuid().to_string().into(),
            extended_request_id: extended_request_id().into(),
            stage: "local".into(),
            api_id: "local".into(),
            account_id: "".into(),
            resource_id: "".into(),
            domain_name: "localhost".into(),
            deployment_id: "".into(),
            protocol: "HTTP/1.1".into(),
            request_time_epoch_ms: (now.unix_timestamp_nanos() / 1_000_000) as i64,
            source_ip: "127.0.0.1".into(),
            user_agent: None,
            path: None,
            identity: Vec::new(),
            authorizer: None,
            error: None,
            extra: Vec::new(),
        }
    }
}

/// A version-4 UUID from the thread-local generator (no system call per request).
fn random_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

/// An API Gateway-style extended request id (16 characters, base64 alphabet, ending `=`).
fn extended_request_id() -> String {
    use base64::Engine as _;
    let bytes: [u8; 11] = rand::random();
    let mut s = base64::engine::general_purpose::STANDARD.encode(bytes);
    s.truncate(15);
    s.push('=');
    s
}

/// `$context.error.*` for gateway response templates.
#[derive(Debug, Clone, Default)]
pub struct ErrorContext {
    /// `$context.error.message` (`messageString` is the same, JSON-quoted).
    pub message: String,
    /// `$context.error.responseType` (`MISSING_AUTHENTICATION_TOKEN`, ...).
    pub response_type: String,
    /// `$context.error.validationErrorString`
    pub validation_error_string: String,
}

/// Headers API Gateway does not show to templates even when the client sent them.
pub const HIDDEN_HEADERS: [&str; 12] = [
    "Connection",
    "Content-Length",
    "Content-MD5",
    "Expect",
    "Max-Forwards",
    "Proxy-Authenticate",
    "Server",
    "TE",
    "Transfer-Encoding",
    "Trailer",
    "Upgrade",
    "WWW-Authenticate",
];

/// Whether templates can see a header of this name.
pub fn header_visible(name: &str) -> bool {
    !HIDDEN_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}
