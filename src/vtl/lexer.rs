//! The character-level scanner under the parser. VTL has three modes: text (everything
//! up to a `$`, `#` or `\`), reference (`$a.b(..)[..]`, identifiers may hold `-`), and
//! directive/expression (inside `#if( .. )`, method arguments and literals), where the
//! scanner hands out [`Token`]s. The parser drives the mode switches; this file only
//! knows how to read each mode's pieces.

use super::ast::BinaryOp;
use super::span::Span;

/// A token of expression mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Token<'a> {
    /// An integer literal that fits an `int`, a `long`, or is bigger (as text).
    Integer(&'a str),
    /// A floating point literal.
    Float(&'a str),
    /// `"..."` (inner text, still with `""` doubled quotes).
    DoubleQuoted(&'a str),
    /// `'...'` (inner text, still with `''` doubled quotes).
    SingleQuoted(&'a str),
    /// `$` starting a reference.
    Dollar,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    Colon,
    DotDot,
    Assign,
    Not,
    Minus,
    Op(BinaryOp),
    True,
    False,
    /// Any other bare word (`in`, a macro name).
    Word(&'a str),
    /// A character that starts no token.
    Other(char),
    Eof,
}

impl Token<'_> {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Token::Integer(s) | Token::Float(s) => format!("number `{s}`"),
            Token::DoubleQuoted(_) | Token::SingleQuoted(_) => "string literal".into(),
            Token::Dollar => "reference".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::LBrace => "`{`".into(),
            Token::RBrace => "`}`".into(),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::Comma => "`,`".into(),
            Token::Colon => "`:`".into(),
            Token::DotDot => "`..`".into(),
            Token::Assign => "`=`".into(),
            Token::Not => "`!`".into(),
            Token::Minus => "`-`".into(),
            Token::Op(op) => format!("`{}`", op.symbol()),
            Token::True => "`true`".into(),
            Token::False => "`false`".into(),
            Token::Word(w) => format!("`{w}`"),
            Token::Other(c) => format!("`{c}`"),
            Token::Eof => "end of template".into(),
        }
    }
}

/// A position in the source being scanned. `base` is added to every span (used when an
/// interpolated string is parsed from an unescaped copy).
#[derive(Clone, Debug)]
pub struct Lexer<'a> {
    src: &'a str,
    pub pos: usize,
    base: usize,
}

