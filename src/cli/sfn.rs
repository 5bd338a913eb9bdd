//! `stepgate sfn` (placeholder until its issue lands).

use std::process::ExitCode;

/// Arguments of `stepgate sfn`.
#[derive(Debug, clap::Args)]
pub(crate) struct SfnArgs {
    /// Arguments (not built yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub(crate) fn run(_args: SfnArgs) -> anyhow::Result<ExitCode> {
    eprintln!("stepgate sfn: not built yet");
    Ok(ExitCode::from(2))
}
