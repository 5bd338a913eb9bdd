//! Java's `String.valueOf` for template values, as `$util` functions and `$input`
//! methods receive their arguments (the engine's `toString()` rendering: maps as
//! `{k=v}`, JSON arrays as compact JSON, Java lists as `[a, b]`), with `None` for null.

use crate::vtl::Value;

/// `String.valueOf(v)`, or `None` for Java `null`.
pub fn to_java_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.to_string()),
        other => Some(other.to_java_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_print_like_java() {
        let v = Value::from_json(&json!({"foo": [{"nested": "bar"}], "n": 1, "d": 1.5, "z": null}));
        assert_eq!(to_java_string(&v).as_deref(), Some("{foo=[{\"nested\":\"bar\"}], n=1, d=1.5, z=null}"));
        let l = Value::java_list(vec![Value::from("x"), Value::Int(1), Value::Null]);
        assert_eq!(to_java_string(&l).as_deref(), Some("[x, 1, null]"));
        assert_eq!(to_java_string(&Value::Double(1e20)).as_deref(), Some("1.0E20"));
        assert_eq!(to_java_string(&Value::Null), None);
    }
}
