//! Running one execution: the [`Effects`] the interpreter calls (tasks, sleeps,
//! history, checkpoints) and the task that drives a STANDARD execution to its end,
//! records the outcome, and can be aborted by StopExecution.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::AbortHandle;

use super::interpreter::{self, Program};
use super::tokens;
use super::{Inner, Machine};
use crate::engine::effects::{
    Checkpoint, Effects, ExecutionInfo, HistoryEvent, Outcome, Resume, StateError, TaskRequest,
};
use crate::engine::store::{self, ExecutionRecord, ExecutionStatus, HistoryEventRecord};
use crate::engine::tasks::TaskContext;

/// The history of a running STANDARD execution: event ids and whether it is closed.
#[derive(Debug)]
pub(crate) struct EventLog {
    pub(crate) last_id: i64,
    pub(crate) closed: bool,
}

/// A STANDARD execution running in this process.
#[derive(Debug)]
pub(crate) struct Running {
    /// The execution's position in the store, which keys its history and checkpoint.
    pub(crate) seq: i64,
    pub(crate) log: Mutex<EventLog>,
    pub(crate) abort: Mutex<Option<AbortHandle>>,
    /// Whether the execution ever waited for a task token (their rows need closing).
    pub(crate) used_tokens: std::sync::atomic::AtomicBool,
    pub(crate) done: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Appends an event (unless the execution is closed); returns its id.
    pub(crate) fn append(&self, inner: &Inner, event: HistoryEvent) -> Option<i64> {
        let mut log = self.log.lock().expect("invariant: event log lock");
        if log.closed {
            return None;
        }
        Some(append_locked(&mut log, inner, self.seq, event))
    }
}

/// Appends an event to an open log; the caller holds the lock.
pub(crate) fn append_locked(
    log: &mut EventLog,
    inner: &Inner,
    seq: i64,
    event: HistoryEvent,
) -> i64 {
    log.last_id += 1;
    let record = HistoryEventRecord {
        id: log.last_id,
        previous_event_id: log.last_id - 1,
        timestamp: inner.clock.now(),
        event_type: event.event_type,
        details_key: event.details_key,
        details: event.details,
    };
    let id = record.id;
    inner
        .store
        .write(move |c| store::insert_event(c, seq, &record));
    id
}

/// Where a fresh execution's first checkpoint stands.
#[derive(Debug)]
enum FirstCheckpointState {
    /// The next checkpoint is the first one (StartAt, execution input).
    Expected,
    /// Seen and held back.
    Held(Checkpoint),
    /// Written, superseded, or not applicable (resumed or EXPRESS executions).
    Settled,
}

type FirstCheckpoint = Mutex<FirstCheckpointState>;

/// What the interpreter sees of the runtime, for one execution.
pub(crate) struct ExecutionEffects {
    inner: Arc<Inner>,
    arn: String,
    state_machine_name: String,
    test_case: Option<String>,
    /// `None` for EXPRESS executions: no history, no checkpoints.
    running: Option<Arc<Running>>,
    /// After a restart: the state being resumed and the deadline of its Wait.
    resume_wait: Mutex<Option<(String, OffsetDateTime, bool)>>,
    /// A fresh execution's first checkpoint (StartAt, the execution input, no
    /// variables) says nothing a restart does not know; it is written only if the
    /// execution sleeps there, to keep the Wait's deadline.
    first_checkpoint: FirstCheckpoint,
    invocations: Mutex<HashMap<String, u32>>,
}

impl ExecutionEffects {
    pub(crate) fn express(
        inner: Arc<Inner>,
        arn: String,
        state_machine_name: String,
        test_case: Option<String>,
    ) -> Self {
        ExecutionEffects {
            inner,
            arn,
            state_machine_name,
            test_case,
            running: None,
            resume_wait: Mutex::new(None),
            first_checkpoint: Mutex::new(FirstCheckpointState::Settled),
            invocations: Mutex::new(HashMap::new()),
        }
    }

