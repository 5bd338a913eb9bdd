//! Data flow in JSONata mode: `$states` (`input`, `result`, `errorOutput`, `context`),
//! `Arguments`, `Output`, `Assign`, `Condition`, `Items`, and expression-valued fields.
//! Evaluation problems become `States.QueryEvaluationError` with AWS's wording and an
//! `EvaluationFailed` history event.

use super::jsonata::{Scope, Val, eval, truthy};
use super::program::Step;
use super::{Env, Fault, Run, Vars, history};
use crate::engine::asl::{ChoiceRule, State, StateKind, Template, Transition};
use serde_json::{Map, Value, json};

impl Run<'_> {
    /// The `$states` value.
    pub(super) fn states_value(
        &self,
        input: &Value,
        result: Option<&Value>,
        error_output: Option<&Value>,
        env: &Env<'_>,
    ) -> Value {
        let mut m = Map::new();
        m.insert("input".into(), input.clone());
        if let Some(r) = result {
            m.insert("result".into(), r.clone());
        }
        if let Some(e) = error_output {
            m.insert("errorOutput".into(), e.clone());
        }
        m.insert("context".into(), self.context_object(env));
        Value::Object(m)
    }

    /// A `States.QueryEvaluationError` for this state (recorded as `EvaluationFailed`).
    pub(super) fn query_error(
        &self,
        env: &Env<'_>,
        field: &str,
        msg: impl std::fmt::Display,
    ) -> Fault {
        let cause = format!(
            "An error occurred while executing the state '{}' (entered at the event id #{}). {msg}",
            env.state_name, env.entered_event
        );
        self.record(
            "EvaluationFailed",
            Some("evaluationFailedEventDetails"),
            || json!({"error": "States.QueryEvaluationError", "cause": cause, "location": field, "state": env.state_name}),
        );
        Fault::new("States.QueryEvaluationError", Some(cause))
    }

    /// Evaluates a JSONata-mode template.
    pub(super) fn jeval(
        &self,
        t: &Template,
        states: &Value,
        env: &Env<'_>,
    ) -> Result<Value, Fault> {
        Ok(match t {
            Template::Const(v) => v.clone(),
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.jeval(i, states, env))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Object(fields) => {
                let mut m = Map::with_capacity(fields.len());
                for (k, f) in fields {
                    m.insert(k.clone(), self.jeval(f, states, env)?);
                }
                Value::Object(m)
            }
            Template::Expr(e) => {
                let mut scope = Scope::new(states, env.vars, self.effects.now());
                match eval(&e.node, &mut scope) {
                    Ok(Some(Val::Json(v))) => v,
                    Ok(None) => {
                        return Err(self.query_error(
                            env,
                            &e.field,
                            format_args!(
                                "The JSONata expression '{}' specified for the field '{}' returned nothing (undefined).",
                                e.text, e.field
                            ),
                        ));
                    }
                    Ok(Some(_)) => {
                        return Err(self.query_error(
                            env,
                            &e.field,
                            format_args!(
                                "The JSONata expression '{}' specified for the field '{}' returned an unsupported result type.",
                                e.text, e.field
                            ),
                        ));
                    }
                    Err(msg) => {
                        return Err(self.query_error(
                            env,
                            &e.field,
                            format_args!(
                                "The JSONata expression '{}' specified for the field '{}' threw an error during evaluation: {msg}",
                                e.text, e.field
                            ),
                        ));
                    }
                }
            }
            Template::Path(_) | Template::Call(_) => {
                return Err(env.runtime("internal error: a JSONPath template in a JSONata state"));
            }
        })
    }

    fn jassign(
        &self,
        t: Option<&Template>,
        states: &Value,
        env: &Env<'_>,
    ) -> Result<Option<Vars>, Fault> {
        match t {
            None => Ok(None),
            Some(t) => match self.jeval(t, states, env)? {
                Value::Object(m) => Ok(Some(m)),
                _ => Ok(Some(Vars::new())),
            },
        }
    }

    /// Assign → Output for a JSONata state; `default` is the output without `Output`.
    pub(super) fn jfinish(
        &self,
        state: &State,
        raw: &Value,
        result: Option<&Value>,
        env: &Env<'_>,
    ) -> Result<Step, Fault> {
        let states = self.states_value(raw, result, None, env);
        let assigned = self.jassign(state.assign.as_ref(), &states, env)?;
        let output = match &state.output {
            Some(t) => self.jeval(t, &states, env)?,
            None => result.cloned().unwrap_or_else(|| raw.clone()),
        };
        let next = match state.transition {
            Transition::Next(i) => Some(i),
            _ => None,
        };
        Ok(Step {
            output,
            next,
            assigned,
        })
    }

    /// Pass, Choice, Wait, Succeed and Fail in JSONata mode.
    pub(super) async fn jsonata_simple_state(
        &self,
        state: &State,
        raw: Value,
        env: &Env<'_>,
    ) -> Result<Step, Fault> {
        match &state.kind {
            StateKind::Pass { .. } | StateKind::Succeed => self.jfinish(state, &raw, None, env),
            StateKind::Fail { error, cause } => {
                let error = self.jtext(error.as_ref(), &raw, env)?;
                let cause = self.jtext(cause.as_ref(), &raw, env)?;
                Err(Fault::new(error.unwrap_or_default(), cause))
            }
            StateKind::Choice { choices, default } => {
                let states = self.states_value(&raw, None, None, env);
                for c in choices {
                    let hit = match &c.rule {
                        ChoiceRule::Condition(t) => match self.jeval(t, &states, env)? {
                            Value::Bool(b) => b,
                            other => truthy(Some(&other)),
                        },
                        other => self.rule_matches(other, &raw, env)?,
                    };
                    if hit {
                        let assigned = self.jassign(c.assign.as_ref(), &states, env)?;
                        let output = match &c.output {
                            Some(t) => self.jeval(t, &states, env)?,
                            None => raw,
                        };
                        return Ok(Step {
                            output,
                            next: Some(c.next),
                            assigned,
                        });
                    }
                }
                let Some(d) = default else {
                    return Err(Fault::new(
                        "States.NoChoiceMatched",
                        Some(format!(
                            "An error occurred while executing the state '{}' (entered at the event id #{}). No Choice Rule matched and no Default was specified",
                            state.name, env.entered_event
                        )),
                    ));
                };
                let mut step = self.jfinish(state, &raw, None, env)?;
                step.next = Some(*d);
                Ok(step)
            }
            StateKind::Wait(w) => {
                // The wait itself is shared with JSONPath mode (see `states::wait_until`).
                let until = self.wait_until(w, &raw, env)?;
                self.sleep_until(until).await?;
                self.jfinish(state, &raw, None, env)
            }
            _ => Err(env.runtime("internal error: state dispatched to the wrong handler")),
        }
    }

    fn jtext(
        &self,
        t: Option<&crate::engine::asl::Text>,
        raw: &Value,
        env: &Env<'_>,
    ) -> Result<Option<String>, Fault> {
        use crate::engine::asl::Text;
        Ok(match t {
            None => None,
            Some(Text::Literal(s)) => Some(s.clone()),
            Some(Text::Expr(t)) => {
                let states = self.states_value(raw, None, None, env);
                Some(match self.jeval(t, &states, env)? {
                    Value::String(s) => s,
                    other => history::to_text(&other),
                })
            }
            Some(Text::Path(_) | Text::Intrinsic(_)) => {
                return Err(env.runtime("internal error: a JSONPath field in a JSONata state"));
            }
        })
    }
}

/// JSONata's name for a value's type in error messages.
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
