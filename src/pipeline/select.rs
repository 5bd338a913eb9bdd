//! Integration response selection. A `selectionPattern` is a Java regex matched against the
//! whole subject (compiled by `config::SelectionPattern`). API Gateway matches it against
//! the integration's HTTP status code (`"400"`) for aws, http and mock integrations.
//!
//! stepgate's extension (off with `selection: aws-strict`): when the Step Functions call
//! failed, or a synchronous execution ended FAILED/TIMED_OUT/ABORTED, the patterns are first
//! tried against the error text (`<__type>: <message>` / `<error>: <cause>`), so a rule such
//! as `.*EmployeeDoesNotExist.*` selects its response. Then the status code, then the default
//! rule; with no match and no default the answer is API Gateway's 500.
//!
//! Lambda custom integrations are matched as API Gateway matches them, whatever the mode:
//! against the `errorMessage` of a function error, a successful invocation matching as the
//! empty string — so `.*` catches successes too, `.+` only errors, and `200` never matches.

use super::EndpointResponse;
use super::gateway_error::GatewayError;
use crate::config::{Integration, IntegrationResponse, IntegrationType, SelectionMode};

/// Which subject selected the rule (for the transcript).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SelectedBy {
    ErrorText,
    /// Lambda: the `errorMessage` (or `""` for a success).
    ErrorMessage,
    StatusCode,
    Default,
}

/// Picks the integration response for `endpoint`.
pub(crate) fn select_response<'i>(
    mode: SelectionMode,
    integration: &'i Integration,
    endpoint: &EndpointResponse,
) -> Result<(&'i IntegrationResponse, SelectedBy), GatewayError> {
    let patterned = || integration.responses.iter().filter_map(|r| r.selection_pattern.as_ref().map(|p| (r, p)));
    if let IntegrationType::Lambda { .. } = integration.kind {
        let message = endpoint.function_error.as_deref().unwrap_or("");
        if let Some((r, _)) = patterned().find(|(_, p)| p.is_match(message)) {
            return Ok((r, SelectedBy::ErrorMessage));
        }
        return match integration.default_response() {
            Some(r) => Ok((r, SelectedBy::Default)),
            None => Err(GatewayError::configuration(format!(
                "no integration response matches the Lambda errorMessage `{message}` and there is no default"
            ))),
        };
    }
    if mode == SelectionMode::Extended
        && let Some(text) = &endpoint.error_text
            && let Some((r, _)) = patterned().find(|(_, p)| p.is_match(text)) {
                return Ok((r, SelectedBy::ErrorText));
            }
    // Most methods have a default rule only: the status is made text only for patterns.
    let has_patterns = patterned().next().is_some();
    let status = has_patterns.then(|| endpoint.status.to_string());
    if let Some(status) = &status
        && let Some((r, _)) = patterned().find(|(_, p)| p.is_match(status))
    {
        return Ok((r, SelectedBy::StatusCode));
    }
    match integration.default_response() {
        Some(r) => Ok((r, SelectedBy::Default)),
        None => Err(GatewayError::configuration(format!(
            "no integration response matches status {}{} and there is no default",
            endpoint.status,
            endpoint.error_text.as_deref().map(|t| format!(" or error `{t}`")).unwrap_or_default()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tests::{integration as make, rule};
    use bytes::Bytes;
    use http::HeaderMap;

    fn integration(responses: Vec<IntegrationResponse>) -> Integration {
        make(IntegrationType::Mock, &[], responses)
    }

    fn endpoint(status: u16, error_text: Option<&str>) -> EndpointResponse {
        EndpointResponse { error_text: error_text.map(str::to_string), ..EndpointResponse::new(status, HeaderMap::new(), Bytes::new()) }
    }

    fn lambda_result(function_error: Option<&str>) -> EndpointResponse {
        EndpointResponse { function_error: function_error.map(str::to_string), ..EndpointResponse::new(200, HeaderMap::new(), Bytes::new()) }
    }

    fn pick(mode: SelectionMode, i: &Integration, e: &EndpointResponse) -> Option<(u16, SelectedBy)> {
        select_response(mode, i, e).ok().map(|(r, by)| (r.status_code, by))
    }

    #[test]
    fn status_code_selects_and_pattern_is_anchored() {
        let i = integration(vec![rule(None, 200), rule(Some("4\\d{2}"), 400), rule(Some("5"), 500)]);
        assert_eq!(pick(SelectionMode::Extended, &i, &endpoint(404, None)), Some((400, SelectedBy::StatusCode)));
        assert_eq!(pick(SelectionMode::Extended, &i, &endpoint(503, None)), Some((200, SelectedBy::Default)));
    }

    #[test]
    fn error_text_rules_come_before_status_rules() {
        let i = integration(vec![
            rule(None, 200),
            rule(Some("400"), 400),
            rule(Some(".*CREATION_FAILED.*"), 403),
        ]);
        let e = endpoint(400, Some("ExecutionAlreadyExists: CREATION_FAILED for x"));
        assert_eq!(pick(SelectionMode::Extended, &i, &e), Some((403, SelectedBy::ErrorText)));
        assert_eq!(pick(SelectionMode::AwsStrict, &i, &e), Some((400, SelectedBy::StatusCode)));
    }

    #[test]
    fn lambda_rules_match_the_error_message_never_the_status() {
        let lambda = IntegrationType::Lambda {
            region: "us-east-1".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
        };
        let i = make(lambda.clone(), &[], vec![
            rule(None, 200),
            rule(Some(".*four hundred.*"), 405),
            rule(Some(".+"), 502),
            rule(Some("200"), 504),
        ]);
        for mode in [SelectionMode::Extended, SelectionMode::AwsStrict] {
            assert_eq!(pick(mode, &i, &lambda_result(None)), Some((200, SelectedBy::Default)));
            assert_eq!(pick(mode, &i, &lambda_result(Some("Error: four hundred"))), Some((405, SelectedBy::ErrorMessage)));
            assert_eq!(pick(mode, &i, &lambda_result(Some("other"))), Some((502, SelectedBy::ErrorMessage)));
        }
        // `.*` matches the empty string: it catches successful invocations too.
        let i = make(lambda.clone(), &[], vec![rule(None, 200), rule(Some(".*"), 500)]);
        assert_eq!(pick(SelectionMode::Extended, &i, &lambda_result(None)), Some((500, SelectedBy::ErrorMessage)));
        let i = make(lambda, &[], vec![rule(Some(".+"), 500)]);
        let err = select_response(SelectionMode::Extended, &i, &lambda_result(None)).unwrap_err();
        assert_eq!(err.response_type, crate::config::GatewayResponseType::ApiConfigurationError);
    }

    #[test]
    fn no_match_and_no_default_is_a_configuration_error() {
        let i = integration(vec![rule(Some("2\\d{2}"), 200)]);
        let err = select_response(SelectionMode::Extended, &i, &endpoint(500, None)).unwrap_err();
        assert_eq!(err.response_type, crate::config::GatewayResponseType::ApiConfigurationError);
    }
}
