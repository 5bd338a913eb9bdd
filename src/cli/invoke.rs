//! `stepgate invoke` (placeholder until its issue lands).

use std::process::ExitCode;

/// Arguments of `stepgate invoke`.
#[derive(Debug, clap::Args)]
pub(crate) struct InvokeArgs {
    /// Arguments (not built yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub(crate) fn run(_args: InvokeArgs) -> anyhow::Result<ExitCode> {
    eprintln!("stepgate invoke: not built yet");
    Ok(ExitCode::from(2))
}
