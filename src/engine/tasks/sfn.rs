//! Step Functions as a Task resource, against the engine that runs the calling execution:
//!
//! - the optimized integration `arn:aws:states:::states:startExecution` (request-response:
//!   `{ExecutionArn, StartDate}` plus the SDK's HTTP metadata, as AWS records it), `.sync`
//!   (waits; the result is the DescribeExecution output with `Output` as JSON text, and a child
//!   that does not succeed fails the task with `States.TaskFailed` and that description as the
//!   cause), `.sync:2` (the same with `Input`/`Output` as JSON) and `.waitForTaskToken` (starts
//!   the child; the runtime then waits for the token);
//! - the AWS SDK integration `arn:aws:states:::aws-sdk:sfn:<action>` for `startExecution`
//!   (an `Input` that is not a string is serialised implicitly), `describeExecution` and
//!   `listExecutions`, with the SDK's PascalCase shapes and its `Sfn.<Code>Exception` errors.
//!
//! The engine is reached through [`Executions`], which the runtime implements; this module
//! knows nothing of the store or the interpreter. A child's input is passed as given: a parent
//! links itself to the child the way AWS documents it, with
//! `"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"` in `Input`.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::engine::effects::{StateError, TaskRequest};

/// StartExecution as a nested execution asks for it.
#[derive(Clone, Debug, PartialEq)]
pub struct StartRequest {
    pub state_machine_arn: String,
    pub name: Option<String>,
    /// JSON text.
    pub input: String,
}

/// A started execution.
#[derive(Clone, Debug, PartialEq)]
pub struct Started {
    pub execution_arn: String,
    pub start_date: OffsetDateTime,
}

/// An execution as DescribeExecution reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`.
    pub status: String,
    pub start_date: OffsetDateTime,
    pub stop_date: Option<OffsetDateTime>,
    /// JSON text.
    pub input: String,
    /// JSON text.
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// ListExecutions as the SDK integration asks for it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListRequest {
    pub state_machine_arn: String,
    pub status_filter: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// One page of ListExecutions.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionPage {
    pub executions: Vec<Execution>,
    pub next_token: Option<String>,
}

/// An error the Step Functions API answered with (`ExecutionDoesNotExist`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceError {
    /// AWS's error code, e.g. `StateMachineDoesNotExist`, `ValidationException`.
    pub code: String,
    pub message: String,
    /// HTTP status (400 for every named error).
    pub status: u16,
}

/// The Step Functions actions nested executions use, served by the engine itself.
#[async_trait::async_trait]
pub trait Executions: Send + Sync {
    /// StartExecution.
    async fn start_execution(&self, request: StartRequest) -> Result<Started, ServiceError>;
    /// Starts an execution, reports it through `started`, and waits until it ends. If the
    /// returned future is dropped first (the parent was stopped or its task timed out), the
    /// child is stopped, as AWS does for `.sync` jobs.
    async fn run_execution(
        &self,
        request: StartRequest,
        started: &(dyn for<'s> Fn(&'s Started) + Send + Sync),
    ) -> Result<Execution, ServiceError>;
    /// DescribeExecution.
    async fn describe_execution(&self, execution_arn: &str) -> Result<Execution, ServiceError>;
    /// ListExecutions.
    async fn list_executions(&self, request: ListRequest) -> Result<ExecutionPage, ServiceError>;
}

/// How an optimized `states:startExecution` task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pattern {
    /// Request-response (and `.waitForTaskToken`, which the runtime strips).
    Start,
    /// `.sync`: the description with `Input`/`Output` as JSON text.
    Sync,
    /// `.sync:2`: the description with `Input`/`Output` as JSON.
    Sync2,
}

impl Pattern {
    /// The pattern of an optimized Step Functions resource, `None` for other resources.
    pub(super) fn of(resource: &str) -> Option<Pattern> {
        match resource {
            "arn:aws:states:::states:startExecution" => Some(Pattern::Start),
            "arn:aws:states:::states:startExecution.sync" => Some(Pattern::Sync),
            "arn:aws:states:::states:startExecution.sync:2" => Some(Pattern::Sync2),
            _ => None,
        }
    }
}

