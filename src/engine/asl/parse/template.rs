//! Payload templates: JSONPath `.$` keys and intrinsic calls, JSONata `{% %}` expressions.

use super::{Cx, pointer_escape};
use crate::engine::asl::intrinsic::{Intrinsic, looks_like_call};
use crate::engine::asl::model::*;
use crate::engine::asl::path::JsonPath;
use serde_json::Value;

impl Cx {
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
                if dynamic {
                    Template::Object(fields)
                } else {
                    Template::Const(v.clone())
                }
            }
            Value::Array(a) => {
                let items: Vec<Template> = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.template(x, &format!("{at}/{i}"), false))
                    .collect();
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
    pub(super) fn jtemplate(&mut self, v: &Value, field: &str, at: &str) -> Template {
        match v {
            Value::String(s) => match crate::engine::asl::jsonata::expression_text(s) {
                Some(text) => match crate::engine::asl::jsonata::Expr::parse(text, field) {
                    Ok(e) => Template::Expr(Box::new(e)),
                    Err(e) => {
                        self.schema(
                            format_args!("The JSONata expression '{text}' is not valid: {e}"),
                            at,
                        );
                        Template::Const(v.clone())
                    }
                },
                None => Template::Const(v.clone()),
            },
            Value::Object(m) => {
                let fields: Vec<(String, Template)> = m
                    .iter()
                    .map(|(k, x)| {
                        let t = self.jtemplate(
                            x,
                            &format!("{field}/{k}"),
                            &format!("{at}/{}", pointer_escape(k)),
                        );
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
