//! Interpreter tests over an in-memory [`Effects`] with a virtual clock.

use super::*;
use crate::engine::effects::{HistoryEvent, TaskRequest};
use serde_json::json;
use std::sync::Mutex;

struct TestEffects {
    now: Mutex<OffsetDateTime>,
    events: Mutex<Vec<HistoryEvent>>,
    checkpoints: Mutex<Vec<Checkpoint>>,
    fail_first: Mutex<u32>,
}

impl TestEffects {
    fn new() -> Self {
        TestEffects {
            now: Mutex::new(OffsetDateTime::UNIX_EPOCH),
            events: Mutex::new(Vec::new()),
            checkpoints: Mutex::new(Vec::new()),
            fail_first: Mutex::new(0),
        }
    }
    fn types(&self) -> Vec<String> {
        self.events.lock().unwrap().iter().map(|e| e.event_type.clone()).collect()
    }
}

#[async_trait::async_trait]
impl Effects for TestEffects {
    async fn invoke_task(&self, request: TaskRequest) -> Result<Value, StateError> {
        let mut n = self.fail_first.lock().unwrap();
        if *n > 0 {
            *n -= 1;
            return Err(StateError { error: "Boom".into(), cause: Some("bad".into()) });
        }
        Ok(json!({"echo": request.parameters, "attempt": request.attempt}))
    }
    async fn sleep_until(&self, until: OffsetDateTime) {
        let mut now = self.now.lock().unwrap();
        if until > *now {
            *now = until;
        }
    }
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap()
    }
    fn record(&self, event: HistoryEvent) {
        self.events.lock().unwrap().push(event);
    }
    fn checkpoint(&self, checkpoint: &Checkpoint) {
        self.checkpoints.lock().unwrap().push(checkpoint.clone());
    }
}

fn info(input: &Value) -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:ex".into(),
        name: "ex".into(),
        input: input.clone(),
        start_time: OffsetDateTime::UNIX_EPOCH,
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn exec(def: &str, input: Value) -> (Outcome, TestEffects) {
    let sm = StateMachine::parse(def).unwrap();
    let fx = TestEffects::new();
    let out = block_on(run(&sm, &info(&input), input, None, &fx));
    (out, fx)
}

#[test]
fn pass_choice_succeed_flow_with_paths_and_history() {
    let (out, fx) = exec(
        r#"{"StartAt":"P","States":{
            "P":{"Type":"Pass","Parameters":{"v.$":"$.x","c":1},"ResultPath":"$.p","Next":"C"},
            "C":{"Type":"Choice","Choices":[{"Variable":"$.p.v","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"},
            "Big":{"Type":"Succeed","OutputPath":"$.p"},
            "Small":{"Type":"Fail","Error":"TooSmall"}}}"#,
        json!({"x": 5}),
    );
    assert_eq!(out, Outcome::Succeeded(json!({"v": 5, "c": 1})));
    assert_eq!(
        fx.types(),
        [
            "ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited",
            "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"
        ]
    );
    assert_eq!(fx.checkpoints.lock().unwrap().len(), 3);
}

#[test]
fn fail_state_reports_error_and_cause() {
    let (out, _) = exec(
        r#"{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","Cause":"c"}}}"#,
        json!({"e": "E"}),
    );
    assert_eq!(out, Outcome::Failed(StateError { error: "E".into(), cause: Some("c".into()) }));
}

#[test]
fn task_retries_then_succeeds_on_the_virtual_clock() {
    let sm = StateMachine::parse(
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
            "Parameters":{"a.$":"$.a"},"ResultSelector":{"n.$":"$.attempt"},
            "Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":10,"MaxAttempts":2}],"End":true}}}"#,
    )
    .unwrap();
    let fx = TestEffects::new();
    *fx.fail_first.lock().unwrap() = 2;
    let out = block_on(run(&sm, &info(&json!({"a": 1})), json!({"a": 1}), None, &fx));
    assert_eq!(out, Outcome::Succeeded(json!({"n": 2})));
    // 10 s then 20 s of backoff.
    assert_eq!(fx.now(), OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(30));
}

#[test]
fn catch_routes_errors_with_result_path() {
    let sm = StateMachine::parse(
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
            "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"D"}],"End":true},
            "D":{"Type":"Pass","End":true}}}"#,
    )
    .unwrap();
    let fx = TestEffects::new();
    *fx.fail_first.lock().unwrap() = 1;
    let out = block_on(run(&sm, &info(&json!({})), json!({}), None, &fx));
    assert_eq!(out, Outcome::Succeeded(json!({"err": {"Error": "Boom", "Cause": "bad"}})));
}

#[test]
fn global_timeout_times_out_a_long_wait() {
    let (out, _) = exec(
        r#"{"TimeoutSeconds":5,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}"#,
        json!({}),
    );
    assert!(matches!(out, Outcome::TimedOut(_)));
}

#[test]
fn resume_starts_at_the_checkpointed_state_with_its_variables() {
    let sm = StateMachine::parse(
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Parameters":{"v.$":"$x"},"End":true}}}"#,
    )
    .unwrap();
    let fx = TestEffects::new();
    let mut vars = Vars::new();
    vars.insert("x".into(), json!(7));
    let cp = Checkpoint { state: "B".into(), input: json!({}), variables: vars };
    let out = block_on(run(&sm, &info(&json!({})), json!({}), Some(cp), &fx));
    assert_eq!(out, Outcome::Succeeded(json!({"v": 7})));
    assert_eq!(fx.types()[0], "PassStateEntered");
}

#[test]
fn map_and_parallel_collect_results_in_order() {
    let (out, _) = exec(
        r#"{"StartAt":"M","States":{
            "M":{"Type":"Map","ItemsPath":"$.xs","ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value"},
                 "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"ResultPath":"$.m","Next":"P"},
            "P":{"Type":"Parallel","Branches":[
                {"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},
                {"StartAt":"B","States":{"B":{"Type":"Pass","OutputPath":"$.m[1].v","End":true}}}],"End":true}}}"#,
        json!({"xs": ["a", "b"]}),
    );
    assert_eq!(out, Outcome::Succeeded(json!([1, "b"])));
}

#[test]
fn missing_output_path_is_a_states_runtime_failure() {
    let (out, _) = exec(
        r#"{"StartAt":"p","States":{"p":{"Type":"Pass","OutputPath":"$.nope","End":true}}}"#,
        json!({}),
    );
    assert_eq!(
        out,
        Outcome::Failed(StateError {
            error: "States.Runtime".into(),
            cause: Some("An error occurred while executing the state 'p' (entered at the event id #2). Invalid path '$.nope' : No results for path: $['nope']".into()),
        })
    );
}

#[test]
fn run_future_is_send_so_runtimes_can_spawn_it() {
    fn assert_send<T: Send>(_: &T) {}
    let sm = StateMachine::parse(r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#).unwrap();
    let fx = TestEffects::new();
    let i = info(&json!({}));
    let fut = run(&sm, &i, json!({}), None, &fx);
    assert_send(&fut);
}
