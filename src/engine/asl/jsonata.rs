//! A JSONata subset for `QueryLanguage: "JSONata"` states: literals, `$states`/variable
//! references, field paths with array mapping, predicates `[...]`, arithmetic, comparison,
//! `and`/`or`, `&`, the conditional `? :`, blocks `( ; )`, bindings `:=`, regexes and
//! lambdas, plus function calls (evaluated by `exec::jsonata`). Parsed once at load time.
//! Unsupported syntax is rejected when the definition is loaded.

use std::fmt;

/// A compiled `{% ... %}` expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// The expression text between `{%` and `%}`, trimmed.
    pub text: Box<str>,
    /// The definition field it came from (`Output/result`), for error messages.
    pub field: Box<str>,
    pub node: Node,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Concat,
    In,
}

/// The syntax tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Literal(serde_json::Value),
    /// `$name` (`$` alone is the context value: `""`).
    Var(Box<str>),
    /// A bare field name, relative to the context value.
    Field(Box<str>),
    /// `a.b.c`
    Path(Vec<Node>),
    /// `expr[pred]` (index or filter).
    Filter(Box<Node>, Box<Node>),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    Block(Vec<Node>),
    Bind(Box<str>, Box<Node>),
    Call(Box<Node>, Vec<Node>),
    Lambda(Vec<Box<str>>, Box<Node>),
    Regex(Box<str>, Box<str>),
    Range(Box<Node>, Box<Node>),
}

/// A syntax error.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError(pub String);

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// If `s` is a `{% expr %}` string, its inner text.
pub fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%")
        .and_then(|r| r.strip_suffix("%}"))
        .map(str::trim)
}

