//! `benches/hello_hyper.rs` with mimalloc as the global allocator: the baseline to compare
//! a stepgate built with the `mimalloc` feature against allocator for allocator (the stock
//! hello-world stays the baseline of the goal).
//!
//! `cargo run --release --example hello_hyper_mimalloc -- 127.0.0.1:8099`

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../hello_hyper.rs"]
mod hello_hyper;

fn main() -> std::io::Result<()> {
    hello_hyper::main()
}
