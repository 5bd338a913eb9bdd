//! What each phase saw, in the shape of API Gateway's test-invoke execution log: method
//! request, endpoint request URI/headers/"body after transformations", endpoint response,
//! the selected integration response, method response status/headers/body. Recording is off
//! unless asked for, so the server pays nothing for it.

use std::fmt;

use http::HeaderMap;

use super::integration::EndpointRequest;
use super::select::SelectedBy;
use super::{EndpointResponse, GatewayError, GatewayRequest, GatewayResponse, RequestContext};
use crate::config::IntegrationResponse;

/// The execution log of one invocation.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    enabled: bool,
    lines: Vec<String>,
}

impl Transcript {
    pub(crate) fn disabled() -> Transcript {
        Transcript::default()
    }

    pub(crate) fn enabled() -> Transcript {
        Transcript { enabled: true, lines: Vec::new() }
    }

    /// The log lines, in order.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    fn push(&mut self, line: impl FnOnce() -> String) {
        if self.enabled {
            self.lines.push(line());
        }
    }

    pub(crate) fn method_request(&mut self, request: &GatewayRequest, ctx: &RequestContext) {
        self.push(|| format!("Starting execution for request: {}", ctx.request_id));
        self.push(|| {
            let resource = if ctx.resource_path.is_empty() { "(no route)" } else { &ctx.resource_path };
            format!("HTTP Method: {}, Resource Path: {resource}", ctx.http_method)
        });
        self.push(|| format!("Method request path: {}", pairs(&ctx.path_params)));
        self.push(|| format!("Method request query string: {}", pairs(&ctx.query)));
        self.push(|| format!("Method request headers: {}", headers(&request.headers)));
        self.push(|| format!("Method request body before transformations: {}", text(&request.body)));
    }

    pub(crate) fn endpoint_request(&mut self, r: &EndpointRequest) {
        if r.uri.is_empty() {
            self.push(|| "Endpoint request: mock integration".to_string());
        } else {
            self.push(|| format!("Endpoint request URI: {}", r.uri));
        }
        self.push(|| format!("Endpoint request headers: {}", headers(&r.headers)));
        self.push(|| format!("Endpoint request body after transformations: {}", text(&r.body)));
    }

    pub(crate) fn endpoint_response(&mut self, r: &EndpointResponse) {
        self.push(|| format!("Received response. Status: {}", r.status));
        self.push(|| format!("Endpoint response headers: {}", headers(&r.headers)));
        self.push(|| format!("Endpoint response body before transformations: {}", text(&r.body)));
        if let Some(t) = &r.error_text {
            self.push(|| format!("Endpoint error text: {t}"));
        }
    }

    pub(crate) fn selected(&mut self, (rule, by): (&IntegrationResponse, SelectedBy), r: &EndpointResponse) {
        self.push(|| {
            let pattern = rule.selection_pattern.as_ref().map(|p| p.as_str()).unwrap_or("default");
            let subject = match by {
                SelectedBy::ErrorText => format!("error text `{}`", r.error_text.as_deref().unwrap_or("")),
                SelectedBy::ErrorMessage => format!("Lambda errorMessage `{}`", r.function_error.as_deref().unwrap_or("")),
                SelectedBy::StatusCode => format!("status code `{}`", r.status),
                SelectedBy::Default => "no pattern matched".to_string(),
            };
            format!("Selected integration response: `{pattern}` → {} ({subject})", rule.status_code)
        });
    }

    pub(crate) fn error(&mut self, e: &GatewayError) {
        self.push(|| format!("Execution failed: {e}"));
    }

    pub(crate) fn method_response(&mut self, r: &GatewayResponse) {
        self.push(|| format!("Method response body after transformations: {}", text(&r.body)));
        self.push(|| format!("Method response headers: {}", headers(&r.headers)));
        self.push(|| format!("Method completed with status: {}", r.status.as_u16()));
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

fn pairs(p: &[(String, String)]) -> String {
    let inner: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn headers(h: &HeaderMap) -> String {
    let inner: Vec<String> =
        h.iter().map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v.as_bytes()))).collect();
    format!("{{{}}}", inner.join(", "))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
