//! Task tokens of `.waitForTaskToken` tasks: the live waiters (token → the task
//! waiting for SendTaskSuccess/Failure/Heartbeat) and the wait itself, with
//! HeartbeatSeconds. Tokens are also written to the store, so an answer for a token
//! issued before a restart still reaches the resumed task of the same state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::clock::Clock;
use crate::engine::effects::StateError;
use crate::engine::store::{self, Store};

/// What a waiting task hears.
#[derive(Debug)]
pub(crate) enum Signal {
    Success(Value),
    Failure(StateError),
    Heartbeat,
}

#[derive(Debug)]
struct Waiter {
    execution_arn: String,
    state_name: String,
    sender: mpsc::UnboundedSender<Signal>,
}

/// The live waiters of this process.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    live: Mutex<HashMap<String, Waiter>>,
}

impl Tokens {
    /// Registers `token` before the task's resource is called (it may answer at once).
    pub(crate) fn register(
        self: &Arc<Self>,
        store: &Store,
        token: &str,
        execution_arn: &str,
        state_name: &str,
        now: time::OffsetDateTime,
    ) -> (TokenGuard, mpsc::UnboundedReceiver<Signal>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let waiter = Waiter {
            execution_arn: execution_arn.into(),
            state_name: state_name.into(),
            sender,
        };
        self.live
            .lock()
            .expect("invariant: token map lock")
            .insert(token.to_string(), waiter);
        let record = store::TaskTokenRecord {
            token: token.into(),
            execution_arn: execution_arn.into(),
            state_name: state_name.into(),
            waiting: true,
        };
        store.write(move |c| store::put_task_token(c, &record, now));
        let guard = TokenGuard {
            tokens: Arc::clone(self),
            store: store.clone(),
            token: token.to_string(),
        };
        (guard, receiver)
    }

    /// Sends `signal` to the task waiting on `token`; `Heartbeat` keeps it registered.
    /// Gives the signal back when no live task holds the token.
    pub(crate) fn signal(&self, token: &str, signal: Signal) -> Result<(), Signal> {
        let mut live = self.live.lock().expect("invariant: token map lock");
        let keep = matches!(signal, Signal::Heartbeat);
        let Some(waiter) = live.get(token) else {
            return Err(signal);
        };
        match waiter.sender.send(signal) {
            Ok(()) => {
                if !keep {
                    live.remove(token);
                }
                Ok(())
            }
            Err(unsent) => {
                live.remove(token);
                Err(unsent.0)
            }
        }
    }

    /// The live token of the task now waiting in `state_name` of `execution_arn`
    /// (a resumed task holds a new token).
    pub(crate) fn live_token_of(&self, execution_arn: &str, state_name: &str) -> Option<String> {
        let live = self.live.lock().expect("invariant: token map lock");
        live.iter()
            .find(|(_, w)| w.execution_arn == execution_arn && w.state_name == state_name)
            .map(|(token, _)| token.clone())
    }

    fn remove(&self, token: &str) {
        self.live
            .lock()
            .expect("invariant: token map lock")
            .remove(token);
    }
}

/// Unregisters and closes a token when its task stops waiting (answered, timed
/// out, failed, or its execution was stopped).
#[derive(Debug)]
pub(crate) struct TokenGuard {
    tokens: Arc<Tokens>,
    store: Store,
    token: String,
}

impl Drop for TokenGuard {
    fn drop(&mut self) {
        self.tokens.remove(&self.token);
        let token = std::mem::take(&mut self.token);
        self.store
            .write(move |c| store::close_task_token(c, &token));
    }
}

/// Waits for the answer, failing with `States.HeartbeatTimeout` when no signal
/// arrives within `heartbeat_seconds`.
pub(crate) async fn wait(
    receiver: &mut mpsc::UnboundedReceiver<Signal>,
    heartbeat_seconds: Option<u64>,
    clock: &Clock,
) -> Result<Value, StateError> {
    loop {
        let signal = match heartbeat_seconds {
            Some(seconds) => {
                let deadline = clock.now() + Duration::from_secs(seconds);
                tokio::select! {
                    signal = receiver.recv() => signal,
                    () = clock.sleep_until(deadline) => {
                        return Err(StateError { error: "States.HeartbeatTimeout".into(), cause: None });
                    }
                }
            }
            None => receiver.recv().await,
        };
        match signal {
            Some(Signal::Success(v)) => return Ok(v),
            Some(Signal::Failure(e)) => return Err(e),
            Some(Signal::Heartbeat) => continue,
            // Every sender is gone: nobody can answer any more.
            None => std::future::pending::<()>().await,
        }
    }
}
