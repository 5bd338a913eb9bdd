//! The store's tables, their row types and the SQL that reads and writes them.
//! Every function takes the writer thread's `&Connection`; timestamps are kept as
//! Unix milliseconds (AWS reports them with millisecond precision).
//!
//! An execution is one `executions` row keyed by an integer `seq` the runtime assigns
//! in start order (so inserts append to the table and its indexes). Its history is
//! text in [`encode_event`]'s format: events recorded while it runs are written in
//! chunks (`history_chunks`, one row per flush, only for executions that wait), and
//! the rest goes into the row's `history` column with the row itself: when the
//! execution finishes before it is acknowledged, the whole execution is one insert.
//! `history_events` (one row per event) is the layout of older data directories; it is
//! still read.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;
use time::OffsetDateTime;

use crate::engine::effects::Checkpoint;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    creation_date INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    state_machine_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date INTEGER NOT NULL,
    stop_date INTEGER,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    trace_header TEXT,
    test_case TEXT,
    history BLOB
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, seq);
CREATE TABLE IF NOT EXISTS history_chunks (
    execution_seq INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    events BLOB NOT NULL,
    PRIMARY KEY (execution_seq, first_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history_events (
    execution_seq INTEGER NOT NULL,
    id INTEGER NOT NULL,
    previous_event_id INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    type TEXT NOT NULL,
    details_key TEXT,
    details TEXT,
    PRIMARY KEY (execution_seq, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    execution_seq INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    input TEXT NOT NULL,
    variables TEXT NOT NULL,
    wait_until INTEGER
);
CREATE TABLE IF NOT EXISTS task_tokens (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    state_name TEXT NOT NULL,
    status TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS task_tokens_by_execution ON task_tokens (execution_arn);
";

/// Creates the tables, and adds what older data directories lack.
pub(crate) fn create_schema(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(SCHEMA)?;
    let has_history: bool = connection
        .prepare("SELECT 1 FROM pragma_table_info('executions') WHERE name = 'history'")?
        .exists([])?;
    if !has_history {
        connection.execute_batch("ALTER TABLE executions ADD COLUMN history BLOB")?;
    }
    Ok(())
}

/// The `seq` the next execution gets.
pub fn next_execution_seq(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM executions",
        [],
        |r| r.get(0),
    )
}

/// Milliseconds since the Unix epoch.
pub fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The instant `ms` milliseconds after the Unix epoch (clamped to the valid range).
pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

// === state machines ===

/// `STANDARD` or `EXPRESS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateMachineType {
    Standard,
    Express,
}

impl StateMachineType {
    pub fn as_str(self) -> &'static str {
        match self {
            StateMachineType::Standard => "STANDARD",
            StateMachineType::Express => "EXPRESS",
        }
    }

    /// Parses AWS's spelling (`STANDARD`, `EXPRESS`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "STANDARD" => Some(StateMachineType::Standard),
            "EXPRESS" => Some(StateMachineType::Express),
            _ => None,
        }
    }
}

/// A registered state machine.
#[derive(Clone, Debug, PartialEq)]
pub struct StateMachineRecord {
    pub arn: String,
    pub name: String,
    pub r#type: StateMachineType,
    /// The definition as given (JSON text; YAML files are converted to JSON).
    pub definition: String,
    pub role_arn: String,
    pub creation_date: OffsetDateTime,
}

pub fn put_state_machine(c: &Connection, m: &StateMachineRecord) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO state_machines (arn, name, type, definition, role_arn, creation_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (arn) DO UPDATE SET type = ?3, definition = ?4, role_arn = ?5",
    )?
    .execute(params![
        m.arn,
        m.name,
        m.r#type.as_str(),
        m.definition,
        m.role_arn,
        to_millis(m.creation_date)
    ])?;
    Ok(())
}

pub fn delete_state_machine(c: &Connection, arn: &str) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM state_machines WHERE arn = ?1")?
        .execute([arn])?;
    Ok(())
}

