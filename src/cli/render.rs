//! `stepgate render` (placeholder until its issue lands).

use std::process::ExitCode;

/// Arguments of `stepgate render`.
#[derive(Debug, clap::Args)]
pub(crate) struct RenderArgs {
    /// Arguments (not built yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub(crate) fn run(_args: RenderArgs) -> anyhow::Result<ExitCode> {
    eprintln!("stepgate render: not built yet");
    Ok(ExitCode::from(2))
}
