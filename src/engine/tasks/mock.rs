//! Mocked Task responses in the AWS Step Functions Local mock-config format:
//!
//! ```json
//! {"StateMachines": {"Orders": {"TestCases": {"HappyPath": {"Charge": "ChargeOk"}}}},
//!  "MockedResponses": {"ChargeOk": {"0": {"Throw": {"Error": "Busy", "Cause": "try again"}},
//!                                   "1-2": {"Return": {"charged": true}}}}}
//! ```
//!
//! Keys of a mocked response are invocation numbers (0 = first) or inclusive ranges,
//! contiguous from 0; past the last one the last answer repeats.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::Error;
use crate::engine::effects::StateError;

/// A loaded mock configuration.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// state machine name → test case → state name → mocked response name
    state_machines: HashMap<String, HashMap<String, HashMap<String, String>>>,
    /// mocked response name → answers by invocation range
    responses: HashMap<String, Vec<(u32, u32, Answer)>>,
}

#[derive(Debug, Clone)]
enum Answer {
    Return(Value),
    Throw(StateError),
}

impl MockConfig {
    /// Reads and validates a mock-config file.
    pub fn load(path: &Path) -> Result<MockConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::MockConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        MockConfig::parse(&text).map_err(|message| Error::MockConfigInvalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses mock-config JSON text; the error says where it is wrong.
    pub fn parse(text: &str) -> Result<MockConfig, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut config = MockConfig::default();
        let machines = root.get("StateMachines").and_then(Value::as_object);
        for (machine, body) in machines.into_iter().flatten() {
            let cases = body
                .get("TestCases")
                .and_then(Value::as_object)
                .ok_or_else(|| format!("/StateMachines/{machine}: expected an object TestCases"))?;
            let mut by_case = HashMap::new();
            for (case, states) in cases {
                let states = states.as_object().ok_or_else(|| {
                    format!("/StateMachines/{machine}/TestCases/{case}: expected an object")
                })?;
                let mut by_state = HashMap::new();
                for (state, response) in states {
                    let response = response.as_str().ok_or_else(|| {
                        format!("/StateMachines/{machine}/TestCases/{case}/{state}: expected a mocked response name")
                    })?;
                    by_state.insert(state.clone(), response.to_string());
                }
                by_case.insert(case.clone(), by_state);
            }
            config.state_machines.insert(machine.clone(), by_case);
        }
        let responses = root.get("MockedResponses").and_then(Value::as_object);
        for (name, attempts) in responses.into_iter().flatten() {
            let attempts = attempts
                .as_object()
                .ok_or_else(|| format!("/MockedResponses/{name}: expected an object"))?;
            let mut ranges = Vec::new();
            for (key, answer) in attempts {
                let at = format!("/MockedResponses/{name}/{key}");
                let (from, to) = parse_range(key).ok_or_else(|| {
                    format!("{at}: expected an invocation number or range like \"1-3\"")
                })?;
                ranges.push((
                    from,
                    to,
                    parse_answer(answer).map_err(|m| format!("{at}: {m}"))?,
                ));
            }
            ranges.sort_by_key(|(from, _, _)| *from);
            let mut expected = 0;
            for (from, to, _) in &ranges {
                if *from != expected {
                    return Err(format!(
                        "/MockedResponses/{name}: invocation {expected} has no response (keys must be contiguous from 0)"
                    ));
                }
                expected = to + 1;
            }
            config.responses.insert(name.clone(), ranges);
        }
        for (machine, cases) in &config.state_machines {
            for (case, states) in cases {
                for (state, response) in states {
                    if !config.responses.contains_key(response) {
                        return Err(format!(
                            "/StateMachines/{machine}/TestCases/{case}/{state}: mocked response '{response}' is not defined in MockedResponses"
                        ));
                    }
                }
            }
        }
        Ok(config)
    }

    /// Whether `state_machine` has a test case called `case`.
    pub fn has_test_case(&self, state_machine: &str, case: &str) -> bool {
        self.state_machines
            .get(state_machine)
            .is_some_and(|cases| cases.contains_key(case))
    }

    /// The mocked answer for a state's `invocation`-th call, if the test case mocks it.
    pub fn response(
        &self,
        state_machine: &str,
        case: &str,
        state: &str,
        invocation: u32,
    ) -> Option<Result<Value, StateError>> {
        let name = self
            .state_machines
            .get(state_machine)?
            .get(case)?
            .get(state)?;
        let ranges = self.responses.get(name)?;
        let (_, _, answer) = ranges
            .iter()
            .find(|(from, to, _)| (*from..=*to).contains(&invocation))
            .or_else(|| ranges.last())?;
        Some(match answer {
            Answer::Return(v) => Ok(v.clone()),
            Answer::Throw(e) => Err(e.clone()),
        })
    }
}

fn parse_range(key: &str) -> Option<(u32, u32)> {
    match key.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => {
            let n = key.trim().parse().ok()?;
            Some((n, n))
        }
    }
}

fn parse_answer(answer: &Value) -> Result<Answer, String> {
    if let Some(v) = answer.get("Return") {
        return Ok(Answer::Return(v.clone()));
    }
    if let Some(t) = answer.get("Throw") {
        let error = t
            .get("Error")
            .and_then(Value::as_str)
            .ok_or("Throw needs a string Error")?;
        return Ok(Answer::Throw(StateError {
            error: error.to_string(),
            cause: t.get("Cause").and_then(Value::as_str).map(str::to_string),
        }));
    }
    Err("expected {\"Return\": ...} or {\"Throw\": {\"Error\", \"Cause\"}}".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CONFIG: &str = r#"{
      "StateMachines": {"Orders": {"TestCases": {"Retry": {"Charge": "Flaky"}}}},
      "MockedResponses": {"Flaky": {
        "0": {"Throw": {"Error": "Busy", "Cause": "try again"}},
        "1-2": {"Return": {"charged": true}}}}}"#;

    #[test]
    fn answers_follow_invocation_ranges() {
        let m = MockConfig::parse(CONFIG).unwrap();
        let first = m
            .response("Orders", "Retry", "Charge", 0)
            .unwrap()
            .unwrap_err();
        assert_eq!(
            first,
            StateError {
                error: "Busy".into(),
                cause: Some("try again".into())
            }
        );
        assert_eq!(
            m.response("Orders", "Retry", "Charge", 2).unwrap().unwrap(),
            json!({"charged": true})
        );
        assert_eq!(
            m.response("Orders", "Retry", "Charge", 9).unwrap().unwrap(),
            json!({"charged": true})
        );
        assert!(m.response("Orders", "Retry", "Ship", 0).is_none());
        assert!(m.has_test_case("Orders", "Retry"));
        assert!(!m.has_test_case("Orders", "Other"));
    }

    #[test]
    fn gaps_and_unknown_responses_are_rejected() {
        let gap = r#"{"MockedResponses": {"R": {"0": {"Return": 1}, "2": {"Return": 2}}}}"#;
        assert!(
            MockConfig::parse(gap)
                .unwrap_err()
                .contains("invocation 1 has no response")
        );
        let unknown = r#"{"StateMachines": {"S": {"TestCases": {"T": {"A": "Nope"}}}}, "MockedResponses": {}}"#;
        assert!(
            MockConfig::parse(unknown)
                .unwrap_err()
                .contains("'Nope' is not defined")
        );
    }
}
