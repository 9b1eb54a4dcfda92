//! The HTTP service under load: many clients at once against `ferret serve`
//! in this process, each request a whole `!abuseipdb-check-ip` (a fresh
//! sandboxed instance, the provider's request to a fake upstream on
//! loopback, the XSOAR entries).
//!
//! Run from the repository after `cargo xtask build`:
//!
//! ```text
//! cargo bench -p ferret-host --bench serve_load
//! ```
//!
//! It prints requests per second, latency percentiles, the failed request
//! count, and the process's resident memory before and after each round,
//! which should stay flat from one round to the next. Everything stays on
//! loopback. It exits with status 1 if any request failed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use ferret_host::config::{Config, Secret};
use ferret_host::dispatch::Ferret;
use ferret_host::router::Registry;
use ferret_host::sandbox::Sandbox;
use ferret_host::serve::{Service, Settings};
use serde_json::Value;

/// Clients sending at once, each waiting for its answer before the next.
const CLIENTS: usize = 64;
/// Requests each client sends per round.
const REQUESTS_PER_CLIENT: usize = 50;
/// Measured rounds after the warm-up round; memory is read after each.
const ROUNDS: usize = 3;
/// A round that takes longer than this stops early and says so.
const ROUND_LIMIT: Duration = Duration::from_secs(120);

const TOKEN: &str = "bench-token";

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let module = root.join("target/providers/abuseipdb.wasm");
    if !module.is_file() {
        eprintln!("{} is missing: run `cargo xtask build` first", module.display());
        std::process::exit(2);
    }
    let sample = std::fs::read_to_string(
        root.join("tests/data/samples/abuseipdb/check_malicious_verbose.json"),
    )
    .expect("the AbuseIPDB sample is in tests/data");
    let sample: Value = serde_json::from_str(&sample).expect("samples are JSON");
    let body = sample["body"].to_string();

    let runtime = tokio::runtime::Runtime::new().expect("a runtime starts");
    let failures = runtime.block_on(run(module, body));
    if failures > 0 {
        std::process::exit(1);
    }
}

