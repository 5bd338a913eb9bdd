//! Method request (API key, required parameters, body model) and integration request
//! (template chosen by Content-Type MIME, passthrough behaviour, `requestParameters`,
//! `$context.requestOverride`).

use http::{HeaderMap, HeaderName, HeaderValue};

use super::env::TemplateEnv;
use super::gateway_error::{GatewayError, GatewayResponseType as T};
use super::integration::{EndpointRequest, aws_headers};
use super::params::Sources;
use super::{App, GatewayRequest, RequestContext, header};
use crate::config::{
    ApiKeySource, Integration, IntegrationRequestTarget, IntegrationType, Method, ParameterLocation,
    PassthroughBehavior,
};

/// The MIME type of a `Content-Type` (or `Accept`) value: `application/json; charset=UTF-8`
/// → `application/json`.
pub(crate) fn mime_type(value: &str) -> &str {
    value.split([';', ',']).next().unwrap_or("").trim()
}

/// The request's MIME type; absent means `application/json`, as in API Gateway.
fn content_type(request: &GatewayRequest) -> &str {
    header(&request.headers, "content-type").map(mime_type).filter(|m| !m.is_empty()).unwrap_or("application/json")
}

// === method request ===

/// API key, then required parameters, then the body model, in API Gateway's order.
pub(crate) fn check_method_request(
    app: &App,
    method: &Method,
    request: &GatewayRequest,
    ctx: &mut RequestContext,
) -> Result<(), GatewayError> {
    let api = app.api();
    if method.api_key_required {
        let key = match api.api_key_source {
            ApiKeySource::Header => header(&request.headers, "x-api-key"),
            ApiKeySource::Authorizer => None,
        };
        match key {
            Some(k) if api.api_keys.iter().any(|a| a == k) => ctx.api_key = Some(k.to_string()),
            _ => return Err(GatewayError::new(T::InvalidApiKey)),
        }
    }
    let Some(validator) = &method.request_validator else {
        return Ok(());
    };
    if validator.validate_request_parameters {
        let missing: Vec<&str> = method
            .required_parameters()
            .filter(|p| {
                let value = match p.location {
                    ParameterLocation::Header => header(&request.headers, &p.name),
                    ParameterLocation::Path => ctx.path_param(&p.name),
                    ParameterLocation::QueryString => ctx.query_param(&p.name),
                };
                value.is_none_or(|v| v.trim().is_empty())
            })
            .map(|p| p.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(GatewayError::new(T::BadRequestParameters)
                .with_message(format!("Missing required request parameters: [{}]", missing.join(", "))));
        }
    }
    if validator.validate_request_body {
        let mime = content_type(request);
        let model = method
            .request_models
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(mime))
            .or_else(|| method.request_models.iter().find(|(k, _)| *k == "$default"))
            .map(|(_, m)| m);
        if let Some(model) = model {
            let body: Result<serde_json::Value, _> = if request.body.iter().all(u8::is_ascii_whitespace) {
                Ok(serde_json::Value::Object(Default::default()))
            } else {
                serde_json::from_slice(&request.body)
            };
            let problems = match &body {
                Ok(b) if model.is_valid(b) => None,
                Ok(b) => Some(model.validation_errors(b)),
                Err(e) => Some(vec![format!("not JSON: {e}")]),
            };
            if let Some(problems) = problems {
                let mut error = GatewayError::new(T::BadRequestBody).with_detail(problems.join("; "));
                error.validation_error = Some(format!("[{}]", problems.join(", ")));
                return Err(error);
            }
        }
    }
    Ok(())
}

// === integration request ===

/// Headers API Gateway refuses to map onto an integration request (500 at invoke time).
fn forbidden_header(kind: &IntegrationType, name: &str) -> bool {
    const ALWAYS: [&str; 2] = ["content-length", "transfer-encoding"];
    const AWS: [&str; 5] = ["authorization", "connection", "expect", "proxy-authenticate", "te"];
    let name = name.to_ascii_lowercase();
    ALWAYS.contains(&name.as_str())
        || (matches!(kind, IntegrationType::Aws { .. } | IntegrationType::Lambda { .. }) && AWS.contains(&name.as_str()))
}

