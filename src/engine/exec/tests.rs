//! Interpreter tests over an in-memory [`Effects`] with a virtual clock.

use super::*;
use crate::engine::effects::{Checkpoint, HistoryEvent, TaskRequest};
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
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.event_type.clone())
            .collect()
    }
}

#[async_trait::async_trait]
impl Effects for TestEffects {
    async fn invoke_task(&self, request: TaskRequest) -> Result<Value, StateError> {
        let mut n = self.fail_first.lock().unwrap();
        if *n > 0 {
            *n -= 1;
            return Err(StateError {
                error: "Boom".into(),
                cause: Some("bad".into()),
            });
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
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
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
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
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
    assert_eq!(
        out,
        Outcome::Failed(StateError {
            error: "E".into(),
            cause: Some("c".into())
        })
    );
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
    let out = block_on(run(
        &sm,
        &info(&json!({"a": 1})),
        json!({"a": 1}),
        None,
        &fx,
    ));
    assert_eq!(out, Outcome::Succeeded(json!({"n": 2})));
    // 10 s then 20 s of backoff.
    assert_eq!(
        fx.now(),
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(30)
    );
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
    assert_eq!(
        out,
        Outcome::Succeeded(json!({"err": {"Error": "Boom", "Cause": "bad"}}))
    );
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
    let cp = Checkpoint {
        state: "B".into(),
        input: json!({}),
        variables: vars,
    };
    let out = block_on(run(
        &sm,
        &info(&json!({})),
        json!({}),
        Some(Resume::at(cp)),
        &fx,
    ));
    assert_eq!(out, Outcome::Succeeded(json!({"v": 7})));
    assert_eq!(fx.types()[0], "PassStateEntered");
}

#[test]
fn resume_in_an_entered_state_does_not_enter_it_again() {
    let sm = StateMachine::parse(
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
            "B":{"Type":"Pass","Parameters":{"id.$":"$$.State.EnteredTime"},"OutputPath":"$.nope","End":true}}}"#,
    )
    .unwrap();
    let fx = TestEffects::new();
    let entered_at = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(5);
    let resume = Resume {
        checkpoint: Checkpoint {
            state: "B".into(),
            input: json!({}),
            variables: Vars::new(),
        },
        recorded_events: 4,
        entered: Some((4, entered_at)),
    };
    let out = block_on(run(&sm, &info(&json!({})), json!({}), Some(resume), &fx));
    // No second BStateEntered; the cause quotes the original entry's event id.
    assert_eq!(fx.types(), ["ExecutionFailed"]);
    match out {
        Outcome::Failed(e) => assert!(
            e.cause
                .as_deref()
                .unwrap_or_default()
                .contains("(entered at the event id #4)"),
            "{e:?}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn resume_before_entering_numbers_events_after_the_kept_history() {
    let sm = StateMachine::parse(
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","OutputPath":"$.nope","End":true}}}"#,
    )
    .unwrap();
    let fx = TestEffects::new();
    let resume = Resume {
        checkpoint: Checkpoint {
            state: "A".into(),
            input: json!({}),
            variables: Vars::new(),
        },
        recorded_events: 1,
        entered: None,
    };
    let out = block_on(run(&sm, &info(&json!({})), json!({}), Some(resume), &fx));
    assert_eq!(fx.types(), ["PassStateEntered", "ExecutionFailed"]);
    match out {
        Outcome::Failed(e) => assert!(
            e.cause
                .as_deref()
                .unwrap_or_default()
                .contains("(entered at the event id #2)"),
            "{e:?}"
        ),
        other => panic!("{other:?}"),
    }
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

#[test]
fn map_runs_iterations_concurrently_up_to_max_concurrency() {
    // Two items that each wait 10 s: concurrently they finish at +10 s, one at a time at +20 s.
    let def = |mc: u32| {
        format!(
            r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map","MaxConcurrency":{mc},
                "ItemProcessor":{{"StartAt":"W","States":{{"W":{{"Type":"Wait","Seconds":10,"End":true}}}}}},"End":true}}}}}}"#
        )
    };
    for (mc, secs) in [(0, 10), (1, 20), (2, 10)] {
        let sm = StateMachine::parse(&def(mc)).unwrap();
        let fx = VirtualClock::new();
        let i = info(&json!([1, 2]));
        let out = fx.drive(run(&sm, &i, json!([1, 2]), None, &fx));
        assert_eq!(
            out,
            Outcome::Succeeded(json!([1, 2])),
            "MaxConcurrency {mc}"
        );
        assert_eq!(
            fx.now(),
            OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(secs),
            "MaxConcurrency {mc}"
        );
    }
}

