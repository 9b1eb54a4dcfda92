//! Shodan against the fake upstream: every recorded sample served, and the
//! entry each one gives, with the key in Shodan's `key` query parameter.

use serde_json::{Value, json};

use crate::support::{
    API_KEY, DBOT, Fake, assert_no_results, context, context_keys, dbot, error_text, ferret,
    only_entry, provider_module, provider_table, sample, sample_names,
};

const BRAND: &str = "Shodan_v2";
const IP_KEY: &str = "IP(val.Address && val.Address == obj.Address)";
const SHODAN_IP_KEY: &str = "Shodan.IP(val.Address && val.Address == obj.Address)";

fn configuration(fake: &Fake) -> String {
    format!("[policy]\nallow_documentation_ranges = true\n{}", provider_table("shodan", fake))
}

async fn shodan(fake: &Fake) -> ferret_host::dispatch::Ferret {
    ferret(&configuration(fake), &[provider_module("shodan")]).await
}

/// The one request made: a `GET` of `path`, the key in the query.
fn assert_one_get(fake: &Fake, path: &str) -> crate::support::Seen {
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, path);
    assert_eq!(seen[0].query("key"), Some(API_KEY));
    seen[0].clone()
}

#[test]
fn every_sample_is_covered_below() {
    assert_eq!(
        sample_names("shodan"),
        [
            "error_401_invalid_key_json",
            "error_429_rate_limit",
            "host_clean_google_dns",
            "host_count",
            "host_not_found_404",
            "host_search",
            "host_with_vulns",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_with_known_vulnerabilities_is_suspicious() {
    let fake = Fake::start().await;
    fake.serve(&sample("shodan", "host_with_vulns"), &[]);
    let ferret = shodan(&fake).await;
    let entry = only_entry(&ferret, "!shodan-ip ip=203.0.113.10").await;

    assert_eq!(entry["Type"], 1, "{entry:#}");
    assert_eq!(context_keys(&entry), [DBOT, IP_KEY, SHODAN_IP_KEY]);
    assert_eq!(
        dbot(&entry),
        &json!({"Indicator": "203.0.113.10", "Type": "ip", "Vendor": BRAND, "Score": 2,
                "Reliability": "C - Fairly reliable"})
    );
    // XSOAR's IP object: first host name, location rounded to three places.
    assert_eq!(
        context(&entry, IP_KEY),
        &[json!({"Address": "203.0.113.10", "ASN": "AS64500", "Hostname": "host10.example.net",
                 "Geo": {"Country": "Netherlands", "Location": "52.374:4.89"}})]
    );
    let vendor = &context(&entry, SHODAN_IP_KEY)[0];
    assert_eq!(vendor["Address"], "203.0.113.10");
    assert_eq!(vendor["Tag"], json!(["self-signed"]));
    assert_eq!(vendor["Port"], json!([22, 80]));
    assert_eq!(vendor["Vulnerabilities"], json!(["CVE-2021-41773", "CVE-2021-42013"]));
    assert_eq!(vendor["Org"], "Example Hosting B.V.");
    assert_eq!(vendor["ISP"], "Example Hosting B.V.");
    assert_eq!(vendor["ASN"], "AS64500");
    assert_eq!(vendor["CountryName"], "Netherlands");
    assert_eq!(vendor["LastUpdate"], "2024-06-01T08:12:33.456789");
    // Shodan's `"os": null` is left out, not written as null.
    assert!(vendor.get("OS").is_none(), "{vendor:#}");
    assert_eq!(
        entry["IndicatorTimeline"][0]["Message"],
        "Shodan_v2 marked the indicator as Suspicious"
    );
    assert!(
        entry["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with("### Shodan details for IP 203.0.113.10\n"),
        "{entry:#}"
    );

    assert_one_get(&fake, "/shodan/host/203.0.113.10");
    // The key went in the query and nowhere in the entry.
    assert!(!entry.to_string().contains(API_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn googles_resolver_is_unknown_through_bang_ip() {
    let fake = Fake::start().await;
    fake.serve(&sample("shodan", "host_clean_google_dns"), &[]);
    let ferret = shodan(&fake).await;
    let entry = only_entry(&ferret, "!ip 8.8.8.8").await;

    // No tags, no CVEs: Shodan vouches for nobody, so unknown, not good.
    assert_eq!(dbot(&entry)["Score"], 0);
    assert_eq!(dbot(&entry)["Vendor"], BRAND);
    let vendor = &context(&entry, SHODAN_IP_KEY)[0];
    assert_eq!(vendor["ASN"], "AS15169");
    assert_eq!(vendor["Port"], json!([53, 443]));
    assert_eq!(vendor["Tag"], json!([]));
    assert_eq!(context(&entry, IP_KEY)[0]["Hostname"], "dns.google");
    assert!(!entry.to_string().contains("Malicious"), "{entry:#}");
    assert_one_get(&fake, "/shodan/host/8.8.8.8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_shodan_never_saw_is_no_results() {
    let fake = Fake::start().await;
    fake.serve(&sample("shodan", "host_not_found_404"), &[]);
    let ferret = shodan(&fake).await;
    let entry = only_entry(&ferret, "!shodan-ip ip=198.51.100.77").await;
    assert_no_results(&entry, "198.51.100.77", "ip", BRAND);
    assert_one_get(&fake, "/shodan/host/198.51.100.77");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_writes_one_banner_per_match_and_judges_nothing() {
    let fake = Fake::start().await;
    fake.serve(&sample("shodan", "host_search"), &["query", "page"]);
    let ferret = shodan(&fake).await;
    let entry = only_entry(&ferret, "!shodan-search query=\"net:203.0.113.0/24 port:80\"").await;

    // Banners have no key field: the bare path, and no DBotScore.
    assert_eq!(context_keys(&entry), ["Shodan.Banner"]);
    let banners = context(&entry, "Shodan.Banner");
    assert_eq!(banners.len(), 1);
    assert_eq!(banners[0]["IP"], "203.0.113.10");
    assert_eq!(banners[0]["Port"], 80);
    assert_eq!(banners[0]["Transport"], "tcp");
    assert_eq!(banners[0]["Asn"], "AS64500");
    assert_eq!(banners[0]["Hostnames"], json!(["host10.example.net"]));
    assert_eq!(banners[0]["Location"]["City"], "Amsterdam");
    assert_eq!(banners[0]["Location"]["Country"], "Netherlands");
    assert_eq!(banners[0]["Timestamp"], "2024-05-31T21:40:02.112233");
    assert_eq!(banners[0]["Ssl"]["versions"], json!([]));
    assert!(
        entry["HumanReadable"].as_str().unwrap().starts_with(
            "### Search results for query \"net:203.0.113.0/24 port:80\": 1 banners, page 1 of 1\n"
        ),
        "{entry:#}"
    );

    let seen = assert_one_get(&fake, "/shodan/host/search");
    assert_eq!(seen.query("query"), Some("net:203.0.113.0/24 port:80"));
    // The declared default page was applied.
    assert_eq!(seen.query("page"), Some("1"));
    assert_eq!(seen.query("facets"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_gives_the_total_and_its_facets() {
    let fake = Fake::start().await;
    fake.serve(&sample("shodan", "host_count"), &["query", "facets"]);
    let ferret = shodan(&fake).await;
    let line = "!shodan-search-count query='product:\"Apache httpd\" version:\"2.4.49\"' \
                facets=country:3";
    let entry = only_entry(&ferret, line).await;

    assert_eq!(context_keys(&entry), ["Shodan.Search"]);
    let count = &context(&entry, "Shodan.Search")[0];
    assert_eq!(count["ResultCount"], 48213);
    assert_eq!(
        count["Facets"]["country"],
        json!([{"count": 12004, "value": "US"}, {"count": 5120, "value": "DE"},
               {"count": 3311, "value": "CN"}])
    );
    let readable = entry["HumanReadable"].as_str().unwrap();
    assert!(readable.contains("| country | DE | 5120 |"), "{readable}");

    let seen = assert_one_get(&fake, "/shodan/host/count");
    assert_eq!(seen.query("query"), Some("product:\"Apache httpd\" version:\"2.4.49\""));
    assert_eq!(seen.query("facets"), Some("country:3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_key_is_an_error_naming_the_variable() {
    let fake = Fake::start().await;
    fake.serve(&sample("shodan", "error_401_invalid_key_json"), &[]);
    let ferret = shodan(&fake).await;
    let text = error_text(&only_entry(&ferret, "!ip 8.8.8.8").await);
    assert_eq!(
        text,
        "Shodan_v2 (shodan 0.1.0): the upstream refused the credential (Invalid API key); \
         set FERRET_SHODAN_API_KEY or the [providers.shodan] table in ferret.toml"
    );
    assert_one_get(&fake, "/shodan/host/8.8.8.8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_second_limit_is_rate_limited_for_a_second() {
    let fake = Fake::start().await;
    fake.serve(&sample("shodan", "error_429_rate_limit"), &[]);
    let ferret = shodan(&fake).await;
    let text = error_text(&only_entry(&ferret, "!ip 8.8.8.8").await);
    // No Retry-After, and Shodan's limit is per second: a second, not the
    // SDK's default minute.
    assert_eq!(text, "Shodan_v2 (shodan 0.1.0): rate limited by the upstream; retry after 1 s");
    // The HTTP layer tried three times with its own back-off; the provider
    // then reported a one-second limit, which a command sits out once
    // before trying again (three more): six requests, then the error.
    let seen = fake.seen();
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert!(seen.iter().all(|request| request.query("key") == Some(API_KEY)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raw_contents_are_shodans_body() {
    let served = sample("shodan", "host_with_vulns");
    let fake = Fake::start().await;
    fake.serve(&served, &[]);
    let ferret = shodan(&fake).await;
    let entry = only_entry(&ferret, "!ip 203.0.113.10").await;
    assert_eq!(entry["ContentsFormat"], "json");
    let contents: &Value = &entry["Contents"];
    assert_eq!(contents, &served.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_module_asks_for_the_plan_with_the_key() {
    let fake = Fake::start().await;
    let plan = r#"{"plan": "dev", "query_credits": 100, "scan_credits": 100}"#;
    fake.reply("GET", "/api-info", &[], 200, &[("Content-Type", "application/json")], plan);
    let ferret = shodan(&fake).await;
    let entry = only_entry(&ferret, "!test-module").await;
    assert_eq!(entry, json!({"Type": 1, "ContentsFormat": "text", "Contents": "ok"}));
    assert_one_get(&fake, "/api-info");

    // The same check with a key Shodan refuses names what to set.
    fake.serve_at(&sample("shodan", "error_401_invalid_key_json"), "GET", "/api-info", &[]);
    let text = error_text(&only_entry(&ferret, "!test-module").await);
    assert_eq!(
        text,
        "Shodan_v2 (shodan 0.1.0): the upstream refused the credential (Invalid API key); \
         set FERRET_SHODAN_API_KEY or the [providers.shodan] table in ferret.toml"
    );
}
