//! `stepgate sfn`: serves only the local engine, as the Step Functions AWS JSON 1.0 API.
//! Prints `listening on http://<addr>` on stdout once the socket is bound (port 0 picks
//! a free port), runs until Ctrl-C or SIGTERM, then drains requests in flight.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::backend::local::LocalBackend;
use crate::engine::runtime::{
    Clock, DefinitionSource, Engine, EngineConfig, StateMachineSource, StateMachineType, TaskConfig,
};
use crate::server::sfn_api::serve_sfn_api;

/// Arguments of `stepgate sfn`.
#[derive(Debug, clap::Args)]
pub(crate) struct SfnArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8083")]
    listen: String,
    /// Directory of the durable store (created if missing).
    #[arg(long, default_value = ".stepgate/data")]
    data_dir: PathBuf,
    /// Keep everything in memory instead (nothing survives a restart).
    #[arg(long, conflicts_with = "data_dir")]
    in_memory: bool,
    /// A state machine to register: NAME=FILE or NAME:EXPRESS=FILE (JSON or YAML ASL). Repeatable.
    #[arg(long = "state-machine", value_name = "NAME[:TYPE]=FILE")]
    state_machines: Vec<String>,
    /// Step Functions Local mock-config file (start executions with `<arn>#<TestCase>`).
    #[arg(long)]
    mock_config: Option<PathBuf>,
    /// Base URL of a Lambda Invoke API (e.g. http://127.0.0.1:3001 for `sam local start-lambda`).
    #[arg(long)]
    lambda_endpoint: Option<String>,
    /// Run a Lambda function as a local command: NAME=COMMAND (split on spaces). Repeatable.
    #[arg(long = "lambda-command", value_name = "NAME=COMMAND")]
    lambda_commands: Vec<String>,
    /// Send http:invoke/apigateway:invoke calls for HOST to a local URL: HOST=URL. Repeatable.
    #[arg(long = "host-map", value_name = "HOST=URL")]
    host_mappings: Vec<String>,
    /// Also trust the CA certificates of this PEM bundle for https:// task and Lambda
    /// endpoints (as `tls.ca_file` does for `serve`).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Region used in ARNs.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Account id used in ARNs.
    #[arg(long, default_value = "123456789012")]
    account_id: String,
    /// Run the engine's clock this many times faster than wall time (testing).
    #[arg(long, default_value_t = 1.0)]
    clock_factor: f64,
}

fn split_pair<'a>(flag: &str, text: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k, v)),
        _ => bail!("--{flag} expects KEY=VALUE, got '{text}'"),
    }
}

impl SfnArgs {
    fn engine_config(&self) -> anyhow::Result<EngineConfig> {
        let mut state_machines = Vec::new();
        for spec in &self.state_machines {
            let (name, file) = split_pair("state-machine", spec)?;
            let (name, r#type) = match name.split_once(':') {
                None => (name, StateMachineType::Standard),
                Some((name, t)) => {
                    let t =
                        StateMachineType::parse(&t.to_ascii_uppercase()).with_context(|| {
                            format!("--state-machine {spec}: type must be STANDARD or EXPRESS")
                        })?;
                    (name, t)
                }
            };
            state_machines.push(StateMachineSource {
                name: name.to_string(),
                r#type,
                definition: DefinitionSource::File(PathBuf::from(file)),
                role_arn: None,
            });
        }
        let mut lambda_commands = BTreeMap::new();
        for spec in &self.lambda_commands {
            let (name, command) = split_pair("lambda-command", spec)?;
            lambda_commands.insert(
                name.to_string(),
                command.split_whitespace().map(str::to_string).collect(),
            );
        }
        let mut host_mappings = BTreeMap::new();
        for spec in &self.host_mappings {
            let (host, url) = split_pair("host-map", spec)?;
            host_mappings.insert(host.to_string(), url.to_string());
        }
        let trust = match &self.ca_file {
            Some(path) => crate::https::Trust::with_ca_file(path).map_err(|e| anyhow::anyhow!("--ca-file: {e}"))?,
            None => crate::https::Trust::default(),
        };
        Ok(EngineConfig {
            data_dir: (!self.in_memory).then(|| self.data_dir.clone()),
            state_machines,
            region: self.region.clone(),
            account_id: self.account_id.clone(),
            tasks: TaskConfig {
                lambda_endpoint: self.lambda_endpoint.clone(),
                lambda_commands,
                mock_config: self.mock_config.clone(),
                host_mappings,
                trust,
            },
            clock: Clock::accelerated(self.clock_factor),
        })
    }
}

pub(crate) fn run(args: SfnArgs) -> anyhow::Result<ExitCode> {
    let config = args.engine_config()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let engine = Engine::open(config)
            .await
            .context("cannot open the local engine")?;
        let address = listener
            .local_addr()
            .context("cannot read the bound address")?;
        super::print_banner_line(format!("listening on http://{address}"));
        let backend = Arc::new(LocalBackend::new(engine.clone()));
        serve_sfn_api(listener, backend, crate::server::shutdown_signal())
            .await
            .context("serving the Step Functions API")?;
        engine.flush().await.context("flushing the engine store")?;
        Ok(ExitCode::SUCCESS)
    })
}
