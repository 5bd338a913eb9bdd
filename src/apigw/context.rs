//! `$context`: the REST API context variables as one shared, writable map, built in the
//! key order API Gateway's `$context.keySet()` shows, and the override maps read back
//! after rendering ([`Overrides`]).

use std::sync::Arc;

use indexmap::IndexMap;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::vtl::{Map, MapRef, Value};

use super::java::to_java_string;
use super::request::RequestData;

/// `$context.identity` keys, in the order AWS lists them.
const IDENTITY_KEYS: [&str; 12] = [
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
];

/// `dd/MMM/yyyy:HH:mm:ss +0000` for an epoch-milliseconds instant (UTC).
pub fn format_request_time(epoch_ms: i64) -> String {
    let fmt = format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(epoch_ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

fn map() -> MapRef {
    MapRef::new(false, Map::new())
}

fn text(s: &str) -> Value {
    Value::from(s)
}

/// Builds `$context` for one request.
pub(crate) fn build(req: &RequestData) -> MapRef {
    let c = &req.context;
    let ctx = map();
    let path = match &c.path {
        Some(p) => p.clone(),
        None if c.stage.is_empty() => req.path.clone(),
        None => format!("/{}{}", c.stage, req.path),
    };
    let domain_prefix = c.domain_name.split('.').next().unwrap_or_default();

    let identity = map();
    for key in IDENTITY_KEYS {
        identity.insert(key, Value::Null);
    }
    identity.insert("sourceIp", text(&c.source_ip));
    let user_agent = c.user_agent.clone().or_else(|| header(req, "User-Agent"));
    if let Some(ua) = user_agent {
        identity.insert("userAgent", text(&ua));
    }
    for (k, v) in &c.identity {
        identity.insert(k.as_str(), text(v));
    }

    let request_override = map();
    for key in ["path", "header", "querystring"] {
        request_override.insert(key, Value::Map(map()));
    }
    let response_override = map();
    response_override.insert("header", Value::Map(map()));

    ctx.insert("resourceId", text(&c.resource_id));
    ctx.insert("resourcePath", text(&req.resource_path));
    ctx.insert("httpMethod", text(&req.method));
    ctx.insert("extendedRequestId", text(&c.extended_request_id));
    ctx.insert("requestTime", text(&format_request_time(c.request_time_epoch_ms)));
    ctx.insert("path", text(&path));
    ctx.insert("accountId", text(&c.account_id));
    ctx.insert("protocol", text(&c.protocol));
    ctx.insert("requestOverride", Value::Map(request_override));
    ctx.insert("stage", text(&c.stage));
    ctx.insert("domainPrefix", text(domain_prefix));
    ctx.insert("requestTimeEpoch", Value::Long(c.request_time_epoch_ms));
    ctx.insert("requestId", text(&c.request_id));
    ctx.insert("identity", Value::Map(identity));
    ctx.insert("domainName", text(&c.domain_name));
    ctx.insert("deploymentId", text(&c.deployment_id));
    ctx.insert("responseOverride", Value::Map(response_override));
    ctx.insert("apiId", text(&c.api_id));

    if let Some(auth) = &c.authorizer {
        let a = map();
        for (k, v) in auth {
            // Authorizer context values are strings (`1` -> "1"); `claims` stays a map.
            let value = match v {
                serde_json::Value::Object(_) => Value::from_json(v),
                serde_json::Value::String(s) => text(s),
                other => text(&other.to_string()),
            };
            a.insert(k.as_str(), value);
        }
        ctx.insert("authorizer", Value::Map(a));
    }
    if let Some(e) = &c.error {
        let m = map();
        m.insert("message", text(&e.message));
        m.insert("messageString", text(&serde_json::Value::from(e.message.as_str()).to_string()));
        m.insert("responseType", text(&e.response_type));
        m.insert("validationErrorString", text(&e.validation_error_string));
        ctx.insert("error", Value::Map(m));
    }
    for (key, value) in &c.extra {
        set_dotted(&ctx, key, plain_value(value));
    }
    ctx
}

fn header(req: &RequestData, name: &str) -> Option<String> {
    req.headers.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

/// A JSON value as a context value (objects become plain maps, arrays Java lists).
fn plain_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Object(o) => {
            let m = map();
            for (k, item) in o {
                m.insert(k.as_str(), plain_value(item));
            }
            Value::Map(m)
        }
        serde_json::Value::Array(a) => Value::java_list(a.iter().map(plain_value).collect()),
        other => Value::from_json(other),
    }
}

/// Sets `a.b.c` inside nested maps, creating (or replacing non-map) intermediates; an
/// object value is merged into an existing map.
pub(crate) fn set_dotted(root: &MapRef, key: &str, value: Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut cur = root.clone();
    for p in parts {
        let next = match cur.get(p) {
            Some(Value::Map(m)) => m,
            _ => {
                let m = map();
                cur.insert(p, Value::Map(m.clone()));
                m
            }
        };
        cur = next;
    }
    match (cur.get(last), value) {
        (Some(Value::Map(existing)), Value::Map(new)) => {
            let entries: Vec<(Arc<str>, Value)> = new.lock().entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            for (k, v) in entries {
                existing.insert(k, v);
            }
        }
        (_, value) => cur.insert(last, value),
    }
}

/// What the templates asked to override, read back from `$context` after rendering.
///
/// Header and querystring values are lists: a template that sets a list
/// (`#set($context.requestOverride.header.h = ["a", "b"])`) asks for a multi-value
/// header; [`Overrides::joined`] gives API Gateway's comma-joined single value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `$context.requestOverride.header.<name>`
    pub request_headers: IndexMap<String, Vec<String>>,
    /// `$context.requestOverride.path.<name>`
    pub request_path: IndexMap<String, String>,
    /// `$context.requestOverride.querystring.<name>`
    pub request_querystring: IndexMap<String, Vec<String>>,
    /// `$context.responseOverride.status`
    pub response_status: Option<u16>,
    /// `$context.responseOverride.header.<name>`
    pub response_headers: IndexMap<String, Vec<String>>,
}

