//! Parameter mapping expressions: the sources (`'static'`, `method.request.header.X`,
//! `integration.response.body.a.b`, `context.requestId`, `stageVariables.x`, ...) and the
//! integration request targets (`integration.request.header.X`, ...).

use crate::config::model::{IntegrationRequestTarget, ParameterSource};

/// Parses the right-hand side of a `requestParameters` / `responseParameters` entry.
pub(crate) fn parse_source(text: &str) -> Result<ParameterSource, String> {
    if text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'') {
        return Ok(ParameterSource::Static(text[1..text.len() - 1].to_string()));
    }
    let named = |prefix: &str| text.strip_prefix(prefix).filter(|n| !n.is_empty()).map(str::to_string);
    let body_path = |rest: &str| -> Option<String> {
        if rest.is_empty() {
            None
        } else if rest.starts_with('$') {
            Some(rest.to_string())
        } else {
            Some(format!("$.{rest}"))
        }
    };
    let source = if let Some(n) = named("method.request.path.") {
        ParameterSource::MethodRequestPath(n)
    } else if let Some(n) = named("method.request.querystring.") {
        ParameterSource::MethodRequestQueryString(n)
    } else if let Some(n) = named("method.request.multivaluequerystring.") {
        ParameterSource::MethodRequestMultiValueQueryString(n)
    } else if let Some(n) = named("method.request.header.") {
        ParameterSource::MethodRequestHeader(n)
    } else if let Some(n) = named("method.request.multivalueheader.") {
        ParameterSource::MethodRequestMultiValueHeader(n)
    } else if text == "method.request.body" {
        ParameterSource::MethodRequestBody(None)
    } else if let Some(rest) = text.strip_prefix("method.request.body.") {
        ParameterSource::MethodRequestBody(body_path(rest))
    } else if let Some(n) = named("integration.response.header.") {
        ParameterSource::IntegrationResponseHeader(n)
    } else if let Some(n) = named("integration.response.multivalueheader.") {
        ParameterSource::IntegrationResponseMultiValueHeader(n)
    } else if text == "integration.response.body" {
        ParameterSource::IntegrationResponseBody(None)
    } else if let Some(rest) = text.strip_prefix("integration.response.body.") {
        ParameterSource::IntegrationResponseBody(body_path(rest))
    } else if let Some(n) = named("context.") {
        ParameterSource::Context(n)
    } else if let Some(n) = named("stageVariables.") {
        ParameterSource::StageVariable(n)
    } else {
        return Err(format!(
            "`{text}` is not a parameter source ('static', method.request.*, integration.response.*, context.*, stageVariables.*)"
        ));
    };
    Ok(source)
}

/// Parses the left-hand side of an integration `requestParameters` entry.
pub(crate) fn parse_request_target(text: &str) -> Result<IntegrationRequestTarget, String> {
    let named = |prefix: &str| text.strip_prefix(prefix).filter(|n| !n.is_empty()).map(str::to_string);
    if let Some(n) = named("integration.request.header.") {
        Ok(IntegrationRequestTarget::Header(n))
    } else if let Some(n) = named("integration.request.querystring.") {
        Ok(IntegrationRequestTarget::QueryString(n))
    } else if let Some(n) = named("integration.request.multivaluequerystring.") {
        Ok(IntegrationRequestTarget::MultiValueQueryString(n))
    } else if let Some(n) = named("integration.request.path.") {
        Ok(IntegrationRequestTarget::Path(n))
    } else {
        Err(format!("`{text}` is not integration.request.{{header,querystring,multivaluequerystring,path}}.NAME"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_sources_parse() {
        use ParameterSource::*;
        let cases = [
            ("'*'", Static("*".into())),
            ("''", Static("".into())),
            ("method.request.path.id", MethodRequestPath("id".into())),
            ("method.request.querystring.q", MethodRequestQueryString("q".into())),
            ("method.request.multivalueheader.X-A", MethodRequestMultiValueHeader("X-A".into())),
            ("method.request.body", MethodRequestBody(None)),
            ("method.request.body.a.b", MethodRequestBody(Some("$.a.b".into()))),
            ("integration.response.header.Date", IntegrationResponseHeader("Date".into())),
            ("integration.response.body.errorMessage", IntegrationResponseBody(Some("$.errorMessage".into()))),
            ("context.requestId", Context("requestId".into())),
            ("stageVariables.arn", StageVariable("arn".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_source(text).unwrap(), expected, "{text}");
        }
        assert!(parse_source("method.request.cookie.x").is_err());
        assert!(parse_source("method.request.header.").is_err());
        assert!(parse_source("'unterminated").is_err());
    }

    #[test]
    fn integration_request_targets_parse() {
        assert_eq!(
            parse_request_target("integration.request.header.X-Amz-Target").unwrap(),
            IntegrationRequestTarget::Header("X-Amz-Target".into())
        );
        assert!(parse_request_target("method.request.header.X").is_err());
    }
}
