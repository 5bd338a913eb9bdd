//! The Step Functions AWS JSON 1.0 API over the local engine (placeholder).