    async fn run_task(
        &self,
        request: TaskRequest,
        invocation: u32,
        submitted: Option<&(dyn Fn(Value) + Send + Sync)>,
    ) -> Result<Value, StateError> {
        // Nested executions (states:startExecution, aws-sdk:sfn) run on this engine.
        let engine = super::Engine {
            inner: Arc::clone(&self.inner),
        };
        let context = TaskContext {
            state_machine_name: &self.state_machine_name,
            test_case: self.test_case.as_deref(),
            invocation,
            executions: Some(&engine),
            submitted,
        };
        let base = strip_pattern(&request.resource);
        let waits_for_token = request.resource.ends_with(".waitForTaskToken");
        let mut call = request.clone();
        call.resource = base.to_string();
        let token = match (&request.task_token, waits_for_token) {
            (Some(token), true) => token.clone(),
            _ => return self.inner.tasks.invoke(&call, context).await,
        };
        if let Some(running) = &self.running {
            running
                .used_tokens
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let (_guard, mut receiver) = self.inner.tokens.register(
            &self.inner.store,
            &token,
            &self.arn,
            &request.state_name,
            self.inner.clock.now(),
        );
        self.inner.tasks.invoke(&call, context).await?;
        tokens::wait(&mut receiver, request.heartbeat_seconds, &self.inner.clock).await
    }
}

impl ExecutionEffects {
    /// How many times `state` was invoked before in this execution (0 first).
    fn next_invocation(&self, state: &str) -> u32 {
        let mut counts = self
            .invocations
            .lock()
            .expect("invariant: invocation counter lock");
        let count = counts.entry(state.to_string()).or_insert(0);
        *count += 1;
        *count - 1
    }
}

/// `arn:aws:states:::x:y.waitForTaskToken` → `arn:aws:states:::x:y` (the task layer runs
/// `.sync` resources itself).
fn strip_pattern(resource: &str) -> &str {
    resource
        .strip_suffix(".waitForTaskToken")
        .unwrap_or(resource)
}

#[async_trait::async_trait]
impl Effects for ExecutionEffects {
    async fn invoke_task(&self, request: TaskRequest) -> Result<Value, StateError> {
        let invocation = self.next_invocation(&request.state_name);
        // TimeoutSeconds is enforced by the interpreter; HeartbeatSeconds here.
        self.run_task(request, invocation, None).await
    }

    async fn invoke_sync_task(
        &self,
        request: TaskRequest,
        submitted: &(dyn Fn(Value) + Send + Sync),
    ) -> Result<Value, StateError> {
        let invocation = self.next_invocation(&request.state_name);
        self.run_task(request, invocation, Some(submitted)).await
    }

    fn reports_submissions(&self) -> bool {
        true
    }

