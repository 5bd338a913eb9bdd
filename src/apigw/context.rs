//! `$context`: the REST API context variables as one shared, writable map, built in the
//! key order API Gateway's `$context.keySet()` shows, and the override maps read back
//! after rendering ([`Overrides`]).

use std::sync::Arc;

use indexmap::IndexMap;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::vtl::{Map, MapRef, Object, Value};

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

/// A nested `$context` object (`identity`, `authorizer`, `requestOverride` and its
/// `header`/`path`/`querystring`, `responseOverride` and its `header`). It reads and
/// writes like a map (`.keySet()`, `.get(k)`, `$o.k`, `#set($o.k = v)`) but renders as
/// nothing: on AWS `"$context.get('identity')"` gives `""`.
#[derive(Debug, Clone)]
pub struct ContextMap {
    map: MapRef,
}

impl ContextMap {
    /// The map behind the object.
    pub fn map(&self) -> &MapRef {
        &self.map
    }
}

impl Object for ContextMap {
    fn get(&self, name: &str) -> Option<Value> {
        self.map.get(name)
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let key = |i: usize| -> Arc<str> {
            match args.get(i) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => Arc::from(to_java_string(other).unwrap_or_else(|| "null".into())),
                None => Arc::from("null"),
            }
        };
        let entries = || -> Vec<(Arc<str>, Value)> {
            self.map.lock().entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        Some(Ok(match (name, args.len()) {
            ("get", 1) => self.map.get(&key(0)).unwrap_or(Value::Null),
            ("put", 2) => {
                let previous = self.map.get(&key(0)).unwrap_or(Value::Null);
                self.map.insert(key(0), args[1].clone());
                previous
            }
            ("remove", 1) => self.map.lock().entries.shift_remove(&*key(0)).unwrap_or(Value::Null),
            ("containsKey", 1) => Value::Bool(self.map.get(&key(0)).is_some()),
            ("keySet", 0) => Value::java_list(entries().into_iter().map(|(k, _)| Value::String(k)).collect()),
            ("values", 0) => Value::java_list(entries().into_iter().map(|(_, v)| v).collect()),
            ("size", 0) => Value::Int(i32::try_from(self.map.lock().entries.len()).unwrap_or(i32::MAX)),
            ("isEmpty", 0) => Value::Bool(self.map.lock().entries.is_empty()),
            ("toString", 0) => Value::from(""),
            _ => return None,
        }))
    }
}

fn object(map: &MapRef) -> Value {
    Value::object(ContextMap { map: map.clone() })
}

/// The override maps of one request's `$context`, kept to read them back.
#[derive(Debug, Clone)]
pub(crate) struct OverrideMaps {
    request_header: MapRef,
    request_path: MapRef,
    request_querystring: MapRef,
    response: MapRef,
    response_header: MapRef,
}

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
pub(crate) fn build(req: &RequestData) -> (MapRef, OverrideMaps) {
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
    let maps = OverrideMaps {
        request_header: map(),
        request_path: map(),
        request_querystring: map(),
        response: map(),
        response_header: map(),
    };
    request_override.insert("path", Value::Map(maps.request_path.clone()));
    request_override.insert("header", Value::Map(maps.request_header.clone()));
    request_override.insert("querystring", Value::Map(maps.request_querystring.clone()));
    let response_override = maps.response.clone();
    response_override.insert("header", Value::Map(maps.response_header.clone()));

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
    // Nested context values are objects that render as nothing (see `ContextMap`).
    for path in [
        "requestOverride.path",
        "requestOverride.header",
        "requestOverride.querystring",
        "responseOverride.header",
        "requestOverride",
        "responseOverride",
        "identity",
        "authorizer",
    ] {
        wrap(&ctx, path);
    }
    (ctx, maps)
}

