//! The seam between the runtime and the ASL interpreter: compile a definition once
//! (`engine::asl`), run it many times (`engine::exec::run`).

use std::sync::Arc;

use serde_json::Value;

use crate::engine::asl::{self, StateMachine};
use crate::engine::effects::{Checkpoint, Effects, ExecutionInfo, Outcome};
use crate::engine::exec;
use crate::engine::store::StateMachineType;

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
    resume: Option<Checkpoint>,
    effects: &dyn Effects,
) -> Outcome {
    exec::run(program, info, input, resume, effects).await
}