pub fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str, base: usize) -> Lexer<'a> {
        Lexer { src, pos: 0, base }
    }
    pub fn src(&self) -> &'a str {
        self.src
    }
    pub fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }
    pub fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }
    pub fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + n).copied()
    }
    pub fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }
    pub fn bump(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.src.len());
    }
    /// A span from `start` (a local position) to the current position.
    pub fn span_from(&self, start: usize) -> Span {
        Span::new(self.base + start, self.base + self.pos)
    }
    pub fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.base + start, self.base + end)
    }
    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.src[start..end]
    }

    /// Text mode: advances over plain text, stopping at `$`, `#`, `\` or the end.
    pub fn text_run(&mut self) -> &'a str {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() && !matches!(bytes[self.pos], b'$' | b'#' | b'\\') {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    /// An identifier `[a-zA-Z_][a-zA-Z0-9_-]*` (Velocity 1.x allows `-` inside).
    pub fn ident(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        while self.peek().is_some_and(is_ident_continue) {
            self.pos += 1;
        }
        Some(&self.src[start..self.pos])
    }

    /// A run of ASCII letters (directive names).
    pub fn letters(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    /// Skips spaces, tabs and line breaks (expression mode).
    pub fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Skips spaces and tabs only.
    pub fn skip_blanks(&mut self) {
        while self.peek().is_some_and(|b| matches!(b, b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Velocity 1.7 whitespace rule: a directive followed by blanks and a line break
    /// swallows them. Returns whether anything was swallowed.
    pub fn gobble_line_end(&mut self) -> bool {
        let save = self.pos;
        self.skip_blanks();
        if self.starts_with("\r\n") {
            self.pos += 2;
            true
        } else if matches!(self.peek(), Some(b'\n' | b'\r')) {
            self.pos += 1;
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// Expression mode: the next token after whitespace, with its start position.
    pub fn token(&mut self) -> (Token<'a>, usize) {
        self.skip_ws();
        let start = self.pos;
        let Some(b) = self.peek() else {
            return (Token::Eof, start);
        };
        let two = self.src.get(self.pos..self.pos + 2).unwrap_or("");
        let tok = match b {
            b'0'..=b'9' => return (self.number(start), start),
            b'.' if two == ".." => {
                self.pos += 2;
                Token::DotDot
            }
            b'"' | b'\'' => return (self.quoted(b), start),
            b'$' => {
                self.pos += 1;
                Token::Dollar
            }
            b'[' => self.one(Token::LBracket),
            b']' => self.one(Token::RBracket),
            b'{' => self.one(Token::LBrace),
            b'}' => self.one(Token::RBrace),
            b'(' => self.one(Token::LParen),
            b')' => self.one(Token::RParen),
            b',' => self.one(Token::Comma),
            b':' => self.one(Token::Colon),
            b'+' => self.one(Token::Op(BinaryOp::Add)),
            b'-' => self.one(Token::Minus),
            b'*' => self.one(Token::Op(BinaryOp::Mul)),
            b'/' => self.one(Token::Op(BinaryOp::Div)),
            b'%' => self.one(Token::Op(BinaryOp::Mod)),
            b'=' if two == "==" => self.two(Token::Op(BinaryOp::Eq)),
            b'=' => self.one(Token::Assign),
            b'!' if two == "!=" => self.two(Token::Op(BinaryOp::Ne)),
            b'!' => self.one(Token::Not),
            b'<' if two == "<=" => self.two(Token::Op(BinaryOp::Le)),
            b'<' => self.one(Token::Op(BinaryOp::Lt)),
            b'>' if two == ">=" => self.two(Token::Op(BinaryOp::Ge)),
            b'>' => self.one(Token::Op(BinaryOp::Gt)),
            b'&' if two == "&&" => self.two(Token::Op(BinaryOp::And)),
            b'|' if two == "||" => self.two(Token::Op(BinaryOp::Or)),
            _ if is_ident_start(b) => {
                let word = self.ident().unwrap_or_default();
                match word {
                    "true" => Token::True,
                    "false" => Token::False,
                    "and" => Token::Op(BinaryOp::And),
                    "or" => Token::Op(BinaryOp::Or),
                    "not" => Token::Not,
                    "eq" => Token::Op(BinaryOp::Eq),
                    "ne" => Token::Op(BinaryOp::Ne),
                    "lt" => Token::Op(BinaryOp::Lt),
                    "le" => Token::Op(BinaryOp::Le),
                    "gt" => Token::Op(BinaryOp::Gt),
                    "ge" => Token::Op(BinaryOp::Ge),
                    w => Token::Word(w),
                }
            }
            _ => {
                let c = self.rest().chars().next().unwrap_or('\0');
                self.pos += c.len_utf8();
                Token::Other(c)
            }
        };
        (tok, start)
    }

    /// Looks at the next token without consuming it.
    pub fn peek_token(&mut self) -> Token<'a> {
        let save = self.pos;
        let (t, _) = self.token();
        self.pos = save;
        t
    }

    fn one(&mut self, t: Token<'a>) -> Token<'a> {
        self.pos += 1;
        t
    }
    fn two(&mut self, t: Token<'a>) -> Token<'a> {
        self.pos += 2;
        t
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// `123`, `1.5`, `1.5E10`, `1e3` (a `.` must be followed by a digit, so `1..3` is a range).
    fn number(&mut self, start: usize) -> Token<'a> {
        self.digits();
        let mut float = false;
        if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
            self.digits();
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.digits();
                float = true;
            } else {
                self.pos = save;
            }
        }
        let text = &self.src[start..self.pos];
        if float { Token::Float(text) } else { Token::Integer(text) }
    }

    /// A quoted string; a doubled quote stands for one quote. An unterminated string is
    /// returned as `Other(quote)` with the position left after the quote.
    fn quoted(&mut self, quote: u8) -> Token<'a> {
        let start = self.pos;
        self.pos += 1;
        let bytes = self.src.as_bytes();
        loop {
            match bytes.get(self.pos) {
                None => {
                    self.pos = start + 1;
                    return Token::Other(quote as char);
                }
                Some(&b) if b == quote => {
                    if bytes.get(self.pos + 1) == Some(&quote) {
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        let inner = &self.src[start + 1..self.pos - 1];
                        return if quote == b'"' {
                            Token::DoubleQuoted(inner)
                        } else {
                            Token::SingleQuoted(inner)
                        };
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Vec<Token<'_>> {
        let mut lx = Lexer::new(src, 0);
        let mut out = Vec::new();
        loop {
            let (t, _) = lx.token();
            if t == Token::Eof {
                return out;
            }
            out.push(t);
        }
    }

    #[test]
    fn lexer_reads_ranges_and_floats() {
        assert_eq!(
            tokens("[1..3] 1.5 2e3 7"),
            vec![
                Token::LBracket,
                Token::Integer("1"),
                Token::DotDot,
                Token::Integer("3"),
                Token::RBracket,
                Token::Float("1.5"),
                Token::Float("2e3"),
                Token::Integer("7"),
            ]
        );
    }

    #[test]
    fn lexer_reads_operators_and_words() {
        assert_eq!(
            tokens("a == b && !c or d ne 'x''y' \"q\"\"r\""),
            vec![
                Token::Word("a"),
                Token::Op(BinaryOp::Eq),
                Token::Word("b"),
                Token::Op(BinaryOp::And),
                Token::Not,
                Token::Word("c"),
                Token::Op(BinaryOp::Or),
                Token::Word("d"),
                Token::Op(BinaryOp::Ne),
                Token::SingleQuoted("x''y"),
                Token::DoubleQuoted("q\"\"r"),
            ]
        );
    }

    #[test]
    fn lexer_unterminated_string_is_other() {
        assert_eq!(tokens("\"abc"), vec![Token::Other('"'), Token::Word("abc")]);
    }

    #[test]
    fn gobble_takes_blanks_and_one_newline() {
        let mut lx = Lexer::new("  \t\n\nx", 0);
        assert!(lx.gobble_line_end());
        assert_eq!(lx.rest(), "\nx");
        let mut lx = Lexer::new("  x", 0);
        assert!(!lx.gobble_line_end());
        assert_eq!(lx.pos, 0);
    }
}
