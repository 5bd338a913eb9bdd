//! The 18 intrinsic functions, with AWS's quirks: `States.Format` renders objects the way
//! Java's `Map.toString` does (`{a=1, b=[]}`), `States.MathAdd` rounds its arguments like
//! Java's `Math.round`, `States.StringSplit` splits on any delimiter character and drops
//! empty parts, `States.StringToJson("")` is `null`.

use crate::engine::asl::intrinsic::{Func, Intrinsic};
use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::Digest;

/// Why an intrinsic call failed (becomes `States.IntrinsicFailure` or `States.Runtime`).
pub(crate) type IntrinsicError = String;

/// Applies `f` to already evaluated arguments.
pub(crate) fn call(f: &Intrinsic, args: Vec<Value>) -> Result<Value, IntrinsicError> {
    let name = f.func.name();
    let want = |n: usize| -> Result<(), IntrinsicError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "The intrinsic function States.{name} expects {n} argument(s), got {}",
                args.len()
            ))
        }
    };
    let string = |v: &Value, i: usize| -> Result<String, IntrinsicError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("The argument {} of States.{name} must be a string", i + 1))
    };
    let array = |v: &Value, i: usize| -> Result<Vec<Value>, IntrinsicError> {
        v.as_array()
            .cloned()
            .ok_or_else(|| format!("The argument {} of States.{name} must be an array", i + 1))
    };
    let int = |v: &Value, i: usize| -> Result<i64, IntrinsicError> {
        match v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| {
                    format!("The argument {} of States.{name} must be an integer", i + 1)
                }),
            _ => Err(format!(
                "The argument {} of States.{name} must be an integer",
                i + 1
            )),
        }
    };
    Ok(match f.func {
        Func::Format => {
            let Some(fmt) = args.first() else {
                return Err("States.Format needs a format string".into());
            };
            let fmt = string(fmt, 0)?;
            let mut out = String::new();
            let mut rest = args[1..].iter();
            let mut chars = fmt.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            out.push(n);
                        }
                    }
                    '{' if chars.peek() == Some(&'}') => {
                        chars.next();
                        let Some(a) = rest.next() else {
                            return Err("The number of arguments in States.Format does not match the number of placeholders".into());
                        };
                        java_string(a, &mut out, true);
                    }
                    c => out.push(c),
                }
            }
            if rest.next().is_some() {
                return Err("The number of arguments in States.Format does not match the number of placeholders".into());
            }
            Value::String(out)
        }
        Func::StringToJson => {
            want(1)?;
            let s = string(&args[0], 0)?;
            if s.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&s)
                    .map_err(|e| format!("States.StringToJson could not parse its argument: {e}"))?
            }
        }
        Func::JsonToString => {
            want(1)?;
            Value::String(serde_json::to_string(&args[0]).unwrap_or_default())
        }
        Func::Array => Value::Array(args),
        Func::ArrayPartition => {
            want(2)?;
            let a = array(&args[0], 0)?;
            let n = int(&args[1], 1)?;
            if n <= 0 {
                return Err(
                    "The chunk size of States.ArrayPartition must be greater than 0".into(),
                );
            }
            Value::Array(
                a.chunks(n as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            )
        }
        Func::ArrayContains => {
            want(2)?;
            let a = array(&args[0], 0)?;
            Value::Bool(a.iter().any(|x| json_eq(x, &args[1])))
        }
        Func::ArrayRange => {
            want(3)?;
            let (s, e, step) = (int(&args[0], 0)?, int(&args[1], 1)?, int(&args[2], 2)?);
            if step == 0 {
                return Err("The step of States.ArrayRange cannot be 0".into());
            }
            let mut out = Vec::new();
            let mut i = s;
            while (step > 0 && i <= e) || (step < 0 && i >= e) {
                out.push(Value::from(i));
                if out.len() > 1000 {
                    return Err("States.ArrayRange may not produce more than 1000 items".into());
                }
                match i.checked_add(step) {
                    Some(n) => i = n,
                    None => break,
                }
            }
            Value::Array(out)
        }
        Func::ArrayGetItem => {
            want(2)?;
            let a = array(&args[0], 0)?;
            let i = int(&args[1], 1)?;
            if i < 0 || i as usize >= a.len() {
                return Err(format!(
                    "The index {i} is out of bounds for States.ArrayGetItem"
                ));
            }
            a[i as usize].clone()
        }
        Func::ArrayLength => {
            want(1)?;
            Value::from(array(&args[0], 0)?.len())
        }
        Func::ArrayUnique => {
            want(1)?;
            let a = array(&args[0], 0)?;
            let mut out: Vec<Value> = Vec::new();
            for x in a {
                if !out.iter().any(|y| json_eq(y, &x)) {
                    out.push(x);
                }
            }
            Value::Array(out)
        }
        Func::Base64Encode => {
            want(1)?;
            Value::String(base64::engine::general_purpose::STANDARD.encode(string(&args[0], 0)?))
        }
        Func::Base64Decode => {
            want(1)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(string(&args[0], 0)?)
                .map_err(|e| format!("States.Base64Decode could not decode its argument: {e}"))?;
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
        Func::Hash => {
            want(2)?;
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => serde_json::to_string(other).unwrap_or_default(),
            };
            let alg = string(&args[1], 1)?;
            Value::String(hash(&alg, data.as_bytes())?)
        }
        Func::JsonMerge => {
            want(3)?;
            let (Value::Object(a), Value::Object(b)) = (&args[0], &args[1]) else {
                return Err("The arguments of States.JsonMerge must be objects".into());
            };
            if args[2] != Value::Bool(false) {
                return Err("States.JsonMerge supports only shallow merges (false)".into());
            }
            let mut m: Map<String, Value> = a.clone();
            for (k, v) in b {
                m.insert(k.clone(), v.clone());
            }
            Value::Object(m)
        }
        Func::MathRandom => {
            if args.len() < 2 || args.len() > 3 {
                return Err("States.MathRandom expects 2 or 3 arguments".into());
            }
            let bound = |v: &Value, i: usize| -> Result<i64, IntrinsicError> {
                v.as_f64().map(|f| f.floor() as i64).ok_or_else(|| {
                    format!(
                        "The argument {} of States.MathRandom must be a number",
                        i + 1
                    )
                })
            };
            let (lo, hi) = (bound(&args[0], 0)?, bound(&args[1], 1)?);
            if hi <= lo {
                return Err("The end of States.MathRandom must be greater than its start".into());
            }
            use rand::{Rng, SeedableRng};
            let v = match args.get(2) {
                Some(seed) => {
                    rand::rngs::StdRng::seed_from_u64(int(seed, 2)? as u64).random_range(lo..hi)
                }
                None => rand::rng().random_range(lo..hi),
            };
            Value::from(v)
        }
        Func::MathAdd => {
            want(2)?;
            let num = |v: &Value, i: usize| -> Result<i64, IntrinsicError> {
                v.as_f64().map(|f| (f + 0.5).floor() as i64).ok_or_else(|| {
                    format!("The argument {} of States.MathAdd must be a number", i + 1)
                })
            };
            Value::from(num(&args[0], 0)?.saturating_add(num(&args[1], 1)?))
        }
        Func::StringSplit => {
            want(2)?;
            let s = string(&args[0], 0)?;
            let d: Vec<char> = string(&args[1], 1)?.chars().collect();
            Value::Array(
                s.split(|c| d.contains(&c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_owned()))
                    .collect(),
            )
        }
        Func::Uuid => {
            want(0)?;
            Value::String(uuid::Uuid::new_v4().to_string())
        }
    })
}

