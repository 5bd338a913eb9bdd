//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared conformance directory (`../shared/conformance`), or a clear panic.
/// Looked up in `STEPGATE_CONFORMANCE_DIR`, then next to the checkout, then `/work/shared`.
pub fn conformance_dir() -> PathBuf {
    if let Ok(d) = std::env::var("STEPGATE_CONFORMANCE_DIR") {
        return PathBuf::from(d);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for cand in [manifest.join("../shared/conformance"), PathBuf::from("/work/shared/conformance")] {
        if cand.is_dir() {
            return cand;
        }
    }
    panic!(
        "conformance cases not found: set STEPGATE_CONFORMANCE_DIR or check out ../shared next to the project"
    );
}
