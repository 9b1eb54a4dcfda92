//! Verdicts as XSOAR reads them (DBot scores and reliability grades), and
//! the composite score of an indicator over every provider that judged
//! it.
//!
//! Each provider's verdict and own 0-100 figure become a normalised score
//! in the band of its verdict: benign 0, suspicious 30 to 70, malicious 70
//! to 100 (a provider that gives no figure sits at 50 or 100). Keeping the
//! bands means that a provider that calls an indicator malicious on a low
//! figure (VirusTotal at 12 engines of 90) still counts as malicious
//! evidence. The composite score is the weighted mean of the normalised
//! scores of providers with evidence; a provider that answered `unknown`,
//! found nothing or failed gives none. With no evidence the verdict is
//! unknown: silence is never benign. The operator's lists come first: an
//! allow-list hit is benign and a deny-list hit malicious, whatever the
//! providers say.

use std::collections::BTreeMap;

use ferret_indicators::policy::{ListVerdict, LocalVerdict};
use serde::Serialize;

use crate::config::ScoringConfig;
use crate::sandbox::{Reliability, Verdict};
use crate::store::verdict_name;

/// From this composite score on, the verdict is malicious.
pub const MALICIOUS_FROM: f64 = 70.0;
/// From this composite score on, the verdict is suspicious.
pub const SUSPICIOUS_FROM: f64 = 30.0;

/// The DBotScore of a verdict: 0 unknown, 1 good, 2 suspicious, 3 bad.
pub fn dbot_score(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Unknown => 0,
        Verdict::Benign => 1,
        Verdict::Suspicious => 2,
        Verdict::Malicious => 3,
    }
}

/// How XSOAR words a DBot score in timelines.
pub fn score_word(score: u8) -> &'static str {
    match score {
        1 => "Good",
        2 => "Suspicious",
        3 => "Bad",
        _ => "Unknown",
    }
}

/// XSOAR's text for a reliability grade.
pub fn reliability_label(grade: Reliability) -> &'static str {
    match grade {
        Reliability::APlus => "A+ - 3rd party enrichment",
        Reliability::A => "A - Completely reliable",
        Reliability::B => "B - Usually reliable",
        Reliability::C => "C - Fairly reliable",
        Reliability::D => "D - Not usually reliable",
        Reliability::E => "E - Unreliable",
        Reliability::F => "F - Reliability cannot be judged",
    }
}

/// The reliability an operator configured (the full text, or just its
/// grade such as `B` or `A+`), else the manifest's default. An unreadable
/// setting falls back to the default; `ferret providers list` shows what
/// is in force.
pub fn reliability_text(configured: Option<&str>, default: Reliability) -> String {
    let grades = [
        Reliability::APlus,
        Reliability::A,
        Reliability::B,
        Reliability::C,
        Reliability::D,
        Reliability::E,
        Reliability::F,
    ];
    let chosen = configured.and_then(|text| {
        let grade = text.split(" - ").next().unwrap_or("").trim();
        grades
            .into_iter()
            .find(|candidate| reliability_label(*candidate).split(" - ").next() == Some(grade))
    });
    reliability_label(chosen.unwrap_or(default)).to_owned()
}

/// What Ferret suggests a person do with an indicator. Ferret itself
/// blocks nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Strong evidence of harm: a candidate for a block list.
    BlockCandidate,
    /// Some evidence of harm: worth an analyst's look.
    Investigate,
    /// Weak or conflicting evidence: keep watching.
    Monitor,
    /// Positive evidence that it is harmless.
    NoAction,
    /// No provider had evidence either way.
    NotEnoughData,
}

impl Disposition {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BlockCandidate => "block-candidate",
            Self::Investigate => "investigate",
            Self::Monitor => "monitor",
            Self::NoAction => "no-action",
            Self::NotEnoughData => "not-enough-data",
        }
    }
}

/// One provider's judgement of an indicator, as scoring reads it.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// Provider id, the key of the weights.
    pub provider: String,
    /// Brand, for reasons.
    pub brand: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Its own 0-100 figure, if it gives one.
    pub score: Option<u8>,
}

/// An indicator's composite judgement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composite {
    /// Weighted mean of normalised scores, 0-100, one decimal; `None`
    /// without evidence.
    pub score: Option<f64>,
    /// The verdict.
    #[serde(serialize_with = "serialize_verdict")]
    pub verdict: Verdict,
    /// The suggestion for a person.
    pub disposition: Disposition,
    /// Each contribution and decision, in words.
    pub reasons: Vec<String>,
}

fn serialize_verdict<S: serde::Serializer>(verdict: &Verdict, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(verdict_name(*verdict))
}

