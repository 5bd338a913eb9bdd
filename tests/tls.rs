//! HTTPS end to end, with no internet: a TLS upstream on 127.0.0.1:0 presenting the test
//! certificate of `tests/fixtures/tls` (issued by a private CA for `localhost` / `127.0.0.1`),
//! called by the gateway's `http` integration and by an `http:invoke` task of the local
//! engine (through a StartSyncExecution route), with and without `tls.ca_file` naming that CA.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use stepgate::config;
use stepgate::server::{Gateway, Server, Storage};
use tokio::sync::oneshot;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// An HTTPS upstream (HTTP/1.1 and h2 offered by ALPN) answering every request with
/// `{"path", "method", "version", "body"}` and `X-Upstream: tls`.
async fn tls_upstream() -> SocketAddr {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate aborts the handshake here.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let path = req.uri().path().to_string();
                    let method = req.method().to_string();
                    let version = format!("{:?}", req.version());
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    let answer = json!({"path": path, "method": method, "version": version,
                                        "body": String::from_utf8_lossy(&body)});
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder()
                            .header("Content-Type", "application/json")
                            .header("X-Upstream", "tls")
                            .body(Full::new(bytes::Bytes::from(answer.to_string())))
                            .unwrap(),
                    )
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    addr
}

const API: &str = r#"
openapi: 3.0.1
info: {title: tls, version: '1'}
paths:
  /echo:
    post:
      x-amazon-apigateway-integration:
        type: http
        httpMethod: POST
        uri: https://127.0.0.1:PORT/upstream/echo
        responses:
          default:
            statusCode: 200
            responseParameters:
              method.response.header.X-Upstream: integration.response.header.X-Upstream
            responseTemplates:
              application/json: '{"seen": $input.json(''$.path''), "sent": $input.json(''$.body''), "version": $input.json(''$.version'')}'
  /hook/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      x-amazon-apigateway-integration:
        type: aws
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:states:action/StartSyncExecution
        requestTemplates:
          application/json: |
            {"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:hook", "input": "{\"id\": \"$input.params('id')\"}"}
        responses:
          default: {statusCode: 200}
"#;

const HOOK_ASL: &str = r#"{
  "StartAt": "Call",
  "States": {
    "Call": {
      "Type": "Task",
      "Resource": "arn:aws:states:::http:invoke",
      "Parameters": {
        "ApiEndpoint.$": "States.Format('https://localhost:PORT/hook/{}', $.id)",
        "Method": "GET",
        "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/c"}
      },
      "End": true
    }
  }
}"#;

