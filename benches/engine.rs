//! Engine benches.
//!
//! * `engine/start_sync_execution_10_states`: one StartSyncExecution of a 10-state
//!   EXPRESS machine through `Engine` (in-memory, single-threaded runtime), so the time
//!   per iteration is the CPU per execution. Goal: ≤ 100 µs.
//! * Load generator for `benches/engine_vs_moto.sh` (not a criterion bench): with
//!   `ENGINE_LOADGEN_URL` set, POSTs StartExecution to that Step Functions endpoint from
//!   `ENGINE_LOADGEN_CONCURRENCY` workers for `ENGINE_LOADGEN_SECONDS` and prints
//!   `started=<n> errors=<n> seconds=<s> per_second=<r> loadgen_cpu_us_per_request=<c>`.

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

/// The StartExecution load generator used by `engine_vs_moto.sh`: `concurrency`
/// keep-alive HTTP/1.1 connections on one thread, each sending the same pre-built
/// request and reading the answer by hand (status line, `Content-Length` or chunked
/// body, `Connection: close`), so that the generator costs far less CPU than the
/// server it measures (both share the machine's two cores). A connection the server
/// closes is reopened.
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
    let authority = url
        .strip_prefix("http://")
        .expect("ENGINE_LOADGEN_URL must be http://host:port/")
        .trim_end_matches('/')
        .to_string();
    let body = json!({"stateMachineArn": machine, "input": "{\"order\":1}"}).to_string();
    let request: Arc<[u8]> = format!(
        "POST / HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amz-target: AWSStepFunctions.StartExecution\r\n\
         authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/states/aws4_request, \
         SignedHeaders=host, Signature=0\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
    .into();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cpu_before = process_cpu_seconds();
    runtime.block_on(async move {
        let started = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let begin = Instant::now();
        let deadline = begin + Duration::from_secs_f64(seconds);
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (authority, request) = (authority.clone(), Arc::clone(&request));
            let (started, errors) = (Arc::clone(&started), Arc::clone(&errors));
            workers.push(tokio::spawn(async move {
                let mut connection: Option<tokio::net::TcpStream> = None;
                let mut buffer = Vec::with_capacity(4096);
                while Instant::now() < deadline {
                    let stream = match connection.as_mut() {
                        Some(stream) => stream,
                        None => match tokio::net::TcpStream::connect(&authority).await {
                            Ok(stream) => {
                                let _ = stream.set_nodelay(true);
                                connection.insert(stream)
                            }
                            Err(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            }
                        },
                    };
                    match exchange(stream, &request, &mut buffer).await {
                        Ok((ok, keep_alive)) => {
                            if ok {
                                started.fetch_add(1, Ordering::Relaxed);
                            } else {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            if !keep_alive {
                                connection = None;
                            }
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            connection = None;
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
        let cpu = process_cpu_seconds() - cpu_before;
        println!(
            "started={n} errors={} seconds={elapsed:.2} per_second={:.0} loadgen_cpu_us_per_request={:.1}",
            errors.load(Ordering::Relaxed),
            n as f64 / elapsed,
            cpu * 1e6 / n.max(1) as f64
        );
    });
}

/// Sends one request and reads one response; `(status is 2xx, connection stays open)`.
async fn exchange(
    stream: &mut tokio::net::TcpStream,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> std::io::Result<(bool, bool)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request).await?;
    buffer.clear();
    let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed");
    // The head.
    let head_end = loop {
        if let Some(i) = find(buffer, b"\r\n\r\n") {
            break i + 4;
        }
        if stream.read_buf(buffer).await? == 0 {
            return Err(eof());
        }
    };
    let head = std::str::from_utf8(&buffer[..head_end])
        .map_err(|_| std::io::Error::other("head is not UTF-8"))?
        .to_ascii_lowercase();
    let ok = head.starts_with("http/1.1 2") || head.starts_with("http/1.0 2");
    let mut keep_alive = head.starts_with("http/1.1") && !head.contains("\r\nconnection: close");
    let length = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    match length {
        Some(length) => {
            while buffer.len() < head_end + length {
                if stream.read_buf(buffer).await? == 0 {
                    return Err(eof());
                }
            }
        }
        None if head.contains("\r\ntransfer-encoding: chunked") => loop {
            // Bodies here are small: wait for the last chunk.
            if find(&buffer[head_end..], b"\r\n0\r\n\r\n").is_some()
                || buffer[head_end..].starts_with(b"0\r\n\r\n")
            {
                break;
            }
            if stream.read_buf(buffer).await? == 0 {
                return Err(eof());
            }
        },
        None => {
            // No length: the body ends when the server closes.
            while stream.read_buf(buffer).await? != 0 {}
            keep_alive = false;
        }
    }
    Ok((ok, keep_alive))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// User + system CPU seconds of this process so far.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat (12 and 13 after the name).
    (ticks(11) + ticks(12)) / 100.0
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
