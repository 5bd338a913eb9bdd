//! Step Functions vocabulary, shared by the config loader, both backends and the local
//! Step Functions API: the [`Action`]s an integration can call, ARNs, the request/response
//! shapes as they travel on the AWS JSON 1.0 wire ([`model`]), reading a request body into an
//! action's input with AWS's errors ([`request`]), the checks both backends apply
//! ([`validate`]), writing bodies byte-compatible with AWS's ([`wire`]), and the AWS error
//! shape ([`AwsError`]). Types only: no I/O, and no other
//! module of the crate is used.

pub mod action;
pub mod arn;
pub mod error;
pub mod model;
pub mod request;
pub mod validate;
pub mod wire;

pub use action::{Action, ActionError};
pub use arn::{ArnError, ExecutionArn, ExecutionKind, StateMachineArn};
pub use error::AwsError;
pub use model::Timestamp;
