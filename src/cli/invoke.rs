//! `stepgate invoke METHOD PATH [--header K:V]... [--body TEXT|@FILE] [CONFIG]`: runs one
//! request through the gateway in-process (no socket) and prints API Gateway's test-invoke
//! execution log: method request, endpoint request URI/headers/body after transformations,
//! endpoint response, the selected integration response, then the method response status,
//! headers and body. The local engine runs in memory unless `--persist` is given.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use http::Method;

use crate::config::LoadOptions;
use crate::pipeline::{self, GatewayRequest};

use super::serve::{load_config, parse_vars};
use crate::server::{Gateway, Storage};

/// Arguments of `stepgate invoke`.
#[derive(Debug, clap::Args)]
pub(crate) struct InvokeArgs {
    /// HTTP method (GET, POST, ...).
    method: String,
    /// Request path with optional query string (`/orders/1?x=y`).
    path: String,
    /// The stepgate.yaml to use.
    #[arg(default_value = "config/stepgate.yaml")]
    config: PathBuf,
    /// A request header `Name: value`. Repeatable.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The request body, or `@FILE` to read it from a file.
    #[arg(long, short = 'd')]
    body: Option<String>,
    /// A CloudFormation variable NAME=VALUE. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Step Functions backend: `local` or `aws`.
    #[arg(long, value_parser = ["local", "aws"])]
    backend: Option<String>,
    /// Keep the local engine's data dir (default: run it in memory).
    #[arg(long)]
    persist: bool,
}

pub(crate) fn run(args: InvokeArgs) -> anyhow::Result<ExitCode> {
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .with_context(|| format!("`{}` is not an HTTP method", args.method))?;
    if !args.path.starts_with('/') {
        bail!("the path must start with `/`, got `{}`", args.path);
    }
    let mut request = GatewayRequest::new(method, args.path.clone());
    for h in &args.headers {
        let Some((name, value)) = h.split_once(':') else {
            bail!("--header expects `Name: value`, got `{h}`");
        };
        let before = request.headers.len();
        request = request.with_header(name.trim(), value.trim());
        if request.headers.len() == before {
            bail!("--header `{h}` is not a valid HTTP header");
        }
    }
    if let Some(body) = &args.body {
        let bytes = match body.strip_prefix('@') {
            Some(file) => std::fs::read(file).with_context(|| format!("cannot read {file}"))?,
            None => body.clone().into_bytes(),
        };
        request = request.with_body(bytes);
    }
    let options = LoadOptions { vars: parse_vars(&args.vars)?, backend: args.backend.clone(), ..LoadOptions::default() };
    let config = load_config(&args.config, &options)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let (response, transcript) = runtime.block_on(async {
        let storage = if args.persist { Storage::Configured } else { Storage::InMemory };
        let loaded = Gateway::open(config, storage).await?;
        anyhow::Ok(pipeline::invoke_traced(&loaded.app, request).await)
    })?;
    let mut out = String::new();
    out.push_str(&format!("Execution log for {} {}\n", args.method.to_ascii_uppercase(), args.path));
    out.push_str(&transcript.to_string());
    out.push_str(&format!("\nStatus: {}\n", response.status.as_u16()));
    out.push_str("Headers:\n");
    for (name, value) in &response.headers {
        out.push_str(&format!("  {name}: {}\n", String::from_utf8_lossy(value.as_bytes())));
    }
    out.push_str("Body:\n");
    out.push_str(&String::from_utf8_lossy(&response.body));
    out.push('\n');
    #[allow(clippy::print_stdout)]
    {
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}
