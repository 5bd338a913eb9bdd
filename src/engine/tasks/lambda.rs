//! Lambda tasks: `arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]` (the
//! payload is the effective parameters, the result is the function's answer) and
//! `arn:aws:states:::lambda:invoke` (`FunctionName` + `Payload`, the result wrapped
//! as `{ExecutedVersion, Payload, StatusCode, ...}`). A function runs as a configured
//! local command (event on stdin, result on stdout) or through a Lambda Invoke API
//! endpoint (`POST /2015-03-31/functions/{name}/invocations`).

use std::collections::BTreeMap;
use std::process::Stdio;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::bad_parameters;
use super::http::HttpClient;
use crate::engine::effects::{StateError, TaskRequest};

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
        if let Some(argv) = self.commands.get(name) {
            return run_command(name, argv, payload).await;
        }
        match &self.endpoint {
            Some(endpoint) => self.call_endpoint(endpoint, name, payload).await,
            None => Err(StateError {
                error: "States.Runtime".into(),
                cause: Some(format!(
                    "stepgate's local engine has no way to run Lambda function '{name}': configure a \
                     Lambda endpoint (e.g. `sam local start-lambda`), a local command for '{name}', \
                     or mock the state in the mock config"
                )),
            }),
        }
    }

    async fn call_endpoint(
        &self,
        endpoint: &str,
        name: &str,
        payload: &Value,
    ) -> Result<Value, StateError> {
        let url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            endpoint.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
        );
        let failed = |cause: String| StateError {
            error: "Lambda.ServiceException".into(),
            cause: Some(cause),
        };
        let request = http::Request::post(&url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(payload.to_string())))
            .map_err(|e| failed(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| failed(format!("{url}: {e}")))?;
        let status = response.status();
        let function_error = response.headers().get("x-amz-function-error").is_some();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).to_string());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| failed(e.to_string()))?
            .to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        if function_error {
            return Err(function_failure(&text));
        }
        if !status.is_success() {
            let kind = error_type.unwrap_or_else(|| format!("Status{}", status.as_u16()));
            return Err(StateError {
                error: format!("Lambda.{kind}"),
                cause: Some(text),
            });
        }
        Ok(parse_result(&text))
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

async fn run_command(name: &str, argv: &[String], payload: &Value) -> Result<Value, StateError> {
    let failed = |cause: String| StateError {
        error: "States.TaskFailed".into(),
        cause: Some(cause),
    };
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| failed(format!("the command for Lambda function '{name}' is empty")))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            failed(format!(
                "cannot run {program} for Lambda function '{name}': {e}"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let event = payload.to_string();
        // A command that does not read its stdin is fine.
        let _ = stdin.write_all(event.as_bytes()).await;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| failed(format!("{program} for Lambda function '{name}': {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        if stdout.contains("errorType") {
            return Err(function_failure(stdout.trim()));
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(failed(format!(
            "{program} for Lambda function '{name}' exited with {}: {}",
            out.status,
            stderr.trim()
        )));
    }
    Ok(parse_result(&stdout))
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
}
