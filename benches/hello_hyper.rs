//! The baseline of `benches/gateway_load.sh`: the smallest hyper 1 server, with the same
//! runtime and connection builder as stepgate's server (hyper-util auto, multi-thread
//! tokio), answering every request with a fixed JSON body.
//!
//! `cargo run --release --example hello_hyper -- 127.0.0.1:8099`
//!
//! It uses the system allocator; `benches/gateway_load/hello_hyper_mimalloc.rs` runs this
//! same server with mimalloc (example `hello_hyper_mimalloc`).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[tokio::main]
pub async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8099".to_string());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("hello_hyper listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let svc = service_fn(|_req| async {
                let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"{\"id\": \"42\"}")));
                r.headers_mut().insert("content-type", http::HeaderValue::from_static("application/json"));
                Ok::<_, Infallible>(r)
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
