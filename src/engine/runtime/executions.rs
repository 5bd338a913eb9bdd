//! Executions: StartExecution (durable before it answers), StartSyncExecution,
//! DescribeExecution, StopExecution, ListExecutions, GetExecutionHistory, the
//! SendTask* callbacks, and resuming after a restart.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use time::OffsetDateTime;

use super::arn::{self, ExecutionArn};
use super::driver::{self, ExecutionEffects, Launch};
use super::tokens::Signal;
use super::{Engine, Error, Machine, Page, decode_token, encode_token, interpreter, page_size};
use crate::engine::effects::{ExecutionInfo, Outcome, StateError};
use crate::engine::store::{
    self, ExecutionClose, ExecutionRecord, ExecutionStatus, HistoryEventRecord, StateMachineType,
};

/// Largest execution input, in bytes.
const MAX_INPUT_BYTES: usize = 262_144;

/// StartExecution / StartSyncExecution input.
#[derive(Debug, Clone, Default)]
pub struct StartExecutionInput {
    /// May end in `#TestCase` to choose mocked responses.
    pub state_machine_arn: String,
    pub name: Option<String>,
    /// JSON text; `{}` when absent.
    pub input: Option<String>,
    pub trace_header: Option<String>,
}

/// StartExecution's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StartedExecution {
    pub execution_arn: String,
    pub start_date: OffsetDateTime,
}

/// StartSyncExecution's answer: the finished execution and its billed duration.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncExecution {
    pub execution: ExecutionRecord,
    /// Rounded up to 100 ms, as AWS bills.
    pub billed_duration_ms: u64,
    pub billed_memory_mb: u64,
}

/// What a start request resolved to.
struct Prepared {
    machine: Arc<Machine>,
    name: String,
    input: String,
    input_value: Value,
    test_case: Option<String>,
}

/// Why a start did not insert its execution: one with its ARN exists already.
enum Existing {
    /// Still running with the same input: the start answers with it (idempotent).
    Same { start_date: OffsetDateTime },
    /// Finished, or started with other input: `ExecutionAlreadyExists`.
    Other,
}

/// Inserts a new execution; when one with its ARN exists already, says how it compares.
fn insert_or_existing(
    c: &rusqlite::Connection,
    seq: i64,
    record: &ExecutionRecord,
    history: Option<&[u8]>,
) -> Result<Option<Existing>, rusqlite::Error> {
    if store::insert_execution(c, seq, record, history)? {
        return Ok(None);
    }
    let existing =
        store::get_execution(c, &record.arn)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let same_input = existing.input == record.input
        || serde_json::from_str::<Value>(&existing.input).ok()
            == serde_json::from_str::<Value>(&record.input).ok();
    Ok(Some(
        if existing.status == ExecutionStatus::Running && same_input {
            Existing::Same {
                start_date: existing.start_date,
            }
        } else {
            Existing::Other
        },
    ))
}

/// A random (version 4) UUID, from the thread's generator (no system call).
pub(crate) fn random_uuid() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

/// A generated execution name: a time-ordered (version 7) UUID, so executions started
/// one after another sort together and their ARNs append to the store's ARN index
/// instead of landing on a random page of it.
fn generated_name(now: OffsetDateTime) -> String {
    let millis = (now.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random())
        .into_uuid()
        .to_string()
}

impl Engine {
    /// StartExecution: STANDARD executions are committed before this returns and then
    /// run in the background; EXPRESS ones run in the background, in memory.
    pub async fn start_execution(
        &self,
        request: StartExecutionInput,
    ) -> Result<StartedExecution, Error> {
        self.start_execution_parsed(request, None).await
    }

