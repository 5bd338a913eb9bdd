//! Data flow in JSONPath mode: path lookups against the input, the context object (`$$`) or
//! a variable (`$name`); payload templates (`Parameters`, `ResultSelector`, `ItemSelector`,
//! `Assign`) with `.$` keys and intrinsic calls; InputPath → ResultPath → OutputPath; the
//! 256 KiB payload limit.

use super::{Env, Fault, PAYLOAD_LIMIT, Run, Vars, format_timestamp, intrinsics};
use crate::engine::asl::intrinsic::{Arg, Intrinsic};
use crate::engine::asl::path::{JsonPath, PathError, Root};
use crate::engine::asl::{IoPath, ResultPath, Template};
use serde_json::{Map, Value, json};

impl Run<'_> {
    /// The context object as the state sees it.
    pub(super) fn context_object(&self, env: &Env<'_>) -> Value {
        let mut state = json!({
            "Name": env.state_name,
            "EnteredTime": format_timestamp(env.entered_time),
        });
        if let Some(n) = env.retry_count {
            state["RetryCount"] = json!(n);
        }
        let mut ctx = json!({
            "Execution": {
                "Id": self.info.execution_arn,
                "Input": self.info.input,
                "StartTime": format_timestamp(self.info.start_time),
                "Name": self.info.name,
                "RoleArn": self.info.role_arn,
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": self.info.state_machine_arn, "Name": self.info.state_machine_name},
            "State": state,
        });
        if let Some(t) = env.task_token {
            ctx["Task"] = json!({"Token": t});
        }
        if let Some((i, v)) = env.map_item {
            ctx["Map"] = json!({"Item": {"Index": i, "Value": v}});
        }
        ctx
    }

    /// Selects `path` from the document its root names.
    pub(super) fn select(
        &self,
        path: &JsonPath,
        input: &Value,
        env: &Env<'_>,
    ) -> Result<Value, Fault> {
        self.lookup(path, input, env).map_err(|e| match e {
            Lookup::Path(e) => env.runtime(e),
            Lookup::Fault(f) => f,
        })
    }

    pub(super) fn lookup(
        &self,
        path: &JsonPath,
        input: &Value,
        env: &Env<'_>,
    ) -> Result<Value, Lookup> {
        match path.root() {
            Root::Input => path.select(input).map_err(Lookup::Path),
            Root::Context => path.select(&self.context_object(env)).map_err(Lookup::Path),
            Root::Variable(name) => match env.vars.get(&**name) {
                Some(v) => path.select(v).map_err(Lookup::Path),
                None => Err(Lookup::Fault(env.runtime(format!(
                    "The variable '{name}' is referenced in '{}' but is not defined",
                    path.as_str()
                )))),
            },
        }
    }

    /// Evaluates a payload template against `input`.
    pub(super) fn template(
        &self,
        t: &Template,
        input: &Value,
        env: &Env<'_>,
    ) -> Result<Value, Fault> {
        Ok(match t {
            Template::Const(v) => v.clone(),
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.template(i, input, env))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Object(fields) => {
                let mut m = Map::with_capacity(fields.len());
                for (k, f) in fields {
                    let v = match f {
                        Template::Path(p) => match self.lookup(p, input, env) {
                            Ok(v) => v,
                            Err(Lookup::Fault(f)) => return Err(f),
                            Err(Lookup::Path(_)) => {
                                return Err(env.runtime(format!(
                                    "The JSONPath '{}' specified for the field '{k}.$' could not be found in the input '{}'",
                                    p.as_str(),
                                    super::history::to_text(input)
                                )));
                            }
                        },
                        other => self.template(other, input, env)?,
                    };
                    m.insert(k.clone(), v);
                }
                Value::Object(m)
            }
            Template::Path(p) => self.select(p, input, env)?,
            Template::Call(f) => self.intrinsic(f, input, env)?,
            Template::Expr(_) => {
                return Err(env.runtime("internal error: a JSONata template in a JSONPath state"));
            }
        })
    }

    pub(super) fn intrinsic(
        &self,
        f: &Intrinsic,
        input: &Value,
        env: &Env<'_>,
    ) -> Result<Value, Fault> {
        let mut args = Vec::with_capacity(f.args.len());
        for a in &f.args {
            args.push(match a {
                Arg::Literal(v) => v.clone(),
                Arg::Path(p) => self.select(p, input, env)?,
                Arg::Call(c) => self.intrinsic(c, input, env)?,
            });
        }
        intrinsics::call(f, args).map_err(|e| {
            env.runtime(format!(
                "The function '{}' had the following error: {e}",
                f.text
            ))
        })
    }

    /// `InputPath` (or `OutputPath`) applied to `v`.
    pub(super) fn io_path(&self, p: &IoPath, v: Value, env: &Env<'_>) -> Result<Value, Fault> {
        match p {
            IoPath::Identity => Ok(v),
            IoPath::Null => Ok(Value::Object(Map::new())),
            IoPath::Path(p) => self.select(p, &v, env),
        }
    }

    /// `ResultPath`: combines the raw state input with the result.
    pub(super) fn result_path(
        &self,
        p: &ResultPath,
        raw: Value,
        result: Value,
    ) -> Result<Value, Fault> {
        match p {
            ResultPath::Replace => Ok(result),
            ResultPath::Discard => Ok(raw),
            ResultPath::Path(p) => p
                .assign(raw, result)
                .map_err(|e| Fault::new("States.ResultPathMatchFailure", Some(e))),
        }
    }

    /// Evaluates `Assign` against `input` (all values read the variables as they were
    /// before the state) and stores the results.
    pub(super) fn assign(&self, t: &Template, input: &Value, env: &Env<'_>) -> Result<Vars, Fault> {
        match self.template(t, input, env)? {
            Value::Object(m) => Ok(m),
            _ => Ok(Vars::new()),
        }
    }
}

