//! Lambda tasks: `arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]` (the
//! payload is the effective parameters, the result is the function's answer) and
//! `arn:aws:states:::lambda:invoke` (`FunctionName` + `Payload`, the result wrapped
//! as `{ExecutedVersion, Payload, StatusCode, ...}`). A function runs as a configured
//! local command (event on stdin, result on stdout) or through a Lambda Invoke API
//! endpoint (`POST /2015-03-31/functions/{name}/invocations`).
//!
//! [`LambdaTasks::invoke`] is the raw call, answered the way Lambda's Invoke API answers
//! (payload bytes, and the `X-Amz-Function-Error` kind when the function raised); the
//! gateway's Lambda integrations use it through `backend::lambda`. Task states map it to
//! States errors.

use std::collections::BTreeMap;
use std::process::Stdio;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::bad_parameters;
use super::http::HttpClient;
use crate::engine::effects::{StateError, TaskRequest};

/// What is escaped in a function name in the Invoke URL: function names are letters, digits,
/// `-` and `_`, which stay as they are.
const FUNCTION_NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

pub(crate) fn is_function_arn(resource: &str) -> bool {
    resource.starts_with("arn:")
        && resource.split(':').nth(2) == Some("lambda")
        && resource.contains(":function:")
}

/// The function name in a name, a full or partial function ARN.
fn function_name(name_or_arn: &str) -> &str {
    match name_or_arn.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => name_or_arn,
    }
}

/// What a function answered, as Lambda's Invoke API gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawInvocation {
    /// `X-Amz-Function-Error` (`Unhandled`, `Handled`) when the function raised.
    pub function_error: Option<String>,
    /// The result, or the error object `{"errorMessage", "errorType", ...}`.
    pub payload: Bytes,
}

/// Why a function could not be invoked (no payload came back from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InvokeFailure {
    /// No command and no endpoint answers this function.
    NotConfigured { name: String },
    /// The Lambda endpoint answered with an error status (`x-amzn-ErrorType` kind).
    Service {
        status: u16,
        kind: String,
        message: String,
    },
    /// The Lambda endpoint could not be reached, or its answer not read.
    Unreachable(String),
    /// The local command could not be run.
    Command(String),
    /// The local command exited non-zero without printing an error object.
    Exited { code: Option<i32>, message: String },
}

#[derive(Debug)]
pub(crate) struct LambdaTasks {
    client: HttpClient,
    endpoint: Option<String>,
    commands: BTreeMap<String, Vec<String>>,
}

impl LambdaTasks {
    pub(crate) fn new(
        client: HttpClient,
        endpoint: Option<String>,
        commands: BTreeMap<String, Vec<String>>,
    ) -> Self {
        LambdaTasks {
            client,
            endpoint,
            commands,
        }
    }

    /// The runner for `config`'s Lambda commands and endpoint, with its own HTTP client.
    pub(crate) fn from_config(config: &super::TaskConfig) -> Self {
        LambdaTasks::new(
            super::http::client_with(&config.trust),
            config.lambda_endpoint.clone(),
            config.lambda_commands.clone(),
        )
    }

    pub(crate) async fn invoke_function_arn(
        &self,
        request: &TaskRequest,
    ) -> Result<Value, StateError> {
        let name = function_name(&request.resource);
        self.call(name, &request.parameters).await
    }

    pub(crate) async fn invoke_integration(
        &self,
        request: &TaskRequest,
    ) -> Result<Value, StateError> {
        let name = request
            .parameters
            .get("FunctionName")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_parameters(request, "The field 'FunctionName' is required"))?;
        let payload = request
            .parameters
            .get("Payload")
            .cloned()
            .unwrap_or(Value::Object(Default::default()));
        let result = self.call(function_name(name), &payload).await?;
        Ok(serde_json::json!({
            "ExecutedVersion": "$LATEST",
            "Payload": result,
            "SdkHttpMetadata": {"HttpHeaders": {}, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": uuid::Uuid::new_v4().to_string()},
            "StatusCode": 200,
        }))
    }

