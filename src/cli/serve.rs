//! `stepgate serve` (placeholder until its issue lands).

use std::process::ExitCode;

/// Arguments of `stepgate serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Arguments (not built yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub(crate) fn run(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    eprintln!("stepgate serve: not built yet");
    Ok(ExitCode::from(2))
}