async fn run(module: PathBuf, body: String) -> usize {
    let rss_at_start = rss_kib();
    let upstream = fake_upstream(body).await;

    // Limits far above the load, so that the figures are the service's,
    // not a rate limiter's.
    let cache = tempfile::tempdir().expect("a temporary folder");
    let config = Config::parse(&format!(
        "data_dir = {:?}\n[providers.abuseipdb]\nbase_url = \"http://{upstream}\"\n\
         api_key = \"bench-key\"\nlimits = {{ per_second = 1000000, per_minute = 60000000, \
         per_day = 2000000000 }}\n",
        cache.path(),
    ))
    .expect("the bench configuration parses");
    let sandbox =
        Sandbox::new(&config.sandbox, Some(&config.cache_dir())).expect("the engine starts");
    let registry = Registry::load_files(&sandbox, &config, &[module]).await.expect("module loads");
    let ferret = Arc::new(Ferret::assemble(sandbox, registry, &config).expect("host assembles"));
    let settings = Settings { token: Some(Secret::new(TOKEN)), ..Settings::from_config(&config) };
    println!(
        "ferret serve under load: {CLIENTS} clients x {REQUESTS_PER_CLIENT} requests per round, \
         {} commands at once at most, `!abuseipdb-check-ip` against a fake upstream on loopback",
        settings.max_concurrent_requests
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("loopback binds");
    let address = listener.local_addr().expect("a bound socket has an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = Service::new(ferret, settings);
    let server = tokio::spawn(ferret_host::serve::serve(listener, service, async move {
        let _ = stopped.await;
    }));
    let url = format!("http://{address}/v1/execute");
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().expect("an HTTP client");

    println!("  resident memory at start:           {:>8} KiB", rss_at_start);
    let warm_up = round(&client, &url, 0).await;
    println!(
        "  warm-up round: {} requests, {} failed; resident memory {:>8} KiB",
        warm_up.latencies.len() + warm_up.failures,
        warm_up.failures,
        rss_kib()
    );

    let mut failures = warm_up.failures;
    for number in 1..=ROUNDS {
        let mut result = round(&client, &url, number).await;
        failures += result.failures;
        let count = result.latencies.len() + result.failures;
        result.latencies.sort();
        let at = |fraction: f64| {
            let samples = &result.latencies;
            if samples.is_empty() {
                return Duration::ZERO;
            }
            samples[((samples.len() - 1) as f64 * fraction).round() as usize]
        };
        println!(
            "  round {number}: {count} requests in {:.2} s = {:.0} requests/s; latency p50 {:.1} ms, \
             p99 {:.1} ms, max {:.1} ms; {} failed{}; resident memory {:>8} KiB",
            result.elapsed.as_secs_f64(),
            count as f64 / result.elapsed.as_secs_f64(),
            millis(at(0.5)),
            millis(at(0.99)),
            millis(at(1.0)),
            result.failures,
            if result.cut_short { " (stopped at the time limit)" } else { "" },
            rss_kib()
        );
        if let Some(example) = &result.first_failure {
            println!("    first failure: {example}");
        }
    }
    println!("  peak resident memory:               {:>8} KiB", peak_rss_kib());
    println!("  failed requests in all:             {failures}");

    let _ = stop.send(());
    server.await.expect("the service task ends").expect("the service stops cleanly");
    failures
}

struct Round {
    latencies: Vec<Duration>,
    failures: usize,
    first_failure: Option<String>,
    elapsed: Duration,
    cut_short: bool,
}

/// One round: every client sends its requests one after another, each for
/// an address of its own, so no answer could come from a cache.
async fn round(client: &reqwest::Client, url: &str, number: usize) -> Round {
    let started = Instant::now();
    let deadline = started + ROUND_LIMIT;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let client = client.clone();
            let url = url.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(REQUESTS_PER_CLIENT);
                let mut failures = Vec::new();
                for request in 0..REQUESTS_PER_CLIENT {
                    if Instant::now() > deadline {
                        return (latencies, failures, true);
                    }
                    let ip = format!("45.{}.{}.{}", number + 1, id + 1, request + 1);
                    let begun = Instant::now();
                    match execute(&client, &url, &ip).await {
                        Ok(()) => latencies.push(begun.elapsed()),
                        Err(why) => failures.push(why),
                    }
                }
                (latencies, failures, false)
            })
        })
        .collect();
    let mut result = Round {
        latencies: Vec::new(),
        failures: 0,
        first_failure: None,
        elapsed: Duration::ZERO,
        cut_short: false,
    };
    for task in tasks {
        let (latencies, failures, cut_short) = task.await.expect("a client task ends");
        result.latencies.extend(latencies);
        result.failures += failures.len();
        result.first_failure = result.first_failure.or(failures.into_iter().next());
        result.cut_short |= cut_short;
    }
    result.elapsed = started.elapsed();
    result
}

/// One request; an error unless it is a 200 with exactly one note entry
/// scoring the address.
async fn execute(client: &reqwest::Client, url: &str, ip: &str) -> Result<(), String> {
    let body = format!(r#"{{"command": "!abuseipdb-check-ip", "args": {{"ip": "{ip}"}}}}"#);
    let response = client
        .post(url)
        .bearer_auth(TOKEN)
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|error| format!("{ip}: {error}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|error| format!("{ip}: {error}"))?;
    let answer: Value = serde_json::from_str(&text).map_err(|error| format!("{ip}: {error}"))?;
    let entries = answer["entries"].as_array();
    let scored = entries.is_some_and(|entries| {
        entries.len() == 1
            && entries[0]["Type"] == 1
            && entries[0]["EntryContext"][ferret_host::output::xsoar::DBOT_KEY][0]["Indicator"]
                == ip
    });
    if status.is_success() && scored { Ok(()) } else { Err(format!("{ip}: {status} {text}")) }
}

/// A fake AbuseIPDB that answers every check at once with the sample.
async fn fake_upstream(body: String) -> std::net::SocketAddr {
    let app = Router::new().route(
        "/api/v2/check",
        get(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("loopback binds");
    let address = listener.local_addr().expect("a bound socket has an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// `VmRSS` of this process, in KiB.
fn rss_kib() -> u64 {
    status_field("VmRSS:")
}

/// `VmHWM`, the peak resident memory of this process, in KiB.
fn peak_rss_kib() -> u64 {
    status_field("VmHWM:")
}

fn status_field(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
