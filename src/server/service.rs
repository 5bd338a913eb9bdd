//! The per-connection service: hyper request → [`GatewayRequest`] (body read under the size
//! limit) → [`pipeline::invoke`] → hyper response, with panics caught into API Gateway's 500
//! and one access-log line per request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, Version};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

use super::access_log;
use crate::pipeline::{self, App, GatewayError, GatewayRequest, GatewayResponse, GatewayResponseType};

/// The hyper service for one connection.
pub(crate) type GatewayService = TowerToHyperService<tower_http::catch_panic::CatchPanic<Handler, PanicResponse>>;

/// Builds the service for a connection from `peer`.
pub(crate) fn new(app: Arc<App>, peer: SocketAddr) -> GatewayService {
    let connection = Connection { app, peer, peer_ip: Arc::from(peer.ip().to_string()) };
    let svc = ServiceBuilder::new()
        .layer(CatchPanicLayer::custom(PanicResponse))
        .service(Handler(Arc::new(connection)));
    TowerToHyperService::new(svc)
}

/// The tower service behind the panic catcher.
///
/// Each request's future holds the connection's own `Arc`, not a clone of the app's: the
/// app's reference count is one memory location for every worker thread, and bumping it
/// per request had the threads fight over that cache line. A connection's requests run
/// one after another, so its count is rarely touched by two threads at once.
#[derive(Clone, Debug)]
pub(crate) struct Handler(Arc<Connection>);

/// What every request of one connection shares.
#[derive(Debug)]
pub(crate) struct Connection {
    app: Arc<App>,
    peer: SocketAddr,
    /// The peer's address as text for the access log, formatted once per connection.
    peer_ip: Arc<str>,
}

type HandlerFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl tower::Service<Request<Incoming>> for Handler {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = HandlerFuture;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> HandlerFuture {
        Box::pin(handle(self.0.clone(), req))
    }
}

async fn handle(connection: Arc<Connection>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let Connection { app, peer, peer_ip } = &*connection;
    let peer = *peer;
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let protocol = match parts.version {
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let mut request = GatewayRequest {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body: Bytes::new(),
        source_ip: Some(peer.ip()),
        protocol,
    };
    let limit = app.limits().max_body_bytes;
    let declared = request
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let response = if declared.is_some_and(|n| n > limit as u64) {
        app.reject(&request, &GatewayError::new(GatewayResponseType::RequestTooLarge))
    } else {
        match Limited::new(body, limit).collect().await {
            Ok(collected) => {
                request.body = collected.to_bytes();
                // Keep the method and path for the log line only when it will be written.
                let logged = access_log::enabled().then(|| (request.method.clone(), request.path.clone()));
                let response = pipeline::invoke(app, request).await;
                if let Some((method, path)) = logged {
                    access_log::log(&method, &path, protocol, peer_ip, &response, started);
                }
                return Ok(to_hyper(response));
            }
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                app.reject(&request, &GatewayError::new(GatewayResponseType::RequestTooLarge))
            }
            Err(e) => app.reject(
                &request,
                &GatewayError::new(GatewayResponseType::Default4xx).with_detail(format!("reading the body: {e}")),
            ),
        }
    };
    if access_log::enabled() {
        access_log::log(&request.method, &request.path, protocol, peer_ip, &response, started);
    }
    Ok(to_hyper(response))
}

fn to_hyper(r: GatewayResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(r.body));
    *response.status_mut() = r.status;
    *response.headers_mut() = r.headers;
    response
}

/// A panic on the request path becomes API Gateway's 500, never a dropped connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PanicResponse;

impl tower_http::catch_panic::ResponseForPanic for PanicResponse {
    type ResponseBody = Full<Bytes>;

    fn response_for_panic(&mut self, panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Full<Bytes>> {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(panic = %detail, "panic while handling a request");
        panic_response()
    }
}

fn panic_response() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"{\"message\": \"Internal server error\"}")));
    *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    r.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("InternalServerErrorException"));
    r
}
