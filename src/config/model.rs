//! The validated API model: the only configuration types the rest of stepgate sees.
//!
//! Everything here was checked when it was built by [`crate::config::load`] or
//! [`crate::config::load_api`]: templates are parsed ([`vtl::Template`]), selection
//! patterns compiled ([`SelectionPattern`]), request models compiled ([`Model`]),
//! integration URIs understood ([`IntegrationType`]). No raw OpenAPI JSON travels
//! past `config/`. The nouns are API Gateway's (`Method`, `Integration`,
//! `IntegrationResponse`, `GatewayResponse`, ...), so the AWS documentation for a type
//! name explains the field.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

use crate::config::selection::SelectionPattern;
use crate::vtl;

// === Config (stepgate.yaml) ===

/// Everything `stepgate.yaml` describes, validated: the API, how it is served, and the
/// Step Functions backend it talks to.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from (paths in it are relative to its directory).
    pub path: PathBuf,
    /// The API served (several API files are merged into one route table).
    pub api: Api,
    /// Where the gateway listens (`listen:`, default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Where the local engine's Step Functions JSON API listens (`sfn_listen:`), if at all.
    pub sfn_listen: Option<SocketAddr>,
    /// Which Step Functions answers `aws` integrations.
    pub backend: Backend,
    /// Request-path limits.
    pub limits: Limits,
    /// Which certificates `https://` endpoints (http integrations, http:invoke tasks) may
    /// present: the native roots plus the `tls.ca_file` bundle, checked at load.
    pub tls: crate::https::Trust,
    /// State machines the local engine runs (from `state_machines:` and from
    /// SAM/CloudFormation templates named as APIs).
    pub state_machines: Vec<StateMachineSource>,
    /// The CloudFormation pseudo parameters and user variables used to resolve intrinsics.
    pub variables: IndexMap<String, String>,
    /// Problems that do not stop loading (`stepgate check` prints them).
    pub warnings: Vec<crate::config::Diagnostic>,
}

/// The Step Functions backend (`backend:` in stepgate.yaml).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per process; matching without a Box is simpler
pub enum Backend {
    /// The embedded engine (the default): `backend: local`.
    Local(LocalEngineSettings),
    /// Real AWS Step Functions through aws-sdk-sfn: `backend: {type: aws, region: eu-west-1}`.
    Aws(AwsSettings),
}

/// Settings of the real-AWS backend.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// `region:`; `None` means the normal AWS chain decides.
    pub region: Option<String>,
    /// `endpoint_url:` (LocalStack, moto, Step Functions Local).
    pub endpoint_url: Option<String>,
    /// `profile:` of the shared AWS config files.
    pub profile: Option<String>,
    /// `lambda_endpoint_url:`: where Lambda custom integrations invoke functions, when not
    /// AWS Lambda itself (LocalStack). `endpoint_url` is Step Functions' only.
    pub lambda_endpoint_url: Option<String>,
}

/// Settings of the embedded engine (`local:` in stepgate.yaml). The state machines
/// themselves are in [`Config::state_machines`].
#[derive(Debug, Clone)]
pub struct LocalEngineSettings {
    /// Where executions and their history are stored (`data_dir:`); `None` = in memory.
    pub data_dir: Option<PathBuf>,
    /// Region used in local ARNs (`arn:aws:states:{region}:{account}:...`).
    pub region: String,
    /// Account id used in local ARNs.
    pub account_id: String,
    /// A Lambda Invoke API endpoint for Lambda tasks not answered below (`lambda_endpoint:`).
    pub lambda_endpoint: Option<String>,
    /// How Lambda tasks are answered, by function name or ARN (`lambda:`).
    pub lambda_handlers: IndexMap<String, LambdaHandler>,
    /// A Step Functions Local mock-config file (`mock_config:`) and the test case to use.
    pub mock_config: Option<MockConfigRef>,
    /// Hosts of `http:invoke` / `apigateway:invoke` endpoints mapped to local base URLs
    /// (`http_hosts:`): `abc.execute-api.us-east-1.amazonaws.com` → `http://127.0.0.1:8080`.
    pub http_hosts: IndexMap<String, String>,
}