fn hash(alg: &str, data: &[u8]) -> Result<String, IntrinsicError> {
    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
    Ok(match alg {
        "SHA-256" => hex(&sha2::Sha256::digest(data)),
        "SHA-384" => hex(&sha2::Sha384::digest(data)),
        "SHA-512" => hex(&sha2::Sha512::digest(data)),
        "SHA-1" => hex(&sha1(data)),
        "MD5" => hex(&md5(data)),
        other => {
            return Err(format!(
                "The hash algorithm '{other}' is not supported; use one of [MD5, SHA-1, SHA-256, SHA-384, SHA-512]"
            ));
        }
    })
}

/// Equality with numbers compared by value (`1` == `1.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Renders a value the way Java's `toString` renders the parsed JSON (`{a=1, b=[x]}`).
fn java_string(v: &Value, out: &mut String, top: bool) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_string(x, out, false);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                java_string(x, out, false);
            }
            out.push('}');
        }
    }
    let _ = top;
}

// --- small digests not provided by `sha2` (MD5, SHA-1), per RFC 1321 / RFC 3174 ---

fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let (mut a0, mut b0, mut c0, mut d0) =
        (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = (0..16)
            .map(|i| {
                u32::from_le_bytes([
                    chunk[4 * i],
                    chunk[4 * i + 1],
                    chunk[4 * i + 2],
                    chunk[4 * i + 3],
                ])
            })
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i {
                0..=15 => ((b & c) | (!b & d), i),
                16..=31 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                32..=47 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f2 = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f2.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, w) in [a0, b0, c0, d0].iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                chunk[4 * i],
                chunk[4 * i + 1],
                chunk[4 * i + 2],
                chunk[4 * i + 3],
            ]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, w) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::asl::intrinsic::Intrinsic;
    use serde_json::json;

    fn run(text: &str, args: Vec<Value>) -> Result<Value, String> {
        call(&Intrinsic::parse(text).unwrap(), args)
    }

    #[test]
    fn format_renders_objects_java_style() {
        let r = run(
            "States.Format('x={}', $.a)",
            vec![json!("x={}"), json!({"Arg1": 1, "Arg2": []})],
        );
        assert_eq!(r, Ok(json!("x={Arg1=1, Arg2=[]}")));
    }

    #[test]
    fn format_keeps_escaped_braces_literal() {
        let f = Intrinsic::parse("States.Format('a \\{\\} {}', 1)").unwrap();
        let fmt = match &f.args[0] {
            crate::engine::asl::intrinsic::Arg::Literal(v) => v.clone(),
            _ => Value::Null,
        };
        assert_eq!(call(&f, vec![fmt, json!(1)]), Ok(json!("a {} 1")));
    }

    #[test]
    fn math_add_rounds_like_java() {
        assert_eq!(
            run("States.MathAdd(1, 2)", vec![json!(-1.5), json!(-1.51)]),
            Ok(json!(-3))
        );
        assert_eq!(
            run("States.MathAdd(1, 2)", vec![json!(1.49), json!(1.5)]),
            Ok(json!(3))
        );
    }

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(
            hash("MD5", b"input data").unwrap(),
            "812f45842bc6d66ee14572ce20db8e86"
        );
        assert_eq!(
            hash("SHA-1", b"input data").unwrap(),
            "aaff4a450a104cd177d28d18d74485e8cae074b7"
        );
        assert!(hash("SHA-3", b"x").is_err());
    }

    #[test]
    fn string_split_drops_empty_parts() {
        assert_eq!(
            run("States.StringSplit(1, 2)", vec![json!(", , ,"), json!(",")]),
            Ok(json!([" ", " "]))
        );
    }
}
