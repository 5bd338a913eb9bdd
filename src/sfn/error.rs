//! The AWS JSON 1.0 error shape, `{"__type": "...", "message": "..."}` plus its HTTP status,
//! and constructors for the named Step Functions errors with the wording AWS uses
//! (recorded messages: `../shared/reference/step-functions.md` §1.5). Both backends build
//! their errors here so a client cannot tell them apart. Uses nothing else in the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Step Functions error as it travels on the wire: `__type` (the bare error code, never a
/// `:`), `message`, and the HTTP status (400 for every named Step Functions error).
///
/// `AwsError::state_machine_does_not_exist("arn:…")` gives
/// `{"__type":"StateMachineDoesNotExist","message":"State Machine Does Not Exist: 'arn:…'"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    /// The error code (`__type`), e.g. `ExecutionAlreadyExists`.
    pub type_: String,
    /// The human-readable message.
    pub message: String,
    /// The HTTP status AWS answers with.
    pub status: u16,
}

#[derive(Serialize, Deserialize)]
struct Body<'a> {
    #[serde(rename = "__type")]
    type_: std::borrow::Cow<'a, str>,
    #[serde(alias = "Message", default)]
    message: std::borrow::Cow<'a, str>,
}

impl AwsError {
    /// Any error code with a message and status.
    pub fn new(type_: impl Into<String>, message: impl Into<String>, status: u16) -> AwsError {
        AwsError {
            type_: type_.into(),
            message: message.into(),
            status,
        }
    }

    /// A 400 error with the given code.
    pub fn bad_request(type_: &str, message: impl Into<String>) -> AwsError {
        AwsError::new(type_, message, 400)
    }

