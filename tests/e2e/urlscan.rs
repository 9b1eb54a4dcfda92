//! urlscan.io against the fake upstream: every recorded sample served; the
//! reputation lookup searches first and fetches the newest scan's result;
//! a submission answers with the scan's id at once and a later command
//! fetches the verdict, a scan still running being no error.

use serde_json::{Value, json};

use crate::support::{
    API_KEY, DBOT, Fake, Seen, assert_no_results, context, context_keys, dbot, error_text, ferret,
    only_entry, provider_module, provider_table, sample, sample_file, sample_names,
};

const BRAND: &str = "urlscan.io";
const URL_KEY: &str = "URL(val.Data && val.Data == obj.Data)";
const URLSCAN_KEY: &str = "URLScan(val.URL && val.URL == obj.URL)";
const SUBMISSION_KEY: &str = "URLScan.Submission(val.ScanID && val.ScanID == obj.ScanID)";

const PHISHING_URL: &str = "https://login-verify.example.com/account/update.php";
const SCAN_ID: &str = "0196d977-aaaa-7bbb-8ccc-dddddddddddd";
const SEARCH_PATH: &str = "/api/v1/search/";
const SCAN_PATH: &str = "/api/v1/scan/";

fn result_path() -> String {
    format!("/api/v1/result/{SCAN_ID}/")
}

fn configuration(fake: &Fake) -> String {
    format!("[policy]\nallow_documentation_ranges = true\n{}", provider_table("urlscan", fake))
}

async fn urlscan(fake: &Fake) -> ferret_host::dispatch::Ferret {
    ferret(&configuration(fake), &[provider_module("urlscan")]).await
}

/// Every request received, each checked for the key in `API-Key`.
fn requests(fake: &Fake) -> Vec<Seen> {
    let seen = fake.seen();
    for request in &seen {
        assert_eq!(request.header("api-key"), Some(API_KEY), "{request:?}");
    }
    seen
}

/// The query the reputation lookup asks: scans of exactly this URL.
fn url_query(url: &str) -> String {
    format!("task.url:\"{url}\" OR page.url:\"{url}\"")
}