impl LocalEngineSettings {
    /// The `command` handlers by function name (what the engine runs as local commands).
    pub fn lambda_commands(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.lambda_handlers.iter().filter_map(|(name, h)| match h {
            LambdaHandler::Command { argv } => Some((name.as_str(), argv.as_slice())),
            _ => None,
        })
    }
}

/// How the local engine answers a Lambda task.
#[derive(Debug, Clone, PartialEq)]
pub enum LambdaHandler {
    /// `{return: {...}}`: answer with this JSON payload, after `delay_ms` if given.
    Return {
        payload: serde_json::Value,
        delay: Duration,
    },
    /// `{error: Name, cause: text}`: fail the task with this error.
    Error { error: String, cause: String },
    /// `{command: [prog, args...]}`: run a local command with the payload on stdin; its
    /// stdout is the result.
    Command { argv: Vec<String> },
}

/// A Step Functions Local mock-config file and the test case the engine uses from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfigRef {
    /// Path of the JSON mock-config file.
    pub path: PathBuf,
    /// `test_case:`; `None` = the engine's default.
    pub test_case: Option<String>,
}

/// Request-path limits (`limits:` in stepgate.yaml), API Gateway's values by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted (413 above it). Default 10 MB.
    pub max_body_bytes: usize,
    /// Integration timeout used when `timeoutInMillis` is absent. Default 29 s.
    pub default_integration_timeout: Duration,
    /// VTL `#foreach` iteration limit. Default 1000.
    pub max_foreach: usize,
    /// VTL nesting depth. Default 64.
    pub max_template_depth: usize,
    /// Largest rendered template. Default 10 MiB.
    pub max_template_output: usize,
    /// Largest Step Functions payload. Default 256 KiB.
    pub max_sfn_payload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 10 * 1024 * 1024,
            default_integration_timeout: Duration::from_millis(29_000),
            max_foreach: 1000,
            max_template_depth: 64,
            max_template_output: 10 * 1024 * 1024,
            max_sfn_payload_bytes: 256 * 1024,
        }
    }
}

/// A state machine for the local engine, as written by the user; the engine parses it.
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachineSource {
    /// The state machine's name (the last part of its ARN).
    pub name: String,
    /// Its local ARN, `arn:aws:states:{region}:{account}:stateMachine:{name}`.
    pub arn: String,
    /// The ASL definition.
    pub definition: StateMachineDefinition,
    /// STANDARD or EXPRESS.
    pub kind: StateMachineType,
    /// `RoleArn` / `Role` from a template, resolved; `None` when not given.
    pub role_arn: Option<String>,
    /// Where it was defined (file, and JSON pointer inside a template), for messages.
    pub origin: String,
}

/// An ASL definition: text (JSON or YAML) or an already-parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum StateMachineDefinition {
    /// `DefinitionString`, a `.asl.json` file, ...: the engine parses the text.
    Text(String),
    /// `Definition:` given inline as a YAML/JSON object.
    Json(serde_json::Value),
}

/// `Type` of a state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateMachineType {
    /// `STANDARD` (the default).
    #[default]
    Standard,
    /// `EXPRESS`.
    Express,
}

impl StateMachineType {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StateMachineType::Standard => "STANDARD",
            StateMachineType::Express => "EXPRESS",
        }
    }
}

// === Api ===

/// One REST API: its routes, gateway responses and stage.
#[derive(Debug, Clone)]
pub struct Api {
    /// `info.title`.
    pub title: Option<String>,
    /// The route table, in document order (the router ranks them).
    pub routes: Vec<Route>,
    /// Gateway response overrides from `x-amazon-apigateway-gateway-responses`. Types not
    /// listed use API Gateway's defaults ([`GatewayResponseType::default_status`]).
    pub gateway_responses: IndexMap<GatewayResponseType, GatewayResponse>,
    /// `x-amazon-apigateway-api-key-source` (default `HEADER`).
    pub api_key_source: ApiKeySource,
    /// API keys accepted for methods with `api_key_required` (`api_keys:` in stepgate.yaml).
    pub api_keys: Vec<String>,
    /// `x-amazon-apigateway-binary-media-types`.
    pub binary_media_types: Vec<String>,
    /// The stage name (`$context.stage`), default `local`.
    pub stage: String,
    /// Whether request paths start with `/{stage}` as on an execute-api URL.
    pub stage_in_path: bool,
    /// Stage variables (`$stageVariables`).
    pub stage_variables: IndexMap<String, String>,
    /// Whether selection patterns may also match error text ([`SelectionMode`]).
    pub selection_mode: SelectionMode,
}

