//! The ASL interpreter. [`run`] executes a compiled [`StateMachine`] on an input and returns
//! its [`Outcome`]; everything outside the language (running tasks, sleeping, the clock,
//! history, checkpoints) goes through the runtime's [`Effects`]. It never panics on a
//! definition or an input: problems become `States.Runtime` (not catchable, as in AWS),
//! `States.QueryEvaluationError`, `States.DataLimitExceeded` and the other `States.*` errors.
//!
//! History events use AWS's names and detail fields (`PassStateEntered` with
//! `stateEnteredEventDetails`, `TaskScheduled`, `LambdaFunctionSucceeded`,
//! `MapIterationStarted`, `EvaluationFailed`, `ExecutionSucceeded`, ...). A runtime that keeps
//! no history or checkpoints (EXPRESS) says so through `Effects::records_history` /
//! `Effects::takes_checkpoints` and the interpreter skips building them.
//!
//! A resumed run ([`Resume`]) numbers its events on from the history it continues, and
//! does not enter the checkpointed state a second time when the history already holds its
//! `...StateEntered`.
//!
//! Known differences from AWS (see also `tests/conformance/asl-divergences.txt`):
//! - Parallel branches and concurrent Map iterations interleave their history events in
//!   our scheduler's order, which can differ from the order AWS records;
//! - Distributed Map `ItemReader`/`ResultWriter` are rejected at run time.
//!
//! Layout: `program` (the state loop, Retry/Catch), `states` (one function per state type),
//! `map` (Map iterations, concurrency, tolerated failures),
//! `data` (paths, payload templates, InputPath/ResultPath/OutputPath, the context object),
//! `choice`, `intrinsics`, `history` (event shapes), `jsonata` + `jsonata_flow` (JSONata mode).

mod choice;
mod data;
mod history;
mod intrinsics;
mod jsonata;
mod jsonata_flow;
mod map;
mod program;
mod states;

use crate::engine::asl::StateMachine;
use crate::engine::effects::{Effects, ExecutionInfo, Outcome, Resume, StateError};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Step Functions' payload limit (bytes of UTF-8 JSON).
pub const PAYLOAD_LIMIT: usize = 262_144;

/// Runs `sm` to completion (or resumes it from `resume`).
pub async fn run(
    sm: &StateMachine,
    info: &ExecutionInfo,
    input: Value,
    resume: Option<Resume>,
    effects: &dyn Effects,
) -> Outcome {
    let r = Run {
        sm,
        info,
        effects,
        events: AtomicU64::new(resume.as_ref().map_or(0, |r| r.recorded_events)),
        resumed_entry: std::sync::Mutex::new(None),
        history: effects.records_history(),
        checkpoints: effects.takes_checkpoints(),
        deadline: sm
            .timeout_seconds
            .map(|s| add_millis(info.start_time, s.saturating_mul(1000))),
    };
    r.execute(input, resume).await
}

/// Parses an ISO-8601 / RFC 3339 timestamp as Step Functions accepts it (`Z` or an offset,
/// optional fraction up to nanoseconds; a date and time are both required).
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    if s.len() < 20 || !s.is_ascii() || s.as_bytes()[10] != b'T' {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

pub use crate::engine::effects::format_timestamp;

/// `t` plus `ms` milliseconds, saturating at the end of the representable range (a wait of
/// 10^15 seconds must not panic).
pub(crate) fn add_millis(t: OffsetDateTime, ms: u64) -> OffsetDateTime {
    let far = OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT);
    i64::try_from(ms)
        .ok()
        .and_then(|ms| t.checked_add(time::Duration::milliseconds(ms)))
        .unwrap_or(far)
}

/// Workflow variables.
pub(crate) type Vars = Map<String, Value>;

/// One execution in progress.
pub(crate) struct Run<'a> {
    sm: &'a StateMachine,
    info: &'a ExecutionInfo,
    effects: &'a dyn Effects,
    /// Events recorded so far (the runtime numbers them from 1 in this order).
    events: AtomicU64,
    /// The resumed state's entry when the history already holds it: (state index, entry).
    resumed_entry: std::sync::Mutex<Option<(usize, program::Entry)>>,
    deadline: Option<OffsetDateTime>,
    /// `effects.records_history()` / `effects.takes_checkpoints()`, asked once.
    history: bool,
    checkpoints: bool,
}

/// What a state sees while it runs: variables and the context object's parts.
pub(crate) struct Env<'e> {
    pub vars: &'e Vars,
    pub state_name: &'e str,
    pub entered_event: u64,
    pub entered_time: OffsetDateTime,
    pub retry_count: Option<u32>,
    pub task_token: Option<&'e str>,
    pub map_item: Option<(usize, &'e Value)>,
}