/// The weight of `provider` for indicators of weight kind `kind`: the
/// operator's table for the kind if there is one, else the built-in one
/// (IPs: VirusTotal 60, AbuseIPDB 40; file hashes: VirusTotal alone),
/// else 1 for every provider. A table that does not name a provider gives
/// it 0.
pub fn weight(config: &ScoringConfig, kind: &str, provider: &str) -> f64 {
    if let Some(table) = config.weights.get(kind) {
        return table.get(provider).copied().unwrap_or(0.0);
    }
    let builtin: BTreeMap<&str, f64> = match kind {
        "ip" => [("virustotal", 60.0), ("abuseipdb", 40.0)].into(),
        "file" => [("virustotal", 100.0)].into(),
        _ => return 1.0,
    };
    builtin.get(provider).copied().unwrap_or(0.0)
}

/// A verdict and figure as a 0-100 score in the verdict's band; `None`
/// for `unknown`, which is no evidence.
pub fn normalised(verdict: Verdict, score: Option<u8>) -> Option<f64> {
    let figure = score.map(|score| f64::from(score.min(100)) / 100.0);
    match verdict {
        Verdict::Unknown => None,
        Verdict::Benign => Some(0.0),
        Verdict::Suspicious => {
            Some(figure.map_or(50.0, |f| SUSPICIOUS_FROM + f * (MALICIOUS_FROM - SUSPICIOUS_FROM)))
        }
        Verdict::Malicious => {
            Some(figure.map_or(100.0, |f| MALICIOUS_FROM + f * (100.0 - MALICIOUS_FROM)))
        }
    }
}

/// The composite judgement of one indicator of weight kind `kind`, from
/// the operator's lists (`local`) and the providers' evidence.
pub fn composite(
    kind: &str,
    local: Option<&LocalVerdict>,
    evidence: &[Evidence],
    config: &ScoringConfig,
) -> Composite {
    let mut reasons = Vec::new();
    let mut total = 0.0;
    let mut weights = 0.0;
    let mut counted = 0;
    for item in evidence {
        let name = verdict_name(item.verdict);
        let figure = item.score.map(|score| format!(" ({score}/100)")).unwrap_or_default();
        let Some(points) = normalised(item.verdict, item.score) else {
            reasons.push(format!("{}: {name}, no evidence either way", item.brand));
            continue;
        };
        let weight = weight(config, kind, &item.provider);
        if weight == 0.0 {
            reasons
                .push(format!("{}: {name}{figure}, not counted (weight 0 for {kind})", item.brand));
            continue;
        }
        reasons.push(format!(
            "{}: {name}{figure} -> {} x weight {}",
            item.brand,
            round(points),
            round(weight)
        ));
        total += points * weight;
        weights += weight;
        counted += 1;
    }
    let score = (weights > 0.0).then(|| round(total / weights));

    if let Some(local) = local {
        let (verdict, disposition, list) = match local.verdict {
            ListVerdict::Benign => (Verdict::Benign, Disposition::NoAction, "allow-list"),
            ListVerdict::Malicious => {
                (Verdict::Malicious, Disposition::BlockCandidate, "deny-list")
            }
        };
        reasons.insert(0, format!("on the {list} (entry {})", local.entry));
        return Composite { score, verdict, disposition, reasons };
    }

    let (verdict, disposition) = match score {
        None => (Verdict::Unknown, Disposition::NotEnoughData),
        Some(score) if score >= MALICIOUS_FROM => (Verdict::Malicious, Disposition::BlockCandidate),
        Some(score) if score >= SUSPICIOUS_FROM => (Verdict::Suspicious, Disposition::Investigate),
        // Every counted provider vouched for it.
        Some(0.0) => (Verdict::Benign, Disposition::NoAction),
        Some(_) => (Verdict::Unknown, Disposition::Monitor),
    };
    match score {
        Some(score) => reasons.push(format!(
            "composite {score} from {counted} provider{}",
            if counted == 1 { "" } else { "s" }
        )),
        None => reasons.push("no provider had evidence: unknown, not benign".to_owned()),
    }
    Composite { score, verdict, disposition, reasons }
}

