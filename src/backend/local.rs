//! backend::local (placeholder).
