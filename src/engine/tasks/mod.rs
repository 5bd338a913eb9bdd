//! Task resources run locally. [`TaskRunner::invoke`] picks, for one Task state's call:
//!
//! 1. a mocked response, when the execution was started as `stateMachineArn#TestCase`
//!    and the mock config (Step Functions Local format, `mock`) names this state;
//! 2. `arn:aws:states:::http:invoke` / `apigateway:invoke`: a real HTTP(S) call (`http`);
//! 3. Lambda (`arn:aws:lambda:...:function:f`, `arn:aws:states:::lambda:invoke`): a local
//!    command or a Lambda Invoke API endpoint (`lambda`);
//! 4. Step Functions itself (`arn:aws:states:::states:startExecution[.sync[:2]]`,
//!    `arn:aws:states:::aws-sdk:sfn:*`): nested executions on the calling engine, reached
//!    through the [`Executions`] the runtime passes in the [`TaskContext`] (`sfn`);
//! 5. anything else: `States.Runtime`, naming the resource and how to mock it.
//!
//! Uses `engine::effects` and the `sfn` vocabulary; the runtime strips `.waitForTaskToken`
//! before calling.

mod http;
pub(crate) mod lambda;
mod mock;
pub mod sfn;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

pub use mock::MockConfig;

use crate::engine::effects::{StateError, TaskRequest};

/// How Task resources run locally.
#[derive(Clone, Debug, Default)]
pub struct TaskConfig {
    /// Base URL of a Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`),
    /// e.g. `http://127.0.0.1:3001` for `sam local start-lambda`.
    pub lambda_endpoint: Option<String>,
    /// Lambda functions run as local commands: function name → argv. The event is
    /// written to stdin as JSON; stdout is the result.
    pub lambda_commands: BTreeMap<String, Vec<String>>,
    /// A Step Functions Local mock-config file (`StateMachines`/`MockedResponses`).
    pub mock_config: Option<PathBuf>,
    /// Hosts of `http:invoke`/`apigateway:invoke` endpoints mapped to local base URLs:
    /// `abc123.execute-api.us-east-1.amazonaws.com` → `http://127.0.0.1:8080`.
    pub host_mappings: BTreeMap<String, String>,
    /// Which server certificates `https://` endpoints may present (native roots, plus the
    /// `tls.ca_file` bundle of stepgate.yaml).
    pub trust: crate::https::Trust,
}

/// A task configuration that cannot be used.
#[derive(Debug)]
pub enum Error {
    /// The mock-config file could not be read.
    MockConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The mock-config file is not valid (message says where).
    MockConfigInvalid { path: PathBuf, message: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MockConfigRead { path, source } => {
                write!(f, "cannot read mock config {}: {source}", path.display())
            }
            Error::MockConfigInvalid { path, message } => {
                write!(f, "invalid mock config {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::MockConfigRead { source, .. } => Some(source),
            Error::MockConfigInvalid { .. } => None,
        }
    }
}

/// Who is calling: used to pick mocked responses, and the engine nested executions run on.
#[derive(Clone, Copy)]
pub struct TaskContext<'a> {
    pub state_machine_name: &'a str,
    /// The mock-config test case chosen at StartExecution (`arn#TestCase`).
    pub test_case: Option<&'a str>,
    /// How many times this state was invoked before in this execution (0 first).
    pub invocation: u32,
    /// The engine running the calling execution, for Step Functions tasks.
    pub executions: Option<&'a dyn sfn::Executions>,
    /// Told the submission output of a `.sync` job once it is started (`TaskSubmitted`).
    pub submitted: Option<&'a (dyn Fn(Value) + Send + Sync)>,
}

impl fmt::Debug for TaskContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskContext")
            .field("state_machine_name", &self.state_machine_name)
            .field("test_case", &self.test_case)
            .field("invocation", &self.invocation)
            .field("executions", &self.executions.is_some())
            .finish_non_exhaustive()
    }
}

/// Runs Task resources; one per engine.
#[derive(Debug)]
pub struct TaskRunner {
    http: http::HttpTasks,
    lambda: lambda::LambdaTasks,
    mocks: Option<MockConfig>,
}

impl TaskRunner {
    /// Builds the runner, reading the mock-config file if one is configured.
    pub fn new(config: &TaskConfig) -> Result<TaskRunner, Error> {
        let mocks = match &config.mock_config {
            Some(path) => Some(MockConfig::load(path)?),
            None => None,
        };
        let client = http::client_with(&config.trust);
        Ok(TaskRunner {
            http: http::HttpTasks::new(client.clone(), config.host_mappings.clone()),
            lambda: lambda::LambdaTasks::new(
                client,
                config.lambda_endpoint.clone(),
                config.lambda_commands.clone(),
            ),
            mocks,
        })
    }

