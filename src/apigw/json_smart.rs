//! JSON the way json-smart 2.x (the parser and writer behind API Gateway's Jayway
//! JsonPath) reads and writes it:
//!
//! - [`parse_permissive`]: strict JSON takes a fast path through serde_json; anything else
//!   goes through a port of json-smart's permissive parser (unquoted strings, single
//!   quotes, trailing commas and trailing data accepted; text that is not JSON at all
//!   becomes a string, `a=b` → `"a=b"`), with its `ParseException` texts
//!   (`Unexpected End Of File position 1: EOF`).
//! - [`write_json`]: `JSONValue.toJSONString`: compact, `/` escaped as `\/`, control and
//!   some Unicode ranges as uppercase `\uXXXX`, doubles as Java's `Double.toString`.

use std::fmt;
use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

mod transcode;

pub(crate) use transcode::{HIGH, byte_eq, byte_lt, find_flagged, transcode};

/// A json-smart `ParseException`. `Display` gives its message
/// (`Unexpected character (}) at position 5.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    position: usize,
    unexpected: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // json-smart's ERROR_UNEXPECTED_* names
enum ParseErrorKind {
    UnexpectedChar,
    UnexpectedToken,
    UnexpectedEof,
    UnexpectedUnicode,
}

impl ParseError {
    /// The exception as Java prints it (`net.minidev.json.parser.ParseException: ...`).
    pub fn java_text(&self) -> String {
        format!("net.minidev.json.parser.ParseException: {self}")
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = self.unexpected.as_deref().unwrap_or("null");
        match self.kind {
            ParseErrorKind::UnexpectedChar => write!(f, "Unexpected character ({u}) at position {}.", self.position),
            ParseErrorKind::UnexpectedToken => write!(f, "Unexpected token {u} at position {}.", self.position),
            ParseErrorKind::UnexpectedEof => write!(f, "Unexpected End Of File position {}: {u}", self.position),
            ParseErrorKind::UnexpectedUnicode => {
                write!(f, "Unexpected unicode escape sequence {u} at position {}.", self.position)
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses a payload the way json-smart's permissive mode does.
pub fn parse_permissive(text: &str) -> Result<Value, ParseError> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    Parser::new(text).parse()
}

const EOI: char = '\u{1a}';

/// Stop sets: the characters that end an unquoted token in each position.
#[derive(Clone, Copy)]
enum Stop {
    /// top level: only the end of input
    Top,
    /// object key: `:`
    Key,
    /// object value: `,` `}`
    Value,
    /// array item: `,` `]`
    Array,
}

impl Stop {
    fn contains(self, c: char) -> bool {
        c == EOI
            || match self {
                Stop::Top => false,
                Stop::Key => c == ':',
                Stop::Value => c == ',' || c == '}',
                Stop::Array => c == ',' || c == ']',
            }
    }
}

/// A port of json-smart's `JSONParserString` in permissive mode.
struct Parser {
    s: Vec<char>,
    pos: usize,
    c: char,
}

impl Parser {
    fn new(text: &str) -> Parser {
        let s: Vec<char> = text.chars().collect();
        let c = s.first().copied().unwrap_or(EOI);
        Parser { s, pos: 0, c }
    }

    fn read(&mut self) {
        self.pos += 1;
        self.c = self.s.get(self.pos).copied().unwrap_or(EOI);
    }

    fn err(&self, kind: ParseErrorKind, position: usize, unexpected: Option<String>) -> ParseError {
        ParseError { kind, position, unexpected }
    }

    fn unexpected_char(&self, position: usize) -> ParseError {
        self.err(ParseErrorKind::UnexpectedChar, position, Some(self.c.to_string()))
    }

    fn eof(&self, what: Option<&str>) -> ParseError {
        self.err(ParseErrorKind::UnexpectedEof, self.pos.saturating_sub(1), what.map(str::to_string))
    }

    fn skip_space(&mut self) {
        while self.c != EOI && self.c <= ' ' {
            self.read();
        }
    }

    fn parse(mut self) -> Result<Value, ParseError> {
        loop {
            match self.c {
                ' ' | '\r' | '\n' | '\t' => self.read(),
                ':' | '}' | ']' => return Err(self.unexpected_char(self.pos)),
                _ => return self.read_main(Stop::Top),
            }
        }
    }

    fn read_main(&mut self, stop: Stop) -> Result<Value, ParseError> {
        loop {
            match self.c {
                ' ' | '\r' | '\n' | '\t' => self.read(),
                ':' | '}' | ']' => return Err(self.unexpected_char(self.pos)),
                '{' => return self.read_object(),
                '[' => return self.read_array(),
                '"' | '\'' => return self.read_string().map(Value::String),
                '0'..='9' | '-' => return self.read_number(stop),
                _ => {
                    let word = self.read_nq_string(stop);
                    return Ok(match word.as_str() {
                        "null" => Value::Null,
                        "true" => Value::Bool(true),
                        "false" => Value::Bool(false),
                        _ => Value::String(word),
                    });
                }
            }
        }
    }

    /// An unquoted token up to a stop character, trimmed.
    fn read_nq_string(&mut self, stop: Stop) -> String {
        let start = self.pos;
        self.skip_nq_string(stop);
        self.extract_trim(start)
    }

    fn skip_nq_string(&mut self, stop: Stop) {
        while !stop.contains(self.c) {
            self.read();
        }
    }

    fn extract_trim(&self, start: usize) -> String {
        let end = self.pos.min(self.s.len());
        let text: String = self.s[start..end].iter().collect();
        text.trim_matches(|c: char| c <= ' ').to_string()
    }

    fn skip_digits(&mut self) {
        while self.c.is_ascii_digit() {
            self.read();
        }
    }

    /// Whether the number just read continues as an unquoted string (`123abc`).
    fn continues_as_text(&self, stop: Stop) -> bool {
        (self.c as u32) < 126 && !stop.contains(self.c)
    }

    fn read_number(&mut self, stop: Stop) -> Result<Value, ParseError> {
        let start = self.pos;
        self.read();
        self.skip_digits();
        if self.c != '.' && self.c != 'E' && self.c != 'e' {
            self.skip_space();
            if self.continues_as_text(stop) {
                self.skip_nq_string(stop);
                return Ok(Value::String(self.extract_trim(start)));
            }
            return Ok(parse_integer(&self.extract_trim(start)));
        }
        if self.c == '.' {
            self.read();
            self.skip_digits();
        }
        if self.c != 'E' && self.c != 'e' {
            self.skip_space();
            if self.continues_as_text(stop) {
                self.skip_nq_string(stop);
                return Ok(Value::String(self.extract_trim(start)));
            }
            return Ok(parse_float(&self.extract_trim(start)));
        }
        self.read();
        if self.c == '+' || self.c == '-' || self.c.is_ascii_digit() {
            self.read();
            self.skip_digits();
            self.skip_space();
            if self.continues_as_text(stop) {
                self.skip_nq_string(stop);
                return Ok(Value::String(self.extract_trim(start)));
            }
            return Ok(parse_float(&self.extract_trim(start)));
        }
        self.skip_nq_string(stop);
        Ok(Value::String(self.extract_trim(start)))
    }

    /// A quoted string (`"..."` or `'...'`); leaves the cursor after the closing quote.
    fn read_string(&mut self) -> Result<String, ParseError> {
        let quote = self.c;
        let Some(close) = self.s[self.pos + 1..].iter().position(|&c| c == quote) else {
            return Err(self.err(ParseErrorKind::UnexpectedEof, self.s.len(), None));
        };
        let close = self.pos + 1 + close;
        if !self.s[self.pos + 1..close].contains(&'\\') {
            let out: String = self.s[self.pos + 1..close].iter().collect();
            self.pos = close;
            self.read();
            return Ok(out);
        }
        let mut out = String::new();
        loop {
            self.read();
            match self.c {
                EOI if self.pos >= self.s.len() => return Err(self.eof(None)),
                c if c == quote => {
                    self.read();
                    return Ok(out);
                }
                '\\' => {
                    self.read();
                    match self.c {
                        't' => out.push('\t'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        'f' => out.push('\u{c}'),
                        'b' => out.push('\u{8}'),
                        'u' => out.push(self.read_unicode(4)?),
                        'x' => out.push(self.read_unicode(2)?),
                        EOI if self.pos >= self.s.len() => return Err(self.eof(None)),
                        c => out.push(c),
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn read_unicode(&mut self, digits: usize) -> Result<char, ParseError> {
        let mut code = 0u32;
        for _ in 0..digits {
            self.read();
            let Some(d) = self.c.to_digit(16) else {
                return Err(self.err(ParseErrorKind::UnexpectedUnicode, self.pos, Some(self.c.to_string())));
            };
            code = code * 16 + d;
        }
        Ok(char::from_u32(code).unwrap_or('\u{fffd}'))
    }

    fn read_object(&mut self) -> Result<Value, ParseError> {
        let mut map = Map::default();
        let mut accept_data = true;
        loop {
            self.read();
            match self.c {
                ' ' | '\r' | '\t' | '\n' => continue,
                ':' | ']' | '[' | '{' => return Err(self.unexpected_char(self.pos)),
                '}' => {
                    self.read();
                    return Ok(Value::Object(map));
                }
                ',' => {
                    accept_data = true;
                    continue;
                }
                EOI if self.pos >= self.s.len() => return Err(self.eof(None)),
                _ => {
                    let key = if self.c == '"' || self.c == '\'' {
                        self.read_string()?
                    } else {
                        self.read_nq_string(Stop::Key)
                    };
                    if !accept_data {
                        return Err(self.err(ParseErrorKind::UnexpectedToken, self.pos, Some(key)));
                    }
                    self.skip_space();
                    if self.c != ':' {
                        if self.c == EOI {
                            return Err(self.eof(None));
                        }
                        return Err(self.unexpected_char(self.pos - 1));
                    }
                    self.read();
                    if self.c == EOI && self.pos >= self.s.len() {
                        return Err(self.eof(Some("EOF")));
                    }
                    let value = self.read_main(Stop::Value)?;
                    map.insert(key, value);
                    self.skip_space();
                    match self.c {
                        '}' => {
                            self.read();
                            return Ok(Value::Object(map));
                        }
                        EOI => return Err(self.eof(None)),
                        ',' => accept_data = true,
                        c => {
                            return Err(self.err(
                                ParseErrorKind::UnexpectedToken,
                                self.pos - 1,
                                Some(c.to_string()),
                            ));
                        }
                    }
                }
            }
        }
    }

    fn read_array(&mut self) -> Result<Value, ParseError> {
        let mut items = Vec::new();
        self.read();
        loop {
            match self.c {
                ' ' | '\r' | '\n' | '\t' | ',' => self.read(),
                ']' => {
                    self.read();
                    return Ok(Value::Array(items));
                }
                ':' | '}' => return Err(self.unexpected_char(self.pos)),
                EOI if self.pos >= self.s.len() => return Err(self.eof(Some("EOF"))),
                _ => items.push(self.read_main(Stop::Array)?),
            }
        }
    }
}

/// json-smart's `parseNumber` for an integer token: int, long, or (too big) a double.
fn parse_integer(s: &str) -> Value {
    match s.parse::<i64>() {
        Ok(i) => Value::Number(i.into()),
        Err(_) if s == "-" => Value::Number(0.into()),
        Err(_) => parse_float(s),
    }
}

fn parse_float(s: &str) -> Value {
    match s.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(s.to_string()),
    }
}

/// Serializes like json-smart's `JSONValue.toJSONString`.
pub fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// The JSON text of `v` (see [`write_json`]).
pub fn to_json_string(v: &Value) -> String {
    let mut s = String::new();
    write_json(v, &mut s);
    s
}

fn write_number(n: &Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else {
        write_java_double(n.as_f64().unwrap_or(f64::NAN), out);
    }
}

/// A JSON string literal with json-smart's escaping.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut rest = s;
    while let Some(i) = rest.find(|c: char| needs_escape(c)) {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or_default();
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '/' => out.push_str("\\/"),
            c => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
    out.push('"');
}

fn needs_escape(c: char) -> bool {
    matches!(c, '"' | '\\' | '/' | '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2000}'..='\u{20ff}')
}

/// Appends [`java_double`]`(d)` to `out`. The plain range (1e-3 ≤ |d| < 1e7), where
/// almost every payload number falls, is written by `Display` (shortest round-trip digits,
/// plain notation, so the same digits as [`java_double`]) without an allocation.
pub fn write_java_double(d: f64, out: &mut String) {
    if (1e-3..1e7).contains(&d.abs()) {
        let start = out.len();
        let _ = write!(out, "{d}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        out.push_str(&java_double(d));
    }
}

/// Java's `Double.toString`: shortest digits, plain notation for 1e-3 ≤ |d| < 1e7
/// (`1990.19`, `1.0`), otherwise `1.0E20` / `1.234E-5`.
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // `{:e}` gives the shortest round-trip digits: "1.99e3", "1e20", "-1.5e-7".
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if d < 0.0 { "-" } else { "" };
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let point = exp + 1; // digits before the decimal point
        let s = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        };
        format!("{sign}{s}")
    } else {
        let frac = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{}E{}", &digits[..1], frac, exp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Texts recorded with json-smart 2.2 through Jayway `JsonPath.parse(body).read("$")`.
    #[test]
    fn permissive_parse_errors_match_json_smart() {
        let cases = [
            ("{a", "Unexpected End Of File position 1: null"),
            ("[a", "Unexpected End Of File position 1: EOF"),
            ("{\"a\":}", "Unexpected character (}) at position 5."),
            ("[1,2", "Unexpected End Of File position 3: EOF"),
            ("\"abc", "Unexpected End Of File position 4: null"),
            ("{\"a\" 1}", "Unexpected character (1) at position 4."),
            ("{\"a\":\"b\"", "Unexpected End Of File position 7: null"),
            ("{\"a\":[1,2}", "Unexpected End Of File position 9: EOF"),
        ];
        for (body, msg) in cases {
            let e = parse_permissive(body).expect_err(body);
            assert_eq!(e.to_string(), msg, "{body}");
        }
        assert_eq!(
            parse_permissive("[a").unwrap_err().java_text(),
            "net.minidev.json.parser.ParseException: Unexpected End Of File position 1: EOF"
        );
    }

    #[test]
    fn permissive_parse_accepts_what_json_smart_accepts() {
        let cases = [
            ("a=b", json!("a=b")),
            ("null{", json!("null{")),
            ("true{", json!("true{")),
            ("undefined{", json!("undefined{")),
            ("{\"a\":1} x", json!({"a": 1})),
            ("{\"a\":1,}", json!({"a": 1})),
            ("{'a':'b'}", json!({"a": "b"})),
            ("{a:1}", json!({"a": 1})),
            (" x y ", json!("x y")),
            ("123abc", json!("123abc")),
            ("12", json!(12)),
            ("{\"a\":1}}", json!({"a": 1})),
            ("[1,]", json!([1])),
            ("  ", json!("")),
            ("nul", json!("nul")),
            ("true", json!(true)),
            ("{\"a\":tru}", json!({"a": "tru"})),
            ("{\"a\": 'x\\'y'}", json!({"a": "x'y"})),
            ("[1.5, -2, 1e2]", json!([1.5, -2, 100.0])),
        ];
        for (body, want) in cases {
            assert_eq!(parse_permissive(body).unwrap_or_else(|e| panic!("{body}: {e}")), want, "{body}");
        }
    }

    #[test]
    fn writes_like_json_smart() {
        let v = json!({"x": "X/y é \u{2028} \u{1} \"q\" \\ \n", "d": 1e20, "e": 1.0, "f": 123456789012i64, "l": [1, null, true]});
        assert_eq!(
            to_json_string(&v),
            r#"{"x":"X\/y é \u2028 \u0001 \"q\" \\ \n","d":1.0E20,"e":1.0,"f":123456789012,"l":[1,null,true]}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn permissive_parse_never_panics(s in "[{}\\[\\]\"':,a-z0-9 .eE+\\\\-]{0,32}") {
            let _ = parse_permissive(&s);
        }

        #[test]
        fn strict_json_round_trips(v in proptest::collection::vec(proptest::num::i32::ANY, 0..8)) {
            let text = serde_json::to_string(&v).unwrap_or_default();
            let parsed = parse_permissive(&text).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(to_json_string(&parsed), text);
        }
    }

    #[test]
    fn doubles_print_like_java() {
        for (d, s) in [
            (1.0, "1.0"),
            (1990.19, "1990.19"),
            (0.19, "0.19"),
            (1e20, "1.0E20"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (-1.5e-7, "-1.5E-7"),
            (123456.789, "123456.789"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
        ] {
            assert_eq!(java_double(d), s, "{d}");
            let mut out = String::from("x");
            write_java_double(d, &mut out);
            assert_eq!(out, format!("x{s}"), "{d}");
        }
    }

    proptest::proptest! {
        /// The allocation-free plain-range writer agrees with the general formatter.
        #[test]
        fn write_java_double_agrees(d in proptest::num::f64::NORMAL, scale in -5i32..9) {
            let d = d.abs().fract() * 10f64.powi(scale) * d.signum();
            let mut out = String::new();
            write_java_double(d, &mut out);
            proptest::prop_assert_eq!(out, java_double(d));
        }
    }
}