/// A path template and HTTP method, bound to its method definition.
#[derive(Debug, Clone)]
pub struct Route {
    /// The resource path as written: `/orders/{id}`, `/{proxy+}`.
    pub path_template: String,
    /// Upper-case HTTP method, or `ANY` (`x-amazon-apigateway-any-method`).
    pub http_method: String,
    /// Everything API Gateway calls the method.
    pub method: Method,
}

/// A method: method request checks, the integration, and the method responses.
#[derive(Debug, Clone)]
pub struct Method {
    /// `operationId`.
    pub operation_name: Option<String>,
    /// `security` names an `x-api-key` header scheme.
    pub api_key_required: bool,
    /// `x-amazon-apigateway-request-validator` (or the document's default validator).
    pub request_validator: Option<RequestValidator>,
    /// Declared request parameters in API Gateway's order: headers, then path, then
    /// query string (each in document order).
    pub request_parameters: Vec<MethodRequestParameter>,
    /// Request body models by content type (`requestBody.content` / `in: body`).
    pub request_models: IndexMap<String, Model>,
    /// The integration.
    pub integration: Integration,
    /// Method responses by status code: which headers they declare.
    pub method_responses: IndexMap<u16, MethodResponse>,
}

impl Method {
    /// The required parameters, in API Gateway's order (what `Missing required request
    /// parameters: [...]` lists).
    pub fn required_parameters(&self) -> impl Iterator<Item = &MethodRequestParameter> {
        self.request_parameters.iter().filter(|p| p.required)
    }
}

/// A declared method request parameter (`method.request.{location}.{name}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodRequestParameter {
    /// Where it is.
    pub location: ParameterLocation,
    /// Its name (header names as written).
    pub name: String,
    /// `required: true`.
    pub required: bool,
}

/// Where a method request parameter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParameterLocation {
    /// `in: header`.
    Header,
    /// `in: path`.
    Path,
    /// `in: query`.
    QueryString,
}

/// `x-amazon-apigateway-request-validators.{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestValidator {
    /// The validator's name.
    pub name: String,
    /// `validateRequestBody`.
    pub validate_request_body: bool,
    /// `validateRequestParameters`.
    pub validate_request_parameters: bool,
}

/// A request model: a compiled JSON Schema draft 4.
#[derive(Clone)]
pub struct Model {
    /// The model's name (`components/schemas` or `definitions` key), or `inline`.
    pub name: String,
    /// The schema as resolved (refs between models inlined in `definitions`).
    pub schema: Arc<serde_json::Value>,
    validator: Arc<jsonschema::Validator>,
}

impl Model {
    /// Wraps a compiled validator (built by the loader).
    pub(crate) fn new(
        name: String,
        schema: serde_json::Value,
        validator: jsonschema::Validator,
    ) -> Model {
        Model {
            name,
            schema: Arc::new(schema),
            validator: Arc::new(validator),
        }
    }

    /// Whether `body` conforms to the model.
    pub fn is_valid(&self, body: &serde_json::Value) -> bool {
        self.validator.is_valid(body)
    }

    /// The validation errors for `body`, one line each (for logs; API Gateway tells the
    /// client only `Invalid request body`).
    pub fn validation_errors(&self, body: &serde_json::Value) -> Vec<String> {
        self.validator
            .iter_errors(body)
            .map(|e| e.to_string())
            .collect()
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// A method response: the headers it declares (`method.response.header.X`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodResponse {
    /// Header names, as written.
    pub headers: Vec<String>,
}

/// `x-amazon-apigateway-api-key-source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiKeySource {
    /// `HEADER`: the key is the `x-api-key` request header.
    #[default]
    Header,
    /// `AUTHORIZER`: a custom authorizer supplies it (stepgate has no authorizers, so
    /// keys are never found).
    Authorizer,
}

