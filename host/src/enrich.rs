//! Batch enrichment, Ferret's main job: an input (alert, e-mail, feed,
//! text) in, one scored report per indicator out.
//!
//! The indicators are extracted and deduplicated, each is offered to every
//! enabled provider that has a reputation command for its kind (`ip`,
//! `domain`, `url`, `file`, `email`), under the policy gate and the
//! scheduler, and the answers are combined into a composite score. The
//! front ends call [`enrich_each`], which hands over each indicator's
//! report as soon as it is complete, so that a feed of any length streams
//! in bounded memory; [`enrich`] collects them for callers that want one
//! report.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use anyhow::Result;
use ferret_indicators::policy::Decision;
use ferret_indicators::{Batch, Entry, Tlp};
use futures::StreamExt;
use futures::future::join_all;
use serde::Serialize;

use crate::command::{CommandLine, RawValue, bind_arguments};
use crate::dispatch::{
    CallResult, Ferret, Outcome, kind_name, outcome_name, provider_policy, wit_kind,
};
use crate::output::error_message;
use crate::output::xsoar::dbot_type;
use crate::router::Provider;
use crate::sandbox::{CommandRequest, Indicator, IndicatorKind};
use crate::schedule::{CallOptions, Priority};
use crate::scoring::{Composite, Evidence, composite};
use crate::store::verdict_name;

/// Indicators in progress at once, by default. Each waits on its
/// providers' lanes, which bound the calls actually running.
pub const DEFAULT_PARALLEL: usize = 64;

/// How to enrich.
#[derive(Debug, Clone)]
pub struct EnrichOptions {
    /// Only these providers (ids or brands); all enabled ones when `None`.
    pub providers: Option<Vec<String>>,
    /// The input's TLP label, if the caller knows it; a label found in the
    /// input itself counts too, the more restrictive winning.
    pub tlp: Option<Tlp>,
    /// Whether cached results may answer.
    pub use_cache: bool,
    /// Indicators in progress at once.
    pub parallel: usize,
}

impl Default for EnrichOptions {
    fn default() -> Self {
        Self { providers: None, tlp: None, use_cache: true, parallel: DEFAULT_PARALLEL }
    }
}

/// One indicator's report.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorReport {
    /// Its kind: `ipv4`, `domain`, `sha256`...
    pub kind: &'static str,
    /// The normalised value.
    pub value: String,
    /// How often it occurred in the input.
    pub occurrences: usize,
    /// Where it first occurred.
    pub first_seen: String,
    /// The composite judgement.
    #[serde(flatten)]
    pub composite: Composite,
    /// Each provider asked, or why it was not.
    pub providers: Vec<ProviderReport>,
}

/// One provider's part in an indicator's report.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderReport {
    /// Provider id.
    pub provider: String,
    /// Brand.
    pub brand: String,
    /// `answered`, `not-found`, `not-sent`, `not-configured`,
    /// `quota-exhausted`, `provider-error` or `sandbox-failure`.
    pub status: &'static str,
    /// The provider's verdict, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<&'static str>,
    /// The provider's own 0-100 figure, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    /// Its reason, or why it was not asked or failed.
    pub detail: String,
    /// Answered from the cache (or by an identical call in flight).
    pub cached: bool,
}

/// What a whole run came to.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// How the input was read: `text`, `json`, `email`, `csv`.
    pub format: ferret_indicators::Format,
    /// The TLP label in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
    /// What extraction wants the operator to know.
    pub warnings: Vec<String>,
    /// Distinct indicators enriched.
    pub indicators: usize,
    /// Wall-clock time.
    #[serde(serialize_with = "milliseconds")]
    pub elapsed: Duration,
}

/// A whole report: every indicator and the summary. It serialises as
/// [`Reports`] of its one input, the JSON `ferret enrich --format json`
/// prints.
#[derive(Debug, Clone)]
pub struct Report {
    /// The run.
    pub summary: Summary,
    /// One report per distinct indicator, in the input's order.
    pub indicators: Vec<IndicatorReport>,
}

/// The JSON of a run over one input or several, what `ferret enrich
/// --format json` prints and `POST /v1/enrich` answers:
/// `{"summary": [one per input], "indicators": [...]}`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Reports<'a> {
    /// One summary per input, in the inputs' order.
    pub summary: &'a [Summary],
    /// Every input's indicators, input after input.
    pub indicators: &'a [IndicatorReport],
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Reports { summary: std::slice::from_ref(&self.summary), indicators: &self.indicators }
            .serialize(serializer)
    }
}

/// A `providers` choice that names no enabled provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no enabled provider is called `{name}` (enabled: {})", enabled.join(", "))]
pub struct UnknownProvider {
    /// The name given.
    pub name: String,
    /// The ids of the enabled providers.
    pub enabled: Vec<String>,
}

