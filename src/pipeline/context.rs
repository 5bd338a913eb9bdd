//! The per-request values API Gateway exposes as `$context` (and to `context.X` parameter
//! mappings and gateway response templates): request id, times, method, paths, stage,
//! identity. Computed once when the request arrives.

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::Arc;
use std::thread::LocalKey;
use std::time::SystemTime;

use base64::Engine as _;
use rand::rngs::SmallRng;
use rand::{RngCore as _, SeedableRng as _};
use sha2::Digest as _;

use super::{App, GatewayError, GatewayRequest, header, shared};
use crate::routing::Match;

/// `$context` for one request. Single values are `Arc<str>`: the template environment
/// shares them instead of copying, and per-API values (stage, ids, the resource of each
/// route, method and protocol names) come from the worker thread's copy of them
/// ([`shared`]), so building one costs a few allocations (the two ids and what the request
/// itself brings).
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// `$context.requestId` (also the `x-amzn-RequestId` response header).
    pub request_id: Arc<str>,
    /// `$context.extendedRequestId` (also `x-amz-apigw-id`).
    pub extended_request_id: Arc<str>,
    /// `$context.requestTimeEpoch`: epoch milliseconds (`requestTime` is formatted from it).
    pub request_time_epoch: i64,
    pub http_method: Arc<str>,
    /// `$context.resourcePath`: the matched resource (`/orders/{id}`), empty if none.
    pub resource_path: Arc<str>,
    pub resource_id: Arc<str>,
    pub stage: Arc<str>,
    pub api_id: Arc<str>,
    pub account_id: Arc<str>,
    /// `$context.domainName`: the `Host` header without its port (`localhost` without one).
    pub domain_name: Arc<str>,
    pub protocol: Arc<str>,
    pub source_ip: Arc<str>,
    /// `$context.identity.apiKey` when the method requires a key.
    pub api_key: Option<String>,
    /// Path parameters of the matched resource, decoded.
    pub path_params: Vec<(String, String)>,
    /// Query string parameters, decoded, in order (repeats kept).
    pub query: Vec<(String, String)>,
    /// `$context.error.*` once a failure happened.
    pub error: Option<GatewayError>,
    /// Whether request paths carry the stage (`$context.path` is then the path as sent).
    stage_in_path: bool,
}

