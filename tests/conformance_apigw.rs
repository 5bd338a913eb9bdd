//! Template conformance: every render case (stages `integration_request`,
//! `integration_response`, `request_then_response`) of `conformance_dir()/apigw/*.json`,
//! except `velocity17_core_oracle.json` (the vtl runner's). Cases with a `kind`, and the
//! `end_to_end` / `integration_response_selection` stages, are the gateway runner's and
//! are counted here as "not a render case".
//!
//! A failing case must be listed in `tests/conformance/apigw-divergences.txt`
//! (`case-id: reason`); a listed case that passes fails the run too, so the list stays
//! honest. Run with `--nocapture` to see the counts.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value as Json;
use stepgate::apigw::{Overrides, RequestContext, RequestData, TemplateEnv};
use stepgate::vtl::Template;

const RENDER_STAGES: [&str; 3] = ["integration_request", "integration_response", "request_then_response"];

/// Expect keys that describe the gateway or the backend, not the rendered text.
const NOT_RENDER_KEYS: [&str; 6] =
    ["notes", "derived_from_rule", "client_response", "client_body_json", "output_json_placeholders", "integration"];

#[derive(Default)]
struct Outcome {
    /// What the case produced, for checks.
    output: String,
    final_body: String,
    status: u16,
    overrides: Overrides,
    failed_render: Option<String>,
    payload_error: Option<String>,
}

