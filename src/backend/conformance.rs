//! The behaviour suite every [`StepFunctions`] implementation runs (object_store's
//! `integration.rs` pattern): the same calls must give the same output shapes, the same error
//! `__type` and HTTP status, with AWS's behaviour as the reference
//! (`../shared/reference/step-functions.md` §1.3–1.5).
//!
//! A backend's test builds a [`Fixture`] (role ARN, a name prefix unique to the run, whether
//! StartSyncExecution is available, a definition that stays RUNNING), calls [`run`], and
//! passes the outcomes to [`Report::check`] with the cases it knows it diverges on (each with
//! a reason). The check fails on any unlisted failure and on a listed case that now passes,
//! so divergence lists stay honest. Uses the trait in `backend` and `sfn`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;

use super::{Error, StepFunctions};
use crate::sfn::model::*;
use crate::sfn::{AwsError, ExecutionArn, ExecutionKind, StateMachineArn};

/// A Pass machine: finishes at once with its input as output.
pub const PASS_DEFINITION: &str =
    r#"{"Comment":"stepgate conformance","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;

/// A machine that stays RUNNING for a day (a Wait state), unless the backend's clock is
/// accelerated; such backends pass their own [`Fixture::long_running_definition`].
pub const WAIT_DEFINITION: &str = r#"{"Comment":"stepgate conformance","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}"#;

/// What the suite needs to know about the backend under test.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// Role ARN passed to CreateStateMachine.
    pub role_arn: String,
    /// Prefix of every state machine and execution name, unique per run (the suite creates
    /// state machines and does not assume an empty account).
    pub prefix: String,
    /// Whether the backend implements StartSyncExecution.
    pub supports_sync_execution: bool,
    /// A STANDARD definition whose executions stay RUNNING until stopped.
    pub long_running_definition: String,
    /// How long to wait for a Pass execution to finish, in polls of 50 ms.
    pub max_polls: u32,
}

impl Fixture {
    /// A fixture with a fresh prefix, `arn:aws:iam::123456789012:role/stepgate` as role, and
    /// the [`WAIT_DEFINITION`].
    pub fn new(supports_sync_execution: bool) -> Fixture {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Fixture {
            role_arn: "arn:aws:iam::123456789012:role/stepgate".into(),
            prefix: format!("sg{}", &id[..10]),
            supports_sync_execution,
            long_running_definition: WAIT_DEFINITION.into(),
            max_polls: 200,
        }
    }

    fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }
}

type CaseFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One named behaviour check.
#[derive(Clone, Copy)]
pub struct Case {
    /// Stable name, used in divergence lists.
    pub name: &'static str,
    /// Needs StartSyncExecution.
    pub needs_sync: bool,
    run: for<'a> fn(&'a dyn StepFunctions, &'a Fixture) -> CaseFuture<'a>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

macro_rules! cases {
    ($($name:ident $(needs $sync:ident)?),+ $(,)?) => {
        /// Every case of the suite, in the order [`run`] runs them.
        pub const CASES: &[Case] = &[$(Case {
            name: stringify!($name),
            needs_sync: cases!(@sync $($sync)?),
            run: |sf, fx| Box::pin($name(sf, fx)),
        }),+];
    };
    (@sync sync) => { true };
    (@sync) => { false };
}

cases!(
    create_and_describe_state_machine,
    create_state_machine_with_other_definition_already_exists,
    start_execution_standard_shapes,
    start_execution_without_name_uses_a_uuid,
    start_execution_is_idempotent_while_running,
    execution_already_exists_with_other_input,
    execution_already_exists_after_close,
    state_machine_does_not_exist,
    invalid_arn,
    invalid_execution_input,
    invalid_name,
    execution_does_not_exist,
    express_start_execution_gives_express_arns,
    express_list_executions_not_supported,
    express_describe_execution_invalid_arn,
    list_executions_shapes,
    list_executions_paginates,
    send_task_with_unknown_token,
    execution_history_shapes,
    stop_execution_aborts,
    delete_state_machine,
    start_sync_execution_on_standard_not_supported needs sync,
    start_sync_execution_on_express needs sync,
);

/// The result of one case.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub case: &'static str,
    /// `Err(why)` when the backend did not behave as AWS does.
    pub result: Result<(), String>,
}

