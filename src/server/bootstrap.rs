//! From a loaded `stepgate.yaml` to a running gateway: opens the Step Functions backend the
//! configuration names (the local engine with its state machines and Lambda handlers, or
//! AWS through aws-sdk-sfn) and builds the [`App`] over it. Used by `serve`, `invoke`, the
//! end-to-end tests and the benches, so they all start the gateway the same way.

use std::sync::Arc;

use crate::backend::StepFunctions;
use crate::backend::aws::{AwsBackend, AwsBackendConfig};
use crate::backend::local::LocalBackend;
use crate::config::{self, Backend, Config, LambdaHandler};
use crate::engine::runtime::{self as engine, Clock, DefinitionSource, Engine, EngineConfig, TaskConfig};
use crate::pipeline::{App, Identity};
use crate::routing;

/// Where the local engine keeps its executions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The configured `data_dir` (durable), or memory if none is configured.
    Configured,
    /// Memory only (tests, `invoke`).
    InMemory,
}

/// Why the gateway could not start.
#[derive(Debug)]
pub enum Error {
    /// The local engine did not open (store, state machine definitions).
    Engine(engine::OpenError),
    /// The API's routes are malformed.
    Routes(routing::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Engine(e) => write!(f, "cannot open the local engine: {e}"),
            Error::Routes(e) => write!(f, "the API's routes: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// The gateway and the backend it calls.
#[derive(Clone)]
pub struct Gateway {
    pub app: Arc<App>,
    pub backend: Arc<dyn StepFunctions>,
    /// The engine, when the backend is the local one.
    pub engine: Option<Engine>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("app", &self.app).finish_non_exhaustive()
    }
}

impl Gateway {
    /// Opens the backend `config` names and builds the gateway over it.
    pub async fn open(config: Config, storage: Storage) -> Result<Gateway, Error> {
        let (backend, identity, engine): (Arc<dyn StepFunctions>, Identity, Option<Engine>) = match &config.backend {
            Backend::Local(settings) => {
                let engine = Engine::open(engine_config(&config, settings, storage)).await.map_err(Error::Engine)?;
                let identity = Identity {
                    account_id: settings.account_id.clone(),
                    region: settings.region.clone(),
                    ..Identity::default()
                };
                (Arc::new(LocalBackend::new(engine.clone())), identity, Some(engine))
            }
            Backend::Aws(settings) => {
                let aws = AwsBackendConfig {
                    region: settings.region.clone(),
                    endpoint_url: settings.endpoint_url.clone(),
                    profile: settings.profile.clone(),
                    ..AwsBackendConfig::default()
                };
                let identity = Identity {
                    region: settings.region.clone().unwrap_or_else(|| Identity::default().region),
                    ..Identity::default()
                };
                (Arc::new(AwsBackend::new(&aws).await), identity, None)
            }
        };
        let app = App::new(config.api, backend.clone())
            .map_err(Error::Routes)?
            .with_limits(config.limits)
            .with_identity(identity);
        Ok(Gateway { app: Arc::new(app), backend, engine })
    }
}

/// The local engine's settings from `stepgate.yaml`.
fn engine_config(config: &Config, local: &config::LocalEngineSettings, storage: Storage) -> EngineConfig {
    let mut tasks = TaskConfig {
        lambda_endpoint: local.lambda_endpoint.clone(),
        mock_config: local.mock_config.as_ref().map(|m| m.path.clone()),
        host_mappings: local.http_hosts.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        ..TaskConfig::default()
    };
    for (name, handler) in &local.lambda_handlers {
        tasks.lambda_commands.insert(name.clone(), lambda_command(handler));
    }
    let state_machines = config
        .state_machines
        .iter()
        .map(|m| engine::StateMachineSource {
            name: m.name.clone(),
            r#type: match m.kind {
                config::StateMachineType::Standard => engine::StateMachineType::Standard,
                config::StateMachineType::Express => engine::StateMachineType::Express,
            },
            definition: DefinitionSource::Inline(match &m.definition {
                config::StateMachineDefinition::Text(t) => t.clone(),
                config::StateMachineDefinition::Json(v) => v.to_string(),
            }),
            role_arn: None,
        })
        .collect();
    EngineConfig {
        data_dir: match storage {
            Storage::Configured => local.data_dir.clone(),
            Storage::InMemory => None,
        },
        state_machines,
        region: local.region.clone(),
        account_id: local.account_id.clone(),
        tasks,
        clock: Clock::System,
    }
}

/// The engine runs Lambda tasks as local commands (payload on stdin, result on stdout); a
/// fixed answer or error from `stepgate.yaml` is a small `sh` command that prints it.
fn lambda_command(handler: &LambdaHandler) -> Vec<String> {
    match handler {
        LambdaHandler::Command { argv } => argv.clone(),
        LambdaHandler::Return { payload, delay } => vec![
            "sh".into(),
            "-c".into(),
            format!("sleep {}; printf '%s' \"$0\"", delay.as_secs_f64()),
            payload.to_string(),
        ],
        LambdaHandler::Error { error, cause } => vec![
            "sh".into(),
            "-c".into(),
            "printf '%s' \"$0\"; exit 1".into(),
            serde_json::json!({"errorType": error, "errorMessage": cause}).to_string(),
        ],
    }
}
