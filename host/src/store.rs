//! Ferret's state on disk: one embedded SQLite file under the data folder
//! holding the result cache, the daily quota ledger and the call ledger.
//!
//! A restart therefore neither refetches what is cached nor forgets what
//! today's quota has spent. Several processes may share the file: SQLite
//! serialises their writes, and every quota reservation is one
//! transaction, so two processes cannot both take the last unit.
//!
//! Cache and ledger rows go through [`writer`], a thread of their own, so
//! that no call waits for SQLite to write them; quota reservations are
//! made on the caller's own path, since a call may only go ahead once its
//! unit is taken.
//!
//! The file serves one machine. Replicas that must share one quota and one
//! cache need a shared store (Redis) behind the same methods; this module
//! is where it would go.

mod writer;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::sandbox::{Assessment, CommandOutput, Indicator, IndicatorKind, Table, Verdict};
use writer::{Job, PendingRow, Writer};

/// The schema; every statement is idempotent.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cache (
    provider   TEXT NOT NULL,
    command    TEXT NOT NULL,
    indicator  TEXT NOT NULL,
    arguments  TEXT NOT NULL,
    found      INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    stored_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (provider, command, indicator, arguments)
);
CREATE TABLE IF NOT EXISTS quota (
    provider TEXT NOT NULL,
    day      TEXT NOT NULL,
    spent    INTEGER NOT NULL,
    PRIMARY KEY (provider, day)
);
CREATE TABLE IF NOT EXISTS calls (
    at_ms       INTEGER NOT NULL,
    provider    TEXT NOT NULL,
    command     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    latency_ms  REAL NOT NULL,
    cache_hit   INTEGER NOT NULL,
    rate_limits INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_at ON calls (at_ms);
CREATE TABLE IF NOT EXISTS runs (
    at_ms      INTEGER NOT NULL,
    indicators INTEGER NOT NULL,
    elapsed_ms REAL NOT NULL
);
";

/// The open state file. Dropping it writes what its writer still holds.
pub struct Store {
    path: PathBuf,
    /// Reads and quota reservations.
    connection: Mutex<Connection>,
    /// Cache and ledger rows.
    writer: Writer,
}

/// What identifies a cached result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Provider id.
    pub provider: String,
    /// The command's declared name.
    pub command: String,
    /// `kind:value` of the indicator.
    pub indicator: String,
    /// The other arguments, as canonical text.
    pub arguments: String,
}

/// A result worth keeping: an answer, or "the upstream knows nothing of
/// it". Errors are never kept.
#[derive(Debug, Clone)]
pub enum Cached {
    /// The provider answered.
    Answer(CommandOutput),
    /// The upstream knows nothing of the indicator.
    NotFound,
}

/// One provider call, as the ledger keeps it.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// Provider id.
    pub provider: String,
    /// Command name.
    pub command: String,
    /// Indicator kind, or `-`.
    pub kind: String,
    /// Outcome name (`answered`, `not-found`, `quota-exhausted`...).
    pub outcome: String,
    /// End-to-end time.
    pub latency: Duration,
    /// Whether the cache answered.
    pub cache_hit: bool,
    /// `429` answers the upstream gave on the way.
    pub rate_limits: u32,
}

/// The cache's rows of one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRows {
    /// Provider id.
    pub provider: String,
    /// Rows still in force.
    pub live: u64,
    /// Rows past their lifetime, kept until purged or overwritten.
    pub expired: u64,
}

/// One provider's figures over a period, from the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderStats {
    /// Provider id.
    pub provider: String,
    /// Calls made or answered from the cache.
    pub calls: u64,
    /// Of which the cache answered.
    pub cache_hits: u64,
    /// Calls that ended in an error.
    pub errors: u64,
    /// `429` answers seen.
    pub rate_limits: u64,
    /// Median latency of calls that went upstream, in milliseconds.
    pub p50_ms: Option<f64>,
    /// 95th percentile of the same.
    pub p95_ms: Option<f64>,
}

