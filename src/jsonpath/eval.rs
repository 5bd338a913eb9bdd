//! Evaluation: walks the document with a frontier of borrowed nodes, so a definite
//! path (`$`, `$.a.b`) never copies the document.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::filter;
use super::{Function, JsonPath, Segment, Selector, parser};

/// Every node `segments` select from `start`, in document order.
pub(super) fn select<'a>(segments: &[Segment], start: &'a Value, root: &'a Value) -> Vec<&'a Value> {
    select_checked(segments, start, root).unwrap_or_default()
}

/// Like [`select`], but `None` where Jayway throws `PathNotFoundException` although the
/// path is indefinite: a name step on a non-object, or an index/slice/filter step on a
/// non-array, while every step before it was definite (`$.a.*` on the text body `a=b`
/// is null, not `[]`).
fn select_checked<'a>(segments: &[Segment], start: &'a Value, root: &'a Value) -> Option<Vec<&'a Value>> {
    let mut current = vec![start];
    for (i, seg) in segments.iter().enumerate() {
        if !seg.deep && parser::is_definite(&segments[..i]) {
            let mismatch = |n: &&Value| match &seg.selector {
                Selector::Names(_) => !n.is_object(),
                Selector::Indexes(_) | Selector::Slice(..) => !n.is_array(),
                Selector::Filter(_) => !n.is_array() && !n.is_object(),
                Selector::Wildcard => false,
            };
            if current.iter().any(mismatch) {
                return None;
            }
        }
        let mut next = Vec::new();
        for node in current {
            if seg.deep {
                scan(&seg.selector, node, root, &mut next);
            } else {
                step(&seg.selector, node, root, &mut next);
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    Some(current)
}

fn step<'a>(sel: &Selector, node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match sel {
        Selector::Names(names) => {
            if let Value::Object(m) = node {
                out.extend(names.iter().filter_map(|n| m.get(&**n)));
            }
        }
        Selector::Wildcard => match node {
            Value::Object(m) => out.extend(m.values()),
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Selector::Indexes(indexes) => {
            if let Value::Array(a) = node {
                let len = a.len() as i64;
                for &i in indexes {
                    let i = if i < 0 { len + i } else { i };
                    if (0..len).contains(&i) {
                        out.push(&a[i as usize]);
                    }
                }
            }
        }
        Selector::Slice(start, end) => {
            if let Value::Array(a) = node {
                let len = a.len() as i64;
                let clamp = |i: i64| (if i < 0 { len + i } else { i }).clamp(0, len) as usize;
                let s = clamp(start.unwrap_or(0));
                let e = clamp(end.unwrap_or(len));
                if s < e {
                    out.extend(a[s..e].iter());
                }
            }
        }
        Selector::Filter(expr) => match node {
            Value::Array(a) => out.extend(a.iter().filter(|v| filter::matches(expr, v, root))),
            Value::Object(_) if filter::matches(expr, node, root) => out.push(node),
            _ => {}
        },
    }
}

/// Deep scan: the selector at `node`, then at every descendant, a node before its
/// children (Jayway's `ScanPathToken` order). A filter tests objects themselves.
fn scan<'a>(sel: &Selector, node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match sel {
        Selector::Filter(expr) => {
            if node.is_object() && filter::matches(expr, node, root) {
                out.push(node);
            }
        }
        _ => step(sel, node, root, out),
    }
    let children: Box<dyn Iterator<Item = &'a Value>> = match node {
        Value::Object(m) => Box::new(m.values()),
        Value::Array(a) => Box::new(a.iter()),
        _ => return,
    };
    for child in children {
        if child.is_object() || child.is_array() {
            scan(sel, child, root, out);
        }
    }
}

/// The Jayway-shaped result of `segments` (see [`JsonPath::evaluate`]), no function.
pub(super) fn evaluate_segments<'a>(segments: &[Segment], start: &'a Value, root: &'a Value) -> Option<Cow<'a, Value>> {
    let definite = parser::is_definite(segments);
    // A final step with several names merges into one map per node (Jayway).
    if let Some((last, prefix)) = segments.split_last()
        && let Selector::Names(names) = &last.selector
        && names.len() > 1
        && !last.deep
    {
        let maps = select_checked(prefix, start, root)?.into_iter().filter_map(|n| merge(n, names));
        return if definite {
            maps.map(Cow::Owned).next()
        } else {
            Some(Cow::Owned(Value::Array(maps.collect())))
        };
    }
    let nodes = select_checked(segments, start, root)?;
    if definite {
        nodes.into_iter().next().map(Cow::Borrowed)
    } else {
        Some(Cow::Owned(Value::Array(nodes.into_iter().cloned().collect())))
    }
}

fn merge(node: &Value, names: &[Box<str>]) -> Option<Value> {
    let m = node.as_object()?;
    let merged: Map<String, Value> =
        names.iter().filter_map(|n| m.get(&**n).map(|v| (n.to_string(), v.clone()))).collect();
    Some(Value::Object(merged))
}

pub(super) fn evaluate<'a>(path: &JsonPath, root: &'a Value) -> Option<Cow<'a, Value>> {
    evaluate_segments(&path.segments, root, root)
}

/// Applies a final function (`length()`, `sum()`, ...) to a result.
pub(super) fn apply_function(f: Function, value: Cow<'_, Value>) -> Option<Cow<'_, Value>> {
    let numbers = || -> Option<Vec<f64>> {
        let a = value.as_array()?;
        Some(a.iter().filter_map(Value::as_f64).collect())
    };
    let number = |x: f64| serde_json::Number::from_f64(x).map(Value::Number);
    let out = match f {
        Function::Length => Value::from(match &*value {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            Value::String(s) => s.encode_utf16().count(),
            _ => return None,
        }),
        Function::Keys => Value::Array(value.as_object()?.keys().map(|k| Value::String(k.clone())).collect()),
        Function::Sum => number(numbers()?.iter().sum())?,
        Function::Min => number(numbers()?.into_iter().reduce(f64::min)?)?,
        Function::Max => number(numbers()?.into_iter().reduce(f64::max)?)?,
        Function::Avg => {
            let n = numbers()?;
            if n.is_empty() {
                return None;
            }
            number(n.iter().sum::<f64>() / n.len() as f64)?
        }
    };
    Some(Cow::Owned(out))
}
