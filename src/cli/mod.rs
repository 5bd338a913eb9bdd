//! The command line: `serve`, `render`, `invoke`, `check`. The only module that prints
//! for users. Each subcommand lives in its own file with its clap `Args` and a `run`.

mod check;
mod invoke;
mod render;
mod serve;
mod sfn;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// stepgate: API Gateway's Step Functions integration, with a local engine.
#[derive(Debug, Parser)]
#[command(name = "stepgate", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve an API Gateway OpenAPI file (default: config/stepgate.yaml).
    Serve(serve::ServeArgs),
    /// Render a mapping template against a sample request and print the result.
    Render(render::RenderArgs),
    /// Run one request through the gateway in-process and print every phase.
    Invoke(invoke::InvokeArgs),
    /// Serve only the local engine as the Step Functions API (AWS JSON 1.0).
    Sfn(sfn::SfnArgs),
    /// Load and validate a configuration; report every problem with its location.
    Check(check::CheckArgs),
}

/// Parses the process arguments and runs the command. Errors are printed with their
/// full diagnostic (`{:#}`) and give exit code 1.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Render(a) => render::run(a),
        Command::Invoke(a) => invoke::run(a),
        Command::Check(a) => check::run(a),
        Command::Sfn(a) => sfn::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a line of a server's startup banner (`serve`, `sfn`). Nobody reading stdout any
/// more (`stepgate serve | head -1`) is no reason to stop serving, so a failed write is
/// dropped where `println!` would panic.
pub(crate) fn print_banner_line(line: String) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}
