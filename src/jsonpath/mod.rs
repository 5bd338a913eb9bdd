//! JSONPath as API Gateway evaluates it: Jayway JsonPath semantics over a
//! `serde_json::Value`. Depends on nothing else in the crate.
//!
//! Supported syntax (everything API Gateway mapping templates and ASL paths use):
//!
//! | form | meaning |
//! | --- | --- |
//! | `$` | the document |
//! | `$.a.b`, `$['a b']`, `$["x"]` | child by name (Jayway dot-names: `$.user-name`, `$.a.1x`) |
//! | `$.a[0]`, `$.a[-1]`, `$.a[0,2]` | array index(es); negative counts from the end |
//! | `$.a[1:3]`, `$.a[:2]`, `$.a[-2:]` | slices |
//! | `$.a[*]`, `$.a.*` | every element / member value |
//! | `$..b`, `$..*`, `$..[0]` | deep scan (document order, a node before its children) |
//! | `$['a','b']` | several names (a map when it is the last step, as Jayway merges it) |
//! | `$.a[?(@.price > 10 && @.t =~ /x.*/i)]` | filters: `== != < <= > >= =~ in nin size empty contains`, `&& \|\| !`, existence `@.x` |
//! | `$.a.length()` | length of the result (array size, member count, string length) |
//! | `a.b` | a path without `$` is read as `$.a.b` (Jayway) |
//!
//! Result shape follows Jayway: a *definite* path (only single names and single
//! indexes) yields the value or nothing; an *indefinite* one (wildcard, deep scan,
//! filter, slice, several indexes) yields a JSON array of every match.
//!
//! ```
//! use stepgate::jsonpath::JsonPath;
//! let doc = serde_json::json!({"items": [{"id": 1}, {"id": 2}], "user-name": "bob"});
//! assert_eq!(JsonPath::parse("$.user-name")?.evaluate(&doc).as_deref(), Some(&serde_json::json!("bob")));
//! assert_eq!(JsonPath::parse("$.items[*].id")?.evaluate(&doc).as_deref(), Some(&serde_json::json!([1, 2])));
//! assert_eq!(JsonPath::parse("$.missing")?.evaluate(&doc), None);
//! # Ok::<(), stepgate::jsonpath::Error>(())
//! ```
//!
//! Paths are parsed once and kept in a small cache keyed by the path text ([`cached`]),
//! because the same template evaluates the same path on every request.

mod eval;
mod filter;
mod parser;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::Value;

pub(crate) use filter::Expr;

/// A parsed JSONPath.
#[derive(Debug, Clone)]
pub struct JsonPath {
    source: Box<str>,
    segments: Vec<Segment>,
    function: Option<Function>,
    definite: bool,
}

/// One step of a path: a selector, applied to the current nodes or (`deep`) to them
/// and all their descendants.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub(crate) deep: bool,
    pub(crate) selector: Selector,
}

/// What a step selects.
#[derive(Debug, Clone)]
pub(crate) enum Selector {
    /// `.a`, `['a']`, `['a','b']`
    Names(Vec<Box<str>>),
    /// `*`, `[*]`
    Wildcard,
    /// `[0]`, `[-1]`, `[0,2]`
    Indexes(Vec<i64>),
    /// `[1:3]`
    Slice(Option<i64>, Option<i64>),
    /// `[?(...)]`
    Filter(Box<Expr>),
}

/// A function call at the end of a path (`.length()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    Length,
    Min,
    Max,
    Avg,
    Sum,
    Keys,
}

/// A JSONPath syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    path: String,
    /// 0-based character position in the path text.
    position: usize,
    message: String,
}

impl Error {
    pub(crate) fn new(path: &str, position: usize, message: impl Into<String>) -> Error {
        Error { path: path.to_string(), position, message: message.into() }
    }
    /// The 0-based character position the error was found at.
    pub fn position(&self) -> usize {
        self.position
    }
    /// What went wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSONPath `{}`: {} at position {}", self.path, self.message, self.position)
    }
}

impl std::error::Error for Error {}

impl JsonPath {
    /// Parses a path. Jayway rules: a path not starting with `$` or `@` gets `$.` in front.
    pub fn parse(source: &str) -> Result<JsonPath, Error> {
        parser::parse(source)
    }

    /// The text this path was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the path is `$` alone: its result is the whole document.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty() && self.function.is_none()
    }

    /// Whether the path yields at most one value (Jayway "definite").
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// Every node the path selects, in document order (functions not applied).
    pub fn query<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        eval::select(&self.segments, root, root)
    }

    /// The path's result the way Jayway returns it: a definite path gives the value
    /// (`None` when missing), an indefinite path a JSON array of all matches. A final
    /// function is applied to that result. Borrows from `root` whenever it can.
    pub fn evaluate<'a>(&self, root: &'a Value) -> Option<Cow<'a, Value>> {
        let result = eval::evaluate(self, root);
        match self.function {
            None => result,
            Some(f) => eval::apply_function(f, result?),
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A bounded cache of parsed paths keyed by their text. Cheap to share (`Arc` inside).
#[derive(Debug, Clone, Default)]
pub struct Cache {
    inner: Arc<RwLock<HashMap<Box<str>, Arc<JsonPath>>>>,
}

impl Cache {
    /// Entries kept before the cache is emptied and refilled (templates use a handful of
    /// distinct paths; this only guards against unbounded growth from dynamic paths).
    pub const CAPACITY: usize = 1024;

    /// An empty cache.
    pub fn new() -> Cache {
        Cache::default()
    }

    /// The parsed path for `source`, parsing it on first use. Errors are not cached.
    pub fn get(&self, source: &str) -> Result<Arc<JsonPath>, Error> {
        // Readers share the lock: every request looks its paths up here.
        if let Some(p) = self.inner.read().unwrap_or_else(|e| e.into_inner()).get(source) {
            return Ok(p.clone());
        }
        let parsed = Arc::new(JsonPath::parse(source)?);
        let mut map = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get(source) {
            return Ok(p.clone());
        }
        if map.len() >= Cache::CAPACITY {
            map.clear();
        }
        map.insert(source.into(), parsed.clone());
        Ok(parsed)
    }
}

/// The process-wide path cache (a small, documented exception to "no global state":
/// parsed paths are immutable and the cache is bounded).
pub fn cached(source: &str) -> Result<Arc<JsonPath>, Error> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::new).get(source)
}
