//! Filter expressions (`[?(@.price > 10 && @.tag =~ /a.*/i)]`): parsing and evaluation
//! with Jayway's comparison rules (numbers with numbers, strings with strings, anything
//! missing compares false).

use std::borrow::Cow;

use serde_json::Value;

use super::parser::{self, Cursor};
use super::{Error, Function, Segment, eval};

/// A filter expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `@.x`: the value exists and is not null.
    Exists(Operand),
    Compare(Operand, Op, Operand),
}

/// One side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    /// `@...` (relative) or `$...` (absolute)
    Path { relative: bool, segments: Vec<Segment>, function: Option<Function> },
    Literal(Value),
    Regex(regex::Regex),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Matches,
    In,
    Nin,
    Size,
    Empty,
    Contains,
    SubsetOf,
    AnyOf,
    NoneOf,
}

/// Parses `a || b`, `a && b`, `!a`, `(a)`, `x op y`, `x`.
pub(super) fn parse_expr(c: &mut Cursor<'_>) -> Result<Expr, Error> {
    let mut left = parse_and(c)?;
    loop {
        c.skip_ws();
        if c.eat_str("||") {
            let right = parse_and(c)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        } else {
            return Ok(left);
        }
    }
}

fn parse_and(c: &mut Cursor<'_>) -> Result<Expr, Error> {
    let mut left = parse_unary(c)?;
    loop {
        c.skip_ws();
        if c.eat_str("&&") {
            let right = parse_unary(c)?;
            left = Expr::And(Box::new(left), Box::new(right));
        } else {
            return Ok(left);
        }
    }
}

fn parse_unary(c: &mut Cursor<'_>) -> Result<Expr, Error> {
    c.skip_ws();
    if c.peek() == Some('!') && c.peek_at(1) != Some('=') {
        c.bump();
        return Ok(Expr::Not(Box::new(parse_unary(c)?)));
    }
    if c.eat('(') {
        let e = parse_expr(c)?;
        c.skip_ws();
        c.expect(')')?;
        return Ok(e);
    }
    let left = parse_operand(c)?;
    c.skip_ws();
    let Some(op) = parse_op(c) else {
        return match left {
            Operand::Path { .. } => Ok(Expr::Exists(left)),
            _ => Err(c.error("expected a comparison operator")),
        };
    };
    c.skip_ws();
    let right = parse_operand(c)?;
    Ok(Expr::Compare(left, op, right))
}

fn parse_op(c: &mut Cursor<'_>) -> Option<Op> {
    const SYMBOLS: [(&str, Op); 7] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=~", Op::Matches),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    for (s, op) in SYMBOLS {
        if c.eat_str(s) {
            return Some(op);
        }
    }
    const WORDS: [(&str, Op); 8] = [
        ("nin", Op::Nin),
        ("in", Op::In),
        ("size", Op::Size),
        ("empty", Op::Empty),
        ("contains", Op::Contains),
        ("subsetof", Op::SubsetOf),
        ("anyof", Op::AnyOf),
        ("noneof", Op::NoneOf),
    ];
    for (w, op) in WORDS {
        let save = c.pos;
        if c.eat_str(w) && c.peek().is_some_and(|ch| ch.is_whitespace() || ch == '[' || ch == '\'' || ch == '"') {
            return Some(op);
        }
        c.pos = save;
    }
    None
}

fn parse_operand(c: &mut Cursor<'_>) -> Result<Operand, Error> {
    c.skip_ws();
    match c.peek() {
        Some(root @ ('@' | '$')) => {
            c.bump();
            let (segments, function) = parser::parse_segments(c, true)?;
            Ok(Operand::Path { relative: root == '@', segments, function })
        }
        Some('/') => parse_regex(c),
        _ => Ok(Operand::Literal(parse_literal(c)?)),
    }
}

fn parse_regex(c: &mut Cursor<'_>) -> Result<Operand, Error> {
    let start = c.pos;
    c.bump();
    let mut pattern = String::new();
    loop {
        match c.bump() {
            None => return Err(Error::new(c.text, start, "unterminated regular expression")),
            Some('\\') if c.peek() == Some('/') => {
                c.bump();
                pattern.push('/');
            }
            Some('/') => break,
            Some(ch) => pattern.push(ch),
        }
    }
    let mut flags = String::new();
    while let Some(f) = c.peek().filter(|f| matches!(f, 'i' | 'm' | 's' | 'x')) {
        flags.push(f);
        c.bump();
    }
    let full = if flags.is_empty() { format!("^(?:{pattern})$") } else { format!("(?{flags})^(?:{pattern})$") };
    regex::Regex::new(&full)
        .map(Operand::Regex)
        .map_err(|e| Error::new(c.text, start, format!("invalid regular expression: {e}")))
}