/// Runs `arn:aws:states:::states:startExecution[.sync[:2]]`. `submitted` hears the
/// StartExecution answer of a `.sync` task (AWS records it as `TaskSubmitted`).
pub(super) async fn start_execution(
    executions: &dyn Executions,
    request: &TaskRequest,
    pattern: Pattern,
    submitted: Option<&(dyn Fn(Value) + Send + Sync)>,
) -> Result<Value, StateError> {
    let start = start_request(request, optimized_input)?;
    if pattern == Pattern::Start {
        let started = executions
            .start_execution(start)
            .await
            .map_err(|e| optimized_error(&e))?;
        return Ok(start_output(&started));
    }
    let report = |s: &Started| {
        if let Some(submitted) = submitted {
            submitted(start_output(s));
        }
    };
    let execution = executions
        .run_execution(start, &report)
        .await
        .map_err(|e| optimized_error(&e))?;
    let description = sync_description(&execution, pattern == Pattern::Sync2);
    if execution.status == "SUCCEEDED" {
        Ok(description)
    } else {
        Err(StateError {
            error: "States.TaskFailed".into(),
            cause: Some(description.to_string()),
        })
    }
}

/// Runs `arn:aws:states:::aws-sdk:sfn:<action>`.
pub(super) async fn aws_sdk(
    executions: &dyn Executions,
    request: &TaskRequest,
    action: &str,
) -> Result<Value, StateError> {
    match action {
        "startExecution" => {
            let start = start_request(request, sdk_input)?;
            let started = executions
                .start_execution(start)
                .await
                .map_err(|e| sdk_error(&e))?;
            Ok(json!({
                "ExecutionArn": started.execution_arn,
                "StartDate": sdk_date(started.start_date),
            }))
        }
        "describeExecution" => {
            let arn = required_string(request, "ExecutionArn")?;
            let execution = executions
                .describe_execution(&arn)
                .await
                .map_err(|e| sdk_error(&e))?;
            Ok(sdk_description(&execution))
        }
        "listExecutions" => {
            let list = ListRequest {
                state_machine_arn: required_string(request, "StateMachineArn")?,
                status_filter: optional_string(request, "StatusFilter")?,
                max_results: match request.parameters.get("MaxResults") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(v.as_i64().ok_or_else(|| {
                        super::bad_parameters(request, "The field 'MaxResults' must be a number")
                    })?),
                },
                next_token: optional_string(request, "NextToken")?,
            };
            let page = executions
                .list_executions(list)
                .await
                .map_err(|e| sdk_error(&e))?;
            let items: Vec<Value> = page.executions.iter().map(sdk_list_item).collect();
            let mut out = Map::new();
            out.insert("Executions".into(), Value::Array(items));
            if let Some(token) = page.next_token {
                out.insert("NextToken".into(), Value::String(token));
            }
            Ok(Value::Object(out))
        }
        other => Err(StateError {
            error: "States.Runtime".into(),
            cause: Some(format!(
                "An error occurred while executing the state '{}'. stepgate's local engine runs \
                 the AWS SDK integration for Step Functions with the actions startExecution, \
                 describeExecution and listExecutions, not '{other}'; mock this state to run it.",
                request.state_name
            )),
        }),
    }
}

// === parameters ===

fn start_request(
    request: &TaskRequest,
    input: fn(&TaskRequest) -> Result<String, StateError>,
) -> Result<StartRequest, StateError> {
    Ok(StartRequest {
        state_machine_arn: required_string(request, "StateMachineArn")?,
        name: optional_string(request, "Name")?,
        input: input(request)?,
    })
}

fn required_string(request: &TaskRequest, field: &str) -> Result<String, StateError> {
    optional_string(request, field)?.ok_or_else(|| {
        super::bad_parameters(
            request,
            &format!("The field '{field}' is required but was missing"),
        )
    })
}

fn optional_string(request: &TaskRequest, field: &str) -> Result<Option<String>, StateError> {
    match request.parameters.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(super::bad_parameters(
            request,
            &format!("The value of the field '{field}' has an invalid format"),
        )),
    }
}

/// The optimized integration's `Input`: text as given; any other JSON compactly
/// serialised; absent or null → `{}` (AWS starts the child with `"{}"`).
fn optimized_input(request: &TaskRequest) -> Result<String, StateError> {
    Ok(match request.parameters.get("Input") {
        None | Some(Value::Null) => "{}".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    })
}

/// The SDK integration's `Input` is a string field; other JSON is serialised implicitly.
fn sdk_input(request: &TaskRequest) -> Result<String, StateError> {
    optimized_input(request)
}

// === results ===

/// Epoch milliseconds: how the optimized integration writes dates.
fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The SDK integration's dates: ISO-8601 in UTC with milliseconds
/// (`2025-11-06T12:20:37.245Z`).
fn sdk_date(t: OffsetDateTime) -> String {
    crate::engine::effects::format_timestamp(t)
}