    /// [`Engine::start_execution`] with `request.input` already parsed into `input`
    /// (`backend::local` checks the input before it calls the engine).
    pub async fn start_execution_parsed(
        &self,
        mut request: StartExecutionInput,
        input: Option<Value>,
    ) -> Result<StartedExecution, Error> {
        let p = self.prepare(&mut request, input)?;
        let start_date = self.inner.clock.now();
        let machine_name = p.machine.record.name.clone();
        if p.machine.record.r#type == StateMachineType::Express {
            let execution_arn =
                self.inner
                    .scope
                    .express_execution(&machine_name, &p.name, &random_uuid());
            let engine = self.clone();
            let arn = execution_arn.clone();
            tokio::spawn(async move {
                let _ = engine.run_express(&p, arn, start_date).await;
            });
            return Ok(StartedExecution {
                execution_arn,
                start_date,
            });
        }
        let execution_arn = self.inner.scope.execution(&machine_name, &p.name);
        let mut record = ExecutionRecord {
            arn: execution_arn.clone(),
            state_machine_arn: p.machine.record.arn.clone(),
            name: p.name,
            status: ExecutionStatus::Running,
            start_date,
            stop_date: None,
            input: p.input,
            output: None,
            error: None,
            cause: None,
            trace_header: request.trace_header,
            test_case: p.test_case,
        };
        let seq = self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
        let mut launch = Launch::new(&self.inner, &p.machine, &record, seq, p.input_value);
        // A fast execution ends here and is written whole with its start (one row);
        // a longer one is written as far as it got and goes on in the background. A
        // machine that can loop is not run before the start is acknowledged.
        let first_poll = if driver::has_no_loops(&p.machine.program.program) {
            launch.poll_once()
        } else {
            None
        };
        let (inserted, launch) = match first_poll {
            Some(outcome) => {
                let history = launch.finished(outcome, &mut record);
                let inserted = self
                    .inner
                    .store
                    .durable(move |c| insert_or_existing(c, seq, &record, Some(&history)))
                    .await?;
                (inserted, None)
            }
            None => {
                let unstored = launch.unstored();
                let checkpoint_stored = unstored.checkpoint.is_some();
                let inserted = self
                    .inner
                    .store
                    .durable(move |c| {
                        let inserted = insert_or_existing(c, seq, &record, None)?;
                        if inserted.is_none() {
                            if let Some((first, last, text)) = &unstored.events {
                                store::insert_history_chunk(c, seq, *first, *last, text)?;
                            }
                            if let Some((k, wait_until)) = &unstored.checkpoint {
                                store::put_checkpoint(c, seq, k, *wait_until)?;
                            }
                        }
                        Ok(inserted)
                    })
                    .await?;
                (inserted, Some((launch, checkpoint_stored)))
            }
        };
        match inserted {
            // Not started: the prepared execution is dropped before it did anything.
            Some(Existing::Same { start_date }) => Ok(StartedExecution {
                execution_arn,
                start_date,
            }),
            Some(Existing::Other) => Err(Error::ExecutionAlreadyExists { arn: execution_arn }),
            None => {
                if let Some((launch, checkpoint_stored)) = launch {
                    launch.commit_and_spawn(checkpoint_stored);
                }
                Ok(StartedExecution {
                    execution_arn,
                    start_date,
                })
            }
        }
    }

    /// StartSyncExecution: runs an EXPRESS execution to its end and reports it.
    pub async fn start_sync_execution(
        &self,
        request: StartExecutionInput,
    ) -> Result<SyncExecution, Error> {
        self.start_sync_execution_parsed(request, None).await
    }

    /// [`Engine::start_sync_execution`] with `request.input` already parsed into `input`.
    pub async fn start_sync_execution_parsed(
        &self,
        mut request: StartExecutionInput,
        input: Option<Value>,
    ) -> Result<SyncExecution, Error> {
        let p = self.prepare(&mut request, input)?;
        if p.machine.record.r#type != StateMachineType::Express {
            return Err(Error::StateMachineTypeNotSupported);
        }
        let start_date = self.inner.clock.now();
        let arn =
            self.inner
                .scope
                .express_execution(&p.machine.record.name, &p.name, &random_uuid());
        let real_start = std::time::Instant::now();
        let mut execution = self.run_express(&p, arn, start_date).await;
        execution.trace_header = request.trace_header;
        let billed = real_start.elapsed().as_millis().div_ceil(100).max(1) as u64 * 100;
        Ok(SyncExecution {
            execution,
            billed_duration_ms: billed,
            billed_memory_mb: 64,
        })
    }

    async fn run_express(
        &self,
        p: &Prepared,
        arn: String,
        start_date: OffsetDateTime,
    ) -> ExecutionRecord {
        let machine = &p.machine.record;
        let info = ExecutionInfo {
            execution_arn: arn.clone(),
            name: p.name.clone(),
            input: p.input_value.clone(),
            start_time: start_date,
            role_arn: machine.role_arn.clone(),
            state_machine_arn: machine.arn.clone(),
            state_machine_name: machine.name.clone(),
        };
        let effects = ExecutionEffects::express(
            Arc::clone(&self.inner),
            arn.clone(),
            machine.name.clone(),
            p.test_case.clone(),
        );
        let outcome = interpreter::run(
            &p.machine.program,
            &info,
            p.input_value.clone(),
            None,
            &effects,
        )
        .await;
        let (status, output, error) = match outcome {
            Outcome::Succeeded(v) => (ExecutionStatus::Succeeded, Some(v.to_string()), None),
            Outcome::Failed(e) => (ExecutionStatus::Failed, None, Some(e)),
            Outcome::TimedOut(e) => (ExecutionStatus::TimedOut, None, Some(e)),
        };
        let (error, cause) = match error {
            Some(StateError { error, cause }) => (Some(error), cause),
            None => (None, None),
        };
        ExecutionRecord {
            arn,
            state_machine_arn: machine.arn.clone(),
            name: p.name.clone(),
            status,
            start_date,
            stop_date: Some(self.inner.clock.now()),
            input: p.input.clone(),
            output,
            error,
            cause,
            trace_header: None,
            test_case: p.test_case.clone(),
        }
    }

    /// Checks a start request (machine, test case, name, input) and takes its name and
    /// input; `parsed` is the input already parsed, if the caller did.
    fn prepare(
        &self,
        request: &mut StartExecutionInput,
        parsed: Option<Value>,
    ) -> Result<Prepared, Error> {
        let (machine_arn, test_case) = match request.state_machine_arn.split_once('#') {
            Some((arn, case)) => (arn, Some(case.to_string())),
            None => (request.state_machine_arn.as_str(), None),
        };
        let machine = self.existing_machine(machine_arn)?;
        if let Some(case) = &test_case {
            let known = self
                .inner
                .tasks
                .mocks()
                .is_some_and(|m| m.has_test_case(&machine.record.name, case));
            if !known {
                return Err(Error::InvalidName {
                    name: request.state_machine_arn.clone(),
                });
            }
        }
        let name = match request.name.take() {
            Some(name) if arn::is_valid_name(&name) => name,
            Some(name) => return Err(Error::InvalidName { name }),
            None => generated_name(self.inner.clock.now()),
        };
        let input = request.input.take().unwrap_or_else(|| "{}".to_string());
        if input.len() > MAX_INPUT_BYTES {
            return Err(Error::Validation {
                message:
                    "1 validation error detected: Value at 'input' failed to satisfy constraint: \
                          Member must have length less than or equal to 262144"
                        .into(),
            });
        }
        if input.trim().is_empty() {
            return Err(Error::InvalidExecutionInput {
                reason: "Invalid execution input.".into(),
            });
        }
        let input_value = match parsed {
            Some(value) => value,
            None => serde_json::from_str(&input).map_err(|e| Error::InvalidExecutionInput {
                reason: e.to_string(),
            })?,
        };
        Ok(Prepared {
            machine,
            name,
            input,
            input_value,
            test_case,
        })
    }

    /// DescribeExecution.
    pub async fn describe_execution(&self, execution_arn: &str) -> Result<ExecutionRecord, Error> {
        standard_arn(execution_arn)?;
        let arn = execution_arn.to_string();
        self.inner
            .store
            .read(move |c| store::get_execution(c, &arn))
            .await?
            .ok_or_else(|| Error::ExecutionDoesNotExist {
                arn: execution_arn.to_string(),
            })
    }

    /// Waits until a STANDARD execution has ended and returns it.
    pub async fn wait_execution(&self, execution_arn: &str) -> Result<ExecutionRecord, Error> {
        let running = self
            .inner
            .running
            .lock()
            .expect("invariant: running map lock")
            .get(execution_arn)
            .cloned();
        if let Some(running) = running {
            let mut done = running.done.subscribe();
            let _ = done.wait_for(|d| *d).await;
        }
        self.describe_execution(execution_arn).await
    }

    /// StopExecution: aborts a running execution (status ABORTED).
    pub async fn stop_execution(
        &self,
        execution_arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<OffsetDateTime, Error> {
        standard_arn(execution_arn)?;
        let running = self
            .inner
            .running
            .lock()
            .expect("invariant: running map lock")
            .get(execution_arn)
            .cloned();
        if let Some(running) = running
            && let Some((stop, written)) =
                driver::stop(&self.inner, execution_arn, &running, error, cause)
        {
            written.await?;
            self.inner
                .running
                .lock()
                .expect("invariant: running map lock")
                .remove(execution_arn);
            running.done.send_replace(true);
            return Ok(stop);
        }
        let record = self.describe_execution(execution_arn).await?;
        Ok(record.stop_date.unwrap_or_else(|| self.inner.clock.now()))
    }

    /// ListExecutions of one STANDARD state machine, newest first.
    pub async fn list_executions(
        &self,
        state_machine_arn: &str,
        status_filter: Option<&str>,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionRecord>, Error> {
        let machine = self.existing_machine(state_machine_arn)?;
        if machine.record.r#type == StateMachineType::Express {
            return Err(Error::StateMachineTypeNotSupported);
        }
        if status_filter == Some("PENDING_REDRIVE") {
            return Ok(Page {
                items: Vec::new(),
                next_token: None,
            });
        }
        let status = status_filter
            .map(|s| {
                ExecutionStatus::parse(s).ok_or_else(|| {
                    Error::not_in_enum(
                        s,
                        "statusFilter",
                        "SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING",
                    )
                })
            })
            .transpose()?;
        let size = page_size(max_results)?;
        let before = next_token
            .map(|t| {
                decode_token("ex", t)?
                    .parse::<i64>()
                    .map_err(|_| invalid_token(t))
            })
            .transpose()?;
        let arn = state_machine_arn.to_string();
        let mut rows = self
            .inner
            .store
            .read(move |c| store::list_executions(c, &arn, status, before, size + 1))
            .await?;
        let next_token = if rows.len() > size {
            rows.truncate(size);
            rows.last()
                .map(|(seq, _)| encode_token("ex", &seq.to_string()))
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|(_, e)| e).collect(),
            next_token,
        })
    }

    /// GetExecutionHistory.
    pub async fn get_execution_history(
        &self,
        execution_arn: &str,
        max_results: Option<i64>,
        reverse_order: bool,
        next_token: Option<&str>,
    ) -> Result<Page<HistoryEventRecord>, Error> {
        self.describe_execution(execution_arn).await?;
        let size = page_size(max_results)?;
        let after = next_token
            .map(|t| {
                decode_token("ev", t)?
                    .parse::<i64>()
                    .map_err(|_| invalid_token(t))
            })
            .transpose()?;
        // Events still in memory first: one leaves memory only once its write is queued,
        // so the store read below finds every event this list lacks.
        let running = self
            .inner
            .running
            .lock()
            .expect("invariant: running map lock")
            .get(execution_arn)
            .cloned();
        let unstored = running.map(|r| r.unstored_events()).unwrap_or_default();
        let arn = execution_arn.to_string();
        let mut events = self
            .inner
            .store
            .read(move |c| match store::execution_seq(c, &arn)? {
                Some(seq) => store::list_events(c, seq),
                None => Ok(Vec::new()),
            })
            .await?;
        let stored_last = events.last().map_or(0, |e| e.id);
        events.extend(unstored.into_iter().filter(|e| e.id > stored_last));
        if reverse_order {
            events.reverse();
        }
        if let Some(after) = after {
            events.retain(|e| {
                if reverse_order {
                    e.id < after
                } else {
                    e.id > after
                }
            });
        }
        events.truncate(size + 1);
        let next_token = if events.len() > size {
            events.truncate(size);
            events.last().map(|e| encode_token("ev", &e.id.to_string()))
        } else {
            None
        };
        Ok(Page {
            items: events,
            next_token,
        })
    }

    /// SendTaskSuccess.
    pub async fn send_task_success(&self, task_token: &str, output: &str) -> Result<(), Error> {
        check_token(task_token)?;
        let value: Value = serde_json::from_str(output).map_err(|e| Error::InvalidOutput {
            reason: e.to_string(),
        })?;
        self.signal(task_token, Signal::Success(value)).await
    }

    /// SendTaskFailure.
    pub async fn send_task_failure(
        &self,
        task_token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), Error> {
        check_token(task_token)?;
        let failure = StateError {
            error: error.unwrap_or_default(),
            cause,
        };
        self.signal(task_token, Signal::Failure(failure)).await
    }

    /// SendTaskHeartbeat.
    pub async fn send_task_heartbeat(&self, task_token: &str) -> Result<(), Error> {
        check_token(task_token)?;
        self.signal(task_token, Signal::Heartbeat).await
    }

    async fn signal(&self, token: &str, signal: Signal) -> Result<(), Error> {
        let tokens = &self.inner.tokens;
        // A token can be answered while its task is still calling its resource.
        let signal = match tokens.signal(token, signal) {
            Ok(()) => return Ok(()),
            Err(signal) => signal,
        };
        let key = token.to_string();
        let record = self
            .inner
            .store
            .read(move |c| store::get_task_token(c, &key))
            .await?;
        match record {
            None => Err(Error::TaskDoesNotExist {
                token: token.to_string(),
            }),
            Some(r) if !r.waiting => Err(Error::TaskTimedOut {
                token: token.to_string(),
            }),
            Some(r) => {
                // Issued before a restart: the resumed task of that state holds a new token.
                let live = tokens.live_token_of(&r.execution_arn, &r.state_name);
                if let Some(live) = live
                    && tokens.signal(&live, signal).is_ok()
                {
                    let key = token.to_string();
                    self.inner
                        .store
                        .write(move |c| store::close_task_token(c, &key));
                    return Ok(());
                }
                Err(Error::TaskTimedOut {
                    token: token.to_string(),
                })
            }
        }
    }

    /// Resumes every execution left RUNNING by an earlier process.
    pub(crate) async fn resume_running(&self) -> Result<(), store::Error> {
        let running = self.inner.store.read(store::running_executions).await?;
        for (seq, record) in running {
            let (checkpoint, history) = self
                .inner
                .store
                .read(move |c| Ok((store::get_checkpoint(c, seq)?, store::list_events(c, seq)?)))
                .await?;
            match self.machine(&record.state_machine_arn) {
                Some(machine) => {
                    let wait_until = checkpoint.as_ref().and_then(|k| k.wait_until);
                    let input = serde_json::from_str(&record.input).unwrap_or(Value::Null);
                    let resume = interpreter::resume_point(
                        &machine.program,
                        checkpoint.map(|k| k.checkpoint),
                        &input,
                        &history,
                    );
                    let last_id = match &resume {
                        Some((_, keep)) => {
                            let keep = *keep;
                            self.inner
                                .store
                                .write(move |c| store::delete_events_after(c, seq, keep));
                            keep
                        }
                        None => 0,
                    };
                    let resume = resume.map(|(r, _)| (r, wait_until));
                    tracing::info!(execution = %record.arn, state = ?resume.as_ref().map(|(r, _)| &r.checkpoint.state), "resuming execution");
                    Launch::resume(&self.inner, &machine, &record, seq, resume, last_id)
                        .commit_and_spawn(true);
                }
                None => {
                    let stop = self.inner.clock.now();
                    self.inner.store.write(move |c| {
                        let close = ExecutionClose {
                            status: ExecutionStatus::Failed,
                            stop_date: stop,
                            output: None,
                            error: Some("States.Runtime"),
                            cause: Some(
                                "The state machine was deleted before the execution could resume.",
                            ),
                            history: b"",
                            had_checkpoint: true,
                        };
                        store::close_execution(c, seq, &close).map(|_| ())
                    });
                }
            }
        }
        Ok(())
    }
}

