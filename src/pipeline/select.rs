//! Integration response selection. A `selectionPattern` is a Java regex matched against the
//! whole subject (compiled by `config::SelectionPattern`). API Gateway matches it against
//! the integration's HTTP status code (`"400"`) for aws, http and mock integrations.
//!
//! stepgate's extension (off with `selection: aws-strict`): when the Step Functions call
//! failed, or a synchronous execution ended FAILED/TIMED_OUT/ABORTED, the patterns are first
//! tried against the error text (`<__type>: <message>` / `<error>: <cause>`), so a rule such
//! as `.*EmployeeDoesNotExist.*` selects its response. Then the status code, then the default
//! rule; with no match and no default the answer is API Gateway's 500.

use super::EndpointResponse;
use super::gateway_error::GatewayError;
use crate::config::{Integration, IntegrationResponse, SelectionMode};

/// Which subject selected the rule (for the transcript).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SelectedBy {
    ErrorText,
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
    if mode == SelectionMode::Extended
        && let Some(text) = &endpoint.error_text
            && let Some((r, _)) = patterned().find(|(_, p)| p.is_match(text)) {
                return Ok((r, SelectedBy::ErrorText));
            }
    let status = endpoint.status.to_string();
    if let Some((r, _)) = patterned().find(|(_, p)| p.is_match(&status)) {
        return Ok((r, SelectedBy::StatusCode));
    }
    match integration.default_response() {
        Some(r) => Ok((r, SelectedBy::Default)),
        None => Err(GatewayError::configuration(format!(
            "no integration response matches status {status}{} and there is no default",
            endpoint.error_text.as_deref().map(|t| format!(" or error `{t}`")).unwrap_or_default()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IntegrationType;
    use crate::pipeline::tests::{integration as make, rule};
    use bytes::Bytes;
    use http::HeaderMap;

    fn integration(responses: Vec<IntegrationResponse>) -> Integration {
        make(IntegrationType::Mock, &[], responses)
    }

    fn endpoint(status: u16, error_text: Option<&str>) -> EndpointResponse {
        EndpointResponse { status, headers: HeaderMap::new(), body: Bytes::new(), error_text: error_text.map(str::to_string) }
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
    fn no_match_and_no_default_is_a_configuration_error() {
        let i = integration(vec![rule(Some("2\\d{2}"), 200)]);
        let err = select_response(SelectionMode::Extended, &i, &endpoint(500, None)).unwrap_err();
        assert_eq!(err.response_type, crate::config::GatewayResponseType::ApiConfigurationError);
    }
}
