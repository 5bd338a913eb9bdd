//! Criterion bench `pipeline_invoke`: one request through every gateway phase with no
//! socket — route, parameter validation, request template, mock integration, response
//! template, response parameters — over the API in `benches/gateway_load/api.yaml`.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;
use stepgate::pipeline::{self, GatewayRequest};
use stepgate::server::{Gateway, Storage};

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/gateway_load/stepgate.yaml");
    let config = stepgate::config::load(&path).expect("bench config loads");
    let gateway = runtime.block_on(Gateway::open(config, Storage::InMemory)).expect("gateway opens");
    let request = GatewayRequest::new(Method::GET, "/orders/42")
        .with_header("accept", "application/json")
        .with_header("user-agent", "bench");
    // Check once that the route really does the work being measured.
    let r = runtime.block_on(pipeline::invoke(&gateway.app, request.clone()));
    assert_eq!(r.status.as_u16(), 200);
    assert!(String::from_utf8_lossy(&r.body).contains("\"id\": \"42\""), "{:?}", r.body);

    c.bench_function("pipeline_invoke/mock_with_templates", |b| {
        b.iter(|| runtime.block_on(pipeline::invoke(&gateway.app, std::hint::black_box(request.clone()))))
    });
    let unknown = GatewayRequest::new(Method::GET, "/nope");
    c.bench_function("pipeline_invoke/missing_authentication_token", |b| {
        b.iter(|| runtime.block_on(pipeline::invoke(&gateway.app, std::hint::black_box(unknown.clone()))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
