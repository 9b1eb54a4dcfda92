//! The `ferret` command line: run XSOAR commands against sandboxed
//! threat-intel providers, list and inspect providers, and extract
//! indicators from text.

#![forbid(unsafe_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use ferret_host::command::parse_command_line;
use ferret_host::config::Config;
use ferret_host::dispatch::{Ferret, Outcome, kind_name};
use ferret_host::output::{report, xsoar};
use ferret_host::router::Registry;
use ferret_host::sandbox::Sandbox;

/// Exit status when a command ran but some result is an error entry.
const EXIT_ERROR_ENTRIES: u8 = 1;
/// Exit status when the command itself was refused.
const EXIT_REFUSED: u8 = 2;

#[derive(Parser)]
#[command(name = "ferret", version, about = "IOC enrichment with sandboxed threat-intel providers")]
struct Cli {
    /// Configuration file (default: $FERRET_CONFIG, else ./ferret.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// More log output on standard error (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one XSOAR command, e.g. `ferret run '!ip 8.8.8.8'`.
    Run {
        /// The command line, with or without the leading `!`.
        command: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = RunFormat::Table)]
        format: RunFormat,
        /// Use only this module file (repeatable), under the same sandbox:
        /// how a plugin author tries a module.
        #[arg(long = "provider")]
        providers: Vec<PathBuf>,
    },
    /// List or inspect providers.
    Providers {
        #[command(subcommand)]
        action: ProvidersAction,
    },
    /// Print the indicators found in a file (or standard input) and the
    /// policy gate's decision for each.
    Extract {
        /// The input: an alert (JSON), an e-mail (.eml), a CSV feed or
        /// text; `-` or nothing for standard input.
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

#[derive(Subcommand)]
enum ProvidersAction {
    /// Every loaded provider: id, version, commands, hosts, secrets, limits.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// One module file's manifest.
    Inspect {
        /// The module.
        module: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RunFormat {
    Xsoar,
    Json,
    Table,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Json,
    Table,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: failed to start the async runtime: {error}");
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_REFUSED)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Run { command, format, providers } => {
            run_command(&config, &command, format, &providers).await
        }
        Command::Providers { action: ProvidersAction::List { format } } => {
            let ferret = Ferret::load(&config).await?;
            print_providers(&ferret.registry, format);
            Ok(ExitCode::SUCCESS)
        }
        Command::Providers { action: ProvidersAction::Inspect { module, format } } => {
            let sandbox = Sandbox::new(&config.sandbox, Some(&config.cache_dir()))?;
            let registry = Registry::load_files(&sandbox, &config, &[module]).await?;
            print_providers(&registry, format);
            Ok(ExitCode::SUCCESS)
        }
        Command::Extract { file, format } => extract(&config, file.as_deref(), format),
    }
}

async fn run_command(
    config: &Config,
    text: &str,
    format: RunFormat,
    modules: &[PathBuf],
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
    let results = match ferret.execute(&line).await {
        Ok(results) => results,
        Err(error) => return Ok(refuse(&error.to_string(), format)),
    };
    match format {
        RunFormat::Xsoar => {
            println!("{}", serde_json::to_string_pretty(&xsoar::entries(&results))?)
        }
        RunFormat::Json => println!("{}", serde_json::to_string_pretty(&report::json(&results))?),
        RunFormat::Table => println!("{}", report::table(&results)),
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
        RunFormat::Xsoar => println!("{}", json!([xsoar::error_entry(message)])),
        _ => eprintln!("error: {message}"),
    }
    ExitCode::from(EXIT_REFUSED)
}

fn print_providers(registry: &Registry, format: ListFormat) {
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
                format!("not configured: set {}", provider.missing_secrets.join(", "))
            };
            json!({
                "id": manifest.id,
                "brand": manifest.brand,
                "version": manifest.version,
                "description": manifest.description,
                "module": provider.module.origin.display().to_string(),
                "status": status,
                "base_url": provider.grant.base_url.as_str(),
                "hosts": manifest.hosts,
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
            println!("{}", serde_json::to_string_pretty(&listing).expect("JSON values serialise"))
        }
        ListFormat::Table => {
            if listing.is_empty() {
                println!("No providers loaded. `cargo xtask build` builds the built-in ones.");
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
    println!("{} {} ({}) - {}", text("id"), text("version"), text("brand"), text("status"));
    println!("  {}", text("description"));
    println!("  module:   {}", text("module"));
    println!("  base URL: {}", text("base_url"));
    let hosts = list(&provider["hosts"]).unwrap_or_default();
    if !hosts.is_empty() {
        println!("  hosts:    {hosts}");
    }
    for secret in provider["secrets"].as_array().into_iter().flatten() {
        println!(
            "  secret:   {} ({})",
            secret["name"].as_str().unwrap_or(""),
            secret["env"].as_str().unwrap_or("")
        );
    }
    let limits = &provider["limits"];
    let limit = |key: &str| limits[key].as_u64().map_or("-".to_owned(), |n| n.to_string());
    println!(
        "  limits:   {}/s, {}/min, {}/day",
        limit("per_second"),
        limit("per_minute"),
        limit("per_day")
    );
    for command in provider["commands"].as_array().into_iter().flatten() {
        let aliases = list(&command["aliases"]).unwrap_or_default();
        let alias_text =
            if aliases.is_empty() { String::new() } else { format!(" (also {aliases})") };
        println!(
            "  !{}{alias_text}: {}",
            command["name"].as_str().unwrap_or(""),
            list(&command["arguments"]).unwrap_or_default()
        );
    }
}

fn extract(config: &Config, file: Option<&Path>, format: ListFormat) -> Result<ExitCode> {
    let mut input = Vec::new();
    match file {
        None => {
            std::io::stdin().read_to_end(&mut input).context("failed to read standard input")?
        }
        Some(path) if path == Path::new("-") => {
            std::io::stdin().read_to_end(&mut input).context("failed to read standard input")?
        }
        Some(path) => {
            input = std::fs::read(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            input.len()
        }
    };
    let gate = ferret_indicators::policy::Gate::new(ferret_indicators::policy::GatePolicy {
        allow_documentation_ranges: config.policy.allow_documentation_ranges,
    });
    let batch = ferret_indicators::extract(&input, None);
    let rows: Vec<Value> = batch
        .entries()
        .iter()
        .map(|entry| {
            let gate_decision = match gate.non_routable(&entry.indicator) {
                Some(reason) => format!("not sent: {reason}"),
                None => "send".to_owned(),
            };
            let mut row = serde_json::to_value(entry).unwrap_or(Value::Null);
            row["gate"] = json!(gate_decision);
            row
        })
        .collect();
    match format {
        ListFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        ListFormat::Table => {
            let mut table = comfy_table::Table::new();
            table
                .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_header(["Kind", "Value", "Original", "Found in", "Gate"]);
            for entry in batch.entries() {
                let first = entry.occurrences.first();
                let gate_decision = match gate.non_routable(&entry.indicator) {
                    Some(reason) => format!("not sent: {reason}"),
                    None => "send".to_owned(),
                };
                table.add_row([
                    entry.indicator.kind.as_str().to_owned(),
                    entry.indicator.value.clone(),
                    first.map(|o| o.original.clone()).unwrap_or_default(),
                    first.map(|o| o.location.to_string()).unwrap_or_default(),
                    gate_decision,
                ]);
            }
            println!("{table}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERRET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
