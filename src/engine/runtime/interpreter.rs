//! The seam between the runtime and the ASL interpreter: compile a definition once,
//! run it many times. TEMPORARY stand-in until branch `asl` lands: a sequential
//! interpreter for Pass/Task/Wait/Succeed/Fail, enough to test the runtime.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::engine::effects::{Checkpoint, Effects, ExecutionInfo, HistoryEvent, Outcome, StateError, TaskRequest};

/// Whether the interpreter records `ExecutionStarted` and the terminal events itself.
pub(crate) const RECORDS_EXECUTION_EVENTS: bool = false;

/// A compiled state machine definition.
#[derive(Debug)]
pub(crate) struct Program {
    definition: Value,
}

/// Parses and validates a definition (JSON text); the error is AWS's InvalidDefinition detail.
pub(crate) fn compile(definition: &str) -> Result<Arc<Program>, String> {
    let value: Value = serde_json::from_str(definition).map_err(|e| format!("Invalid JSON: {e}"))?;
    if value.get("States").and_then(Value::as_object).is_none() {
        return Err("SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /".into());
    }
    if value.get("StartAt").and_then(Value::as_str).is_none() {
        return Err("SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /".into());
    }
    Ok(Arc::new(Program { definition: value }))
}

/// Runs an execution (or resumes it from `resume`).
pub(crate) async fn run(
    program: &Program,
    info: &ExecutionInfo,
    input: Value,
    resume: Option<Checkpoint>,
    effects: &dyn Effects,
) -> Outcome {
    let states = &program.definition["States"];
    let (mut name, mut value) = match resume {
        Some(k) => (k.state, k.input),
        None => (program.definition["StartAt"].as_str().unwrap_or_default().to_string(), input),
    };
    let _ = info;
    loop {
        effects.checkpoint(&Checkpoint { state: name.clone(), input: value.clone(), variables: Map::new() });
        let Some(state) = states.get(&name) else {
            return Outcome::Failed(StateError { error: "States.Runtime".into(), cause: Some(format!("no state {name}")) });
        };
        let kind = state["Type"].as_str().unwrap_or_default().to_string();
        effects.record(HistoryEvent {
            event_type: format!("{kind}StateEntered"),
            details_key: Some("stateEnteredEventDetails".into()),
            details: serde_json::json!({"name": name, "input": value.to_string()}),
        });
        match kind.as_str() {
            "Pass" => {
                if let Some(result) = state.get("Result") {
                    value = result.clone();
                }
            }
            "Wait" => {
                let seconds = state["Seconds"].as_f64().unwrap_or(0.0);
                let until = effects.now() + std::time::Duration::from_secs_f64(seconds);
                effects.sleep_until(until).await;
            }
            "Task" => {
                let resource = state["Resource"].as_str().unwrap_or_default().to_string();
                let task_token = resource
                    .ends_with(".waitForTaskToken")
                    .then(|| uuid::Uuid::new_v4().to_string());
                let mut parameters = state.get("Parameters").cloned().unwrap_or_else(|| value.clone());
                if let Some(token) = &task_token {
                    insert_token(&mut parameters, token);
                }
                let request = TaskRequest {
                    state_name: name.clone(),
                    resource,
                    parameters,
                    task_token,
                    timeout_seconds: state["TimeoutSeconds"].as_u64(),
                    heartbeat_seconds: state["HeartbeatSeconds"].as_u64(),
                    attempt: 0,
                };
                match effects.invoke_task(request).await {
                    Ok(result) => value = result,
                    Err(e) => return Outcome::Failed(e),
                }
            }
            "Succeed" => return Outcome::Succeeded(value),
            "Fail" => {
                return Outcome::Failed(StateError {
                    error: state["Error"].as_str().unwrap_or_default().into(),
                    cause: state["Cause"].as_str().map(Into::into),
                });
            }
            other => {
                return Outcome::Failed(StateError { error: "States.Runtime".into(), cause: Some(format!("unsupported {other}")) });
            }
        }
        effects.record(HistoryEvent {
            event_type: format!("{kind}StateExited"),
            details_key: Some("stateExitedEventDetails".into()),
            details: serde_json::json!({"name": name, "output": value.to_string()}),
        });
        if state["End"].as_bool() == Some(true) {
            return Outcome::Succeeded(value);
        }
        name = state["Next"].as_str().unwrap_or_default().to_string();
    }
}

/// Replaces `"k.$": "$$.Task.Token"` with `"k": <token>`, at any depth.
fn insert_token(value: &mut Value, token: &str) {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if let Some(base) = key.strip_suffix(".$") {
                    if map[&key] == Value::String("$$.Task.Token".into()) {
                        map.remove(&key);
                        map.insert(base.to_string(), Value::String(token.to_string()));
                        continue;
                    }
                }
                if let Some(v) = map.get_mut(&key) {
                    insert_token(v, token);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| insert_token(v, token)),
        _ => {}
    }
}