pub fn load_state_machines(c: &Connection) -> rusqlite::Result<Vec<StateMachineRecord>> {
    let mut statement = c.prepare_cached(
        "SELECT arn, name, type, definition, role_arn, creation_date FROM state_machines",
    )?;
    let rows = statement.query_map([], |r| {
        Ok(StateMachineRecord {
            arn: r.get(0)?,
            name: r.get(1)?,
            r#type: StateMachineType::parse(&r.get::<_, String>(2)?)
                .unwrap_or(StateMachineType::Standard),
            definition: r.get(3)?,
            role_arn: r.get(4)?,
            creation_date: from_millis(r.get(5)?),
        })
    })?;
    rows.collect()
}

// === executions ===

/// `ExecutionStatus` as AWS spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 5] = [
        ExecutionStatus::Running,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One execution, as DescribeExecution reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionRecord {
    pub arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: ExecutionStatus,
    pub start_date: OffsetDateTime,
    pub stop_date: Option<OffsetDateTime>,
    /// The input as JSON text.
    pub input: String,
    /// The output as JSON text (SUCCEEDED only).
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub trace_header: Option<String>,
    /// The mock-config test case chosen with `stateMachineArn#TestCase`.
    pub test_case: Option<String>,
}

const EXECUTION_COLUMNS: &str = "seq, arn, state_machine_arn, name, status, start_date, stop_date, \
                                 input, output, error, cause, trace_header, test_case";

fn execution_row(r: &Row<'_>) -> rusqlite::Result<(i64, ExecutionRecord)> {
    Ok((
        r.get(0)?,
        ExecutionRecord {
            arn: r.get(1)?,
            state_machine_arn: r.get(2)?,
            name: r.get(3)?,
            status: ExecutionStatus::parse(&r.get::<_, String>(4)?)
                .unwrap_or(ExecutionStatus::Failed),
            start_date: from_millis(r.get(5)?),
            stop_date: r.get::<_, Option<i64>>(6)?.map(from_millis),
            input: r.get(7)?,
            output: r.get(8)?,
            error: r.get(9)?,
            cause: r.get(10)?,
            trace_header: r.get(11)?,
            test_case: r.get(12)?,
        },
    ))
}

/// Inserts a new execution at position `seq`, with the history recorded so far
/// (`history`: [`encode_event`] lines; for a finished execution, all of it). Returns
/// false, writing nothing, when an execution with that ARN exists already.
pub fn insert_execution(
    c: &Connection,
    seq: i64,
    e: &ExecutionRecord,
    history: Option<&[u8]>,
) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "INSERT INTO executions (seq, arn, state_machine_arn, name, status, start_date, stop_date,
                                 input, output, error, cause, trace_header, test_case, history)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (arn) DO NOTHING",
    )?
    .execute(params![
        seq,
        e.arn,
        e.state_machine_arn,
        e.name,
        e.status.as_str(),
        to_millis(e.start_date),
        e.stop_date.map(to_millis),
        e.input,
        e.output,
        e.error,
        e.cause,
        e.trace_header,
        e.test_case,
        history
    ])
    .map(|changed| changed == 1)
}

/// The position (`seq`) of an execution, which keys its history and checkpoint.
pub fn execution_seq(c: &Connection, arn: &str) -> rusqlite::Result<Option<i64>> {
    c.prepare_cached("SELECT seq FROM executions WHERE arn = ?1")?
        .query_row([arn], |r| r.get(0))
        .optional()
}

pub fn get_execution(c: &Connection, arn: &str) -> rusqlite::Result<Option<ExecutionRecord>> {
    c.prepare_cached(&format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1"
    ))?
    .query_row([arn], execution_row)
    .optional()
    .map(|row| row.map(|(_, e)| e))
}

/// How a RUNNING execution ended, as [`close_execution`] writes it.
#[derive(Clone, Debug)]
pub struct ExecutionClose<'a> {
    pub status: ExecutionStatus,
    pub stop_date: OffsetDateTime,
    pub output: Option<&'a str>,
    pub error: Option<&'a str>,
    pub cause: Option<&'a str>,
    /// The events not written in chunks ([`encode_event`] lines).
    pub history: &'a [u8],
    /// Whether the execution has a checkpoint row to delete.
    pub had_checkpoint: bool,
}

