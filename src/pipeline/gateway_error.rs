//! Every failure on the request path becomes an API Gateway *gateway response*: one table of
//! the 21 response types with their default status, `x-amzn-ErrorType` and public message,
//! overridable per type from `x-amazon-apigateway-gateway-responses`.
//!
//! The default body is `{"message":$context.error.messageString}`. As in API Gateway, the
//! templates of gateway responses are not VTL: `$context.*` and `$stageVariables.*` are
//! substituted as plain text. Types without an override fall back to an override of
//! `DEFAULT_4XX`/`DEFAULT_5XX` (by their status class), then to the built-in default.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use indexmap::IndexMap;

use super::GatewayResponse;
use crate::config::{self, ParameterSource};

pub use crate::config::GatewayResponseType;

use GatewayResponseType as T;

/// One row of the table: type, `x-amzn-ErrorType`, default message.
struct Row(T, &'static str, &'static str);

/// The table (statuses live with the type in `config`). Error types and messages for 403
/// Missing Authentication Token, 403 Forbidden, 400 validation and 500 configuration errors
/// are recorded from AWS; the others follow API Gateway's naming.
const TABLE: [Row; 21] = [
    Row(T::AccessDenied, "AccessDeniedException", "Forbidden"),
    Row(T::ApiConfigurationError, "InternalServerErrorException", "Internal server error"),
    Row(T::AuthorizerConfigurationError, "AuthorizerConfigurationException", "Internal server error"),
    Row(T::AuthorizerFailure, "AuthorizerFailureException", "Internal server error"),
    Row(T::BadRequestBody, "BadRequestException", "Invalid request body"),
    Row(T::BadRequestParameters, "BadRequestException", "Missing required request parameters"),
    Row(T::Default4xx, "BadRequestException", "Bad Request"),
    Row(T::Default5xx, "InternalServerErrorException", "Internal server error"),
    Row(T::ExpiredToken, "ExpiredTokenException", "The security token included in the request is expired"),
    Row(T::IntegrationFailure, "InternalServerErrorException", "Internal server error"),
    Row(T::IntegrationTimeout, "InternalServerErrorException", "Endpoint request timed out"),
    Row(T::InvalidApiKey, "ForbiddenException", "Forbidden"),
    Row(T::InvalidSignature, "InvalidSignatureException", "Invalid request signature"),
    Row(T::MissingAuthenticationToken, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    Row(T::QuotaExceeded, "LimitExceededException", "Limit Exceeded"),
    Row(T::RequestTooLarge, "RequestEntityTooLargeException", "Request Too Long"),
    Row(T::ResourceNotFound, "NotFoundException", "Not Found"),
    Row(T::Throttled, "TooManyRequestsException", "Too Many Requests"),
    Row(T::Unauthorized, "UnauthorizedException", "Unauthorized"),
    Row(T::UnsupportedMediaType, "UnsupportedMediaTypeException", "Unsupported Media Type"),
    Row(T::WafFiltered, "WafFilteredException", "Forbidden"),
];

fn row(t: GatewayResponseType) -> &'static Row {
    TABLE.iter().find(|r| r.0 == t).unwrap_or(&TABLE[7])
}

/// The status a type answers with when nothing overrides it.
pub fn default_status(t: GatewayResponseType) -> StatusCode {
    match t.default_status() {
        Some(s) => StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        None if t == T::Default4xx => StatusCode::BAD_REQUEST,
        None => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The `x-amzn-ErrorType` header value of a type.
pub fn error_type(t: GatewayResponseType) -> &'static str {
    row(t).1
}

/// The message a client sees by default (`$context.error.message`).
pub fn default_message(t: GatewayResponseType) -> &'static str {
    row(t).2
}

/// `DEFAULT_4XX` or `DEFAULT_5XX`: the type an unconfigured type falls back to.
pub fn fallback(t: GatewayResponseType) -> GatewayResponseType {
    if default_status(t).is_server_error() { T::Default5xx } else { T::Default4xx }
}

/// The default template of every type (recorded from AWS).
pub const DEFAULT_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

