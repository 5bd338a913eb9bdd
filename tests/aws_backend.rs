//! The AWS backend (aws-sdk-sfn) against a Step Functions API nobody here wrote: moto's
//! server, started on 127.0.0.1 with a free port and state machine execution turned on. It
//! runs the shared behaviour suite (`backend::conformance`) and `dispatch` over it. moto
//! answers 500 to StartSyncExecution, so the sync cases are left to the local engine.
//!
//! Without moto (`pip install "moto[server]>=5.2.5"`) the moto tests print why and pass,
//! unless `STEPGATE_REQUIRE_MOTO=1` (set by `.ci/run`), which makes them fail.
//!
//! The error-mapping and host-prefix tests need no moto: they talk to a tiny canned HTTP
//! server in this file.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stepgate::backend::aws::{AwsBackend, AwsBackendConfig, StaticCredentials};
use stepgate::backend::conformance::{self, Fixture, Report};
use stepgate::backend::{Error, StepFunctions, dispatch};
use stepgate::sfn::Action;
use stepgate::sfn::model::*;

/// Cases where moto (5.2.5) does not do what AWS does; each names what moto does instead.
/// The suite fails if one of these starts passing, so the list stays honest.
const MOTO_DIVERGENCES: &str = "\
create_state_machine_with_other_definition_already_exists: moto accepts a second CreateStateMachine with the same name and another definition instead of StateMachineAlreadyExists
start_execution_without_name_uses_a_uuid: with execute_state_machine on, moto names an unnamed execution `None` instead of a UUID
invalid_execution_input: with execute_state_machine on, moto answers `{\"__type\": null, \"message\": \"Expecting value: ...\"}` (UnknownError) instead of InvalidExecutionInput
invalid_name: moto accepts execution names with spaces, `/` and `:` instead of InvalidName
express_start_execution_gives_express_arns: moto gives EXPRESS executions standard `execution:` ARNs and rejects a reused name with ExecutionAlreadyExists
express_list_executions_not_supported: moto lists executions of EXPRESS machines instead of StateMachineTypeNotSupported
express_describe_execution_invalid_arn: moto describes EXPRESS executions instead of InvalidArn (its ARNs are standard ones)
execution_history_shapes: moto ignores reverseOrder in GetExecutionHistory
stop_execution_aborts: with execute_state_machine on, moto answers StopExecution with `{}`, without the required stopDate
";

// === moto harness ===

/// A moto server process; killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts moto, or explains why it cannot (`Err`).
fn start_moto() -> Result<Moto, String> {
    let probe = Command::new("python3")
        .args(["-c", "import moto.server, flask"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return Err(format!(
                "moto is not installed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Err(e) => return Err(format!("python3 is not available: {e}")),
    }
    let port = free_port();
    let mut child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start moto: {e}"))?;
    // moto prints " * Running on http://127.0.0.1:<port>" on stderr once it listens.
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines();
        let mut sent = false;
        while let Some(Ok(line)) = lines.next() {
            if !sent && line.contains("Running on") {
                let _ = tx.send(());
                sent = true;
            }
        }
    });
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    rx.recv_timeout(Duration::from_secs(60))
        .map_err(|_| "moto did not start within 60 s".to_owned())?;
    Ok(moto)
}

async fn moto_or_skip() -> Option<Moto> {
    match start_moto() {
        Ok(m) => {
            let client = reqwest::Client::new();
            let r = client
                .post(format!("{}/moto-api/config", m.endpoint))
                .body(r#"{"stepfunctions":{"execute_state_machine":true}}"#)
                .header("content-type", "application/json")
                .send()
                .await
                .expect("moto config call");
            assert!(r.status().is_success(), "moto config: {}", r.status());
            Some(m)
        }
        Err(why) if std::env::var("STEPGATE_REQUIRE_MOTO").as_deref() == Ok("1") => {
            panic!("STEPGATE_REQUIRE_MOTO=1 but {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED: {why} (install with pip install \"moto[server]>=5.2.5\")");
            None
        }
    }
}

fn config_for(endpoint: &str) -> AwsBackendConfig {
    AwsBackendConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.into()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            session_token: None,
        }),
        ..Default::default()
    }
}

