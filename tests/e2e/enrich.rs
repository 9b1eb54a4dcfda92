//! Batch enrichment against counting fakes: one call per distinct
//! indicator and provider, rate limits that match the upstream's, pauses
//! after a 429 that hold one provider only, single-flight, and a cache and
//! daily quota that survive a restart and are never overspent.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferret_host::dispatch::{Ferret, Outcome};
use ferret_host::enrich::{EnrichOptions, Report, enrich};
use ferret_host::schedule::{CallOptions, Priority};
use ferret_host::store::{Store, next_utc_midnight, now_seconds, utc_day};

use crate::support::{API_KEY, CountingFake, ferret, fresh_state_file, provider_module, sample};

/// Configuration for VirusTotal and AbuseIPDB at their fakes. `top` holds
/// top-level keys and tables of its own; `vt_limits` and `abuse_limits`
/// the providers' `[limits]` bodies.
fn configuration(
    vt: &CountingFake,
    abuse: &CountingFake,
    top: &str,
    vt_limits: &str,
    abuse_limits: &str,
) -> String {
    format!(
        "{top}\n[policy]\nallow_documentation_ranges = true\n\
         [providers.virustotal]\nbase_url = \"{}\"\napi_key = \"{API_KEY}\"\n\
         [providers.virustotal.limits]\n{vt_limits}\n\
         [providers.abuseipdb]\nbase_url = \"{}\"\napi_key = \"{API_KEY}\"\n\
         [providers.abuseipdb.limits]\n{abuse_limits}\n",
        vt.url(),
        abuse.url()
    )
}

async fn fakes() -> (CountingFake, CountingFake) {
    let vt = CountingFake::start(&sample("virustotal", "ip_malicious")).await;
    let abuse = CountingFake::start(&sample("abuseipdb", "check_malicious_verbose")).await;
    (vt, abuse)
}

/// Configuration on a state file of its own, VirusTotal's daily quota
/// `per_day`; the file's path with it.
fn on_fresh_state_file(vt: &CountingFake, abuse: &CountingFake, per_day: u32) -> (String, PathBuf) {
    let state = fresh_state_file();
    let top = format!("state_file = {:?}", state.display().to_string());
    let limits = format!("per_minute = 60000\nper_day = {per_day}");
    (configuration(vt, abuse, &top, &limits, ""), state)
}

async fn both(text: &str) -> Ferret {
    ferret(text, &[provider_module("virustotal"), provider_module("abuseipdb")]).await
}

/// `count` distinct documentation addresses, one per line.
fn addresses(from: u32, count: u32) -> String {
    (from..from + count).map(|n| format!("203.0.113.{n}\n")).collect()
}

async fn run(ferret: &Ferret, input: &str) -> Report {
    enrich(ferret, input.as_bytes(), &EnrichOptions::default()).await.expect("enrich runs")
}

