//! The Velocity (VTL 1.7) engine that API Gateway mapping templates run on. It knows
//! nothing of HTTP or AWS: `apigw` gives it `$input`, `$util` and `$context` as values.
//!
//! Parse once, render many times from many threads:
//!
//! ```text
//! let t = Template::parse("request.vtl", src)?;   // spanned AST, syntax errors with caret
//! let mut ctx = Context::new();
//! ctx.insert("name", Value::string("x"));
//! let out = t.render(&mut ctx)?;                   // ctx keeps the variables #set wrote
//! ```
//!
//! PUBLIC API CONTRACT (other modules code against this; keep the signatures):
//! - `Template::parse(name: &str, source: &str) -> Result<Template, Error>`
//! - `Template::render(&self, ctx: &mut Context) -> Result<String, Error>`
//! - `Template::name(&self) -> &str`, `Template::source(&self) -> &str`
//! - `Context::new()`, `Context::with_limits(Limits)`, `Context::insert(name, Value)`,
//!   `Context::get(name) -> Option<&Value>`
//! - `Limits { max_foreach, max_depth, max_output }` with `Default` (1000, 64, 10 MiB)
//! - `Error`: `Display` gives one line `name:line:col: message`; `{:#}` adds the caret
//!   excerpt from `crate::diag`. `Error::kind()` tells syntax errors from render errors.
//! - `value::{Value, Object, List, ListKind, MapRef, Map}` (see value.rs)

pub mod value;

pub use value::{List, ListKind, Map, MapRef, Object, Value};

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Limits that keep a render from hanging or exhausting memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `#foreach` iterations per loop (API Gateway: 1000).
    pub max_foreach: usize,
    /// Nesting/recursion depth (macros, nested directives, nested expressions).
    pub max_depth: usize,
    /// Rendered output size in bytes.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_foreach: 1000, max_depth: 64, max_output: 10 * 1024 * 1024 }
    }
}

/// The variables a template sees, and the limits for one render.
#[derive(Debug, Default)]
pub struct Context {
    vars: HashMap<Arc<str>, Value>,
    limits: Limits,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }
    pub fn with_limits(limits: Limits) -> Context {
        Context { vars: HashMap::new(), limits }
    }
    pub fn insert(&mut self, name: impl Into<Arc<str>>, value: Value) {
        self.vars.insert(name.into(), value);
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

/// Whether an error came from parsing or rendering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Syntax,
    Render,
    Limit,
}

/// A template error with its location.
#[derive(Clone, Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A parsed template.
#[derive(Clone, Debug)]
pub struct Template {
    name: Arc<str>,
    source: Arc<str>,
}

impl Template {
    pub fn parse(name: &str, source: &str) -> Result<Template, Error> {
        Ok(Template { name: name.into(), source: source.into() })
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn source(&self) -> &str {
        &self.source
    }
    /// PLACEHOLDER: renders the source verbatim until the engine lands.
    pub fn render(&self, _ctx: &mut Context) -> Result<String, Error> {
        let _ = ErrorKind::Render;
        Ok(self.source.to_string())
    }
}