// === moto: the shared suite and dispatch ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_backend_against_moto() {
    let Some(moto) = moto_or_skip().await else {
        return;
    };
    let backend = AwsBackend::new(&config_for(&moto.endpoint)).await;

    let fixture = Fixture::new(false);
    let outcomes = conformance::run(&backend, &fixture).await;
    let report = Report::check(&outcomes, &Report::parse_divergences(MOTO_DIVERGENCES));
    eprintln!("aws backend vs moto: {}", report.summary());
    assert!(report.problems.is_empty(), "{}", report.summary());

    dispatch_start_execution_keeps_the_input_intact(&backend, &fixture).await;
    dispatch_answers_with_aws_error_bodies(&backend, &fixture).await;
}

/// The seed's template renders `{"input": "<escaped JSON>", "name": ..., "stateMachineArn": ...}`;
/// the input must reach Step Functions unchanged, quotes and non-ASCII included.
async fn dispatch_start_execution_keeps_the_input_intact(backend: &AwsBackend, fx: &Fixture) {
    let sm = backend
        .create_state_machine(CreateStateMachineInput {
            name: format!("{}-dispatch", fx.prefix),
            definition: conformance::PASS_DEFINITION.into(),
            role_arn: fx.role_arn.clone(),
            ..Default::default()
        })
        .await
        .expect("create");
    let client_input = r#"{"name":"O'Brien","quote":"\"hi\"","city":"Zürich ✓"}"#;
    let body = serde_json::json!({
        "input": client_input,
        "name": format!("{}-d1", fx.prefix),
        "stateMachineArn": sm.state_machine_arn,
    })
    .to_string();
    let out = dispatch(backend, Action::StartExecution, body.as_bytes())
        .await
        .expect("dispatch");
    let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["executionArn", "startDate"], "{out}");
    assert!(
        out["startDate"].is_f64() || out["startDate"].is_u64(),
        "{out}"
    );
    let arn = out["executionArn"].as_str().unwrap();
    let described = dispatch(
        backend,
        Action::DescribeExecution,
        format!(r#"{{"executionArn":"{arn}"}}"#).as_bytes(),
    )
    .await
    .expect("describe");
    let described: serde_json::Value = serde_json::from_slice(&described).unwrap();
    assert_eq!(
        described["input"].as_str(),
        Some(client_input),
        "{described}"
    );
}

