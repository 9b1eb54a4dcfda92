//! `ferret providers list|inspect`: what each provider is and needs;
//! `ferret providers test`: a module against recorded exchanges.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Value, json};

use ferret_host::config::Config;
use ferret_host::dispatch::{Outcome, kind_name};
use ferret_host::output::{report, xsoar};
use ferret_host::replay::{self, ExchangeOutcome, Report};
use ferret_host::router::Registry;

use super::{EXIT_ERROR_ENTRIES, ListFormat, RunFormat};

pub fn print_providers(registry: &Registry, format: ListFormat) {
    let listing: Vec<Value> = registry
        .providers()
        .iter()
        .map(|provider| {
            let manifest = &provider.module.manifest;
            let status = if !provider.config.is_enabled() {
                "disabled".to_owned()
            } else if provider.is_configured() {
                "ready".to_owned()
            } else {
                format!("not configured: set {}", provider.missing.summary(&manifest.id))
            };
            json!({
                "id": manifest.id,
                "brand": manifest.brand,
                "version": manifest.version,
                "description": manifest.description,
                "module": provider.module.origin.display().to_string(),
                "status": status,
                "base_url": provider.grant.base_url.as_str(),
                "hosts": provider.grant.allowed_hosts().collect::<Vec<_>>(),
                "secrets": manifest.secrets.iter().map(|secret| json!({
                    "name": secret.name,
                    "env": ferret_host::config::secret_env_var(&manifest.id, &secret.name),
                    "description": secret.description,
                })).collect::<Vec<_>>(),
                "limits": {
                    "per_second": manifest.limits.per_second,
                    "per_minute": manifest.limits.per_minute,
                    "per_day": manifest.limits.per_day,
                },
                "commands": manifest.commands.iter().map(|command| json!({
                    "name": command.name,
                    "aliases": command.aliases,
                    "kinds": command.kinds.iter().map(|kind| kind_name(*kind)).collect::<Vec<_>>(),
                    "arguments": command.arguments.iter().map(|argument| argument.name.clone()).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    match format {
        ListFormat::Json => {
            outln!("{}", serde_json::to_string_pretty(&listing).expect("JSON values serialise"))
        }
        ListFormat::Table => {
            if listing.is_empty() {
                outln!("No providers loaded. `cargo xtask build` builds the built-in ones.");
            }
            for provider in &listing {
                print_provider(provider);
            }
        }
    }
}

fn print_provider(provider: &Value) {
    let text = |key: &str| provider[key].as_str().unwrap_or("").to_owned();
    let list = |value: &Value| {
        value.as_array().map(|items| {
            items
                .iter()
                .map(|item| item.as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    outln!("{} {} ({}) - {}", text("id"), text("version"), text("brand"), text("status"));
    outln!("  {}", text("description"));
    outln!("  module:   {}", text("module"));
    outln!("  base URL: {}", text("base_url"));
    let hosts = list(&provider["hosts"]).unwrap_or_default();
    if !hosts.is_empty() {
        outln!("  hosts:    {hosts}");
    }
    for secret in provider["secrets"].as_array().into_iter().flatten() {
        outln!(
            "  secret:   {} ({})",
            secret["name"].as_str().unwrap_or(""),
            secret["env"].as_str().unwrap_or("")
        );
    }
    let limits = &provider["limits"];
    let limit = |key: &str| limits[key].as_u64().map_or("-".to_owned(), |n| n.to_string());
    outln!(
        "  limits:   {}/s, {}/min, {}/day",
        limit("per_second"),
        limit("per_minute"),
        limit("per_day")
    );
    for command in provider["commands"].as_array().into_iter().flatten() {
        let aliases = list(&command["aliases"]).unwrap_or_default();
        let alias_text =
            if aliases.is_empty() { String::new() } else { format!(" (also {aliases})") };
        let arguments = list(&command["arguments"]).unwrap_or_default();
        let arguments = if arguments.is_empty() {
            " (no arguments)".to_owned()
        } else {
            format!(": {arguments}")
        };
        outln!("  !{}{alias_text}{arguments}", command["name"].as_str().unwrap_or(""));
    }
}

/// What `providers test` does with outbound requests.
pub enum TestMode {
    /// Answer them from the recordings in this folder.
    Replay(PathBuf),
    /// Send them live and write them to this folder.
    Record { dir: PathBuf, overwrite: bool },
}

/// `ferret providers test`: the module's commands against recordings, or
/// recorded live; the exit status says whether anything failed.
pub async fn test(
    config: Config,
    module: &Path,
    mode: TestMode,
    commands: &[String],
    format: RunFormat,
) -> Result<ExitCode> {
    let recording = matches!(mode, TestMode::Record { .. });
    let tested = match mode {
        TestMode::Replay(dir) => replay::replay(config, module, &dir, commands).await?,
        TestMode::Record { dir, overwrite } => {
            replay::record(config, module, &dir, commands, overwrite).await?
        }
    };
    match format {
        RunFormat::Table => out!("{}", test_text(&tested, recording)),
        RunFormat::Json | RunFormat::Xsoar => {
            let document = test_json(&tested, matches!(format, RunFormat::Xsoar));
            outln!("{}", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(if tested.failed() { ExitCode::from(EXIT_ERROR_ENTRIES) } else { ExitCode::SUCCESS })
}

fn test_text(tested: &Report, recording: bool) -> String {
    let mut text = String::new();
    let (mut answered, mut unanswered, mut failed_calls) = (0, 0, 0);
    for run in &tested.runs {
        text.push_str(&format!("{}   ({})\n", run.planned.text, run.planned.origin));
        match &run.outcome {
            Ok(results) => {
                text.push_str(&report::table(results));
                text.push('\n');
                failed_calls += results
                    .iter()
                    .filter(|result| matches!(result.outcome, Outcome::Failed(_)))
                    .count();
            }
            Err(error) => text.push_str(&format!("refused: {error}\n")),
        }
        for exchange in &run.exchanges {
            let line = match &exchange.outcome {
                ExchangeOutcome::Replayed(file) => {
                    answered += 1;
                    format!("  {} <- {file}", exchange.request)
                }
                ExchangeOutcome::Recorded(path) => {
                    answered += 1;
                    format!("  {} -> {}", exchange.request, path.display())
                }
                ExchangeOutcome::NoRecording(why) => {
                    unanswered += 1;
                    format!("  error: {why}")
                }
                ExchangeOutcome::NotWritten(why) => {
                    unanswered += 1;
                    format!("  error: {}: not written: {why}", exchange.request)
                }
            };
            text.push_str(&line);
            text.push('\n');
        }
        text.push('\n');
    }
    if !tested.unused.is_empty() {
        text.push_str(&format!("Recordings no request used: {}\n", tested.unused.join(", ")));
    }
    for skipped in &tested.skipped {
        text.push_str(&format!("Skipped {skipped}\n"));
    }
    let lines = tested.runs.len();
    let (done, not_done) = if recording {
        ("exchanges recorded", "not written")
    } else {
        ("requests answered from recordings", "without a recording")
    };
    text.push_str(&format!(
        "{lines} command {}: {answered} {done}, {unanswered} {not_done}, {failed_calls} calls \
         failed in the sandbox: {}\n",
        if lines == 1 { "line" } else { "lines" },
        if tested.failed() { "FAILED" } else { "ok" }
    ));
    text
}

fn test_json(tested: &Report, xsoar_entries: bool) -> Value {
    let commands: Vec<Value> = tested
        .runs
        .iter()
        .map(|run| {
            let mut object = json!({"command": run.planned.text, "origin": run.planned.origin});
            match &run.outcome {
                Ok(results) if xsoar_entries => {
                    object["entries"] = Value::Array(xsoar::entries(results))
                }
                Ok(results) => object["results"] = report::json(results),
                Err(error) => object["error"] = json!(error),
            }
            object["requests"] =
                run.exchanges
                    .iter()
                    .map(|exchange| {
                        let mut request = json!({"request": exchange.request});
                        match &exchange.outcome {
                            ExchangeOutcome::Replayed(file) => request["recording"] = json!(file),
                            ExchangeOutcome::Recorded(path) => {
                                request["recorded"] = json!(path.display().to_string())
                            }
                            ExchangeOutcome::NoRecording(why)
                            | ExchangeOutcome::NotWritten(why) => request["error"] = json!(why),
                        }
                        request
                    })
                    .collect();
            object
        })
        .collect();
    json!({
        "commands": commands,
        "unused_recordings": tested.unused,
        "skipped_recordings": tested.skipped,
        "failed": tested.failed(),
    })
}
