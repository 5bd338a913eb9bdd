//! `stepgate serve [CONFIG]`: loads `stepgate.yaml` (default `config/stepgate.yaml`), opens
//! the Step Functions backend (the local engine, or AWS), and serves the API until SIGINT or
//! SIGTERM, draining in-flight requests. With the local engine it also serves the engine as
//! the Step Functions JSON API (`--sfn-listen`, default from the file, `off` to disable).
//! Prints where it listens and the routes it serves.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indexmap::IndexMap;

use crate::config::{self, Backend, Config, LoadOptions};
use crate::server::{self, Gateway, Server, Storage};

/// Arguments of `stepgate serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The stepgate.yaml to serve.
    #[arg(default_value = "config/stepgate.yaml")]
    config: PathBuf,
    /// Address to listen on (overrides `listen:`; port 0 picks a free port).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// A CloudFormation variable NAME=VALUE (overrides `variables:`). Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Step Functions backend: `local` (the embedded engine) or `aws`.
    #[arg(long, value_parser = ["local", "aws"])]
    backend: Option<String>,
    /// AWS region (aws backend).
    #[arg(long)]
    region: Option<String>,
    /// Step Functions endpoint URL (aws backend: LocalStack, moto, Step Functions Local).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Where the local engine's Step Functions API listens, or `off`.
    #[arg(long, value_name = "ADDR|off")]
    sfn_listen: Option<String>,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    json_logs: bool,
}

/// Loads the configuration, printing its warnings to stderr.
pub(super) fn load_config(path: &Path, options: &LoadOptions) -> anyhow::Result<Config> {
    let config = config::load_with(path, options).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    for warning in &config.warnings {
        eprintln!("{warning:#}");
    }
    Ok(config)
}

/// Parses `NAME=VALUE` flags.
pub(super) fn parse_vars(vars: &[String]) -> anyhow::Result<IndexMap<String, String>> {
    vars.iter()
        .map(|v| match v.split_once('=') {
            Some((k, val)) if !k.is_empty() => Ok((k.to_string(), val.to_string())),
            _ => bail!("--var expects NAME=VALUE, got `{v}`"),
        })
        .collect()
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        // Access-log lines through the cheap formatter, the rest through the default one.
        let format = server::AccessLogFormat::new(tracing_subscriber::fmt::format::Format::default());
        let installed = builder.event_format(format).try_init();
        if installed.is_ok() && !ansi {
            // Uncoloured text: the access log skips tracing's dispatch and writes the same line.
            server::write_access_log_directly();
        }
        installed
    };
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.json_logs);
    let options = LoadOptions {
        vars: parse_vars(&args.vars)?,
        listen: args.listen,
        backend: args.backend.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
    };
    let config = load_config(&args.config, &options)?;
    let sfn_listen: Option<SocketAddr> = match args.sfn_listen.as_deref() {
        None => config.sfn_listen,
        Some("off") => None,
        Some(a) => Some(a.parse().with_context(|| format!("--sfn-listen `{a}` is not ADDR:PORT or off"))?),
    };
    // Worker threads batch their access-log lines and write them when about to go idle.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(server::buffer_access_log_on_this_thread)
        .on_thread_park(server::flush_access_log)
        .on_thread_stop(server::flush_access_log)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listen = config.listen;
        let local = matches!(config.backend, Backend::Local(_));
        let loaded = Gateway::open(config, Storage::Configured).await?;
        let server = Server::bind(listen, loaded.app.clone())
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let sfn_task = match sfn_listen.filter(|_| local) {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (--sfn-listen)"))?;
                let bound = listener.local_addr()?;
                super::print_banner_line(format!("Step Functions API (local engine) on http://{bound}"));
                let backend = loaded.backend.clone();
                let stop = stopped(stop_rx.clone());
                Some(tokio::spawn(server::sfn_api::serve_sfn_api(listener, backend, stop)))
            }
            None => None,
        };
        super::print_banner_line(format!("stepgate listening on http://{}", server.local_addr()));
        for (method, path) in loaded.app.routes() {
            super::print_banner_line(format!("  {method:7} {path}"));
        }
        let signal = tokio::spawn(async move {
            server::shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        server.run(stopped(stop_rx)).await?;
        signal.abort();
        if let Some(t) = sfn_task {
            t.await.context("the Step Functions API task")??;
        }
        if let Some(engine) = &loaded.engine {
            engine.flush().await.context("flushing the engine store")?;
        }
        Ok(ExitCode::SUCCESS)
    })
}
