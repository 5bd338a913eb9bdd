//! Amazon States Language: the definition model, its parser (JSON or YAML text) and its
//! validation with AWS's `InvalidDefinition` messages. Paths, intrinsic calls, payload
//! templates and JSONata expressions are compiled here, once, so the interpreter
//! (`engine::exec`) never re-parses. Depends on nothing outside `engine` but
//! serde_json/serde-saphyr.
//!
//! What a definition may use:
//! - every state type (Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map with
//!   `ItemProcessor` or legacy `Iterator`, `ItemsPath`/`Items`, `ItemSelector`/`Parameters`,
//!   `MaxConcurrency(Path)`, `ToleratedFailureCount/Percentage(Path)`, `ItemBatcher`);
//! - JSONPath mode: `InputPath`, `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath`,
//!   `.$` keys, `$$` context paths, `$var` variables, `Assign`, the 18 intrinsic functions
//!   ([`intrinsic`]); paths follow Jayway ([`path`]);
//! - JSONata mode (`QueryLanguage: "JSONata"`, top level or per state): `Arguments`,
//!   `Output`, `Assign`, `Condition`, `Items`, expression-valued `Seconds`, `Timestamp`,
//!   `Error`, `Cause`, `MaxConcurrency`, ... over the JSONata subset in [`jsonata`];
//! - `Retry` (`IntervalSeconds`, `MaxAttempts`, `BackoffRate`, `MaxDelaySeconds`,
//!   `JitterStrategy`) and `Catch` (`ResultPath`, `Assign`, `Output`).
//!
//! Load-time problems are reported together, each as `CODE: message at /pointer`
//! (`SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET` for unknown targets and
//! unreachable states). [`StateMachine::validate`] adds the EXPRESS restrictions.
//!
//! ```
//! use stepgate::engine::asl::{StateMachine, StateMachineType};
//! let sm = StateMachine::parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#).unwrap();
//! sm.validate(StateMachineType::Express).unwrap();
//! let err = StateMachine::parse(r#"{"StartAt":"A"}"#).unwrap_err();
//! assert_eq!(err.to_string(),
//!     "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'");
//! ```

pub mod intrinsic;
pub mod jsonata;
pub mod model;
mod parse;
pub mod path;

pub use model::*;
use serde_json::Value;
use std::fmt;

/// `STANDARD` or `EXPRESS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateMachineType {
    Standard,
    Express,
}

/// AWS's `InvalidDefinition` error: one or more problems, each `CODE: message at /pointer`.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidDefinition {
    pub problems: Vec<String>,
}

impl InvalidDefinition {
    /// The AWS error type (`__type`).
    pub const ERROR_TYPE: &'static str = "InvalidDefinition";
}

impl fmt::Display for InvalidDefinition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Invalid State Machine Definition: '{}'",
            self.problems.join(", ")
        )
    }
}

impl std::error::Error for InvalidDefinition {}

impl StateMachine {
    /// Parses definition text: JSON, or YAML when it is not JSON.
    pub fn parse(text: &str) -> Result<StateMachine, InvalidDefinition> {
        let trimmed = text.trim_start();
        let value: Value = if trimmed.starts_with('{') {
            serde_json::from_str(text).map_err(|e| InvalidDefinition {
                problems: vec![format!("INVALID_JSON_DESCRIPTION: {e}")],
            })?
        } else {
            serde_saphyr::from_str(text).map_err(|e| InvalidDefinition {
                problems: vec![format!("INVALID_JSON_DESCRIPTION: {e}")],
            })?
        };
        Self::from_value(&value)
    }

    /// Builds a machine from an already parsed definition.
    pub fn from_value(def: &Value) -> Result<StateMachine, InvalidDefinition> {
        let mut cx = parse::Cx {
            errors: Vec::new(),
            state_at: String::new(),
        };
        match cx.machine(def) {
            Some(sm) if cx.errors.is_empty() => Ok(sm),
            _ => {
                if cx.errors.is_empty() {
                    cx.errors.push("SCHEMA_VALIDATION_FAILED at /".into());
                }
                Err(InvalidDefinition {
                    problems: cx.errors,
                })
            }
        }
    }

