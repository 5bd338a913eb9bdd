//! Definition JSON → [`StateMachine`]. Collects every problem with its JSON pointer in AWS's
//! wording (`SCHEMA_VALIDATION_FAILED: ... at /States/A`, `MISSING_TRANSITION_TARGET: ...`)
//! instead of stopping at the first one.

use super::intrinsic::{Intrinsic, looks_like_call};
use super::model::*;
use super::path::JsonPath;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub(super) struct Cx {
    pub errors: Vec<String>,
    /// Pointer of the state being parsed (JSONata error messages name fields relative to it).
    pub state_at: String,
}

const TOP_FIELDS: &[&str] = &["Comment", "QueryLanguage", "StartAt", "States", "TimeoutSeconds", "Version"];

fn allowed_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "Pass" => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters",
            "Result", "Assign", "Output", "QueryLanguage",
        ],
        "Task" => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters",
            "Arguments", "ResultSelector", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath",
            "HeartbeatSeconds", "HeartbeatSecondsPath", "Resource", "Credentials", "Assign", "Output",
            "QueryLanguage",
        ],
        "Choice" => &[
            "Type", "Comment", "InputPath", "OutputPath", "Choices", "Default", "Assign", "Output",
            "QueryLanguage",
        ],
        "Wait" => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath",
            "Timestamp", "TimestampPath", "Assign", "Output", "QueryLanguage",
        ],
        "Succeed" => &["Type", "Comment", "InputPath", "OutputPath", "Output", "QueryLanguage"],
        "Fail" => &["Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath", "QueryLanguage"],
        "Parallel" => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters",
            "Arguments", "ResultSelector", "Retry", "Catch", "Branches", "Assign", "Output",
            "QueryLanguage",
        ],
        "Map" => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters",
            "Arguments", "ResultSelector", "Retry", "Catch", "ItemProcessor", "Iterator", "ItemsPath",
            "Items", "ItemSelector", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount",
            "ToleratedFailureCountPath", "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath", "ItemReader", "ItemBatcher", "ResultWriter", "Label",
            "Assign", "Output", "QueryLanguage",
        ],
        _ => &[],
    }
}

impl Cx {
    fn schema(&mut self, msg: impl std::fmt::Display, at: &str) {
        let at = if at.is_empty() { "/" } else { at };
        self.errors.push(format!("SCHEMA_VALIDATION_FAILED: {msg} at {at}"));
    }

