//! Intrinsic function calls (`States.Format('{}', $.a)` and the 17 others), parsed once at
//! load time into a small tree that `exec::intrinsics` evaluates.

use super::path::JsonPath;
use serde_json::Value;

/// The 18 intrinsic functions Step Functions defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "Format" => Func::Format,
            "StringToJson" => Func::StringToJson,
            "JsonToString" => Func::JsonToString,
            "Array" => Func::Array,
            "ArrayPartition" => Func::ArrayPartition,
            "ArrayContains" => Func::ArrayContains,
            "ArrayRange" => Func::ArrayRange,
            "ArrayGetItem" => Func::ArrayGetItem,
            "ArrayLength" => Func::ArrayLength,
            "ArrayUnique" => Func::ArrayUnique,
            "Base64Encode" => Func::Base64Encode,
            "Base64Decode" => Func::Base64Decode,
            "Hash" => Func::Hash,
            "JsonMerge" => Func::JsonMerge,
            "MathRandom" => Func::MathRandom,
            "MathAdd" => Func::MathAdd,
            "StringSplit" => Func::StringSplit,
            "UUID" => Func::Uuid,
            _ => return None,
        })
    }

    /// The name as written after `States.`.
    pub fn name(self) -> &'static str {
        match self {
            Func::Format => "Format",
            Func::StringToJson => "StringToJson",
            Func::JsonToString => "JsonToString",
            Func::Array => "Array",
            Func::ArrayPartition => "ArrayPartition",
            Func::ArrayContains => "ArrayContains",
            Func::ArrayRange => "ArrayRange",
            Func::ArrayGetItem => "ArrayGetItem",
            Func::ArrayLength => "ArrayLength",
            Func::ArrayUnique => "ArrayUnique",
            Func::Base64Encode => "Base64Encode",
            Func::Base64Decode => "Base64Decode",
            Func::Hash => "Hash",
            Func::JsonMerge => "JsonMerge",
            Func::MathRandom => "MathRandom",
            Func::MathAdd => "MathAdd",
            Func::StringSplit => "StringSplit",
            Func::Uuid => "UUID",
        }
    }
}

/// One argument of an intrinsic call.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Literal(Value),
    Path(JsonPath),
    Call(Box<Intrinsic>),
}

/// A parsed intrinsic call.
#[derive(Clone, Debug, PartialEq)]
pub struct Intrinsic {
    pub func: Func,
    pub args: Vec<Arg>,
    /// The call as written (for error messages).
    pub text: Box<str>,
}

/// True when `s` looks like an intrinsic call rather than a path.
pub fn looks_like_call(s: &str) -> bool {
    s.trim_start().starts_with("States.")
}

impl Intrinsic {
    /// Parses `States.Name(args...)`.
    pub fn parse(text: &str) -> Result<Intrinsic, String> {
        let mut p = P {
            s: text,
            i: 0,
            depth: 0,
        };
        p.ws();
        let call = p
            .call()
            .map_err(|e| format!("Invalid intrinsic function '{text}': {e}"))?;
        p.ws();
        if p.i != text.len() {
            return Err(format!(
                "Invalid intrinsic function '{text}': trailing characters"
            ));
        }
        Ok(call)
    }
}

struct P<'a> {
    s: &'a str,
    i: usize,
    depth: usize,
}

impl P<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn ws(&mut self) {
        while self.rest().starts_with([' ', '\t', '\n']) {
            self.i += 1;
        }
    }

    fn call(&mut self) -> Result<Intrinsic, String> {
        self.depth += 1;
        if self.depth > 10 {
            return Err("intrinsic functions may nest at most 10 deep".into());
        }
        let start = self.i;
        let Some(r) = self.rest().strip_prefix("States.") else {
            return Err("expected 'States.'".into());
        };
        let name_len = r
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(r.len());
        let name = &r[..name_len];
        let func =
            Func::from_name(name).ok_or_else(|| format!("unknown function 'States.{name}'"))?;
        self.i += "States.".len() + name_len;
        self.ws();
        if !self.rest().starts_with('(') {
            return Err("expected '('".into());
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.rest().starts_with(')') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                args.push(self.arg()?);
                self.ws();
                if self.rest().starts_with(',') {
                    self.i += 1;
                } else if self.rest().starts_with(')') {
                    self.i += 1;
                    break;
                } else {
                    return Err("expected ',' or ')'".into());
                }
            }
        }
        self.depth -= 1;
        Ok(Intrinsic {
            func,
            args,
            text: self.s[start..self.i].into(),
        })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        let src = self.s;
        let r = &src[self.i..];
        if r.starts_with("States.") {
            return Ok(Arg::Call(Box::new(self.call()?)));
        }
        if r.starts_with('\'') {
            return Ok(Arg::Literal(Value::String(self.string()?)));
        }
        if r.starts_with('$') {
            // A path runs to the next ',' or ')' outside brackets/parentheses/quotes.
            let bytes = r.as_bytes();
            let (mut depth, mut quote, mut end) = (0i32, None, bytes.len());
            for (n, &c) in bytes.iter().enumerate() {
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'\'' | b'"') => quote = Some(c),
                    (None, b'[' | b'(') => depth += 1,
                    (None, b']') => depth -= 1,
                    (None, b')') if depth > 0 => depth -= 1,
                    (None, b',' | b')') if depth == 0 => {
                        end = n;
                        break;
                    }
                    _ => {}
                }
            }
            let text = r[..end].trim_end();
            self.i += end;
            return Ok(Arg::Path(JsonPath::parse(text)?));
        }
        let end = r.find([',', ')']).unwrap_or(r.len());
        let tok = r[..end].trim();
        self.i += end;
        match serde_json::from_str::<Value>(tok) {
            Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => Ok(Arg::Literal(v)),
            _ => Err(format!("invalid argument '{tok}'")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((n, c)) = chars.next() {
            match c {
                // `\'` and `\\` are unescaped here; `\{` and `\}` keep their backslash so that
                // States.Format can tell an escaped brace from a placeholder.
                '\\' => match chars.next() {
                    Some((_, e @ ('{' | '}'))) => {
                        out.push('\\');
                        out.push(e);
                    }
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                '\'' => {
                    self.i += n + 1;
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        Err("unterminated string literal".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_calls_paths_and_literals() {
        let f = Intrinsic::parse("States.Format('a {} \\' b', States.MathAdd($.x[0], -1), true)")
            .unwrap();
        assert_eq!(f.func, Func::Format);
        assert_eq!(f.args[0], Arg::Literal(Value::String("a {} ' b".into())));
        assert!(matches!(&f.args[1], Arg::Call(c) if c.func == Func::MathAdd && c.args.len() == 2));
        assert_eq!(f.args[2], Arg::Literal(Value::Bool(true)));
    }

    #[test]
    fn rejects_unknown_functions_and_junk() {
        assert!(Intrinsic::parse("States.Nope(1)").is_err());
        assert!(Intrinsic::parse("States.Array(1) x").is_err());
        assert!(Intrinsic::parse("States.Array(1").is_err());
    }

    #[test]
    fn parses_filter_paths_as_arguments() {
        let f = Intrinsic::parse("States.ArrayLength($.a[?(@.b == 'x,y')])").unwrap();
        assert_eq!(f.args.len(), 1);
    }
}
