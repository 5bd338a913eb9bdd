//! The Step Functions AWS JSON 1.0 API over any [`StepFunctions`] backend (the local
//! engine in practice), so the AWS CLI, boto3 and aws-sdk-sfn can talk to stepgate with
//! `--endpoint-url`. Every call is `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`
//! and a JSON body; answers are `application/x-amz-json-1.0`, errors
//! `{"__type", "message"}` with the error's status (400 for every named error).
//!
//! Any `Host` is accepted, including the `sync-` prefix SDKs put in front of the
//! endpoint for StartSyncExecution. That prefix usually does not resolve for
//! `127.0.0.1`/`localhost`, so turn host-prefix injection off in the client:
//! `AWS_DISABLE_HOST_PREFIX_INJECTION=true` (AWS SDKs and CLI), boto3
//! `Config(inject_host_prefix=False)`, aws-sdk-rust
//! `aws_sdk_sfn::config::Builder::disable_host_prefix(true)`.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::backend::{self, StepFunctions};
use crate::sfn::{Action, AwsError};

/// Largest request body (CreateStateMachine definitions reach 1 MiB).
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Serves the Step Functions API on `listener` until `shutdown` completes, then
/// drains the requests in flight.
pub async fn serve_sfn_api(
    listener: TcpListener,
    backend: Arc<dyn StepFunctions>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "sfn api: accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let backend = Arc::clone(&backend);
                let service = service_fn(move |request| {
                    let backend = Arc::clone(&backend);
                    async move { Ok::<_, Infallible>(handle(backend.as_ref(), request).await) }
                });
                let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "sfn api: connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    graceful.shutdown().await;
    Ok(())
}

/// Answers one request.
pub async fn handle(
    backend: &dyn StepFunctions,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    // A version 4 UUID from the thread's generator: no system call per request.
    let request_id = uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string();
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let method = request.method().clone();
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let e = AwsError::new(
                "ValidationException",
                "Request body is too large or could not be read",
                413,
            );
            return error(&request_id, &e);
        }
    };
    if method != Method::POST {
        let e = AwsError::new("UnknownOperationException", "Only POST / is supported", 404);
        return error(&request_id, &e);
    }
    let Some(target) = target else {
        return error(
            &request_id,
            &AwsError::bad_request("UnknownOperationException", "Missing X-Amz-Target header"),
        );
    };
    let Some(action) = Action::from_target(&target) else {
        let message =
            format!("Operation {target} is not supported by stepgate's local Step Functions API");
        return error(
            &request_id,
            &AwsError::bad_request("UnknownOperationException", message),
        );
    };
    match backend::dispatch(backend, action, &body).await {
        Ok(bytes) => respond(&request_id, StatusCode::OK, Bytes::from(bytes)),
        Err(backend::Error::Service(e)) => error(&request_id, &e),
        Err(other) => {
            tracing::error!(error = %other, action = %action, "sfn api: backend failure");
            error(
                &request_id,
                &AwsError::new("InternalFailure", other.to_string(), 500),
            )
        }
    }
}

fn error(request_id: &str, e: &AwsError) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = respond(request_id, status, Bytes::from(e.to_body()));
    if let Ok(value) = http::HeaderValue::from_str(&e.type_) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

fn respond(request_id: &str, status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(CONTENT_TYPE),
    );
    if let Ok(value) = http::HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}
