//! Testing a provider module without keys or network: its commands run in
//! the production sandbox with outbound HTTP answered from recorded
//! exchanges ([`replay`]), or run live with every exchange written down as
//! such a recording ([`record`]).
//!
//! Which command lines run in a replay, in this order of precedence:
//!
//! 1. the lines given (`--command`), when any;
//! 2. otherwise each distinct `command` field found in the recordings;
//! 3. and, for each recording without one, a line derived from its
//!    request: the first value in its path segments (each also read as
//!    base64url, as VirusTotal names URLs), then its query values, then the
//!    strings of its body, that is an indicator of a kind some command of
//!    the module takes. Every command taking that kind runs with it, once
//!    per such recording. A recording with no such value runs nothing and
//!    is listed as skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_json::Value;

use crate::command::{CommandLine, parse_command_line};
use crate::config::{Config, RateLimitOverride};
use crate::dispatch::{CallResult, Ferret, Outcome, wit_kind};
use crate::router::{Registry, needs_base_url};
use crate::sandbox::{
    Kept, Manifest, NamedRecording, Recorder, Replayer, Sandbox, Transport, missing_secrets,
};
use crate::schedule::{CallOptions, Priority};

/// The value a replay gives secrets the configuration does not hold, so
/// that the module counts as configured. Nothing is sent anywhere.
const PLACEHOLDER_SECRET: &str = "ferret-replay-placeholder";

/// Longest file name stem a recording gets from its command and indicator.
const MAX_STEM: usize = 100;

/// A command line to run and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The line as it runs.
    pub text: String,
    /// `--command`, `the command of x.json` or `derived from x.json`.
    pub origin: String,
}

/// One command line run.
#[derive(Debug)]
pub struct LineRun {
    /// What ran, and why.
    pub planned: Planned,
    /// The results, or why the line was refused.
    pub outcome: Result<Vec<CallResult>, String>,
    /// Its outbound requests, in order.
    pub exchanges: Vec<Exchange>,
}

/// One outbound request of a line.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `GET /path?query`, without credentials.
    pub request: String,
    /// What answered it.
    pub outcome: ExchangeOutcome,
}

/// What became of an outbound request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeOutcome {
    /// Answered by this recording file.
    Replayed(String),
    /// No recording matched; the text names the closest and how it differs.
    NoRecording(String),
    /// Answered live and written to this file.
    Recorded(PathBuf),
    /// Answered live, but not written: the text says why.
    NotWritten(String),
}

/// Everything a replay or a recording run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Each line, in the order run.
    pub runs: Vec<LineRun>,
    /// Recordings that answered no request (replay only).
    pub unused: Vec<String>,
    /// Recordings no line could be derived from, with the reason.
    pub skipped: Vec<String>,
}

impl Report {
    /// Whether anything went wrong: a line refused, a call that failed in
    /// the sandbox, a request without a recording, a recording not written.
    /// An error the module reported for a recorded error answer is not a
    /// failure: it is what the recording is for.
    pub fn failed(&self) -> bool {
        self.runs.iter().any(|run| {
            let failed_call = match &run.outcome {
                Err(_) => true,
                Ok(results) => {
                    results.iter().any(|result| matches!(result.outcome, Outcome::Failed(_)))
                }
            };
            failed_call
                || run.exchanges.iter().any(|exchange| {
                    matches!(
                        exchange.outcome,
                        ExchangeOutcome::NoRecording(_) | ExchangeOutcome::NotWritten(_)
                    )
                })
        })
    }
}