/// Whether `selectionPattern` also matches Step Functions error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectionMode {
    /// stepgate's extension (default): text rules (`<__type>: <message>`, or
    /// `<error>: <cause>` of a failed synchronous execution) are tried before status rules.
    #[default]
    Extended,
    /// `selection: aws-strict`: patterns match the status code only, as API Gateway does.
    AwsStrict,
}

// === Integration ===

/// `x-amazon-apigateway-integration`.
#[derive(Debug, Clone)]
pub struct Integration {
    /// `type` + `uri` + `httpMethod`, understood.
    pub kind: IntegrationType,
    /// `credentials` (kept for display; stepgate uses the AWS credential chain).
    pub credentials: Option<String>,
    /// `requestTemplates`, parsed, by MIME type in document order.
    pub request_templates: IndexMap<String, vtl::Template>,
    /// `passthroughBehavior` (default `WHEN_NO_MATCH`).
    pub passthrough_behavior: PassthroughBehavior,
    /// `requestParameters`: integration request target ← source.
    pub request_parameters: Vec<(IntegrationRequestTarget, ParameterSource)>,
    /// `responses`, in document order; the default response (no pattern) included.
    pub responses: Vec<IntegrationResponse>,
    /// `timeoutInMillis` (default 29 s).
    pub timeout: Duration,
    /// `contentHandling`.
    pub content_handling: Option<ContentHandling>,
}

impl Integration {
    /// The default integration response (no `selectionPattern`), if there is one.
    pub fn default_response(&self) -> Option<&IntegrationResponse> {
        self.responses
            .iter()
            .find(|r| r.selection_pattern.is_none())
    }
}

/// What an integration calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrationType {
    /// `type: aws`, `uri: arn:aws:apigateway:{region}:{service}:action/{action}`.
    Aws {
        /// `states` for Step Functions (other services are reported by `check`).
        service: String,
        /// The region in the URI.
        region: String,
        /// `StartExecution`, `StartSyncExecution`, `DescribeExecution`, ...
        action: String,
    },
    /// `type: aws`, `uri: arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations`:
    /// a Lambda custom (non-proxy) integration. The rendered body is the event; integration
    /// responses are selected by the `errorMessage` of a function error.
    Lambda {
        /// The region in the URI.
        region: String,
        /// `arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`; the name and
        /// the qualifier may be `${stageVariables.x}`, resolved per request.
        function_arn: String,
    },
    /// `type: mock`: the status code comes from the rendered request template.
    Mock,
    /// `type: http`: a non-proxy HTTP call.
    Http {
        /// The endpoint URI (may hold `{param}` placeholders filled by requestParameters).
        uri: String,
        /// `httpMethod`.
        http_method: String,
    },
}

/// `passthroughBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PassthroughBehavior {
    /// `WHEN_NO_MATCH` (default): no template for the content type → body passes through.
    #[default]
    WhenNoMatch,
    /// `WHEN_NO_TEMPLATES`: pass through only if there are no templates at all, else 415.
    WhenNoTemplates,
    /// `NEVER`: no template for the content type → 415.
    Never,
}

/// `contentHandling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentHandling {
    /// `CONVERT_TO_BINARY`.
    ConvertToBinary,
    /// `CONVERT_TO_TEXT`.
    ConvertToText,
}

/// Where an integration request parameter goes (`integration.request.{kind}.{name}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrationRequestTarget {
    /// `integration.request.header.X`.
    Header(String),
    /// `integration.request.querystring.X`.
    QueryString(String),
    /// `integration.request.multivaluequerystring.X`.
    MultiValueQueryString(String),
    /// `integration.request.path.X`.
    Path(String),
}

/// One entry of `responses`.
#[derive(Debug, Clone)]
pub struct IntegrationResponse {
    /// The key, compiled; `None` for `default`.
    pub selection_pattern: Option<SelectionPattern>,
    /// `statusCode` of the method response it selects.
    pub status_code: u16,
    /// `responseParameters`: method response header name ← source.
    pub response_parameters: Vec<(String, ParameterSource)>,
    /// `responseTemplates`, parsed, by MIME type in document order.
    pub response_templates: IndexMap<String, vtl::Template>,
    /// `contentHandling`.
    pub content_handling: Option<ContentHandling>,
}