/// Closes the RUNNING execution at `seq`; returns false if it was not running any more.
pub fn close_execution(
    c: &Connection,
    seq: i64,
    close: &ExecutionClose<'_>,
) -> rusqlite::Result<bool> {
    let changed = c
        .prepare_cached(
            "UPDATE executions SET status = ?2, stop_date = ?3, output = ?4, error = ?5, cause = ?6,
                                   history = ?7
             WHERE seq = ?1 AND status = 'RUNNING'",
        )?
        .execute(params![
            seq,
            close.status.as_str(),
            to_millis(close.stop_date),
            close.output,
            close.error,
            close.cause,
            (!close.history.is_empty()).then_some(close.history)
        ])?;
    if close.had_checkpoint {
        c.prepare_cached("DELETE FROM checkpoints WHERE execution_seq = ?1")?
            .execute([seq])?;
    }
    Ok(changed == 1)
}

/// Executions of one state machine, newest first, after position `before_seq`
/// (exclusive); each with its position for paging.
pub fn list_executions(
    c: &Connection,
    state_machine_arn: &str,
    status: Option<ExecutionStatus>,
    before_seq: Option<i64>,
    limit: usize,
) -> rusqlite::Result<Vec<(i64, ExecutionRecord)>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions
         WHERE state_machine_arn = ?1 AND (?2 IS NULL OR status = ?2) AND seq < ?3
         ORDER BY seq DESC LIMIT ?4"
    ))?;
    let rows = statement.query_map(
        params![
            state_machine_arn,
            status.map(|s| s.as_str()),
            before_seq.unwrap_or(i64::MAX),
            limit as i64
        ],
        execution_row,
    )?;
    rows.collect()
}

/// Every execution still RUNNING (to resume after a restart), oldest first, with its seq.
pub fn running_executions(c: &Connection) -> rusqlite::Result<Vec<(i64, ExecutionRecord)>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions WHERE status = 'RUNNING' ORDER BY seq"
    ))?;
    let rows = statement.query_map([], execution_row)?;
    rows.collect()
}

// === history events ===

/// One event of an execution's history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEventRecord {
    pub id: i64,
    /// 0 for the first event.
    pub previous_event_id: i64,
    pub timestamp: OffsetDateTime,
    /// AWS `HistoryEventType`.
    pub event_type: String,
    /// E.g. `stateEnteredEventDetails`.
    pub details_key: Option<String>,
    pub details: Value,
}

/// Appends one event to `out` as a line of history text:
/// `id TAB previous_event_id TAB timestamp_ms TAB type TAB details_key TAB details_json LF`
/// (an empty key or details field means none). Types and keys are AWS names, and
/// compact JSON escapes every control character, so neither a TAB nor a LF can occur
/// inside a field.
pub fn encode_event(
    out: &mut Vec<u8>,
    id: i64,
    previous_event_id: i64,
    timestamp: OffsetDateTime,
    event_type: &str,
    details_key: Option<&str>,
    details: &Value,
) {
    use std::io::Write as _;
    let _ = write!(
        out,
        "{id}\t{previous_event_id}\t{}\t{event_type}\t{}\t",
        to_millis(timestamp),
        details_key.unwrap_or("")
    );
    if !details.is_null() {
        // Writing a `Value` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, details);
    }
    out.push(b'\n');
}

/// Reads history text written by [`encode_event`] into `into`; lines that do not parse
/// (none are written) are skipped.
pub fn decode_events(text: &[u8], into: &mut Vec<HistoryEventRecord>) {
    for line in text.split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let mut fields = line.splitn(6, '\t');
        let (Some(id), Some(prev), Some(ts), Some(ty), Some(key), Some(details)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let (Ok(id), Ok(previous_event_id), Ok(ts)) = (id.parse(), prev.parse(), ts.parse::<i64>())
        else {
            continue;
        };
        into.push(HistoryEventRecord {
            id,
            previous_event_id,
            timestamp: from_millis(ts),
            event_type: ty.to_string(),
            details_key: (!key.is_empty()).then(|| key.to_string()),
            details: if details.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(details).unwrap_or(Value::Null)
            },
        });
    }
}

