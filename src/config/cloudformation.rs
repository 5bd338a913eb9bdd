//! SAM / CloudFormation templates: variables from `Parameters` defaults and the template's
//! own resources (a `Ref`/`Fn::GetAtt` to a state machine, Lambda function or role in the
//! same template resolves to its local ARN), the API (`AWS::Serverless::Api`
//! `DefinitionBody` — inline or `Fn::Transform: AWS::Include` of a local file — or
//! `DefinitionUri`; `AWS::ApiGateway::RestApi` `Body`) and the state machines
//! (`AWS::StepFunctions::StateMachine`, `AWS::Serverless::StateMachine`: `Definition`,
//! `DefinitionString`, `DefinitionUri`/`DefinitionS3Location` to a local file,
//! `DefinitionSubstitutions`).

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use crate::config::diagnostic::{Diagnostic, ErrorKind};
use crate::config::document::{clean_path, join_pointer, Document};
use crate::config::intrinsics::Resolver;
use crate::config::model::{StateMachineDefinition, StateMachineSource, StateMachineType};

/// Whether a document is a CloudFormation/SAM template rather than an OpenAPI document.
pub(crate) fn is_template(value: &Value) -> bool {
    value.get("Resources").is_some_and(Value::is_object)
        && value.get("openapi").is_none()
        && value.get("swagger").is_none()
}

/// Where the API definition of a template is.
pub(crate) enum ApiLocation {
    /// Inline, at this pointer of the template (resolved value given).
    Inline { pointer: String, value: Value },
    /// In another local file (AWS::Include, DefinitionUri).
    File(PathBuf),
}

