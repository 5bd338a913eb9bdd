//! Parameter mapping expressions (`requestParameters`, `responseParameters`, gateway
//! response parameters): where each [`ParameterSource`] reads its value from.

use http::HeaderMap;

use super::{App, EndpointResponse, GatewayRequest, RequestContext};
use crate::config::ParameterSource;

/// What a mapping expression can read for one request.
pub(crate) struct Sources<'a> {
    pub app: &'a App,
    pub request: &'a GatewayRequest,
    pub ctx: &'a RequestContext,
    /// The integration's answer, on the response side only.
    pub endpoint: Option<&'a EndpointResponse>,
}

impl Sources<'_> {
    /// The value of `source`, or `None` when it is absent (the mapping is then skipped).
    pub fn resolve(&self, source: &ParameterSource) -> Option<String> {
        use ParameterSource as P;
        match source {
            P::Static(s) => Some(s.clone()),
            P::MethodRequestPath(n) => self.ctx.path_param(n).map(str::to_string),
            P::MethodRequestQueryString(n) => self.ctx.query_param(n).map(str::to_string),
            P::MethodRequestMultiValueQueryString(n) => {
                let all: Vec<&str> =
                    self.ctx.query.iter().filter(|(k, _)| k == n).map(|(_, v)| v.as_str()).collect();
                (!all.is_empty()).then(|| all.join(","))
            }
            P::MethodRequestHeader(n) => last_header(&self.request.headers, n),
            P::MethodRequestMultiValueHeader(n) => all_headers(&self.request.headers, n),
            P::MethodRequestBody(path) => body_value(&self.request.body, path.as_deref()),
            P::IntegrationResponseHeader(n) => self.endpoint.and_then(|e| last_header(&e.headers, n)),
            P::IntegrationResponseMultiValueHeader(n) => {
                self.endpoint.and_then(|e| all_headers(&e.headers, n))
            }
            P::IntegrationResponseBody(path) => self.endpoint.and_then(|e| {
                let body = e.mapping_body.as_ref().filter(|_| path.is_some()).unwrap_or(&e.body);
                body_value(body, path.as_deref())
            }),
            P::Context(name) => self.ctx.get(self.request, name),
            P::StageVariable(name) => self.app.api().stage_variables.get(name).cloned(),
        }
    }
}

fn last_header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).next_back().map(str::to_string)
}

fn all_headers(headers: &HeaderMap, name: &str) -> Option<String> {
    let all: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
    (!all.is_empty()).then(|| all.join(","))
}

/// `body` whole (`None`), or the value at a JSONPath: strings raw, other values as JSON.
fn body_value(body: &[u8], path: Option<&str>) -> Option<String> {
    let Some(path) = path else {
        return Some(String::from_utf8_lossy(body).into_owned());
    };
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    let path = if path.starts_with('$') { path.to_string() } else { format!("$.{path}") };
    let query = serde_json_path::JsonPath::parse(&path).ok()?;
    let found = query.query(&doc).exactly_one().ok()?;
    match found {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_json_path_returns_raw_strings_and_json_for_the_rest() {
        let body = br#"{"a":{"b":"x","n":[1,2]},"e":null}"#;
        assert_eq!(body_value(body, Some("$.a.b")).as_deref(), Some("x"));
        assert_eq!(body_value(body, Some("a.n")).as_deref(), Some("[1,2]"));
        assert_eq!(body_value(body, Some("$.missing")), None);
        assert_eq!(body_value(body, Some("$.e")), None);
        assert_eq!(body_value(b"not json", Some("$.a")), None);
        assert_eq!(body_value(b"raw", None).as_deref(), Some("raw"));
    }

    #[test]
    fn repeated_headers_last_wins_and_multivalue_joins() {
        let mut h = HeaderMap::new();
        h.append("x-a", "1".parse().unwrap());
        h.append("x-a", "2".parse().unwrap());
        assert_eq!(last_header(&h, "X-A").as_deref(), Some("2"));
        assert_eq!(all_headers(&h, "x-a").as_deref(), Some("1,2"));
        assert_eq!(all_headers(&h, "x-b"), None);
    }
}