/// Runs every case that applies to the fixture, in order, and returns their outcomes.
/// Cases needing StartSyncExecution are left out when the backend lacks it (and listed by
/// [`Report::summary`] as not applicable).
pub async fn run(sf: &dyn StepFunctions, fx: &Fixture) -> Vec<Outcome> {
    let mut out = Vec::new();
    for case in CASES {
        if case.needs_sync && !fx.supports_sync_execution {
            continue;
        }
        out.push(Outcome {
            case: case.name,
            result: (case.run)(sf, fx).await,
        });
    }
    out
}

/// Outcomes compared with a backend's list of known divergences.
#[derive(Debug)]
pub struct Report {
    pub passed: usize,
    pub diverged: usize,
    pub total: usize,
    /// Human-readable lines: every non-passing case with its reason, and every problem.
    pub lines: Vec<String>,
    /// Unlisted failures and listed cases that pass.
    pub problems: Vec<String>,
}

impl Report {
    /// Compares outcomes with `known` (`(case, reason)` pairs, e.g. read from a
    /// divergences file with one `case-id: reason` line per case).
    pub fn check(outcomes: &[Outcome], known: &[(String, String)]) -> Report {
        let mut r = Report {
            passed: 0,
            diverged: 0,
            total: outcomes.len(),
            lines: vec![],
            problems: vec![],
        };
        for o in outcomes {
            let listed = known.iter().find(|(c, _)| c == o.case);
            match (&o.result, listed) {
                (Ok(()), None) => r.passed += 1,
                (Ok(()), Some(_)) => {
                    r.passed += 1;
                    r.problems.push(format!(
                        "{}: listed as a divergence but passes; remove it from the list",
                        o.case
                    ));
                }
                (Err(why), Some((_, reason))) => {
                    r.diverged += 1;
                    r.lines
                        .push(format!("diverged {}: {reason} (got: {why})", o.case));
                }
                (Err(why), None) => {
                    r.diverged += 1;
                    r.problems.push(format!("{}: {why}", o.case));
                }
            }
        }
        for (c, _) in known {
            if !outcomes.iter().any(|o| o.case == c)
                && !CASES.iter().any(|k| k.name == c && k.needs_sync)
            {
                r.problems
                    .push(format!("{c}: listed as a divergence but no such case ran"));
            }
        }
        r
    }

    /// `passed N / diverged M / total T`, then one line per divergence and problem.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "passed {} / diverged {} / total {}",
            self.passed, self.diverged, self.total
        );
        for l in self
            .lines
            .iter()
            .chain(self.problems.iter().map(|p| p as &String))
        {
            s.push('\n');
            s.push_str(l);
        }
        s
    }

    /// Parses a divergences file: one `case-id: reason` per line; blank lines and `#`
    /// comments are ignored.
    pub fn parse_divergences(text: &str) -> Vec<(String, String)> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(':') {
                Some((c, r)) => (c.trim().to_owned(), r.trim().to_owned()),
                None => (l.to_owned(), String::new()),
            })
            .collect()
    }
}

// === helpers ===

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

fn ok<T>(what: &str, r: Result<T, Error>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: expected success, got {e}"))
}

/// Expects an AWS error with this `__type` and status 400.
fn expect_error<T: std::fmt::Debug>(
    what: &str,
    r: Result<T, Error>,
    type_: &str,
) -> Result<AwsError, String> {
    match r {
        Err(Error::Service(e)) if e.type_ == type_ && e.status == 400 => Ok(e),
        Err(Error::Service(e)) => Err(format!(
            "{what}: expected {type_} (400), got {} ({}): {}",
            e.type_, e.status, e.message
        )),
        Err(other) => Err(format!(
            "{what}: expected {type_} (400), got transport error {other}"
        )),
        Ok(v) => Err(format!("{what}: expected {type_} (400), got success {v:?}")),
    }
}

fn expect_message(what: &str, e: &AwsError, message: &str) -> Result<(), String> {
    ensure(e.message == message, || {
        format!("{what}: message {:?}, expected {message:?}", e.message)
    })
}