impl Expr {
    /// Parses the inside of `{% ... %}`.
    pub fn parse(text: &str, field: &str) -> Result<Expr, SyntaxError> {
        let toks = lex(text)?;
        let mut p = Parser {
            toks,
            i: 0,
            depth: 0,
        };
        let node = p.expr(0)?;
        if p.i != p.toks.len() {
            return Err(SyntaxError(format!(
                "unexpected token {:?} in JSONata expression '{text}'",
                p.toks[p.i]
            )));
        }
        Ok(Expr {
            text: text.into(),
            field: field.into(),
            node,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Name(String),
    Var(String),
    Regex(String, String),
    Op(&'static str),
}

fn lex(s: &str) -> Result<Vec<Tok>, SyntaxError> {
    let cs: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    const OPS: [&str; 27] = [
        ":=", "!=", "<=", ">=", "..", "(", ")", "[", "]", "{", "}", ",", ";", ":", "?", ".", "+",
        "-", "*", "/", "%", "=", "<", ">", "&", "^", "~",
    ];
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && i + 1 < cs.len() && cs[i + 1] == '*' {
            let rest: String = cs[i..].iter().collect();
            match rest.find("*/") {
                Some(e) => i += rest[..e + 2].chars().count(),
                None => return Err(SyntaxError("unterminated comment".into())),
            }
            continue;
        }
        if c.is_ascii_digit() {
            let st = i;
            while i < cs.len()
                && (cs[i].is_ascii_digit()
                    || cs[i] == '.' && cs.get(i + 1).is_some_and(char::is_ascii_digit))
            {
                i += 1;
            }
            if i < cs.len() && (cs[i] == 'e' || cs[i] == 'E') {
                i += 1;
                if i < cs.len() && (cs[i] == '+' || cs[i] == '-') {
                    i += 1;
                }
                while i < cs.len() && cs[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let t: String = cs[st..i].iter().collect();
            out.push(Tok::Num(
                t.parse()
                    .map_err(|_| SyntaxError(format!("bad number {t}")))?,
            ));
            continue;
        }
        if c == '"' || c == '\'' {
            let mut v = String::new();
            i += 1;
            loop {
                let Some(&d) = cs.get(i) else {
                    return Err(SyntaxError("unterminated string".into()));
                };
                i += 1;
                match d {
                    '\\' => {
                        let e = cs
                            .get(i)
                            .copied()
                            .ok_or_else(|| SyntaxError("bad escape".into()))?;
                        i += 1;
                        match e {
                            'n' => v.push('\n'),
                            't' => v.push('\t'),
                            'r' => v.push('\r'),
                            'b' => v.push('\u{8}'),
                            'f' => v.push('\u{c}'),
                            'u' => {
                                let h: String = cs
                                    .get(i..i + 4)
                                    .map(|x| x.iter().collect())
                                    .unwrap_or_default();
                                let n = u32::from_str_radix(&h, 16)
                                    .map_err(|_| SyntaxError("bad \\u escape".into()))?;
                                v.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                                i += 4;
                            }
                            other => v.push(other),
                        }
                    }
                    d if d == c => break,
                    d => v.push(d),
                }
            }
            out.push(Tok::Str(v));
            continue;
        }
        if c == '`' {
            let st = i + 1;
            let Some(e) = cs[st..].iter().position(|&x| x == '`') else {
                return Err(SyntaxError("unterminated name".into()));
            };
            out.push(Tok::Name(cs[st..st + e].iter().collect()));
            i = st + e + 1;
            continue;
        }
        if c == '$' {
            let st = i + 1;
            i += 1;
            if cs.get(i) == Some(&'$') {
                i += 1;
                out.push(Tok::Var("$".into()));
                continue;
            }
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Var(cs[st..i].iter().collect()));
            continue;
        }
        // A '/' starts a regex where an operand is expected.
        if c == '/'
            && !matches!(
                out.last(),
                Some(
                    Tok::Num(_)
                        | Tok::Str(_)
                        | Tok::Name(_)
                        | Tok::Var(_)
                        | Tok::Op(")" | "]" | "}")
                )
            )
        {
            let mut pat = String::new();
            i += 1;
            loop {
                let Some(&d) = cs.get(i) else {
                    return Err(SyntaxError("unterminated regex".into()));
                };
                i += 1;
                match d {
                    '\\' => {
                        pat.push('\\');
                        if let Some(&e) = cs.get(i) {
                            pat.push(e);
                            i += 1;
                        }
                    }
                    '/' => break,
                    d => pat.push(d),
                }
            }
            let st = i;
            while i < cs.len() && cs[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Tok::Regex(pat, cs[st..i].iter().collect()));
            continue;
        }
        if let Some(op) = OPS.iter().find(|op| {
            let oc: Vec<char> = op.chars().collect();
            cs.get(i..i + oc.len()) == Some(&oc[..])
        }) {
            out.push(Tok::Op(op));
            i += op.len();
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let st = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(cs[st..i].iter().collect()));
            continue;
        }
        return Err(SyntaxError(format!("unexpected character '{c}'")));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    depth: usize,
}

fn infix(t: &Tok) -> Option<(u8, BinOp)> {
    Some(match t {
        Tok::Name(n) if n == "or" => (10, BinOp::Or),
        Tok::Name(n) if n == "and" => (20, BinOp::And),
        Tok::Name(n) if n == "in" => (30, BinOp::In),
        Tok::Op("=") => (30, BinOp::Eq),
        Tok::Op("!=") => (30, BinOp::Ne),
        Tok::Op("<") => (30, BinOp::Lt),
        Tok::Op("<=") => (30, BinOp::Le),
        Tok::Op(">") => (30, BinOp::Gt),
        Tok::Op(">=") => (30, BinOp::Ge),
        Tok::Op("&") => (40, BinOp::Concat),
        Tok::Op("+") => (50, BinOp::Add),
        Tok::Op("-") => (50, BinOp::Sub),
        Tok::Op("*") => (60, BinOp::Mul),
        Tok::Op("/") => (60, BinOp::Div),
        Tok::Op("%") => (60, BinOp::Mod),
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), SyntaxError> {
        if self.eat(op) {
            Ok(())
        } else {
            Err(SyntaxError(format!("expected '{op}'")))
        }
    }

    fn expr(&mut self, min: u8) -> Result<Node, SyntaxError> {
        self.depth += 1;
        if self.depth > 100 {
            return Err(SyntaxError("the expression is nested too deeply".into()));
        }
        let r = self.expr_inner(min);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, min: u8) -> Result<Node, SyntaxError> {
        let mut left = self.unary()?;
        loop {
            if min <= 5 {
                if self.eat("?") {
                    let then = self.expr(5)?;
                    let other = if self.eat(":") {
                        Some(Box::new(self.expr(5)?))
                    } else {
                        None
                    };
                    left = Node::Cond(Box::new(left), Box::new(then), other);
                    continue;
                }
                if self.eat(":=") {
                    let Node::Var(name) = left else {
                        return Err(SyntaxError("the left side of := must be a variable".into()));
                    };
                    let value = self.expr(4)?;
                    left = Node::Bind(name, Box::new(value));
                    continue;
                }
            }
            let Some((prec, op)) = self.peek().and_then(infix) else {
                break;
            };
            if prec < min.max(1) {
                break;
            }
            self.i += 1;
            let right = self.expr(prec + 1)?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, SyntaxError> {
        if self.eat("-") {
            return Ok(Node::Neg(Box::new(self.expr(70)?)));
        }
        let mut steps = vec![self.postfix()?];
        while self.eat(".") {
            steps.push(self.postfix()?);
        }
        Ok(if steps.len() == 1 {
            steps
                .pop()
                .unwrap_or(Node::Literal(serde_json::Value::Null))
        } else {
            Node::Path(steps)
        })
    }

    fn postfix(&mut self) -> Result<Node, SyntaxError> {
        let mut n = self.primary()?;
        loop {
            if self.eat("(") {
                let mut args = Vec::new();
                if !self.eat(")") {
                    loop {
                        args.push(self.expr(0)?);
                        if self.eat(")") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                n = Node::Call(Box::new(n), args);
            } else if self.eat("[") {
                if self.eat("]") {
                    // `a[]` keeps arrays as arrays; treat as identity.
                    continue;
                }
                let pred = self.expr(0)?;
                self.expect("]")?;
                n = Node::Filter(Box::new(n), Box::new(pred));
            } else {
                return Ok(n);
            }
        }
    }

    fn primary(&mut self) -> Result<Node, SyntaxError> {
        let Some(t) = self.toks.get(self.i).cloned() else {
            return Err(SyntaxError("unexpected end of expression".into()));
        };
        self.i += 1;
        Ok(match t {
            Tok::Num(n) => Node::Literal(num(n)),
            Tok::Str(s) => Node::Literal(serde_json::Value::String(s)),
            Tok::Regex(p, f) => Node::Regex(p.into(), f.into()),
            Tok::Var(v) => Node::Var(v.into()),
            Tok::Name(n) => match n.as_str() {
                "true" => Node::Literal(serde_json::Value::Bool(true)),
                "false" => Node::Literal(serde_json::Value::Bool(false)),
                "null" => Node::Literal(serde_json::Value::Null),
                "function" | "λ" if matches!(self.peek(), Some(Tok::Op("("))) => {
                    self.expect("(")?;
                    let mut params = Vec::new();
                    if !self.eat(")") {
                        loop {
                            match self.toks.get(self.i).cloned() {
                                Some(Tok::Var(v)) => params.push(v.into_boxed_str()),
                                _ => return Err(SyntaxError("expected a parameter".into())),
                            }
                            self.i += 1;
                            if self.eat(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    self.expect("{")?;
                    let body = self.expr(0)?;
                    self.expect("}")?;
                    Node::Lambda(params, Box::new(body))
                }
                _ => Node::Field(n.into()),
            },
            Tok::Op("(") => {
                let mut items = Vec::new();
                if !self.eat(")") {
                    loop {
                        items.push(self.expr(0)?);
                        if self.eat(")") {
                            break;
                        }
                        self.expect(";")?;
                    }
                }
                Node::Block(items)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.eat("]") {
                    loop {
                        let a = self.expr(0)?;
                        if self.eat("..") {
                            let b = self.expr(0)?;
                            items.push(Node::Range(Box::new(a), Box::new(b)));
                        } else {
                            items.push(a);
                        }
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Node::Array(items)
            }
            Tok::Op("{") => {
                let mut fields = Vec::new();
                if !self.eat("}") {
                    loop {
                        let k = self.expr(0)?;
                        self.expect(":")?;
                        let v = self.expr(0)?;
                        fields.push((k, v));
                        if self.eat("}") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Node::Object(fields)
            }
            Tok::Op("*") => Node::Field("*".into()),
            other => return Err(SyntaxError(format!("unexpected token {other:?}"))),
        })
    }
}

fn num(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_step_functions_uses() {
        for t in [
            "$states.input.a.b",
            "$sum($states.input.xs) + $v",
            "$contains('hello$world', /^hello\\$/)",
            "$fn := function($x){$x}",
            "{'foo': 'bar'}",
            "[1, 'two', 3]",
            "$states.input.type = 'Public'",
            "$x ? 1 : 2",
        ] {
            assert!(Expr::parse(t, "Output").is_ok(), "{t}");
        }
        assert!(Expr::parse("1 +", "Output").is_err());
        assert_eq!(expression_text("{% $x %}"), Some("$x"));
        assert_eq!(expression_text(" {% $x %} "), None);
    }
}