fn invalid_token(token: &str) -> Error {
    Error::InvalidToken {
        reason: format!("Invalid token: {token}"),
    }
}

fn check_token(token: &str) -> Result<(), Error> {
    if token.is_empty() || token.len() > 2048 {
        return Err(Error::InvalidToken {
            reason: "Invalid token".into(),
        });
    }
    Ok(())
}

/// Execution APIs take STANDARD execution ARNs only.
fn standard_arn(execution_arn: &str) -> Result<(), Error> {
    match arn::parse_execution(execution_arn)? {
        ExecutionArn::Standard { .. } => Ok(()),
        ExecutionArn::Express => Err(Error::wrong_resource_type("express")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_valid_uuids_in_start_order() {
        let t0 = time::macros::datetime!(2026-11-21 17:00:00 UTC);
        let names: Vec<String> = (0..50)
            .map(|i| generated_name(t0 + time::Duration::milliseconds(i)))
            .collect();
        for name in &names {
            assert!(arn::is_valid_name(name), "{name}");
            let parsed = uuid::Uuid::parse_str(name).unwrap();
            assert_eq!(parsed.get_version_num(), 7, "{name}");
        }
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, names, "later starts sort after earlier ones");
        assert_eq!(
            uuid::Uuid::parse_str(&random_uuid())
                .unwrap()
                .get_version_num(),
            4
        );
        assert_ne!(random_uuid(), random_uuid());
    }
}
