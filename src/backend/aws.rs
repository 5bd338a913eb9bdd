//! backend::aws (placeholder).
