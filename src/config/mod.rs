//! Configuration: OpenAPI 3.0 / Swagger 2.0 documents (with API Gateway's `x-amazon-apigateway-*`
//! extensions), SAM/CloudFormation templates and `stepgate.yaml`, turned once into the
//! validated [`model`] the rest of stepgate uses.
//!
//! Loading runs in two stages, as ripgrep does with its flags: the raw document (YAML or
//! JSON, with source positions) → CloudFormation intrinsics resolved ([`intrinsics`]) →
//! the model, built by [`openapi`], with every template parsed, every selection pattern
//! ([`selection`]) and request model compiled, every integration URI understood. Every
//! problem is collected as a [`Diagnostic`] naming the file, the JSON pointer and (for
//! YAML sources and templates) line and column; [`Error`] carries them all.
//!
//! Uses `vtl` (templates), `diag` (excerpts); nothing after `config` in DESIGN.md's order.

pub mod model;
pub mod selection;

mod diagnostic;
mod document;
mod functions;
mod intrinsics;
mod lint;
mod machines;
mod openapi;
mod parameters;

pub use diagnostic::{Diagnostic, Error, ErrorKind, Severity};
pub use model::*;
pub use selection::{PatternError, SelectionPattern};
mod cloudformation;
mod settings;

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;

use crate::config::document::Document;
use crate::config::intrinsics::Resolver;

pub use settings::{LoadOptions, load, load_with};

/// What [`load_api`] found in one OpenAPI document or SAM/CloudFormation template.
#[derive(Debug, Clone)]
pub struct ApiDocument {
    /// The API (stage fields: the template's `StageName`/`Variables` if any, else defaults).
    pub api: Api,
    /// State machines defined next to the API in a SAM/CloudFormation template.
    pub state_machines: Vec<StateMachineSource>,
    /// The variables the intrinsics were resolved with (pseudo parameters, template
    /// parameters' defaults, the template's own resources, the user's variables).
    pub variables: IndexMap<String, String>,
    /// Problems that did not stop loading.
    pub warnings: Vec<Diagnostic>,
}

/// Loads an OpenAPI 3.0 / Swagger 2.0 document (YAML or JSON) or a SAM/CloudFormation
/// template holding one, resolving CloudFormation intrinsics from `vars` (`Name` →
/// value; `AWS::Region` and the other pseudo parameters have local defaults).
pub fn load_api(path: &Path, vars: &IndexMap<String, String>) -> Result<ApiDocument, Error> {
    let (document, diagnostics) =
        read_api(path, vars, Limits::default().default_integration_timeout);
    finish(document, diagnostics)
}

/// Turns a result plus its problems into `Ok` (with warnings) or `Err` (all problems).
fn finish(
    document: Option<ApiDocument>,
    diagnostics: Vec<Diagnostic>,
) -> Result<ApiDocument, Error> {
    let diagnostics = tidy(diagnostics);
    match document {
        Some(mut d) if diagnostics.iter().all(|d| d.severity != Severity::Error) => {
            d.warnings = diagnostics;
            Ok(d)
        }
        _ => Err(Error::new(diagnostics)),
    }
}

/// Drops errors that only repeat an unresolved reference below them (an unresolved
/// `Fn::Sub` makes its parent an empty string, which is not worth a second message), and
/// orders the rest by file and position.
pub(crate) fn tidy(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let unresolved: Vec<(std::path::PathBuf, String)> = diagnostics
        .iter()
        .filter(|d| d.kind == ErrorKind::UnresolvedReference)
        .map(|d| (d.file.clone(), d.pointer.clone()))
        .collect();
    diagnostics.retain(|d| {
        d.kind == ErrorKind::UnresolvedReference
            || d.severity == Severity::Warning
            || !unresolved.iter().any(|(file, pointer)| {
                *file == d.file && pointer.starts_with(&format!("{}/", d.pointer))
            })
    });
    diagnostics.sort_by(|a, b| (&a.file, a.position).cmp(&(&b.file, b.position)));
    diagnostics
}

/// The variables a load starts from: local pseudo parameters, overridden by `vars`.
fn base_variables(vars: &IndexMap<String, String>) -> IndexMap<String, String> {
    let region = vars.get("AWS::Region").map_or("us-east-1", String::as_str);
    let account = vars
        .get("AWS::AccountId")
        .map_or("123456789012", String::as_str);
    let stack = vars
        .get("AWS::StackName")
        .map_or("stepgate", String::as_str);
    let mut all = intrinsics::pseudo_parameters(region, account, stack);
    for (k, v) in vars {
        all.insert(k.clone(), v.clone());
    }
    all
}

/// Reads one API file; `None` when nothing usable was found. Problems are returned, not
/// raised, so a caller can collect them across files.
fn read_api(
    path: &Path,
    vars: &IndexMap<String, String>,
    default_timeout: Duration,
) -> (Option<ApiDocument>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let doc = match Document::read(path) {
        Ok(doc) => doc,
        Err(d) => return (None, vec![*d]),
    };
    let variables = base_variables(vars);
    if cloudformation::is_template(&doc.value) {
        let template = cloudformation::read_template(&doc, &variables);
        diagnostics.extend(template.diagnostics);
        let built = match template.api {
            Some(cloudformation::ApiLocation::Inline { pointer, value }) => {
                let (api, d) =
                    openapi::Builder::new(&doc, &value, &pointer, default_timeout).build();
                diagnostics.extend(d);
                Some(api)
            }
            Some(cloudformation::ApiLocation::File(file)) => match Document::read(&file) {
                Ok(included) => {
                    let mut resolver = Resolver::new(&template.variables);
                    let value = resolver.resolve(&included.value, "");
                    diagnostics.extend(
                        resolver
                            .problems
                            .into_iter()
                            .map(|p| included.diagnostic(p)),
                    );
                    let (api, d) =
                        openapi::Builder::new(&included, &value, "", default_timeout).build();
                    diagnostics.extend(d);
                    Some(api)
                }
                Err(d) => {
                    diagnostics.push(*d);
                    None
                }
            },
            None => {
                if !diagnostics.iter().any(|d| d.severity == Severity::Error) {
                    diagnostics.push(doc.diagnostic(Diagnostic::error(
                        ErrorKind::Missing,
                        path,
                        "/Resources",
                        "the template defines no API (AWS::Serverless::Api or AWS::ApiGateway::RestApi with a definition)",
                    )));
                }
                None
            }
        };
        diagnostics.extend(machines::check(&template.state_machines, None));
        let document = built.map(|mut api| {
            if let Some(stage) = template.stage.filter(|s| !s.is_empty()) {
                api.stage = stage;
            }
            api.stage_variables = template.stage_variables;
            ApiDocument {
                api,
                state_machines: template.state_machines,
                variables: template.variables,
                warnings: Vec::new(),
            }
        });
        (document, diagnostics)
    } else {
        let mut resolver = Resolver::new(&variables);
        let value = resolver.resolve(&doc.value, "");
        diagnostics.extend(resolver.problems.into_iter().map(|p| doc.diagnostic(p)));
        let (api, d) = openapi::Builder::new(&doc, &value, "", default_timeout).build();
        diagnostics.extend(d);
        (
            Some(ApiDocument {
                api,
                state_machines: Vec::new(),
                variables,
                warnings: Vec::new(),
            }),
            diagnostics,
        )
    }
}
