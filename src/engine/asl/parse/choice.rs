//! Choice states: rules, `And`/`Or`/`Not`, operators and their `Path` forms, JSONata `Condition`.

use super::Cx;
use crate::engine::asl::model::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

impl Cx {
    pub(super) fn choice(
        &mut self,
        obj: &Map<String, Value>,
        index: &HashMap<String, usize>,
        jsonata: bool,
        at: &str,
    ) -> StateKind {
        let default = obj
            .get("Default")
            .and_then(|d| self.target(Some(d), index, &format!("{at}/Default")));
        let mut choices = Vec::new();
        match obj.get("Choices").and_then(Value::as_array) {
            Some(a) if !a.is_empty() => {
                for (i, c) in a.iter().enumerate() {
                    let cat = format!("{at}/Choices/{i}");
                    let Some(co) = c.as_object() else {
                        self.schema("A choice rule must be a JSON object", &cat);
                        continue;
                    };
                    let Some(next) = self.target(co.get("Next"), index, &format!("{cat}/Next"))
                    else {
                        if !co.contains_key("Next") {
                            self.schema("These fields are required: [Next]", &cat);
                        }
                        continue;
                    };
                    let assign = co
                        .get("Assign")
                        .map(|a| self.template(a, &format!("{cat}/Assign"), jsonata));
                    let output = co
                        .get("Output")
                        .map(|a| self.template(a, &format!("{cat}/Output"), true));
                    if let Some(rule) = self.rule(co, &cat, true) {
                        choices.push(ChoiceBranch {
                            rule,
                            next,
                            assign,
                            output,
                        });
                    }
                }
            }
            _ => self.schema("These fields are required: [Choices]", at),
        }
        StateKind::Choice { choices, default }
    }

    pub(super) fn rule(
        &mut self,
        o: &Map<String, Value>,
        at: &str,
        top: bool,
    ) -> Option<ChoiceRule> {
        let mut extra: Vec<&str> = vec!["Comment"];
        if top {
            extra.extend(["Next", "Assign", "Output"]);
        }
        if let Some(c) = o.get("Condition") {
            return Some(ChoiceRule::Condition(self.template(
                c,
                &format!("{at}/Condition"),
                true,
            )));
        }
        for comb in ["And", "Or"] {
            if let Some(v) = o.get(comb) {
                let Some(arr) = v.as_array().filter(|a| !a.is_empty()) else {
                    self.schema(
                        format_args!("The value for the field '{comb}' must be a non-empty ARRAY"),
                        &format!("{at}/{comb}"),
                    );
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
                return Some(if comb == "And" {
                    ChoiceRule::And(rules)
                } else {
                    ChoiceRule::Or(rules)
                });
            }
        }
        if let Some(v) = o.get("Not") {
            let Some(ro) = v.as_object() else {
                self.schema(
                    "The value for the field 'Not' must be an OBJECT",
                    &format!("{at}/Not"),
                );
                return None;
            };
            return self
                .rule(ro, &format!("{at}/Not"), false)
                .map(|r| ChoiceRule::Not(Box::new(r)));
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
                self.schema(
                    format_args!("The field \"{k}\" is not supported by Step Functions"),
                    at,
                );
                return None;
            };
            if found.is_some() {
                self.schema(
                    "A choice rule must have exactly one comparison operator",
                    at,
                );
                return None;
            }
            let kat = format!("{at}/{k}");
            let operand = if is_path {
                if matches!(op, Comparison::StringMatches) || name.starts_with("Is") {
                    self.schema(
                        format_args!("The field \"{k}\" is not supported by Step Functions"),
                        at,
                    );
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
                    | Comparison::TimestampGreaterThanEquals => v
                        .as_str()
                        .and_then(crate::engine::exec::parse_timestamp)
                        .is_some(),
                    _ => v.is_boolean(),
                };
                if !ok {
                    self.schema(
                        format_args!("The value for the field '{k}' has the wrong type"),
                        &kat,
                    );
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
        Some(ChoiceRule::Test {
            variable,
            op,
            operand,
        })
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
