//! The command line: its grammar and where each subcommand goes.

mod exec;
mod extract;
mod integration;
mod providers;
mod run;
mod serve;

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
    /// Serve XSOAR commands over HTTP: POST /v1/execute, GET /v1/commands,
    /// GET /v1/health. Stops on SIGINT or SIGTERM after answering the
    /// requests in flight.
    Serve {
        /// Address and port (default: [serve] listen, else 127.0.0.1:8700).
        /// Any address but loopback needs a token.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Read one request `{"command": ..., "args": {...}}` from standard
    /// input and print the body POST /v1/execute would answer; exit status
    /// 2 when the request is refused.
    Exec,
    /// The Cortex XSOAR integration YAML for the enabled providers.
    Integration {
        #[command(subcommand)]
        action: IntegrationAction,
    },
}

#[derive(Subcommand)]
pub enum IntegrationAction {
    /// One integration YAML: `Ferret` with every enabled provider's
    /// commands, or one provider under its vendor's brand.
    Yaml {
        /// Only this provider (id or brand), named after the vendor's
        /// brand, e.g. `abuseipdb` gives the `AbuseIPDB` integration.
        #[arg(long)]
        brand: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Inline this bridge script (XSOAR's unified form, ready to
        /// upload); without it the script is `-`, kept in a file beside.
        #[arg(long)]
        script: Option<PathBuf>,
    },
    /// Write `Ferret.yml` and `brands/<Brand>.yml` for every enabled
    /// provider into a folder, inlining the folder's `ferret.py` if any.
    Write {
        /// The folder.
        #[arg(default_value = "integration")]
        dir: PathBuf,
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
        Command::Run { command, format, providers } => {
            run::run_command(&config, &command, format, &providers).await
        }
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
        Command::Serve { listen } => serve::serve(&config, listen.as_deref()).await,
        Command::Exec => exec::exec(&config).await,
        Command::Integration { action: IntegrationAction::Yaml { brand, output, script } } => {
            integration::yaml(&config, brand.as_deref(), output.as_deref(), script.as_deref()).await
        }
        Command::Integration { action: IntegrationAction::Write { dir } } => {
            integration::write_all(&config, &dir).await
        }
    }
}
