//! CloudFormation intrinsic functions inside a document, resolved from variables:
//! `Fn::Sub` (string and `[string, {vars}]` forms, `${Name}`, `${Name.Attr}`, `${!Literal}`),
//! `Ref`, `Fn::GetAtt` (`[Res, Attr]` and `Res.Attr`), `Fn::Join`, `Fn::Select`,
//! `Fn::Split`. `Fn::Transform` is left in place (the SAM loader handles `AWS::Include`).
//!
//! Variables are plain text by name: `Workflow`, `AWS::Region`, and `Name.Attr` for
//! attributes. An unknown name is a [`Diagnostic`] at the intrinsic's JSON pointer.

use indexmap::IndexMap;
use serde_json::Value;

use crate::config::diagnostic::{Diagnostic, ErrorKind};
use crate::config::document::join_pointer;

/// The default pseudo parameters (`AWS::Region`, `AWS::AccountId`, ...), for local use.
pub(crate) fn pseudo_parameters(region: &str, account_id: &str, stack_name: &str) -> IndexMap<String, String> {
    let mut vars = IndexMap::new();
    vars.insert("AWS::Region".to_string(), region.to_string());
    vars.insert("AWS::AccountId".to_string(), account_id.to_string());
    vars.insert("AWS::StackName".to_string(), stack_name.to_string());
    vars.insert("AWS::StackId".to_string(), format!(
        "arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/00000000-0000-0000-0000-000000000000"
    ));
    vars.insert("AWS::Partition".to_string(), "aws".to_string());
    vars.insert("AWS::URLSuffix".to_string(), "amazonaws.com".to_string());
    vars
}

/// Resolves intrinsics against variables, collecting problems.
pub(crate) struct Resolver<'a> {
    vars: &'a IndexMap<String, String>,
    /// Problems found (diagnostics with `pointer` set; the caller adds the file).
    pub(crate) problems: Vec<Diagnostic>,
}

const INTRINSICS: &[&str] = &["Ref", "Fn::Sub", "Fn::GetAtt", "Fn::Join", "Fn::Select", "Fn::Split"];

