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

use crate::{diag, vtl};

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
    /// A state machine definition AWS would reject (`InvalidDefinition`): `{"StartAt": "A"}`.
    StateMachine,
    /// A Lambda task the local engine has no answer for (warning).
    NoLocalAnswer,
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
    pub fn error(
        kind: ErrorKind,
        file: &Path,
        pointer: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
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
    pub fn warning(
        kind: ErrorKind,
        file: &Path,
        pointer: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(kind, file, pointer, message)
        }
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
    /// `{}`: one line, `error: file:line:col#pointer: message`. `{:#}`: the message, then
    /// the source excerpt with a caret (from `crate::diag`; a template's own excerpt for
    /// template errors) and the JSON pointer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if !f.alternate() {
            return write!(f, "{label}: {}: {}", self.location(), self.message);
        }
        write!(f, "{label}: {}", self.message)?;
        let file = self.file.display().to_string();
        if let Some(template_error) = &self.template_error {
            let block = format!("{template_error:#}");
            for line in block.lines().skip(1) {
                write!(f, "\n{line}")?;
            }
        } else if let (Some(text), Some((line, col))) = (&self.source_text, self.position) {
            // without the final newline, so no empty last line is shown
            let text = text.trim_end_matches(['\n', '\r']);
            let offset = byte_offset(text, line, col);
            write!(
                f,
                "\n{}",
                diag::excerpt(&file, text, offset, offset + 1, "")
            )?;
        } else {
            return write!(f, "\n  --> {}", self.location());
        }
        if !self.pointer.is_empty() {
            write!(f, "\n   = at {file}#{}", self.pointer)?;
        }
        Ok(())
    }
}

/// The byte offset of 1-based `line`:`col` (in characters) in `text`.
fn byte_offset(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == line {
            return offset
                + l.char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(l.len(), |(b, _)| b);
        }
        offset += l.len() + 1;
    }
    text.len()
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
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors().count();
        write!(
            f,
            "{count} configuration error{}",
            if count == 1 { "" } else { "s" }
        )?;
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
