//! The spanned syntax tree a template parses into. It owns its strings (no lifetimes),
//! so a parsed [`Template`](super::Template) can be shared between threads and rendered
//! many times. Literal values are built once at parse time.

use std::sync::Arc;

use super::span::Span;
use super::value::Value;

/// A piece of template body.
#[derive(Debug)]
pub enum Node {
    /// Literal text, copied to the output as is.
    Text(Box<str>),
    /// `$x`, `$!x`, `${x.y}`, `$x.m(1)[0]` in text.
    Reference(Box<Reference>),
    /// `\$x` or `\\$x`: `backslashes` is the number of `\` before the `$`.
    EscapedReference {
        backslashes: u32,
        reference: Box<Reference>,
    },
    /// `#set($target = value)`.
    Set(Box<Set>),
    /// `#if(..) .. #elseif(..) .. #else .. #end`.
    If(Box<If>),
    /// `#foreach($var in iterable) .. #end`.
    Foreach(Box<Foreach>),
    /// `#break`.
    Break,
    /// `#stop`.
    Stop,
    /// `#name(args)` where `name` is not a built-in directive: a macro call if a macro of
    /// that name exists when rendering, otherwise the literal source text.
    MacroCall(Box<MacroCall>),
    /// `#define($name) .. #end`.
    Define(Box<Define>),
}

/// A reference with its accessors.
#[derive(Debug)]
pub struct Reference {
    /// The variable name (`x` in `$x.y`).
    pub name: Arc<str>,
    pub accessors: Vec<Accessor>,
    /// The source text of the whole reference (`$!{x.y}`), for escapes and null concatenation.
    pub literal: Box<str>,
    pub span: Span,
}

/// `.name`, `.name(args)` or `[index]` after a reference.
#[derive(Debug)]
pub enum Accessor {
    Property {
        name: Arc<str>,
        span: Span,
    },
    Method {
        name: Arc<str>,
        args: Vec<Expr>,
        /// The arguments' values when every one is a literal (`$input.params('id')`): a
        /// call passes them as they are, without cloning each (whose reference counts
        /// every thread rendering the template would otherwise write).
        literal_args: Option<Box<[Value]>>,
        span: Span,
    },
    Index {
        index: Expr,
        span: Span,
    },
}

impl Accessor {
    pub fn span(&self) -> Span {
        match self {
            Accessor::Property { span, .. }
            | Accessor::Method { span, .. }
            | Accessor::Index { span, .. } => *span,
        }
    }
}

/// `#set($target = value)`.
#[derive(Debug)]
pub struct Set {
    pub target: Reference,
    pub value: Expr,
}

/// `#if` with its `#elseif` branches and optional `#else`.
#[derive(Debug)]
pub struct If {
    pub branches: Vec<(Expr, Vec<Node>)>,
    pub otherwise: Option<Vec<Node>>,
    pub span: Span,
}

/// `#foreach($var in iterable)`.
#[derive(Debug)]
pub struct Foreach {
    pub var: Arc<str>,
    pub iterable: Expr,
    pub body: Vec<Node>,
    pub span: Span,
}

/// `#name(args)`.
#[derive(Debug)]
pub struct MacroCall {
    pub name: Arc<str>,
    pub args: Vec<Expr>,
    /// The source text, rendered when no macro of this name exists.
    pub literal: Box<str>,
    pub span: Span,
}

/// `#macro(name $p1 $p2) body #end`, collected at parse time.
#[derive(Debug)]
pub struct Macro {
    pub name: Arc<str>,
    pub params: Vec<Arc<str>>,
    pub body: Vec<Node>,
}

/// `#define($name) body #end`.
#[derive(Debug)]
pub struct Define {
    pub name: Arc<str>,
    pub body: Arc<Vec<Node>>,
}

/// An expression inside a directive, method arguments or a literal.
#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug)]
pub enum ExprKind {
    /// A number, boolean or single-quoted string (or a double-quoted one with nothing to
    /// interpolate), built once.
    Literal(Value),
    /// A double-quoted string holding references or directives.
    Interpolated(Vec<Node>),
    Reference(Box<Reference>),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{k: v}`.
    Map(Vec<(Expr, Expr)>),
    /// `[a..b]`.
    Range(Box<Expr>, Box<Expr>),
    /// `!x`, `not x`.
    Not(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }
}