/// A failure on the request path, as the client will see it: a response type, the public
/// message (`$context.error.message`), and for the log only, the detail.
#[derive(Clone, Debug)]
pub struct GatewayError {
    pub response_type: GatewayResponseType,
    pub message: String,
    /// For the log (template diagnostics, backend errors); never sent to the client.
    pub detail: Option<String>,
    /// `$context.error.validationErrorString` for body validation failures.
    pub validation_error: Option<String>,
}

impl GatewayError {
    /// A failure with the type's default message.
    pub fn new(response_type: GatewayResponseType) -> GatewayError {
        GatewayError {
            response_type,
            message: default_message(response_type).to_string(),
            detail: None,
            validation_error: None,
        }
    }
    /// With a specific public message.
    pub fn with_message(mut self, message: impl Into<String>) -> GatewayError {
        self.message = message.into();
        self
    }
    /// With a detail for the log.
    pub fn with_detail(mut self, detail: impl Into<String>) -> GatewayError {
        self.detail = Some(detail.into());
        self
    }
    /// 403 `Missing Authentication Token`: no route for this method and path.
    pub fn missing_authentication_token() -> GatewayError {
        GatewayError::new(T::MissingAuthenticationToken)
    }
    /// 500 `Internal server error`: a template or mapping failed, or no rule matched.
    pub fn configuration(detail: impl Into<String>) -> GatewayError {
        GatewayError::new(T::ApiConfigurationError).with_detail(detail)
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.response_type, self.message)?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

impl std::error::Error for GatewayError {}

/// Resolves a parameter source (`context.requestId`, `method.request.header.X`, ...) for
/// the current request.
pub type Resolve<'a> = &'a dyn Fn(&ParameterSource) -> Option<String>;

/// Builds the client response for `error` from the API's overrides (`x-amazon-apigateway-
/// gateway-responses`) and the built-in table.
pub fn respond(
    overrides: &IndexMap<GatewayResponseType, config::GatewayResponse>,
    error: &GatewayError,
    accept: Option<&str>,
    resolve: Resolve<'_>,
) -> GatewayResponse {
    let t = error.response_type;
    let chosen = overrides.get(&t).or_else(|| overrides.get(&fallback(t)));
    let status = chosen
        .and_then(|o| o.status_code)
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or_else(|| default_status(t));
    let template = chosen
        .filter(|o| !o.response_templates.is_empty())
        .map(|o| pick_template(&o.response_templates, accept))
        .unwrap_or(DEFAULT_TEMPLATE);
    let body = substitute(template, error, resolve);
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(o) = chosen {
        for (name, source) in &o.response_parameters {
            let name = name.strip_prefix("gatewayresponse.header.").unwrap_or(name);
            let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(name.as_bytes()),
                resolve(source).map(|v| HeaderValue::from_str(&v)),
            ) else {
                continue;
            };
            headers.insert(name, value);
        }
    }
    headers.insert(
        HeaderName::from_static("x-amzn-errortype"),
        HeaderValue::from_static(error_type(t)),
    );
    GatewayResponse { status, headers, body: Bytes::from(body) }
}

fn pick_template<'a>(templates: &'a IndexMap<String, String>, accept: Option<&str>) -> &'a str {
    let wanted = accept.map(super::request::mime_type).unwrap_or("application/json");
    templates
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(wanted))
        .or_else(|| templates.iter().find(|(k, _)| *k == "application/json"))
        .or(templates.first())
        .map(|(_, v)| v.as_str())
        .unwrap_or(DEFAULT_TEMPLATE)
}

