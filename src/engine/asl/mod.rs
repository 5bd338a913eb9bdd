//! Amazon States Language model, parsing and validation (placeholder).
