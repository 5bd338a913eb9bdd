//! JSONPath as Step Functions evaluates it (Jayway semantics): compiled once at load time,
//! evaluated against the state input (`$`), the context object (`$$`) or a workflow variable
//! (`$name`). A *definite* path (only names and indexes) yields one value or a
//! [`PathError`]; an indefinite one (`*`, `..`, slices, unions, filters) yields an array of
//! matches, empty when nothing matched. Also writes values at reference paths (`ResultPath`).

use serde_json::{Map, Value};
use std::fmt;

/// Which document a path starts from.
#[derive(Clone, Debug, PartialEq)]
pub enum Root {
    /// `$...`: the state's input (or the effective input at that point).
    Input,
    /// `$$...`: the context object.
    Context,
    /// `$name...`: a workflow variable set by `Assign`.
    Variable(Box<str>),
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Name(Box<str>),
    Index(i64),
    Wildcard,
    Names(Vec<Box<str>>),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Descend(Box<Seg>),
    Filter(Box<Filter>),
}

/// A filter expression inside `[?( )]`.
#[derive(Clone, Debug, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Cmp(Operand, CmpOp, Operand),
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    /// `@.a.b` (relative) or `$.a.b` (absolute) with definite segments only.
    Path {
        absolute: bool,
        segs: Vec<Seg>,
    },
    Literal(Value),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled JSONPath expression.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonPath {
    text: Box<str>,
    root: Root,
    segs: Vec<Seg>,
    definite: bool,
}

/// Why a definite path selected nothing (Jayway's wording).
#[derive(Clone, Debug, PartialEq)]
pub struct PathError {
    /// The path as written.
    pub path: String,
    /// Jayway's detail, e.g. `No results for path: $['a']`.
    pub detail: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid path '{}' : {}", self.path, self.detail)
    }
}

