//! apigw (placeholder; see ../shared/DESIGN.md).