    async fn sleep_until(&self, until: OffsetDateTime) {
        let saved = {
            let mut resume = self.resume_wait.lock().expect("invariant: resume lock");
            resume.take().map(|(_, deadline, _)| deadline)
        };
        let until = saved.unwrap_or(until);
        if let Some(running) = &self.running {
            let seq = running.seq;
            let held = {
                let mut first = self
                    .first_checkpoint
                    .lock()
                    .expect("invariant: first checkpoint lock");
                match std::mem::replace(&mut *first, FirstCheckpointState::Settled) {
                    FirstCheckpointState::Held(k) => Some(k),
                    _ => None,
                }
            };
            if let Some(k) = held {
                self.inner
                    .store
                    .write(move |c| store::put_checkpoint(c, seq, &k));
            }
            self.inner
                .store
                .write(move |c| store::set_wait_until(c, seq, until));
        }
        self.inner.clock.sleep_until(until).await;
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    fn record(&self, event: HistoryEvent) {
        if let Some(running) = &self.running {
            running.append(&self.inner, event);
        }
    }

    fn checkpoint(&self, checkpoint: &Checkpoint) {
        let Some(running) = &self.running else { return };
        {
            // The saved Wait deadline belongs to the resumed state's first entry only.
            let mut resume = self.resume_wait.lock().expect("invariant: resume lock");
            if let Some((state, _, seen)) = resume.as_mut() {
                if *state != checkpoint.state || *seen {
                    *resume = None;
                } else {
                    *seen = true;
                }
            }
        }
        if running
            .log
            .lock()
            .expect("invariant: event log lock")
            .closed
        {
            return;
        }
        {
            let mut first = self
                .first_checkpoint
                .lock()
                .expect("invariant: first checkpoint lock");
            match &*first {
                FirstCheckpointState::Expected if checkpoint.variables.is_empty() => {
                    *first = FirstCheckpointState::Held(checkpoint.clone());
                    return;
                }
                FirstCheckpointState::Settled => {}
                _ => *first = FirstCheckpointState::Settled,
            }
        }
        let seq = running.seq;
        let checkpoint = checkpoint.clone();
        self.inner
            .store
            .write(move |c| store::put_checkpoint(c, seq, &checkpoint));
    }
}

/// Starts (or resumes) a STANDARD execution in a tokio task.
pub(crate) fn spawn(
    inner: &Arc<Inner>,
    machine: &Arc<Machine>,
    record: ExecutionRecord,
    seq: i64,
    resume: Option<(Resume, Option<OffsetDateTime>)>,
    last_event_id: i64,
) {
    let (done, _) = tokio::sync::watch::channel(false);
    let running = Arc::new(Running {
        seq,
        log: Mutex::new(EventLog {
            last_id: last_event_id,
            closed: false,
        }),
        abort: Mutex::new(None),
        used_tokens: std::sync::atomic::AtomicBool::new(false),
        done,
    });
    inner
        .running
        .lock()
        .expect("invariant: running map lock")
        .insert(record.arn.clone(), Arc::clone(&running));
    let resume_wait = resume.as_ref().and_then(|(r, wait_until)| {
        wait_until.map(|until| (r.checkpoint.state.clone(), until, false))
    });
    let effects = ExecutionEffects {
        inner: Arc::clone(inner),
        arn: record.arn.clone(),
        state_machine_name: machine.record.name.clone(),
        test_case: record.test_case.clone(),
        running: Some(Arc::clone(&running)),
        first_checkpoint: Mutex::new(if resume.is_some() {
            FirstCheckpointState::Settled
        } else {
            FirstCheckpointState::Expected
        }),
        resume_wait: Mutex::new(resume_wait),
        invocations: Mutex::new(HashMap::new()),
    };
    let info = ExecutionInfo {
        execution_arn: record.arn.clone(),
        name: record.name.clone(),
        input: serde_json::from_str(&record.input).unwrap_or(Value::Null),
        start_time: record.start_date,
        role_arn: machine.record.role_arn.clone(),
        state_machine_arn: machine.record.arn.clone(),
        state_machine_name: machine.record.name.clone(),
    };
    let program: Arc<Program> = Arc::clone(&machine.program);
    let inner2 = Arc::clone(inner);
    let running2 = Arc::clone(&running);
    let handle = tokio::spawn(async move {
        let input = info.input.clone();
        let outcome =
            interpreter::run(&program, &info, input, resume.map(|(r, _)| r), &effects).await;
        drop(effects);
        finish(&inner2, &info.execution_arn, &running2, outcome);
    });
    *running.abort.lock().expect("invariant: abort lock") = Some(handle.abort_handle());
}

/// Records how an execution ended (unless StopExecution closed it first).
fn finish(inner: &Inner, arn: &str, running: &Running, outcome: Outcome) {
    let mut log = running.log.lock().expect("invariant: event log lock");
    if log.closed {
        return;
    }
    let (status, output, error) = match outcome {
        Outcome::Succeeded(v) => (ExecutionStatus::Succeeded, Some(v.to_string()), None),
        Outcome::Failed(e) => (ExecutionStatus::Failed, None, Some(e)),
        Outcome::TimedOut(e) => (ExecutionStatus::TimedOut, None, Some(e)),
    };
    if !interpreter::RECORDS_EXECUTION_EVENTS {
        append_locked(
            &mut log,
            inner,
            running.seq,
            terminal_event(status, output.as_deref(), error.as_ref()),
        );
    }
    log.closed = true;
    let stop = inner.clock.now();
    let arn_owned = arn.to_string();
    let seq = running.seq;
    let used_tokens = running
        .used_tokens
        .load(std::sync::atomic::Ordering::Relaxed);
    inner.store.write(move |c| {
        let (error, cause) = match &error {
            Some(e) => (Some(e.error.as_str()), e.cause.as_deref()),
            None => (None, None),
        };
        store::close_execution(
            c,
            &arn_owned,
            seq,
            status,
            stop,
            output.as_deref(),
            error,
            cause,
        )?;
        if used_tokens {
            store::close_task_tokens_of(c, &arn_owned)?;
        }
        Ok(())
    });
    drop(log);
    inner
        .running
        .lock()
        .expect("invariant: running map lock")
        .remove(arn);
    running.done.send_replace(true);
}

/// `ExecutionSucceeded` / `ExecutionFailed` / `ExecutionTimedOut` / `ExecutionAborted`.
pub(crate) fn terminal_event(
    status: ExecutionStatus,
    output: Option<&str>,
    error: Option<&StateError>,
) -> HistoryEvent {
    let (event_type, key) = match status {
        ExecutionStatus::Succeeded => ("ExecutionSucceeded", "executionSucceededEventDetails"),
        ExecutionStatus::Failed => ("ExecutionFailed", "executionFailedEventDetails"),
        ExecutionStatus::TimedOut => ("ExecutionTimedOut", "executionTimedOutEventDetails"),
        ExecutionStatus::Aborted | ExecutionStatus::Running => {
            ("ExecutionAborted", "executionAbortedEventDetails")
        }
    };
    let details = match (output, error) {
        (Some(output), _) => json!({"output": output, "outputDetails": {"truncated": false}}),
        (None, Some(e)) => {
            let mut d = serde_json::Map::new();
            d.insert("error".into(), Value::String(e.error.clone()));
            if let Some(cause) = &e.cause {
                d.insert("cause".into(), Value::String(cause.clone()));
            }
            Value::Object(d)
        }
        (None, None) => json!({}),
    };
    HistoryEvent {
        event_type: event_type.into(),
        details_key: Some(key.into()),
        details,
    }
}

/// `ExecutionStarted`, recorded with the execution row.
pub(crate) fn started_event(input: &str, role_arn: &str, at: OffsetDateTime) -> HistoryEventRecord {
    HistoryEventRecord {
        id: 1,
        previous_event_id: 0,
        timestamp: at,
        event_type: "ExecutionStarted".into(),
        details_key: Some("executionStartedEventDetails".into()),
        details: json!({"input": input, "inputDetails": {"truncated": false}, "roleArn": role_arn}),
    }
}
