//! `$input`: the payload (request body in a request template, integration response body
//! in a response template) read through JSONPath, and the method request parameters.
//!
//! The body is parsed at most once per object, lazily, with json-smart's permissive rules;
//! a payload that starts like JSON but is malformed makes `$input.path`/`$input.json`
//! fail with API Gateway's `Could not process payload...` text, which is also recorded in
//! the shared [`PayloadError`] slot so the gateway can answer 400 instead of 500.

use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;

use crate::jsonpath;
use crate::vtl::{MapRef, Object, Value};

use super::java::to_java_string;
use super::json_smart::{self, ParseError};
use super::request::{RequestData, header_visible};

/// Where a payload parse failure is recorded for the gateway (shared by `$input` objects
/// of one request).
pub(crate) type PayloadError = Arc<Mutex<Option<String>>>;

/// The `$input` object.
#[derive(Debug)]
pub struct Input {
    body: Bytes,
    text: OnceLock<Arc<str>>,
    parsed: OnceLock<Result<serde_json::Value, ParseError>>,
    params: Params,
    payload_error: PayloadError,
}

/// The method request parameters `$input.params()` exposes: one map per location, in
/// API Gateway's order (path, querystring, header).
///
/// Most templates only ask for one parameter by name (`$input.params('id')`), so the maps
/// are built the first time a template asks for them all (`$input.params()`); until then a
/// lookup reads the request's pairs directly. Clones share the maps, so what one template
/// puts into them the next one (and later lookups) see.
#[derive(Debug, Clone)]
pub(crate) struct Params(Arc<ParamsInner>);

#[derive(Debug)]
struct ParamsInner {
    request: Arc<RequestData>,
    maps: OnceLock<ParamMaps>,
}

/// The `$input.params()` maps, once built.
#[derive(Debug)]
struct ParamMaps {
    all: MapRef,
    path: MapRef,
    querystring: MapRef,
    header: MapRef,
}

thread_local! {
    /// The keys of `$input.params()`, allocated once per thread.
    static LOCATION_KEYS: [Arc<str>; 3] = ["path", "querystring", "header"].map(Arc::from);
}

impl Params {
    /// The parameters of `request`: its path parameters, query and visible headers.
    pub(crate) fn new(request: Arc<RequestData>) -> Params {
        Params(Arc::new(ParamsInner { request, maps: OnceLock::new() }))
    }

    fn headers(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> {
        pairs(&self.0.request.headers).filter(|(k, _)| header_visible(k))
    }

    /// The maps; a repeated name keeps its first position and its last value.
    fn maps(&self) -> &ParamMaps {
        self.0.maps.get_or_init(|| {
            let map = |pairs: &mut dyn Iterator<Item = (&str, &str)>| {
                let mut m = crate::vtl::map_with_capacity(pairs.size_hint().0);
                for (k, v) in pairs {
                    m.insert(k.into(), Value::from(v));
                }
                MapRef::new(false, m)
            };
            let request = &self.0.request;
            let path = map(&mut pairs(&request.path_params));
            let querystring = map(&mut pairs(&request.query));
            let header = map(&mut self.headers());
            let mut all = crate::vtl::map_with_capacity(3);
            LOCATION_KEYS.with(|[p, q, h]| {
                all.insert(p.clone(), Value::Map(path.clone()));
                all.insert(q.clone(), Value::Map(querystring.clone()));
                all.insert(h.clone(), Value::Map(header.clone()));
            });
            ParamMaps { all: MapRef::new(false, all), path, querystring, header }
        })
    }

    /// `$input.params()`: the map of the three maps.
    pub(crate) fn all(&self) -> Value {
        Value::Map(self.maps().all.clone())
    }

    /// `$input.params(name)`: path, then querystring, then header (exact name first,
    /// then ignoring ASCII case, since HTTP stacks may lower-case header names); `""`
    /// when absent.
    pub(crate) fn lookup(&self, name: &str) -> Value {
        let Some(maps) = self.0.maps.get() else {
            return Value::from(self.lookup_pairs(name).unwrap_or(""));
        };
        for m in [&maps.path, &maps.querystring, &maps.header] {
            if let Some(v) = m.get(name) {
                return v;
            }
        }
        let headers = maps.header.lock();
        headers
            .entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| Value::from(""))
    }

