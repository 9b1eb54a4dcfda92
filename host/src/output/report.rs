//! The command line's own reports of results: JSON for scripts, a table
//! for people.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::{Value, json};

use super::error_message;
use crate::dispatch::{CallResult, Outcome, kind_name, outcome_name};
use crate::scoring::dbot_score;

/// One JSON object per result.
pub fn json(results: &[CallResult]) -> Value {
    Value::Array(results.iter().map(result_json).collect())
}

fn result_json(result: &CallResult) -> Value {
    let mut object = json!({
        "provider": result.provider,
        "version": result.version,
        "command": result.command,
        "status": outcome_name(&result.outcome),
        "elapsed_ms": (result.elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
    });
    if let Some(indicator) = &result.indicator {
        object["indicator"] = json!({"kind": kind_name(indicator.kind), "value": indicator.value});
    }
    match &result.outcome {
        Outcome::Answered(output) => {
            let assessments: Vec<Value> = output
                .assessments
                .iter()
                .map(|assessment| {
                    json!({
                        "indicator": assessment.indicator.value,
                        "verdict": verdict_name(assessment.verdict),
                        "score": assessment.score,
                        "dbot_score": dbot_score(assessment.verdict),
                        "reason": assessment.reason,
                    })
                })
                .collect();
            object["assessments"] = Value::Array(assessments);
            object["context"] = serde_json::from_str(&output.context).unwrap_or(Value::Null);
        }
        Outcome::NotFound => object["message"] = json!("No results found"),
        Outcome::NotSent(reason) => object["message"] = json!(reason),
        _ => object["error"] = json!(error_message(result)),
    }
    object
}

/// A table: one row per result.
pub fn table(results: &[CallResult]) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["Provider", "Indicator", "Status", "Verdict", "DBot", "Detail"]);
    for result in results {
        let indicator = result.indicator.as_ref().map(|i| i.value.clone()).unwrap_or_default();
        let (verdict, score, detail) = match &result.outcome {
            Outcome::Answered(output) => match output.assessments.first() {
                Some(first) => (
                    verdict_name(first.verdict).to_owned(),
                    dbot_score(first.verdict).to_string(),
                    first.reason.clone(),
                ),
                None => (String::new(), String::new(), "answered".to_owned()),
            },
            Outcome::NotFound => ("unknown".into(), "0".into(), "No results found".into()),
            Outcome::NotSent(reason) => ("unknown".into(), "0".into(), reason.clone()),
            _ => (String::new(), String::new(), error_message(result).unwrap_or_default()),
        };
        table.add_row([
            result.brand.clone(),
            indicator,
            outcome_name(&result.outcome).to_owned(),
            verdict,
            score,
            detail,
        ]);
    }
    table.to_string()
}

fn verdict_name(verdict: crate::sandbox::Verdict) -> &'static str {
    use crate::sandbox::Verdict;
    match verdict {
        Verdict::Unknown => "unknown",
        Verdict::Benign => "benign",
        Verdict::Suspicious => "suspicious",
        Verdict::Malicious => "malicious",
    }
}
