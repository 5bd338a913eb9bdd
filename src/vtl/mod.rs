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
//!
//! # The language
//!
//! Velocity 1.7 as API Gateway runs it:
//!
//! - References `$x`, `${x}`, quiet `$!x`, properties `$a.b.c` (names may hold `-`:
//!   `$context.requestOverride.header.X-Amz-Target` is one reference), index `$a[0]`,
//!   `$m['k']`, method calls `$s.substring(1, 3)`; escapes `\$x`, `\#if`.
//! - Directives `#set`, `#if/#elseif/#else/#end`, `#foreach` (with `$foreach.index`,
//!   `.count`, `.hasNext`, `.first`, `.last` and `$velocityCount`), `#break`, `#stop`,
//!   `#macro` and calls, `#define`, comments `##` and `#* *#`, `#[[ raw ]]#`, `#{if}` forms.
//! - Literals: `'single'` (not interpolated), `"double $interpolated"`, integers with
//!   Java `int`/`long` promotion, floats, `true`/`false`, lists `[1, 'a']`, maps
//!   `{'k': 1}`, ranges `[1..3]` and `[3..1]`.
//! - Operators `+ - * / %` (Java integer division), `== != < <= > >=` and
//!   `eq ne lt le gt ge`, `&& || !` and `and or not`.
//! - Java methods on strings, lists and maps (see `methods.rs`), Java rendering of values
//!   (`{k=v}` maps, `[a, 1]` lists, JSON arrays from documents as compact JSON, `1.0`).
//! - API Gateway's null rule: a null or missing reference renders as nothing, and
//!   `null == ""` is true.
//! - Whitespace as Velocity 1.7: a directive followed by a line break swallows it.
//! - Limits ([`Limits`]): `#foreach` over more than 1000 items, nesting deeper than 64
//!   directives/macro calls, output over 10 MiB, each a clear [`ErrorKind::Limit`] error.
//!
//! # Where stepgate differs from stock Velocity 1.7
//!
//! Checked against the Velocity 1.7 oracle (`tests/conformance_velocity.rs` and its
//! divergences file):
//!
//! - Null references render as nothing and `null == ""` is true (API Gateway's rule;
//!   stock Velocity prints the reference text). `\$missing` still prints as is, and a
//!   null operand of string `+` is written as its source text, as Velocity does.
//! - `split()` returns a list (rendered `[a, b]`); Java would print `[Ljava.lang.String;@…`.
//!   `values()` and `keySet()` are lists, so `.get(i)` works on them.
//! - Integer overflow past `long` falls back to double arithmetic (Velocity: BigInteger).
//! - Macro arguments are evaluated once, at the call (Velocity passes them by name).
//! - A few inputs Velocity rejects as lexical errors render as text here (a lone `$` or
//!   `#` at the end, `#foo(` with no `)`); unclosed `${`, `$a[`, `#if` without `(` and
//!   unclosed directives are syntax errors, as in Velocity.
//!
//! ```
//! use stepgate::vtl::{Context, Template, Value};
//! let t = Template::parse("t.vtl", "#set($n = $name.toUpperCase())Hello, $n!$missing").unwrap();
//! let mut ctx = Context::new();
//! ctx.insert("name", Value::string("ann"));
//! assert_eq!(t.render(&mut ctx).unwrap(), "Hello, ANN!");
//! assert_eq!(ctx.get("n").and_then(|v| v.as_str()), Some("ANN"));
//! ```

mod ast;
mod error;
mod eval;
mod lexer;
mod methods;
mod ops;
mod parser;
mod regex;
mod render;
mod span;
pub mod value;
mod vars;

pub use error::{Error, ErrorKind};
pub use methods::MapEntry;
pub(crate) use methods::{MethodError, call as call_method};
pub use value::{List, ListKind, Map, MapHasher, MapRef, Object, Value, map_with_capacity};

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) use vars::Vars;

/// Limits that keep a render from hanging or exhausting memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `#foreach` iterations per loop (API Gateway: 1000).
    pub max_foreach: usize,
    /// Nesting/recursion depth (macros, nested directives, nested expressions).
    /// Values above [`MAX_DEPTH_CAP`] count as the cap, so a render cannot overflow a
    /// 2 MiB thread stack.
    pub max_depth: usize,
    /// Rendered output size in bytes.
    pub max_output: usize,
}

/// The deepest nesting a render allows, whatever [`Limits::max_depth`] says.
pub const MAX_DEPTH_CAP: usize = 256;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_foreach: 1000,
            max_depth: 64,
            max_output: 10 * 1024 * 1024,
        }
    }
}

/// The variables a template sees, and the limits for one render.
#[derive(Debug, Default)]
pub struct Context {
    vars: Vars,
    limits: Limits,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }
    pub fn with_limits(limits: Limits) -> Context {
        Context {
            vars: Vars::with_capacity(4),
            limits,
        }
    }
    /// A context holding `variables` (distinct names), made without a lookup per name.
    pub fn with_variables<const N: usize>(limits: Limits, variables: [(Arc<str>, Value); N]) -> Context {
        Context { vars: Vars::from_distinct(variables), limits }
    }
    pub fn insert(&mut self, name: impl Into<Arc<str>>, value: Value) {
        self.vars.insert(name.into(), value);
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }
    /// Removes a variable, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.vars.remove(name)
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

/// A parsed template body: nodes and the macros it defines.
#[derive(Debug)]
pub(crate) struct Body {
    nodes: Vec<ast::Node>,
    macros: HashMap<Arc<str>, Arc<ast::Macro>>,
    /// Length of the last output, to size the next output buffer in one allocation.
    last_len: AtomicUsize,
}

/// A parsed template: parse once, render many times, from many threads.
#[derive(Clone)]
pub struct Template {
    name: Arc<str>,
    source: Arc<str>,
    body: Arc<Body>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Template {
    /// Parses `source`; `name` (a file path, or file + JSON pointer) appears in errors.
    pub fn parse(name: &str, source: &str) -> Result<Template, Error> {
        let name: Arc<str> = name.into();
        let source: Arc<str> = source.into();
        let parsed = parser::parse(&source).map_err(|e| e.with_template(&name, &source))?;
        let body = Arc::new(Body {
            nodes: parsed.nodes,
            macros: parsed.macros,
            last_len: AtomicUsize::new(0),
        });
        Ok(Template { name, source, body })
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn source(&self) -> &str {
        &self.source
    }
    /// Renders with the variables in `ctx`; variables the template `#set` stay in `ctx`.
    pub fn render(&self, ctx: &mut Context) -> Result<String, Error> {
        let limits = ctx.limits;
        let hint_len = self.body.last_len.load(Ordering::Relaxed);
        let hint = hint_len.max(self.source.len());
        let capacity = hint.min(limits.max_output) + 64;
        let mut r = eval::Renderer::new(&self.body, &mut ctx.vars, limits, capacity);
        match r.run() {
            Ok(()) => {
                // Written only when it changed: renders of one template on several threads
                // would otherwise all write this cache line every time.
                if r.out.len() != hint_len {
                    self.body.last_len.store(r.out.len(), Ordering::Relaxed);
                }
                Ok(r.out)
            }
            Err(e) => Err(e.with_template(&self.name, &self.source)),
        }
    }
}
