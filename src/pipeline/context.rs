//! The per-request values API Gateway exposes as `$context` (and to `context.X` parameter
//! mappings and gateway response templates): request id, times, method, paths, stage,
//! identity. Computed once when the request arrives.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine as _;
use sha2::Digest as _;
use time::OffsetDateTime;

use super::{App, GatewayError, GatewayRequest, header};
use crate::routing::Match;

/// `$context` for one request. Single values are `Arc<str>`: the template environment
/// shares them instead of copying, and per-API values (stage, ids) are shared with the app.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// `$context.requestId` (also the `x-amzn-RequestId` response header).
    pub request_id: Arc<str>,
    /// `$context.extendedRequestId` (also `x-amz-apigw-id`).
    pub extended_request_id: Arc<str>,
    /// `$context.requestTimeEpoch`: epoch milliseconds (`requestTime` is formatted from it).
    pub request_time_epoch: i64,
    pub http_method: Arc<str>,
    /// `$context.path`: the path as requested on an execute-api URL, stage included.
    pub path: String,
    /// `$context.resourcePath`: the matched resource (`/orders/{id}`), empty if none.
    pub resource_path: Arc<str>,
    pub resource_id: Arc<str>,
    pub stage: Arc<str>,
    pub api_id: Arc<str>,
    pub account_id: Arc<str>,
    pub domain_name: Arc<str>,
    pub domain_prefix: String,
    pub protocol: Arc<str>,
    pub source_ip: Arc<str>,
    pub user_agent: String,
    /// `$context.identity.apiKey` when the method requires a key.
    pub api_key: Option<String>,
    /// Path parameters of the matched resource, decoded.
    pub path_params: Vec<(String, String)>,
    /// Query string parameters, decoded, in order (repeats kept).
    pub query: Vec<(String, String)>,
    /// `$context.error.*` once a failure happened.
    pub error: Option<GatewayError>,
}

impl RequestContext {
    /// The context of a request, before any phase ran.
    pub fn new(app: &App, request: &GatewayRequest, route: Option<&Match<'_, usize>>) -> RequestContext {
        let now = OffsetDateTime::from(SystemTime::now());
        let domain_name: Arc<str> = header(&request.headers, "host")
            .map(|h| Arc::from(h.split(':').next().unwrap_or(h)))
            .unwrap_or_else(|| Arc::from("localhost"));
        let domain_prefix = domain_name.split('.').next().unwrap_or("").to_string();
        let resource_path = route.map(|m| Arc::from(m.resource_path)).unwrap_or_else(|| Arc::from(""));
        let resource_id = route.map(|m| app.resource_ids[*m.value].clone()).unwrap_or_else(|| Arc::from(""));
        let query = request
            .query
            .as_deref()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let api = app.api();
        RequestContext {
            request_id: request_id().into(),
            extended_request_id: extended_request_id().into(),
            request_time_epoch: (now.unix_timestamp_nanos() / 1_000_000) as i64,
            http_method: Arc::from(request.method.as_str()),
            path: if api.stage_in_path {
                request.path.clone()
            } else {
                let mut p = String::with_capacity(1 + api.stage.len() + request.path.len());
                p.push('/');
                p.push_str(&api.stage);
                p.push_str(&request.path);
                p
            },
            resource_id,
            resource_path,
            stage: app.shared.stage.clone(),
            api_id: app.shared.api_id.clone(),
            account_id: app.shared.account_id.clone(),
            domain_name,
            domain_prefix,
            protocol: Arc::from(request.protocol),
            source_ip: request.source_ip.map(ip_text).map_or_else(|| Arc::from("127.0.0.1"), Arc::from),
            user_agent: header(&request.headers, "user-agent").unwrap_or("").to_string(),
            api_key: None,
            path_params: Vec::new(),
            query,
            error: None,
        }
    }

    /// Records the failure for `$context.error.*`.
    pub fn set_error(&mut self, error: &GatewayError) {
        self.error = Some(error.clone());
    }

    /// A `$context` value by its dotted name (`requestId`, `identity.sourceIp`), as text.
    pub fn get(&self, name: &str) -> Option<String> {
        let s = |v: &str| Some(v.to_string());
        match name {
            "requestId" | "awsEndpointRequestId" => s(&self.request_id),
            "extendedRequestId" => s(&self.extended_request_id),
            "requestTime" => Some(crate::apigw::format_request_time(self.request_time_epoch)),
            "requestTimeEpoch" => Some(self.request_time_epoch.to_string()),
            "httpMethod" => s(&self.http_method),
            "path" => s(&self.path),
            "resourcePath" => s(&self.resource_path),
            "resourceId" => s(&self.resource_id),
            "stage" => s(&self.stage),
            "apiId" => s(&self.api_id),
            "accountId" => s(&self.account_id),
            "domainName" => s(&self.domain_name),
            "domainPrefix" => s(&self.domain_prefix),
            "protocol" => s(&self.protocol),
            "deploymentId" => s("stepgate"),
            "identity.sourceIp" => s(&self.source_ip),
            "identity.userAgent" => s(&self.user_agent),
            "identity.apiKey" => self.api_key.clone(),
            "error.message" => self.error.as_ref().map(|e| e.message.clone()),
            "error.messageString" => self
                .error
                .as_ref()
                .map(|e| serde_json::Value::String(e.message.clone()).to_string()),
            "error.responseType" => self.error.as_ref().map(|e| e.response_type.as_str().to_string()),
            "error.validationErrorString" => self.error.as_ref().and_then(|e| e.validation_error.clone()),
            _ => None,
        }
    }

    /// A query string parameter; of repeated ones the last, as API Gateway keeps.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().rfind(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A path parameter.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// An address as text; IPv4 (the common case) written by hand, which costs a fraction of
/// its `Display`.
fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else { return ip.to_string() };
    let mut out = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
    out
}

/// A random (version 4) UUID from the thread-local generator: no system call per request.
fn request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string()
}

/// An id in the shape of API Gateway's `extendedRequestId` (`Ab1CdEFGIAMEbXw=`).
fn extended_request_id() -> String {
    let bytes: [u8; 10] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A stable 10-character id for a resource path, in the shape of API Gateway's resource ids.
pub(crate) fn resource_id(resource_path: &str) -> Arc<str> {
    if resource_path.is_empty() {
        return Arc::from("");
    }
    let digest = sha2::Sha256::digest(resource_path.as_bytes());
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    digest.iter().take(10).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect::<String>().into()
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    #[test]
    fn ip_text_matches_display() {
        for ip in ["0.0.0.0", "127.0.0.1", "10.20.99.100", "255.255.255.255", "1.23.245.9", "::1", "2001:db8::7"] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(super::ip_text(parsed), parsed.to_string());
        }
    }
}