    /// The JSON body AWS sends: `{"__type":"…","message":"…"}`.
    pub fn to_body(&self) -> Vec<u8> {
        let body = Body {
            type_: self.type_.as_str().into(),
            message: self.message.as_str().into(),
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// Reads an error body (`__type` may carry a namespace, `message` may be `Message`); the
    /// namespace before `#` and anything after `:` are dropped, as the AWS SDKs do.
    pub fn from_body(status: u16, body: &[u8]) -> Option<AwsError> {
        let b: Body<'_> = serde_json::from_slice(body).ok()?;
        Some(AwsError::new(
            sanitize_code(&b.type_),
            b.message.into_owned(),
            status,
        ))
    }

    /// `ExecutionAlreadyExists`: "Execution Already Exists: '<arn>'".
    pub fn execution_already_exists(execution_arn: &str) -> AwsError {
        AwsError::bad_request(
            "ExecutionAlreadyExists",
            format!("Execution Already Exists: '{execution_arn}'"),
        )
    }

    /// `ExecutionDoesNotExist`: "Execution Does Not Exist: '<arn>'".
    pub fn execution_does_not_exist(execution_arn: &str) -> AwsError {
        AwsError::bad_request(
            "ExecutionDoesNotExist",
            format!("Execution Does Not Exist: '{execution_arn}'"),
        )
    }

    /// `StateMachineDoesNotExist`: "State Machine Does Not Exist: '<arn>'".
    pub fn state_machine_does_not_exist(state_machine_arn: &str) -> AwsError {
        AwsError::bad_request(
            "StateMachineDoesNotExist",
            format!("State Machine Does Not Exist: '{state_machine_arn}'"),
        )
    }

    /// `StateMachineAlreadyExists`: "State Machine Already Exists: '<arn>'".
    pub fn state_machine_already_exists(state_machine_arn: &str) -> AwsError {
        AwsError::bad_request(
            "StateMachineAlreadyExists",
            format!("State Machine Already Exists: '{state_machine_arn}'"),
        )
    }

    /// `StateMachineDeleting`: "State Machine Is Being Deleted: '<arn>'".
    pub fn state_machine_deleting(state_machine_arn: &str) -> AwsError {
        AwsError::bad_request(
            "StateMachineDeleting",
            format!("State Machine Is Being Deleted: '{state_machine_arn}'"),
        )
    }

    /// `StateMachineTypeNotSupported`: StartSyncExecution on STANDARD, ListExecutions on EXPRESS.
    pub fn state_machine_type_not_supported() -> AwsError {
        AwsError::bad_request(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        )
    }

    /// `InvalidArn`: "Invalid Arn: '<detail>'".
    pub fn invalid_arn(detail: &str) -> AwsError {
        AwsError::bad_request("InvalidArn", format!("Invalid Arn: '{detail}'"))
    }

    /// `InvalidName`: "Invalid Name: '<name>'".
    pub fn invalid_name(name: &str) -> AwsError {
        AwsError::bad_request("InvalidName", format!("Invalid Name: '{name}'"))
    }

    /// `InvalidExecutionInput`: "Invalid State Machine Execution Input: '<detail>'".
    pub fn invalid_execution_input(detail: &str) -> AwsError {
        AwsError::bad_request(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: '{detail}'"),
        )
    }

    /// `InvalidOutput` (SendTaskSuccess): "Invalid Output: '<detail>'".
    pub fn invalid_output(detail: &str) -> AwsError {
        AwsError::bad_request("InvalidOutput", format!("Invalid Output: '{detail}'"))
    }

    /// `InvalidDefinition`: "Invalid State Machine Definition: '<detail>'".
    pub fn invalid_definition(detail: &str) -> AwsError {
        AwsError::bad_request(
            "InvalidDefinition",
            format!("Invalid State Machine Definition: '{detail}'"),
        )
    }

    /// `InvalidToken` (task tokens and pagination tokens): "Invalid Token: '<detail>'".
    pub fn invalid_token(detail: &str) -> AwsError {
        AwsError::bad_request("InvalidToken", format!("Invalid Token: '{detail}'"))
    }

    /// `TaskDoesNotExist`: "Task Does Not Exist: '<token>'".
    pub fn task_does_not_exist(detail: &str) -> AwsError {
        AwsError::bad_request(
            "TaskDoesNotExist",
            format!("Task Does Not Exist: '{detail}'"),
        )
    }

    /// `TaskTimedOut`: "Task Timed Out: '<token>'".
    pub fn task_timed_out(detail: &str) -> AwsError {
        AwsError::bad_request("TaskTimedOut", format!("Task Timed Out: '{detail}'"))
    }

    /// `ValidationException` with the Coral wording, e.g.
    /// "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy
    /// constraint: Member must not be null". One entry per violated constraint, each
    /// already in the `Value … at '…' failed to satisfy constraint: …` form.
    pub fn validation(violations: &[String]) -> AwsError {
        let n = violations.len();
        let s = if n == 1 { "" } else { "s" };
        AwsError::bad_request(
            "ValidationException",
            format!(
                "{n} validation error{s} detected: {}",
                violations.join("; ")
            ),
        )
    }

    /// `SerializationException`: the request body could not be read as the action's input.
    pub fn serialization(message: impl Into<String>) -> AwsError {
        AwsError::bad_request("SerializationException", message)
    }

    /// `ThrottlingException` (400) "Rate exceeded".
    pub fn throttling() -> AwsError {
        AwsError::bad_request("ThrottlingException", "Rate exceeded")
    }

    /// True for the 5xx errors and throttling, which callers may retry.
    pub fn is_retryable(&self) -> bool {
        self.status >= 500 || self.type_ == "ThrottlingException"
    }
}

/// Drops a `namespace#` prefix and a `:suffix`, as the AWS SDKs do with error codes.
pub fn sanitize_code(code: &str) -> String {
    let code = code.rsplit_once('#').map_or(code, |(_, c)| c);
    code.split_once(':')
        .map_or(code, |(c, _)| c)
        .trim()
        .to_owned()
}

impl fmt::Display for AwsError {
    /// `<__type>: <message>`, the text stepgate matches selection patterns against.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.type_, self.message)
    }
}

impl std::error::Error for AwsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_the_aws_json_error_shape() {
        let e = AwsError::state_machine_does_not_exist("arn:aws:states:us-east-1:1:stateMachine:x");
        assert_eq!(
            String::from_utf8(e.to_body()).unwrap(),
            r#"{"__type":"StateMachineDoesNotExist","message":"State Machine Does Not Exist: 'arn:aws:states:us-east-1:1:stateMachine:x'"}"#
        );
        assert_eq!(e.status, 400);
        assert!(
            e.to_string()
                .starts_with("StateMachineDoesNotExist: State Machine")
        );
    }

    #[test]
    fn bodies_with_namespaces_and_capital_message_parse() {
        let e = AwsError::from_body(
            400,
            br#"{"__type":"com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists","message":"m"}"#,
        )
        .unwrap();
        assert_eq!(
            (e.type_.as_str(), e.message.as_str()),
            ("ExecutionAlreadyExists", "m")
        );
        let e = AwsError::from_body(
            400,
            br#"{"__type":"com.amazon.coral.service#SerializationException","Message":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            (e.type_.as_str(), e.message.as_str()),
            ("SerializationException", "x")
        );
        assert_eq!(sanitize_code("FooError:http://internal"), "FooError");
        assert!(AwsError::from_body(400, b"not json").is_none());
    }

    #[test]
    fn validation_counts_its_violations() {
        let one = AwsError::validation(&[
            "Value null at 'a' failed to satisfy constraint: Member must not be null".into(),
        ]);
        assert_eq!(
            one.message,
            "1 validation error detected: Value null at 'a' failed to satisfy constraint: Member must not be null"
        );
        let two = AwsError::validation(&["x".into(), "y".into()]);
        assert_eq!(two.message, "2 validation errors detected: x; y");
    }
}
