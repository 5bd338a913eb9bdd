//! stepgate puts an HTTP API in front of AWS Step Functions state machines the way
//! Amazon API Gateway's AWS-service integration does, with no Lambda in between. It serves
//! the API Gateway OpenAPI files (and their Velocity mapping templates) people already
//! have, against real Step Functions or an embedded engine that runs the state machines.
//!
//! ```text
//! client ─▶ server (hyper/tower: body limit, timeout, request id, access log)
//!         ─▶ route (path template + method; unknown ⇒ 403 MISSING_AUTHENTICATION_TOKEN)
//!         ─▶ method request (API key, required parameters, body model validation)
//!         ─▶ integration request (template by Content-Type, passthrough, requestParameters,
//!            VTL render with $input/$util/$context)
//!         ─▶ integration (aws: states:action/<Action> → backend; mock; http)
//!         ─▶ integration response (selectionPattern regex; default rule)
//!         ─▶ method response (responseParameters, response template by Accept,
//!            $context.responseOverride) ─▶ client
//!    any failure ─▶ one gateway-response table (status, x-amzn-ErrorType, {"message": …})
//! ```
//!
//! Modules, each using only those listed before it: `diag`, `jsonpath`, `routing`, `sfn`,
//! `https` (the outgoing HTTP(S) client), `vtl`, `engine`, `apigw`, `config`, `backend`,
//! `pipeline`, `server`, `cli`.

pub mod diag;
pub mod jsonpath;
pub mod routing;
pub mod sfn;
pub mod https;
pub mod vtl;
pub mod engine;
pub mod apigw;
pub mod config;
pub mod backend;
pub mod pipeline;
pub mod server;
pub mod cli;
