//! What the ASL interpreter asks of the runtime that hosts it: run a Task's resource,
//! sleep, tell the time, record history, and checkpoint progress so a durable runtime can
//! resume an execution after a restart. The interpreter (`exec`) knows nothing of storage,
//! HTTP or threads; the runtime (`engine::Engine`, tests, benches) implements [`Effects`].
//!
//! CONTRACT between the interpreter and the runtime; keep these shapes stable.

use serde_json::Value;
use time::OffsetDateTime;

/// What an execution knows about itself (`$$.Execution`, `$$.StateMachine`).
#[derive(Clone, Debug)]
pub struct ExecutionInfo {
    /// Execution ARN (`$$.Execution.Id`).
    pub execution_arn: String,
    /// Execution name.
    pub name: String,
    /// Execution input as given to StartExecution.
    pub input: Value,
    /// `$$.Execution.StartTime`.
    pub start_time: OffsetDateTime,
    /// `$$.Execution.RoleArn`.
    pub role_arn: String,
    /// State machine ARN (`$$.StateMachine.Id`).
    pub state_machine_arn: String,
    /// State machine name.
    pub state_machine_name: String,
}

/// A Task state's call, after InputPath/Parameters (or JSONata Arguments) were applied.
#[derive(Clone, Debug)]
pub struct TaskRequest {
    pub state_name: String,
    /// The `Resource` field as written (e.g. `arn:aws:states:::lambda:invoke`,
    /// `arn:aws:lambda:...:function:f`, `arn:aws:states:::http:invoke.waitForTaskToken`).
    pub resource: String,
    /// The effective parameters (the task's input payload).
    pub parameters: Value,
    /// `$$.Task.Token` when the resource ends in `.waitForTaskToken`.
    pub task_token: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    /// Attempt number, 0 for the first try (for mocked responses).
    pub attempt: u32,
}

/// An error raised by a state (`States.TaskFailed`, a custom error name, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct StateError {
    pub error: String,
    pub cause: Option<String>,
}

/// One history event as the interpreter reports it. The runtime adds `id`,
/// `previousEventId` and `timestamp`. `details_key` is the AWS field name such as
/// `stateEnteredEventDetails`; `details` its value.
#[derive(Clone, Debug)]
pub struct HistoryEvent {
    /// AWS `HistoryEventType`, e.g. `PassStateEntered`, `TaskScheduled`, `ExecutionSucceeded`.
    pub event_type: String,
    pub details_key: Option<String>,
    pub details: Value,
}

/// Where a top-level execution stands, recorded at each top-level state transition.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// The state about to be entered.
    pub state: String,
    /// That state's raw input.
    pub input: Value,
    /// Workflow variables (`Assign`) visible at that point.
    pub variables: serde_json::Map<String, Value>,
}

/// Where a resumed execution picks up: its last checkpoint, and what the history it
/// continues already holds.
#[derive(Clone, Debug)]
pub struct Resume {
    pub checkpoint: Checkpoint,
    /// Events the history keeps; the resumed run numbers its events from here.
    pub recorded_events: u64,
    /// The checkpointed state's `...StateEntered` when the history already has it (its id
    /// and time): the state is not entered again, it runs on from that entry.
    pub entered: Option<(u64, OffsetDateTime)>,
}

impl Resume {
    /// Resumes at `checkpoint` with no history to continue (tests).
    pub fn at(checkpoint: Checkpoint) -> Resume {
        Resume {
            checkpoint,
            recorded_events: 0,
            entered: None,
        }
    }
}

/// How an execution ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded(Value),
    Failed(StateError),
    TimedOut(StateError),
}

/// The runtime services the interpreter uses.
#[async_trait::async_trait]
pub trait Effects: Send + Sync {
    /// Runs a Task state's resource and returns its result.
    async fn invoke_task(&self, request: TaskRequest) -> Result<Value, StateError>;
    /// Runs a `.sync` Task state's resource like [`Effects::invoke_task`], calling
    /// `submitted` with the job's submission output once the job is started (the
    /// interpreter records it as `TaskSubmitted`). Only called when
    /// [`Effects::reports_submissions`] is true.
    async fn invoke_sync_task(
        &self,
        request: TaskRequest,
        submitted: &(dyn Fn(Value) + Send + Sync),
    ) -> Result<Value, StateError> {
        let _ = submitted;
        self.invoke_task(request).await
    }
    /// Whether [`Effects::invoke_sync_task`] reports submissions. When false, the
    /// interpreter records `TaskSubmitted` (with output `{}`) before the call.
    fn reports_submissions(&self) -> bool {
        false
    }
    /// Sleeps until `until` on the runtime's clock (tests may accelerate it).
    async fn sleep_until(&self, until: OffsetDateTime);
    /// The runtime's clock.
    fn now(&self) -> OffsetDateTime;
    /// Records a history event.
    fn record(&self, event: HistoryEvent);
    /// Called before each top-level state is entered.
    fn checkpoint(&self, checkpoint: &Checkpoint);
    /// Whether [`Effects::record`] keeps events. A runtime that drops history (EXPRESS
    /// executions) returns false and the interpreter skips building event details.
    fn records_history(&self) -> bool {
        true
    }
    /// Whether [`Effects::checkpoint`] is used. A runtime that does not resume executions
    /// (EXPRESS) returns false and the interpreter skips building checkpoints.
    fn takes_checkpoints(&self) -> bool {
        true
    }
}

/// Formats a time the way Step Functions shows it in the context object and in
/// the SDK integrations' answers (`2024-01-01T00:00:00.000Z`, UTC, milliseconds).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
