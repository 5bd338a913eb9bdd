//! Configuration problems: one [`Diagnostic`] per problem (file, JSON pointer, line:col,
//! message, and the template error when a template failed to parse), and [`Error`], all
//! the problems of one load.
//!
//! `{}` prints one line per problem; `{:#}` adds the source excerpt with a caret (the
//! template's own excerpt for template errors, else the YAML file's when the position is
//! known).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::vtl;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Loads, but probably not what the author meant (`stepgate check` prints it).
    Warning,
    /// The configuration cannot be served.
    Error,
}

/// What kind of problem it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// Not valid YAML/JSON: `paths: [`.
    Syntax,
    /// A value has the wrong shape: `timeoutInMillis: soon`.
    InvalidValue,
    /// A required field is missing: an integration without `type`.
    Missing,
    /// `Fn::Sub: ${Nope}` with no variable `Nope`.
    UnresolvedReference,
    /// A mapping template that does not parse.
    Template,
    /// A `selectionPattern` that does not compile: `(unclosed`.
    Pattern,
    /// A model that is not a valid draft-4 schema, or a `$ref` that leads nowhere.
    Schema,
    /// An integration `uri` stepgate does not understand.
    Uri,
    /// Something stepgate does not support: `type: aws_proxy`.
    Unsupported,
    /// A selection pattern API Gateway would never select (warning).
    NonPortable,
    /// `escapeJavaScript` output inside a JSON string without the `'` fix (warning).
    EscapeJavaScript,
}

/// One problem, with its location.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What kind of problem.
    pub kind: ErrorKind,
    /// The file it is in.
    pub file: PathBuf,
    /// JSON pointer inside the file (`/paths/~1execute/post`), empty for the whole file.
    pub pointer: String,
    /// 1-based line and column in the file, when known (YAML sources).
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
    /// The template error, for [`ErrorKind::Template`] (it has its own line:col:caret).
    pub template_error: Option<vtl::Error>,
    /// The file's text, to print an excerpt under `{:#}`.
    pub source_text: Option<Arc<str>>,
}

impl Diagnostic {
    /// A new error-severity problem.
    pub fn error(kind: ErrorKind, file: &Path, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            kind,
            file: file.to_path_buf(),
            pointer: pointer.to_string(),
            position: None,
            message: message.into(),
            template_error: None,
            source_text: None,
        }
    }

    /// A new warning.
    pub fn warning(kind: ErrorKind, file: &Path, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(kind, file, pointer, message) }
    }

    /// `file:line:col` or `file`, then `#pointer` when there is one.
    pub fn location(&self) -> String {
        let mut s = self.file.display().to_string();
        if let Some((line, col)) = self.position {
            s.push_str(&format!(":{line}:{col}"));
        }
        if !self.pointer.is_empty() {
            s.push('#');
            s.push_str(&self.pointer);
        }
        s
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}: {}", self.location(), self.message)?;
        if !f.alternate() {
            return Ok(());
        }
        if let Some(template_error) = &self.template_error {
            let block = format!("{template_error:#}");
            for line in block.lines() {
                write!(f, "\n    {line}")?;
            }
        } else if let (Some(text), Some((line, col))) = (&self.source_text, self.position) {
            write!(f, "\n{}", excerpt(text, line, col))?;
        }
        Ok(())
    }
}

/// Two lines of context, the line, and a caret at `col` (1-based, in characters).
fn excerpt(text: &str, line: usize, col: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if line == 0 || line > lines.len() {
        return String::new();
    }
    let first = line.saturating_sub(2).max(1);
    let last = (line + 1).min(lines.len());
    let width = last.to_string().len();
    let mut out = format!("{:width$} |", "");
    for n in first..=last {
        let shown = lines[n - 1].replace('\t', "    ");
        out.push_str(&format!("\n{n:>width$} | {shown}"));
        if n == line {
            let before: String = lines[n - 1].chars().take(col.saturating_sub(1)).collect();
            let pad = before.replace('\t', "    ").chars().count();
            out.push_str(&format!("\n{:width$} | {}^", "", " ".repeat(pad)));
        }
    }
    out
}

/// Every problem found while loading; at least one is an error.
#[derive(Debug, Clone)]
pub struct Error {
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    /// Wraps the problems found (errors and warnings).
    pub fn new(diagnostics: Vec<Diagnostic>) -> Error {
        Error { diagnostics }
    }

    /// All problems, errors and warnings, in the order found.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors().count();
        write!(f, "{count} configuration error{}", if count == 1 { "" } else { "s" })?;
        for d in self.errors() {
            if f.alternate() {
                write!(f, "\n{d:#}")?;
            } else {
                write!(f, "\n{d}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
