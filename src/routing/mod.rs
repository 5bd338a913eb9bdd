//! routing (placeholder; see ../shared/DESIGN.md).
