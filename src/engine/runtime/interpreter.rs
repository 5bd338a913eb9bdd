//! The seam between the runtime and the ASL interpreter: compile a definition once
//! (`engine::asl`), run it many times (`engine::exec::run`).

use std::sync::Arc;

use serde_json::Value;

use crate::engine::asl::{self, StateMachine};
use crate::engine::effects::{Checkpoint, Effects, ExecutionInfo, Outcome, Resume};
use crate::engine::exec;
use crate::engine::store::{HistoryEventRecord, StateMachineType};

/// The interpreter records `ExecutionStarted` and the terminal events itself; the
/// runtime records only `ExecutionAborted`.
pub(crate) const RECORDS_EXECUTION_EVENTS: bool = true;

/// A compiled state machine definition.
pub(crate) type Program = StateMachine;

/// Parses and validates a definition (JSON or YAML text) for a machine type; the
/// error is the detail of AWS's InvalidDefinition message.
pub(crate) fn compile(definition: &str, r#type: StateMachineType) -> Result<Arc<Program>, String> {
    let machine = StateMachine::parse(definition).map_err(|e| e.problems.join(", "))?;
    let r#type = match r#type {
        StateMachineType::Standard => asl::StateMachineType::Standard,
        StateMachineType::Express => asl::StateMachineType::Express,
    };
    machine
        .validate(r#type)
        .map_err(|e| e.problems.join(", "))?;
    Ok(Arc::new(machine))
}

/// Runs an execution (or resumes it from `resume`).
pub(crate) async fn run(
    program: &Program,
    info: &ExecutionInfo,
    input: Value,
    resume: Option<Resume>,
    effects: &dyn Effects,
) -> Outcome {
    exec::run(program, info, input, resume, effects).await
}

/// Where an execution left RUNNING by an earlier process picks up, from its last
/// checkpoint (none: still in `StartAt`) and the history it recorded. Returns the
/// [`Resume`] and the id of the last event to keep (later ones are dropped):
///
/// - the checkpointed state's last `...StateEntered` with no `...StateExited` after it is
///   the entry in progress: kept, and not recorded again; the events of its unfinished
///   attempt after it are dropped, since the state runs again from its entry;
/// - otherwise the state was not entered yet (its entry event did not reach the disk):
///   the whole history is kept and the state is entered as usual.
///
/// `None` when the history is empty: the execution starts afresh.
pub(crate) fn resume_point(
    program: &Program,
    checkpoint: Option<Checkpoint>,
    execution_input: &Value,
    history: &[HistoryEventRecord],
) -> Option<(Resume, i64)> {
    let last = history.last()?;
    let checkpoint = match checkpoint {
        Some(k) => k,
        None => Checkpoint {
            state: program
                .program
                .states
                .get(program.program.start_at)?
                .name
                .clone(),
            input: execution_input.clone(),
            variables: serde_json::Map::new(),
        },
    };
    let names = |e: &HistoryEventRecord, suffix: &str| {
        e.event_type.ends_with(suffix)
            && e.details.get("name").and_then(Value::as_str) == Some(checkpoint.state.as_str())
    };
    let entry = history
        .iter()
        .rposition(|e| names(e, "StateEntered"))
        .filter(|&i| !history[i + 1..].iter().any(|e| names(e, "StateExited")))
        .map(|i| &history[i]);
    let (entered, keep) = match entry {
        Some(e) => (Some((e.id as u64, e.timestamp)), e.id),
        None => (None, last.id),
    };
    Some((
        Resume {
            checkpoint,
            recorded_events: keep as u64,
            entered,
        },
        keep,
    ))
}
