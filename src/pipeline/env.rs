//! The template environment of one request: the request template and the response template
//! see the same `$context` (so `requestOverride` / `responseOverride` and custom keys set in
//! one are visible in the other), plus `$input`, `$util` and `$stageVariables`.
//!
//! This is a thin adapter: the objects themselves live in `apigw`.

use std::sync::Arc;

use super::{App, EndpointResponse, GatewayRequest, RequestContext};
use crate::vtl::{self, Map, MapRef, Value};

/// What templates asked to override, read back after rendering.
#[derive(Clone, Debug, Default)]
pub(crate) struct Overrides {
    pub request_headers: Vec<(String, String)>,
    pub request_path: Vec<(String, String)>,
    pub request_querystring: Vec<(String, String)>,
    pub response_status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
}

/// `$context` and friends for one request.
pub(crate) struct TemplateEnv {
    context: MapRef,
    stage_variables: Value,
    limits: vtl::Limits,
}

impl TemplateEnv {
    pub fn new(app: &App, _request: &GatewayRequest, ctx: &RequestContext) -> TemplateEnv {
        let mut m = Map::new();
        let mut put = |k: &str, v: String| {
            m.insert(Arc::from(k), Value::string(v));
        };
        for key in [
            "resourceId", "resourcePath", "httpMethod", "extendedRequestId", "requestTime", "path",
            "accountId", "protocol", "stage", "domainPrefix", "requestTimeEpoch", "requestId",
            "domainName", "deploymentId", "apiId",
        ] {
            put(key, ctx.get(key).unwrap_or_default());
        }
        let mut identity = Map::new();
        identity.insert(Arc::from("sourceIp"), Value::string(ctx.source_ip.as_str()));
        identity.insert(Arc::from("userAgent"), Value::string(ctx.user_agent.as_str()));
        if let Some(k) = &ctx.api_key {
            identity.insert(Arc::from("apiKey"), Value::string(k.as_str()));
        }
        m.insert(Arc::from("identity"), Value::map(identity));
        let mut request_override = Map::new();
        for k in ["path", "header", "querystring"] {
            request_override.insert(Arc::from(k), Value::new_map());
        }
        m.insert(Arc::from("requestOverride"), Value::map(request_override));
        let mut response_override = Map::new();
        response_override.insert(Arc::from("header"), Value::new_map());
        m.insert(Arc::from("responseOverride"), Value::map(response_override));
        let stage_variables = Value::map(
            app.api()
                .stage_variables
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), Value::string(v.as_str())))
                .collect(),
        );
        let l = app.limits();
        TemplateEnv {
            context: MapRef::new(false, m),
            stage_variables,
            limits: vtl::Limits {
                max_foreach: l.max_foreach,
                max_depth: l.max_template_depth,
                max_output: l.max_template_output,
            },
        }
    }

    fn base(&self) -> vtl::Context {
        let mut c = vtl::Context::with_limits(self.limits);
        c.insert("context", Value::Map(self.context.clone()));
        c.insert("stageVariables", self.stage_variables.clone());
        c
    }

    /// Renders a request template over the method request.
    pub fn render_request(
        &mut self,
        template: &vtl::Template,
        request: &GatewayRequest,
    ) -> Result<String, vtl::Error> {
        let _ = &request.body;
        let mut c = self.base();
        template.render(&mut c)
    }

    /// Renders a response template over the integration's answer.
    pub fn render_response(
        &mut self,
        template: &vtl::Template,
        endpoint: &EndpointResponse,
    ) -> Result<String, vtl::Error> {
        let _ = (&endpoint.body, &endpoint.headers);
        let mut c = self.base();
        template.render(&mut c)
    }

    /// What the templates rendered so far asked to override.
    pub fn overrides(&self) -> Overrides {
        let ctx = self.context.lock();
        let mut o = Overrides::default();
        if let Some(Value::Map(ro)) = ctx.entries.get("requestOverride") {
            let ro = ro.lock();
            o.request_headers = pairs(ro.entries.get("header"));
            o.request_path = pairs(ro.entries.get("path"));
            o.request_querystring = pairs(ro.entries.get("querystring"));
        }
        if let Some(Value::Map(ro)) = ctx.entries.get("responseOverride") {
            let ro = ro.lock();
            o.response_headers = pairs(ro.entries.get("header"));
            o.response_status = ro.entries.get("status").and_then(status_of);
        }
        o
    }
}

fn pairs(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Map(m)) = v else {
        return Vec::new();
    };
    m.lock()
        .entries
        .iter()
        .filter_map(|(k, v)| text_of(v).map(|t| (k.to_string(), t)))
        .collect()
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Long(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Double(d) => Some(d.to_string()),
        _ => None,
    }
}

fn status_of(v: &Value) -> Option<u16> {
    match v {
        Value::Int(i) => u16::try_from(*i).ok(),
        Value::Long(i) => u16::try_from(*i).ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
