//! A streaming fast path for `$input.json('$')`: strict JSON text in, json-smart's compact
//! text out, without building a tree.
//!
//! The slow path parses the body with serde_json into a `Value` (allocating every key,
//! string and map) and writes it back with [`write_json`](super::write_json). For the
//! common case — a strictly valid body — this module produces the same bytes straight from
//! the body text. It gives up ([`transcode`] returns `false`) on anything whose result the
//! tree round trip could change in a way not reproduced here: invalid or non-strict JSON
//! (the permissive parser decides those), duplicate object keys (serde_json keeps the last
//! value at the first position), surrogate `\u` escapes, very deep nesting (serde_json's
//! recursion limit), numbers that are not plain integers or finite doubles. The caller
//! then takes the slow path, so giving up is always safe.

use std::fmt::Write as _;

/// Deeper nesting gives up (serde_json refuses 128 levels; the slow path reproduces that).
const MAX_DEPTH: usize = 100;

/// An object with more members than this gives up, so duplicate-key checks stay cheap.
const MAX_KEYS_CHECKED: usize = 64;

/// Appends json-smart's compact text of the strict JSON document `body` to `out` and
/// returns `true`, or returns `false` (with `out` unchanged) when the slow path must decide.
pub(crate) fn transcode(body: &[u8], out: &mut String) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let start = out.len();
    let mut t = Transcoder { s: text, b: body, pos: 0, out, keys: Vec::new() };
    let ok = t.document().is_some();
    if !ok {
        t.out.truncate(start);
    }
    ok
}

/// `None` from any step means "give up".
type Step = Option<()>;

struct Transcoder<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    out: &'a mut String,
    /// Output ranges of the keys of the objects being written, innermost last.
    keys: Vec<(usize, usize)>,
}

