//! The state loop shared by the top level, Parallel branches and Map iterations: checkpoint,
//! `<Type>StateEntered`, run the state, enforce the payload limit, `<Type>StateExited`,
//! follow the transition. Also Retry (with backoff, MaxDelaySeconds and jitter) and Catch.

use super::data::too_large;
use super::{Env, Fault, Run, Vars, history};
use crate::engine::asl::{Catcher, Program, Retrier, State, StateKind};
use crate::engine::effects::Checkpoint;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use time::OffsetDateTime;

pub(super) type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a state produced.
pub(super) struct Step {
    pub output: Value,
    /// `None` ends the program.
    pub next: Option<usize>,
    /// Variables assigned by the state.
    pub assigned: Option<Vars>,
}

/// Facts about the current state's entry, shared by its attempts.
#[derive(Clone, Copy)]
pub(super) struct Entry {
    pub event: u64,
    pub time: OffsetDateTime,
}

impl<'a> Run<'a> {
    /// Runs `prog` from state `start` until it ends or fails.
    pub(super) fn run_program<'s>(
        &'s self,
        prog: &'s Program,
        start: usize,
        input: Value,
        vars: &'s mut Vars,
        top: bool,
        interleave: bool,
    ) -> BoxFut<'s, Result<Value, Fault>> {
        Box::pin(async move {
            let mut idx = start;
            let mut input = input;
            loop {
                let Some(state) = prog.states.get(idx) else {
                    return Err(Fault::terminal(
                        "States.Runtime",
                        format!("No state at index {idx}"),
                    ));
                };
                if top && self.checkpoints {
                    self.effects.checkpoint(&Checkpoint {
                        state: state.name.clone(),
                        input: input.clone(),
                        variables: vars.clone(),
                    });
                }
                if self.past_deadline() {
                    return Err(Fault::execution_timeout());
                }
                let resumed = if top {
                    self.resumed_entry
                        .lock()
                        .expect("invariant: resumed entry lock")
                        .take()
                        .filter(|(i, _)| *i == idx)
                        .map(|(_, entry)| entry)
                } else {
                    None
                };
                let entry = match resumed {
                    Some(entry) => entry,
                    None => Entry {
                        time: self.effects.now(),
                        event: self.record(
                            history::entered_type(&state.kind),
                            Some("stateEnteredEventDetails"),
                            || history::entered(&state.name, &input),
                        ),
                    },
                };
                if interleave {
                    yield_now().await;
                }
                let step = self.run_state(state, input, vars, entry).await?;
                if too_large(&step.output) {
                    return Err(Fault::terminal(
                        "States.DataLimitExceeded",
                        format!(
                            "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                            state.name
                        ),
                    ));
                }
                self.record(
                    history::exited_type(&state.kind),
                    Some("stateExitedEventDetails"),
                    || history::exited(&state.name, &step.output, step.assigned.as_ref()),
                );
                if let Some(a) = step.assigned {
                    vars.extend(a);
                }
                match step.next {
                    Some(n) => {
                        idx = n;
                        input = step.output;
                    }
                    None => return Ok(step.output),
                }
            }
        })
    }

    /// Runs one state; Task, Parallel and Map go through Retry and Catch.
    async fn run_state(
        &self,
        state: &State,
        raw: Value,
        vars: &Vars,
        entry: Entry,
    ) -> Result<Step, Fault> {
        let env = |retry: Option<u32>| Env {
            vars,
            state_name: &state.name,
            entered_event: entry.event,
            entered_time: entry.time,
            retry_count: retry,
            task_token: None,
            map_item: None,
        };
        let jsonata = state.query_language == crate::engine::asl::QueryLanguage::Jsonata;
        let retriable = matches!(
            state.kind,
            StateKind::Task(_) | StateKind::Parallel { .. } | StateKind::Map(_)
        );
        if !retriable {
            return if jsonata {
                self.jsonata_simple_state(state, raw, &env(None)).await
            } else {
                self.simple_state(state, raw, &env(None)).await
            };
        }
        let mut counts = vec![0u32; state.retry.len()];
        let mut attempt = 0u32;
        loop {
            let e = env(Some(attempt));
            let r = match &state.kind {
                StateKind::Task(t) => self.task(state, t, &raw, &e, attempt).await,
                StateKind::Parallel { branches } => self.parallel(state, branches, &raw, &e).await,
                StateKind::Map(m) => self.map(state, m, &raw, &e).await,
                _ => unreachable_state(&e),
            };
            let fault = match r {
                Ok(step) => return Ok(step),
                Err(f) if f.terminal => return Err(f),
                Err(f) => f,
            };
            if let Some(i) = state
                .retry
                .iter()
                .position(|r| error_matches(&r.error_equals, &fault.error.error))
            {
                let r = &state.retry[i];
                if counts[i] < r.max_attempts {
                    let delay = retry_delay(r, counts[i]);
                    counts[i] += 1;
                    attempt += 1;
                    let until = super::add_millis(self.effects.now(), delay);
                    self.sleep_until(until).await?;
                    continue;
                }
            }
            match state.kind {
                StateKind::Map(_) => {
                    self.record("MapStateFailed", None, || Value::Null);
                }
                StateKind::Parallel { .. } => {
                    self.record("ParallelStateFailed", None, || Value::Null);
                }
                _ => {}
            }
            if let Some(c) = state
                .catch
                .iter()
                .find(|c| error_matches(&c.error_equals, &fault.error.error))
            {
                return if jsonata {
                    self.jcaught(c, raw, &fault, &e)
                } else {
                    self.caught(c, raw, &fault, &e)
                };
            }
            return Err(fault);
        }
    }

    fn caught(&self, c: &Catcher, raw: Value, fault: &Fault, env: &Env<'_>) -> Result<Step, Fault> {
        let err = json!({
            "Error": fault.error.error,
            "Cause": fault.error.cause.clone().unwrap_or_default(),
        });
        let assigned = match &c.assign {
            Some(t) => Some(self.assign(t, &err, env)?),
            None => None,
        };
        let output = self.result_path(&c.result_path, raw, err)?;
        Ok(Step {
            output,
            next: Some(c.next),
            assigned,
        })
    }
}