/// Runs `module`'s commands with outbound HTTP answered from the
/// recordings in `dir`. `commands` are the lines to run; when empty they
/// come from the recordings (see the module documentation).
///
/// Secrets the configuration lacks get a placeholder, and documentation
/// addresses (192.0.2.0/24 and the like, which recordings use as
/// placeholders) count as routable: nothing leaves the machine. For the
/// same reason the module's rate limits and daily quota do not apply, and
/// the replay keeps its own throwaway state file: it neither reads the
/// operator's cache nor spends, caches or logs anything in it.
pub async fn replay(
    mut config: Config,
    module: &Path,
    dir: &Path,
    commands: &[String],
) -> Result<Report> {
    let replayer = Arc::new(Replayer::load(dir)?);
    let given = plan_given(commands)?;
    let sandbox = Sandbox::new(&config.sandbox, Some(&config.cache_dir()))?
        .with_transport(Transport::Replay(Arc::clone(&replayer)));
    let loaded = load_module(&sandbox, module).await?;
    let manifest = loaded.manifest.clone();
    for spec in &manifest.secrets {
        if config.secret(&manifest.id, &spec.name).is_none() {
            let table = config.providers.entry(manifest.id.clone()).or_default();
            table.secrets.insert(spec.name.clone(), PLACEHOLDER_SECRET.to_owned());
        }
    }
    config.policy.allow_documentation_ranges = true;
    let state = tempfile::tempdir().context("failed to create a state folder for the replay")?;
    config.state_file = Some(state.path().join("replay.sqlite3"));
    config.providers.entry(manifest.id.clone()).or_default().limits = Some(RateLimitOverride {
        per_second: Some(u32::MAX),
        per_minute: Some(u32::MAX),
        per_day: Some(u32::MAX),
    });
    let registry = Registry::from_modules(vec![loaded], &config)?;
    let ferret = Ferret::assemble(sandbox, registry, &config)?;

    let (plan, skipped) = if given.is_empty() {
        plan_from_recordings(replayer.recordings(), &manifest)
    } else {
        (given, Vec::new())
    };
    let mut report = Report { skipped, ..Report::default() };
    for planned in plan {
        let outcome = run_line(&ferret, &planned.text).await;
        let exchanges = replayer
            .take_log()
            .into_iter()
            .map(|seen| Exchange {
                request: seen.request,
                outcome: match seen.answer {
                    Ok(file) => ExchangeOutcome::Replayed(file),
                    Err(why) => ExchangeOutcome::NoRecording(why),
                },
            })
            .collect();
        report.runs.push(LineRun { planned, outcome, exchanges });
    }
    report.unused = replayer.unused();
    Ok(report)
}

/// Runs `commands` live against `module`'s upstream, with the secrets the
/// configuration holds, and writes each exchange to `dir` as a recording
/// that [`replay`] answers the same lines from. Credentials are taken out
/// of every recording. A file that exists is not replaced unless
/// `overwrite` is set.
pub async fn record(
    config: Config,
    module: &Path,
    dir: &Path,
    commands: &[String],
    overwrite: bool,
) -> Result<Report> {
    let plan = plan_given(commands)?;
    if plan.is_empty() {
        bail!("recording needs at least one command line to run (--command)");
    }
    let recorder = Arc::new(Recorder::new());
    let sandbox = Sandbox::new(&config.sandbox, Some(&config.cache_dir()))?
        .with_transport(Transport::Record(Arc::clone(&recorder)));
    let loaded = load_module(&sandbox, module).await?;
    let missing = missing_secrets(&loaded.manifest, &config);
    if !missing.is_empty() {
        bail!(
            "recording {} needs its secrets: set {} or the [providers.{}] table in ferret.toml",
            loaded.manifest.id,
            missing.join(" and "),
            loaded.manifest.id
        );
    }
    if needs_base_url(&loaded.manifest, &config) {
        bail!(
            "recording {id} needs its upstream's address: set base_url in the [providers.{id}] \
             table of ferret.toml",
            id = loaded.manifest.id
        );
    }
    let registry = Registry::from_modules(vec![loaded], &config)?;
    let ferret = Ferret::assemble(sandbox, registry, &config)?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create recordings folder {}", dir.display()))?;

    let mut report = Report::default();
    for planned in plan {
        let outcome = run_line(&ferret, &planned.text).await;
        let kept = recorder.take();
        let results = outcome.as_ref().map(Vec::as_slice).unwrap_or_default();
        let exchanges = write_recordings(dir, &planned.text, kept, results, overwrite);
        report.runs.push(LineRun { planned, outcome, exchanges });
    }
    Ok(report)
}