async fn dispatch_answers_with_aws_error_bodies(backend: &AwsBackend, fx: &Fixture) {
    // Bad body: answered before any call, as AWS's request layer does.
    let e = dispatch(backend, Action::StartExecution, br#"{"input":"{}"}"#)
        .await
        .unwrap_err();
    let e = e.as_service().expect("service error").clone();
    assert_eq!((e.type_.as_str(), e.status), ("ValidationException", 400));
    // Unknown state machine: moto's answer, passed on with its type and status.
    let missing = format!(
        "arn:aws:states:us-east-1:123456789012:stateMachine:{}-nope",
        fx.prefix
    );
    let e = dispatch(
        backend,
        Action::StartExecution,
        format!(r#"{{"stateMachineArn":"{missing}"}}"#).as_bytes(),
    )
    .await
    .unwrap_err();
    let e = e.as_service().expect("service error").clone();
    assert_eq!(
        (e.type_.as_str(), e.status),
        ("StateMachineDoesNotExist", 400)
    );
    let body: serde_json::Value = serde_json::from_slice(&e.to_body()).unwrap();
    assert_eq!(body["__type"], "StateMachineDoesNotExist");
    assert!(
        body["message"].as_str().unwrap().contains(&missing),
        "{body}"
    );
}

// === canned server: error mapping and the sync- host prefix ===

/// One recorded request: the request line and headers (lower-cased names) and the body.
#[derive(Clone, Debug, Default)]
struct Seen {
    head: String,
    body: String,
}

/// A one-response-per-connection HTTP server answering every request with
/// `status` and `body`; `silent` accepts and never answers.
fn canned(status: u16, body: &'static str, silent: bool) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut buf = vec![0; len];
            let _ = reader.read_exact(&mut buf);
            log.lock().unwrap().push(Seen {
                head,
                body: String::from_utf8_lossy(&buf).into_owned(),
            });
            if silent {
                std::thread::sleep(Duration::from_secs(30));
                continue;
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            use std::io::Write;
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (format!("http://{addr}"), seen)
}

/// A StartSyncExecution answer as AWS writes it: members in alphabetical order, dates as
/// Java doubles.
const SYNC_OK: &str = r#"{"billingDetails":{"billedDurationInMilliseconds":100,"billedMemoryUsedInMB":64},"executionArn":"arn:aws:states:us-east-1:123456789012:express:sm:n:0c7e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6","input":"{}","inputDetails":{"included":true},"name":"n","output":"{}","outputDetails":{"included":true},"startDate":1.795266197959E9,"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:sm","status":"SUCCEEDED","stopDate":1.795266198E9}"#;

#[tokio::test]
async fn start_sync_execution_reaches_a_custom_endpoint_without_the_sync_prefix() {
    let (endpoint, seen) = canned(200, SYNC_OK, false);
    let backend = AwsBackend::new(&config_for(&endpoint)).await;
    let body = br#"{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:sm","name":"n","input":"{}"}"#;
    let out = dispatch(&backend, Action::StartSyncExecution, body)
        .await
        .expect("sync call");
    assert_eq!(
        String::from_utf8(out).unwrap(),
        SYNC_OK,
        "the body AWS sent comes back unchanged"
    );
    let first = seen.lock().unwrap()[0].clone();
    let head = first.head.to_ascii_lowercase();
    let host = endpoint.trim_start_matches("http://");
    assert!(head.contains(&format!("host: {host}\r\n")), "{head}");
    assert!(
        head.contains("x-amz-target: awsstepfunctions.startsyncexecution"),
        "{head}"
    );
    assert!(
        first.body.contains(
            r#""stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:sm""#
        )
    );

    // Control: with the prefix kept, the SDK calls `sync-127.0.0.1`, which does not resolve.
    let (endpoint, seen) = canned(200, SYNC_OK, false);
    let config = AwsBackendConfig {
        disable_host_prefix: Some(false),
        ..config_for(&endpoint)
    };
    let backend = AwsBackend::new(&config).await;
    let e = dispatch(&backend, Action::StartSyncExecution, body)
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "the prefixed host must not reach the endpoint"
    );
}

#[tokio::test]
async fn service_errors_keep_code_message_and_status() {
    for (status, body, code, message) in [
        (
            400,
            r#"{"__type":"ExecutionAlreadyExists","message":"Execution Already Exists: 'x'"}"#,
            "ExecutionAlreadyExists",
            "Execution Already Exists: 'x'",
        ),
        (
            400,
            r#"{"__type":"com.amazonaws.swf.service.v2.model#StateMachineDoesNotExist","message":"m"}"#,
            "StateMachineDoesNotExist",
            "m",
        ),
        (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
            "ThrottlingException",
            "Rate exceeded",
        ),
        (
            503,
            r#"{"__type":"ServiceUnavailable","message":"try later"}"#,
            "ServiceUnavailable",
            "try later",
        ),
        (500, "oops", "InternalFailure", ""),
    ] {
        let (endpoint, seen) = canned(status, body, false);
        let backend = AwsBackend::new(&config_for(&endpoint)).await;
        let r = backend
            .start_execution(StartExecutionInput {
                state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
                ..Default::default()
            })
            .await;
        let e = r
            .expect_err(body)
            .as_service()
            .cloned()
            .unwrap_or_else(|| panic!("{body}: not a service error"));
        assert_eq!((e.type_.as_str(), e.status), (code, status), "{body}");
        if !message.is_empty() {
            assert_eq!(e.message, message, "{body}");
        }
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "one attempt only (retries are off by default): {body}"
        );
    }
}

#[tokio::test]
async fn transport_failures_are_told_apart() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let backend = AwsBackend::new(&config_for(&closed)).await;
    let e = backend
        .list_state_machines(ListStateMachinesInput::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connect(_)), "closed port gave {e:?}");

    let (silent, _) = canned(200, "{}", true);
    let config = AwsBackendConfig {
        read_timeout: Some(Duration::from_millis(300)),
        ..config_for(&silent)
    };
    let backend = AwsBackend::new(&config).await;
    let e = backend
        .list_state_machines(ListStateMachinesInput::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "silent server gave {e:?}");
    assert!(e.is_transport());
}

// === end to end: the seed API served with `backend: aws` against moto ===

