//! Criterion bench `vtl_render`: the seed StartExecution request template
//! (`templates/start-execution.vtl`) rendered against a ~1 KB JSON body containing `'`,
//! `"`, `/`, newlines and non-ASCII, next to a hand-written Rust function that produces
//! the same bytes (checked once before measuring). Goal: stepgate ≤ 1.5× hand-written.
//!
//! Variants:
//! - `handwritten`: parse the body with serde_json, write it json-smart style, escape it
//!   commons-lang style into one pre-sized buffer, splice it into the fixed text (runs of
//!   characters that need no escaping are copied in one go).
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

/// About 1 KB of pretty-printed JSON with quotes, slashes, newlines and non-ASCII; the
/// padding members are `pad1`, `pad2`, ...
fn body() -> String {
    padded_body(true)
}

/// The body as it was until 2026-11-21: the padding repeats the key `pad`. A document with
/// duplicate keys takes the slow path of `$input.json('$')` (parse into a tree, where the
/// last value wins, write the tree back), so it is measured as its own variant.
fn body_with_duplicate_keys() -> String {
    padded_body(false)
}

fn padded_body(distinct_keys: bool) -> String {
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
    let mut n = 0;
    while s.len() < 1000 {
        n += 1;
        let key = if distinct_keys { format!("pad{n}") } else { "pad".to_string() };
        s.insert_str(s.len() - 2, &format!(",\n  \"{key}\": \"/'\\\"é\""));
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

/// What API Gateway's seed template produces, written by hand the way a competent engineer
/// would: parse the body once into a `serde_json::Value`, write it json-smart style into a
/// pre-sized buffer copying unescaped runs in one go, escape that commons-lang style
/// straight into the pre-sized output.
fn handwritten(body: &[u8], request_id: &str) -> String {
    let doc: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
    let mut json = String::with_capacity(body.len());
    write_json(&doc, &mut json);
    let mut out = String::with_capacity(json.len() + json.len() / 4 + 160);
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
                let start = out.len();
                let _ = write!(out, "{}", n.as_f64().unwrap_or_default());
                if !out[start..].contains('.') {
                    out.push_str(".0");
                }
            }
        },
        Json::String(s) => write_json_str(s, out),
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
                write_json_str(k, out);
                out.push(':');
                write_json(x, out);
            }
            out.push('}');
        }
    }
}

fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    let mut rest = s;
    while let Some(i) = rest.find(|c: char| {
        matches!(c, '"' | '\\' | '/' | '\0'..='\x1f' | '\u{7f}'..='\u{9f}' | '\u{2000}'..='\u{20ff}')
    }) {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or_default();
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
    out.push('"');
}

/// commons-lang 2.6 `escapeJavaScript`, copying runs of plain ASCII in one go.
fn escape_js(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut pos = 0;
    while let Some(run) =
        bytes[pos..].iter().position(|&b| !(0x20..0x80).contains(&b) || matches!(b, b'\'' | b'"' | b'\\' | b'/'))
    {
        out.push_str(&s[pos..pos + run]);
        pos += run;
        let c = s[pos..].chars().next().unwrap_or_default();
        pos += c.len_utf8();
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
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04X}");
                }
            }
        }
    }
    out.push_str(&s[pos..]);
}

/// This thread's CPU time in nanoseconds (Linux `schedstat`), if available.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// CPU time per call of each variant, measured in interleaved rounds so that load from
/// other processes on a shared machine hits every variant alike. Prints the ratios the
/// goal is stated in (wall-clock criterion figures follow).
fn cpu_ratios(variants: &[(&str, &dyn Fn())]) {
    if thread_cpu_ns().is_none() {
        return;
    }
    const ROUNDS: usize = 20;
    const ITERS: u64 = 1000;
    let mut totals = vec![0u64; variants.len()];
    for _ in 0..ROUNDS {
        for (i, (_, f)) in variants.iter().enumerate() {
            let t0 = thread_cpu_ns().unwrap_or_default();
            for _ in 0..ITERS {
                f();
            }
            totals[i] += thread_cpu_ns().unwrap_or_default().saturating_sub(t0);
        }
    }
    let per_call = |i: usize| totals[i] as f64 / (ROUNDS as f64 * ITERS as f64) / 1000.0;
    println!("vtl_render CPU time per call ({ROUNDS} interleaved rounds x {ITERS} calls):");
    for (i, (name, _)) in variants.iter().enumerate() {
        println!("  {name:<22} {:>8.2} µs  ({:.2}x handwritten)", per_call(i), per_call(i) / per_call(0));
    }
}

fn bench(c: &mut Criterion) {
    let body = body();
    assert!(body.len() >= 1000, "body is {} bytes", body.len());
    let req = request(&body);
    let template = Template::parse("templates/start-execution.vtl", TEMPLATE).expect("seed template parses");
    let env = TemplateEnv::new(req.clone());
    let dup_body = body_with_duplicate_keys();
    let dup_req = request(&dup_body);
    let dup_env = TemplateEnv::new(dup_req.clone());
    assert_eq!(
        template.render(&mut dup_env.request_context()).expect("renders"),
        handwritten(dup_body.as_bytes(), &dup_req.context.request_id),
        "duplicate keys: the last value wins at the first position, as in the tree"
    );

    let ours = template.render(&mut env.request_context()).expect("renders");
    let theirs = handwritten(body.as_bytes(), &req.context.request_id);
    assert_eq!(ours, theirs, "stepgate and the hand-written function must produce the same bytes");
    // benches/vtl_peers.sh passes the peer's output so the comparison is of equal work.
    if let Ok(path) = std::env::var("VTL_PEERS_EXPECTED") {
        let peer = std::fs::read_to_string(&path).unwrap_or_default();
        let same = if peer == ours { "identical to" } else { "DIFFERENT from" };
        println!("velocityjs output ({path}) is {same} stepgate's");
    }

    cpu_ratios(&[
        ("handwritten", &|| {
            black_box(handwritten(black_box(body.as_bytes()), black_box(&req.context.request_id)));
        }),
        ("stepgate/render", &|| {
            black_box(template.render(&mut env.request_context()).expect("renders"));
        }),
        ("stepgate/per_request", &|| {
            let env = TemplateEnv::new(black_box(req.clone()));
            black_box(template.render(&mut env.request_context()).expect("renders"));
        }),
        ("handwritten (dup keys)", &|| {
            black_box(handwritten(black_box(dup_body.as_bytes()), black_box(&dup_req.context.request_id)));
        }),
        ("stepgate/render (dup keys)", &|| {
            black_box(template.render(&mut dup_env.request_context()).expect("renders"));
        }),
        ("(TemplateEnv::new only)", &|| {
            black_box(TemplateEnv::new(black_box(req.clone())));
        }),
    ]);

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
