//! `$context`: the REST API context variables as one shared, writable map, built in the
//! key order API Gateway's `$context.keySet()` shows, and the override maps read back
//! after rendering ([`Overrides`]).
//!
//! This runs once per request, so it avoids work most requests never need: `$context`
//! itself is a [`LazyContext`] that answers plain reads (`$context.requestId`) from the
//! request and builds the map only when a template needs it whole (`keySet()`, `#foreach`,
//! `#set`, ...); the key names are allocated once per process ([`CONTEXT_TEMPLATE`]); the
//! nested objects (`identity`, `requestOverride`, `responseOverride` and their maps) are
//! built the first time a template (or [`set_dotted`]) touches them. An override map nobody
//! touched is known empty, so reading the overrides back costs nothing for templates that
//! set none.

use std::sync::{Arc, OnceLock};

use indexmap::IndexMap;
use time::OffsetDateTime;

use crate::vtl::{Map, MapRef, Object, Value, map_with_capacity};

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

/// The top-level `$context` keys, in the order AWS's `$context.keySet()` lists them
/// (`authorizer` and `error` follow when present). [`LazyContext`] fills the values in this order.
const CONTEXT_KEY_NAMES: [&str; 18] = [
    "resourceId",
    "resourcePath",
    "httpMethod",
    "extendedRequestId",
    "requestTime",
    "path",
    "accountId",
    "protocol",
    "requestOverride",
    "stage",
    "domainPrefix",
    "requestTimeEpoch",
    "requestId",
    "identity",
    "domainName",
    "deploymentId",
    "responseOverride",
    "apiId",
];

thread_local! {
    /// `$context` with its top-level keys ([`CONTEXT_KEY_NAMES`], allocated once per thread)
    /// and no values yet. A request clones it, which shares the keys (a reference count
    /// each) and copies their hashes, so nothing is allocated per key or hashed; the values
    /// are then filled in by position. Per thread, so that the workers do not all write the
    /// same reference counts (their cache lines would bounce between cores).
    static CONTEXT_TEMPLATE: Map = {
        let mut m = map_with_capacity(CONTEXT_KEY_NAMES.len());
        for key in CONTEXT_KEY_NAMES {
            m.insert(Arc::from(key), Value::Null);
        }
        m
    };

    /// [`IDENTITY_KEYS`] as shared strings, allocated once per thread (same reasons).
    static IDENTITY_KEY_ARCS: [Arc<str>; 12] = IDENTITY_KEYS.map(Arc::from);
}

/// A nested `$context` object (`identity`, `authorizer`, `requestOverride` and its
/// `header`/`path`/`querystring`, `responseOverride` and its `header`). It reads and
/// writes like a map (`.keySet()`, `.get(k)`, `$o.k`, `#set($o.k = v)`) but renders as
/// nothing: on AWS `"$context.get('identity')"` gives `""`.
///
/// The map behind it is built on first use (see the module docs); clones share it.
#[derive(Debug, Clone)]
pub struct ContextMap {
    map: Arc<LazyMap>,
}

/// A map built from its [`Seed`] the first time it is read or written.
#[derive(Debug)]
pub(crate) struct LazyMap {
    map: OnceLock<MapRef>,
    seed: Seed,
}

/// What a [`LazyMap`] starts with.
#[derive(Debug)]
enum Seed {
    /// Nothing (`header`, `path`, `querystring` overrides).
    Empty,
    /// A map that exists already (`authorizer`, maps made by tests).
    Ready,
    /// `identity`: the AWS keys, `sourceIp`, `userAgent` and extra identity values.
    Identity(Arc<RequestData>),
    /// `requestOverride`: its `path`, `header` and `querystring` objects.
    RequestOverride { path: Arc<LazyMap>, header: Arc<LazyMap>, querystring: Arc<LazyMap> },
    /// `responseOverride`: its `header` object (`status` is added by templates).
    ResponseOverride { header: Arc<LazyMap> },
}

impl LazyMap {
    fn new(seed: Seed) -> Arc<LazyMap> {
        Arc::new(LazyMap { map: OnceLock::new(), seed })
    }

    fn ready(map: MapRef) -> Arc<LazyMap> {
        Arc::new(LazyMap { map: OnceLock::from(map), seed: Seed::Ready })
    }