impl Overrides {
    /// Values joined with `,` (how API Gateway sends a multi-value override header).
    pub fn joined(values: &[String]) -> String {
        values.join(",")
    }
}

/// A `responseOverride.status` that is not an HTTP status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidStatusOverride {
    /// The value as the template set it.
    pub value: String,
}

impl std::fmt::Display for InvalidStatusOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "$context.responseOverride.status is not an HTTP status code: `{}`", self.value)
    }
}

impl std::error::Error for InvalidStatusOverride {}

/// Reads the override maps out of `$context`.
pub(crate) fn overrides(ctx: &MapRef) -> Result<Overrides, InvalidStatusOverride> {
    let sub = |outer: &str, inner: &str| -> Option<MapRef> {
        match ctx.get(outer)? {
            Value::Map(m) => match m.get(inner)? {
                Value::Map(i) => Some(i),
                _ => None,
            },
            _ => None,
        }
    };
    let multi = |m: Option<MapRef>| -> IndexMap<String, Vec<String>> {
        let Some(m) = m else { return IndexMap::new() };
        let entries: Vec<(Arc<str>, Value)> = m.lock().entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        entries
            .into_iter()
            .filter_map(|(k, v)| {
                let values: Vec<String> = match &v {
                    Value::Null => return None,
                    Value::List(l) => {
                        let items = l.lock().items.clone();
                        items.iter().filter_map(to_java_string).collect()
                    }
                    other => vec![to_java_string(other)?],
                };
                Some((k.to_string(), values))
            })
            .collect()
    };
    let request_path = multi(sub("requestOverride", "path"))
        .into_iter()
        .map(|(k, v)| (k, Overrides::joined(&v)))
        .collect();
    let response_status = match ctx.get("responseOverride") {
        Some(Value::Map(m)) => match m.get("status") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let s = to_java_string(&v).unwrap_or_default();
                match s.trim().parse::<u16>() {
                    Ok(code) if (100..=599).contains(&code) => Some(code),
                    _ => return Err(InvalidStatusOverride { value: s }),
                }
            }
        },
        _ => None,
    };
    Ok(Overrides {
        request_headers: multi(sub("requestOverride", "header")),
        request_path,
        request_querystring: multi(sub("requestOverride", "querystring")),
        response_status,
        response_headers: multi(sub("responseOverride", "header")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_is_common_log_format() {
        assert_eq!(format_request_time(1_795_266_942_123), "21/Nov/2026:13:15:42 +0000");
        assert_eq!(format_request_time(0), "01/Jan/1970:00:00:00 +0000");
    }

    #[test]
    fn set_dotted_creates_and_merges() {
        let m = map();
        set_dotted(&m, "identity.user", Value::from("u"));
        set_dotted(&m, "identity.caller", Value::from("c"));
        set_dotted(&m, "isCanaryRequest", Value::Bool(false));
        let Some(Value::Map(id)) = m.get("identity") else { panic!("no identity") };
        assert_eq!(id.get("user").and_then(|v| v.as_str().map(str::to_string)).as_deref(), Some("u"));
        assert_eq!(id.get("caller").and_then(|v| v.as_str().map(str::to_string)).as_deref(), Some("c"));
        assert!(matches!(m.get("isCanaryRequest"), Some(Value::Bool(false))));
    }
}
