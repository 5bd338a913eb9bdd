//! API Gateway's mapping-template environment: `$input`, `$util`, `$context` and
//! `$stageVariables` as [`vtl`](crate::vtl) values. Uses `vtl` and `jsonpath`; knows
//! nothing of hyper or of the pipeline.
//!
//! # How the gateway uses it
//!
//! ```
//! use stepgate::apigw::{RequestData, TemplateEnv};
//! use stepgate::vtl::Template;
//!
//! let req = RequestData {
//!     method: "POST".into(),
//!     path: "/orders".into(),
//!     resource_path: "/orders".into(),
//!     headers: vec![("Content-Type".into(), "application/json".into())],
//!     body: r#"{"id": 1}"#.into(),
//!     ..RequestData::default()
//! };
//! let env = TemplateEnv::new(req);
//!
//! // Integration request: one render with the request's $input.
//! let t = Template::parse("request", r#"{"input": "$util.escapeJavaScript($input.json('$'))"}"#)?;
//! let body = t.render(&mut env.request_context())?;
//!
//! // Integration response: the same $context (overrides and all), $input over the backend body.
//! let r = Template::parse("response", "#set($context.responseOverride.status = 201)")?;
//! r.render(&mut env.response_context(r#"{"executionArn": "arn"}"#))?;
//! let overrides = env.overrides().expect("a valid status");
//! # let _ = (body, overrides);
//! # Ok::<(), stepgate::vtl::Error>(())
//! ```
//!
//! - [`RequestData`]: method, path, resource path, headers (ordered multi-map), query,
//!   path parameters, body bytes, stage variables, and the [`RequestContext`] values
//!   (requestId, stage, apiId, sourceIp, authorizer, ...). `Default` fills fresh ids,
//!   the current time and local placeholders.
//! - [`TemplateEnv`]: one per request. Holds the `$context` that the request and the
//!   response template share (what one template `#set`s, the next one sees); the map behind
//!   it is built only when a template needs more than plain reads of its keys.
//! - [`TemplateEnv::request_context`] / [`TemplateEnv::response_context`]: a fresh
//!   `vtl::Context` with `input`, `util`, `context`, `stageVariables`.
//! - [`TemplateEnv::overrides`]: `requestOverride.{header,path,querystring}` and
//!   `responseOverride.{status,header}` after rendering ([`Overrides`]).
//! - [`TemplateEnv::payload_error`]: set when `$input.path`/`$input.json` failed on a
//!   malformed JSON payload: API Gateway answers 400 with
//!   `{"message": "<this text>"}` instead of a 500 template error.
//!
//! Rules implemented here (sources in `../shared/reference/apigw-mapping.md` §2–4): empty
//! body reads as `{}`; `$input.path` returns Java-shaped values, `$input.json` json-smart
//! text (`""` when nothing matches); non-JSON payloads read as a string; `$input.params(x)`
//! looks in path, then querystring, then header; hop-by-hop headers
//! ([`HIDDEN_HEADERS`]) are invisible; `$util.escapeJavaScript` is commons-lang 2.6's;
//! `$context` keys come in the order AWS's `keySet()` shows, and its nested values
//! (`identity`, `authorizer`, `requestOverride`, `responseOverride` and their maps) are
//! [`ContextMap`] objects: readable and writable like maps, rendering as nothing, as on AWS.
//!
//! Known choices where AWS is not recorded: `$input.json` of a path that matches nothing
//! gives `""` (LocalStack's reading of the AWS console; the json-smart model gives
//! nothing); an index or slice applied to an object gives nothing (Jayway 2.0 raises an
//! `InvalidPathException` there).

mod context;
mod input;
mod java;
pub mod json_smart;
mod request;
mod util;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use bytes::Bytes;

use crate::vtl::{Context, Limits, Map, MapRef, Value};

