//! PassiveTotal against the fake upstream: every recorded sample served,
//! both secrets sent as HTTP basic authentication (user name and API key).

use serde_json::json;

use crate::support::{
    API_KEY, DBOT, Fake, Seen, assert_no_results, context, context_keys, dbot, error_text, ferret,
    only_entry, provider_module, provider_table, provider_table_with_secrets, sample, sample_names,
};

const BRAND: &str = "PassiveTotal_v2";
const USERNAME: &str = "analyst@example.com";
/// `Basic ` and the base64 of `analyst@example.com:test-key-3f9a1c`, the
/// user name and [`API_KEY`].
const BASIC_AUTH: &str = "Basic YW5hbHlzdEBleGFtcGxlLmNvbTp0ZXN0LWtleS0zZjlhMWM=";

const DOMAIN_KEY: &str = "Domain(val.Name && val.Name == obj.Name)";
const PDNS_KEY: &str = "PassiveTotal.PDNS(val.resolve && val.resolve == obj.resolve)";
const WHOIS_KEY: &str = "PassiveTotal.WHOIS(val.domain && val.domain == obj.domain)";
const ENRICHMENT_KEY: &str = "PassiveTotal.Domain(val.query && val.query == obj.query)";

fn configuration(fake: &Fake) -> String {
    format!(
        "[policy]\nallow_documentation_ranges = true\n{}",
        provider_table_with_secrets("passivetotal", fake, &[("username", USERNAME)])
    )
}

async fn passivetotal(fake: &Fake) -> ferret_host::dispatch::Ferret {
    ferret(&configuration(fake), &[provider_module("passivetotal")]).await
}

/// The one request made: a `GET` of `path` with both secrets as basic
/// authentication.
fn one_get(fake: &Fake, path: &str) -> Seen {
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let request = seen[0].clone();
    assert_eq!((request.method.as_str(), request.path.as_str()), ("GET", path));
    assert_eq!(request.header("authorization"), Some(BASIC_AUTH));
    request
}

