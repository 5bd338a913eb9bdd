//! `x-amazon-apigateway-integration`: type and URI, request templates, passthrough
//! behaviour, request parameters, timeout, and the integration responses (selection
//! patterns compiled, response parameters and templates parsed).

use indexmap::IndexMap;
use serde_json::Value;
use std::time::Duration;

use super::Builder;
use crate::config::diagnostic::{Diagnostic, ErrorKind};
use crate::config::document::join_pointer;
use crate::config::lint;
use crate::config::model::*;
use crate::config::parameters::{parse_request_target, parse_source};
use crate::config::selection::SelectionPattern;
use crate::vtl;

const STEP_FUNCTIONS_ACTIONS: &[&str] = &[
    "CreateActivity",
    "CreateStateMachine",
    "CreateStateMachineAlias",
    "DeleteActivity",
    "DeleteStateMachine",
    "DeleteStateMachineAlias",
    "DeleteStateMachineVersion",
    "DescribeActivity",
    "DescribeExecution",
    "DescribeMapRun",
    "DescribeStateMachine",
    "DescribeStateMachineAlias",
    "DescribeStateMachineForExecution",
    "GetActivityTask",
    "GetExecutionHistory",
    "ListActivities",
    "ListExecutions",
    "ListMapRuns",
    "ListStateMachineAliases",
    "ListStateMachineVersions",
    "ListStateMachines",
    "ListTagsForResource",
    "PublishStateMachineVersion",
    "RedriveExecution",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "SendTaskSuccess",
    "StartExecution",
    "StartSyncExecution",
    "StopExecution",
    "TagResource",
    "TestState",
    "UntagResource",
    "UpdateMapRun",
    "UpdateStateMachine",
    "UpdateStateMachineAlias",
    "ValidateStateMachineDefinition",
];

