//! The Lambda functions behind Lambda custom (non-proxy) integrations: one small trait,
//! [`Lambda`], answering the Invoke API's `RequestResponse` call the way Lambda does — status
//! 200 and the payload, with `X-Amz-Function-Error` and an `{"errorMessage", "errorType"}`
//! payload when the function raised. [`LocalLambda`] runs the functions the local engine
//! runs for Lambda tasks (`local.lambda:` commands and fixed answers, `local.lambda_endpoint`),
//! through `engine::tasks::lambda`; [`Unconfigured`] answers every call with a clear
//! "no Lambda here" failure. Failures to invoke at all ([`Error`]) are what API Gateway turns
//! into 500 (or 504 for a timeout).

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;

use crate::engine::runtime::TaskConfig;
use crate::engine::tasks::lambda::{InvokeFailure, LambdaTasks, RawInvocation};

/// A function's answer to a `RequestResponse` invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The Invoke API's status code (200 for a synchronous invocation, errors included).
    pub status: u16,
    /// `X-Amz-Function-Error` (`Unhandled`, `Handled`) when the function raised.
    pub function_error: Option<String>,
    /// The function's result, or its error object.
    pub payload: Bytes,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
}

/// Why a function could not be invoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The function does not exist, or nothing is configured to run it.
    FunctionNotFound(String),
    /// The Lambda service refused the call (`ResourceNotFoundException`, throttling, ...).
    Service {
        status: u16,
        error_type: String,
        message: String,
    },
    /// No answer in time.
    Timeout(String),
    /// Anything else: unreachable endpoint, a command that could not run or crashed.
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::FunctionNotFound(m) => write!(f, "Lambda function not found: {m}"),
            Error::Service {
                status,
                error_type,
                message,
            } => {
                write!(f, "Lambda answered {status} {error_type}: {message}")
            }
            Error::Timeout(m) => write!(f, "Lambda invocation timed out: {m}"),
            Error::Other(m) => write!(f, "Lambda invocation failed: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Invokes Lambda functions synchronously (`InvocationType: RequestResponse`).
#[async_trait]
pub trait Lambda: Send + Sync {
    /// Invokes `function` (a function ARN, qualifier included, or a name) with the event
    /// `payload`.
    async fn invoke(&self, function: &str, payload: Bytes) -> Result<Invocation, Error>;
}

/// The local functions: the same commands, fixed answers and Lambda endpoint that run the
/// local engine's Lambda tasks.
#[derive(Debug)]
pub struct LocalLambda {
    tasks: LambdaTasks,
}

impl LocalLambda {
    /// Runs the functions `tasks` configures (`lambda_commands`, `lambda_endpoint`).
    pub fn new(tasks: &TaskConfig) -> LocalLambda {
        LocalLambda {
            tasks: LambdaTasks::from_config(tasks),
        }
    }
}

#[async_trait]
impl Lambda for LocalLambda {
    async fn invoke(&self, function: &str, payload: Bytes) -> Result<Invocation, Error> {
        match self.tasks.invoke(function, payload).await {
            Ok(RawInvocation {
                function_error,
                payload,
            }) => Ok(Invocation {
                status: 200,
                function_error,
                payload,
                executed_version: "$LATEST".into(),
            }),
            Err(InvokeFailure::NotConfigured { name }) => Err(Error::FunctionNotFound(format!(
                "no local answer for Lambda function `{name}` (add `local.lambda.{name}` or `local.lambda_endpoint` to stepgate.yaml)"
            ))),
            Err(InvokeFailure::Service {
                status: 404,
                kind,
                message,
            }) => Err(Error::FunctionNotFound(format!(
                "{function}: {kind}: {message}"
            ))),
            Err(InvokeFailure::Service {
                status,
                kind,
                message,
            }) => Err(Error::Service {
                status,
                error_type: kind,
                message,
            }),
            Err(InvokeFailure::Unreachable(m) | InvokeFailure::Command(m)) => Err(Error::Other(m)),
            // A runtime that dies without an error object is a function error on Lambda too.
            Err(InvokeFailure::Exited { code, message }) => {
                tracing::warn!(function, "{message}");
                let status = code
                    .map(|c| format!("exit status {c}"))
                    .unwrap_or_else(|| "signal".into());
                let error = serde_json::json!({
                    "errorType": "Runtime.ExitError",
                    "errorMessage": format!(
                        "RequestId: {} Error: Runtime exited with error: {status}",
                        uuid::Uuid::new_v4()
                    ),
                });
                Ok(Invocation {
                    status: 200,
                    function_error: Some("Unhandled".into()),
                    payload: Bytes::from(error.to_string()),
                    executed_version: "$LATEST".into(),
                })
            }
        }
    }
}

/// No Lambda functions can be invoked (the reason is given in every failure).
#[derive(Debug, Clone)]
pub struct Unconfigured(pub String);

#[async_trait]
impl Lambda for Unconfigured {
    async fn invoke(&self, function: &str, _payload: Bytes) -> Result<Invocation, Error> {
        Err(Error::Other(format!(
            "cannot invoke Lambda function `{function}`: {}",
            self.0
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(commands: &[(&str, &str)]) -> LocalLambda {
        let mut config = TaskConfig::default();
        for (name, script) in commands {
            config.lambda_commands.insert(
                name.to_string(),
                vec!["sh".into(), "-c".into(), script.to_string()],
            );
        }
        LocalLambda::new(&config)
    }

    #[tokio::test]
    async fn local_functions_answer_like_the_invoke_api() {
        let lambda = local(&[
            ("hello", "printf '\"hi\"'"),
            (
                "raise",
                r#"printf '{"errorMessage":"bad id","errorType":"ValueError"}'; exit 1"#,
            ),
            ("crash", "exit 2"),
        ]);
        let ok = lambda
            .invoke(
                "arn:aws:lambda:us-east-1:123456789012:function:hello",
                Bytes::new(),
            )
            .await
            .unwrap();
        assert_eq!(
            (ok.status, ok.function_error, ok.payload),
            (200, None, Bytes::from("\"hi\""))
        );

        let raised = lambda.invoke("raise", Bytes::new()).await.unwrap();
        assert_eq!(raised.status, 200);
        assert_eq!(raised.function_error.as_deref(), Some("Unhandled"));
        assert_eq!(
            raised.payload,
            Bytes::from(r#"{"errorMessage":"bad id","errorType":"ValueError"}"#)
        );

        let crashed = lambda.invoke("crash", Bytes::new()).await.unwrap();
        assert_eq!(crashed.function_error.as_deref(), Some("Unhandled"));
        let body: serde_json::Value = serde_json::from_slice(&crashed.payload).unwrap();
        assert_eq!(body["errorType"], "Runtime.ExitError");
        assert!(
            body["errorMessage"]
                .as_str()
                .unwrap()
                .ends_with("Runtime exited with error: exit status 2")
        );

        match lambda.invoke("nope", Bytes::new()).await {
            Err(Error::FunctionNotFound(m)) => assert!(m.contains("local.lambda.nope"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