/// Epoch seconds as the Step Functions API writes `startDate` (a Java double:
/// `1.762432523245E9`).
fn api_epoch_seconds(t: OffsetDateTime) -> String {
    let ms = millis(t);
    let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let int = secs.to_string();
    let frac = format!("{frac:03}");
    let digits = format!("{int}{}", frac.trim_end_matches('0'));
    let (first, rest) = digits.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    format!("{first}.{rest}E{}", int.len() - 1)
}

/// The HTTP date of a response (`Sat, 21 Nov 2026 16:52:54 GMT`).
fn http_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let weekday = &t.weekday().to_string()[..3];
    let month = &t.month().to_string()[..3];
    format!(
        "{weekday}, {:02} {month} {} {:02}:{:02}:{:02} GMT",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The request-response result: StartExecution's answer with the SDK's HTTP metadata
/// (`Content-Length` is that of the answer the Step Functions API sends).
pub(super) fn start_output(started: &Started) -> Value {
    let body = format!(
        "{{\"executionArn\":{},\"startDate\":{}}}",
        Value::String(started.execution_arn.clone()),
        api_epoch_seconds(started.start_date)
    );
    let length = body.len().to_string();
    let request_id = uuid::Uuid::new_v4().to_string();
    let date = http_date(started.start_date);
    json!({
        "ExecutionArn": started.execution_arn,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "connection": ["keep-alive"],
                "Content-Length": [length],
                "Date": [date],
                "Content-Type": ["application/x-amz-json-1.0"],
            },
            "HttpHeaders": {
                "connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/x-amz-json-1.0",
                "Date": date,
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": millis(started.start_date),
    })
}

/// The `.sync` result (and failure cause): DescribeExecution in PascalCase, keys sorted as
/// AWS writes them; `as_json` (`.sync:2`) parses `Input` and `Output`.
fn sync_description(e: &Execution, as_json: bool) -> Value {
    let text = |s: &str| {
        if as_json {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
        } else {
            Value::String(s.to_string())
        }
    };
    let mut d = Map::new();
    if let Some(cause) = &e.cause {
        d.insert("Cause".into(), json!(cause));
    }
    if let Some(error) = &e.error {
        d.insert("Error".into(), json!(error));
    }
    d.insert("ExecutionArn".into(), json!(e.execution_arn));
    d.insert("Input".into(), text(&e.input));
    d.insert("InputDetails".into(), json!({"Included": true}));
    d.insert("Name".into(), json!(e.name));
    if let Some(output) = &e.output {
        d.insert("Output".into(), text(output));
        d.insert("OutputDetails".into(), json!({"Included": true}));
    }
    d.insert("StartDate".into(), json!(millis(e.start_date)));
    d.insert("StateMachineArn".into(), json!(e.state_machine_arn));
    d.insert("Status".into(), json!(e.status));
    if let Some(stop) = e.stop_date {
        d.insert("StopDate".into(), json!(millis(stop)));
    }
    Value::Object(d)
}

/// `aws-sdk:sfn:describeExecution`'s result.
fn sdk_description(e: &Execution) -> Value {
    let mut d = Map::new();
    if let Some(cause) = &e.cause {
        d.insert("Cause".into(), json!(cause));
    }
    if let Some(error) = &e.error {
        d.insert("Error".into(), json!(error));
    }
    d.insert("ExecutionArn".into(), json!(e.execution_arn));
    d.insert("Input".into(), json!(e.input));
    d.insert("InputDetails".into(), json!({"Included": true}));
    d.insert("Name".into(), json!(e.name));
    if let Some(output) = &e.output {
        d.insert("Output".into(), json!(output));
        d.insert("OutputDetails".into(), json!({"Included": true}));
    }
    d.insert("RedriveCount".into(), json!(0));
    if let Some(status) = crate::sfn::model::ExecutionStatus::parse(&e.status) {
        let (redrive, reason) = crate::sfn::model::ExecutionRedriveStatus::never_redriven(status);
        d.insert("RedriveStatus".into(), json!(redrive.as_str()));
        if let Some(reason) = reason {
            d.insert("RedriveStatusReason".into(), json!(reason));
        }
    }
    d.insert("StartDate".into(), json!(sdk_date(e.start_date)));
    d.insert("StateMachineArn".into(), json!(e.state_machine_arn));
    d.insert("Status".into(), json!(e.status));
    if let Some(stop) = e.stop_date {
        d.insert("StopDate".into(), json!(sdk_date(stop)));
    }
    Value::Object(d)
}

/// One item of `aws-sdk:sfn:listExecutions`.
fn sdk_list_item(e: &Execution) -> Value {
    let mut d = Map::new();
    d.insert("ExecutionArn".into(), json!(e.execution_arn));
    d.insert("Name".into(), json!(e.name));
    d.insert("RedriveCount".into(), json!(0));
    d.insert("StartDate".into(), json!(sdk_date(e.start_date)));
    d.insert("StateMachineArn".into(), json!(e.state_machine_arn));
    d.insert("Status".into(), json!(e.status));
    if let Some(stop) = e.stop_date {
        d.insert("StopDate".into(), json!(sdk_date(stop)));
    }
    Value::Object(d)
}

// === errors ===

/// The optimized integration's failure: `StepFunctions.<Code>Exception`, with the Java
/// SDK's cause text.
fn optimized_error(e: &ServiceError) -> StateError {
    StateError {
        error: format!("StepFunctions.{}", exception_name(&e.code)),
        cause: Some(format!(
            "{} (Service: AWSStepFunctions; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
            e.message,
            e.status,
            e.code,
            uuid::Uuid::new_v4()
        )),
    }
}

/// The SDK integration's failure: `Sfn.<Code>Exception`.
fn sdk_error(e: &ServiceError) -> StateError {
    StateError {
        error: format!("Sfn.{}", exception_name(&e.code)),
        cause: Some(format!(
            "{} (Service: Sfn, Status Code: {}, Request ID: {})",
            e.message,
            e.status,
            uuid::Uuid::new_v4()
        )),
    }
}

fn exception_name(code: &str) -> String {
    if code.ends_with("Exception") {
        code.to_string()
    } else {
        format!("{code}Exception")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap()
    }

    #[test]
    fn start_dates_are_written_as_java_doubles() {
        assert_eq!(api_epoch_seconds(at(1_762_432_523_245)), "1.762432523245E9");
        assert_eq!(api_epoch_seconds(at(1_762_432_523_200)), "1.7624325232E9");
        assert_eq!(api_epoch_seconds(at(1_762_432_523_000)), "1.762432523E9");
    }

    #[test]
    fn start_output_reports_the_length_of_the_api_answer() {
        let started = Started {
            execution_arn: "arn:aws:states:us-east-1:111111111111:execution:sm:x".into(),
            start_date: at(1_762_432_523_245),
        };
        let out = start_output(&started);
        let body = r#"{"executionArn":"arn:aws:states:us-east-1:111111111111:execution:sm:x","startDate":1.762432523245E9}"#;
        assert_eq!(
            out["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"],
            json!(body.len().to_string())
        );
        assert_eq!(out["StartDate"], json!(1_762_432_523_245_i64));
        assert_eq!(
            out["SdkHttpMetadata"]["AllHttpHeaders"]["Date"][0],
            json!("Thu, 06 Nov 2025 12:35:23 GMT")
        );
        assert_eq!(sdk_date(started.start_date), "2025-11-06T12:35:23.245Z");
    }

    #[test]
    fn errors_use_each_integration_naming() {
        let e = ServiceError {
            code: "StateMachineDoesNotExist".into(),
            message: "State Machine Does Not Exist: 'arn'".into(),
            status: 400,
        };
        let optimized = optimized_error(&e);
        assert_eq!(
            optimized.error,
            "StepFunctions.StateMachineDoesNotExistException"
        );
        assert!(optimized.cause.unwrap().starts_with(
            "State Machine Does Not Exist: 'arn' (Service: AWSStepFunctions; Status Code: 400; \
             Error Code: StateMachineDoesNotExist; Request ID: "
        ));
        assert_eq!(
            sdk_error(&ServiceError {
                code: "ValidationException".into(),
                message: "m".into(),
                status: 400
            })
            .error,
            "Sfn.ValidationException"
        );
    }

    #[test]
    fn sync2_parses_input_and_output() {
        let e = Execution {
            execution_arn: "a".into(),
            state_machine_arn: "s".into(),
            name: "n".into(),
            status: "SUCCEEDED".into(),
            start_date: at(1000),
            stop_date: Some(at(2000)),
            input: r#"{"x":1}"#.into(),
            output: Some("[1]".into()),
            error: None,
            cause: None,
        };
        assert_eq!(sync_description(&e, false)["Output"], json!("[1]"));
        assert_eq!(sync_description(&e, true)["Output"], json!([1]));
        assert_eq!(sync_description(&e, true)["Input"], json!({"x": 1}));
        assert_eq!(sync_description(&e, true)["StopDate"], json!(2000));
    }
}
