//! The embedded Step Functions engine: an ASL interpreter (`asl`, `exec`) and a durable
//! runtime (`runtime`, `store`, `tasks`). Knows nothing of HTTP routing or VTL.

pub mod asl;
pub mod effects;
pub mod exec;
pub mod runtime;
pub mod store;
pub mod tasks;
