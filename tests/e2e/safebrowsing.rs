//! Google Safe Browsing against the fake upstream: every recorded sample
//! served, the lookup body checked, the key in the `key` query parameter.

use serde_json::{Value, json};

use crate::support::{
    API_KEY, DBOT, Fake, Seen, assert_no_results, context, context_keys, dbot, error_text, ferret,
    only_entry, provider_module, provider_table, sample, sample_file, sample_names,
};

const BRAND: &str = "GoogleSafeBrowsing";
const URL_KEY: &str = "URL(val.Data && val.Data == obj.Data)";
const GSB_KEY: &str = "GoogleSafeBrowsing.URL";
const PATH: &str = "/v4/threatMatches:find";
const MALWARE_URL: &str = "http://malware.testing.google.test/testing/malware/";

/// The samples were recorded by a client calling itself `ioc-enricher
/// 1.0.0`; the settings make Ferret say the same.
fn configuration(fake: &Fake) -> String {
    format!(
        "[policy]\nallow_documentation_ranges = true\n{}[providers.safebrowsing.settings]\n\
         client-id = \"ioc-enricher\"\nclient-version = \"1.0.0\"\n",
        provider_table("safebrowsing", fake)
    )
}

async fn safebrowsing(fake: &Fake) -> ferret_host::dispatch::Ferret {
    ferret(&configuration(fake), &[provider_module("safebrowsing")]).await
}

/// Every request received, each a JSON `POST` with the key in the query.
fn requests(fake: &Fake) -> Vec<Seen> {
    let seen = fake.seen();
    for request in &seen {
        assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", PATH));
        assert_eq!(request.query("key"), Some(API_KEY), "{request:?}");
        assert_eq!(request.header("content-type"), Some("application/json"));
    }
    seen
}

/// The recorded lookup body, asking about `url` alone: Ferret sends one
/// URL a lookup.
fn lookup_body(name: &str, url: &str) -> Value {
    let mut body = sample_file("safebrowsing", name)["request"]["body"].clone();
    body["threatInfo"]["threatEntries"] = json!([{"url": url}]);
    body
}

