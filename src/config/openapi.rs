//! OpenAPI 3.0 and Swagger 2.0 documents with API Gateway's extensions → [`Api`].
//!
//! Reads `paths` (methods, `x-amazon-apigateway-any-method`, parameters, request bodies,
//! responses, `security`), `x-amazon-apigateway-integration`,
//! `x-amazon-apigateway-request-validators` / `-request-validator`,
//! `x-amazon-apigateway-gateway-responses`, `x-amazon-apigateway-api-key-source` and
//! `x-amazon-apigateway-binary-media-types`. The document given here has its
//! CloudFormation intrinsics already resolved. Every problem becomes a [`Diagnostic`]
//! with the JSON pointer of the offending node; building goes on so all are reported.

use std::collections::HashMap;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

use crate::config::diagnostic::{Diagnostic, ErrorKind};
use crate::config::document::{join_pointer, Document};
use crate::config::lint;
use crate::config::model::*;
use crate::config::parameters::{parse_request_target, parse_source};
use crate::config::selection::SelectionPattern;
use crate::vtl;

const HTTP_METHODS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

/// The Step Functions actions an `aws` integration may name.
pub(crate) const STEP_FUNCTIONS_ACTIONS: &[&str] = &[
    "CreateActivity", "CreateStateMachine", "CreateStateMachineAlias", "DeleteActivity",
    "DeleteStateMachine", "DeleteStateMachineAlias", "DeleteStateMachineVersion", "DescribeActivity",
    "DescribeExecution", "DescribeMapRun", "DescribeStateMachine", "DescribeStateMachineAlias",
    "DescribeStateMachineForExecution", "GetActivityTask", "GetExecutionHistory", "ListActivities",
    "ListExecutions", "ListMapRuns", "ListStateMachineAliases", "ListStateMachineVersions",
    "ListStateMachines", "ListTagsForResource", "PublishStateMachineVersion", "RedriveExecution",
    "SendTaskFailure", "SendTaskHeartbeat", "SendTaskSuccess", "StartExecution", "StartSyncExecution",
    "StopExecution", "TagResource", "TestState", "UntagResource", "UpdateMapRun", "UpdateStateMachine",
    "UpdateStateMachineAlias", "ValidateStateMachineDefinition",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    Swagger2,
    OpenApi3,
}