/// Builds the endpoint request: body from the template (or passthrough), then parameter
/// mappings, then the template's `requestOverride`s.
pub(crate) fn map_request(
    app: &App,
    integration: &Integration,
    request: &GatewayRequest,
    ctx: &RequestContext,
    env: &TemplateEnv<'_>,
) -> Result<EndpointRequest, GatewayError> {
    let mime = content_type(request);
    let templates = &integration.request_templates;
    let template = templates.iter().find(|(k, _)| k.eq_ignore_ascii_case(mime)).map(|(_, t)| t);
    let body = match template {
        Some(t) => env.render_request(t, mime)?,
        None => match integration.passthrough_behavior {
            PassthroughBehavior::WhenNoMatch => request.body.clone(),
            PassthroughBehavior::WhenNoTemplates if templates.is_empty() => request.body.clone(),
            _ => return Err(GatewayError::new(T::UnsupportedMediaType)),
        },
    };

    let sources = Sources { app, request, ctx, endpoint: None };
    let mut headers = HeaderMap::new();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut path: Vec<(String, String)> = Vec::new();
    for (target, source) in &integration.request_parameters {
        if let IntegrationRequestTarget::Header(name) = target
            && forbidden_header(&integration.kind, name) {
                return Err(GatewayError::configuration(format!(
                    "integration.request.header.{name} cannot be mapped"
                )));
            }
        let Some(value) = sources.resolve(source) else {
            continue;
        };
        match target {
            IntegrationRequestTarget::Header(name) => set_header(&mut headers, name, &value)?,
            IntegrationRequestTarget::QueryString(name) => query.push((name.clone(), value)),
            IntegrationRequestTarget::MultiValueQueryString(name) => {
                query.extend(value.split(',').map(|v| (name.clone(), v.to_string())))
            }
            IntegrationRequestTarget::Path(name) => path.push((name.clone(), value)),
        }
    }
    let overrides = env.overrides()?;
    for (name, values) in &overrides.request_headers {
        set_header(&mut headers, name, &values.join(","))?;
    }
    for (name, values) in overrides.request_querystring {
        query.retain(|(k, _)| *k != name);
        query.extend(values.into_iter().map(|v| (name.clone(), v)));
    }
    for (name, value) in overrides.request_path {
        path.retain(|(k, _)| *k != name);
        path.push((name, value));
    }

    let (uri, method) = match &integration.kind {
        IntegrationType::Aws { service, region, action } => {
            for (k, v) in aws_headers(action).iter() {
                headers.entry(k).or_insert_with(|| v.clone());
            }
            (format!("https://{service}.{region}.amazonaws.com/?Action={action}"), "POST".to_string())
        }
        IntegrationType::Lambda { region, function_arn } => {
            (super::integration::lambda_uri(app, region, function_arn), "POST".to_string())
        }
        IntegrationType::Mock => (String::new(), request.method.to_string()),
        IntegrationType::Http { uri, http_method } => {
            let method = if http_method.eq_ignore_ascii_case("ANY") {
                request.method.to_string()
            } else {
                http_method.to_ascii_uppercase()
            };
            (http_uri(uri, &path, &query), method)
        }
    };
    if matches!(integration.kind, IntegrationType::Http { .. }) && !headers.contains_key("content-type") {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(EndpointRequest { uri, method, headers, body })
}

fn set_header(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), GatewayError> {
    let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
        return Err(GatewayError::configuration(format!("invalid integration request header `{name}`")));
    };
    headers.insert(n, v);
    Ok(())
}

/// Fills `{name}` placeholders of an http integration URI and appends the query string.
fn http_uri(template: &str, path: &[(String, String)], query: &[(String, String)]) -> String {
    let mut uri = template.to_string();
    for (name, value) in path {
        let encoded = percent_encoding::utf8_percent_encode(value, PATH_SEGMENT).to_string();
        uri = uri.replace(&format!("{{{name}}}"), &encoded);
    }
    if !query.is_empty() {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in query {
            q.append_pair(k, v);
        }
        uri.push(if uri.contains('?') { '&' } else { '?' });
        uri.push_str(&q.finish());
    }
    uri
}

const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_type_drops_parameters() {
        assert_eq!(mime_type("application/json; charset=UTF-8"), "application/json");
        assert_eq!(mime_type("text/html,application/xhtml+xml"), "text/html");
        assert_eq!(mime_type(" text/plain "), "text/plain");
    }

    #[test]
    fn forbidden_headers_depend_on_integration_type() {
        let aws = IntegrationType::Aws { service: "states".into(), region: "r".into(), action: "StartExecution".into() };
        let http = IntegrationType::Http { uri: "http://x".into(), http_method: "GET".into() };
        assert!(forbidden_header(&aws, "Authorization"));
        assert!(forbidden_header(&aws, "Content-Length"));
        assert!(!forbidden_header(&http, "Authorization"));
        assert!(forbidden_header(&http, "Transfer-Encoding"));
        assert!(!forbidden_header(&aws, "X-Custom"));
    }

    #[test]
    fn http_uri_fills_placeholders_and_query() {
        let uri = http_uri(
            "http://h/pets/{id}",
            &[("id".into(), "a b".into())],
            &[("q".into(), "x&y".into())],
        );
        assert_eq!(uri, "http://h/pets/a%20b?q=x%26y");
    }
}