    async fn call(&self, name: &str, payload: &Value) -> Result<Value, StateError> {
        match self.invoke(name, Bytes::from(payload.to_string())).await {
            Ok(RawInvocation {
                function_error: Some(_),
                payload,
            }) => Err(function_failure(String::from_utf8_lossy(&payload).trim())),
            Ok(RawInvocation {
                function_error: None,
                payload,
            }) => Ok(parse_result(&String::from_utf8_lossy(&payload))),
            Err(InvokeFailure::NotConfigured { name }) => Err(StateError {
                error: "States.Runtime".into(),
                cause: Some(format!(
                    "stepgate's local engine has no way to run Lambda function '{name}': configure a \
                     Lambda endpoint (e.g. `sam local start-lambda`), a local command for '{name}', \
                     or mock the state in the mock config"
                )),
            }),
            Err(InvokeFailure::Service { kind, message, .. }) => Err(StateError {
                error: format!("Lambda.{kind}"),
                cause: Some(message),
            }),
            Err(InvokeFailure::Unreachable(cause)) => Err(StateError {
                error: "Lambda.ServiceException".into(),
                cause: Some(cause),
            }),
            Err(InvokeFailure::Command(cause) | InvokeFailure::Exited { message: cause, .. }) => {
                Err(StateError {
                    error: "States.TaskFailed".into(),
                    cause: Some(cause),
                })
            }
        }
    }

    /// Invokes `function` (a name, or a function ARN with or without qualifier) with the
    /// event `payload`: a command configured under the exact name given, else under the
    /// function name, else the Lambda endpoint.
    pub(crate) async fn invoke(
        &self,
        function: &str,
        payload: Bytes,
    ) -> Result<RawInvocation, InvokeFailure> {
        let name = function_name(function);
        if let Some(argv) = self
            .commands
            .get(function)
            .or_else(|| self.commands.get(name))
        {
            return run_command(name, argv, payload).await;
        }
        match &self.endpoint {
            Some(endpoint) => self.call_endpoint(endpoint, name, payload).await,
            None => Err(InvokeFailure::NotConfigured {
                name: name.to_string(),
            }),
        }
    }

    async fn call_endpoint(
        &self,
        endpoint: &str,
        name: &str,
        payload: Bytes,
    ) -> Result<RawInvocation, InvokeFailure> {
        let url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            endpoint.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(name, FUNCTION_NAME)
        );
        let request = http::Request::post(&url)
            .header("content-type", "application/json")
            .body(Full::new(payload))
            .map_err(|e| InvokeFailure::Unreachable(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| InvokeFailure::Unreachable(format!("{url}: {e}")))?;
        let status = response.status();
        let function_error = response
            .headers()
            .get("x-amz-function-error")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).to_string());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| InvokeFailure::Unreachable(e.to_string()))?
            .to_bytes();
        if function_error.is_some() {
            return Ok(RawInvocation {
                function_error,
                payload: body,
            });
        }
        if !status.is_success() {
            return Err(InvokeFailure::Service {
                status: status.as_u16(),
                kind: error_type.unwrap_or_else(|| format!("Status{}", status.as_u16())),
                message: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(RawInvocation {
            function_error: None,
            payload: body,
        })
    }
}

/// `{"errorType": "E", "errorMessage": "m"}` → error `E`, cause the whole payload.
fn function_failure(text: &str) -> StateError {
    let error = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.get("errorType")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "Exception".into());
    StateError {
        error,
        cause: Some(text.to_string()),
    }
}