/// Builds an [`Api`] from a resolved OpenAPI/Swagger document found at `base` in `doc`.
pub(crate) struct Builder<'a> {
    doc: &'a Document,
    root: &'a Value,
    base: String,
    version: Version,
    default_timeout: Duration,
    pub(crate) diagnostics: Vec<Diagnostic>,
    models: HashMap<String, Option<Model>>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(doc: &'a Document, root: &'a Value, base: &str, default_timeout: Duration) -> Builder<'a> {
        let version = if root.get("swagger").is_some() { Version::Swagger2 } else { Version::OpenApi3 };
        Builder {
            doc,
            root,
            base: base.to_string(),
            version,
            default_timeout,
            diagnostics: Vec::new(),
            models: HashMap::new(),
        }
    }

    fn at(&self, rel: &str) -> String {
        format!("{}{}", self.base, rel)
    }

    fn error(&mut self, kind: ErrorKind, rel: &str, message: impl Into<String>) {
        let d = Diagnostic::error(kind, &self.doc.path, &self.at(rel), message);
        self.diagnostics.push(self.doc.diagnostic(d));
    }

    fn warn(&mut self, kind: ErrorKind, rel: &str, message: impl Into<String>) {
        let d = Diagnostic::warning(kind, &self.doc.path, &self.at(rel), message);
        self.diagnostics.push(self.doc.diagnostic(d));
    }

    /// Follows a local `$ref` (`#/components/...`), returning the target and its pointer.
    fn deref<'v>(&mut self, value: &'v Value, rel: &str) -> Option<(&'v Value, String)>
    where
        'a: 'v,
    {
        let mut current = value;
        let mut pointer = rel.to_string();
        for _ in 0..16 {
            let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
                return Some((current, pointer));
            };
            let Some(target) = reference.strip_prefix('#') else {
                self.error(ErrorKind::Unsupported, &join_pointer(&pointer, "$ref"), format!("only local references are supported, not `{reference}`"));
                return None;
            };
            match self.root.pointer(target) {
                Some(v) => {
                    current = v;
                    pointer = target.to_string();
                }
                None => {
                    self.error(ErrorKind::InvalidValue, &join_pointer(&pointer, "$ref"), format!("`{reference}` points at nothing"));
                    return None;
                }
            }
        }
        self.error(ErrorKind::InvalidValue, rel, "`$ref` chain is too long (a cycle?)");
        None
    }

    /// Builds the API. Stage fields are filled by the caller.
    pub(crate) fn build(mut self) -> (Api, Vec<Diagnostic>) {
        let root = self.root;
        if !root.is_object() {
            self.error(ErrorKind::InvalidValue, "", "an OpenAPI document must be a mapping");
            return (empty_api(), self.diagnostics);
        }
        if root.get("swagger").is_none() && root.get("openapi").is_none() {
            self.error(ErrorKind::Missing, "", "neither `openapi: 3.0.x` nor `swagger: '2.0'`: not an OpenAPI document");
        }
        let validators = self.validators();
        let default_validator = match root.get("x-amazon-apigateway-request-validator") {
            Some(Value::String(name)) => self.find_validator(&validators, name, "/x-amazon-apigateway-request-validator"),
            Some(_) => {
                self.error(ErrorKind::InvalidValue, "/x-amazon-apigateway-request-validator", "must be a validator name");
                None
            }
            None => None,
        };
        let root_security = root.get("security").cloned();

        let mut routes = Vec::new();
        if let Some(paths) = root.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let item_ptr = join_pointer("/paths", path);
                if !path.starts_with('/') {
                    self.error(ErrorKind::InvalidValue, &item_ptr, format!("path `{path}` must start with `/`"));
                    continue;
                }
                let Some((item, item_ptr)) = self.deref(item, &item_ptr) else { continue };
                let Some(item_map) = item.as_object() else {
                    self.error(ErrorKind::InvalidValue, &item_ptr, "a path item must be a mapping");
                    continue;
                };
                let path_params = item_map.get("parameters").cloned();
                for (key, http_method) in HTTP_METHODS {
                    let Some(op) = item_map.get(*key) else { continue };
                    let op_ptr = join_pointer(&item_ptr, key);
                    let ctx = OperationContext {
                        path,
                        http_method,
                        path_params: path_params.as_ref(),
                        path_params_ptr: join_pointer(&item_ptr, "parameters"),
                        validators: &validators,
                        default_validator: default_validator.as_ref(),
                        root_security: root_security.as_ref(),
                    };
                    if let Some(method) = self.method(op, &op_ptr, &ctx) {
                        routes.push(Route { path_template: path.clone(), http_method: http_method.to_string(), method });
                    }
                }
            }
        } else {
            self.error(ErrorKind::Missing, "/paths", "the document has no `paths`");
        }

        let gateway_responses = self.gateway_responses();
        let api_key_source = match root.get("x-amazon-apigateway-api-key-source").and_then(Value::as_str) {
            None => ApiKeySource::Header,
            Some(s) if s.eq_ignore_ascii_case("HEADER") => ApiKeySource::Header,
            Some(s) if s.eq_ignore_ascii_case("AUTHORIZER") => ApiKeySource::Authorizer,
            Some(s) => {
                self.error(ErrorKind::InvalidValue, "/x-amazon-apigateway-api-key-source", format!("`{s}` is neither HEADER nor AUTHORIZER"));
                ApiKeySource::Header
            }
        };
        let binary_media_types = root
            .get("x-amazon-apigateway-binary-media-types")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let api = Api {
            title: root.pointer("/info/title").and_then(Value::as_str).map(str::to_string),
            routes,
            gateway_responses,
            api_key_source,
            binary_media_types,
            ..empty_api()
        };
        (api, self.diagnostics)
    }

    fn validators(&mut self) -> IndexMap<String, RequestValidator> {
        let mut out = IndexMap::new();
        let Some(map) = self.root.get("x-amazon-apigateway-request-validators") else { return out };
        let Some(map) = map.as_object() else {
            self.error(ErrorKind::InvalidValue, "/x-amazon-apigateway-request-validators", "must be a mapping of validator names");
            return out;
        };
        for (name, v) in map {
            let ptr = join_pointer("/x-amazon-apigateway-request-validators", name);
            let flag = |key: &str| v.get(key).and_then(Value::as_bool).unwrap_or(false);
            if !v.is_object() {
                self.error(ErrorKind::InvalidValue, &ptr, "a validator must be a mapping");
                continue;
            }
            out.insert(
                name.clone(),
                RequestValidator {
                    name: name.clone(),
                    validate_request_body: flag("validateRequestBody"),
                    validate_request_parameters: flag("validateRequestParameters"),
                },
            );
        }
        out
    }

    fn find_validator(&mut self, validators: &IndexMap<String, RequestValidator>, name: &str, rel: &str) -> Option<RequestValidator> {
        match validators.get(name) {
            Some(v) => Some(v.clone()),
            None => {
                let known: Vec<&str> = validators.keys().map(String::as_str).collect();
                self.error(ErrorKind::InvalidValue, rel, format!("no request validator named `{name}` (defined: {known:?})"));
                None
            }
        }
    }

    fn method(&mut self, op: &Value, op_ptr: &str, ctx: &OperationContext<'_>) -> Option<Method> {
        let Some((op, op_ptr)) = self.deref(op, op_ptr) else { return None };
        if !op.is_object() {
            self.error(ErrorKind::InvalidValue, &op_ptr, "an operation must be a mapping");
            return None;
        }
        let request_validator = match op.get("x-amazon-apigateway-request-validator") {
            Some(Value::String(name)) => {
                self.find_validator(ctx.validators, name, &join_pointer(&op_ptr, "x-amazon-apigateway-request-validator"))
            }
            Some(_) => {
                self.error(ErrorKind::InvalidValue, &join_pointer(&op_ptr, "x-amazon-apigateway-request-validator"), "must be a validator name");
                None
            }
            None => ctx.default_validator.cloned(),
        };
        let request_parameters = self.parameters(op, &op_ptr, ctx);
        let request_models = self.request_models(op, &op_ptr);
        let api_key_required = self.api_key_required(op.get("security").or(ctx.root_security), &op_ptr);
        let method_responses = self.method_responses(op, &op_ptr);
        let integration_ptr = join_pointer(&op_ptr, "x-amazon-apigateway-integration");
        let integration = match op.get("x-amazon-apigateway-integration") {
            Some(v) => self.integration(v, &integration_ptr, &format!("{} {}", ctx.http_method, ctx.path))?,
            None => {
                self.error(
                    ErrorKind::Missing,
                    &op_ptr,
                    format!("{} {} has no x-amazon-apigateway-integration", ctx.http_method, ctx.path),
                );
                return None;
            }
        };
        for (i, response) in integration.responses.iter().enumerate() {
            if !method_responses.is_empty() && !method_responses.contains_key(&response.status_code) {
                let _ = i;
                self.warn(
                    ErrorKind::InvalidValue,
                    &join_pointer(&integration_ptr, "responses"),
                    format!(
                        "integration response selects status {} but the method declares no {} response (API Gateway answers 500)",
                        response.status_code, response.status_code
                    ),
                );
            }
        }
        Some(Method {
            operation_name: op.get("operationId").and_then(Value::as_str).map(str::to_string),
            api_key_required,
            request_validator,
            request_parameters,
            request_models,
            integration,
            method_responses,
        })
    }

    fn parameters(&mut self, op: &Value, op_ptr: &str, ctx: &OperationContext<'_>) -> Vec<MethodRequestParameter> {
        let mut found: Vec<MethodRequestParameter> = Vec::new();
        let lists = [
            (ctx.path_params, ctx.path_params_ptr.clone()),
            (op.get("parameters"), join_pointer(op_ptr, "parameters")),
        ];
        for (list, list_ptr) in lists {
            let Some(list) = list else { continue };
            let Some(items) = list.as_array() else {
                self.error(ErrorKind::InvalidValue, &list_ptr, "`parameters` must be a list");
                continue;
            };
            for (i, p) in items.iter().enumerate() {
                let Some((p, p_ptr)) = self.deref(p, &format!("{list_ptr}/{i}")) else { continue };
                let name = p.get("name").and_then(Value::as_str);
                let location = match p.get("in").and_then(Value::as_str) {
                    Some("header") => Some(ParameterLocation::Header),
                    Some("path") => Some(ParameterLocation::Path),
                    Some("query") => Some(ParameterLocation::QueryString),
                    Some("body") | Some("formData") | Some("cookie") => None,
                    other => {
                        self.error(ErrorKind::InvalidValue, &join_pointer(&p_ptr, "in"), format!("unknown parameter location {other:?}"));
                        None
                    }
                };
                let (Some(name), Some(location)) = (name, location) else {
                    if name.is_none() {
                        self.error(ErrorKind::Missing, &p_ptr, "a parameter needs a `name`");
                    }
                    continue;
                };
                let required = location == ParameterLocation::Path || p.get("required").and_then(Value::as_bool).unwrap_or(false);
                let parameter = MethodRequestParameter { location, name: name.to_string(), required };
                match found.iter_mut().find(|f| f.location == location && f.name == name) {
                    Some(existing) => *existing = parameter,
                    None => found.push(parameter),
                }
            }
        }
        // API Gateway reports missing parameters headers first, then path, then query string
        found.sort_by_key(|p| p.location);
        found
    }

    fn request_models(&mut self, op: &Value, op_ptr: &str) -> IndexMap<String, Model> {
        let mut out = IndexMap::new();
        match self.version {
            Version::OpenApi3 => {
                let Some(body) = op.get("requestBody") else { return out };
                let Some((body, body_ptr)) = self.deref(body, &join_pointer(op_ptr, "requestBody")) else { return out };
                let Some(content) = body.get("content").and_then(Value::as_object) else { return out };
                for (mime, media) in content {
                    let Some(schema) = media.get("schema") else { continue };
                    let ptr = join_pointer(&join_pointer(&join_pointer(&body_ptr, "content"), mime), "schema");
                    if let Some(model) = self.model(schema, &ptr) {
                        out.insert(mime.to_ascii_lowercase(), model);
                    }
                }
            }
            Version::Swagger2 => {
                let Some(params) = op.get("parameters").and_then(Value::as_array) else { return out };
                for (i, p) in params.iter().enumerate() {
                    let Some((p, p_ptr)) = self.deref(p, &format!("{}/{i}", join_pointer(op_ptr, "parameters"))) else { continue };
                    if p.get("in").and_then(Value::as_str) != Some("body") {
                        continue;
                    }
                    let Some(schema) = p.get("schema") else { continue };
                    let consumes = op.get("consumes").or_else(|| self.root.get("consumes"));
                    let mimes: Vec<String> = consumes
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_ascii_lowercase)).collect())
                        .filter(|v: &Vec<String>| !v.is_empty())
                        .unwrap_or_else(|| vec!["application/json".to_string()]);
                    if let Some(model) = self.model(schema, &join_pointer(&p_ptr, "schema")) {
                        for mime in mimes {
                            out.insert(mime, model.clone());
                        }
                    }
                }
            }
        }
        out
    }

    /// The named models, keyed by name, with `$ref`s rewritten to `#/definitions/{name}`.
    fn all_models(&self) -> serde_json::Map<String, Value> {
        let section = match self.version {
            Version::OpenApi3 => self.root.pointer("/components/schemas"),
            Version::Swagger2 => self.root.get("definitions"),
        };
        section
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), rewrite_refs(v))).collect())
            .unwrap_or_default()
    }

    fn model(&mut self, schema: &Value, ptr: &str) -> Option<Model> {
        let (name, body, body_ptr) = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = model_name(reference).unwrap_or(reference).to_string();
                if let Some(cached) = self.models.get(&name) {
                    return cached.clone();
                }
                let Some((target, target_ptr)) = self.deref(schema, ptr) else {
                    self.models.insert(name, None);
                    return None;
                };
                (name, target.clone(), target_ptr)
            }
            None => ("inline".to_string(), schema.clone(), ptr.to_string()),
        };
        let mut compiled = rewrite_refs(&body);
        if let Value::Object(map) = &mut compiled {
            let mut definitions = self.all_models();
            if let Some(Value::Object(own)) = map.get("definitions") {
                for (k, v) in own {
                    definitions.insert(k.clone(), v.clone());
                }
            }
            map.insert("definitions".to_string(), Value::Object(definitions));
        }
        let model = match jsonschema::draft4::new(&compiled) {
            Ok(validator) => Some(Model::new(name.clone(), compiled, validator)),
            Err(e) => {
                self.error(ErrorKind::Schema, &body_ptr, format!("model `{name}` is not a valid JSON Schema draft 4: {e}"));
                None
            }
        };
        if name != "inline" {
            self.models.insert(name, model.clone());
        }
        model
    }

    fn api_key_required(&mut self, security: Option<&Value>, op_ptr: &str) -> bool {
        let Some(requirements) = security.and_then(Value::as_array) else { return false };
        let schemes = match self.version {
            Version::OpenApi3 => self.root.pointer("/components/securitySchemes"),
            Version::Swagger2 => self.root.get("securityDefinitions"),
        };
        for requirement in requirements {
            let Some(names) = requirement.as_object() else { continue };
            for name in names.keys() {
                let Some(scheme) = schemes.and_then(|s| s.get(name)) else {
                    self.error(ErrorKind::InvalidValue, &join_pointer(op_ptr, "security"), format!("security scheme `{name}` is not defined"));
                    continue;
                };
                let is_api_key = scheme.get("type").and_then(Value::as_str) == Some("apiKey")
                    && scheme.get("in").and_then(Value::as_str) == Some("header")
                    && scheme.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case("x-api-key"));
                if is_api_key {
                    return true;
                }
            }
        }
        false
    }

    fn method_responses(&mut self, op: &Value, op_ptr: &str) -> IndexMap<u16, MethodResponse> {
        let mut out = IndexMap::new();
        let Some(responses) = op.get("responses").and_then(Value::as_object) else { return out };
        for (status, response) in responses {
            let ptr = join_pointer(&join_pointer(op_ptr, "responses"), status);
            let Ok(code) = status.parse::<u16>() else {
                if status != "default" {
                    self.error(ErrorKind::InvalidValue, &ptr, format!("`{status}` is not a status code"));
                }
                continue;
            };
            let Some((response, _)) = self.deref(response, &ptr) else { continue };
            let headers = response
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| h.keys().cloned().collect())
                .unwrap_or_default();
            out.insert(code, MethodResponse { headers });
        }
        out
    }

    fn integration(&mut self, v: &Value, ptr: &str, route: &str) -> Option<Integration> {
        if !v.is_object() {
            self.error(ErrorKind::InvalidValue, ptr, "x-amazon-apigateway-integration must be a mapping");
            return None;
        }
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let kind = match text("type").map(|t| t.to_ascii_lowercase()).as_deref() {
            Some("aws") => self.aws_uri(text("uri"), &join_pointer(ptr, "uri")),
            Some("mock") => Some(IntegrationType::Mock),
            Some("http") => match text("uri") {
                Some(uri) if uri.starts_with("http://") || uri.starts_with("https://") => Some(IntegrationType::Http {
                    uri,
                    http_method: text("httpMethod").unwrap_or_else(|| "GET".into()).to_ascii_uppercase(),
                }),
                Some(uri) => {
                    self.error(ErrorKind::Uri, &join_pointer(ptr, "uri"), format!("`{uri}` is not an http(s) URL"));
                    None
                }
                None => {
                    self.error(ErrorKind::Missing, ptr, "an http integration needs a `uri`");
                    None
                }
            },
            Some(other @ ("aws_proxy" | "http_proxy")) => {
                self.error(ErrorKind::Unsupported, &join_pointer(ptr, "type"), format!("integration type `{other}` is not supported (stepgate serves non-proxy aws, http and mock integrations)"));
                None
            }
            Some(other) => {
                self.error(ErrorKind::InvalidValue, &join_pointer(ptr, "type"), format!("unknown integration type `{other}`"));
                None
            }
            None => {
                self.error(ErrorKind::Missing, ptr, "the integration has no `type`");
                None
            }
        };
        let request_templates = self.templates(v.get("requestTemplates"), &join_pointer(ptr, "requestTemplates"), route, "request");
        let passthrough_behavior = match text("passthroughBehavior").map(|t| t.to_ascii_uppercase()).as_deref() {
            None | Some("WHEN_NO_MATCH") => PassthroughBehavior::WhenNoMatch,
            Some("WHEN_NO_TEMPLATES") => PassthroughBehavior::WhenNoTemplates,
            Some("NEVER") => PassthroughBehavior::Never,
            Some(other) => {
                self.error(ErrorKind::InvalidValue, &join_pointer(ptr, "passthroughBehavior"), format!("`{other}` is not WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER"));
                PassthroughBehavior::WhenNoMatch
            }
        };
        let mut request_parameters = Vec::new();
        if let Some(map) = v.get("requestParameters").and_then(Value::as_object) {
            let base = join_pointer(ptr, "requestParameters");
            for (target, source) in map {
                let p = join_pointer(&base, target);
                let target = match parse_request_target(target) {
                    Ok(t) => t,
                    Err(message) => {
                        self.error(ErrorKind::InvalidValue, &p, message);
                        continue;
                    }
                };
                match source.as_str().map(parse_source) {
                    Some(Ok(ParameterSource::IntegrationResponseHeader(_) | ParameterSource::IntegrationResponseMultiValueHeader(_) | ParameterSource::IntegrationResponseBody(_))) => {
                        self.error(ErrorKind::InvalidValue, &p, "an integration request cannot read `integration.response.*`");
                    }
                    Some(Ok(s)) => request_parameters.push((target, s)),
                    Some(Err(message)) => self.error(ErrorKind::InvalidValue, &p, message),
                    None => self.error(ErrorKind::InvalidValue, &p, "a parameter mapping must be a string"),
                }
            }
        }
        let timeout = match v.get("timeoutInMillis") {
            None => self.default_timeout,
            Some(t) => {
                let millis = t.as_u64().or_else(|| t.as_str().and_then(|s| s.parse().ok()));
                match millis {
                    Some(ms) if ms >= 50 => Duration::from_millis(ms),
                    _ => {
                        self.error(ErrorKind::InvalidValue, &join_pointer(ptr, "timeoutInMillis"), "timeoutInMillis must be a whole number of milliseconds, at least 50");
                        self.default_timeout
                    }
                }
            }
        };
        let content_handling = self.content_handling(v, ptr);
        let responses = self.integration_responses(v.get("responses"), &join_pointer(ptr, "responses"), kind.as_ref(), route);
        let kind = kind?;
        Some(Integration {
            kind,
            credentials: text("credentials"),
            request_templates,
            passthrough_behavior,
            request_parameters,
            responses,
            timeout,
            content_handling,
        })
    }

    fn content_handling(&mut self, v: &Value, ptr: &str) -> Option<ContentHandling> {
        match v.get("contentHandling").and_then(Value::as_str) {
            None => None,
            Some("CONVERT_TO_BINARY") => Some(ContentHandling::ConvertToBinary),
            Some("CONVERT_TO_TEXT") => Some(ContentHandling::ConvertToText),
            Some(other) => {
                self.error(ErrorKind::InvalidValue, &join_pointer(ptr, "contentHandling"), format!("`{other}` is not CONVERT_TO_BINARY or CONVERT_TO_TEXT"));
                None
            }
        }
    }

    fn aws_uri(&mut self, uri: Option<String>, ptr: &str) -> Option<IntegrationType> {
        let Some(uri) = uri else {
            self.error(ErrorKind::Missing, ptr, "an aws integration needs a `uri`");
            return None;
        };
        match parse_aws_uri(&uri) {
            Ok(kind) => {
                if let IntegrationType::Aws { service, action, .. } = &kind {
                    if service != "states" {
                        self.warn(ErrorKind::Unsupported, ptr, format!("stepgate calls only Step Functions (`states`); requests to this `{service}` integration will fail with 500"));
                    }
                    if service == "states" && !STEP_FUNCTIONS_ACTIONS.contains(&action.as_str()) {
                        self.error(ErrorKind::Uri, ptr, format!("`{action}` is not a Step Functions action"));
                        return None;
                    }
                }
                Some(kind)
            }
            Err(message) => {
                self.error(ErrorKind::Uri, ptr, message);
                None
            }
        }
    }

    fn templates(&mut self, v: Option<&Value>, ptr: &str, route: &str, which: &str) -> IndexMap<String, vtl::Template> {
        let mut out = IndexMap::new();
        let Some(v) = v else { return out };
        let Some(map) = v.as_object() else {
            self.error(ErrorKind::InvalidValue, ptr, "templates must be a mapping of content type to template");
            return out;
        };
        for (mime, source) in map {
            let tptr = join_pointer(ptr, mime);
            let source = match source {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                _ => {
                    self.error(ErrorKind::InvalidValue, &tptr, "a template must be a string");
                    continue;
                }
            };
            let name = format!("{}#{}", self.doc.path.display(), self.at(&tptr));
            match vtl::Template::parse(&name, &source) {
                Ok(template) => {
                    for (line, col, message) in lint::escape_javascript_without_fix(&source) {
                        let mut d = Diagnostic::warning(
                            ErrorKind::EscapeJavaScript,
                            &self.doc.path,
                            &self.at(&tptr),
                            format!("{which} template `{mime}` of {route}, template line {line}:{col}: {message}"),
                        );
                        if let Some((l, c)) = self.doc.template_origin(&self.at(&tptr), &source) {
                            d.position = Some((l + line - 1, c + col - 1));
                            d.source_text = Some(self.doc.text.clone());
                        }
                        d = self.doc.diagnostic(d);
                        self.diagnostics.push(d);
                    }
                    out.insert(mime.to_ascii_lowercase(), template);
                }
                Err(e) => {
                    let mut d = Diagnostic::error(
                        ErrorKind::Template,
                        &self.doc.path,
                        &self.at(&tptr),
                        format!("{which} template `{mime}` of {route} does not parse: {e}"),
                    );
                    d.template_error = Some(e);
                    self.diagnostics.push(self.doc.diagnostic(d));
                }
            }
        }
        out
    }

    fn integration_responses(&mut self, v: Option<&Value>, ptr: &str, kind: Option<&IntegrationType>, route: &str) -> Vec<IntegrationResponse> {
        let mut out = Vec::new();
        let Some(v) = v else { return out };
        let Some(map) = v.as_object() else {
            self.error(ErrorKind::InvalidValue, ptr, "`responses` must be a mapping of selection pattern to response");
            return out;
        };
        for (key, response) in map {
            let rptr = join_pointer(ptr, key);
            let selection_pattern = if key == "default" || key.is_empty() {
                None
            } else {
                match SelectionPattern::new(key) {
                    Ok(p) => {
                        if !p.can_match_status_code() && !matches!(kind, Some(IntegrationType::Aws { service, .. }) if service == "lambda") {
                            self.warn(
                                ErrorKind::NonPortable,
                                &rptr,
                                format!(
                                    "selection pattern `{key}` matches no HTTP status code, so API Gateway would never select it; \
                                     stepgate matches it against Step Functions error text (not portable; off with `selection: aws-strict`)"
                                ),
                            );
                        }
                        Some(p)
                    }
                    Err(e) => {
                        self.error(ErrorKind::Pattern, &rptr, format!("selection pattern `{key}` does not compile: {e}"));
                        continue;
                    }
                }
            };
            if !response.is_object() {
                self.error(ErrorKind::InvalidValue, &rptr, "an integration response must be a mapping");
                continue;
            }
            let status = response.get("statusCode");
            let status_code = status.and_then(|s| s.as_u64().or_else(|| s.as_str().and_then(|t| t.parse().ok())));
            let status_code = match status_code {
                Some(c @ 100..=599) => c as u16,
                _ => {
                    self.error(ErrorKind::InvalidValue, &join_pointer(&rptr, "statusCode"), "statusCode must be an HTTP status code (100-599)");
                    continue;
                }
            };
            let mut response_parameters = Vec::new();
            if let Some(params) = response.get("responseParameters").and_then(Value::as_object) {
                let base = join_pointer(&rptr, "responseParameters");
                for (target, source) in params {
                    let p = join_pointer(&base, target);
                    let Some(header) = target.strip_prefix("method.response.header.").filter(|h| !h.is_empty()) else {
                        self.error(ErrorKind::InvalidValue, &p, format!("`{target}` is not `method.response.header.NAME`"));
                        continue;
                    };
                    match source.as_str().map(parse_source) {
                        Some(Ok(s)) => response_parameters.push((header.to_string(), s)),
                        Some(Err(message)) => self.error(ErrorKind::InvalidValue, &p, message),
                        None => self.error(ErrorKind::InvalidValue, &p, "a parameter mapping must be a string"),
                    }
                }
            }
            let response_templates = self.templates(response.get("responseTemplates"), &join_pointer(&rptr, "responseTemplates"), route, "response");
            let content_handling = self.content_handling(response, &rptr);
            out.push(IntegrationResponse { selection_pattern, status_code, response_parameters, response_templates, content_handling });
        }
        out
    }

    fn gateway_responses(&mut self) -> IndexMap<GatewayResponseType, GatewayResponse> {
        let mut out = IndexMap::new();
        let base = "/x-amazon-apigateway-gateway-responses";
        let Some(map) = self.root.get("x-amazon-apigateway-gateway-responses") else { return out };
        let Some(map) = map.as_object() else {
            self.error(ErrorKind::InvalidValue, base, "must be a mapping of gateway response types");
            return out;
        };
        for (name, v) in map {
            let ptr = join_pointer(base, name);
            let Some(response_type) = GatewayResponseType::from_name(name) else {
                self.error(ErrorKind::InvalidValue, &ptr, format!("`{name}` is not a gateway response type"));
                continue;
            };
            let status_code = match v.get("statusCode") {
                None => None,
                Some(s) => match s.as_u64().or_else(|| s.as_str().and_then(|t| t.parse().ok())) {
                    Some(c @ 100..=599) => Some(c as u16),
                    _ => {
                        self.error(ErrorKind::InvalidValue, &join_pointer(&ptr, "statusCode"), "statusCode must be an HTTP status code (100-599)");
                        None
                    }
                },
            };
            let mut response_parameters = Vec::new();
            if let Some(params) = v.get("responseParameters").and_then(Value::as_object) {
                for (target, source) in params {
                    let p = join_pointer(&join_pointer(&ptr, "responseParameters"), target);
                    let Some(header) = target.strip_prefix("gatewayresponse.header.").filter(|h| !h.is_empty()) else {
                        self.error(ErrorKind::InvalidValue, &p, format!("`{target}` is not `gatewayresponse.header.NAME`"));
                        continue;
                    };
                    match source.as_str().map(parse_source) {
                        Some(Ok(s)) => response_parameters.push((header.to_string(), s)),
                        Some(Err(message)) => self.error(ErrorKind::InvalidValue, &p, message),
                        None => self.error(ErrorKind::InvalidValue, &p, "a parameter mapping must be a string"),
                    }
                }
            }
            let response_templates = v
                .get("responseTemplates")
                .and_then(Value::as_object)
                .map(|m| m.iter().filter_map(|(k, t)| t.as_str().map(|t| (k.to_ascii_lowercase(), t.to_string()))).collect())
                .unwrap_or_default();
            out.insert(response_type, GatewayResponse { response_type, status_code, response_parameters, response_templates });
        }
        out
    }
}

