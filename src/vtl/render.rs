//! How values become text: Java `toString()` (`{k=v, k2=v2}`, `[a, 1]`, `1.0`,
//! `1.5E10`), json-smart's compact JSON for arrays that came from a JSON document
//! (`["x\/y",1]`), and API Gateway's rule that a null reference renders as nothing.
//!
//! Collections may contain themselves (`$m.put('self', $m)`); like Java this prints
//! `(this Map)` / `(this Collection)`, and nesting deeper than [`MAX_NESTING`] prints
//! `...` instead of overflowing the stack.

use std::fmt::Write as _;

use super::value::{ListKind, Value};

/// Nesting depth at which rendering of collections stops.
pub const MAX_NESTING: usize = 200;

impl Value {
    /// Appends what `$x` renders as in a template: null renders as nothing (API Gateway's
    /// rule), everything else as Java's `toString()`.
    pub fn render_into(&self, out: &mut String) {
        match self {
            Value::Null => {}
            Value::String(s) => out.push_str(s),
            _ => self.write_java(out, &mut Vec::new()),
        }
    }

    /// Java's `String.valueOf(x)`: `null` for null.
    pub fn to_java_string(&self) -> String {
        match self {
            Value::String(s) => s.to_string(),
            _ => {
                let mut out = String::new();
                self.write_java(&mut out, &mut Vec::new());
                out
            }
        }
    }

    /// Compact JSON as json-smart writes it (`/` as `\/`, `1.0`, `1.5E10`).
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out, &mut Vec::new());
        out
    }

    fn write_java(&self, out: &mut String, seen: &mut Vec<usize>) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Long(l) => {
                let _ = write!(out, "{l}");
            }
            Value::Double(d) => write_java_double(out, *d),
            Value::String(s) => out.push_str(s),
            Value::Object(o) => out.push_str(&o.render()),
            Value::List(list) => {
                let id = list_id(list);
                if list.lock().kind == ListKind::Json {
                    return self.write_json(out, seen);
                }
                if seen.len() >= MAX_NESTING {
                    out.push_str("...");
                    return;
                }
                seen.push(id);
                let items = list.lock().items.clone();
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match item {
                        Value::List(l) if seen.contains(&list_id(l)) => {
                            out.push_str("(this Collection)")
                        }
                        Value::Map(m) if seen.contains(&map_id(m)) => out.push_str("(this Map)"),
                        _ => item.write_java(out, seen),
                    }
                }
                out.push(']');
                seen.pop();
            }
            Value::Map(map) => {
                if seen.len() >= MAX_NESTING {
                    out.push_str("...");
                    return;
                }
                seen.push(map_id(map));
                let entries: Vec<_> = map
                    .lock()
                    .entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    match v {
                        Value::List(l) if seen.contains(&list_id(l)) => {
                            out.push_str("(this Collection)")
                        }
                        Value::Map(m) if seen.contains(&map_id(m)) => out.push_str("(this Map)"),
                        _ => v.write_java(out, seen),
                    }
                }
                out.push('}');
                seen.pop();
            }
        }
    }

    fn write_json(&self, out: &mut String, seen: &mut Vec<usize>) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(_) | Value::Int(_) | Value::Long(_) => self.write_java(out, seen),
            Value::Double(d) => {
                if d.is_finite() {
                    write_java_double(out, *d);
                } else {
                    out.push_str("null");
                }
            }
            Value::String(s) => write_json_string(out, s),
            Value::Object(o) => write_json_string(out, &o.render()),
            Value::List(list) => {
                let id = list_id(list);
                if seen.len() >= MAX_NESTING || seen.contains(&id) {
                    out.push_str("null");
                    return;
                }
                seen.push(id);
                let items = list.lock().items.clone();
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out, seen);
                }
                out.push(']');
                seen.pop();
            }
            Value::Map(map) => {
                let id = map_id(map);
                if seen.len() >= MAX_NESTING || seen.contains(&id) {
                    out.push_str("null");
                    return;
                }
                seen.push(id);
                let entries: Vec<_> = map
                    .lock()
                    .entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, k);
                    out.push(':');
                    v.write_json(out, seen);
                }
                out.push('}');
                seen.pop();
            }
        }
    }
}

