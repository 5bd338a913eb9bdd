//! `$util`: the five functions API Gateway gives REST mapping templates, with the Java
//! semantics they are built on (commons-lang 2.6 `escapeJavaScript`, `java.net.URLEncoder`
//! / `URLDecoder` in UTF-8, Base64 over UTF-8, JSON parsing into navigable values).

use std::fmt::Write as _;

use base64::Engine as _;

use crate::vtl::{Object, Value};

use super::java;
use super::json_smart;

/// The `$util` object.
#[derive(Debug, Default, Clone, Copy)]
pub struct Util;

impl Object for Util {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let f: fn(&str) -> Result<Value, String> = match name {
            "escapeJavaScript" => |s| Ok(Value::from(escape_javascript(s))),
            "urlEncode" => |s| Ok(Value::from(url_encode(s))),
            "urlDecode" => |s| url_decode(s).map(Value::from),
            "base64Encode" => |s| Ok(Value::from(base64_encode(s))),
            "base64Decode" => |s| base64_decode(s).map(Value::from),
            "parseJson" => parse_json,
            _ => return None,
        };
        let [arg] = args else {
            return Some(Err(format!("$util.{name} takes one argument, got {}", args.len())));
        };
        // A null argument gives null (renders ""), as `$util.urlEncode($missing)` does on AWS.
        Some(match arg {
            Value::String(s) => f(s),
            other => match java::to_java_string(other) {
                None => Ok(Value::Null),
                Some(s) => f(&s),
            },
        })
    }
}

/// commons-lang 2.6 `StringEscapeUtils.escapeJavaScript`: `'` → `\'`, `"` → `\"`,
/// `\` → `\\`, `/` → `\/`, `\b \t \n \f \r`, other controls `\u00XX`, everything above
/// 0x7f as `\uXXXX` (uppercase, UTF-16 code units). 0x7f itself is kept.
pub fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    escape_javascript_into(s, &mut out);
    out
}

/// [`escape_javascript`] appending to `out`.
///
/// Hot path of the seed template (`$util.escapeJavaScript($input.json('$'))`): runs of
/// bytes that need no escaping are found with a byte table and copied in one go, and
/// `\uXXXX` is written without going through `fmt`.
pub fn escape_javascript_into(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut pos = 0;
    while let Some(run) = find_js_attention(&bytes[pos..]) {
        out.push_str(&s[pos..pos + run]);
        pos += run;
        let b = bytes[pos];
        if b.is_ascii() {
            pos += 1;
            match b {
                b'\'' => out.push_str("\\'"),
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'/' => out.push_str("\\/"),
                0x08 => out.push_str("\\b"),
                b'\n' => out.push_str("\\n"),
                b'\t' => out.push_str("\\t"),
                0x0c => out.push_str("\\f"),
                b'\r' => out.push_str("\\r"),
                b => push_unicode_escape(b as u16, out),
            }
        } else {
            let c = s[pos..].chars().next().unwrap_or_default();
            pos += c.len_utf8();
            let mut units = [0u16; 2];
            for &u in c.encode_utf16(&mut units).iter() {
                push_unicode_escape(u, out);
            }
        }
    }
    out.push_str(&s[pos..]);
}

/// Bytes [`escape_javascript_into`] must look at: controls, `'` `"` `\` `/`, non-ASCII.
static JS_ATTENTION: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i >= 0x80;
        i += 1;
    }
    t[b'\'' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'/' as usize] = true;
    t
};

/// The index of the first byte [`escape_javascript_into`] must look at, eight bytes at a
/// time (see [`json_smart::find_flagged`]).
fn find_js_attention(bytes: &[u8]) -> Option<usize> {
    use json_smart::{HIGH, byte_eq, byte_lt};
    json_smart::find_flagged(bytes, &JS_ATTENTION, |x| {
        (x & HIGH) | byte_lt(x, 0x20) | byte_eq(x, b'\'') | byte_eq(x, b'"') | byte_eq(x, b'\\') | byte_eq(x, b'/')
    })
}

/// `\uXXXX` with upper-case hex digits.
fn push_unicode_escape(unit: u16, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
    }
}

/// `java.net.URLEncoder.encode(s, "UTF-8")`: letters, digits and `.-*_` kept, space → `+`,
/// everything else `%XX` (uppercase) per UTF-8 byte.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `java.net.URLDecoder.decode(s, "UTF-8")`: `+` → space, `%XX` → byte; a broken escape
/// is an error, as Java throws `IllegalArgumentException`.
pub fn url_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or("URLDecoder: Incomplete trailing escape (%) pattern")?;
                let hex = std::str::from_utf8(hex).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = hex else {
                    return Err("URLDecoder: Illegal hex characters in escape (%) pattern".into());
                };
                out.push(byte);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Standard Base64 with padding over the UTF-8 bytes.
