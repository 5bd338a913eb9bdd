//! hyper + tower-http adapter for the gateway, and the Step Functions JSON API of the
//! local engine (placeholder).

pub mod sfn_api;