/// Plain substitution of `$context.error.*`, `$context.X`, `$stageVariables.X` (with or
/// without braces). Unknown references render as an empty string.
fn substitute(template: &str, error: &GatewayError, resolve: Resolve<'_>) -> String {
    let mut out = String::with_capacity(template.len() + error.message.len() + 8);
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (braced, name_start) = match after.strip_prefix('{') {
            Some(inner) => (true, inner),
            None => (false, after),
        };
        let len = name_start
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-'))
            .unwrap_or(name_start.len());
        let mut name = &name_start[..len];
        // A trailing '.' belongs to the text (`$context.requestId.`).
        while name.ends_with('.') {
            name = &name[..name.len() - 1];
        }
        let closes = !braced || name_start[name.len()..].starts_with('}');
        let known = name.starts_with("context.") || name.starts_with("stageVariables.");
        if name.is_empty() || !closes || !known {
            out.push('$');
            rest = after;
            continue;
        }
        let value = match name {
            "context.error.message" => Some(error.message.clone()),
            "context.error.messageString" => Some(json_string(&error.message)),
            "context.error.responseType" => Some(error.response_type.as_str().to_string()),
            "context.error.validationErrorString" => error.validation_error.clone(),
            other => match other.split_once('.') {
                Some(("context", rest)) => resolve(&ParameterSource::Context(rest.to_string())),
                Some((_, rest)) => resolve(&ParameterSource::StageVariable(rest.to_string())),
                None => None,
            },
        };
        out.push_str(value.as_deref().unwrap_or(""));
        let consumed = name.len() + if braced { 2 } else { 0 };
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &ParameterSource) -> Option<String> {
        None
    }

    fn overrides(list: Vec<config::GatewayResponse>) -> IndexMap<GatewayResponseType, config::GatewayResponse> {
        list.into_iter().map(|g| (g.response_type, g)).collect()
    }

    #[test]
    fn every_type_has_a_row_and_a_status() {
        for t in GatewayResponseType::ALL {
            assert_eq!(row(*t).0, *t);
            assert_eq!(default_status(*t).as_u16(), t.default_status().unwrap_or(default_status(*t).as_u16()));
        }
        assert_eq!(default_status(T::Default4xx), StatusCode::BAD_REQUEST);
        assert_eq!(default_status(T::Default5xx), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn missing_authentication_token_default_response() {
        let r = respond(&IndexMap::new(), &GatewayError::missing_authentication_token(), None, &none);
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.body, "{\"message\":\"Missing Authentication Token\"}");
        assert_eq!(r.headers["x-amzn-ErrorType"], "MissingAuthenticationTokenException");
    }

    #[test]
    fn override_status_only_keeps_default_template() {
        let o = overrides(vec![config::GatewayResponse {
            response_type: T::MissingAuthenticationToken,
            status_code: Some(404),
            response_parameters: vec![],
            response_templates: IndexMap::new(),
        }]);
        let r = respond(&o, &GatewayError::missing_authentication_token(), None, &none);
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.body, "{\"message\":\"Missing Authentication Token\"}");
    }

    #[test]
    fn default_4xx_override_applies_to_unconfigured_4xx_types_only() {
        let o = overrides(vec![config::GatewayResponse {
            response_type: T::Default4xx,
            status_code: None,
            response_parameters: vec![(
                "gatewayresponse.header.Access-Control-Allow-Origin".into(),
                ParameterSource::Static("*".into()),
            )],
            response_templates: [(
                "application/json".to_string(),
                "{\"error\":$context.error.messageString,\"id\":\"$context.requestId\"}".to_string(),
            )]
            .into_iter()
            .collect(),
        }]);
        let resolve = |p: &ParameterSource| match p {
            ParameterSource::Static(s) => Some(s.clone()),
            ParameterSource::Context(k) if k == "requestId" => Some("r-1".to_string()),
            _ => None,
        };
        let r = respond(&o, &GatewayError::new(T::BadRequestBody), None, &resolve);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.body, "{\"error\":\"Invalid request body\",\"id\":\"r-1\"}");
        assert_eq!(r.headers["access-control-allow-origin"], "*");
        let r = respond(&o, &GatewayError::configuration("x"), None, &resolve);
        assert_eq!(r.body, "{\"message\":\"Internal server error\"}");
        assert!(r.headers.get("access-control-allow-origin").is_none());
    }

    #[test]
    fn substitution_leaves_unknown_dollars_alone() {
        let e = GatewayError::new(T::Throttled);
        let out = substitute("$5 ${context.error.message} $context.error.responseType. $x", &e, &none);
        assert_eq!(out, "$5 Too Many Requests THROTTLED. $x");
    }
}
