//! Ferret provider for Google Safe Browsing, Google's lists of URLs that
//! serve malware, phishing and unwanted software.
//!
//! Upstream: the Safe Browsing Lookup API v4 at
//! `https://safebrowsing.googleapis.com` (`POST /v4/threatMatches:find`).
//! Auth: the API key as the `key` query parameter, added by the host. Quota:
//! a Google Cloud project gets 10,000 lookups per day by default; Google
//! grants the Lookup API for non-commercial use only (Web Risk is its
//! commercial sibling).
//!
//! The command, argument and context mirror Cortex XSOAR's "Google Safe
//! Browsing v2" integration: `gsb-url` (also `url`) writes each of Google's
//! match objects under `GoogleSafeBrowsing.URL`, with DBot vendor
//! `GoogleSafeBrowsing`.

use ferret_provider_sdk::prelude::*;
use ferret_provider_sdk::{UpstreamFailure, rate_limited_from};
use serde_json::{Value, json};

const URL_COMMAND: &str = "gsb-url";

/// The lists looked up: every threat type the Lookup API offers for URLs.
const THREAT_TYPES: [&str; 4] =
    ["MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE", "POTENTIALLY_HARMFUL_APPLICATION"];

/// Looked up by `check()`: any 200 answer proves the key, and a harmless
/// URL spends no more than one lookup of the day's quota.
const CHECK_URL: &str = "https://example.com/";

struct SafeBrowsing;

impl Provider for SafeBrowsing {
    fn manifest() -> Manifest {
        // Google states a daily quota (10,000 lookups per project by
        // default) and no per-second limit worth enforcing before it.
        //
        // XSOAR's integration defaults to "B - Usually reliable": Google
        // lists only what it has confirmed, so a match is strong evidence.
        ManifestBuilder::new(
            "safebrowsing",
            "GoogleSafeBrowsing",
            "https://safebrowsing.googleapis.com",
        )
        .version(env!("CARGO_PKG_VERSION"))
        .description("Google's lists of malware, phishing and unwanted-software URLs")
        .reliability(Reliability::B)
        .secret(
            "api-key",
            SecretPlacement::Query("key".into()),
            "Google Cloud API key with the Safe Browsing API enabled",
        )
        .setting("client-id", Some("ferret"), "Client id sent to Google with each lookup")
        .setting(
            "client-version",
            Some(env!("CARGO_PKG_VERSION")),
            "Client version sent to Google with each lookup",
        )
        .limits(None, None, Some(10_000))
        .command(url_command())
        .build()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        if request.command != URL_COMMAND {
            return Err(ProviderError::InvalidInput(format!(
                "unknown command `{}`",
                request.command
            )));
        }
        let indicator = request.indicator()?;
        let client = client();

        let response = lookup_request(&client, &indicator.value).send()?;
        if !response.is_success() {
            return Err(upstream_error(&response));
        }
        let body: Value = response.json()?;

        map_matches(indicator, &body)
    }

    fn check() -> Result<(), ProviderError> {
        let response = lookup_request(&client(), CHECK_URL).send()?;
        if response.is_success() { Ok(()) } else { Err(upstream_error(&response)) }
    }
}

register!(SafeBrowsing);

fn url_command() -> CommandBuilder {
    CommandBuilder::new(URL_COMMAND, "Looks URLs up in Google Safe Browsing's lists.")
        .alias("url")
        .indicator("url", "The URLs to look up.", &[IndicatorKind::Url])
        .context("GoogleSafeBrowsing.URL", "")
        .output("threatType", "String", "The list that matched, e.g. MALWARE.")
        .output("platformType", "String", "The platform the threat targets.")
        .output("threatEntryType", "String", "What matched; always URL here.")
        .output("cacheDuration", "String", "How long the match may be cached, e.g. 300s.")
        .output("threat.url", "String", "The URL that matched.")
}

// Requests.

/// Who is asking, as Google wants each lookup to say.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Client {
    id: String,
    version: String,
}

fn client() -> Client {
    Client {
        id: setting("client-id").unwrap_or_else(|| "ferret".to_owned()),
        version: setting("client-version").unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
    }
}

/// One lookup of one URL on every list, for any platform.
fn lookup_request(client: &Client, url: &str) -> Request {
    Request::post("/v4/threatMatches:find").json(&lookup_body(client, url))
}

fn lookup_body(client: &Client, url: &str) -> Value {
    json!({
        "client": {"clientId": client.id, "clientVersion": client.version},
        "threatInfo": {
            "threatTypes": THREAT_TYPES,
            "platformTypes": ["ANY_PLATFORM"],
            "threatEntryTypes": ["URL"],
            "threatEntries": [{"url": url}],
        },
    })
}