impl Transcoder<'_> {
    fn document(&mut self) -> Step {
        self.skip_ws();
        self.value(0)?;
        self.skip_ws();
        (self.pos == self.b.len()).then_some(())
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// JSON whitespace (what serde_json skips).
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str) -> Step {
        self.b[self.pos..].starts_with(word.as_bytes()).then_some(())?;
        self.pos += word.len();
        self.out.push_str(word);
        Some(())
    }

    fn value(&mut self, depth: usize) -> Step {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => None,
        }
    }

    fn array(&mut self, depth: usize) -> Step {
        (depth <= MAX_DEPTH).then_some(())?;
        self.pos += 1;
        self.out.push('[');
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            self.out.push(']');
            return Some(());
        }
        loop {
            self.skip_ws();
            self.value(depth)?;
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    self.out.push(',');
                }
                b']' => {
                    self.pos += 1;
                    self.out.push(']');
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn object(&mut self, depth: usize) -> Step {
        (depth <= MAX_DEPTH).then_some(())?;
        self.pos += 1;
        self.out.push('{');
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            self.out.push('}');
            return Some(());
        }
        let first_key = self.keys.len();
        loop {
            self.skip_ws();
            (self.peek()? == b'"').then_some(())?;
            let key_start = self.out.len();
            self.string()?;
            self.check_new_key(first_key, key_start)?;
            self.skip_ws();
            (self.peek()? == b':').then_some(())?;
            self.pos += 1;
            self.out.push(':');
            self.skip_ws();
            self.value(depth)?;
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    self.out.push(',');
                }
                b'}' => {
                    self.pos += 1;
                    self.out.push('}');
                    self.keys.truncate(first_key);
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Gives up on a key already present in this object. Keys are compared in their
    /// written form, which is a function of the decoded key (so `"a"` and `"\u0061"`
    /// compare equal).
    fn check_new_key(&mut self, first_key: usize, key_start: usize) -> Step {
        let key_end = self.out.len();
        (self.keys.len() - first_key < MAX_KEYS_CHECKED).then_some(())?;
        let written = self.out.as_bytes();
        let key = &written[key_start..key_end];
        let duplicate = self.keys[first_key..].iter().any(|&(s, e)| &written[s..e] == key);
        (!duplicate).then_some(())?;
        self.keys.push((key_start, key_end));
        Some(())
    }

    /// A number: a plain integer within `i64` is copied; a finite double is written as
    /// Java's `Double.toString`; anything else (`-0`, huge integers, overflow) gives up.
    fn number(&mut self) -> Step {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            float = true;
            self.pos += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            float = true;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        let token = &self.s[start..self.pos];
        if float {
            let d: f64 = token.parse().ok()?;
            d.is_finite().then_some(())?;
            super::write_java_double(d, self.out);
            return Some(());
        }
        // serde_json reads `-0` as the double -0.0, and integers beyond i64/u64 as doubles:
        // leave those to the slow path. 18 digits always fit in an i64.
        let digits = token.trim_start_matches('-');
        (digits.len() <= 18 && token != "-0").then_some(())?;
        self.out.push_str(token);
        Some(())
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// At least one digit.
    fn digits(&mut self) -> Step {
        let start = self.pos;
        self.skip_digits();
        (self.pos > start).then_some(())
    }

    /// A string literal, re-escaped json-smart style (see [`super::needs_escape`]).
    fn string(&mut self) -> Step {
        self.pos += 1; // opening quote
        self.out.push('"');
        loop {
            // Copy the run of bytes that need no attention in one go.
            let run = find_flagged(&self.b[self.pos..], &ATTENTION, |x| {
                byte_lt(x, 0x20)
                    | byte_eq(x, b'"')
                    | byte_eq(x, b'\\')
                    | byte_eq(x, b'/')
                    | byte_eq(x, 0x7f)
                    | byte_eq(x, 0xc2)
                    | byte_eq(x, 0xe2)
            })?;
            self.out.push_str(&self.s[self.pos..self.pos + run]);
            self.pos += run;
            let b = self.b[self.pos];
            match b {
                b'"' => {
                    self.pos += 1;
                    self.out.push('"');
                    return Some(());
                }
                b'\\' => {
                    self.pos += 1;
                    let c = self.escape()?;
                    push_json_char(c, self.out);
                }
                // Raw control characters are invalid JSON.
                0..=0x1f => return None,
                // A non-ASCII lead byte: only U+0080..U+009F and U+2000..U+20FF are escaped.
                _ if b >= 0x80 => {
                    let c = self.s[self.pos..].chars().next()?;
                    self.pos += c.len_utf8();
                    push_json_char(c, self.out);
                }
                // `/` and DEL
                _ => {
                    self.pos += 1;
                    push_json_char(b as char, self.out);
                }
            }
        }
    }

    /// The character of an escape sequence (after the backslash). Surrogate `\u` escapes
    /// give up (serde_json's pairing and lone-surrogate rules decide those).
    fn escape(&mut self) -> Option<char> {
        let e = self.peek()?;
        self.pos += 1;
        Some(match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = self.s.get(self.pos..self.pos + 4)?;
                let code = u32::from_str_radix(hex, 16).ok()?;
                (hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(())?;
                self.pos += 4;
                char::from_u32(code)?
            }
            _ => return None,
        })
    }
}

/// Bytes inside a string that end a verbatim run: quote, backslash, control characters,
/// `/`, DEL, and the lead bytes of U+0080..U+009F (0xC2) and U+2000..U+20FF (0xE2).
/// Other non-ASCII characters are copied verbatim.
static ATTENTION: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'/' as usize] = true;
    t[0x7f] = true;
    t[0xc2] = true;
    t[0xe2] = true;
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a `u64`.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// SWAR: the high bit set in every byte of `x` equal to `b`. Exact for the lowest flagged
/// byte (a borrow can only flag bytes above a true match), which is all callers use.
pub(crate) fn byte_eq(x: u64, b: u8) -> u64 {
    let v = x ^ (ONES * u64::from(b));
    v.wrapping_sub(ONES) & !v & HIGH
}

/// SWAR: the high bit set in every byte of `x` below `n` (`n` ≤ 0x80); exact for the
/// lowest flagged byte.
pub(crate) fn byte_lt(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH
}