/// A gateway on 127.0.0.1:0 over the local engine, calling the upstream at `up`; with
/// `tls.ca_file` naming the test CA when `trust_ca`.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn start(up: SocketAddr, trust_ca: bool) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let port = up.port().to_string();
        std::fs::write(dir.path().join("api.yaml"), API.replace("PORT", &port)).unwrap();
        std::fs::write(
            dir.path().join("hook.asl.json"),
            HOOK_ASL.replace("PORT", &port),
        )
        .unwrap();
        let mut yaml = "api: api.yaml\nbackend: local\nstate_machines:\n  Hook: {file: hook.asl.json, name: hook, type: EXPRESS}\n"
            .to_string();
        if trust_ca {
            yaml.push_str(&format!(
                "tls:\n  ca_file: {}\n",
                fixture("ca.pem").display()
            ));
        }
        std::fs::write(dir.path().join("stepgate.yaml"), yaml).unwrap();
        let config =
            config::load(&dir.path().join("stepgate.yaml")).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(config.tls.ca_file().is_some(), trust_ca);
        let gateway = Gateway::open(config, Storage::InMemory)
            .await
            .expect("gateway opens");
        let server = Server::bind("127.0.0.1:0".parse().unwrap(), gateway.app.clone())
            .await
            .unwrap();
        let addr = server.local_addr();
        let (tx, rx) = oneshot::channel();
        tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        Running {
            addr,
            stop: Some(tx),
            client: reqwest::Client::new(),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn json_body(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn http_integration_over_https_with_the_ca_configured_maps_the_response() {
    let g = Running::start(tls_upstream().await, true).await;
    let r = g
        .client
        .post(g.url("/echo"))
        .json(&json!({"a": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        header(&r, "x-upstream"),
        "tls",
        "integration.response.header mapped"
    );
    // The upstream offers h2 by ALPN and the client takes it.
    assert_eq!(
        json_body(r).await,
        json!({"seen": "/upstream/echo", "sent": "{\"a\":1}", "version": "HTTP/2.0"})
    );
}

#[tokio::test]
async fn http_integration_over_https_without_the_ca_is_an_unreachable_endpoint() {
    let g = Running::start(tls_upstream().await, false).await;
    for _ in 0..2 {
        // As for a refused connection: API Gateway's INTEGRATION_FAILURE (504 `Internal
        // server error`), and the gateway keeps serving.
        let r = g
            .client
            .post(g.url("/echo"))
            .json(&json!({"a": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 504);
        assert_eq!(
            header(&r, "x-amzn-errortype"),
            "InternalServerErrorException"
        );
        assert_eq!(
            json_body(r).await,
            json!({"message": "Internal server error"})
        );
    }
}

#[tokio::test]
async fn http_invoke_task_over_https_through_the_local_engine() {
    let g = Running::start(tls_upstream().await, true).await;
    let r = g.client.get(g.url("/hook/7")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let answer = json_body(r).await;
    assert_eq!(answer["status"], json!("SUCCEEDED"), "{answer}");
    let output: Value = serde_json::from_str(answer["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["StatusCode"], json!(200));
    assert_eq!(output["ResponseBody"]["path"], json!("/hook/7"));
    assert_eq!(output["ResponseBody"]["method"], json!("GET"));
    assert_eq!(output["Headers"]["X-Upstream"], json!(["tls"]));
}

#[tokio::test]
async fn http_invoke_task_with_an_untrusted_certificate_fails_naming_the_tls_problem() {
    let g = Running::start(tls_upstream().await, false).await;
    let r = g.client.get(g.url("/hook/7")).send().await.unwrap();
    let answer = json_body(r).await;
    assert_eq!(answer["status"], json!("FAILED"), "{answer}");
    assert_eq!(answer["error"], json!("States.Http.Socket"));
    let cause = answer["cause"].as_str().unwrap();
    assert!(cause.contains("TLS handshake failed"), "{cause}");
    assert!(cause.contains("UnknownIssuer"), "{cause}");
}

// === tls.ca_file in stepgate.yaml ===

fn load(tls: &str) -> Result<config::Config, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.yaml"), API.replace("PORT", "1")).unwrap();
    std::fs::write(
        dir.path().join("hook.asl.json"),
        HOOK_ASL.replace("PORT", "1"),
    )
    .unwrap();
    std::fs::copy(fixture("ca.pem"), dir.path().join("ca.pem")).unwrap();
    std::fs::write(dir.path().join("not-a-cert.pem"), "hello\n").unwrap();
    std::fs::write(
        dir.path().join("stepgate.yaml"),
        format!("api: api.yaml\nstate_machines:\n  Hook: {{file: hook.asl.json, name: hook, type: EXPRESS}}\n{tls}"),
    )
    .unwrap();
    config::load(&dir.path().join("stepgate.yaml")).map_err(|e| format!("{e:#}"))
}

#[test]
fn ca_file_is_relative_to_stepgate_yaml_and_checked_at_load() {
    let config = load("tls: {ca_file: ca.pem}\n").unwrap();
    assert!(config.tls.ca_file().unwrap().ends_with("ca.pem"));
    assert!(load("").unwrap().tls.ca_file().is_none());

    let missing = load("tls:\n  ca_file: nowhere.pem\n").unwrap_err();
    assert!(missing.contains("nowhere.pem` cannot be read"), "{missing}");
    assert!(
        missing.contains("stepgate.yaml:5:"),
        "points into stepgate.yaml: {missing}"
    );
    let empty = load("tls: {ca_file: not-a-cert.pem}\n").unwrap_err();
    assert!(
        empty.contains("not-a-cert.pem` holds no PEM certificate"),
        "{empty}"
    );
    let unknown = load("tls: {ca_file: ca.pem, verify: false}\n").unwrap_err();
    assert!(
        unknown.contains("unknown setting `verify` (known: ca_file)"),
        "{unknown}"
    );
    let shape = load("tls: ca.pem\n").unwrap_err();
    assert!(shape.contains("`tls` must be a mapping"), "{shape}");
}

#[test]
fn serve_without_native_roots_warns_at_startup_and_serves() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api.yaml"), API.replace("PORT", "1")).unwrap();
    std::fs::write(
        dir.path().join("hook.asl.json"),
        HOOK_ASL.replace("PORT", "1"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("stepgate.yaml"),
        "api: api.yaml\nstate_machines:\n  Hook: {file: hook.asl.json, name: hook, type: EXPRESS}\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .arg("serve")
        .arg(dir.path().join("stepgate.yaml"))
        .args(["--listen", "127.0.0.1:0"])
        .env("SSL_CERT_FILE", dir.path().join("no-such-bundle.pem"))
        .env("SSL_CERT_DIR", "")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("stepgate listening on") {
        line.clear();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "serve exited before listening");
    }
    // It started and serves; the roots are loaded before that, so the warning is written.
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("no native root certificates loaded"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no-such-bundle.pem"),
        "the unreadable bundle is named: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// === stepgate sfn --ca-file ===

/// `stepgate sfn` on 127.0.0.1:0 (in memory) with the hook machine, trusting the test CA
/// through `--ca-file` when `trust_ca`; the StartSyncExecution answer.
async fn sfn_start_sync(up: SocketAddr, trust_ca: bool) -> Value {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let machine = dir.path().join("hook.asl.json");
    std::fs::write(&machine, HOOK_ASL.replace("PORT", &up.port().to_string())).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stepgate"));
    command
        .args(["sfn", "--in-memory", "--listen", "127.0.0.1:0", "--state-machine"])
        .arg(format!("hook:EXPRESS={}", machine.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if trust_ca {
        command.arg("--ca-file").arg(fixture("ca.pem"));
    }
    let mut child = command.spawn().expect("stepgate sfn starts");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("stepgate sfn prints its address");
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_string();
    let answer = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("X-Amz-Target", "AWSStepFunctions.StartSyncExecution")
        .body(
            json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:hook",
                   "input": "{\"id\": \"9\"}"})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let answer = json_body(answer).await;
    let _ = child.kill();
    let _ = child.wait();
    answer
}

#[tokio::test]
async fn sfn_ca_file_lets_http_invoke_tasks_reach_a_private_ca_endpoint() {
    let up = tls_upstream().await;
    let trusted = sfn_start_sync(up, true).await;
    assert_eq!(trusted["status"], json!("SUCCEEDED"), "{trusted}");
    let output: Value = serde_json::from_str(trusted["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["ResponseBody"]["path"], json!("/hook/9"));
    let untrusted = sfn_start_sync(up, false).await;
    assert_eq!(untrusted["status"], json!("FAILED"), "{untrusted}");
    assert_eq!(untrusted["error"], json!("States.Http.Socket"));
}

#[test]
fn sfn_ca_file_that_cannot_be_read_stops_startup_naming_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepgate"))
        .args(["sfn", "--in-memory", "--listen", "127.0.0.1:0", "--ca-file", "/nonexistent/ca.pem"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--ca-file") && stderr.contains("/nonexistent/ca.pem"), "{stderr}");
}
