//! Durable execution store (placeholder).
