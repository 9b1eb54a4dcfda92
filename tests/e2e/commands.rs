//! Commands end to end: refusals before any request, fan-out with one
//! provider failing, the policy gate on a batch, de-duplication, secrets,
//! the contract check and redirects.

use std::time::{Duration, Instant};

use ferret_host::config::Config;
use ferret_host::sandbox::Sandbox;
use serde_json::Value;

use crate::support::{
    API_KEY, Fake, config, dbot, entries, error_text, ferret, only_entry, provider_module,
    provider_table, refusal, sample,
};

/// VirusTotal and AbuseIPDB on one fake, documentation ranges allowed.
fn both(fake: &Fake, extra: &str) -> String {
    format!(
        "[policy]\nallow_documentation_ranges = true\n{extra}{}{}",
        provider_table("virustotal", fake),
        provider_table("abuseipdb", fake)
    )
}

fn modules() -> Vec<std::path::PathBuf> {
    vec![provider_module("virustotal"), provider_module("abuseipdb")]
}

/// VirusTotal's clean answer for 8.8.8.8 and AbuseIPDB's unreported one,
/// served for 8.8.8.8.
fn serve_clean(fake: &Fake) {
    fake.serve(&sample("virustotal", "ip_clean"), &[]);
    let abuse = sample("abuseipdb", "check_clean_unreported")
        .body
        .to_string()
        .replace("198.51.100.20", "8.8.8.8");
    fake.reply(
        "GET",
        "/api/v2/check",
        &[("ipAddress", "8.8.8.8")],
        200,
        &[("Content-Type", "application/json")],
        &abuse,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cidr_is_refused_by_ip_naming_cidr() {
    let fake = Fake::start().await;
    let ferret = ferret(&both(&fake, ""), &modules()).await;
    let reason = refusal(&ferret, "!ip 8.8.4.0/24").await;
    assert_eq!(
        reason,
        "`8.8.4.0/24` is a CIDR network, which !ip does not take (it takes ipv4, ipv6); \
         use !abuseipdb-check-cidr-block for CIDR networks"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_given_to_url_is_refused_with_a_hint() {
    let fake = Fake::start().await;
    let ferret = ferret(&both(&fake, ""), &modules()).await;
    let reason = refusal(&ferret, "!url url=example.com").await;
    assert_eq!(
        reason,
        "`example.com` is a domain, which !url does not take (it takes url); use !domain for domains"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_required_argument_is_missing_before_any_request() {
    let fake = Fake::start().await;
    let ferret = ferret(&both(&fake, ""), &modules()).await;
    assert_eq!(
        refusal(&ferret, "!vt-file-scan file=").await,
        "missing argument \"file\": !vt-file-scan requires it"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_commands_and_arguments_are_named() {
    let fake = Fake::start().await;
    let ferret = ferret(&both(&fake, ""), &modules()).await;
    assert_eq!(
        refusal(&ferret, "!whois example.com").await,
        "unknown command !whois; `ferret providers list` shows the commands"
    );
    // `days` is AbuseIPDB's, so only `colour` is unknown to every provider.
    assert_eq!(
        refusal(&ferret, "!ip 8.8.8.8 days=3 colour=red").await,
        "!ip does not take \"colour\"; it takes: days, extended_data, ip, threshold, verbose"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_a_truncated_command_name_suggests_the_command_not_a_short_alias() {
    let fake = Fake::start().await;
    let ferret = ferret(&both(&fake, ""), &modules()).await;
    // `vt-ip` holds the alias `ip` too; the command it cuts short is meant.
    assert_eq!(
        refusal(&ferret, "!vt-ip").await,
        "unknown command !vt-ip; did you mean !vt-ip-scan?"
    );
    // A name that holds a known one still gets that one.
    assert_eq!(
        refusal(&ferret, "!ip-lookup").await,
        "unknown command !ip-lookup; did you mean !ip?"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k13_one_rate_limited_provider_does_not_sink_the_fan_out() {
    let fake = Fake::start().await;
    fake.serve(&sample("virustotal", "ip_clean"), &[]);
    fake.rate_limit("GET", "/api/v2/check", 30);
    let ferret = ferret(&both(&fake, ""), &modules()).await;
    let started = Instant::now();
    let all = entries(&ferret, "!ip 8.8.8.8").await;
    assert_eq!(all.len(), 2);
    assert_eq!(dbot(&all[0])["Vendor"], "VirusTotal");
    assert_eq!(dbot(&all[0])["Score"], 0);
    assert_eq!(
        error_text(&all[1]),
        "AbuseIPDB (abuseipdb 0.1.0): rate limited by the upstream; retry after 30 s"
    );
    // Thirty seconds is too long to wait inside a call: asked once, no
    // retry loop, and the command did not sit out the wait.
    assert_eq!(fake.seen_under("/api/v2/").len(), 1);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k15_an_upstream_that_never_answers_times_out_alone() {
    let fake = Fake::start().await;
    serve_clean(&fake);
    fake.never_answer("GET", "/api/v3/ip_addresses/8.8.8.8");
    let limits = "[sandbox]\nhttp_timeout_seconds = 1\ncall_timeout_seconds = 10\n";
    let ferret = ferret(&both(&fake, limits), &modules()).await;
    let started = Instant::now();
    let all = entries(&ferret, "!ip 8.8.8.8").await;
    let elapsed = started.elapsed();
    assert_eq!(
        error_text(&all[0]),
        "VirusTotal (virustotal 0.1.0): the upstream did not answer in time"
    );
    assert_eq!(dbot(&all[1])["Vendor"], "AbuseIPDB");
    assert_eq!(all[1]["Type"], 1);
    // Given up at the 1 s request limit, not the 10 s call limit.
    assert!(elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k15_the_call_time_limit_ends_a_call_waiting_on_the_network() {
    let fake = Fake::start().await;
    serve_clean(&fake);
    fake.never_answer("GET", "/api/v3/ip_addresses/8.8.8.8");
    let limits = "[sandbox]\nhttp_timeout_seconds = 30\ncall_timeout_seconds = 1\n";
    let ferret = ferret(&both(&fake, limits), &modules()).await;
    let started = Instant::now();
    let all = entries(&ferret, "!ip 8.8.8.8").await;
    let elapsed = started.elapsed();
    assert_eq!(
        error_text(&all[0]),
        "VirusTotal (virustotal 0.1.0) did not finish within the 1 s call time limit"
    );
    assert_eq!(dbot(&all[1])["Vendor"], "AbuseIPDB");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

const BATCH: &str =
    "!abuseipdb-check-ip ip=10.0.0.5,192.168.1.10,127.0.0.1,169.254.1.1,fc00::1,8.8.8.8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k05_non_routable_addresses_are_not_sent() {
    let fake = Fake::start().await;
    serve_clean(&fake);
    let ferret = ferret(&both(&fake, ""), &modules()).await;
    let all = entries(&ferret, BATCH).await;
    let summary: Vec<(String, u64, String)> = all
        .iter()
        .map(|entry| {
            let score = dbot(entry);
            (
                score["Indicator"].as_str().unwrap().to_owned(),
                score["Score"].as_u64().unwrap(),
                score["Message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected = [
        ("10.0.0.5", "not sent: private address (RFC 1918)"),
        ("192.168.1.10", "not sent: private address (RFC 1918)"),
        ("127.0.0.1", "not sent: loopback address (RFC 1122)"),
        ("169.254.1.1", "not sent: link-local address (RFC 3927)"),
        ("fc00::1", "not sent: unique local address (RFC 4193)"),
        ("8.8.8.8", ""),
    ];
    let expected: Vec<(String, u64, String)> =
        expected.iter().map(|(ip, why)| (ip.to_string(), 0, why.to_string())).collect();
    assert_eq!(summary, expected);
    // Each unsent address is a note, not an error.
    assert!(all.iter().all(|entry| entry["Type"] == 1), "{:#}", Value::Array(all.clone()));
    let asked: Vec<String> =
        fake.seen().iter().map(|seen| seen.query("ipAddress").unwrap().to_owned()).collect();
    assert_eq!(asked, ["8.8.8.8"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k05_an_internal_provider_receives_non_routable_addresses() {
    let fake = Fake::start().await;
    let body = sample("abuseipdb", "check_clean_unreported").body.to_string();
    fake.reply("GET", "/api/v2/check", &[], 200, &[("Content-Type", "application/json")], &body);
    let text = format!("{}internal = true\n", provider_table("abuseipdb", &fake));
    let ferret = ferret(&text, &[provider_module("abuseipdb")]).await;
    let all = entries(&ferret, BATCH).await;
    assert_eq!(all.len(), 6);
    let mut asked: Vec<String> =
        fake.seen().iter().map(|seen| seen.query("ipAddress").unwrap().to_owned()).collect();
    asked.sort();
    assert_eq!(
        asked,
        ["10.0.0.5", "127.0.0.1", "169.254.1.1", "192.168.1.10", "8.8.8.8", "fc00::1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k16_spellings_of_one_domain_make_one_call() {
    let fake = Fake::start().await;
    let body = sample("virustotal", "domain_malicious").body.to_string();
    fake.reply(
        "GET",
        "/api/v3/domains/example.com",
        &[],
        200,
        &[("Content-Type", "application/json")],
        &body,
    );
    let ferret = ferret(&both(&fake, ""), &modules()).await;
    let all = entries(&ferret, "!domain example.com.,example.com,EXAMPLE.com").await;
    assert_eq!(all.len(), 1, "{:#}", Value::Array(all.clone()));
    assert_eq!(dbot(&all[0])["Indicator"], "example.com");
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_without_its_key_is_not_configured() {
    let fake = Fake::start().await;
    serve_clean(&fake);
    let text = format!(
        "[providers.virustotal]\nbase_url = \"{}\"\n{}",
        fake.url(),
        provider_table("abuseipdb", &fake)
    );
    let ferret = ferret(&text, &modules()).await;
    let all = entries(&ferret, "!ip 8.8.8.8").await;
    assert_eq!(
        error_text(&all[0]),
        "VirusTotal (virustotal 0.1.0) is not configured: set FERRET_VIRUSTOTAL_API_KEY or the \
         [providers.virustotal] table in ferret.toml"
    );
    assert_eq!(all[1]["Type"], 1);
    assert!(fake.seen_under("/api/v3/").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_an_upstream_quoting_the_key_does_not_leak_it() {
    // An upstream that quotes the key back in its error, as some do.
    let fake = Fake::start().await;
    let quoted = format!(
        r#"{{"error":{{"code":"WrongCredentialsError","message":"Wrong API key {API_KEY}"}}}}"#
    );
    fake.reply(
        "GET",
        "/api/v3/ip_addresses/8.8.8.8",
        &[],
        401,
        &[("Content-Type", "application/json")],
        &quoted,
    );
    let echoed =
        format!(r#"{{"errors":[{{"detail":"bad input for key {API_KEY}","status":422}}]}}"#);
    fake.reply("GET", "/api/v2/check", &[], 422, &[("Content-Type", "application/json")], &echoed);
    fake.serve(&sample("virustotal", "domain_malicious"), &[]);
    let ferret = ferret(&both(&fake, ""), &modules()).await;

    let mut rendered = String::new();
    for line in [
        "!ip 8.8.8.8",
        "!domain login-verify.example.com",
        "!vt-ip-scan ip=8.8.8.8 extended_data=maybe",
    ] {
        let results = crate::support::execute(&ferret, line).await.unwrap();
        rendered.push_str(&Value::Array(ferret_host::output::xsoar::entries(&results)).to_string());
        rendered.push_str(&ferret_host::output::report::json(&results).to_string());
        rendered.push_str(&ferret_host::output::report::table(&results));
        rendered.push_str(&format!("{results:?}"));
    }
    assert!(rendered.contains("Wrong API key"), "the upstream's message is kept: {rendered}");
    assert!(!rendered.contains(API_KEY), "the key leaked: {rendered}");
    // It did go out, in the headers.
    assert!(fake.seen().iter().all(
        |seen| seen.header("x-apikey") == Some(API_KEY) || seen.header("key") == Some(API_KEY)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_an_undeclared_host_is_not_followed() {
    let fake = Fake::start().await;
    let elsewhere = Fake::start().await;
    // `localhost` is not a host VirusTotal declares, though it is this
    // machine: were the redirect followed, `elsewhere` would see it.
    let location = format!("http://localhost:{}/stolen", elsewhere.address.port());
    fake.reply("GET", "/api/v3/ip_addresses/8.8.8.8", &[], 302, &[("Location", &location)], "");
    let ferret = ferret(&both(&fake, ""), &[provider_module("virustotal")]).await;
    let text = error_text(&only_entry(&ferret, "!ip 8.8.8.8").await);
    assert!(
        text.starts_with("VirusTotal (virustotal 0.1.0): could not reach the upstream: "),
        "{text}"
    );
    assert!(text.contains("redirect to undeclared host `localhost` refused"), "{text}");
    assert_eq!(fake.seen().len(), 1);
    assert!(elsewhere.seen().is_empty());
}

/// `component` with every `from` replaced by `to`, which must be as long.
fn patched(component: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut bytes = component.to_vec();
    let mut at = 0;
    while let Some(found) =
        bytes[at..].windows(from.len()).position(|window| window == from.as_bytes())
    {
        bytes[at + found..at + found + to.len()].copy_from_slice(to.as_bytes());
        at += found + to.len();
    }
    bytes
}

async fn load_error(bytes: &[u8]) -> String {
    let config: Config = config("");
    let sandbox = Sandbox::new(&config.sandbox, None).unwrap();
    match sandbox.load(bytes, std::path::Path::new("patched.wasm")).await {
        Ok(module) => panic!("loaded {}", module.manifest.id),
        Err(error) => format!("{error:#}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_for_another_contract_version_is_refused_naming_both() {
    let original = std::fs::read(crate::support::guest_module("well-behaved")).unwrap();
    let error = load_error(&patched(
        &original,
        "ferret:provider/types@0.1.0",
        "ferret:provider/types@0.9.0",
    ))
    .await;
    assert_eq!(
        error,
        "refusing provider module patched.wasm: it was built for ferret:provider@0.9.0; this host speaks \
         ferret:provider@0.1.0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_importing_a_foreign_interface_is_refused() {
    let original = std::fs::read(crate::support::guest_module("well-behaved")).unwrap();
    let error =
        load_error(&patched(&original, "ferret:provider/log@0.1.0", "wasi:sockets/tcpxxx@0.1.0"))
            .await;
    assert_eq!(
        error,
        "refusing provider module patched.wasm: it imports `wasi:sockets/tcpxxx@0.1.0`, which Ferret does not \
         provide: providers may only use ferret:provider interfaces"
    );
}
