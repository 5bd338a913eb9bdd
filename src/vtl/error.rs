//! Template errors: what went wrong, where (a [`Span`] into the source), and in which
//! template. `{}` prints one line `name:line:col: message`; `{:#}` adds the caret
//! excerpt from `crate::diag`.

use std::fmt;
use std::sync::Arc;

use super::span::Span;
use crate::diag;

/// Whether an error came from parsing or rendering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The template text is not valid VTL: `#if($a)` with no `#end`; `#set($x = )`.
    Syntax,
    /// Rendering failed: `$list[5]` out of bounds; a host method that raised an error.
    Render,
    /// A limit was hit: a `#foreach` past 1000 iterations, recursion too deep, output too big.
    Limit,
}

/// A template error with its location.
#[derive(Clone)]
pub struct Error {
    repr: Box<Repr>,
}

#[derive(Clone)]
struct Repr {
    kind: ErrorKind,
    message: String,
    /// The label under the caret (defaults to the message).
    label: Option<String>,
    span: Option<Span>,
    name: Arc<str>,
    source: Arc<str>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>, span: Span) -> Error {
        Error {
            repr: Box::new(Repr {
                kind,
                message: message.into(),
                label: None,
                span: Some(span),
                name: Arc::from(""),
                source: Arc::from(""),
            }),
        }
    }
    pub(crate) fn syntax(message: impl Into<String>, span: Span) -> Error {
        Error::new(ErrorKind::Syntax, message, span)
    }
    pub(crate) fn render(message: impl Into<String>, span: Span) -> Error {
        Error::new(ErrorKind::Render, message, span)
    }
    pub(crate) fn limit(message: impl Into<String>, span: Span) -> Error {
        Error::new(ErrorKind::Limit, message, span)
    }
    /// Sets the short label printed after the caret run.
    pub(crate) fn with_label(mut self, label: impl Into<String>) -> Error {
        self.repr.label = Some(label.into());
        self
    }
    /// Attaches the template name and text (done once, at the API boundary).
    pub(crate) fn with_template(mut self, name: &Arc<str>, source: &Arc<str>) -> Error {
        self.repr.name = name.clone();
        self.repr.source = source.clone();
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.repr.kind
    }
    /// The message without location.
    pub fn message(&self) -> &str {
        &self.repr.message
    }
    /// The template name given to `Template::parse`.
    pub fn template_name(&self) -> &str {
        &self.repr.name
    }
    /// 1-based line and column of the error in the template, if it has a position.
    pub fn location(&self) -> Option<(usize, usize)> {
        let span = self.repr.span?;
        let loc = diag::locate(&self.repr.source, span.start as usize);
        Some((loc.line, loc.col))
    }
    /// The byte range of the error in the template source.
    pub fn span(&self) -> Option<std::ops::Range<usize>> {
        self.repr.span.map(Span::range)
    }

    fn kind_prefix(&self) -> &'static str {
        match self.repr.kind {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Render => "render error",
            ErrorKind::Limit => "limit exceeded",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.repr;
        if f.alternate() {
            writeln!(f, "error: {}: {}", self.kind_prefix(), r.message)?;
            match r.span {
                Some(span) => {
                    let label = r.label.as_deref().unwrap_or(&r.message);
                    f.write_str(&diag::excerpt(
                        &r.name,
                        &r.source,
                        span.start as usize,
                        span.end as usize,
                        label,
                    ))
                }
                None => write!(f, "  --> {}", r.name),
            }
        } else {
            match self.location() {
                Some((line, col)) => write!(f, "{}:{line}:{col}: {}", r.name, r.message),
                None => write!(f, "{}: {}", r.name, r.message),
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.repr.kind)
            .field("message", &self.repr.message)
            .field("name", &self.repr.name)
            .field("location", &self.location())
            .finish()
    }
}

impl std::error::Error for Error {}
