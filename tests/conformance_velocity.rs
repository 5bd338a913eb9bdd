//! Runs the Velocity 1.7 core cases recorded from stock Apache Velocity
//! (`conformance_dir()/apigw/velocity17_core_oracle.json`) through `stepgate::vtl`.
//!
//! Every case must pass unless it is listed in `tests/conformance/velocity17-divergences.txt`
//! (`case-id: reason`); a listed case that now passes fails the run too, so the list stays
//! honest. Counts are printed as `passed N / diverged M / total T`.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use stepgate::vtl::{Context, Template, Value};

/// A JSON value as the oracle hands it to Velocity: arrays are `ArrayList`s, objects
/// `LinkedHashMap`s (so both render the Java way).
fn java_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Array(a) => Value::java_list(a.iter().map(java_value).collect()),
        serde_json::Value::Object(o) => {
            Value::map(o.iter().map(|(k, v)| (Arc::from(k.as_str()), java_value(v))).collect())
        }
        other => Value::from_json(other),
    }
}

fn divergences() -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/velocity17-divergences.txt");
    let text = std::fs::read_to_string(path).expect("divergences file exists");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once(':').unwrap_or((l, ""));
            (id.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// Runs one case; `Err` explains how the output differs.
fn run_case(case: &serde_json::Value) -> Result<(), String> {
    let template = case["template"].as_str().ok_or("case has no template")?;
    let expect = &case["expect"];
    let mut ctx = Context::new();
    if let Some(vars) = case["velocity_context"].as_object() {
        for (k, v) in vars {
            if !v.is_null() {
                ctx.insert(k.as_str(), java_value(v));
            }
        }
    }
    let result = Template::parse("case.vtl", template).and_then(|t| t.render(&mut ctx));
    if expect["error"].as_bool() == Some(true) {
        return match result {
            Err(_) => Ok(()),
            Ok(out) => Err(format!("expected an error, rendered {out:?}")),
        };
    }
    let want = expect["output"].as_str().ok_or("case has no expected output")?;
    match result {
        Ok(out) if out == want => Ok(()),
        Ok(out) => Err(format!("rendered {out:?}, expected {want:?}")),
        Err(e) => Err(format!("failed: {e:#}")),
    }
}

#[test]
fn velocity17_core_oracle_cases() {
    let path = common::conformance_dir().join("apigw/velocity17_core_oracle.json");
    let text = std::fs::read_to_string(&path).expect("read the oracle cases");
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("valid JSON");
    let listed = divergences();

    let (mut passed, mut diverged) = (0, 0);
    let mut problems = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        match (run_case(case), listed.get(id)) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(_)) => problems.push(format!("{id}: passes but is listed as a divergence")),
            (Err(why), Some(reason)) => {
                diverged += 1;
                println!("diverged {id}: {reason} ({why})");
            }
            (Err(why), None) => problems.push(format!("{id}: {why}")),
        }
    }
    for id in listed.keys() {
        if !cases.iter().any(|c| c["id"].as_str() == Some(id)) {
            problems.push(format!("{id}: listed as a divergence but no such case"));
        }
    }
    println!("velocity17 core: passed {passed} / diverged {diverged} / total {}", cases.len());
    assert!(problems.is_empty(), "unexpected results:\n{}", problems.join("\n"));
}
