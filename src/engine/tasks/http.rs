//! `arn:aws:states:::http:invoke` and `arn:aws:states:::apigateway:invoke` as real HTTP
//! calls, `http://` or `https://`, through the shared client of [`crate::https`] (server
//! certificates checked against the native roots and the configured `tls.ca_file`; a
//! certificate or handshake failure is `States.Http.Socket` / `ApiGateway.RequestFailed` with
//! the TLS problem in the cause). Hosts can be mapped to other base URLs with
//! `host_mappings` (e.g. an `execute-api` host to a local stepgate). Parameters, the
//! forbidden header list, the output shape and the `ApiGateway.<status>` errors follow
//! step-functions.md §2 and seed 002.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Map, Value};

use super::bad_parameters;
use crate::engine::effects::{StateError, TaskRequest};

/// The HTTP(S) client tasks share.
pub(crate) type HttpClient = crate::https::Client;

/// A client trusting the native roots only (tests).
#[cfg(test)]
pub(crate) fn client() -> HttpClient {
    client_with(&crate::https::Trust::default())
}

/// A client trusting the native roots and `trust`'s CA bundle.
pub(crate) fn client_with(trust: &crate::https::Trust) -> HttpClient {
    crate::https::client(trust)
}

/// Headers a Task may not set (seed 002): exact names, plus the `X-Forwarded`,
/// `X-Amz` and `X-Amzn` prefixes.
const FORBIDDEN_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "content-md5",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "transfer-encoding",
    "trailer",
    "upgrade",
    "via",
    "www-authenticate",
];

fn is_forbidden_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    FORBIDDEN_HEADERS.contains(&lower.as_str())
        || lower.starts_with("x-forwarded")
        || lower.starts_with("x-amz")
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// One HTTP response, as both task types report it.
struct Response {
    status: u16,
    headers: Map<String, Value>,
    body: Value,
    text: String,
}

#[derive(Debug)]
pub(crate) struct HttpTasks {
    client: HttpClient,
    host_mappings: BTreeMap<String, String>,
}

impl HttpTasks {
    pub(crate) fn new(client: HttpClient, host_mappings: BTreeMap<String, String>) -> Self {
        HttpTasks {
            client,
            host_mappings,
        }
    }