impl Builder<'_> {
    pub(super) fn integration(&mut self, v: &Value, ptr: &str, route: &str) -> Option<Integration> {
        if !v.is_object() {
            self.error(
                ErrorKind::InvalidValue,
                ptr,
                "x-amazon-apigateway-integration must be a mapping",
            );
            return None;
        }
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let kind = match text("type").map(|t| t.to_ascii_lowercase()).as_deref() {
            Some("aws") => self.aws_uri(text("uri"), &join_pointer(ptr, "uri")),
            Some("mock") => Some(IntegrationType::Mock),
            Some("http") => match text("uri") {
                Some(uri) if uri.starts_with("http://") || uri.starts_with("https://") => {
                    Some(IntegrationType::Http {
                        uri,
                        http_method: text("httpMethod")
                            .unwrap_or_else(|| "GET".into())
                            .to_ascii_uppercase(),
                    })
                }
                Some(uri) => {
                    self.error(
                        ErrorKind::Uri,
                        &join_pointer(ptr, "uri"),
                        format!("`{uri}` is not an http(s) URL"),
                    );
                    None
                }
                None => {
                    self.error(ErrorKind::Missing, ptr, "an http integration needs a `uri`");
                    None
                }
            },
            Some(other @ ("aws_proxy" | "http_proxy")) => {
                self.error(ErrorKind::Unsupported, &join_pointer(ptr, "type"), format!("integration type `{other}` is not supported (stepgate serves non-proxy aws, http and mock integrations)"));
                None
            }
            Some(other) => {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer(ptr, "type"),
                    format!("unknown integration type `{other}`"),
                );
                None
            }
            None => {
                self.error(ErrorKind::Missing, ptr, "the integration has no `type`");
                None
            }
        };
        let request_templates = self.templates(
            v.get("requestTemplates"),
            &join_pointer(ptr, "requestTemplates"),
            route,
            "request",
        );
        let passthrough_behavior = match text("passthroughBehavior")
            .map(|t| t.to_ascii_uppercase())
            .as_deref()
        {
            None | Some("WHEN_NO_MATCH") => PassthroughBehavior::WhenNoMatch,
            Some("WHEN_NO_TEMPLATES") => PassthroughBehavior::WhenNoTemplates,
            Some("NEVER") => PassthroughBehavior::Never,
            Some(other) => {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer(ptr, "passthroughBehavior"),
                    format!("`{other}` is not WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER"),
                );
                PassthroughBehavior::WhenNoMatch
            }
        };
        let mut request_parameters = Vec::new();
        if let Some(map) = v.get("requestParameters").and_then(Value::as_object) {
            let base = join_pointer(ptr, "requestParameters");
            for (target, source) in map {
                let p = join_pointer(&base, target);
                let target = match parse_request_target(target) {
                    Ok(t) => t,
                    Err(message) => {
                        self.error(ErrorKind::InvalidValue, &p, message);
                        continue;
                    }
                };
                match source.as_str().map(parse_source) {
                    Some(Ok(
                        ParameterSource::IntegrationResponseHeader(_)
                        | ParameterSource::IntegrationResponseMultiValueHeader(_)
                        | ParameterSource::IntegrationResponseBody(_),
                    )) => {
                        self.error(
                            ErrorKind::InvalidValue,
                            &p,
                            "an integration request cannot read `integration.response.*`",
                        );
                    }
                    Some(Ok(s)) => request_parameters.push((target, s)),
                    Some(Err(message)) => self.error(ErrorKind::InvalidValue, &p, message),
                    None => self.error(
                        ErrorKind::InvalidValue,
                        &p,
                        "a parameter mapping must be a string",
                    ),
                }
            }
        }
        let timeout = match v.get("timeoutInMillis") {
            None => self.default_timeout,
            Some(t) => {
                let millis = t
                    .as_u64()
                    .or_else(|| t.as_str().and_then(|s| s.parse().ok()));
                match millis {
                    Some(ms) if ms >= 50 => Duration::from_millis(ms),
                    _ => {
                        self.error(
                            ErrorKind::InvalidValue,
                            &join_pointer(ptr, "timeoutInMillis"),
                            "timeoutInMillis must be a whole number of milliseconds, at least 50",
                        );
                        self.default_timeout
                    }
                }
            }
        };
        let content_handling = self.content_handling(v, ptr);
        let responses = self.integration_responses(
            v.get("responses"),
            &join_pointer(ptr, "responses"),
            kind.as_ref(),
            route,
        );
        let kind = kind?;
        Some(Integration {
            kind,
            credentials: text("credentials"),
            request_templates,
            passthrough_behavior,
            request_parameters,
            responses,
            timeout,
            content_handling,
        })
    }

    pub(super) fn content_handling(&mut self, v: &Value, ptr: &str) -> Option<ContentHandling> {
        match v.get("contentHandling").and_then(Value::as_str) {
            None => None,
            Some("CONVERT_TO_BINARY") => Some(ContentHandling::ConvertToBinary),
            Some("CONVERT_TO_TEXT") => Some(ContentHandling::ConvertToText),
            Some(other) => {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer(ptr, "contentHandling"),
                    format!("`{other}` is not CONVERT_TO_BINARY or CONVERT_TO_TEXT"),
                );
                None
            }
        }
    }

    pub(super) fn aws_uri(&mut self, uri: Option<String>, ptr: &str) -> Option<IntegrationType> {
        let Some(uri) = uri else {
            self.error(ErrorKind::Missing, ptr, "an aws integration needs a `uri`");
            return None;
        };
        match parse_aws_uri(&uri) {
            Ok(kind) => {
                if let IntegrationType::Aws {
                    service, action, ..
                } = &kind
                {
                    if service != "states" {
                        self.warn(ErrorKind::Unsupported, ptr, format!("stepgate calls only Step Functions (`states`); requests to this `{service}` integration will fail with 500"));
                    }
                    if service == "states" && !STEP_FUNCTIONS_ACTIONS.contains(&action.as_str()) {
                        self.error(
                            ErrorKind::Uri,
                            ptr,
                            format!("`{action}` is not a Step Functions action"),
                        );
                        return None;
                    }
                }
                Some(kind)
            }
            Err(message) => {
                self.error(ErrorKind::Uri, ptr, message);
                None
            }
        }
    }

    pub(super) fn templates(
        &mut self,
        v: Option<&Value>,
        ptr: &str,
        route: &str,
        which: &str,
    ) -> IndexMap<String, vtl::Template> {
        let mut out = IndexMap::new();
        let Some(v) = v else { return out };
        let Some(map) = v.as_object() else {
            self.error(
                ErrorKind::InvalidValue,
                ptr,
                "templates must be a mapping of content type to template",
            );
            return out;
        };
        for (mime, source) in map {
            let tptr = join_pointer(ptr, mime);
            let source = match source {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                _ => {
                    self.error(
                        ErrorKind::InvalidValue,
                        &tptr,
                        "a template must be a string",
                    );
                    continue;
                }
            };
            let name = format!("{}#{}", self.doc.path.display(), self.at(&tptr));
            match vtl::Template::parse(&name, &source) {
                Ok(template) => {
                    for (line, col, message) in lint::escape_javascript_without_fix(&source) {
                        let mut d = Diagnostic::warning(
                            ErrorKind::EscapeJavaScript,
                            &self.doc.path,
                            &self.at(&tptr),
                            format!(
                                "{which} template `{mime}` of {route}, template line {line}:{col}: {message}"
                            ),
                        );
                        if let Some((l, c)) = self.doc.template_origin(&self.at(&tptr), &source) {
                            d.position = Some((l + line - 1, c + col - 1));
                            d.source_text = Some(self.doc.text.clone());
                        }
                        d = self.doc.diagnostic(d);
                        self.diagnostics.push(d);
                    }
                    out.insert(mime.to_ascii_lowercase(), template);
                }
                Err(e) => {
                    let mut d = Diagnostic::error(
                        ErrorKind::Template,
                        &self.doc.path,
                        &self.at(&tptr),
                        format!(
                            "{which} template `{mime}` of {route} does not parse: {}",
                            e.message()
                        ),
                    );
                    if let (Some((l, c)), Some((line, col))) = (
                        self.doc.template_origin(&self.at(&tptr), &source),
                        e.location(),
                    ) {
                        d.position = Some((l + line - 1, c + col - 1));
                    }
                    d.template_error = Some(e);
                    self.diagnostics.push(self.doc.diagnostic(d));
                }
            }
        }
        out
    }

    pub(super) fn integration_responses(
        &mut self,
        v: Option<&Value>,
        ptr: &str,
        kind: Option<&IntegrationType>,
        route: &str,
    ) -> Vec<IntegrationResponse> {
        let mut out = Vec::new();
        let Some(v) = v else { return out };
        let Some(map) = v.as_object() else {
            self.error(
                ErrorKind::InvalidValue,
                ptr,
                "`responses` must be a mapping of selection pattern to response",
            );
            return out;
        };
        for (key, response) in map {
            let rptr = join_pointer(ptr, key);
            let selection_pattern = if key == "default" || key.is_empty() {
                None
            } else {
                match SelectionPattern::new(key) {
                    Ok(p) => {
                        if !p.can_match_status_code()
                            && !matches!(kind, Some(IntegrationType::Lambda { .. }))
                        {
                            self.warn(
                                ErrorKind::NonPortable,
                                &rptr,
                                format!(
                                    "selection pattern `{key}` matches no HTTP status code, so API Gateway would never select it; \
                                     stepgate matches it against Step Functions error text (not portable; off with `selection: aws-strict`)"
                                ),
                            );
                        }
                        if matches!(kind, Some(IntegrationType::Lambda { .. }))
                            && looks_like_status_rule(key, &p)
                        {
                            self.warn(
                                ErrorKind::NonPortable,
                                &rptr,
                                format!(
                                    "selection pattern `{key}` looks like a status code rule, but on a Lambda integration \
                                     patterns are matched against the function's errorMessage (a successful invocation \
                                     matches as the empty string), never the status code"
                                ),
                            );
                        }
                        Some(p)
                    }
                    Err(e) => {
                        self.error(
                            ErrorKind::Pattern,
                            &rptr,
                            format!("selection pattern `{key}` does not compile: {e}"),
                        );
                        continue;
                    }
                }
            };
            if !response.is_object() {
                self.error(
                    ErrorKind::InvalidValue,
                    &rptr,
                    "an integration response must be a mapping",
                );
                continue;
            }
            let status = response.get("statusCode");
            let status_code = status.and_then(|s| {
                s.as_u64()
                    .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
            });
            let status_code = match status_code {
                Some(c @ 100..=599) => c as u16,
                _ => {
                    self.error(
                        ErrorKind::InvalidValue,
                        &join_pointer(&rptr, "statusCode"),
                        "statusCode must be an HTTP status code (100-599)",
                    );
                    continue;
                }
            };
            let response_parameters = match response
                .get("responseParameters")
                .and_then(Value::as_object)
            {
                Some(params) => self.header_mappings(
                    params,
                    &join_pointer(&rptr, "responseParameters"),
                    "method.response.header.",
                ),
                None => Vec::new(),
            };
            let response_templates = self.templates(
                response.get("responseTemplates"),
                &join_pointer(&rptr, "responseTemplates"),
                route,
                "response",
            );
            let content_handling = self.content_handling(response, &rptr);
            out.push(IntegrationResponse {
                selection_pattern,
                status_code,
                response_parameters,
                response_templates,
                content_handling,
            });
        }
        out
    }
}