    /// The map, built now if nobody used it yet.
    fn get(&self) -> &MapRef {
        self.map.get_or_init(|| {
            MapRef::new(
                false,
                match &self.seed {
                    Seed::Empty | Seed::Ready => Map::default(),
                    Seed::Identity(req) => identity(req),
                    Seed::RequestOverride { path, header, querystring } => {
                        let mut m = map_with_capacity(3);
                        m.insert("path".into(), object(path));
                        m.insert("header".into(), object(header));
                        m.insert("querystring".into(), object(querystring));
                        m
                    }
                    Seed::ResponseOverride { header } => {
                        let mut m = map_with_capacity(2);
                        m.insert("header".into(), object(header));
                        m
                    }
                },
            )
        })
    }

    /// The map if something built it; `None` means it still holds only its seed.
    fn built(&self) -> Option<&MapRef> {
        self.map.get()
    }
}

impl ContextMap {
    /// The map behind the object (built now if it was not yet).
    pub fn map(&self) -> &MapRef {
        self.map.get()
    }
}

impl Object for ContextMap {
    fn get(&self, name: &str) -> Option<Value> {
        self.map().get(name)
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let map = self.map();
        let key = |i: usize| -> Arc<str> {
            match args.get(i) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => Arc::from(to_java_string(other).unwrap_or_else(|| "null".into())),
                None => Arc::from("null"),
            }
        };
        let entries = || -> Vec<(Arc<str>, Value)> {
            map.lock().entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        Some(Ok(match (name, args.len()) {
            ("get", 1) => map.get(&key(0)).unwrap_or(Value::Null),
            ("put", 2) => {
                let previous = map.get(&key(0)).unwrap_or(Value::Null);
                map.insert(key(0), args[1].clone());
                previous
            }
            ("remove", 1) => map.lock().entries.shift_remove(&*key(0)).unwrap_or(Value::Null),
            ("containsKey", 1) => Value::Bool(map.get(&key(0)).is_some()),
            ("keySet", 0) => Value::java_list(entries().into_iter().map(|(k, _)| Value::String(k)).collect()),
            ("values", 0) => Value::java_list(entries().into_iter().map(|(_, v)| v).collect()),
            ("size", 0) => Value::Int(i32::try_from(map.lock().entries.len()).unwrap_or(i32::MAX)),
            ("isEmpty", 0) => Value::Bool(map.lock().entries.is_empty()),
            ("toString", 0) => Value::from(""),
            _ => return None,
        }))
    }
}

fn object(map: &Arc<LazyMap>) -> Value {
    Value::object(ContextMap { map: map.clone() })
}

/// A context object over a map that exists already.
fn ready_object(map: MapRef) -> Value {
    object(&LazyMap::ready(map))
}

/// The override maps of one request's `$context`, kept to read them back.
#[derive(Debug)]
pub(crate) struct OverrideMaps {
    request_header: Arc<LazyMap>,
    request_path: Arc<LazyMap>,
    request_querystring: Arc<LazyMap>,
    response: Arc<LazyMap>,
    response_header: Arc<LazyMap>,
}

/// `dd/MMM/yyyy:HH:mm:ss +0000` for an epoch-milliseconds instant (UTC).
///
/// Written by hand rather than with a `time` format description: this runs for every
/// request, and the generic formatter costs several times more.
pub fn format_request_time(epoch_ms: i64) -> String {
    use std::fmt::Write as _;
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let Ok(t) = OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000)) else {
        return String::new();
    };
    let mut out = String::with_capacity(26);
    let month = MONTHS[usize::from(u8::from(t.month())) - 1];
    let two = |out: &mut String, n: u8| {
        out.push(char::from(b'0' + n / 10));
        out.push(char::from(b'0' + n % 10));
    };
    two(&mut out, t.day());
    out.push('/');
    out.push_str(month);
    out.push('/');
    match u16::try_from(t.year()) {
        Ok(y) if y <= 9999 => {
            two(&mut out, (y / 100) as u8);
            two(&mut out, (y % 100) as u8);
        }
        _ => {
            let _ = write!(out, "{:04}", t.year());
        }
    }
    for n in [t.hour(), t.minute(), t.second()] {
        out.push(':');
        two(&mut out, n);
    }
    out.push_str(" +0000");
    out
}

fn map() -> MapRef {
    MapRef::new(false, Map::default())
}

fn text(s: &str) -> Value {
    Value::from(s)
}

/// `$context.identity`: the AWS keys (null unless known), then the request's values.
fn identity(req: &RequestData) -> Map {
    let c = &req.context;
    let mut identity = map_with_capacity(IDENTITY_KEYS.len() + c.identity.len());
    IDENTITY_KEY_ARCS.with(|keys| {
        for key in keys {
            identity.insert(key.clone(), Value::Null);
        }
    });
    identity.insert("sourceIp".into(), Value::String(c.source_ip.clone()));
    let user_agent = c.user_agent.as_deref().or_else(|| header(req, "User-Agent"));
    if let Some(ua) = user_agent {
        identity.insert("userAgent".into(), text(ua));
    }
    for (k, v) in &c.identity {
        identity.insert(k.as_str().into(), text(v));
    }
    identity
}