#[test]
fn every_sample_is_covered_below() {
    assert_eq!(
        sample_names("passivetotal"),
        [
            "dns_passive_empty",
            "dns_passive_hit",
            "enrichment_domain",
            "error_401_bad_credentials",
            "error_429_quota_exceeded",
            "whois_domain",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passive_dns_writes_each_record_and_judges_nothing() {
    let fake = Fake::start().await;
    fake.serve(&sample("passivetotal", "dns_passive_hit"), &["query"]);
    let ferret = passivetotal(&fake).await;
    let entry = only_entry(&ferret, "!pt-get-pdns-details query=login-verify.example.com").await;

    // Resolutions say where a name pointed, not whether it harms.
    assert_eq!(context_keys(&entry), [PDNS_KEY]);
    assert_eq!(
        context(&entry, PDNS_KEY),
        &[
            json!({"recordHash": "6d24bc7754af023afeaaa05ac689ac36e96656aa6519ba435b301b14916b27d3",
                   "resolve": "203.0.113.66", "value": "login-verify.example.com",
                   "source": ["riskiq", "pingly"], "lastSeen": "2024-06-01 18:00:01",
                   "collected": "2024-06-01 18:04:22", "firstSeen": "2024-05-02 00:00:02"}),
            json!({"recordHash": "3b2128b35c22e3bc8b14f9ba4d29bd1f085dad66488f01a9b2d69b051b917fbc",
                   "resolve": "198.51.100.34", "value": "login-verify.example.com",
                   "source": ["riskiq"], "lastSeen": "2024-05-01 23:59:59",
                   "collected": "2024-05-02 00:04:22", "firstSeen": "2024-04-28 10:12:09"}),
        ]
    );
    let readable = entry["HumanReadable"].as_str().unwrap();
    assert!(readable.starts_with("### Total Retrieved Record(s): 2\n"), "{readable}");
    assert!(readable.contains("| 203.0.113.66 |"), "{readable}");

    let request = one_get(&fake, "/v2/dns/passive");
    assert_eq!(request.query("query"), Some("login-verify.example.com"));
    // The declared default wait for PassiveTotal's sources.
    assert_eq!(request.query("timeout"), Some("7"));
    assert!(!entry.to_string().contains(API_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_resolutions_is_no_results() {
    let fake = Fake::start().await;
    fake.serve(&sample("passivetotal", "dns_passive_empty"), &["query"]);
    let ferret = passivetotal(&fake).await;
    let entry = only_entry(&ferret, "!pt-get-pdns-details query=unseen-domain.example").await;
    assert_no_results(&entry, "unseen-domain.example", "domain", BRAND);
    one_get(&fake, "/v2/dns/passive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whois_is_flattened_as_xsoar_does_with_the_standard_domain_fields() {
    let fake = Fake::start().await;
    fake.serve(&sample("passivetotal", "whois_domain"), &["query"]);
    let ferret = passivetotal(&fake).await;
    let entry = only_entry(&ferret, "!pt-get-whois query=example.com").await;

    assert_eq!(context_keys(&entry), [DBOT, DOMAIN_KEY, WHOIS_KEY]);
    // WHOIS says who, not whether it harms: unknown.
    assert_eq!(
        dbot(&entry),
        &json!({"Indicator": "example.com", "Type": "domain", "Vendor": BRAND, "Score": 0,
                "Reliability": "C - Fairly reliable"})
    );
    assert_eq!(
        context(&entry, DOMAIN_KEY),
        &[json!({
            "Name": "example.com",
            "WHOIS": {"CreationDate": "1995-08-14", "UpdatedDate": "2024-05-15",
                      "ExpirationDate": "2025-08-13",
                      "NameServers": ["NS1.EXAMPLE.NET", "NS2.EXAMPLE.NET"],
                      "Registrar": {"Name": "Example Registrar, Inc."}},
            "Registrant": {"Name": "Privacy Proxy Service",
                           "Email": "proxy0000000@privacy-registration.example.net",
                           "Phone": "15555550100"},
            "Organization": "Example Privacy Registration LLC",
        })]
    );
    let whois = &context(&entry, WHOIS_KEY)[0];
    assert_eq!(whois["domain"], "example.com");
    assert_eq!(whois["registrar"], "Example Registrar, Inc.");
    assert_eq!(whois["registered"], "1995-08-14");
    assert_eq!(whois["expiresAt"], "2025-08-13");
    assert_eq!(whois["whoisServer"], "whois.example-registry.net");
    assert_eq!(whois["contactEmail"], "proxy0000000@privacy-registration.example.net");
    assert_eq!(whois["registrantOrganization"], "Example Privacy Registration LLC");
    assert_eq!(whois["registrantCountry"], "UNITED STATES");
    assert_eq!(whois["adminEmail"], "proxy0000000@privacy-registration.example.net");
    assert_eq!(whois["techTelephone"], "15555550100");
    // The empty `billing` and `zone` objects are gone, flattened or not.
    assert!(whois.get("billing").is_none() && whois.get("zone").is_none(), "{whois:#}");
    assert!(whois.get("registrant").is_none(), "{whois:#}");

    let request = one_get(&fake, "/v2/whois");
    assert_eq!(request.query("query"), Some("example.com"));
    assert_eq!(request.query("history"), Some("false"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bang_domain_reads_the_enrichment_and_tags_alone_are_unknown() {
    let fake = Fake::start().await;
    fake.serve(&sample("passivetotal", "enrichment_domain"), &["query"]);
    let ferret = passivetotal(&fake).await;
    let entry = only_entry(&ferret, "!domain example.com").await;

    assert_eq!(context_keys(&entry), [DBOT, DOMAIN_KEY, ENRICHMENT_KEY]);
    // Not classified, never compromised; the `security` tag names what it
    // is, not whether it harms.
    assert_eq!(dbot(&entry)["Score"], 0);
    assert_eq!(dbot(&entry)["Vendor"], BRAND);
    assert_eq!(dbot(&entry)["Type"], "domain");
    assert_eq!(
        context(&entry, DOMAIN_KEY),
        &[json!({"Name": "example.com", "Tags": ["security"]})]
    );
    assert_eq!(
        context(&entry, ENRICHMENT_KEY),
        &[json!({"primaryDomain": "example.com", "tags": ["security"], "dynamicDns": false,
                 "queryValue": "example.com", "tld": ".com", "everCompromised": false,
                 "queryType": "domain", "query": "example.com"})]
    );
    let request = one_get(&fake, "/v2/enrichment");
    assert_eq!(request.query("query"), Some("example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_name_both_variables() {
    let fake = Fake::start().await;
    fake.serve(&sample("passivetotal", "error_401_bad_credentials"), &["query"]);
    let ferret = passivetotal(&fake).await;
    let text = error_text(&only_entry(&ferret, "!pt-get-pdns-details query=example.com").await);
    assert_eq!(
        text,
        "PassiveTotal_v2 (passivetotal 0.1.0): the upstream refused the credential \
         (Authentication failed.); set FERRET_PASSIVETOTAL_USERNAME and \
         FERRET_PASSIVETOTAL_API_KEY or the [providers.passivetotal] table in ferret.toml"
    );
    one_get(&fake, "/v2/dns/passive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_user_name_nothing_is_sent() {
    let fake = Fake::start().await;
    let text = provider_table("passivetotal", &fake);
    let ferret = ferret(&text, &[provider_module("passivetotal")]).await;
    let text = error_text(&only_entry(&ferret, "!pt-get-whois query=example.com").await);
    // The key is set: only the user name is asked for.
    assert_eq!(
        text,
        "PassiveTotal_v2 (passivetotal 0.1.0) is not configured: set \
         FERRET_PASSIVETOTAL_USERNAME or the [providers.passivetotal] table in ferret.toml"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_quota_is_a_spent_quota() {
    let fake = Fake::start().await;
    fake.serve(&sample("passivetotal", "error_429_quota_exceeded"), &["query"]);
    let ferret = passivetotal(&fake).await;
    let text = error_text(&only_entry(&ferret, "!pt-get-pdns-details query=example.com").await);
    // "Quota exceeded": the account's day is spent, no short wait helps.
    assert_eq!(
        text,
        "PassiveTotal_v2 (passivetotal 0.1.0): the upstream's quota is spent; retry when its \
         quota period renews"
    );
    // No Retry-After: the host retried twice before the provider read it.
    let seen = fake.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|request| request.header("authorization") == Some(BASIC_AUTH)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_module_reads_the_account_with_both_secrets() {
    let fake = Fake::start().await;
    let account = r#"{"username": "analyst@example.com", "organization": "example"}"#;
    fake.reply("GET", "/v2/account", &[], 200, &[("Content-Type", "application/json")], account);
    let ferret = passivetotal(&fake).await;
    let entry = only_entry(&ferret, "!test-module").await;
    assert_eq!(entry, json!({"Type": 1, "ContentsFormat": "text", "Contents": "ok"}));
    one_get(&fake, "/v2/account");

    fake.serve_at(&sample("passivetotal", "error_401_bad_credentials"), "GET", "/v2/account", &[]);
    let text = error_text(&only_entry(&ferret, "!test-module").await);
    assert_eq!(
        text,
        "PassiveTotal_v2 (passivetotal 0.1.0): the upstream refused the credential \
         (Authentication failed.); set FERRET_PASSIVETOTAL_USERNAME and \
         FERRET_PASSIVETOTAL_API_KEY or the [providers.passivetotal] table in ferret.toml"
    );
}