impl<'a> Resolver<'a> {
    pub(crate) fn new(vars: &'a IndexMap<String, String>) -> Resolver<'a> {
        Resolver { vars, problems: Vec::new() }
    }

    /// Returns `value` with every intrinsic replaced by its result.
    pub(crate) fn resolve(&mut self, value: &Value, pointer: &str) -> Value {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().expect("invariant: one entry");
                if INTRINSICS.contains(&key.as_str()) {
                    let at = join_pointer(pointer, key);
                    return self.call(key, arg, &at);
                }
                Value::Object(self.resolve_map(map, pointer))
            }
            Value::Object(map) => Value::Object(self.resolve_map(map, pointer)),
            Value::Array(items) => Value::Array(
                items.iter().enumerate().map(|(i, v)| self.resolve(v, &format!("{pointer}/{i}"))).collect(),
            ),
            other => other.clone(),
        }
    }

    fn resolve_map(&mut self, map: &serde_json::Map<String, Value>, pointer: &str) -> serde_json::Map<String, Value> {
        map.iter().map(|(k, v)| (k.clone(), self.resolve(v, &join_pointer(pointer, k)))).collect()
    }

    fn problem(&mut self, kind: ErrorKind, pointer: &str, message: String) -> Value {
        self.problems.push(Diagnostic::error(kind, std::path::Path::new(""), pointer, message));
        Value::String(String::new())
    }

    fn lookup(&mut self, name: &str, pointer: &str, what: &str) -> Value {
        match self.vars.get(name) {
            Some(v) => Value::String(v.clone()),
            None => self.problem(
                ErrorKind::UnresolvedReference,
                pointer,
                format!("{what} `{name}` has no value (give it with --var {name}=VALUE or `variables:` in stepgate.yaml)"),
            ),
        }
    }

    fn call(&mut self, function: &str, arg: &Value, pointer: &str) -> Value {
        match function {
            "Ref" => match arg {
                Value::String(name) => self.lookup(name, pointer, "Ref"),
                _ => self.problem(ErrorKind::InvalidValue, pointer, "Ref takes a name".into()),
            },
            "Fn::GetAtt" => {
                let arg = self.resolve(arg, pointer);
                let name = match &arg {
                    Value::Array(parts) if parts.len() == 2 => match (&parts[0], &parts[1]) {
                        (Value::String(r), Value::String(a)) => Some(format!("{r}.{a}")),
                        _ => None,
                    },
                    Value::String(s) if s.contains('.') => Some(s.clone()),
                    _ => None,
                };
                match name {
                    Some(name) => self.lookup(&name, pointer, "Fn::GetAtt"),
                    None => self.problem(ErrorKind::InvalidValue, pointer, "Fn::GetAtt takes [Resource, Attribute]".into()),
                }
            }
            "Fn::Sub" => self.sub(arg, pointer),
            "Fn::Join" => {
                let arg = self.resolve(arg, pointer);
                match &arg {
                    Value::Array(parts) if parts.len() == 2 => match (&parts[0], &parts[1]) {
                        (Value::String(sep), Value::Array(items)) => {
                            let mut texts = Vec::new();
                            for (i, item) in items.iter().enumerate() {
                                match scalar_text(item) {
                                    Some(t) => texts.push(t),
                                    None => {
                                        return self.problem(
                                            ErrorKind::InvalidValue,
                                            &format!("{pointer}/1/{i}"),
                                            "Fn::Join items must be strings".into(),
                                        );
                                    }
                                }
                            }
                            Value::String(texts.join(sep))
                        }
                        _ => self.problem(ErrorKind::InvalidValue, pointer, "Fn::Join takes [separator, [items]]".into()),
                    },
                    _ => self.problem(ErrorKind::InvalidValue, pointer, "Fn::Join takes [separator, [items]]".into()),
                }
            }
            "Fn::Select" => {
                let arg = self.resolve(arg, pointer);
                let selected = match &arg {
                    Value::Array(parts) if parts.len() == 2 => {
                        let index = match &parts[0] {
                            Value::Number(n) => n.as_u64(),
                            Value::String(s) => s.parse().ok(),
                            _ => None,
                        };
                        match (index, &parts[1]) {
                            (Some(i), Value::Array(items)) => items.get(i as usize).cloned(),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                selected.unwrap_or_else(|| {
                    self.problem(ErrorKind::InvalidValue, pointer, "Fn::Select takes [index, [items]] with index in range".into())
                })
            }
            "Fn::Split" => {
                let arg = self.resolve(arg, pointer);
                match &arg {
                    Value::Array(parts) if parts.len() == 2 => match (&parts[0], &parts[1]) {
                        (Value::String(sep), Value::String(s)) if !sep.is_empty() => {
                            Value::Array(s.split(sep.as_str()).map(|p| Value::String(p.to_string())).collect())
                        }
                        _ => self.problem(ErrorKind::InvalidValue, pointer, "Fn::Split takes [separator, string]".into()),
                    },
                    _ => self.problem(ErrorKind::InvalidValue, pointer, "Fn::Split takes [separator, string]".into()),
                }
            }
            _ => arg.clone(),
        }
    }

    fn sub(&mut self, arg: &Value, pointer: &str) -> Value {
        let (template, local) = match arg {
            Value::String(s) => (s.clone(), IndexMap::new()),
            Value::Array(parts) if parts.len() == 2 => {
                let Value::String(s) = &parts[0] else {
                    return self.problem(ErrorKind::InvalidValue, pointer, "Fn::Sub takes a string or [string, {vars}]".into());
                };
                let mut local = IndexMap::new();
                if let Value::Object(map) = &parts[1] {
                    for (k, v) in map {
                        let resolved = self.resolve(v, &join_pointer(&format!("{pointer}/1"), k));
                        local.insert(k.clone(), scalar_text(&resolved).unwrap_or_default());
                    }
                } else {
                    return self.problem(ErrorKind::InvalidValue, &format!("{pointer}/1"), "Fn::Sub variables must be a map".into());
                }
                (s.clone(), local)
            }
            _ => return self.problem(ErrorKind::InvalidValue, pointer, "Fn::Sub takes a string or [string, {vars}]".into()),
        };
        let mut out = String::with_capacity(template.len());
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let name = name.trim();
                let value = match local.get(name) {
                    Some(v) => v.clone(),
                    None => match self.lookup(name, pointer, "Fn::Sub variable") {
                        Value::String(s) => s,
                        _ => String::new(),
                    },
                };
                out.push_str(&value);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Value::String(out)
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> IndexMap<String, String> {
        let mut v = pseudo_parameters("eu-west-1", "123456789012", "demo");
        v.insert("Workflow".into(), "arn:aws:states:eu-west-1:123456789012:stateMachine:wf".into());
        v.insert("Role.Arn".into(), "arn:aws:iam::123456789012:role/r".into());
        v
    }

    #[test]
    fn intrinsics_sub_forms() {
        let vars = vars();
        let mut r = Resolver::new(&vars);
        let v = r.resolve(
            &json!({
                "a": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:states:action/StartExecution"},
                "b": {"Fn::Sub": ["${X}-${AWS::StackName}-${!Literal}", {"X": {"Ref": "Workflow"}}]},
                "c": {"Fn::Sub": "${Role.Arn}"},
            }),
            "",
        );
        assert!(r.problems.is_empty());
        assert_eq!(
            v,
            json!({"a": "arn:aws:apigateway:eu-west-1:states:action/StartExecution",
                   "b": "arn:aws:states:eu-west-1:123456789012:stateMachine:wf-demo-${Literal}",
                   "c": "arn:aws:iam::123456789012:role/r"})
        );
    }

    #[test]
    fn intrinsics_ref_getatt_join_select_split() {
        let vars = vars();
        let mut r = Resolver::new(&vars);
        let v = r.resolve(
            &json!([{"Fn::GetAtt": ["Role", "Arn"]}, {"Fn::GetAtt": "Role.Arn"},
                    {"Fn::Join": ["/", ["", {"Ref": "AWS::StackName"}, ""]]},
                    {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}]),
            "",
        );
        assert!(r.problems.is_empty());
        assert_eq!(v, json!(["arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:role/r", "/demo/", "b"]));
    }

    #[test]
    fn intrinsics_unknown_names_are_reported_at_their_pointer() {
        let vars = vars();
        let mut r = Resolver::new(&vars);
        r.resolve(&json!({"paths": {"/x": {"uri": {"Fn::Sub": "${Nope}"}, "r": {"Ref": "Gone"}}}}), "");
        let found: Vec<(&str, &str)> = r.problems.iter().map(|p| (p.pointer.as_str(), p.message.as_str())).collect();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "/paths/~1x/uri/Fn::Sub");
        assert!(found[0].1.starts_with("Fn::Sub variable `Nope` has no value"));
        assert_eq!(found[1].0, "/paths/~1x/r/Ref");
    }
}
