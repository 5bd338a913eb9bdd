//! The engine runtime: the registry of state machines and the executions that run
//! them, durably. [`Engine`] answers the Step Functions actions in engine terms
//! (records and [`Error`]s with AWS's codes and messages); `backend::local` maps them
//! onto the `sfn` shapes.
//!
//! - STANDARD `start_execution` commits the execution to the store before it answers.
//!   It first runs the execution as far as it goes without waiting: one that ends there
//!   is committed whole (row and history) in one write; one that waits is committed as
//!   far as it got and goes on in a tokio task, its history and checkpoints following
//!   it into the store each time it waits (`driver`). On [`Engine::open`] every
//!   execution still RUNNING resumes from its last checkpoint, and a Wait resumes with
//!   the time it had left.
//! - EXPRESS executions run in memory only (`start_sync_execution` inline), as AWS
//!   keeps no describable record of them.
//!
//! Uses `engine::effects`, the interpreter (`engine::asl`/`engine::exec`, behind
//! `interpreter`), `engine::store` and `engine::tasks`.

mod arn;
mod clock;
mod config;
mod driver;
mod error;
mod executions;
mod interpreter;
mod machines;
mod nested;
mod tokens;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;

pub use clock::Clock;
pub use config::{DefinitionSource, EngineConfig, StateMachineSource, TaskConfig};
pub use error::Error;
pub use executions::{StartExecutionInput, StartedExecution, SyncExecution};
pub use machines::CreateStateMachineInput;

pub use crate::engine::store::{
    ExecutionRecord, ExecutionStatus, HistoryEventRecord, StateMachineRecord, StateMachineType,
};

use crate::engine::store::Store;
use crate::engine::tasks::TaskRunner;

/// Why [`Engine::open`] failed.
#[derive(Debug)]
pub enum OpenError {
    /// The store could not be opened.
    Store(crate::engine::store::Error),
    /// The task configuration (mock config) is unusable.
    Tasks(crate::engine::tasks::Error),
    /// A configured state machine could not be loaded.
    StateMachine { name: String, message: String },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Store(e) => e.fmt(f),
            OpenError::Tasks(e) => e.fmt(f),
            OpenError::StateMachine { name, message } => {
                write!(f, "state machine '{name}': {message}")
            }
        }
    }
}

impl std::error::Error for OpenError {}

/// One page of a list, and the token for the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// A registered state machine with its compiled program.
#[derive(Debug)]
pub(crate) struct Machine {
    pub(crate) record: StateMachineRecord,
    pub(crate) program: Arc<interpreter::Program>,
}

pub(crate) struct Inner {
    pub(crate) scope: arn::ArnScope,
    pub(crate) store: Store,
    pub(crate) tasks: TaskRunner,
    pub(crate) clock: Clock,
    pub(crate) machines: RwLock<HashMap<String, Arc<Machine>>>,
    pub(crate) running: Mutex<HashMap<String, Arc<driver::Running>>>,
    /// The store position (`seq`) of the next STANDARD execution.
    pub(crate) next_seq: AtomicI64,
    pub(crate) tokens: Arc<tokens::Tokens>,
}

/// The embedded Step Functions engine. Cheap to clone; all clones share one engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("region", &self.inner.scope.region)
            .field("account_id", &self.inner.scope.account_id)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the store, registers the configured state machines and resumes every
    /// execution left RUNNING by a previous process. Must run inside tokio.
    pub async fn open(config: EngineConfig) -> Result<Engine, OpenError> {
        let store = Store::open(config.data_dir.as_deref()).map_err(OpenError::Store)?;
        let next_seq = store
            .read(crate::engine::store::next_execution_seq)
            .await
            .map_err(OpenError::Store)?;
        let tasks = TaskRunner::new(&config.tasks).map_err(OpenError::Tasks)?;
        let inner = Arc::new(Inner {
            scope: arn::ArnScope {
                region: config.region.clone(),
                account_id: config.account_id.clone(),
            },
            store,
            tasks,
            clock: config.clock.clone(),
            machines: RwLock::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            next_seq: AtomicI64::new(next_seq),
            tokens: Arc::new(tokens::Tokens::default()),
        });
        let engine = Engine { inner };
        engine
            .load_stored_machines()
            .await
            .map_err(OpenError::Store)?;
        for source in &config.state_machines {
            engine.register_source(source).await?;
        }
        engine.resume_running().await.map_err(OpenError::Store)?;
        Ok(engine)
    }

    /// The ARN a state machine called `name` gets in this engine.
    pub fn state_machine_arn(&self, name: &str) -> String {
        self.inner.scope.state_machine(name)
    }

    /// The engine's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Waits until everything written so far is on disk (tests, shutdown).
    pub async fn flush(&self) -> Result<(), Error> {
        Ok(self.inner.store.flush().await?)
    }
}

/// Paging tokens: opaque to clients, `kind:position` inside.
pub(crate) fn encode_token(kind: &str, position: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

pub(crate) fn decode_token(kind: &str, token: &str) -> Result<String, Error> {
    let invalid = || Error::InvalidToken {
        reason: format!("Invalid token: {token}"),
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (got, position) = text.split_once(':').ok_or_else(invalid)?;
    if got != kind {
        return Err(invalid());
    }
    Ok(position.to_string())
}

/// `maxResults`: 0 or absent means the default (100); at most 1000.
pub(crate) fn page_size(max_results: Option<i64>) -> Result<usize, Error> {
    match max_results {
        None | Some(0) => Ok(100),
        Some(n @ 1..=1000) => Ok(n as usize),
        Some(n) => Err(Error::Validation {
            message: format!(
                "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: \
                 Member must have value {} 1000",
                if n < 0 {
                    "greater than or equal to 0 and less than or equal to"
                } else {
                    "less than or equal to"
                }
            ),
        }),
    }
}