    /// Checks the restrictions of a machine type: EXPRESS machines reject `.sync`,
    /// `.waitForTaskToken` and activities.
    pub fn validate(&self, ty: StateMachineType) -> Result<(), InvalidDefinition> {
        if ty == StateMachineType::Standard {
            return Ok(());
        }
        let mut problems = Vec::new();
        express_check(&self.program, "", &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidDefinition { problems })
        }
    }

    /// Every Task resource in the machine, nested ones included.
    pub fn task_resources(&self) -> Vec<&str> {
        fn walk<'a>(p: &'a Program, out: &mut Vec<&'a str>) {
            for s in &p.states {
                match &s.kind {
                    StateKind::Task(t) => out.push(&t.resource),
                    StateKind::Parallel { branches } => branches.iter().for_each(|b| walk(b, out)),
                    StateKind::Map(m) => walk(&m.processor, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.program, &mut out);
        out
    }
}

fn express_check(p: &Program, at: &str, problems: &mut Vec<String>) {
    for s in &p.states {
        let sat = format!("{at}/States/{}", s.name);
        match &s.kind {
            StateKind::Task(t) => {
                let r = &t.resource;
                let what = if r.ends_with(".sync") || r.contains(".sync:") {
                    Some("'.sync' service integration")
                } else if r.ends_with(".waitForTaskToken") {
                    Some("'.waitForTaskToken' service integration")
                } else if r.contains(":activity:") {
                    Some("Activities")
                } else {
                    None
                };
                if let Some(what) = what {
                    problems.push(format!(
                        "SCHEMA_VALIDATION_FAILED: Express state machine does not support {what} at {sat}/Resource"
                    ));
                }
            }
            StateKind::Parallel { branches } => {
                for (i, b) in branches.iter().enumerate() {
                    express_check(b, &format!("{sat}/Branches/{i}"), problems);
                }
            }
            StateKind::Map(m) => {
                express_check(&m.processor, &format!("{sat}/ItemProcessor"), problems)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_definitions_parse() {
        let sm = StateMachine::parse("StartAt: A\nStates:\n  A:\n    Type: Succeed\n").unwrap();
        assert_eq!(sm.program.states.len(), 1);
    }

    #[test]
    fn unknown_fields_and_missing_targets_are_reported_with_pointers() {
        let err = StateMachine::parse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Nxt":"B","Next":"C"}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field \"Nxt\" is not supported by Step Functions at /States/A, MISSING_TRANSITION_TARGET: Missing 'Next' target: C at /States/A/Next'"
        );
    }

    #[test]
    fn schema_problems_name_the_field_and_pointer() {
        let cases = [
            (
                r#"{"StartAt":"A","States":{"A":{"End":true}}}"#,
                "SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at /States/A",
            ),
            (
                r#"{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}"#,
                "at /States/A/Type",
            ),
            (
                r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}"#,
                "The fields 'Next' and 'End' are mutually exclusive at /States/A",
            ),
            (
                r#"{"StartAt":"A","States":{"A":{"Type":"Pass"}}}"#,
                "These fields are required: [Next or End] at /States/A",
            ),
            (
                r#"{"StartAt":"B","States":{"A":{"Type":"Pass","End":true}}}"#,
                "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /StartAt",
            ),
            (
                r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{"ErrorEquals":["States.ALL","X"]}],"End":true}}}"#,
                "States.ALL must appear alone in ErrorEquals at /States/A/Retry/0/ErrorEquals",
            ),
            (
                r#"{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":-1,"End":true}}}"#,
                "at /States/A/Seconds",
            ),
            (
                r#"{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"1","Next":"A"}]}}}"#,
                "at /States/A/Choices/0/NumericEquals",
            ),
            (
                r#"{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"nope","End":true}}}"#,
                "at /States/A/InputPath",
            ),
            (
                r#"{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$$.x","End":true}}}"#,
                "at /States/A/ResultPath",
            ),
            (
                r#"{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% 1 + %}","End":true}}}"#,
                "at /States/A/Output",
            ),
            (
                r#"{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$","End":true}}}"#,
                "not supported by Step Functions when QueryLanguage is JSONata at /States/A",
            ),
            ("StartAt: [", "INVALID_JSON_DESCRIPTION"),
        ];
        for (def, want) in cases {
            let err = StateMachine::parse(def).expect_err(def).to_string();
            assert!(
                err.starts_with("Invalid State Machine Definition: '"),
                "{err}"
            );
            assert!(err.contains(want), "{def}\n  got: {err}\n  want: {want}");
        }
    }

    #[test]
    fn state_names_are_unique_across_branches() {
        let err = StateMachine::parse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}],"End":true}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid State Machine Definition: 'DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A/Branches/0/States/A'"
        );
    }

    #[test]
    fn unreachable_states_are_rejected_as_aws_does() {
        let err = StateMachine::parse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Pass","End":true}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: State \"B\" is not reachable. at /States/B'"
        );
    }

    #[test]
    fn express_rejects_sync_and_callbacks() {
        let sm = StateMachine::parse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync","End":true}}}"#,
        )
        .unwrap();
        assert!(sm.validate(StateMachineType::Standard).is_ok());
        assert_eq!(
            sm.validate(StateMachineType::Express)
                .unwrap_err()
                .to_string(),
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/A/Resource'"
        );
    }

    #[test]
    fn bad_paths_and_intrinsics_fail_at_load() {
        let e = StateMachine::parse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("at /States/A/Parameters/x.$"), "{e}");
    }
}

#[cfg(test)]
mod fuzz {
    //! Bad input never panics: random path, intrinsic, JSONata and definition texts.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn paths_never_panic(s in "[$@.\\[\\]()?*'\"a-z0-9:,=<>!&| -]{0,40}") {
            if let Ok(p) = path::JsonPath::parse(&s) {
                let _ = p.select(&serde_json::json!({"a": [1, {"b": 2}], "c": "x"}));
                let _ = p.assign(serde_json::json!({"a": [1]}), serde_json::json!(1));
            }
        }

        #[test]
        fn intrinsics_never_panic(s in "States\\.[A-Za-z]{0,12}\\([$.a-z0-9', ()\\\\{}-]{0,30}\\)?") {
            let _ = intrinsic::Intrinsic::parse(&s);
        }

        #[test]
        fn jsonata_never_panics(s in "[$a-z0-9.()\\[\\]{}:;,'\"+*/%=<>!&?~ -]{0,40}") {
            let _ = jsonata::Expr::parse(&s, "Output");
        }

        #[test]
        fn definitions_never_panic(
            ty in prop::sample::select(vec!["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "Nope"]),
            field in prop::sample::select(vec!["Next", "End", "Seconds", "Choices", "Branches", "ItemProcessor", "Resource", "Result", "Parameters", "ResultPath"]),
            value in prop::sample::select(vec!["1", "-1", "null", "\"$.x\"", "\"A\"", "[]", "{}", "true", "[{}]", "{\"StartAt\":\"A\",\"States\":{}}"]),
        ) {
            let def = format!(r#"{{"StartAt":"A","States":{{"A":{{"Type":"{ty}","{field}":{value}}}}}}}"#);
            let _ = StateMachine::parse(&def).map(|sm| sm.validate(StateMachineType::Express));
        }
    }
}
