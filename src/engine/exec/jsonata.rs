//! Evaluates the JSONata subset of `asl::jsonata` with JSONata's rules: undefined results,
//! sequences that collapse to a single value, array mapping along paths, truthiness. Also
//! the built-in functions Step Functions workflows use, with AWS's additions (`$partition`,
//! `$range`, `$hash`, `$random`, `$uuid`, `$parse`).

use crate::engine::asl::jsonata::{BinOp, Node};
use serde_json::{Map, Value};

/// A JSONata value: JSON, a function, or a regex.
#[derive(Clone)]
pub(crate) enum Val<'a> {
    Json(Value),
    Lambda(&'a [Box<str>], &'a Node),
    Builtin(&'a str),
    Regex(regex::Regex),
}

type R<'a> = Result<Option<Val<'a>>, String>;

/// Variables visible to an expression.
pub(crate) struct Scope<'a> {
    /// `$states`.
    pub states: &'a Value,
    /// The runtime's clock, for `$now()` and `$millis()`.
    pub now: time::OffsetDateTime,
    /// Workflow variables.
    pub vars: &'a Map<String, Value>,
    locals: Vec<(&'a str, Option<Val<'a>>)>,
    depth: usize,
}

impl<'a> Scope<'a> {
    pub fn new(states: &'a Value, vars: &'a Map<String, Value>, now: time::OffsetDateTime) -> Self {
        Scope {
            states,
            now,
            vars,
            locals: Vec::new(),
            depth: 0,
        }
    }
}

/// Evaluates `node`; `Ok(None)` is JSONata's *undefined*.
pub(crate) fn eval<'a>(node: &'a Node, scope: &mut Scope<'a>) -> Result<Option<Val<'a>>, String> {
    ev(node, None, scope)
}

fn json(v: Value) -> Option<Val<'static>> {
    Some(Val::Json(v))
}

fn as_json<'a>(v: &'a Option<Val<'_>>) -> Option<&'a Value> {
    match v {
        Some(Val::Json(j)) => Some(j),
        _ => None,
    }
}

fn ev<'a>(node: &'a Node, ctx: Option<&Value>, scope: &mut Scope<'a>) -> R<'a> {
    scope.depth += 1;
    if scope.depth > 200 {
        return Err("U1001: Stack overflow error: evaluation is too deeply nested".into());
    }
    let r = ev_inner(node, ctx, scope);
    scope.depth -= 1;
    r
}

