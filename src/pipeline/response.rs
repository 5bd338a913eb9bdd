//! Method response: the selected integration response's status, `responseParameters`,
//! response template chosen by `Accept` (or the integration body passed through byte for
//! byte), `$context.responseOverride`, and API Gateway's remapping of reserved headers to
//! `x-amzn-Remapped-<Name>`.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use indexmap::IndexMap;

use super::env::TemplateEnv;
use super::gateway_error::GatewayError;
use super::params::Sources;
use super::request::mime_type;
use super::select::SelectedBy;
use super::{App, EndpointResponse, GatewayRequest, GatewayResponse, RequestContext, header};
use crate::config::{IntegrationResponse, Method};
use crate::vtl;

/// Maps the integration's answer through the selected integration response.
pub(crate) fn map_response(
    app: &App,
    method: &Method,
    (rule, _by): (&IntegrationResponse, SelectedBy),
    request: &GatewayRequest,
    ctx: &RequestContext,
    env: &TemplateEnv<'_>,
    endpoint: EndpointResponse,
) -> Result<GatewayResponse, GatewayError> {
    if !method.method_responses.is_empty() && !method.method_responses.contains_key(&rule.status_code) {
        return Err(GatewayError::configuration(format!(
            "integration response selects status {} but the method declares no such response",
            rule.status_code
        )));
    }
    let mut status = StatusCode::from_u16(rule.status_code)
        .map_err(|_| GatewayError::configuration(format!("invalid status code {}", rule.status_code)))?;

    let accept = header(&request.headers, "accept");
    let body = match pick_template(&rule.response_templates, accept) {
        Some((mime, t)) if !t.source().trim().is_empty() => Bytes::from(env.render_response(t, mime, &endpoint)?),
        _ => endpoint.body.clone(),
    };

    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let sources = Sources { app, request, ctx, endpoint: Some(&endpoint) };
    for (name, source) in &rule.response_parameters {
        let name = name.strip_prefix("method.response.header.").unwrap_or(name);
        if let Some(value) = sources.resolve(source) {
            set_method_header(&mut headers, name, &value);
        }
    }
    let overrides = env.overrides()?;
    for (name, values) in &overrides.response_headers {
        set_method_header(&mut headers, name, &values.join(","));
    }
    if let Some(s) = overrides.response_status.and_then(|s| StatusCode::from_u16(s).ok()) {
        status = s;
    }
    Ok(GatewayResponse { status, headers, body })
}

/// The response template for `Accept`, as API Gateway documents it: the template of the
/// Accept MIME type; with no Accept, `application/json`; otherwise (no such template) the
/// first template.
fn pick_template<'t>(
    templates: &'t IndexMap<String, vtl::Template>,
    accept: Option<&str>,
) -> Option<(&'t str, &'t vtl::Template)> {
    let wanted = accept.map(mime_type).filter(|m| !m.is_empty());
    let by_key = |k: &str| templates.iter().find(|(t, _)| t.eq_ignore_ascii_case(k));
    match wanted {
        Some(w) => by_key(w),
        None => by_key("application/json"),
    }
    .or_else(|| templates.first())
        .map(|(k, t)| (k.as_str(), t))
}

/// Headers a method response may not set under their own name.
const REMAPPED: [&str; 14] = [
    "authorization", "connection", "content-length", "content-md5", "date", "expect", "host",
    "max-forwards", "proxy-authenticate", "server", "trailer", "upgrade", "user-agent",
    "www-authenticate",
];

/// Sets a method response header the way API Gateway does: reserved names become
/// `x-amzn-Remapped-<Name>`, `Transfer-Encoding` is dropped.
pub(crate) fn set_method_header(headers: &mut HeaderMap, name: &str, value: &str) {
    if name.eq_ignore_ascii_case("transfer-encoding") {
        return;
    }
    let name = match REMAPPED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        true => HeaderName::from_bytes(format!("x-amzn-Remapped-{name}").as_bytes()),
        false => HeaderName::from_bytes(name.as_bytes()),
    };
    if let (Ok(n), Ok(v)) = (name, HeaderValue::from_str(value)) {
        headers.insert(n, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_headers_are_remapped_and_transfer_encoding_dropped() {
        let mut h = HeaderMap::new();
        set_method_header(&mut h, "Authorization", "a");
        set_method_header(&mut h, "Content-Type", "text/html");
        set_method_header(&mut h, "Transfer-Encoding", "chunked");
        set_method_header(&mut h, "Date", "d");
        assert_eq!(h["x-amzn-remapped-authorization"], "a");
        assert_eq!(h["x-amzn-remapped-date"], "d");
        assert_eq!(h["content-type"], "text/html");
        assert!(h.get("transfer-encoding").is_none());
        assert!(h.get("authorization").is_none());
    }

    #[test]
    fn template_by_accept_then_json_then_first() {
        let t = |s: &str| vtl::Template::parse("t", s).unwrap();
        let mut m = IndexMap::new();
        m.insert("text/html".to_string(), t("html"));
        m.insert("application/json".to_string(), t("json"));
        assert_eq!(pick_template(&m, Some("text/html; q=1")).unwrap().0, "text/html");
        assert_eq!(pick_template(&m, None).unwrap().0, "application/json");
        assert_eq!(pick_template(&m, Some("application/xml")).unwrap().0, "text/html");
        m.shift_remove("application/json");
        assert_eq!(pick_template(&m, Some("application/xml")).unwrap().0, "text/html");
        assert!(pick_template(&IndexMap::new(), None).is_none());
    }
}
