//! One function per state type, each applying the JSONPath data flow in AWS's order:
//! InputPath → Parameters → (work) → ResultSelector → Assign → ResultPath → OutputPath.

use super::history::{self, TaskKind, task_kind};
use super::program::{BoxFut, Step};
use super::{Env, Fault, Run};
use crate::engine::asl::{
    Number, Program, QueryLanguage, State, StateKind, Task, Text, Transition, WaitFor,
};
use crate::engine::effects::TaskRequest;
use serde_json::{Value, json};
use time::OffsetDateTime;

fn next_of(state: &State) -> Option<usize> {
    match state.transition {
        Transition::Next(i) => Some(i),
        _ => None,
    }
}

/// Renders a value for an error message: strings as they are, others as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => history::to_text(other),
    }
}

impl Run<'_> {
    /// Pass, Choice, Wait, Succeed and Fail.
    pub(super) async fn simple_state(
        &self,
        state: &State,
        raw: Value,
        env: &Env<'_>,
    ) -> Result<Step, Fault> {
        match &state.kind {
            StateKind::Pass { result } => {
                let result = match result {
                    Some(r) => r.clone(),
                    None => {
                        let owned;
                        let eff = match &state.input_path {
                            crate::engine::asl::IoPath::Identity => &raw,
                            p => {
                                owned = self.io_path(p, raw.clone(), env)?;
                                &owned
                            }
                        };
                        match &state.parameters {
                            Some(p) => self.template(p, eff, env)?,
                            None => eff.clone(),
                        }
                    }
                };
                self.finish(state, raw, result, env)
            }
            StateKind::Succeed => {
                let eff = self.io_path(&state.input_path, raw, env)?;
                let output = self.io_path(&state.output_path, eff, env)?;
                Ok(Step {
                    output,
                    next: None,
                    assigned: None,
                })
            }
            StateKind::Fail { error, cause } => {
                let error = self.text(error.as_ref(), "ErrorPath", &raw, env)?;
                let cause = self.text(cause.as_ref(), "CausePath", &raw, env)?;
                Err(Fault::new(error.unwrap_or_default(), cause))
            }
            StateKind::Choice { choices, default } => {
                let eff = self.io_path(&state.input_path, raw, env)?;
                let mut chosen = None;
                for c in choices {
                    if self.rule_matches(&c.rule, &eff, env)? {
                        chosen = Some((c.next, c.assign.as_ref()));
                        break;
                    }
                }
                let (next, assign) = match (chosen, default) {
                    (Some(c), _) => c,
                    (None, Some(d)) => (*d, state.assign.as_ref()),
                    (None, None) => {
                        return Err(Fault::terminal(
                            "States.NoChoiceMatched",
                            format!(
                                "An error occurred while executing the state '{}' (entered at the event id #{}). No Choice Rule matched and no Default was specified",
                                state.name, env.entered_event
                            ),
                        )
                        .catchable());
                    }
                };
                let assigned = match assign {
                    Some(t) => Some(self.assign(t, &eff, env)?),
                    None => None,
                };
                let output = self.io_path(&state.output_path, eff, env)?;
                Ok(Step {
                    output,
                    next: Some(next),
                    assigned,
                })
            }
            StateKind::Wait(w) => {
                let eff = self.io_path(&state.input_path, raw, env)?;
                let until = self.wait_until(w, &eff, env)?;
                self.sleep_until(until).await?;
                let assigned = match &state.assign {
                    Some(t) => Some(self.assign(t, &eff, env)?),
                    None => None,
                };
                let output = self.io_path(&state.output_path, eff, env)?;
                Ok(Step {
                    output,
                    next: next_of(state),
                    assigned,
                })
            }
            _ => Err(env.runtime("internal error: state dispatched to the wrong handler")),
        }
    }

    /// ResultSelector is applied by the caller; this does Assign → ResultPath → OutputPath.
    pub(super) fn finish(
        &self,
        state: &State,
        raw: Value,
        result: Value,
        env: &Env<'_>,
    ) -> Result<Step, Fault> {
        let assigned = match &state.assign {
            Some(t) => Some(self.assign(t, &result, env)?),
            None => None,
        };
        let output = self.result_path(&state.result_path, raw, result)?;
        let output = self.io_path(&state.output_path, output, env)?;
        Ok(Step {
            output,
            next: next_of(state),
            assigned,
        })
    }

    pub(super) fn select_result(
        &self,
        state: &State,
        result: Value,
        env: &Env<'_>,
    ) -> Result<Value, Fault> {
        match &state.result_selector {
            Some(t) => self.template(t, &result, env),
            None => Ok(result),
        }
    }

    fn text(
        &self,
        t: Option<&Text>,
        field: &str,
        input: &Value,
        env: &Env<'_>,
    ) -> Result<Option<String>, Fault> {
        Ok(match t {
            None => None,
            Some(Text::Literal(s)) => Some(s.clone()),
            Some(Text::Path(p)) => match self.lookup(p, input, env) {
                Ok(v) => Some(shown(&v)),
                Err(super::data::Lookup::Fault(f)) => return Err(f),
                Err(super::data::Lookup::Path(_)) => {
                    return Err(env.runtime(format!(
                        "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{}'",
                        p.as_str(),
                        history::to_text(input)
                    )));
                }
            },
            Some(Text::Intrinsic(f)) => Some(shown(&self.intrinsic(f, input, env)?)),
            Some(Text::Expr(_)) => {
                return Err(env.runtime("internal error: a JSONata field in a JSONPath state"));
            }
        })
    }

    pub(super) fn number(
        &self,
        n: &Number,
        field: &str,
        input: &Value,
        env: &Env<'_>,
    ) -> Result<u64, Fault> {
        match n {
            Number::Literal(v) => Ok(*v),
            Number::Expr(t) => {
                let states = self.states_value(input, None, None, env);
                let v = self.jeval(t, &states, env)?;
                v.as_u64().ok_or_else(|| {
                    self.query_error(
                        env,
                        field,
                        format_args!("The value of the field '{field}' must be a non-negative integer, but was: {}", history::to_text(&v)),
                    )
                })
            }
            Number::Path(p) => {
                let v = self.select(p, input, env)?;
                let parsed = match &v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    _ => None,
                };
                parsed.ok_or_else(|| {
                    env.runtime(format!(
                        "The {field}Path field refers to value \"{}\" which is not a valid integer: {}",
                        shown(&v),
                        p.as_str()
                    ))
                })
            }
        }
    }

    pub(super) fn wait_until(
        &self,
        w: &WaitFor,
        eff: &Value,
        env: &Env<'_>,
    ) -> Result<OffsetDateTime, Fault> {
        let now = self.effects.now();
        let secs = |n: u64| super::add_millis(now, n.saturating_mul(1000));
        Ok(match w {
            WaitFor::Seconds(n) => secs(*n),
            WaitFor::Timestamp(t) => *t,
            WaitFor::SecondsPath(p) => {
                let v = self.select(p, eff, env)?;
                match v.as_i64() {
                    Some(n) if n >= 0 => secs(n as u64),
                    Some(_) => {
                        return Err(env.runtime(format!(
                            "The SecondsPath parameter references a negative value: {} == {}",
                            p.as_str(),
                            shown(&v)
                        )));
                    }
                    None => {
                        return Err(env.runtime(format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                            p.as_str(),
                            shown(&v)
                        )));
                    }
                }
            }
            WaitFor::TimestampPath(p) => {
                let v = self.select(p, eff, env)?;
                match v.as_str().and_then(super::parse_timestamp) {
                    Some(t) => t,
                    None => {
                        return Err(env.runtime(format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                            p.as_str(),
                            shown(&v)
                        )));
                    }
                }
            }
            WaitFor::SecondsExpr(t) => {
                let states = self.states_value(eff, None, None, env);
                let v = self.jeval(t, &states, env)?;
                match v.as_u64() {
                    Some(n) => secs(n),
                    None => {
                        return Err(self.query_error(
                            env,
                            "Seconds",
                            format_args!(
                                "The Seconds field must be a non-negative integer, but was: {}",
                                history::to_text(&v)
                            ),
                        ));
                    }
                }
            }
            WaitFor::TimestampExpr(t) => {
                let states = self.states_value(eff, None, None, env);
                let v = self.jeval(t, &states, env)?;
                match v.as_str().and_then(super::parse_timestamp) {
                    Some(t) => t,
                    None => {
                        return Err(self.query_error(
                            env,
                            "Timestamp",
                            format_args!(
                                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                                shown(&v)
                            ),
                        ));
                    }
                }
            }
        })
    }

    pub(super) async fn task(
        &self,
        state: &State,
        t: &Task,
        raw: &Value,
        env: &Env<'_>,
        attempt: u32,
    ) -> Result<Step, Fault> {
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        let eff = self.io_path(&state.input_path, raw.clone(), env)?;
        let token = t.resource.ends_with(".waitForTaskToken").then(|| {
            format!(
                "{}-{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            )
        });
        let env = Env {
            task_token: token.as_deref(),
            ..*env
        };
        let env = &env;
        let params = match (&state.parameters, &state.arguments) {
            (_, Some(a)) if jsonata => {
                let states = self.states_value(raw, None, None, env);
                self.jeval(a, &states, env)?
            }
            (Some(p), _) if !jsonata => self.template(p, &eff, env)?,
            _ => eff.clone(),
        };
        let timeout = t
            .timeout_seconds
            .as_ref()
            .map(|n| self.number(n, "TimeoutSeconds", &eff, env))
            .transpose()?;
        let heartbeat = t
            .heartbeat_seconds
            .as_ref()
            .map(|n| self.number(n, "HeartbeatSeconds", &eff, env))
            .transpose()?;
        let kind = task_kind(&t.resource);
        match kind {
            TaskKind::Lambda => {
                let mut d = json!({"resource": t.resource, "input": history::to_text(&params), "inputDetails": {"truncated": false}});
                if let Some(s) = timeout {
                    d["timeoutInSeconds"] = json!(s);
                }
                self.record(
                    "LambdaFunctionScheduled",
                    Some("lambdaFunctionScheduledEventDetails"),
                    || d,
                );
                self.record("LambdaFunctionStarted", None, || Value::Null);
            }
            TaskKind::Service {
                resource_type,
                resource,
            } => {
                let mut d = json!({
                    "resourceType": resource_type,
                    "resource": resource,
                    "region": region_of(&self.info.state_machine_arn),
                    "parameters": history::to_text(&params),
                });
                if let Some(s) = timeout {
                    d["timeoutInSeconds"] = json!(s);
                }
                if let Some(s) = heartbeat {
                    d["heartbeatInSeconds"] = json!(s);
                }
                self.record("TaskScheduled", Some("taskScheduledEventDetails"), || d);
                self.record(
                    "TaskStarted",
                    Some("taskStartedEventDetails"),
                    || json!({"resourceType": resource_type, "resource": resource}),
                );
                // `.sync` jobs report their submission before they finish.
                if is_sync(resource) && !self.effects.reports_submissions() {
                    self.record("TaskSubmitted", Some("taskSubmittedEventDetails"), || {
                        json!({"resourceType": resource_type, "resource": resource, "output": "{}", "outputDetails": {"truncated": false}})
                    });
                }
            }
        }
        let request = TaskRequest {
            state_name: state.name.clone(),
            resource: t.resource.clone(),
            parameters: params,
            task_token: token.clone(),
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
            attempt,
        };
        let timer = async {
            match timeout {
                Some(s) => {
                    let until = super::add_millis(self.effects.now(), s.saturating_mul(1000));
                    self.effects.sleep_until(until).await
                }
                None => std::future::pending().await,
            }
        };
        let submitted = |output: Value| {
            if let TaskKind::Service {
                resource_type,
                resource,
            } = kind
            {
                self.record("TaskSubmitted", Some("taskSubmittedEventDetails"), || {
                    json!({"resourceType": resource_type, "resource": resource, "output": history::to_text(&output), "outputDetails": {"truncated": false}})
                });
            }
        };
        let call = async {
            match kind {
                TaskKind::Service { resource, .. }
                    if is_sync(resource) && self.effects.reports_submissions() =>
                {
                    self.effects.invoke_sync_task(request, &submitted).await
                }
                _ => self.effects.invoke_task(request).await,
            }
        };
        let outcome = tokio::select! {
            r = call => r.map_err(|e| (e, false)),
            _ = timer => Err((crate::engine::effects::StateError { error: "States.Timeout".into(), cause: None }, true)),
            f = self.deadline_reached() => return Err(f),
        };
        let outcome = match outcome {
            Ok(v) if super::data::too_large(&v) => Err((
                crate::engine::effects::StateError {
                    error: "States.DataLimitExceeded".into(),
                    cause: Some(format!(
                        "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                        t.resource
                    )),
                },
                false,
            )),
            other => other,
        };
        let result = match outcome {
            Ok(v) => {
                match kind {
                    TaskKind::Lambda => self.record(
                        "LambdaFunctionSucceeded",
                        Some("lambdaFunctionSucceededEventDetails"),
                        || json!({"output": history::to_text(&v), "outputDetails": {"truncated": false}}),
                    ),
                    TaskKind::Service { resource_type, resource } => self.record(
                        "TaskSucceeded",
                        Some("taskSucceededEventDetails"),
                        || json!({"resourceType": resource_type, "resource": resource, "output": history::to_text(&v), "outputDetails": {"truncated": false}}),
                    ),
                };
                v
            }
            Err((e, timed_out)) => {
                let timed_out = timed_out
                    || e.error == "States.Timeout"
                    || e.error == "States.HeartbeatTimeout";
                let mut d = history::error_details(&e);
                let (ty, key) = match (&kind, timed_out) {
                    (TaskKind::Lambda, false) => {
                        ("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails")
                    }
                    (TaskKind::Lambda, true) => (
                        "LambdaFunctionTimedOut",
                        "lambdaFunctionTimedOutEventDetails",
                    ),
                    (TaskKind::Service { .. }, false) => ("TaskFailed", "taskFailedEventDetails"),
                    (TaskKind::Service { .. }, true) => {
                        ("TaskTimedOut", "taskTimedOutEventDetails")
                    }
                };
                if let TaskKind::Service {
                    resource_type,
                    resource,
                } = kind
                {
                    d["resourceType"] = json!(resource_type);
                    d["resource"] = json!(resource);
                }
                self.record(ty, Some(key), || d);
                return Err(Fault::new(e.error, e.cause));
            }
        };
        if jsonata {
            return self.jfinish(state, raw, Some(&result), env);
        }
        let result = self.select_result(state, result, env)?;
        self.finish(state, raw.clone(), result, env)
    }

    pub(super) async fn parallel(
        &self,
        state: &State,
        branches: &[Program],
        raw: &Value,
        env: &Env<'_>,
    ) -> Result<Step, Fault> {
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        let eff = self.io_path(&state.input_path, raw.clone(), env)?;
        let input = match (&state.parameters, &state.arguments) {
            (_, Some(a)) if jsonata => {
                let states = self.states_value(raw, None, None, env);
                self.jeval(a, &states, env)?
            }
            (Some(p), _) if !jsonata => self.template(p, &eff, env)?,
            _ => eff,
        };
        self.record("ParallelStateStarted", None, || Value::Null);
        let futs: Vec<BoxFut<'_, Result<Value, Fault>>> = branches
            .iter()
            .map(|b| {
                let input = input.clone();
                let vars = env.vars.clone();
                let f: BoxFut<'_, Result<Value, Fault>> = Box::pin(async move {
                    let mut vars = vars;
                    self.run_program(b, b.start_at, input, &mut vars, false, true)
                        .await
                });
                f
            })
            .collect();
        // The first failed branch fails the state; the other branches are stopped.
        let results = super::map::join_until(futs, |r| r.is_err()).await;
        if let Some(Some(Err(f))) = results.iter().find(|r| matches!(r, Some(Err(_)))) {
            return Err(f.clone());
        }
        let out: Vec<Value> = results
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .collect();
        if jsonata {
            return self.jfinish(state, raw, Some(&Value::Array(out)), env);
        }
        let result = self.select_result(state, Value::Array(out), env)?;
        self.finish(state, raw.clone(), result, env)
    }
}

fn region_of(arn: &str) -> &str {
    arn.split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1")
}

impl Fault {
    /// Lets Retry/Catch see an error built with [`Fault::terminal`].
    fn catchable(mut self) -> Fault {
        self.terminal = false;
        self
    }
}

/// A `.sync` / `.sync:2` (run a job) resource.
fn is_sync(resource: &str) -> bool {
    resource.ends_with(".sync") || resource.ends_with(".sync:2")
}