    /// `apigateway:invoke`: `ApiEndpoint` (host), `Method`, `Stage`, `Path`,
    /// `Headers`/`QueryParameters` as `{"k": ["v"]}`, `RequestBody`, `AuthType`.
    pub(crate) async fn apigateway_invoke(
        &self,
        request: &TaskRequest,
    ) -> Result<Value, StateError> {
        let p = &request.parameters;
        let endpoint = str_field(request, "ApiEndpoint")?;
        let method = method(request)?;
        let headers = list_map(request, "Headers")?;
        let query = list_map(request, "QueryParameters")?;
        let mut path = String::new();
        if let Some(stage) = p
            .get("Stage")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            path.push('/');
            path.push_str(stage.trim_matches('/'));
        }
        if let Some(rest) = p
            .get("Path")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            path.push('/');
            path.push_str(rest.trim_start_matches('/'));
        }
        let base = self.base_url(endpoint);
        let url = with_query(&format!("{base}{path}"), &query);
        let response = self
            .send(&url, method, &headers, p.get("RequestBody"))
            .await
            .map_err(|e| StateError {
                error: "ApiGateway.RequestFailed".into(),
                cause: Some(e),
            })?;
        if !(200..300).contains(&response.status) {
            return Err(StateError {
                error: format!("ApiGateway.{}", response.status),
                cause: Some(response.text),
            });
        }
        Ok(output(response))
    }

    /// `http:invoke`: `ApiEndpoint` (a URL), `Method`, `Headers`/`QueryParameters` as
    /// `{"k": "v"}`, `RequestBody`, `Transform.RequestBodyEncoding` (`URL_ENCODED`).
    pub(crate) async fn http_invoke(&self, request: &TaskRequest) -> Result<Value, StateError> {
        let p = &request.parameters;
        let endpoint = str_field(request, "ApiEndpoint")?;
        let method = method(request)?;
        let mut headers = Vec::new();
        for (k, v) in p
            .get("Headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if is_forbidden_header(k) {
                return Err(bad_parameters(
                    request,
                    &format!("The header '{k}' is not allowed"),
                ));
            }
            headers.push((k.clone(), scalar_text(v)));
        }
        let mut query = Vec::new();
        for (k, v) in p
            .get("QueryParameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match v {
                Value::Array(items) => {
                    query.extend(items.iter().map(|i| (k.clone(), scalar_text(i))))
                }
                other => query.push((k.clone(), scalar_text(other))),
            }
        }
        let url_encoded = p
            .pointer("/Transform/RequestBodyEncoding")
            .and_then(Value::as_str)
            == Some("URL_ENCODED");
        let mut body = p.get("RequestBody").cloned();
        if let (true, Some(Value::Object(fields))) = (url_encoded, &body) {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (k, v) in fields {
                form.append_pair(k, &scalar_text(v));
            }
            body = Some(Value::String(form.finish()));
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        let url = with_query(&self.map_url(endpoint), &query);
        let response = self
            .send(&url, method, &headers, body.as_ref())
            .await
            .map_err(|e| StateError {
                error: "States.Http.Socket".into(),
                cause: Some(e),
            })?;
        if !(200..300).contains(&response.status) {
            return Err(StateError {
                error: format!("States.Http.StatusCode.{}", response.status),
                cause: Some(response.text),
            });
        }
        Ok(output(response))
    }

    /// `https://<host>` for an API Gateway host, or its mapping.
    fn base_url(&self, endpoint: &str) -> String {
        if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
            return self.map_url(endpoint.trim_end_matches('/'));
        }
        let host = endpoint.trim_end_matches('/');
        match self.host_mappings.get(host) {
            Some(base) => base.trim_end_matches('/').to_string(),
            None => format!("https://{host}"),
        }
    }

    /// Replaces a mapped host (`scheme://host[:port]`) with its local base URL.
    fn map_url(&self, url: &str) -> String {
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.to_string();
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(split);
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let bare = host.split(':').next().unwrap_or(host);
        match self
            .host_mappings
            .get(host)
            .or_else(|| self.host_mappings.get(bare))
        {
            Some(base) => format!("{}{tail}", base.trim_end_matches('/')),
            None => format!("{scheme}://{rest}"),
        }
    }

    async fn send(
        &self,
        url: &str,
        method: &str,
        headers: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Response, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("invalid URL {url}: {e}"))?;
        let mut builder = http::Request::builder().method(method).uri(uri);
        let mut has_content_type = false;
        for (name, value) in headers {
            has_content_type |= name.eq_ignore_ascii_case("content-type");
            builder = builder.header(name.as_str(), value.as_str());
        }
        let bytes = match body {
            None | Some(Value::Null) => Bytes::new(),
            Some(Value::Object(m)) if m.is_empty() && matches!(method, "GET" | "HEAD") => {
                Bytes::new()
            }
            Some(Value::String(s)) => Bytes::from(s.clone()),
            Some(other) => {
                if !has_content_type {
                    builder = builder.header("content-type", "application/json");
                }
                Bytes::from(other.to_string())
            }
        };
        let request = builder.body(Full::new(bytes)).map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("{url}: {}", crate::https::describe(&e)))?;
        let status = response.status();
        let mut out_headers = Map::new();
        for (name, value) in response.headers() {
            let entry = out_headers
                .entry(canonical_header(name.as_str()))
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(values) = entry {
                values.push(Value::String(
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ));
            }
        }
        let collected = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let text = String::from_utf8_lossy(&collected).into_owned();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Ok(Response {
            status: status.as_u16(),
            headers: out_headers,
            body,
            text,
        })
    }
}