/// Google's failures, read beyond the standard mapping.
///
/// Google answers a bad or missing key with `400 INVALID_ARGUMENT` and the
/// reason `API_KEY_INVALID`, not with a 401, so that 400 is unauthorized;
/// any other 400 names the argument it rejects. Its 429 `RESOURCE_EXHAUSTED`
/// serves both the daily and the per-minute quota: when the quota it names
/// is per day, waiting minutes is pointless and the quota is spent; otherwise
/// it is rate limited.
fn upstream_error(response: &Response) -> ProviderError {
    let error = response.json::<Value>().ok().and_then(|body| body.get("error").cloned());
    let error = error.unwrap_or(Value::Null);
    let message = error["message"].as_str().unwrap_or("").to_owned();
    let details = error["details"].as_array().map_or(&[][..], Vec::as_slice);
    let reason_is = |reason: &str| details.iter().any(|detail| detail["reason"] == reason);
    match response.status {
        400 if reason_is("API_KEY_INVALID") => ProviderError::Unauthorized(message),
        400 if !message.is_empty() => ProviderError::InvalidInput(message),
        429 => {
            let daily = details
                .iter()
                .filter_map(|detail| detail["metadata"]["quota_limit"].as_str())
                .any(|limit| limit.contains("PerDay"))
                || message.contains("per day");
            if daily { ProviderError::QuotaExhausted } else { rate_limited_from(response) }
        }
        _ => status_error(response),
    }
}

// Response mapping.