impl JsonPath {
    /// Compiles `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let mut p = Parser {
            s: t.as_bytes(),
            src: t,
            i: 0,
            depth: 0,
        };
        if !t.starts_with('$') {
            return Err(format!(
                "The value for the field must be a valid JSONPath: '{text}'"
            ));
        }
        p.i = 1;
        let root = if p.peek() == Some(b'$') {
            p.i += 1;
            Root::Context
        } else if p
            .peek()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        {
            let start = p.i;
            while p
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
            {
                p.i += 1;
            }
            Root::Variable(t[start..p.i].into())
        } else {
            Root::Input
        };
        let segs = p
            .segments(false)
            .map_err(|e| format!("Invalid JSONPath '{text}': {e}"))?;
        if p.i != p.s.len() {
            return Err(format!(
                "Invalid JSONPath '{text}': unexpected character at {}",
                p.i
            ));
        }
        let definite = segs
            .iter()
            .all(|s| matches!(s, Seg::Name(_) | Seg::Index(_)));
        Ok(JsonPath {
            text: text.into(),
            root,
            segs,
            definite,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The document this path reads from.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// True when the path is just its root (`$`, `$$`, `$var`).
    pub fn is_root(&self) -> bool {
        self.segs.is_empty()
    }

    /// True for paths made only of names and indexes (usable as `ResultPath`).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// Selects from `doc` (the document of [`Self::root`]).
    pub fn select(&self, doc: &Value) -> Result<Value, PathError> {
        if self.definite {
            let mut cur = doc;
            for (n, seg) in self.segs.iter().enumerate() {
                let next = match (seg, cur) {
                    (Seg::Name(k), Value::Object(m)) => m.get(&**k),
                    (Seg::Index(i), Value::Array(a)) => index(a, *i),
                    _ => None,
                };
                match next {
                    Some(v) => cur = v,
                    None => {
                        let leaf = n + 1 == self.segs.len();
                        let norm = normalized(&self.segs[..=n]);
                        let detail = if leaf || !matches!(seg, Seg::Name(_)) {
                            format!("No results for path: {norm}")
                        } else {
                            format!("Missing property in path {norm}")
                        };
                        return Err(PathError {
                            path: self.text.to_string(),
                            detail,
                        });
                    }
                }
            }
            Ok(cur.clone())
        } else {
            let mut out = Vec::new();
            walk(&self.segs, doc, doc, &mut out);
            Ok(Value::Array(out.into_iter().cloned().collect()))
        }
    }

    /// Writes `value` into `doc` at this (definite, `$`-rooted) path, creating missing
    /// objects along the way. Fails (AWS's `States.ResultPathMatchFailure`) when the path
    /// runs through a value that is neither an object nor, for an index, an array.
    pub fn assign(&self, doc: Value, value: Value) -> Result<Value, String> {
        if self.segs.is_empty() {
            return Ok(value);
        }
        if !self.applies_to(&doc) {
            return Err(format!(
                "Unable to apply ResultPath \"{}\" to input {}",
                self.text,
                serde_json::to_string(&doc).unwrap_or_default()
            ));
        }
        let mut doc = doc;
        let mut cur = &mut doc;
        let last = self.segs.len() - 1;
        for (n, seg) in self.segs.iter().enumerate() {
            let slot = match (seg, cur) {
                (Seg::Name(k), v) => {
                    if !v.is_object() {
                        *v = Value::Object(Map::new());
                    }
                    let Value::Object(m) = v else { break };
                    m.entry(k.to_string()).or_insert(Value::Null)
                }
                (Seg::Index(i), Value::Array(a)) => {
                    let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                    match a.get_mut(idx.max(0) as usize) {
                        Some(slot) => slot,
                        None => break,
                    }
                }
                _ => break,
            };
            if n == last {
                *slot = value;
                return Ok(doc);
            }
            cur = slot;
        }
        Ok(doc)
    }

    /// Whether [`Self::assign`] can write into `doc`: every step goes through an object
    /// (or a missing/null value that becomes one), indexes through arrays in range.
    fn applies_to(&self, doc: &Value) -> bool {
        let mut cur = Some(doc);
        for seg in &self.segs {
            cur = match (seg, cur) {
                (Seg::Name(_), None | Some(Value::Null)) => None,
                (Seg::Name(k), Some(Value::Object(m))) => m.get(&**k),
                (Seg::Index(i), Some(Value::Array(a))) => match index(a, *i) {
                    Some(v) => Some(v),
                    None => return false,
                },
                _ => return false,
            };
        }
        true
    }
}

fn index(a: &[Value], i: i64) -> Option<&Value> {
    let idx = if i < 0 { a.len() as i64 + i } else { i };
    if idx < 0 { None } else { a.get(idx as usize) }
}

fn normalized(segs: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in segs {
        match seg {
            Seg::Name(k) => s.push_str(&format!("['{k}']")),
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            _ => s.push_str("[*]"),
        }
    }
    s
}

fn walk<'a>(segs: &[Seg], root: &'a Value, cur: &'a Value, out: &mut Vec<&'a Value>) {
    let Some((seg, rest)) = segs.split_first() else {
        out.push(cur);
        return;
    };
    match seg {
        Seg::Name(k) => {
            if let Some(v) = cur.as_object().and_then(|m| m.get(&**k)) {
                walk(rest, root, v, out);
            }
        }
        Seg::Index(i) => {
            if let Some(v) = cur.as_array().and_then(|a| index(a, *i)) {
                walk(rest, root, v, out);
            }
        }
        Seg::Wildcard => match cur {
            Value::Object(m) => m.values().for_each(|v| walk(rest, root, v, out)),
            Value::Array(a) => a.iter().for_each(|v| walk(rest, root, v, out)),
            _ => {}
        },
        Seg::Names(ks) => {
            if let Value::Object(m) = cur {
                for k in ks {
                    if let Some(v) = m.get(&**k) {
                        walk(rest, root, v, out);
                    }
                }
            }
        }
        Seg::Indexes(is) => {
            if let Value::Array(a) = cur {
                for i in is {
                    if let Some(v) = index(a, *i) {
                        walk(rest, root, v, out);
                    }
                }
            }
        }
        Seg::Slice(start, end, step) => {
            if let Value::Array(a) = cur {
                let len = a.len() as i64;
                let step = step.unwrap_or(1);
                if step <= 0 {
                    return;
                }
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let s = norm(start.unwrap_or(0));
                let e = norm(end.unwrap_or(len));
                let mut i = s;
                while i < e {
                    walk(rest, root, &a[i as usize], out);
                    i += step;
                }
            }
        }
        Seg::Descend(inner) => {
            let mut here = Vec::new();
            walk(std::slice::from_ref(&**inner), root, cur, &mut here);
            for v in here {
                walk(rest, root, v, out);
            }
            match cur {
                Value::Object(m) => m.values().for_each(|v| walk(segs, root, v, out)),
                Value::Array(a) => a.iter().for_each(|v| walk(segs, root, v, out)),
                _ => {}
            }
        }
        Seg::Filter(f) => match cur {
            Value::Array(a) => {
                for v in a {
                    if f.test(root, v) {
                        walk(rest, root, v, out);
                    }
                }
            }
            Value::Object(m) => {
                for v in m.values() {
                    if f.test(root, v) {
                        walk(rest, root, v, out);
                    }
                }
            }
            _ => {}
        },
    }
}

