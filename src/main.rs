//! The `stepgate` binary: all the work is in the library's `cli` module.
//!
//! With the `mimalloc` feature (on by default) the binary allocates through mimalloc: a
//! request allocates a few dozen small, short-lived values, which glibc's malloc served at
//! several times the cost (see benches/README.md, `## gateway`).

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    stepgate::cli::run()
}
