//! Reading a request body (the rendered mapping template, or a JSON 1.0 call to the local
//! API) into an action's typed input, with the errors AWS's request layer gives before the
//! service sees the call:
//!
//! * not JSON, or a member of the wrong JSON type → `SerializationException` (400) with the
//!   Coral wording (`"NUMBER_VALUE can not be converted to a String"`, `"Start of structure or
//!   map found where not expected."`, …);
//! * a member the action does not have → `SerializationException` (stepgate is strict here so
//!   a misspelt template field fails loudly instead of being dropped);
//! * a missing required member, a length/range violation, or a value outside an enum →
//!   `ValidationException` (400), all violations in one message
//!   (`"1 validation error detected: Value null at 'stateMachineArn' failed to satisfy
//!   constraint: Member must not be null"`).
//!
//! A JSON `null` member counts as absent, as on AWS. Member tables follow the botocore model.
//! Uses [`super::action`], [`super::error`], [`super::model`].

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::action::Action;
use super::error::AwsError;

/// The wire type of one member, with its constraints.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// A string of `min..=max` characters; `sensitive` members never echo their value.
    Str {
        min: usize,
        max: usize,
        sensitive: bool,
    },
    /// A string from a fixed set.
    Enum(&'static [&'static str]),
    /// An integer in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// A nested structure (checked by serde).
    Struct,
    /// A list (checked by serde).
    List,
}

/// One member of an action's input.
#[derive(Clone, Copy, Debug)]
struct Member {
    name: &'static str,
    shape: Shape,
    required: bool,
}

const fn req(name: &'static str, shape: Shape) -> Member {
    Member {
        name,
        shape,
        required: true,
    }
}

const fn opt(name: &'static str, shape: Shape) -> Member {
    Member {
        name,
        shape,
        required: false,
    }
}

const ARN: Shape = Shape::Str {
    min: 1,
    max: 256,
    sensitive: false,
};
const LONG_ARN: Shape = Shape::Str {
    min: 1,
    max: 2000,
    sensitive: false,
};
const NAME: Shape = Shape::Str {
    min: 1,
    max: 80,
    sensitive: false,
};
const DATA: Shape = Shape::Str {
    min: 0,
    max: 262_144,
    sensitive: true,
};
const TRACE_HEADER: Shape = Shape::Str {
    min: 0,
    max: 256,
    sensitive: false,
};
const TASK_TOKEN: Shape = Shape::Str {
    min: 1,
    max: 2048,
    sensitive: false,
};
const ERROR: Shape = Shape::Str {
    min: 0,
    max: 256,
    sensitive: true,
};
const CAUSE: Shape = Shape::Str {
    min: 0,
    max: 32_768,
    sensitive: true,
};
const PAGE_SIZE: Shape = Shape::Int { min: 0, max: 1000 };
const PAGE_TOKEN: Shape = Shape::Str {
    min: 1,
    max: 1024,
    sensitive: false,
};
const LIST_EXECUTIONS_TOKEN: Shape = Shape::Str {
    min: 1,
    max: 3096,
    sensitive: false,
};
const INCLUDED_DATA: Shape = Shape::Enum(&["ALL_DATA", "METADATA_ONLY"]);

const EXECUTION_STATUS: &[&str] = &[
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "TIMED_OUT",
    "ABORTED",
    "PENDING_REDRIVE",
];
const REDRIVE_FILTER: &[&str] = &["REDRIVEN", "NOT_REDRIVEN"];
const STATE_MACHINE_TYPE: &[&str] = &["STANDARD", "EXPRESS"];

