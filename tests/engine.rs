//! The local engine end to end: executions through `engine::runtime::Engine`, task
//! resources against real local servers and commands, the Step Functions JSON API over a
//! real socket, and durability across `kill -9` of the `stepgate sfn` binary.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use stepgate::backend::local::LocalBackend;
use stepgate::engine::runtime::{
    Clock, CreateStateMachineInput, Engine, EngineConfig, ExecutionStatus, StartExecutionInput,
    TaskConfig,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/test";

async fn engine_with(tasks: TaskConfig, factor: f64) -> Engine {
    let config = EngineConfig {
        tasks,
        clock: Clock::accelerated(factor),
        ..EngineConfig::default()
    };
    Engine::open(config).await.expect("engine opens")
}

async fn engine() -> Engine {
    engine_with(TaskConfig::default(), 1000.0).await
}

async fn create(engine: &Engine, name: &str, r#type: &str, definition: Value) -> String {
    engine
        .create_state_machine(CreateStateMachineInput {
            name: name.into(),
            definition: definition.to_string(),
            role_arn: ROLE.into(),
            r#type: Some(r#type.into()),
        })
        .await
        .expect("state machine is created")
        .arn
}

fn start(arn: &str, name: Option<&str>, input: &str) -> StartExecutionInput {
    StartExecutionInput {
        state_machine_arn: arn.into(),
        name: name.map(Into::into),
        input: Some(input.into()),
        trace_header: None,
    }
}

fn pass_wait_succeed() -> Value {
    json!({"StartAt": "Greet", "States": {
        "Greet": {"Type": "Pass", "Result": {"greeting": "hi"}, "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
}

fn waits_forever() -> Value {
    json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 99999999, "End": true}}})
}

// === executions ===

#[tokio::test]
async fn standard_execution_runs_in_background_and_records_history() {
    let engine = engine().await;
    let arn = create(&engine, "Greeter", "STANDARD", pass_wait_succeed()).await;
    let started = engine
        .start_execution(start(&arn, Some("run-1"), r#"{"who": "you"}"#))
        .await
        .unwrap();
    assert_eq!(
        started.execution_arn,
        "arn:aws:states:us-east-1:123456789012:execution:Greeter:run-1"
    );
    let done = engine.wait_execution(&started.execution_arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        serde_json::from_str::<Value>(done.output.as_deref().unwrap()).unwrap(),
        json!({"greeting": "hi"})
    );
    assert!(done.stop_date.unwrap() >= done.start_date);

    let history = engine
        .get_execution_history(&started.execution_arn, None, false, None)
        .await
        .unwrap();
    let types: Vec<&str> = history
        .items
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
    assert!(types.contains(&"WaitStateEntered"), "{types:?}");
    for (i, event) in history.items.iter().enumerate() {
        assert_eq!(event.id, i as i64 + 1);
        assert_eq!(event.previous_event_id, i as i64);
    }
    let started_input: Value =
        serde_json::from_str(history.items[0].details["input"].as_str().unwrap()).unwrap();
    assert_eq!(started_input, json!({"who": "you"}));
    assert_eq!(history.items[0].details["roleArn"], json!(ROLE));

    let reversed = engine
        .get_execution_history(&started.execution_arn, Some(2), true, None)
        .await
        .unwrap();
    assert_eq!(reversed.items[0].event_type, "ExecutionSucceeded");
    let rest = engine
        .get_execution_history(
            &started.execution_arn,
            Some(1000),
            true,
            reversed.next_token.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len() + 2, history.items.len());
    assert_eq!(rest.items.last().unwrap().event_type, "ExecutionStarted");
}

#[tokio::test]
async fn start_execution_is_idempotent_only_while_running_with_same_input() {
    let engine = engine_with(TaskConfig::default(), 1.0).await;
    let arn = create(&engine, "Sleeper", "STANDARD", waits_forever()).await;
    let first = engine
        .start_execution(start(&arn, Some("once"), r#"{"a":1}"#))
        .await
        .unwrap();
    let again = engine
        .start_execution(start(&arn, Some("once"), r#"{ "a" : 1 }"#))
        .await
        .unwrap();
    assert_eq!(again, first);
    let other = engine
        .start_execution(start(&arn, Some("once"), r#"{"a":2}"#))
        .await
        .unwrap_err();
    assert_eq!(other.code(), "ExecutionAlreadyExists");
    assert_eq!(
        other.to_string(),
        format!("Execution Already Exists: '{}'", first.execution_arn)
    );
    engine
        .stop_execution(&first.execution_arn, None, None)
        .await
        .unwrap();
    let closed = engine
        .start_execution(start(&arn, Some("once"), r#"{"a":1}"#))
        .await
        .unwrap_err();
    assert_eq!(closed.code(), "ExecutionAlreadyExists");
}

#[tokio::test]
async fn stop_execution_aborts_and_closes_history() {
    let engine = engine_with(TaskConfig::default(), 1.0).await;
    let arn = create(&engine, "Sleeper", "STANDARD", waits_forever()).await;
    let run = engine
        .start_execution(start(&arn, None, "{}"))
        .await
        .unwrap();
    let running = engine.describe_execution(&run.execution_arn).await.unwrap();
    assert_eq!(running.status, ExecutionStatus::Running);
    assert_eq!(
        running.name.len(),
        36,
        "a UUID names executions started without a name"
    );
    let stopped_at = engine
        .stop_execution(
            &run.execution_arn,
            Some("Cancelled".into()),
            Some("by test".into()),
        )
        .await
        .unwrap();
    let stopped = engine.wait_execution(&run.execution_arn).await.unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
    assert_eq!(stopped.stop_date, Some(stopped_at));
    assert_eq!(
        (stopped.error.as_deref(), stopped.cause.as_deref()),
        (Some("Cancelled"), Some("by test"))
    );
    let history = engine
        .get_execution_history(&run.execution_arn, None, false, None)
        .await
        .unwrap();
    let last = history.items.last().unwrap();
    assert_eq!(last.event_type, "ExecutionAborted");
    assert_eq!(
        last.details,
        json!({"error": "Cancelled", "cause": "by test"})
    );
    // Stopping again reports the same stop date and changes nothing.
    engine
        .stop_execution(&run.execution_arn, None, None)
        .await
        .unwrap();
    assert_eq!(
        engine.describe_execution(&run.execution_arn).await.unwrap(),
        stopped
    );
}

#[tokio::test]
async fn list_executions_pages_newest_first_and_filters_by_status() {
    let engine = engine().await;
    let arn = create(
        &engine,
        "Quick",
        "STANDARD",
        json!({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
    )
    .await;
    for i in 0..5 {
        let run = engine
            .start_execution(start(&arn, Some(&format!("run-{i}")), "{}"))
            .await
            .unwrap();
        engine.wait_execution(&run.execution_arn).await.unwrap();
    }
    let first = engine
        .list_executions(&arn, None, Some(2), None)
        .await
        .unwrap();
    let names: Vec<_> = first.items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["run-4", "run-3"]);
    let second = engine
        .list_executions(&arn, None, Some(10), first.next_token.as_deref())
        .await
        .unwrap();
    let names: Vec<_> = second.items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["run-2", "run-1", "run-0"]);
    assert_eq!(second.next_token, None);
    let running = engine
        .list_executions(&arn, Some("RUNNING"), None, None)
        .await
        .unwrap();
    assert!(running.items.is_empty());
    let bad = engine
        .list_executions(&arn, Some("succeeded"), None, None)
        .await
        .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: \
         Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
    );
    let token = engine
        .list_executions(&arn, None, None, Some("garbage"))
        .await
        .unwrap_err();
    assert_eq!(token.code(), "InvalidToken");
}

#[tokio::test]
async fn express_machines_follow_aws_restrictions() {
    let engine = engine().await;
    let express = create(
        &engine,
        "Fast",
        "EXPRESS",
        json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": 42, "End": true}}}),
    )
    .await;
    let standard = create(&engine, "Slow", "STANDARD", pass_wait_succeed()).await;

    let sync = engine
        .start_sync_execution(start(&express, Some("n"), "{}"))
        .await
        .unwrap();
    assert_eq!(sync.execution.status, ExecutionStatus::Succeeded);
    assert_eq!(sync.execution.output.as_deref(), Some("42"));
    assert!(
        sync.execution
            .arn
            .starts_with("arn:aws:states:us-east-1:123456789012:express:Fast:n:")
    );
    assert_eq!(sync.billed_duration_ms % 100, 0);

    let e = engine
        .start_sync_execution(start(&standard, None, "{}"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        (
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine"
        )
    );
    let e = engine
        .describe_execution(&sync.execution.arn)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid Arn: 'Resource type not valid in this context: express'"
    );
    let e = engine
        .stop_execution(&sync.execution.arn, None, None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "InvalidArn");
    let e = engine
        .list_executions(&express, None, None, None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "StateMachineTypeNotSupported");

    let async_start = engine
        .start_execution(start(&express, Some("bg"), "{}"))
        .await
        .unwrap();
    assert!(async_start.execution_arn.contains(":express:Fast:bg:"));

    let callback = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "End": true,
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken"}}});
    let e = engine
        .create_state_machine(CreateStateMachineInput {
            name: "NoCallbacks".into(),
            definition: callback.to_string(),
            role_arn: ROLE.into(),
            r#type: Some("EXPRESS".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not \
         support '.waitForTaskToken' service integration at /States/T/Resource'"
    );
}

#[tokio::test]
async fn state_machine_registry_checks_names_definitions_and_duplicates() {
    let engine = engine().await;
    let def = pass_wait_succeed();
    let arn = create(&engine, "Orders", "STANDARD", def.clone()).await;
    // Identical request: idempotent.
    assert_eq!(create(&engine, "Orders", "STANDARD", def).await, arn);
    let other = engine
        .create_state_machine(CreateStateMachineInput {
            name: "Orders".into(),
            definition: waits_forever().to_string(),
            role_arn: ROLE.into(),
            r#type: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        other.to_string(),
        format!("State Machine Already Exists: '{arn}'")
    );
    let missing = engine
        .create_state_machine(CreateStateMachineInput {
            name: "Broken".into(),
            definition: "{}".into(),
            role_arn: ROLE.into(),
            r#type: None,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "InvalidDefinition");
    assert!(
        missing.to_string().contains("SCHEMA_VALIDATION_FAILED"),
        "{missing}"
    );
    let bad_name = engine
        .create_state_machine(CreateStateMachineInput {
            name: "has space".into(),
            definition: "{}".into(),
            role_arn: ROLE.into(),
            r#type: None,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_name.to_string(), "Invalid Name: 'has space'");

    let listed = engine.list_state_machines(None, None).unwrap();
    assert_eq!(listed.items.len(), 1);
    engine.delete_state_machine(&arn).await.unwrap();
    let gone = engine
        .start_execution(start(&arn, None, "{}"))
        .await
        .unwrap_err();
    assert_eq!(
        gone.to_string(),
        format!("State Machine Does Not Exist: '{arn}'")
    );
    let bad_arn = engine.describe_state_machine("nope").unwrap_err();
    assert_eq!(bad_arn.code(), "InvalidArn");
}

#[tokio::test]
async fn bad_execution_input_and_names_are_rejected() {
    let engine = engine().await;
    let arn = create(&engine, "M", "STANDARD", pass_wait_succeed()).await;
    let e = engine
        .start_execution(start(&arn, None, "not json"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "InvalidExecutionInput");
    let e = engine
        .start_execution(start(&arn, None, ""))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid State Machine Execution Input: 'Invalid execution input.'"
    );
    let e = engine
        .start_execution(start(&arn, Some("a/b"), "{}"))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "Invalid Name: 'a/b'");
    let e = engine
        .start_execution(start(&format!("{arn}#NoSuchCase"), None, "{}"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "InvalidName");
}

// === task tokens ===

/// A machine whose task hands its token to a local "Lambda" command that saves it.
fn callback_machine(heartbeat: Option<u64>) -> Value {
    let mut task = json!({"Type": "Task", "End": true,
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "keep-token", "Payload": {"token.$": "$$.Task.Token"}}});
    if let Some(seconds) = heartbeat {
        task["HeartbeatSeconds"] = json!(seconds);
    }
    json!({"StartAt": "Ask", "States": {"Ask": task}})
}

fn token_keeper(dir: &std::path::Path) -> TaskConfig {
    let file = dir.join("event.json");
    let mut tasks = TaskConfig::default();
    tasks.lambda_commands.insert(
        "keep-token".into(),
        vec![
            "sh".into(),
            "-c".into(),
            format!("cat > {}.tmp && mv {0}.tmp {0}", file.display()),
        ],
    );
    tasks
}

async fn read_token(dir: &std::path::Path) -> String {
    let file = dir.join("event.json");
    for _ in 0..500 {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let event: Value = serde_json::from_str(&text).expect("the command saw JSON on stdin");
            return event["token"]
                .as_str()
                .expect("token in payload")
                .to_string();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the task never ran its command");
}

#[tokio::test]
async fn wait_for_task_token_resumes_on_send_task_success() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with(token_keeper(dir.path()), 1.0).await;
    let arn = create(&engine, "Approval", "STANDARD", callback_machine(None)).await;
    let run = engine
        .start_execution(start(&arn, None, "{}"))
        .await
        .unwrap();
    let token = read_token(dir.path()).await;

    let e = engine
        .send_task_success(&token, "not json")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "InvalidOutput");
    engine.send_task_heartbeat(&token).await.unwrap();
    engine
        .send_task_success(&token, r#"{"approved": true}"#)
        .await
        .unwrap();
    let done = engine.wait_execution(&run.execution_arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        serde_json::from_str::<Value>(done.output.as_deref().unwrap()).unwrap(),
        json!({"approved": true})
    );

    let late = engine.send_task_success(&token, "{}").await.unwrap_err();
    assert_eq!(late.code(), "TaskTimedOut");
    let unknown = engine
        .send_task_failure("never-issued", None, None)
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), "TaskDoesNotExist");
    let empty = engine.send_task_heartbeat("").await.unwrap_err();
    assert_eq!(empty.code(), "InvalidToken");
}

#[tokio::test]
async fn send_task_failure_fails_the_execution() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with(token_keeper(dir.path()), 1.0).await;
    let arn = create(&engine, "Approval", "STANDARD", callback_machine(None)).await;
    let run = engine
        .start_execution(start(&arn, None, "{}"))
        .await
        .unwrap();
    let token = read_token(dir.path()).await;
    engine
        .send_task_failure(&token, Some("Rejected".into()), Some("no budget".into()))
        .await
        .unwrap();
    let done = engine.wait_execution(&run.execution_arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(
        (done.error.as_deref(), done.cause.as_deref()),
        (Some("Rejected"), Some("no budget"))
    );
}

#[tokio::test]
async fn missing_heartbeat_times_the_task_out() {
    let dir = tempfile::tempdir().unwrap();
    // 10 s of heartbeat on a clock 1000x faster than wall time: 10 ms.
    let engine = engine_with(token_keeper(dir.path()), 1000.0).await;
    let arn = create(&engine, "Approval", "STANDARD", callback_machine(Some(10))).await;
    let run = engine
        .start_execution(start(&arn, None, "{}"))
        .await
        .unwrap();
    let done = engine.wait_execution(&run.execution_arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("States.HeartbeatTimeout"));
}

// === task resources ===

#[tokio::test]
async fn mocked_responses_are_chosen_by_test_case() {
    let dir = tempfile::tempdir().unwrap();
    let mock = dir.path().join("mocks.json");
    std::fs::write(
        &mock,
        json!({
            "StateMachines": {"Billing": {"TestCases": {
                "Happy": {"Charge": "Charged"},
                "Declined": {"Charge": "Declined"}}}},
            "MockedResponses": {
                "Charged": {"0": {"Return": {"charged": 12}}},
                "Declined": {"0": {"Throw": {"Error": "CardDeclined", "Cause": "insufficient funds"}}}}})
        .to_string(),
    )
    .unwrap();
    let tasks = TaskConfig {
        mock_config: Some(mock),
        ..TaskConfig::default()
    };
    let engine = engine_with(tasks, 1000.0).await;
    let arn = create(&engine, "Billing", "EXPRESS", json!({"StartAt": "Charge", "States": {"Charge": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge", "End": true}}})).await;

    let happy = engine
        .start_sync_execution(start(&format!("{arn}#Happy"), None, "{}"))
        .await
        .unwrap();
    assert_eq!(happy.execution.output.as_deref(), Some(r#"{"charged":12}"#));
    assert_eq!(happy.execution.state_machine_arn, arn);
    let declined = engine
        .start_sync_execution(start(&format!("{arn}#Declined"), None, "{}"))
        .await
        .unwrap();
    assert_eq!(declined.execution.status, ExecutionStatus::Failed);
    assert_eq!(declined.execution.error.as_deref(), Some("CardDeclined"));
    // Without a test case nothing is mocked, and nothing runs Lambda: a clear failure.
    let unmocked = engine
        .start_sync_execution(start(&arn, None, "{}"))
        .await
        .unwrap();
    assert_eq!(unmocked.execution.error.as_deref(), Some("States.Runtime"));
    assert!(unmocked.execution.cause.unwrap().contains("charge"));
}

#[tokio::test]
async fn a_mocked_sync_job_is_recorded_as_submitted() {
    let dir = tempfile::tempdir().unwrap();
    let mock = dir.path().join("mocks.json");
    std::fs::write(
        &mock,
        json!({
            "StateMachines": {"Jobs": {"TestCases": {"Done": {"Run": "Finished"}}}},
            "MockedResponses": {"Finished": {"0": {"Return": {"Status": "SUCCEEDED"}}}}})
        .to_string(),
    )
    .unwrap();
    let tasks = TaskConfig {
        mock_config: Some(mock),
        ..TaskConfig::default()
    };
    let engine = engine_with(tasks, 1000.0).await;
    let arn = create(
        &engine,
        "Jobs",
        "STANDARD",
        json!({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "End": true}}}),
    )
    .await;
    let run = engine
        .start_execution(start(&format!("{arn}#Done"), None, "{}"))
        .await
        .unwrap();
    let done = engine.wait_execution(&run.execution_arn).await.unwrap();
    assert_eq!(done.output.as_deref(), Some(r#"{"Status":"SUCCEEDED"}"#));
    assert_eq!(
        history_types(&engine, &run.execution_arn).await[2..6],
        [
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded"
        ]
    );
}

/// A local HTTP server answering every request with its own method, path, query,
/// headers and body as JSON, or 403 on `/forbidden`.
async fn echo_server() -> std::net::SocketAddr {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |req: http::Request<hyper::body::Incoming>| async move {
                        let method = req.method().to_string();
                        let path = req.uri().path().to_string();
                        let query = req.uri().query().unwrap_or("").to_string();
                        let header = req
                            .headers()
                            .get("x-custom")
                            .map(|v| v.to_str().unwrap().to_string());
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let (status, text) = if path.ends_with("/forbidden") {
                            (
                                403,
                                r#"{"message":"Missing Authentication Token"}"#.to_string(),
                            )
                        } else {
                            let echo = json!({"method": method, "path": path, "query": query, "header": header,
                                          "body": String::from_utf8_lossy(&body)});
                            (200, echo.to_string())
                        };
                        let response = http::Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(http_body_util::Full::new(bytes::Bytes::from(text)))
                            .unwrap();
                        Ok::<_, std::convert::Infallible>(response)
                    },
                );
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn apigateway_invoke_calls_the_mapped_host() {
    let addr = echo_server().await;
    let mut tasks = TaskConfig::default();
    tasks.host_mappings.insert(
        "abc123.execute-api.us-east-1.amazonaws.com".into(),
        format!("http://{addr}"),
    );
    let engine = engine_with(tasks, 1000.0).await;
    let call = |path: &str| {
        json!({"StartAt": "Call", "States": {"Call": {"Type": "Task", "End": true,
        "Resource": "arn:aws:states:::apigateway:invoke",
        "Parameters": {"ApiEndpoint": "abc123.execute-api.us-east-1.amazonaws.com", "Method": "POST",
            "Stage": "prod", "Path": path, "Headers": {"X-Custom": ["yes"]},
            "QueryParameters": {"billId": ["123"]}, "RequestBody": {"n": 1}, "AuthType": "NO_AUTH"}}}})
    };
    let ok = create(&engine, "CallOk", "EXPRESS", call("bills")).await;
    let run = engine
        .start_sync_execution(start(&ok, None, "{}"))
        .await
        .unwrap();
    assert_eq!(
        run.execution.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        run.execution.cause
    );
    let out: Value = serde_json::from_str(run.execution.output.as_deref().unwrap()).unwrap();
    assert_eq!(out["StatusCode"], json!(200));
    assert_eq!(out["StatusText"], json!("OK"));
    assert_eq!(out["Headers"]["Content-Type"], json!(["application/json"]));
    assert_eq!(
        out["ResponseBody"],
        json!({"method": "POST", "path": "/prod/bills", "query": "billId=123", "header": "yes", "body": r#"{"n":1}"#})
    );

    let denied = create(&engine, "CallDenied", "EXPRESS", call("forbidden")).await;
    let run = engine
        .start_sync_execution(start(&denied, None, "{}"))
        .await
        .unwrap();
    assert_eq!(run.execution.status, ExecutionStatus::Failed);
    assert_eq!(run.execution.error.as_deref(), Some("ApiGateway.403"));
    assert_eq!(
        run.execution.cause.as_deref(),
        Some(r#"{"message":"Missing Authentication Token"}"#)
    );
}

#[tokio::test]
async fn http_invoke_rejects_forbidden_headers_and_calls_urls() {
    let addr = echo_server().await;
    let engine = engine().await;
    let call = |headers: Value| {
        json!({"StartAt": "Call", "States": {"Call": {"Type": "Task", "End": true,
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": format!("http://{addr}/hook"), "Method": "GET", "Headers": headers,
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/c"}}}}})
    };
    let ok = create(&engine, "Hook", "EXPRESS", call(json!({"X-Custom": "v"}))).await;
    let run = engine
        .start_sync_execution(start(&ok, None, "{}"))
        .await
        .unwrap();
    let out: Value = serde_json::from_str(run.execution.output.as_deref().unwrap()).unwrap();
    assert_eq!(out["ResponseBody"]["path"], json!("/hook"));
    assert_eq!(out["ResponseBody"]["header"], json!("v"));

    let bad = create(&engine, "BadHook", "EXPRESS", call(json!({"Host": "evil"}))).await;
    let run = engine
        .start_sync_execution(start(&bad, None, "{}"))
        .await
        .unwrap();
    assert_eq!(run.execution.error.as_deref(), Some("States.Runtime"));
    assert!(
        run.execution
            .cause
            .unwrap()
            .contains("The header 'Host' is not allowed")
    );
}

// === nested executions ===

/// Runs `definition` as a STANDARD machine on `input` and returns the finished execution.
async fn run_parent(
    engine: &Engine,
    name: &str,
    definition: Value,
    input: Value,
) -> stepgate::engine::runtime::ExecutionRecord {
    let arn = create(engine, name, "STANDARD", definition).await;
    let run = engine
        .start_execution(start(&arn, Some("parent"), &input.to_string()))
        .await
        .unwrap();
    engine.wait_execution(&run.execution_arn).await.unwrap()
}

async fn history_types(engine: &Engine, execution: &str) -> Vec<String> {
    engine
        .get_execution_history(execution, Some(1000), false, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

fn echo_child() -> Value {
    json!({"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Parameters": {"got.$": "$"}, "End": true}}})
}

fn nested_task(resource: &str, child: &str, input: Value) -> Value {
    json!({"StartAt": "Nest", "States": {"Nest": {
        "Type": "Task", "Resource": resource,
        "Parameters": {"StateMachineArn": child, "Name": "kid", "Input": input},
        "End": true}}})
}

#[tokio::test]
async fn sync_nested_execution_returns_the_child_description_and_links_both() {
    let engine = engine().await;
    let child = create(&engine, "Child", "STANDARD", echo_child()).await;
    let input =
        json!({"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"});
    let parent = run_parent(
        &engine,
        "Parent",
        nested_task("arn:aws:states:::states:startExecution.sync", &child, input),
        json!({"n": 5}),
    )
    .await;
    assert_eq!(parent.status, ExecutionStatus::Succeeded, "{parent:?}");
    let output: Value = serde_json::from_str(parent.output.as_deref().unwrap()).unwrap();
    let child_execution = "arn:aws:states:us-east-1:123456789012:execution:Child:kid";
    assert_eq!(output["ExecutionArn"], json!(child_execution));
    assert_eq!(output["Status"], json!("SUCCEEDED"));
    assert_eq!(output["StateMachineArn"], json!(child));
    assert!(
        output["StartDate"].is_i64() && output["StopDate"].is_i64(),
        "{output}"
    );
    // `.sync`: Input and Output are JSON text; the child knows its parent.
    let expected_input = json!({"n": 5, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": parent.arn});
    let child_output: Value = serde_json::from_str(output["Output"].as_str().unwrap()).unwrap();
    assert_eq!(child_output, json!({"got": expected_input}));
    let child_input: Value = serde_json::from_str(output["Input"].as_str().unwrap()).unwrap();
    assert_eq!(child_input, expected_input);
    let described = engine.describe_execution(child_execution).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&described.input).unwrap(),
        expected_input
    );
    // The parent's history names the child in TaskSubmitted, before TaskSucceeded.
    assert_eq!(
        history_types(&engine, &parent.arn).await,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let events = engine
        .get_execution_history(&parent.arn, None, false, None)
        .await
        .unwrap()
        .items;
    let submitted = events
        .iter()
        .find(|e| e.event_type == "TaskSubmitted")
        .unwrap();
    assert_eq!(submitted.details["resource"], json!("startExecution.sync"));
    assert_eq!(submitted.details["resourceType"], json!("states"));
    let submitted_output: Value =
        serde_json::from_str(submitted.details["output"].as_str().unwrap()).unwrap();
    assert_eq!(submitted_output["ExecutionArn"], json!(child_execution));
    assert_eq!(
        submitted_output["SdkHttpMetadata"]["HttpStatusCode"],
        json!(200)
    );
}

#[tokio::test]
async fn sync2_returns_json_and_a_failed_child_fails_the_task() {
    let engine = engine().await;
    let child = create(&engine, "Child", "STANDARD", echo_child()).await;
    let parent = run_parent(
        &engine,
        "Json",
        nested_task(
            "arn:aws:states:::states:startExecution.sync:2",
            &child,
            json!({"a": 1}),
        ),
        json!({}),
    )
    .await;
    let output: Value = serde_json::from_str(parent.output.as_deref().unwrap()).unwrap();
    assert_eq!(output["Output"], json!({"got": {"a": 1}}));
    assert_eq!(output["Input"], json!({"a": 1}));
    assert_eq!(
        history_types(&engine, &parent.arn).await[3..6],
        ["TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    );

    let failing = create(
        &engine,
        "Failing",
        "STANDARD",
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}}),
    )
    .await;
    let parent = run_parent(
        &engine,
        "Delegates",
        nested_task(
            "arn:aws:states:::states:startExecution.sync",
            &failing,
            Value::Null,
        ),
        json!({}),
    )
    .await;
    assert_eq!(parent.status, ExecutionStatus::Failed);
    assert_eq!(parent.error.as_deref(), Some("States.TaskFailed"));
    let cause: Value = serde_json::from_str(parent.cause.as_deref().unwrap()).unwrap();
    assert_eq!(cause["Error"], json!("Boom"));
    assert_eq!(cause["Cause"], json!("bad"));
    assert_eq!(cause["Status"], json!("FAILED"));
    assert_eq!(
        cause["Input"],
        json!("{}"),
        "a null Input starts the child with {{}}"
    );
    assert!(cause.get("Output").is_none(), "{cause}");

    let parent = run_parent(
        &engine,
        "Dangling",
        nested_task(
            "arn:aws:states:::states:startExecution.sync",
            "arn:aws:states:us-east-1:123456789012:stateMachine:Nope",
            json!({}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        parent.error.as_deref(),
        Some("StepFunctions.StateMachineDoesNotExistException")
    );
    assert!(
        parent.cause.as_deref().unwrap().starts_with(
            "State Machine Does Not Exist: 'arn:aws:states:us-east-1:123456789012:stateMachine:Nope' \
             (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist;"
        ),
        "{:?}",
        parent.cause
    );
    assert!(
        !history_types(&engine, &parent.arn)
            .await
            .contains(&"TaskSubmitted".to_string()),
        "a child that never started was not submitted"
    );
}

#[tokio::test]
async fn start_execution_returns_at_once_and_wait_for_task_token_waits_for_the_child() {
    let engine = engine().await;
    let sleeper = create(&engine, "Sleeper", "STANDARD", waits_forever()).await;
    let parent = run_parent(
        &engine,
        "Starter",
        nested_task(
            "arn:aws:states:::states:startExecution",
            &sleeper,
            json!({}),
        ),
        json!({}),
    )
    .await;
    let output: Value = serde_json::from_str(parent.output.as_deref().unwrap()).unwrap();
    let child = output["ExecutionArn"].as_str().unwrap().to_string();
    assert!(output["StartDate"].is_i64(), "{output}");
    assert_eq!(
        output["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"],
        json!("application/x-amz-json-1.0")
    );
    // The parent did not wait for its child, which runs on.
    assert_eq!(
        engine.describe_execution(&child).await.unwrap().status,
        ExecutionStatus::Running
    );
    engine.stop_execution(&child, None, None).await.unwrap();

    let sleeper = create(&engine, "Sleeper2", "STANDARD", waits_forever()).await;
    let callback = create(
        &engine,
        "Callback",
        "STANDARD",
        nested_task(
            "arn:aws:states:::states:startExecution.waitForTaskToken",
            &sleeper,
            json!({"token.$": "$$.Task.Token"}),
        ),
    )
    .await;
    let run = engine
        .start_execution(start(&callback, Some("cb"), "{}"))
        .await
        .unwrap();
    let token = loop {
        let page = engine
            .list_executions(&sleeper, None, None, None)
            .await
            .unwrap();
        if let Some(child) = page.items.first() {
            let input: Value = serde_json::from_str(&child.input).unwrap();
            break input["token"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    engine
        .send_task_success(&token, r#"{"ok": true}"#)
        .await
        .unwrap();
    let done = engine.wait_execution(&run.execution_arn).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.output.as_deref(), Some(r#"{"ok":true}"#));
}

#[tokio::test]
async fn stopping_a_parent_stops_its_sync_child() {
    let engine = engine().await;
    let sleeper = create(&engine, "Sleeper", "STANDARD", waits_forever()).await;
    let parent = create(
        &engine,
        "Parent",
        "STANDARD",
        nested_task(
            "arn:aws:states:::states:startExecution.sync",
            &sleeper,
            json!({}),
        ),
    )
    .await;
    let run = engine
        .start_execution(start(&parent, Some("p"), "{}"))
        .await
        .unwrap();
    let child = "arn:aws:states:us-east-1:123456789012:execution:Sleeper:kid";
    while engine.describe_execution(child).await.is_err() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine
        .stop_execution(&run.execution_arn, None, None)
        .await
        .unwrap();
    let stopped = engine.wait_execution(child).await.unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
}

#[tokio::test]
async fn aws_sdk_sfn_actions_run_on_the_engine() {
    let engine = engine().await;
    let sleeper = create(&engine, "Sleeper", "STANDARD", waits_forever()).await;
    let definition = json!({"StartAt": "Start", "States": {
        "Start": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
                  "Parameters": {"StateMachineArn": sleeper, "Input": {"key": "value"}},
                  "ResultPath": "$.started", "Next": "Describe"},
        "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
                     "Parameters": {"ExecutionArn.$": "$.started.ExecutionArn"},
                     "ResultPath": "$.described", "Next": "List"},
        "List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:listExecutions",
                 "Parameters": {"StateMachineArn": sleeper, "StatusFilter": "RUNNING"},
                 "ResultPath": "$.listed", "Next": "Missing"},
        "Missing": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
                    "Parameters": {"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:Sleeper:none"},
                    "Catch": [{"ErrorEquals": ["Sfn.ExecutionDoesNotExistException"], "ResultPath": "$.caught", "Next": "Done"}],
                    "End": true},
        "Done": {"Type": "Succeed"}}});
    let parent = run_parent(&engine, "Sdk", definition, json!({})).await;
    assert_eq!(parent.status, ExecutionStatus::Succeeded, "{parent:?}");
    let out: Value = serde_json::from_str(parent.output.as_deref().unwrap()).unwrap();
    let child = out["started"]["ExecutionArn"].as_str().unwrap();
    assert!(
        out["started"]["StartDate"].as_str().unwrap().ends_with('Z'),
        "{out}"
    );
    let described = &out["described"];
    assert_eq!(described["ExecutionArn"], json!(child));
    assert_eq!(
        described["Input"],
        json!(r#"{"key":"value"}"#),
        "implicit serialisation"
    );
    assert_eq!(described["Status"], json!("RUNNING"));
    assert_eq!(described["RedriveCount"], json!(0));
    assert_eq!(described["RedriveStatus"], json!("NOT_REDRIVABLE"));
    assert_eq!(
        described["RedriveStatusReason"],
        json!("Execution is RUNNING and cannot be redriven")
    );
    assert_eq!(out["listed"]["Executions"][0]["ExecutionArn"], json!(child));
    assert_eq!(out["listed"]["Executions"].as_array().unwrap().len(), 1);
    assert_eq!(
        out["caught"]["Error"],
        json!("Sfn.ExecutionDoesNotExistException")
    );
    assert!(
        out["caught"]["Cause"]
            .as_str()
            .unwrap()
            .contains("(Service: Sfn, Status Code: 400, Request ID: "),
        "{out}"
    );
}

// === durability ===

#[tokio::test]
async fn state_machines_and_finished_executions_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let config = || EngineConfig {
        data_dir: Some(dir.path().to_path_buf()),
        clock: Clock::accelerated(1000.0),
        ..EngineConfig::default()
    };
    let (arn, execution) = {
        let engine = Engine::open(config()).await.unwrap();
        let arn = create(&engine, "Kept", "STANDARD", pass_wait_succeed()).await;
        let run = engine
            .start_execution(start(&arn, Some("r"), "{}"))
            .await
            .unwrap();
        let done = engine.wait_execution(&run.execution_arn).await.unwrap();
        engine.flush().await.unwrap();
        (arn, done)
    };
    let engine = Engine::open(config()).await.unwrap();
    assert_eq!(engine.describe_state_machine(&arn).unwrap().name, "Kept");
    assert_eq!(
        engine.describe_execution(&execution.arn).await.unwrap(),
        execution
    );
    let history = engine
        .get_execution_history(&execution.arn, None, false, None)
        .await
        .unwrap();
    assert_eq!(
        history.items.last().unwrap().event_type,
        "ExecutionSucceeded"
    );
}

// === the Step Functions API over HTTP ===

struct Api {
    url: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(&self, action: &str, body: Value) -> (u16, Value) {
        self.call_with_host(action, body, None).await
    }

    async fn call_with_host(&self, action: &str, body: Value, host: Option<&str>) -> (u16, Value) {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .body(body.to_string());
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert_eq!(
            response.headers()["content-type"],
            "application/x-amz-json-1.0"
        );
        (
            status,
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap(),
        )
    }
}

async fn serve(engine: Engine) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let backend = Arc::new(LocalBackend::new(engine));
    tokio::spawn(stepgate::server::sfn_api::serve_sfn_api(
        listener,
        backend,
        std::future::pending(),
    ));
    Api {
        url,
        client: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn sfn_json_api_answers_like_aws() {
    let api = serve(engine().await).await;
    let (status, created) = api
        .call(
            "CreateStateMachine",
            json!({"name": "Api", "definition": pass_wait_succeed().to_string(),
                                           "roleArn": ROLE}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let arn = created["stateMachineArn"].as_str().unwrap().to_string();
    assert!(created["creationDate"].is_f64() || created["creationDate"].is_u64());

    let (status, started) = api
        .call(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "x", "input": "{\"k\":1}"}),
        )
        .await;
    assert_eq!(status, 200);
    let execution = started["executionArn"].as_str().unwrap().to_string();
    let (status, described) = api
        .call("DescribeExecution", json!({"executionArn": execution}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(described["input"], json!("{\"k\":1}"));
    assert_eq!(described["stateMachineArn"], json!(arn));

    let (status, err) = api
        .call(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "x", "input": "{}"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["__type"], json!("ExecutionAlreadyExists"));
    assert_eq!(
        err["message"],
        json!(format!("Execution Already Exists: '{execution}'"))
    );

    let (status, err) = api
        .call(
            "StartExecution",
            json!({"stateMachineArn": arn, "input": "not json"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["__type"], json!("InvalidExecutionInput"));

    let (status, err) = api
        .call_with_host(
            "StartSyncExecution",
            json!({"stateMachineArn": arn}),
            Some("sync-localhost"),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["__type"], json!("StateMachineTypeNotSupported"));

    let (status, err) = api
        .call(
            "DescribeExecution",
            json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:Api:nope"}),
        )
        .await;
    assert_eq!(
        (status, &err["__type"]),
        (400, &json!("ExecutionDoesNotExist"))
    );

    let (status, err) = api.call("ListActivities", json!({})).await;
    assert_eq!(
        (status, &err["__type"]),
        (400, &json!("UnknownOperationException"))
    );

    let (status, listed) = api
        .call("ListExecutions", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["executions"][0]["name"], json!("x"));
    let (status, history) = api
        .call("GetExecutionHistory", json!({"executionArn": execution}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(history["events"][0]["type"], json!("ExecutionStarted"));
    assert_eq!(history["events"][0]["previousEventId"], json!(0));
    assert!(history["events"][0]["executionStartedEventDetails"]["input"].is_string());
}

#[tokio::test]
async fn sfn_json_api_leaves_out_execution_data_and_reports_redrive_members() {
    let engine = engine().await;
    let ok = create(&engine, "Ok", "STANDARD", pass_wait_succeed()).await;
    let failing = create(
        &engine,
        "Failing",
        "STANDARD",
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}),
    )
    .await;
    let sleeper = create(&engine, "Sleeper", "STANDARD", waits_forever()).await;
    let mut executions = Vec::new();
    for arn in [&ok, &failing, &sleeper] {
        let run = engine
            .start_execution(start(arn, Some("r"), r#"{"secret": 1}"#))
            .await
            .unwrap();
        executions.push(run.execution_arn);
    }
    engine.wait_execution(&executions[0]).await.unwrap();
    engine.wait_execution(&executions[1]).await.unwrap();
    let api = serve(engine).await;
    let describe = |arn: &str, included: Option<&str>| {
        let mut body = json!({"executionArn": arn});
        if let Some(included) = included {
            body["includedData"] = json!(included);
        }
        body
    };

    // Redrive members, as AWS reports them for executions never redriven.
    let (_, succeeded) = api
        .call("DescribeExecution", describe(&executions[0], None))
        .await;
    assert_eq!(succeeded["status"], json!("SUCCEEDED"));
    assert_eq!(succeeded["redriveCount"], json!(0));
    assert_eq!(succeeded["redriveStatus"], json!("NOT_REDRIVABLE"));
    assert_eq!(
        succeeded["redriveStatusReason"],
        json!("Execution is SUCCEEDED and cannot be redriven")
    );
    assert_eq!(succeeded["input"], json!(r#"{"secret": 1}"#));
    assert_eq!(succeeded["outputDetails"], json!({"included": true}));
    let (_, failed) = api
        .call("DescribeExecution", describe(&executions[1], None))
        .await;
    assert_eq!(failed["redriveStatus"], json!("REDRIVABLE"));
    assert!(failed.get("redriveStatusReason").is_none(), "{failed}");
    let (_, running) = api
        .call("DescribeExecution", describe(&executions[2], None))
        .await;
    assert_eq!(
        running["redriveStatusReason"],
        json!("Execution is RUNNING and cannot be redriven")
    );
    let (_, listed) = api
        .call("ListExecutions", json!({"stateMachineArn": ok}))
        .await;
    assert_eq!(listed["executions"][0]["redriveCount"], json!(0));

    // METADATA_ONLY: no input or output, nor their details.
    let (status, metadata) = api
        .call(
            "DescribeExecution",
            describe(&executions[0], Some("METADATA_ONLY")),
        )
        .await;
    assert_eq!(status, 200, "{metadata}");
    for member in ["input", "inputDetails", "output", "outputDetails"] {
        assert!(metadata.get(member).is_none(), "{member}: {metadata}");
    }
    assert_eq!(metadata["status"], json!("SUCCEEDED"));
    assert_eq!(metadata["redriveCount"], json!(0));

    // includeExecutionData: false strips the data from every event, nothing else.
    let history = |include: Option<bool>| {
        let mut body = json!({"executionArn": executions[0]});
        if let Some(include) = include {
            body["includeExecutionData"] = json!(include);
        }
        body
    };
    let (_, full) = api.call("GetExecutionHistory", history(None)).await;
    let (status, bare) = api.call("GetExecutionHistory", history(Some(false))).await;
    assert_eq!(status, 200, "{bare}");
    let (full, bare) = (
        full["events"].as_array().unwrap(),
        bare["events"].as_array().unwrap(),
    );
    assert_eq!(full.len(), bare.len());
    assert!(full[0]["executionStartedEventDetails"]["input"].is_string());
    assert_eq!(
        bare[0]["executionStartedEventDetails"],
        json!({"roleArn": ROLE})
    );
    for (f, b) in full.iter().zip(bare) {
        assert_eq!(f["type"], b["type"]);
        assert_eq!(f["id"], b["id"]);
        let text = b.to_string();
        for member in [
            "\"input\"",
            "\"inputDetails\"",
            "\"output\"",
            "\"outputDetails\"",
        ] {
            assert!(!text.contains(member), "{member} in {text}");
        }
    }
    let entered = bare
        .iter()
        .find(|e| e["type"] == "PassStateEntered")
        .unwrap();
    assert_eq!(
        entered["stateEnteredEventDetails"],
        json!({"name": "Greet"})
    );
    let (_, with_data) = api.call("GetExecutionHistory", history(Some(true))).await;
    assert_eq!(with_data["events"].as_array().unwrap(), full);
}

#[tokio::test]
async fn sfn_json_api_runs_express_sync_executions_behind_sync_host() {
    let api = serve(engine().await).await;
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let (_, created) = api
        .call(
            "CreateStateMachine",
            json!({"name": "Sync", "definition": definition.to_string(),
                                           "roleArn": ROLE, "type": "EXPRESS"}),
        )
        .await;
    let arn = created["stateMachineArn"].as_str().unwrap();
    let (status, out) = api
        .call_with_host(
            "StartSyncExecution",
            json!({"stateMachineArn": arn, "input": "{\"a\":[1]}"}),
            Some("sync-127.0.0.1"),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["status"], json!("SUCCEEDED"));
    assert_eq!(out["output"], json!("{\"a\":[1]}"));
    assert_eq!(out["inputDetails"], json!({"included": true}));
    assert_eq!(out["billingDetails"]["billedMemoryUsedInMB"], json!(64));
    assert!(
        out["executionArn"]
            .as_str()
            .unwrap()
            .contains(":express:Sync:")
    );
}

// === kill -9 ===

/// A running `stepgate sfn` process; killed with SIGKILL when dropped.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(data_dir: &std::path::Path, machine: &std::path::Path) -> Server {
    spawn_server_with(data_dir, machine, &[])
}

fn spawn_server_with(
    data_dir: &std::path::Path,
    machine: &std::path::Path,
    extra: &[&str],
) -> Server {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .args(["sfn", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--state-machine")
        .arg(format!("Napper={}", machine.display()))
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("stepgate binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("stepgate prints its address");
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    Server {
        child,
        url: format!("{address}/"),
    }
}

async fn describe(api: &Api, execution: &str) -> Value {
    let (status, body) = api
        .call("DescribeExecution", json!({"executionArn": execution}))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn execution_survives_kill_9_and_its_wait_resumes_with_the_time_left() {
    const WAIT_SECONDS: f64 = 3.0;
    let dir = tempfile::tempdir().unwrap();
    let machine = dir.path().join("napper.yaml");
    std::fs::write(
        &machine,
        format!(
            "StartAt: Before\nStates:\n  Before:\n    Type: Pass\n    Next: Nap\n  Nap:\n    Type: Wait\n    \
             Seconds: {WAIT_SECONDS}\n    Next: After\n  After:\n    Type: Pass\n    Result: woke\n    End: true\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let client = reqwest::Client::new();

    let first = spawn_server(&data, &machine);
    let api = Api {
        url: first.url.clone(),
        client: client.clone(),
    };
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Napper";
    let (status, started) = api
        .call(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "nap-1"}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let execution = started["executionArn"].as_str().unwrap().to_string();
    // Let it reach the Wait state (its entry is in the history).
    loop {
        let (_, history) = api
            .call("GetExecutionHistory", json!({"executionArn": execution}))
            .await;
        let entered = history["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "WaitStateEntered");
        if entered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(first); // SIGKILL: no shutdown, no flush.

    let restarted_at = time::OffsetDateTime::now_utc();
    let second = spawn_server(&data, &machine);
    let api = Api {
        url: second.url.clone(),
        client,
    };
    let after_restart = describe(&api, &execution).await;
    assert_eq!(
        after_restart["name"],
        json!("nap-1"),
        "the acknowledged execution exists after kill -9"
    );
    let finished = loop {
        let d = describe(&api, &execution).await;
        if d["status"] != json!("RUNNING") {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(finished["status"], json!("SUCCEEDED"), "{finished}");
    assert_eq!(finished["output"], json!("\"woke\""));
    // Resuming with the time left ends the wait at its original deadline, which came
    // before `restart + Seconds` (a restarted wait would end after it).
    let stop = finished["stopDate"].as_f64().unwrap();
    let restart = restarted_at.unix_timestamp_nanos() as f64 / 1e9;
    assert!(
        stop < restart + WAIT_SECONDS,
        "stop {stop} vs restart {restart}: the wait started over"
    );
    let start = finished["startDate"].as_f64().unwrap();
    assert!(
        stop >= start + WAIT_SECONDS,
        "the wait was cut short: {start} -> {stop}"
    );
}

/// The history of `execution`, once `event_type` is in it.
async fn history_once_it_has(api: &Api, execution: &str, event_type: &str) -> Vec<Value> {
    loop {
        let (status, history) = api
            .call("GetExecutionHistory", json!({"executionArn": execution}))
            .await;
        assert_eq!(status, 200, "{history}");
        let events = history["events"].as_array().unwrap().clone();
        if events.iter().any(|e| e["type"] == event_type) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// See: the brief of issue 5, "a resumed state records its StateEntered twice".
#[tokio::test]
async fn history_after_resumes_has_each_event_once_in_aws_order() {
    let dir = tempfile::tempdir().unwrap();
    let machine = dir.path().join("napper.yaml");
    std::fs::write(
        &machine,
        "StartAt: Work\nStates:\n  Work:\n    Type: Task\n    \
         Resource: arn:aws:lambda:us-east-1:123456789012:function:work\n    Next: Nap\n  \
         Nap:\n    Type: Wait\n    Seconds: 50\n    Next: Done\n  Done:\n    Type: Pass\n    End: true\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let client = reqwest::Client::new();
    let api_of = |server: &Server| Api {
        url: server.url.clone(),
        client: client.clone(),
    };

    // 1. Killed while the Lambda task runs (a command that outlives the process).
    let first = spawn_server_with(&data, &machine, &["--lambda-command", "work=sleep 20"]);
    let api = api_of(&first);
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Napper";
    let (status, started) = api
        .call(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "twice", "input": "{\"n\": 1}"}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let execution = started["executionArn"].as_str().unwrap().to_string();
    history_once_it_has(&api, &execution, "LambdaFunctionStarted").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(first);

    // 2. Resumed (the task runs again, now answering at once), killed in the Wait.
    let cat = ["--lambda-command", "work=cat", "--clock-factor", "50"];
    let second = spawn_server_with(&data, &machine, &cat);
    let api = api_of(&second);
    history_once_it_has(&api, &execution, "WaitStateEntered").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(second);

    // 3. Resumed in the Wait; runs to the end.
    let third = spawn_server_with(&data, &machine, &cat);
    let api = api_of(&third);
    let events = history_once_it_has(&api, &execution, "ExecutionSucceeded").await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ],
        "{events:#?}"
    );
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["id"], json!(i + 1), "{event}");
        assert_eq!(event["previousEventId"], json!(i), "{event}");
    }
    let timestamps: Vec<f64> = events
        .iter()
        .map(|e| e["timestamp"].as_f64().unwrap())
        .collect();
    assert!(
        timestamps.windows(2).all(|w| w[0] <= w[1]),
        "timestamps go back: {timestamps:?}"
    );
    let described = describe(&api, &execution).await;
    assert_eq!(described["status"], json!("SUCCEEDED"), "{described}");
    assert_eq!(described["output"], json!("{\"n\":1}"));
}

// === the shared backend suite ===

/// Cases where the local backend does not behave as AWS does, with the reason. The suite
/// fails if one of these starts passing, so the list stays honest.
const LOCAL_DIVERGENCES: &str = "";

async fn check_suite(backend: &dyn stepgate::backend::StepFunctions, label: &str) {
    use stepgate::backend::conformance::{self, Fixture, Report};
    let fixture = Fixture::new(true);
    let outcomes = conformance::run(backend, &fixture).await;
    let report = Report::check(&outcomes, &Report::parse_divergences(LOCAL_DIVERGENCES));
    eprintln!("{label}: {}", report.summary());
    assert!(report.problems.is_empty(), "{label}: {}", report.summary());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_backend_passes_the_shared_suite() {
    let backend = LocalBackend::new(engine_with(TaskConfig::default(), 1.0).await);
    check_suite(&backend, "local backend").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_backend_against_the_local_sfn_api_passes_the_shared_suite() {
    use stepgate::backend::aws::{AwsBackend, AwsBackendConfig, StaticCredentials};
    let api = serve(engine_with(TaskConfig::default(), 1.0).await).await;
    let config = AwsBackendConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(api.url.trim_end_matches('/').to_string()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            session_token: None,
        }),
        ..AwsBackendConfig::default()
    };
    let backend = AwsBackend::new(&config).await;
    check_suite(&backend, "aws-sdk-sfn -> stepgate sfn api").await;
}

#[tokio::test]
async fn a_wait_in_the_first_state_keeps_its_deadline_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..EngineConfig::default()
    };
    let engine = Engine::open(config).await.unwrap();
    let arn = create(&engine, "Sleeper", "STANDARD", waits_forever()).await;
    let run = engine
        .start_execution(start(&arn, Some("s"), "{}"))
        .await
        .unwrap();
    let deadline = loop {
        engine.flush().await.unwrap();
        let db =
            rusqlite::Connection::open(dir.path().join(stepgate::engine::store::DATABASE_FILE))
                .unwrap();
        let row: Option<(String, Option<i64>)> = db
            .query_row("SELECT state, wait_until FROM checkpoints", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .ok();
        if let Some((state, Some(until))) = row {
            assert_eq!(state, "Nap");
            break until;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let started = engine
        .describe_execution(&run.execution_arn)
        .await
        .unwrap()
        .start_date;
    let expected = stepgate::engine::store::to_millis(started) + 99_999_999_000;
    assert!(
        (deadline - expected).abs() < 60_000,
        "deadline {deadline} vs start + Seconds {expected}"
    );
}

#[tokio::test]
async fn lambda_functions_run_through_the_invoke_api_endpoint() {
    let addr = echo_server().await;
    let tasks = TaskConfig {
        lambda_endpoint: Some(format!("http://{addr}")),
        ..TaskConfig::default()
    };
    let engine = engine_with(tasks, 1000.0).await;
    let direct = create(
        &engine,
        "Direct",
        "EXPRESS",
        json!({"StartAt": "F", "States": {"F": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge", "End": true}}}),
    )
    .await;
    let run = engine
        .start_sync_execution(start(&direct, None, r#"{"amount": 3}"#))
        .await
        .unwrap();
    assert_eq!(
        run.execution.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        run.execution.cause
    );
    let out: Value = serde_json::from_str(run.execution.output.as_deref().unwrap()).unwrap();
    assert_eq!(out["method"], json!("POST"));
    assert_eq!(
        out["path"],
        json!("/2015-03-31/functions/charge/invocations")
    );
    assert_eq!(
        serde_json::from_str::<Value>(out["body"].as_str().unwrap()).unwrap(),
        json!({"amount": 3})
    );

    let wrapped = create(
        &engine,
        "Wrapped",
        "EXPRESS",
        json!({"StartAt": "F", "States": {"F": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:refund:prod",
                       "Payload": {"n.$": "$.n"}}, "End": true}}}),
    )
    .await;
    let run = engine
        .start_sync_execution(start(&wrapped, None, r#"{"n": 1}"#))
        .await
        .unwrap();
    let out: Value = serde_json::from_str(run.execution.output.as_deref().unwrap()).unwrap();
    assert_eq!(out["StatusCode"], json!(200));
    assert_eq!(
        out["Payload"]["path"],
        json!("/2015-03-31/functions/refund/invocations")
    );
}
