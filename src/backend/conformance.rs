//! backend::conformance: the behaviour suite every backend runs (in progress on branch `sfn`).
