//! The HTTP adapter: hyper 1 (HTTP/1.1 and HTTP/2 through hyper-util's auto builder) in
//! front of [`pipeline::invoke`], plus the Step Functions JSON API of the local engine
//! ([`sfn_api`]).
//!
//! Per request ([`service`]): a 10 MB body limit answered with API Gateway's 413, panics
//! caught into API Gateway's 500 (tower-http `CatchPanic`), one structured access-log line
//! with API Gateway's `$context` fields (tracing target `stepgate::access`). The integration
//! timeout (504) is applied by the pipeline around the integration call. On shutdown the
//! listener closes and in-flight requests are drained.
//!
//! ```no_run
//! # async fn demo(app: std::sync::Arc<stepgate::pipeline::App>) -> std::io::Result<()> {
//! let server = stepgate::server::Server::bind("127.0.0.1:0".parse().unwrap(), app).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(stepgate::server::shutdown_signal()).await
//! # }
//! ```

mod access_log;
mod bootstrap;
pub mod sfn_api;
mod service;

pub use access_log::{
    AccessLogFormat, buffer_on_this_thread as buffer_access_log_on_this_thread, flush as flush_access_log,
    write_directly as write_access_log_directly,
};
pub use bootstrap::{Error, Gateway, Storage};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::pipeline::App;

/// How long in-flight requests may take to finish after shutdown was asked for.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound gateway listener.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, app: Arc<App>) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server { listener, app })
    }

    /// Serves on an already bound listener.
    pub fn from_listener(listener: TcpListener, app: Arc<App>) -> Server {
        Server { listener, app }
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Accepts connections until `shutdown` completes, then stops accepting and waits (up
    /// to 30 s) for in-flight requests to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // EMFILE and friends: keep serving the connections we have.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let svc = service::new(self.app.clone(), peer);
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                    let conn = graceful.watch(conn.into_owned());
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, %peer, "connection closed with an error");
                        }
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(self.listener);
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all in-flight requests drained"),
            () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("drain timed out; closing open connections"),
        }
        Ok(())
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}
