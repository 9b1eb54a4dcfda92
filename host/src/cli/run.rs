//! `ferret run`: one XSOAR command, its results printed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use ferret_host::command::parse_command_line;
use ferret_host::config::Config;
use ferret_host::dispatch::{Ferret, Outcome};
use ferret_host::output::{report, xsoar};
use ferret_host::router::Registry;
use ferret_host::sandbox::Sandbox;
use ferret_host::schedule::{CallOptions, Priority};

use super::{EXIT_ERROR_ENTRIES, EXIT_REFUSED, RunFormat};

pub async fn run_command(
    config: &Config,
    text: &str,
    format: RunFormat,
    modules: &[PathBuf],
    no_cache: bool,
) -> Result<ExitCode> {
    let ferret = if modules.is_empty() {
        Ferret::load(config).await?
    } else {
        let sandbox = Sandbox::new(&config.sandbox, Some(&config.cache_dir()))?;
        let registry = Registry::load_files(&sandbox, config, modules).await?;
        Ferret::assemble(sandbox, registry, config)?
    };
    let line = match parse_command_line(text) {
        Ok(line) => line,
        Err(error) => return Ok(refuse(&error.to_string(), format)),
    };
    let options = CallOptions { priority: Priority::Interactive, use_cache: !no_cache };
    let results = match ferret.execute_with(&line, options).await {
        Ok(results) => results,
        Err(error) => return Ok(refuse(&error.to_string(), format)),
    };
    match format {
        RunFormat::Xsoar => {
            outln!("{}", serde_json::to_string_pretty(&xsoar::entries(&results))?)
        }
        RunFormat::Json => outln!("{}", serde_json::to_string_pretty(&report::json(&results))?),
        RunFormat::Table => outln!("{}", report::table(&results)),
    }
    // A provider without its secrets is reported, not counted as a failure:
    // a first run with nothing configured still succeeds.
    let any_error = results
        .iter()
        .any(|result| matches!(result.outcome, Outcome::Refused(_) | Outcome::Failed(_)));
    Ok(if any_error { ExitCode::from(EXIT_ERROR_ENTRIES) } else { ExitCode::SUCCESS })
}

/// A refused command: an XSOAR error entry for `xsoar`, a message on
/// standard error otherwise.
fn refuse(message: &str, format: RunFormat) -> ExitCode {
    match format {
        RunFormat::Xsoar => outln!("{}", json!([xsoar::error_entry(message)])),
        _ => eprintln!("error: {message}"),
    }
    ExitCode::from(EXIT_REFUSED)
}