/// The right-hand side of a parameter mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterSource {
    /// `'application/json'`: the text between the quotes.
    Static(String),
    /// `method.request.path.id`.
    MethodRequestPath(String),
    /// `method.request.querystring.q`.
    MethodRequestQueryString(String),
    /// `method.request.multivaluequerystring.q`.
    MethodRequestMultiValueQueryString(String),
    /// `method.request.header.X`.
    MethodRequestHeader(String),
    /// `method.request.multivalueheader.X`.
    MethodRequestMultiValueHeader(String),
    /// `method.request.body` (`None`) or `method.request.body.a.b` (`Some("$.a.b")`).
    MethodRequestBody(Option<String>),
    /// `integration.response.header.X`.
    IntegrationResponseHeader(String),
    /// `integration.response.multivalueheader.X`.
    IntegrationResponseMultiValueHeader(String),
    /// `integration.response.body` (`None`) or `integration.response.body.a` (`Some("$.a")`).
    IntegrationResponseBody(Option<String>),
    /// `context.requestId`, `context.identity.sourceIp`: the path after `context.`.
    Context(String),
    /// `stageVariables.name`.
    StageVariable(String),
}

// === Gateway responses ===

/// An override of one gateway response type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResponse {
    /// Which error it answers.
    pub response_type: GatewayResponseType,
    /// `statusCode`; `None` keeps the type's default.
    pub status_code: Option<u16>,
    /// `responseParameters`: `gatewayresponse.header.X` name ← source.
    pub response_parameters: Vec<(String, ParameterSource)>,
    /// `responseTemplates` by MIME type. These are `$context.error.*` substitutions,
    /// not VTL, as in API Gateway.
    pub response_templates: IndexMap<String, String>,
}

macro_rules! gateway_response_types {
    ($($variant:ident = $name:literal, $status:expr;)*) => {
        /// The 21 gateway response types.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum GatewayResponseType {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
        }

        impl GatewayResponseType {
            /// All types, in AWS's documentation order.
            pub const ALL: &'static [GatewayResponseType] = &[$(GatewayResponseType::$variant,)*];

            /// AWS's name (`MISSING_AUTHENTICATION_TOKEN`).
            pub fn as_str(self) -> &'static str {
                match self { $(GatewayResponseType::$variant => $name,)* }
            }

            /// Parses AWS's name.
            pub fn from_name(name: &str) -> Option<GatewayResponseType> {
                match name { $($name => Some(GatewayResponseType::$variant),)* _ => None }
            }

            /// API Gateway's default status (`None` for DEFAULT_4XX / DEFAULT_5XX).
            pub fn default_status(self) -> Option<u16> {
                match self { $(GatewayResponseType::$variant => $status,)* }
            }
        }
    };
}

gateway_response_types! {
    AccessDenied = "ACCESS_DENIED", Some(403);
    ApiConfigurationError = "API_CONFIGURATION_ERROR", Some(500);
    AuthorizerConfigurationError = "AUTHORIZER_CONFIGURATION_ERROR", Some(500);
    AuthorizerFailure = "AUTHORIZER_FAILURE", Some(500);
    BadRequestBody = "BAD_REQUEST_BODY", Some(400);
    BadRequestParameters = "BAD_REQUEST_PARAMETERS", Some(400);
    Default4xx = "DEFAULT_4XX", None;
    Default5xx = "DEFAULT_5XX", None;
    ExpiredToken = "EXPIRED_TOKEN", Some(403);
    IntegrationFailure = "INTEGRATION_FAILURE", Some(504);
    IntegrationTimeout = "INTEGRATION_TIMEOUT", Some(504);
    InvalidApiKey = "INVALID_API_KEY", Some(403);
    InvalidSignature = "INVALID_SIGNATURE", Some(403);
    MissingAuthenticationToken = "MISSING_AUTHENTICATION_TOKEN", Some(403);
    QuotaExceeded = "QUOTA_EXCEEDED", Some(429);
    RequestTooLarge = "REQUEST_TOO_LARGE", Some(413);
    ResourceNotFound = "RESOURCE_NOT_FOUND", Some(404);
    Throttled = "THROTTLED", Some(429);
    Unauthorized = "UNAUTHORIZED", Some(401);
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE", Some(415);
    WafFiltered = "WAF_FILTERED", Some(403);
}

impl fmt::Display for GatewayResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
