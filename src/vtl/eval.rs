//! The tree-walking evaluator: renders a parsed template into one output `String`.
//!
//! Control flow (`#break`, `#stop`) travels as [`Flow`], never as an error. Limits are
//! checked as the render goes: `#foreach` iterations per loop (and a total budget),
//! nesting depth of directives and macro calls, and output size (also for strings built
//! inside the template, so `#set($s = "$s$s")` in a loop stops with a clear error).

use std::collections::HashMap;
use std::sync::Arc;

use smallvec::SmallVec;

use super::ast::{Accessor, BinaryOp, Expr, ExprKind, Foreach, MacroCall, Node, Reference};
use super::error::Error;
use super::methods::{self, MethodError};
use super::ops;
use super::span::Span;
use super::value::{ListKind, Object, Value};
use super::{Body, Limits, Vars};

/// How a block ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Break,
    Stop,
}

/// Longest range literal (`[1..n]`) a template may build.
const MAX_RANGE: usize = 1_000_000;

/// One render of one template.
pub struct Renderer<'a> {
    body: &'a Body,
    vars: &'a mut Vars,
    limits: Limits,
    pub out: String,
    depth: usize,
    iterations: usize,
    defines: HashMap<Arc<str>, Arc<Vec<Node>>>,
    /// `foreach` and `velocityCount`, allocated once per render.
    loop_names: Option<(Arc<str>, Arc<str>)>,
}

impl<'a> Renderer<'a> {
    pub fn new(
        body: &'a Body,
        vars: &'a mut Vars,
        limits: Limits,
        capacity: usize,
    ) -> Self {
        Renderer {
            body,
            vars,
            limits,
            out: String::with_capacity(capacity),
            depth: 0,
            iterations: 0,
            defines: HashMap::new(),
            loop_names: None,
        }
    }

    /// Renders the template body.
    pub fn run(&mut self) -> Result<(), Error> {
        let body = self.body;
        self.nodes(&body.nodes)?;
        Ok(())
    }

