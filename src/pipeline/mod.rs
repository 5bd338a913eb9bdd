//! One request through an API Gateway method, as plain data in and out: no sockets, so the
//! server, the `invoke` command, the tests and the benches all run the same code.
//!
//! The phases, one function each, in the order API Gateway runs them:
//!
//! ```text
//! GatewayRequest
//!   → route                  routing::Router; unknown path/method ⇒ 403 MISSING_AUTHENTICATION_TOKEN
//!   → method request         request::check_method_request: API key, required parameters, body model
//!   → integration request    request::map_request: template by Content-Type MIME, passthrough
//!                            behaviour (415), requestParameters, VTL render, requestOverride
//!   → integration            integration::call: aws (backend::dispatch) | Lambda (backend::lambda)
//!                            | mock | http, under the integration timeout (504)
//!   → integration response   select::select_response: selectionPattern (status code; error text
//!                            unless aws-strict; Lambda: errorMessage), default rule, else 500
//!   → method response        response::map_response: responseParameters, template by Accept or
//!                            byte-for-byte passthrough, responseOverride, reserved headers
//!   → GatewayResponse        + x-amzn-RequestId
//!  any failure ──────────────→ gateway_error::respond (one table, overridable per API)
//! ```
//!
//! Uses `config` (the validated model), `routing`, `apigw` + `vtl` (templates), `sfn` and the
//! `backend` trait (never a concrete backend).

mod context;
mod env;
pub mod gateway_error;
mod integration;
mod params;
mod request;
mod response;
mod select;
mod shared;
mod transcript;
#[cfg(test)]
mod tests;

pub use context::RequestContext;
pub use gateway_error::{GatewayError, GatewayResponseType};
pub use integration::EndpointResponse;
pub use transcript::Transcript;

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use crate::backend::StepFunctions;
use crate::config;
use crate::routing::{self, Router};

/// A request as the gateway sees it, after the server read it off the wire.
#[derive(Clone, Debug)]
pub struct GatewayRequest {
    pub method: Method,
    /// The path as sent (percent-encoded, with the stage prefix if the API has one).
    pub path: String,
    /// The raw query string without `?`.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The client address (`$context.identity.sourceIp`).
    pub source_ip: Option<IpAddr>,
    /// `HTTP/1.1`, `HTTP/2.0` (`$context.protocol`).
    pub protocol: &'static str,
}

impl GatewayRequest {
    /// A request with no headers, query or body.
    pub fn new(method: Method, path: impl Into<String>) -> GatewayRequest {
        let path = path.into();
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (path, None),
        };
        GatewayRequest {
            method,
            path,
            query,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            source_ip: None,
            protocol: "HTTP/1.1",
        }
    }

    /// Adds a header (ignored if the name or value is not valid HTTP).
    pub fn with_header(mut self, name: &str, value: &str) -> GatewayRequest {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            self.headers.append(n, v);
        }
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> GatewayRequest {
        self.body = body.into();
        self
    }
}

/// The response the gateway sends back.
#[derive(Clone, Debug)]
pub struct GatewayResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Everything needed to answer requests for one API: the validated model, its route table,
/// the Step Functions backend and the HTTP client for `http` integrations.
pub struct App {
    api: config::Api,
    router: Router<usize>,
    /// Names this app's per-thread copies of its `$context` strings and response headers ([`shared`]).
    shared: shared::CopyKey,
    backend: Arc<dyn StepFunctions>,
    lambda: Arc<dyn crate::backend::lambda::Lambda>,
    http: integration::HttpClient,
    limits: config::Limits,
    identity: Identity,
}

/// Who the API is (`$context.apiId`, `accountId`, `domainName`).
#[derive(Clone, Debug)]
pub struct Identity {
    pub api_id: String,
    pub account_id: String,
    pub region: String,
}

impl Default for Identity {
    fn default() -> Identity {
        Identity {
            api_id: "stepgate".to_string(),
            account_id: "123456789012".to_string(),
            region: "us-east-1".to_string(),
        }
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("routes", &self.api.routes.len()).finish_non_exhaustive()
    }
}

impl App {
    /// Builds the route table of `api`. Fails on a malformed or duplicate resource path.
    pub fn new(api: config::Api, backend: Arc<dyn StepFunctions>) -> Result<App, routing::Error> {
        let stage = api.stage_in_path.then(|| api.stage.clone());
        let mut router = Router::new().with_stage(stage);
        for (i, route) in api.routes.iter().enumerate() {
            router.insert(&route.http_method, &route.path_template, i)?;
        }
        let shared = shared::CopyKey::new();
        Ok(App {
            shared,
            api,
            router,
            backend,
            lambda: Arc::new(crate::backend::lambda::Unconfigured("no Lambda invoker was given to the gateway".into())),
            http: integration::HttpClient::new(),
            limits: config::Limits::default(),
            identity: Identity::default(),
        })
    }

    /// Uses these limits (body size, default integration timeout, template limits).
    pub fn with_limits(mut self, limits: config::Limits) -> App {
        self.limits = limits;
        self
    }

