//! The command line: its grammar and where each subcommand goes.

/// `println!` for a command's output: when the reader has gone away
/// (`ferret providers list | head`), the program ends quietly with success,
/// as command-line tools do, rather than panicking.
macro_rules! outln {
    () => {
        $crate::cli::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for a command's output; see [`outln`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!($($arg)*))
    };
}

mod cache;
mod enrich;
mod exec;
mod extract;
mod integration;
mod providers;
mod run;
mod serve;
mod stats;

use std::io::Write;
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
    /// Serve XSOAR commands and enrichment over HTTP: POST /v1/execute,
    /// POST /v1/enrich, GET /v1/commands, GET /v1/health, GET /metrics.
    /// Stops on SIGINT or SIGTERM after answering the requests in flight.
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
    /// Test a module against recorded exchanges (--replay DIR), or record
    /// them live (--record DIR).
    #[command(long_about = TEST_HELP, after_help = TEST_EXAMPLES)]
    Test {
        /// The module.
        module: PathBuf,
        /// Answer outbound requests from the recordings (*.json) in DIR;
        /// nothing leaves the machine and no key is needed.
        #[arg(long, value_name = "DIR", required_unless_present = "record")]
        replay: Option<PathBuf>,
        /// Send requests live and write each exchange to DIR, credentials
        /// removed.
        #[arg(long, value_name = "DIR", conflicts_with = "replay")]
        record: Option<PathBuf>,
        /// An XSOAR command line to run (repeatable), e.g.
        /// '!abuseipdb-check-ip ip=1.2.3.4'.
        #[arg(long = "command", value_name = "LINE")]
        commands: Vec<String>,
        /// With --record: replace recordings that exist.
        #[arg(long, requires = "record")]
        overwrite: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = RunFormat::Table)]
        format: RunFormat,
    },
}

const TEST_HELP: &str = "\
Run a module's commands under the production sandbox (same limits, same
host checks), with its outbound HTTP answered from recorded exchanges
(--replay DIR) or sent live and recorded (--record DIR).

A recording is a JSON file in the shape of tests/data/samples/*/*.json:
`request` {method, base_url, path, query, headers_required, body?}, then
`status`, `headers` and `body`, and optionally `command`, the XSOAR command
line that made it.

Replay answers a request with a recording of the same method, path (under
the base URL) and query, credential parameters left out, and the same body
when the recording has one; the host is not compared. Several recordings of
one request answer it in turn, in file-name order. A request no recording
matches fails, naming the closest recording and how it differs. Secrets
need not be set, and documentation addresses count as routable.

The lines that run: each --command; without any, each distinct `command`
field in the recordings, and for a recording without one, every command
taking the first indicator found in its request (path segments, also read
as base64url, then query values, then body strings).

Record runs each --command live with the configured secrets and writes one
file per exchange, named after the command and indicator
(abuseipdb-check-ip_8.8.8.8.json, then _01, _02... when a call makes
several requests), credentials and any copy of a secret removed. An
existing file is not replaced without --overwrite.

Exit status: 0 when every request was answered and no call failed in the
sandbox; 1 when a request had no recording, a call failed in the sandbox, a
command line was refused or a recording could not be written; 2 when the
test could not start (unreadable folder or recording, a module that does
not load, a command line that does not parse).";

const TEST_EXAMPLES: &str = "\
Examples:
  ferret providers test target/providers/virustotal.wasm \\
      --replay tests/data/samples/virustotal
  ferret providers test my.wasm --replay recordings/ \\
      --command '!abuseipdb-check-ip ip=203.0.113.45 days=90'
  FERRET_ABUSEIPDB_API_KEY=... ferret providers test my.wasm \\
      --record recordings/ --command '!abuseipdb-check-ip ip=8.8.8.8'";
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
            cache::purge(&config, provider.as_deref(), expired).await
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
        Command::Providers {
            action: ProvidersAction::Test { module, replay, record, commands, overwrite, format },
        } => {
            let mode = match (replay, record) {
                (Some(dir), _) => providers::TestMode::Replay(dir),
                (None, Some(dir)) => providers::TestMode::Record { dir, overwrite },
                (None, None) => anyhow::bail!("pass --replay DIR or --record DIR"),
            };
            providers::test(config, &module, mode, &commands, format).await
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

/// The providers under `config`, compiled (or taken from the module
/// cache), for commands that describe them rather than call them.
pub async fn load_registry(config: &Config) -> Result<Registry> {
    let sandbox = Sandbox::new(&config.sandbox, Some(&config.cache_dir()))?;
    Registry::load(&sandbox, config).await
}

/// Writes command output to standard output; see [`outln`].
pub fn write_out(text: std::fmt::Arguments) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        // The commands that print through here do so once their work is
        // done; ending at once skips only dropping the host, so the state
        // file's last few milliseconds of rows and any unused quota block
        // are lost. `enrich`, which prints as it goes, writes for itself
        // and stops its batch cleanly instead.
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: failed to write to standard output: {error}");
        std::process::exit(i32::from(EXIT_REFUSED));
    }
}