impl RequestContext {
    /// The context of a request, before any phase ran.
    pub fn new(app: &App, request: &GatewayRequest, route: Option<&Match<'_, usize>>) -> RequestContext {
        let query = request
            .query
            .as_deref()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let request_time_epoch = match SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        };
        let host = request.headers.get(http::header::HOST).and_then(|v| v.to_str().ok());
        shared::with(app, |shared| {
            let (resource_path, resource_id) = match route.and_then(|m| shared.resources.get(*m.value)) {
                Some(r) => (r.path.clone(), r.id.clone()),
                None => (shared.empty.clone(), shared.empty.clone()),
            };
            RequestContext {
                request_id: request_id(),
                extended_request_id: extended_request_id(),
                request_time_epoch,
                http_method: shared.method(&request.method),
                resource_id,
                resource_path,
                stage: shared.stage.clone(),
                api_id: shared.api_id.clone(),
                account_id: shared.account_id.clone(),
                domain_name: match host {
                    Some(host) => interned(&DOMAIN_NAME, host.split(':').next().unwrap_or(host)),
                    None => shared.localhost.clone(),
                },
                protocol: shared.protocol(request.protocol),
                source_ip: match request.source_ip {
                    Some(ip) => source_ip(ip),
                    None => shared.loopback.clone(),
                },
                api_key: None,
                path_params: Vec::new(),
                query,
                error: None,
                stage_in_path: app.api().stage_in_path,
            }
        })
    }

    /// Records the failure for `$context.error.*`.
    pub fn set_error(&mut self, error: &GatewayError) {
        self.error = Some(error.clone());
    }

    /// A `$context` value by its dotted name (`requestId`, `identity.sourceIp`), as text.
    /// `request` is the request this context was made for (`path`, `identity.userAgent`).
    pub fn get(&self, request: &GatewayRequest, name: &str) -> Option<String> {
        let s = |v: &str| Some(v.to_string());
        match name {
            "requestId" | "awsEndpointRequestId" => s(&self.request_id),
            "extendedRequestId" => s(&self.extended_request_id),
            "requestTime" => Some(crate::apigw::format_request_time(self.request_time_epoch)),
            "requestTimeEpoch" => Some(self.request_time_epoch.to_string()),
            "httpMethod" => s(&self.http_method),
            // The path as requested on an execute-api URL: with the stage.
            "path" if self.stage_in_path => s(&request.path),
            "path" => Some(format!("/{}{}", self.stage, request.path)),
            "resourcePath" => s(&self.resource_path),
            "resourceId" => s(&self.resource_id),
            "stage" => s(&self.stage),
            "apiId" => s(&self.api_id),
            "accountId" => s(&self.account_id),
            "domainName" => s(&self.domain_name),
            "domainPrefix" => s(self.domain_name.split('.').next().unwrap_or("")),
            "protocol" => s(&self.protocol),
            "deploymentId" => s("stepgate"),
            "identity.sourceIp" => s(&self.source_ip),
            "identity.userAgent" => s(header(&request.headers, "user-agent").unwrap_or("")),
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

thread_local! {
    /// The last client address each thread formatted: a connection's requests (and most
    /// load) come from one address, so its text is shared instead of rebuilt per request.
    static SOURCE_IP: RefCell<Option<(IpAddr, Arc<str>)>> = const { RefCell::new(None) };
    /// The last `$context.domainName` each thread saw, for the same reason.
    static DOMAIN_NAME: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
    /// The generator of request ids: a fast one (xoshiro), seeded from the operating
    /// system once per thread. The ids only need to be unique and unguessable in
    /// practice, not cryptographically strong, and this costs a fraction of `rand::random`.
    static ID_RNG: RefCell<SmallRng> = RefCell::new(SmallRng::from_rng(&mut rand::rng()));
}

/// `N` random bytes for an id.
fn id_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    ID_RNG.with(|rng| rng.borrow_mut().fill_bytes(&mut bytes));
    bytes
}

/// `$context.identity.sourceIp` of a client address.
fn source_ip(ip: IpAddr) -> Arc<str> {
    SOURCE_IP.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((seen, text)) if *seen == ip => text.clone(),
            _ => {
                let text: Arc<str> = Arc::from(ip_text(ip));
                *last = Some((ip, text.clone()));
                text
            }
        }
    })
}

/// `text` as a shared string, reusing the one `last` holds when it is the same text.
fn interned(last: &'static LocalKey<RefCell<Option<Arc<str>>>>, text: &str) -> Arc<str> {
    last.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some(seen) if **seen == *text => seen.clone(),
            _ => {
                let shared: Arc<str> = Arc::from(text);
                *last = Some(shared.clone());
                shared
            }
        }
    })
}

/// A random (version 4) UUID from the thread-local generator: no system call per request,
/// written straight into the shared string.
fn request_id() -> Arc<str> {
    let uuid = uuid::Builder::from_random_bytes(id_bytes()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    Arc::from(&*uuid.hyphenated().encode_lower(&mut text))
}

/// An id in the shape of API Gateway's `extendedRequestId` (`Ab1CdEFGIAMEbXw=`: 11 random
/// bytes in base64, 16 characters with one `=`).
fn extended_request_id() -> Arc<str> {
    let bytes: [u8; 11] = id_bytes();
    let mut text = [0u8; 16];
    let n = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut text).unwrap_or(0);
    Arc::from(std::str::from_utf8(&text[..n]).unwrap_or(""))
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
            assert_eq!(&*super::source_ip(parsed), parsed.to_string());
        }
    }

    #[test]
    fn ids_have_api_gateways_shapes() {
        let id = super::request_id();
        assert_eq!(uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()), Ok(4));
        assert_eq!(id.to_lowercase(), *id);
        let ext = super::extended_request_id();
        assert_eq!(ext.len(), 16);
        assert!(ext.ends_with('=') && !ext.ends_with("=="), "{ext}");
        assert_ne!(super::extended_request_id(), ext);
    }

    #[test]
    fn interned_text_is_shared_while_it_repeats() {
        thread_local! {
            static LAST: std::cell::RefCell<Option<std::sync::Arc<str>>> = const { std::cell::RefCell::new(None) };
        }
        let a = super::interned(&LAST, "api.example.com");
        let b = super::interned(&LAST, "api.example.com");
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        let c = super::interned(&LAST, "other.example.com");
        assert_eq!(&*c, "other.example.com");
        assert!(!std::sync::Arc::ptr_eq(&a, &c));
    }
}
