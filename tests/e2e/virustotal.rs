//! VirusTotal against the fake upstream: every recorded sample served, and
//! the XSOAR entry each one must give.

use serde_json::Value;

use crate::support::{
    API_KEY, Fake, dbot, error_text, ferret, only_entry, provider_module, provider_table, sample,
    sample_names,
};

const EICAR: &str = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
const UNKNOWN_FILE: &str = "752bb7ce1b5a2ccffac7154b9640027ccb45d7f5475fa23c6445f56479735e36";
const PHISHING_URL: &str = "http://login-verify.example.com/account/update.php";

/// A sample, the command that reaches it, and the DBot score expected with
/// the default thresholds (10 engines malicious, 5 suspicious) and with
/// `malicious-threshold = 5`; `None` for samples that give no score.
type Case = (&'static str, String, Option<(u8, u8)>);

fn cases() -> Vec<Case> {
    vec![
        // 8 engines flag it: suspicious by default, bad from 5.
        (
            "domain_malicious",
            "!vt-domain-scan domain=login-verify.example.com".into(),
            Some((2, 3)),
        ),
        ("error_401_wrong_key", "!vt-ip-scan ip=8.8.8.8".into(), None),
        ("error_429_quota_exceeded", "!vt-domain-scan domain=example.com".into(), None),
        // 62 engines flag EICAR: bad either way.
        ("file_eicar_malicious", format!("!vt-file-scan file={EICAR}"), Some((3, 3))),
        ("file_not_found_404", format!("!vt-file-scan file={UNKNOWN_FILE}"), Some((0, 0))),
        // No engine flags it, and "harmless" is no vouch: unknown, not good.
        ("ip_clean", "!vt-ip-scan ip=8.8.8.8".into(), Some((0, 0))),
        // 9 engines: under the default 10, so suspicious; bad from 5.
        ("ip_malicious", "!vt-ip-scan ip=203.0.113.66".into(), Some((2, 3))),
        ("url_malicious", format!("!vt-url-scan url={PHISHING_URL}"), Some((2, 3))),
    ]
}

fn configuration(fake: &Fake, malicious_threshold: Option<u32>) -> String {
    let mut text = String::from("[policy]\nallow_documentation_ranges = true\n");
    text.push_str(&provider_table("virustotal", fake));
    if let Some(threshold) = malicious_threshold {
        text.push_str(&format!(
            "[providers.virustotal.settings]\nmalicious-threshold = {threshold}\n"
        ));
    }
    text
}

#[test]
fn every_sample_has_a_case() {
    let covered: Vec<&str> = cases().iter().map(|(name, _, _)| *name).collect();
    assert_eq!(sample_names("virustotal"), covered);
}

async fn scores_under(threshold: Option<u32>) {
    let vt = provider_module("virustotal");
    for (name, line, expected) in cases() {
        let Some((default_score, low_threshold_score)) = expected else { continue };
        let fake = Fake::start().await;
        fake.serve(&sample("virustotal", name), &[]);
        let ferret = ferret(&configuration(&fake, threshold), std::slice::from_ref(&vt)).await;
        let entry = only_entry(&ferret, &line).await;
        let want = if threshold.is_some() { low_threshold_score } else { default_score };
        assert_eq!(entry["Type"], 1, "{name}: {entry:#}");
        assert_eq!(dbot(&entry)["Score"], want, "{name}: {entry:#}");
        assert_eq!(dbot(&entry)["Vendor"], "VirusTotal", "{name}");
        assert_eq!(dbot(&entry)["Reliability"], "C - Fairly reliable", "{name}");
        // The key went in VirusTotal's header, on the one request made.
        let seen = fake.seen();
        assert_eq!(seen.len(), 1, "{name}: {seen:?}");
        assert_eq!(seen[0].header("x-apikey"), Some(API_KEY), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_score_with_the_default_thresholds() {
    scores_under(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_score_with_a_malicious_threshold_of_five() {
    scores_under(Some(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_ip_gets_the_standard_object_with_malicious() {
    let fake = Fake::start().await;
    fake.serve(&sample("virustotal", "ip_malicious"), &[]);
    let ferret = ferret(&configuration(&fake, Some(5)), &[provider_module("virustotal")]).await;
    let entry = only_entry(&ferret, "!ip 203.0.113.66").await;
    let ip = &entry["EntryContext"]["IP(val.Address && val.Address == obj.Address)"][0];
    assert_eq!(ip["Address"], "203.0.113.66");
    assert_eq!(ip["ASN"], 64500);
    assert_eq!(ip["ASOwner"], "EXAMPLE-HOSTING-AS");
    assert_eq!(ip["Geo"]["Country"], "NL");
    assert_eq!(ip["DetectionEngines"], 94);
    assert_eq!(ip["PositiveDetections"], 9);
    assert_eq!(ip["Malicious"]["Vendor"], "VirusTotal");
    assert_eq!(
        ip["Malicious"]["Description"],
        "9/94 security vendors flagged it as malicious, 2 as suspicious"
    );
    // The vendor context is the upstream's `data`, bulky attributes left out.
    let vendor = &entry["EntryContext"]["VirusTotal.IP(val.id && val.id == obj.id)"][0];
    assert_eq!(vendor["id"], "203.0.113.66");
    assert!(vendor["attributes"].get("last_analysis_results").is_none(), "{vendor:#}");
    assert_eq!(entry["IndicatorTimeline"][0]["Message"], "VirusTotal marked the indicator as Bad");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_is_a_note_with_score_zero() {
    let fake = Fake::start().await;
    fake.serve(&sample("virustotal", "file_not_found_404"), &[]);
    let ferret = ferret(&configuration(&fake, None), &[provider_module("virustotal")]).await;
    let entry = only_entry(&ferret, &format!("!file {UNKNOWN_FILE}")).await;
    assert_eq!(entry["Type"], 1, "{entry:#}");
    assert_eq!(entry["Contents"], "No results found");
    let score = dbot(&entry);
    assert_eq!(score["Indicator"], UNKNOWN_FILE);
    assert_eq!(score["Type"], "file");
    assert_eq!(score["Score"], 0);
    assert_eq!(score["Message"], "No results found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_an_error_naming_the_variable() {
    let fake = Fake::start().await;
    fake.serve(&sample("virustotal", "error_401_wrong_key"), &[]);
    let ferret = ferret(&configuration(&fake, None), &[provider_module("virustotal")]).await;
    let text = error_text(&only_entry(&ferret, "!vt-ip-scan ip=8.8.8.8").await);
    assert_eq!(
        text,
        "VirusTotal (virustotal 0.1.0): the upstream refused the credential (Wrong API key); \
         set FERRET_VIRUSTOTAL_API_KEY or the [providers.virustotal] table in ferret.toml"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_exceeded_is_rate_limited_with_a_retry_time() {
    let fake = Fake::start().await;
    fake.serve(&sample("virustotal", "error_429_quota_exceeded"), &[]);
    let ferret = ferret(&configuration(&fake, None), &[provider_module("virustotal")]).await;
    let text = error_text(&only_entry(&ferret, "!domain example.com").await);
    // Without Retry-After the SDK assumes a minute.
    assert_eq!(
        text,
        "VirusTotal (virustotal 0.1.0): rate limited by the upstream; retry after 60 s"
    );
    // Without Retry-After the host backs off and retries twice, no more.
    assert_eq!(fake.seen().len(), 3, "{:?}", fake.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raw_contents_are_the_upstream_body() {
    let served = sample("virustotal", "domain_malicious");
    let fake = Fake::start().await;
    fake.serve(&served, &[]);
    let ferret = ferret(&configuration(&fake, None), &[provider_module("virustotal")]).await;
    let entry = only_entry(&ferret, "!domain login-verify.example.com").await;
    assert_eq!(entry["ContentsFormat"], "json");
    assert_eq!(entry["Contents"], served.body);
    let table: &Value = &entry["HumanReadable"];
    assert!(
        table
            .as_str()
            .unwrap()
            .starts_with("### VirusTotal Domain reputation for: login-verify.example.com\n"),
        "{table}"
    );
}