async fn load_module(sandbox: &Sandbox, module: &Path) -> Result<crate::sandbox::Module> {
    let bytes = std::fs::read(module)
        .with_context(|| format!("failed to read provider module {}", module.display()))?;
    sandbox.load(&bytes, module).await
}

/// The given lines, each checked to parse before anything runs.
fn plan_given(commands: &[String]) -> Result<Vec<Planned>> {
    commands
        .iter()
        .map(|text| {
            parse_command_line(text).with_context(|| format!("command line `{text}`"))?;
            Ok(Planned { text: text.trim().to_owned(), origin: "--command".to_owned() })
        })
        .collect()
}

/// Runs one line, never from the cache: a replay or a recording is about
/// the exchanges the module makes.
async fn run_line(ferret: &Ferret, text: &str) -> Result<Vec<CallResult>, String> {
    let line: CommandLine = parse_command_line(text).map_err(|error| error.to_string())?;
    let options = CallOptions { priority: Priority::Interactive, use_cache: false };
    ferret.execute_with(&line, options).await.map_err(|error| error.to_string())
}

/// The lines a set of recordings calls for, and the recordings that call
/// for none (see the module documentation for the rule).
pub fn plan_from_recordings(
    recordings: &[NamedRecording],
    manifest: &Manifest,
) -> (Vec<Planned>, Vec<String>) {
    let mut plan = Vec::new();
    let mut skipped = Vec::new();
    let mut commands_seen = BTreeSet::new();
    for named in recordings {
        if let Some(text) = &named.recording.command {
            if commands_seen.insert(text.trim().to_owned()) {
                plan.push(Planned {
                    text: text.trim().to_owned(),
                    origin: format!("the command of {}", named.name),
                });
            }
            continue;
        }
        let derived = derive_lines(&named.recording.request, manifest);
        if derived.is_empty() {
            skipped.push(format!(
                "{}: its request holds no indicator that a command of {} takes; add a \
                 \"command\" field or pass --command",
                named.name, manifest.id
            ));
        }
        plan.extend(
            derived
                .into_iter()
                .map(|text| Planned { text, origin: format!("derived from {}", named.name) }),
        );
    }
    (plan, skipped)
}

/// One line per command that takes the first indicator found in `request`.
fn derive_lines(request: &crate::sandbox::RecordedRequest, manifest: &Manifest) -> Vec<String> {
    for value in candidate_values(request) {
        let Ok(found) = ferret_indicators::classify(&value) else { continue };
        let kind = wit_kind(found.kind);
        let lines: Vec<String> = manifest
            .commands
            .iter()
            .filter(|spec| spec.kinds.contains(&kind))
            .filter_map(|spec| {
                let argument = spec.indicator_argument.as_ref()?;
                Some(format!("!{} {argument}={}", spec.name, quote(&found.value)))
            })
            .collect();
        if !lines.is_empty() {
            return lines;
        }
    }
    Vec::new()
}

/// Values of a recorded request that may be its indicator, in the order
/// they are tried.
fn candidate_values(request: &crate::sandbox::RecordedRequest) -> Vec<String> {
    let mut values = Vec::new();
    for segment in request.path.split('/').filter(|segment| !segment.is_empty()) {
        let decoded = percent_decode(segment);
        values.push(decoded.clone());
        let trimmed = decoded.trim_end_matches('=');
        if let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed)
            && let Ok(text) = String::from_utf8(bytes)
        {
            values.push(text);
        }
    }
    for value in request.query.values() {
        collect_strings(value, &mut values);
    }
    if let Some(body) = &request.body {
        collect_strings(body, &mut values);
    }
    values
}

fn collect_strings(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::String(text) => into.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, into)),
        Value::Object(fields) => fields.values().for_each(|field| collect_strings(field, into)),
        _ => {}
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| text.to_owned())
}

