//! MISP against the fake upstream: every recorded sample served, the JSON
//! body of each restSearch checked (always bounded by `limit` and `page`),
//! and the raw key in the `Authorization` header.

use serde_json::{Value, json};

use crate::support::{
    API_KEY, DBOT, Fake, Seen, assert_no_results, context, context_keys, dbot, error_text, ferret,
    only_entry, provider_module, provider_table, refusal, sample, sample_file, sample_names,
};

const BRAND: &str = "MISP V3";
const IP_KEY: &str = "IP(val.Address && val.Address == obj.Address)";
const ATTRIBUTE_KEY: &str = "MISP.Attribute(val.ID && val.ID == obj.ID)";
const EVENT_KEY: &str = "MISP.Event(val.ID && val.ID == obj.ID)";

/// Attribute types a reputation search on an address asks for.
const ADDRESS_TYPES: [&str; 5] = ["ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"];

fn configuration(fake: &Fake) -> String {
    format!("[policy]\nallow_documentation_ranges = true\n{}", provider_table("misp", fake))
}

async fn misp(fake: &Fake) -> ferret_host::dispatch::Ferret {
    ferret(&configuration(fake), &[provider_module("misp")]).await
}

/// The one request made: a `POST` of JSON to `path` with the raw key.
fn one_post(fake: &Fake, path: &str) -> Seen {
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let request = seen[0].clone();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, path);
    // The raw key, no `Bearer`, as MISP wants it.
    assert_eq!(request.header("authorization"), Some(API_KEY));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    request
}

/// The body the sample's own request carried.
fn recorded_body(name: &str) -> Value {
    sample_file("misp", name)["request"]["body"].clone()
}

