//! `stepgate.yaml`: which API file(s) to serve, the stage, variables, the backend (`local`
//! engine by default, or `aws`), listen addresses, limits, selection mode, and the state
//! machines and Lambda answers of the local engine. Command-line flags override the file
//! through [`LoadOptions`].
//!
//! ```yaml
//! api: swagger.yaml                 # or a list, or a SAM/CloudFormation template
//! routes:                           # and/or routes without an OpenAPI file:
//!   POST /orders: {type: aws, uri: ..., requestTemplates: ..., responses: ...}
//! stage: dev
//! stage_variables: {stateMachineArn: ...}
//! variables: {Workflow: ..., AWS::Region: eu-west-1}
//! selection: extended               # or aws-strict
//! listen: 127.0.0.1:8080
//! backend: local                    # or aws, or {type: aws, region, endpoint_url, profile, lambda_endpoint_url}
//! local: {data_dir, region, account_id, lambda_endpoint, lambda: {name: {return: ...}}, mock_config}
//! state_machines: {Workflow: {file: workflow.asl.json, name: wf, type: EXPRESS}}
//! limits: {max_body_bytes, integration_timeout_ms, max_foreach, ...}
//! tls: {ca_file: internal-ca.pem}   # extra CA bundle trusted by https:// calls
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::config::cloudformation::scalar_text;
use crate::config::diagnostic::{Diagnostic, Error, ErrorKind, Severity};
use crate::config::document::clean_path;
use crate::config::document::{Document, join_pointer};
use crate::config::intrinsics::Resolver;
use crate::config::model::*;
use crate::config::openapi::{empty_api, native_routes};
use crate::config::{base_variables, read_api};

/// Command-line overrides of `stepgate.yaml` (`serve`'s and `check`'s flags).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--var NAME=VALUE` (win over `variables:`).
    pub vars: IndexMap<String, String>,
    /// `--listen ADDR`.
    pub listen: Option<SocketAddr>,
    /// `--backend local|aws`.
    pub backend: Option<String>,
    /// `--region R` (aws backend).
    pub region: Option<String>,
    /// `--endpoint-url URL` (aws backend).
    pub endpoint_url: Option<String>,
}

/// Loads `stepgate.yaml` and everything it names.
pub fn load(path: &Path) -> Result<Config, Error> {
    load_with(path, &LoadOptions::default())
}

/// Loads `stepgate.yaml` with command-line overrides.
pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Config, Error> {
    let doc = Document::read(path).map_err(|d| Error::new(vec![*d]))?;
    let mut reader = Reader {
        doc: &doc,
        diagnostics: Vec::new(),
    };
    let config = reader.config(options);
    let diagnostics = crate::config::tidy(reader.diagnostics);
    match config {
        Some(mut c) if diagnostics.iter().all(|d| d.severity != Severity::Error) => {
            c.warnings = diagnostics;
            Ok(c)
        }
        _ => Err(Error::new(diagnostics)),
    }
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "routes",
    "api",
    "stage",
    "stage_in_path",
    "stage_variables",
    "variables",
    "selection",
    "api_keys",
    "listen",
    "sfn_listen",
    "backend",
    "aws",
    "local",
    "state_machines",
    "limits",
    "tls",
];

