//! The ASL interpreter (placeholder).
