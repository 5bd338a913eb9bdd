//! The variables of one render ([`Vars`]): a short list searched in place while it is
//! short, a hash map once a template has set many.
//!
//! A render sees a handful of variables (API Gateway gives `$input`, `$util`, `$context`
//! and `$stageVariables`; templates `#set` a few more), and a context is made twice per
//! request, so the common case is one allocation and no hashing; a template that sets
//! hundreds of variables still looks them up in constant time.

use std::collections::HashMap;
use std::sync::Arc;

use super::{MapHasher, Value};

/// Past this many variables, lookups go through a hash map.
const SHORT: usize = 16;

/// Template variables by name.
#[derive(Debug, Clone)]
pub(crate) enum Vars {
    Short(Vec<(Arc<str>, Value)>),
    Hashed(HashMap<Arc<str>, Value, MapHasher>),
}

impl Default for Vars {
    fn default() -> Vars {
        Vars::Short(Vec::new())
    }
}

impl Vars {
    /// Room for `n` variables without growing.
    pub(crate) fn with_capacity(n: usize) -> Vars {
        Vars::Short(Vec::with_capacity(n.min(SHORT)))
    }

    /// Variables with distinct names, taken as they are.
    pub(crate) fn from_distinct<const N: usize>(variables: [(Arc<str>, Value); N]) -> Vars {
        let mut vars = Vars::with_capacity(N);
        for (name, value) in variables {
            match &mut vars {
                Vars::Short(v) if v.len() < SHORT => {
                    debug_assert!(v.iter().all(|(k, _)| *k != name), "`{name}` given twice");
                    v.push((name, value));
                }
                _ => {
                    vars.insert(name, value);
                }
            }
        }
        vars
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Vars::Short(v) => v.iter().find(|(k, _)| **k == *name).map(|(_, v)| v),
            Vars::Hashed(m) => m.get(name),
        }
    }

    /// Sets `name`, returning its previous value.
    pub(crate) fn insert(&mut self, name: Arc<str>, value: Value) -> Option<Value> {
        match self {
            Vars::Short(v) => {
                if let Some((_, slot)) = v.iter_mut().find(|(k, _)| **k == *name) {
                    return Some(std::mem::replace(slot, value));
                }
                if v.len() < SHORT {
                    v.push((name, value));
                    return None;
                }
                let mut m: HashMap<Arc<str>, Value, MapHasher> =
                    HashMap::with_capacity_and_hasher(SHORT * 2, MapHasher::default());
                m.extend(v.drain(..));
                m.insert(name, value);
                *self = Vars::Hashed(m);
                None
            }
            Vars::Hashed(m) => m.insert(name, value),
        }
    }

    /// Sets `name` (a new shared name is made only when it is not set yet).
    pub(crate) fn insert_str(&mut self, name: &str, value: Value) {
        let existing = match self {
            Vars::Short(v) => v.iter_mut().find(|(k, _)| **k == *name).map(|(_, slot)| slot),
            Vars::Hashed(m) => m.get_mut(name),
        };
        match existing {
            Some(slot) => *slot = value,
            None => {
                self.insert(Arc::from(name), value);
            }
        }
    }

    /// Removes `name`, returning its value.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Value> {
        match self {
            Vars::Short(v) => {
                let i = v.iter().position(|(k, _)| **k == *name)?;
                Some(v.swap_remove(i).1)
            }
            Vars::Hashed(m) => m.remove(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values compare by their debug form (`Value` has no `PartialEq`).
    fn show(v: Option<&Value>) -> String {
        format!("{v:?}")
    }

    fn int(i: i64) -> Value {
        Value::from(i)
    }

    #[test]
    fn short_and_hashed_vars_agree() {
        let mut vars = Vars::with_capacity(4);
        for i in 0..100 {
            assert!(vars.insert(Arc::from(format!("v{i}")), int(i)).is_none());
            if i == SHORT as i64 - 1 {
                assert!(matches!(vars, Vars::Short(_)));
            }
        }
        assert!(matches!(vars, Vars::Hashed(_)));
        for i in 0..100 {
            assert_eq!(show(vars.get(&format!("v{i}"))), show(Some(&int(i))));
        }
        assert_eq!(show(vars.insert(Arc::from("v3"), Value::from("x")).as_ref()), show(Some(&int(3))));
        vars.insert_str("v4", Value::from("y"));
        assert_eq!(show(vars.get("v4")), show(Some(&Value::from("y"))));
        assert_eq!(show(vars.remove("v5").as_ref()), show(Some(&int(5))));
        assert!(vars.get("v5").is_none());

        let given = Vars::from_distinct([(Arc::from("a"), int(1)), (Arc::from("b"), int(2))]);
        assert_eq!(show(given.get("b")), show(Some(&int(2))));
        let many: [(Arc<str>, Value); 40] = std::array::from_fn(|i| (Arc::from(format!("k{i}")), int(i as i64)));
        let many = Vars::from_distinct(many);
        assert!(matches!(many, Vars::Hashed(_)));
        assert_eq!(show(many.get("k39")), show(Some(&int(39))));

        let mut short = Vars::default();
        short.insert_str("a", int(1));
        short.insert_str("b", int(2));
        short.insert_str("a", int(3));
        assert_eq!(show(short.get("a")), show(Some(&int(3))));
        assert_eq!(show(short.remove("a").as_ref()), show(Some(&int(3))));
        assert!(short.remove("a").is_none());
        assert_eq!(show(short.get("b")), show(Some(&int(2))));
    }
}
