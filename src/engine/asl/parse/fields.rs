//! Field parsers shared by the state types: ResultPath, Error/Cause, Wait, Map, Retry, Catch.

use super::Cx;
use crate::engine::asl::intrinsic::{Intrinsic, looks_like_call};
use crate::engine::asl::model::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

impl Cx {
    pub(super) fn result_path(&mut self, v: &Value, at: &str) -> ResultPath {
        match self.path(v, at) {
            Some(p) if p.is_root() && *p.root() == crate::engine::asl::path::Root::Input => {
                ResultPath::Replace
            }
            Some(p) if p.is_definite() && *p.root() == crate::engine::asl::path::Root::Input => {
                ResultPath::Path(p)
            }
            Some(_) => {
                self.schema(
                    "The value for the field 'ResultPath' must be a valid ReferencePath",
                    at,
                );
                ResultPath::Replace
            }
            None => ResultPath::Replace,
        }
    }

    pub(super) fn text(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        jsonata: bool,
        at: &str,
    ) -> Option<Text> {
        if let (true, Some(v @ Value::String(_))) = (jsonata, obj.get(key)) {
            return match self.template(v, &format!("{at}/{key}"), true) {
                t @ Template::Expr(_) => Some(Text::Expr(t)),
                _ => v.as_str().map(|s| Text::Literal(s.to_owned())),
            };
        }
        let path_key = format!("{key}Path");
        if let Some(p) = obj.get(&path_key) {
            if obj.contains_key(key) {
                self.schema(
                    format_args!("The fields '{key}' and '{path_key}' are mutually exclusive"),
                    at,
                );
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
        self.string(obj, key, at)
            .map(|s| Text::Literal(s.to_owned()))
    }

    pub(super) fn wait(&mut self, obj: &Map<String, Value>, at: &str) -> WaitFor {
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
        if let Value::String(s) = v
            && crate::engine::asl::jsonata::expression_text(s).is_some()
            && matches!(key, "Seconds" | "Timestamp")
        {
            let t = self.template(v, &vat, true);
            return if key == "Seconds" {
                WaitFor::SecondsExpr(t)
            } else {
                WaitFor::TimestampExpr(t)
            };
        }
        match key {
            "Seconds" => match v.as_u64() {
                Some(n) => WaitFor::Seconds(n),
                None => {
                    self.schema(
                        "The value for the field 'Seconds' must be a non-negative INTEGER",
                        &vat,
                    );
                    WaitFor::Seconds(0)
                }
            },
            "Timestamp" => {
                match v.as_str().and_then(crate::engine::exec::parse_timestamp) {
                    Some(t) => WaitFor::Timestamp(t),
                    None => {
                        self.schema("The value for the field 'Timestamp' must be a valid ISO-8601 timestamp", &vat);
                        WaitFor::Seconds(0)
                    }
                }
            }
            "SecondsPath" => self
                .path(v, &vat)
                .map(WaitFor::SecondsPath)
                .unwrap_or(WaitFor::Seconds(0)),
            _ => self
                .path(v, &vat)
                .map(WaitFor::TimestampPath)
                .unwrap_or(WaitFor::Seconds(0)),
        }
    }

    pub(super) fn map(
        &mut self,
        obj: &Map<String, Value>,
        ql: QueryLanguage,
        jsonata: bool,
        at: &str,
    ) -> Option<StateKind> {
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
        self.check_fields(
            po,
            &[
                "StartAt",
                "States",
                "Comment",
                "ProcessorConfig",
                "QueryLanguage",
            ],
            &pat,
        );
        if let Some(mode) = po
            .get("ProcessorConfig")
            .and_then(|c| c.get("Mode"))
            .and_then(Value::as_str)
            && mode != "INLINE"
            && mode != "DISTRIBUTED"
        {
            {
                self.schema(
                    "The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]",
                    &format!("{pat}/ProcessorConfig/Mode"),
                );
            }
        }
        let processor = self.program(po, ql, &pat)?;
        let items_path = obj
            .get("ItemsPath")
            .and_then(|v| self.path(v, &format!("{at}/ItemsPath")));
        let items = obj
            .get("Items")
            .map(|v| self.template(v, &format!("{at}/Items"), true));
        if items.is_some() && !jsonata {
            self.schema(
                "The field \"Items\" is only supported when QueryLanguage is JSONata",
                at,
            );
        }
        let item_selector = match (obj.get("ItemSelector"), obj.get("Parameters")) {
            (Some(_), Some(_)) => {
                self.schema(
                    "The fields 'ItemSelector' and 'Parameters' are mutually exclusive",
                    at,
                );
                None
            }
            (Some(v), None) => Some(self.template(v, &format!("{at}/ItemSelector"), jsonata)),
            (None, Some(v)) => Some(self.template(v, &format!("{at}/Parameters"), jsonata)),
            (None, None) => None,
        };
        let batcher = match obj.get("ItemBatcher") {
            None => None,
            Some(Value::Object(b)) => {
                let bat = format!("{at}/ItemBatcher");
                self.check_fields(
                    b,
                    &[
                        "MaxItemsPerBatch",
                        "MaxItemsPerBatchPath",
                        "MaxInputBytesPerBatch",
                        "MaxInputBytesPerBatchPath",
                        "BatchInput",
                    ],
                    &bat,
                );
                let max_items_per_batch = self.number(b, "MaxItemsPerBatch", &bat);
                let batch_input = b
                    .get("BatchInput")
                    .map(|v| self.template(v, &format!("{bat}/BatchInput"), jsonata));
                Some(ItemBatcher {
                    max_items_per_batch,
                    batch_input,
                })
            }
            Some(_) => {
                self.schema(
                    "The value for the field 'ItemBatcher' must be an OBJECT",
                    &format!("{at}/ItemBatcher"),
                );
                None
            }
        };
        Some(StateKind::Map(Box::new(MapState {
            items_path,
            items,
            item_selector,
            processor,
            max_concurrency: self.number(obj, "MaxConcurrency", at),
            tolerated_failure_count: self.number(obj, "ToleratedFailureCount", at),
            tolerated_failure_percentage: self.number(obj, "ToleratedFailurePercentage", at),
            batcher,
            unsupported: ["ItemReader", "ResultWriter"]
                .into_iter()
                .find(|f| obj.contains_key(*f)),
        })))
    }

    pub(super) fn error_equals(&mut self, o: &Map<String, Value>, at: &str) -> Vec<String> {
        match o.get("ErrorEquals").and_then(Value::as_array) {
            Some(a) if !a.is_empty() => {
                let v: Vec<String> = a
                    .iter()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect();
                if v.iter().any(|e| e == "States.ALL") && v.len() > 1 {
                    self.schema(
                        "States.ALL must appear alone in ErrorEquals",
                        &format!("{at}/ErrorEquals"),
                    );
                }
                v
            }
            _ => {
                self.schema("These fields are required: [ErrorEquals]", at);
                Vec::new()
            }
        }
    }

    pub(super) fn retriers(&mut self, v: Option<&Value>, at: &str) -> Vec<Retrier> {
        let Some(v) = v else { return Vec::new() };
        let Some(arr) = v.as_array() else {
            self.schema(
                "The value for the field 'Retry' must be an ARRAY",
                &format!("{at}/Retry"),
            );
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
                &[
                    "ErrorEquals",
                    "IntervalSeconds",
                    "MaxAttempts",
                    "BackoffRate",
                    "MaxDelaySeconds",
                    "JitterStrategy",
                    "Comment",
                ],
                &rat,
            );
            let error_equals = self.error_equals(o, &rat);
            let backoff_rate = match o.get("BackoffRate") {
                None => 2.0,
                Some(b) => match b.as_f64() {
                    Some(f) if f >= 1.0 => f,
                    _ => {
                        self.schema(
                            "The value for the field 'BackoffRate' must be a NUMBER >= 1.0",
                            &format!("{rat}/BackoffRate"),
                        );
                        2.0
                    }
                },
            };
            let jitter = match o.get("JitterStrategy").and_then(Value::as_str) {
                None | Some("NONE") => false,
                Some("FULL") => true,
                Some(_) => {
                    self.schema(
                        "The value for the field 'JitterStrategy' must be one of [FULL, NONE]",
                        &format!("{rat}/JitterStrategy"),
                    );
                    false
                }
            };
            out.push(Retrier {
                error_equals,
                interval_seconds: self.uint(o, "IntervalSeconds", &rat).unwrap_or(1),
                max_attempts: self
                    .uint(o, "MaxAttempts", &rat)
                    .map(|n| n.min(u32::MAX as u64) as u32)
                    .unwrap_or(3),
                backoff_rate,
                max_delay_seconds: self.uint(o, "MaxDelaySeconds", &rat),
                jitter,
            });
        }
        out
    }

    pub(super) fn catchers(
        &mut self,
        v: Option<&Value>,
        index: &HashMap<String, usize>,
        jsonata: bool,
        at: &str,
    ) -> Vec<Catcher> {
        let Some(v) = v else { return Vec::new() };
        let Some(arr) = v.as_array() else {
            self.schema(
                "The value for the field 'Catch' must be an ARRAY",
                &format!("{at}/Catch"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, c) in arr.iter().enumerate() {
            let cat = format!("{at}/Catch/{i}");
            let Some(o) = c.as_object() else {
                self.schema("A catcher must be a JSON object", &cat);
                continue;
            };
            self.check_fields(
                o,
                &[
                    "ErrorEquals",
                    "Next",
                    "ResultPath",
                    "Assign",
                    "Output",
                    "Comment",
                ],
                &cat,
            );
            let error_equals = self.error_equals(o, &cat);
            let result_path = match o.get("ResultPath") {
                None => ResultPath::Replace,
                Some(Value::Null) => ResultPath::Discard,
                Some(v) => self.result_path(v, &format!("{cat}/ResultPath")),
            };
            let assign = o
                .get("Assign")
                .map(|a| self.template(a, &format!("{cat}/Assign"), jsonata));
            let output = o
                .get("Output")
                .map(|a| self.template(a, &format!("{cat}/Output"), true));
            if !o.contains_key("Next") {
                self.schema("These fields are required: [Next]", &cat);
                continue;
            }
            if let Some(next) = self.target(o.get("Next"), index, &format!("{cat}/Next")) {
                out.push(Catcher {
                    error_equals,
                    result_path,
                    next,
                    assign,
                    output,
                });
            }
        }
        out
    }
}