fn ev_inner<'a>(node: &'a Node, ctx: Option<&Value>, scope: &mut Scope<'a>) -> R<'a> {
    Ok(match node {
        Node::Literal(v) => json(v.clone()),
        Node::Regex(p, flags) => {
            let pat = if flags.contains('i') {
                format!("(?i){p}")
            } else {
                p.to_string()
            };
            Some(Val::Regex(regex::Regex::new(&pat).map_err(|e| {
                format!("S0302: invalid regular expression: {e}")
            })?))
        }
        Node::Var(name) => match &**name {
            "" | "$" => ctx.cloned().map(Val::Json),
            "states" => json(scope.states.clone()),
            n => {
                if let Some((_, v)) = scope.locals.iter().rev().find(|(k, _)| *k == n) {
                    v.clone()
                } else if let Some(v) = scope.vars.get(n) {
                    json(v.clone())
                } else if BUILTINS.contains(&n) {
                    Some(Val::Builtin(
                        BUILTINS.iter().find(|b| **b == n).copied().unwrap_or(""),
                    ))
                } else {
                    None
                }
            }
        },
        Node::Field(name) => match ctx {
            Some(c) => field(c, name),
            None => None,
        },
        Node::Path(steps) => {
            let first = ev(&steps[0], ctx, scope)?;
            let mut cur = match first {
                Some(Val::Json(v)) => Some(v),
                None => None,
                other => return Ok(other),
            };
            for (n, step) in steps[1..].iter().enumerate() {
                let last = n + 2 == steps.len();
                let Some(v) = cur.take() else { return Ok(None) };
                let items = match v {
                    Value::Array(a) => a,
                    other => vec![other],
                };
                let mut results = Vec::new();
                for item in &items {
                    if let Some(Val::Json(x)) = ev(step, Some(item), scope)? {
                        results.push(x);
                    }
                }
                // As jsonata.js: a single array produced by the last step stays an array;
                // otherwise results are flattened into a sequence.
                if last && results.len() == 1 && results[0].is_array() {
                    cur = results.pop();
                    continue;
                }
                let mut out = Vec::new();
                for r in results {
                    match r {
                        Value::Array(a) if !matches!(step, Node::Array(_)) => out.extend(a),
                        x => out.push(x),
                    }
                }
                cur = collapse(out);
            }
            cur.map(Val::Json)
        }
        Node::Filter(base, pred) => {
            let Some(v) = as_json(&ev(base, ctx, scope)?).cloned() else {
                return Ok(None);
            };
            let items = match v {
                Value::Array(a) => a,
                other => vec![other],
            };
            if let Node::Literal(Value::Number(n)) = &**pred {
                let i = n.as_f64().unwrap_or(0.0).floor() as i64;
                let idx = if i < 0 { items.len() as i64 + i } else { i };
                return Ok(items
                    .get(idx.max(0) as usize)
                    .filter(|_| idx >= 0)
                    .cloned()
                    .map(Val::Json));
            }
            let mut out = Vec::new();
            for (n, item) in items.iter().enumerate() {
                let keep = match ev(pred, Some(item), scope)? {
                    Some(Val::Json(Value::Number(k))) => k.as_f64().is_some_and(|k| {
                        let k = k.floor() as i64;
                        let k = if k < 0 { items.len() as i64 + k } else { k };
                        k == n as i64
                    }),
                    v => truthy(as_json(&v)),
                };
                if keep {
                    out.push(item.clone());
                }
            }
            collapse(out).map(Val::Json)
        }
        Node::Array(items) => {
            let mut out = Vec::new();
            for it in items {
                if let Node::Range(a, b) = it {
                    let a = number(as_json(&ev(a, ctx, scope)?));
                    let b = number(as_json(&ev(b, ctx, scope)?));
                    if let (Some(a), Some(b)) = (a, b) {
                        let (a, b) = (a as i64, b as i64);
                        if b.saturating_sub(a) > 10_000_000 {
                            return Err("D2014: The size of the sequence allocated by the range operator (..) must not exceed 1e7".into());
                        }
                        out.extend((a..=b).map(Value::from));
                    }
                    continue;
                }
                match ev(it, ctx, scope)? {
                    Some(Val::Json(Value::Array(a))) if !matches!(it, Node::Array(_)) => {
                        out.extend(a)
                    }
                    Some(Val::Json(v)) => out.push(v),
                    Some(_) => return Err("T1003: functions cannot be stored in arrays".into()),
                    None => {}
                }
            }
            json(Value::Array(out))
        }
        Node::Range(..) => {
            return Err("the range operator must appear in an array constructor".into());
        }
        Node::Object(fields) => {
            let mut m = Map::new();
            for (k, v) in fields {
                let key = match as_json(&ev(k, ctx, scope)?) {
                    Some(Value::String(s)) => s.clone(),
                    _ => {
                        return Err(
                            "T1003: Key in object structure must evaluate to a string".into()
                        );
                    }
                };
                if let Some(Val::Json(v)) = ev(v, ctx, scope)? {
                    m.insert(key, v);
                }
            }
            json(Value::Object(m))
        }
        Node::Neg(e) => match as_json(&ev(e, ctx, scope)?) {
            None => None,
            Some(Value::Number(n)) => json(num(-n.as_f64().unwrap_or(0.0))),
            Some(_) => return Err("D1002: Cannot negate a non-numeric value".into()),
        },
        Node::Binary(op, a, b) => binary(*op, a, b, ctx, scope)?,
        Node::Cond(c, t, e) => {
            if truthy(as_json(&ev(c, ctx, scope)?)) {
                ev(t, ctx, scope)?
            } else if let Some(e) = e {
                ev(e, ctx, scope)?
            } else {
                None
            }
        }
        Node::Block(items) => {
            let mark = scope.locals.len();
            let mut last = None;
            for it in items {
                last = ev(it, ctx, scope)?;
            }
            scope.locals.truncate(mark);
            last
        }
        Node::Bind(name, value) => {
            let v = ev(value, ctx, scope)?;
            scope.locals.push((name, v.clone()));
            v
        }
        Node::Lambda(params, body) => Some(Val::Lambda(params, body)),
        Node::Call(callee, args) => {
            let f = ev(callee, ctx, scope)?;
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(ev(a, ctx, scope)?);
            }
            match f {
                Some(Val::Builtin(name)) if HIGHER_ORDER.contains(&name) => {
                    higher_order(name, vals, ctx, scope)?
                }
                Some(Val::Builtin("now")) => {
                    json(Value::String(super::format_timestamp(scope.now)))
                }
                Some(Val::Builtin("millis")) => json(Value::from(
                    (scope.now.unix_timestamp_nanos() / 1_000_000) as i64,
                )),
                Some(Val::Builtin(name)) => builtin(name, vals)?,
                Some(f @ Val::Lambda(..)) => apply(&f, vals, ctx, scope)?,
                _ => {
                    let name = match &**callee {
                        Node::Var(n) => n.to_string(),
                        _ => "expression".into(),
                    };
                    return Err(format!(
                        "T1006: Attempted to invoke a non-function (${name})"
                    ));
                }
            }
        }
    })
}