/// Why a lookup failed: the path selected nothing, or something worse (undefined variable).
pub(crate) enum Lookup {
    Path(PathError),
    Fault(Fault),
}

/// True when `v` serialises to more than the payload limit. A cheap walk bounds the size
/// from below and above; only values near the limit are serialised to measure exactly.
pub(super) fn too_large(v: &Value) -> bool {
    let (lo, hi) = size_bounds(v, PAYLOAD_LIMIT);
    if hi <= PAYLOAD_LIMIT {
        return false;
    }
    if lo > PAYLOAD_LIMIT {
        return true;
    }
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > PAYLOAD_LIMIT {
                Err(std::io::Error::other("limit"))
            } else {
                Ok(buf.len())
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Counter(0), v).is_err()
}

/// Lower and upper bounds of the serialised size (strings may grow up to 6× when escaped).
/// Stops early once the lower bound passes `cap`.
fn size_bounds(v: &Value, cap: usize) -> (usize, usize) {
    match v {
        Value::Null => (4, 4),
        Value::Bool(_) => (5, 5),
        Value::Number(_) => (1, 24),
        Value::String(s) => (s.len() + 2, s.len() * 6 + 2),
        Value::Array(a) => {
            let (mut lo, mut hi) = (2 + a.len().saturating_sub(1), 2 + a.len());
            for x in a {
                let (l, h) = size_bounds(x, cap);
                lo += l;
                hi += h;
                if lo > cap {
                    break;
                }
            }
            (lo, hi)
        }
        Value::Object(m) => {
            let (mut lo, mut hi) = (2 + m.len().saturating_sub(1), 2 + m.len());
            for (k, x) in m {
                let (l, h) = size_bounds(x, cap);
                lo += k.len() + 3 + l;
                hi += k.len() * 6 + 3 + h;
                if lo > cap {
                    break;
                }
            }
            (lo, hi)
        }
    }
}