fn json_eq(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

async fn create(
    sf: &dyn StepFunctions,
    fx: &Fixture,
    name: &str,
    definition: &str,
    type_: StateMachineType,
) -> Result<StateMachineArn, String> {
    let out = ok(
        "CreateStateMachine",
        sf.create_state_machine(CreateStateMachineInput {
            name: name.to_owned(),
            definition: definition.to_owned(),
            role_arn: fx.role_arn.clone(),
            type_: Some(type_),
            ..Default::default()
        })
        .await,
    )?;
    let arn = StateMachineArn::parse(&out.state_machine_arn).map_err(|e| {
        format!(
            "CreateStateMachine returned {:?}: {e}",
            out.state_machine_arn
        )
    })?;
    ensure(arn.name == name, || {
        format!(
            "state machine ARN {} does not end in its name {name}",
            out.state_machine_arn
        )
    })?;
    Ok(arn)
}

async fn start(
    sf: &dyn StepFunctions,
    sm: &StateMachineArn,
    name: Option<&str>,
    input: Option<&str>,
) -> Result<StartExecutionOutput, Error> {
    sf.start_execution(StartExecutionInput {
        state_machine_arn: sm.to_string(),
        name: name.map(str::to_owned),
        input: input.map(str::to_owned),
        trace_header: None,
    })
    .await
}

async fn describe(sf: &dyn StepFunctions, arn: &str) -> Result<DescribeExecutionOutput, Error> {
    sf.describe_execution(DescribeExecutionInput {
        execution_arn: arn.to_owned(),
        included_data: None,
    })
    .await
}

/// Polls DescribeExecution until the execution is no longer RUNNING.
async fn finished(
    sf: &dyn StepFunctions,
    fx: &Fixture,
    arn: &str,
) -> Result<DescribeExecutionOutput, String> {
    for _ in 0..fx.max_polls {
        let d = ok("DescribeExecution", describe(sf, arn).await)?;
        if d.status != ExecutionStatus::Running {
            return Ok(d);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{arn} still RUNNING after {} polls", fx.max_polls))
}

async fn stop(sf: &dyn StepFunctions, arn: &str) -> Result<StopExecutionOutput, Error> {
    sf.stop_execution(StopExecutionInput {
        execution_arn: arn.to_owned(),
        error: Some("Stepgate.Cleanup".into()),
        cause: Some("conformance case done".into()),
    })
    .await
}

fn missing_machine(sm: &StateMachineArn, fx: &Fixture) -> StateMachineArn {
    StateMachineArn {
        name: fx.name("missing"),
        ..sm.unqualified()
    }
}

// === cases ===

async fn create_and_describe_state_machine(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let name = fx.name("describe");
    let sm = create(sf, fx, &name, PASS_DEFINITION, StateMachineType::Standard).await?;
    let d = ok(
        "DescribeStateMachine",
        sf.describe_state_machine(DescribeStateMachineInput {
            state_machine_arn: sm.to_string(),
            included_data: None,
        })
        .await,
    )?;
    ensure(d.state_machine_arn == sm.to_string(), || {
        format!("stateMachineArn {}", d.state_machine_arn)
    })?;
    ensure(d.name == name, || format!("name {}", d.name))?;
    ensure(json_eq(&d.definition, PASS_DEFINITION), || {
        format!("definition {}", d.definition)
    })?;
    ensure(d.role_arn == fx.role_arn, || {
        format!("roleArn {}", d.role_arn)
    })?;
    ensure(d.type_ == StateMachineType::Standard, || {
        format!("type {}", d.type_)
    })?;
    ensure(
        matches!(d.status, None | Some(StateMachineStatus::Active)),
        || format!("status {:?}", d.status),
    )?;
    let mut seen = None;
    let mut token = None;
    for _ in 0..100 {
        let page = ok(
            "ListStateMachines",
            sf.list_state_machines(ListStateMachinesInput {
                max_results: Some(100),
                next_token: token.take(),
            })
            .await,
        )?;
        seen = seen.or_else(|| {
            page.state_machines
                .into_iter()
                .find(|m| m.state_machine_arn == sm.to_string())
        });
        token = page.next_token;
        if seen.is_some() || token.is_none() {
            break;
        }
    }
    let item = seen.ok_or_else(|| format!("ListStateMachines does not list {sm}"))?;
    ensure(
        item.name == name && item.type_ == StateMachineType::Standard,
        || format!("list item {item:?}"),
    )?;
    ensure(item.creation_date == d.creation_date, || {
        format!(
            "creationDate {:?} in the list, {:?} in Describe",
            item.creation_date, d.creation_date
        )
    })
}

async fn create_state_machine_with_other_definition_already_exists(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let name = fx.name("exists");
    let sm = create(sf, fx, &name, PASS_DEFINITION, StateMachineType::Standard).await?;
    let again = sf
        .create_state_machine(CreateStateMachineInput {
            name: name.clone(),
            definition: fx.long_running_definition.clone(),
            role_arn: fx.role_arn.clone(),
            ..Default::default()
        })
        .await;
    let e = expect_error(
        "CreateStateMachine with the same name",
        again,
        "StateMachineAlreadyExists",
    )?;
    expect_message(
        "StateMachineAlreadyExists",
        &e,
        &format!("State Machine Already Exists: '{sm}'"),
    )
}

async fn start_execution_standard_shapes(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("start"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let input = r#"{"q":"it's \"quoted\" — ünïcödé ✓","n":[1,2.5,null]}"#;
    let name = fx.name("run-1");
    let out = ok(
        "StartExecution",
        start(sf, &sm, Some(&name), Some(input)).await,
    )?;
    let expected = ExecutionArn::standard(&sm, &name).to_string();
    ensure(out.execution_arn == expected, || {
        format!("executionArn {}, expected {expected}", out.execution_arn)
    })?;
    ensure(out.start_date.as_millis() > 0, || {
        "startDate is not set".into()
    })?;
    let d = ok("DescribeExecution", describe(sf, &out.execution_arn).await)?;
    ensure(d.execution_arn == expected, || {
        format!("describe executionArn {}", d.execution_arn)
    })?;
    ensure(d.state_machine_arn == sm.to_string(), || {
        format!("describe stateMachineArn {}", d.state_machine_arn)
    })?;
    ensure(d.name.as_deref() == Some(name.as_str()), || {
        format!("describe name {:?}", d.name)
    })?;
    ensure(
        d.input.as_deref().is_some_and(|i| json_eq(i, input)),
        || format!("describe input {:?}", d.input),
    )?;
    ensure(d.start_date == out.start_date, || {
        format!("startDate {:?} vs {:?}", d.start_date, out.start_date)
    })?;
    let done = finished(sf, fx, &out.execution_arn).await?;
    ensure(done.status == ExecutionStatus::Succeeded, || {
        format!("status {} ({:?})", done.status, done.cause)
    })?;
    ensure(
        done.output.as_deref().is_some_and(|o| json_eq(o, input)),
        || format!("output {:?}", done.output),
    )?;
    ensure(done.stop_date.is_some_and(|s| s >= done.start_date), || {
        format!("stopDate {:?}", done.stop_date)
    })
}

async fn start_execution_without_name_uses_a_uuid(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("noname"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let out = ok("StartExecution", start(sf, &sm, None, None).await)?;
    let arn = ExecutionArn::parse(&out.execution_arn)
        .map_err(|e| format!("{}: {e}", out.execution_arn))?;
    ensure(uuid::Uuid::parse_str(&arn.name).is_ok(), || {
        format!("generated name {:?} is not a UUID", arn.name)
    })?;
    let d = finished(sf, fx, &out.execution_arn).await?;
    ensure(d.input.as_deref().is_some_and(|i| json_eq(i, "{}")), || {
        format!("absent input became {:?}", d.input)
    })
}

async fn start_execution_is_idempotent_while_running(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("idem"),
        &fx.long_running_definition,
        StateMachineType::Standard,
    )
    .await?;
    let name = fx.name("same");
    let first = ok(
        "StartExecution",
        start(sf, &sm, Some(&name), Some(r#"{"a":1}"#)).await,
    )?;
    let second = start(sf, &sm, Some(&name), Some(r#"{"a":1}"#)).await;
    let _ = stop(sf, &first.execution_arn).await;
    let second = ok(
        "StartExecution again with the same name and input while RUNNING",
        second,
    )?;
    ensure(second.execution_arn == first.execution_arn, || {
        format!(
            "second ARN {} differs from {}",
            second.execution_arn, first.execution_arn
        )
    })
}

async fn execution_already_exists_with_other_input(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("dup"),
        &fx.long_running_definition,
        StateMachineType::Standard,
    )
    .await?;
    let name = fx.name("dup-run");
    let first = ok(
        "StartExecution",
        start(sf, &sm, Some(&name), Some(r#"{"a":1}"#)).await,
    )?;
    let second = start(sf, &sm, Some(&name), Some(r#"{"a":2}"#)).await;
    let _ = stop(sf, &first.execution_arn).await;
    let e = expect_error(
        "StartExecution with the same name, other input",
        second,
        "ExecutionAlreadyExists",
    )?;
    expect_message(
        "ExecutionAlreadyExists",
        &e,
        &format!("Execution Already Exists: '{}'", first.execution_arn),
    )
}

async fn execution_already_exists_after_close(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("closed"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let name = fx.name("once");
    let first = ok(
        "StartExecution",
        start(sf, &sm, Some(&name), Some("{}")).await,
    )?;
    finished(sf, fx, &first.execution_arn).await?;
    let again = start(sf, &sm, Some(&name), Some("{}")).await;
    expect_error(
        "StartExecution reusing a closed execution's name",
        again,
        "ExecutionAlreadyExists",
    )
    .map(drop)
}

async fn state_machine_does_not_exist(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("exists-ref"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let missing = missing_machine(&sm, fx);
    let e = expect_error(
        "StartExecution",
        start(sf, &missing, None, None).await,
        "StateMachineDoesNotExist",
    )?;
    expect_message(
        "StartExecution",
        &e,
        &format!("State Machine Does Not Exist: '{missing}'"),
    )?;
    let d = sf
        .describe_state_machine(DescribeStateMachineInput {
            state_machine_arn: missing.to_string(),
            included_data: None,
        })
        .await;
    expect_error("DescribeStateMachine", d, "StateMachineDoesNotExist")?;
    let l = sf
        .list_executions(ListExecutionsInput {
            state_machine_arn: Some(missing.to_string()),
            ..Default::default()
        })
        .await;
    expect_error("ListExecutions", l, "StateMachineDoesNotExist").map(drop)
}

async fn invalid_arn(sf: &dyn StepFunctions, _fx: &Fixture) -> Result<(), String> {
    let start = sf
        .start_execution(StartExecutionInput {
            state_machine_arn: "not-an-arn".into(),
            ..Default::default()
        })
        .await;
    expect_error("StartExecution(not-an-arn)", start, "InvalidArn")?;
    expect_error(
        "DescribeExecution(not-an-arn)",
        describe(sf, "not-an-arn").await,
        "InvalidArn",
    )?;
    let d = sf
        .describe_state_machine(DescribeStateMachineInput {
            state_machine_arn: "not-an-arn".into(),
            included_data: None,
        })
        .await;
    expect_error("DescribeStateMachine(not-an-arn)", d, "InvalidArn").map(drop)
}

async fn invalid_execution_input(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("badinput"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let r = start(sf, &sm, Some(&fx.name("bad-input")), Some("not json")).await;
    expect_error(
        "StartExecution with input `not json`",
        r,
        "InvalidExecutionInput",
    )
    .map(drop)
}

async fn invalid_name(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("badname"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    for bad in ["has space", "a/b", "colon:name"] {
        let e = expect_error(
            &format!("StartExecution name {bad:?}"),
            start(sf, &sm, Some(bad), None).await,
            "InvalidName",
        )?;
        expect_message("InvalidName", &e, &format!("Invalid Name: '{bad}'"))?;
    }
    let r = sf
        .create_state_machine(CreateStateMachineInput {
            name: "bad name".into(),
            definition: PASS_DEFINITION.into(),
            role_arn: fx.role_arn.clone(),
            ..Default::default()
        })
        .await;
    expect_error("CreateStateMachine name \"bad name\"", r, "InvalidName").map(drop)
}

async fn execution_does_not_exist(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("noexec"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let arn = ExecutionArn::standard(&sm, &fx.name("never-started")).to_string();
    let e = expect_error(
        "DescribeExecution",
        describe(sf, &arn).await,
        "ExecutionDoesNotExist",
    )?;
    expect_message(
        "ExecutionDoesNotExist",
        &e,
        &format!("Execution Does Not Exist: '{arn}'"),
    )?;
    expect_error(
        "StopExecution",
        stop(sf, &arn).await,
        "ExecutionDoesNotExist",
    )
    .map(drop)
}

async fn express_start_execution_gives_express_arns(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("express"),
        PASS_DEFINITION,
        StateMachineType::Express,
    )
    .await?;
    let name = fx.name("fast");
    let a = ok(
        "StartExecution(EXPRESS)",
        start(sf, &sm, Some(&name), Some("{}")).await,
    )?;
    let b = ok(
        "StartExecution(EXPRESS) with the same name",
        start(sf, &sm, Some(&name), Some(r#"{"x":1}"#)).await,
    )?;
    for out in [&a, &b] {
        let arn = ExecutionArn::parse(&out.execution_arn)
            .map_err(|e| format!("{}: {e}", out.execution_arn))?;
        let ExecutionKind::Express { id } = &arn.kind else {
            return Err(format!(
                "{} is not an express execution ARN",
                out.execution_arn
            ));
        };
        ensure(uuid::Uuid::parse_str(id).is_ok(), || {
            format!("express ARN id {id:?} is not a UUID")
        })?;
        ensure(
            arn.name == name && arn.state_machine_arn() == sm.unqualified(),
            || format!("express ARN {}", out.execution_arn),
        )?;
    }
    ensure(a.execution_arn != b.execution_arn, || {
        "two express executions with one name share an ARN".into()
    })
}

async fn express_list_executions_not_supported(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("express-list"),
        PASS_DEFINITION,
        StateMachineType::Express,
    )
    .await?;
    let r = sf
        .list_executions(ListExecutionsInput {
            state_machine_arn: Some(sm.to_string()),
            ..Default::default()
        })
        .await;
    let e = expect_error("ListExecutions(EXPRESS)", r, "StateMachineTypeNotSupported")?;
    expect_message(
        "StateMachineTypeNotSupported",
        &e,
        "This operation is not supported by this type of state machine",
    )
}

async fn express_describe_execution_invalid_arn(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("express-desc"),
        PASS_DEFINITION,
        StateMachineType::Express,
    )
    .await?;
    let out = ok("StartExecution(EXPRESS)", start(sf, &sm, None, None).await)?;
    let e = expect_error(
        "DescribeExecution(express ARN)",
        describe(sf, &out.execution_arn).await,
        "InvalidArn",
    )?;
    expect_message(
        "InvalidArn",
        &e,
        "Invalid Arn: 'Resource type not valid in this context: express'",
    )
}

async fn list_executions_shapes(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("list"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let mut arns = Vec::new();
    for n in ["l1", "l2"] {
        let out = ok(
            "StartExecution",
            start(sf, &sm, Some(&fx.name(n)), Some("{}")).await,
        )?;
        finished(sf, fx, &out.execution_arn).await?;
        arns.push((fx.name(n), out));
    }
    let page = ok(
        "ListExecutions",
        sf.list_executions(ListExecutionsInput {
            state_machine_arn: Some(sm.to_string()),
            status_filter: Some(ExecutionStatus::Succeeded),
            ..Default::default()
        })
        .await,
    )?;
    ensure(page.executions.len() == 2, || {
        format!("{} executions listed, expected 2", page.executions.len())
    })?;
    for (name, started) in &arns {
        let item = page
            .executions
            .iter()
            .find(|e| e.execution_arn == started.execution_arn)
            .ok_or_else(|| format!("{} not listed", started.execution_arn))?;
        ensure(&item.name == name, || format!("name {}", item.name))?;
        ensure(item.state_machine_arn == sm.to_string(), || {
            format!("stateMachineArn {}", item.state_machine_arn)
        })?;
        ensure(item.status == ExecutionStatus::Succeeded, || {
            format!("status {}", item.status)
        })?;
        ensure(item.start_date == started.start_date, || {
            format!("startDate {:?}", item.start_date)
        })?;
        ensure(item.stop_date.is_some(), || "stopDate missing".into())?;
    }
    let first = &page.executions[0];
    ensure(first.execution_arn == arns[1].1.execution_arn, || {
        "executions are not newest first".into()
    })?;
    let running = ok(
        "ListExecutions(RUNNING)",
        sf.list_executions(ListExecutionsInput {
            state_machine_arn: Some(sm.to_string()),
            status_filter: Some(ExecutionStatus::Running),
            ..Default::default()
        })
        .await,
    )?;
    ensure(running.executions.is_empty(), || {
        format!("RUNNING filter listed {:?}", running.executions)
    })
}

async fn list_executions_paginates(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("pages"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let mut started = Vec::new();
    for n in ["p1", "p2", "p3"] {
        started.push(
            ok(
                "StartExecution",
                start(sf, &sm, Some(&fx.name(n)), None).await,
            )?
            .execution_arn,
        );
    }
    let mut listed = Vec::new();
    let mut token = None;
    for page_no in 0..5 {
        let page = ok(
            "ListExecutions(maxResults 2)",
            sf.list_executions(ListExecutionsInput {
                state_machine_arn: Some(sm.to_string()),
                max_results: Some(2),
                next_token: token.take(),
                ..Default::default()
            })
            .await,
        )?;
        ensure(page.executions.len() <= 2, || {
            format!("page {page_no} has {} executions", page.executions.len())
        })?;
        listed.extend(page.executions.into_iter().map(|e| e.execution_arn));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    ensure(token.is_none(), || {
        "still a nextToken after 5 pages of 2".into()
    })?;
    let mut expected = started.clone();
    expected.reverse();
    ensure(listed == expected, || {
        format!("pages listed {listed:?}, expected newest first {expected:?}")
    })
}

async fn send_task_with_unknown_token(sf: &dyn StepFunctions, _fx: &Fixture) -> Result<(), String> {
    // Task tokens are opaque: a made-up one is InvalidToken (malformed) or
    // TaskDoesNotExist (well-formed, unknown) depending on its shape; both are 400.
    let token = "AAAAKgAAAAIAAAAAAAAAAbogus".to_owned();
    let either = |what: &str, r: Result<Empty, Error>| match r {
        Err(Error::Service(e))
            if (e.type_ == "InvalidToken" || e.type_ == "TaskDoesNotExist") && e.status == 400 =>
        {
            Ok(())
        }
        other => Err(format!(
            "{what}: expected InvalidToken or TaskDoesNotExist (400), got {other:?}"
        )),
    };
    either(
        "SendTaskSuccess",
        sf.send_task_success(SendTaskSuccessInput {
            task_token: token.clone(),
            output: "{}".into(),
        })
        .await,
    )?;
    either(
        "SendTaskFailure",
        sf.send_task_failure(SendTaskFailureInput {
            task_token: token.clone(),
            error: None,
            cause: None,
        })
        .await,
    )?;
    either(
        "SendTaskHeartbeat",
        sf.send_task_heartbeat(SendTaskHeartbeatInput { task_token: token })
            .await,
    )
}

async fn execution_history_shapes(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("history"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let input = r#"{"k":"v"}"#;
    let out = ok(
        "StartExecution",
        start(sf, &sm, Some(&fx.name("h")), Some(input)).await,
    )?;
    finished(sf, fx, &out.execution_arn).await?;
    let h = ok(
        "GetExecutionHistory",
        sf.get_execution_history(GetExecutionHistoryInput {
            execution_arn: out.execution_arn.clone(),
            ..Default::default()
        })
        .await,
    )?;
    let types: Vec<&str> = h.events.iter().map(|e| e.type_.as_str()).collect();
    let expected = [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ];
    ensure(types == expected, || {
        format!("event types {types:?}, expected {expected:?}")
    })?;
    for (i, e) in h.events.iter().enumerate() {
        ensure(e.id == i as i64 + 1, || {
            format!("event {i} has id {}", e.id)
        })?;
        ensure(e.details.len() == 1, || {
            format!(
                "event {} has details {:?}",
                e.id,
                e.details.keys().collect::<Vec<_>>()
            )
        })?;
    }
    let started = h.events[0]
        .details
        .get("executionStartedEventDetails")
        .ok_or("no executionStartedEventDetails")?;
    ensure(
        started["input"].as_str().is_some_and(|i| json_eq(i, input)),
        || format!("started details {started}"),
    )?;
    ensure(started["roleArn"] == fx.role_arn.as_str(), || {
        format!("started details {started}")
    })?;
    let entered = h.events[1]
        .details
        .get("stateEnteredEventDetails")
        .ok_or("no stateEnteredEventDetails")?;
    ensure(entered["name"] == "P", || {
        format!("stateEnteredEventDetails {entered}")
    })?;
    let succeeded = h.events[3]
        .details
        .get("executionSucceededEventDetails")
        .ok_or("no executionSucceededEventDetails")?;
    ensure(
        succeeded["output"]
            .as_str()
            .is_some_and(|o| json_eq(o, input)),
        || format!("succeeded details {succeeded}"),
    )?;
    let rev = ok(
        "GetExecutionHistory(reverseOrder)",
        sf.get_execution_history(GetExecutionHistoryInput {
            execution_arn: out.execution_arn.clone(),
            reverse_order: Some(true),
            ..Default::default()
        })
        .await,
    )?;
    let ids: Vec<i64> = rev.events.iter().map(|e| e.id).collect();
    ensure(ids == [4, 3, 2, 1], || format!("reverse order ids {ids:?}"))
}

async fn stop_execution_aborts(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("stop"),
        &fx.long_running_definition,
        StateMachineType::Standard,
    )
    .await?;
    let out = ok(
        "StartExecution",
        start(sf, &sm, Some(&fx.name("to-stop")), None).await,
    )?;
    let stopped = ok("StopExecution", stop(sf, &out.execution_arn).await)?;
    ensure(stopped.stop_date >= out.start_date, || {
        format!("stopDate {:?} before startDate", stopped.stop_date)
    })?;
    let d = ok("DescribeExecution", describe(sf, &out.execution_arn).await)?;
    ensure(d.status == ExecutionStatus::Aborted, || {
        format!("status {} after StopExecution", d.status)
    })?;
    ensure(d.stop_date.is_some(), || {
        "no stopDate after StopExecution".into()
    })
}

async fn delete_state_machine(sf: &dyn StepFunctions, fx: &Fixture) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("delete"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    ok(
        "DeleteStateMachine",
        sf.delete_state_machine(DeleteStateMachineInput {
            state_machine_arn: sm.to_string(),
        })
        .await,
    )?;
    let d = sf
        .describe_state_machine(DescribeStateMachineInput {
            state_machine_arn: sm.to_string(),
            included_data: None,
        })
        .await;
    match d {
        // Deletion is asynchronous on AWS: DELETING is a valid answer for a while.
        Ok(d) if d.status == Some(StateMachineStatus::Deleting) => Ok(()),
        other => expect_error(
            "DescribeStateMachine after delete",
            other,
            "StateMachineDoesNotExist",
        )
        .map(drop),
    }
}

async fn start_sync_execution_on_standard_not_supported(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("sync-std"),
        PASS_DEFINITION,
        StateMachineType::Standard,
    )
    .await?;
    let r = sf
        .start_sync_execution(StartSyncExecutionInput {
            state_machine_arn: sm.to_string(),
            ..Default::default()
        })
        .await;
    let e = expect_error(
        "StartSyncExecution(STANDARD)",
        r,
        "StateMachineTypeNotSupported",
    )?;
    expect_message(
        "StateMachineTypeNotSupported",
        &e,
        "This operation is not supported by this type of state machine",
    )
}

async fn start_sync_execution_on_express(
    sf: &dyn StepFunctions,
    fx: &Fixture,
) -> Result<(), String> {
    let sm = create(
        sf,
        fx,
        &fx.name("sync-exp"),
        PASS_DEFINITION,
        StateMachineType::Express,
    )
    .await?;
    let input = r#"{"it's":"\"ok\" ✓"}"#;
    let name = fx.name("sync");
    let out = ok(
        "StartSyncExecution",
        sf.start_sync_execution(StartSyncExecutionInput {
            state_machine_arn: sm.to_string(),
            name: Some(name.clone()),
            input: Some(input.into()),
            ..Default::default()
        })
        .await,
    )?;
    let arn = ExecutionArn::parse(&out.execution_arn)
        .map_err(|e| format!("{}: {e}", out.execution_arn))?;
    ensure(arn.is_express() && arn.name == name, || {
        format!("executionArn {}", out.execution_arn)
    })?;
    ensure(out.status == SyncExecutionStatus::Succeeded, || {
        format!("status {} ({:?})", out.status, out.cause)
    })?;
    ensure(
        out.output.as_deref().is_some_and(|o| json_eq(o, input)),
        || format!("output {:?}", out.output),
    )?;
    ensure(out.name.as_deref() == Some(name.as_str()), || {
        format!("name {:?}", out.name)
    })?;
    ensure(
        out.state_machine_arn.as_deref() == Some(sm.to_string().as_str()),
        || format!("{:?}", out.state_machine_arn),
    )?;
    ensure(out.stop_date >= out.start_date, || {
        "stopDate before startDate".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique() {
        let mut names: Vec<_> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len());
    }

    #[test]
    fn report_flags_unlisted_failures_and_stale_divergences() {
        let outcomes = vec![
            Outcome {
                case: "invalid_arn",
                result: Ok(()),
            },
            Outcome {
                case: "invalid_name",
                result: Err("boom".into()),
            },
            Outcome {
                case: "delete_state_machine",
                result: Err("known".into()),
            },
        ];
        let known = Report::parse_divergences(
            "# comment\ndelete_state_machine: the emulator keeps deleted machines\ninvalid_arn: stale\n",
        );
        let r = Report::check(&outcomes, &known);
        assert_eq!((r.passed, r.diverged, r.total), (1, 2, 3));
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
        assert!(r.summary().starts_with("passed 1 / diverged 2 / total 3"));
        assert!(
            r.summary()
                .contains("diverged delete_state_machine: the emulator keeps deleted machines")
        );
    }
}
