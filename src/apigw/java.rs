//! Java's `String.valueOf` for template values, as `$util` functions receive their
//! arguments: maps as `{k=v, k2=v2}`, JSON arrays (json-smart `JSONArray`) as compact
//! JSON, Java lists as `[a, b]`, doubles as `Double.toString`. Self-containing
//! collections print `(this Map)` / `(this Collection)` instead of recursing.

use std::fmt::Write as _;

use crate::vtl::{List, ListKind, MapRef, Value};

use super::json_smart;

/// `String.valueOf(v)`, or `None` for Java `null`.
pub fn to_java_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.to_string()),
        _ => {
            let mut out = String::new();
            write_java(v, &mut out, &mut Vec::new());
            Some(out)
        }
    }
}

/// A collection being printed (to detect cycles without re-locking it).
enum Open {
    List(List),
    Map(MapRef),
}

fn is_open(v: &Value, open: &[Open]) -> bool {
    open.iter().any(|o| match (o, v) {
        (Open::List(a), Value::List(b)) => a.ptr_eq(b),
        (Open::Map(a), Value::Map(b)) => a.ptr_eq(b),
        _ => false,
    })
}

fn write_java(v: &Value, out: &mut String, open: &mut Vec<Open>) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Long(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Double(d) => out.push_str(&json_smart::java_double(*d)),
        Value::String(s) => out.push_str(s),
        Value::Object(o) => out.push_str(&o.render()),
        Value::List(l) if is_open(v, open) => out.push_str("(this Collection)"),
        Value::Map(m) if is_open(v, open) => out.push_str("(this Map)"),
        Value::List(l) => {
            let items = l.lock().items.clone();
            let kind = l.lock().kind;
            open.push(Open::List(l.clone()));
            match kind {
                ListKind::Json => write_json_list(&items, out, open),
                ListKind::Java => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        write_java(item, out, open);
                    }
                    out.push(']');
                }
            }
            open.pop();
        }
        Value::Map(m) => {
            let entries: Vec<(std::sync::Arc<str>, Value)> =
                m.lock().entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            open.push(Open::Map(m.clone()));
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java(item, out, open);
            }
            out.push('}');
            open.pop();
        }
    }
}

/// json-smart `JSONArray.toJSONString`: compact JSON; maps inside become JSON objects.
fn write_json_list(items: &[Value], out: &mut String, open: &mut Vec<Open>) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_value(item, out, open);
    }
    out.push(']');
}

fn write_json_value(v: &Value, out: &mut String, open: &mut Vec<Open>) {
    match v {
        Value::Null => out.push_str("null"),
        Value::String(s) => json_smart::write_string(s, out),
        Value::Object(o) => json_smart::write_string(&o.render(), out),
        Value::List(_) | Value::Map(_) if is_open(v, open) => out.push_str("null"),
        Value::List(l) => {
            let items = l.lock().items.clone();
            open.push(Open::List(l.clone()));
            write_json_list(&items, out, open);
            open.pop();
        }
        Value::Map(m) => {
            let entries: Vec<(std::sync::Arc<str>, Value)> =
                m.lock().entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            open.push(Open::Map(m.clone()));
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_smart::write_string(k, out);
                out.push(':');
                write_json_value(item, out, open);
            }
            out.push('}');
            open.pop();
        }
        other => write_java(other, out, open),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_print_like_java() {
        let v = Value::from_json(&json!({"foo": [{"nested": "bar"}], "n": 1, "d": 1.5, "z": null}));
        assert_eq!(to_json(&v), "{foo=[{\"nested\":\"bar\"}], n=1, d=1.5, z=null}");
        let l = Value::java_list(vec![Value::from("x"), Value::Int(1), Value::Null]);
        assert_eq!(to_json(&l), "[x, 1, null]");
        assert_eq!(to_json(&Value::Double(1e20)), "1.0E20");
        assert_eq!(to_java_string(&Value::Null), None);
    }

    #[test]
    fn self_containing_collections_do_not_recurse() {
        let m = Value::new_map();
        if let Value::Map(r) = &m {
            r.insert("me", m.clone());
        }
        assert_eq!(to_json(&m), "{me=(this Map)}");
    }

    fn to_json(v: &Value) -> String {
        to_java_string(v).unwrap_or_default()
    }
}