/// A value as a command line argument, quoted when it must be.
fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.starts_with('[')
        && !value.chars().any(|c| c.is_whitespace() || c == '"' || c == '\'');
    if plain {
        return value.to_owned();
    }
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Writes the exchanges of one line, one file each, named after the
/// command and indicator of the call that made them.
fn write_recordings(
    dir: &Path,
    line: &str,
    kept: Vec<Kept>,
    results: &[CallResult],
    overwrite: bool,
) -> Vec<Exchange> {
    let line_name = parse_command_line(line).map(|line| line.name).unwrap_or_default();
    let mut calls: Vec<(u64, Vec<Kept>)> = Vec::new();
    for exchange in kept {
        match calls.iter_mut().find(|(serial, _)| *serial == exchange.serial) {
            Some((_, group)) => group.push(exchange),
            None => calls.push((exchange.serial, vec![exchange])),
        }
    }

    let mut written = Vec::new();
    for (serial, group) in calls {
        let result = results.iter().find(|result| result.stats.serial == serial);
        let command = result.map_or(line_name.as_str(), |result| result.command.as_str());
        let stem = match result.and_then(|result| result.indicator.as_ref()) {
            Some(indicator) => file_stem(&format!("{command}_{}", indicator.value)),
            None => file_stem(command),
        };
        let width = group.len().to_string().len().max(2);
        let count = group.len();
        for (index, mut exchange) in group.into_iter().enumerate() {
            let name = if count == 1 {
                format!("{stem}.json")
            } else {
                format!("{stem}_{:0width$}.json", index + 1)
            };
            let path = dir.join(name);
            exchange.recording.command = Some(line.to_owned());
            let outcome = match write_file(&path, &exchange, overwrite) {
                Ok(()) => ExchangeOutcome::Recorded(path),
                Err(why) => ExchangeOutcome::NotWritten(why),
            };
            written.push(Exchange { request: exchange.request, outcome });
        }
    }
    written
}

fn write_file(path: &Path, exchange: &Kept, overwrite: bool) -> Result<(), String> {
    let mut text =
        serde_json::to_string_pretty(&exchange.recording).expect("a recording serialises");
    text.push('\n');
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{} exists; pass --overwrite to replace it", path.display())
        } else {
            format!("failed to create {}: {error}", path.display())
        }
    })?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|error| format!("failed to write {}: {error}", path.display()))
}

/// A file name stem from `text`: letters, digits, `.` and `-` kept, any
/// other character `_`; a long stem is cut and ends in a hash of the whole
/// text, so that two long URLs sharing a beginning do not collide.
fn file_stem(text: &str) -> String {
    let stem: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
        .collect();
    if stem.len() <= MAX_STEM {
        return stem;
    }
    // FNV-1a: stable across runs and platforms, unlike std's hasher.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}_{:08x}", &stem[..MAX_STEM - 9], hash as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_becomes_a_file_name() {
        assert_eq!(
            file_stem("vt-url-scan_http://x.example/a?b=c"),
            "vt-url-scan_http___x.example_a_b_c"
        );
        let long = format!("vt-url-scan_http://x.example/{}", "a".repeat(200));
        let stem = file_stem(&long);
        assert_eq!(stem.len(), MAX_STEM);
        // The same text gives the same name; another one another.
        assert_eq!(stem, file_stem(&long));
        assert_ne!(stem, file_stem(&format!("{long}b")));
    }

    #[test]
    fn values_that_need_it_are_quoted() {
        assert_eq!(quote("8.8.8.8"), "8.8.8.8");
        assert_eq!(quote("http://x/a b"), "\"http://x/a b\"");
        assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
        let line = format!("!vt-url-scan url={}", quote("http://x/a \"b\""));
        let parsed = parse_command_line(&line).unwrap();
        assert_eq!(
            parsed.arguments,
            [("url".to_owned(), crate::command::RawValue::Text("http://x/a \"b\"".into()))]
        );
    }

    #[test]
    fn a_base64url_path_segment_is_a_candidate() {
        let request: crate::sandbox::RecordedRequest = serde_json::from_value(serde_json::json!({
            "method": "GET", "base_url": "https://www.virustotal.com",
            "path": "/api/v3/urls/aHR0cDovL2xvZ2luLXZlcmlmeS5leGFtcGxlLmNvbS9hY2NvdW50L3VwZGF0ZS5waHA",
        }))
        .unwrap();
        let values = candidate_values(&request);
        assert!(
            values.contains(&"http://login-verify.example.com/account/update.php".to_owned()),
            "{values:?}"
        );
    }
}
