//! backend::conformance (placeholder).
