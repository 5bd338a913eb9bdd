//! Criterion bench `vtl_render`: the seed StartExecution request template
//! (`templates/start-execution.vtl`) rendered against a ~1 KB JSON body containing `'`,
//! `"`, `/`, newlines and non-ASCII, next to a hand-written Rust function that produces
//! the same bytes (checked once before measuring). Goal: stepgate ≤ 1.5× hand-written.
//!
//! Variants:
//! - `handwritten`: parse the body with serde_json, write it json-smart style, escape it
//!   commons-lang style, splice it into the fixed text.
//! - `stepgate/render`: a fresh render context (new `$input`, so the body is parsed again)
//!   + `Template::render` of the pre-parsed template; `$context` is reused.
//! - `stepgate/per_request`: also builds the request's `TemplateEnv` (`$context` map,
//!   `$input.params()` maps) as the gateway does once per request.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value as Json;
use stepgate::apigw::{RequestContext, RequestData, TemplateEnv};
use stepgate::vtl::Template;

const TEMPLATE: &str = include_str!("../templates/start-execution.vtl");
const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:Workflow";

/// About 1 KB of pretty-printed JSON with quotes, slashes, newlines and non-ASCII.
fn body() -> String {
    let b = serde_json::json!({
        "orderId": "o-2024/11/21-0001",
        "customer": {"name": "Zoë O'Brien", "email": "zoe@example.com", "note": "said \"hi\"\nthen left"},
        "items": [
            {"sku": "A/1", "name": "Café crème", "qty": 2, "price": 3.5},
            {"sku": "B/2", "name": "Tee \"classic\"", "qty": 1, "price": 19.99},
            {"sku": "C/3", "name": "日本茶", "qty": 3, "price": 7.25},
            {"sku": "D/4", "name": "it's ok 😀", "qty": 1, "price": 0.5}
        ],
        "shipping": {"address": "12 Rue de l'Église\n75001 Paris", "method": "express/24h"},
        "tags": ["gift", "fragile", "north/east", "ünïcödé"],
        "comment": "Line one\nLine two with 'single' and \"double\" quotes / slash\nLine three: naïve façade",
        "total": 78.73,
        "paid": true,
        "coupon": null
    });
    let mut s = serde_json::to_string_pretty(&b).expect("serializable");
    while s.len() < 1000 {
        s.insert_str(s.len() - 2, ",\n  \"pad\": \"/'\\\"é\"");
    }
    s
}

fn request(body: &str) -> RequestData {
    RequestData {
        method: "POST".into(),
        path: "/execute".into(),
        resource_path: "/execute".into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into(),
        context: RequestContext { request_id: "9c3d8aab-1b2c-4d5e-8f90-0123456789ab".into(), ..RequestContext::default() },
        ..RequestData::default()
    }
}

/// What API Gateway's seed template produces, written by hand.
fn handwritten(body: &[u8], request_id: &str) -> String {
    let doc: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
    let mut json = String::with_capacity(body.len());
    write_json(&doc, &mut json);
    let mut out = String::with_capacity(json.len() * 5 / 4 + 160);
    out.push_str("{\n  \"input\": \"");
    escape_js(&json, &mut out);
    out.push_str("\",\n  \"name\": \"");
    out.push_str(request_id);
    out.push_str("\",\n  \"stateMachineArn\": \"");
    out.push_str(ARN);
    out.push_str("\"\n}\n");
    out
}

/// json-smart `toJSONString`: compact, `/` → `\/`, some ranges as `\uXXXX`.
fn write_json(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => match n.as_i64() {
            Some(i) => {
                let _ = write!(out, "{i}");
            }
            None => {
                // Java Double.toString for the plain range the body uses.
                let d = n.as_f64().unwrap_or_default();
                let s = format!("{d}");
                out.push_str(&s);
                if !s.contains('.') {
                    out.push_str(".0");
                }
            }
        },
        Json::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '/' => out.push_str("\\/"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c) || ('\u{2000}'..='\u{20ff}').contains(&c) => {
                        let _ = write!(out, "\\u{:04X}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, out);
            }
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(&Json::String(k.clone()), out);
                out.push(':');
                write_json(x, out);
            }
            out.push('}');
        }
    }
}

/// commons-lang 2.6 `escapeJavaScript`.
fn escape_js(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04X}");
                }
            }
            c => out.push(c),
        }
    }
}

fn bench(c: &mut Criterion) {
    let body = body();
    assert!(body.len() >= 1000, "body is {} bytes", body.len());
    let req = request(&body);
    let template = Template::parse("templates/start-execution.vtl", TEMPLATE).expect("seed template parses");
    let env = TemplateEnv::new(req.clone());

    let ours = template.render(&mut env.request_context()).expect("renders");
    let theirs = handwritten(body.as_bytes(), &req.context.request_id);
    assert_eq!(ours, theirs, "stepgate and the hand-written function must produce the same bytes");

    let mut g = c.benchmark_group("vtl_render");
    g.bench_function("handwritten", |b| {
        b.iter(|| handwritten(black_box(body.as_bytes()), black_box(&req.context.request_id)))
    });
    g.bench_function("stepgate/render", |b| {
        b.iter(|| template.render(&mut env.request_context()).expect("renders"))
    });
    g.bench_function("stepgate/per_request", |b| {
        b.iter(|| {
            let env = TemplateEnv::new(black_box(req.clone()));
            template.render(&mut env.request_context()).expect("renders")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