/// A literal: quoted string, number, `true`, `false`, `null`, or a `[...]` list of them.
fn parse_literal(c: &mut Cursor<'_>) -> Result<Value, Error> {
    c.skip_ws();
    match c.peek() {
        Some('\'' | '"') => Ok(Value::String(parser::read_quoted(c)?)),
        Some('[') => {
            c.bump();
            let mut items = Vec::new();
            c.skip_ws();
            if !c.eat(']') {
                loop {
                    items.push(parse_literal(c)?);
                    c.skip_ws();
                    if c.eat(']') {
                        break;
                    }
                    c.expect(',')?;
                }
            }
            Ok(Value::Array(items))
        }
        Some(ch) if ch == '-' || ch.is_ascii_digit() => {
            let start = c.pos;
            let mut s = String::new();
            while let Some(d) = c.peek().filter(|d| d.is_ascii_digit() || matches!(d, '-' | '+' | '.' | 'e' | 'E')) {
                s.push(d);
                c.bump();
            }
            serde_json::from_str::<serde_json::Number>(&s)
                .map(Value::Number)
                .map_err(|_| Error::new(c.text, start, format!("`{s}` is not a number")))
        }
        _ => {
            for (word, v) in [("true", Value::Bool(true)), ("false", Value::Bool(false)), ("null", Value::Null)] {
                if c.eat_str(word) {
                    return Ok(v);
                }
            }
            Err(c.error("expected a path, a string, a number, `true`, `false`, `null` or a list"))
        }
    }
}

/// Whether `node` passes the filter.
pub(super) fn matches(expr: &Expr, node: &Value, root: &Value) -> bool {
    match expr {
        Expr::Or(a, b) => matches(a, node, root) || matches(b, node, root),
        Expr::And(a, b) => matches(a, node, root) && matches(b, node, root),
        Expr::Not(a) => !matches(a, node, root),
        Expr::Exists(o) => operand(o, node, root).is_some_and(|v| !v.is_null()),
        Expr::Compare(l, op, r) => {
            if let (Operand::Regex(re), _) | (_, Operand::Regex(re)) = (l, r) {
                let other = if matches!(l, Operand::Regex(_)) { r } else { l };
                return *op == Op::Matches
                    && operand(other, node, root).is_some_and(|v| v.as_str().is_some_and(|s| re.is_match(s)));
            }
            match (operand(l, node, root), operand(r, node, root)) {
                (Some(a), Some(b)) => compare(&a, *op, &b),
                _ => false,
            }
        }
    }
}

fn operand<'a>(o: &'a Operand, node: &'a Value, root: &'a Value) -> Option<Cow<'a, Value>> {
    match o {
        Operand::Literal(v) => Some(Cow::Borrowed(v)),
        Operand::Regex(_) => None,
        Operand::Path { relative, segments, function } => {
            let start = if *relative { node } else { root };
            let value = eval::evaluate_segments(segments, start, root)?;
            match function {
                None => Some(value),
                Some(f) => eval::apply_function(*f, value),
            }
        }
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    use std::cmp::Ordering;
    let order = || -> Option<Ordering> {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
            (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
            _ => None,
        }
    };
    let list = |v: &Value| v.as_array().cloned();
    match op {
        Op::Eq => equal(a, b),
        Op::Ne => !equal(a, b),
        Op::Lt => order() == Some(Ordering::Less),
        Op::Le => matches!(order(), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => order() == Some(Ordering::Greater),
        Op::Ge => matches!(order(), Some(Ordering::Greater | Ordering::Equal)),
        Op::Matches => false,
        Op::In => b.as_array().is_some_and(|l| l.iter().any(|x| equal(a, x))),
        Op::Nin => b.as_array().is_some_and(|l| !l.iter().any(|x| equal(a, x))),
        Op::Size => {
            let n = match a {
                Value::Array(l) => l.len(),
                Value::String(s) => s.encode_utf16().count(),
                _ => return false,
            };
            b.as_u64() == Some(n as u64)
        }
        Op::Empty => {
            let e = match a {
                Value::Array(l) => l.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => return false,
            };
            b.as_bool() == Some(e)
        }
        Op::Contains => match (a, b) {
            (Value::Array(l), x) => l.iter().any(|y| equal(x, y)),
            (Value::String(s), Value::String(t)) => s.contains(t.as_str()),
            _ => false,
        },
        Op::SubsetOf | Op::AnyOf | Op::NoneOf => {
            let (Some(l), Some(r)) = (list(a), list(b)) else { return false };
            match op {
                Op::SubsetOf => l.iter().all(|x| r.iter().any(|y| equal(x, y))),
                Op::AnyOf => l.iter().any(|x| r.iter().any(|y| equal(x, y))),
                _ => !l.iter().any(|x| r.iter().any(|y| equal(x, y))),
            }
        }
    }
}

/// Jayway equality: numbers by value (`1 == 1.0`), everything else structurally.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
