//! `ferret cache stats` and `ferret cache purge`: the result cache in the
//! state file.

use std::process::ExitCode;

use anyhow::{Result, bail};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::json;

use ferret_host::config::Config;
use ferret_host::store::Store;

use super::ListFormat;

pub fn stats(config: &Config, format: ListFormat) -> Result<ExitCode> {
    let store = Store::open(&config.store_path())?;
    let rows = store.cache_rows()?;
    let (hits, misses) = store.cache_hits_and_misses(0)?;
    let size = store.size_bytes();
    match format {
        ListFormat::Json => {
            let providers: Vec<_> = rows
                .iter()
                .map(|row| json!({"provider": row.provider, "live": row.live, "expired": row.expired}))
                .collect();
            let report = json!({
                "file": store.path(),
                "size_bytes": size,
                "hits": hits,
                "misses": misses,
                "providers": providers,
            });
            outln!("{}", serde_json::to_string_pretty(&report)?);
        }
        ListFormat::Table => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header([
                "Provider",
                "Live rows",
                "Expired rows",
            ]);
            for row in &rows {
                table.add_row([
                    row.provider.clone(),
                    row.live.to_string(),
                    row.expired.to_string(),
                ]);
            }
            outln!("{table}");
            let asked = hits + misses;
            let rate = if asked == 0 { 0.0 } else { hits as f64 * 100.0 / asked as f64 };
            outln!(
                "hits {hits}, misses {misses} ({rate:.1}% hit rate over every call in the ledger)"
            );
            outln!("file {} ({size} bytes)", store.path().display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Purges cached results. A `provider` must be one that is loaded or one
/// the cache holds results of (a provider since removed); any other name
/// is refused before anything is deleted.
pub async fn purge(
    config: &Config,
    provider: Option<&str>,
    expired_only: bool,
) -> Result<ExitCode> {
    let store = Store::open(&config.store_path())?;
    if let Some(id) = provider {
        let cached: Vec<String> = store.cache_rows()?.into_iter().map(|row| row.provider).collect();
        let registry = super::load_registry(config).await?;
        let mut known: Vec<&str> = registry
            .providers()
            .iter()
            .map(|p| p.id())
            .chain(cached.iter().map(String::as_str))
            .collect();
        known.sort_unstable();
        known.dedup();
        if !known.contains(&id) {
            bail!(
                "--provider: no provider is called `{id}` and the cache holds nothing of it \
                 (known: {})",
                known.join(", ")
            );
        }
    }
    let deleted = store.cache_purge(provider, expired_only)?;
    let which = if expired_only { "expired " } else { "" };
    let whose = provider.map(|id| format!(" of {id}")).unwrap_or_default();
    outln!("purged {deleted} {which}cached results{whose}");
    Ok(ExitCode::SUCCESS)
}