/// Calls a lambda (or a built-in passed as a value) with `args`.
fn apply<'a>(
    f: &Val<'a>,
    args: Vec<Option<Val<'a>>>,
    ctx: Option<&Value>,
    scope: &mut Scope<'a>,
) -> R<'a> {
    match f {
        Val::Lambda(params, body) => {
            let mark = scope.locals.len();
            for (i, p) in params.iter().enumerate() {
                scope.locals.push((p, args.get(i).cloned().flatten()));
            }
            let r = ev(body, ctx, scope);
            scope.locals.truncate(mark);
            r
        }
        Val::Builtin(name) => builtin(name, args),
        _ => Err("T1006: Attempted to invoke a non-function".into()),
    }
}

const HIGHER_ORDER: &[&str] = &["map", "filter", "reduce", "single", "each"];

/// `$map`, `$filter`, `$reduce`, `$single`, `$each`: built-ins that call a function.
fn higher_order<'a>(
    name: &str,
    args: Vec<Option<Val<'a>>>,
    ctx: Option<&Value>,
    scope: &mut Scope<'a>,
) -> R<'a> {
    let mut args = args.into_iter();
    let first = args.next().flatten();
    let Some(f) = args.next().flatten() else {
        return Err(format!(
            "T0410: Argument 2 of function ${name} must be a function"
        ));
    };
    let arity = match &f {
        Val::Lambda(p, _) => p.len(),
        _ => 1,
    };
    if name == "each" {
        let Some(Val::Json(Value::Object(m))) = first else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for (k, v) in m {
            let call_args = vec![Some(Val::Json(v)), Some(Val::Json(Value::String(k)))];
            if let Some(Val::Json(r)) = apply(&f, call_args, ctx, scope)? {
                out.push(r);
            }
        }
        return Ok(collapse(out).map(Val::Json));
    }
    let items = match first {
        None => return Ok(None),
        Some(Val::Json(Value::Array(a))) => a,
        Some(Val::Json(v)) => vec![v],
        Some(_) => {
            return Err(format!(
                "T0410: Argument 1 of function ${name} must be an array"
            ));
        }
    };
    let whole = Value::Array(items.clone());
    let call = |i: usize, v: &Value| -> Vec<Option<Val<'a>>> {
        let mut a = vec![Some(Val::Json(v.clone()))];
        if arity > 1 {
            a.push(Some(Val::Json(Value::from(i))));
        }
        if arity > 2 {
            a.push(Some(Val::Json(whole.clone())));
        }
        a
    };
    match name {
        "map" => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                if let Some(Val::Json(r)) = apply(&f, call(i, v), ctx, scope)? {
                    out.push(r);
                }
            }
            Ok(collapse(out).map(Val::Json))
        }
        "filter" | "single" => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                if truthy(as_json(&apply(&f, call(i, v), ctx, scope)?)) {
                    out.push(v.clone());
                }
            }
            if name == "single" {
                if out.len() != 1 {
                    return Err(format!(
                        "D3138: The $single() function expected exactly 1 matching result, got {}",
                        out.len()
                    ));
                }
                return Ok(out.pop().map(Val::Json));
            }
            Ok(collapse(out).map(Val::Json))
        }
        _ => {
            // $reduce(array, function($acc, $v), init?)
            let mut iter = items.into_iter();
            let mut acc = match args.next().flatten() {
                Some(Val::Json(v)) => Some(v),
                _ => iter.next(),
            };
            for v in iter {
                let r = apply(
                    &f,
                    vec![acc.clone().map(Val::Json), Some(Val::Json(v))],
                    ctx,
                    scope,
                )?;
                acc = match r {
                    Some(Val::Json(x)) => Some(x),
                    _ => None,
                };
            }
            Ok(acc.map(Val::Json))
        }
    }
}

