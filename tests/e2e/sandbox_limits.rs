//! The hostile fixtures: each must end in its own named failure within its
//! limit, naming the provider and its version, and the same process must
//! then run a well-behaved command normally.

use std::time::{Duration, Instant};

use ferret_host::dispatch::{Ferret, Outcome};
use ferret_host::output::xsoar;
use serde_json::json;

use crate::support::{Fake, error_text, execute, ferret, guest_module, only_entry};

/// CPU time one call may spend, in the configuration below.
const CPU_MS: u64 = 300;

/// Small limits, each fixture sized to trip its own: the memory hog runs
/// into 32 MiB long before 300 ms; huge-output's 4 MiB string fits the 32
/// MiB but not the 1 MiB output cap; the flood passes 4 requests.
fn configuration(fake: &Fake) -> String {
    format!(
        "[sandbox]\ncpu_ms = {CPU_MS}\nmemory_mib = 32\ncall_timeout_seconds = 5\nhttp_timeout_seconds = 2\n\
         max_requests_per_call = 4\nmax_output_bytes = 1048576\n\
         [providers.echo]\nbase_url = \"{url}\"\n\
         [providers.request-flood]\nbase_url = \"{url}\"\n",
        url = fake.url()
    )
}

/// A fake upstream for the well-behaved `echo` and the flood's `/ping`.
async fn upstream() -> Fake {
    let fake = Fake::start().await;
    let verdict = r#"{"verdict":"malicious","score":90}"#;
    fake.reply(
        "GET",
        "/echo",
        &[("ip", "8.8.8.8")],
        200,
        &[("Content-Type", "application/json")],
        verdict,
    );
    fake.reply("GET", "/ping", &[], 200, &[], "pong");
    fake
}

async fn with_fixture(fake: &Fake, fixture: &str) -> Ferret {
    ferret(&configuration(fake), &[guest_module(fixture), guest_module("well-behaved")]).await
}

/// Runs the hostile `command`, checks its failure kind and message, and
/// returns how long it took.
async fn hostile(ferret: &Ferret, command: &str, kind: &str, message: &str) -> Duration {
    let started = Instant::now();
    let results = execute(ferret, command).await.expect("the command is accepted");
    let elapsed = started.elapsed();
    assert_eq!(results.len(), 1);
    match &results[0].outcome {
        Outcome::Failed(failure) => assert_eq!(failure.kind(), kind, "{failure}"),
        other => panic!("{command}: expected a sandbox failure, got {other:?}"),
    }
    assert_eq!(error_text(&xsoar::entry(&results[0])), message);
    elapsed
}

/// The well-behaved command, right after: it must answer normally.
async fn next_command_succeeds(ferret: &Ferret) {
    let entry = only_entry(ferret, "!echo-ip 8.8.8.8").await;
    assert_eq!(entry["Type"], 1, "{entry:#}");
    assert_eq!(entry["Contents"], json!({"verdict": "malicious", "score": 90}));
    assert_eq!(
        entry["EntryContext"]["Echo(val.Address && val.Address == obj.Address)"][0]["Address"],
        "8.8.8.8"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_loop_stops_at_its_cpu_deadline() {
    let fake = upstream().await;
    let ferret = with_fixture(&fake, "endless-loop").await;
    let message =
        format!("EndlessLoop (endless-loop 0.1.0) exceeded its CPU time limit of {CPU_MS} ms");
    let elapsed = hostile(&ferret, "!spin", "cpu-deadline", &message).await;
    // Stopped by its CPU budget, not by the 5 s call limit (which would be
    // a `timeout`): the budget is counted in instructions, so how long it
    // lasts in wall time depends on the machine and its load.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    eprintln!("endless loop stopped after {elapsed:?} for a {CPU_MS} ms budget");
    next_command_succeeds(&ferret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_hog_stops_at_the_memory_cap() {
    let fake = upstream().await;
    let ferret = with_fixture(&fake, "memory-hog").await;
    let message = "MemoryHog (memory-hog 0.1.0) exceeded its memory limit of 32 MiB";
    hostile(&ferret, "!grow", "memory-cap", message).await;
    next_command_succeeds(&ferret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_host_is_refused_before_sending() {
    let fake = upstream().await;
    let ferret = with_fixture(&fake, "undeclared-host").await;
    let message = "UndeclaredHost (undeclared-host 0.1.0) tried to reach `evil.example`, a host its manifest \
                   does not declare";
    hostile(&ferret, "!exfiltrate", "undeclared-host", message).await;
    next_command_succeeds(&ferret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_flood_ends_past_the_request_cap() {
    let fake = upstream().await;
    let ferret = with_fixture(&fake, "request-flood").await;
    let message =
        "RequestFlood (request-flood 0.1.0) made more than 4 outbound requests in one call";
    hostile(&ferret, "!flood", "request-cap", message).await;
    // The upstream saw the cap's worth of requests, not one more.
    assert_eq!(fake.seen_under("/ping").len(), 4);
    next_command_succeeds(&ferret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_output_is_refused_as_too_large() {
    let fake = upstream().await;
    let ferret = with_fixture(&fake, "huge-output").await;
    // 4 MiB of `A` between two quotes.
    let message = "HugeOutput (huge-output 0.1.0) returned 4194306 bytes of output, over the 1048576-byte cap";
    hostile(&ferret, "!huge", "output-too-large", message).await;
    next_command_succeeds(&ferret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_reported_with_its_message() {
    let fake = upstream().await;
    let ferret = with_fixture(&fake, "panics").await;
    let results = execute(&ferret, "!panic").await.unwrap();
    let Outcome::Failed(failure) = &results[0].outcome else { panic!("{:?}", results[0].outcome) };
    assert_eq!(failure.kind(), "panic");
    let text = error_text(&xsoar::entry(&results[0]));
    assert!(text.starts_with("Panics (panics 0.1.0) panicked: "), "{text}");
    assert!(text.ends_with("guest-panics: deliberate panic in run"), "{text}");
    next_command_succeeds(&ferret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_call_leaves_the_others_in_a_batch_alone() {
    // The flood and the echo in one process, one after the other, twice:
    // no state survives a call, so the second flood is capped the same.
    let fake = upstream().await;
    let ferret = with_fixture(&fake, "request-flood").await;
    for _ in 0..2 {
        let message =
            "RequestFlood (request-flood 0.1.0) made more than 4 outbound requests in one call";
        hostile(&ferret, "!flood", "request-cap", message).await;
        next_command_succeeds(&ferret).await;
    }
    assert_eq!(fake.seen_under("/ping").len(), 8);
}