/// The index of the first byte of `bytes` that `table` flags. Eight bytes are tested at
/// a time with `word` (which must flag, in the byte's high bit, at least the lowest byte
/// the table flags and nothing below it); the tail uses the table. This is the inner loop
/// of string copying and escaping, where most bytes need nothing.
pub(crate) fn find_flagged(bytes: &[u8], table: &[bool; 256], word: impl Fn(u64) -> u64) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let flagged = word(u64::from_le_bytes(eight));
        if flagged != 0 {
            return Some(offset + (flagged.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&b| table[b as usize]).map(|i| offset + i)
}

/// One decoded character, escaped as json-smart writes it.
fn push_json_char(c: char, out: &mut String) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '/' => out.push_str("\\/"),
        c if super::needs_escape(c) => {
            let _ = write!(out, "\\u{:04X}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slow path the transcoder must agree with.
    fn tree(body: &str) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        Some(super::super::to_json_string(&v))
    }

    fn fast(body: &str) -> Option<String> {
        let mut out = String::from("prefix:");
        let ok = transcode(body.as_bytes(), &mut out);
        if !ok {
            assert_eq!(out, "prefix:", "a failed transcode leaves the buffer as it was");
            return None;
        }
        Some(out["prefix:".len()..].to_string())
    }

    #[test]
    fn agrees_with_the_tree_round_trip() {
        for body in [
            r#"{"a": {"b": "x/y"}, "n": [1, 2.5, -3, 0, 1e2, 1.5E-7, 123456789.0, 0.001]}"#,
            "  [ ]  ",
            "{ }",
            r#""just a string""#,
            "42",
            "-17",
            "true",
            "null",
            r#"{"k\u0041": "\u00e9\u2028\u0001\t\n\"\\\/ é  \u007f  😀 ' "}"#,
            "{\"raw\": \"\u{80}\u{9f}\u{a0}\u{2000}\u{20ff}\u{2100}\u{7f}\"}",
            r#"[[[[{"deep": [true, false, null]}]]]]"#,
            r#"{"total": 78.73, "price": 19.99, "big": 123456789012345678}"#,
        ] {
            assert_eq!(fast(body), tree(body), "{body}");
            assert!(fast(body).is_some(), "{body} takes the fast path");
        }
    }

    #[test]
    fn gives_up_where_the_slow_path_decides() {
        for body in [
            "",
            "   ",
            "{a:1}",
            "{'a':'b'}",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\":1} x",
            "{\"a\":1,\"a\":2}",
            "{\"a\":1,\"\\u0061\":2}",
            "[01]",
            "[1.]",
            "[-]",
            "-0",
            "1e400",
            "12345678901234567890",
            "\"\\ud83d\\ude00\"",
            "\"\\ud800\"",
            "\"tab\there\"",
            "\"\\x41\"",
            "\"\\u00G1\"",
            "\"\\u+041\"",
            "tru",
            "\"unterminated",
            "a=b",
        ] {
            assert_eq!(fast(body), None, "{body:?}");
        }
        assert!(!transcode(b"\"\xff\"", &mut String::new()), "invalid UTF-8");
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(fast(&deep), None);
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert_eq!(fast(&ok), tree(&ok));
    }

    proptest::proptest! {
        #[test]
        fn random_json_agrees(v in json_value()) {
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            let slow = tree(&text);
            let quick = fast(&text);
            if quick.is_some() {
                proptest::prop_assert_eq!(quick, slow);
            }
        }

        #[test]
        fn random_text_never_disagrees(s in "[{}\\[\\]\"':,a-z0-9 .eE+\\\\/u-]{0,24}") {
            if let Some(quick) = fast(&s) {
                proptest::prop_assert_eq!(Some(quick), tree(&s));
            }
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|i| serde_json::json!(i)),
            any::<f64>().prop_filter("finite", |d| d.is_finite()).prop_map(|d| serde_json::json!(d)),
            "\\PC{0,12}".prop_map(serde_json::Value::String),
            "[\u{0}-\u{ff}\u{2000}-\u{2100}/\"\\\\]{0,8}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::vec(("[a-z]{0,3}", inner), 0..6)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }
}
