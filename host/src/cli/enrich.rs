//! `ferret enrich`: every indicator of the inputs, enriched and scored.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use ferret_host::config::Config;
use ferret_host::dispatch::Ferret;
use ferret_host::enrich::{
    DEFAULT_PARALLEL, EnrichOptions, IndicatorReport, Reports, Summary, enrich_batch, sort_by_input,
};
use ferret_indicators::{Batch, Tlp};

use super::{EXIT_ERROR_ENTRIES, EnrichFormat};

/// Statuses that are failures of a provider, for the exit status.
const FAILED: &[&str] = &["provider-error", "sandbox-failure", "quota-exhausted"];

pub async fn enrich(
    config: &Config,
    files: &[PathBuf],
    format: EnrichFormat,
    providers: Option<Vec<String>>,
    tlp: Option<&str>,
    no_cache: bool,
) -> Result<ExitCode> {
    let tlp = tlp
        .map(|text| text.parse::<Tlp>().map_err(|error| anyhow!("--tlp: {error}")))
        .transpose()?;
    let inputs = read_inputs(files)?;
    let batches: Vec<Batch> =
        inputs.iter().map(|input| ferret_indicators::extract(input, None)).collect();
    drop(inputs);
    let ferret = Ferret::load(config).await?;
    // Enough indicators in progress to keep every provider's calls busy.
    let parallel = (config.scheduler.concurrency as usize * 4).max(DEFAULT_PARALLEL);
    let options = EnrichOptions { providers, tlp, use_cache: !no_cache, parallel };

    let total: usize = batches.iter().map(Batch::len).sum();
    let mut progress = Progress::new(&ferret, total as u64);
    let mut any_failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if matches!(format, EnrichFormat::Csv) {
        writeln!(out, "kind,value,score,verdict,disposition,providers,reasons")?;
    }
    let mut kept: Vec<IndicatorReport> = Vec::new();
    let mut summaries: Vec<Summary> = Vec::new();
    for batch in &batches {
        let mut write_error = None;
        let mut collected = Vec::new();
        let summary = enrich_batch(&ferret, batch, &options, |report| {
            any_failed |= report.providers.iter().any(|p| FAILED.contains(&p.status));
            progress.advance(&report);
            let written = match format {
                EnrichFormat::Ndjson => serde_json::to_string(&report)
                    .map_err(anyhow::Error::from)
                    .and_then(|line| Ok(writeln!(out, "{line}")?)),
                EnrichFormat::Csv => {
                    writeln!(out, "{}", csv_row(&report)).map_err(anyhow::Error::from)
                }
                EnrichFormat::Json | EnrichFormat::Table => {
                    collected.push(report);
                    Ok(())
                }
            };
            match written {
                Ok(()) => ControlFlow::Continue(()),
                Err(error) => {
                    write_error = Some(error);
                    ControlFlow::Break(())
                }
            }
        })
        .await?;
        if let Some(error) = write_error {
            // The reader went away (`ferret enrich ... | head`): done, quietly,
            // without asking for what nobody will read. Returning drops the
            // host, which writes the state file's queued rows and gives the
            // unused quota back.
            let reader_gone = error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe);
            if reader_gone {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(error.context("failed to write the report"));
        }
        sort_by_input(batch, &mut collected);
        kept.extend(collected);
        for warning in &summary.warnings {
            progress.println(&format!("warning: {warning}"));
        }
        summaries.push(summary);
    }
    progress.finish();

    match format {
        EnrichFormat::Json => {
            let report = Reports { summary: &summaries, indicators: &kept };
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        EnrichFormat::Table => writeln!(out, "{}", table(&kept))?,
        EnrichFormat::Ndjson | EnrichFormat::Csv => {}
    }
    out.flush()?;
    Ok(if any_failed { ExitCode::from(EXIT_ERROR_ENTRIES) } else { ExitCode::SUCCESS })
}

/// Every input's bytes: the files named, or standard input for none or
/// `-`.
fn read_inputs(files: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    files
        .iter()
        .map(|path| {
            if path == Path::new("-") {
                let mut input = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut input)
                    .context("failed to read standard input")?;
                Ok(input)
            } else {
                std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))
            }
        })
        .collect()
}

