//! Definition JSON → [`StateMachine`]. Collects every problem with its JSON pointer in AWS's
//! wording (`SCHEMA_VALIDATION_FAILED: ... at /States/A`, `MISSING_TRANSITION_TARGET: ...`)
//! instead of stopping at the first one.

mod checks;
mod choice;
mod fields;
mod template;

use super::model::*;
use super::path::JsonPath;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub(super) struct Cx {
    pub errors: Vec<String>,
    /// Pointer of the state being parsed (JSONata error messages name fields relative to it).
    pub state_at: String,
}

const TOP_FIELDS: &[&str] = &[
    "Comment",
    "QueryLanguage",
    "StartAt",
    "States",
    "TimeoutSeconds",
    "Version",
];

fn allowed_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "Pass" => &[
            "Type",
            "Comment",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Result",
            "Assign",
            "Output",
            "QueryLanguage",
        ],
        "Task" => &[
            "Type",
            "Comment",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Resource",
            "Credentials",
            "Assign",
            "Output",
            "QueryLanguage",
        ],
        "Choice" => &[
            "Type",
            "Comment",
            "InputPath",
            "OutputPath",
            "Choices",
            "Default",
            "Assign",
            "Output",
            "QueryLanguage",
        ],
        "Wait" => &[
            "Type",
            "Comment",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Seconds",
            "SecondsPath",
            "Timestamp",
            "TimestampPath",
            "Assign",
            "Output",
            "QueryLanguage",
        ],
        "Succeed" => &[
            "Type",
            "Comment",
            "InputPath",
            "OutputPath",
            "Output",
            "QueryLanguage",
        ],
        "Fail" => &[
            "Type",
            "Comment",
            "Error",
            "ErrorPath",
            "Cause",
            "CausePath",
            "QueryLanguage",
        ],
        "Parallel" => &[
            "Type",
            "Comment",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "Retry",
            "Catch",
            "Branches",
            "Assign",
            "Output",
            "QueryLanguage",
        ],
        "Map" => &[
            "Type",
            "Comment",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "Retry",
            "Catch",
            "ItemProcessor",
            "Iterator",
            "ItemsPath",
            "Items",
            "ItemSelector",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "Label",
            "Assign",
            "Output",
            "QueryLanguage",
        ],
        _ => &[],
    }
}

impl Cx {
    fn schema(&mut self, msg: impl std::fmt::Display, at: &str) {
        let at = if at.is_empty() { "/" } else { at };
        self.errors
            .push(format!("SCHEMA_VALIDATION_FAILED: {msg} at {at}"));
    }

