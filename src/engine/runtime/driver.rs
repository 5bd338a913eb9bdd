//! Running one execution: the [`Effects`] the interpreter calls (tasks, sleeps,
//! history, checkpoints) and the task that drives a STANDARD execution to its end,
//! records the outcome, and can be aborted by StopExecution.
//!
//! A STANDARD execution whose states cannot loop ([`has_no_loops`]) is polled once
//! before its row is committed ([`Launch`]):
//! nothing it does reaches the store or the outside world until then (its events and
//! its latest checkpoint are kept in memory, and a Task waits for the commit before it
//! calls its resource). When that first poll finishes the execution (Pass, Choice,
//! Succeed, Fail, ...), the whole execution, history included, is one row written
//! with the start. Otherwise the start writes what was recorded so far and the
//! execution goes on in a tokio task. While it runs, its events and its latest
//! checkpoint are handed to the store whenever it is about to wait (a Task, a Wait, a
//! retry delay), and the rest with the row when it ends, so a resumed execution
//! starts again from the state it was waiting in.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::AbortHandle;

use super::interpreter;
use super::tokens;
use super::{Inner, Machine};
use crate::engine::asl;
use crate::engine::effects::{
    Checkpoint, Effects, ExecutionInfo, HistoryEvent, Outcome, Resume, StateError, TaskRequest,
};
use crate::engine::store::{
    self, ExecutionClose, ExecutionRecord, ExecutionStatus, HistoryEventRecord,
};
use crate::engine::tasks::TaskContext;

/// What a STANDARD execution has recorded and not yet handed to the store, and where
/// its history stands.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    pub(crate) last_id: i64,
    pub(crate) closed: bool,
    /// Events not yet handed to the store, as [`store::encode_event`] lines, and the
    /// id of the first of them.
    pending: Vec<u8>,
    pending_first: i64,
    /// The latest checkpoint not yet handed to the store.
    checkpoint: Option<Checkpoint>,
    /// Whether the execution has a checkpoint row (closing deletes it).
    checkpoint_stored: bool,
    /// False until the execution's row is committed: until then nothing is sent to the
    /// store (the start writes it all) and no Task resource is called.
    committed: bool,
    /// Before the commit: the deadline of the Wait the execution sleeps in.
    wait_until: Option<OffsetDateTime>,
    /// Before the commit: the task waiting for it.
    gate: Option<Waker>,
}

impl EventLog {
    fn push(&mut self, timestamp: OffsetDateTime, event: &HistoryEvent) -> i64 {
        self.last_id += 1;
        if self.pending.is_empty() {
            self.pending_first = self.last_id;
        }
        store::encode_event(
            &mut self.pending,
            self.last_id,
            self.last_id - 1,
            timestamp,
            &event.event_type,
            event.details_key.as_deref(),
            &event.details,
        );
        self.last_id
    }

    /// The events not yet handed to the store: `(first id, last id, text)`.
    fn take_pending(&mut self) -> Option<(i64, i64, Vec<u8>)> {
        if self.pending.is_empty() {
            return None;
        }
        Some((
            self.pending_first,
            self.last_id,
            std::mem::take(&mut self.pending),
        ))
    }
}

/// A STANDARD execution running in this process.
#[derive(Debug)]
pub(crate) struct Running {
    /// The execution's position in the store, which keys its history and checkpoint.
    pub(crate) seq: i64,
    pub(crate) log: Mutex<EventLog>,
    pub(crate) abort: Mutex<Option<AbortHandle>>,
    /// Whether the execution ever waited for a task token (their rows need closing).
    pub(crate) used_tokens: AtomicBool,
    pub(crate) done: tokio::sync::watch::Sender<bool>,
}

