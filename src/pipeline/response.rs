//! Method response: the selected integration response's status, `responseParameters`,
//! response template chosen by `Accept` (or the integration body passed through byte for
//! byte), `$context.responseOverride`, and API Gateway's remapping of reserved headers to
//! `x-amzn-Remapped-<Name>`.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use indexmap::IndexMap;

use super::env::TemplateEnv;
use super::gateway_error::GatewayError;
use super::params::Sources;
use super::request::mime_type;
use super::select::SelectedBy;
use super::{App, EndpointResponse, GatewayRequest, GatewayResponse, RequestContext, header};
use crate::config::{IntegrationResponse, Method, ParameterSource};
use crate::vtl;

/// One `responseParameters` entry of an integration response, prepared when the app is
/// built: the header name parsed and remapped (`None` when it is dropped, as
/// `Transfer-Encoding`, or not a valid name) and a `'static'` value made a header value.
#[derive(Clone, Debug)]
pub(crate) struct ResponseHeader {
    name: Option<HeaderName>,
    fixed: Option<HeaderValue>,
}

/// The prepared [`ResponseHeader`]s of `rule`, in its `responseParameters` order.
pub(crate) fn prepare(rule: &IntegrationResponse) -> Vec<ResponseHeader> {
    rule.response_parameters
        .iter()
        .map(|(name, source)| ResponseHeader {
            name: method_header_name(name.strip_prefix("method.response.header.").unwrap_or(name)),
            fixed: match source {
                ParameterSource::Static(v) => HeaderValue::from_str(v).ok(),
                _ => None,
            },
        })
        .collect()
}

/// Maps the integration's answer through the selected integration response. `prepared` is
/// [`prepare`] of the rule.
#[allow(clippy::too_many_arguments)]
pub(crate) fn map_response(
    app: &App,
    method: &Method,
    (rule, _by): (&IntegrationResponse, SelectedBy),
    prepared: &[ResponseHeader],
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
        Some((mime, t)) if !t.source().trim().is_empty() => env.render_response(t, mime, &endpoint)?,
        _ => endpoint.body.clone(),
    };

    let mut headers = HeaderMap::with_capacity(4 + rule.response_parameters.len());
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let sources = Sources { app, request, ctx, endpoint: Some(&endpoint) };
    for ((_, source), header) in rule.response_parameters.iter().zip(prepared) {
        let Some(name) = &header.name else { continue };
        let value = match &header.fixed {
            Some(v) => Some(v.clone()),
            None => sources.resolve(source).and_then(|v| HeaderValue::from_str(&v).ok()),
        };
        if let Some(v) = value {
            headers.insert(name.clone(), v);
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
    if let (Some(n), Ok(v)) = (method_header_name(name), HeaderValue::from_str(value)) {
        headers.insert(n, v);
    }
}

/// The header a method response sets for `name`: reserved names remapped to
/// `x-amzn-Remapped-<Name>`, `None` for `Transfer-Encoding` (dropped) or an invalid name.
fn method_header_name(name: &str) -> Option<HeaderName> {
    if name.eq_ignore_ascii_case("transfer-encoding") {
        return None;
    }
    match REMAPPED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        true => HeaderName::from_bytes(format!("x-amzn-Remapped-{name}").as_bytes()).ok(),
        false => HeaderName::from_bytes(name.as_bytes()).ok(),
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