#[test]
fn every_sample_is_covered_below() {
    assert_eq!(
        sample_names("urlscan"),
        [
            "error_401_no_api_key",
            "error_429_rate_limited",
            "result_404_not_finished",
            "result_malicious",
            "scan_submit_ok",
            "search_empty",
            "search_hits",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_writes_one_urlscan_object_per_hit() {
    let fake = Fake::start().await;
    fake.serve(&sample("urlscan", "search_hits"), &["q", "size"]);
    let ferret = urlscan(&fake).await;
    let entry = only_entry(&ferret, "!urlscan-search searchParameter=example.com limit=100").await;

    // Hits carry no verdict: context only.
    assert_eq!(context_keys(&entry), [URLSCAN_KEY]);
    assert_eq!(
        context(&entry, URLSCAN_KEY),
        &[
            json!({"URL": "https://example.com/", "Domain": "example.com", "ASN": "AS64501",
                   "IP": "198.51.100.34", "ScanID": "0196d976-07f6-7aae-8a57-aa019145f31c",
                   "ScanDate": "2024-06-01T10:11:12.345Z"}),
            json!({"URL": PHISHING_URL, "Domain": "login-verify.example.com", "ASN": "AS64500",
                   "IP": "203.0.113.66", "ScanID": "0196d976-1b2c-7d3e-8f40-5a6b7c8d9e0f",
                   "ScanDate": "2024-05-31T09:00:00.000Z"}),
        ]
    );
    assert!(
        entry["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with("### urlscan.io results for domain:example.com: 2 of 2\n"),
        "{entry:#}"
    );

    let seen = requests(&fake);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].query("q"), Some("domain:example.com"));
    assert_eq!(seen[0].query("size"), Some("100"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_search_is_an_empty_table() {
    let fake = Fake::start().await;
    fake.serve(&sample("urlscan", "search_empty"), &["q", "size"]);
    let ferret = urlscan(&fake).await;
    let entry =
        only_entry(&ferret, "!urlscan-search searchParameter=unseen-domain.example limit=100")
            .await;
    assert_eq!(entry["Type"], 1, "{entry:#}");
    assert_eq!(entry["EntryContext"], json!({}));
    assert!(
        entry["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with("### urlscan.io results for domain:unseen-domain.example: 0 of 0\n"),
        "{entry:#}"
    );
    assert_eq!(requests(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bang_url_searches_first_then_judges_the_newest_scan() {
    // The recorded search hit for the phishing page, pointing at the scan
    // whose result was recorded.
    let hits = sample("urlscan", "search_hits");
    let mut hit = hits.body["results"][1].clone();
    hit["_id"] = json!(SCAN_ID);
    let search = json!({"results": [hit], "total": 1, "took": 3, "has_more": false});
    let query = url_query(PHISHING_URL);

    let fake = Fake::start().await;
    fake.reply(
        "GET",
        SEARCH_PATH,
        &[("q", &query)],
        200,
        &[("Content-Type", "application/json")],
        &search.to_string(),
    );
    fake.serve(&sample("urlscan", "result_malicious"), &[]);
    let ferret = urlscan(&fake).await;
    let entry = only_entry(&ferret, &format!("!url {PHISHING_URL}")).await;

    let description = "urlscan.io found it malicious (phishing), score 100";
    assert_eq!(context_keys(&entry), [DBOT, URL_KEY, URLSCAN_KEY]);
    assert_eq!(
        dbot(&entry),
        &json!({"Indicator": PHISHING_URL, "Type": "url", "Vendor": BRAND, "Score": 3,
                "Reliability": "C - Fairly reliable"})
    );
    assert_eq!(
        context(&entry, URL_KEY),
        &[json!({"Data": PHISHING_URL, "ASN": "AS64500", "ASOwner": "EXAMPLE-HOSTING-AS, NL",
                 "Geo": {"Country": "NL"},
                 "Malicious": {"Vendor": BRAND, "Description": description}})]
    );
    let scan = &context(&entry, URLSCAN_KEY)[0];
    assert_eq!(scan["URL"], PHISHING_URL);
    assert_eq!(scan["Data"], PHISHING_URL);
    assert_eq!(scan["ScanID"], SCAN_ID);
    assert_eq!(scan["ScanDate"], "2024-06-01T10:12:30.000Z");
    assert_eq!(scan["EffectiveURL"], PHISHING_URL);
    assert_eq!(scan["IP"], "203.0.113.66");
    assert_eq!(scan["ASN"], "AS64500");
    assert_eq!(scan["RelatedIPs"], json!(["203.0.113.66"]));
    assert_eq!(scan["RelatedASNs"], json!(["64500"]));
    assert_eq!(scan["Countries"], json!(["NL"]));
    assert_eq!(
        scan["RelatedHash"],
        json!(["67c1bc796bffe9169be3ef87dd8af4e8776d04484812a5bfdc7c5c9042aed1ca"])
    );
    assert_eq!(scan["Subdomains"], json!(["login-verify.example.com"]));
    assert_eq!(scan["Score"], 100);
    assert_eq!(scan["Categories"], json!(["phishing"]));
    assert_eq!(scan["Malicious"], json!({"Vendor": BRAND, "Description": description}));

    // Two requests: the search for exactly this URL, then the result.
    let seen = requests(&fake);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("GET", SEARCH_PATH));
    assert_eq!(seen[0].query("q"), Some(query.as_str()));
    assert_eq!(seen[0].query("size"), Some("1"));
    assert_eq!((seen[1].method.as_str(), seen[1].path.clone()), ("GET", result_path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_urlscan_never_scanned_is_no_results_and_is_not_submitted() {
    let fake = Fake::start().await;
    let url = "https://unseen-domain.example/";
    let query = url_query(url);
    fake.serve_at(&sample("urlscan", "search_empty"), "GET", SEARCH_PATH, &[("q", &query)]);
    let ferret = urlscan(&fake).await;
    let entry = only_entry(&ferret, &format!("!urlscan-url url={url}")).await;
    assert_no_results(&entry, url, "url", BRAND);
    // One search; a lookup never submits a scan.
    let seen = requests(&fake);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path, SEARCH_PATH);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_gives_the_scan_id_at_once_and_the_verdict_comes_later() {
    let fake = Fake::start().await;
    fake.serve(&sample("urlscan", "scan_submit_ok"), &[]);
    fake.serve(&sample("urlscan", "result_404_not_finished"), &[]);
    let ferret = urlscan(&fake).await;

    let submitted =
        only_entry(&ferret, &format!("!urlscan-submit url={PHISHING_URL} tags=ioc-enrich")).await;
    assert_eq!(context_keys(&submitted), [SUBMISSION_KEY]);
    assert_eq!(
        context(&submitted, SUBMISSION_KEY),
        &[json!({"ScanID": SCAN_ID, "URL": PHISHING_URL, "Visibility": "public",
                 "ReportURL": format!("https://urlscan.io/result/{SCAN_ID}/")})]
    );
    assert!(
        submitted["HumanReadable"].as_str().unwrap().starts_with(&format!(
            "### urlscan.io is scanning {PHISHING_URL}; run !urlscan-get-result uuid={SCAN_ID} \
             in a minute\n"
        )),
        "{submitted:#}"
    );
    let seen = requests(&fake);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", SCAN_PATH));
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    // The body is the recorded one: URL, the default visibility, the tags.
    assert_eq!(seen[0].json(), sample_file("urlscan", "scan_submit_ok")["request"]["body"]);

    // Still running: a note saying so, not an error.
    let pending = only_entry(&ferret, &format!("!urlscan-get-result uuid={SCAN_ID}")).await;
    assert_eq!(pending["Type"], 1, "{pending:#}");
    assert_eq!(pending["Contents"], json!({"uuid": SCAN_ID, "status": "pending"}));
    assert_eq!(pending["EntryContext"], json!({}));
    assert!(
        pending["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with("### urlscan.io scan not finished yet; retry in a few seconds\n"),
        "{pending:#}"
    );

    // Finished: the verdict, on the URL the scan was submitted with.
    fake.serve(&sample("urlscan", "result_malicious"), &[]);
    let finished = only_entry(&ferret, &format!("!urlscan-get-result uuid={SCAN_ID}")).await;
    assert_eq!(dbot(&finished)["Indicator"], PHISHING_URL);
    assert_eq!(dbot(&finished)["Score"], 3);
    assert_eq!(dbot(&finished)["Vendor"], BRAND);
    assert_eq!(context(&finished, URLSCAN_KEY)[0]["ScanID"], SCAN_ID);

    let seen = requests(&fake);
    let paths: Vec<(&str, &str)> =
        seen.iter().map(|request| (request.method.as_str(), request.path.as_str())).collect();
    let result = result_path();
    assert_eq!(paths, [("POST", SCAN_PATH), ("GET", result.as_str()), ("GET", result.as_str())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uuid_that_is_no_uuid_never_reaches_the_path() {
    let fake = Fake::start().await;
    let ferret = urlscan(&fake).await;
    let text = error_text(&only_entry(&ferret, "!urlscan-get-result uuid=../../user/quotas").await);
    assert_eq!(
        text,
        "urlscan.io (urlscan 0.1.0): invalid input: argument `uuid` must be a scan UUID such as \
         0196d977-aaaa-7bbb-8ccc-dddddddddddd, not `../../user/quotas`"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_is_an_error_naming_the_variable() {
    let fake = Fake::start().await;
    fake.serve(&sample("urlscan", "error_401_no_api_key"), &[]);
    let ferret = urlscan(&fake).await;
    let text = error_text(&only_entry(&ferret, "!urlscan-submit url=https://example.com/").await);
    assert_eq!(
        text,
        "urlscan.io (urlscan 0.1.0): the upstream refused the credential (No API key supplied. \
         Please supply a valid API key in the \"api-key\" HTTP header.); set \
         FERRET_URLSCAN_API_KEY or the [providers.urlscan] table in ferret.toml"
    );
    let seen = requests(&fake);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json(), sample_file("urlscan", "error_401_no_api_key")["request"]["body"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_minute_is_rate_limited_for_as_long_as_urlscan_says() {
    let fake = Fake::start().await;
    fake.serve(&sample("urlscan", "error_429_rate_limited"), &["q"]);
    let ferret = urlscan(&fake).await;
    let text =
        error_text(&only_entry(&ferret, "!urlscan-search searchParameter=example.com").await);
    // X-Rate-Limit-Reset-After: 17.
    assert_eq!(text, "urlscan.io (urlscan 0.1.0): rate limited by the upstream; retry after 17 s");
    // No Retry-After: the host backed off and retried twice first.
    let seen = requests(&fake);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].query("size"), Some("20"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raw_contents_are_urlscans_body() {
    let served = sample("urlscan", "result_malicious");
    let fake = Fake::start().await;
    fake.serve(&served, &[]);
    let ferret = urlscan(&fake).await;
    let entry = only_entry(&ferret, &format!("!urlscan-get-result uuid={SCAN_ID}")).await;
    let contents: &Value = &entry["Contents"];
    assert_eq!(contents, &served.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bang_url_with_a_scan_still_running_is_unknown_with_what_the_search_knows() {
    let hits = sample("urlscan", "search_hits");
    let mut hit = hits.body["results"][1].clone();
    hit["_id"] = json!(SCAN_ID);
    let search = json!({"results": [hit], "total": 1, "took": 3, "has_more": false});
    let fake = Fake::start().await;
    fake.reply(
        "GET",
        SEARCH_PATH,
        &[("q", &url_query(PHISHING_URL))],
        200,
        &[("Content-Type", "application/json")],
        &search.to_string(),
    );
    fake.serve(&sample("urlscan", "result_404_not_finished"), &[]);
    let ferret = urlscan(&fake).await;
    let entry = only_entry(&ferret, &format!("!url {PHISHING_URL}")).await;

    assert_eq!(dbot(&entry)["Score"], 0);
    assert_eq!(dbot(&entry)["Vendor"], BRAND);
    assert_eq!(
        context(&entry, URLSCAN_KEY),
        &[json!({"URL": PHISHING_URL, "Domain": "login-verify.example.com", "ASN": "AS64500",
                 "IP": "203.0.113.66", "ScanID": SCAN_ID,
                 "ScanDate": "2024-05-31T09:00:00.000Z"})]
    );
    assert!(!entry.to_string().contains("Malicious"), "{entry:#}");
    assert_eq!(requests(&fake).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_module_asks_for_the_quotas_with_the_key() {
    let fake = Fake::start().await;
    let quotas = r#"{"scope": "user", "limits": {}}"#;
    fake.reply("GET", "/user/quotas/", &[], 200, &[("Content-Type", "application/json")], quotas);
    let ferret = urlscan(&fake).await;
    let entry = only_entry(&ferret, "!test-module").await;
    assert_eq!(entry, json!({"Type": 1, "ContentsFormat": "text", "Contents": "ok"}));
    let seen = requests(&fake);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("GET", "/user/quotas/"));

    fake.serve_at(&sample("urlscan", "error_401_no_api_key"), "GET", "/user/quotas/", &[]);
    let text = error_text(&only_entry(&ferret, "!test-module").await);
    assert!(
        text.ends_with(
            "set FERRET_URLSCAN_API_KEY or the [providers.urlscan] table in ferret.toml"
        ),
        "{text}"
    );
}