impl Running {
    fn new(seq: i64, log: EventLog) -> Arc<Running> {
        let (done, _) = tokio::sync::watch::channel(false);
        Arc::new(Running {
            seq,
            log: Mutex::new(log),
            abort: Mutex::new(None),
            used_tokens: AtomicBool::new(false),
            done,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, EventLog> {
        self.log.lock().expect("invariant: event log lock")
    }

    /// Appends an event (unless the execution is closed); returns its id.
    pub(crate) fn append(&self, inner: &Inner, event: HistoryEvent) -> Option<i64> {
        let mut log = self.lock();
        if log.closed {
            return None;
        }
        Some(log.push(inner.clock.now(), &event))
    }

    /// The events recorded and not yet handed to the store, for GetExecutionHistory
    /// while the execution runs. Read them before the store: an event leaves this list
    /// only once its write is queued.
    pub(crate) fn unstored_events(&self) -> Vec<HistoryEventRecord> {
        let log = self.lock();
        let mut events = Vec::new();
        store::decode_events(&log.pending, &mut events);
        events
    }

    /// Resolves once the execution's row is committed.
    fn committed(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut log = self.lock();
            if log.committed {
                Poll::Ready(())
            } else {
                log.gate = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// Hands the execution's unstored events and checkpoint to the store, with the
/// deadline of the Wait it is about to sleep in. The caller holds the log lock, so
/// the write is queued before any reader can miss the events in memory.
fn store_progress_locked(
    log: &mut EventLog,
    inner: &Inner,
    seq: i64,
    wait_until: Option<OffsetDateTime>,
) {
    let events = log.take_pending();
    let checkpoint = log.checkpoint.take();
    if checkpoint.is_some() {
        log.checkpoint_stored = true;
    }
    if events.is_none() && checkpoint.is_none() && wait_until.is_none() {
        return;
    }
    inner.store.write(move |c| {
        if let Some((first, last, text)) = &events {
            store::insert_history_chunk(c, seq, *first, *last, text)?;
        }
        match (&checkpoint, wait_until) {
            (Some(k), _) => store::put_checkpoint(c, seq, k, wait_until),
            (None, Some(until)) => store::set_wait_until(c, seq, until),
            (None, None) => Ok(()),
        }
    });
}

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
            running.used_tokens.store(true, Ordering::Relaxed);
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
    /// Before a Task calls its resource: waits for the start's commit, then hands what
    /// the execution recorded to the store.
    async fn before_task(&self) {
        if let Some(running) = &self.running {
            running.committed().await;
            let mut log = running.lock();
            if !log.closed {
                store_progress_locked(&mut log, &self.inner, running.seq, None);
            }
        }
    }

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
        self.before_task().await;
        let invocation = self.next_invocation(&request.state_name);
        // TimeoutSeconds is enforced by the interpreter; HeartbeatSeconds here.
        self.run_task(request, invocation, None).await
    }

    async fn invoke_sync_task(
        &self,
        request: TaskRequest,
        submitted: &(dyn Fn(Value) + Send + Sync),
    ) -> Result<Value, StateError> {
        self.before_task().await;
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
            let mut log = running.lock();
            if log.committed {
                if !log.closed {
                    store_progress_locked(&mut log, &self.inner, running.seq, Some(until));
                }
            } else {
                log.wait_until = Some(until);
            }
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
        let mut log = running.lock();
        if log.closed {
            return;
        }
        // Kept until the execution waits or ends: between two waits it runs only
        // states without outside effects, which a resume may run again.
        log.checkpoint = Some(checkpoint.clone());
        log.wait_until = None;
    }
}

type Execution = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// A STANDARD execution that is about to start (or resume): its bookkeeping and the
/// future that runs it, not yet spawned.
pub(crate) struct Launch {
    inner: Arc<Inner>,
    arn: String,
    running: Arc<Running>,
    execution: Execution,
}

/// What the first poll of a new execution left to write with its row.
pub(crate) struct Unstored {
    /// `(first id, last id, text)` of the events recorded so far.
    pub(crate) events: Option<(i64, i64, Vec<u8>)>,
    /// The latest checkpoint and the deadline of the Wait it sleeps in.
    pub(crate) checkpoint: Option<(Checkpoint, Option<OffsetDateTime>)>,
}

impl Launch {
    /// Prepares a new execution (`input` is its parsed input) at position `seq`; it
    /// touches neither the store nor any resource until [`Launch::commit_and_spawn`].
    pub(crate) fn new(
        inner: &Arc<Inner>,
        machine: &Arc<Machine>,
        record: &ExecutionRecord,
        seq: i64,
        input: Value,
    ) -> Launch {
        let mut log = EventLog::default();
        if !interpreter::RECORDS_EXECUTION_EVENTS {
            let started = started_event(&record.input, &machine.record.role_arn, record.start_date);
            log.push(
                started.timestamp,
                &HistoryEvent {
                    event_type: started.event_type,
                    details_key: started.details_key,
                    details: started.details,
                },
            );
        }
        Launch::build(inner, machine, record, seq, Some(input), None, log)
    }

    /// Prepares an execution left RUNNING by an earlier process, from where it stood
    /// (and the deadline of the Wait it slept in).
    pub(crate) fn resume(
        inner: &Arc<Inner>,
        machine: &Arc<Machine>,
        record: &ExecutionRecord,
        seq: i64,
        resume: Option<(Resume, Option<OffsetDateTime>)>,
        last_event_id: i64,
    ) -> Launch {
        let log = EventLog {
            last_id: last_event_id,
            committed: true,
            // Closing deletes whatever checkpoint row the earlier process left.
            checkpoint_stored: true,
            ..EventLog::default()
        };
        Launch::build(inner, machine, record, seq, None, resume, log)
    }

    fn build(
        inner: &Arc<Inner>,
        machine: &Arc<Machine>,
        record: &ExecutionRecord,
        seq: i64,
        input: Option<Value>,
        resume: Option<(Resume, Option<OffsetDateTime>)>,
        log: EventLog,
    ) -> Launch {
        let running = Running::new(seq, log);
        let resume_wait = resume.as_ref().and_then(|(r, wait_until)| {
            wait_until.map(|until| (r.checkpoint.state.clone(), until, false))
        });
        let effects = ExecutionEffects {
            inner: Arc::clone(inner),
            arn: record.arn.clone(),
            state_machine_name: machine.record.name.clone(),
            test_case: record.test_case.clone(),
            running: Some(Arc::clone(&running)),
            resume_wait: Mutex::new(resume_wait),
            invocations: Mutex::new(HashMap::new()),
        };
        let input =
            input.unwrap_or_else(|| serde_json::from_str(&record.input).unwrap_or(Value::Null));
        let info = ExecutionInfo {
            execution_arn: record.arn.clone(),
            name: record.name.clone(),
            input: input.clone(),
            start_time: record.start_date,
            role_arn: machine.record.role_arn.clone(),
            state_machine_arn: machine.record.arn.clone(),
            state_machine_name: machine.record.name.clone(),
        };
        let program = Arc::clone(&machine.program);
        let execution: Execution = Box::pin(async move {
            interpreter::run(&program, &info, input, resume.map(|(r, _)| r), &effects).await
        });
        Launch {
            inner: Arc::clone(inner),
            arn: record.arn.clone(),
            running,
            execution,
        }
    }

    /// Runs the execution as far as it goes without waiting: its outcome if it ended.
    /// Safe before the commit: a Task waits for the commit, and a Wait's timer is
    /// polled again once the execution is spawned.
    pub(crate) fn poll_once(&mut self) -> Option<Outcome> {
        let mut context = Context::from_waker(Waker::noop());
        match self.execution.as_mut().poll(&mut context) {
            Poll::Ready(outcome) => Some(outcome),
            Poll::Pending => None,
        }
    }

    /// After [`Launch::poll_once`] ended the execution: fills in `record` (status,
    /// stop date, output, error) and returns the whole history text.
    pub(crate) fn finished(self, outcome: Outcome, record: &mut ExecutionRecord) -> Vec<u8> {
        let mut log = self.running.lock();
        log.closed = true;
        let (status, output, error) = outcome_fields(outcome);
        if !interpreter::RECORDS_EXECUTION_EVENTS {
            let event = terminal_event(status, output.as_deref(), error.as_ref());
            log.push(self.inner.clock.now(), &event);
        }
        record.status = status;
        record.stop_date = Some(self.inner.clock.now());
        record.output = output;
        if let Some(e) = error {
            record.error = Some(e.error);
            record.cause = e.cause;
        }
        std::mem::take(&mut log.pending)
    }

    /// After [`Launch::poll_once`] left the execution waiting: what to write with its row.
    pub(crate) fn unstored(&self) -> Unstored {
        let mut log = self.running.lock();
        let wait_until = log.wait_until.take();
        Unstored {
            events: log.take_pending(),
            checkpoint: log.checkpoint.take().map(|k| (k, wait_until)),
        }
    }

    /// Once the row (and [`Launch::unstored`]) is committed: lets the execution write
    /// and call resources, registers it with the engine and spawns it.
    pub(crate) fn commit_and_spawn(self, checkpoint_stored: bool) {
        let Launch {
            inner,
            arn,
            running,
            execution,
        } = self;
        {
            let mut log = running.lock();
            log.committed = true;
            log.checkpoint_stored |= checkpoint_stored;
            if let Some(gate) = log.gate.take() {
                gate.wake();
            }
        }
        inner
            .running
            .lock()
            .expect("invariant: running map lock")
            .insert(arn.clone(), Arc::clone(&running));
        let running2 = Arc::clone(&running);
        let inner2 = Arc::clone(&inner);
        let handle = tokio::spawn(async move {
            let outcome = execution.await;
            finish(&inner2, &arn, &running2, outcome);
        });
        *running.abort.lock().expect("invariant: abort lock") = Some(handle.abort_handle());
    }
}

/// Whether a run of `program` always reaches its end or a wait after finitely many
/// states: no cycle among its transitions (`Next`, Choice branches and `Default`, `Catch`),
/// nor in any Parallel branch or Map item processor. Only such executions are polled
/// before their start is acknowledged; a machine that can loop through states that never
/// wait (a Choice going back to a Pass) would otherwise hold its StartExecution forever.
pub(crate) fn has_no_loops(program: &asl::Program) -> bool {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    fn successors(state: &asl::State, out: &mut Vec<usize>) {
        out.clear();
        if let asl::Transition::Next(next) = state.transition {
            out.push(next);
        }
        if let asl::StateKind::Choice { choices, default } = &state.kind {
            out.extend(choices.iter().map(|c| c.next));
            out.extend(*default);
        }
        out.extend(state.catch.iter().map(|c| c.next));
    }
    let nested_ok = program.states.iter().all(|state| match &state.kind {
        asl::StateKind::Parallel { branches } => branches.iter().all(has_no_loops),
        asl::StateKind::Map(map) => has_no_loops(&map.processor),
        _ => true,
    });
    if !nested_ok {
        return false;
    }
    let mut color = vec![NEW; program.states.len()];
    let mut buffer = Vec::new();
    for root in 0..program.states.len() {
        if color[root] != NEW {
            continue;
        }
        // Depth-first, with each state's successors on the stack.
        let mut stack: Vec<(usize, Vec<usize>)> = Vec::new();
        color[root] = OPEN;
        successors(&program.states[root], &mut buffer);
        stack.push((root, buffer.clone()));
        while let Some((state, pending)) = stack.last_mut() {
            match pending.pop() {
                Some(next) if next >= color.len() => {}
                Some(next) if color[next] == OPEN => return false,
                Some(next) if color[next] == NEW => {
                    color[next] = OPEN;
                    successors(&program.states[next], &mut buffer);
                    stack.push((next, buffer.clone()));
                }
                Some(_) => {}
                None => {
                    color[*state] = DONE;
                    stack.pop();
                }
            }
        }
    }
    true
}

/// The status, output and error of an outcome.
fn outcome_fields(outcome: Outcome) -> (ExecutionStatus, Option<String>, Option<StateError>) {
    match outcome {
        Outcome::Succeeded(v) => (ExecutionStatus::Succeeded, Some(v.to_string()), None),
        Outcome::Failed(e) => (ExecutionStatus::Failed, None, Some(e)),
        Outcome::TimedOut(e) => (ExecutionStatus::TimedOut, None, Some(e)),
    }
}

/// Records how a spawned execution ended (unless StopExecution closed it first).
fn finish(inner: &Inner, arn: &str, running: &Running, outcome: Outcome) {
    let mut log = running.lock();
    if log.closed {
        return;
    }
    let (status, output, error) = outcome_fields(outcome);
    if !interpreter::RECORDS_EXECUTION_EVENTS {
        let event = terminal_event(status, output.as_deref(), error.as_ref());
        log.push(inner.clock.now(), &event);
    }
    log.closed = true;
    let stop = inner.clock.now();
    let history = log
        .take_pending()
        .map(|(_, _, text)| text)
        .unwrap_or_default();
    let had_checkpoint = log.checkpoint_stored;
    let arn_owned = arn.to_string();
    let seq = running.seq;
    let used_tokens = running.used_tokens.load(Ordering::Relaxed);
    inner.store.write(move |c| {
        let (error, cause) = match &error {
            Some(e) => (Some(e.error.as_str()), e.cause.as_deref()),
            None => (None, None),
        };
        let close = ExecutionClose {
            status,
            stop_date: stop,
            output: output.as_deref(),
            error,
            cause,
            history: &history,
            had_checkpoint,
        };
        store::close_execution(c, seq, &close)?;
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

/// StopExecution of a running execution: closes its history with `ExecutionAborted`,
/// aborts its task and queues the durable close. `None` when it had already ended;
/// otherwise the stop date and the write to wait for.
pub(crate) fn stop(
    inner: &Inner,
    arn: &str,
    running: &Running,
    error: Option<String>,
    cause: Option<String>,
) -> Option<(
    OffsetDateTime,
    impl Future<Output = Result<(), store::Error>> + use<>,
)> {
    let mut log = running.lock();
    if log.closed {
        return None;
    }
    if let Some(handle) = running
        .abort
        .lock()
        .expect("invariant: abort lock")
        .as_ref()
    {
        handle.abort();
    }
    let failure = StateError {
        error: error.clone().unwrap_or_default(),
        cause: cause.clone(),
    };
    let mut event = terminal_event(ExecutionStatus::Aborted, None, Some(&failure));
    if error.is_none()
        && let Value::Object(details) = &mut event.details
    {
        details.remove("error");
    }
    log.push(inner.clock.now(), &event);
    log.closed = true;
    let stop = inner.clock.now();
    let history = log
        .take_pending()
        .map(|(_, _, text)| text)
        .unwrap_or_default();
    let had_checkpoint = log.checkpoint_stored;
    let seq = running.seq;
    let arn = arn.to_string();
    let written = inner.store.durable(move |c| {
        let close = ExecutionClose {
            status: ExecutionStatus::Aborted,
            stop_date: stop,
            output: None,
            error: error.as_deref(),
            cause: cause.as_deref(),
            history: &history,
            had_checkpoint,
        };
        store::close_execution(c, seq, &close)?;
        store::close_task_tokens_of(c, &arn)
    });
    drop(log);
    Some((stop, written))
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

/// `ExecutionStarted`, when the runtime records it rather than the interpreter.
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use crate::engine::runtime::{
        CreateStateMachineInput, Engine, EngineConfig, Error, StartExecutionInput, TaskConfig,
    };
    use crate::engine::store::{self, DATABASE_FILE, ExecutionStatus};

    async fn engine(dir: &std::path::Path, tasks: TaskConfig) -> Engine {
        let config = EngineConfig {
            data_dir: Some(dir.to_path_buf()),
            tasks,
            ..EngineConfig::default()
        };
        Engine::open(config).await.unwrap()
    }

    async fn create(engine: &Engine, name: &str, definition: serde_json::Value) -> String {
        engine
            .create_state_machine(CreateStateMachineInput {
                name: name.into(),
                definition: definition.to_string(),
                role_arn: "arn:aws:iam::123456789012:role/test".into(),
                r#type: Some("STANDARD".into()),
            })
            .await
            .unwrap()
            .arn
    }

    fn start(arn: &str, name: &str, input: &str) -> StartExecutionInput {
        StartExecutionInput {
            state_machine_arn: arn.into(),
            name: Some(name.into()),
            input: Some(input.into()),
            trace_header: None,
        }
    }

    fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
        db.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[tokio::test]
    async fn an_execution_that_ends_at_once_is_committed_whole_with_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path(), TaskConfig::default()).await;
        let arn = create(
            &engine,
            "Quick",
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                   "B": {"Type": "Pass", "Result": {"ok": true}, "End": true}}}),
        )
        .await;
        let started = engine
            .start_execution(start(&arn, "q", r#"{"x": 1}"#))
            .await
            .unwrap();
        // Acknowledged means finished and on disk: no background work is left.
        let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        let (status, output, history): (String, String, Vec<u8>) = db
            .query_row(
                "SELECT status, output, history FROM executions WHERE arn = ?1",
                [&started.execution_arn],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(status, "SUCCEEDED");
        assert_eq!(output, r#"{"ok":true}"#);
        let mut events = Vec::new();
        store::decode_events(&history, &mut events);
        let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded"
            ]
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM history_chunks"), 0);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM checkpoints"), 0);
        let listed = engine
            .get_execution_history(&started.execution_arn, None, false, None)
            .await
            .unwrap();
        assert_eq!(listed.items, events);
    }

    #[tokio::test]
    async fn a_task_waits_for_the_commit_of_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let mocks = dir.path().join("mocks.json");
        std::fs::write(
            &mocks,
            json!({"StateMachines": {"Mocked": {"TestCases": {"Happy": {"Charge": "Charged"}}}},
                   "MockedResponses": {"Charged": {"0": {"Return": {"charged": true}}}}})
            .to_string(),
        )
        .unwrap();
        let tasks = TaskConfig {
            mock_config: Some(mocks),
            ..TaskConfig::default()
        };
        let engine = engine(&dir.path().join("data"), tasks).await;
        let arn = create(
            &engine,
            "Mocked",
            json!({"StartAt": "Charge", "States": {"Charge": {"Type": "Task",
                   "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge", "End": true}}}),
        )
        .await;
        let machine = engine.machine(&arn).unwrap();
        let record = crate::engine::store::ExecutionRecord {
            arn: arn.replace(":stateMachine:", ":execution:") + ":m",
            state_machine_arn: arn.clone(),
            name: "m".into(),
            status: ExecutionStatus::Running,
            start_date: engine.clock().now(),
            stop_date: None,
            input: "{}".into(),
            output: None,
            error: None,
            cause: None,
            trace_header: None,
            test_case: Some("Happy".into()),
        };
        let mut launch = super::Launch::new(&engine.inner, &machine, &record, 77, json!({}));
        // A mocked answer is immediate: only the gate keeps the first poll from it.
        assert!(
            launch.poll_once().is_none(),
            "the task ran before the commit"
        );
        let unstored = launch.unstored();
        let mut events = Vec::new();
        store::decode_events(&unstored.events.as_ref().unwrap().2, &mut events);
        let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "LambdaFunctionScheduled",
                "LambdaFunctionStarted"
            ]
        );
        assert_eq!(unstored.checkpoint.as_ref().unwrap().0.state, "Charge");

        let row = record.clone();
        engine
            .inner
            .store
            .durable(move |c| store::insert_execution(c, 77, &row, None))
            .await
            .unwrap();
        launch.commit_and_spawn(false);
        let done = engine.wait_execution(&record.arn).await.unwrap();
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        assert_eq!(done.output.as_deref(), Some(r#"{"charged":true}"#));
    }

    fn loop_free(definition: serde_json::Value) -> bool {
        let machine = crate::engine::asl::StateMachine::parse(&definition.to_string()).unwrap();
        super::has_no_loops(&machine.program)
    }

    #[test]
    fn only_machines_without_loops_run_before_the_start_is_acknowledged() {
        let pass = |next: &str| json!({"Type": "Pass", "Next": next});
        assert!(loop_free(
            json!({"StartAt": "A", "States": {"A": pass("B"), "B": pass("C"),
                   "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "D"}],
                         "Default": "D"},
                   "D": {"Type": "Succeed"}}})
        ));
        assert!(!loop_free(
            json!({"StartAt": "A", "States": {"A": pass("C"),
                   "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "D"}],
                         "Default": "A"},
                   "D": {"Type": "Succeed"}}})
        ));
        assert!(!loop_free(
            json!({"StartAt": "A", "States": {"A": pass("A")}})
        ));
        let task_catching_back = json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke", "End": true,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "P"}]},
            "P": pass("T")}});
        assert!(!loop_free(task_catching_back));
        let inner_loop = json!({"StartAt": "L", "States": {"L": pass("L")}});
        assert!(!loop_free(json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "ItemProcessor": inner_loop, "End": true}}})));
        assert!(!loop_free(json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Branches": [{"StartAt": "S", "States": {"S": {"Type": "Succeed"}}},
                                                   inner_loop], "End": true}}})));
    }

    #[tokio::test]
    async fn a_machine_that_loops_still_runs_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path(), TaskConfig::default()).await;
        let arn = create(
            &engine,
            "Counter",
            json!({"StartAt": "Init", "States": {
                "Init": {"Type": "Pass", "Parameters": {"i": 0}, "Next": "Check"},
                "Check": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericGreaterThanEquals": 3, "Next": "Done"}],
                          "Default": "Inc"},
                "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Check"},
                "Done": {"Type": "Succeed"}}}),
        )
        .await;
        let started = engine
            .start_execution(start(&arn, "c", "{}"))
            .await
            .unwrap();
        let done = engine.wait_execution(&started.execution_arn).await.unwrap();
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{:?}", done.cause);
        assert_eq!(done.output.as_deref(), Some(r#"{"i":3}"#));
        let history = engine
            .get_execution_history(&started.execution_arn, Some(1000), false, None)
            .await
            .unwrap();
        let entered = history
            .items
            .iter()
            .filter(|e| e.event_type == "ChoiceStateEntered")
            .count();
        assert_eq!(entered, 4);
        for (i, e) in history.items.iter().enumerate() {
            assert_eq!(e.id, i as i64 + 1);
        }
    }

    /// Waits (bounded) until `file` has `lines` lines, and returns them.
    async fn lines(file: &std::path::Path, lines: usize) -> Vec<String> {
        for _ in 0..1000 {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            if text.lines().count() >= lines {
                return text.lines().map(str::to_string).collect();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{} never had {lines} lines", file.display());
    }

    #[tokio::test]
    async fn a_task_runs_only_after_the_start_is_committed_and_a_duplicate_runs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls.txt");
        let mut tasks = TaskConfig::default();
        tasks.lambda_commands.insert(
            "note".into(),
            vec![
                "sh".into(),
                "-c".into(),
                format!("cat >> {0}; echo >> {0}; echo '{{}}'", calls.display()),
            ],
        );
        let engine = engine(&dir.path().join("data"), tasks).await;
        let arn = create(
            &engine,
            "Noted",
            json!({"StartAt": "Note", "States": {
                "Note": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:note",
                         "Next": "Nap"},
                "Nap": {"Type": "Wait", "Seconds": 99999999, "End": true}}}),
        )
        .await;
        let first = engine
            .start_execution(start(&arn, "dup", r#"{"n": 1}"#))
            .await
            .unwrap();
        assert_eq!(lines(&calls, 1).await, [r#"{"n":1}"#]);

        let again = engine
            .start_execution(start(&arn, "dup", r#"{"n": 1}"#))
            .await
            .unwrap();
        assert_eq!(again.execution_arn, first.execution_arn);
        let other_input = engine
            .start_execution(start(&arn, "dup", r#"{"n": 2}"#))
            .await;
        assert!(
            matches!(other_input, Err(Error::ExecutionAlreadyExists { .. })),
            "{other_input:?}"
        );
        engine
            .start_execution(start(&arn, "next", r#"{"n": 3}"#))
            .await
            .unwrap();
        assert_eq!(
            lines(&calls, 2).await,
            [r#"{"n":1}"#, r#"{"n":3}"#],
            "the refused starts called nothing"
        );

        // After its task, the first execution sleeps in Nap: that checkpoint, with the
        // Wait's deadline, and the task's events are in the store.
        let db = rusqlite::Connection::open(dir.path().join("data").join(DATABASE_FILE)).unwrap();
        let mut found = None;
        for _ in 0..1000 {
            engine.flush().await.unwrap();
            found = db
                .query_row(
                    "SELECT state, wait_until FROM checkpoints WHERE execution_seq =
                         (SELECT seq FROM executions WHERE name = 'dup')",
                    [],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?)),
                )
                .ok();
            if matches!(&found, Some((state, Some(_))) if state == "Nap") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            matches!(&found, Some((state, Some(_))) if state == "Nap"),
            "{found:?}"
        );
        let history = engine
            .get_execution_history(&first.execution_arn, None, false, None)
            .await
            .unwrap();
        let types: Vec<_> = history
            .items
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        assert!(types.contains(&"LambdaFunctionSucceeded"), "{types:?}");
        assert_eq!(types.last(), Some(&"WaitStateEntered"), "{types:?}");
        for (i, e) in history.items.iter().enumerate() {
            assert_eq!(e.id, i as i64 + 1);
        }

        let stopped = engine
            .stop_execution(&first.execution_arn, None, Some("enough".into()))
            .await
            .unwrap();
        let record = engine
            .describe_execution(&first.execution_arn)
            .await
            .unwrap();
        assert_eq!(record.status, ExecutionStatus::Aborted);
        assert_eq!(record.stop_date, Some(stopped));
        let history = engine
            .get_execution_history(&first.execution_arn, Some(1), true, None)
            .await
            .unwrap();
        assert_eq!(history.items[0].event_type, "ExecutionAborted");
        assert_eq!(history.items[0].details, json!({"cause": "enough"}));
        engine.flush().await.unwrap();
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM checkpoints WHERE execution_seq =
                     (SELECT seq FROM executions WHERE name = 'dup')"
            ),
            0
        );
    }
}