fn output(response: Response) -> Value {
    let status_text = http::StatusCode::from_u16(response.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .to_string();
    serde_json::json!({
        "Headers": response.headers,
        "ResponseBody": response.body,
        "StatusCode": response.status,
        "StatusText": status_text,
    })
}

/// `content-type` → `Content-Type`.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn str_field<'a>(request: &'a TaskRequest, field: &str) -> Result<&'a str, StateError> {
    request
        .parameters
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| bad_parameters(request, &format!("The field '{field}' is required")))
}

fn method(request: &TaskRequest) -> Result<&'static str, StateError> {
    let given = str_field(request, "Method")?;
    METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(given))
        .copied()
        .ok_or_else(|| {
            bad_parameters(
                request,
                "The value of the field 'Method' has an invalid format",
            )
        })
}

/// `{"k": ["v1", "v2"]}` → pairs; anything else is AWS's "invalid format" failure.
fn list_map(request: &TaskRequest, field: &str) -> Result<Vec<(String, String)>, StateError> {
    let invalid = || {
        bad_parameters(
            request,
            &format!("The value of the field '{field}' has an invalid format"),
        )
    };
    let mut pairs = Vec::new();
    match request.parameters.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, values) in map {
                let Value::Array(values) = values else {
                    return Err(invalid());
                };
                if field == "Headers" && is_forbidden_header(key) {
                    return Err(bad_parameters(
                        request,
                        &format!("The header '{key}' is not allowed"),
                    ));
                }
                for v in values {
                    pairs.push((key.clone(), scalar_text(v)));
                }
            }
        }
        Some(_) => return Err(invalid()),
    }
    Ok(pairs)
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn with_query(url: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return url.to_string();
    }
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        form.append_pair(k, v);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", form.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks() -> HttpTasks {
        let mut mappings = BTreeMap::new();
        mappings.insert(
            "abc123.execute-api.us-east-1.amazonaws.com".into(),
            "http://127.0.0.1:9/".into(),
        );
        mappings.insert("api.example.com".into(), "http://127.0.0.1:8".into());
        HttpTasks::new(client(), mappings)
    }

    #[test]
    fn hosts_map_to_local_urls() {
        let t = tasks();
        assert_eq!(
            t.base_url("abc123.execute-api.us-east-1.amazonaws.com"),
            "http://127.0.0.1:9"
        );
        assert_eq!(t.base_url("other.example.com"), "https://other.example.com");
        assert_eq!(
            t.map_url("https://api.example.com/v1/x?y=1"),
            "http://127.0.0.1:8/v1/x?y=1"
        );
        assert_eq!(t.map_url("http://elsewhere/a"), "http://elsewhere/a");
    }

    #[test]
    fn forbidden_headers_include_prefixes() {
        for name in [
            "Host",
            "x-amz-date",
            "X-Amzn-Trace-Id",
            "X-Forwarded-For",
            "TE",
        ] {
            assert!(is_forbidden_header(name), "{name}");
        }
        assert!(!is_forbidden_header("Content-Type"));
    }

    #[tokio::test]
    async fn apigateway_headers_must_be_lists() {
        let request = TaskRequest {
            state_name: "Call".into(),
            resource: "arn:aws:states:::apigateway:invoke".into(),
            parameters: serde_json::json!({"ApiEndpoint": "abc123.execute-api.us-east-1.amazonaws.com",
                                           "Method": "GET", "Headers": {"k": "v"}}),
            task_token: None,
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
        };
        let err = tasks().apigateway_invoke(&request).await.unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert!(
            err.cause
                .unwrap()
                .ends_with("[The value of the field 'Headers' has an invalid format]")
        );
    }

    #[test]
    fn query_parameters_are_encoded() {
        let q = vec![("a b".to_string(), "1&2".to_string())];
        assert_eq!(with_query("http://h/p", &q), "http://h/p?a+b=1%262");
    }
}