struct Reader<'d> {
    doc: &'d Document,
    diagnostics: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(&mut self, kind: ErrorKind, pointer: &str, message: impl Into<String>) {
        let d = Diagnostic::error(kind, &self.doc.path, pointer, message);
        self.diagnostics.push(self.doc.diagnostic(d));
    }

    fn base_dir(&self) -> PathBuf {
        self.doc
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    fn relative(&self, file: &str) -> PathBuf {
        let p = PathBuf::from(file);
        clean_path(&if p.is_absolute() {
            p
        } else {
            self.base_dir().join(p)
        })
    }

    fn string(&mut self, map: &Map<String, Value>, key: &str, pointer: &str) -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => match scalar_text(v) {
                Some(s) => Some(s),
                None => {
                    self.error(
                        ErrorKind::InvalidValue,
                        &join_pointer(pointer, key),
                        format!("`{key}` must be a string"),
                    );
                    None
                }
            },
        }
    }

    fn number(&mut self, map: &Map<String, Value>, key: &str, pointer: &str) -> Option<u64> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => match v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            {
                Some(n) => Some(n),
                None => {
                    self.error(
                        ErrorKind::InvalidValue,
                        &join_pointer(pointer, key),
                        format!("`{key}` must be a whole number"),
                    );
                    None
                }
            },
        }
    }

    fn bool(&mut self, map: &Map<String, Value>, key: &str, pointer: &str) -> Option<bool> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer(pointer, key),
                    format!("`{key}` must be true or false"),
                );
                None
            }
        }
    }

    fn address(&mut self, map: &Map<String, Value>, key: &str) -> Option<SocketAddr> {
        let text = self.string(map, key, "")?;
        match text.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer("", key),
                    format!("`{text}` is not an address like 127.0.0.1:8080"),
                );
                None
            }
        }
    }

    fn text_map(&mut self, map: &Map<String, Value>, key: &str) -> IndexMap<String, String> {
        self.text_map_at(map, key, "")
    }

    fn text_map_at(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        base: &str,
    ) -> IndexMap<String, String> {
        let mut out = IndexMap::new();
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    match scalar_text(v) {
                        Some(t) => {
                            out.insert(k.clone(), t);
                        }
                        None => self.error(
                            ErrorKind::InvalidValue,
                            &join_pointer(&join_pointer(base, key), k),
                            "must be a string",
                        ),
                    }
                }
            }
            Some(_) => self.error(
                ErrorKind::InvalidValue,
                &join_pointer(base, key),
                format!("`{key}` must be a mapping"),
            ),
        }
        out
    }

    fn config(&mut self, options: &LoadOptions) -> Option<Config> {
        let Some(root) = self.doc.value.as_object() else {
            self.error(
                ErrorKind::InvalidValue,
                "",
                "stepgate.yaml must be a mapping",
            );
            return None;
        };
        for key in root.keys() {
            if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer("", key),
                    format!(
                        "unknown setting `{key}` (known: {})",
                        TOP_LEVEL_KEYS.join(", ")
                    ),
                );
            }
        }
        let limits = self.limits(root);
        let tls = self.tls(root);
        let backend = self.backend(root, options);
        let mut variables = self.text_map(root, "variables");
        for (k, v) in &options.vars {
            variables.insert(k.clone(), v.clone());
        }
        if !variables.contains_key("AWS::Region") {
            let region = match &backend {
                Backend::Local(l) => Some(l.region.clone()),
                Backend::Aws(a) => a.region.clone(),
            };
            if let Some(region) = region {
                variables.insert("AWS::Region".into(), region);
            }
        }
        if let (Backend::Local(l), false) = (&backend, variables.contains_key("AWS::AccountId")) {
            variables.insert("AWS::AccountId".into(), l.account_id.clone());
        }
        // state machines declared here define variables by their key (like logical ids)
        let mut state_machines = self.state_machines(root, &base_variables(&variables));
        for (key, machine) in &state_machines {
            variables
                .entry(key.clone())
                .or_insert_with(|| machine.arn.clone());
            variables
                .entry(format!("{key}.Arn"))
                .or_insert_with(|| machine.arn.clone());
            variables
                .entry(format!("{key}.Name"))
                .or_insert_with(|| machine.name.clone());
        }

        let api_files: Vec<(String, String)> = match root.get("api") {
            Some(Value::String(s)) => vec![(s.clone(), "/api".to_string())],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match v {
                    Value::String(s) => Some((s.clone(), format!("/api/{i}"))),
                    _ => {
                        self.error(
                            ErrorKind::InvalidValue,
                            &format!("/api/{i}"),
                            "an API file must be a path",
                        );
                        None
                    }
                })
                .collect(),
            Some(_) => {
                self.error(
                    ErrorKind::InvalidValue,
                    "/api",
                    "`api` must be a file path or a list of them",
                );
                Vec::new()
            }
            None if root.contains_key("routes") => Vec::new(),
            None => {
                self.error(
                    ErrorKind::Missing,
                    "",
                    "no `api:` file (or `routes:`) to serve",
                );
                Vec::new()
            }
        };

        let mut api: Option<Api> = None;
        let mut resolved_vars = base_variables(&variables);
        for (file, pointer) in api_files {
            let path = self.relative(&file);
            if !path.is_file() {
                self.error(
                    ErrorKind::Io,
                    &pointer,
                    format!("API file `{}` does not exist", path.display()),
                );
                continue;
            }
            let (document, diagnostics) =
                read_api(&path, &variables, limits.default_integration_timeout);
            self.diagnostics.extend(diagnostics);
            let Some(document) = document else { continue };
            for machine in document.state_machines {
                if !state_machines.iter().any(|(_, m)| m.arn == machine.arn) {
                    state_machines.push((machine.name.clone(), machine));
                }
            }
            resolved_vars = document.variables;
            api = Some(match api.take() {
                None => document.api,
                Some(mut merged) => {
                    for route in document.api.routes {
                        if merged.routes.iter().any(|r| {
                            r.path_template == route.path_template
                                && r.http_method == route.http_method
                        }) {
                            self.error(
                                ErrorKind::InvalidValue,
                                &pointer,
                                format!(
                                    "{} {} is defined in more than one API file",
                                    route.http_method, route.path_template
                                ),
                            );
                            continue;
                        }
                        merged.routes.push(route);
                    }
                    merged
                        .gateway_responses
                        .extend(document.api.gateway_responses);
                    merged
                }
            });
        }
        if let Some(routes) = root.get("routes") {
            let mut resolver = Resolver::new(&resolved_vars);
            let resolved = resolver.resolve(routes, "/routes");
            let problems: Vec<Diagnostic> = resolver
                .problems
                .into_iter()
                .map(|p| self.doc.diagnostic(p))
                .collect();
            self.diagnostics.extend(problems);
            let (routes, diagnostics) = native_routes(
                self.doc,
                &resolved,
                "/routes",
                limits.default_integration_timeout,
            );
            self.diagnostics.extend(diagnostics);
            let merged = api.get_or_insert_with(empty_api);
            for route in routes {
                if merged.routes.iter().any(|r| {
                    r.path_template == route.path_template && r.http_method == route.http_method
                }) {
                    let key = format!("{} {}", route.http_method, route.path_template);
                    self.error(
                        ErrorKind::InvalidValue,
                        &join_pointer("/routes", &key),
                        format!("{key} is also defined in an API file"),
                    );
                    continue;
                }
                merged.routes.push(route);
            }
        }
        let stage = self.string(root, "stage", "");
        let stage_in_path = self.bool(root, "stage_in_path", "");
        let stage_variables = self.text_map(root, "stage_variables");
        let selection_mode = match self.string(root, "selection", "").as_deref() {
            None | Some("extended") => SelectionMode::Extended,
            Some("aws-strict") => SelectionMode::AwsStrict,
            Some(other) => {
                self.error(
                    ErrorKind::InvalidValue,
                    "/selection",
                    format!("`{other}` is neither `extended` nor `aws-strict`"),
                );
                SelectionMode::Extended
            }
        };
        let api_keys = match root.get("api_keys") {
            None => Vec::new(),
            Some(keys) => match keys.as_array() {
                Some(items) => items.iter().filter_map(scalar_text).collect(),
                None => {
                    self.error(
                        ErrorKind::InvalidValue,
                        "/api_keys",
                        "`api_keys` must be a list",
                    );
                    Vec::new()
                }
            },
        };
        let listen = match options.listen {
            Some(a) => Some(a),
            None => self.address(root, "listen"),
        }
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let sfn_listen = self.address(root, "sfn_listen");

        let state_machines: Vec<StateMachineSource> =
            state_machines.into_iter().map(|(_, m)| m).collect();
        // template machines were checked by read_api; check the rest, and Lambda answers for all
        let mut problems = crate::config::machines::check(&state_machines, Some(&backend));
        problems.retain(|p| {
            p.kind == ErrorKind::NoLocalAnswer
                || !self
                    .diagnostics
                    .iter()
                    .any(|d| d.pointer == p.pointer && d.file == p.file && d.message == p.message)
        });
        let located: Vec<Diagnostic> = problems
            .into_iter()
            .map(|p| {
                if p.file == self.doc.path {
                    self.doc.diagnostic(p)
                } else {
                    p
                }
            })
            .collect();
        self.diagnostics.extend(located);
        let mut api = api?;
        if let Some(stage) = stage {
            api.stage = stage;
        }
        if let Some(b) = stage_in_path {
            api.stage_in_path = b;
        }
        api.stage_variables.extend(stage_variables);
        api.selection_mode = selection_mode;
        api.api_keys = api_keys;
        for d in crate::config::functions::check(&api, &backend, &self.doc.path) {
            let d = self.doc.diagnostic(d);
            self.diagnostics.push(d);
        }
        Some(Config {
            path: self.doc.path.clone(),
            api,
            listen,
            sfn_listen,
            backend,
            limits,
            tls,
            state_machines,
            variables: resolved_vars,
            warnings: Vec::new(),
        })
    }

    /// `tls: {ca_file: ...}`: the extra CA bundle, read and checked now so a bad file stops
    /// loading with its name and the reason, not the first https:// call.
    fn tls(&mut self, root: &Map<String, Value>) -> crate::https::Trust {
        let trust = crate::https::Trust::default();
        let map = match root.get("tls") {
            None | Some(Value::Null) => return trust,
            Some(Value::Object(m)) => m,
            Some(_) => {
                self.error(
                    ErrorKind::InvalidValue,
                    "/tls",
                    "`tls` must be a mapping like {ca_file: internal-ca.pem}",
                );
                return trust;
            }
        };
        for key in map.keys() {
            if key != "ca_file" {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer("/tls", key),
                    format!("unknown setting `{key}` (known: ca_file)"),
                );
            }
        }
        let Some(file) = self.string(map, "ca_file", "/tls") else {
            return trust;
        };
        match crate::https::Trust::with_ca_file(&self.relative(&file)) {
            Ok(trust) => trust,
            Err(e) => {
                self.error(ErrorKind::Io, "/tls/ca_file", e.to_string());
                trust
            }
        }
    }

    fn limits(&mut self, root: &Map<String, Value>) -> Limits {
        let mut limits = Limits::default();
        let Some(v) = root.get("limits") else {
            return limits;
        };
        let Some(map) = v.as_object() else {
            self.error(
                ErrorKind::InvalidValue,
                "/limits",
                "`limits` must be a mapping",
            );
            return limits;
        };
        const KEYS: &[&str] = &[
            "max_body_bytes",
            "integration_timeout_ms",
            "max_foreach",
            "max_template_depth",
            "max_template_output",
            "max_sfn_payload_bytes",
        ];
        for key in map.keys() {
            if !KEYS.contains(&key.as_str()) {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer("/limits", key),
                    format!("unknown limit `{key}` (known: {})", KEYS.join(", ")),
                );
            }
        }
        let p = "/limits";
        if let Some(n) = self.number(map, "max_body_bytes", p) {
            limits.max_body_bytes = n as usize;
        }
        if let Some(n) = self.number(map, "integration_timeout_ms", p) {
            limits.default_integration_timeout = Duration::from_millis(n);
        }
        if let Some(n) = self.number(map, "max_foreach", p) {
            limits.max_foreach = n as usize;
        }
        if let Some(n) = self.number(map, "max_template_depth", p) {
            limits.max_template_depth = n as usize;
        }
        if let Some(n) = self.number(map, "max_template_output", p) {
            limits.max_template_output = n as usize;
        }
        if let Some(n) = self.number(map, "max_sfn_payload_bytes", p) {
            limits.max_sfn_payload_bytes = n as usize;
        }
        limits
    }

    fn backend(&mut self, root: &Map<String, Value>, options: &LoadOptions) -> Backend {
        let (mut kind, inline) = match root.get("backend") {
            None => ("local".to_string(), None),
            Some(Value::String(s)) => (s.clone(), None),
            Some(Value::Object(m)) => (
                m.get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("local")
                    .to_string(),
                Some(m.clone()),
            ),
            Some(_) => {
                self.error(
                    ErrorKind::InvalidValue,
                    "/backend",
                    "`backend` must be `local`, `aws` or a mapping with `type`",
                );
                ("local".to_string(), None)
            }
        };
        if let Some(k) = &options.backend {
            kind = k.clone();
        }
        match kind.as_str() {
            "aws" => {
                let (map, pointer) = match (inline, root.get("aws").and_then(Value::as_object)) {
                    (Some(m), _) => (m, "/backend".to_string()),
                    (None, Some(m)) => (m.clone(), "/aws".to_string()),
                    (None, None) => (Map::new(), "/aws".to_string()),
                };
                let mut settings = AwsSettings {
                    region: self.string(&map, "region", &pointer),
                    endpoint_url: self.string(&map, "endpoint_url", &pointer),
                    profile: self.string(&map, "profile", &pointer),
                    lambda_endpoint_url: self.string(&map, "lambda_endpoint_url", &pointer),
                };
                if options.region.is_some() {
                    settings.region = options.region.clone();
                }
                if options.endpoint_url.is_some() {
                    settings.endpoint_url = options.endpoint_url.clone();
                }
                Backend::Aws(settings)
            }
            "local" => Backend::Local(self.local(root, options)),
            other => {
                self.error(
                    ErrorKind::InvalidValue,
                    "/backend",
                    format!("unknown backend `{other}` (local or aws)"),
                );
                Backend::Local(self.local(root, options))
            }
        }
    }

    fn local(&mut self, root: &Map<String, Value>, options: &LoadOptions) -> LocalEngineSettings {
        let empty = Map::new();
        let map = match root.get("local") {
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                self.error(
                    ErrorKind::InvalidValue,
                    "/local",
                    "`local` must be a mapping",
                );
                empty
            }
            None => empty,
        };
        let p = "/local";
        const KEYS: &[&str] = &[
            "data_dir",
            "region",
            "account_id",
            "lambda_endpoint",
            "lambda",
            "mock_config",
            "test_case",
            "http_hosts",
        ];
        for key in map.keys() {
            if !KEYS.contains(&key.as_str()) {
                self.error(
                    ErrorKind::InvalidValue,
                    &join_pointer(p, key),
                    format!("unknown setting `{key}` (known: {})", KEYS.join(", ")),
                );
            }
        }
        let region = options
            .region
            .clone()
            .or_else(|| self.string(&map, "region", p))
            .or_else(|| options.vars.get("AWS::Region").cloned())
            .unwrap_or_else(|| "us-east-1".to_string());
        let account_id = self
            .string(&map, "account_id", p)
            .unwrap_or_else(|| "123456789012".to_string());
        let data_dir = self.string(&map, "data_dir", p).map(|d| self.relative(&d));
        let lambda_endpoint = self.string(&map, "lambda_endpoint", p);
        let mock_config = self.string(&map, "mock_config", p).map(|f| MockConfigRef {
            path: self.relative(&f),
            test_case: None,
        });
        let mock_config = mock_config.map(|mut m| {
            m.test_case = self.string(&map, "test_case", p);
            m
        });
        let mut lambda_handlers = IndexMap::new();
        if let Some(handlers) = map.get("lambda") {
            match handlers.as_object() {
                Some(h) => {
                    for (name, spec) in h {
                        let hp = join_pointer(&join_pointer(p, "lambda"), name);
                        if let Some(handler) = self.lambda_handler(spec, &hp) {
                            lambda_handlers.insert(name.clone(), handler);
                        }
                    }
                }
                None => self.error(
                    ErrorKind::InvalidValue,
                    "/local/lambda",
                    "`lambda` must map function names to handlers",
                ),
            }
        }
        let http_hosts = self.text_map_at(&map, "http_hosts", "/local");
        LocalEngineSettings {
            data_dir,
            region,
            account_id,
            lambda_endpoint,
            lambda_handlers,
            mock_config,
            http_hosts,
        }
    }

    fn lambda_handler(&mut self, spec: &Value, pointer: &str) -> Option<LambdaHandler> {
        let Some(map) = spec.as_object() else {
            self.error(ErrorKind::InvalidValue, pointer, "a Lambda handler must be {return: ...}, {error: ..., cause: ...} or {command: [...]}");
            return None;
        };
        let delay = Duration::from_millis(self.number(map, "delay_ms", pointer).unwrap_or(0));
        if let Some(payload) = map.get("return") {
            Some(LambdaHandler::Return {
                payload: payload.clone(),
                delay,
            })
        } else if map.contains_key("error") {
            let error = self.string(map, "error", pointer).unwrap_or_default();
            let cause = self.string(map, "cause", pointer).unwrap_or_default();
            Some(LambdaHandler::Error { error, cause })
        } else if let Some(command) = map.get("command") {
            let argv: Option<Vec<String>> = match command {
                Value::Array(items) => items.iter().map(scalar_text).collect(),
                Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
                _ => None,
            };
            match argv.filter(|a| !a.is_empty()) {
                Some(argv) => Some(LambdaHandler::Command { argv }),
                None => {
                    self.error(
                        ErrorKind::InvalidValue,
                        &join_pointer(pointer, "command"),
                        "`command` must be a non-empty list of strings",
                    );
                    None
                }
            }
        } else {
            self.error(
                ErrorKind::Missing,
                pointer,
                "a Lambda handler needs `return`, `error` or `command`",
            );
            None
        }
    }

    /// `state_machines:` entries, keyed by their variable name.
    fn state_machines(
        &mut self,
        root: &Map<String, Value>,
        vars: &IndexMap<String, String>,
    ) -> Vec<(String, StateMachineSource)> {
        let mut out = Vec::new();
        let Some(v) = root.get("state_machines") else {
            return out;
        };
        let Some(map) = v.as_object() else {
            self.error(
                ErrorKind::InvalidValue,
                "/state_machines",
                "`state_machines` must map names to {file, name, type}",
            );
            return out;
        };
        let region = vars
            .get("AWS::Region")
            .cloned()
            .unwrap_or_else(|| "us-east-1".into());
        let account = vars
            .get("AWS::AccountId")
            .cloned()
            .unwrap_or_else(|| "123456789012".into());
        for (key, spec) in map {
            let p = join_pointer("/state_machines", key);
            let spec = match spec {
                Value::String(file) => {
                    let mut m = Map::new();
                    m.insert("file".into(), Value::String(file.clone()));
                    m
                }
                Value::Object(m) => m.clone(),
                _ => {
                    self.error(
                        ErrorKind::InvalidValue,
                        &p,
                        "a state machine must be a file path or {file, name, type}",
                    );
                    continue;
                }
            };
            let name = self
                .string(&spec, "name", &p)
                .unwrap_or_else(|| key.clone());
            let kind = match self.string(&spec, "type", &p).as_deref() {
                None | Some("STANDARD") => StateMachineType::Standard,
                Some("EXPRESS") => StateMachineType::Express,
                Some(other) => {
                    self.error(
                        ErrorKind::InvalidValue,
                        &join_pointer(&p, "type"),
                        format!("`{other}` is neither STANDARD nor EXPRESS"),
                    );
                    StateMachineType::Standard
                }
            };
            let definition = if let Some(def) = spec.get("definition") {
                match def {
                    Value::String(text) => Some(StateMachineDefinition::Text(text.clone())),
                    other => Some(StateMachineDefinition::Json(other.clone())),
                }
            } else if let Some(file) = self.string(&spec, "file", &p) {
                let path = self.relative(&file);
                match std::fs::read_to_string(&path) {
                    Ok(text)
                        if path
                            .extension()
                            .is_some_and(|e| e.eq_ignore_ascii_case("json")) =>
                    {
                        Some(StateMachineDefinition::Text(text))
                    }
                    Ok(text) => match Document::parse(&path, &text) {
                        Ok(d) => Some(StateMachineDefinition::Json(d.value)),
                        Err(d) => {
                            self.diagnostics.push(*d);
                            None
                        }
                    },
                    Err(e) => {
                        self.error(
                            ErrorKind::Io,
                            &join_pointer(&p, "file"),
                            format!("cannot read `{}`: {e}", path.display()),
                        );
                        None
                    }
                }
            } else {
                self.error(
                    ErrorKind::Missing,
                    &p,
                    "a state machine needs `file` or `definition`",
                );
                None
            };
            if let Some(definition) = definition {
                out.push((
                    key.clone(),
                    StateMachineSource {
                        arn: format!("arn:aws:states:{region}:{account}:stateMachine:{name}"),
                        name,
                        definition,
                        kind,
                        role_arn: self.string(&spec, "role_arn", &p),
                        origin: format!("{}#{}", self.doc.path.display(), p),
                    },
                ));
            }
        }
        out
    }
}
