//! Engine benches.
//!
//! * `engine/start_sync_execution_10_states`: one StartSyncExecution of a 10-state
//!   EXPRESS machine through `Engine` (in-memory, single-threaded runtime), so the time
//!   per iteration is the CPU per execution. Goal: ≤ 100 µs.
//! * Load generator for `benches/engine_vs_moto.sh` (not a criterion bench): with
//!   `ENGINE_LOADGEN_URL` set, POSTs StartExecution to that Step Functions endpoint from
//!   `ENGINE_LOADGEN_CONCURRENCY` workers for `ENGINE_LOADGEN_SECONDS` and prints
//!   `started=<n> errors=<n> seconds=<s> per_second=<r>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use serde_json::json;
use stepgate::engine::runtime::{
    CreateStateMachineInput, Engine, EngineConfig, ExecutionStatus, StartExecutionInput,
};

fn ten_states() -> serde_json::Value {
    let mut states = serde_json::Map::new();
    for i in 0..8 {
        states.insert(
            format!("Step{i}"),
            json!({"Type": "Pass", "Parameters": {"order.$": "$.order", "step": i, "total.$": "$.total"},
                   "ResultPath": "$", "Next": if i == 7 { "Route".to_string() } else { format!("Step{}", i + 1) }}),
        );
    }
    states.insert(
        "Route".into(),
        json!({"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Done"}],
               "Default": "Done"}),
    );
    states.insert("Done".into(), json!({"Type": "Succeed"}));
    json!({"StartAt": "Step0", "States": states})
}

fn start_sync(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = runtime.block_on(async {
        let engine = Engine::open(EngineConfig::default()).await.unwrap();
        engine
            .create_state_machine(CreateStateMachineInput {
                name: "Bench".into(),
                definition: ten_states().to_string(),
                role_arn: "arn:aws:iam::123456789012:role/bench".into(),
                r#type: Some("EXPRESS".into()),
            })
            .await
            .unwrap();
        engine
    });
    let request = StartExecutionInput {
        state_machine_arn: engine.state_machine_arn("Bench"),
        name: None,
        input: Some(r#"{"order": {"id": "o-1", "items": [1, 2, 3]}, "total": 250}"#.into()),
        trace_header: None,
    };
    let check = runtime
        .block_on(engine.start_sync_execution(request.clone()))
        .unwrap();
    assert_eq!(
        check.execution.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        check.execution.cause
    );
    c.bench_function("engine/start_sync_execution_10_states", |b| {
        b.iter(|| {
            runtime
                .block_on(engine.start_sync_execution(request.clone()))
                .unwrap()
        })
    });
}

/// The StartExecution load generator used by `engine_vs_moto.sh`.
fn loadgen(url: String) {
    let concurrency: usize = std::env::var("ENGINE_LOADGEN_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let seconds: f64 = std::env::var("ENGINE_LOADGEN_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5.0);
    let machine = std::env::var("ENGINE_LOADGEN_STATE_MACHINE_ARN")
        .expect("ENGINE_LOADGEN_STATE_MACHINE_ARN");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
        let started = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let begin = Instant::now();
        let deadline = begin + Duration::from_secs_f64(seconds);
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (client, url, machine) = (client.clone(), url.clone(), machine.clone());
            let (started, errors) = (Arc::clone(&started), Arc::clone(&errors));
            workers.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    let body = json!({"stateMachineArn": machine, "input": "{\"order\":1}"}).to_string();
                    let response = client
                        .post(&url)
                        .header("content-type", "application/x-amz-json-1.0")
                        .header("x-amz-target", "AWSStepFunctions.StartExecution")
                        .header(
                            "authorization",
                            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/states/aws4_request, \
                             SignedHeaders=host, Signature=0",
                        )
                        .body(body)
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            started.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        for w in workers {
            let _ = w.await;
        }
        let elapsed = begin.elapsed().as_secs_f64();
        let n = started.load(Ordering::Relaxed);
        println!(
            "started={n} errors={} seconds={elapsed:.2} per_second={:.0}",
            errors.load(Ordering::Relaxed),
            n as f64 / elapsed
        );
    });
}

fn main() {
    if let Ok(url) = std::env::var("ENGINE_LOADGEN_URL") {
        loadgen(url);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    start_sync(&mut c);
    c.final_summary();
}