impl Filter {
    fn test(&self, root: &Value, item: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.test(root, item) || b.test(root, item),
            Filter::And(a, b) => a.test(root, item) && b.test(root, item),
            Filter::Not(a) => !a.test(root, item),
            Filter::Exists(o) => o.get(root, item).is_some(),
            Filter::Cmp(a, op, b) => {
                let (Some(x), Some(y)) = (a.get(root, item), b.get(root, item)) else {
                    return false;
                };
                compare(x, *op, y)
            }
        }
    }
}

fn compare(x: &Value, op: CmpOp, y: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (x, y) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => {
            return match op {
                CmpOp::Eq => x == y,
                CmpOp::Ne => x != y,
                _ => false,
            };
        }
    };
    let Some(ord) = ord else { return false };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

impl Operand {
    fn get<'a>(&'a self, root: &'a Value, item: &'a Value) -> Option<&'a Value> {
        match self {
            Operand::Literal(v) => Some(v),
            Operand::Path { absolute, segs } => {
                let mut cur = if *absolute { root } else { item };
                for s in segs {
                    cur = match (s, cur) {
                        (Seg::Name(k), Value::Object(m)) => m.get(&**k)?,
                        (Seg::Index(i), Value::Array(a)) => index(a, *i)?,
                        _ => return None,
                    };
                }
                Some(cur)
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == b' ') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Parses segments until the end, or (in a filter) until a non-segment character.
    fn segments(&mut self, in_filter: bool) -> Result<Vec<Seg>, String> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                    if self.eat(b'.') {
                        let inner = if self.peek() == Some(b'[') {
                            self.bracket()?
                        } else {
                            self.dot_name()?
                        };
                        segs.push(Seg::Descend(Box::new(inner)));
                    } else {
                        segs.push(self.dot_name()?);
                    }
                }
                Some(b'[') => segs.push(self.bracket()?),
                None => return Ok(segs),
                Some(_) if in_filter => return Ok(segs),
                Some(c) => return Err(format!("unexpected '{}'", c as char)),
            }
        }
    }

    fn dot_name(&mut self) -> Result<Seg, String> {
        if self.eat(b'*') {
            return Ok(Seg::Wildcard);
        }
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(
                c,
                b'.' | b'[' | b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|' | b','
            ) {
                break;
            }
            self.i += 1;
        }
        if start == self.i {
            return Err("empty property name".into());
        }
        Ok(Seg::Name(self.src[start..self.i].into()))
    }

    fn bracket(&mut self) -> Result<Seg, String> {
        self.i += 1; // '['
        self.skip_ws();
        let seg = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Seg::Wildcard
            }
            Some(b'?') => {
                self.i += 1;
                self.skip_ws();
                if !self.eat(b'(') {
                    return Err("expected '(' after '?'".into());
                }
                let f = self.filter_or()?;
                self.skip_ws();
                if !self.eat(b')') {
                    return Err("expected ')' closing the filter".into());
                }
                Seg::Filter(Box::new(f))
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted()?];
                self.skip_ws();
                while self.eat(b',') {
                    self.skip_ws();
                    names.push(self.quoted()?);
                    self.skip_ws();
                }
                if names.len() == 1 {
                    Seg::Name(names.pop().unwrap_or_default().into())
                } else {
                    Seg::Names(names.into_iter().map(Into::into).collect())
                }
            }
            _ => self.index_or_slice()?,
        };
        self.skip_ws();
        if !self.eat(b']') {
            return Err("expected ']'".into());
        }
        Ok(seg)
    }

    fn quoted(&mut self) -> Result<String, String> {
        let q = self.peek().ok_or("unterminated string")?;
        self.i += 1;
        let mut out = String::new();
        let start = self.i;
        let mut chunk = start;
        loop {
            match self.peek() {
                None => return Err("unterminated string".into()),
                // Jayway only unescapes the quote character itself; any other backslash
                // is part of the name (`$['Test\\"Name']` names `Test\\"Name`).
                Some(b'\\') if self.s.get(self.i + 1) == Some(&q) => {
                    out.push_str(&self.src[chunk..self.i]);
                    out.push(q as char);
                    self.i += 2;
                    chunk = self.i;
                }
                Some(c) if c == q => {
                    out.push_str(&self.src[chunk..self.i]);
                    self.i += 1;
                    return Ok(out);
                }
                Some(_) => self.i += 1,
            }
        }
    }

    fn int(&mut self) -> Option<i64> {
        self.skip_ws();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let r = self.src[start..self.i].parse().ok();
        self.skip_ws();
        r
    }

    fn index_or_slice(&mut self) -> Result<Seg, String> {
        let first = self.int();
        if self.peek() == Some(b':') {
            self.i += 1;
            let end = self.int();
            let step = if self.eat(b':') { self.int() } else { None };
            return Ok(Seg::Slice(first, end, step));
        }
        let first = first.ok_or("expected an index")?;
        let mut idx = vec![first];
        while self.eat(b',') {
            idx.push(self.int().ok_or("expected an index")?);
        }
        Ok(if idx.len() == 1 {
            Seg::Index(first)
        } else {
            Seg::Indexes(idx)
        })
    }

    fn filter_or(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.s[self.i..].starts_with(b"||") {
                self.i += 2;
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.s[self.i..].starts_with(b"&&") {
                self.i += 2;
                let right = self.filter_unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, String> {
        self.depth += 1;
        if self.depth > 64 {
            return Err("filter expression nested too deeply".into());
        }
        let r = self.filter_unary_inner();
        self.depth -= 1;
        r
    }

    fn filter_unary_inner(&mut self) -> Result<Filter, String> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.s.get(self.i + 1) != Some(&b'=') {
            self.i += 1;
            return Ok(Filter::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat(b'(') {
            let f = self.filter_or()?;
            self.skip_ws();
            if !self.eat(b')') {
                return Err("expected ')'".into());
            }
            return Ok(f);
        }
        let left = self.operand()?;
        self.skip_ws();
        let ops: [(&[u8], CmpOp); 6] = [
            (b"==", CmpOp::Eq),
            (b"!=", CmpOp::Ne),
            (b"<=", CmpOp::Le),
            (b">=", CmpOp::Ge),
            (b"<", CmpOp::Lt),
            (b">", CmpOp::Gt),
        ];
        for (tok, op) in ops {
            if self.s[self.i..].starts_with(tok) {
                self.i += tok.len();
                let right = self.operand()?;
                return Ok(Filter::Cmp(left, op, right));
            }
        }
        Ok(Filter::Exists(left))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.skip_ws();
        match self.peek() {
            Some(b'@' | b'$') => {
                let absolute = self.peek() == Some(b'$');
                self.i += 1;
                let segs = self.segments(true)?;
                if !segs
                    .iter()
                    .all(|s| matches!(s, Seg::Name(_) | Seg::Index(_)))
                {
                    return Err("only simple paths are supported inside filters".into());
                }
                Ok(Operand::Path { absolute, segs })
            }
            Some(b'\'' | b'"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'+'))
                {
                    self.i += 1;
                }
                let tok = &self.src[start..self.i];
                serde_json::from_str(tok)
                    .map(Operand::Literal)
                    .map_err(|_| format!("bad literal '{tok}'"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(p: &str, v: Value) -> Result<Value, String> {
        JsonPath::parse(p)?.select(&v).map_err(|e| e.to_string())
    }

    #[test]
    fn definite_paths_select_one_value() {
        assert_eq!(sel("$.a.b[1]", json!({"a": {"b": [1, 2]}})), Ok(json!(2)));
        assert_eq!(sel("$['a-b']", json!({"a-b": 3})), Ok(json!(3)));
        assert_eq!(sel("$", json!(5)), Ok(json!(5)));
    }

    #[test]
    fn missing_leaf_and_missing_property_use_jayway_wording() {
        assert_eq!(
            sel("$.NoSuch", json!({})),
            Err("Invalid path '$.NoSuch' : No results for path: $['NoSuch']".into())
        );
        assert_eq!(
            sel("$.no.such", json!({})),
            Err("Invalid path '$.no.such' : Missing property in path $['no']".into())
        );
    }

    #[test]
    fn indefinite_paths_return_arrays() {
        let v = json!({"users": [{"s": 0, "n": "a"}, {"s": 1, "n": "b"}]});
        assert_eq!(
            sel("$.users[?(@.s == 0)]", v.clone()),
            Ok(json!([{"s": 0, "n": "a"}]))
        );
        assert_eq!(sel("$.users[*].n", v.clone()), Ok(json!(["a", "b"])));
        assert_eq!(sel("$..n", v.clone()), Ok(json!(["a", "b"])));
        assert_eq!(sel("$.users[1:].n", v), Ok(json!(["b"])));
        assert_eq!(sel("$.missing[*]", json!({})), Ok(json!([])));
    }

    #[test]
    fn roots_are_recognised() {
        assert_eq!(
            JsonPath::parse("$$.Execution.Id").map(|p| p.root().clone()),
            Ok(Root::Context)
        );
        assert_eq!(
            JsonPath::parse("$var.x").map(|p| p.root().clone()),
            Ok(Root::Variable("var".into()))
        );
        assert!(JsonPath::parse("a.b").is_err());
    }

    #[test]
    fn assign_creates_intermediate_objects() {
        let p = JsonPath::parse("$.a.b").unwrap();
        assert_eq!(
            p.assign(json!({"x": 1}), json!(2)),
            Ok(json!({"x": 1, "a": {"b": 2}}))
        );
        assert!(p.assign(json!([1]), json!(2)).is_err());
        assert!(p.assign(json!({"a": "text"}), json!(2)).is_err());
        assert_eq!(
            p.assign(json!({"a": null}), json!(2)),
            Ok(json!({"a": {"b": 2}}))
        );
        let q = JsonPath::parse("$.l[1]").unwrap();
        assert_eq!(
            q.assign(json!({"l": [0, 0]}), json!(9)),
            Ok(json!({"l": [0, 9]}))
        );
        assert!(q.assign(json!({"l": [0]}), json!(9)).is_err());
    }
}
