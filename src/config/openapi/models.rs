//! Request models: JSON Schema draft 4 from `components/schemas` (OpenAPI 3) or
//! `definitions` (Swagger 2), `$ref`s between models (also API Gateway's
//! `https://apigateway.amazonaws.com/restapis/{id}/models/{name}` form) rewritten to
//! `#/definitions/{name}`, compiled once per model.

use indexmap::IndexMap;
use serde_json::Value;

use super::{Builder, Version};
use crate::config::diagnostic::ErrorKind;
use crate::config::document::join_pointer;
use crate::config::model::Model;

impl Builder<'_> {
    pub(super) fn request_models(&mut self, op: &Value, op_ptr: &str) -> IndexMap<String, Model> {
        let mut out = IndexMap::new();
        match self.version {
            Version::OpenApi3 => {
                let Some(body) = op.get("requestBody") else {
                    return out;
                };
                let Some((body, body_ptr)) = self.deref(body, &join_pointer(op_ptr, "requestBody"))
                else {
                    return out;
                };
                let Some(content) = body.get("content").and_then(Value::as_object) else {
                    return out;
                };
                for (mime, media) in content {
                    let Some(schema) = media.get("schema") else {
                        continue;
                    };
                    let ptr = join_pointer(
                        &join_pointer(&join_pointer(&body_ptr, "content"), mime),
                        "schema",
                    );
                    if let Some(model) = self.model(schema, &ptr) {
                        out.insert(mime.to_ascii_lowercase(), model);
                    }
                }
            }
            Version::Swagger2 => {
                let Some(params) = op.get("parameters").and_then(Value::as_array) else {
                    return out;
                };
                for (i, p) in params.iter().enumerate() {
                    let Some((p, p_ptr)) =
                        self.deref(p, &format!("{}/{i}", join_pointer(op_ptr, "parameters")))
                    else {
                        continue;
                    };
                    if p.get("in").and_then(Value::as_str) != Some("body") {
                        continue;
                    }
                    let Some(schema) = p.get("schema") else {
                        continue;
                    };
                    let consumes = op.get("consumes").or_else(|| self.root.get("consumes"));
                    let mimes: Vec<String> = consumes
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
                                .collect()
                        })
                        .filter(|v: &Vec<String>| !v.is_empty())
                        .unwrap_or_else(|| vec!["application/json".to_string()]);
                    if let Some(model) = self.model(schema, &join_pointer(&p_ptr, "schema")) {
                        for mime in mimes {
                            out.insert(mime, model.clone());
                        }
                    }
                }
            }
        }
        out
    }

    /// The named models, keyed by name, with `$ref`s rewritten to `#/definitions/{name}`.
    pub(super) fn all_models(&self) -> serde_json::Map<String, Value> {
        let section = match self.version {
            Version::OpenApi3 => self.root.pointer("/components/schemas"),
            Version::Swagger2 => self.root.get("definitions"),
        };
        section
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), rewrite_refs(v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(super) fn model(&mut self, schema: &Value, ptr: &str) -> Option<Model> {
        let (name, body, body_ptr) = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = model_name(reference).unwrap_or(reference).to_string();
                if let Some(cached) = self.models.get(&name) {
                    return cached.clone();
                }
                let Some((target, target_ptr)) = self.deref(schema, ptr) else {
                    self.models.insert(name, None);
                    return None;
                };
                (name, target.clone(), target_ptr)
            }
            None => ("inline".to_string(), schema.clone(), ptr.to_string()),
        };
        let mut compiled = rewrite_refs(&body);
        if let Value::Object(map) = &mut compiled {
            let mut definitions = self.all_models();
            if let Some(Value::Object(own)) = map.get("definitions") {
                for (k, v) in own {
                    definitions.insert(k.clone(), v.clone());
                }
            }
            map.insert("definitions".to_string(), Value::Object(definitions));
        }
        let model = match jsonschema::draft4::new(&compiled) {
            Ok(validator) => Some(Model::new(name.clone(), compiled, validator)),
            Err(e) => {
                self.error(
                    ErrorKind::Schema,
                    &body_ptr,
                    format!("model `{name}` is not a valid JSON Schema draft 4: {e}"),
                );
                None
            }
        };
        if name != "inline" {
            self.models.insert(name, model.clone());
        }
        model
    }
}

/// The model name a `$ref` names (`#/components/schemas/X`, `#/definitions/X`, or API
/// Gateway's `https://apigateway.amazonaws.com/restapis/{id}/models/X`).
fn model_name(reference: &str) -> Option<&str> {
    for prefix in ["#/components/schemas/", "#/definitions/"] {
        if let Some(name) = reference.strip_prefix(prefix) {
            return Some(name);
        }
    }
    if reference.starts_with("https://apigateway.amazonaws.com/restapis/") {
        return reference.rsplit_once("/models/").map(|(_, n)| n);
    }
    None
}

fn rewrite_refs(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if k == "$ref"
                        && let Some(name) = v.as_str().and_then(model_name)
                    {
                        return (k.clone(), Value::String(format!("#/definitions/{name}")));
                    }
                    (k.clone(), rewrite_refs(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(rewrite_refs).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_refs_are_rewritten_to_definitions() {
        let v = serde_json::json!({"properties": {"a": {"$ref": "#/components/schemas/A"},
            "b": {"$ref": "https://apigateway.amazonaws.com/restapis/abc/models/B"}}});
        assert_eq!(
            rewrite_refs(&v),
            serde_json::json!({"properties": {"a": {"$ref": "#/definitions/A"}, "b": {"$ref": "#/definitions/B"}}})
        );
    }
}
