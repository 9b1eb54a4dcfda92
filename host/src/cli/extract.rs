//! `ferret extract`: the indicators found in an input and the gate's
//! decision for each.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use ferret_host::config::Config;

use super::ListFormat;

pub fn extract(config: &Config, file: Option<&Path>, format: ListFormat) -> Result<ExitCode> {
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
        ListFormat::Json => outln!("{}", serde_json::to_string_pretty(&rows)?),
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
            outln!("{table}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