fn milliseconds<S: serde::Serializer>(elapsed: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
}

/// Enriches `input` and returns the whole report, indicators in input
/// order: what `POST /v1/enrich` answers.
pub async fn enrich(ferret: &Ferret, input: &[u8], options: &EnrichOptions) -> Result<Report> {
    let batch = ferret_indicators::extract(input, None);
    let mut indicators = Vec::new();
    let summary = enrich_batch(ferret, &batch, options, |report| {
        indicators.push(report);
        ControlFlow::Continue(())
    })
    .await?;
    sort_by_input(&batch, &mut indicators);
    Ok(Report { summary, indicators })
}

/// Puts reports, which complete in any order, in the input's order.
pub fn sort_by_input(batch: &Batch, reports: &mut [IndicatorReport]) {
    let order: std::collections::HashMap<(&str, &str), usize> = batch
        .entries()
        .iter()
        .enumerate()
        .map(|(at, entry)| ((entry.indicator.kind.as_str(), entry.indicator.value.as_str()), at))
        .collect();
    reports.sort_by_key(|report| order.get(&(report.kind, report.value.as_str())).copied());
}

/// Enriches `input`, handing each indicator's report to `each` as soon as
/// it is complete (in completion order), and returns the summary. When
/// `each` breaks (its reader has gone), the indicators still in progress
/// are dropped, their calls with them, and the summary counts what was
/// handed over.
pub async fn enrich_each(
    ferret: &Ferret,
    input: &[u8],
    options: &EnrichOptions,
    each: impl FnMut(IndicatorReport) -> ControlFlow<()>,
) -> Result<Summary> {
    let batch = ferret_indicators::extract(input, None);
    enrich_batch(ferret, &batch, options, each).await
}

/// Enriches an extracted batch; see [`enrich_each`].
pub async fn enrich_batch(
    ferret: &Ferret,
    batch: &Batch,
    options: &EnrichOptions,
    mut each: impl FnMut(IndicatorReport) -> ControlFlow<()>,
) -> Result<Summary> {
    let started = Instant::now();
    let tlp = options.tlp.max(batch.tlp());
    let providers = chosen_providers(ferret, options.providers.as_deref())
        .map_err(|unknown| anyhow::anyhow!("--providers: {unknown}"))?;

    // Boxed as a `Send` stream: the HTTP service needs the whole run to
    // be a `Send` future, which the compiler cannot prove of the unboxed
    // stream, whose closure's futures borrow the entries they are made of.
    let mut reports = futures::stream::iter(batch.entries())
        .map(|entry| enrich_entry(ferret, entry, tlp, &providers, options))
        .buffer_unordered(options.parallel.max(1))
        .boxed();
    let mut count = 0;
    while let Some(report) = reports.next().await {
        count += 1;
        if each(report).is_break() {
            break;
        }
    }
    drop(reports);

    let elapsed = started.elapsed();
    ferret.scheduler.store().record_run(count as u64, elapsed);
    Ok(summary(batch, tlp, count, elapsed))
}

fn summary(batch: &Batch, tlp: Option<Tlp>, indicators: usize, elapsed: Duration) -> Summary {
    Summary {
        format: batch.format(),
        tlp,
        warnings: batch.warnings().to_vec(),
        indicators,
        elapsed,
    }
}

/// The enabled providers to ask, narrowed to `wanted` (ids or brands,
/// any case); all of them for `None`. A name that matches no enabled
/// provider is refused by name, before anything is sent.
pub fn chosen_providers<'a>(
    ferret: &'a Ferret,
    wanted: Option<&[String]>,
) -> Result<Vec<&'a Provider>, UnknownProvider> {
    let enabled: Vec<&Provider> =
        ferret.registry.providers().iter().filter(|p| p.config.is_enabled()).collect();
    let Some(wanted) = wanted else {
        return Ok(enabled);
    };
    let matches = |provider: &Provider, name: &str| {
        name.eq_ignore_ascii_case(provider.id())
            || name.eq_ignore_ascii_case(&provider.module.manifest.brand)
    };
    if let Some(unknown) = wanted.iter().find(|name| !enabled.iter().any(|p| matches(p, name))) {
        return Err(UnknownProvider {
            name: unknown.clone(),
            enabled: enabled.iter().map(|provider| provider.id().to_owned()).collect(),
        });
    }
    Ok(enabled.into_iter().filter(|p| wanted.iter().any(|name| matches(p, name))).collect())
}

