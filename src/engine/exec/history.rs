//! History event shapes as `GetExecutionHistory` returns them (payloads as JSON text, the
//! `*Details` field names AWS uses) and how a Task resource is named in them.

use crate::engine::asl::StateKind;
use crate::engine::effects::StateError;
use serde_json::{Value, json};

/// JSON text of a payload.
pub(super) fn to_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

pub(super) fn error_details(e: &StateError) -> Value {
    let mut d = json!({"error": e.error});
    if let Some(c) = &e.cause {
        d["cause"] = json!(c);
    }
    d
}

pub(super) fn entered(name: &str, input: &Value) -> Value {
    json!({"name": name, "input": to_text(input), "inputDetails": {"truncated": false}})
}

pub(super) fn exited(
    name: &str,
    output: &Value,
    assigned: Option<&serde_json::Map<String, Value>>,
) -> Value {
    let mut d =
        json!({"name": name, "output": to_text(output), "outputDetails": {"truncated": false}});
    if let Some(a) = assigned {
        let vars: serde_json::Map<String, Value> = a
            .iter()
            .map(|(k, v)| (k.clone(), json!(to_text(v))))
            .collect();
        d["assignedVariables"] = Value::Object(vars);
        d["assignedVariablesDetails"] = json!({"truncated": false});
    }
    d
}

/// How a Task resource appears in history.
#[derive(Clone, Copy)]
pub(super) enum TaskKind<'a> {
    /// `arn:aws:lambda:...:function:f` → `LambdaFunction*` events.
    Lambda,
    /// `arn:aws:states:::<type>:<name>` → `Task*` events.
    Service {
        resource_type: &'a str,
        resource: &'a str,
    },
}

pub(super) fn task_kind(arn: &str) -> TaskKind<'_> {
    if arn.starts_with("arn:aws:lambda:")
        || (arn.starts_with("arn:") && arn.contains(":lambda:") && arn.contains(":function:"))
    {
        return TaskKind::Lambda;
    }
    let tail = arn.split_once(":::").map(|(_, t)| t).unwrap_or(arn);
    // `aws-sdk:sfn:startExecution` → (`aws-sdk:sfn`, `startExecution`);
    // `states:startExecution.sync:2` → (`states`, `startExecution.sync:2`).
    let split = match tail.strip_prefix("aws-sdk:") {
        Some(rest) => rest.find(':').map(|i| (&tail[..8 + i], &tail[8 + i + 1..])),
        None => tail.split_once(':'),
    };
    match split {
        Some((ty, res)) => TaskKind::Service {
            resource_type: ty,
            resource: res,
        },
        None => TaskKind::Service {
            resource_type: tail,
            resource: tail,
        },
    }
}

/// `PassStateEntered`, `TaskStateEntered`, ...
pub(super) fn entered_type(kind: &StateKind) -> &'static str {
    match kind {
        StateKind::Pass { .. } => "PassStateEntered",
        StateKind::Task(_) => "TaskStateEntered",
        StateKind::Choice { .. } => "ChoiceStateEntered",
        StateKind::Wait(_) => "WaitStateEntered",
        StateKind::Succeed => "SucceedStateEntered",
        StateKind::Fail { .. } => "FailStateEntered",
        StateKind::Parallel { .. } => "ParallelStateEntered",
        StateKind::Map(_) => "MapStateEntered",
    }
}

/// `PassStateExited`, `TaskStateExited`, ...
pub(super) fn exited_type(kind: &StateKind) -> &'static str {
    match kind {
        StateKind::Pass { .. } => "PassStateExited",
        StateKind::Task(_) => "TaskStateExited",
        StateKind::Choice { .. } => "ChoiceStateExited",
        StateKind::Wait(_) => "WaitStateExited",
        StateKind::Succeed => "SucceedStateExited",
        StateKind::Fail { .. } => "FailStateExited",
        StateKind::Parallel { .. } => "ParallelStateExited",
        StateKind::Map(_) => "MapStateExited",
    }
}