#[test]
fn map_tolerates_failures_up_to_the_threshold() {
    let def = |count: u32| {
        format!(
            r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map","ToleratedFailureCount":{count},
                "ItemProcessor":{{"StartAt":"C","States":{{
                    "C":{{"Type":"Choice","Choices":[{{"Variable":"$","NumericGreaterThan":1,"Next":"F"}}],"Default":"P"}},
                    "F":{{"Type":"Fail","Error":"Big","Cause":"too big"}},
                    "P":{{"Type":"Pass","End":true}}}}}},"End":true}}}}}}"#
        )
    };
    let (out, _) = exec(&def(2), json!([1, 2, 3]));
    assert_eq!(
        out,
        Outcome::Succeeded(
            json!([1, {"Error": "Big", "Cause": "too big"}, {"Error": "Big", "Cause": "too big"}])
        )
    );
    let (out, _) = exec(&def(1), json!([1, 2, 3]));
    assert!(
        matches!(out, Outcome::Failed(e) if e.error == "States.ExceedToleratedFailureThreshold")
    );
    let (out, _) = exec(&def(0), json!([1, 2, 3]));
    assert_eq!(
        out,
        Outcome::Failed(StateError {
            error: "Big".into(),
            cause: Some("too big".into())
        })
    );
}

#[test]
fn extreme_values_fail_cleanly_instead_of_panicking() {
    for (def, input) in [
        (
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#,
            json!({"s": u64::MAX}),
        ),
        (
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.ArrayRange(0, 9223372036854775807, 4611686018427387904)"},"End":true}}}"#,
            json!({}),
        ),
        (
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.MathAdd($.a, $.a)"},"End":true}}}"#,
            json!({"a": 1e300}),
        ),
        (
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.ArrayPartition($.a, 0)"},"End":true}}}"#,
            json!({"a": [1]}),
        ),
        (
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.Base64Decode($.a)"},"End":true}}}"#,
            json!({"a": "%%%"}),
        ),
        (
            r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% [1..99999999999] %}","End":true}}}"#,
            json!({}),
        ),
        (
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.a","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#,
            json!({"a": 5}),
        ),
    ] {
        let (out, _) = exec(def, input);
        assert!(!matches!(out, Outcome::TimedOut(_)), "{def}");
    }
}

/// Effects whose sleepers wake in virtual-time order, so concurrent waits overlap.
struct VirtualClock {
    inner: TestEffects,
    sleepers: Mutex<Vec<OffsetDateTime>>,
}

impl VirtualClock {
    fn new() -> Self {
        VirtualClock {
            inner: TestEffects::new(),
            sleepers: Mutex::new(Vec::new()),
        }
    }

    /// Polls `f` until it is done; whenever it is stuck, jumps the clock to the earliest
    /// wake-up time asked for (a tiny discrete-event scheduler).
    fn drive<F: std::future::Future>(&self, f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            let next = self.sleepers.lock().unwrap().drain(..).min();
            let next = next.expect("the execution is stuck with nothing asleep");
            *self.inner.now.lock().unwrap() = next;
        }
    }
}

#[async_trait::async_trait]
impl Effects for VirtualClock {
    async fn invoke_task(&self, request: TaskRequest) -> Result<Value, StateError> {
        self.inner.invoke_task(request).await
    }
    async fn sleep_until(&self, until: OffsetDateTime) {
        // Parks until `drive` moves the clock past `until`.
        std::future::poll_fn(|_| {
            if until <= self.now() {
                return std::task::Poll::Ready(());
            }
            self.sleepers.lock().unwrap().push(until);
            std::task::Poll::Pending
        })
        .await
    }
    fn now(&self) -> OffsetDateTime {
        self.inner.now()
    }
    fn record(&self, event: HistoryEvent) {
        self.inner.record(event)
    }
    fn checkpoint(&self, checkpoint: &Checkpoint) {
        self.inner.checkpoint(checkpoint)
    }
}