fn members(action: Action) -> Vec<Member> {
    use Action::*;
    match action {
        StartExecution => vec![
            req("stateMachineArn", ARN),
            opt("name", NAME),
            opt("input", DATA),
            opt("traceHeader", TRACE_HEADER),
        ],
        StartSyncExecution => vec![
            req("stateMachineArn", ARN),
            opt("name", NAME),
            opt("input", DATA),
            opt("traceHeader", TRACE_HEADER),
            opt("includedData", INCLUDED_DATA),
        ],
        DescribeExecution => vec![req("executionArn", ARN), opt("includedData", INCLUDED_DATA)],
        StopExecution => vec![
            req("executionArn", ARN),
            opt("error", ERROR),
            opt("cause", CAUSE),
        ],
        ListExecutions => vec![
            opt("stateMachineArn", ARN),
            opt("statusFilter", Shape::Enum(EXECUTION_STATUS)),
            opt("maxResults", PAGE_SIZE),
            opt("nextToken", LIST_EXECUTIONS_TOKEN),
            opt("mapRunArn", LONG_ARN),
            opt("redriveFilter", Shape::Enum(REDRIVE_FILTER)),
        ],
        GetExecutionHistory => vec![
            req("executionArn", ARN),
            opt("maxResults", PAGE_SIZE),
            opt("reverseOrder", Shape::Bool),
            opt("nextToken", PAGE_TOKEN),
            opt("includeExecutionData", Shape::Bool),
        ],
        SendTaskSuccess => vec![req("taskToken", TASK_TOKEN), req("output", DATA)],
        SendTaskFailure => vec![
            req("taskToken", TASK_TOKEN),
            opt("error", ERROR),
            opt("cause", CAUSE),
        ],
        SendTaskHeartbeat => vec![req("taskToken", TASK_TOKEN)],
        DescribeStateMachine => vec![
            req("stateMachineArn", ARN),
            opt("includedData", INCLUDED_DATA),
        ],
        ListStateMachines => vec![opt("maxResults", PAGE_SIZE), opt("nextToken", PAGE_TOKEN)],
        CreateStateMachine => vec![
            req("name", NAME),
            req(
                "definition",
                Shape::Str {
                    min: 1,
                    max: 1_048_576,
                    sensitive: true,
                },
            ),
            req("roleArn", ARN),
            opt("type", Shape::Enum(STATE_MACHINE_TYPE)),
            opt("loggingConfiguration", Shape::Struct),
            opt("tags", Shape::List),
            opt("tracingConfiguration", Shape::Struct),
            opt("publish", Shape::Bool),
            opt(
                "versionDescription",
                Shape::Str {
                    min: 0,
                    max: 256,
                    sensitive: true,
                },
            ),
            opt("encryptionConfiguration", Shape::Struct),
        ],
        DeleteStateMachine => vec![req("stateMachineArn", ARN)],
    }
}

/// The Coral name of a JSON value's token, as in `"NUMBER_VALUE can not be converted to a String"`.
fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL_VALUE",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// `SerializationException` message when `v` has the wrong JSON type for `shape`, if it does.
fn type_mismatch(shape: Shape, v: &Value) -> Option<String> {
    let scalar_as = |what: &str| match v {
        Value::Object(_) => "Start of structure or map found where not expected.".to_owned(),
        Value::Array(_) => "Start of list found where not expected.".to_owned(),
        _ => format!("{} can not be converted to {what}", token_name(v)),
    };
    match shape {
        Shape::Str { .. } | Shape::Enum(_) => (!v.is_string()).then(|| scalar_as("a String")),
        Shape::Int { .. } => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => None,
            _ => Some(scalar_as("an Integer")),
        },
        Shape::Bool => (!v.is_boolean()).then(|| scalar_as("a Boolean")),
        Shape::Struct => match v {
            Value::Object(_) => None,
            Value::Array(_) => Some("Start of list found where not expected.".to_owned()),
            _ => Some("Expected null".to_owned()),
        },
        Shape::List => (!v.is_array()).then(|| "Expected list or null".to_owned()),
    }
}

/// Coral's rendering of a value inside a validation message: `'text'`, `5`, or nothing for
/// sensitive members.
fn shown(member: &Member, v: &Value) -> String {
    match (member.shape, v) {
        (
            Shape::Str {
                sensitive: true, ..
            },
            _,
        ) => "Value".to_owned(),
        (_, Value::String(s)) => format!("Value '{s}'"),
        (_, other) => format!("Value '{other}'"),
    }
}

/// The `ValidationException` violations of one present member.
fn violations(member: &Member, v: &Value, out: &mut Vec<String>) {
    let at = |what: String| {
        format!(
            "{} at '{}' failed to satisfy constraint: {what}",
            shown(member, v),
            member.name
        )
    };
    match (member.shape, v) {
        (Shape::Str { min, max, .. }, Value::String(s)) => {
            let len = s.chars().count();
            if len < min {
                out.push(at(format!(
                    "Member must have length greater than or equal to {min}"
                )));
            }
            if len > max {
                out.push(at(format!(
                    "Member must have length less than or equal to {max}"
                )));
            }
        }
        (Shape::Enum(values), Value::String(s)) if !values.contains(&s.as_str()) => {
            out.push(at(format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            )));
        }
        (Shape::Int { min, max }, Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(i64::MAX);
            if n < min {
                out.push(at(format!(
                    "Member must have value greater than or equal to {min}"
                )));
            }
            if n > max {
                out.push(at(format!(
                    "Member must have value less than or equal to {max}"
                )));
            }
        }
        _ => {}
    }
}