struct OperationContext<'c> {
    path: &'c str,
    http_method: &'c str,
    path_params: Option<&'c Value>,
    path_params_ptr: String,
    validators: &'c IndexMap<String, RequestValidator>,
    default_validator: Option<&'c RequestValidator>,
    root_security: Option<&'c Value>,
}

/// An API with no routes and default settings.
pub(crate) fn empty_api() -> Api {
    Api {
        title: None,
        routes: Vec::new(),
        gateway_responses: IndexMap::new(),
        api_key_source: ApiKeySource::Header,
        api_keys: Vec::new(),
        binary_media_types: Vec::new(),
        stage: "local".to_string(),
        stage_in_path: false,
        stage_variables: IndexMap::new(),
        selection_mode: SelectionMode::Extended,
    }
}

/// `arn:aws:apigateway:{region}:{service}:action/{Action}` (or `:path/...`).
pub(crate) fn parse_aws_uri(uri: &str) -> Result<IntegrationType, String> {
    let bad = || format!("`{uri}` is not an API Gateway AWS integration URI (arn:aws:apigateway:REGION:SERVICE:action/ACTION)");
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "apigateway" || parts[3].is_empty() {
        return Err(bad());
    }
    let region = parts[3].to_string();
    let service = parts[4].rsplit('.').next().unwrap_or(parts[4]).to_string();
    let rest = parts[5];
    if let Some(action) = rest.strip_prefix("action/") {
        let action = action.split(['&', '?']).next().unwrap_or(action);
        if action.is_empty() {
            return Err(bad());
        }
        return Ok(IntegrationType::Aws { service, region, action: action.to_string() });
    }
    if rest.starts_with("path/") && service != "states" {
        return Ok(IntegrationType::Aws { service, region, action: rest.to_string() });
    }
    Err(bad())
}