fn list_id(l: &super::value::List) -> usize {
    l.addr()
}

fn map_id(m: &super::value::MapRef) -> usize {
    m.addr()
}

/// A JSON string literal escaped as json-smart does: `"` `\` `/` and the short escapes,
/// `\uXXXX` (upper case) for control characters, U+007F..U+009F and U+2000..U+20FF.
pub fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '/' => Some("\\/"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            _ => None,
        };
        let needs_u = matches!(c as u32, 0..=0x1F | 0x7F..=0x9F | 0x2000..=0x20FF);
        if esc.is_none() && !needs_u {
            continue;
        }
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Java's `Double.toString`: `1.0`, `0.001`, `1.0E-4`, `1.0E7`, `1.5E10`, `NaN`, `Infinity`.
pub fn write_java_double(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("NaN");
        return;
    }
    if d.is_infinite() {
        out.push_str(if d > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if d == 0.0 {
        out.push_str(if d.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let start = out.len();
        let _ = write!(out, "{d}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
        return;
    }
    // Shortest digits in scientific form, then Java's layout `d.dddE±n`.
    let sci = format!("{d:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push('E');
    out.push_str(exp);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vtl::value::{Map, MapRef};
    use std::sync::Arc;

    fn dbl(d: f64) -> String {
        let mut s = String::new();
        write_java_double(&mut s, d);
        s
    }

    #[test]
    fn doubles_render_like_java() {
        assert_eq!(dbl(1.0), "1.0");
        assert_eq!(dbl(3.5), "3.5");
        assert_eq!(dbl(1000.0), "1000.0");
        assert_eq!(dbl(0.001), "0.001");
        assert_eq!(dbl(1e-4), "1.0E-4");
        assert_eq!(dbl(1e7), "1.0E7");
        assert_eq!(dbl(9999999.0), "9999999.0");
        assert_eq!(dbl(1.5e10), "1.5E10");
        assert_eq!(dbl(12345678.9), "1.23456789E7");
        assert_eq!(dbl(-2.5e-5), "-2.5E-5");
        assert_eq!(dbl(100.0 / 3.0), "33.333333333333336");
        assert_eq!(dbl(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(dbl(-0.0), "-0.0");
        assert_eq!(dbl(f64::NAN), "NaN");
        assert_eq!(dbl(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn json_strings_escape_like_json_smart() {
        let mut s = String::new();
        write_json_string(&mut s, "a/b\"\\\n\u{7f}\u{85}\u{2028}\u{20ac}é\u{1}");
        assert_eq!(s, r#""a\/b\"\\\n\u007F\u0085\u2028\u20ACé\u0001""#);
    }

    #[test]
    fn maps_and_lists_render_like_java() {
        let inner = Value::List(crate::vtl::List::new(
            ListKind::Json,
            vec![Value::Int(1), Value::string("/")],
        ));
        let mut m = Map::default();
        m.insert(Arc::from("a"), Value::string("x"));
        m.insert(Arc::from("l"), inner);
        m.insert(Arc::from("n"), Value::Null);
        let v = Value::map(m);
        assert_eq!(v.to_java_string(), r#"{a=x, l=[1,"\/"], n=null}"#);
        let jl = Value::java_list(vec![Value::string("a"), Value::Double(2.0), Value::Null]);
        assert_eq!(jl.to_java_string(), "[a, 2.0, null]");
        assert_eq!(jl.to_json_string(), r#"["a",2.0,null]"#);
    }

    #[test]
    fn self_containing_collections_do_not_recurse() {
        let m = MapRef::new(false, Map::default());
        m.insert("a", Value::Int(1));
        m.insert("self", Value::Map(m.clone()));
        assert_eq!(
            Value::Map(m.clone()).to_java_string(),
            "{a=1, self=(this Map)}"
        );
        let l = crate::vtl::List::new(ListKind::Java, vec![Value::Int(1)]);
        l.lock().items.push(Value::List(l.clone()));
        assert_eq!(Value::List(l).to_java_string(), "[1, (this Collection)]");
    }

    #[test]
    fn null_renders_empty_in_templates() {
        let mut s = String::new();
        Value::Null.render_into(&mut s);
        assert_eq!(s, "");
        assert_eq!(Value::Null.to_java_string(), "null");
    }
}
