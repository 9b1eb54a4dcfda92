//! Counters of the provider calls this process made, in Prometheus' text
//! format: what `GET /metrics` of the HTTP service serves.
//!
//! The figures live in memory and start at zero with the process, as
//! Prometheus expects; the state file's ledger (`ferret stats`) is what
//! survives restarts.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::store::CallRecord;

type Labels = Vec<(String, String)>;

/// Latency buckets, in seconds: from a cached answer to a slow upstream.
const LATENCY_BUCKETS: [f64; 12] =
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's counters.
pub struct Metrics {
    registry: Registry,
    calls: Family<Labels, Counter>,
    errors: Family<Labels, Counter>,
    rate_limited: Family<Labels, Counter>,
    cache_hits: Family<Labels, Counter>,
    quota_left: Family<Labels, Gauge>,
    latency: Family<Labels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every counter at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ferret");
        let calls = Family::<Labels, Counter>::default();
        let errors = Family::<Labels, Counter>::default();
        let rate_limited = Family::<Labels, Counter>::default();
        let cache_hits = Family::<Labels, Counter>::default();
        let quota_left = Family::<Labels, Gauge>::default();
        let latency =
            Family::<Labels, Histogram>::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register(
            "provider_calls",
            "Provider calls by outcome, cache answers included",
            calls.clone(),
        );
        registry.register(
            "provider_errors",
            "Provider calls that ended in an error",
            errors.clone(),
        );
        registry.register(
            "provider_rate_limited",
            "HTTP 429 answers from upstreams",
            rate_limited.clone(),
        );
        registry.register(
            "cache_hits",
            "Calls answered from the cache or by an identical call in flight",
            cache_hits.clone(),
        );
        registry.register(
            "quota_left",
            "Requests left in today's quota (UTC), for providers with a daily limit",
            quota_left.clone(),
        );
        registry.register(
            "provider_call_duration_seconds",
            "Time of provider calls that went upstream",
            latency.clone(),
        );
        Self { registry, calls, errors, rate_limited, cache_hits, quota_left, latency }
    }

    /// Counts one call.
    pub fn observe(&self, call: &CallRecord) {
        let provider = ("provider".to_owned(), call.provider.clone());
        self.calls
            .get_or_create(&vec![provider.clone(), ("outcome".into(), call.outcome.clone())])
            .inc();
        if matches!(call.outcome.as_str(), "provider-error" | "sandbox-failure" | "quota-exhausted")
        {
            self.errors.get_or_create(&vec![provider.clone()]).inc();
        }
        if call.cache_hit {
            self.cache_hits.get_or_create(&vec![provider]).inc();
        } else if !matches!(call.outcome.as_str(), "not-configured" | "not-sent") {
            self.latency.get_or_create(&vec![provider]).observe(call.latency.as_secs_f64());
        }
    }

    /// Counts a `429`.
    pub fn rate_limited(&self, provider: &str) {
        self.rate_limited.get_or_create(&vec![("provider".to_owned(), provider.to_owned())]).inc();
    }

    /// Sets a provider's quota left today.
    pub fn quota_left(&self, provider: &str, left: u32) {
        self.quota_left
            .get_or_create(&vec![("provider".to_owned(), provider.to_owned())])
            .set(i64::from(left));
    }

    /// The text exposition format, for `GET /metrics`.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String does not fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn calls_errors_hits_and_quota_are_rendered() {
        let metrics = Metrics::new();
        let call = |outcome: &str, cache_hit| CallRecord {
            provider: "virustotal".into(),
            command: "vt-ip-scan".into(),
            kind: "ipv4".into(),
            outcome: outcome.into(),
            latency: Duration::from_millis(30),
            cache_hit,
            rate_limits: 0,
        };
        metrics.observe(&call("answered", false));
        metrics.observe(&call("answered", true));
        metrics.observe(&call("provider-error", false));
        metrics.rate_limited("virustotal");
        metrics.quota_left("virustotal", 497);
        let text = metrics.render();
        for line in [
            "ferret_provider_calls_total{provider=\"virustotal\",outcome=\"answered\"} 2",
            "ferret_provider_calls_total{provider=\"virustotal\",outcome=\"provider-error\"} 1",
            "ferret_provider_errors_total{provider=\"virustotal\"} 1",
            "ferret_cache_hits_total{provider=\"virustotal\"} 1",
            "ferret_provider_rate_limited_total{provider=\"virustotal\"} 1",
            "ferret_quota_left{provider=\"virustotal\"} 497",
            "ferret_provider_call_duration_seconds_count{provider=\"virustotal\"} 2",
            "ferret_provider_call_duration_seconds_bucket{le=\"0.05\",provider=\"virustotal\"} 2",
        ] {
            assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
        }
    }
}