fn parse_result(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

async fn run_command(
    name: &str,
    argv: &[String],
    payload: Bytes,
) -> Result<RawInvocation, InvokeFailure> {
    let (program, args) = argv.split_first().ok_or_else(|| {
        InvokeFailure::Command(format!("the command for Lambda function '{name}' is empty"))
    })?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            InvokeFailure::Command(format!(
                "cannot run {program} for Lambda function '{name}': {e}"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin is fine.
        let _ = stdin.write_all(&payload).await;
    }
    let out = child.wait_with_output().await.map_err(|e| {
        InvokeFailure::Command(format!("{program} for Lambda function '{name}': {e}"))
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        if stdout.contains("errorType") {
            return Ok(RawInvocation {
                function_error: Some("Unhandled".into()),
                payload: Bytes::from(stdout.trim().to_string()),
            });
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(InvokeFailure::Exited {
            code: out.status.code(),
            message: format!(
                "{program} for Lambda function '{name}' exited with {}: {}",
                out.status,
                stderr.trim()
            ),
        });
    }
    Ok(RawInvocation {
        function_error: None,
        payload: Bytes::from(out.stdout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_come_from_names_and_arns() {
        assert_eq!(function_name("charge"), "charge");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:charge"),
            "charge"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:charge:prod"),
            "charge"
        );
        assert_eq!(function_name("1:function:charge"), "charge");
        assert!(is_function_arn(
            "arn:aws:lambda:us-east-1:1:function:charge"
        ));
        assert!(!is_function_arn("arn:aws:states:::lambda:invoke"));
    }

    #[tokio::test]
    async fn local_command_gets_event_on_stdin() {
        let mut commands = BTreeMap::new();
        commands.insert("echo".to_string(), vec!["cat".to_string()]);
        commands.insert(
            "boom".to_string(),
            vec![
                "sh".into(),
                "-c".into(),
                r#"echo '{"errorType":"Boom","errorMessage":"no"}'; exit 1"#.into(),
            ],
        );
        let tasks = LambdaTasks::new(super::super::http::client(), None, commands);
        let got = tasks
            .call("echo", &serde_json::json!({"a": [1, 2]}))
            .await
            .unwrap();
        assert_eq!(got, serde_json::json!({"a": [1, 2]}));
        let err = tasks.call("boom", &Value::Null).await.unwrap_err();
        assert_eq!(err.error, "Boom");
    }

    #[tokio::test]
    async fn raw_invocations_answer_like_the_invoke_api() {
        let mut commands = BTreeMap::new();
        commands.insert("echo".to_string(), vec!["cat".to_string()]);
        commands.insert(
            "boom".to_string(),
            vec![
                "sh".into(),
                "-c".into(),
                r#"echo '{"errorType":"Boom","errorMessage":"no"}'; exit 1"#.into(),
            ],
        );
        commands.insert(
            "crash".to_string(),
            vec!["sh".into(), "-c".into(), "echo oops >&2; exit 3".into()],
        );
        let tasks = LambdaTasks::new(super::super::http::client(), None, commands);
        // By name, or by ARN with a qualifier: the bytes come back untouched.
        let ok = tasks
            .invoke(
                "arn:aws:lambda:us-east-1:123456789012:function:echo:prod",
                Bytes::from("{\"a\": 1}"),
            )
            .await
            .unwrap();
        assert_eq!(
            ok,
            RawInvocation {
                function_error: None,
                payload: Bytes::from("{\"a\": 1}")
            }
        );
        let err = tasks.invoke("boom", Bytes::new()).await.unwrap();
        assert_eq!(err.function_error.as_deref(), Some("Unhandled"));
        assert_eq!(
            err.payload,
            Bytes::from(r#"{"errorType":"Boom","errorMessage":"no"}"#)
        );
        match tasks.invoke("crash", Bytes::new()).await {
            Err(InvokeFailure::Exited {
                code: Some(3),
                message,
            }) => assert!(message.contains("oops"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            tasks.invoke("missing", Bytes::new()).await,
            Err(InvokeFailure::NotConfigured {
                name: "missing".into()
            })
        );
    }
}
