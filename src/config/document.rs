//! A parsed configuration document: YAML or JSON read into a `serde_json::Value`, with the
//! source position (line:col) of every node by JSON pointer, and CloudFormation YAML short
//! tags (`!Sub`, `!Ref`, `!GetAtt`, `!Join`, ...) turned into their long forms
//! (`{"Fn::Sub": ...}`), so the rest of the loader sees one shape.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::config::diagnostic::{Diagnostic, ErrorKind};

/// A document with positions.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) path: PathBuf,
    pub(crate) text: Arc<str>,
    pub(crate) value: Value,
    positions: HashMap<String, (usize, usize)>,
}

impl Document {
    /// Reads and parses a file (JSON if it starts with `{` or `[`, else YAML).
    pub(crate) fn read(path: &Path) -> Result<Document, Diagnostic> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::error(ErrorKind::Io, path, "", format!("cannot read file: {e}"))
        })?;
        Document::parse(path, &text)
    }

    /// Parses text (JSON if it starts with `{` or `[`, else YAML).
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Document, Diagnostic> {
        let text: Arc<str> = Arc::from(text);
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                return Ok(Document { path: path.to_path_buf(), text, value, positions: HashMap::new() });
            }
            // fall through: flow-style YAML is a superset of JSON (and gives positions)
        }
        let mut options = serde_saphyr::Options::default();
        options.strict_booleans = true;
        options.leading_zero_numbers_as_strings = true;
        let node: Node = serde_saphyr::from_str_with_options(&text, options).map_err(|e| {
            let mut d = Diagnostic::error(ErrorKind::Syntax, path, "", yaml_message(&e));
            d.position = yaml_position(&e);
            d.source_text = Some(text.clone());
            d
        })?;
        let mut positions = HashMap::new();
        let value = node.into_value(String::new(), &mut positions);
        Ok(Document { path: path.to_path_buf(), text, value, positions })
    }

    /// The line:col of the node at `pointer`, or of its nearest ancestor that has one.
    pub(crate) fn position(&self, pointer: &str) -> Option<(usize, usize)> {
        let mut p = pointer;
        loop {
            if let Some(&pos) = self.positions.get(p) {
                return Some(pos);
            }
            let cut = p.rfind('/')?;
            p = &p[..cut];
        }
    }

    /// Where a template string found at `pointer` (or inside the `Fn::Sub` there) starts
    /// in the file, when its lines appear in the file as they are (block scalars): maps
    /// template line:col to file line:col.
    pub(crate) fn template_origin(&self, pointer: &str, template: &str) -> Option<(usize, usize)> {
        let first = template.lines().next().filter(|l| !l.trim().is_empty())?;
        let candidates = [pointer.to_string(), format!("{pointer}/Fn::Sub"), format!("{pointer}/Fn::Sub/0")];
        for candidate in candidates {
            let Some(&(line, col)) = self.positions.get(&candidate) else { continue };
            let text_line = self.text.lines().nth(line.checked_sub(1)?)?;
            let rest: String = text_line.chars().skip(col.saturating_sub(1)).collect();
            if rest.starts_with(first) && template.lines().count() > 1 {
                return Some((line, col));
            }
        }
        None
    }

    /// A diagnostic located at `pointer` in this document.
    pub(crate) fn diagnostic(&self, mut d: Diagnostic) -> Diagnostic {
        d.file = self.path.clone();
        if d.position.is_none() && d.template_error.is_none() {
            d.position = self.position(&d.pointer);
            d.source_text = Some(self.text.clone());
        }
        d
    }
}

fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or("invalid YAML").to_string()
}

fn yaml_position(e: &serde_saphyr::Error) -> Option<(usize, usize)> {
    let loc = e.location()?;
    let (line, col) = (loc.line() as usize, loc.column() as usize);
    (line > 0).then_some((line, col))
}