/// Serves `config/stepgate.aws.yaml` (the seed's swagger.yaml) against moto, with the seed's
/// request template fixed the way users fix it (`.replaceAll("\\'","'")` after
/// `$util.escapeJavaScript`) and one extra error rule (`.*StateMachineDoesNotExist.*` → 404,
/// with its method response), from a temporary copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_execute_through_the_gateway_reaches_moto() {
    let Some(moto) = moto_or_skip().await else {
        return;
    };
    let backend = AwsBackend::new(&config_for(&moto.endpoint)).await;
    let sm = backend
        .create_state_machine(CreateStateMachineInput {
            name: "stepgate-e2e".into(),
            definition: conformance::PASS_DEFINITION.into(),
            role_arn: "arn:aws:iam::123456789012:role/stepgate".into(),
            ..Default::default()
        })
        .await
        .expect("create");

    let dir = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let swagger = std::fs::read_to_string(repo.join("config/swagger.yaml")).unwrap();
    let seed_input = r#""input": "$util.escapeJavaScript($input.json('$'))","#;
    assert!(
        swagger.contains(seed_input),
        "the seed request template changed"
    );
    let fixed = swagger
        .replace(seed_input, r#""input": "$util.escapeJavaScript($input.json('$')).replaceAll("\\'","'")","#)
        .replace(
            "          \".*CREATION_FAILED.*\":\n",
            "          \".*StateMachineDoesNotExist.*\":\n            statusCode: 404\n          \".*CREATION_FAILED.*\":\n",
        );
    let method_responses =
        "        403:\n          $ref: '#/components/responses/Error'\ncomponents:";
    assert!(
        fixed.contains(method_responses),
        "the seed method responses changed"
    );
    let fixed = fixed.replace(
        method_responses,
        "        403:\n          $ref: '#/components/responses/Error'\n        404:\n          $ref: '#/components/responses/Error'\ncomponents:",
    );
    assert!(
        fixed.contains("StateMachineDoesNotExist"),
        "the seed responses changed"
    );
    std::fs::write(dir.path().join("swagger.yaml"), fixed).unwrap();
    let settings = std::fs::read_to_string(repo.join("config/stepgate.aws.yaml")).unwrap();
    std::fs::write(dir.path().join("stepgate.yaml"), settings).unwrap();

    let serve = |workflow: String| {
        let path = dir.path().join("stepgate.yaml");
        let endpoint = moto.endpoint.clone();
        let backend = backend.clone();
        async move {
            let options = stepgate::config::LoadOptions {
                vars: [("Workflow".to_owned(), workflow)].into_iter().collect(),
                endpoint_url: Some(endpoint),
                ..Default::default()
            };
            let config =
                stepgate::config::load_with(&path, &options).unwrap_or_else(|e| panic!("{e:#}"));
            let app = stepgate::pipeline::App::new(config.api, std::sync::Arc::new(backend))
                .expect("routes")
                .with_limits(config.limits);
            let server = stepgate::server::Server::bind(
                "127.0.0.1:0".parse().unwrap(),
                std::sync::Arc::new(app),
            )
            .await
            .unwrap();
            let addr = server.local_addr();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(server.run(async move {
                let _ = stopped.await;
            }));
            (format!("http://{addr}"), stop, task)
        }
    };
    let http = reqwest::Client::new();

    // The right ARN: the execution starts in moto with the client's JSON as its input.
    let (base, stop, task) = serve(sm.state_machine_arn.clone()).await;
    let client_body = r#"{"name":"O'Brien","said":"\"hi\" — it's","city":"Zürich ✓ 日本"}"#;
    let r = http
        .post(format!("{base}/execute"))
        .header("content-type", "application/json")
        .body(client_body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    let arn = answer["executionArn"]
        .as_str()
        .unwrap_or_else(|| panic!("no executionArn in {text}"));
    let described = backend
        .describe_execution(DescribeExecutionInput {
            execution_arn: arn.into(),
            included_data: None,
        })
        .await
        .expect("describe in moto");
    let sent: serde_json::Value = serde_json::from_str(client_body).unwrap();
    let got: serde_json::Value = serde_json::from_str(described.input.as_deref().unwrap()).unwrap();
    assert_eq!(got, sent, "moto saw {:?}", described.input);
    let _ = stop.send(());
    task.await.unwrap().unwrap();

    // A wrong ARN: Step Functions' StateMachineDoesNotExist goes through the rules.
    let missing = "arn:aws:states:us-east-1:123456789012:stateMachine:stepgate-no-such-machine";
    let (base, stop, task) = serve(missing.into()).await;
    let r = http
        .post(format!("{base}/execute"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(
        status, 404,
        "the `.*StateMachineDoesNotExist.*` rule applies: {text}"
    );
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["__type"], "StateMachineDoesNotExist", "{text}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(missing),
        "{text}"
    );
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
