//! The store's tables, their row types and the SQL that reads and writes them.
//! Every function takes the writer thread's `&Connection`; timestamps are kept as
//! Unix milliseconds (AWS reports them with millisecond precision).

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
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
    test_case TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, seq);
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

pub(crate) fn create_schema(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(SCHEMA)
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

/// Inserts a new execution and returns its position (`seq`), or `None` when an
/// execution with that ARN exists already.
pub fn insert_execution(c: &Connection, e: &ExecutionRecord) -> rusqlite::Result<Option<i64>> {
    c.prepare_cached(
        "INSERT INTO executions (arn, state_machine_arn, name, status, start_date, stop_date,
                                 input, output, error, cause, trace_header, test_case)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (arn) DO NOTHING",
    )?
    .execute(params![
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
        e.test_case
    ])
    .map(|changed| (changed == 1).then(|| c.last_insert_rowid()))
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

/// Closes a RUNNING execution; returns false if it was not running any more.
#[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
pub fn close_execution(
    c: &Connection,
    arn: &str,
    seq: i64,
    status: ExecutionStatus,
    stop_date: OffsetDateTime,
    output: Option<&str>,
    error: Option<&str>,
    cause: Option<&str>,
) -> rusqlite::Result<bool> {
    let changed = c
        .prepare_cached(
            "UPDATE executions SET status = ?2, stop_date = ?3, output = ?4, error = ?5, cause = ?6
             WHERE arn = ?1 AND status = 'RUNNING'",
        )?
        .execute(params![
            arn,
            status.as_str(),
            to_millis(stop_date),
            output,
            error,
            cause
        ])?;
    c.prepare_cached("DELETE FROM checkpoints WHERE execution_seq = ?1")?
        .execute([seq])?;
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

pub fn insert_event(
    c: &Connection,
    execution_seq: i64,
    e: &HistoryEventRecord,
) -> rusqlite::Result<()> {
    let details = match &e.details {
        Value::Null => None,
        v => Some(v.to_string()),
    };
    c.prepare_cached(
        "INSERT OR REPLACE INTO history_events
             (execution_seq, id, previous_event_id, timestamp, type, details_key, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        execution_seq,
        e.id,
        e.previous_event_id,
        to_millis(e.timestamp),
        e.event_type,
        e.details_key,
        details
    ])?;
    Ok(())
}

/// Events in id order (or reversed), strictly after `after_id` in that order.
pub fn list_events(
    c: &Connection,
    execution_seq: i64,
    reverse: bool,
    after_id: Option<i64>,
    limit: usize,
) -> rusqlite::Result<Vec<HistoryEventRecord>> {
    let sql = if reverse {
        "SELECT id, previous_event_id, timestamp, type, details_key, details FROM history_events
         WHERE execution_seq = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
    } else {
        "SELECT id, previous_event_id, timestamp, type, details_key, details FROM history_events
         WHERE execution_seq = ?1 AND id > ?2 ORDER BY id ASC LIMIT ?3"
    };
    let bound = after_id.unwrap_or(if reverse { i64::MAX } else { 0 });
    let mut statement = c.prepare_cached(sql)?;
    let rows = statement.query_map(params![execution_seq, bound, limit as i64], |r| {
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
    rows.collect()
}

/// The highest event id of an execution (0 when it has none).
pub fn last_event_id(c: &Connection, execution_seq: i64) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT COALESCE(MAX(id), 0) FROM history_events WHERE execution_seq = ?1")?
        .query_row([execution_seq], |r| r.get(0))
}

/// Drops the events after `id` (a resumed execution re-runs the attempt they recorded).
pub fn delete_events_after(c: &Connection, execution_seq: i64, id: i64) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM history_events WHERE execution_seq = ?1 AND id > ?2")?
        .execute(params![execution_seq, id])?;
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

pub fn put_checkpoint(c: &Connection, execution_seq: i64, k: &Checkpoint) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO checkpoints (execution_seq, state, input, variables, wait_until)
         VALUES (?1, ?2, ?3, ?4, NULL)",
    )?
    .execute(params![
        execution_seq,
        k.state,
        k.input.to_string(),
        Value::Object(k.variables.clone()).to_string()
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

    #[test]
    fn executions_round_trip_and_close_once() {
        let c = Connection::open_in_memory().unwrap();
        create_schema(&c).unwrap();
        let e = execution("arn:x:execution:sm:a", "arn:x:stateMachine:sm");
        let seq = insert_execution(&c, &e).unwrap().unwrap();
        assert_eq!(
            insert_execution(&c, &e).unwrap(),
            None,
            "an ARN is inserted once"
        );
        assert_eq!(get_execution(&c, &e.arn).unwrap(), Some(e.clone()));
        assert_eq!(execution_seq(&c, &e.arn).unwrap(), Some(seq));
        let stop = from_millis(1_700_000_001_000);
        assert!(
            close_execution(
                &c,
                &e.arn,
                seq,
                ExecutionStatus::Succeeded,
                stop,
                Some("1"),
                None,
                None
            )
            .unwrap()
        );
        assert!(
            !close_execution(
                &c,
                &e.arn,
                seq,
                ExecutionStatus::Aborted,
                stop,
                None,
                None,
                None
            )
            .unwrap()
        );
        let got = get_execution(&c, &e.arn).unwrap().unwrap();
        assert_eq!(got.status, ExecutionStatus::Succeeded);
        assert_eq!(got.output.as_deref(), Some("1"));
        assert_eq!(got.stop_date, Some(stop));
    }

    #[test]
    fn list_executions_pages_newest_first() {
        let c = Connection::open_in_memory().unwrap();
        create_schema(&c).unwrap();
        for i in 0..5 {
            insert_execution(&c, &execution(&format!("arn:x:execution:sm:{i}"), "sm")).unwrap();
        }
        insert_execution(&c, &execution("arn:x:execution:other:z", "other")).unwrap();
        let page = list_executions(&c, "sm", None, None, 2).unwrap();
        let names: Vec<_> = page.iter().map(|(_, e)| e.name.as_str()).collect();
        assert_eq!(names, ["4", "3"]);
        let next = list_executions(&c, "sm", None, Some(page[1].0), 10).unwrap();
        let names: Vec<_> = next.iter().map(|(_, e)| e.name.as_str()).collect();
        assert_eq!(names, ["2", "1", "0"]);
        let none = list_executions(&c, "sm", Some(ExecutionStatus::Failed), None, 10).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn checkpoint_keeps_wait_deadline_until_next_checkpoint() {
        let c = Connection::open_in_memory().unwrap();
        create_schema(&c).unwrap();
        let k = Checkpoint {
            state: "W".into(),
            input: serde_json::json!({"a": 1}),
            variables: Default::default(),
        };
        put_checkpoint(&c, 7, &k).unwrap();
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
        )
        .unwrap();
        assert_eq!(get_checkpoint(&c, 7).unwrap().unwrap().wait_until, None);
    }
}
