//! The fake upstream: VirusTotal and AbuseIPDB on one loopback port.
//!
//! Every answer waits a set latency, as a distant API would, and carries the
//! recorded sample shape from `tests/data/samples` with the asked address in
//! its address field. Optionally each provider has a token bucket: past it
//! the answer is `429` with `Retry-After`, as the real services answer. The
//! fake counts what it received and sent per provider, and the most
//! requests it held at once, so each pipeline's figures come from the
//! server's side rather than from the client's own account.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// The two providers the fake stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    VirusTotal,
    AbuseIpdb,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::VirusTotal, Provider::AbuseIpdb];

    /// The provider's id in Ferret's configuration.
    pub fn id(self) -> &'static str {
        match self {
            Provider::VirusTotal => "virustotal",
            Provider::AbuseIpdb => "abuseipdb",
        }
    }

    fn index(self) -> usize {
        match self {
            Provider::VirusTotal => 0,
            Provider::AbuseIpdb => 1,
        }
    }

    /// The header the provider reads its key from.
    fn key_header(self) -> &'static str {
        match self {
            Provider::VirusTotal => "x-apikey",
            Provider::AbuseIpdb => "key",
        }
    }
}

/// How the fake behaves for one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    /// How long every answer takes.
    pub latency: Duration,
    /// Requests per second each provider accepts, if limited. The bucket
    /// holds one second's worth, the burst a per-second quota allows.
    pub per_second: Option<u32>,
}

/// What the fake counted for one provider since the last reset.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    /// Every request received.
    pub requests: u64,
    /// Answers `200` with the sample.
    pub answered: u64,
    /// Answers `429`.
    pub too_many: u64,
    /// Anything else: a missing key, an unknown path, a bad address.
    pub refused: u64,
}

/// The fake's counts for one pipeline's run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub per_provider: [Tally; 2],
    /// Most requests in progress at once, both providers together.
    pub peak_in_flight: u64,
    /// When the first request arrived, if one did.
    pub first_request: Option<Instant>,
}

impl Counts {
    /// Both providers added up.
    pub fn total(&self) -> Tally {
        let [a, b] = self.per_provider;
        Tally {
            requests: a.requests + b.requests,
            answered: a.answered + b.answered,
            too_many: a.too_many + b.too_many,
            refused: a.refused + b.refused,
        }
    }
}

/// A running fake upstream.
pub struct Upstream {
    pub address: SocketAddr,
    state: Arc<State>,
}

struct State {
    behaviour: Mutex<Behaviour>,
    buckets: [Mutex<Bucket>; 2],
    tallies: [ProviderCounters; 2],
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    first_request: Mutex<Option<Instant>>,
    /// The VirusTotal IP sample's body, with [`VT_SAMPLE_IP`] to replace.
    virustotal_body: String,
    /// The AbuseIPDB check sample's body, with [`ABUSEIPDB_SAMPLE_IP`].
    abuseipdb_body: String,
}

#[derive(Default)]
struct ProviderCounters {
    requests: AtomicU64,
    answered: AtomicU64,
    too_many: AtomicU64,
    refused: AtomicU64,
}

/// The address in `virustotal/ip_malicious.json`, replaced by the asked one.
const VT_SAMPLE_IP: &str = "203.0.113.66";
/// The address in `abuseipdb/check_malicious_verbose.json`.
const ABUSEIPDB_SAMPLE_IP: &str = "203.0.113.45";