/// One decimal.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(provider: &str, verdict: Verdict, score: Option<u8>) -> Evidence {
        Evidence { provider: provider.into(), brand: provider.into(), verdict, score }
    }

    fn config(text: &str) -> ScoringConfig {
        crate::config::Config::parse(text).unwrap().scoring
    }

    #[test]
    fn ips_weigh_virustotal_60_and_abuseipdb_40() {
        // VirusTotal malicious at 50/100 -> 70 + 0.5 x 30 = 85; AbuseIPDB
        // suspicious at 40 -> 30 + 0.4 x 40 = 46. (85 x 60 + 46 x 40) / 100
        // = 69.4: suspicious.
        let found = composite(
            "ip",
            None,
            &[
                evidence("virustotal", Verdict::Malicious, Some(50)),
                evidence("abuseipdb", Verdict::Suspicious, Some(40)),
            ],
            &ScoringConfig::default(),
        );
        assert_eq!(found.score, Some(69.4));
        assert_eq!(found.verdict, Verdict::Suspicious);
        assert_eq!(found.disposition, Disposition::Investigate);
        assert_eq!(
            found.reasons,
            [
                "virustotal: malicious (50/100) -> 85 x weight 60",
                "abuseipdb: suspicious (40/100) -> 46 x weight 40",
                "composite 69.4 from 2 providers",
            ]
        );
    }

    #[test]
    fn configured_weights_replace_the_builtin_ones() {
        let weights = config("[scoring.weights.ip]\nvirustotal = 1\nabuseipdb = 3\n");
        // (100 x 1 + 100 x 3) / 4 with both malicious without figures.
        let found = composite(
            "ip",
            None,
            &[
                evidence("virustotal", Verdict::Malicious, None),
                evidence("abuseipdb", Verdict::Benign, Some(0)),
            ],
            &weights,
        );
        assert_eq!(found.score, Some(25.0));
        assert_eq!(found.verdict, Verdict::Unknown);
        assert_eq!(found.disposition, Disposition::Monitor);
        // A provider the table does not name is not counted.
        let shodan =
            composite("ip", None, &[evidence("shodan", Verdict::Malicious, None)], &weights);
        assert_eq!(shodan.score, None);
        assert_eq!(shodan.reasons[0], "shodan: malicious, not counted (weight 0 for ip)");
    }

    #[test]
    fn silence_is_unknown_and_only_positive_evidence_is_benign() {
        let none = composite(
            "domain",
            None,
            &[evidence("virustotal", Verdict::Unknown, Some(0))],
            &ScoringConfig::default(),
        );
        assert_eq!((none.score, none.verdict), (None, Verdict::Unknown));
        assert_eq!(none.disposition, Disposition::NotEnoughData);

        let vouched = composite(
            "domain",
            None,
            &[
                evidence("virustotal", Verdict::Benign, Some(0)),
                evidence("misp", Verdict::Benign, None),
            ],
            &ScoringConfig::default(),
        );
        assert_eq!((vouched.score, vouched.verdict), (Some(0.0), Verdict::Benign));
        assert_eq!(vouched.disposition, Disposition::NoAction);
    }

    #[test]
    fn hashes_count_virustotal_alone_and_other_kinds_weigh_equally() {
        let hash = composite(
            "file",
            None,
            &[
                evidence("virustotal", Verdict::Malicious, Some(100)),
                evidence("malwarebazaar", Verdict::Benign, None),
            ],
            &ScoringConfig::default(),
        );
        assert_eq!((hash.score, hash.verdict), (Some(100.0), Verdict::Malicious));
        assert_eq!(hash.disposition, Disposition::BlockCandidate);

        // URLs: (100 + 30) / 2 = 65 with equal weights.
        let url = composite(
            "url",
            None,
            &[
                evidence("safebrowsing", Verdict::Malicious, None),
                evidence("urlscan", Verdict::Suspicious, Some(0)),
            ],
            &ScoringConfig::default(),
        );
        assert_eq!(url.score, Some(65.0));
    }

    #[test]
    fn the_operators_lists_decide_and_say_so() {
        let allow = LocalVerdict { verdict: ListVerdict::Benign, entry: "example.org".into() };
        let found = composite(
            "domain",
            Some(&allow),
            &[evidence("virustotal", Verdict::Malicious, None)],
            &ScoringConfig::default(),
        );
        assert_eq!(found.verdict, Verdict::Benign);
        assert_eq!(found.disposition, Disposition::NoAction);
        assert_eq!(found.reasons[0], "on the allow-list (entry example.org)");
        // The providers' evidence is still shown and scored.
        assert_eq!(found.score, Some(100.0));

        let deny = LocalVerdict { verdict: ListVerdict::Malicious, entry: "10.0.0.0/8".into() };
        let found = composite("ip", Some(&deny), &[], &ScoringConfig::default());
        assert_eq!((found.score, found.verdict), (None, Verdict::Malicious));
        assert_eq!(found.disposition, Disposition::BlockCandidate);
        assert_eq!(found.reasons, ["on the deny-list (entry 10.0.0.0/8)"]);
    }

    #[test]
    fn configured_grades_may_be_short_or_full() {
        assert_eq!(reliability_text(Some("B"), Reliability::C), "B - Usually reliable");
        assert_eq!(
            reliability_text(Some("A+ - 3rd party enrichment"), Reliability::C),
            "A+ - 3rd party enrichment"
        );
        // An unreadable grade leaves the default in force.
        assert_eq!(reliability_text(Some("Z"), Reliability::C), "C - Fairly reliable");
    }
}
