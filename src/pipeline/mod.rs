//! pipeline (placeholder; see ../shared/DESIGN.md).
