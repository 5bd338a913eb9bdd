//! The Step Functions backend trait and its implementations (placeholder).

pub mod aws;
pub mod conformance;
pub mod local;