/// `arn:aws:apigateway:{region}:{service}:action/{Action}` (or `:path/...`).
pub(crate) fn parse_aws_uri(uri: &str) -> Result<IntegrationType, String> {
    let bad = || {
        format!(
            "`{uri}` is not an API Gateway AWS integration URI (arn:aws:apigateway:REGION:SERVICE:action/ACTION)"
        )
    };
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "apigateway" || parts[3].is_empty() {
        return Err(bad());
    }
    let region = parts[3].to_string();
    let service = parts[4].rsplit('.').next().unwrap_or(parts[4]).to_string();
    let rest = parts[5];
    if let Some(action) = rest.strip_prefix("action/") {
        let action = action.split(['&', '?']).next().unwrap_or(action);
        if action.is_empty() {
            return Err(bad());
        }
        return Ok(IntegrationType::Aws {
            service,
            region,
            action: action.to_string(),
        });
    }
    if service == "lambda" && rest.starts_with("path/") {
        return parse_lambda_path(rest, uri).map(|function_arn| IntegrationType::Lambda {
            region,
            function_arn,
        });
    }
    if rest.starts_with("path/") && service != "states" {
        return Ok(IntegrationType::Aws {
            service,
            region,
            action: rest.to_string(),
        });
    }
    Err(bad())
}