impl Run<'_> {
    fn jcaught(
        &self,
        c: &Catcher,
        raw: Value,
        fault: &Fault,
        env: &Env<'_>,
    ) -> Result<Step, Fault> {
        let err = json!({
            "Error": fault.error.error,
            "Cause": fault.error.cause.clone().unwrap_or_default(),
        });
        let states = self.states_value(&raw, None, Some(&err), env);
        let assigned = match &c.assign {
            Some(t) => match self.jeval(t, &states, env)? {
                Value::Object(m) => Some(m),
                _ => Some(Vars::new()),
            },
            None => None,
        };
        let output = match &c.output {
            Some(t) => self.jeval(t, &states, env)?,
            None => err,
        };
        Ok(Step {
            output,
            next: Some(c.next),
            assigned,
        })
    }
}

fn unreachable_state(env: &Env<'_>) -> Result<Step, Fault> {
    Err(env.runtime("internal error: state dispatched to the wrong handler"))
}

/// Does `ErrorEquals` match `error`? `States.ALL` matches everything (terminal errors never
/// get here); `States.TaskFailed` matches everything but `States.Timeout`.
pub(super) fn error_matches(equals: &[String], error: &str) -> bool {
    equals.iter().any(|e| {
        e == error || e == "States.ALL" || (e == "States.TaskFailed" && error != "States.Timeout")
    })
}

/// Milliseconds before retry number `n` (0-based).
fn retry_delay(r: &Retrier, n: u32) -> u64 {
    let mut secs = r.interval_seconds as f64 * r.backoff_rate.powi(n.min(1000) as i32);
    if let Some(max) = r.max_delay_seconds {
        secs = secs.min(max as f64);
    }
    if r.jitter {
        secs *= rand::random::<f64>();
    }
    (secs.clamp(0.0, 1e12) * 1000.0) as u64
}

/// Gives other branches a turn (Parallel branches interleave the way AWS records them).
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}
