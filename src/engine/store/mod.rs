//! The engine's durable store: SQLite (rusqlite, bundled) in WAL mode with
//! `synchronous=FULL`, in a data directory (or in memory for tests and benches).
//!
//! Why SQLite: executions are listed by state machine and status with paging, history
//! is read in event order, tokens are looked up by value, and one start writes several
//! tables atomically; SQLite gives all of that with indexes and transactions, and the
//! file can be inspected with `sqlite3`.
//!
//! One writer thread owns the connection and runs every job in arrival order. It
//! groups all queued jobs into one transaction and commits once (group commit), then
//! answers the callers: a caller of [`Store::durable`] hears back only after its write
//! is on disk, which is how an execution acknowledged to a client survives `kill -9`.
//! Fire-and-forget writes ([`Store::write`]: history chunks, checkpoints, closing an
//! execution) ride in the same batches. Jobs are queued when they are called, so they
//! run in call order. Reads ([`Store::read`]) run on the same thread and see every earlier
//! write. Row types and the SQL for each table live in `records`. Uses no other module.

mod records;

pub use records::*;

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use rusqlite::Connection;

/// The SQLite file inside the data directory.
pub const DATABASE_FILE: &str = "stepgate-engine.sqlite3";

/// Jobs taken into one transaction at most.
const MAX_BATCH: usize = 1024;

/// An error from the store.
#[derive(Debug, Clone)]
pub enum Error {
    /// SQLite failed (open, schema, statement or commit).
    Sqlite(Arc<rusqlite::Error>),
    /// The data directory could not be created.
    DataDir {
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// The writer thread is gone (the store was dropped or it panicked).
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sqlite(e) => write!(f, "engine store: {e}"),
            Error::DataDir { path, source } => {
                write!(
                    f,
                    "engine store: cannot create data directory {}: {source}",
                    path.display()
                )
            }
            Error::Closed => f.write_str("engine store: writer thread has stopped"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sqlite(e) => Some(&**e),
            Error::DataDir { source, .. } => Some(&**source),
            Error::Closed => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(Arc::new(e))
    }
}

/// Called once the batch holding a job has committed (or failed to).
type Deliver = Box<dyn FnOnce(Result<(), Error>) + Send>;
/// A unit of work for the writer thread.
type Job = Box<dyn FnOnce(&Connection) -> Option<Deliver> + Send>;

/// Handle to the store; cheap to clone. The writer thread stops when the last
/// handle is dropped, after committing what is queued.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

// === impl Store ===

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, or an in-memory store
    /// when `data_dir` is `None`.
    pub fn open(data_dir: Option<&Path>) -> Result<Store, Error> {
        let connection = match data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| Error::DataDir {
                    path: dir.to_path_buf(),
                    source: Arc::new(e),
                })?;
                let connection = Connection::open(dir.join(DATABASE_FILE))?;
                connection.pragma_update(None, "journal_mode", "WAL")?;
                connection.pragma_update(None, "synchronous", "FULL")?;
                // Fewer, larger WAL checkpoints: each one costs two fsyncs.
                connection.pragma_update(None, "wal_autocheckpoint", 4000)?;
                connection
            }
            None => Connection::open_in_memory()?,
        };
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.set_prepared_statement_cache_capacity(64);
        records::create_schema(&connection)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("stepgate-store".into())
            .spawn(move || writer_loop(connection, queue))
            .map_err(|e| Error::DataDir {
                path: PathBuf::from("<thread>"),
                source: Arc::new(e),
            })?;
        Ok(Store { jobs })
    }

    /// Runs `f` on the writer thread and answers once its transaction is committed
    /// to disk. Use for every write a client is told about. The job is queued when
    /// this is called (not when the future is first polled), so jobs run in call order.
    pub fn durable<R, F>(&self, f: F) -> impl Future<Output = Result<R, Error>> + Send + use<R, F>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, rusqlite::Error> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = f(connection);
            Some(Box::new(move |committed: Result<(), Error>| {
                let result = match (result, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Err(e), _) => Err(Error::from(e)),
                    (Ok(_), Err(e)) => Err(e),
                };
                let _ = reply.send(result);
            }))
        });
        let sent = self.jobs.send(job).is_ok();
        async move {
            if !sent {
                return Err(Error::Closed);
            }
            answer.await.map_err(|_| Error::Closed)?
        }
    }

    /// Runs a query on the writer thread; it sees every write queued before this call.
    pub fn read<R, F>(&self, f: F) -> impl Future<Output = Result<R, Error>> + Send + use<R, F>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, rusqlite::Error> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let _ = reply.send(f(connection).map_err(Error::from));
            None
        });
        let sent = self.jobs.send(job).is_ok();
        async move {
            if !sent {
                return Err(Error::Closed);
            }
            answer.await.map_err(|_| Error::Closed)?
        }
    }

    /// Like [`Store::read`] for code that is not async (startup).
    pub fn read_blocking<R, F>(&self, f: F) -> Result<R, Error>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, rusqlite::Error> + Send + 'static,
    {
        let (reply, answer) = mpsc::channel();
        let job: Job = Box::new(move |connection| {
            let _ = reply.send(f(connection).map_err(Error::from));
            None
        });
        self.jobs.send(job).map_err(|_| Error::Closed)?;
        answer.recv().map_err(|_| Error::Closed)?
    }

    /// Queues a write and returns at once; it commits with the next batch, in order
    /// with every other job. A failing write is logged.
    pub fn write<F>(&self, f: F)
    where
        F: FnOnce(&Connection) -> Result<(), rusqlite::Error> + Send + 'static,
    {
        let job: Job = Box::new(move |connection| {
            if let Err(e) = f(connection) {
                tracing::error!(error = %e, "engine store: write failed");
            }
            None
        });
        if self.jobs.send(job).is_err() {
            tracing::error!("engine store: write after the writer thread stopped");
        }
    }

    /// Waits until everything queued so far is committed.
    pub fn flush(&self) -> impl Future<Output = Result<(), Error>> + Send + use<> {
        self.durable(|_| Ok(()))
    }
}

/// The writer thread: one transaction per batch of queued jobs.
fn writer_loop(connection: Connection, queue: mpsc::Receiver<Job>) {
    let mut delivers: Vec<Deliver> = Vec::new();
    while let Ok(first) = queue.recv() {
        let began = run_cached(&connection, "BEGIN IMMEDIATE");
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(job) = next.take() {
            if let Some(deliver) = job(&connection) {
                delivers.push(deliver);
            }
            taken += 1;
            if taken < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        let committed = began
            .and_then(|()| run_cached(&connection, "COMMIT"))
            .map_err(Error::from);
        if committed.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
            tracing::error!(error = ?committed, "engine store: commit failed");
        }
        for deliver in delivers.drain(..) {
            deliver(committed.clone());
        }
    }
}

/// Runs a statement without parameters through the statement cache.
fn run_cached(connection: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}
