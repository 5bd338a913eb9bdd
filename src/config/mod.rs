//! Configuration: OpenAPI 3.0 / Swagger 2.0 documents (with API Gateway's `x-amazon-apigateway-*`
//! extensions), SAM/CloudFormation templates and `stepgate.yaml`, turned once into the
//! validated [`model`] the rest of stepgate uses.
//!
//! Loading runs in two stages, as ripgrep does with its flags: the raw document (YAML or
//! JSON, with source positions) → CloudFormation intrinsics resolved ([`intrinsics`]) →
//! the model, built by [`openapi`], with every template parsed, every selection pattern
//! ([`selection`]) and request model compiled, every integration URI understood. Every
//! problem is collected as a [`Diagnostic`] naming the file, the JSON pointer and (for
//! YAML sources and templates) line and column; [`Error`] carries them all.
//!
//! Uses `vtl` (templates), `diag` (excerpts); nothing after `config` in DESIGN.md's order.

pub mod model;
pub mod selection;

mod diagnostic;
mod document;
mod intrinsics;
mod lint;
mod openapi;
mod parameters;

pub use diagnostic::{Diagnostic, Error, ErrorKind, Severity};
pub use model::*;
pub use selection::{PatternError, SelectionPattern};