    /// The mock configuration, if any.
    pub fn mocks(&self) -> Option<&MockConfig> {
        self.mocks.as_ref()
    }

    /// Runs the resource of one Task call.
    pub async fn invoke(
        &self,
        request: &TaskRequest,
        context: TaskContext<'_>,
    ) -> Result<Value, StateError> {
        if let (Some(mocks), Some(case)) = (&self.mocks, context.test_case)
            && let Some(answer) = mocks.response(
                context.state_machine_name,
                case,
                &request.state_name,
                context.invocation,
            )
        {
            // A mocked `.sync` job was submitted as far as the history goes.
            if let (Some(submitted), Ok(_)) = (context.submitted, &answer) {
                submitted(Value::Object(serde_json::Map::new()));
            }
            return answer;
        }
        let resource = request.resource.as_str();
        match resource {
            "arn:aws:states:::http:invoke" => self.http.http_invoke(request).await,
            "arn:aws:states:::apigateway:invoke" => self.http.apigateway_invoke(request).await,
            "arn:aws:states:::lambda:invoke" => self.lambda.invoke_integration(request).await,
            _ if lambda::is_function_arn(resource) => {
                self.lambda.invoke_function_arn(request).await
            }
            _ => match (sfn_call(resource), context.executions) {
                (Some(SfnCall::Optimized(pattern)), Some(executions)) => {
                    sfn::start_execution(executions, request, pattern, context.submitted).await
                }
                (Some(SfnCall::AwsSdk(action)), Some(executions)) => {
                    sfn::aws_sdk(executions, request, action).await
                }
                _ => Err(unsupported(request, context)),
            },
        }
    }
}

/// A Step Functions resource.
enum SfnCall<'r> {
    Optimized(sfn::Pattern),
    AwsSdk(&'r str),
}

fn sfn_call(resource: &str) -> Option<SfnCall<'_>> {
    if let Some(pattern) = sfn::Pattern::of(resource) {
        return Some(SfnCall::Optimized(pattern));
    }
    resource
        .strip_prefix("arn:aws:states:::aws-sdk:sfn:")
        .map(SfnCall::AwsSdk)
}

/// The failure for a resource stepgate cannot run.
fn unsupported(request: &TaskRequest, context: TaskContext<'_>) -> StateError {
    StateError {
        error: "States.Runtime".into(),
        cause: Some(format!(
            "An error occurred while executing the state '{state}'. stepgate's local engine cannot \
             run the resource '{resource}': it runs http:invoke, apigateway:invoke, Lambda \
             functions (configure a Lambda endpoint or command) and Step Functions \
             (states:startExecution, aws-sdk:sfn). To mock this state, add a test \
             case mapping '{state}' to a mocked response in the mock config for state machine \
             '{machine}' and start the execution with '<stateMachineArn>#<TestCase>'.",
            state = request.state_name,
            resource = request.resource,
            machine = context.state_machine_name,
        )),
    }
}

/// `States.Runtime` for parameters a task cannot start with (AWS's wording).
pub(crate) fn bad_parameters(request: &TaskRequest, problem: &str) -> StateError {
    StateError {
        error: "States.Runtime".into(),
        cause: Some(format!(
            "An error occurred while executing the state '{}'. The Parameters '{}' could not be \
             used to start the Task: [{problem}]",
            request.state_name, request.parameters
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(resource: &str) -> TaskRequest {
        TaskRequest {
            state_name: "Charge".into(),
            resource: resource.into(),
            parameters: serde_json::json!({}),
            task_token: None,
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
        }
    }

    #[tokio::test]
    async fn unknown_resource_names_itself_and_how_to_mock() {
        let runner = TaskRunner::new(&TaskConfig::default()).unwrap();
        let context = TaskContext {
            state_machine_name: "Orders",
            test_case: None,
            invocation: 0,
            executions: None,
            submitted: None,
        };
        let err = runner
            .invoke(&request("arn:aws:states:::dynamodb:putItem"), context)
            .await
            .unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        let cause = err.cause.unwrap();
        assert!(
            cause.contains("arn:aws:states:::dynamodb:putItem"),
            "{cause}"
        );
        assert!(cause.contains("#<TestCase>"), "{cause}");
    }

    #[tokio::test]
    async fn lambda_without_endpoint_or_command_fails_clearly() {
        let runner = TaskRunner::new(&TaskConfig::default()).unwrap();
        let context = TaskContext {
            state_machine_name: "Orders",
            test_case: None,
            invocation: 0,
            executions: None,
            submitted: None,
        };
        let err = runner
            .invoke(
                &request("arn:aws:lambda:us-east-1:123456789012:function:charge"),
                context,
            )
            .await
            .unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert!(err.cause.unwrap().contains("charge"));
    }
}