pub fn base64_encode(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// Standard Base64 decoding, read back as UTF-8.
pub fn base64_decode(s: &str) -> Result<String, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_bytes())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("$util.base64Decode: {e}"))
}

/// `$util.parseJson`: a JSON text as a navigable value (objects → maps, arrays → JSON
/// lists, numbers → int/long/double).
pub fn parse_json(s: &str) -> Result<Value, String> {
    serde_json::from_str::<serde_json::Value>(s)
        .map(|v| Value::from_json(&v))
        .map_err(|e| format!("$util.parseJson: invalid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_javascript_matches_commons_lang() {
        // Output of commons-lang 2.6 (velocity-oracle --util-model).
        assert_eq!(
            escape_javascript("it's \"q\" \\ / é 😀 \n\ttab"),
            "it\\'s \\\"q\\\" \\\\ \\/ \\u00E9 \\uD83D\\uDE00 \\n\\ttab"
        );
        assert_eq!(escape_javascript("\u{1}\u{1f}\u{7f}\u{8}\u{c}\r"), "\\u0001\\u001F\u{7f}\\b\\f\\r");
        assert_eq!(escape_javascript("\u{100}\u{fff}\u{1000}"), "\\u0100\\u0FFF\\u1000");
        assert_eq!(escape_javascript("plain"), "plain");
        // Every position within and after an 8-byte block, against the plain definition.
        for special in ["'", "\"", "\\", "/", "\n", "\u{1}", "\u{1f}", "é", "😀", "\u{7f}", " ", "~", "0"] {
            for at in 0..20 {
                let text = format!("{}{special}{}", "a".repeat(at), "b".repeat(20 - at));
                let expected: String = text.chars().map(escape_javascript_slow).collect();
                assert_eq!(escape_javascript(&text), expected, "{text:?}");
            }
        }
    }

    /// commons-lang's escapeJavaScript one character at a time.
    fn escape_javascript_slow(c: char) -> String {
        match c {
            '\'' => "\\'".into(),
            '"' => "\\\"".into(),
            '\\' => "\\\\".into(),
            '/' => "\\/".into(),
            '\u{8}' => "\\b".into(),
            '\n' => "\\n".into(),
            '\t' => "\\t".into(),
            '\u{c}' => "\\f".into(),
            '\r' => "\\r".into(),
            c if c < ' ' || !c.is_ascii() => {
                let mut units = [0u16; 2];
                c.encode_utf16(&mut units).iter().map(|u| format!("\\u{u:04X}")).collect()
            }
            c => c.to_string(),
        }
    }

    #[test]
    fn url_encode_is_java_form_encoding() {
        assert_eq!(url_encode("{\"some\": \"value\"}"), "%7B%22some%22%3A+%22value%22%7D");
        assert_eq!(url_encode("x=a+b ~*-._é"), "x%3Da%2Bb+%7E*-._%C3%A9");
        assert_eq!(url_encode("{}"), "%7B%7D");
    }

    #[test]
    fn url_decode_is_java_form_decoding() {
        assert_eq!(url_decode("a+b%2bc%20%E3%82%A8").unwrap(), "a b+c エ");
        assert!(url_decode("%").is_err());
        assert!(url_decode("%zz").is_err());
    }

    #[test]
    fn base64_round_trips_utf8() {
        assert_eq!(base64_encode("エー"), "44Ko44O8");
        assert_eq!(base64_decode("44Ko44O8").unwrap(), "エー");
        assert!(base64_decode("!!").is_err());
    }

    #[test]
    fn parse_json_gives_navigable_values() {
        let v = parse_json(r#"{"key2":{"arr":[1,2,3]}}"#).unwrap();
        let Value::Map(m) = v else { panic!("not a map") };
        let Some(Value::Map(k2)) = m.get("key2") else { panic!("no key2") };
        let Some(Value::List(arr)) = k2.get("arr") else { panic!("no arr") };
        assert!(matches!(arr.lock().items[0], Value::Int(1)));
        assert!(parse_json("{").is_err());
    }

    #[test]
    fn util_object_dispatches_and_passes_null_through() {
        let u = Util;
        let r = u.call("urlEncode", &[Value::Null]).unwrap().unwrap();
        assert!(r.is_null());
        let r = u.call("escapeJavaScript", &[Value::from("it's")]).unwrap().unwrap();
        assert_eq!(r.as_str(), Some("it\\'s"));
        assert!(u.call("escapeJava", &[Value::from("x")]).is_none());
        assert!(u.call("urlEncode", &[]).unwrap().is_err());
    }
}