/// `a/./b` → `a/b` (for messages; `..` is kept, the file system resolves it).
pub(crate) fn clean_path(path: &Path) -> PathBuf {
    path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// Escapes one JSON pointer token (`/` → `~1`, `~` → `~0`).
pub(crate) fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `base/token`, escaped.
pub(crate) fn join_pointer(base: &str, token: &str) -> String {
    format!("{base}/{}", escape_token(token))
}

// === YAML node with tag and position ===

struct Node {
    raw: Raw,
    tag: Option<String>,
    position: (usize, usize),
}

enum Raw {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn into_value(self, pointer: String, positions: &mut HashMap<String, (usize, usize)>) -> Value {
        if self.position.0 > 0 {
            positions.insert(pointer.clone(), self.position);
        }
        let value = match self.raw {
            Raw::Null => Value::Null,
            Raw::Bool(b) => Value::Bool(b),
            Raw::Number(n) => Value::Number(n),
            Raw::String(s) => Value::String(s),
            Raw::Seq(items) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| n.into_value(format!("{pointer}/{i}"), positions))
                    .collect(),
            ),
            Raw::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, n) in entries {
                    let child = join_pointer(&pointer, &k);
                    let v = n.into_value(child, positions);
                    map.insert(k, v);
                }
                Value::Object(map)
            }
        };
        match self.tag.as_deref().and_then(short_form) {
            Some(long) => {
                let value = if long == "Fn::GetAtt" {
                    // `!GetAtt Res.Attr` is the string form of `[Res, Attr]`
                    match value {
                        Value::String(s) => match s.split_once('.') {
                            Some((r, a)) => Value::Array(vec![r.into(), a.into()]),
                            None => Value::String(s),
                        },
                        other => other,
                    }
                } else {
                    value
                };
                let mut map = serde_json::Map::new();
                map.insert(long.to_string(), value);
                Value::Object(map)
            }
            None => value,
        }
    }
}

/// The long form of a CloudFormation short tag (`!Sub` → `Fn::Sub`).
fn short_form(tag: &str) -> Option<&'static str> {
    let name = tag.trim_start_matches('!');
    Some(match name {
        "Ref" => "Ref",
        "Sub" => "Fn::Sub",
        "GetAtt" => "Fn::GetAtt",
        "Join" => "Fn::Join",
        "Select" => "Fn::Select",
        "Split" => "Fn::Split",
        "If" => "Fn::If",
        "Equals" => "Fn::Equals",
        "Not" => "Fn::Not",
        "And" => "Fn::And",
        "Or" => "Fn::Or",
        "FindInMap" => "Fn::FindInMap",
        "Base64" => "Fn::Base64",
        "GetAZs" => "Fn::GetAZs",
        "ImportValue" => "Fn::ImportValue",
        "Cidr" => "Fn::Cidr",
        "Transform" => "Fn::Transform",
        "Condition" => "Condition",
        _ => return None,
    })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        let spanned: serde_saphyr::Spanned<serde_saphyr::Tagged<Raw>> = Deserialize::deserialize(deserializer)?;
        let loc = spanned.referenced;
        let serde_saphyr::Tagged(raw, tag) = spanned.value;
        Ok(Node { raw, tag, position: (loc.line() as usize, loc.column() as usize) })
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(serde_json::Number::from_i128(v).map(Raw::Number).unwrap_or_else(|| Raw::String(v.to_string())))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        Ok(serde_json::Number::from_u128(v).map(Raw::Number).unwrap_or_else(|| Raw::String(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(serde_json::Number::from_f64(v).map(Raw::Number).unwrap_or(Raw::Null))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Key>()? {
            let v = map.next_value::<Node>()?;
            entries.push((k.0, v));
        }
        Ok(Raw::Map(entries))
    }
}

/// A mapping key: any scalar, as text (`200:` → `"200"`).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".into()))
            }
        }
        d.deserialize_string(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Document {
        Document::parse(Path::new("t.yaml"), text).unwrap()
    }

    #[test]
    fn document_short_tags_become_long_forms() {
        let d = parse("a: !Sub 'x-${AWS::Region}'\nb: !GetAtt Role.Arn\nc: !Ref Workflow\nd: !Join ['', [a, !Ref B]]\n");
        assert_eq!(
            d.value,
            json!({"a": {"Fn::Sub": "x-${AWS::Region}"}, "b": {"Fn::GetAtt": ["Role", "Arn"]},
                   "c": {"Ref": "Workflow"}, "d": {"Fn::Join": ["", ["a", {"Ref": "B"}]]}})
        );
    }

    #[test]
    fn document_keeps_keys_as_text_and_yaml_11_scalars_as_strings() {
        let d = parse("responses:\n  200:\n    x: on\n  default: {}\nmode: 0755\n");
        assert_eq!(d.value, json!({"responses": {"200": {"x": "on"}, "default": {}}, "mode": "0755"}));
    }

    #[test]
    fn document_positions_by_pointer() {
        let d = parse("paths:\n  /execute:\n    post:\n      x: 1\n");
        assert_eq!(d.position("/paths/~1execute/post/x"), Some((4, 10)));
        assert_eq!(d.position("/paths/~1execute/post/nope"), d.position("/paths/~1execute/post"));
    }

    #[test]
    fn document_syntax_error_has_position() {
        let e = Document::parse(Path::new("t.yaml"), "a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert!(e.position.is_some(), "{e}");
    }
}
