//! `ferret stats`: what the providers did, from the call ledger.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Result, bail};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::json;

use ferret_host::config::Config;
use ferret_host::store::{Store, now_millis, now_seconds, utc_day};

use super::ListFormat;

/// Reads a period such as `90s`, `30m`, `12h`, `7d` or `2w`, in seconds.
pub fn parse_period(text: &str) -> Result<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let Ok(number) = number.parse::<u64>() else {
        bail!("--since `{text}`: expected a number and a unit, such as 7d, 12h or 30m");
    };
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        "w" => 7 * 86_400,
        other => bail!("--since `{text}`: unknown unit `{other}` (use s, m, h, d or w)"),
    };
    Ok(number * unit)
}

pub fn stats(config: &Config, since: &str, format: ListFormat) -> Result<ExitCode> {
    let seconds = parse_period(since)?;
    let store = Store::open(&config.store_path())?;
    let since_ms = now_millis() - (seconds as i64) * 1000;
    let providers = store.provider_stats(since_ms)?;
    let since_day = utc_day(now_seconds() - seconds as i64);
    // The quota ledger keeps one account per provider and upstream.
    let mut quota: BTreeMap<String, u64> = BTreeMap::new();
    for (account, spent) in store.quota_spent_since(&since_day)? {
        let provider = account.split('@').next().unwrap_or(&account).to_owned();
        *quota.entry(provider).or_default() += spent;
    }
    let (indicators, elapsed_ms) = store.run_totals(since_ms)?;
    let per_indicator = (indicators > 0).then(|| elapsed_ms / indicators as f64);

    match format {
        ListFormat::Json => {
            let rows: Vec<_> = providers
                .iter()
                .map(|p| {
                    json!({
                        "provider": p.provider,
                        "calls": p.calls,
                        "cache_hits": p.cache_hits,
                        "cache_hit_rate": rate(p.cache_hits, p.calls),
                        "errors": p.errors,
                        "rate_limited": p.rate_limits,
                        "p50_ms": p.p50_ms,
                        "p95_ms": p.p95_ms,
                        "quota_spent": quota.get(&p.provider).copied().unwrap_or(0),
                    })
                })
                .collect();
            let report = json!({
                "since_seconds": seconds,
                "providers": rows,
                "indicators": indicators,
                "mean_ms_per_indicator": per_indicator,
            });
            outln!("{}", serde_json::to_string_pretty(&report)?);
        }
        ListFormat::Table => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header([
                "Provider",
                "Calls",
                "Cache hits",
                "Errors",
                "429s",
                "p50 ms",
                "p95 ms",
                "Quota spent",
            ]);
            let ms =
                |value: Option<f64>| value.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
            for p in &providers {
                table.add_row([
                    p.provider.clone(),
                    p.calls.to_string(),
                    format!("{} ({:.1}%)", p.cache_hits, rate(p.cache_hits, p.calls)),
                    p.errors.to_string(),
                    p.rate_limits.to_string(),
                    ms(p.p50_ms),
                    ms(p.p95_ms),
                    quota.get(&p.provider).copied().unwrap_or(0).to_string(),
                ]);
            }
            outln!("{table}");
            match per_indicator {
                Some(mean) => {
                    outln!("{indicators} indicators enriched, {mean:.2} ms each on average")
                }
                None => outln!("no batch enriched in this period"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { (part as f64 * 1000.0 / whole as f64).round() / 10.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_take_a_unit() {
        assert_eq!(parse_period("7d").unwrap(), 604_800);
        assert_eq!(parse_period("30m").unwrap(), 1_800);
        assert_eq!(
            parse_period("7y").unwrap_err().to_string(),
            "--since `7y`: unknown unit `y` (use s, m, h, d or w)"
        );
    }
}