fn pairs(v: Option<&Json>) -> Vec<(String, String)> {
    match v {
        Some(Json::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

fn request_data(case: &Json) -> RequestData {
    let r = &case["request"];
    let mut req = RequestData {
        method: r["method"].as_str().unwrap_or("POST").into(),
        path: r["path"].as_str().unwrap_or("/").into(),
        resource_path: r["path"].as_str().unwrap_or("/").into(),
        headers: pairs(r.get("headers")),
        query: pairs(r.get("query")),
        path_params: pairs(r.get("path_params")),
        body: r["body"].as_str().unwrap_or("").to_string().into(),
        stage_variables: pairs(r.get("stage_variables")),
        context: RequestContext { stage: "".into(), ..RequestContext::default() },
    };
    // The recorded path already carries the stage.
    req.context.path = Some(req.path.to_string());
    if let Some(Json::Object(ctx)) = r.get("context") {
        for (k, v) in ctx {
            match (k.as_str(), v) {
                ("stage", Json::String(s)) => req.context.stage = s.as_str().into(),
                ("resourcePath", Json::String(s)) => req.resource_path = s.as_str().into(),
                ("httpMethod", Json::String(s)) => req.method = s.as_str().into(),
                ("path", Json::String(s)) => req.context.path = Some(s.clone()),
                ("requestId", Json::String(s)) => req.context.request_id = s.as_str().into(),
                ("apiId", Json::String(s)) => req.context.api_id = s.as_str().into(),
                ("domainName", Json::String(s)) => req.context.domain_name = s.as_str().into(),
                ("authorizer", Json::Object(m)) => req.context.authorizer = Some(m.clone()),
                ("requestTimeEpoch", Json::Number(n)) => {
                    req.context.request_time_epoch_ms = n.as_i64().unwrap_or_default();
                }
                _ => req.context.extra.push((k.clone(), v.clone())),
            }
        }
    }
    req
}

fn render(name: &str, source: &str, ctx: &mut stepgate::vtl::Context) -> Result<String, String> {
    let t = Template::parse(name, source).map_err(|e| format!("{e:#}"))?;
    t.render(ctx).map_err(|e| format!("{e:#}"))
}

fn run_case(case: &Json) -> Outcome {
    let id = case["id"].as_str().unwrap_or("?");
    let stage = case["stage"].as_str().unwrap_or_default();
    let template = case["template"].as_str().unwrap_or_default();
    let env = TemplateEnv::new(request_data(case));
    let mut out = Outcome { status: 200, ..Outcome::default() };
    let first = match stage {
        "integration_response" => {
            let er = &case["endpoint_response"];
            out.status = er["status"].as_u64().unwrap_or(200) as u16;
            let body = er["body"].as_str().unwrap_or("").to_string();
            render(id, template, &mut env.response_context(body))
        }
        _ => render(id, template, &mut env.request_context()),
    };
    match first {
        Ok(text) => out.output = text,
        Err(e) => {
            out.failed_render = Some(e);
            out.payload_error = env.payload_error();
            return out;
        }
    }
    out.final_body = out.output.clone();
    if stage == "request_then_response" {
        // The recorded backend echoes the integration request body.
        let rt = case["response_template"].as_str().unwrap_or_default();
        match render(id, rt, &mut env.response_context(out.output.clone())) {
            Ok(text) => out.final_body = text,
            Err(e) => {
                out.failed_render = Some(e);
                return out;
            }
        }
    }
    match env.overrides() {
        Ok(o) => {
            if let Some(s) = o.response_status {
                out.status = s;
            }
            out.overrides = o;
        }
        Err(e) => out.failed_render = Some(e.to_string()),
    }
    out
}

/// `expected` is contained in `actual` (objects recursively; numbers by value).
fn subset(actual: &Json, expected: &Json) -> bool {
    match (actual, expected) {
        (Json::Object(a), Json::Object(e)) => e.iter().all(|(k, ev)| a.get(k).is_some_and(|av| subset(av, ev))),
        _ => same(actual, expected),
    }
}

fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Json::Object(x), Json::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

fn parse(text: &str, what: &str) -> Result<Json, String> {
    serde_json::from_str(text).map_err(|e| format!("{what} is not JSON ({e}): {text:?}"))
}

fn header_values(v: &Json) -> Vec<String> {
    match v {
        Json::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect(),
        Json::String(s) => vec![s.clone()],
        other => vec![other.to_string()],
    }
}

/// Checks every expect key that applies to rendering; returns the failures.
fn check(case: &Json, out: &Outcome) -> Vec<String> {
    let mut fails = Vec::new();
    let expect = case["expect"].as_object().cloned().unwrap_or_default();
    let wants_error = expect.get("status").and_then(Json::as_u64).is_some_and(|s| s >= 400)
        && case["stage"] == "integration_request";
    if let Some(e) = &out.failed_render {
        if wants_error {
            // A payload the gateway refuses: 400 {"message": "Could not process payload..."}.
            let body = serde_json::json!({ "message": out.payload_error.clone().unwrap_or_default() });
            if out.payload_error.is_none() {
                fails.push(format!("render failed without a payload error: {e}"));
            }
            if let Some(want) = expect.get("body_json")
                && !same(&body, want)
            {
                fails.push(format!("error body {body} != {want}"));
            }
            return fails;
        }
        return vec![format!("render failed: {}", e.lines().next().unwrap_or_default())];
    }
    if wants_error {
        return vec![format!("expected status {} but the render succeeded: {:?}", expect["status"], out.output)];
    }
    for (key, want) in &expect {
        let result: Result<(), String> = match key.as_str() {
            k if NOT_RENDER_KEYS.contains(&k) => Ok(()),
            "output" => (out.output == want.as_str().unwrap_or_default())
                .then_some(())
                .ok_or_else(|| format!("output {:?} != {want}", out.output)),
            "output_trimmed" => (out.output.trim() == want.as_str().unwrap_or_default())
                .then_some(())
                .ok_or_else(|| format!("trimmed output {:?} != {want}", out.output.trim())),
            "output_in" => want
                .as_array()
                .is_some_and(|l| l.iter().any(|w| w.as_str() == Some(out.output.as_str())))
                .then_some(())
                .ok_or_else(|| format!("output {:?} not in {want}", out.output)),
            "output_json" => parse(&out.output, "output")
                .and_then(|got| same(&got, want).then_some(()).ok_or_else(|| format!("output JSON {got} != {want}"))),
            "output_json_subset" => parse(&out.output, "output").and_then(|got| {
                subset(&got, want).then_some(()).ok_or_else(|| format!("output JSON {got} lacks {want}"))
            }),
            "output_json_embedded" => parse(&out.output, "output").and_then(|got| {
                let key = want["path"].as_str().unwrap_or_default();
                let inner = got[key].as_str().ok_or_else(|| format!("`{key}` is not a string in {got}"))?;
                let inner = parse(inner, key)?;
                same(&inner, &want["value"])
                    .then_some(())
                    .ok_or_else(|| format!("embedded `{key}` {inner} != {}", want["value"]))
            }),
            "mock_status" => parse(&out.output, "output").and_then(|got| {
                (got["statusCode"].as_u64() == want.as_u64())
                    .then_some(())
                    .ok_or_else(|| format!("statusCode {} != {want}", got["statusCode"]))
            }),
            "status" => (Some(u64::from(out.status)) == want.as_u64())
                .then_some(())
                .ok_or_else(|| format!("status {} != {want}", out.status)),
            "body" => (out.final_body == want.as_str().unwrap_or_default())
                .then_some(())
                .ok_or_else(|| format!("body {:?} != {want}", out.final_body)),
            "body_json" => parse(&out.final_body, "body")
                .and_then(|got| same(&got, want).then_some(()).ok_or_else(|| format!("body JSON {got} != {want}"))),
            "request_override_headers" => {
                let bad: Vec<String> = want
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, v)| out.overrides.request_headers.get(*k) != Some(&header_values(v)))
                    .map(|(k, _)| k.clone())
                    .collect();
                bad.is_empty().then_some(()).ok_or_else(|| format!("request override headers differ: {bad:?}"))
            }
            "request_override" => {
                let o = &out.overrides;
                let mut bad = Vec::new();
                for (k, v) in want["header"].as_object().into_iter().flatten() {
                    if o.request_headers.get(k) != Some(&header_values(v)) {
                        bad.push(format!("header.{k}"));
                    }
                }
                for (k, v) in want["path"].as_object().into_iter().flatten() {
                    if o.request_path.get(k).map(String::as_str) != v.as_str() {
                        bad.push(format!("path.{k}"));
                    }
                }
                for (k, v) in want["querystring"].as_object().into_iter().flatten() {
                    if o.request_querystring.get(k) != Some(&header_values(v)) {
                        bad.push(format!("querystring.{k}"));
                    }
                }
                bad.is_empty().then_some(()).ok_or_else(|| format!("request overrides differ: {bad:?}"))
            }
            // The integration request the gateway builds: check the part the template
            // decides (its overrides); passthrough headers are the gateway runner's.
            "integration_request_headers_subset" => {
                let bad: Vec<String> = want
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, v)| {
                        out.overrides
                            .request_headers
                            .get(*k)
                            .is_some_and(|got| Overrides::joined(got) != header_values(v).join(","))
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                bad.is_empty().then_some(()).ok_or_else(|| format!("override headers differ: {bad:?}"))
            }
            "integration_request_header_multi" => {
                let bad: Vec<String> = want
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, v)| out.overrides.request_headers.get(*k) != Some(&header_values(v)))
                    .map(|(k, _)| k.clone())
                    .collect();
                bad.is_empty().then_some(()).ok_or_else(|| format!("multi-value override headers differ: {bad:?}"))
            }
            "integration_request_query" => {
                let bad: Vec<String> = want
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, v)| out.overrides.request_querystring.get(*k) != Some(&header_values(v)))
                    .map(|(k, _)| k.clone())
                    .collect();
                bad.is_empty().then_some(()).ok_or_else(|| format!("querystring overrides differ: {bad:?}"))
            }
            "integration_request_uri" => {
                let mut uri = case["integration"]["uri"].as_str().unwrap_or_default().to_string();
                for (k, v) in &out.overrides.request_path {
                    uri = uri.replace(&format!("{{{k}}}"), v);
                }
                (uri == want.as_str().unwrap_or_default())
                    .then_some(())
                    .ok_or_else(|| format!("integration URI {uri} != {want}"))
            }
            other => Err(format!("expect key `{other}` is not understood by this runner")),
        };
        if let Err(e) = result {
            fails.push(e);
        }
    }
    fails
}

