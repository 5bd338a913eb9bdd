//! `stepgate check` (placeholder until its issue lands).

use std::process::ExitCode;

/// Arguments of `stepgate check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Arguments (not built yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub(crate) fn run(_args: CheckArgs) -> anyhow::Result<ExitCode> {
    eprintln!("stepgate check: not built yet");
    Ok(ExitCode::from(2))
}
