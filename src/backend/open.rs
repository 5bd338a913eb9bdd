//! Opens the Step Functions backend a loaded `stepgate.yaml` names: the local engine with its
//! state machines and Lambda handlers, or AWS through aws-sdk-sfn; and the Lambda invoker
//! of Lambda custom integrations that goes with it (the same local functions, or AWS Lambda). `serve`, `invoke`, the
//! end-to-end tests and the benches all open it here, through `server::Gateway::open`.

use std::sync::Arc;

use super::StepFunctions;
use super::aws::{AwsBackend, AwsBackendConfig};
use super::aws_lambda::{AwsLambda, AwsLambdaConfig};
use super::lambda::{Lambda, LocalLambda};
use super::local::LocalBackend;
use crate::config::{self, Backend, Config, LambdaHandler};
use crate::engine::runtime::{
    self as engine, Clock, DefinitionSource, Engine, EngineConfig, TaskConfig,
};

/// Where the local engine keeps its executions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The configured `data_dir` (durable), or memory if none is configured.
    Configured,
    /// Memory only (tests, `invoke`).
    InMemory,
}

/// An opened backend.
pub struct Opened {
    pub backend: Arc<dyn StepFunctions>,
    /// What Lambda custom integrations invoke.
    pub lambda: Arc<dyn Lambda>,
    /// The engine, when the backend is the local one.
    pub engine: Option<Engine>,
    /// The account the local engine's ARNs use (`None` for AWS).
    pub account_id: Option<String>,
    /// The configured region, if any.
    pub region: Option<String>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Opens the backend `config` names.
pub async fn open(config: &Config, storage: Storage) -> Result<Opened, engine::OpenError> {
    match &config.backend {
        Backend::Local(settings) => {
            let engine_config = engine_config(config, settings, storage);
            let lambda = Arc::new(LocalLambda::new(&engine_config.tasks));
            let engine = Engine::open(engine_config).await?;
            Ok(Opened {
                backend: Arc::new(LocalBackend::new(engine.clone())),
                lambda,
                engine: Some(engine),
                account_id: Some(settings.account_id.clone()),
                region: Some(settings.region.clone()),
            })
        }
        Backend::Aws(settings) => {
            let aws = AwsBackendConfig {
                region: settings.region.clone(),
                endpoint_url: settings.endpoint_url.clone(),
                profile: settings.profile.clone(),
                ..AwsBackendConfig::default()
            };
            Ok(Opened {
                backend: Arc::new(AwsBackend::new(&aws).await),
                lambda: Arc::new(
                    AwsLambda::new(&AwsLambdaConfig {
                        region: settings.region.clone(),
                        profile: settings.profile.clone(),
                        endpoint_url: settings.lambda_endpoint_url.clone(),
                        static_credentials: None,
                    })
                    .await,
                ),
                engine: None,
                account_id: None,
                region: settings.region.clone(),
            })
        }
    }
}

/// The local engine's settings from `stepgate.yaml`.
fn engine_config(
    config: &Config,
    local: &config::LocalEngineSettings,
    storage: Storage,
) -> EngineConfig {
    let mut tasks = TaskConfig {
        lambda_endpoint: local.lambda_endpoint.clone(),
        mock_config: local.mock_config.as_ref().map(|m| m.path.clone()),
        host_mappings: local
            .http_hosts
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        trust: config.tls.clone(),
        ..TaskConfig::default()
    };
    for (name, handler) in &local.lambda_handlers {
        tasks
            .lambda_commands
            .insert(name.clone(), lambda_command(handler));
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
            serde_json::json!({"errorMessage": cause, "errorType": error}).to_string(),
        ],
    }
}
