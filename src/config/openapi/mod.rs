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
use crate::config::document::{Document, join_pointer};
use crate::config::model::*;

mod integration;
mod models;

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
    pub(crate) fn new(
        doc: &'a Document,
        root: &'a Value,
        base: &str,
        default_timeout: Duration,
    ) -> Builder<'a> {
        let version = if root.get("swagger").is_some() {
            Version::Swagger2
        } else {
            Version::OpenApi3
        };
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
                self.error(
                    ErrorKind::Unsupported,
                    &join_pointer(&pointer, "$ref"),
                    format!("only local references are supported, not `{reference}`"),
                );
                return None;
            };
            match self.root.pointer(target) {
                Some(v) => {
                    current = v;
                    pointer = target.to_string();
                }
                None => {
                    self.error(
                        ErrorKind::InvalidValue,
                        &join_pointer(&pointer, "$ref"),
                        format!("`{reference}` points at nothing"),
                    );
                    return None;
                }
            }
        }
        self.error(
            ErrorKind::InvalidValue,
            rel,
            "`$ref` chain is too long (a cycle?)",
        );
        None
    }

    /// Builds the API. Stage fields are filled by the caller.
    pub(crate) fn build(mut self) -> (Api, Vec<Diagnostic>) {
        let root = self.root;
        if !root.is_object() {
            self.error(
                ErrorKind::InvalidValue,
                "",
                "an OpenAPI document must be a mapping",
            );
            return (empty_api(), self.diagnostics);
        }
        if root.get("swagger").is_none() && root.get("openapi").is_none() {
            self.error(
                ErrorKind::Missing,
                "",
                "neither `openapi: 3.0.x` nor `swagger: '2.0'`: not an OpenAPI document",
            );
        }
        let validators = self.validators();
        let default_validator = match root.get("x-amazon-apigateway-request-validator") {
            Some(Value::String(name)) => {
                self.find_validator(&validators, name, "/x-amazon-apigateway-request-validator")
            }
            Some(_) => {
                self.error(
                    ErrorKind::InvalidValue,
                    "/x-amazon-apigateway-request-validator",
                    "must be a validator name",
                );
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
                    self.error(
                        ErrorKind::InvalidValue,
                        &item_ptr,
                        format!("path `{path}` must start with `/`"),
                    );
                    continue;
                }
                let Some((item, item_ptr)) = self.deref(item, &item_ptr) else {
                    continue;
                };
                let Some(item_map) = item.as_object() else {
                    self.error(
                        ErrorKind::InvalidValue,
                        &item_ptr,
                        "a path item must be a mapping",
                    );
                    continue;
                };
                let path_params = item_map.get("parameters").cloned();
                for (key, http_method) in HTTP_METHODS {
                    let Some(op) = item_map.get(*key) else {
                        continue;
                    };
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
                        routes.push(Route {
                            path_template: path.clone(),
                            http_method: http_method.to_string(),
                            method,
                        });
                    }
                }
            }
        } else {
            self.error(ErrorKind::Missing, "/paths", "the document has no `paths`");
        }

        let gateway_responses = self.gateway_responses();
        let api_key_source = match root
            .get("x-amazon-apigateway-api-key-source")
            .and_then(Value::as_str)
        {
            None => ApiKeySource::Header,
            Some(s) if s.eq_ignore_ascii_case("HEADER") => ApiKeySource::Header,
            Some(s) if s.eq_ignore_ascii_case("AUTHORIZER") => ApiKeySource::Authorizer,
            Some(s) => {
                self.error(
                    ErrorKind::InvalidValue,
                    "/x-amazon-apigateway-api-key-source",
                    format!("`{s}` is neither HEADER nor AUTHORIZER"),
                );
                ApiKeySource::Header
            }
        };
        let binary_media_types = root
            .get("x-amazon-apigateway-binary-media-types")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let api = Api {
            title: root
                .pointer("/info/title")
                .and_then(Value::as_str)
                .map(str::to_string),
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
        let Some(map) = self.root.get("x-amazon-apigateway-request-validators") else {
            return out;
        };
        let Some(map) = map.as_object() else {
            self.error(
                ErrorKind::InvalidValue,
                "/x-amazon-apigateway-request-validators",
                "must be a mapping of validator names",
            );
            return out;
        };
        for (name, v) in map {
            let ptr = join_pointer("/x-amazon-apigateway-request-validators", name);
            let flag = |key: &str| v.get(key).and_then(Value::as_bool).unwrap_or(false);
            if !v.is_object() {
                self.error(
                    ErrorKind::InvalidValue,
                    &ptr,
                    "a validator must be a mapping",
                );
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

    fn find_validator(
        &mut self,
        validators: &IndexMap<String, RequestValidator>,
        name: &str,
        rel: &str,
    ) -> Option<RequestValidator> {
        match validators.get(name) {
            Some(v) => Some(v.clone()),
            None => {
                let known: Vec<&str> = validators.keys().map(String::as_str).collect();
                self.error(
                    ErrorKind::InvalidValue,
                    rel,
                    format!("no request validator named `{name}` (defined: {known:?})"),
                );
                None
            }
        }
    }

    fn method(&mut self, op: &Value, op_ptr: &str, ctx: &OperationContext<'_>) -> Option<Method> {
        let (op, op_ptr) = self.deref(op, op_ptr)?;
        if !op.is_object() {
            self.error(
                ErrorKind::InvalidValue,
                &op_ptr,
                "an operation must be a mapping",
            );
            return None;
        }
        let request_validator = match op.get("x-amazon-apigateway-request-validator") {
            Some(Value::String(name)) => self.find_validator(
                ctx.validators,
                name,
                &join_pointer(&op_ptr, "x-amazon-apigateway-request-validator"),
            ),
            Some(_) => {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer(&op_ptr, "x-amazon-apigateway-request-validator"),
                    "must be a validator name",
                );
                None
            }
            None => ctx.default_validator.cloned(),
        };
        let request_parameters = self.parameters(op, &op_ptr, ctx);
        let request_models = self.request_models(op, &op_ptr);
        let api_key_required =
            self.api_key_required(op.get("security").or(ctx.root_security), &op_ptr);
        let method_responses = self.method_responses(op, &op_ptr);
        let integration_ptr = join_pointer(&op_ptr, "x-amazon-apigateway-integration");
        let integration = match op.get("x-amazon-apigateway-integration") {
            Some(v) => self.integration(
                v,
                &integration_ptr,
                &format!("{} {}", ctx.http_method, ctx.path),
            )?,
            None => {
                self.error(
                    ErrorKind::Missing,
                    &op_ptr,
                    format!(
                        "{} {} has no x-amazon-apigateway-integration",
                        ctx.http_method, ctx.path
                    ),
                );
                return None;
            }
        };
        for (i, response) in integration.responses.iter().enumerate() {
            if !method_responses.is_empty() && !method_responses.contains_key(&response.status_code)
            {
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
            operation_name: op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_string),
            api_key_required,
            request_validator,
            request_parameters,
            request_models,
            integration,
            method_responses,
        })
    }

    fn parameters(
        &mut self,
        op: &Value,
        op_ptr: &str,
        ctx: &OperationContext<'_>,
    ) -> Vec<MethodRequestParameter> {
        let mut found: Vec<MethodRequestParameter> = Vec::new();
        let lists = [
            (ctx.path_params, ctx.path_params_ptr.clone()),
            (op.get("parameters"), join_pointer(op_ptr, "parameters")),
        ];
        for (list, list_ptr) in lists {
            let Some(list) = list else { continue };
            let Some(items) = list.as_array() else {
                self.error(
                    ErrorKind::InvalidValue,
                    &list_ptr,
                    "`parameters` must be a list",
                );
                continue;
            };
            for (i, p) in items.iter().enumerate() {
                let Some((p, p_ptr)) = self.deref(p, &format!("{list_ptr}/{i}")) else {
                    continue;
                };
                let name = p.get("name").and_then(Value::as_str);
                let location = match p.get("in").and_then(Value::as_str) {
                    Some("header") => Some(ParameterLocation::Header),
                    Some("path") => Some(ParameterLocation::Path),
                    Some("query") => Some(ParameterLocation::QueryString),
                    Some("body") | Some("formData") | Some("cookie") => None,
                    other => {
                        self.error(
                            ErrorKind::InvalidValue,
                            &join_pointer(&p_ptr, "in"),
                            format!("unknown parameter location {other:?}"),
                        );
                        None
                    }
                };
                let (Some(name), Some(location)) = (name, location) else {
                    if name.is_none() {
                        self.error(ErrorKind::Missing, &p_ptr, "a parameter needs a `name`");
                    }
                    continue;
                };
                let required = location == ParameterLocation::Path
                    || p.get("required").and_then(Value::as_bool).unwrap_or(false);
                let parameter = MethodRequestParameter {
                    location,
                    name: name.to_string(),
                    required,
                };
                match found
                    .iter_mut()
                    .find(|f| f.location == location && f.name == name)
                {
                    Some(existing) => *existing = parameter,
                    None => found.push(parameter),
                }
            }
        }
        // API Gateway reports missing parameters headers first, then path, then query string
        found.sort_by_key(|p| p.location);
        found
    }

    fn api_key_required(&mut self, security: Option<&Value>, op_ptr: &str) -> bool {
        let Some(requirements) = security.and_then(Value::as_array) else {
            return false;
        };
        let schemes = match self.version {
            Version::OpenApi3 => self.root.pointer("/components/securitySchemes"),
            Version::Swagger2 => self.root.get("securityDefinitions"),
        };
        for requirement in requirements {
            let Some(names) = requirement.as_object() else {
                continue;
            };
            for name in names.keys() {
                let Some(scheme) = schemes.and_then(|s| s.get(name)) else {
                    self.error(
                        ErrorKind::InvalidValue,
                        &join_pointer(op_ptr, "security"),
                        format!("security scheme `{name}` is not defined"),
                    );
                    continue;
                };
                let is_api_key = scheme.get("type").and_then(Value::as_str) == Some("apiKey")
                    && scheme.get("in").and_then(Value::as_str) == Some("header")
                    && scheme
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case("x-api-key"));
                if is_api_key {
                    return true;
                }
            }
        }
        false
    }

    fn method_responses(&mut self, op: &Value, op_ptr: &str) -> IndexMap<u16, MethodResponse> {
        let mut out = IndexMap::new();
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            return out;
        };
        for (status, response) in responses {
            let ptr = join_pointer(&join_pointer(op_ptr, "responses"), status);
            let Ok(code) = status.parse::<u16>() else {
                if status != "default" {
                    self.error(
                        ErrorKind::InvalidValue,
                        &ptr,
                        format!("`{status}` is not a status code"),
                    );
                }
                continue;
            };
            let Some((response, _)) = self.deref(response, &ptr) else {
                continue;
            };
            let headers = response
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| h.keys().cloned().collect())
                .unwrap_or_default();
            out.insert(code, MethodResponse { headers });
        }
        out
    }

    fn gateway_responses(&mut self) -> IndexMap<GatewayResponseType, GatewayResponse> {
        let mut out = IndexMap::new();
        let base = "/x-amazon-apigateway-gateway-responses";
        let Some(map) = self.root.get("x-amazon-apigateway-gateway-responses") else {
            return out;
        };
        let Some(map) = map.as_object() else {
            self.error(
                ErrorKind::InvalidValue,
                base,
                "must be a mapping of gateway response types",
            );
            return out;
        };
        for (name, v) in map {
            let ptr = join_pointer(base, name);
            let Some(response_type) = GatewayResponseType::from_name(name) else {
                self.error(
                    ErrorKind::InvalidValue,
                    &ptr,
                    format!("`{name}` is not a gateway response type"),
                );
                continue;
            };
            let status_code = match v.get("statusCode") {
                None => None,
                Some(s) => match s
                    .as_u64()
                    .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
                {
                    Some(c @ 100..=599) => Some(c as u16),
                    _ => {
                        self.error(
                            ErrorKind::InvalidValue,
                            &join_pointer(&ptr, "statusCode"),
                            "statusCode must be an HTTP status code (100-599)",
                        );
                        None
                    }
                },
            };
            let response_parameters = match v.get("responseParameters").and_then(Value::as_object) {
                Some(params) => self.header_mappings(
                    params,
                    &join_pointer(&ptr, "responseParameters"),
                    "gatewayresponse.header.",
                ),
                None => Vec::new(),
            };
            let response_templates = v
                .get("responseTemplates")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, t)| {
                            t.as_str().map(|t| (k.to_ascii_lowercase(), t.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.insert(
                response_type,
                GatewayResponse {
                    response_type,
                    status_code,
                    response_parameters,
                    response_templates,
                },
            );
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

/// Routes from stepgate.yaml's native syntax: `routes:` maps `"METHOD /path"` to an
/// `x-amazon-apigateway-integration` object (plus `apiKeyRequired: true`). `routes` is
/// the resolved value found at `pointer` in `doc`. Path parameters of the template
/// (`{id}`) are declared as required path parameters; there are no validators or models.
pub(crate) fn native_routes(
    doc: &Document,
    routes: &Value,
    pointer: &str,
    default_timeout: Duration,
) -> (Vec<Route>, Vec<Diagnostic>) {
    let mut builder = Builder::new(doc, routes, "", default_timeout);
    let mut out = Vec::new();
    let Some(map) = routes.as_object() else {
        builder.error(
            ErrorKind::InvalidValue,
            pointer,
            "`routes` must map \"METHOD /path\" to an integration",
        );
        return (out, builder.diagnostics);
    };
    for (key, v) in map {
        let ptr = join_pointer(pointer, key);
        let parsed = key.split_once(' ').and_then(|(m, p)| {
            let method = m.to_ascii_uppercase();
            let known = HTTP_METHODS.iter().any(|(_, name)| *name == method);
            (known && p.trim().starts_with('/')).then(|| (method, p.trim().to_string()))
        });
        let Some((http_method, path)) = parsed else {
            builder.error(
                ErrorKind::InvalidValue,
                &ptr,
                format!("`{key}` is not \"METHOD /path\" (GET, POST, ..., ANY)"),
            );
            continue;
        };
        let api_key_required = match v.get("apiKeyRequired") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                builder.error(
                    ErrorKind::InvalidValue,
                    &join_pointer(&ptr, "apiKeyRequired"),
                    "must be true or false",
                );
                false
            }
        };
        let Some(integration) = builder.integration(v, &ptr, key) else {
            continue;
        };
        let request_parameters = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| MethodRequestParameter {
                location: ParameterLocation::Path,
                name: name.trim_end_matches('+').to_string(),
                required: true,
            })
            .collect();
        let method = Method {
            operation_name: None,
            api_key_required,
            request_validator: None,
            request_parameters,
            request_models: IndexMap::new(),
            integration,
            method_responses: IndexMap::new(),
        };
        out.push(Route {
            path_template: path,
            http_method,
            method,
        });
    }
    (out, builder.diagnostics)
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