    fn check_fields(&mut self, obj: &Map<String, Value>, allowed: &[&str], at: &str) {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.schema(format_args!("The field \"{k}\" is not supported by Step Functions"), at);
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
                self.schema(format_args!("The value for the field '{key}' must be a STRING"), &format!("{at}/{key}"));
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
                        format_args!("The value for the field '{key}' must be a non-negative INTEGER"),
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
                self.schema(format_args!("The fields '{key}' and '{path_key}' are mutually exclusive"), at);
            }
            return self.path(p, &format!("{at}/{path_key}")).map(Number::Path);
        }
        if let Some(v @ Value::String(_)) = obj.get(key) {
            let kat = format!("{at}/{key}");
            return match self.template(v, &kat, true) {
                t @ Template::Expr(_) => Some(Number::Expr(t)),
                _ => {
                    self.schema(format_args!("The value for the field '{key}' must be a non-negative INTEGER"), &kat);
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
        if !self.errors.is_empty() {
            return None;
        }
        Some(StateMachine { comment, query_language: ql, timeout_seconds, version, program })
    }

    fn query_language(&mut self, obj: &Map<String, Value>, inherited: QueryLanguage, at: &str) -> QueryLanguage {
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

    fn program(&mut self, obj: &Map<String, Value>, ql: QueryLanguage, at: &str) -> Option<Program> {
        let mut missing = Vec::new();
        if !obj.contains_key("StartAt") {
            missing.push("StartAt");
        }
        if !obj.contains_key("States") {
            missing.push("States");
        }
        if !missing.is_empty() {
            self.schema(format_args!("These fields are required: [{}]", missing.join(", ")), at);
            return None;
        }
        let start = self.string(obj, "StartAt", at)?.to_owned();
        let Some(states) = obj.get("States").and_then(Value::as_object) else {
            self.schema("The value for the field 'States' must be an OBJECT", &format!("{at}/States"));
            return None;
        };
        let index: HashMap<String, usize> =
            states.keys().enumerate().map(|(i, k)| (k.clone(), i)).collect();
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
        Some(Program { start_at, states: out, index })
    }

    fn target(&mut self, v: Option<&Value>, index: &HashMap<String, usize>, at: &str) -> Option<usize> {
        let name = v?.as_str();
        let Some(name) = name else {
            self.schema("The value for the field 'Next' must be a STRING", at);
            return None;
        };
        match index.get(name) {
            Some(&i) => Some(i),
            None => {
                self.errors.push(format!("MISSING_TRANSITION_TARGET: Missing 'Next' target: {name} at {at}"));
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
            for f in ["InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath", "ItemSelector"] {
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
            Some(v) => cx.path(v, &format!("{at}/{key}")).map(IoPath::Path).unwrap_or(IoPath::Identity),
        };
        let input_path = io(self, "InputPath");
        let output_path = io(self, "OutputPath");
        let result_path = match obj.get("ResultPath") {
            None => ResultPath::Replace,
            Some(Value::Null) => ResultPath::Discard,
            Some(v) => self.result_path(v, &format!("{at}/ResultPath")),
        };
        let tmpl = |cx: &mut Cx, key: &str| {
            obj.get(key).map(|v| cx.template(v, &format!("{at}/{key}"), jsonata))
        };
        let parameters = if jsonata { None } else { tmpl(self, "Parameters") };
        let result_selector = if jsonata { None } else { tmpl(self, "ResultSelector") };
        let assign = match obj.get("Assign") {
            Some(v) if !v.is_object() => {
                self.schema("The value for the field 'Assign' must be an OBJECT", &format!("{at}/Assign"));
                None
            }
            Some(v) => Some(self.template(v, &format!("{at}/Assign"), jsonata)),
            None => None,
        };
        let retry = self.retriers(obj.get("Retry"), at);
        let catch = self.catchers(obj.get("Catch"), index, jsonata, at);
        let output = if jsonata { tmpl(self, "Output") } else { None };
        let arguments = if jsonata { tmpl(self, "Arguments") } else { None };

        let kind = match ty {
            "Pass" => StateKind::Pass { result: obj.get("Result").cloned() },
            "Task" => {
                let resource = match obj.get("Resource") {
                    Some(Value::String(r)) => r.clone(),
                    Some(_) => {
                        self.schema("The value for the field 'Resource' must be a STRING", &format!("{at}/Resource"));
                        String::new()
                    }
                    None => {
                        self.schema("These fields are required: [Resource]", at);
                        String::new()
                    }
                };
                if !resource.is_empty() && !resource.starts_with("arn:") {
                    self.schema("Value is not a valid resource ARN", &format!("{at}/Resource"));
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
                                    self.check_fields(bo, &["StartAt", "States", "Comment", "QueryLanguage"], &bat);
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

    fn result_path(&mut self, v: &Value, at: &str) -> ResultPath {
        match self.path(v, at) {
            Some(p) if p.is_root() && *p.root() == super::path::Root::Input => ResultPath::Replace,
            Some(p) if p.is_definite() && *p.root() == super::path::Root::Input => ResultPath::Path(p),
            Some(_) => {
                self.schema("The value for the field 'ResultPath' must be a valid ReferencePath", at);
                ResultPath::Replace
            }
            None => ResultPath::Replace,
        }
    }

    fn text(&mut self, obj: &Map<String, Value>, key: &str, jsonata: bool, at: &str) -> Option<Text> {
        if jsonata {
            if let Some(v @ Value::String(_)) = obj.get(key) {
                return match self.template(v, &format!("{at}/{key}"), true) {
                    t @ Template::Expr(_) => Some(Text::Expr(t)),
                    _ => v.as_str().map(|s| Text::Literal(s.to_owned())),
                };
            }
        }
        let path_key = format!("{key}Path");
        if let Some(p) = obj.get(&path_key) {
            if obj.contains_key(key) {
                self.schema(format_args!("The fields '{key}' and '{path_key}' are mutually exclusive"), at);
            }
            let s = p.as_str().unwrap_or_default();
            if looks_like_call(s) {
                return match Intrinsic::parse(s) {
                    Ok(f) => Some(Text::Intrinsic(f)),
                    Err(e) => {
                        self.schema(e, &format!("{at}/{path_key}"));
                        None
                    }
                };
            }
            return self.path(p, &format!("{at}/{path_key}")).map(Text::Path);
        }
        self.string(obj, key, at).map(|s| Text::Literal(s.to_owned()))
    }

    fn wait(&mut self, obj: &Map<String, Value>, at: &str) -> WaitFor {
        let keys = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"];
        let present: Vec<_> = keys.iter().filter(|k| obj.contains_key(**k)).collect();
        if present.len() != 1 {
            self.schema(
                "A Wait state must have exactly one of [Seconds, SecondsPath, Timestamp, TimestampPath]",
                at,
            );
            return WaitFor::Seconds(0);
        }
        let key = *present[0];
        let v = &obj[key];
        let vat = format!("{at}/{key}");
        if let Value::String(s) = v {
            if super::jsonata::expression_text(s).is_some() && matches!(key, "Seconds" | "Timestamp") {
                let t = self.template(v, &vat, true);
                return if key == "Seconds" { WaitFor::SecondsExpr(t) } else { WaitFor::TimestampExpr(t) };
            }
        }
        match key {
            "Seconds" => match v.as_u64() {
                Some(n) => WaitFor::Seconds(n),
                None => {
                    self.schema("The value for the field 'Seconds' must be a non-negative INTEGER", &vat);
                    WaitFor::Seconds(0)
                }
            },
            "Timestamp" => match v.as_str().and_then(crate::engine::exec::parse_timestamp) {
                Some(t) => WaitFor::Timestamp(t),
                None => {
                    self.schema("The value for the field 'Timestamp' must be a valid ISO-8601 timestamp", &vat);
                    WaitFor::Seconds(0)
                }
            },
            "SecondsPath" => self.path(v, &vat).map(WaitFor::SecondsPath).unwrap_or(WaitFor::Seconds(0)),
            _ => self.path(v, &vat).map(WaitFor::TimestampPath).unwrap_or(WaitFor::Seconds(0)),
        }
    }

    fn map(&mut self, obj: &Map<String, Value>, ql: QueryLanguage, jsonata: bool, at: &str) -> Option<StateKind> {
        let (key, proc) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
            (Some(p), _) => ("ItemProcessor", p),
            (None, Some(p)) => ("Iterator", p),
            (None, None) => {
                self.schema("These fields are required: [ItemProcessor]", at);
                return None;
            }
        };
        let pat = format!("{at}/{key}");
        let Some(po) = proc.as_object() else {
            self.schema("The value for the field must be an OBJECT", &pat);
            return None;
        };
        self.check_fields(po, &["StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage"], &pat);
        if let Some(mode) = po.get("ProcessorConfig").and_then(|c| c.get("Mode")).and_then(Value::as_str) {
            if mode != "INLINE" && mode != "DISTRIBUTED" {
                self.schema("The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]", &format!("{pat}/ProcessorConfig/Mode"));
            }
        }
        let processor = self.program(po, ql, &pat)?;
        let items_path = obj.get("ItemsPath").and_then(|v| self.path(v, &format!("{at}/ItemsPath")));
        let items = obj.get("Items").map(|v| self.template(v, &format!("{at}/Items"), true));
        if items.is_some() && !jsonata {
            self.schema("The field \"Items\" is only supported when QueryLanguage is JSONata", at);
        }
        let item_selector = match (obj.get("ItemSelector"), obj.get("Parameters")) {
            (Some(_), Some(_)) => {
                self.schema("The fields 'ItemSelector' and 'Parameters' are mutually exclusive", at);
                None
            }
            (Some(v), None) => Some(self.template(v, &format!("{at}/ItemSelector"), jsonata)),
            (None, Some(v)) => Some(self.template(v, &format!("{at}/Parameters"), jsonata)),
            (None, None) => None,
        };
        Some(StateKind::Map(Box::new(MapState {
            items_path,
            items,
            item_selector,
            processor,
            max_concurrency: self.number(obj, "MaxConcurrency", at),
            tolerated_failure_count: self.number(obj, "ToleratedFailureCount", at),
            tolerated_failure_percentage: self.number(obj, "ToleratedFailurePercentage", at),
        })))
    }

    fn error_equals(&mut self, o: &Map<String, Value>, at: &str) -> Vec<String> {
        match o.get("ErrorEquals").and_then(Value::as_array) {
            Some(a) if !a.is_empty() => {
                let v: Vec<String> = a.iter().filter_map(|e| e.as_str().map(str::to_owned)).collect();
                if let Some(pos) = v.iter().position(|e| e == "States.ALL") {
                    if v.len() > 1 || pos != 0 {
                        self.schema("States.ALL must appear alone in ErrorEquals", &format!("{at}/ErrorEquals"));
                    }
                }
                v
            }
            _ => {
                self.schema("These fields are required: [ErrorEquals]", at);
                Vec::new()
            }
        }
    }

    fn retriers(&mut self, v: Option<&Value>, at: &str) -> Vec<Retrier> {
        let Some(v) = v else { return Vec::new() };
        let Some(arr) = v.as_array() else {
            self.schema("The value for the field 'Retry' must be an ARRAY", &format!("{at}/Retry"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, r) in arr.iter().enumerate() {
            let rat = format!("{at}/Retry/{i}");
            let Some(o) = r.as_object() else {
                self.schema("A retrier must be a JSON object", &rat);
                continue;
            };
            self.check_fields(
                o,
                &["ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"],
                &rat,
            );
            let error_equals = self.error_equals(o, &rat);
            let backoff_rate = match o.get("BackoffRate") {
                None => 2.0,
                Some(b) => match b.as_f64() {
                    Some(f) if f >= 1.0 => f,
                    _ => {
                        self.schema("The value for the field 'BackoffRate' must be a NUMBER >= 1.0", &format!("{rat}/BackoffRate"));
                        2.0
                    }
                },
            };
            let jitter = match o.get("JitterStrategy").and_then(Value::as_str) {
                None | Some("NONE") => false,
                Some("FULL") => true,
                Some(_) => {
                    self.schema("The value for the field 'JitterStrategy' must be one of [FULL, NONE]", &format!("{rat}/JitterStrategy"));
                    false
                }
            };
            out.push(Retrier {
                error_equals,
                interval_seconds: self.uint(o, "IntervalSeconds", &rat).unwrap_or(1),
                max_attempts: self.uint(o, "MaxAttempts", &rat).map(|n| n.min(u32::MAX as u64) as u32).unwrap_or(3),
                backoff_rate,
                max_delay_seconds: self.uint(o, "MaxDelaySeconds", &rat),
                jitter,
            });
        }
        out
    }

    fn catchers(&mut self, v: Option<&Value>, index: &HashMap<String, usize>, jsonata: bool, at: &str) -> Vec<Catcher> {
        let Some(v) = v else { return Vec::new() };
        let Some(arr) = v.as_array() else {
            self.schema("The value for the field 'Catch' must be an ARRAY", &format!("{at}/Catch"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, c) in arr.iter().enumerate() {
            let cat = format!("{at}/Catch/{i}");
            let Some(o) = c.as_object() else {
                self.schema("A catcher must be a JSON object", &cat);
                continue;
            };
            self.check_fields(o, &["ErrorEquals", "Next", "ResultPath", "Assign", "Output", "Comment"], &cat);
            let error_equals = self.error_equals(o, &cat);
            let result_path = match o.get("ResultPath") {
                None => ResultPath::Replace,
                Some(Value::Null) => ResultPath::Discard,
                Some(v) => self.result_path(v, &format!("{cat}/ResultPath")),
            };
            let assign = o.get("Assign").map(|a| self.template(a, &format!("{cat}/Assign"), jsonata));
            let output = o.get("Output").map(|a| self.template(a, &format!("{cat}/Output"), true));
            if !o.contains_key("Next") {
                self.schema("These fields are required: [Next]", &cat);
                continue;
            }
            if let Some(next) = self.target(o.get("Next"), index, &format!("{cat}/Next")) {
                out.push(Catcher { error_equals, result_path, next, assign, output });
            }
        }
        out
    }

    fn choice(&mut self, obj: &Map<String, Value>, index: &HashMap<String, usize>, jsonata: bool, at: &str) -> StateKind {
        let default = obj.get("Default").and_then(|d| self.target(Some(d), index, &format!("{at}/Default")));
        let mut choices = Vec::new();
        match obj.get("Choices").and_then(Value::as_array) {
            Some(a) if !a.is_empty() => {
                for (i, c) in a.iter().enumerate() {
                    let cat = format!("{at}/Choices/{i}");
                    let Some(co) = c.as_object() else {
                        self.schema("A choice rule must be a JSON object", &cat);
                        continue;
                    };
                    let Some(next) = self.target(co.get("Next"), index, &format!("{cat}/Next")) else {
                        if !co.contains_key("Next") {
                            self.schema("These fields are required: [Next]", &cat);
                        }
                        continue;
                    };
                    let assign = co.get("Assign").map(|a| self.template(a, &format!("{cat}/Assign"), jsonata));
                    let output = co.get("Output").map(|a| self.template(a, &format!("{cat}/Output"), true));
                    if let Some(rule) = self.rule(co, &cat, true) {
                        choices.push(ChoiceBranch { rule, next, assign, output });
                    }
                }
            }
            _ => self.schema("These fields are required: [Choices]", at),
        }
        StateKind::Choice { choices, default }
    }

    fn rule(&mut self, o: &Map<String, Value>, at: &str, top: bool) -> Option<ChoiceRule> {
        let mut extra: Vec<&str> = vec!["Comment"];
        if top {
            extra.extend(["Next", "Assign", "Output"]);
        }
        if let Some(c) = o.get("Condition") {
            return Some(ChoiceRule::Condition(self.template(c, &format!("{at}/Condition"), true)));
        }
        for comb in ["And", "Or"] {
            if let Some(v) = o.get(comb) {
                let Some(arr) = v.as_array().filter(|a| !a.is_empty()) else {
                    self.schema(format_args!("The value for the field '{comb}' must be a non-empty ARRAY"), &format!("{at}/{comb}"));
                    return None;
                };
                let mut rules = Vec::new();
                for (i, r) in arr.iter().enumerate() {
                    let rat = format!("{at}/{comb}/{i}");
                    match r.as_object() {
                        Some(ro) => rules.extend(self.rule(ro, &rat, false)),
                        None => self.schema("A choice rule must be a JSON object", &rat),
                    }
                }
                return Some(if comb == "And" { ChoiceRule::And(rules) } else { ChoiceRule::Or(rules) });
            }
        }
        if let Some(v) = o.get("Not") {
            let Some(ro) = v.as_object() else {
                self.schema("The value for the field 'Not' must be an OBJECT", &format!("{at}/Not"));
                return None;
            };
            return self.rule(ro, &format!("{at}/Not"), false).map(|r| ChoiceRule::Not(Box::new(r)));
        }
        let Some(var) = o.get("Variable") else {
            self.schema("These fields are required: [Variable]", at);
            return None;
        };
        let variable = self.path(var, &format!("{at}/Variable"))?;
        let mut found = None;
        for (k, v) in o {
            if k == "Variable" || extra.contains(&k.as_str()) {
                continue;
            }
            let (name, is_path) = match k.strip_suffix("Path") {
                Some(n) if !n.is_empty() && !k.starts_with("Is") => (n, true),
                _ => (k.as_str(), false),
            };
            let Some(op) = comparison(name) else {
                self.schema(format_args!("The field \"{k}\" is not supported by Step Functions"), at);
                return None;
            };
            if found.is_some() {
                self.schema("A choice rule must have exactly one comparison operator", at);
                return None;
            }
            let kat = format!("{at}/{k}");
            let operand = if is_path {
                if matches!(op, Comparison::StringMatches) || name.starts_with("Is") {
                    self.schema(format_args!("The field \"{k}\" is not supported by Step Functions"), at);
                    return None;
                }
                Operand::Path(self.path(v, &kat)?)
            } else {
                let ok = match op {
                    Comparison::StringEquals
                    | Comparison::StringLessThan
                    | Comparison::StringGreaterThan
                    | Comparison::StringLessThanEquals
                    | Comparison::StringGreaterThanEquals
                    | Comparison::StringMatches => v.is_string(),
                    Comparison::NumericEquals
                    | Comparison::NumericLessThan
                    | Comparison::NumericGreaterThan
                    | Comparison::NumericLessThanEquals
                    | Comparison::NumericGreaterThanEquals => v.is_number(),
                    Comparison::TimestampEquals
                    | Comparison::TimestampLessThan
                    | Comparison::TimestampGreaterThan
                    | Comparison::TimestampLessThanEquals
                    | Comparison::TimestampGreaterThanEquals => {
                        v.as_str().and_then(crate::engine::exec::parse_timestamp).is_some()
                    }
                    _ => v.is_boolean(),
                };
                if !ok {
                    self.schema(format_args!("The value for the field '{k}' has the wrong type"), &kat);
                    return None;
                }
                Operand::Value(v.clone())
            };
            found = Some((op, operand));
        }
        let Some((op, operand)) = found else {
            self.schema("A choice rule must have a comparison operator", at);
            return None;
        };
        Some(ChoiceRule::Test { variable, op, operand })
    }

    /// Compiles a payload template. In JSONata mode values are kept as written.
    pub(super) fn template(&mut self, v: &Value, at: &str, jsonata: bool) -> Template {
        if jsonata {
            let prefix = format!("{}/", self.state_at);
            let field = at.strip_prefix(&prefix).unwrap_or(at).to_owned();
            return self.jtemplate(v, &field, at);
        }
        match v {
            Value::Object(m) => {
                let mut fields = Vec::with_capacity(m.len());
                let mut dynamic = false;
                for (k, fv) in m {
                    let kat = format!("{at}/{}", pointer_escape(k));
                    if let Some(key) = k.strip_suffix(".$") {
                        dynamic = true;
                        let Some(s) = fv.as_str() else {
                            self.schema(
                                format_args!("The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"),
                                &kat,
                            );
                            continue;
                        };
                        let t = if looks_like_call(s) {
                            match Intrinsic::parse(s) {
                                Ok(f) => Template::Call(f),
                                Err(e) => {
                                    self.schema(e, &kat);
                                    continue;
                                }
                            }
                        } else {
                            match JsonPath::parse(s) {
                                Ok(p) => Template::Path(p),
                                Err(_) => {
                                    self.schema(
                                        format_args!("The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"),
                                        &kat,
                                    );
                                    continue;
                                }
                            }
                        };
                        fields.push((key.to_owned(), t));
                    } else {
                        let t = self.template(fv, &kat, false);
                        dynamic |= !matches!(t, Template::Const(_));
                        fields.push((k.clone(), t));
                    }
                }
                if dynamic { Template::Object(fields) } else { Template::Const(v.clone()) }
            }
            Value::Array(a) => {
                let items: Vec<Template> =
                    a.iter().enumerate().map(|(i, x)| self.template(x, &format!("{at}/{i}"), false)).collect();
                if items.iter().all(|t| matches!(t, Template::Const(_))) {
                    Template::Const(v.clone())
                } else {
                    Template::Array(items)
                }
            }
            _ => Template::Const(v.clone()),
        }
    }
}

impl Cx {
    /// A JSONata-mode template: `{% %}` strings are compiled, everything else is literal.
    fn jtemplate(&mut self, v: &Value, field: &str, at: &str) -> Template {
        match v {
            Value::String(s) => match super::jsonata::expression_text(s) {
                Some(text) => match super::jsonata::Expr::parse(text, field) {
                    Ok(e) => Template::Expr(Box::new(e)),
                    Err(e) => {
                        self.schema(format_args!("The JSONata expression '{text}' is not valid: {e}"), at);
                        Template::Const(v.clone())
                    }
                },
                None => Template::Const(v.clone()),
            },
            Value::Object(m) => {
                let fields: Vec<(String, Template)> = m
                    .iter()
                    .map(|(k, x)| {
                        let t = self.jtemplate(x, &format!("{field}/{k}"), &format!("{at}/{}", pointer_escape(k)));
                        (k.clone(), t)
                    })
                    .collect();
                if fields.iter().all(|(_, t)| matches!(t, Template::Const(_))) {
                    Template::Const(v.clone())
                } else {
                    Template::Object(fields)
                }
            }
            Value::Array(a) => {
                let items: Vec<Template> = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.jtemplate(x, &format!("{field}/{i}"), &format!("{at}/{i}")))
                    .collect();
                if items.iter().all(|t| matches!(t, Template::Const(_))) {
                    Template::Const(v.clone())
                } else {
                    Template::Array(items)
                }
            }
            other => Template::Const(other.clone()),
        }
    }
}

fn comparison(name: &str) -> Option<Comparison> {
    use Comparison::*;
    Some(match name {
        "StringEquals" => StringEquals,
        "StringLessThan" => StringLessThan,
        "StringGreaterThan" => StringGreaterThan,
        "StringLessThanEquals" => StringLessThanEquals,
        "StringGreaterThanEquals" => StringGreaterThanEquals,
        "StringMatches" => StringMatches,
        "NumericEquals" => NumericEquals,
        "NumericLessThan" => NumericLessThan,
        "NumericGreaterThan" => NumericGreaterThan,
        "NumericLessThanEquals" => NumericLessThanEquals,
        "NumericGreaterThanEquals" => NumericGreaterThanEquals,
        "BooleanEquals" => BooleanEquals,
        "TimestampEquals" => TimestampEquals,
        "TimestampLessThan" => TimestampLessThan,
        "TimestampGreaterThan" => TimestampGreaterThan,
        "TimestampLessThanEquals" => TimestampLessThanEquals,
        "TimestampGreaterThanEquals" => TimestampGreaterThanEquals,
        "IsNull" => IsNull,
        "IsPresent" => IsPresent,
        "IsNumeric" => IsNumeric,
        "IsString" => IsString,
        "IsBoolean" => IsBoolean,
        "IsTimestamp" => IsTimestamp,
        _ => return None,
    })
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