    fn check_fields(&mut self, obj: &Map<String, Value>, allowed: &[&str], at: &str) {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.schema(
                    format_args!("The field \"{k}\" is not supported by Step Functions"),
                    at,
                );
            }
        }
    }

    fn path(&mut self, v: &Value, at: &str) -> Option<JsonPath> {
        match v.as_str().map(JsonPath::parse) {
            Some(Ok(p)) => Some(p),
            Some(Err(_)) | None => {
                self.schema("The value for the field must be a valid JSONPath", at);
                None
            }
        }
    }

    fn string<'v>(&mut self, obj: &'v Map<String, Value>, key: &str, at: &str) -> Option<&'v str> {
        match obj.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.schema(
                    format_args!("The value for the field '{key}' must be a STRING"),
                    &format!("{at}/{key}"),
                );
                None
            }
        }
    }

    fn uint(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<u64> {
        match obj.get(key) {
            None => None,
            Some(v) => match v.as_u64() {
                Some(n) => Some(n),
                None => {
                    self.schema(
                        format_args!(
                            "The value for the field '{key}' must be a non-negative INTEGER"
                        ),
                        &format!("{at}/{key}"),
                    );
                    None
                }
            },
        }
    }

    fn number(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<Number> {
        let path_key = format!("{key}Path");
        if let Some(p) = obj.get(&path_key) {
            if obj.contains_key(key) {
                self.schema(
                    format_args!("The fields '{key}' and '{path_key}' are mutually exclusive"),
                    at,
                );
            }
            return self.path(p, &format!("{at}/{path_key}")).map(Number::Path);
        }
        if let Some(v @ Value::String(_)) = obj.get(key) {
            let kat = format!("{at}/{key}");
            return match self.template(v, &kat, true) {
                t @ Template::Expr(_) => Some(Number::Expr(t)),
                _ => {
                    self.schema(
                        format_args!(
                            "The value for the field '{key}' must be a non-negative INTEGER"
                        ),
                        &kat,
                    );
                    None
                }
            };
        }
        self.uint(obj, key, at).map(Number::Literal)
    }

    pub(super) fn machine(&mut self, def: &Value) -> Option<StateMachine> {
        let Some(obj) = def.as_object() else {
            self.schema("The state machine definition must be a JSON object", "");
            return None;
        };
        self.check_fields(obj, TOP_FIELDS, "");
        let ql = self.query_language(obj, QueryLanguage::JsonPath, "");
        let comment = self.string(obj, "Comment", "").map(str::to_owned);
        let version = self.string(obj, "Version", "").map(str::to_owned);
        let timeout_seconds = self.uint(obj, "TimeoutSeconds", "");
        let program = self.program(obj, ql, "")?;
        let mut seen = std::collections::HashSet::new();
        checks::duplicate_names(&program, "", &mut seen, &mut self.errors);
        if !self.errors.is_empty() {
            return None;
        }
        Some(StateMachine {
            comment,
            query_language: ql,
            timeout_seconds,
            version,
            program,
        })
    }

    fn query_language(
        &mut self,
        obj: &Map<String, Value>,
        inherited: QueryLanguage,
        at: &str,
    ) -> QueryLanguage {
        match obj.get("QueryLanguage") {
            None => inherited,
            Some(Value::String(s)) if s == "JSONPath" => {
                if inherited == QueryLanguage::Jsonata && !at.is_empty() {
                    self.schema(
                        "The QueryLanguage of a state cannot be JSONPath when the state machine uses JSONata",
                        &format!("{at}/QueryLanguage"),
                    );
                }
                QueryLanguage::JsonPath
            }
            Some(Value::String(s)) if s == "JSONata" => QueryLanguage::Jsonata,
            Some(_) => {
                self.schema(
                    "The value for the field 'QueryLanguage' must be one of [JSONPath, JSONata]",
                    &format!("{at}/QueryLanguage"),
                );
                inherited
            }
        }
    }

    fn program(
        &mut self,
        obj: &Map<String, Value>,
        ql: QueryLanguage,
        at: &str,
    ) -> Option<Program> {
        let mut missing = Vec::new();
        if !obj.contains_key("StartAt") {
            missing.push("StartAt");
        }
        if !obj.contains_key("States") {
            missing.push("States");
        }
        if !missing.is_empty() {
            self.schema(
                format_args!("These fields are required: [{}]", missing.join(", ")),
                at,
            );
            return None;
        }
        let start = self.string(obj, "StartAt", at)?.to_owned();
        let Some(states) = obj.get("States").and_then(Value::as_object) else {
            self.schema(
                "The value for the field 'States' must be an OBJECT",
                &format!("{at}/States"),
            );
            return None;
        };
        let index: HashMap<String, usize> = states
            .keys()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let Some(&start_at) = index.get(&start) else {
            self.errors.push(format!(
                "MISSING_TRANSITION_TARGET: Missing 'Next' target: {start} at {at}/StartAt"
            ));
            return None;
        };
        let mut out = Vec::with_capacity(states.len());
        for (name, sv) in states {
            let sat = format!("{at}/States/{}", pointer_escape(name));
            if name.is_empty() || name.chars().count() > 80 {
                self.schema("State names must be 1 to 80 characters long", &sat);
            }
            if let Some(s) = self.state(name, sv, ql, &index, &sat) {
                out.push(s);
            }
        }
        if out.len() != states.len() {
            return None;
        }
        let program = Program {
            start_at,
            states: out,
            index,
        };
        for s in checks::unreachable(&program) {
            self.errors.push(format!(
                "MISSING_TRANSITION_TARGET: State \"{s}\" is not reachable. at {at}/States/{}",
                pointer_escape(s)
            ));
        }
        Some(program)
    }

    fn target(
        &mut self,
        v: Option<&Value>,
        index: &HashMap<String, usize>,
        at: &str,
    ) -> Option<usize> {
        let name = v?.as_str();
        let Some(name) = name else {
            self.schema("The value for the field 'Next' must be a STRING", at);
            return None;
        };
        match index.get(name) {
            Some(&i) => Some(i),
            None => {
                self.errors.push(format!(
                    "MISSING_TRANSITION_TARGET: Missing 'Next' target: {name} at {at}"
                ));
                None
            }
        }
    }

    fn state(
        &mut self,
        name: &str,
        v: &Value,
        inherited: QueryLanguage,
        index: &HashMap<String, usize>,
        at: &str,
    ) -> Option<State> {
        let Some(obj) = v.as_object() else {
            self.schema("A state must be a JSON object", at);
            return None;
        };
        let outer = std::mem::replace(&mut self.state_at, at.to_owned());
        let r = self.state_inner(name, obj, inherited, index, at);
        self.state_at = outer;
        r
    }

    fn state_inner(
        &mut self,
        name: &str,
        obj: &Map<String, Value>,
        inherited: QueryLanguage,
        index: &HashMap<String, usize>,
        at: &str,
    ) -> Option<State> {
        let Some(ty) = obj.get("Type") else {
            self.schema("These fields are required: [Type]", at);
            return None;
        };
        let ty = ty.as_str().unwrap_or_default();
        let allowed = allowed_fields(ty);
        if allowed.is_empty() {
            self.schema(
                "The value for the field 'Type' must be one of [Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map]",
                &format!("{at}/Type"),
            );
            return None;
        }
        self.check_fields(obj, allowed, at);
        let ql = self.query_language(obj, inherited, at);
        let jsonata = ql == QueryLanguage::Jsonata;
        if jsonata {
            for f in [
                "InputPath",
                "OutputPath",
                "ResultPath",
                "Parameters",
                "ResultSelector",
                "ItemsPath",
                "ItemSelector",
            ] {
                if obj.contains_key(f) && !(f == "ItemSelector" && ty == "Map") {
                    self.schema(
                        format_args!("The field \"{f}\" is not supported by Step Functions when QueryLanguage is JSONata"),
                        at,
                    );
                }
            }
        } else {
            for f in ["Arguments", "Output"] {
                if obj.contains_key(f) {
                    self.schema(
                        format_args!("The field \"{f}\" is not supported by Step Functions when QueryLanguage is JSONPath"),
                        at,
                    );
                }
            }
        }

        let transition = if matches!(ty, "Choice" | "Succeed" | "Fail") {
            Transition::None
        } else {
            match (obj.get("Next"), obj.get("End")) {
                (Some(_), Some(_)) => {
                    self.schema("The fields 'Next' and 'End' are mutually exclusive", at);
                    Transition::End
                }
                (Some(n), None) => match self.target(Some(n), index, &format!("{at}/Next")) {
                    Some(i) => Transition::Next(i),
                    None => Transition::End,
                },
                (None, Some(Value::Bool(true))) => Transition::End,
                _ => {
                    self.schema("These fields are required: [Next or End]", at);
                    Transition::End
                }
            }
        };

        let io = |cx: &mut Cx, key: &str| match obj.get(key) {
            None => IoPath::Identity,
            Some(Value::Null) => IoPath::Null,
            Some(v) => cx
                .path(v, &format!("{at}/{key}"))
                .map(IoPath::Path)
                .unwrap_or(IoPath::Identity),
        };
        let input_path = io(self, "InputPath");
        let output_path = io(self, "OutputPath");
        let result_path = match obj.get("ResultPath") {
            None => ResultPath::Replace,
            Some(Value::Null) => ResultPath::Discard,
            Some(v) => self.result_path(v, &format!("{at}/ResultPath")),
        };
        let tmpl = |cx: &mut Cx, key: &str| {
            obj.get(key)
                .map(|v| cx.template(v, &format!("{at}/{key}"), jsonata))
        };
        let parameters = if jsonata {
            None
        } else {
            tmpl(self, "Parameters")
        };
        let result_selector = if jsonata {
            None
        } else {
            tmpl(self, "ResultSelector")
        };
        let assign = match obj.get("Assign") {
            Some(v) if !v.is_object() => {
                self.schema(
                    "The value for the field 'Assign' must be an OBJECT",
                    &format!("{at}/Assign"),
                );
                None
            }
            Some(v) => Some(self.template(v, &format!("{at}/Assign"), jsonata)),
            None => None,
        };
        let retry = self.retriers(obj.get("Retry"), at);
        let catch = self.catchers(obj.get("Catch"), index, jsonata, at);
        let output = if jsonata { tmpl(self, "Output") } else { None };
        let arguments = if jsonata {
            tmpl(self, "Arguments")
        } else {
            None
        };

        let kind = match ty {
            "Pass" => StateKind::Pass {
                result: obj.get("Result").cloned(),
            },
            "Task" => {
                let resource = match obj.get("Resource") {
                    Some(Value::String(r)) => r.clone(),
                    Some(_) => {
                        self.schema(
                            "The value for the field 'Resource' must be a STRING",
                            &format!("{at}/Resource"),
                        );
                        String::new()
                    }
                    None => {
                        self.schema("These fields are required: [Resource]", at);
                        String::new()
                    }
                };
                if !resource.is_empty() && !resource.starts_with("arn:") {
                    self.schema(
                        "Value is not a valid resource ARN",
                        &format!("{at}/Resource"),
                    );
                }
                StateKind::Task(Box::new(Task {
                    resource,
                    timeout_seconds: self.number(obj, "TimeoutSeconds", at),
                    heartbeat_seconds: self.number(obj, "HeartbeatSeconds", at),
                }))
            }
            "Choice" => self.choice(obj, index, jsonata, at),
            "Wait" => StateKind::Wait(self.wait(obj, at)),
            "Succeed" => StateKind::Succeed,
            "Fail" => {
                let error = self.text(obj, "Error", jsonata, at);
                let cause = self.text(obj, "Cause", jsonata, at);
                StateKind::Fail { error, cause }
            }
            "Parallel" => {
                let mut branches = Vec::new();
                match obj.get("Branches").and_then(Value::as_array) {
                    Some(bs) => {
                        for (i, b) in bs.iter().enumerate() {
                            let bat = format!("{at}/Branches/{i}");
                            match b.as_object() {
                                Some(bo) => {
                                    self.check_fields(
                                        bo,
                                        &["StartAt", "States", "Comment", "QueryLanguage"],
                                        &bat,
                                    );
                                    if let Some(p) = self.program(bo, ql, &bat) {
                                        branches.push(p);
                                    }
                                }
                                None => self.schema("A branch must be a JSON object", &bat),
                            }
                        }
                    }
                    None => self.schema("These fields are required: [Branches]", at),
                }
                StateKind::Parallel { branches }
            }
            "Map" => self.map(obj, ql, jsonata, at)?,
            _ => return None,
        };
        // Map's legacy `Parameters` is its ItemSelector, handled in `map`.
        let parameters = if ty == "Map" { None } else { parameters };
        Some(State {
            name: name.to_owned(),
            query_language: ql,
            kind,
            input_path,
            output_path,
            result_path,
            parameters,
            result_selector,
            assign,
            output,
            arguments,
            transition,
            retry,
            catch,
        })
    }
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