#[test]
fn every_sample_is_covered_below() {
    assert_eq!(
        sample_names("safebrowsing"),
        [
            "error_400_api_key_invalid",
            "error_429_resource_exhausted",
            "threatmatches_empty",
            "threatmatches_hit",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_url_is_bad_and_keeps_googles_match() {
    let fake = Fake::start().await;
    fake.serve(&sample("safebrowsing", "threatmatches_hit"), &[]);
    let ferret = safebrowsing(&fake).await;
    let entry = only_entry(&ferret, &format!("!url {MALWARE_URL}")).await;

    let description = "Google Safe Browsing lists it as MALWARE";
    assert_eq!(context_keys(&entry), [DBOT, GSB_KEY, URL_KEY]);
    // XSOAR's integration trusts Google's lists: B, usually reliable.
    assert_eq!(
        dbot(&entry),
        &json!({"Indicator": MALWARE_URL, "Type": "url", "Vendor": BRAND, "Score": 3,
                "Reliability": "B - Usually reliable"})
    );
    assert_eq!(
        context(&entry, URL_KEY),
        &[json!({"Data": MALWARE_URL, "Malicious": {"Vendor": BRAND, "Description": description}})]
    );
    assert_eq!(
        context(&entry, GSB_KEY),
        &[json!({"threatType": "MALWARE", "platformType": "ANY_PLATFORM",
                 "threat": {"url": MALWARE_URL}, "cacheDuration": "300s",
                 "threatEntryType": "URL"})]
    );
    assert!(
        entry["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with(&format!("### Google Safe Browsing APIs - URL Query: {MALWARE_URL}\n")),
        "{entry:#}"
    );

    let seen = requests(&fake);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json(), lookup_body("threatmatches_hit", MALWARE_URL));
    assert!(!entry.to_string().contains(API_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlisted_url_is_no_results_not_good() {
    let fake = Fake::start().await;
    fake.serve(&sample("safebrowsing", "threatmatches_empty"), &[]);
    let ferret = safebrowsing(&fake).await;
    let entry = only_entry(&ferret, "!gsb-url url=https://example.com/").await;
    // Google answering `{}` vouches for nothing.
    assert_no_results(&entry, "https://example.com/", "url", BRAND);
    assert_eq!(dbot(&entry)["Reliability"], "B - Usually reliable");

    let seen = requests(&fake);
    assert_eq!(seen.len(), 1);
    // Exactly the recorded request, which asked about this URL alone.
    assert_eq!(
        seen[0].json(),
        sample_file("safebrowsing", "threatmatches_empty")["request"]["body"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_key_is_unauthorized_though_google_says_400() {
    let fake = Fake::start().await;
    fake.serve(&sample("safebrowsing", "error_400_api_key_invalid"), &[]);
    let ferret = safebrowsing(&fake).await;
    let text = error_text(&only_entry(&ferret, "!url https://example.com/").await);
    assert_eq!(
        text,
        "GoogleSafeBrowsing (safebrowsing 0.1.0): the upstream refused the credential (API key \
         not valid. Please pass a valid API key.); set FERRET_SAFEBROWSING_API_KEY or the \
         [providers.safebrowsing] table in ferret.toml"
    );
    assert_eq!(requests(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_quota_is_a_spent_quota() {
    let fake = Fake::start().await;
    fake.serve(&sample("safebrowsing", "error_429_resource_exhausted"), &[]);
    let ferret = safebrowsing(&fake).await;
    let text = error_text(&only_entry(&ferret, "!url https://example.com/").await);
    // Google names a per-day limit: waiting minutes would not help.
    assert_eq!(
        text,
        "GoogleSafeBrowsing (safebrowsing 0.1.0): the upstream's quota is spent; retry when its \
         quota period renews"
    );
    // Without Retry-After the host retried twice before the provider read
    // the answer.
    let seen = requests(&fake);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(
        seen[0].json(),
        sample_file("safebrowsing", "error_429_resource_exhausted")["request"]["body"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_minute_429_is_rate_limited_with_a_retry_time() {
    // The recorded 429 with its limit reworded per minute, and a Retry-After
    // too long for the host to wait out.
    let recorded = sample("safebrowsing", "error_429_resource_exhausted");
    let body = recorded
        .body
        .to_string()
        .replace("LookupRequestsPerDayPerProject", "LookupRequestsPerMinutePerProject")
        .replace("requests per day", "requests per minute");
    let fake = Fake::start().await;
    fake.reply(
        "POST",
        PATH,
        &[],
        429,
        &[("Content-Type", "application/json"), ("Retry-After", "42")],
        &body,
    );
    let ferret = safebrowsing(&fake).await;
    let text = error_text(&only_entry(&ferret, "!url https://example.com/").await);
    assert_eq!(
        text,
        "GoogleSafeBrowsing (safebrowsing 0.1.0): rate limited by the upstream; retry after 42 s"
    );
    assert_eq!(requests(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_module_looks_up_one_harmless_url() {
    let fake = Fake::start().await;
    fake.serve(&sample("safebrowsing", "threatmatches_empty"), &[]);
    let ferret = safebrowsing(&fake).await;
    let entry = only_entry(&ferret, "!test-module").await;
    assert_eq!(entry, json!({"Type": 1, "ContentsFormat": "text", "Contents": "ok"}));
    let seen = requests(&fake);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json(), lookup_body("threatmatches_empty", "https://example.com/"));

    fake.serve(&sample("safebrowsing", "error_400_api_key_invalid"), &[]);
    let text = error_text(&only_entry(&ferret, "!test-module").await);
    assert!(
        text.ends_with(
            "set FERRET_SAFEBROWSING_API_KEY or the [providers.safebrowsing] table in ferret.toml"
        ),
        "{text}"
    );
}