/// The model name a `$ref` names (`#/components/schemas/X`, `#/definitions/X`, or API
/// Gateway's `https://apigateway.amazonaws.com/restapis/{id}/models/X`).
fn model_name(reference: &str) -> Option<&str> {
    for prefix in ["#/components/schemas/", "#/definitions/"] {
        if let Some(name) = reference.strip_prefix(prefix) {
            return Some(name);
        }
    }
    if reference.starts_with("https://apigateway.amazonaws.com/restapis/") {
        return reference.rsplit_once("/models/").map(|(_, n)| n);
    }
    None
}

fn rewrite_refs(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if k == "$ref" {
                        if let Some(name) = v.as_str().and_then(model_name) {
                            return (k.clone(), Value::String(format!("#/definitions/{name}")));
                        }
                    }
                    (k.clone(), rewrite_refs(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(rewrite_refs).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_uri_forms() {
        assert_eq!(
            parse_aws_uri("arn:aws:apigateway:us-east-1:states:action/StartExecution").unwrap(),
            IntegrationType::Aws { service: "states".into(), region: "us-east-1".into(), action: "StartExecution".into() }
        );
        assert!(parse_aws_uri("arn:aws:apigateway::states:action/StartExecution").is_err());
        assert!(parse_aws_uri("states:StartExecution").is_err());
        assert!(parse_aws_uri("arn:aws:apigateway:us-east-1:states:path/x").is_err());
    }

    #[test]
    fn model_refs_are_rewritten_to_definitions() {
        let v = serde_json::json!({"properties": {"a": {"$ref": "#/components/schemas/A"},
            "b": {"$ref": "https://apigateway.amazonaws.com/restapis/abc/models/B"}}});
        assert_eq!(
            rewrite_refs(&v),
            serde_json::json!({"properties": {"a": {"$ref": "#/definitions/A"}, "b": {"$ref": "#/definitions/B"}}})
        );
    }
}
