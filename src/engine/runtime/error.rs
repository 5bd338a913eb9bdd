//! [`Error`]: every way an engine call can fail, with the code (`__type`) and the
//! message AWS Step Functions uses for it (step-functions.md §1.4, §1.5).

use std::fmt;

use crate::engine::store;

/// An engine call that failed. `code()` is AWS's error name; `Display` its message.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// `DescribeExecution` on `arn:...:express:...`; `StartExecution` on `nope`.
    InvalidArn { reason: String },
    /// `StartExecution` on a state machine that is not registered.
    StateMachineDoesNotExist { arn: String },
    /// `CreateStateMachine` with a taken name and a different definition.
    StateMachineAlreadyExists { arn: String },
    /// `DescribeExecution` on an unknown execution ARN.
    ExecutionDoesNotExist { arn: String },
    /// `StartExecution` reusing a name with other input, or of a closed execution.
    ExecutionAlreadyExists { arn: String },
    /// `StartExecution` with `input: "not json"`.
    InvalidExecutionInput { reason: String },
    /// `CreateStateMachine` with `{}` (missing `States`).
    InvalidDefinition { reason: String },
    /// A name with a space, `:` or more than 80 characters.
    InvalidName { name: String },
    /// `StartSyncExecution` on a STANDARD machine; `ListExecutions` on an EXPRESS one.
    StateMachineTypeNotSupported,
    /// `SendTaskSuccess` with a token the engine never issued.
    TaskDoesNotExist { token: String },
    /// `SendTaskSuccess` for a task that already ended (answered, timed out, stopped).
    TaskTimedOut { token: String },
    /// An empty or over-long task token; a bad `nextToken`.
    InvalidToken { reason: String },
    /// `SendTaskSuccess` with output that is not JSON.
    InvalidOutput { reason: String },
    /// A parameter outside its constraints (the message names it, AWS style).
    Validation { message: String },
    /// The store failed; not the caller's fault.
    Store(store::Error),
}

impl Error {
    /// AWS's error code (`__type` without namespace).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArn { .. } => "InvalidArn",
            Error::StateMachineDoesNotExist { .. } => "StateMachineDoesNotExist",
            Error::StateMachineAlreadyExists { .. } => "StateMachineAlreadyExists",
            Error::ExecutionDoesNotExist { .. } => "ExecutionDoesNotExist",
            Error::ExecutionAlreadyExists { .. } => "ExecutionAlreadyExists",
            Error::InvalidExecutionInput { .. } => "InvalidExecutionInput",
            Error::InvalidDefinition { .. } => "InvalidDefinition",
            Error::InvalidName { .. } => "InvalidName",
            Error::StateMachineTypeNotSupported => "StateMachineTypeNotSupported",
            Error::TaskDoesNotExist { .. } => "TaskDoesNotExist",
            Error::TaskTimedOut { .. } => "TaskTimedOut",
            Error::InvalidToken { .. } => "InvalidToken",
            Error::InvalidOutput { .. } => "InvalidOutput",
            Error::Validation { .. } => "ValidationException",
            Error::Store(_) => "InternalFailure",
        }
    }

    /// The HTTP status AWS answers with: 400 for every named error, 500 for ours.
    pub fn status(&self) -> u16 {
        match self {
            Error::Store(_) => 500,
            _ => 400,
        }
    }

    /// `InvalidArn` for an ARN of the wrong resource type.
    pub(crate) fn wrong_resource_type(resource_type: &str) -> Error {
        Error::InvalidArn {
            reason: format!("Resource type not valid in this context: {resource_type}"),
        }
    }

    /// `InvalidArn` for a string that is not an ARN of ours.
    pub(crate) fn invalid_arn(arn: &str) -> Error {
        Error::InvalidArn {
            reason: format!("Invalid ARN prefix: {arn}"),
        }
    }

    /// `ValidationException` for a value outside an enum.
    pub(crate) fn not_in_enum(value: &str, field: &str, allowed: &str) -> Error {
        Error::Validation {
            message: format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy \
                 constraint: Member must satisfy enum value set: [{allowed}]"
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArn { reason } => write!(f, "Invalid Arn: '{reason}'"),
            Error::StateMachineDoesNotExist { arn } => {
                write!(f, "State Machine Does Not Exist: '{arn}'")
            }
            Error::StateMachineAlreadyExists { arn } => {
                write!(f, "State Machine Already Exists: '{arn}'")
            }
            Error::ExecutionDoesNotExist { arn } => write!(f, "Execution Does Not Exist: '{arn}'"),
            Error::ExecutionAlreadyExists { arn } => write!(f, "Execution Already Exists: '{arn}'"),
            Error::InvalidExecutionInput { reason } => {
                write!(f, "Invalid State Machine Execution Input: '{reason}'")
            }
            Error::InvalidDefinition { reason } => {
                write!(f, "Invalid State Machine Definition: '{reason}'")
            }
            Error::InvalidName { name } => write!(f, "Invalid Name: '{name}'"),
            Error::StateMachineTypeNotSupported => {
                f.write_str("This operation is not supported by this type of state machine")
            }
            Error::TaskDoesNotExist { .. } => {
                f.write_str("Task Does Not Exist: 'Provided task does not exist'")
            }
            Error::TaskTimedOut { .. } => {
                f.write_str("Task Timed Out: 'Provided task does not exist anymore'")
            }
            Error::InvalidToken { reason } => write!(f, "Invalid Token: '{reason}'"),
            Error::InvalidOutput { reason } => write!(f, "Invalid Output: '{reason}'"),
            Error::Validation { message } => f.write_str(message),
            Error::Store(e) => write!(f, "Internal failure: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Self {
        Error::Store(e)
    }
}
