//! Turns template text into the spanned AST. Text mode is scanned here directly
//! (references and directives interrupt it); expressions are read through
//! [`Lexer::token`]. Macros are collected while parsing, so a macro can be called
//! before the text that defines it, as in Velocity 1.7.
//!
//! Whitespace follows Velocity 1.7: a directive followed by blanks and a line break
//! swallows them (`#set(..)⏎`, `#end⏎`, `#else⏎`, `#if(..)⏎`, macro calls), and blanks
//! between a previous reference/directive and a `#set` are dropped; indentation after a
//! line break is kept.

use std::collections::HashMap;
use std::sync::Arc;

use super::ast::{
    Accessor, BinaryOp, Define, Expr, ExprKind, Foreach, If, Macro, MacroCall, Node, Reference, Set,
};
use super::error::Error;
use super::lexer::{Lexer, Token, is_ident_start};
use super::span::Span;
use super::value::Value;

/// How deeply blocks and expressions may nest in the source (guards the parser's stack).
const MAX_NESTING: usize = 100;

/// Directive names Velocity knows; `\#name` escapes only these.
const DIRECTIVES: &[&str] = &[
    "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "macro", "define", "include",
    "parse", "evaluate",
];

/// A parsed template body and the macros it defines.
#[derive(Debug)]
pub struct Parsed {
    pub nodes: Vec<Node>,
    pub macros: HashMap<Arc<str>, Arc<Macro>>,
}

/// Parses a whole template.
pub fn parse(source: &str) -> Result<Parsed, Error> {
    let mut p = Parser {
        lx: Lexer::new(source, 0),
        macros: Vec::new(),
        depth: 0,
    };
    let (nodes, end) = p.block()?;
    match end {
        Terminator::Eof => {}
        Terminator::End(span) => return Err(unexpected_directive("#end", span)),
        Terminator::Else(span) => return Err(unexpected_directive("#else", span)),
        Terminator::ElseIf(_, span) => return Err(unexpected_directive("#elseif", span)),
    }
    let mut macros = HashMap::new();
    for m in p.macros {
        macros.entry(m.name.clone()).or_insert_with(|| Arc::new(m));
    }
    Ok(Parsed { nodes, macros })
}

fn unexpected_directive(name: &str, span: Span) -> Error {
    Error::syntax(
        format!("unexpected `{name}` with no open `#if`, `#foreach`, `#macro` or `#define`"),
        span,
    )
    .with_label(format!("unexpected `{name}`"))
}

/// What ended a block.
enum Terminator {
    Eof,
    End(Span),
    Else(Span),
    ElseIf(Expr, Span),
}

struct Parser<'a> {
    lx: Lexer<'a>,
    macros: Vec<Macro>,
    depth: usize,
}

/// Text collected since the last node.
#[derive(Default)]
struct Pending {
    text: String,
}

impl Pending {
    fn flush(&mut self, nodes: &mut Vec<Node>) {
        if !self.text.is_empty() {
            nodes.push(Node::Text(std::mem::take(&mut self.text).into_boxed_str()));
        }
    }
}