/// The nested objects of one request's `$context` (`identity`, `requestOverride`,
/// `responseOverride` and the override maps read back), made the first time a template
/// reaches one of them or the map is built.
#[derive(Debug)]
struct Nested {
    identity: Arc<LazyMap>,
    request_override: Arc<LazyMap>,
    maps: OverrideMaps,
}

impl Nested {
    fn new(req: &Arc<RequestData>) -> Nested {
        let response_header = LazyMap::new(Seed::Empty);
        let maps = OverrideMaps {
            request_header: LazyMap::new(Seed::Empty),
            request_path: LazyMap::new(Seed::Empty),
            request_querystring: LazyMap::new(Seed::Empty),
            response: LazyMap::new(Seed::ResponseOverride { header: response_header.clone() }),
            response_header,
        };
        let request_override = LazyMap::new(Seed::RequestOverride {
            path: maps.request_path.clone(),
            header: maps.request_header.clone(),
            querystring: maps.request_querystring.clone(),
        });
        Nested { identity: LazyMap::new(Seed::Identity(req.clone())), request_override, maps }
    }
}

/// `$context` of one request. A plain property read (`$context.requestId`) is answered
/// from the request; anything else — `keySet()`, `#foreach`, `#set($context.x = ..)`,
/// rendering, passing it along — goes to the real map ([`Object::as_map`]), built once, in
/// AWS's key order, from the same values. After that every read goes to the map, so what
/// a template set is what the next read sees.
#[derive(Debug)]
pub(crate) struct LazyContext {
    req: Arc<RequestData>,
    nested: OnceLock<Nested>,
    map: OnceLock<MapRef>,
}

impl LazyContext {
    /// The `$context` of `req`. Requests with authorizer, error or extra values (gateway
    /// responses, `stepgate render`) get the map at once.
    pub(crate) fn new(req: Arc<RequestData>) -> Arc<LazyContext> {
        let c = &req.context;
        let eager = c.authorizer.is_some() || c.error.is_some() || !c.extra.is_empty();
        let ctx = Arc::new(LazyContext { req, nested: OnceLock::new(), map: OnceLock::new() });
        if eager {
            ctx.map();
        }
        ctx
    }

    fn nested(&self) -> &Nested {
        self.nested.get_or_init(|| Nested::new(&self.req))
    }

    /// Whether the map was built.
    #[cfg(test)]
    pub(crate) fn is_built(&self) -> bool {
        self.map.get().is_some()
    }

    /// The override maps, if a template reached any nested object.
    pub(crate) fn override_maps(&self) -> Option<&OverrideMaps> {
        self.nested.get().map(|n| &n.maps)
    }

    /// The real `$context` map, built now if nothing needed it yet.
    pub(crate) fn map(&self) -> &MapRef {
        self.map.get_or_init(|| self.build())
    }

    /// The value of a top-level key (one of [`CONTEXT_KEY_NAMES`]) as the map holds it
    /// before any template ran.
    fn value_of(&self, name: &str) -> Option<Value> {
        let req = &self.req;
        let c = &req.context;
        Some(match name {
            "resourceId" => Value::String(c.resource_id.clone()),
            "resourcePath" => Value::String(req.resource_path.clone()),
            "httpMethod" => Value::String(req.method.clone()),
            "extendedRequestId" => Value::String(c.extended_request_id.clone()),
            "requestTime" => Value::from(format_request_time(c.request_time_epoch_ms)),
            "path" => match &c.path {
                Some(p) => text(p),
                None if c.stage.is_empty() => Value::String(req.path.clone()),
                None => {
                    let mut p = String::with_capacity(1 + c.stage.len() + req.path.len());
                    p.push('/');
                    p.push_str(&c.stage);
                    p.push_str(&req.path);
                    Value::from(p)
                }
            },
            "accountId" => Value::String(c.account_id.clone()),
            "protocol" => Value::String(c.protocol.clone()),
            "requestOverride" => object(&self.nested().request_override),
            "stage" => Value::String(c.stage.clone()),
            "domainPrefix" => text(c.domain_name.split('.').next().unwrap_or_default()),
            "requestTimeEpoch" => Value::Long(c.request_time_epoch_ms),
            "requestId" => Value::String(c.request_id.clone()),
            "identity" => object(&self.nested().identity),
            "domainName" => Value::String(c.domain_name.clone()),
            "deploymentId" => Value::String(c.deployment_id.clone()),
            "responseOverride" => object(&self.nested().maps.response),
            "apiId" => Value::String(c.api_id.clone()),
            _ => return None,
        })
    }