#[test]
fn choice_on_a_missing_variable_is_a_runtime_error() {
    let (out, _) = exec(
        r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":1,"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}"#,
        json!({}),
    );
    assert_eq!(
        out,
        Outcome::Failed(StateError {
            error: "States.Runtime".into(),
            cause: Some("An error occurred while executing the state 'C' (entered at the event id #2). Invalid path '$.x': The choice state's condition path references an invalid value.".into()),
        })
    );
}

#[test]
fn item_batcher_groups_items_and_item_reader_is_reported() {
    let (out, _) = exec(
        r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"k":1}},
            "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#,
        json!([1, 2, 3]),
    );
    assert_eq!(
        out,
        Outcome::Succeeded(
            json!([{"Items": [1, 2], "BatchInput": {"k": 1}}, {"Items": [3], "BatchInput": {"k": 1}}])
        )
    );
    let (out, _) = exec(
        r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}},
            "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#,
        json!([]),
    );
    assert!(
        matches!(out, Outcome::Failed(e) if e.error == "States.Runtime" && e.cause.as_deref().is_some_and(|c| c.contains("'ItemReader'")))
    );
}

mod fuzz {
    //! Random data-flow fields over random inputs: every run ends in an `Outcome`.
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z{}\\\\ ]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn data_flow_never_panics(
            input in json_value(),
            path in prop::sample::select(vec!["$", "$.a", "$.a[0]", "$.b.c", "$..a", "$.a[*]", "$.a[1:]", "$$.Execution.Input.a", "$[-1]", "$.a[?(@.b > 1)]"]),
            call in prop::sample::select(vec![
                "States.Format('{} {}', $.a, $.b)", "States.StringToJson($.a)", "States.JsonToString($)",
                "States.ArrayPartition($.a, $.b)", "States.ArrayRange($.a, $.b, $.c)", "States.ArrayGetItem($.a, $.b)",
                "States.ArrayUnique($.a)", "States.Base64Decode($.a)", "States.Hash($.a, 'MD5')",
                "States.JsonMerge($.a, $.b, false)", "States.MathAdd($.a, $.b)", "States.StringSplit($.a, $.b)",
                "States.MathRandom($.a, $.b)", "States.ArrayContains($.a, $.b)", "States.ArrayLength($.c)",
            ]),
            result_path in prop::sample::select(vec!["$", "$.a", "$.a.b", "$.x[0]", "null"]),
            choice in prop::sample::select(vec!["NumericEquals\":1", "StringMatches\":\"*a*\"", "IsPresent\":true", "TimestampLessThan\":\"2020-01-01T00:00:00Z\"", "BooleanEqualsPath\":\"$.b\""]),
        ) {
            let rp = if result_path == "null" { "null".to_string() } else { format!("\"{result_path}\"") };
            let def = format!(
                r#"{{"StartAt":"P","States":{{
                    "P":{{"Type":"Pass","Parameters":{{"p.$":"{path}","f.$":"{call}"}},"ResultPath":{rp},"Next":"C"}},
                    "C":{{"Type":"Choice","Choices":[{{"Variable":"{path}","{choice},"Next":"M"}}],"Default":"M"}},
                    "M":{{"Type":"Map","ItemsPath":"$.a","ItemProcessor":{{"StartAt":"I","States":{{"I":{{"Type":"Pass","End":true}}}}}},"End":true}}}}}}"#
            );
            let sm = StateMachine::parse(&def).map_err(|e| TestCaseError::fail(format!("{def}: {e}")))?;
            let fx = TestEffects::new();
            let out = block_on(run(&sm, &info(&input), input.clone(), None, &fx));
            // No TimeoutSeconds anywhere: every run ends succeeded or failed, and a failure
            // names a States.* error.
            match out {
                Outcome::Succeeded(_) => {}
                Outcome::Failed(e) => prop_assert!(e.error.starts_with("States."), "{e:?}"),
                Outcome::TimedOut(e) => prop_assert!(false, "timed out: {e:?}"),
            }
        }
    }
}