fn field(c: &Value, name: &str) -> Option<Val<'static>> {
    match c {
        Value::Object(m) if name == "*" => collapse(m.values().cloned().collect()).map(Val::Json),
        Value::Object(m) => m.get(name).cloned().map(Val::Json),
        Value::Array(a) => {
            let mut out = Vec::new();
            for it in a {
                match field(it, name) {
                    Some(Val::Json(Value::Array(x))) => out.extend(x),
                    Some(Val::Json(x)) => out.push(x),
                    _ => {}
                }
            }
            collapse(out).map(Val::Json)
        }
        _ => None,
    }
}

/// A JSONata sequence: empty is undefined, one item is that item.
fn collapse(mut v: Vec<Value>) -> Option<Value> {
    match v.len() {
        0 => None,
        1 => v.pop(),
        _ => Some(Value::Array(v)),
    }
}

pub(crate) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => a.iter().any(|x| truthy(Some(x))),
        Some(Value::Object(m)) => !m.is_empty(),
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

pub(crate) fn num(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn deep_eq(a: &Value, b: &Value) -> bool {
    super::intrinsics::json_eq(a, b)
}

fn binary<'a>(
    op: BinOp,
    a: &'a Node,
    b: &'a Node,
    ctx: Option<&Value>,
    scope: &mut Scope<'a>,
) -> R<'a> {
    match op {
        BinOp::And => {
            let l = truthy(as_json(&ev(a, ctx, scope)?));
            return Ok(json(Value::Bool(l && truthy(as_json(&ev(b, ctx, scope)?)))));
        }
        BinOp::Or => {
            let l = truthy(as_json(&ev(a, ctx, scope)?));
            return Ok(json(Value::Bool(l || truthy(as_json(&ev(b, ctx, scope)?)))));
        }
        _ => {}
    }
    let l = ev(a, ctx, scope)?;
    let r = ev(b, ctx, scope)?;
    let (l, r) = (as_json(&l), as_json(&r));
    let sym = match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        _ => "",
    };
    Ok(match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            let (Some(l), Some(r)) = (l, r) else {
                return Ok(None);
            };
            let x = l.as_f64().filter(|_| l.is_number()).ok_or_else(|| {
                format!("T2001: The left side of the {sym} operator must evaluate to a number")
            })?;
            let y = r.as_f64().filter(|_| r.is_number()).ok_or_else(|| {
                format!("T2002: The right side of the {sym} operator must evaluate to a number")
            })?;
            let v = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                _ => x % y,
            };
            if !v.is_finite() {
                return Err("D1001: Number out of range".into());
            }
            json(num(v))
        }
        BinOp::Eq => json(Value::Bool(
            matches!((l, r), (Some(l), Some(r)) if deep_eq(l, r)),
        )),
        BinOp::Ne => json(Value::Bool(
            matches!((l, r), (Some(l), Some(r)) if !deep_eq(l, r)),
        )),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let (Some(l), Some(r)) = (l, r) else {
                return Ok(None);
            };
            let ord = match (l, r) {
                (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
                (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                _ => {
                    return Err("T2010: The expressions either side of operator must evaluate to numbers or strings".into());
                }
            };
            let Some(o) = ord else { return Ok(None) };
            use std::cmp::Ordering::*;
            json(Value::Bool(match op {
                BinOp::Lt => o == Less,
                BinOp::Le => o != Greater,
                BinOp::Gt => o == Greater,
                _ => o != Less,
            }))
        }
        BinOp::Concat => {
            let s = |v: Option<&Value>| v.map(to_string).unwrap_or_default();
            json(Value::String(s(l) + &s(r)))
        }
        BinOp::In => {
            let (Some(l), Some(r)) = (l, r) else {
                return Ok(json(Value::Bool(false)));
            };
            let found = match r {
                Value::Array(a) => a.iter().any(|x| deep_eq(x, l)),
                other => deep_eq(other, l),
            };
            json(Value::Bool(found))
        }
        BinOp::And | BinOp::Or => None,
    })
}

/// `$string`: strings as they are, everything else as compact JSON.
fn to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const BUILTINS: &[&str] = &[
    "sum",
    "count",
    "max",
    "min",
    "average",
    "string",
    "number",
    "boolean",
    "not",
    "exists",
    "length",
    "substring",
    "uppercase",
    "lowercase",
    "trim",
    "contains",
    "split",
    "join",
    "keys",
    "merge",
    "append",
    "reverse",
    "abs",
    "floor",
    "ceil",
    "round",
    "type",
    "lookup",
    "distinct",
    "partition",
    "range",
    "hash",
    "random",
    "uuid",
    "parse",
    "substringBefore",
    "substringAfter",
    "sort",
    "values",
    "toMillis",
    "now",
    "millis",
    "map",
    "filter",
    "reduce",
    "single",
    "each",
    "replace",
    "pad",
    "base64encode",
    "base64decode",
    "fromMillis",
    "power",
    "sqrt",
    "zip",
    "error",
    "assert",
    "isoDate",
];

