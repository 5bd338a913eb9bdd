//! The Step Functions backend: one trait, [`StepFunctions`], with two implementations —
//! [`aws`] (real Step Functions through aws-sdk-sfn) and [`local`] (the embedded engine) — and
//! one behaviour suite both run ([`conformance`], object_store's `integration.rs` pattern).
//!
//! The gateway calls [`dispatch`]: it reads the rendered request body into the action's
//! input (with the `SerializationException` / `ValidationException` answers AWS gives), calls
//! the trait, and returns the exact JSON body AWS would have returned. Failures are
//! [`Error::Service`] (an AWS-shaped error to pass on, status included) or a transport
//! failure ([`Error::Connect`], [`Error::Timeout`], [`Error::Other`]) that the gateway maps
//! the way API Gateway does (500 / 504). Uses `sfn` (and `engine`, through `local`).

use std::fmt;

use async_trait::async_trait;
use serde::Serialize;

use crate::sfn::model::*;
use crate::sfn::request::parse_input;
use crate::sfn::{Action, AwsError};

pub mod aws;
pub mod aws_lambda;
pub mod conformance;
pub mod lambda;
pub mod local;
pub mod open;

/// Why a backend call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Step Functions answered with an error (`__type`, message, status). Throttling (400)
    /// and 5xx answers are service errors too, with their own status.
    Service(AwsError),
    /// The endpoint could not be reached (DNS, refused connection, TLS handshake).
    Connect(String),
    /// The call did not complete in time (connect, read or whole-operation timeout).
    Timeout(String),
    /// Anything else between us and the service: a broken or unreadable response, a
    /// credentials or signing failure, a misconfigured client.
    Other(String),
}

