//! The JSONPath parser: Jayway's `PathCompiler` rules (dot-names read up to the next
//! `.`, `[` or `(`; a path without `$` gets `$.` in front) into [`Segment`]s.

use super::filter::{self, Expr};
use super::{Error, Function, JsonPath, Segment, Selector};

/// A character cursor over a path (shared with the filter parser).
pub(super) struct Cursor<'a> {
    pub(super) text: &'a str,
    chars: Vec<char>,
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str) -> Cursor<'a> {
        Cursor { text, chars: text.chars().collect(), pos: 0 }
    }
    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    pub(super) fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }
    pub(super) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    pub(super) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    pub(super) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    pub(super) fn eat_str(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n && s.chars().zip(&self.chars[self.pos..]).all(|(a, b)| a == *b) {
            self.pos += n;
            true
        } else {
            false
        }
    }
    pub(super) fn expect(&mut self, c: char) -> Result<(), Error> {
        if self.eat(c) { Ok(()) } else { Err(self.error(format!("expected `{c}`"))) }
    }
    pub(super) fn error(&self, message: impl Into<String>) -> Error {
        let message = message.into();
        let message = match self.peek() {
            Some(c) => format!("{message}, found `{c}`"),
            None => format!("{message}, found the end of the path"),
        };
        Error::new(self.text, self.pos, message)
    }
}

/// Parses a whole path.
pub(super) fn parse(source: &str) -> Result<JsonPath, Error> {
    let trimmed = source.trim();
    if trimmed.is_empty() {
        return Err(Error::new(source, 0, "a path must not be empty"));
    }
    let text = if trimmed.starts_with('$') || trimmed.starts_with('@') {
        trimmed.to_string()
    } else {
        format!("$.{trimmed}")
    };
    let mut c = Cursor::new(&text);
    c.bump(); // `$` or `@`
    let (segments, function) = parse_segments(&mut c, false)?;
    if !c.at_end() {
        return Err(c.error("unexpected character"));
    }
    let definite = is_definite(&segments);
    Ok(JsonPath { source: source.into(), segments, function, definite })
}

/// Jayway's definite-path rule; a final several-names step merges into one map.
pub(super) fn is_definite(segments: &[Segment]) -> bool {
    let last = segments.len().saturating_sub(1);
    segments.iter().enumerate().all(|(i, s)| {
        !s.deep
            && match &s.selector {
                Selector::Names(n) => n.len() == 1 || i == last,
                Selector::Indexes(ix) => ix.len() == 1,
                _ => false,
            }
    })
}

/// Whether `c` ends a path inside a filter expression (`@.price > 10`).
fn ends_filter_path(c: char) -> bool {
    c.is_whitespace() || matches!(c, ')' | '=' | '!' | '<' | '>' | '&' | '|' | ',' | ']')
}

/// Parses the steps after `$`/`@`. In a filter, stops before an operator or `)`.
pub(super) fn parse_segments(c: &mut Cursor<'_>, in_filter: bool) -> Result<(Vec<Segment>, Option<Function>), Error> {
    let mut segments = Vec::new();
    while let Some(ch) = c.peek() {
        if in_filter && ends_filter_path(ch) {
            break;
        }
        match ch {
            '.' => {
                c.bump();
                let deep = c.eat('.');
                match c.peek() {
                    None => return Err(c.error("a path must not end with `.`")),
                    Some('.') => return Err(c.error("unexpected `.`")),
                    Some('[') => segments.push(Segment { deep, selector: parse_bracket(c)? }),
                    Some('*') => {
                        c.bump();
                        segments.push(Segment { deep, selector: Selector::Wildcard });
                    }
                    Some(_) => {
                        let start = c.pos;
                        let name = read_dot_name(c, in_filter)?;
                        if c.peek() == Some('(') {
                            if deep {
                                return Err(Error::new(c.text, start, "a function cannot follow `..`"));
                            }
                            let f = parse_function(c, &name, start)?;
                            let done = c.at_end() || (in_filter && c.peek().is_some_and(ends_filter_path));
                            if !done {
                                return Err(c.error("a function must be the last step of a path"));
                            }
                            return Ok((segments, Some(f)));
                        }
                        segments.push(Segment { deep, selector: Selector::Names(vec![name.into()]) });
                    }
                }
            }
            '[' => segments.push(Segment { deep: false, selector: parse_bracket(c)? }),
            _ => return Err(c.error("expected `.` or `[`")),
        }
    }
    Ok((segments, None))
}

