//! The engine runtime: state machines, executions, durability (placeholder).