/// What a template holds.
pub(crate) struct Template {
    pub(crate) variables: IndexMap<String, String>,
    pub(crate) api: Option<ApiLocation>,
    pub(crate) stage: Option<String>,
    pub(crate) stage_variables: IndexMap<String, String>,
    pub(crate) state_machines: Vec<StateMachineSource>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Reads a template's variables, API and state machines. `vars` holds the pseudo
/// parameters and the user's variables (which win over everything the template defines).
pub(crate) fn read_template(doc: &Document, vars: &IndexMap<String, String>) -> Template {
    let mut diagnostics = Vec::new();
    let report = |problems: Vec<Diagnostic>, diagnostics: &mut Vec<Diagnostic>| {
        for p in problems {
            diagnostics.push(doc.diagnostic(p));
        }
    };
    let region = vars.get("AWS::Region").cloned().unwrap_or_else(|| "us-east-1".into());
    let account = vars.get("AWS::AccountId").cloned().unwrap_or_else(|| "123456789012".into());
    let root = &doc.value;

    // 1. Parameters' defaults
    let mut variables = vars.clone();
    if let Some(params) = root.get("Parameters").and_then(Value::as_object) {
        for (name, p) in params {
            if variables.contains_key(name) {
                continue;
            }
            if let Some(default) = p.get("Default").and_then(scalar_text) {
                variables.insert(name.clone(), default);
            }
        }
    }

    // 2. the template's own resources, as local names and ARNs
    let empty = serde_json::Map::new();
    let resources = root.get("Resources").and_then(Value::as_object).unwrap_or(&empty);
    let mut own = IndexMap::new();
    let mut state_machine_names = IndexMap::new();
    {
        let mut resolver = Resolver::new(&variables);
        for (id, resource) in resources {
            let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
            let props = resource.get("Properties");
            let props_ptr = join_pointer(&join_pointer("/Resources", id), "Properties");
            let mut name_of = |key: &str| -> String {
                match props.and_then(|p| p.get(key)) {
                    Some(v) => scalar_text(&resolver.resolve(v, &join_pointer(&props_ptr, key))).unwrap_or_else(|| id.clone()),
                    None => id.clone(),
                }
            };
            match kind {
                "AWS::StepFunctions::StateMachine" | "AWS::Serverless::StateMachine" => {
                    let key = if kind == "AWS::Serverless::StateMachine" { "Name" } else { "StateMachineName" };
                    let name = name_of(key);
                    let arn = format!("arn:aws:states:{region}:{account}:stateMachine:{name}");
                    own.insert(id.clone(), arn.clone());
                    own.insert(format!("{id}.Arn"), arn);
                    own.insert(format!("{id}.Name"), name.clone());
                    state_machine_names.insert(id.clone(), name);
                }
                "AWS::Lambda::Function" | "AWS::Serverless::Function" => {
                    let name = name_of("FunctionName");
                    own.insert(id.clone(), name.clone());
                    own.insert(format!("{id}.Arn"), format!("arn:aws:lambda:{region}:{account}:function:{name}"));
                }
                "AWS::IAM::Role" => {
                    let name = name_of("RoleName");
                    own.insert(id.clone(), name.clone());
                    own.insert(format!("{id}.Arn"), format!("arn:aws:iam::{account}:role/{name}"));
                    own.insert(format!("{id}.RoleId"), format!("AROA{}", id.to_ascii_uppercase()));
                }
                "AWS::StepFunctions::Activity" => {
                    let name = name_of("Name");
                    let arn = format!("arn:aws:states:{region}:{account}:activity:{name}");
                    own.insert(id.clone(), arn.clone());
                    own.insert(format!("{id}.Name"), name);
                }
                _ => {
                    own.insert(id.clone(), id.clone());
                }
            }
        }
        report(std::mem::take(&mut resolver.problems), &mut diagnostics);
    }
    for (k, v) in own {
        variables.entry(k).or_insert(v);
    }

    let base_dir = doc.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut template = Template {
        variables: IndexMap::new(),
        api: None,
        stage: None,
        stage_variables: IndexMap::new(),
        state_machines: Vec::new(),
        diagnostics: Vec::new(),
    };

    // 3. the API and the state machines
    let mut resolver = Resolver::new(&variables);
    for (id, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let props_ptr = join_pointer(&join_pointer("/Resources", id), "Properties");
        let props = resource.get("Properties").cloned().unwrap_or(Value::Null);
        match kind {
            "AWS::Serverless::Api" | "AWS::ApiGateway::RestApi" => {
                let (body_key, uri_key) =
                    if kind == "AWS::Serverless::Api" { ("DefinitionBody", "DefinitionUri") } else { ("Body", "BodyS3Location") };
                let location = if let Some(body) = props.get(body_key) {
                    let body_ptr = join_pointer(&props_ptr, body_key);
                    match include_location(body) {
                        Some(location) => {
                            let at = format!("{body_ptr}/Fn::Transform/Parameters/Location");
                            let location = resolver.resolve(location, &at);
                            local_file(&base_dir, &location, &at, &mut diagnostics, doc).map(ApiLocation::File)
                        }
                        None => Some(ApiLocation::Inline { value: resolver.resolve(body, &body_ptr), pointer: body_ptr }),
                    }
                } else if let Some(uri) = props.get(uri_key) {
                    let at = join_pointer(&props_ptr, uri_key);
                    let uri = resolver.resolve(uri, &at);
                    local_file(&base_dir, &uri, &at, &mut diagnostics, doc).map(ApiLocation::File)
                } else {
                    diagnostics.push(doc.diagnostic(Diagnostic::warning(
                        ErrorKind::Missing,
                        &doc.path,
                        &props_ptr,
                        format!("API `{id}` has no {body_key}; stepgate needs the OpenAPI definition"),
                    )));
                    None
                };
                if template.api.is_some() {
                    diagnostics.push(doc.diagnostic(Diagnostic::warning(
                        ErrorKind::Unsupported,
                        &doc.path,
                        &join_pointer("/Resources", id),
                        format!("the template defines several APIs; stepgate serves the first one, not `{id}`"),
                    )));
                    continue;
                }
                template.api = location;
                if let Some(stage) = props.get("StageName") {
                    template.stage = scalar_text(&resolver.resolve(stage, &join_pointer(&props_ptr, "StageName")));
                }
                if let Some(Value::Object(vars)) = props.get("Variables").map(|v| resolver.resolve(v, &join_pointer(&props_ptr, "Variables"))) {
                    template.stage_variables = vars.iter().filter_map(|(k, v)| scalar_text(v).map(|t| (k.clone(), t))).collect();
                }
            }
            "AWS::StepFunctions::StateMachine" | "AWS::Serverless::StateMachine" => {
                let name = state_machine_names.get(id).cloned().unwrap_or_else(|| id.clone());
                let arn = format!("arn:aws:states:{region}:{account}:stateMachine:{name}");
                let type_key = if kind == "AWS::Serverless::StateMachine" { "Type" } else { "StateMachineType" };
                let kind_value = props.get(type_key).map(|v| resolver.resolve(v, &join_pointer(&props_ptr, type_key)));
                let machine_type = match kind_value.as_ref().and_then(Value::as_str) {
                    None | Some("STANDARD") => StateMachineType::Standard,
                    Some("EXPRESS") => StateMachineType::Express,
                    Some(other) => {
                        diagnostics.push(doc.diagnostic(Diagnostic::error(
                            ErrorKind::InvalidValue,
                            &doc.path,
                            &join_pointer(&props_ptr, type_key),
                            format!("`{other}` is neither STANDARD nor EXPRESS"),
                        )));
                        StateMachineType::Standard
                    }
                };
                let substitutions: IndexMap<String, String> = match props.get("DefinitionSubstitutions") {
                    Some(v) => match resolver.resolve(v, &join_pointer(&props_ptr, "DefinitionSubstitutions")) {
                        Value::Object(m) => m.iter().filter_map(|(k, v)| scalar_text(v).map(|t| (k.clone(), t))).collect(),
                        _ => IndexMap::new(),
                    },
                    None => IndexMap::new(),
                };
                let definition = if let Some(d) = props.get("Definition") {
                    let resolved = resolver.resolve(d, &join_pointer(&props_ptr, "Definition"));
                    Some(StateMachineDefinition::Json(substitute_value(&resolved, &substitutions)))
                } else if let Some(d) = props.get("DefinitionString") {
                    let at = join_pointer(&props_ptr, "DefinitionString");
                    match resolver.resolve(d, &at) {
                        Value::String(text) => Some(StateMachineDefinition::Text(substitute(&text, &substitutions))),
                        _ => {
                            diagnostics.push(doc.diagnostic(Diagnostic::error(ErrorKind::InvalidValue, &doc.path, &at, "DefinitionString must be a string")));
                            None
                        }
                    }
                } else if let Some((key, uri)) = props.get("DefinitionUri").map(|u| ("DefinitionUri", u)).or_else(|| props.get("DefinitionS3Location").map(|u| ("DefinitionS3Location", u))) {
                    let at = join_pointer(&props_ptr, key);
                    let uri = resolver.resolve(uri, &at);
                    local_file(&base_dir, &uri, &at, &mut diagnostics, doc).and_then(|path| read_definition(&path, &substitutions, &mut diagnostics))
                } else {
                    diagnostics.push(doc.diagnostic(Diagnostic::error(
                        ErrorKind::Missing,
                        &doc.path,
                        &props_ptr,
                        format!("state machine `{id}` has no Definition, DefinitionString or DefinitionUri"),
                    )));
                    None
                };
                if let Some(definition) = definition {
                    template.state_machines.push(StateMachineSource {
                        name,
                        arn,
                        definition,
                        kind: machine_type,
                        origin: format!("{}#{}", doc.path.display(), join_pointer("/Resources", id)),
                    });
                }
            }
            _ => {}
        }
    }
    report(std::mem::take(&mut resolver.problems), &mut diagnostics);
    template.variables = variables;
    template.diagnostics = diagnostics;
    template
}

/// `{"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": ...}}}`.
fn include_location(body: &Value) -> Option<&Value> {
    let transform = body.get("Fn::Transform")?;
    if transform.get("Name").and_then(Value::as_str) != Some("AWS::Include") {
        return None;
    }
    transform.pointer("/Parameters/Location")
}

/// A local file named by a (resolved) location: a path, or `file://`. S3 is reported.
fn local_file(base: &Path, location: &Value, pointer: &str, diagnostics: &mut Vec<Diagnostic>, doc: &Document) -> Option<PathBuf> {
    let text = match location {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.contains_key("Bucket") => {
            diagnostics.push(doc.diagnostic(Diagnostic::error(ErrorKind::Unsupported, &doc.path, pointer, "an S3 location cannot be read locally; give a local file path")));
            return None;
        }
        _ => {
            diagnostics.push(doc.diagnostic(Diagnostic::error(ErrorKind::InvalidValue, &doc.path, pointer, "expected a file path")));
            return None;
        }
    };
    if text.starts_with("s3://") {
        diagnostics.push(doc.diagnostic(Diagnostic::error(
            ErrorKind::Unsupported,
            &doc.path,
            pointer,
            format!("`{text}` is in S3 and cannot be read locally; give a local file path (e.g. with --var)"),
        )));
        return None;
    }
    let path = PathBuf::from(text.strip_prefix("file://").unwrap_or(&text));
    Some(clean_path(&if path.is_absolute() { path } else { base.join(path) }))
}

fn read_definition(path: &Path, substitutions: &IndexMap<String, String>, diagnostics: &mut Vec<Diagnostic>) -> Option<StateMachineDefinition> {
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        match std::fs::read_to_string(path) {
            Ok(text) => Some(StateMachineDefinition::Text(substitute(&text, substitutions))),
            Err(e) => {
                diagnostics.push(Diagnostic::error(ErrorKind::Io, path, "", format!("cannot read state machine definition: {e}")));
                None
            }
        }
    } else {
        match Document::read(path) {
            Ok(d) => Some(StateMachineDefinition::Json(substitute_value(&d.value, substitutions))),
            Err(e) => {
                diagnostics.push(e);
                None
            }
        }
    }
}

/// Replaces `${key}` for the keys given (DefinitionSubstitutions); others stay.
fn substitute(text: &str, substitutions: &IndexMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in substitutions {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

fn substitute_value(value: &Value, substitutions: &IndexMap<String, String>) -> Value {
    if substitutions.is_empty() {
        return value.clone();
    }
    match value {
        Value::String(s) => Value::String(substitute(s, substitutions)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute_value(v, substitutions)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), substitute_value(v, substitutions))).collect()),
        other => other.clone(),
    }
}

pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