/// The highest event id in history text (0 when it has none).
fn last_id_in(text: &[u8]) -> i64 {
    text.split(|b| *b == b'\n')
        .filter_map(|line| {
            let id = line.split(|b| *b == b'\t').next()?;
            std::str::from_utf8(id).ok()?.parse::<i64>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// Writes events recorded while an execution runs: `events` holds ids
/// `first_id..=last_id` as [`encode_event`] lines.
pub fn insert_history_chunk(
    c: &Connection,
    execution_seq: i64,
    first_id: i64,
    last_id: i64,
    events: &[u8],
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO history_chunks (execution_seq, first_id, last_id, events)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![execution_seq, first_id, last_id, events])?;
    Ok(())
}

/// Every stored event of an execution, in id order: the older one-row-per-event
/// layout, then the chunks, then the history written with the row.
pub fn list_events(
    c: &Connection,
    execution_seq: i64,
) -> rusqlite::Result<Vec<HistoryEventRecord>> {
    let mut events = Vec::new();
    let mut legacy = c.prepare_cached(
        "SELECT id, previous_event_id, timestamp, type, details_key, details FROM history_events
         WHERE execution_seq = ?1 ORDER BY id",
    )?;
    let rows = legacy.query_map([execution_seq], |r| {
        let details: Option<String> = r.get(5)?;
        Ok(HistoryEventRecord {
            id: r.get(0)?,
            previous_event_id: r.get(1)?,
            timestamp: from_millis(r.get(2)?),
            event_type: r.get(3)?,
            details_key: r.get(4)?,
            details: details
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or(Value::Null),
        })
    })?;
    for row in rows {
        events.push(row?);
    }
    let mut chunks = c.prepare_cached(
        "SELECT events FROM history_chunks WHERE execution_seq = ?1 ORDER BY first_id",
    )?;
    let mut rows = chunks.query([execution_seq])?;
    while let Some(row) = rows.next()? {
        decode_events(row.get_ref(0)?.as_bytes()?, &mut events);
    }
    let tail: Option<Option<Vec<u8>>> = c
        .prepare_cached("SELECT history FROM executions WHERE seq = ?1")?
        .query_row([execution_seq], |r| r.get(0))
        .optional()?;
    if let Some(Some(tail)) = tail {
        decode_events(&tail, &mut events);
    }
    events.sort_by_key(|e| e.id);
    events.dedup_by_key(|e| e.id);
    Ok(events)
}

/// The highest stored event id of an execution (0 when it has none).
pub fn last_event_id(c: &Connection, execution_seq: i64) -> rusqlite::Result<i64> {
    let legacy: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM history_events WHERE execution_seq = ?1")?
        .query_row([execution_seq], |r| r.get(0))?;
    let chunks: i64 = c
        .prepare_cached(
            "SELECT COALESCE(MAX(last_id), 0) FROM history_chunks WHERE execution_seq = ?1",
        )?
        .query_row([execution_seq], |r| r.get(0))?;
    let tail: Option<Option<Vec<u8>>> = c
        .prepare_cached("SELECT history FROM executions WHERE seq = ?1")?
        .query_row([execution_seq], |r| r.get(0))
        .optional()?;
    let tail = tail.flatten().map(|t| last_id_in(&t)).unwrap_or(0);
    Ok(legacy.max(chunks).max(tail))
}

/// Drops the events after `id` (a resumed execution re-runs the attempt they recorded).
pub fn delete_events_after(c: &Connection, execution_seq: i64, id: i64) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM history_events WHERE execution_seq = ?1 AND id > ?2")?
        .execute(params![execution_seq, id])?;
    c.prepare_cached("DELETE FROM history_chunks WHERE execution_seq = ?1 AND first_id > ?2")?
        .execute(params![execution_seq, id])?;
    // A chunk that straddles `id` keeps its events up to `id`.
    let straddling: Option<(i64, Vec<u8>)> = c
        .prepare_cached(
            "SELECT first_id, events FROM history_chunks
             WHERE execution_seq = ?1 AND first_id <= ?2 AND last_id > ?2",
        )?
        .query_row(params![execution_seq, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((first_id, events)) = straddling {
        let kept: Vec<u8> = events
            .split_inclusive(|b| *b == b'\n')
            .filter(|line| {
                let event_id = line.split(|b| *b == b'\t').next().unwrap_or_default();
                std::str::from_utf8(event_id)
                    .ok()
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|event_id| event_id <= id)
            })
            .flatten()
            .copied()
            .collect();
        insert_history_chunk(c, execution_seq, first_id, id, &kept)?;
    }
    Ok(())
}

// === checkpoints ===

/// The last checkpoint of a running execution, and the deadline of the Wait it
/// was sleeping in, if any.
#[derive(Clone, Debug)]
pub struct CheckpointRecord {
    pub checkpoint: Checkpoint,
    pub wait_until: Option<OffsetDateTime>,
}

/// Writes (or replaces) an execution's checkpoint and the deadline of the Wait it is
/// about to sleep in.
pub fn put_checkpoint(
    c: &Connection,
    execution_seq: i64,
    k: &Checkpoint,
    wait_until: Option<OffsetDateTime>,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO checkpoints (execution_seq, state, input, variables, wait_until)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        execution_seq,
        k.state,
        k.input.to_string(),
        serde_json::to_string(&k.variables).unwrap_or_else(|_| "{}".into()),
        wait_until.map(to_millis)
    ])?;
    Ok(())
}

