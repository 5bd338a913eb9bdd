//! Java and Velocity 1.7 semantics of operators: `equals`, `==` (numbers by value,
//! different classes by `toString()`, plus API Gateway's `null == ""`), ordering of
//! numbers, and `+ - * / %` with `int` → `long` promotion, truncating division and
//! null on division by zero.

use std::cmp::Ordering;

use super::ast::BinaryOp;
use super::value::Value;

/// Truthiness of a value in `#if($x)`: null and `false` are false, everything else true.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        _ => true,
    }
}

/// Java's `a.equals(b)` (Integer and Long are different classes, as in Java).
pub fn java_equals(a: &Value, b: &Value) -> bool {
    java_equals_depth(a, b, 0)
}

fn java_equals_depth(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > super::render::MAX_NESTING {
        return false;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Long(x), Value::Long(y)) => x == y,
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if x.ptr_eq(y) {
                return true;
            }
            let (xs, ys) = (x.items(), y.items());
            xs.len() == ys.len()
                && xs.iter().zip(&ys).all(|(p, q)| java_equals_depth(p, q, depth + 1))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.ptr_eq(y) {
                return true;
            }
            let xs: Vec<_> = x.lock().entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            if xs.len() != y.lock().entries.len() {
                return false;
            }
            xs.iter().all(|(k, v)| match y.get(k) {
                Some(w) => java_equals_depth(v, &w, depth + 1),
                None => false,
            })
        }
        (Value::Object(x), Value::Object(y)) => std::sync::Arc::ptr_eq(x, y),
        _ => false,
    }
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Long(_) | Value::Double(_))
}

/// Velocity's `==`: numbers compare by value, values of the same class with `equals`,
/// others by `toString()`. API Gateway's rule: a null equals null and `""`.
pub fn vtl_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.is_empty(),
        (Value::Null, _) | (_, Value::Null) => false,
        _ if is_number(a) && is_number(b) => compare_numbers(a, b) == Some(Ordering::Equal),
        _ if std::mem::discriminant(a) == std::mem::discriminant(b) => java_equals(a, b),
        _ => a.to_java_string() == b.to_java_string(),
    }
}

/// Orders two numbers; `None` if either is not a number (Velocity logs and answers false).
pub fn compare_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Double(_), _) | (_, Value::Double(_)) => as_f64(a)?.partial_cmp(&as_f64(b)?),
        _ => Some(as_i64(a)?.cmp(&as_i64(b)?)),
    }
}

pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(l) => Some(*l as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(l) => Some(*l),
        _ => None,
    }
}

/// `< <= > >=`: false unless both sides are numbers.
pub fn relational(op: BinaryOp, a: &Value, b: &Value) -> bool {
    let Some(ord) = compare_numbers(a, b) else {
        return false;
    };
    match op {
        BinaryOp::Lt => ord == Ordering::Less,
        BinaryOp::Le => ord != Ordering::Greater,
        BinaryOp::Gt => ord == Ordering::Greater,
        BinaryOp::Ge => ord != Ordering::Less,
        _ => false,
    }
}

/// `- * / %` and numeric `+` (string `+` is handled by the evaluator). Returns null when
/// an operand is not a number or on division by zero, as Velocity 1.7 does.
pub fn arithmetic(op: BinaryOp, a: &Value, b: &Value) -> Value {
    if !is_number(a) || !is_number(b) {
        return Value::Null;
    }
    if matches!(a, Value::Double(_)) || matches!(b, Value::Double(_)) {
        let (x, y) = (as_f64(a).unwrap_or(0.0), as_f64(b).unwrap_or(0.0));
        return match op {
            BinaryOp::Add => Value::Double(x + y),
            BinaryOp::Sub => Value::Double(x - y),
            BinaryOp::Mul => Value::Double(x * y),
            BinaryOp::Div if y == 0.0 => Value::Null,
            BinaryOp::Div => Value::Double(x / y),
            BinaryOp::Mod if y == 0.0 => Value::Null,
            BinaryOp::Mod => Value::Double(x % y),
            _ => Value::Null,
        };
    }
    let long = matches!(a, Value::Long(_)) || matches!(b, Value::Long(_));
    let (x, y) = (as_i64(a).unwrap_or(0), as_i64(b).unwrap_or(0));
    let result = match op {
        BinaryOp::Add => x.checked_add(y),
        BinaryOp::Sub => x.checked_sub(y),
        BinaryOp::Mul => x.checked_mul(y),
        BinaryOp::Div if y == 0 => return Value::Null,
        BinaryOp::Div => x.checked_div(y),
        BinaryOp::Mod if y == 0 => return Value::Null,
        BinaryOp::Mod => x.checked_rem(y),
        _ => return Value::Null,
    };
    match result {
        Some(r) if !long => Value::from(r),
        Some(r) => Value::Long(r),
        // Velocity promotes to BigInteger here; stepgate does not model BigInteger and
        // falls back to double arithmetic.
        None => arithmetic(op, &Value::Double(x as f64), &Value::Double(y as f64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_math_is_java() {
        assert!(matches!(arithmetic(BinaryOp::Div, &Value::Int(7), &Value::Int(2)), Value::Int(3)));
        assert!(matches!(arithmetic(BinaryOp::Div, &Value::Int(-7), &Value::Int(2)), Value::Int(-3)));
        assert!(matches!(arithmetic(BinaryOp::Mod, &Value::Int(-7), &Value::Int(2)), Value::Int(-1)));
        assert!(matches!(
            arithmetic(BinaryOp::Add, &Value::Int(i32::MAX), &Value::Int(1)),
            Value::Long(2147483648)
        ));
        assert!(matches!(arithmetic(BinaryOp::Add, &Value::Long(5), &Value::Int(1)), Value::Long(6)));
        assert!(arithmetic(BinaryOp::Div, &Value::Int(1), &Value::Int(0)).is_null());
        assert!(arithmetic(BinaryOp::Mod, &Value::Double(1.0), &Value::Int(0)).is_null());
        assert!(arithmetic(BinaryOp::Add, &Value::Int(1), &Value::Bool(true)).is_null());
        assert!(matches!(arithmetic(BinaryOp::Div, &Value::Double(7.0), &Value::Int(2)), Value::Double(d) if d == 3.5));
    }

    #[test]
    fn equality_follows_velocity_and_api_gateway() {
        assert!(vtl_equals(&Value::string("1"), &Value::Int(1)));
        assert!(vtl_equals(&Value::Int(1), &Value::Double(1.0)));
        assert!(vtl_equals(&Value::Int(1), &Value::Long(1)));
        assert!(vtl_equals(&Value::Null, &Value::string("")));
        assert!(!vtl_equals(&Value::Null, &Value::string("x")));
        assert!(vtl_equals(&Value::Null, &Value::Null));
        assert!(!vtl_equals(&Value::Null, &Value::Int(0)));
        assert!(vtl_equals(&Value::Bool(true), &Value::string("true")));
        assert!(!java_equals(&Value::Int(1), &Value::Long(1)));
    }

    #[test]
    fn ordering_is_numbers_only() {
        assert!(relational(BinaryOp::Gt, &Value::Int(2), &Value::Double(1.5)));
        assert!(!relational(BinaryOp::Gt, &Value::string("b"), &Value::string("a")));
        assert!(!relational(BinaryOp::Lt, &Value::Null, &Value::Int(1)));
    }
}
