//! The compiled state machine: every path, intrinsic call, payload template and transition
//! is resolved at load time so an execution never re-parses anything. Transitions are
//! indexes into their [`Program`]'s state list.

use super::intrinsic::Intrinsic;
use super::path::JsonPath;
use serde_json::Value;
use std::collections::HashMap;
use time::OffsetDateTime;

/// `QueryLanguage` of a machine or a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryLanguage {
    JsonPath,
    Jsonata,
}

/// A parsed, validated state machine definition.
#[derive(Clone, Debug)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub query_language: QueryLanguage,
    /// Whole-execution `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    pub version: Option<String>,
    /// The top-level `StartAt` + `States`.
    pub program: Program,
}

/// A `StartAt` + `States` pair: the top level, a Parallel branch or a Map item processor.
#[derive(Clone, Debug)]
pub struct Program {
    pub start_at: usize,
    pub states: Vec<State>,
    pub index: HashMap<String, usize>,
}

impl Program {
    /// The state called `name`, if any.
    pub fn state(&self, name: &str) -> Option<(usize, &State)> {
        self.index.get(name).map(|&i| (i, &self.states[i]))
    }
}

/// One state.
#[derive(Clone, Debug)]
pub struct State {
    pub name: String,
    pub query_language: QueryLanguage,
    pub kind: StateKind,
    pub input_path: IoPath,
    pub output_path: IoPath,
    pub result_path: ResultPath,
    /// `Parameters` (Pass, Task, Parallel, Map; for Map the legacy spelling of `ItemSelector`).
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub assign: Option<Template>,
    /// JSONata `Output` / `Arguments`.
    pub output: Option<Template>,
    pub arguments: Option<Template>,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

/// `InputPath` / `OutputPath`.
#[derive(Clone, Debug)]
pub enum IoPath {
    /// Absent: `$`.
    Identity,
    /// `null`: `{}`.
    Null,
    Path(JsonPath),
}

/// `ResultPath`.
#[derive(Clone, Debug)]
pub enum ResultPath {
    /// Absent or `$`: the result replaces the input.
    Replace,
    /// `null`: the result is discarded.
    Discard,
    Path(JsonPath),
}

/// Where a state goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Next(usize),
    End,
    /// Choice, Succeed and Fail decide for themselves.
    None,
}

/// Type-specific parts of a state.
#[derive(Clone, Debug)]
pub enum StateKind {
    Pass {
        result: Option<Value>,
    },
    Task(Box<Task>),
    Choice {
        choices: Vec<ChoiceBranch>,
        default: Option<usize>,
    },
    Wait(WaitFor),
    Succeed,
    Fail {
        error: Option<Text>,
        cause: Option<Text>,
    },
    Parallel {
        branches: Vec<Program>,
    },
    Map(Box<MapState>),
}

impl StateKind {
    /// The `Type` name used in history event names (`PassStateEntered`).
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice { .. } => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail { .. } => "Fail",
            StateKind::Parallel { .. } => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// A string given either as a literal or through a path (`Error` / `ErrorPath`).
#[derive(Clone, Debug)]
pub enum Text {
    Literal(String),
    Path(JsonPath),
    Intrinsic(Intrinsic),
    /// JSONata `{% ... %}`.
    Expr(Template),
}

/// A number given as a literal or through a path (`TimeoutSeconds` / `TimeoutSecondsPath`).
#[derive(Clone, Debug)]
pub enum Number {
    Literal(u64),
    Path(JsonPath),
    /// JSONata `{% ... %}`.
    Expr(Template),
}

/// A Task state.
#[derive(Clone, Debug)]
pub struct Task {
    pub resource: String,
    pub timeout_seconds: Option<Number>,
    pub heartbeat_seconds: Option<Number>,
}

/// What a Wait state waits for.
#[derive(Clone, Debug)]
pub enum WaitFor {
    Seconds(u64),
    SecondsPath(JsonPath),
    Timestamp(OffsetDateTime),
    TimestampPath(JsonPath),
    /// JSONata `Seconds: "{% ... %}"`.
    SecondsExpr(Template),
    /// JSONata `Timestamp: "{% ... %}"`.
    TimestampExpr(Template),
}

/// A Map state.
#[derive(Clone, Debug)]
pub struct MapState {
    pub items_path: Option<JsonPath>,
    /// JSONata `Items`.
    pub items: Option<Template>,
    /// `ItemSelector` (or legacy `Parameters`).
    pub item_selector: Option<Template>,
    pub processor: Program,
    pub max_concurrency: Option<Number>,
    pub tolerated_failure_count: Option<Number>,
    pub tolerated_failure_percentage: Option<Number>,
    /// `ItemBatcher`: `MaxItemsPerBatch` and `BatchInput`.
    pub batcher: Option<ItemBatcher>,
    /// A Distributed Map field this engine cannot run (`ItemReader`, `ResultWriter`); the
    /// state fails with `States.Runtime` naming it.
    pub unsupported: Option<&'static str>,
}

/// A Distributed Map `ItemBatcher`.
#[derive(Clone, Debug)]
pub struct ItemBatcher {
    pub max_items_per_batch: Option<Number>,
    pub batch_input: Option<Template>,
}

/// A `Retry` entry.
#[derive(Clone, Debug)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: bool,
}

/// A `Catch` entry.
#[derive(Clone, Debug)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub result_path: ResultPath,
    pub next: usize,
    pub assign: Option<Template>,
    /// JSONata `Output`.
    pub output: Option<Template>,
}

/// One entry of a Choice state's `Choices`.
#[derive(Clone, Debug)]
pub struct ChoiceBranch {
    pub rule: ChoiceRule,
    pub next: usize,
    pub assign: Option<Template>,
    /// JSONata `Output`.
    pub output: Option<Template>,
}

/// A Choice rule.
#[derive(Clone, Debug)]
pub enum ChoiceRule {
    And(Vec<ChoiceRule>),
    Or(Vec<ChoiceRule>),
    Not(Box<ChoiceRule>),
    Test {
        variable: JsonPath,
        op: Comparison,
        operand: Operand,
    },
    /// JSONata `Condition`.
    Condition(Template),
}

/// The right-hand side of a comparison.
#[derive(Clone, Debug)]
pub enum Operand {
    Value(Value),
    Path(JsonPath),
}

/// A Choice comparison operator (the `Path` variants share the operator; see [`Operand`]).
#[derive(Clone, Debug)]
pub enum Comparison {
    StringEquals,
    StringLessThan,
    StringGreaterThan,
    StringLessThanEquals,
    StringGreaterThanEquals,
    StringMatches,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    BooleanEquals,
    TimestampEquals,
    TimestampLessThan,
    TimestampGreaterThan,
    TimestampLessThanEquals,
    TimestampGreaterThanEquals,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

/// A payload template (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`).
#[derive(Clone, Debug)]
pub enum Template {
    /// No dynamic parts below this point.
    Const(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Path(JsonPath),
    Call(Intrinsic),
    /// JSONata `{% ... %}` (JSONata states only).
    Expr(Box<super::jsonata::Expr>),
}