pub fn set_wait_until(
    c: &Connection,
    execution_seq: i64,
    until: OffsetDateTime,
) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE checkpoints SET wait_until = ?2 WHERE execution_seq = ?1")?
        .execute(params![execution_seq, to_millis(until)])?;
    Ok(())
}

pub fn get_checkpoint(
    c: &Connection,
    execution_seq: i64,
) -> rusqlite::Result<Option<CheckpointRecord>> {
    c.prepare_cached(
        "SELECT state, input, variables, wait_until FROM checkpoints WHERE execution_seq = ?1",
    )?
    .query_row([execution_seq], |r| {
        let input: String = r.get(1)?;
        let variables: String = r.get(2)?;
        Ok(CheckpointRecord {
            checkpoint: Checkpoint {
                state: r.get(0)?,
                input: serde_json::from_str(&input).unwrap_or(Value::Null),
                variables: match serde_json::from_str(&variables) {
                    Ok(Value::Object(m)) => m,
                    _ => serde_json::Map::new(),
                },
            },
            wait_until: r.get::<_, Option<i64>>(3)?.map(from_millis),
        })
    })
    .optional()
}

// === task tokens ===

/// A `.waitForTaskToken` token the engine handed out.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskTokenRecord {
    pub token: String,
    pub execution_arn: String,
    pub state_name: String,
    /// False once the task got its answer, timed out or its execution ended.
    pub waiting: bool,
}

pub fn put_task_token(
    c: &Connection,
    t: &TaskTokenRecord,
    created: OffsetDateTime,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO task_tokens (token, execution_arn, state_name, status, created)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        t.token,
        t.execution_arn,
        t.state_name,
        if t.waiting { "WAITING" } else { "CLOSED" },
        to_millis(created)
    ])?;
    Ok(())
}

pub fn close_task_token(c: &Connection, token: &str) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE task_tokens SET status = 'CLOSED' WHERE token = ?1")?
        .execute([token])?;
    Ok(())
}

pub fn close_task_tokens_of(c: &Connection, execution_arn: &str) -> rusqlite::Result<()> {
    c.prepare_cached("UPDATE task_tokens SET status = 'CLOSED' WHERE execution_arn = ?1")?
        .execute([execution_arn])?;
    Ok(())
}

