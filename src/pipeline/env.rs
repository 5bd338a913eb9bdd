//! The template environment of one request, built lazily over [`apigw::TemplateEnv`]: the
//! request template and the response templates see the same `$context` (so `requestOverride`
//! / `responseOverride` and custom keys set in one are visible in the other), plus `$input`,
//! `$util` and `$stageVariables`. Routes that never render a template never build it.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use super::gateway_error::{GatewayError, GatewayResponseType as T};
use super::{App, EndpointResponse, GatewayRequest, RequestContext};
use crate::apigw;
use crate::vtl;

pub(crate) use apigw::Overrides;

thread_local! {
    /// `$context.deploymentId`, one per thread (see [`super::shared`]).
    static DEPLOYMENT_ID: Arc<str> = Arc::from("stepgate");
}

/// `$context` and friends for one request.
pub(crate) struct TemplateEnv<'a> {
    app: &'a App,
    request: &'a GatewayRequest,
    ctx: &'a RequestContext,
    env: OnceLock<apigw::TemplateEnv>,
}

impl<'a> TemplateEnv<'a> {
    pub fn new(app: &'a App, request: &'a GatewayRequest, ctx: &'a RequestContext) -> TemplateEnv<'a> {
        TemplateEnv { app, request, ctx, env: OnceLock::new() }
    }

    fn env(&self) -> &apigw::TemplateEnv {
        self.env.get_or_init(|| build(self.app, self.request, self.ctx))
    }

    /// Renders a request template over the method request.
    pub fn render_request(&self, template: &vtl::Template, mime: &str) -> Result<Bytes, GatewayError> {
        let env = self.env();
        template
            .render(&mut env.request_context())
            .map(into_bytes)
            .map_err(|e| self.render_error(e, "request", mime))
    }

    /// Renders a response template over the integration's answer.
    pub fn render_response(
        &self,
        template: &vtl::Template,
        mime: &str,
        endpoint: &EndpointResponse,
    ) -> Result<Bytes, GatewayError> {
        let env = self.env();
        template
            .render(&mut env.response_context(endpoint.body.clone()))
            .map(into_bytes)
            .map_err(|e| self.render_error(e, "response", mime))
    }

    /// A failed render is API Gateway's 500, except a malformed JSON payload met by
    /// `$input.path`/`$input.json`, which is a 400 with json-smart's message.
    fn render_error(&self, e: vtl::Error, which: &str, mime: &str) -> GatewayError {
        if let Some(message) = self.env().payload_error() {
            return GatewayError::new(T::BadRequestBody).with_message(message).with_detail(format!("{e:#}"));
        }
        GatewayError::configuration(format!("{which} template `{mime}`: {e:#}"))
    }

    /// What the templates rendered so far asked to override (nothing if none rendered).
    pub fn overrides(&self) -> Result<Overrides, GatewayError> {
        match self.env.get() {
            None => Ok(Overrides::default()),
            Some(env) => env
                .overrides()
                .map_err(|e| GatewayError::configuration(format!("responseOverride.status: {e}"))),
        }
    }
}

/// A rendered body as bytes. The render's buffer is trimmed to its length first (in place
/// for the allocator), so the bytes take it over without allocating a shared header.
fn into_bytes(out: String) -> Bytes {
    Bytes::from(out.into_bytes().into_boxed_slice())
}

/// The request as `apigw` sees it.
fn build(app: &App, request: &GatewayRequest, ctx: &RequestContext) -> apigw::TemplateEnv {
    let api = app.api();
    let path = match api.stage_in_path {
        true => request
            .path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(api.stage.as_str()))
            .filter(|p| p.is_empty() || p.starts_with('/'))
            .unwrap_or(&request.path),
        false => &request.path,
    };
    // Most paths have nothing to decode: copy them once, without the decoder's pass.
    let path: Arc<str> = match path.contains('%') {
        true => Arc::from(&*percent_encoding::percent_decode_str(path).decode_utf8_lossy()),
        false => Arc::from(path),
    };
    let title_case = request.protocol != "HTTP/2.0";
    let mut headers = Vec::with_capacity(request.headers.len());
    for (k, v) in &request.headers {
        let Ok(value) = v.to_str() else { continue };
        let name = if title_case { title_case_header(k.as_str()) } else { k.as_str().to_string() };
        headers.push((name, value.to_string()));
    }
    let mut identity = Vec::new();
    if let Some(key) = &ctx.api_key {
        identity.push(("apiKey".to_string(), key.clone()));
    }
    let data = apigw::RequestData {
        method: ctx.http_method.clone(),
        path,
        resource_path: ctx.resource_path.clone(),
        headers,
        query: ctx.query.clone(),
        path_params: ctx.path_params.clone(),
        body: request.body.clone(),
        stage_variables: api.stage_variables.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        context: apigw::RequestContext {
            request_id: ctx.request_id.clone(),
            extended_request_id: ctx.extended_request_id.clone(),
            stage: ctx.stage.clone(),
            api_id: ctx.api_id.clone(),
            account_id: ctx.account_id.clone(),
            resource_id: ctx.resource_id.clone(),
            domain_name: ctx.domain_name.clone(),
            deployment_id: DEPLOYMENT_ID.with(Arc::clone),
            protocol: ctx.protocol.clone(),
            request_time_epoch_ms: ctx.request_time_epoch,
            source_ip: ctx.source_ip.clone(),
            user_agent: None,
            path: None,
            identity,
            authorizer: None,
            error: None,
            extra: Vec::new(),
        },
    };
    let limits = app.limits();
    apigw::TemplateEnv::new(data).with_limits(vtl::Limits {
        max_foreach: limits.max_foreach,
        max_depth: limits.max_template_depth,
        max_output: limits.max_template_output,
    })
}

/// `x-api-key` → `X-Api-Key`: HTTP/1 header names as most clients spell them (the server
/// sees them lower-cased).
fn title_case_header(name: &str) -> String {
    let mut out = name.to_string();
    let mut upper = true;
    for (i, b) in name.bytes().enumerate() {
        // After `-` (ASCII) a character starts; only an ASCII letter there changes.
        if upper && let Some(first) = out.get_mut(i..i + 1) {
            first.make_ascii_uppercase();
        }
        upper = b == b'-';
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn title_case_header_capitalises_each_word() {
        assert_eq!(super::title_case_header("x-api-key"), "X-Api-Key");
        assert_eq!(super::title_case_header("content-type"), "Content-Type");
        assert_eq!(super::title_case_header("-a--b\u{e9}-\u{e9}x"), "-A--B\u{e9}-\u{e9}x");
        assert_eq!(super::title_case_header(""), "");
    }
}
