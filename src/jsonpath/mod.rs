//! jsonpath (placeholder; see ../shared/DESIGN.md).