    fn enter(&mut self, span: Span) -> Result<(), Error> {
        self.depth += 1;
        let max = self.limits.max_depth.min(super::MAX_DEPTH_CAP);
        if self.depth > max {
            return Err(Error::limit(
                format!("templates nest deeper than {max} levels (directives and macro calls)"),
                span,
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn check_output(&self, span: Span) -> Result<(), Error> {
        if self.out.len() > self.limits.max_output {
            return Err(Error::limit(
                format!(
                    "rendered output is larger than {} bytes",
                    self.limits.max_output
                ),
                span,
            ));
        }
        Ok(())
    }

    // === nodes ===

    fn nodes(&mut self, nodes: &[Node]) -> Result<Flow, Error> {
        for node in nodes {
            let flow = self.node(node)?;
            if flow != Flow::Continue {
                return Ok(flow);
            }
        }
        Ok(Flow::Continue)
    }

    fn node(&mut self, node: &Node) -> Result<Flow, Error> {
        match node {
            Node::Text(t) => {
                self.out.push_str(t);
                if self.out.len() > self.limits.max_output {
                    return Err(Error::limit(
                        format!(
                            "rendered output is larger than {} bytes",
                            self.limits.max_output
                        ),
                        Span::default(),
                    ));
                }
            }
            Node::Reference(r) => {
                if r.accessors.is_empty()
                    && let Some(block) = self.defines.get(&r.name).cloned()
                {
                    self.enter(r.span)?;
                    let flow = self.nodes(&block)?;
                    self.leave();
                    return Ok(flow);
                }
                let v = self.reference(r)?;
                v.render_into(&mut self.out);
                self.check_output(r.span)?;
            }
            Node::EscapedReference {
                backslashes,
                reference,
            } => {
                let n = *backslashes as usize;
                let v = self.reference(reference).unwrap_or(Value::Null);
                let defined = !v.is_null() || self.defines.contains_key(&reference.name);
                if n % 2 == 1 {
                    if defined {
                        self.out.push_str(&"\\".repeat(n / 2));
                    } else {
                        self.out.push_str(&"\\".repeat(n));
                    }
                    self.out.push_str(&reference.literal);
                } else {
                    self.out.push_str(&"\\".repeat(n / 2));
                    v.render_into(&mut self.out);
                }
                self.check_output(reference.span)?;
            }
            Node::Set(set) => {
                let value = self.expr(&set.value)?;
                self.assign(&set.target, value)?;
            }
            Node::If(node) => {
                for (cond, body) in &node.branches {
                    if self.condition(cond)? {
                        return self.block(body, node.span);
                    }
                }
                if let Some(body) = &node.otherwise {
                    return self.block(body, node.span);
                }
            }
            Node::Foreach(f) => return self.foreach(f),
            Node::Break => return Ok(Flow::Break),
            Node::Stop => return Ok(Flow::Stop),
            Node::MacroCall(call) => return self.macro_call(call),
            Node::Define(d) => {
                self.defines.insert(d.name.clone(), d.body.clone());
            }
        }
        Ok(Flow::Continue)
    }

    fn block(&mut self, body: &[Node], span: Span) -> Result<Flow, Error> {
        self.enter(span)?;
        let flow = self.nodes(body)?;
        self.leave();
        Ok(flow)
    }

    fn foreach(&mut self, f: &Foreach) -> Result<Flow, Error> {
        let items = match self.expr(&f.iterable)? {
            Value::List(l) => l.items(),
            Value::Map(m) => m.lock().entries.values().cloned().collect(),
            // A map-like host object iterates its `values()`, as a Java map would.
            Value::Object(o) => match o.call("values", &[]) {
                Some(Ok(Value::List(l))) => l.items(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        if items.len() > self.limits.max_foreach {
            return Err(Error::limit(
                format!(
                    "#foreach would run {} iterations; the limit is {}",
                    items.len(),
                    self.limits.max_foreach
                ),
                f.span,
            ));
        }
        self.iterations += items.len();
        let budget = self.limits.max_foreach.saturating_mul(1000);
        if self.iterations > budget {
            return Err(Error::limit(
                format!("#foreach loops ran more than {budget} iterations in total"),
                f.span,
            ));
        }
        self.enter(f.span)?;
        let saved_var = self.vars.get(&f.var).cloned();
        let saved_foreach = self.vars.get("foreach").cloned();
        let saved_count = self.vars.get("velocityCount").cloned();
        let parent = saved_foreach.clone();
        let len = items.len();
        let (foreach_name, count_name) = self
            .loop_names
            .get_or_insert_with(|| (Arc::from("foreach"), Arc::from("velocityCount")))
            .clone();
        let mut flow = Flow::Continue;
        for (i, item) in items.into_iter().enumerate() {
            if item.is_null() {
                self.vars.remove(&f.var);
            } else {
                self.vars.insert(f.var.clone(), item);
            }
            self.vars.insert(
                foreach_name.clone(),
                Value::object(ForeachScope {
                    index: i,
                    has_next: i + 1 < len,
                    parent: parent.clone(),
                }),
            );
            self.vars
                .insert(count_name.clone(), Value::from(i as i64 + 1));
            match self.nodes(&f.body) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Break) => break,
                Ok(Flow::Stop) => {
                    flow = Flow::Stop;
                    break;
                }
                Err(e) => {
                    self.leave();
                    return Err(e);
                }
            }
        }
        restore(self.vars, &f.var, saved_var);
        restore(self.vars, "foreach", saved_foreach);
        restore(self.vars, "velocityCount", saved_count);
        self.leave();
        Ok(flow)
    }

    fn macro_call(&mut self, call: &MacroCall) -> Result<Flow, Error> {
        let Some(m) = self.body.macros.get(&call.name).cloned() else {
            self.out.push_str(&call.literal);
            return Ok(Flow::Continue);
        };
        self.enter(call.span)?;
        let mut args = Vec::with_capacity(call.args.len());
        for a in &call.args {
            args.push(self.expr(a)?);
        }
        let mut saved = Vec::with_capacity(m.params.len());
        for (i, p) in m.params.iter().enumerate() {
            saved.push((p.clone(), self.vars.get(p).cloned()));
            match args.get(i) {
                Some(v) if !v.is_null() => {
                    self.vars.insert(p.clone(), v.clone());
                }
                _ => {
                    self.vars.remove(p);
                }
            }
        }
        let result = self.nodes(&m.body);
        for (p, old) in saved {
            restore(self.vars, &p, old);
        }
        self.leave();
        let flow = result?;
        Ok(if flow == Flow::Stop {
            Flow::Stop
        } else {
            Flow::Continue
        })
    }

    // === #set ===

    fn assign(&mut self, target: &Reference, value: Value) -> Result<(), Error> {
        // Velocity 1.7: a null right-hand side leaves the target unchanged.
        if value.is_null() {
            return Ok(());
        }
        let Some((last, init)) = target.accessors.split_last() else {
            self.defines.remove(&target.name);
            self.vars.insert(target.name.clone(), value);
            return Ok(());
        };
        let mut base = self.root(&target.name, init.first());
        for acc in init {
            if base.is_null() {
                return Ok(());
            }
            base = self.access(base, acc)?;
        }
        match (last, &base) {
            (Accessor::Property { name, .. }, Value::Map(m)) => m.insert(name.clone(), value),
            (Accessor::Property { name, .. }, Value::Object(o)) => {
                if let Some(Err(msg)) = o.call("put", &[Value::String(name.clone()), value]) {
                    return Err(Error::render(msg, last.span()));
                }
            }
            (Accessor::Index { index, span }, _) => {
                let key = self.expr(index)?;
                match (&base, &key) {
                    (Value::Map(m), _) => {
                        let k: Arc<str> = match key {
                            Value::String(s) => s,
                            other => other.to_java_string().into(),
                        };
                        m.insert(k, value);
                    }
                    (Value::Object(o), _) => {
                        if let Some(Err(msg)) = o.call("put", &[key, value]) {
                            return Err(Error::render(msg, *span));
                        }
                    }
                    (Value::List(l), Value::Int(_) | Value::Long(_)) => {
                        let i = ops::as_i64(&key).unwrap_or(-1);
                        let mut data = l.lock();
                        let len = data.items.len();
                        match usize::try_from(i).ok().and_then(|i| data.items.get_mut(i)) {
                            Some(slot) => *slot = value,
                            None => {
                                return Err(Error::render(
                                    format!("index {i} is out of bounds for a list of {len} items"),
                                    *span,
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    // === references ===

    fn lookup(&self, name: &str) -> Value {
        self.vars.get(name).cloned().unwrap_or(Value::Null)
    }

    /// The variable a reference starts from, followed by `first`: an object standing for a
    /// map ([`Object::as_map`]) stays itself for a plain property read and is its map for
    /// anything else.
    fn root(&self, name: &str, first: Option<&Accessor>) -> Value {
        let v = self.lookup(name);
        if let Value::Object(o) = &v
            && !matches!(first, Some(Accessor::Property { .. }))
            && let Some(map) = o.as_map()
        {
            return Value::Map(map);
        }
        v
    }

    fn reference(&mut self, r: &Reference) -> Result<Value, Error> {
        let mut v = self.root(&r.name, r.accessors.first());
        if v.is_null() && r.accessors.is_empty() && self.defines.contains_key(&r.name) {
            return self.define_value(r);
        }
        for acc in &r.accessors {
            if v.is_null() {
                return Ok(Value::Null);
            }
            v = self.access(v, acc)?;
        }
        Ok(v)
    }

    /// A `#define` block used as a value: its rendering.
    fn define_value(&mut self, r: &Reference) -> Result<Value, Error> {
        let Some(block) = self.defines.get(&r.name).cloned() else {
            return Ok(Value::Null);
        };
        let text = self.render_to_string(r.span, |this| this.nodes(&block).map(|_| ()))?;
        Ok(Value::from(text))
    }

    fn render_to_string(
        &mut self,
        span: Span,
        f: impl FnOnce(&mut Self) -> Result<(), Error>,
    ) -> Result<String, Error> {
        self.enter(span)?;
        let outer = std::mem::take(&mut self.out);
        let result = f(self);
        let inner = std::mem::replace(&mut self.out, outer);
        self.leave();
        result?;
        Ok(inner)
    }

    fn access(&mut self, v: Value, acc: &Accessor) -> Result<Value, Error> {
        match acc {
            Accessor::Property { name, .. } => Ok(methods::property(&v, name)),
            Accessor::Method { name, args, literal_args, span } => {
                let evaluated: SmallVec<[Value; 4]>;
                let values: &[Value] = match literal_args {
                    Some(literals) => literals,
                    None => {
                        evaluated = args.iter().map(|a| self.expr(a)).collect::<Result<_, _>>()?;
                        &evaluated
                    }
                };
                let result = match &v {
                    Value::Object(o) => match o.call(name, values) {
                        None if &**name == "toString" && values.is_empty() => {
                            Ok(Value::from(o.render()))
                        }
                        None if &**name == "equals" && values.len() == 1 => {
                            Ok(Value::Bool(ops::java_equals(&v, &values[0])))
                        }
                        None => Ok(Value::Null),
                        Some(Ok(x)) => Ok(x),
                        Some(Err(msg)) => Err(msg),
                    },
                    _ => match methods::call(&v, name, values) {
                        Ok(x) => Ok(x),
                        Err(MethodError::NoSuchMethod) => Ok(Value::Null),
                        Err(MethodError::Raised(msg)) => Err(msg),
                    },
                };
                match result {
                    Ok(x) => {
                        self.check_size(&x, *span)?;
                        Ok(x)
                    }
                    Err(msg) => Err(Error::render(format!("`{name}` failed: {msg}"), *span)
                        .with_label(format!("`{name}` failed here"))),
                }
            }
            Accessor::Index { index, span } => {
                let key = self.expr(index)?;
                index_value(&v, &key, *span)
            }
        }
    }

    /// Strings made by methods count against the output limit too.
    fn check_size(&self, v: &Value, span: Span) -> Result<(), Error> {
        if let Value::String(s) = v
            && s.len() > self.limits.max_output
        {
            return Err(Error::limit(
                format!("a string grew larger than {} bytes", self.limits.max_output),
                span,
            ));
        }
        Ok(())
    }

    // === expressions ===

    /// `#if(..)` truthiness, which in Velocity 1.7 depends on the kind of expression:
    /// references by value, literals other than `true` are false.
    fn condition(&mut self, e: &Expr) -> Result<bool, Error> {
        Ok(match &e.kind {
            ExprKind::Reference(_) => ops::truthy(&self.expr(e)?),
            ExprKind::Literal(Value::Bool(b)) => *b,
            ExprKind::Not(inner) => !self.condition(inner)?,
            ExprKind::Binary(BinaryOp::And, l, r) => self.condition(l)? && self.condition(r)?,
            ExprKind::Binary(BinaryOp::Or, l, r) => self.condition(l)? || self.condition(r)?,
            ExprKind::Binary(
                op @ (BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge),
                l,
                r,
            ) => {
                let (a, b) = (self.expr(l)?, self.expr(r)?);
                compare(*op, &a, &b)
            }
            _ => false,
        })
    }

    fn expr(&mut self, e: &Expr) -> Result<Value, Error> {
        match &e.kind {
            ExprKind::Literal(v) => Ok(v.clone()),
            ExprKind::Reference(r) => self.reference(r),
            ExprKind::Interpolated(nodes) => {
                let s = self.render_to_string(e.span, |this| this.nodes(nodes).map(|_| ()))?;
                Ok(Value::from(s))
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.expr(i)?);
                }
                Ok(Value::java_list(out))
            }
            ExprKind::Map(entries) => {
                let mut map = super::value::map_with_capacity(entries.len());
                for (k, v) in entries {
                    let key = match self.expr(k)? {
                        Value::String(s) => s,
                        other => other.to_java_string().into(),
                    };
                    map.insert(key, self.expr(v)?);
                }
                Ok(Value::map(map))
            }
            ExprKind::Range(a, b) => {
                let (from, to) = (self.expr(a)?, self.expr(b)?);
                let (Some(from), Some(to)) = (range_bound(&from), range_bound(&to)) else {
                    return Ok(Value::Null);
                };
                let len = from.abs_diff(to) as usize + 1;
                if len > MAX_RANGE {
                    return Err(Error::limit(
                        format!("range [{from}..{to}] has more than {MAX_RANGE} items"),
                        e.span,
                    ));
                }
                let items: Vec<Value> = if from <= to {
                    (from..=to).map(Value::from).collect()
                } else {
                    (to..=from).rev().map(Value::from).collect()
                };
                Ok(Value::List(super::value::List::new(ListKind::Java, items)))
            }
            ExprKind::Not(inner) => Ok(Value::Bool(!self.condition(inner)?)),
            ExprKind::Binary(op, l, r) => match op {
                BinaryOp::And | BinaryOp::Or => Ok(Value::Bool(self.condition(e)?)),
                BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge => {
                    let (a, b) = (self.expr(l)?, self.expr(r)?);
                    Ok(Value::Bool(compare(*op, &a, &b)))
                }
                BinaryOp::Add => {
                    let (a, b) = (self.expr(l)?, self.expr(r)?);
                    if matches!(a, Value::String(_)) || matches!(b, Value::String(_)) {
                        // Velocity concatenates, writing a null operand as its source text.
                        let mut s = String::new();
                        for (v, side) in [(&a, l), (&b, r)] {
                            match v {
                                Value::Null => s.push_str(&self.literal_of(side)),
                                v => s.push_str(&v.to_java_string()),
                            }
                        }
                        let v = Value::from(s);
                        self.check_size(&v, e.span)?;
                        return Ok(v);
                    }
                    Ok(ops::arithmetic(*op, &a, &b))
                }
                _ => {
                    let (a, b) = (self.expr(l)?, self.expr(r)?);
                    Ok(ops::arithmetic(*op, &a, &b))
                }
            },
        }
    }

    fn literal_of(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Reference(r) => r.literal.to_string(),
            _ => "null".to_string(),
        }
    }
}

fn compare(op: BinaryOp, a: &Value, b: &Value) -> bool {
    match op {
        BinaryOp::Eq => ops::vtl_equals(a, b),
        BinaryOp::Ne => !ops::vtl_equals(a, b),
        _ => ops::relational(op, a, b),
    }
}

fn range_bound(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(l) => Some(*l),
        Value::Double(d) => Some(*d as i64),
        _ => None,
    }
}

/// `$x[i]`: list index (negative or past the end is an error, as in Velocity 1.7), map key.
fn index_value(v: &Value, key: &Value, span: Span) -> Result<Value, Error> {
    match (v, key) {
        (Value::List(l), Value::Int(_) | Value::Long(_)) => {
            let i = ops::as_i64(key).unwrap_or(-1);
            let data = l.lock();
            // Velocity 1.7 counts a negative index from the end.
            let at = if i < 0 {
                i + data.items.len() as i64
            } else {
                i
            };
            match usize::try_from(at).ok().and_then(|i| data.items.get(i)) {
                Some(x) => Ok(x.clone()),
                None => Err(Error::render(
                    format!(
                        "index {i} is out of bounds for a list of {} items",
                        data.items.len()
                    ),
                    span,
                )
                .with_label("index out of bounds")),
            }
        }
        (Value::Map(m), Value::String(k)) => Ok(m.get(k).unwrap_or(Value::Null)),
        (Value::Object(o), _) => match o.call("get", std::slice::from_ref(key)) {
            Some(Ok(x)) => Ok(x),
            Some(Err(msg)) => Err(Error::render(msg, span)),
            None => Ok(Value::Null),
        },
        _ => Ok(Value::Null),
    }
}

fn restore(vars: &mut Vars, name: &str, old: Option<Value>) {
    match old {
        Some(v) => vars.insert_str(name, v),
        None => {
            vars.remove(name);
        }
    }
}

/// `$foreach` inside a loop: `index`, `count`, `hasNext`, `first`, `last`, `parent`.
#[derive(Debug)]
struct ForeachScope {
    index: usize,
    has_next: bool,
    parent: Option<Value>,
}

impl Object for ForeachScope {
    fn get(&self, name: &str) -> Option<Value> {
        Some(match name {
            "index" => Value::from(self.index as i64),
            "count" => Value::from(self.index as i64 + 1),
            "hasNext" => Value::Bool(self.has_next),
            "first" => Value::Bool(self.index == 0),
            "last" => Value::Bool(!self.has_next),
            "parent" => self.parent.clone().unwrap_or(Value::Null),
            _ => return None,
        })
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if !args.is_empty() {
            return None;
        }
        let prop = match name {
            "getIndex" => "index",
            "getCount" => "count",
            "hasNext" => "hasNext",
            "isFirst" => "first",
            "isLast" => "last",
            "getParent" => "parent",
            _ => return None,
        };
        self.get(prop).map(Ok)
    }
    fn render(&self) -> String {
        String::new()
    }
}
