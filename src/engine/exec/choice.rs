//! Choice rules: every comparison operator (and its `Path` form), `And`/`Or`/`Not`, the
//! `Is*` type tests and `StringMatches` wildcards. A comparison whose operands have the
//! wrong type is simply false, as in AWS.

use super::{Env, Fault, Run};
use crate::engine::asl::{ChoiceRule, Comparison, Operand};
use serde_json::Value;
use std::cmp::Ordering;

impl Run<'_> {
    /// Evaluates one rule against the Choice state's effective input.
    pub(super) fn rule_matches(
        &self,
        rule: &ChoiceRule,
        input: &Value,
        env: &Env<'_>,
    ) -> Result<bool, Fault> {
        Ok(match rule {
            ChoiceRule::And(rs) => {
                for r in rs {
                    if !self.rule_matches(r, input, env)? {
                        return Ok(false);
                    }
                }
                true
            }
            ChoiceRule::Or(rs) => {
                for r in rs {
                    if self.rule_matches(r, input, env)? {
                        return Ok(true);
                    }
                }
                false
            }
            ChoiceRule::Not(r) => !self.rule_matches(r, input, env)?,
            ChoiceRule::Condition(t) => {
                let states = self.states_value(input, None, None, env);
                super::jsonata::truthy(Some(&self.jeval(t, &states, env)?))
            }
            ChoiceRule::Test {
                variable,
                op,
                operand,
            } => {
                let value = self.lookup(variable, input, env);
                if let Comparison::IsPresent = op {
                    return Ok(value.is_ok() == (operand_bool(operand)));
                }
                // As AWS: comparing a value that is not there is a runtime error (that is
                // what `IsPresent` is for).
                let missing = |p: &crate::engine::asl::path::JsonPath| {
                    env.runtime(format!(
                        "Invalid path '{}': The choice state's condition path references an invalid value.",
                        p.as_str()
                    ))
                };
                let value = match value {
                    Ok(v) => v,
                    Err(super::data::Lookup::Fault(f)) => return Err(f),
                    Err(super::data::Lookup::Path(_)) => return Err(missing(variable)),
                };
                let rhs = match operand {
                    Operand::Value(v) => v.clone(),
                    Operand::Path(p) => match self.lookup(p, input, env) {
                        Ok(v) => v,
                        Err(super::data::Lookup::Fault(f)) => return Err(f),
                        Err(super::data::Lookup::Path(_)) => return Err(missing(p)),
                    },
                };
                compare(op, &value, &rhs)
            }
        })
    }
}

fn operand_bool(o: &Operand) -> bool {
    matches!(o, Operand::Value(Value::Bool(true)))
}

fn compare(op: &Comparison, v: &Value, rhs: &Value) -> bool {
    use Comparison::*;
    let strs = || v.as_str().zip(rhs.as_str());
    let nums = || match (v, rhs) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().zip(b.as_f64()),
        _ => None,
    };
    let times = || {
        let a = v.as_str().and_then(super::parse_timestamp)?;
        let b = rhs.as_str().and_then(super::parse_timestamp)?;
        Some(a.cmp(&b))
    };
    let num_ord = || nums().and_then(|(a, b)| a.partial_cmp(&b));
    match op {
        StringEquals => strs().is_some_and(|(a, b)| a == b),
        StringLessThan => strs().is_some_and(|(a, b)| a < b),
        StringGreaterThan => strs().is_some_and(|(a, b)| a > b),
        StringLessThanEquals => strs().is_some_and(|(a, b)| a <= b),
        StringGreaterThanEquals => strs().is_some_and(|(a, b)| a >= b),
        StringMatches => strs().is_some_and(|(a, b)| wildcard_match(b, a)),
        NumericEquals => num_ord() == Some(Ordering::Equal),
        NumericLessThan => num_ord() == Some(Ordering::Less),
        NumericGreaterThan => num_ord() == Some(Ordering::Greater),
        NumericLessThanEquals => matches!(num_ord(), Some(Ordering::Less | Ordering::Equal)),
        NumericGreaterThanEquals => matches!(num_ord(), Some(Ordering::Greater | Ordering::Equal)),
        BooleanEquals => matches!((v, rhs), (Value::Bool(a), Value::Bool(b)) if a == b),
        TimestampEquals => times() == Some(Ordering::Equal),
        TimestampLessThan => times() == Some(Ordering::Less),
        TimestampGreaterThan => times() == Some(Ordering::Greater),
        TimestampLessThanEquals => matches!(times(), Some(Ordering::Less | Ordering::Equal)),
        TimestampGreaterThanEquals => matches!(times(), Some(Ordering::Greater | Ordering::Equal)),
        IsNull => v.is_null() == (rhs == &Value::Bool(true)),
        IsPresent => rhs == &Value::Bool(true),
        IsNumeric => v.is_number() == (rhs == &Value::Bool(true)),
        IsString => v.is_string() == (rhs == &Value::Bool(true)),
        IsBoolean => v.is_boolean() == (rhs == &Value::Bool(true)),
        IsTimestamp => {
            v.as_str().and_then(super::parse_timestamp).is_some() == (rhs == &Value::Bool(true))
        }
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literals.
pub(crate) fn wildcard_match(pattern: &str, s: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n) => toks.push(Tok::Char(n)),
                None => toks.push(Tok::Char('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let s: Vec<char> = s.chars().collect();
    // Classic greedy wildcard matching with backtracking to the last star.
    let (mut p, mut i) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while i < s.len() {
        match toks.get(p) {
            Some(Tok::Char(c)) if *c == s[i] => {
                p += 1;
                i += 1;
            }
            Some(Tok::Star) => {
                star = Some(p);
                mark = i;
                p += 1;
            }
            _ => match star {
                Some(sp) => {
                    p = sp + 1;
                    mark += 1;
                    i = mark;
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_aws() {
        assert!(wildcard_match("log-*.txt", "log-2024.txt"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("a\\*", "ab"));
        assert!(wildcard_match("a\\*", "a*"));
        assert!(!wildcard_match("*.txt", "a.txt.bak"));
    }

    #[test]
    fn numeric_comparisons_ignore_non_numbers() {
        assert!(!compare(
            &Comparison::NumericEquals,
            &Value::from("0"),
            &Value::from(0)
        ));
        assert!(compare(
            &Comparison::NumericEquals,
            &Value::from(1),
            &Value::from(1.0)
        ));
    }
}