impl Error {
    /// The AWS error, when the service answered with one.
    pub fn as_service(&self) -> Option<&AwsError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// True for failures where no answer came back from the service.
    pub fn is_transport(&self) -> bool {
        !matches!(self, Error::Service(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Service(e) => write!(f, "{e}"),
            Error::Connect(m) => write!(f, "could not connect to Step Functions: {m}"),
            Error::Timeout(m) => write!(f, "Step Functions call timed out: {m}"),
            Error::Other(m) => write!(f, "Step Functions call failed: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<AwsError> for Error {
    fn from(e: AwsError) -> Error {
        Error::Service(e)
    }
}

/// The Step Functions actions the gateway can call, with AWS's inputs, outputs and errors.
/// Every implementation answers the same calls with the same shapes (checked by
/// [`conformance`]).
#[async_trait]
pub trait StepFunctions: Send + Sync {
    /// StartExecution: STANDARD executions are idempotent on (name, input) while running;
    /// EXPRESS executions get `…:express:<sm>:<name>:<uuid>` ARNs.
    async fn start_execution(
        &self,
        input: StartExecutionInput,
    ) -> Result<StartExecutionOutput, Error>;
    /// StartSyncExecution (EXPRESS only; STANDARD → `StateMachineTypeNotSupported`).
    async fn start_sync_execution(
        &self,
        input: StartSyncExecutionInput,
    ) -> Result<StartSyncExecutionOutput, Error>;
    /// DescribeExecution (standard executions; express ARNs → `InvalidArn`).
    async fn describe_execution(
        &self,
        input: DescribeExecutionInput,
    ) -> Result<DescribeExecutionOutput, Error>;
    /// StopExecution.
    async fn stop_execution(&self, input: StopExecutionInput)
    -> Result<StopExecutionOutput, Error>;
    /// ListExecutions (STANDARD machines; EXPRESS → `StateMachineTypeNotSupported`).
    async fn list_executions(
        &self,
        input: ListExecutionsInput,
    ) -> Result<ListExecutionsOutput, Error>;
    /// GetExecutionHistory.
    async fn get_execution_history(
        &self,
        input: GetExecutionHistoryInput,
    ) -> Result<GetExecutionHistoryOutput, Error>;
    /// SendTaskSuccess.
    async fn send_task_success(
        &self,
        input: SendTaskSuccessInput,
    ) -> Result<SendTaskSuccessOutput, Error>;
    /// SendTaskFailure.
    async fn send_task_failure(
        &self,
        input: SendTaskFailureInput,
    ) -> Result<SendTaskFailureOutput, Error>;
    /// SendTaskHeartbeat.
    async fn send_task_heartbeat(
        &self,
        input: SendTaskHeartbeatInput,
    ) -> Result<SendTaskHeartbeatOutput, Error>;
    /// DescribeStateMachine.
    async fn describe_state_machine(
        &self,
        input: DescribeStateMachineInput,
    ) -> Result<DescribeStateMachineOutput, Error>;
    /// ListStateMachines.
    async fn list_state_machines(
        &self,
        input: ListStateMachinesInput,
    ) -> Result<ListStateMachinesOutput, Error>;
    /// CreateStateMachine.
    async fn create_state_machine(
        &self,
        input: CreateStateMachineInput,
    ) -> Result<CreateStateMachineOutput, Error>;
    /// DeleteStateMachine.
    async fn delete_state_machine(
        &self,
        input: DeleteStateMachineInput,
    ) -> Result<DeleteStateMachineOutput, Error>;
}

/// A shareable backend, as the gateway holds it.
pub type BoxedBackend = std::sync::Arc<dyn StepFunctions>;

/// Runs `action` with the rendered request `body`: parses it into the action's input (AWS's
/// `SerializationException` / `ValidationException` on bad bodies, as [`Error::Service`]),
/// calls the backend, and returns the JSON body AWS answers with (members in alphabetical
/// order, timestamps as Java doubles: [`crate::sfn::wire`]).
pub async fn dispatch(
    backend: &dyn StepFunctions,
    action: Action,
    body: &[u8],
) -> Result<Vec<u8>, Error> {
    match action {
        Action::StartExecution => {
            to_body(backend.start_execution(parse_input(action, body)?).await?)
        }
        Action::StartSyncExecution => to_body(
            backend
                .start_sync_execution(parse_input(action, body)?)
                .await?,
        ),
        Action::DescribeExecution => to_body(
            backend
                .describe_execution(parse_input(action, body)?)
                .await?,
        ),
        Action::StopExecution => to_body(backend.stop_execution(parse_input(action, body)?).await?),
        Action::ListExecutions => {
            to_body(backend.list_executions(parse_input(action, body)?).await?)
        }
        Action::GetExecutionHistory => to_body(
            backend
                .get_execution_history(parse_input(action, body)?)
                .await?,
        ),
        Action::SendTaskSuccess => to_body(
            backend
                .send_task_success(parse_input(action, body)?)
                .await?,
        ),
        Action::SendTaskFailure => to_body(
            backend
                .send_task_failure(parse_input(action, body)?)
                .await?,
        ),
        Action::SendTaskHeartbeat => to_body(
            backend
                .send_task_heartbeat(parse_input(action, body)?)
                .await?,
        ),
        Action::DescribeStateMachine => to_body(
            backend
                .describe_state_machine(parse_input(action, body)?)
                .await?,
        ),
        Action::ListStateMachines => to_body(
            backend
                .list_state_machines(parse_input(action, body)?)
                .await?,
        ),
        Action::CreateStateMachine => to_body(
            backend
                .create_state_machine(parse_input(action, body)?)
                .await?,
        ),
        Action::DeleteStateMachine => to_body(
            backend
                .delete_state_machine(parse_input(action, body)?)
                .await?,
        ),
    }
}

fn to_body<T: Serialize>(output: T) -> Result<Vec<u8>, Error> {
    crate::sfn::wire::to_vec(&output)
        .map_err(|e| Error::Other(format!("could not serialize the response: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records what dispatch handed it and answers with fixed outputs.
    #[derive(Default)]
    struct Recorder {
        seen: Mutex<Vec<String>>,
    }

    impl Recorder {
        fn saw(&self, what: impl fmt::Debug) {
            self.seen.lock().unwrap().push(format!("{what:?}"));
        }
    }

    fn nope<T>() -> Result<T, Error> {
        Err(Error::Service(AwsError::state_machine_does_not_exist(
            "arn:aws:states:us-east-1:1:stateMachine:x",
        )))
    }

    #[async_trait]
    impl StepFunctions for Recorder {
        async fn start_execution(
            &self,
            i: StartExecutionInput,
        ) -> Result<StartExecutionOutput, Error> {
            self.saw(&i);
            Ok(StartExecutionOutput {
                execution_arn: format!(
                    "arn:aws:states:us-east-1:1:execution:s:{}",
                    i.name.unwrap_or_default()
                ),
                start_date: Timestamp::from_millis(1_795_266_197_959),
            })
        }
        async fn start_sync_execution(
            &self,
            _: StartSyncExecutionInput,
        ) -> Result<StartSyncExecutionOutput, Error> {
            Err(Error::Timeout("slow".into()))
        }
        async fn describe_execution(
            &self,
            _: DescribeExecutionInput,
        ) -> Result<DescribeExecutionOutput, Error> {
            nope()
        }
        async fn stop_execution(
            &self,
            i: StopExecutionInput,
        ) -> Result<StopExecutionOutput, Error> {
            self.saw(&i);
            Ok(StopExecutionOutput {
                stop_date: Timestamp::from_millis(2000),
            })
        }
        async fn list_executions(
            &self,
            i: ListExecutionsInput,
        ) -> Result<ListExecutionsOutput, Error> {
            self.saw(&i);
            Ok(ListExecutionsOutput {
                executions: vec![],
                next_token: None,
            })
        }
        async fn get_execution_history(
            &self,
            _: GetExecutionHistoryInput,
        ) -> Result<GetExecutionHistoryOutput, Error> {
            nope()
        }
        async fn send_task_success(&self, i: SendTaskSuccessInput) -> Result<Empty, Error> {
            self.saw(&i);
            Ok(Empty {})
        }
        async fn send_task_failure(&self, _: SendTaskFailureInput) -> Result<Empty, Error> {
            nope()
        }
        async fn send_task_heartbeat(&self, _: SendTaskHeartbeatInput) -> Result<Empty, Error> {
            nope()
        }
        async fn describe_state_machine(
            &self,
            _: DescribeStateMachineInput,
        ) -> Result<DescribeStateMachineOutput, Error> {
            nope()
        }
        async fn list_state_machines(
            &self,
            _: ListStateMachinesInput,
        ) -> Result<ListStateMachinesOutput, Error> {
            nope()
        }
        async fn create_state_machine(
            &self,
            _: CreateStateMachineInput,
        ) -> Result<CreateStateMachineOutput, Error> {
            nope()
        }
        async fn delete_state_machine(&self, i: DeleteStateMachineInput) -> Result<Empty, Error> {
            self.saw(&i);
            Ok(Empty {})
        }
    }

    fn run(backend: &Recorder, action: Action, body: &str) -> Result<String, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(dispatch(backend, action, body.as_bytes()))
            .map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn dispatch_parses_the_body_and_returns_the_aws_json() {
        let r = Recorder::default();
        let body = r#"{"input": "{\"q\":\"it's \\\"x\\\" é\"}", "name": "n1", "stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:s"}"#;
        let out = run(&r, Action::StartExecution, body).unwrap();
        assert_eq!(
            out,
            r#"{"executionArn":"arn:aws:states:us-east-1:1:execution:s:n1","startDate":1.795266197959E9}"#
        );
        let seen = r.seen.lock().unwrap();
        assert!(
            seen[0].contains(r#"input: Some("{\"q\":\"it's \\\"x\\\" é\"}")"#),
            "{}",
            seen[0]
        );
    }

    #[test]
    fn dispatch_answers_empty_outputs_with_an_empty_object() {
        let r = Recorder::default();
        assert_eq!(
            run(
                &r,
                Action::SendTaskSuccess,
                r#"{"taskToken":"t","output":"{}"}"#
            )
            .unwrap(),
            "{}"
        );
        assert_eq!(
            run(
                &r,
                Action::DeleteStateMachine,
                r#"{"stateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:s"}"#
            )
            .unwrap(),
            "{}"
        );
        assert_eq!(
            run(&r, Action::ListExecutions, "").unwrap(),
            r#"{"executions":[]}"#
        );
        assert_eq!(
            run(&r, Action::StopExecution, r#"{"executionArn":"e"}"#).unwrap(),
            r#"{"stopDate":2.0}"#
        );
    }

    #[test]
    fn bad_bodies_never_reach_the_backend() {
        let r = Recorder::default();
        let e = run(&r, Action::StartExecution, r#"{"input":"{}"}"#).unwrap_err();
        assert_eq!(
            e.as_service().map(|e| (e.type_.as_str(), e.status)),
            Some(("ValidationException", 400))
        );
        let e = run(&r, Action::StartExecution, r#"{"stateMachineArn":1}"#).unwrap_err();
        assert_eq!(
            e.as_service().map(|e| e.type_.as_str()),
            Some("SerializationException")
        );
        let e = run(&r, Action::ListExecutions, r#"{"statusFilter":"running"}"#).unwrap_err();
        assert_eq!(
            e.as_service().map(|e| e.type_.as_str()),
            Some("ValidationException")
        );
        assert!(r.seen.lock().unwrap().is_empty());
    }

    #[test]
    fn backend_errors_pass_through_unchanged() {
        let r = Recorder::default();
        let e = run(&r, Action::DescribeExecution, r#"{"executionArn":"e"}"#).unwrap_err();
        assert_eq!(
            e.as_service().map(|e| e.type_.as_str()),
            Some("StateMachineDoesNotExist")
        );
        assert!(!e.is_transport());
        let e = run(&r, Action::StartSyncExecution, r#"{"stateMachineArn":"s"}"#).unwrap_err();
        assert_eq!(e, Error::Timeout("slow".into()));
        assert!(e.is_transport());
    }
}