pub use context::{ContextMap, InvalidStatusOverride, Overrides, format_request_time};
pub use input::Input;
pub use java::to_java_string;
pub use request::{ErrorContext, HIDDEN_HEADERS, RequestContext, RequestData, header_visible};
pub use util::{Util, base64_decode, base64_encode, escape_javascript, escape_javascript_into, url_decode, url_encode};

thread_local! {
    /// The names of the four template variables and `$util` (which holds no state), made
    /// once per thread: two renders per request would otherwise allocate and free the names
    /// eight times, and with one copy for all threads every worker would write the same
    /// reference counts, whose cache lines would then bounce between cores.
    static VARIABLES: ([Arc<str>; 4], Value) =
        (["input", "util", "context", "stageVariables"].map(Arc::from), Value::object(Util));
}

/// The template environment of one request (see the module docs).
#[derive(Debug, Clone)]
pub struct TemplateEnv {
    request: Arc<RequestData>,
    context: Arc<context::LazyContext>,
    stage_variables: MapRef,
    params: input::Params,
    payload_error: input::PayloadError,
    limits: Limits,
}

impl TemplateEnv {
    /// Builds `$context`, `$stageVariables` and the `$input.params()` maps for a request.
    pub fn new(request: RequestData) -> TemplateEnv {
        let request = Arc::new(request);
        let context = context::LazyContext::new(request.clone());
        let stage_variables = MapRef::new(false, Map::default());
        for (k, v) in &request.stage_variables {
            stage_variables.insert(k.as_str(), Value::from(v.as_str()));
        }
        let params = input::Params::new(request.clone());
        TemplateEnv {
            request,
            context,
            stage_variables,
            params,
            payload_error: Default::default(),
            limits: Limits::default(),
        }
    }

    /// Uses these render limits for the contexts made from now on.
    pub fn with_limits(mut self, limits: Limits) -> TemplateEnv {
        self.limits = limits;
        self
    }

    /// The request this environment was built from.
    pub fn request(&self) -> &RequestData {
        &self.request
    }

    /// The shared `$context` map (read it after rendering, or add values before). Templates
    /// see `$context` as an object answering plain reads from the request until something
    /// needs the map; this builds it.
    pub fn context_map(&self) -> &MapRef {
        self.context.map()
    }

    /// Sets `$context.<dotted.key>` (e.g. `error.message` before a gateway response).
    pub fn set_context(&self, dotted_key: &str, value: Value) {
        context::set_dotted(self.context.map(), dotted_key, value);
    }

    /// A render context for the integration request template: `$input` over the
    /// method request body.
    pub fn request_context(&self) -> Context {
        self.make_context(self.request.body.clone())
    }

    /// A render context for an integration response template: `$input` over the
    /// integration response body (`$input.params()` still gives the method request's).
    pub fn response_context(&self, integration_body: impl Into<Bytes>) -> Context {
        self.make_context(integration_body.into())
    }

    fn make_context(&self, body: Bytes) -> Context {
        let input = Input::new(body, self.params.clone(), self.payload_error.clone());
        VARIABLES.with(|([input_name, util_name, context_name, stage_variables_name], util)| {
            Context::with_variables(
                self.limits,
                [
                    (input_name.clone(), Value::object(input)),
                    (util_name.clone(), util.clone()),
                    (context_name.clone(), Value::Object(self.context.clone())),
                    (stage_variables_name.clone(), Value::Map(self.stage_variables.clone())),
                ],
            )
        })
    }

    /// The overrides the templates set so far.
    pub fn overrides(&self) -> Result<Overrides, InvalidStatusOverride> {
        context::overrides(self.context.override_maps())
    }

    /// API Gateway's message for a malformed JSON payload met by `$input.path` /
    /// `$input.json` (`Could not process payloadnet.minidev.json.parser.ParseException:
    /// ...`), if that is why a render failed. Answer 400 `{"message": ...}` then.
    pub fn payload_error(&self) -> Option<String> {
        self.payload_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