    /// Invokes Lambda custom integrations' functions with `lambda`.
    pub fn with_lambda(mut self, lambda: Arc<dyn crate::backend::lambda::Lambda>) -> App {
        self.lambda = lambda;
        self
    }

    /// Uses this API id, account and region in `$context`.
    pub fn with_identity(mut self, identity: Identity) -> App {
        self.shared = shared::CopyKey::new();
        self.identity = identity;
        self
    }

    /// The API served.
    pub fn api(&self) -> &config::Api {
        &self.api
    }

    /// The limits in force.
    pub fn limits(&self) -> &config::Limits {
        &self.limits
    }

    /// Every route as `(method, path)`, with the stage prefix if requests carry one.
    pub fn routes(&self) -> Vec<(String, String)> {
        let prefix = self.router.stage().map(|s| format!("/{s}")).unwrap_or_default();
        self.router
            .routes()
            .map(|(m, p, _)| (m.to_string(), format!("{prefix}{}", if p == "/" && !prefix.is_empty() { "" } else { p })))
            .collect()
    }

    /// The response for a failure that happened before the pipeline ran (body too large,
    /// unreadable request), shaped by this API's gateway responses.
    pub fn reject(&self, request: &GatewayRequest, error: &GatewayError) -> GatewayResponse {
        let ctx = RequestContext::new(self, request, None);
        let mut response = gateway_error::respond(
            &self.api.gateway_responses,
            error,
            header(&request.headers, "accept"),
            &|s| params::Sources { app: self, request, ctx: &ctx, endpoint: None }.resolve(s),
        );
        finish(&mut response, &ctx);
        response
    }
}

/// Runs one request through every phase.
pub async fn invoke(app: &App, request: GatewayRequest) -> GatewayResponse {
    run(app, request, &mut Transcript::disabled()).await
}

/// Runs one request and records what each phase saw (the `invoke` command's transcript).
pub async fn invoke_traced(app: &App, request: GatewayRequest) -> (GatewayResponse, Transcript) {
    let mut transcript = Transcript::enabled();
    let response = run(app, request, &mut transcript).await;
    (response, transcript)
}

async fn run(app: &App, request: GatewayRequest, transcript: &mut Transcript) -> GatewayResponse {
    let mut found = app.router.find(request.method.as_str(), &request.path);
    let mut ctx = RequestContext::new(app, &request, found.as_ref());
    if let Some(m) = &mut found {
        ctx.path_params = std::mem::take(&mut m.path_params);
    }
    transcript.method_request(&request, &ctx);
    let result = match found {
        Some(m) => phases(app, *m.value, &request, &mut ctx, transcript).await,
        None => Err(GatewayError::missing_authentication_token()),
    };
    let mut response = match result {
        Ok(response) => response,
        Err(error) => {
            transcript.error(&error);
            ctx.set_error(&error);
            if gateway_error::default_status(error.response_type).is_server_error() {
                // Template diagnostics (with their caret excerpt) and backend failures.
                tracing::warn!(
                    request_id = %ctx.request_id,
                    route = %format!("{} {}", ctx.http_method, ctx.resource_path),
                    "{error}"
                );
            } else {
                tracing::debug!(request_id = %ctx.request_id, "{error}");
            }
            gateway_error::respond(
                &app.api.gateway_responses,
                &error,
                header(&request.headers, "accept"),
                &|s| params::Sources { app, request: &request, ctx: &ctx, endpoint: None }.resolve(s),
            )
        }
    };
    finish(&mut response, &ctx);
    transcript.method_response(&response);
    response
}

/// The phases after routing.
async fn phases(
    app: &App,
    route_index: usize,
    request: &GatewayRequest,
    ctx: &mut RequestContext,
    transcript: &mut Transcript,
) -> Result<GatewayResponse, GatewayError> {
    let method = &app.api.routes[route_index].method;
    let integration = &method.integration;
    request::check_method_request(app, method, request, ctx)?;
    let ctx = &*ctx;
    let env = env::TemplateEnv::new(app, request, ctx);
    let endpoint_request = request::map_request(app, integration, request, ctx, &env)?;
    transcript.endpoint_request(&endpoint_request);
    let endpoint_response = integration::call(app, integration, endpoint_request).await?;
    transcript.endpoint_response(&endpoint_response);
    let selected = select::select_response(app.api.selection_mode, integration, &endpoint_response)?;
    transcript.selected(selected, &endpoint_response);
    let rule_index = integration.responses.iter().position(|r| std::ptr::eq(r, selected.0));
    shared::with(app, |shared| {
        let prepared = rule_index.and_then(|i| shared.response_headers.get(route_index)?.get(i));
        response::map_response(app, method, selected, prepared.map_or(&[], Vec::as_slice), request, ctx, &env, endpoint_response)
    })
}

/// `x-amzn-RequestId` (as HTTP/2 and hyper spell header names).
const X_AMZN_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
/// `x-amz-apigw-id`.
const X_AMZ_APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");

/// Headers every response carries.
fn finish(response: &mut GatewayResponse, ctx: &RequestContext) {
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        response.headers.insert(X_AMZN_REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.extended_request_id) {
        response.headers.insert(X_AMZ_APIGW_ID, v);
    }
}

/// A header as text, if present and valid UTF-8.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