impl<'a> Parser<'a> {
    fn enter(&mut self, span: Span) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Error::syntax(
                format!("template nests deeper than {MAX_NESTING} levels"),
                span,
            ));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    // === text mode ===

    fn block(&mut self) -> Result<(Vec<Node>, Terminator), Error> {
        let mut nodes = Vec::new();
        let mut pending = Pending::default();
        loop {
            pending.text.push_str(self.lx.text_run());
            match self.lx.peek() {
                None => {
                    pending.flush(&mut nodes);
                    return Ok((nodes, Terminator::Eof));
                }
                Some(b'$') => {
                    let start = self.lx.pos;
                    match self.text_reference()? {
                        Some(r) => {
                            pending.flush(&mut nodes);
                            nodes.push(Node::Reference(Box::new(r)));
                        }
                        None => {
                            self.lx.pos = start + 1;
                            pending.text.push('$');
                        }
                    }
                }
                Some(b'\\') => self.backslashes(&mut nodes, &mut pending)?,
                Some(_) => {
                    if let Some(t) = self.hash(&mut nodes, &mut pending)? {
                        pending.flush(&mut nodes);
                        return Ok((nodes, t));
                    }
                }
            }
        }
    }

    /// A run of `\` before `$ref` or `#directive` escapes it; elsewhere it is text.
    fn backslashes(&mut self, nodes: &mut Vec<Node>, pending: &mut Pending) -> Result<(), Error> {
        let start = self.lx.pos;
        while self.lx.peek() == Some(b'\\') {
            self.lx.bump(1);
        }
        let count = self.lx.pos - start;
        match self.lx.peek() {
            Some(b'$') => {
                let at = self.lx.pos;
                match self.text_reference()? {
                    Some(r) => {
                        pending.flush(nodes);
                        nodes.push(Node::EscapedReference {
                            backslashes: u32::try_from(count).unwrap_or(u32::MAX),
                            reference: Box::new(r),
                        });
                    }
                    None => {
                        self.lx.pos = at;
                        pending.text.push_str(self.lx.slice(start, at));
                    }
                }
            }
            Some(b'#') => {
                let at = self.lx.pos;
                self.lx.bump(1);
                let braced = self.lx.peek() == Some(b'{');
                if braced {
                    self.lx.bump(1);
                }
                let word = self.lx.letters();
                let closed = !braced || self.lx.peek() == Some(b'}');
                if closed && DIRECTIVES.contains(&word) {
                    if braced {
                        self.lx.bump(1);
                    }
                    pending.text.push_str(&"\\".repeat(count / 2));
                    if count % 2 == 1 {
                        pending.text.push_str(self.lx.slice(at, self.lx.pos));
                    } else {
                        // An even run escapes nothing: the directive is parsed next.
                        self.lx.pos = at;
                    }
                } else {
                    self.lx.pos = at;
                    pending.text.push_str(self.lx.slice(start, at));
                }
            }
            _ => pending.text.push_str(self.lx.slice(start, self.lx.pos)),
        }
        Ok(())
    }

    /// At a `#`: a comment, raw block, directive, macro call, or just text. Returns a
    /// terminator when the directive ends the current block.
    fn hash(
        &mut self,
        nodes: &mut Vec<Node>,
        pending: &mut Pending,
    ) -> Result<Option<Terminator>, Error> {
        let start = self.lx.pos;
        if self.lx.starts_with("##") {
            let rest = self.lx.rest();
            let len = rest.find('\n').map_or(rest.len(), |i| i + 1);
            self.lx.bump(len);
            pending.flush(nodes);
            return Ok(None);
        }
        if self.lx.starts_with("#*") {
            // An unclosed block comment runs to the end of the template (Velocity 1.7).
            let rest = &self.lx.rest()[2..];
            let len = rest.find("*#").map_or(rest.len(), |i| i + 2);
            self.lx.bump(2 + len);
            pending.flush(nodes);
            return Ok(None);
        }
        if self.lx.starts_with("#[[") {
            let rest = &self.lx.rest()[3..];
            let Some(i) = rest.find("]]#") else {
                return Err(Error::syntax(
                    "unterminated unparsed block: `#[[` has no closing `]]#`",
                    self.lx.span(start, start + 3),
                )
                .with_label("block opened here"));
            };
            pending.flush(nodes);
            nodes.push(Node::Text(rest[..i].into()));
            self.lx.bump(3 + i + 3);
            return Ok(None);
        }
        self.lx.bump(1);
        let braced = self.lx.peek() == Some(b'{');
        if braced {
            self.lx.bump(1);
        }
        let word = self.lx.letters();
        if braced {
            if self.lx.peek() != Some(b'}') || !DIRECTIVES.contains(&word) {
                self.lx.pos = start + 1;
                pending.text.push('#');
                return Ok(None);
            }
            self.lx.bump(1);
        }
        let head = self.lx.span_from(start);
        match word {
            "set" => {
                if !self.at_paren() {
                    return self.as_text(start, pending);
                }
                if !pending.text.is_empty() && pending.text.bytes().all(|b| b == b' ' || b == b'\t')
                {
                    pending.text.clear();
                }
                pending.flush(nodes);
                let set = self.set()?;
                nodes.push(Node::Set(Box::new(set)));
            }
            "if" => {
                if !self.at_paren() {
                    return Err(self.needs_paren("if", head));
                }
                pending.flush(nodes);
                let node = self.if_block(start, head)?;
                nodes.push(node);
            }
            "elseif" => {
                if !self.at_paren() {
                    return Err(self.needs_paren("elseif", head));
                }
                let cond = self.paren_expr()?;
                self.lx.gobble_line_end();
                return Ok(Some(Terminator::ElseIf(cond, head)));
            }
            "else" => {
                self.lx.gobble_line_end();
                return Ok(Some(Terminator::Else(head)));
            }
            "end" => {
                self.lx.gobble_line_end();
                return Ok(Some(Terminator::End(head)));
            }
            "foreach" => {
                if !self.at_paren() {
                    return Err(self.needs_paren("foreach", head));
                }
                pending.flush(nodes);
                let node = self.foreach(start, head)?;
                nodes.push(node);
            }
            "break" | "stop" => {
                pending.flush(nodes);
                nodes.push(if word == "break" {
                    Node::Break
                } else {
                    Node::Stop
                });
                self.lx.gobble_line_end();
            }
            "macro" => {
                if !self.at_paren() {
                    return Err(self.needs_paren("macro", head));
                }
                pending.flush(nodes);
                self.macro_definition(head)?;
            }
            "define" => {
                if !self.at_paren() {
                    return Err(self.needs_paren("define", head));
                }
                pending.flush(nodes);
                let node = self.define(head)?;
                nodes.push(node);
            }
            "include" | "parse" | "evaluate" => {
                return Err(Error::syntax(
                    format!("`#{word}` is not supported in API Gateway mapping templates"),
                    head,
                ));
            }
            _ => {
                self.lx.pos = start + 1;
                let Some(name) = self.lx.ident() else {
                    pending.text.push('#');
                    return Ok(None);
                };
                if self.lx.peek() != Some(b'(') {
                    return self.as_text(start, pending);
                }
                let after_name = self.lx.pos;
                match self.macro_args() {
                    Ok(args) => {
                        self.lx.gobble_line_end();
                        pending.flush(nodes);
                        nodes.push(Node::MacroCall(Box::new(MacroCall {
                            name: name.into(),
                            args,
                            literal: self.lx.slice(start, self.lx.pos).into(),
                            span: self.lx.span(start, after_name),
                        })));
                    }
                    Err(_) => {
                        self.lx.pos = after_name;
                        pending.text.push_str(self.lx.slice(start, after_name));
                    }
                }
            }
        }
        Ok(None)
    }

    fn needs_paren(&self, word: &str, head: Span) -> Error {
        Error::syntax(format!("`#{word}` must be followed by `(`"), head)
            .with_label(format!("`#{word}` without `(`"))
    }

    /// Leaves `#word` as text (for example `#set` without parentheses).
    fn as_text(
        &mut self,
        start: usize,
        pending: &mut Pending,
    ) -> Result<Option<Terminator>, Error> {
        pending.text.push_str(self.lx.slice(start, self.lx.pos));
        Ok(None)
    }

    /// Whether a `(` follows (after blanks); consumes the blanks only if so.
    fn at_paren(&mut self) -> bool {
        let save = self.lx.pos;
        self.lx.skip_blanks();
        if self.lx.peek() == Some(b'(') {
            true
        } else {
            self.lx.pos = save;
            false
        }
    }

    // === directives ===

    fn expect(&mut self, want: Token<'_>, what: &str) -> Result<Span, Error> {
        let (tok, at) = self.lx.token();
        if tok == want {
            Ok(self.lx.span_from(at))
        } else {
            Err(self.unexpected(tok, at, what))
        }
    }

    fn unexpected(&self, tok: Token<'_>, at: usize, what: &str) -> Error {
        let end = if tok == Token::Eof {
            at
        } else {
            self.lx.pos.max(at + 1)
        };
        let span = self.lx.span(at, end);
        Error::syntax(
            format!("unexpected {}, expected {what}", tok.describe()),
            span,
        )
        .with_label(format!("unexpected {}", tok.describe()))
    }

    fn paren_expr(&mut self) -> Result<Expr, Error> {
        self.expect(Token::LParen, "`(`")?;
        let e = self.expr()?;
        self.expect(Token::RParen, "`)`")?;
        Ok(e)
    }

    fn set(&mut self) -> Result<Set, Error> {
        self.expect(Token::LParen, "`(`")?;
        let (tok, at) = self.lx.token();
        if tok != Token::Dollar {
            return Err(self.unexpected(tok, at, "a reference to assign to (`$name`)"));
        }
        let target = self.reference(at)?;
        if let Some(Accessor::Method { span, .. }) = target.accessors.last() {
            return Err(Error::syntax("cannot assign to a method call", *span));
        }
        self.expect(Token::Assign, "`=`")?;
        let value = self.expr()?;
        self.expect(Token::RParen, "`)`")?;
        self.lx.gobble_line_end();
        Ok(Set { target, value })
    }

    fn if_block(&mut self, start: usize, head: Span) -> Result<Node, Error> {
        self.enter(head)?;
        let mut cond = self.paren_expr()?;
        self.lx.gobble_line_end();
        let mut branches = Vec::new();
        let mut otherwise = None;
        loop {
            let (body, end) = self.block()?;
            branches.push((cond, body));
            match end {
                Terminator::End(_) => break,
                Terminator::ElseIf(c, _) => cond = c,
                Terminator::Else(else_span) => {
                    let (body, end) = self.block()?;
                    otherwise = Some(body);
                    match end {
                        Terminator::End(_) => break,
                        Terminator::Eof => return Err(self.unclosed("#if", head)),
                        Terminator::Else(s) | Terminator::ElseIf(_, s) => {
                            let _ = else_span;
                            return Err(Error::syntax(
                                "`#else` must be the last branch of an `#if`",
                                s,
                            )
                            .with_label("after `#else`"));
                        }
                    }
                }
                Terminator::Eof => return Err(self.unclosed("#if", head)),
            }
        }
        self.leave();
        Ok(Node::If(Box::new(If {
            branches,
            otherwise,
            span: self.lx.span(start, head.end as usize),
        })))
    }

    fn unclosed(&self, what: &str, head: Span) -> Error {
        let end = self.lx.src().len();
        let loc = crate::diag::locate(self.lx.src(), end);
        Error::syntax(format!("`{what}` is never closed with `#end`"), head).with_label(format!(
            "`{what}` opened here is never closed (end of template at {}:{})",
            loc.line, loc.col
        ))
    }

    fn body_until_end(&mut self, what: &str, head: Span) -> Result<Vec<Node>, Error> {
        self.enter(head)?;
        let (body, end) = self.block()?;
        self.leave();
        match end {
            Terminator::End(_) => Ok(body),
            Terminator::Eof => Err(self.unclosed(what, head)),
            Terminator::Else(s) | Terminator::ElseIf(_, s) => Err(Error::syntax(
                format!("`#else` outside an `#if` (inside `{what}`)"),
                s,
            )),
        }
    }

    fn foreach(&mut self, start: usize, head: Span) -> Result<Node, Error> {
        self.expect(Token::LParen, "`(`")?;
        let (tok, at) = self.lx.token();
        if tok != Token::Dollar {
            return Err(self.unexpected(tok, at, "the loop variable (`$item`)"));
        }
        let var = self.plain_name(at)?;
        let (tok, at) = self.lx.token();
        if tok != Token::Word("in") {
            return Err(self.unexpected(tok, at, "`in`"));
        }
        let iterable = self.expr()?;
        self.expect(Token::RParen, "`)`")?;
        self.lx.gobble_line_end();
        let body = self.body_until_end("#foreach", head)?;
        Ok(Node::Foreach(Box::new(Foreach {
            var,
            iterable,
            body,
            span: self.lx.span(start, head.end as usize),
        })))
    }

    /// `$name` or `${name}` without accessors (loop variables, macro parameters).
    fn plain_name(&mut self, dollar: usize) -> Result<Arc<str>, Error> {
        let braced = self.lx.peek() == Some(b'{');
        if braced {
            self.lx.bump(1);
        }
        let Some(name) = self.lx.ident() else {
            return Err(Error::syntax(
                "expected a variable name after `$`",
                self.lx.span(dollar, self.lx.pos + 1),
            ));
        };
        if braced && self.lx.peek() == Some(b'}') {
            self.lx.bump(1);
        }
        Ok(name.into())
    }

    fn macro_definition(&mut self, head: Span) -> Result<(), Error> {
        self.expect(Token::LParen, "`(`")?;
        let (tok, at) = self.lx.token();
        let Token::Word(name) = tok else {
            return Err(self.unexpected(tok, at, "the macro name"));
        };
        let name: Arc<str> = name.into();
        let mut params = Vec::new();
        loop {
            let (tok, at) = self.lx.token();
            match tok {
                Token::RParen => break,
                Token::Comma => {}
                Token::Dollar => params.push(self.plain_name(at)?),
                t => return Err(self.unexpected(t, at, "a parameter (`$name`) or `)`")),
            }
        }
        self.lx.gobble_line_end();
        let body = self.body_until_end("#macro", head)?;
        self.macros.push(Macro { name, params, body });
        Ok(())
    }

    fn define(&mut self, head: Span) -> Result<Node, Error> {
        self.expect(Token::LParen, "`(`")?;
        let (tok, at) = self.lx.token();
        if tok != Token::Dollar {
            return Err(self.unexpected(tok, at, "a reference (`$name`)"));
        }
        let name = self.plain_name(at)?;
        self.expect(Token::RParen, "`)`")?;
        self.lx.gobble_line_end();
        let body = self.body_until_end("#define", head)?;
        Ok(Node::Define(Box::new(Define {
            name,
            body: Arc::new(body),
        })))
    }

    /// `(a b, c)`: macro call arguments, separated by blanks or commas.
    fn macro_args(&mut self) -> Result<Vec<Expr>, Error> {
        self.expect(Token::LParen, "`(`")?;
        let mut args = Vec::new();
        loop {
            match self.lx.peek_token() {
                Token::RParen => {
                    self.lx.token();
                    return Ok(args);
                }
                Token::Comma => {
                    self.lx.token();
                }
                Token::Eof => {
                    let (t, at) = self.lx.token();
                    return Err(self.unexpected(t, at, "`)`"));
                }
                _ => args.push(self.unary()?),
            }
        }
    }

    // === references ===

    /// A reference in text mode; `None` (position unspecified) when the `$` starts none.
    fn text_reference(&mut self) -> Result<Option<Reference>, Error> {
        let start = self.lx.pos;
        self.lx.bump(1);
        if self.lx.peek() == Some(b'!') {
            self.lx.bump(1);
        }
        if self.lx.peek() == Some(b'{') {
            self.lx.bump(1);
        }
        if !self.lx.peek().is_some_and(is_ident_start) {
            return Ok(None);
        }
        let save = self.lx.pos;
        self.lx.pos = start;
        let r = self.reference_inner(start, true)?;
        if r.is_none() {
            self.lx.pos = save;
        }
        Ok(r)
    }

    /// A reference in expression mode (the `$` at `dollar` was already read).
    fn reference(&mut self, dollar: usize) -> Result<Reference, Error> {
        self.lx.pos = dollar;
        match self.reference_inner(dollar, false)? {
            Some(r) => Ok(r),
            None => Err(Error::syntax(
                "expected a reference name after `$`",
                self.lx.span(dollar, dollar + 1),
            )),
        }
    }

    fn reference_inner(&mut self, start: usize, in_text: bool) -> Result<Option<Reference>, Error> {
        self.lx.bump(1); // `$`
        // `$!x` (quiet) renders like `$x`: API Gateway renders null as nothing anyway.
        if self.lx.peek() == Some(b'!') {
            self.lx.bump(1);
        }
        let braced = self.lx.peek() == Some(b'{');
        if braced {
            self.lx.bump(1);
        }
        let Some(name) = self.lx.ident() else {
            return Ok(None);
        };
        let name: Arc<str> = name.into();
        let mut accessors = Vec::new();
        loop {
            let at = self.lx.pos;
            match self.lx.peek() {
                Some(b'.') if self.lx.peek_at(1).is_some_and(is_ident_start) => {
                    self.lx.bump(1);
                    let prop: Arc<str> = self.lx.ident().unwrap_or_default().into();
                    if self.lx.peek() == Some(b'(') {
                        let paren = self.lx.pos;
                        self.enter(self.lx.span(at, self.lx.pos))?;
                        let args = self.call_args();
                        self.leave();
                        match args {
                            Ok(args) => accessors.push(Accessor::Method {
                                name: prop,
                                literal_args: literal_values(&args),
                                args,
                                span: self.lx.span_from(at + 1),
                            }),
                            // In text, `$a.b(` as the very last characters of the template
                            // is the property `$a.b` followed by the text `(`, as Velocity 1.7
                            // reads it; anything after the `(` (even a newline) makes Velocity
                            // parse arguments, and an unclosed call is a syntax error there.
                            Err(_) if in_text && paren + 1 == self.lx.src().len() => {
                                accessors.push(Accessor::Property {
                                    name: prop,
                                    span: self.lx.span(at + 1, paren),
                                });
                                self.lx.pos = paren;
                                break;
                            }
                            Err(e) => return Err(e),
                        }
                    } else {
                        accessors.push(Accessor::Property {
                            name: prop,
                            span: self.lx.span_from(at + 1),
                        });
                    }
                }
                Some(b'[') => {
                    self.lx.bump(1);
                    self.enter(self.lx.span(at, self.lx.pos))?;
                    let index = self.expr();
                    self.leave();
                    let index = index?;
                    self.expect(Token::RBracket, "`]` to close the index")?;
                    accessors.push(Accessor::Index {
                        index,
                        span: self.lx.span_from(at),
                    });
                }
                _ => break,
            }
        }
        if braced {
            if self.lx.peek() == Some(b'}') {
                self.lx.bump(1);
            } else {
                return Err(Error::syntax(
                    "expected `}` to close `${`",
                    self.lx.span(start, self.lx.pos + 1),
                )
                .with_label("`${` is not closed"));
            }
        }
        let span = self.lx.span_from(start);
        Ok(Some(Reference {
            name,
            accessors,
            literal: self.lx.slice(start, self.lx.pos).into(),
            span,
        }))
    }

    /// `(a, b)` after a method name.
    fn call_args(&mut self) -> Result<Vec<Expr>, Error> {
        self.expect(Token::LParen, "`(`")?;
        let mut args = Vec::new();
        if self.lx.peek_token() == Token::RParen {
            self.lx.token();
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            let (tok, at) = self.lx.token();
            match tok {
                Token::Comma => {}
                Token::RParen => return Ok(args),
                t => return Err(self.unexpected(t, at, "`,` or `)`")),
            }
        }
    }

    // === expressions ===

    fn expr(&mut self) -> Result<Expr, Error> {
        let at = self.lx.pos;
        self.enter(self.lx.span(at, at + 1))?;
        let e = self.binary(0);
        self.leave();
        e
    }

    /// Precedence climbing: `||` < `&&` < `== !=` < `< <= > >=` < `+ -` < `* / %`.
    fn binary(&mut self, level: u8) -> Result<Expr, Error> {
        if level > 5 {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            let save = self.lx.pos;
            let (tok, _) = self.lx.token();
            let op = match tok {
                Token::Op(op) if precedence(op) == level => op,
                Token::Minus if level == 4 => BinaryOp::Sub,
                _ => {
                    self.lx.pos = save;
                    return Ok(left);
                }
            };
            let right = self.binary(level + 1)?;
            let span = left.span.to(right.span);
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                span,
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        let (tok, at) = self.lx.token();
        match tok {
            Token::Not => {
                self.enter(self.lx.span(at, at + 1))?;
                let inner = self.unary()?;
                self.leave();
                let span = self.lx.span(at, at).to(inner.span);
                Ok(Expr {
                    kind: ExprKind::Not(Box::new(inner)),
                    span,
                })
            }
            _ => {
                self.lx.pos = at;
                self.primary()
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        let (tok, at) = self.lx.token();
        let lit = |v: Value, p: &Self| {
            Ok(Expr {
                kind: ExprKind::Literal(v),
                span: p.lx.span_from(at),
            })
        };
        match tok {
            Token::Integer(s) => lit(integer(s), self),
            Token::Float(s) => lit(Value::Double(s.parse().unwrap_or(f64::NAN)), self),
            Token::Minus => match self.lx.peek() {
                Some(b'0'..=b'9') => {
                    let (tok, _) = self.lx.token();
                    match tok {
                        Token::Integer(_) | Token::Float(_) => {
                            let text = self.lx.slice(at, self.lx.pos);
                            let v = if matches!(tok, Token::Integer(_)) {
                                integer(text)
                            } else {
                                Value::Double(text.parse().unwrap_or(f64::NAN))
                            };
                            lit(v, self)
                        }
                        t => Err(self.unexpected(t, at, "a number")),
                    }
                }
                _ => Err(self.unexpected(Token::Minus, at, "an expression")),
            },
            Token::True => lit(Value::Bool(true), self),
            Token::False => lit(Value::Bool(false), self),
            Token::SingleQuoted(s) => lit(Value::string(s.replace("''", "'")), self),
            Token::DoubleQuoted(s) => {
                let text = unicode_escapes(&s.replace("\"\"", "\""));
                let span = self.lx.span_from(at);
                if !text.contains(['$', '#', '\\']) {
                    return Ok(Expr {
                        kind: ExprKind::Literal(Value::string(text)),
                        span,
                    });
                }
                self.enter(span)?;
                let base = span.start as usize + 1;
                let mut sub = Parser {
                    lx: Lexer::new(&text, base),
                    macros: Vec::new(),
                    depth: self.depth,
                };
                let (nodes, end) = sub.block()?;
                self.macros.append(&mut sub.macros);
                self.leave();
                match end {
                    Terminator::Eof => Ok(Expr {
                        kind: ExprKind::Interpolated(nodes),
                        span,
                    }),
                    Terminator::End(s) => Err(unexpected_directive("#end", s)),
                    Terminator::Else(s) | Terminator::ElseIf(_, s) => {
                        Err(unexpected_directive("#else", s))
                    }
                }
            }
            Token::Dollar => {
                let r = self.reference(at)?;
                let span = r.span;
                Ok(Expr {
                    kind: ExprKind::Reference(Box::new(r)),
                    span,
                })
            }
            Token::LParen => {
                let e = self.expr()?;
                self.expect(Token::RParen, "`)`")?;
                Ok(e)
            }
            Token::LBracket => self.list_or_range(at),
            Token::LBrace => self.map_literal(at),
            t => Err(self.unexpected(t, at, "an expression")),
        }
    }

    fn list_or_range(&mut self, at: usize) -> Result<Expr, Error> {
        if self.lx.peek_token() == Token::RBracket {
            self.lx.token();
            return Ok(Expr {
                kind: ExprKind::List(Vec::new()),
                span: self.lx.span_from(at),
            });
        }
        let first = self.expr()?;
        let (tok, t_at) = self.lx.token();
        match tok {
            Token::DotDot => {
                let last = self.expr()?;
                self.expect(Token::RBracket, "`]`")?;
                Ok(Expr {
                    kind: ExprKind::Range(Box::new(first), Box::new(last)),
                    span: self.lx.span_from(at),
                })
            }
            Token::RBracket => Ok(Expr {
                kind: ExprKind::List(vec![first]),
                span: self.lx.span_from(at),
            }),
            Token::Comma => {
                let mut items = vec![first];
                loop {
                    items.push(self.expr()?);
                    let (tok, t_at) = self.lx.token();
                    match tok {
                        Token::Comma => {}
                        Token::RBracket => break,
                        t => return Err(self.unexpected(t, t_at, "`,` or `]`")),
                    }
                }
                Ok(Expr {
                    kind: ExprKind::List(items),
                    span: self.lx.span_from(at),
                })
            }
            t => Err(self.unexpected(t, t_at, "`,`, `..` or `]`")),
        }
    }

    fn map_literal(&mut self, at: usize) -> Result<Expr, Error> {
        let mut entries = Vec::new();
        if self.lx.peek_token() == Token::RBrace {
            self.lx.token();
            return Ok(Expr {
                kind: ExprKind::Map(entries),
                span: self.lx.span_from(at),
            });
        }
        loop {
            let key = self.expr()?;
            self.expect(Token::Colon, "`:`")?;
            let value = self.expr()?;
            entries.push((key, value));
            let (tok, t_at) = self.lx.token();
            match tok {
                Token::Comma => {}
                Token::RBrace => break,
                t => return Err(self.unexpected(t, t_at, "`,` or `}`")),
            }
        }
        Ok(Expr {
            kind: ExprKind::Map(entries),
            span: self.lx.span_from(at),
        })
    }
}

fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 0,
        BinaryOp::And => 1,
        BinaryOp::Eq | BinaryOp::Ne => 2,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 3,
        BinaryOp::Add | BinaryOp::Sub => 4,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 5,
    }
}

/// Velocity 1.7 turns `\uXXXX` into the character in double-quoted strings (and no
/// other backslash escape).
fn unicode_escapes(s: &str) -> String {
    if !s.contains("\\u") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\\u") {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 2..i + 6).unwrap_or("");
        match u32::from_str_radix(hex, 16)
            .ok()
            .filter(|_| hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(char::from_u32)
        {
            Some(c) => {
                out.push(c);
                rest = &rest[i + 6..];
            }
            None => {
                out.push_str("\\u");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// An integer literal: `Integer` if it fits, else `Long`, else (like `BigInteger`, which
/// we do not model) a `Double`.
fn integer(text: &str) -> Value {
    if let Ok(i) = text.parse::<i32>() {
        Value::Int(i)
    } else if let Ok(l) = text.parse::<i64>() {
        Value::Long(l)
    } else {
        Value::Double(text.parse().unwrap_or(f64::NAN))
    }
}

/// The values of `args` when every one is a literal.
fn literal_values(args: &[Expr]) -> Option<Box<[Value]>> {
    args.iter()
        .map(|a| match &a.kind {
            ExprKind::Literal(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}