/// Each indicator's status at `provider`, in input order.
fn statuses(report: &Report, provider: &str) -> Vec<&'static str> {
    report
        .indicators
        .iter()
        .map(|indicator| {
            indicator.providers.iter().find(|p| p.provider == provider).expect(provider).status
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_duplicates_makes_one_call_per_indicator_and_provider() {
    let (vt, abuse) = fakes().await;
    let ferret = both(&configuration(&vt, &abuse, "", "per_minute = 60000", "")).await;
    // Three addresses, written six times, one of them defanged.
    let input = "203.0.113.5 and 203.0.113.6\n203.0.113.5 again, 203[.]0.113.7\n\
                 203.0.113.6 203.0.113.7\n";
    let report = run(&ferret, input).await;

    assert_eq!(report.indicators.len(), 3);
    let mut vt_paths: Vec<String> = vt.served().into_iter().map(|(_, path, _)| path).collect();
    vt_paths.sort();
    assert_eq!(
        vt_paths,
        [
            "/api/v3/ip_addresses/203.0.113.5",
            "/api/v3/ip_addresses/203.0.113.6",
            "/api/v3/ip_addresses/203.0.113.7"
        ]
    );
    assert_eq!(abuse.served().len(), 3);

    // Both providers answered with evidence: VirusTotal's 9 of 94 engines
    // is suspicious (5 to 9), AbuseIPDB's confidence 100 malicious.
    let first = &report.indicators[0];
    assert_eq!(first.value, "203.0.113.5");
    assert_eq!(first.occurrences, 2);
    assert_eq!(statuses(&report, "virustotal"), ["answered"; 3]);
    assert_eq!(statuses(&report, "abuseipdb"), ["answered"; 3]);
    let verdicts: Vec<_> =
        first.providers.iter().map(|p| (p.provider.as_str(), p.verdict)).collect();
    assert_eq!(verdicts, [("virustotal", Some("suspicious")), ("abuseipdb", Some("malicious"))]);
    // VirusTotal: 30 + 0.4 x its figure; AbuseIPDB: 70 + 0.3 x 100 = 100.
    let vt_figure = f64::from(first.providers[0].score.expect("VirusTotal gives a figure"));
    let expected = ((30.0 + 0.4 * vt_figure) * 60.0 + 100.0 * 40.0) / 100.0;
    assert_eq!(first.composite.score, Some((expected * 10.0).round() / 10.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_limit_that_ferrets_limit_matches_sees_no_excess() {
    // The upstream allows 5 answers in any 900 ms (a second, less a margin
    // for scheduling jitter); Ferret's limit is 5 a second.
    let (vt, abuse) = fakes().await;
    vt.limit(5, Duration::from_millis(900));
    let ferret =
        both(&configuration(&vt, &abuse, "", "per_second = 5\nper_minute = 60000", "")).await;
    let started = Instant::now();
    let report = run(&ferret, &addresses(10, 12)).await;

    assert_eq!(statuses(&report, "virustotal"), ["answered"; 12]);
    assert_eq!(vt.count(429), 0, "{:?}", vt.served());
    assert_eq!(vt.count(200), 12);
    // Twelve permits a fifth of a second apart: at least 11 x 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(2150), "{:?}", started.elapsed());

    // The same upstream with Ferret's limit set ten times higher does see
    // requests beyond its limit: the check above can fail.
    let (loose, abuse) = fakes().await;
    loose.limit(5, Duration::from_millis(900));
    let ferret =
        both(&configuration(&loose, &abuse, "", "per_second = 50\nper_minute = 60000", "")).await;
    run(&ferret, &addresses(30, 12)).await;
    assert!(loose.count(429) > 0, "{:?}", loose.served());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_neither_refetches_cached_results_nor_resets_the_quota() {
    let (vt, abuse) = fakes().await;
    let (text, _state) = on_fresh_state_file(&vt, &abuse, 3);

    let ferret = both(&text).await;
    let report = run(&ferret, &addresses(40, 2)).await;
    assert_eq!(statuses(&report, "virustotal"), ["answered", "answered"]);
    drop(ferret);

    // A new Ferret on the same state file: the two known addresses come
    // from the cache; of the two new ones, running at once, one takes the
    // last unit of the day's three and the other is refused until
    // midnight.
    let ferret = both(&text).await;
    let report = run(&ferret, &addresses(40, 4)).await;
    let vt_results: Vec<_> = report.indicators.iter().map(|i| &i.providers[0]).collect();
    let seen: Vec<(&str, bool)> = vt_results.iter().map(|p| (p.status, p.cached)).collect();
    assert_eq!(seen[..2], [("answered", true), ("answered", true)]);
    let mut fresh = seen[2..].to_vec();
    fresh.sort();
    assert_eq!(fresh, [("answered", false), ("quota-exhausted", false)]);
    assert_eq!(vt.served().len(), 3);
    let refused = vt_results.iter().find(|p| p.status == "quota-exhausted").unwrap();
    assert_eq!(
        refused.detail,
        format!(
            "VirusTotal (virustotal 0.1.0): quota exhausted until {} (its daily limit is spent)",
            next_utc_midnight(now_seconds())
        )
    );
    // AbuseIPDB has its own quota and cache: four calls over both runs,
    // two of them answered from the cache.
    assert_eq!(abuse.served().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_a_run_took_and_did_not_use_goes_back_to_the_state_file() {
    // A daily quota of 5,000 is taken from the file five units at a time.
    let (vt, abuse) = fakes().await;
    let (text, state) = on_fresh_state_file(&vt, &abuse, 5000);
    let today = utc_day(now_seconds());
    // Quotas are kept per provider and upstream: `virustotal@<base URL>`.
    let spent = |provider: &str| -> u64 {
        let accounts = Store::open(&state).unwrap().quota_spent_since(&today).unwrap();
        let prefix = format!("{provider}@");
        accounts.iter().filter(|(account, _)| account.starts_with(&prefix)).map(|(_, n)| n).sum()
    };

    let ferret = both(&text).await;
    run(&ferret, &addresses(60, 7)).await;
    // While it runs, a process holds whole blocks: seven calls took two.
    assert_eq!(spent("virustotal"), 10);
    drop(ferret);
    // Once it is gone, the file counts the calls made, no more.
    assert_eq!(vt.served().len(), 7);
    assert_eq!(spent("virustotal"), 7);
    assert_eq!(spent("abuseipdb"), 7);

    let ferret = both(&text).await;
    run(&ferret, &addresses(60, 9)).await;
    drop(ferret);
    // The second run asked for the two new addresses only.
    assert_eq!(spent("virustotal"), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_lifetimes_follow_the_indicators_kind_and_the_providers_own_table() {
    // Addresses are not reused at all, except by AbuseIPDB, whose own
    // table says an hour: a provider's table wins over a kind's.
    let (vt, abuse) = fakes().await;
    let top = "[cache.kind.ip]\nanswer_ttl_seconds = 0\n\
               [providers.abuseipdb.cache]\nanswer_ttl_seconds = 3600";
    let ferret = both(&configuration(&vt, &abuse, top, "per_minute = 60000", "")).await;
    for _ in 0..2 {
        let report = run(&ferret, "203.0.113.90\n").await;
        assert_eq!(statuses(&report, "virustotal"), ["answered"]);
    }
    assert_eq!(vt.served().len(), 2);
    assert_eq!(abuse.served().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_only_its_provider_and_the_call_is_retried() {
    let (vt, abuse) = fakes().await;
    vt.refuse_next(3);
    // One call at a time per provider, so that the order is plain.
    let top = "[scheduler]\nconcurrency = 1";
    let ferret = both(&configuration(&vt, &abuse, top, "per_minute = 60000", "")).await;
    let report = run(&ferret, &addresses(50, 3)).await;

    // The batch did not fail: every address answered by both.
    assert_eq!(statuses(&report, "virustotal"), ["answered"; 3]);
    assert_eq!(statuses(&report, "abuseipdb"), ["answered"; 3]);
    let served = vt.served();
    let statuses: Vec<u16> = served.iter().map(|(_, _, status)| *status).collect();
    assert_eq!(statuses, [429, 200, 200, 200]);
    // VirusTotal was quiet for the three seconds it asked for...
    let pause = served[1].0.duration_since(served[0].0);
    assert!(pause >= Duration::from_millis(2900), "{pause:?}");
    // ...while AbuseIPDB's calls went ahead within them.
    let abuse_last = abuse.served().last().expect("AbuseIPDB was asked").0;
    assert!(abuse_last < served[1].0, "AbuseIPDB waited for VirusTotal's pause");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_identical_calls_at_once_make_one_upstream_call() {
    let (vt, abuse) = fakes().await;
    vt.delay(Duration::from_millis(300));
    let ferret = both(&configuration(&vt, &abuse, "", "per_minute = 60000", "")).await;
    let line = ferret_host::command::parse_command_line("!vt-ip-scan ip=203.0.113.60").unwrap();
    // No cache: only single-flight can save the second request.
    let options = CallOptions { priority: Priority::Interactive, use_cache: false };
    let (first, second) =
        tokio::join!(ferret.execute_with(&line, options), ferret.execute_with(&line, options));
    let (first, second) = (first.unwrap(), second.unwrap());

    assert_eq!(vt.served().len(), 1);
    assert!(matches!(first[0].outcome, Outcome::Answered(_)), "{:?}", first[0].outcome);
    assert!(matches!(second[0].outcome, Outcome::Answered(_)), "{:?}", second[0].outcome);
    // Exactly one of them joined the other.
    assert_eq!([first[0].cache_hit, second[0].cache_hit].iter().filter(|hit| **hit).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_is_never_overspent_under_concurrency() {
    let (vt, abuse) = fakes().await;
    vt.delay(Duration::from_millis(20));
    let (text, _state) = on_fresh_state_file(&vt, &abuse, 5);
    // Two Ferrets on one state file, as two processes would be, each with
    // ten addresses of its own at once.
    let (one, two) = (both(&text).await, both(&text).await);
    let (input_one, input_two) = (addresses(100, 10), addresses(110, 10));
    let (first, second) = tokio::join!(run(&one, &input_one), run(&two, &input_two));

    assert_eq!(vt.served().len(), 5);
    let answered = [&first, &second]
        .iter()
        .flat_map(|report| statuses(report, "virustotal"))
        .filter(|status| *status == "answered")
        .count();
    assert_eq!(answered, 5);
    let refused = [&first, &second]
        .iter()
        .flat_map(|report| statuses(report, "virustotal"))
        .filter(|status| *status == "quota-exhausted")
        .count();
    assert_eq!(refused, 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deny_list_decides_and_the_providers_are_still_shown() {
    let (vt, abuse) = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let deny = dir.path().join("deny.txt");
    std::fs::write(&deny, "# known bad\n203.0.113.0/28\n").unwrap();
    let allow = dir.path().join("allow.txt");
    std::fs::write(&allow, "203.0.113.200\n").unwrap();
    let text = configuration(&vt, &abuse, "", "per_minute = 60000", "").replace(
        "[policy]\n",
        &format!(
            "[policy]\ndeny_list = {:?}\nallow_list = {:?}\n",
            deny.display().to_string(),
            allow.display().to_string()
        ),
    );
    let ferret = both(&text).await;
    let report = run(&ferret, "203.0.113.9 203.0.113.200").await;

    let denied = &report.indicators[0];
    assert_eq!(denied.composite.reasons[0], "on the deny-list (entry 203.0.113.0/28)");
    assert_eq!(ferret_host::store::verdict_name(denied.composite.verdict), "malicious");
    assert_eq!(denied.composite.disposition.as_str(), "block-candidate");
    assert_eq!(denied.providers.len(), 2);

    // The allow-listed address is benign and was sent nowhere.
    let allowed = &report.indicators[1];
    assert_eq!(allowed.composite.reasons[0], "on the allow-list (entry 203.0.113.200)");
    assert_eq!(allowed.composite.disposition.as_str(), "no-action");
    let shown: Vec<(&str, &str)> =
        allowed.providers.iter().map(|p| (p.status, p.detail.as_str())).collect();
    assert_eq!(shown, [("not-sent", "allow-listed"), ("not-sent", "allow-listed")]);
    assert_eq!(vt.served().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_enriches_the_phishing_example_with_no_keys_configured() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ferret.toml");
    std::fs::write(&config, format!("data_dir = {:?}\n", dir.path().display().to_string()))
        .unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ferret"));
    command
        .args(["--config", config.to_str().unwrap(), "enrich", "--format", "ndjson"])
        .arg(crate::support::workspace().join("examples/phishing.eml"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("FERRET_")) {
        command.env_remove(name);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let lines: Vec<serde_json::Value> =
        stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(!lines.is_empty(), "no indicator found in the example");
    for line in &lines {
        // Without keys nothing is known: unknown, never benign, unless the
        // gate kept it in.
        assert_eq!(line["verdict"], "unknown", "{line:#}");
        for provider in line["providers"].as_array().unwrap() {
            let status = provider["status"].as_str().unwrap();
            assert!(matches!(status, "not-configured" | "not-sent"), "{line:#}");
            if status == "not-configured" {
                let detail = provider["detail"].as_str().unwrap();
                let id = provider["provider"].as_str().unwrap();
                assert!(detail.contains(&format!("[providers.{id}]")), "{detail}");
                assert!(detail.contains("FERRET_"), "{detail}");
            }
        }
    }
}

/// Writes `ferret.toml` in `dir` for the binary: its data in `dir`,
/// VirusTotal at its fake, then `more`. Returns the file's path.
fn cli_config(dir: &std::path::Path, vt: &CountingFake, more: &str) -> PathBuf {
    let config = dir.join("ferret.toml");
    let text = format!(
        "data_dir = {:?}\n[policy]\nallow_documentation_ranges = true\n\
         [providers.virustotal]\nbase_url = \"{}\"\napi_key = \"{API_KEY}\"\n{more}",
        dir.display().to_string(),
        vt.url()
    );
    std::fs::write(&config, text).unwrap();
    config
}

/// Runs the `ferret` binary with configuration file `config`.
fn ferret_binary(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ferret"));
    command.arg("--config").arg(config).args(args);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("FERRET_")) {
        command.env_remove(name);
    }
    command.output().unwrap()
}

fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&text).unwrap_or_else(|error| {
        panic!("{error}: {text}\n{}", String::from_utf8_lossy(&output.stderr))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_cache_commands_read_the_ledger() {
    let (vt, _abuse) = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(dir.path(), &vt, "");
    let input = dir.path().join("ips.txt");
    std::fs::write(&input, "203.0.113.70\n203.0.113.71\n").unwrap();
    let input = input.to_str().unwrap();

    // The second run is answered from the cache.
    for _ in 0..2 {
        let output = ferret_binary(&config, &["enrich", "--format", "ndjson", input]);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 2);
    }
    assert_eq!(vt.served().len(), 2);

    let stats =
        stdout_json(&ferret_binary(&config, &["stats", "--since", "1h", "--format", "json"]));
    let vt_stats = stats["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["provider"] == "virustotal")
        .unwrap_or_else(|| panic!("{stats:#}"))
        .clone();
    assert_eq!(vt_stats["calls"], 4, "{stats:#}");
    assert_eq!(vt_stats["cache_hits"], 2);
    assert_eq!(vt_stats["cache_hit_rate"], 50.0);
    assert_eq!(vt_stats["errors"], 0);
    assert_eq!(vt_stats["rate_limited"], 0);
    assert_eq!(vt_stats["quota_spent"], 2);
    assert_eq!(stats["indicators"], 4);

    let cache = stdout_json(&ferret_binary(&config, &["cache", "stats", "--format", "json"]));
    assert_eq!(
        cache["providers"],
        serde_json::json!([{"provider": "virustotal", "live": 2, "expired": 0}])
    );
    assert_eq!((cache["hits"].as_u64(), cache["misses"].as_u64()), (Some(2), Some(2)));

    // A name that is neither a provider nor in the cache is refused, and
    // nothing is deleted.
    let refused = ferret_binary(&config, &["cache", "purge", "--provider", "virustota"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no provider is called `virustota`"), "{stderr}");
    let purged = ferret_binary(&config, &["cache", "purge", "--provider", "virustotal"]);
    assert_eq!(String::from_utf8_lossy(&purged.stdout), "purged 2 cached results of virustotal\n");
    let cache = stdout_json(&ferret_binary(&config, &["cache", "stats", "--format", "json"]));
    assert_eq!(cache["providers"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_goes_away_stops_the_batch_and_the_state_file_is_left_sound() {
    let (vt, _abuse) = fakes().await;
    vt.delay(Duration::from_millis(40));
    let dir = tempfile::tempdir().unwrap();
    // A daily quota of 100,000 is taken 100 units at a time.
    let limits = "[providers.virustotal.limits]\nper_minute = 600000\nper_day = 100000\n";
    let config = cli_config(dir.path(), &vt, limits);
    let input = dir.path().join("ips.txt");
    std::fs::write(&input, addresses(0, 200)).unwrap();

    // `ferret enrich ... | head -1`: one line read, then the pipe closed.
    let (config_path, input_path) = (config.clone(), input.clone());
    let status = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ferret"))
            .arg("--config")
            .arg(&config_path)
            .args(["enrich", "--format", "ndjson", "--providers", "virustotal"])
            .arg(&input_path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with('{'), "{line}");
        drop(stdout);
        child.wait().unwrap()
    })
    .await
    .unwrap();
    assert!(status.success(), "{status:?}");

    // Eight calls at once, 40 ms each: the 200 would have taken a second.
    // It stopped long before, asking for nothing it could not write.
    let served = vt.served().len() as u64;
    assert!(served < 100, "{served} of 200 asked");
    // The quota it took in blocks of 100 and did not use went back; what
    // stays spent is what it asked, and the calls cut short (each takes
    // its unit before it sends), at most one per call running at once.
    let store = Store::open(&dir.path().join("ferret.sqlite3")).unwrap();
    let spent: u64 =
        store.quota_spent_since(&utc_day(now_seconds())).unwrap().iter().map(|a| a.1).sum();
    assert!((served..=served + 8).contains(&spent), "{spent} spent for {served} asked");
    // Every answer that came back is in the cache, so a second run asks
    // only for the rest.
    let cached = store.cache_rows().unwrap();
    assert!(cached[0].live >= 1 && cached[0].live <= served, "{cached:?} for {served}");
}
