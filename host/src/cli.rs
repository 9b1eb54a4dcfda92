//! The command line: its grammar and where each subcommand goes.

mod cache;
mod enrich;
mod extract;
mod providers;
mod run;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use ferret_host::config::Config;
use ferret_host::dispatch::Ferret;
use ferret_host::router::Registry;
use ferret_host::sandbox::Sandbox;

/// Exit status when a command ran but some result is an error entry.
pub const EXIT_ERROR_ENTRIES: u8 = 1;
/// Exit status when the command itself was refused.
pub const EXIT_REFUSED: u8 = 2;

#[derive(Parser)]
#[command(name = "ferret", version, about = "IOC enrichment with sandboxed threat-intel providers")]
pub struct Cli {
    /// Configuration file (default: $FERRET_CONFIG, else ./ferret.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// More log output on standard error (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// Ask the upstreams even when a cached result is still in force.
        #[arg(long)]
        no_cache: bool,
    },
    /// Enrich every indicator of alerts, e-mails, feeds or text, and score
    /// each: `ferret enrich examples/phishing.eml`.
    Enrich {
        /// Inputs; `-` or nothing for standard input.
        files: Vec<PathBuf>,
        /// Output format; `ndjson` prints each indicator as it completes.
        #[arg(long, value_enum, default_value_t = EnrichFormat::Table)]
        format: EnrichFormat,
        /// Only these providers (ids or brands, comma-separated).
        #[arg(long, value_delimiter = ',')]
        providers: Option<Vec<String>>,
        /// The input's TLP label (clear, green, amber, amber+strict, red),
        /// when the input does not carry one.
        #[arg(long)]
        tlp: Option<String>,
        /// Ask the upstreams even when a cached result is still in force.
        #[arg(long)]
        no_cache: bool,
    },
    /// The result cache: its size, or purging it.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Provider calls over a period, from the call ledger.
    Stats {
        /// How far back: `90s`, `30m`, `12h`, `7d`, `2w`.
        #[arg(long, default_value = "7d")]
        since: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
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
pub enum ProvidersAction {
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

#[derive(Subcommand)]
pub enum CacheAction {
    /// Rows per provider, hits and misses, the file's size.
    Stats {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Delete cached results.
    Purge {
        /// Only this provider's.
        #[arg(long)]
        provider: Option<String>,
        /// Only those past their lifetime.
        #[arg(long)]
        expired: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum EnrichFormat {
    Table,
    Json,
    Ndjson,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RunFormat {
    Xsoar,
    Json,
    Table,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Json,
    Table,
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Run { command, format, providers, no_cache } => {
            run::run_command(&config, &command, format, &providers, no_cache).await
        }
        Command::Enrich { files, format, providers, tlp, no_cache } => {
            enrich::enrich(&config, &files, format, providers, tlp.as_deref(), no_cache).await
        }
        Command::Cache { action: CacheAction::Stats { format } } => cache::stats(&config, format),
        Command::Cache { action: CacheAction::Purge { provider, expired } } => {
            cache::purge(&config, provider.as_deref(), expired)
        }
        Command::Stats { since, format } => stats::stats(&config, &since, format),
        Command::Providers { action: ProvidersAction::List { format } } => {
            let ferret = Ferret::load(&config).await?;
            providers::print_providers(&ferret.registry, format);
            Ok(ExitCode::SUCCESS)
        }
        Command::Providers { action: ProvidersAction::Inspect { module, format } } => {
            let sandbox = Sandbox::new(&config.sandbox, Some(&config.cache_dir()))?;
            let registry = Registry::load_files(&sandbox, &config, &[module]).await?;
            providers::print_providers(&registry, format);
            Ok(ExitCode::SUCCESS)
        }
        Command::Extract { file, format } => extract::extract(&config, file.as_deref(), format),
    }
}