impl Env<'_> {
    /// A `States.Runtime` failure in AWS's wording for this state.
    pub fn runtime(&self, msg: impl std::fmt::Display) -> Fault {
        Fault::terminal(
            "States.Runtime",
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {msg}",
                self.state_name, self.entered_event
            ),
        )
    }
}

/// A state's failure: the error plus whether Retry/Catch may handle it.
#[derive(Clone, Debug)]
pub(crate) struct Fault {
    pub error: StateError,
    /// `States.Runtime` and `States.DataLimitExceeded` end the execution.
    pub terminal: bool,
    /// The whole execution ran past its `TimeoutSeconds`.
    pub timed_out: bool,
}

impl Fault {
    pub fn new(error: impl Into<String>, cause: Option<String>) -> Fault {
        Fault {
            error: StateError {
                error: error.into(),
                cause,
            },
            terminal: false,
            timed_out: false,
        }
    }

    pub fn terminal(error: &str, cause: String) -> Fault {
        Fault {
            error: StateError {
                error: error.into(),
                cause: Some(cause),
            },
            terminal: true,
            timed_out: false,
        }
    }

    pub fn execution_timeout() -> Fault {
        Fault {
            error: StateError {
                error: "States.Timeout".into(),
                cause: None,
            },
            terminal: true,
            timed_out: true,
        }
    }
}

impl Run<'_> {
    /// Records a history event (details are only built when the runtime keeps history) and
    /// returns its event id.
    fn record(
        &self,
        event_type: &str,
        details_key: Option<&str>,
        details: impl FnOnce() -> Value,
    ) -> u64 {
        if self.history {
            self.effects.record(crate::engine::effects::HistoryEvent {
                event_type: event_type.to_owned(),
                details_key: details_key.map(str::to_owned),
                details: details(),
            });
        }
        self.events.fetch_add(1, Ordering::Relaxed) + 1
    }

    async fn execute(&self, input: Value, resume: Option<Resume>) -> Outcome {
        let prog = &self.sm.program;
        let (start, input, mut vars) = match resume {
            Some(Resume {
                checkpoint: cp,
                entered,
                ..
            }) => match prog.state(&cp.state) {
                Some((i, _)) => {
                    if let Some((event, time)) = entered {
                        *self
                            .resumed_entry
                            .lock()
                            .expect("invariant: resumed entry lock") =
                            Some((i, program::Entry { event, time }));
                    }
                    (i, cp.input, cp.variables)
                }
                None => {
                    let err = StateError {
                        error: "States.Runtime".into(),
                        cause: Some(format!(
                            "Cannot resume: the state '{}' does not exist",
                            cp.state
                        )),
                    };
                    self.record_failed(&err);
                    return Outcome::Failed(err);
                }
            },
            None => {
                self.record(
                    "ExecutionStarted",
                    Some("executionStartedEventDetails"),
                    || {
                        serde_json::json!({
                            "input": history::to_text(&input),
                            "inputDetails": {"truncated": false},
                            "roleArn": self.info.role_arn,
                        })
                    },
                );
                (prog.start_at, input, Vars::new())
            }
        };
        match self
            .run_program(prog, start, input, &mut vars, true, false)
            .await
        {
            Ok(output) => {
                self.record(
                    "ExecutionSucceeded",
                    Some("executionSucceededEventDetails"),
                    || serde_json::json!({"output": history::to_text(&output), "outputDetails": {"truncated": false}}),
                );
                Outcome::Succeeded(output)
            }
            Err(f) if f.timed_out => {
                self.record(
                    "ExecutionTimedOut",
                    Some("executionTimedOutEventDetails"),
                    || history::error_details(&f.error),
                );
                Outcome::TimedOut(f.error)
            }
            Err(f) => {
                self.record_failed(&f.error);
                Outcome::Failed(f.error)
            }
        }
    }

    fn record_failed(&self, e: &StateError) {
        self.record(
            "ExecutionFailed",
            Some("executionFailedEventDetails"),
            || history::error_details(e),
        );
    }

    /// True once the execution's own `TimeoutSeconds` has passed.
    fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| self.effects.now() >= d)
    }

    /// Sleeps until `until`, or until the execution deadline if that comes first.
    async fn sleep_until(&self, until: OffsetDateTime) -> Result<(), Fault> {
        match self.deadline {
            Some(d) if d <= until => {
                self.effects.sleep_until(d).await;
                Err(Fault::execution_timeout())
            }
            _ => {
                self.effects.sleep_until(until).await;
                Ok(())
            }
        }
    }

    /// Resolves at the execution deadline (never without one).
    async fn deadline_reached(&self) -> Fault {
        match self.deadline {
            Some(d) => {
                self.effects.sleep_until(d).await;
                Fault::execution_timeout()
            }
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests;
