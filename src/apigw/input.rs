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
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub(crate) all: MapRef,
    pub(crate) path: MapRef,
    pub(crate) querystring: MapRef,
    pub(crate) header: MapRef,
}

impl Params {
    /// Builds the maps; a repeated name keeps its first position and its last value.
    pub(crate) fn new<'a>(
        path: impl IntoIterator<Item = (&'a str, &'a str)>,
        query: impl IntoIterator<Item = (&'a str, &'a str)>,
        header: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Params {
        let map = |pairs: &mut dyn Iterator<Item = (&'a str, &'a str)>| {
            let mut m = crate::vtl::Map::with_capacity(pairs.size_hint().0);
            for (k, v) in pairs {
                m.insert(k.into(), Value::from(v));
            }
            MapRef::new(false, m)
        };
        let path = map(&mut path.into_iter());
        let querystring = map(&mut query.into_iter());
        let header = map(&mut header.into_iter());
        let all = MapRef::new(false, Default::default());
        all.insert("path", Value::Map(path.clone()));
        all.insert("querystring", Value::Map(querystring.clone()));
        all.insert("header", Value::Map(header.clone()));
        Params { all, path, querystring, header }
    }

    /// `$input.params(name)`: path, then querystring, then header (exact name first,
    /// then ignoring ASCII case, since HTTP stacks may lower-case header names); `""`
    /// when absent.
    pub(crate) fn lookup(&self, name: &str) -> Value {
        for m in [&self.path, &self.querystring, &self.header] {
            if let Some(v) = m.get(name) {
                return v;
            }
        }
        let headers = self.header.lock();
        headers
            .entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| Value::from(""))
    }
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
                [] => Ok(Value::Map(self.params.all.clone())),
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
        let params = Params::new([("id", "p")], [("id", "q"), ("q", "1"), ("q", "2")], [("Id", "h"), ("X-H", "x")]);
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
        assert_eq!(call(&i, "params", &["x-h"]).unwrap().as_str(), Some("x"), "header names ignore case");
        assert_eq!(call(&i, "params", &["nope"]).unwrap().as_str(), Some(""));
        let Value::Map(all) = call(&i, "params", &[]).unwrap() else { panic!("not a map") };
        let keys: Vec<String> = all.lock().entries.keys().map(|k| k.to_string()).collect();
        assert_eq!(keys, ["path", "querystring", "header"]);
    }

    #[test]
    fn properties_without_parentheses_are_null() {
        let (i, _) = input("");
        assert!(i.get("params").is_none());
        assert!(i.get("json").is_none());
        assert!(i.call("nope", &[]).is_none());
    }
}
