//! Writing response bodies the way Step Functions writes them on the AWS JSON 1.0 wire, so
//! a body passed through to a client matches AWS byte for byte:
//!
//! * members of every object in alphabetical order (AWS's raw bodies list
//!   `executionArn, name, startDate, stateMachineArn, status`, not the model's order);
//! * numbers that are doubles (the timestamps) as Java's `Double.toString` prints them:
//!   `"startDate":1.795266197959E9`, `1.0E9`, `0.5`.
//!
//! Strings are escaped as serde_json does (only `"`, `\` and control characters; non-ASCII
//! stays UTF-8). Uses nothing else in the crate.

use std::io;

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter};

/// Serializes `value` as AWS would send it (see the module docs).
pub fn to_vec<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut tree = serde_json::to_value(value)?;
    sort_members(&mut tree);
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, JavaNumbers);
    tree.serialize(&mut ser)?;
    Ok(out)
}

/// Puts the members of every object, at every depth, in alphabetical order.
fn sort_members(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_members);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_members),
        _ => {}
    }
}

/// Compact JSON with doubles printed by [`java_double`].
struct JavaNumbers;

impl Formatter for JavaNumbers {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        if value.is_finite() {
            writer.write_all(java_double(value).as_bytes())
        } else {
            CompactFormatter.write_null(writer)
        }
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }
}

/// Java's `Double.toString`: plain decimals for 10⁻³ ≤ |d| < 10⁷ (always with a fraction
/// digit, `12.0`), otherwise `d.dddE±n`; the shortest digits that read back as `d`.
pub fn java_double(d: f64) -> String {
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    if (1e-3..1e7).contains(&d.abs()) {
        let s = d.to_string();
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{d:e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
    if mantissa.contains('.') {
        format!("{mantissa}E{exponent}")
    } else {
        format!("{mantissa}.0E{exponent}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        for (d, java) in [
            (1_795_266_197.959, "1.795266197959E9"),
            (1_544_436_054.212, "1.544436054212E9"),
            (1_795_266_198.0, "1.795266198E9"),
            (1e9, "1.0E9"),
            (1e7, "1.0E7"),
            (9_999_999.5, "9999999.5"),
            (12.0, "12.0"),
            (0.5, "0.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (-2.5e-5, "-2.5E-5"),
            (0.0, "0.0"),
        ] {
            assert_eq!(java_double(d), java, "{d}");
        }
    }

    #[test]
    fn members_are_sorted_at_every_depth_and_integers_stay_integers() {
        let v = serde_json::json!({
            "status": "RUNNING", "executionArn": "e", "startDate": 1_544_436_054.212, "name": "n",
            "nested": [{"b": 1, "a": {"z": true, "y": null}}], "id": 7
        });
        assert_eq!(
            String::from_utf8(to_vec(&v).unwrap()).unwrap(),
            r#"{"executionArn":"e","id":7,"name":"n","nested":[{"a":{"y":null,"z":true},"b":1}],"startDate":1.544436054212E9,"status":"RUNNING"}"#
        );
    }

    #[test]
    fn strings_keep_non_ascii_and_escape_quotes() {
        let v = serde_json::json!({"input": "{\"a\":\"Zürich ✓ it's\"}"});
        assert_eq!(
            String::from_utf8(to_vec(&v).unwrap()).unwrap(),
            r#"{"input":"{\"a\":\"Zürich ✓ it's\"}"}"#
        );
    }
}
