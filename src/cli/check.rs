//! `stepgate check [CONFIG]`: loads a `stepgate.yaml` (or a single OpenAPI document or
//! SAM/CloudFormation template) and everything it names, prints every problem with its
//! location (file:line:col, JSON pointer, and a caret excerpt), then a summary of what
//! would be served. Exit status 1 if there is an error (or a warning with
//! `--deny-warnings`), else 0.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use indexmap::IndexMap;

use crate::config::{self, Diagnostic, Severity};

/// Arguments of `stepgate check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// stepgate.yaml, an OpenAPI/Swagger file, or a SAM/CloudFormation template.
    #[arg(default_value = "config/stepgate.yaml")]
    config: PathBuf,
    /// A value for a CloudFormation variable (`Ref`, `Fn::Sub`), e.g. `Workflow=arn:...`.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Exit with status 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

/// What a loaded file amounts to, for the summary line.
struct Summary {
    routes: Vec<String>,
    state_machines: Vec<String>,
    warnings: Vec<Diagnostic>,
}

#[allow(clippy::print_stdout)]
pub(crate) fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let vars: IndexMap<String, String> = args.vars.iter().cloned().collect();
    let result = if is_stepgate_config(&args.config)? {
        let options = config::LoadOptions {
            vars,
            ..Default::default()
        };
        config::load_with(&args.config, &options).map(|c| Summary {
            routes: route_lines(&c.api),
            state_machines: c
                .state_machines
                .iter()
                .map(|m| format!("{} ({})", m.arn, m.kind.as_str()))
                .collect(),
            warnings: c.warnings,
        })
    } else {
        config::load_api(&args.config, &vars).map(|d| Summary {
            routes: route_lines(&d.api),
            state_machines: d
                .state_machines
                .iter()
                .map(|m| format!("{} ({})", m.arn, m.kind.as_str()))
                .collect(),
            warnings: d.warnings,
        })
    };
    match result {
        Ok(summary) => {
            for w in &summary.warnings {
                eprintln!("{w:#}\n");
            }
            let warnings = summary
                .warnings
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .count();
            println!(
                "{}: ok, {} route{}, {} state machine{}, {} warning{}",
                args.config.display(),
                summary.routes.len(),
                plural(summary.routes.len()),
                summary.state_machines.len(),
                plural(summary.state_machines.len()),
                warnings,
                plural(warnings),
            );
            for r in &summary.routes {
                println!("  route {r}");
            }
            for m in &summary.state_machines {
                println!("  state machine {m}");
            }
            Ok(if warnings > 0 && args.deny_warnings {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(error) => {
            for d in error.diagnostics() {
                eprintln!("{d:#}\n");
            }
            let errors = error.errors().count();
            let warnings = error.diagnostics().len() - errors;
            println!(
                "{}: {} error{}, {} warning{}",
                args.config.display(),
                errors,
                plural(errors),
                warnings,
                plural(warnings)
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn route_lines(api: &config::Api) -> Vec<String> {
    api.routes
        .iter()
        .map(|r| {
            let target = match &r.method.integration.kind {
                config::IntegrationType::Aws {
                    service, action, ..
                } => format!("aws {service}:{action}"),
                config::IntegrationType::Lambda { function_arn, .. } => format!("lambda {function_arn}"),
                config::IntegrationType::Mock => "mock".to_string(),
                config::IntegrationType::Http { uri, http_method } => {
                    format!("http {http_method} {uri}")
                }
            };
            format!("{} {} -> {}", r.http_method, r.path_template, target)
        })
        .collect()
}

/// A stepgate.yaml has none of the top-level keys that mark an OpenAPI document
/// (`openapi`, `swagger`) or a CloudFormation template (`Resources`,
/// `AWSTemplateFormatVersion`). Text that does not parse is left to the loader to report.
fn is_stepgate_config(path: &Path) -> anyhow::Result<bool> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Ok(serde_json::Value::Object(root)) = serde_saphyr::from_str::<serde_json::Value>(&text)
    else {
        return Ok(true);
    };
    Ok(![
        "openapi",
        "swagger",
        "Resources",
        "AWSTemplateFormatVersion",
    ]
    .iter()
    .any(|k| root.contains_key(*k)))
}