/// Maps a `threatMatches:find` answer for `indicator`.
///
/// Google answers `{}` when no list holds the URL. That is not a vouch (the
/// lists hold only what Google has confirmed, and new threats arrive late),
/// so it is not-found: unknown, never benign. Any match is malicious, as in
/// XSOAR's integration.
fn map_matches(indicator: &Indicator, body: &Value) -> Result<CommandOutput, ProviderError> {
    if !body.is_object() {
        return Err(ProviderError::Upstream(UpstreamFailure {
            status: 200,
            message: "the answer is not a JSON object".to_owned(),
        }));
    }
    // One URL is sent per call, so every match is about it.
    let matches = body.get("matches").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    if matches.is_empty() {
        return Err(ProviderError::NotFound);
    }

    let mut threat_types: Vec<&str> = Vec::new();
    for threat_type in matches.iter().filter_map(|entry| entry["threatType"].as_str()) {
        if !threat_types.contains(&threat_type) {
            threat_types.push(threat_type);
        }
    }
    let reason = format!("Google Safe Browsing lists it as {}", threat_types.join(", "));

    let rows = matches
        .iter()
        .map(|entry| {
            json!({
                "URL": entry["threat"]["url"],
                "ThreatType": entry["threatType"],
                "PlatformType": entry["platformType"],
                "CacheDuration": entry["cacheDuration"],
            })
        })
        .collect();
    let output =
        matches.iter().fold(Output::new().raw(body), |output, entry| output.context(entry.clone()));
    Ok(output
        .assessment(assess(indicator, Verdict::Malicious, Some(100), &reason))
        .table(
            &format!("Google Safe Browsing APIs - URL Query: {}", indicator.value),
            &["URL", "ThreatType", "PlatformType", "CacheDuration"],
            rows,
        )
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_provider_sdk::testing::sample;

    fn url(value: &str) -> Indicator {
        Indicator { kind: IndicatorKind::Url, value: value.to_owned() }
    }

    #[test]
    fn manifest_names_the_url_command_and_the_daily_quota() {
        let manifest = SafeBrowsing::manifest();
        assert_eq!(manifest.brand, "GoogleSafeBrowsing");
        assert_eq!(manifest.commands[0].name, URL_COMMAND);
        assert_eq!(manifest.commands[0].aliases, ["url"]);
        assert_eq!(manifest.commands[0].context_path, "GoogleSafeBrowsing.URL");
        // XSOAR's key field names no field, so its selector never matches:
        // an empty key appends, as XSOAR does.
        assert_eq!(manifest.commands[0].key_field, "");
        assert_eq!(manifest.reliability, Reliability::B);
        assert!(
            matches!(&manifest.secrets[0].placement, SecretPlacement::Query(name) if name == "key")
        );
        assert_eq!(manifest.limits.per_day, Some(10_000));
    }

    #[test]
    fn the_lookup_posts_one_url_on_every_list() {
        let client = Client { id: "ferret".to_owned(), version: "0.1.0".to_owned() };
        let target = "http://malware.testing.google.test/testing/malware/";
        assert_eq!(lookup_request(&client, target).url(), "/v4/threatMatches:find");

        let body = lookup_body(&client, target);
        assert_eq!(body["client"], json!({"clientId": "ferret", "clientVersion": "0.1.0"}));
        assert_eq!(
            body["threatInfo"]["threatTypes"],
            json!([
                "MALWARE",
                "SOCIAL_ENGINEERING",
                "UNWANTED_SOFTWARE",
                "POTENTIALLY_HARMFUL_APPLICATION"
            ])
        );
        assert_eq!(body["threatInfo"]["platformTypes"], json!(["ANY_PLATFORM"]));
        assert_eq!(body["threatInfo"]["threatEntryTypes"], json!(["URL"]));
        assert_eq!(
            body["threatInfo"]["threatEntries"],
            json!([{"url": "http://malware.testing.google.test/testing/malware/"}])
        );
    }

    #[test]
    fn a_match_is_malicious_and_names_the_list() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/safebrowsing/threatmatches_hit.json"));
        let indicator = url("http://malware.testing.google.test/testing/malware/");
        let output = map_matches(&indicator, &body).unwrap();

        let assessment = &output.assessments[0];
        assert_eq!(assessment.verdict, Verdict::Malicious);
        assert_eq!(assessment.score, Some(100));
        assert_eq!(assessment.reason, "Google Safe Browsing lists it as MALWARE");

        // The context is Google's match object as is, as XSOAR writes it.
        let context: Vec<Value> = serde_json::from_str(&output.context).unwrap();
        assert_eq!(context.len(), 1);
        assert_eq!(context[0]["threatType"], "MALWARE");
        assert_eq!(context[0]["platformType"], "ANY_PLATFORM");
        assert_eq!(context[0]["cacheDuration"], "300s");
        assert_eq!(context[0]["threat"]["url"], indicator.value);

        let table = output.readable.unwrap();
        assert_eq!(
            table.title,
            "Google Safe Browsing APIs - URL Query: http://malware.testing.google.test/testing/malware/"
        );
        let rows: Vec<Value> = serde_json::from_str(&table.rows).unwrap();
        assert_eq!(rows[0]["ThreatType"], "MALWARE");
        assert_eq!(serde_json::from_str::<Value>(&output.raw).unwrap(), body);
    }

    #[test]
    fn several_lists_are_named_once_each() {
        let body = json!({"matches": [
            {"threatType": "MALWARE", "platformType": "WINDOWS", "threat": {"url": "http://x.test/"}},
            {"threatType": "SOCIAL_ENGINEERING", "platformType": "ANY_PLATFORM",
             "threat": {"url": "http://x.test/"}},
            {"threatType": "MALWARE", "platformType": "LINUX", "threat": {"url": "http://x.test/"}},
        ]});
        let output = map_matches(&url("http://x.test/"), &body).unwrap();
        assert_eq!(
            output.assessments[0].reason,
            "Google Safe Browsing lists it as MALWARE, SOCIAL_ENGINEERING"
        );
        // Every match object stays in the context.
        let context: Vec<Value> = serde_json::from_str(&output.context).unwrap();
        assert_eq!(context.len(), 3);
    }

    #[test]
    fn an_empty_answer_is_not_found_never_benign() {
        let (_, body) = sample(include_str!(
            "../../../tests/data/samples/safebrowsing/threatmatches_empty.json"
        ));
        assert!(matches!(
            map_matches(&url("https://example.com/"), &body),
            Err(ProviderError::NotFound)
        ));
    }

    #[test]
    fn an_answer_that_is_not_an_object_is_an_upstream_failure() {
        assert!(matches!(
            map_matches(&url("https://example.com/"), &json!([])),
            Err(ProviderError::Upstream(UpstreamFailure { status: 200, .. }))
        ));
    }

    #[test]
    fn googles_400_for_a_bad_key_is_unauthorized() {
        let (response, _) = sample(include_str!(
            "../../../tests/data/samples/safebrowsing/error_400_api_key_invalid.json"
        ));
        match upstream_error(&response) {
            ProviderError::Unauthorized(message) => {
                assert_eq!(message, "API key not valid. Please pass a valid API key.")
            }
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn another_400_is_invalid_input() {
        let response = Response {
            status: 400,
            headers: Vec::new(),
            body: br#"{"error": {"code": 400, "message": "Invalid value at 'threat_info.threat_entries[0]'", "status": "INVALID_ARGUMENT"}}"#.to_vec(),
        };
        assert!(matches!(upstream_error(&response), ProviderError::InvalidInput(_)));
    }

    #[test]
    fn the_daily_quota_is_spent_and_a_minute_quota_waits() {
        let (response, _) = sample(include_str!(
            "../../../tests/data/samples/safebrowsing/error_429_resource_exhausted.json"
        ));
        assert!(matches!(upstream_error(&response), ProviderError::QuotaExhausted));

        // A per-minute quota keeps the Retry-After, or the SDK's minute.
        let minute = Response {
            status: 429,
            headers: vec![("retry-after".to_owned(), "20".to_owned())],
            body: br#"{"error": {"code": 429, "message": "Quota exceeded for quota metric 'Lookup API requests' and limit 'Lookup API requests per minute'", "status": "RESOURCE_EXHAUSTED"}}"#.to_vec(),
        };
        assert!(matches!(upstream_error(&minute), ProviderError::RateLimited(20)));
    }

    #[test]
    fn server_failures_and_html_pages_keep_their_status() {
        let response = Response {
            status: 503,
            headers: Vec::new(),
            body: b"<html><body>Service Unavailable</body></html>".to_vec(),
        };
        match upstream_error(&response) {
            ProviderError::Upstream(failure) => assert_eq!(failure.status, 503),
            other => panic!("expected an upstream failure, got {other:?}"),
        }
    }
}
