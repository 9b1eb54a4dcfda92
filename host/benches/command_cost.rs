//! The host's own cost per command: instantiate, call, render.
//!
//! Run from the repository after `cargo xtask build`:
//!
//! ```text
//! cargo bench -p ferret-host --bench command_cost
//! ```
//!
//! A fake upstream on loopback answers every request at once. Each command
//! goes through the whole path a real one takes (parse, route, bind,
//! classify, gate, a fresh sandboxed instance, the provider's request
//! through the host's HTTP client, its parsing, the XSOAR rendering), and
//! the figures are split into the HTTP exchange on loopback and the rest,
//! which is the host's own cost. Figures are printed; nothing is asserted.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use ferret_host::command::parse_command_line;
use ferret_host::config::Config;
use ferret_host::dispatch::{Ferret, Outcome};
use ferret_host::output::xsoar;
use ferret_host::router::Registry;
use ferret_host::sandbox::Sandbox;
use ferret_host::schedule::{CallOptions, Priority};

const WARM_UP: usize = 200;
const RUNS: usize = 3_000;

/// One workload: a module, the command, and the body the fake answers.
struct Workload {
    label: &'static str,
    module: PathBuf,
    provider: &'static str,
    route: &'static str,
    command: &'static str,
    body: String,
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let sample = std::fs::read_to_string(
        root.join("tests/data/samples/abuseipdb/check_malicious_verbose.json"),
    )
    .expect("the AbuseIPDB sample is in tests/data");
    let sample: serde_json::Value = serde_json::from_str(&sample).expect("samples are JSON");
    let workloads = [
        Workload {
            label: "echo (tiny guest, 40-byte answer)",
            module: root.join("target/guests/well-behaved.wasm"),
            provider: "echo",
            route: "/echo",
            command: "!echo-ip 8.8.8.8",
            body: r#"{"verdict":"malicious","score":90}"#.to_owned(),
        },
        Workload {
            label: "abuseipdb (real provider, 1.4 KB verbose answer)",
            module: root.join("target/providers/abuseipdb.wasm"),
            provider: "abuseipdb",
            route: "/api/v2/check",
            command: "!abuseipdb-check-ip 8.8.8.8",
            body: sample["body"].to_string(),
        },
    ];
    let runtime = tokio::runtime::Runtime::new().expect("a runtime starts");
    for workload in &workloads {
        if !workload.module.is_file() {
            eprintln!("{} is missing: run `cargo xtask build` first", workload.module.display());
            std::process::exit(2);
        }
        runtime.block_on(measure(workload));
    }
}

async fn measure(workload: &Workload) {
    let body = workload.body.clone();
    let app = Router::new().route(
        workload.route,
        get(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("loopback binds");
    let address = listener.local_addr().expect("a bound socket has an address");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let cache = tempfile::tempdir().expect("a temporary folder");
    let config = Config::parse(&format!(
        "data_dir = {:?}\n[providers.{id}]\nbase_url = \"http://{address}\"\napi_key = \"bench-key\"\n\
         [providers.{id}.limits]\nper_second = 1000000\nper_minute = 100000000\nper_day = 100000000\n",
        cache.path(),
        id = workload.provider,
    ))
    .expect("the bench configuration parses");
    let sandbox =
        Sandbox::new(&config.sandbox, Some(&config.cache_dir())).expect("the engine starts");
    let registry = Registry::load_files(&sandbox, &config, std::slice::from_ref(&workload.module))
        .await
        .expect("the module loads");
    let ferret = Ferret::assemble(sandbox, registry, &config).expect("the host assembles");
    let line = parse_command_line(workload.command).expect("the command parses");
    let uncached = CallOptions { priority: Priority::Interactive, use_cache: false };

    let mut total = Vec::with_capacity(RUNS);
    let mut instantiate = Vec::with_capacity(RUNS);
    let mut exchange = Vec::with_capacity(RUNS);
    let mut render = Vec::with_capacity(RUNS);
    let mut own = Vec::with_capacity(RUNS);
    let started = Instant::now();
    for run in 0..WARM_UP + RUNS {
        let begun = Instant::now();
        // The same command each time: the cache would answer all but the
        // first, and the host's cost per call is what is measured here.
        let results = ferret.execute_with(&line, uncached).await.expect("the command runs");
        let rendered_at = Instant::now();
        let entries = xsoar::entries(&results);
        let end = Instant::now();
        assert!(matches!(results[0].outcome, Outcome::Answered(_)), "{:?}", results[0].outcome);
        assert_eq!(entries.len(), 1);
        if run < WARM_UP {
            continue;
        }
        let whole = end - begun;
        let upstream = results[0].stats.upstream;
        total.push(whole);
        instantiate.push(results[0].stats.instantiate);
        exchange.push(upstream);
        render.push(end - rendered_at);
        own.push(whole.saturating_sub(upstream));
    }
    let elapsed = started.elapsed();

    println!("{}: {RUNS} commands after {WARM_UP} warm-up", workload.label);
    report("whole command", &mut total);
    report("  instantiate", &mut instantiate);
    report("  HTTP exchange on loopback", &mut exchange);
    report("  render XSOAR entries", &mut render);
    report("host's own cost (whole less HTTP)", &mut own);
    let per_second = (WARM_UP + RUNS) as f64 / elapsed.as_secs_f64();
    println!("  {per_second:.0} commands per second, one at a time\n");
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction).round() as usize];
    println!("  {what:<36} median {:>8.1} µs   p99 {:>8.1} µs", micros(at(0.5)), micros(at(0.99)));
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