#[test]
fn every_sample_is_covered_below() {
    assert_eq!(
        sample_names("misp"),
        [
            "attributes_restsearch_empty",
            "attributes_restsearch_hit",
            "error_403_auth_failed",
            "error_404_invalid_event",
            "events_restsearch_hit",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_search_sends_the_recorded_body_and_writes_misp_attribute() {
    let fake = Fake::start().await;
    fake.serve(&sample("misp", "attributes_restsearch_hit"), &[]);
    let ferret = misp(&fake).await;
    let entry = only_entry(&ferret, "!misp-search-attributes value=203.0.113.50 type=ip-dst").await;

    // A search judges nothing: vendor context only.
    assert_eq!(context_keys(&entry), [ATTRIBUTE_KEY]);
    let attribute = &context(&entry, ATTRIBUTE_KEY)[0];
    assert_eq!(attribute["ID"], "70942");
    assert_eq!(attribute["EventID"], "149");
    assert_eq!(attribute["Type"], "ip-dst");
    assert_eq!(attribute["Category"], "Network activity");
    assert_eq!(attribute["Value"], "203.0.113.50");
    assert_eq!(attribute["ToIDs"], true);
    assert_eq!(attribute["Comment"], "C2 server observed in phishing campaign");
    assert_eq!(attribute["UUID"], "5e6b336e-5224-445f-b1b3-457dd7dd9f6d");
    // MISP's epoch string in XSOAR's date form.
    assert_eq!(attribute["LastChanged"], "2024-06-01T10:00:00Z");
    assert_eq!(attribute["Event"]["ID"], "149");
    assert_eq!(attribute["Event"]["Info"], "Phishing campaign targeting example.com customers");
    assert_eq!(attribute["Event"]["OwnerOrganization"], json!({"ID": "8"}));
    assert_eq!(
        attribute["Tag"],
        json!([
            {"ID": "2", "Name": "tlp:white"},
            {"ID": "74", "Name": "osint:source-type=\"technical-report\""},
            {"ID": "121", "Name": "misp-galaxy:malpedia=\"Loki Password Stealer (PWS)\""},
        ])
    );
    assert!(
        entry["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with("### MISP attributes: 1 attributes (page 1, limit 50)\n"),
        "{entry:#}"
    );

    // The body is the recorded one: the filters, event tags, and a page.
    let request = one_post(&fake, "/attributes/restSearch");
    assert_eq!(request.json(), recorded_body("attributes_restsearch_hit"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_page_says_more_may_exist() {
    let fake = Fake::start().await;
    fake.serve(&sample("misp", "attributes_restsearch_hit"), &[]);
    let ferret = misp(&fake).await;
    let entry = only_entry(&ferret, "!misp-search value=203.0.113.50 limit=1 page=3").await;

    // One attribute on a page of one: the answer may have been cut.
    assert!(
        entry["HumanReadable"].as_str().unwrap().starts_with(
            "### MISP attributes: 1 attributes (page 3, limit 1); more may exist, ask for page 4\n"
        ),
        "{entry:#}"
    );
    let body = one_post(&fake, "/attributes/restSearch").json();
    assert_eq!(body["limit"], 1);
    assert_eq!(body["page"], 3);
    assert_eq!(body["value"], "203.0.113.50");
    assert!(body.get("type").is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unbounded_search_is_refused_before_any_request() {
    let fake = Fake::start().await;
    let ferret = misp(&fake).await;
    let text = error_text(&only_entry(&ferret, "!misp-search value=203.0.113.50 limit=5000").await);
    assert_eq!(
        text,
        "MISP V3 (misp 0.1.0): invalid input: `limit` must be from 1 to 1000, not 5000; page \
         through bigger results"
    );
    let text = error_text(&only_entry(&ferret, "!misp-search value=203.0.113.50 page=0").await);
    assert_eq!(text, "MISP V3 (misp 0.1.0): invalid input: argument `page` starts at 1, not 0");
    assert!(fake.seen().is_empty(), "{:?}", fake.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bang_ip_on_a_malpedia_tagged_attribute_is_bad() {
    let fake = Fake::start().await;
    fake.serve(&sample("misp", "attributes_restsearch_hit"), &[]);
    let ferret = misp(&fake).await;
    let entry = only_entry(&ferret, "!ip 203.0.113.50").await;

    let reason = "attribute tag `misp-galaxy:malpedia=\"Loki Password Stealer (PWS)\"` on \
                  attribute 70942 in event 149";
    assert_eq!(context_keys(&entry), [DBOT, IP_KEY, ATTRIBUTE_KEY]);
    assert_eq!(
        dbot(&entry),
        &json!({"Indicator": "203.0.113.50", "Type": "ip", "Vendor": BRAND, "Score": 3,
                "Reliability": "C - Fairly reliable"})
    );
    assert_eq!(
        context(&entry, IP_KEY),
        &[json!({"Address": "203.0.113.50",
                 "Malicious": {"Vendor": BRAND, "Description": reason}})]
    );
    assert_eq!(context(&entry, ATTRIBUTE_KEY)[0]["ID"], "70942");
    assert!(
        entry["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with("### Results found in MISP for value: 203.0.113.50: 1 attributes"),
        "{entry:#}"
    );

    // The reputation search: the exact value among the address types, with
    // the event tags, one bounded page.
    let body = one_post(&fake, "/attributes/restSearch").json();
    assert_eq!(
        body,
        json!({"returnFormat": "json", "value": "203.0.113.50", "type": ADDRESS_TYPES,
               "limit": 50, "page": 1, "includeEventTags": true})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_search_is_no_results_for_reputation_and_an_empty_table_for_search() {
    let fake = Fake::start().await;
    fake.serve(&sample("misp", "attributes_restsearch_empty"), &[]);
    let ferret = misp(&fake).await;

    let entry = only_entry(&ferret, "!ip 198.51.100.99").await;
    assert_no_results(&entry, "198.51.100.99", "ip", BRAND);

    let entry =
        only_entry(&ferret, "!misp-search-attributes value=198.51.100.99 type=ip-dst").await;
    assert_eq!(entry["Type"], 1, "{entry:#}");
    assert_eq!(entry["EntryContext"], json!({}));
    assert!(
        entry["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with("### MISP attributes: 0 attributes (page 1, limit 50)\n"),
        "{entry:#}"
    );
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].json(), recorded_body("attributes_restsearch_empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_search_writes_misp_event_with_attributes_cut_short() {
    let fake = Fake::start().await;
    fake.serve(&sample("misp", "events_restsearch_hit"), &[]);
    let ferret = misp(&fake).await;
    let entry = only_entry(&ferret, "!misp-search-events value=203.0.113.50 limit=10").await;

    assert_eq!(context_keys(&entry), [EVENT_KEY]);
    let event = &context(&entry, EVENT_KEY)[0];
    assert_eq!(event["ID"], "149");
    assert_eq!(event["Info"], "Phishing campaign targeting example.com customers");
    assert_eq!(event["CreationDate"], "2024-05-30");
    assert_eq!(event["ThreatLevelID"], "1");
    assert_eq!(event["Analysis"], "2");
    assert_eq!(event["Published"], true);
    assert_eq!(event["AttributeCount"], "2");
    assert_eq!(event["PublishTimestamp"], "2024-06-01T10:01:40Z");
    assert_eq!(event["OwnerOrganization"]["Name"], "EXAMPLE-CERT");
    assert_eq!(event["OwnerOrganization"]["ID"], "8");
    assert_eq!(event["Organization"]["Name"], "EXAMPLE-ORG");
    assert_eq!(
        event["Tag"],
        json!([{"ID": "2", "Name": "tlp:white"}, {"ID": "124", "Name": "Phishing"}])
    );
    assert_eq!(
        event["Attribute"],
        json!([
            {"ID": "70942", "Type": "ip-dst", "Category": "Network activity",
             "Value": "203.0.113.50", "ToIDs": true},
            {"ID": "70943", "Type": "domain", "Category": "Network activity",
             "Value": "login-verify.example.com", "ToIDs": true},
        ])
    );
    assert!(
        entry["HumanReadable"]
            .as_str()
            .unwrap()
            .starts_with("### MISP events: 1 events (page 1, limit 10)\n"),
        "{entry:#}"
    );

    let request = one_post(&fake, "/events/restSearch");
    assert_eq!(request.json(), recorded_body("events_restsearch_hit"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_is_an_error_naming_the_variable() {
    let fake = Fake::start().await;
    fake.serve(&sample("misp", "error_403_auth_failed"), &[]);
    let ferret = misp(&fake).await;
    let text = error_text(&only_entry(&ferret, "!ip 203.0.113.50").await);
    assert_eq!(
        text,
        "MISP V3 (misp 0.1.0): the upstream refused the credential (Authentication failed. \
         Please make sure you pass the API key of an API enabled user along in the \
         Authorization header.); set FERRET_MISP_API_KEY or the [providers.misp] table in \
         ferret.toml"
    );
    one_post(&fake, "/attributes/restSearch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_event_is_invalid_input_not_no_results() {
    // The sample is MISP's answer for an event that does not exist,
    // recorded on `/events/view`; restSearch with that `eventid` gives the
    // same answer, which is where the provider meets it.
    let fake = Fake::start().await;
    let recorded = sample("misp", "error_404_invalid_event");
    fake.serve_at(&recorded, "POST", "/attributes/restSearch", &[]);
    let ferret = misp(&fake).await;
    let text = error_text(&only_entry(&ferret, "!misp-search-attributes eventid=999999").await);
    assert_eq!(
        text,
        "MISP V3 (misp 0.1.0): invalid input: MISP: Invalid event; check the `eventid` argument"
    );
    let body = one_post(&fake, "/attributes/restSearch").json();
    assert_eq!(body["eventid"], "999999");
    assert_eq!(body["limit"], 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_to_ids_flag_that_is_no_boolean_is_refused() {
    let fake = Fake::start().await;
    let ferret = misp(&fake).await;
    let reason = refusal(&ferret, "!misp-search value=x to_ids=maybe").await;
    assert!(reason.contains("to_ids"), "{reason}");
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_module_asks_for_the_version_with_the_key() {
    let fake = Fake::start().await;
    let version = r#"{"version": "2.4.190", "perm_sync": false, "perm_sighting": false}"#;
    fake.reply(
        "GET",
        "/servers/getVersion",
        &[],
        200,
        &[("Content-Type", "application/json")],
        version,
    );
    let ferret = misp(&fake).await;
    let entry = only_entry(&ferret, "!test-module").await;
    assert_eq!(entry, json!({"Type": 1, "ContentsFormat": "text", "Contents": "ok"}));
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("GET", "/servers/getVersion"));
    assert_eq!(seen[0].header("authorization"), Some(API_KEY));
    assert_eq!(seen[0].header("accept"), Some("application/json"));

    fake.serve_at(&sample("misp", "error_403_auth_failed"), "GET", "/servers/getVersion", &[]);
    let text = error_text(&only_entry(&ferret, "!test-module").await);
    assert!(
        text.starts_with(
            "MISP V3 (misp 0.1.0): the upstream refused the credential (Authentication failed."
        ),
        "{text}"
    );
    assert!(
        text.ends_with("set FERRET_MISP_API_KEY or the [providers.misp] table in ferret.toml"),
        "{text}"
    );
}

#[tokio::test]
async fn without_its_instances_address_misp_is_not_configured_and_asks_nothing() {
    // The key is set, the base URL is not: the manifest's own address is a
    // placeholder that never resolves, so nothing is sent.
    let policy = "[policy]\nallow_documentation_ranges = true\n";
    let keyed = ferret(
        &format!("{policy}[providers.misp]\napi_key = \"{API_KEY}\"\n"),
        &[provider_module("misp")],
    )
    .await;
    let provider = &keyed.registry.providers()[0];
    assert!(!provider.is_configured());
    assert_eq!(provider.missing.summary("misp"), "base_url in [providers.misp]");
    let entry = only_entry(&keyed, "!misp-ip ip=203.0.113.7").await;
    assert_eq!(
        error_text(&entry),
        "MISP V3 (misp 0.1.0) is not configured: set base_url in the [providers.misp] table of \
         ferret.toml to your instance's address"
    );

    // Neither set: both are named.
    let bare = ferret(policy, &[provider_module("misp")]).await;
    let entry = only_entry(&bare, "!misp-ip ip=203.0.113.7").await;
    assert_eq!(
        error_text(&entry),
        "MISP V3 (misp 0.1.0) is not configured: set base_url in the [providers.misp] table of \
         ferret.toml to your instance's address, and FERRET_MISP_API_KEY or the same table"
    );
}