/// A Jayway dot-name: everything up to the next `.`, `[` or `(`.
fn read_dot_name(c: &mut Cursor<'_>, in_filter: bool) -> Result<String, Error> {
    let start = c.pos;
    let mut name = String::new();
    while let Some(ch) = c.peek() {
        if ch == '.' || ch == '[' || ch == '(' || (in_filter && ends_filter_path(ch)) {
            break;
        }
        if ch == ' ' {
            return Err(c.error("use bracket notation ['my prop'] for names with spaces"));
        }
        name.push(ch);
        c.bump();
    }
    if name.is_empty() {
        return Err(Error::new(c.text, start, "expected a property name"));
    }
    Ok(name)
}

fn parse_function(c: &mut Cursor<'_>, name: &str, start: usize) -> Result<Function, Error> {
    let f = match name {
        "length" | "size" => Function::Length,
        "min" => Function::Min,
        "max" => Function::Max,
        "avg" => Function::Avg,
        "sum" => Function::Sum,
        "keys" => Function::Keys,
        _ => return Err(Error::new(c.text, start, format!("unknown function `{name}()`"))),
    };
    c.expect('(')?;
    c.skip_ws();
    c.expect(')')?;
    Ok(f)
}

/// `[...]`: names, indexes, a slice, `*` or a filter.
fn parse_bracket(c: &mut Cursor<'_>) -> Result<Selector, Error> {
    c.expect('[')?;
    c.skip_ws();
    let selector = match c.peek() {
        Some('*') => {
            c.bump();
            Selector::Wildcard
        }
        Some('?') => {
            c.bump();
            c.skip_ws();
            c.expect('(')?;
            let expr: Expr = filter::parse_expr(c)?;
            c.skip_ws();
            c.expect(')')?;
            Selector::Filter(Box::new(expr))
        }
        Some('\'' | '"') => {
            let mut names = Vec::new();
            loop {
                c.skip_ws();
                names.push(read_quoted(c)?.into());
                c.skip_ws();
                if !c.eat(',') {
                    break;
                }
            }
            Selector::Names(names)
        }
        Some(ch) if ch == '-' || ch == ':' || ch.is_ascii_digit() => parse_indexes(c)?,
        _ => return Err(c.error("expected a name, an index, `*` or `?(` after `[`")),
    };
    c.skip_ws();
    c.expect(']')?;
    Ok(selector)
}

fn parse_indexes(c: &mut Cursor<'_>) -> Result<Selector, Error> {
    let first = read_int(c)?;
    c.skip_ws();
    if c.eat(':') {
        c.skip_ws();
        let end = read_int(c)?;
        c.skip_ws();
        if c.eat(':') {
            c.skip_ws();
            let step = read_int(c)?;
            if step.is_some_and(|s| s != 1) {
                return Err(c.error("slice steps are not supported (Jayway has none)"));
            }
        }
        return Ok(Selector::Slice(first, end));
    }
    let Some(first) = first else { return Err(c.error("expected an index")) };
    let mut indexes = vec![first];
    while c.eat(',') {
        c.skip_ws();
        match read_int(c)? {
            Some(i) => indexes.push(i),
            None => return Err(c.error("expected an index")),
        }
        c.skip_ws();
    }
    Ok(Selector::Indexes(indexes))
}

fn read_int(c: &mut Cursor<'_>) -> Result<Option<i64>, Error> {
    let start = c.pos;
    let mut s = String::new();
    if c.peek() == Some('-') {
        s.push('-');
        c.bump();
    }
    while let Some(d) = c.peek().filter(char::is_ascii_digit) {
        s.push(d);
        c.bump();
    }
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| Error::new(c.text, start, format!("`{s}` is not a valid index")))
}

/// A quoted string in `'...'` or `"..."`, with `\'`, `\"`, `\\` escapes.
pub(super) fn read_quoted(c: &mut Cursor<'_>) -> Result<String, Error> {
    let start = c.pos;
    let quote = match c.bump() {
        Some(q @ ('\'' | '"')) => q,
        _ => return Err(Error::new(c.text, start, "expected a quoted string")),
    };
    let mut out = String::new();
    loop {
        match c.bump() {
            None => return Err(Error::new(c.text, start, "unterminated string")),
            Some('\\') => match c.bump() {
                Some(e) => out.push(e),
                None => return Err(Error::new(c.text, start, "unterminated string")),
            },
            Some(ch) if ch == quote => return Ok(out),
            Some(ch) => out.push(ch),
        }
    }
}
