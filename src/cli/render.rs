//! `stepgate render`: renders one mapping template against a sample request (or, with
//! `--response`, an integration response) and prints the result. Local
//! mapping-template testing with no AWS account.
//!
//! The rendered text goes to stdout as is (no newline added); overrides the template set
//! (`$context.requestOverride.*`, `$context.responseOverride.*`) are listed on stderr;
//! a template error prints its diagnostic with a caret to stderr and exits 1.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::apigw::{Overrides, RequestContext, RequestData, TemplateEnv};
use crate::vtl::Template;

/// Arguments of `stepgate render`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  stepgate render templates/start-execution.vtl --body order.json --header 'Content-Type: application/json'
  echo '{\"status\":\"FAILED\",\"error\":\"E\",\"cause\":\"C\"}' | \\
    stepgate render templates/start-sync-execution-response.vtl --response --body -")]
pub(crate) struct RenderArgs {
    /// The template file (`-` reads it from stdin).
    template: PathBuf,
    /// The payload: the method request body, or with --response the integration
    /// response body (`-` reads stdin). Absent means an empty body, which reads as `{}`.
    #[arg(long, value_name = "FILE")]
    body: Option<PathBuf>,
    /// A request header `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "K:V")]
    headers: Vec<String>,
    /// A query string parameter `name=value`, already decoded (repeatable).
    #[arg(long = "query", short = 'q', value_name = "k=v")]
    query: Vec<String>,
    /// A path parameter `name=value` (repeatable).
    #[arg(long = "path", short = 'p', value_name = "k=v")]
    path_params: Vec<String>,
    /// A stage variable `name=value` (repeatable).
    #[arg(long = "stage-var", value_name = "k=v")]
    stage_vars: Vec<String>,
    /// A `$context` value by dotted name, e.g. `requestId=abc`, `identity.sourceIp=10.0.0.1`,
    /// `authorizer.principalId=u1` (repeatable). A JSON value (`false`, `12`) keeps its type.
    #[arg(long = "context", short = 'c', value_name = "k=v")]
    context: Vec<String>,
    /// The HTTP method (`$context.httpMethod`).
    #[arg(long, default_value = "POST")]
    method: String,
    /// The request path without the stage.
    #[arg(long = "request-path", default_value = "/")]
    request_path: String,
    /// The resource path (`$context.resourcePath`); defaults to the request path.
    #[arg(long = "resource-path")]
    resource_path: Option<String>,
    /// Render as an integration response template (`--body` is the integration response).
    #[arg(long)]
    response: bool,
    /// With --response: the integration response status (reported back unless the
    /// template overrides it).
    #[arg(long, default_value_t = 200, requires = "response")]
    status: u16,
}

pub(crate) fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let reads_stdin = |p: &Option<PathBuf>| p.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if args.template.as_os_str() == "-" && reads_stdin(&args.body) {
        bail!("only one of TEMPLATE and --body can be read from stdin");
    }
    let template_name = args.template.display().to_string();
    let source = String::from_utf8(read_input(&args.template)?)
        .with_context(|| format!("{template_name} is not UTF-8 text"))?;
    let payload = match &args.body {
        Some(p) => read_input(p)?,
        None => Vec::new(),
    };

    let mut request = RequestData {
        method: args.method.as_str().into(),
        resource_path: args.resource_path.as_deref().unwrap_or(&args.request_path).into(),
        path: args.request_path.as_str().into(),
        headers: args.headers.iter().map(|h| split_header(h)).collect::<anyhow::Result<_>>()?,
        query: pairs(&args.query, "--query")?,
        path_params: pairs(&args.path_params, "--path")?,
        stage_variables: pairs(&args.stage_vars, "--stage-var")?,
        context: RequestContext::default(),
        ..RequestData::default()
    };
    for (key, value) in pairs(&args.context, "--context")? {
        set_context_value(&mut request, &key, &value)?;
    }
    if !args.response {
        request.body = payload.clone().into();
    }

    let template = match Template::parse(&template_name, &source) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let env = TemplateEnv::new(request);
    let mut ctx = if args.response { env.response_context(payload) } else { env.request_context() };
    let output = match template.render(&mut ctx) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("{e:#}");
            if let Some(message) = env.payload_error() {
                eprintln!("API Gateway would answer 400 {}", serde_json::json!({ "message": message }));
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes()).context("writing to stdout")?;
    stdout.flush().context("writing to stdout")?;
    report_overrides(&env, args.response.then_some(args.status))?;
    Ok(ExitCode::SUCCESS)
}

fn read_input(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("reading stdin")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn split_header(h: &str) -> anyhow::Result<(String, String)> {
    match h.split_once(':') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => bail!("--header expects `Name: value`, got `{h}`"),
    }
}

fn pairs(items: &[String], flag: &str) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("{flag} expects `name=value`, got `{s}`"),
        })
        .collect()
}

/// `--context key=value`: keys that other values derive from set the request's fields;
/// anything else is set by dotted name as given.
fn set_context_value(req: &mut RequestData, key: &str, value: &str) -> anyhow::Result<()> {
    let c = &mut req.context;
    match key {
        "requestId" => c.request_id = value.into(),
        "extendedRequestId" => c.extended_request_id = value.into(),
        "stage" => c.stage = value.into(),
        "apiId" => c.api_id = value.into(),
        "accountId" => c.account_id = value.into(),
        "resourceId" => c.resource_id = value.into(),
        "domainName" => c.domain_name = value.into(),
        "deploymentId" => c.deployment_id = value.into(),
        "protocol" => c.protocol = value.into(),
        "path" => c.path = Some(value.into()),
        "identity.sourceIp" => c.source_ip = value.into(),
        "identity.userAgent" => c.user_agent = Some(value.into()),
        "httpMethod" => req.method = value.into(),
        "resourcePath" => req.resource_path = value.into(),
        "requestTimeEpoch" => {
            c.request_time_epoch_ms =
                value.parse().with_context(|| format!("requestTimeEpoch must be milliseconds, got `{value}`"))?;
        }
        _ => {
            let v = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.into()));
            c.extra.push((key.to_string(), v));
        }
    }
    Ok(())
}

/// Lists what the template overrode on stderr (stdout stays the rendered text).
fn report_overrides(env: &TemplateEnv, integration_status: Option<u16>) -> anyhow::Result<()> {
    let o = env.overrides().map_err(anyhow::Error::new)?;
    let mut err = std::io::stderr().lock();
    let lines = |err: &mut dyn Write, what: &str, m: &indexmap::IndexMap<String, Vec<String>>| -> std::io::Result<()> {
        for (k, v) in m {
            writeln!(err, "{what}.{k}: {}", Overrides::joined(v))?;
        }
        Ok(())
    };
    lines(&mut err, "requestOverride.header", &o.request_headers)?;
    for (k, v) in &o.request_path {
        writeln!(err, "requestOverride.path.{k}: {v}")?;
    }
    lines(&mut err, "requestOverride.querystring", &o.request_querystring)?;
    if let Some(s) = o.response_status {
        writeln!(err, "responseOverride.status: {s}")?;
    }
    lines(&mut err, "responseOverride.header", &o.response_headers)?;
    if let Some(status) = integration_status {
        writeln!(err, "status: {}", o.response_status.unwrap_or(status))?;
    }
    Ok(())
}
