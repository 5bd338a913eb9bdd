//! Source excerpts with line:col and a caret, shared by vtl and config errors.
