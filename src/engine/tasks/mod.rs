//! Task resources run locally (placeholder).