/// Parses `body` as the input of `action` (see the module docs for the errors).
/// `T` must be the input type of `action` (e.g. [`super::model::StartExecutionInput`]).
pub fn parse_input<T: DeserializeOwned>(action: Action, body: &[u8]) -> Result<T, AwsError> {
    let object = parse_object(body)?;
    let members = members(action);
    let mut present = Map::new();
    for (key, value) in object {
        let Some(member) = members.iter().find(|m| m.name == key) else {
            return Err(AwsError::serialization(format!(
                "Unrecognized field '{key}' for {action}: expected one of [{}]",
                members
                    .iter()
                    .map(|m| m.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if value.is_null() {
            continue;
        }
        if let Some(msg) = type_mismatch(member.shape, &value) {
            return Err(AwsError::serialization(msg));
        }
        present.insert(key, value);
    }
    let mut problems = Vec::new();
    for member in &members {
        match present.get(member.name) {
            None if member.required => problems.push(format!(
                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                member.name
            )),
            None => {}
            Some(v) => violations(member, v, &mut problems),
        }
    }
    if !problems.is_empty() {
        return Err(AwsError::validation(&problems));
    }
    serde_json::from_value(Value::Object(present))
        .map_err(|e| AwsError::serialization(nested_message(&e)))
}

/// Reads the body as a JSON object; an empty body counts as `{}`.
fn parse_object(body: &[u8]) -> Result<Map<String, Value>, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| AwsError::serialization(syntax_message(&e)))?;
    match value {
        Value::Object(m) => Ok(m),
        Value::Array(_) => Err(AwsError::serialization(
            "Start of list found where not expected.",
        )),
        Value::Null => Ok(Map::new()),
        _ => Err(AwsError::serialization("Expected null")),
    }
}

fn syntax_message(e: &serde_json::Error) -> String {
    format!("Unable to parse the request body as JSON: {e}")
}

/// Errors inside nested structures (loggingConfiguration, tags, …): serde's text, which
/// names the field and what it expected.
fn nested_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.split_once(" at line ") {
        Some((what, _)) => what.to_owned(),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::Strategy;

    use super::*;
    use crate::sfn::model::*;

    fn err<T: DeserializeOwned + std::fmt::Debug>(action: Action, body: &str) -> AwsError {
        parse_input::<T>(action, body.as_bytes()).unwrap_err()
    }

    #[test]
    fn enum_tables_match_the_model() {
        let names = |all: &[&str]| all.join(",");
        let of = |v: Vec<&'static str>| v.join(",");
        assert_eq!(
            names(EXECUTION_STATUS),
            of(ExecutionStatus::ALL.iter().map(|v| v.as_str()).collect())
        );
        assert_eq!(
            names(REDRIVE_FILTER),
            of(ExecutionRedriveFilter::ALL
                .iter()
                .map(|v| v.as_str())
                .collect())
        );
        assert_eq!(
            names(STATE_MACHINE_TYPE),
            of(StateMachineType::ALL.iter().map(|v| v.as_str()).collect())
        );
        let included = IncludedData::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>();
        assert!(matches!(INCLUDED_DATA, Shape::Enum(v) if v == included.as_slice()));
    }

    #[test]
    fn a_rendered_start_execution_body_parses() {
        let body = r#"{"input": "{\"a\":\"it's\"}", "name": "r-1", "stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:s"}"#;
        let input: StartExecutionInput =
            parse_input(Action::StartExecution, body.as_bytes()).unwrap();
        assert_eq!(input.name.as_deref(), Some("r-1"));
        assert_eq!(input.input.as_deref(), Some(r#"{"a":"it's"}"#));
    }

    #[test]
    fn missing_required_members_are_validation_errors() {
        let e = err::<StartExecutionInput>(Action::StartExecution, r#"{"input": "{}"}"#);
        assert_eq!((e.type_.as_str(), e.status), ("ValidationException", 400));
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"
        );
        let e = err::<SendTaskSuccessInput>(Action::SendTaskSuccess, "");
        assert!(
            e.message.starts_with("2 validation errors detected: "),
            "{}",
            e.message
        );
        let e = err::<StartExecutionInput>(Action::StartExecution, r#"{"stateMachineArn": null}"#);
        assert_eq!(e.type_, "ValidationException");
    }

    #[test]
    fn ill_typed_members_are_serialization_errors() {
        for (body, msg) in [
            (
                r#"{"stateMachineArn": 5}"#,
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                r#"{"stateMachineArn": "a", "input": {"a": 1}}"#,
                "Start of structure or map found where not expected.",
            ),
            (
                r#"{"stateMachineArn": true}"#,
                "TRUE_VALUE can not be converted to a String",
            ),
            (
                r#"{"stateMachineArn": ["a"]}"#,
                "Start of list found where not expected.",
            ),
        ] {
            let e = err::<StartExecutionInput>(Action::StartExecution, body);
            assert_eq!(
                (e.type_.as_str(), e.message.as_str(), e.status),
                ("SerializationException", msg, 400)
            );
        }
        let e = err::<ListExecutionsInput>(Action::ListExecutions, r#"{"maxResults": "10"}"#);
        assert_eq!(e.message, "STRING_VALUE can not be converted to an Integer");
        let e = err::<CreateStateMachineInput>(
            Action::CreateStateMachine,
            r#"{"name":"n","definition":"{}","roleArn":"r","tags":"x"}"#,
        );
        assert_eq!(e.message, "Expected list or null");
    }

    #[test]
    fn unknown_members_and_non_json_bodies_are_serialization_errors() {
        let e = err::<StartExecutionInput>(
            Action::StartExecution,
            r#"{"stateMachineArn":"a","nmae":"x"}"#,
        );
        assert_eq!(e.type_, "SerializationException");
        assert!(e.message.contains("'nmae'"), "{}", e.message);
        let e = err::<StartExecutionInput>(Action::StartExecution, "{not json");
        assert_eq!(e.type_, "SerializationException");
        let e = err::<StartExecutionInput>(Action::StartExecution, "[1]");
        assert_eq!(e.message, "Start of list found where not expected.");
    }

    #[test]
    fn enum_and_range_violations_use_coral_wording() {
        let e =
            err::<ListExecutionsInput>(Action::ListExecutions, r#"{"statusFilter": "succeeded"}"#);
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"
        );
        let e = err::<ListExecutionsInput>(Action::ListExecutions, r#"{"maxResults": 1001}"#);
        assert!(
            e.message
                .ends_with("Member must have value less than or equal to 1000"),
            "{}",
            e.message
        );
        let e = err::<StartExecutionInput>(
            Action::StartExecution,
            &format!(r#"{{"stateMachineArn":"a","name":"{}"}}"#, "n".repeat(81)),
        );
        assert!(
            e.message
                .ends_with("Member must have length less than or equal to 80"),
            "{}",
            e.message
        );
        let e = err::<StartExecutionInput>(Action::StartExecution, r#"{"stateMachineArn":""}"#);
        assert!(
            e.message.contains("Value '' at 'stateMachineArn'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn sensitive_values_are_not_echoed() {
        let big = "x".repeat(262_145);
        let body = serde_json::json!({"stateMachineArn": "a", "input": big}).to_string();
        let e = err::<StartExecutionInput>(Action::StartExecution, &body);
        assert_eq!(
            e.message,
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144"
        );
    }

    #[test]
    fn nested_structures_are_typed() {
        let ok: CreateStateMachineInput = parse_input(
            Action::CreateStateMachine,
            br#"{"name":"n","definition":"{}","roleArn":"r","type":"EXPRESS","tags":[{"key":"k","value":"v"}],"loggingConfiguration":{"level":"ERROR"}}"#,
        )
        .unwrap();
        assert_eq!(ok.type_, Some(StateMachineType::Express));
        let e = err::<CreateStateMachineInput>(
            Action::CreateStateMachine,
            r#"{"name":"n","definition":"{}","roleArn":"r","tracingConfiguration":{"enabled":"yes"}}"#,
        );
        assert_eq!(e.type_, "SerializationException");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            for action in Action::ALL {
                let _ = parse_input::<serde_json::Value>(action, &body);
            }
        }

        #[test]
        fn arbitrary_json_members_never_panic(
            key in "(stateMachineArn|name|input|maxResults|statusFilter|tags|type|x)",
            value in proptest::prelude::prop_oneof![
                proptest::prelude::Just(serde_json::json!(null)),
                proptest::num::i64::ANY.prop_map(serde_json::Value::from),
                proptest::num::f64::NORMAL.prop_map(serde_json::Value::from),
                ".{0,90}".prop_map(serde_json::Value::from),
                proptest::prelude::Just(serde_json::json!({"a": [1]})),
                proptest::prelude::Just(serde_json::json!([true])),
            ],
        ) {
            let body = serde_json::json!({ key: value }).to_string();
            for action in Action::ALL {
                if let Err(e) = parse_input::<serde_json::Value>(action, body.as_bytes()) {
                    proptest::prop_assert_eq!(e.status, 400);
                    proptest::prop_assert!(
                        e.type_ == "ValidationException" || e.type_ == "SerializationException",
                        "{}", e
                    );
                }
            }
        }
    }
}