impl Store {
    /// Opens (creating if need be) the state file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create data folder {}", parent.display()))?;
        }
        let connection = connect(path)?;
        connection
            .execute_batch(SCHEMA)
            .with_context(|| format!("failed to prepare state file {}", path.display()))?;
        let writer = Writer::start(path)?;
        Ok(Self { path: path.to_path_buf(), connection: Mutex::new(connection), writer })
    }

    /// Waits until every cache and ledger row handed over so far is in the
    /// file. Reads of the ledger do this themselves.
    pub fn flush(&self) {
        self.writer.flush();
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done statement:
        // SQLite rolled it back, so the connection is still sound.
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached result for `key`, if one is still in force.
    pub fn cache_get(&self, key: &CacheKey) -> Result<Option<Cached>> {
        let queued =
            self.writer.pending().lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned();
        if let Some(row) = queued {
            return Ok((row.expires_at > now_seconds()).then(|| row.value.clone()));
        }
        let connection = self.lock();
        let row: Option<(bool, String)> = connection
            .prepare_cached(
                "SELECT found, payload FROM cache WHERE provider = ?1 AND command = ?2 \
                 AND indicator = ?3 AND arguments = ?4 AND expires_at > ?5",
            )?
            .query_row(
                params![key.provider, key.command, key.indicator, key.arguments, now_seconds()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        drop(connection);
        Ok(match row {
            None => None,
            Some((false, _)) => Some(Cached::NotFound),
            // A payload this build cannot read is a miss, not an error.
            Some((true, payload)) => output_from_json(&payload).map(Cached::Answer),
        })
    }

    /// Keeps `value` for `key` for `ttl`. The row is written in the
    /// background; lookups see it at once.
    pub fn cache_put(&self, key: &CacheKey, value: Cached, ttl: Duration) {
        let now = now_seconds();
        self.writer.cache(PendingRow {
            key: key.clone(),
            value,
            stored_at: now,
            expires_at: now.saturating_add(ttl.as_secs() as i64),
        });
    }

    /// Rows per provider, live and expired.
    pub fn cache_rows(&self) -> Result<Vec<CacheRows>> {
        self.flush();
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT provider, SUM(expires_at > ?1), SUM(expires_at <= ?1) FROM cache \
             GROUP BY provider ORDER BY provider",
        )?;
        let rows = statement
            .query_map(params![now_seconds()], |row| {
                Ok(CacheRows {
                    provider: row.get(0)?,
                    live: row.get::<_, i64>(1)? as u64,
                    expired: row.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Deletes cached rows: of one provider or all, expired ones or all.
    /// Returns how many went.
    pub fn cache_purge(&self, provider: Option<&str>, expired_only: bool) -> Result<u64> {
        self.flush();
        let limit = if expired_only { now_seconds() } else { i64::MAX };
        let deleted = self.lock().execute(
            "DELETE FROM cache WHERE (?1 IS NULL OR provider = ?1) AND expires_at <= ?2",
            params![provider, limit],
        )?;
        Ok(deleted as u64)
    }

    /// The file's size in bytes, write-ahead log included.
    pub fn size_bytes(&self) -> u64 {
        let wal = PathBuf::from(format!("{}-wal", self.path.display()));
        [&self.path, &wal]
            .iter()
            .filter_map(|path| std::fs::metadata(path).ok())
            .map(|metadata| metadata.len())
            .sum()
    }

    /// Takes up to `wanted` units of `provider`'s quota for UTC day
    /// `day`, never past `limit` spent. Returns the units taken and the
    /// day's spent count after taking them. One transaction: two
    /// processes cannot both take the last unit.
    pub fn quota_take(
        &self,
        provider: &str,
        day: &str,
        wanted: u32,
        limit: u32,
    ) -> Result<(u32, u32)> {
        let mut connection = self.lock();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let spent: u32 = transaction
            .prepare_cached("SELECT spent FROM quota WHERE provider = ?1 AND day = ?2")?
            .query_row(params![provider, day], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        let taken = wanted.min(limit.saturating_sub(spent));
        if taken > 0 {
            transaction
                .prepare_cached(
                    "INSERT INTO quota (provider, day, spent) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (provider, day) DO UPDATE SET spent = spent + ?3",
                )?
                .execute(params![provider, day, taken])?;
        }
        transaction.commit()?;
        Ok((taken, spent + taken))
    }

    /// Gives back `units` taken for `day` and not used.
    pub fn quota_give_back(&self, provider: &str, day: &str, units: u32) -> Result<()> {
        self.lock()
            .prepare_cached(
                "UPDATE quota SET spent = MAX(spent - ?3, 0) WHERE provider = ?1 AND day = ?2",
            )?
            .execute(params![provider, day, units])?;
        Ok(())
    }

    /// Units of `provider`'s quota spent on UTC day `day`.
    pub fn quota_spent(&self, provider: &str, day: &str) -> Result<u32> {
        let spent: Option<u32> = self
            .lock()
            .prepare_cached("SELECT spent FROM quota WHERE provider = ?1 AND day = ?2")?
            .query_row(params![provider, day], |row| row.get(0))
            .optional()?;
        Ok(spent.unwrap_or(0))
    }

    /// Quota spent per provider on days from `since_day` on.
    pub fn quota_spent_since(&self, since_day: &str) -> Result<Vec<(String, u64)>> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT provider, SUM(spent) FROM quota WHERE day >= ?1 GROUP BY provider \
             ORDER BY provider",
        )?;
        let rows = statement
            .query_map(params![since_day], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u64)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Adds a call to the ledger, in the background.
    pub fn record_call(&self, record: CallRecord) {
        self.writer.send(Job::Call { at_ms: now_millis(), record });
    }

    /// Adds a finished batch to the ledger, in the background.
    pub fn record_run(&self, indicators: u64, elapsed: Duration) {
        self.writer.send(Job::Run { at_ms: now_millis(), indicators, elapsed });
    }

    /// Per-provider figures of calls since `since` (Unix milliseconds).
    /// Calls never made (provider not configured, indicator not sent) are
    /// in the ledger but are not counted here.
    pub fn provider_stats(&self, since_ms: i64) -> Result<Vec<ProviderStats>> {
        self.flush();
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT provider, COUNT(*), SUM(cache_hit), \
             SUM(outcome IN ('provider-error', 'sandbox-failure', 'quota-exhausted')), \
             SUM(rate_limits) FROM calls WHERE at_ms >= ?1 \
             AND outcome NOT IN ('not-configured', 'not-sent') GROUP BY provider ORDER BY provider",
        )?;
        let mut stats = statement
            .query_map(params![since_ms], |row| {
                Ok(ProviderStats {
                    provider: row.get(0)?,
                    calls: row.get::<_, i64>(1)? as u64,
                    cache_hits: row.get::<_, i64>(2)? as u64,
                    errors: row.get::<_, i64>(3)? as u64,
                    rate_limits: row.get::<_, i64>(4)? as u64,
                    p50_ms: None,
                    p95_ms: None,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut latencies = connection.prepare(
            "SELECT latency_ms FROM calls WHERE provider = ?1 AND at_ms >= ?2 AND cache_hit = 0 \
             AND outcome NOT IN ('not-configured', 'not-sent') ORDER BY latency_ms",
        )?;
        for provider in &mut stats {
            let sorted: Vec<f64> = latencies
                .query_map(params![provider.provider, since_ms], |row| row.get(0))?
                .collect::<Result<Vec<_>, _>>()?;
            provider.p50_ms = percentile(&sorted, 0.50);
            provider.p95_ms = percentile(&sorted, 0.95);
        }
        Ok(stats)
    }

    /// Indicators enriched and time spent on batches since `since_ms`.
    pub fn run_totals(&self, since_ms: i64) -> Result<(u64, f64)> {
        self.flush();
        let (indicators, elapsed): (i64, f64) = self.lock().query_row(
            "SELECT COALESCE(SUM(indicators), 0), COALESCE(SUM(elapsed_ms), 0.0) FROM runs \
             WHERE at_ms >= ?1",
            params![since_ms],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((indicators as u64, elapsed))
    }

    /// Cache hits and misses recorded since `since_ms`, over every
    /// provider, counting only calls the cache could have answered.
    pub fn cache_hits_and_misses(&self, since_ms: i64) -> Result<(u64, u64)> {
        self.flush();
        let (hits, misses): (i64, i64) = self.lock().query_row(
            "SELECT COALESCE(SUM(cache_hit), 0), COALESCE(SUM(1 - cache_hit), 0) FROM calls \
             WHERE at_ms >= ?1 AND outcome NOT IN ('not-configured', 'not-sent')",
            params![since_ms],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((hits as u64, misses as u64))
    }
}

/// A connection to the state file at `path`, set up as every connection
/// to it is.
fn connect(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path)
        .with_context(|| format!("failed to open state file {}", path.display()))?;
    connection
        .busy_timeout(Duration::from_secs(10))
        .and_then(|_| connection.pragma_update(None, "journal_mode", "WAL"))
        .and_then(|_| connection.pragma_update(None, "synchronous", "NORMAL"))
        .with_context(|| format!("failed to prepare state file {}", path.display()))?;
    Ok(connection)
}

/// The value at fraction `q` of sorted values (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Seconds since the Unix epoch.
pub fn now_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The UTC date of a Unix time, `YYYY-MM-DD`: the quota ledger's day.
pub fn utc_day(unix_seconds: i64) -> String {
    // Days to a civil date, after Howard Hinnant's public-domain
    // algorithm for the proleptic Gregorian calendar.
    let days = unix_seconds.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The next UTC midnight after a Unix time, as `YYYY-MM-DDT00:00:00Z`.
pub fn next_utc_midnight(unix_seconds: i64) -> String {
    let next = (unix_seconds.div_euclid(86_400) + 1) * 86_400;
    format!("{}T00:00:00Z", utc_day(next))
}

/// A cached command output as it is kept in the file: one type for both
/// directions, so the format is written down once. Writing borrows every
/// string; reading owns only those JSON escapes forced it to rebuild.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored<'a> {
    #[serde(borrow)]
    raw: Cow<'a, str>,
    #[serde(borrow)]
    context: Cow<'a, str>,
    #[serde(borrow)]
    assessments: Vec<StoredAssessment<'a>>,
    #[serde(borrow)]
    readable: Option<StoredTable<'a>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredAssessment<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
    #[serde(borrow)]
    verdict: Cow<'a, str>,
    score: Option<u8>,
    #[serde(borrow)]
    reason: Cow<'a, str>,
    #[serde(borrow)]
    standard_context: Cow<'a, str>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredTable<'a> {
    #[serde(borrow)]
    title: Cow<'a, str>,
    headers: Cow<'a, [String]>,
    #[serde(borrow)]
    rows: Cow<'a, str>,
}

/// A command output as JSON text, for the cache.
pub fn output_to_json(output: &CommandOutput) -> String {
    let stored = Stored {
        raw: Cow::Borrowed(&output.raw),
        context: Cow::Borrowed(&output.context),
        assessments: output
            .assessments
            .iter()
            .map(|assessment| StoredAssessment {
                kind: Cow::Borrowed(crate::dispatch::kind_name(assessment.indicator.kind)),
                value: Cow::Borrowed(&assessment.indicator.value),
                verdict: Cow::Borrowed(verdict_name(assessment.verdict)),
                score: assessment.score,
                reason: Cow::Borrowed(&assessment.reason),
                standard_context: Cow::Borrowed(&assessment.standard_context),
            })
            .collect(),
        readable: output.readable.as_ref().map(|table| StoredTable {
            title: Cow::Borrowed(&table.title),
            headers: Cow::Borrowed(&table.headers),
            rows: Cow::Borrowed(&table.rows),
        }),
    };
    serde_json::to_string(&stored).expect("strings and numbers serialise")
}

/// The inverse of [`output_to_json`]; `None` for text it did not write.
pub fn output_from_json(text: &str) -> Option<CommandOutput> {
    let stored: Stored = serde_json::from_str(text).ok()?;
    let mut assessments = Vec::with_capacity(stored.assessments.len());
    for item in stored.assessments {
        assessments.push(Assessment {
            indicator: Indicator { kind: kind_from_name(&item.kind)?, value: item.value.into() },
            verdict: verdict_from_name(&item.verdict)?,
            score: item.score.map(|score| score.min(100)),
            reason: item.reason.into(),
            standard_context: item.standard_context.into(),
        });
    }
    Some(CommandOutput {
        raw: stored.raw.into(),
        context: stored.context.into(),
        assessments,
        readable: stored.readable.map(|table| Table {
            title: table.title.into(),
            headers: table.headers.into_owned(),
            rows: table.rows.into(),
        }),
    })
}

/// A verdict's name in reports.
pub fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Unknown => "unknown",
        Verdict::Benign => "benign",
        Verdict::Suspicious => "suspicious",
        Verdict::Malicious => "malicious",
    }
}

fn verdict_from_name(name: &str) -> Option<Verdict> {
    Some(match name {
        "unknown" => Verdict::Unknown,
        "benign" => Verdict::Benign,
        "suspicious" => Verdict::Suspicious,
        "malicious" => Verdict::Malicious,
        _ => return None,
    })
}

fn kind_from_name(name: &str) -> Option<IndicatorKind> {
    Some(match name {
        "ipv4" => IndicatorKind::Ipv4,
        "ipv6" => IndicatorKind::Ipv6,
        "cidr" => IndicatorKind::Cidr,
        "domain" => IndicatorKind::Domain,
        "url" => IndicatorKind::Url,
        "email" => IndicatorKind::Email,
        "md5" => IndicatorKind::Md5,
        "sha1" => IndicatorKind::Sha1,
        "sha256" => IndicatorKind::Sha256,
        "sha512" => IndicatorKind::Sha512,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.sqlite3")).unwrap();
        (dir, store)
    }

    #[test]
    fn utc_days_and_midnights() {
        assert_eq!(utc_day(0), "1970-01-01");
        // 2024-02-29T23:59:59Z, a leap day.
        assert_eq!(utc_day(1_709_251_199), "2024-02-29");
        assert_eq!(next_utc_midnight(1_709_251_199), "2024-03-01T00:00:00Z");
        assert_eq!(next_utc_midnight(1_709_251_200), "2024-03-02T00:00:00Z");
    }

    #[test]
    fn the_quota_stops_at_its_limit_and_survives_reopening() {
        let (dir, store) = store();
        let taken: Vec<(u32, u32)> =
            (0..3).map(|_| store.quota_take("vt", "2024-01-01", 2, 5).unwrap()).collect();
        // Two, two, then the one left of five.
        assert_eq!(taken, [(2, 2), (2, 4), (1, 5)]);
        drop(store);
        let reopened = Store::open(&dir.path().join("state.sqlite3")).unwrap();
        assert_eq!(reopened.quota_spent("vt", "2024-01-01").unwrap(), 5);
        assert_eq!(reopened.quota_take("vt", "2024-01-01", 1, 5).unwrap(), (0, 5));
        // Units given back can be taken again, once.
        reopened.quota_give_back("vt", "2024-01-01", 2).unwrap();
        assert_eq!(reopened.quota_take("vt", "2024-01-01", 4, 5).unwrap(), (2, 5));
        // Another day starts from nothing.
        assert_eq!(reopened.quota_take("vt", "2024-01-02", 1, 5).unwrap(), (1, 1));
    }

    #[test]
    fn queued_rows_are_seen_at_once_and_written_by_the_time_the_store_closes() {
        let (dir, store) = store();
        let key = |n: u32| CacheKey {
            provider: "p".into(),
            command: "ip".into(),
            indicator: format!("ipv4:192.0.2.{n}"),
            arguments: String::new(),
        };
        for n in 0..2000 {
            store.cache_put(&key(n), Cached::NotFound, Duration::from_secs(60));
            store.record_call(CallRecord {
                provider: "p".into(),
                command: "ip".into(),
                kind: "ipv4".into(),
                outcome: "not-found".into(),
                latency: Duration::from_millis(u64::from(n % 10)),
                cache_hit: false,
                rate_limits: 0,
            });
            // Whether its row is committed yet or not, the lookup finds it.
            assert!(matches!(store.cache_get(&key(n)).unwrap(), Some(Cached::NotFound)));
        }
        store.record_run(2000, Duration::from_secs(3));
        drop(store);

        let reopened = Store::open(&dir.path().join("state.sqlite3")).unwrap();
        assert_eq!(
            reopened.cache_rows().unwrap(),
            [CacheRows { provider: "p".into(), live: 2000, expired: 0 }]
        );
        assert!(matches!(reopened.cache_get(&key(1999)).unwrap(), Some(Cached::NotFound)));
        let stats = reopened.provider_stats(0).unwrap();
        assert_eq!(stats[0].calls, 2000);
        assert_eq!(stats[0].p50_ms, Some(4.0));
        assert_eq!(reopened.run_totals(0).unwrap(), (2000, 3000.0));
    }

    #[test]
    fn cached_outputs_read_back_as_written() {
        let (_dir, store) = store();
        let output = CommandOutput {
            raw: "{\"a\":1}".into(),
            context: "[]".into(),
            assessments: vec![Assessment {
                indicator: Indicator { kind: IndicatorKind::Ipv4, value: "192.0.2.1".into() },
                verdict: Verdict::Suspicious,
                score: Some(42),
                reason: "why".into(),
                standard_context: String::new(),
            }],
            readable: Some(Table {
                title: "T".into(),
                headers: vec!["A".into()],
                rows: "[]".into(),
            }),
        };
        let key = CacheKey {
            provider: "p".into(),
            command: "c".into(),
            indicator: "ipv4:192.0.2.1".into(),
            arguments: String::new(),
        };
        // The text kept in the file, as earlier builds wrote it too.
        assert_eq!(
            output_to_json(&output),
            r#"{"raw":"{\"a\":1}","context":"[]","assessments":[{"kind":"ipv4","value":"192.0.2.1","verdict":"suspicious","score":42,"reason":"why","standard_context":""}],"readable":{"title":"T","headers":["A"],"rows":"[]"}}"#
        );
        store.cache_put(&key, Cached::Answer(output.clone()), Duration::from_secs(60));
        // Once written, the lookup reads the file rather than the queue.
        store.flush();
        assert!(store.writer.pending().lock().unwrap().is_empty());
        let Some(Cached::Answer(back)) = store.cache_get(&key).unwrap() else {
            panic!("no answer cached")
        };
        assert_eq!(output_to_json(&back), output_to_json(&output));
        // A lifetime of zero is already over.
        store.cache_put(&key, Cached::NotFound, Duration::ZERO);
        assert!(store.cache_get(&key).unwrap().is_none());
        assert_eq!(
            store.cache_rows().unwrap(),
            [CacheRows { provider: "p".into(), live: 0, expired: 1 }]
        );
        assert_eq!(store.cache_purge(None, true).unwrap(), 1);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), Some(10.0));
        assert_eq!(percentile(&values, 0.95), Some(19.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
