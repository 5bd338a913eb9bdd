//! sfn (placeholder; see ../shared/DESIGN.md).
