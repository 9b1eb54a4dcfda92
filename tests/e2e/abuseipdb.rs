//! AbuseIPDB against the fake upstream: every recorded sample served, and
//! the `!ip` entry compared key by key with the real integration's shape.

use serde_json::json;

use crate::support::{
    API_KEY, DBOT, Fake, dbot, entries, error_text, ferret, only_entry, provider_module,
    provider_table, refusal, sample, sample_names,
};

const IP_KEY: &str = "IP(val.Address && val.Address == obj.Address)";
const ABUSEIPDB_KEY: &str = "AbuseIPDB(val.IP.Address && val.IP.Address == obj.IP.Address)";

fn configuration(fake: &Fake) -> String {
    format!("[policy]\nallow_documentation_ranges = true\n{}", provider_table("abuseipdb", fake))
}

#[test]
fn every_sample_is_covered_below() {
    assert_eq!(
        sample_names("abuseipdb"),
        [
            "check_block",
            "check_clean_unreported",
            "check_malicious_verbose",
            "error_401_bad_key",
            "error_422_invalid_ip",
            "error_429_daily_limit"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_malicious_sample_gives_the_real_integrations_entry() {
    let fake = Fake::start().await;
    fake.serve(&sample("abuseipdb", "check_malicious_verbose"), &["ipAddress"]);
    let ferret = ferret(&configuration(&fake), &[provider_module("abuseipdb")]).await;
    let entry = only_entry(&ferret, "!abuseipdb-check-ip ip=203.0.113.45").await;

    assert_eq!(entry["Type"], 1);
    assert_eq!(entry["ContentsFormat"], "json");
    assert_eq!(entry["ReadableContentsFormat"], "markdown");
    assert!(
        entry["HumanReadable"].as_str().unwrap().starts_with("### AbuseIPDB Analysis\n"),
        "{entry:#}"
    );
    let context = entry["EntryContext"].as_object().unwrap();
    let mut keys: Vec<&str> = context.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, [ABUSEIPDB_KEY, DBOT, IP_KEY]);

    let description = "abuse confidence 100/100 from 1043 reports (malicious from 80)";
    let geo = json!({"Country": "Netherlands", "CountryCode": "NL"});
    let malicious = json!({"Vendor": "AbuseIPDB", "Description": description});
    assert_eq!(
        context[IP_KEY],
        json!([{"Address": "203.0.113.45", "Geo": geo, "Malicious": malicious}])
    );

    let vendor = &context[ABUSEIPDB_KEY][0]["IP"];
    assert_eq!(vendor["Address"], "203.0.113.45");
    assert_eq!(vendor["AbuseConfidenceScore"], 100);
    assert_eq!(vendor["TotalReports"], 1043);
    assert_eq!(vendor["ISP"], "Example Hosting B.V.");
    assert_eq!(vendor["UsageType"], "Data Center/Web Hosting/Transit");
    assert_eq!(vendor["Domain"], "example.net");
    assert_eq!(vendor["Hostnames"], json!(["vps45.example.net"]));
    assert_eq!(vendor["IpVersion"], 4);
    assert_eq!(vendor["IsPublic"], true);
    assert_eq!(vendor["IsTor"], false);
    assert_eq!(vendor["IsWhitelisted"], false);
    assert_eq!(vendor["LastReportedAt"], "2024-06-01T12:34:56+00:00");
    assert_eq!(vendor["NumDistinctUsers"], 211);
    assert_eq!(vendor["Geo"], geo);
    // Category counts over the three verbose reports: 18+22, 14+23, 15+21.
    assert_eq!(
        vendor["Reports"],
        json!({"Port Scan": 1, "Hacking": 1, "Brute-Force": 1, "Web App Attack": 1, "SSH": 1, "IoT Targeted": 1})
    );
    assert_eq!(vendor["Malicious"], malicious);

    assert_eq!(
        context[DBOT],
        json!([{"Indicator": "203.0.113.45", "Type": "ip", "Vendor": "AbuseIPDB", "Score": 3,
                "Reliability": "C - Fairly reliable"}])
    );
    assert_eq!(
        entry["IndicatorTimeline"],
        json!([{"Value": "203.0.113.45", "Message": "AbuseIPDB marked the indicator as Bad",
                "Category": "Integration Update"}])
    );

    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("key"), Some(API_KEY));
    assert_eq!(seen[0].header("accept"), Some("application/json"));
    // The command's declared defaults were applied: 30 days, verbose.
    assert_eq!(seen[0].query("maxAgeInDays"), Some("30"));
    assert_eq!(seen[0].query("verbose"), Some(""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bang_ip_fans_out_to_virustotal_and_abuseipdb() {
    let fake = Fake::start().await;
    fake.serve(&sample("abuseipdb", "check_malicious_verbose"), &["ipAddress"]);
    // VirusTotal's recorded bad address, served for AbuseIPDB's address.
    let vt = sample("virustotal", "ip_malicious");
    let body = vt.body.to_string().replace("203.0.113.66", "203.0.113.45");
    fake.reply(
        "GET",
        "/api/v3/ip_addresses/203.0.113.45",
        &[],
        200,
        &[("Content-Type", "application/json")],
        &body,
    );
    let text = format!("{}{}", configuration(&fake), provider_table("virustotal", &fake));
    let ferret =
        ferret(&text, &[provider_module("virustotal"), provider_module("abuseipdb")]).await;

    let all = entries(&ferret, "!ip 203.0.113.45").await;
    let vendors: Vec<&str> =
        all.iter().map(|entry| dbot(entry)["Vendor"].as_str().unwrap()).collect();
    assert_eq!(vendors, ["VirusTotal", "AbuseIPDB"]);
    // 9 engines: suspicious under VirusTotal's default threshold of 10.
    assert_eq!(dbot(&all[0])["Score"], 2);
    assert_eq!(dbot(&all[1])["Score"], 3);
    assert_eq!(fake.seen_under("/api/v3/").len(), 1);
    assert_eq!(fake.seen_under("/api/v2/").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreported_address_is_unknown_not_good() {
    let fake = Fake::start().await;
    fake.serve(&sample("abuseipdb", "check_clean_unreported"), &["ipAddress"]);
    let ferret = ferret(&configuration(&fake), &[provider_module("abuseipdb")]).await;
    let entry = only_entry(&ferret, "!ip 198.51.100.20").await;
    assert_eq!(dbot(&entry)["Score"], 0);
    // Without a bad score there is no Malicious object anywhere.
    assert!(!entry.to_string().contains("Malicious"), "{entry:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_check_scores_each_reported_address() {
    let fake = Fake::start().await;
    fake.serve(&sample("abuseipdb", "check_block"), &["network"]);
    let ferret = ferret(&configuration(&fake), &[provider_module("abuseipdb")]).await;
    let entry =
        only_entry(&ferret, "!abuseipdb-check-cidr-block network=203.0.113.0/24 days=15").await;
    let scores: Vec<(String, u64)> = entry["EntryContext"][DBOT]
        .as_array()
        .unwrap()
        .iter()
        .map(|score| {
            (score["Indicator"].as_str().unwrap().to_owned(), score["Score"].as_u64().unwrap())
        })
        .collect();
    // 100 from 1043 reports is bad; 12 from 3 reports is weak evidence.
    assert_eq!(scores, [("203.0.113.45".to_owned(), 3), ("203.0.113.66".to_owned(), 0)]);
    assert_eq!(fake.seen()[0].query("maxAgeInDays"), Some("15"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_is_an_error_naming_the_variable() {
    let fake = Fake::start().await;
    fake.serve(&sample("abuseipdb", "error_401_bad_key"), &["ipAddress"]);
    let ferret = ferret(&configuration(&fake), &[provider_module("abuseipdb")]).await;
    let text = error_text(&only_entry(&ferret, "!ip 8.8.8.8").await);
    assert!(text.starts_with("AbuseIPDB (abuseipdb 0.1.0): the upstream refused the credential (Authentication failed."), "{text}");
    assert!(
        text.ends_with(
            "set FERRET_ABUSEIPDB_API_KEY or the [providers.abuseipdb] table in ferret.toml"
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_ip_answer_is_invalid_input() {
    // The host itself refuses `999.1.1.1`, so the recorded 422 is served
    // for an address that passes.
    let fake = Fake::start().await;
    let recorded = sample("abuseipdb", "error_422_invalid_ip");
    fake.reply(
        "GET",
        "/api/v2/check",
        &[],
        422,
        &[("Content-Type", "application/json")],
        &recorded.body.to_string(),
    );
    let ferret = ferret(&configuration(&fake), &[provider_module("abuseipdb")]).await;
    let text = error_text(&only_entry(&ferret, "!ip 8.8.4.4").await);
    assert_eq!(
        text,
        "AbuseIPDB (abuseipdb 0.1.0): invalid input: The ip address must be a valid IPv4 or IPv6 address \
         (e.g. 8.8.8.8 or 2001:4860:4860::8888)."
    );
    let reason = refusal(&ferret, "!ip 999.1.1.1").await;
    assert!(reason.contains("999.1.1.1"), "{reason}");
    assert_eq!(fake.seen().len(), 1, "the refused address made no request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_limit_is_a_spent_quota_asked_once() {
    let fake = Fake::start().await;
    fake.serve(&sample("abuseipdb", "error_429_daily_limit"), &["ipAddress"]);
    let ferret = ferret(&configuration(&fake), &[provider_module("abuseipdb")]).await;
    let text = error_text(&only_entry(&ferret, "!ip 8.8.8.8").await);
    // AbuseIPDB's 429 says "Daily rate limit": waiting 8 hours is no retry.
    assert_eq!(
        text,
        "AbuseIPDB (abuseipdb 0.1.0): the upstream's quota is spent; retry when its quota period renews"
    );
    // Retry-After 29241 s is far above what the host waits: one request.
    assert_eq!(fake.seen().len(), 1);
}
