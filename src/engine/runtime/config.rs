//! [`EngineConfig`]: everything the engine needs, as plain data. `config` maps
//! `stepgate.yaml` onto it; `stepgate sfn` builds it from flags.

use std::path::PathBuf;

use super::clock::Clock;
use crate::engine::store::StateMachineType;
pub use crate::engine::tasks::TaskConfig;

/// The engine's settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Where the durable store lives; `None` keeps everything in memory (tests, benches).
    pub data_dir: Option<PathBuf>,
    /// State machines registered at start (re-registered on every start).
    pub state_machines: Vec<StateMachineSource>,
    /// Region used in ARNs (`us-east-1`).
    pub region: String,
    /// Account id used in ARNs (`123456789012`).
    pub account_id: String,
    /// How Task states run their resources.
    pub tasks: TaskConfig,
    /// The clock (tests accelerate it).
    pub clock: Clock,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            data_dir: None,
            state_machines: Vec::new(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            tasks: TaskConfig::default(),
            clock: Clock::System,
        }
    }
}

/// A state machine named in configuration.
#[derive(Clone, Debug)]
pub struct StateMachineSource {
    pub name: String,
    pub r#type: StateMachineType,
    pub definition: DefinitionSource,
    /// `roleArn` reported for it; a placeholder role when `None`.
    pub role_arn: Option<String>,
}

/// Where a definition comes from.
#[derive(Clone, Debug)]
pub enum DefinitionSource {
    /// An ASL file, JSON or YAML.
    File(PathBuf),
    /// ASL already loaded (e.g. from a SAM/CloudFormation template), JSON or YAML text.
    Inline(String),
}