fn builtin<'a>(name: &str, args: Vec<Option<Val<'a>>>) -> R<'a> {
    let arg = |i: usize| -> Option<Value> {
        match args.get(i) {
            Some(Some(Val::Json(v))) => Some(v.clone()),
            _ => None,
        }
    };
    let array = |i: usize| -> Option<Vec<Value>> {
        arg(i).map(|v| match v {
            Value::Array(a) => a,
            other => vec![other],
        })
    };
    let string = |i: usize| -> Result<Option<String>, String> {
        match arg(i) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!(
                "T0410: Argument {} of function ${name} does not match function signature",
                i + 1
            )),
        }
    };
    let nums = |i: usize| -> Result<Option<Vec<f64>>, String> {
        match array(i) {
            None => Ok(None),
            Some(a) => a
                .iter()
                .map(|x| x.as_f64().filter(|_| x.is_number()))
                .collect::<Option<Vec<f64>>>()
                .map(Some)
                .ok_or_else(|| {
                    format!("T0412: Argument 1 of function ${name} must be an array of numbers")
                }),
        }
    };
    let n = |i: usize| -> Result<Option<f64>, String> {
        match arg(i) {
            None => Ok(None),
            Some(Value::Number(x)) => Ok(x.as_f64()),
            Some(_) => Err(format!(
                "T0410: Argument {} of function ${name} does not match function signature",
                i + 1
            )),
        }
    };
    let out: Option<Value> = match name {
        "sum" => nums(0)?.map(|a| num(a.iter().sum())),
        "count" => Some(Value::from(array(0).map(|a| a.len()).unwrap_or(0))),
        "max" => nums(0)?
            .and_then(|a| a.into_iter().reduce(f64::max))
            .map(num),
        "min" => nums(0)?
            .and_then(|a| a.into_iter().reduce(f64::min))
            .map(num),
        "average" => nums(0)?
            .filter(|a| !a.is_empty())
            .map(|a| num(a.iter().sum::<f64>() / a.len() as f64)),
        "string" => arg(0).map(|v| Value::String(to_string(&v))),
        "number" => match arg(0) {
            None => None,
            Some(Value::Number(x)) => Some(Value::Number(x)),
            Some(Value::Bool(b)) => Some(Value::from(b as i64)),
            Some(Value::String(s)) => Some(
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(num)
                    .ok_or_else(|| format!("D3030: Unable to cast value to a number: \"{s}\""))?,
            ),
            Some(_) => return Err("D3030: Unable to cast value to a number".into()),
        },
        "boolean" => arg(0).map(|v| Value::Bool(truthy(Some(&v)))),
        "not" => arg(0).map(|v| Value::Bool(!truthy(Some(&v)))),
        "exists" => Some(Value::Bool(matches!(args.first(), Some(Some(_))))),
        "length" => string(0)?.map(|s| Value::from(s.chars().count())),
        "uppercase" => string(0)?.map(|s| Value::String(s.to_uppercase())),
        "lowercase" => string(0)?.map(|s| Value::String(s.to_lowercase())),
        "trim" => {
            string(0)?.map(|s| Value::String(s.split_whitespace().collect::<Vec<_>>().join(" ")))
        }
        "substring" => match string(0)? {
            None => None,
            Some(s) => {
                let cs: Vec<char> = s.chars().collect();
                let len = cs.len() as i64;
                let st = n(1)?.unwrap_or(0.0) as i64;
                let st = if st < 0 {
                    (len + st).max(0)
                } else {
                    st.min(len)
                };
                let en = match n(2)? {
                    Some(l) => (st + (l as i64).max(0)).min(len),
                    None => len,
                };
                Some(Value::String(
                    cs[st as usize..en.max(st) as usize].iter().collect(),
                ))
            }
        },
        "substringBefore" | "substringAfter" => match (string(0)?, string(1)?) {
            (Some(s), Some(p)) => Some(Value::String(match s.find(&p) {
                Some(i) if name == "substringBefore" => s[..i].to_owned(),
                Some(i) => s[i + p.len()..].to_owned(),
                None => s,
            })),
            _ => None,
        },
        "contains" => match (string(0)?, args.get(1)) {
            (Some(s), Some(Some(Val::Regex(r)))) => Some(Value::Bool(r.is_match(&s))),
            (Some(s), Some(Some(Val::Json(Value::String(p))))) => {
                Some(Value::Bool(s.contains(p.as_str())))
            }
            (None, _) => None,
            _ => {
                return Err(
                    "T0410: Argument 2 of function $contains does not match function signature"
                        .into(),
                );
            }
        },
        "split" => match (string(0)?, args.get(1)) {
            (Some(s), Some(Some(Val::Json(Value::String(sep))))) => {
                let parts: Vec<Value> = if sep.is_empty() {
                    s.chars().map(|c| Value::String(c.to_string())).collect()
                } else {
                    s.split(sep.as_str())
                        .map(|p| Value::String(p.to_owned()))
                        .collect()
                };
                Some(Value::Array(parts))
            }
            (Some(s), Some(Some(Val::Regex(r)))) => Some(Value::Array(
                r.split(&s).map(|p| Value::String(p.to_owned())).collect(),
            )),
            (None, _) => None,
            _ => {
                return Err(
                    "T0410: Argument 2 of function $split does not match function signature".into(),
                );
            }
        },
        "join" => match array(0) {
            None => None,
            Some(a) => {
                let sep = string(1)?.unwrap_or_default();
                let parts: Option<Vec<String>> =
                    a.iter().map(|x| x.as_str().map(str::to_owned)).collect();
                let parts = parts
                    .ok_or("T0412: Argument 1 of function $join must be an array of strings")?;
                Some(Value::String(parts.join(&sep)))
            }
        },
        "keys" => arg(0).map(|v| match v {
            Value::Object(m) => Value::Array(m.keys().map(|k| Value::String(k.clone())).collect()),
            _ => Value::Array(Vec::new()),
        }),
        "values" => arg(0).map(|v| match v {
            Value::Object(m) => Value::Array(m.values().cloned().collect()),
            _ => Value::Array(Vec::new()),
        }),
        "lookup" => match (arg(0), string(1)?) {
            (Some(Value::Object(m)), Some(k)) => m.get(&k).cloned(),
            _ => None,
        },
        "merge" => array(0).map(|a| {
            let mut m = Map::new();
            for x in a {
                if let Value::Object(o) = x {
                    m.extend(o);
                }
            }
            Value::Object(m)
        }),
        "append" => match (array(0), array(1)) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(Value::Array(a))
            }
            (Some(a), None) | (None, Some(a)) => Some(Value::Array(a)),
            (None, None) => None,
        },
        "reverse" => array(0).map(|mut a| {
            a.reverse();
            Value::Array(a)
        }),
        "distinct" => array(0).map(|a| {
            let mut out: Vec<Value> = Vec::new();
            for x in a {
                if !out.iter().any(|y| deep_eq(y, &x)) {
                    out.push(x);
                }
            }
            Value::Array(out)
        }),
        "sort" => match array(0) {
            None => None,
            Some(mut a) => {
                if a.iter().all(Value::is_number) {
                    a.sort_by(|x, y| {
                        x.as_f64()
                            .partial_cmp(&y.as_f64())
                            .unwrap_or(std::cmp::Ordering::Equal)
                    });
                } else if a.iter().all(Value::is_string) {
                    a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                } else {
                    return Err("D3070: The single argument form of the sort function can only be applied to an array of strings or an array of numbers".into());
                }
                Some(Value::Array(a))
            }
        },
        "abs" => n(0)?.map(|x| num(x.abs())),
        "floor" => n(0)?.map(|x| num(x.floor())),
        "ceil" => n(0)?.map(|x| num(x.ceil())),
        "round" => n(0)?.map(|x| {
            // Round half to even, as JSONata does.
            let r = x.round();
            num(if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                r - x.signum()
            } else {
                r
            })
        }),
        "type" => match args.first() {
            Some(Some(Val::Json(v))) => Some(Value::String(
                match v {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                }
                .into(),
            )),
            Some(Some(_)) => Some(Value::String("function".into())),
            _ => None,
        },
        "partition" => match (array(0), n(1)?) {
            (Some(a), Some(size)) if size >= 1.0 => Some(Value::Array(
                a.chunks(size as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            )),
            (Some(_), _) => {
                return Err(
                    "The chunk size argument of $partition must be a positive integer".into(),
                );
            }
            _ => None,
        },
        "range" => match (n(0)?, n(1)?, n(2)?) {
            (Some(s), Some(e), Some(step)) if step != 0.0 => {
                let mut out = Vec::new();
                let mut i = s;
                while (step > 0.0 && i <= e) || (step < 0.0 && i >= e) {
                    out.push(num(i));
                    if out.len() > 1000 {
                        return Err(
                            "The $range function may not produce more than 1000 items".into()
                        );
                    }
                    i += step;
                }
                collapse(out)
            }
            (Some(_), Some(_), Some(_)) => {
                return Err("The step argument of $range cannot be 0".into());
            }
            _ => None,
        },
        "hash" => match (string(0)?, string(1)?) {
            (Some(s), alg) => {
                let f = crate::engine::asl::intrinsic::Intrinsic::parse("States.Hash('a', 'b')")
                    .map_err(|e| e.to_string())?;
                Some(super::intrinsics::call(
                    &f,
                    vec![
                        Value::String(s),
                        Value::String(alg.unwrap_or_else(|| "SHA-256".into())),
                    ],
                )?)
            }
            _ => None,
        },
        "random" => {
            use rand::{Rng, SeedableRng};
            Some(num(match n(0)? {
                Some(seed) => rand::rngs::StdRng::seed_from_u64(seed as u64).random::<f64>(),
                None => rand::random::<f64>(),
            }))
        }
        "uuid" => Some(Value::String(uuid::Uuid::new_v4().to_string())),
        "parse" => {
            match string(0)? {
                None => None,
                Some(s) => Some(serde_json::from_str(&s).map_err(|e| {
                    format!("The $parse function could not parse its argument: {e}")
                })?),
            }
        }
        "toMillis" => match string(0)? {
            None => None,
            Some(t) => Some(Value::from(
                (super::parse_timestamp(&t)
                    .ok_or_else(|| format!("D3110: The timestamp '{t}' cannot be parsed"))?
                    .unix_timestamp_nanos()
                    / 1_000_000) as i64,
            )),
        },
        "fromMillis" => match n(0)? {
            None => None,
            Some(ms) => {
                let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
                    .map_err(|_| "D3110: The milliseconds value is out of range".to_string())?;
                Some(Value::String(super::format_timestamp(t)))
            }
        },
        "replace" => match (string(0)?, args.get(1), string(2)?) {
            (None, _, _) => None,
            (Some(s), Some(Some(Val::Json(Value::String(p)))), Some(r)) => {
                if p.is_empty() {
                    return Err(
                        "D3010: Second argument of replace function cannot be an empty string"
                            .into(),
                    );
                }
                Some(Value::String(s.replace(p.as_str(), &r)))
            }
            (Some(s), Some(Some(Val::Regex(re))), Some(r)) => {
                Some(Value::String(re.replace_all(&s, r.as_str()).into_owned()))
            }
            _ => {
                return Err(
                    "T0410: Arguments of function $replace do not match function signature".into(),
                );
            }
        },
        "pad" => match (string(0)?, n(1)?) {
            (Some(s), Some(w)) => {
                let ch = string(2)?
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| " ".into());
                let len = s.chars().count() as i64;
                let want = (w.abs() as i64).min(1_000_000);
                let fill: String = ch
                    .chars()
                    .cycle()
                    .take((want - len).max(0) as usize)
                    .collect();
                Some(Value::String(if w < 0.0 { fill + &s } else { s + &fill }))
            }
            _ => None,
        },
        "base64encode" => {
            use base64::Engine as _;
            string(0)?.map(|s| Value::String(base64::engine::general_purpose::STANDARD.encode(s)))
        }
        "base64decode" => {
            use base64::Engine as _;
            match string(0)? {
                None => None,
                Some(s) => {
                    let b = base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .map_err(|e| format!("The $base64decode argument is not base64: {e}"))?;
                    Some(Value::String(String::from_utf8_lossy(&b).into_owned()))
                }
            }
        }
        "power" => match (n(0)?, n(1)?) {
            (Some(b), Some(e)) => {
                let v = b.powf(e);
                if !v.is_finite() {
                    return Err("D3061: The power function has resulted in a value that cannot be represented as a JSON number".into());
                }
                Some(num(v))
            }
            _ => None,
        },
        "sqrt" => match n(0)? {
            Some(x) if x < 0.0 => {
                return Err(
                    "D3060: The sqrt function cannot be applied to a negative number".into(),
                );
            }
            Some(x) => Some(num(x.sqrt())),
            None => None,
        },
        "zip" => {
            let arrays: Vec<Vec<Value>> = (0..args.len()).filter_map(array).collect();
            let len = arrays.iter().map(Vec::len).min().unwrap_or(0);
            Some(Value::Array(
                (0..len)
                    .map(|i| Value::Array(arrays.iter().map(|a| a[i].clone()).collect()))
                    .collect(),
            ))
        }
        "error" => return Err(string(0)?.unwrap_or_else(|| "$error() function evaluated".into())),
        "assert" => {
            if !matches!(arg(0), Some(Value::Bool(true))) {
                return Err(string(1)?.unwrap_or_else(|| "$assert() statement failed".into()));
            }
            None
        }
        other => {
            return Err(format!(
                "T1006: Attempted to invoke a non-function (${other})"
            ));
        }
    };
    Ok(out.map(Val::Json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::asl::jsonata::Expr;
    use serde_json::json;

    fn run(text: &str, states: Value) -> Result<Option<Value>, String> {
        let e = Expr::parse(text, "Output").map_err(|e| e.0)?;
        let vars = Map::new();
        let mut scope = Scope::new(&states, &vars, time::OffsetDateTime::UNIX_EPOCH);
        Ok(match eval(&e.node, &mut scope)? {
            Some(Val::Json(v)) => Some(v),
            Some(_) => Some(json!("<function>")),
            None => None,
        })
    }

    #[test]
    fn paths_arithmetic_and_functions() {
        let s = json!({"input": {"xs": [1, 2, 3], "o": [{"a": 1}, {"a": 2}], "t": "Public"}});
        assert_eq!(
            run("$sum($states.input.xs) + 1", s.clone()),
            Ok(Some(json!(7)))
        );
        assert_eq!(run("$states.input.o.a", s.clone()), Ok(Some(json!([1, 2]))));
        assert_eq!(
            run("$states.input.t = 'Public'", s.clone()),
            Ok(Some(json!(true)))
        );
        assert_eq!(run("$states.input.nope", s.clone()), Ok(None));
        assert_eq!(
            run("$contains('hello$world', /^hello\\$/)", s.clone()),
            Ok(Some(json!(true)))
        );
        assert_eq!(run("$states.input.xs[1]", s.clone()), Ok(Some(json!(2))));
        assert_eq!(run("($x := 2; $x * 3)", s.clone()), Ok(Some(json!(6))));
        assert_eq!(run("$range(1, 9, 9)", s.clone()), Ok(Some(json!(1))));
        assert_eq!(run("$states.input.xs", s), Ok(Some(json!([1, 2, 3]))));
    }

    #[test]
    fn type_errors_are_reported() {
        assert!(run("'a' + 1", json!({})).is_err());
        assert!(run("$number('x')", json!({})).is_err());
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use crate::engine::asl::jsonata::Expr;
    use serde_json::json;

    fn run(text: &str) -> Result<Option<Value>, String> {
        let e = Expr::parse(text, "Output").map_err(|e| e.0)?;
        let (states, vars) = (
            json!({"input": {"xs": [1, 2, 3], "o": {"a": 1, "b": 2}}}),
            Map::new(),
        );
        let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut scope = Scope::new(&states, &vars, now);
        Ok(match eval(&e.node, &mut scope)? {
            Some(Val::Json(v)) => Some(v),
            _ => None,
        })
    }

    #[test]
    fn higher_order_functions_call_lambdas() {
        assert_eq!(
            run("$map($states.input.xs, function($v){ $v * 2 })"),
            Ok(Some(json!([2, 4, 6])))
        );
        assert_eq!(
            run("$filter($states.input.xs, function($v){ $v > 1 })"),
            Ok(Some(json!([2, 3])))
        );
        assert_eq!(
            run("$reduce($states.input.xs, function($a, $v){ $a + $v })"),
            Ok(Some(json!(6)))
        );
        assert_eq!(
            run("$each($states.input.o, function($v, $k){ $k & '=' & $v })"),
            Ok(Some(json!(["a=1", "b=2"])))
        );
    }

    #[test]
    fn clock_and_string_functions() {
        assert_eq!(run("$now()"), Ok(Some(json!("2023-11-14T22:13:20.000Z"))));
        assert_eq!(run("$millis()"), Ok(Some(json!(1_700_000_000_000i64))));
        assert_eq!(
            run("$toMillis('2023-11-14T22:13:20Z')"),
            Ok(Some(json!(1_700_000_000_000i64)))
        );
        assert_eq!(run("$replace('a-b-c', '-', '+')"), Ok(Some(json!("a+b+c"))));
        assert_eq!(run("$pad('7', -3, '0')"), Ok(Some(json!("007"))));
        assert_eq!(
            run("$base64decode($base64encode('hi'))"),
            Ok(Some(json!("hi")))
        );
        assert!(run("$error('boom')").is_err());
    }
}