/// `200`, `4\d{2}`, `400|404`: a pattern written for status codes.
fn looks_like_status_rule(key: &str, pattern: &SelectionPattern) -> bool {
    pattern.can_match_status_code()
        && !pattern.is_match("")
        && key
            .chars()
            .all(|c| c.is_ascii_digit() || "\\d{}[]|()-,".contains(c))
}

/// The function ARN of `path/2015-03-31/functions/{functionArn}/invocations`, checked.
fn parse_lambda_path(rest: &str, uri: &str) -> Result<String, String> {
    let function = rest
        .strip_prefix("path/2015-03-31/functions/")
        .and_then(|r| r.strip_suffix("/invocations"))
        .ok_or_else(|| {
            format!(
                "`{uri}` is not a Lambda integration URI \
                 (arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations)"
            )
        })?;
    check_function_arn(function).map_err(|why| {
        format!("`{function}` in the Lambda integration URI is not a function ARN: {why}")
    })?;
    Ok(function.to_string())
}

/// `arn:{partition}:lambda:{region}:{account}:function:{name}[:{qualifier}]`, where the name
/// and the qualifier may also be a `${stageVariables.x}` reference.
pub(crate) fn check_function_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let expected = "expected arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]";
    if parts.len() < 7
        || parts.len() > 8
        || parts[0] != "arn"
        || parts[2] != "lambda"
        || parts[5] != "function"
    {
        return Err(expected.to_string());
    }
    if parts[1].is_empty() || parts[3].is_empty() {
        return Err(format!(
            "the partition and region must not be empty ({expected})"
        ));
    }
    if parts[4].len() != 12 || !parts[4].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the account `{}` is not 12 digits", parts[4]));
    }
    let stage_variable = |s: &str| {
        s.strip_prefix("${stageVariables.")
            .and_then(|v| v.strip_suffix('}'))
            .is_some_and(|v| {
                !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
    };
    let word = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let name = parts[6];
    if !word(name, 64) && !stage_variable(name) {
        return Err(format!(
            "the function name `{name}` must be 1-64 letters, digits, `-` or `_` (or `${{stageVariables.NAME}}`)"
        ));
    }
    if let Some(q) = parts.get(7)
        && *q != "$LATEST"
        && !word(q, 128)
        && !stage_variable(q)
    {
        return Err(format!(
            "the qualifier `{q}` is not $LATEST, a version or an alias"
        ));
    }
    Ok(())
}

impl Builder<'_> {
    /// Reads `{"<prefix>NAME": "<source>"}` header mappings (method responses use
    /// `method.response.header.`, gateway responses `gatewayresponse.header.`), reporting
    /// each bad entry at its pointer under `base`.
    pub(super) fn header_mappings(
        &mut self,
        params: &serde_json::Map<String, Value>,
        base: &str,
        prefix: &str,
    ) -> Vec<(String, ParameterSource)> {
        let mut mappings = Vec::new();
        for (target, source) in params {
            let p = join_pointer(base, target);
            let Some(header) = target.strip_prefix(prefix).filter(|h| !h.is_empty()) else {
                self.error(
                    ErrorKind::InvalidValue,
                    &p,
                    format!("`{target}` is not `{prefix}NAME`"),
                );
                continue;
            };
            match source.as_str().map(parse_source) {
                Some(Ok(s)) => mappings.push((header.to_string(), s)),
                Some(Err(message)) => self.error(ErrorKind::InvalidValue, &p, message),
                None => self.error(
                    ErrorKind::InvalidValue,
                    &p,
                    "a parameter mapping must be a string",
                ),
            }
        }
        mappings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_uri_forms() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders";
        let uri = |f: &str| {
            format!("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{f}/invocations")
        };
        assert_eq!(
            parse_aws_uri(&uri(arn)).unwrap(),
            IntegrationType::Lambda {
                region: "eu-west-1".into(),
                function_arn: arn.into()
            }
        );
        for ok in [
            format!("{arn}:prod"),
            format!("{arn}:$LATEST"),
            format!("{arn}:7"),
            "arn:aws:lambda:eu-west-1:123456789012:function:${stageVariables.fn}".to_string(),
            format!("{arn}:${{stageVariables.alias}}"),
        ] {
            assert!(parse_aws_uri(&uri(&ok)).is_ok(), "{ok}");
        }
        for bad in [
            "orders",
            "arn:aws:lambda:eu-west-1:123:function:orders",
            "arn:aws:lambda:eu-west-1:123456789012:layer:orders",
            "arn:aws:lambda:eu-west-1:123456789012:function:or ders",
            "arn:aws:lambda:eu-west-1:123456789012:function:orders:prod:x",
            "arn:aws:lambda:eu-west-1:123456789012:function:orders:pr/od",
        ] {
            let err = parse_aws_uri(&uri(bad)).unwrap_err();
            assert!(err.contains("is not a function ARN"), "{bad}: {err}");
        }
        let err =
            parse_aws_uri("arn:aws:apigateway:eu-west-1:lambda:path/functions/x").unwrap_err();
        assert!(err.contains("is not a Lambda integration URI"), "{err}");
    }

    #[test]
    fn aws_uri_forms() {
        assert_eq!(
            parse_aws_uri("arn:aws:apigateway:us-east-1:states:action/StartExecution").unwrap(),
            IntegrationType::Aws {
                service: "states".into(),
                region: "us-east-1".into(),
                action: "StartExecution".into()
            }
        );
        assert!(parse_aws_uri("arn:aws:apigateway::states:action/StartExecution").is_err());
        assert!(parse_aws_uri("states:StartExecution").is_err());
        assert!(parse_aws_uri("arn:aws:apigateway:us-east-1:states:path/x").is_err());
    }
}