pub fn get_task_token(c: &Connection, token: &str) -> rusqlite::Result<Option<TaskTokenRecord>> {
    c.prepare_cached(
        "SELECT token, execution_arn, state_name, status FROM task_tokens WHERE token = ?1",
    )?
    .query_row([token], |r| {
        Ok(TaskTokenRecord {
            token: r.get(0)?,
            execution_arn: r.get(1)?,
            state_name: r.get(2)?,
            waiting: r.get::<_, String>(3)? == "WAITING",
        })
    })
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn execution(arn: &str, sm: &str) -> ExecutionRecord {
        ExecutionRecord {
            arn: arn.into(),
            state_machine_arn: sm.into(),
            name: arn.rsplit(':').next().unwrap_or_default().into(),
            status: ExecutionStatus::Running,
            start_date: from_millis(1_700_000_000_123),
            stop_date: None,
            input: "{}".into(),
            output: None,
            error: None,
            cause: None,
            trace_header: None,
            test_case: None,
        }
    }

    fn schema() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        create_schema(&c).unwrap();
        c
    }

    fn close(status: ExecutionStatus, output: Option<&str>) -> ExecutionClose<'_> {
        ExecutionClose {
            status,
            stop_date: from_millis(1_700_000_001_000),
            output,
            error: None,
            cause: None,
            history: b"",
            had_checkpoint: true,
        }
    }

    #[test]
    fn executions_round_trip_and_close_once() {
        let c = schema();
        let e = execution("arn:x:execution:sm:a", "arn:x:stateMachine:sm");
        assert!(insert_execution(&c, 1, &e, None).unwrap());
        assert!(
            !insert_execution(&c, 2, &e, None).unwrap(),
            "an ARN is inserted once"
        );
        assert_eq!(get_execution(&c, &e.arn).unwrap(), Some(e.clone()));
        assert_eq!(execution_seq(&c, &e.arn).unwrap(), Some(1));
        assert_eq!(next_execution_seq(&c).unwrap(), 2);
        assert!(close_execution(&c, 1, &close(ExecutionStatus::Succeeded, Some("1"))).unwrap());
        assert!(!close_execution(&c, 1, &close(ExecutionStatus::Aborted, None)).unwrap());
        let got = get_execution(&c, &e.arn).unwrap().unwrap();
        assert_eq!(got.status, ExecutionStatus::Succeeded);
        assert_eq!(got.output.as_deref(), Some("1"));
        assert_eq!(got.stop_date, Some(from_millis(1_700_000_001_000)));
    }

    #[test]
    fn list_executions_pages_newest_first() {
        let c = schema();
        for i in 0..5 {
            let e = execution(&format!("arn:x:execution:sm:{i}"), "sm");
            insert_execution(&c, i + 1, &e, None).unwrap();
        }
        insert_execution(&c, 6, &execution("arn:x:execution:other:z", "other"), None).unwrap();
        let page = list_executions(&c, "sm", None, None, 2).unwrap();
        let names: Vec<_> = page.iter().map(|(_, e)| e.name.as_str()).collect();
        assert_eq!(names, ["4", "3"]);
        let next = list_executions(&c, "sm", None, Some(page[1].0), 10).unwrap();
        let names: Vec<_> = next.iter().map(|(_, e)| e.name.as_str()).collect();
        assert_eq!(names, ["2", "1", "0"]);
        let none = list_executions(&c, "sm", Some(ExecutionStatus::Failed), None, 10).unwrap();
        assert!(none.is_empty());
    }

    fn event(id: i64, ty: &str, details: Value) -> HistoryEventRecord {
        HistoryEventRecord {
            id,
            previous_event_id: id - 1,
            timestamp: from_millis(1_700_000_000_000 + id),
            event_type: ty.into(),
            details_key: (!details.is_null()).then(|| "someEventDetails".to_string()),
            details,
        }
    }

    fn encode(events: &[HistoryEventRecord]) -> Vec<u8> {
        let mut out = Vec::new();
        for e in events {
            encode_event(
                &mut out,
                e.id,
                e.previous_event_id,
                e.timestamp,
                &e.event_type,
                e.details_key.as_deref(),
                &e.details,
            );
        }
        out
    }

    #[test]
    fn history_text_round_trips_tabs_newlines_and_unicode() {
        let events = vec![
            event(
                1,
                "ExecutionStarted",
                serde_json::json!({"input": "{\"a\":\"x\ty\nz é 😀\"}"}),
            ),
            event(2, "PassStateEntered", Value::Null),
            event(3, "MapStateSucceeded", serde_json::json!({})),
        ];
        let mut back = Vec::new();
        decode_events(&encode(&events), &mut back);
        assert_eq!(back, events);
        assert_eq!(last_id_in(&encode(&events)), 3);
    }

    #[test]
    fn history_is_read_from_old_rows_chunks_and_the_execution_row() {
        let c = schema();
        let e = execution("arn:x:execution:sm:h", "sm");
        let all: Vec<_> = (1..=6)
            .map(|i| event(i, "T", serde_json::json!({"n": i})))
            .collect();
        c.execute(
            "INSERT INTO history_events VALUES (9, 1, 0, 1700000000001, 'T', 'someEventDetails', '{\"n\":1}')",
            [],
        )
        .unwrap();
        assert!(insert_execution(&c, 9, &e, None).unwrap());
        insert_history_chunk(&c, 9, 2, 3, &encode(&all[1..3])).unwrap();
        insert_history_chunk(&c, 9, 4, 4, &encode(&all[3..4])).unwrap();
        assert_eq!(last_event_id(&c, 9).unwrap(), 4);
        let tail = encode(&all[4..]);
        let mut done = close(ExecutionStatus::Succeeded, Some("{}"));
        done.history = &tail;
        assert!(close_execution(&c, 9, &done).unwrap());
        assert_eq!(list_events(&c, 9).unwrap(), all);
        assert_eq!(last_event_id(&c, 9).unwrap(), 6);
        assert!(list_events(&c, 10).unwrap().is_empty());
    }

    #[test]
    fn events_after_a_resume_point_are_dropped_from_every_layout() {
        let c = schema();
        let all: Vec<_> = (1..=7)
            .map(|i| event(i, "T", serde_json::json!({"n": i})))
            .collect();
        c.execute(
            "INSERT INTO history_events VALUES (4, 1, 0, 1700000000001, 'T', 'someEventDetails', '{\"n\":1}')",
            [],
        )
        .unwrap();
        insert_history_chunk(&c, 4, 2, 4, &encode(&all[1..4])).unwrap();
        insert_history_chunk(&c, 4, 5, 7, &encode(&all[4..7])).unwrap();
        delete_events_after(&c, 4, 3).unwrap();
        assert_eq!(list_events(&c, 4).unwrap(), all[..3]);
        assert_eq!(last_event_id(&c, 4).unwrap(), 3);
        delete_events_after(&c, 4, 0).unwrap();
        assert!(list_events(&c, 4).unwrap().is_empty());
    }

    #[test]
    fn a_finished_execution_is_one_row_with_its_history() {
        let c = schema();
        let mut e = execution("arn:x:execution:sm:f", "sm");
        e.status = ExecutionStatus::Succeeded;
        e.output = Some("1".into());
        let all: Vec<_> = (1..=4).map(|i| event(i, "T", Value::Null)).collect();
        assert!(insert_execution(&c, 3, &e, Some(&encode(&all))).unwrap());
        assert_eq!(list_events(&c, 3).unwrap(), all);
        assert_eq!(get_execution(&c, &e.arn).unwrap(), Some(e));
    }

    #[test]
    fn older_data_directories_get_the_history_column() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE executions (seq INTEGER PRIMARY KEY AUTOINCREMENT, arn TEXT NOT NULL UNIQUE,
             state_machine_arn TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
             start_date INTEGER NOT NULL, stop_date INTEGER, input TEXT NOT NULL, output TEXT,
             error TEXT, cause TEXT, trace_header TEXT, test_case TEXT)",
        )
        .unwrap();
        create_schema(&c).unwrap();
        create_schema(&c).unwrap();
        let e = execution("arn:x:execution:sm:o", "sm");
        assert!(insert_execution(&c, 5, &e, Some(b"")).unwrap());
        assert_eq!(next_execution_seq(&c).unwrap(), 6);
    }

    #[test]
    fn checkpoint_keeps_its_wait_deadline_until_the_next_checkpoint() {
        let c = schema();
        let k = Checkpoint {
            state: "W".into(),
            input: serde_json::json!({"a": 1}),
            variables: Default::default(),
        };
        put_checkpoint(&c, 7, &k, Some(from_millis(4_000))).unwrap();
        assert_eq!(
            get_checkpoint(&c, 7).unwrap().unwrap().wait_until,
            Some(from_millis(4_000))
        );
        set_wait_until(&c, 7, from_millis(5_000)).unwrap();
        let got = get_checkpoint(&c, 7).unwrap().unwrap();
        assert_eq!(got.wait_until, Some(from_millis(5_000)));
        assert_eq!(got.checkpoint.input, serde_json::json!({"a": 1}));
        put_checkpoint(
            &c,
            7,
            &Checkpoint {
                state: "N".into(),
                ..k
            },
            None,
        )
        .unwrap();
        assert_eq!(get_checkpoint(&c, 7).unwrap().unwrap().wait_until, None);
    }
}