    /// The map: top-level values (keys shared, see [`CONTEXT_TEMPLATE`]), then authorizer,
    /// error and extra values.
    fn build(&self) -> MapRef {
        let c = &self.req.context;
        let mut ctx = CONTEXT_TEMPLATE.with(Map::clone);
        for (key, slot) in ctx.iter_mut() {
            *slot = self.value_of(key).unwrap_or(Value::Null);
        }
        if let Some(auth) = &c.authorizer {
            let mut a = map_with_capacity(auth.len());
            for (k, v) in auth {
                // Authorizer context values are strings (`1` -> "1"); `claims` stays a map.
                let value = match v {
                    serde_json::Value::Object(_) => Value::from_json(v),
                    serde_json::Value::String(s) => text(s),
                    other => text(&other.to_string()),
                };
                a.insert(k.as_str().into(), value);
            }
            ctx.insert("authorizer".into(), ready_object(MapRef::new(false, a)));
        }
        if let Some(e) = &c.error {
            let mut m = map_with_capacity(4);
            m.insert("message".into(), text(&e.message));
            m.insert("messageString".into(), text(&serde_json::Value::from(e.message.as_str()).to_string()));
            m.insert("responseType".into(), text(&e.response_type));
            m.insert("validationErrorString".into(), text(&e.validation_error_string));
            ctx.insert("error".into(), Value::Map(MapRef::new(false, m)));
        }
        let ctx = MapRef::new(false, ctx);
        for (key, value) in &c.extra {
            set_dotted(&ctx, key, plain_value(value));
        }
        ctx
    }
}

impl Object for LazyContext {
    fn get(&self, name: &str) -> Option<Value> {
        match self.map.get() {
            Some(map) => map.get(name),
            None => self.value_of(name),
        }
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        // The evaluator calls methods on the map; this is for other callers.
        match crate::vtl::call_method(&Value::Map(self.map().clone()), name, args) {
            Ok(v) => Some(Ok(v)),
            Err(crate::vtl::MethodError::NoSuchMethod) => None,
            Err(crate::vtl::MethodError::Raised(msg)) => Some(Err(msg)),
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        Value::Map(self.map().clone()).render_into(&mut out);
        out
    }

    fn as_map(&self) -> Option<MapRef> {
        Some(self.map().clone())
    }
}

fn header<'a>(req: &'a RequestData, name: &str) -> Option<&'a str> {
    req.headers.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
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

/// Reads the override maps back. A map no template touched is empty without looking.
pub(crate) fn overrides(maps: Option<&OverrideMaps>) -> Result<Overrides, InvalidStatusOverride> {
    let Some(maps) = maps else { return Ok(Overrides::default()) };
    let multi = |m: &LazyMap| -> IndexMap<String, Vec<String>> {
        let Some(m) = m.built() else { return IndexMap::new() };
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
    let response_status = match maps.response.built().and_then(|m| m.get("status")) {
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
        // Milliseconds before the epoch still fall in the second they belong to.
        assert_eq!(format_request_time(-1), "31/Dec/1969:23:59:59 +0000");
        assert_eq!(format_request_time(951_825_600_999), "29/Feb/2000:12:00:00 +0000");
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
        m.insert("o", ready_object(inner.clone()));
        set_dotted(&m, "o.k", Value::from("v"));
        assert_eq!(inner.get("k").and_then(|v| to_java_string(&v)).as_deref(), Some("v"));
    }

    #[test]
    fn context_map_reads_writes_and_renders_empty() {
        let inner = map();
        let o = ContextMap { map: LazyMap::ready(inner.clone()) };
        assert!(o.call("put", &[Value::from("k"), Value::Int(1)]).unwrap().unwrap().is_null());
        assert!(matches!(o.get("k"), Some(Value::Int(1))));
        assert!(matches!(o.call("get", &[Value::from("k")]), Some(Ok(Value::Int(1)))));
        assert!(matches!(o.call("containsKey", &[Value::from("k")]), Some(Ok(Value::Bool(true)))));
        assert!(matches!(o.call("size", &[]), Some(Ok(Value::Int(1)))));
        assert_eq!(o.render(), "");
        assert!(o.call("nope", &[]).is_none());
    }
}