/// Replaces the plain map at a dotted path with a [`ContextMap`] over the same map.
fn wrap(root: &MapRef, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => match root.get(parent) {
            Some(Value::Map(m)) => (m, last),
            _ => return,
        },
        None => (root.clone(), path),
    };
    if let Some(Value::Map(m)) = parent.get(last) {
        parent.insert(last, object(&m));
    }
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

/// A map-like step of a dotted path: a plain map or a [`ContextMap`] object.
fn child(v: &Value, key: &str) -> Option<Value> {
    match v {
        Value::Map(m) => m.get(key),
        Value::Object(o) => o.get(key),
        _ => None,
    }
}

fn put(v: &Value, key: &str, value: Value) {
    match v {
        Value::Map(m) => m.insert(key, value),
        Value::Object(o) => {
            let _ = o.call("put", &[Value::from(key), value]);
        }
        _ => {}
    }
}

/// Sets `a.b.c` inside nested maps (or context objects), creating (or replacing
/// non-map) intermediates; a map value is merged into an existing map.
pub(crate) fn set_dotted(root: &MapRef, key: &str, value: Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut cur = Value::Map(root.clone());
    for p in parts {
        let next = match child(&cur, p) {
            Some(v @ (Value::Map(_) | Value::Object(_))) => v,
            _ => {
                let m = Value::Map(map());
                put(&cur, p, m.clone());
                m
            }
        };
        cur = next;
    }
    match (child(&cur, last), value) {
        (Some(existing @ (Value::Map(_) | Value::Object(_))), Value::Map(new)) => {
            let entries: Vec<(Arc<str>, Value)> = new.lock().entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            for (k, v) in entries {
                put(&existing, &k, v);
            }
        }
        (_, value) => put(&cur, last, value),
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

/// Reads the override maps back.
pub(crate) fn overrides(maps: &OverrideMaps) -> Result<Overrides, InvalidStatusOverride> {
    let multi = |m: &MapRef| -> IndexMap<String, Vec<String>> {
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
    let request_path = multi(&maps.request_path)
        .into_iter()
        .map(|(k, v)| (k, Overrides::joined(&v)))
        .collect();
    let response_status = match maps.response.get("status") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let s = to_java_string(&v).unwrap_or_default();
            match s.trim().parse::<u16>() {
                Ok(code) if (100..=599).contains(&code) => Some(code),
                _ => return Err(InvalidStatusOverride { value: s }),
            }
        }
    };
    Ok(Overrides {
        request_headers: multi(&maps.request_header),
        request_path,
        request_querystring: multi(&maps.request_querystring),
        response_status,
        response_headers: multi(&maps.response_header),
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
        assert_eq!(id.get("user").and_then(|v| to_java_string(&v)).as_deref(), Some("u"));
        assert_eq!(id.get("caller").and_then(|v| to_java_string(&v)).as_deref(), Some("c"));
        assert!(matches!(m.get("isCanaryRequest"), Some(Value::Bool(false))));
        // Through a context object too.
        let inner = map();
        m.insert("o", object(&inner));
        set_dotted(&m, "o.k", Value::from("v"));
        assert_eq!(inner.get("k").and_then(|v| to_java_string(&v)).as_deref(), Some("v"));
    }

    #[test]
    fn context_map_reads_writes_and_renders_empty() {
        let inner = map();
        let o = ContextMap { map: inner.clone() };
        assert!(o.call("put", &[Value::from("k"), Value::Int(1)]).unwrap().unwrap().is_null());
        assert!(matches!(o.get("k"), Some(Value::Int(1))));
        assert!(matches!(o.call("get", &[Value::from("k")]), Some(Ok(Value::Int(1)))));
        assert!(matches!(o.call("containsKey", &[Value::from("k")]), Some(Ok(Value::Bool(true)))));
        assert!(matches!(o.call("size", &[]), Some(Ok(Value::Int(1)))));
        assert_eq!(o.render(), "");
        assert!(o.call("nope", &[]).is_none());
    }
}