/// One line per provider: `VirusTotal: malicious` or `AbuseIPDB:
/// not-configured`.
fn provider_cells(report: &IndicatorReport) -> Vec<String> {
    report
        .providers
        .iter()
        .map(|provider| {
            let what = provider.verdict.unwrap_or(provider.status);
            let cached = if provider.cached { " (cached)" } else { "" };
            format!("{}: {what}{cached}", provider.brand)
        })
        .collect()
}

fn table(reports: &[IndicatorReport]) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "Indicator",
            "Kind",
            "Score",
            "Verdict",
            "Disposition",
            "Providers",
            "Reasons",
        ]);
    for report in reports {
        let why_not: Vec<String> = report
            .providers
            .iter()
            .filter(|provider| !matches!(provider.status, "answered" | "not-found"))
            .map(|provider| provider.detail.clone())
            .collect();
        let mut reasons = report.composite.reasons.clone();
        for line in why_not {
            if !reasons.contains(&line) {
                reasons.push(line);
            }
        }
        table.add_row([
            report.value.clone(),
            report.kind.to_owned(),
            report.composite.score.map(|score| score.to_string()).unwrap_or_else(|| "-".into()),
            ferret_host::store::verdict_name(report.composite.verdict).to_owned(),
            report.composite.disposition.as_str().to_owned(),
            provider_cells(report).join("\n"),
            reasons.join("\n"),
        ]);
    }
    table.to_string()
}

fn csv_row(report: &IndicatorReport) -> String {
    [
        report.kind.to_owned(),
        report.value.clone(),
        report.composite.score.map(|score| score.to_string()).unwrap_or_default(),
        ferret_host::store::verdict_name(report.composite.verdict).to_owned(),
        report.composite.disposition.as_str().to_owned(),
        provider_cells(report).join("; "),
        report.composite.reasons.join("; "),
    ]
    .iter()
    .map(|cell| csv_cell(cell))
    .collect::<Vec<_>>()
    .join(",")
}

/// A CSV cell, quoted when it must be (RFC 4180).
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The progress bar: shown on a terminal only, on standard error.
struct Progress<'a> {
    ferret: &'a Ferret,
    bar: ProgressBar,
    started: Instant,
    upstream_calls: BTreeMap<String, u64>,
    last_message: Option<Instant>,
}

impl<'a> Progress<'a> {
    fn new(ferret: &'a Ferret, total: u64) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        } else {
            ProgressBar::hidden()
        };
        Self {
            ferret,
            bar,
            started: Instant::now(),
            upstream_calls: BTreeMap::new(),
            last_message: None,
        }
    }

    fn advance(&mut self, report: &IndicatorReport) {
        self.bar.inc(1);
        if self.bar.is_hidden() {
            return;
        }
        for provider in &report.providers {
            if !provider.cached && !matches!(provider.status, "not-sent" | "not-configured") {
                *self.upstream_calls.entry(provider.provider.clone()).or_default() += 1;
            }
        }
        if self.last_message.is_some_and(|at| at.elapsed() < Duration::from_millis(250)) {
            return;
        }
        self.last_message = Some(Instant::now());
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let parts: Vec<String> = self
            .upstream_calls
            .iter()
            .map(|(id, calls)| {
                let left = match self.ferret.scheduler.quota_left(id) {
                    Some(left) => format!(", {left} left today"),
                    None => String::new(),
                };
                format!("{id} {:.1}/s{left}", *calls as f64 / seconds)
            })
            .collect();
        self.bar.set_message(parts.join(" | "));
    }

    fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