/// The reputation command name for a kind; CIDR networks have none.
fn reputation_command(kind: IndicatorKind) -> Option<&'static str> {
    match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => Some("ip"),
        IndicatorKind::Domain => Some("domain"),
        IndicatorKind::Url => Some("url"),
        IndicatorKind::Email => Some("email"),
        IndicatorKind::Md5
        | IndicatorKind::Sha1
        | IndicatorKind::Sha256
        | IndicatorKind::Sha512 => Some("file"),
        IndicatorKind::Cidr => None,
    }
}

/// One indicator: every provider at once, then the composite.
async fn enrich_entry(
    ferret: &Ferret,
    entry: &Entry,
    tlp: Option<Tlp>,
    providers: &[&Provider],
    options: &EnrichOptions,
) -> IndicatorReport {
    let found = &entry.indicator;
    let kind = wit_kind(found.kind);
    let indicator = Indicator { kind, value: found.value.clone() };
    let call_options = CallOptions { priority: Priority::Batch, use_cache: options.use_cache };

    let mut calls = Vec::new();
    if let Some(name) = reputation_command(kind) {
        for provider in providers {
            let Some(spec) = provider.command(name).filter(|spec| spec.kinds.contains(&kind))
            else {
                continue;
            };
            let Some(argument) = &spec.indicator_argument else { continue };
            let line = CommandLine {
                name: name.to_owned(),
                arguments: vec![(argument.clone(), RawValue::Text(found.value.clone()))],
                bare: Vec::new(),
            };
            // The manifest was validated at load: binding its own indicator
            // argument alone cannot fail, but a provider that manages to
            // refuse is skipped rather than failing the batch.
            let Ok((arguments, _)) = bind_arguments(spec, &line) else { continue };
            let request = CommandRequest {
                command: spec.name.clone(),
                arguments,
                indicator: Some(indicator.clone()),
            };
            let skip = match provider_policy(provider) {
                Err(message) => Some(Outcome::NotSent(message)),
                Ok(policy) => match ferret.gate().decide(found, tlp, &policy) {
                    Decision::Send => None,
                    Decision::NotSent { reason } => Some(Outcome::NotSent(reason.to_string())),
                },
            };
            calls.push(ferret.plan(provider, request, Some(indicator.clone()), skip));
        }
    }
    let results = join_all(calls.into_iter().map(|call| ferret.perform(call, call_options))).await;

    let local = ferret.gate().local_verdict(found);
    let evidence: Vec<Evidence> = results
        .iter()
        .filter_map(|result| {
            let (verdict, score) = judgement(result, &found.value)?;
            Some(Evidence {
                provider: result.provider.clone(),
                brand: result.brand.clone(),
                verdict,
                score,
            })
        })
        .collect();
    // `[scoring.weights.<kind>]` names kinds as DBotScore's `Type` does.
    let mut composite = composite(dbot_type(kind), local.as_ref(), &evidence, ferret.weights());
    if results.is_empty() {
        composite.reasons.push(format!("no enabled provider enriches {}", kind_name(kind)));
    }

    IndicatorReport {
        kind: found.kind.as_str(),
        value: found.value.clone(),
        occurrences: entry.occurrences.len(),
        first_seen: entry
            .occurrences
            .first()
            .map(|occurrence| occurrence.location.to_string())
            .unwrap_or_default(),
        composite,
        providers: results.iter().map(|result| provider_report(result, &found.value)).collect(),
    }
}

/// A provider's verdict and figure for `value`, when it answered.
fn judgement(result: &CallResult, value: &str) -> Option<(crate::sandbox::Verdict, Option<u8>)> {
    let Outcome::Answered(output) = &result.outcome else {
        return None;
    };
    let assessment = output
        .assessments
        .iter()
        .find(|assessment| assessment.indicator.value == value)
        .or(output.assessments.first())?;
    Some((assessment.verdict, assessment.score))
}

fn provider_report(result: &CallResult, value: &str) -> ProviderReport {
    let judged = judgement(result, value);
    let detail = match &result.outcome {
        Outcome::Answered(output) => output
            .assessments
            .iter()
            .find(|assessment| assessment.indicator.value == value)
            .or(output.assessments.first())
            .map(|assessment| assessment.reason.clone())
            .unwrap_or_else(|| "answered without a verdict".to_owned()),
        Outcome::NotFound => "No results found".to_owned(),
        Outcome::NotSent(reason) => reason.clone(),
        _ => error_message(result).unwrap_or_default(),
    };
    ProviderReport {
        provider: result.provider.clone(),
        brand: result.brand.clone(),
        status: outcome_name(&result.outcome),
        verdict: match &result.outcome {
            Outcome::NotFound => Some("unknown"),
            _ => judged.map(|(verdict, _)| verdict_name(verdict)),
        },
        score: judged.and_then(|(_, score)| score),
        detail,
        cached: result.cache_hit,
    }
}