fn divergences() -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/apigw-divergences.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':').map(|(id, reason)| (id.trim().to_string(), reason.trim().to_string())))
        .collect()
}

#[test]
fn apigw_render_conformance() {
    let dir = common::conformance_dir().join("apigw");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "velocity17_core_oracle.json"))
        .collect();
    files.sort();
    let listed = divergences();
    let (mut passed, mut diverged, mut total, mut not_render) = (0, 0, 0, 0);
    let (mut aws_passed, mut aws_total) = (0, 0);
    let mut problems = String::new();
    let mut seen = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let cases: Vec<Json> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in &cases {
            let id = case["id"].as_str().unwrap_or("?").to_string();
            let stage = case["stage"].as_str().unwrap_or_default();
            if case.get("kind").is_some() || !RENDER_STAGES.contains(&stage) {
                not_render += 1;
                continue;
            }
            total += 1;
            let validated = case["validated_against_aws"] == Json::Bool(true);
            aws_total += usize::from(validated);
            let fails = check(case, &run_case(case));
            seen.push(id.clone());
            match (fails.is_empty(), listed.get(&id)) {
                (true, None) => {
                    passed += 1;
                    aws_passed += usize::from(validated);
                }
                (true, Some(_)) => {
                    passed += 1;
                    aws_passed += usize::from(validated);
                    let _ = writeln!(problems, "{id}: passes now; remove it from apigw-divergences.txt");
                }
                (false, Some(reason)) => {
                    diverged += 1;
                    println!("diverged {id}: {reason}\n    got: {}", fails.join("; "));
                }
                (false, None) => {
                    let _ = writeln!(problems, "{id} ({}): {}", file.display(), fails.join("; "));
                }
            }
        }
    }
    for id in listed.keys().filter(|id| !seen.contains(id)) {
        let _ = writeln!(problems, "{id}: listed in apigw-divergences.txt but no such render case");
    }
    println!("apigw render conformance: passed {passed} / diverged {diverged} / total {total}");
    println!(
        "  AWS-validated render cases: passed {aws_passed} / {aws_total} ({:.1}%)",
        100.0 * aws_passed as f64 / aws_total.max(1) as f64
    );
    println!("  not a render case (gateway runner's): {not_render}");
    assert!(problems.is_empty(), "unexpected results:\n{problems}");
}