impl Upstream {
    /// Binds `127.0.0.1:<free port>` and serves on the current runtime.
    pub async fn start(samples: &Path, behaviour: Behaviour) -> Self {
        let state = Arc::new(State {
            behaviour: Mutex::new(behaviour),
            buckets: [Mutex::new(Bucket::full(behaviour)), Mutex::new(Bucket::full(behaviour))],
            tallies: Default::default(),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            first_request: Mutex::new(None),
            virustotal_body: sample_body(
                &samples.join("virustotal/ip_malicious.json"),
                VT_SAMPLE_IP,
            ),
            abuseipdb_body: sample_body(
                &samples.join("abuseipdb/check_malicious_verbose.json"),
                ABUSEIPDB_SAMPLE_IP,
            ),
        });
        let shared = Arc::clone(&state);
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let state = Arc::clone(&shared);
            async move { answer(&state, uri, headers).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("loopback binds");
        let address = listener.local_addr().expect("a bound socket has an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Sets the behaviour for the next run, refills the buckets and zeroes
    /// the counts.
    pub fn reset(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
        for bucket in &self.state.buckets {
            *bucket.lock().unwrap() = Bucket::full(behaviour);
        }
        for tally in &self.state.tallies {
            for counter in [&tally.requests, &tally.answered, &tally.too_many, &tally.refused] {
                counter.store(0, Ordering::SeqCst);
            }
        }
        self.state.peak_in_flight.store(0, Ordering::SeqCst);
        *self.state.first_request.lock().unwrap() = None;
    }

    /// What was counted since the last reset.
    pub fn counts(&self) -> Counts {
        let tally = |provider: Provider| {
            let counters = &self.state.tallies[provider.index()];
            Tally {
                requests: counters.requests.load(Ordering::SeqCst),
                answered: counters.answered.load(Ordering::SeqCst),
                too_many: counters.too_many.load(Ordering::SeqCst),
                refused: counters.refused.load(Ordering::SeqCst),
            }
        };
        Counts {
            per_provider: Provider::ALL.map(tally),
            peak_in_flight: self.state.peak_in_flight.load(Ordering::SeqCst),
            first_request: *self.state.first_request.lock().unwrap(),
        }
    }
}

/// Reads a sample file's `body` as compact JSON text.
fn sample_body(file: &Path, address: &str) -> String {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|error| panic!("reading {}: {error}", file.display()));
    let sample: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", file.display()));
    let body = sample["body"].to_string();
    assert!(body.contains(address), "{} no longer holds {address}", file.display());
    body
}

/// A token bucket of one second's worth of requests.
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    updated: Instant,
}

impl Bucket {
    fn full(behaviour: Behaviour) -> Self {
        let per_second = behaviour.per_second.map_or(f64::INFINITY, f64::from);
        Self { tokens: per_second, capacity: per_second, per_second, updated: Instant::now() }
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        if self.per_second.is_infinite() {
            return Ok(());
        }
        let refill = (now - self.updated).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.per_second))
        }
    }
}

/// Decrements the in-flight count however the handler ends.
struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn answer(state: &State, uri: Uri, headers: HeaderMap) -> Response {
    let arrived = Instant::now();
    state.first_request.lock().unwrap().get_or_insert(arrived);
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _in_flight = InFlight(&state.in_flight);
    state.peak_in_flight.fetch_max(now, Ordering::SeqCst);

    let behaviour = *state.behaviour.lock().unwrap();
    let Some((provider, address)) = route(&uri) else {
        tokio::time::sleep(behaviour.latency).await;
        return (StatusCode::NOT_FOUND, format!("no route for {uri}")).into_response();
    };
    let counters = &state.tallies[provider.index()];
    counters.requests.fetch_add(1, Ordering::SeqCst);

    // The quota is checked when the request arrives; the answer, whatever
    // it is, still takes the latency to come back.
    let admitted = state.buckets[provider.index()].lock().unwrap().take(arrived);
    tokio::time::sleep(behaviour.latency).await;

    if headers.get(provider.key_header()).is_none_or(|key| key.is_empty()) {
        counters.refused.fetch_add(1, Ordering::SeqCst);
        let body = format!("missing {} header", provider.key_header());
        return (StatusCode::UNAUTHORIZED, body).into_response();
    }
    if let Err(wait) = admitted {
        counters.too_many.fetch_add(1, Ordering::SeqCst);
        let seconds = wait.as_secs_f64().ceil().max(1.0).to_string();
        let body = r#"{"errors":[{"detail":"Too many requests","status":429}]}"#;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, seconds.as_str()), (CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
    }
    if address.parse::<std::net::IpAddr>().is_err() {
        counters.refused.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::UNPROCESSABLE_ENTITY, format!("`{address}` is not an address"))
            .into_response();
    }

    counters.answered.fetch_add(1, Ordering::SeqCst);
    let body = match provider {
        Provider::VirusTotal => state.virustotal_body.replace(VT_SAMPLE_IP, &address),
        Provider::AbuseIpdb => state.abuseipdb_body.replace(ABUSEIPDB_SAMPLE_IP, &address),
    };
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

/// Which provider a request is for, and the address it asks about.
fn route(uri: &Uri) -> Option<(Provider, String)> {
    let path = uri.path();
    if let Some(address) = path.strip_prefix("/api/v3/ip_addresses/") {
        return Some((Provider::VirusTotal, address.to_owned()));
    }
    if path == "/api/v2/check" {
        let query = uri.query().unwrap_or_default();
        let address = url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "ipAddress")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        return Some((Provider::AbuseIpdb, address));
    }
    None
}