    /// [`Params::lookup`] over the request's pairs, as the maps would answer it: the last
    /// value of a repeated name; for a header matched ignoring case, the first such name
    /// in arrival order, with its last value.
    fn lookup_pairs(&self, name: &str) -> Option<&str> {
        let request = &self.0.request;
        if let Some(v) = last(pairs(&request.path_params), name)
            .or_else(|| last(pairs(&request.query), name))
            .or_else(|| last(self.headers(), name))
        {
            return Some(v);
        }
        let (first, _) = self.headers().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        last(self.headers(), first)
    }
}

/// The value of the last pair named `name`.
fn last<'a>(mut pairs: impl DoubleEndedIterator<Item = (&'a str, &'a str)>, name: &str) -> Option<&'a str> {
    pairs.rfind(|(k, _)| *k == name).map(|(_, v)| v)
}

fn pairs(v: &[(String, String)]) -> impl DoubleEndedIterator<Item = (&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

impl Input {
    pub(crate) fn new(body: Bytes, params: Params, payload_error: PayloadError) -> Input {
        Input { body, text: OnceLock::new(), parsed: OnceLock::new(), params, payload_error }
    }

    /// `$input.body`: the raw payload, `{}` when empty.
    pub fn body(&self) -> Arc<str> {
        self.text
            .get_or_init(|| {
                if self.body.is_empty() { Arc::from("{}") } else { Arc::from(String::from_utf8_lossy(&self.body)) }
            })
            .clone()
    }

    fn document(&self) -> Result<&serde_json::Value, String> {
        let parsed = self.parsed.get_or_init(|| {
            if self.body.is_empty() {
                return Ok(serde_json::Value::Object(Default::default()));
            }
            // Strict JSON straight from the bytes; json-smart's permissive rules otherwise.
            serde_json::from_slice(&self.body).or_else(|_| json_smart::parse_permissive(&self.body()))
        });
        parsed.as_ref().map_err(|e| {
            let message = format!("Could not process payload{}", e.java_text());
            *self.payload_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
            message
        })
    }

    fn path_arg(method: &str, args: &[Value]) -> Result<Arc<jsonpath::JsonPath>, String> {
        let [arg] = args else {
            return Err(format!("$input.{method} takes one JSONPath argument, got {}", args.len()));
        };
        let Some(text) = to_java_string(arg) else {
            return Err(format!("$input.{method}: the JSONPath is null"));
        };
        jsonpath::cached(&text).map_err(|e| e.to_string())
    }

    /// `$input.json(path)`: the result as JSON text (json-smart style); a path that
    /// matches nothing gives `""` (an empty JSON string).
    pub fn json(&self, path: &jsonpath::JsonPath) -> Result<String, String> {
        // Fast path for `$input.json('$')`, the seed template's hot call: a strictly valid
        // body is transcoded straight from its text, with no tree built (the transcoder
        // gives up, and we fall through, wherever the tree round trip could differ).
        if path.is_root() && !self.body.is_empty() {
            let mut out = String::with_capacity(self.body.len() + self.body.len() / 16);
            if json_smart::transcode(&self.body, &mut out) {
                return Ok(out);
            }
        }
        let doc = self.document()?;
        Ok(match path.evaluate(doc) {
            Some(v) => json_smart::to_json_string(&v),
            None => "\"\"".to_string(),
        })
    }

    /// `$input.path(path)`: the result as a template value (maps, JSON lists, numbers,
    /// strings); null when nothing matches.
    pub fn path(&self, path: &jsonpath::JsonPath) -> Result<Value, String> {
        let doc = self.document()?;
        Ok(path.evaluate(doc).map(|v| Value::from_json(&v)).unwrap_or(Value::Null))
    }
}

impl Object for Input {
    fn get(&self, name: &str) -> Option<Value> {
        match name {
            "body" => Some(Value::String(self.body())),
            _ => None,
        }
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(match name {
            "json" => Input::path_arg(name, args).and_then(|p| self.json(&p)).map(Value::from),
            "path" => Input::path_arg(name, args).and_then(|p| self.path(&p)),
            "params" => match args {
                [] => Ok(self.params.all()),
                [Value::String(name)] => Ok(self.params.lookup(name)),
                [name] => Ok(match to_java_string(name) {
                    Some(n) => self.params.lookup(&n),
                    None => Value::from(""),
                }),
                _ => Err(format!("$input.params takes at most one argument, got {}", args.len())),
            },
            "getBody" if args.is_empty() => Ok(Value::String(self.body())),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(body: &str) -> (Input, PayloadError) {
        let err = PayloadError::default();
        let owned = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let request = RequestData {
            path_params: owned(&[("id", "p")]),
            query: owned(&[("id", "q"), ("q", "1"), ("q", "2")]),
            headers: owned(&[("Id", "h"), ("X-H", "x"), ("x-h", "y"), ("X-H", "z"), ("Connection", "close")]),
            ..RequestData::default()
        };
        let params = Params::new(Arc::new(request));
        (Input::new(Bytes::from(body.to_string()), params, err.clone()), err)
    }

    fn call(i: &Input, name: &str, args: &[&str]) -> Result<Value, String> {
        let args: Vec<Value> = args.iter().map(|a| Value::from(*a)).collect();
        i.call(name, &args).expect("method exists")
    }

    #[test]
    fn empty_body_reads_as_an_empty_object() {
        let (i, _) = input("");
        assert_eq!(i.body().as_ref(), "{}");
        assert_eq!(call(&i, "json", &["$"]).unwrap().as_str(), Some("{}"));
    }

    #[test]
    fn json_is_compact_json_smart_text() {
        let (i, _) = input(r#"{"a": {"b": "x/y"}, "n": [1, 2.5]}"#);
        assert_eq!(call(&i, "json", &["$"]).unwrap().as_str(), Some(r#"{"a":{"b":"x\/y"},"n":[1,2.5]}"#));
        assert_eq!(call(&i, "json", &["$.a.b"]).unwrap().as_str(), Some(r#""x\/y""#));
        assert_eq!(call(&i, "json", &["$.missing"]).unwrap().as_str(), Some(r#""""#));
    }

    #[test]
    fn path_gives_values_and_null_when_missing() {
        let (i, _) = input(r#"{"a": {"b": "x"}, "n": [1, 2]}"#);
        assert_eq!(call(&i, "path", &["$.a.b"]).unwrap().as_str(), Some("x"));
        assert!(matches!(call(&i, "path", &["$.n"]).unwrap(), Value::List(_)));
        assert!(call(&i, "path", &["$.zz"]).unwrap().is_null());
        assert!(call(&i, "path", &["$.a["]).is_err(), "bad JSONPath is an error");
    }

    #[test]
    fn non_json_text_is_a_string() {
        let (i, _) = input("a=b");
        assert_eq!(call(&i, "path", &["$"]).unwrap().as_str(), Some("a=b"));
        assert_eq!(call(&i, "json", &["$"]).unwrap().as_str(), Some("\"a=b\""));
    }

    #[test]
    fn malformed_json_fails_and_is_recorded() {
        let (i, err) = input("[a");
        let e = call(&i, "path", &["$"]).unwrap_err();
        let want = "Could not process payloadnet.minidev.json.parser.ParseException: Unexpected End Of File position 1: EOF";
        assert_eq!(e, want);
        assert_eq!(err.lock().unwrap().as_deref(), Some(want));
        // $input.body still works.
        assert_eq!(i.get("body").unwrap().as_str(), Some("[a"));
    }

    #[test]
    fn params_search_path_then_query_then_header() {
        let (i, _) = input("");
        assert_eq!(call(&i, "params", &["id"]).unwrap().as_str(), Some("p"));
        assert_eq!(call(&i, "params", &["q"]).unwrap().as_str(), Some("2"), "last value of a repeated key");
        assert_eq!(call(&i, "params", &["x-h"]).unwrap().as_str(), Some("y"), "exact header name first");
        assert_eq!(call(&i, "params", &["X-h"]).unwrap().as_str(), Some("z"), "else the first name ignoring case, last value");
        assert_eq!(call(&i, "params", &["connection"]).unwrap().as_str(), Some(""), "hidden header");
        assert_eq!(call(&i, "params", &["nope"]).unwrap().as_str(), Some(""));
        let Value::Map(all) = call(&i, "params", &[]).unwrap() else { panic!("not a map") };
        let keys: Vec<String> = all.lock().entries.keys().map(|k| k.to_string()).collect();
        assert_eq!(keys, ["path", "querystring", "header"]);
        // Once the maps exist, lookups read them (and see what templates put there).
        for name in ["id", "q", "x-h", "X-h", "connection", "nope"] {
            let from_pairs = call(&input("").0, "params", &[name]).unwrap();
            assert_eq!(call(&i, "params", &[name]).unwrap().as_str(), from_pairs.as_str(), "{name}");
        }
        let Some(Value::Map(path)) = all.get("path") else { panic!("no path map") };
        path.insert("added", Value::from("1"));
        assert_eq!(call(&i, "params", &["added"]).unwrap().as_str(), Some("1"));
    }

    #[test]
    fn properties_without_parentheses_are_null() {
        let (i, _) = input("");
        assert!(i.get("params").is_none());
        assert!(i.get("json").is_none());
        assert!(i.call("nope", &[]).is_none());
    }
}
