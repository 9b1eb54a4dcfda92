//! The HTTP service in process: answers equal to the host's entries,
//! refusals with their kind, the token, JSON for every failure, the
//! request timeout and a graceful stop; enrichment reports equal to the
//! pipeline's, and the metrics that count them.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    self, API_KEY, CountingFake, Fake, SERVE_TOKEN, entries, ferret, provider_module,
    provider_table, refusal, sample, serve_settings,
};

const IP: &str = "203.0.113.45";

fn configuration(fake: &Fake) -> String {
    format!("[policy]\nallow_documentation_ranges = true\n{}", provider_table("abuseipdb", fake))
}

/// AbuseIPDB configured and answering; VirusTotal loaded without a key.
async fn host(fake: &Fake) -> Arc<ferret_host::dispatch::Ferret> {
    fake.serve(&sample("abuseipdb", "check_malicious_verbose"), &["ipAddress"]);
    let modules = [provider_module("abuseipdb"), provider_module("virustotal")];
    Arc::new(ferret(&configuration(fake), &modules).await)
}

/// Sends `body` as JSON to `path` with the test token.
async fn post(url: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(SERVE_TOKEN)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the service answers");
    read(response).await
}

/// The status and JSON body of a response, failing when it is not JSON.
async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    assert_eq!(content_type, "application/json", "{status}: {text}");
    (status, serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}")))
}

fn error(kind: &str, message: &str) -> Value {
    json!({"error": {"kind": kind, "message": message}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_answers_the_entries_the_host_renders() {
    let fake = Fake::start().await;
    let ferret = host(&fake).await;
    let served = support::serve(Arc::clone(&ferret), serve_settings(Duration::from_secs(60))).await;

    for (request, typed) in [
        (
            json!({"command": "!abuseipdb-check-ip", "args": {"ip": IP, "days": 90}}),
            format!("!abuseipdb-check-ip ip={IP} days=90"),
        ),
        // A real list, a boolean, and the fan-out to the key-less
        // VirusTotal as well.
        (
            json!({"command": "ip", "args": {"ip": [IP], "verbose": true}}),
            format!("!ip ip={IP} verbose=true"),
        ),
    ] {
        let expected = entries(&ferret, &typed).await;
        assert_eq!(expected[0]["Type"], 1, "{expected:#?}");
        let (status, body) = post(&served.url(), "/v1/execute", &request).await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        assert_eq!(body, json!({"entries": expected}));
        assert!(!body.to_string().contains(API_KEY));
    }
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_commands_are_400_with_their_kind() {
    let fake = Fake::start().await;
    let ferret = host(&fake).await;
    let served = support::serve(Arc::clone(&ferret), serve_settings(Duration::from_secs(60))).await;
    let url = served.url();

    let cases = [
        (
            json!({"command": "abuseipdb-chek-ip", "args": {}}),
            "unknown-command",
            "!abuseipdb-chek-ip",
        ),
        (
            json!({"command": "abuseipdb-check-ip", "args": {}}),
            "missing-argument",
            "!abuseipdb-check-ip",
        ),
        (
            json!({"command": "abuseipdb-check-ip", "args": {"ip": IP, "colour": "red"}}),
            "unknown-argument",
            "!abuseipdb-check-ip ip=203.0.113.45 colour=red",
        ),
        (
            json!({"command": "abuseipdb-check-ip", "args": {"ip": "example.com"}}),
            "wrong-indicator-kind",
            "!abuseipdb-check-ip ip=example.com",
        ),
    ];
    for (request, kind, typed) in cases {
        let message = refusal(&ferret, typed).await;
        let (status, body) = post(&url, "/v1/execute", &request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{typed}");
        assert_eq!(body, error(kind, &message), "{typed}");
    }

    // A real list for an argument that takes one value: no typed form
    // gives one, so the message is written out.
    let request = json!({"command": "abuseipdb-check-ip", "args": {"ip": [IP, "198.51.100.7"], "days": [1, 2]}});
    let (status, body) = post(&url, "/v1/execute", &request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        error(
            "invalid-argument",
            "argument \"days\" of !abuseipdb-check-ip takes one value, not a list"
        )
    );

    // A request that is not a command at all names its fault.
    let (status, body) =
        post(&url, "/v1/execute", &json!({"command": "ip", "args": {"ip": {"v": 4}}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        error(
            "invalid-request",
            "argument \"ip\" must be a string, a number, a boolean or a list of those"
        )
    );
    // Nothing reached the upstream.
    assert!(fake.seen().is_empty(), "{:?}", fake.seen());
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_required_compared_and_never_repeated() {
    let fake = Fake::start().await;
    let ferret = host(&fake).await;
    let served = support::serve(ferret, serve_settings(Duration::from_secs(60))).await;
    let client = reqwest::Client::new();
    let url = served.url();
    let unauthorized = error(
        "unauthorized",
        "missing or wrong bearer token: send `Authorization: Bearer <token>` with the token set \
         in [serve] token or FERRET_SERVE_TOKEN",
    );

    let request = json!({"command": "ip", "args": {"ip": IP}});
    for token in [None, Some("wrong-token-5501"), Some(&SERVE_TOKEN[1..])] {
        let mut post = client
            .post(format!("{url}/v1/execute"))
            .header("Content-Type", "application/json")
            .body(request.to_string());
        if let Some(token) = token {
            post = post.bearer_auth(token);
        }
        let response = post.send().await.unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, unauthorized);
    }
    let response = client.get(format!("{url}/v1/commands")).send().await.unwrap();
    assert_eq!(read(response).await, (StatusCode::UNAUTHORIZED, unauthorized.clone()));
    // Another scheme with the right token is still refused.
    let response = client
        .get(format!("{url}/v1/commands"))
        .header("Authorization", format!("Basic {SERVE_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read(response).await.0, StatusCode::UNAUTHORIZED);
    assert!(fake.seen().is_empty());

    // Health needs no token and shows no secret.
    let response = client.get(format!("{url}/v1/health")).send().await.unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "providers": [
                {"id": "abuseipdb", "brand": "AbuseIPDB", "version": "0.1.0", "enabled": true, "configured": true},
                {"id": "virustotal", "brand": "VirusTotal", "version": "0.1.0", "enabled": true, "configured": false},
            ]
        })
    );
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_is_a_json_error() {
    let fake = Fake::start().await;
    let ferret = host(&fake).await;
    let served = support::serve(ferret, serve_settings(Duration::from_secs(60))).await;
    let client = reqwest::Client::new();
    let url = served.url();
    let send = |request: reqwest::RequestBuilder| async move {
        read(request.bearer_auth(SERVE_TOKEN).send().await.unwrap()).await
    };

    let (status, body) = send(
        client
            .post(format!("{url}/v1/execute"))
            .header("Content-Type", "application/json")
            .body(r#"{"command": "ip", "args": {"ip": "#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["kind"], "malformed-json");
    assert!(body["error"]["message"].as_str().unwrap().contains("EOF while parsing"), "{body:#}");

    let (status, body) = send(
        client.post(format!("{url}/v1/execute")).header("Content-Type", "text/plain").body("{}"),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        body,
        error(
            "unsupported-media-type",
            "the body must be JSON, sent with `Content-Type: application/json`"
        )
    );

    // 70 KiB against a 64 KiB limit, with and without a declared length.
    let big = json!({"command": "ip", "args": {"ip": "1".repeat(70 * 1024)}}).to_string();
    let too_large =
        error("too-large", "the request body is larger than the service's limit of 65536 bytes");
    let request = client
        .post(format!("{url}/v1/execute"))
        .header("Content-Type", "application/json")
        .body(big.clone());
    assert_eq!(send(request).await, (StatusCode::PAYLOAD_TOO_LARGE, too_large.clone()));
    // Sent in chunks, the length is known only as the body is read.
    let answer = chunked_post(served.address, "/v1/execute", big.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(answer.contains("content-type: application/json\r\n"), "{answer}");
    assert!(answer.ends_with(&too_large.to_string()), "{answer}");

    let (status, body) = send(client.get(format!("{url}/v2/execute"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        error(
            "not-found",
            "no endpoint at this path; the service answers under /v1/ and at /metrics"
        )
    );

    let response = client.get(format!("{url}/v1/execute")).bearer_auth(SERVE_TOKEN).send().await;
    let response = response.unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(
        read(response).await,
        (
            StatusCode::METHOD_NOT_ALLOWED,
            error("method-not-allowed", "this endpoint does not take that method")
        )
    );
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_its_time_is_a_json_timeout() {
    let fake = Fake::start().await;
    let ferret = host(&fake).await;
    fake.never_answer("GET", "/api/v2/check");
    let served = support::serve(ferret, serve_settings(Duration::from_secs(1))).await;
    let request = json!({"command": "abuseipdb-check-ip", "args": {"ip": IP}});
    let (status, body) = post(&served.url(), "/v1/execute", &request).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body, error("timeout", "the request took longer than the service's limit of 1 s"));
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_lists_providers_arguments_and_outputs() {
    let fake = Fake::start().await;
    let ferret = host(&fake).await;
    let served = support::serve(Arc::clone(&ferret), serve_settings(Duration::from_secs(60))).await;
    let response = reqwest::Client::new()
        .get(format!("{}/v1/commands", served.url()))
        .bearer_auth(SERVE_TOKEN)
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    let commands = body["commands"].as_array().unwrap();
    let names: Vec<&str> = commands.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "abuseipdb-check-cidr-block",
            "abuseipdb-check-ip",
            "abuseipdb-get-categories",
            "domain",
            "file",
            "ip",
            "test-module",
            "url",
            "vt-domain-scan",
            "vt-file-scan",
            "vt-ip-scan",
            "vt-url-scan"
        ]
    );
    // Who answers a name, with which of its commands.
    let behind = |name: &str| -> Vec<(&str, &str)> {
        let listed = commands.iter().find(|c| c["name"] == name).unwrap();
        let providers = listed["providers"].as_array().unwrap();
        providers
            .iter()
            .map(|p| (p["provider"].as_str().unwrap(), p["command"].as_str().unwrap()))
            .collect()
    };
    // `ip` is answered by both providers, each with its own command.
    assert_eq!(behind("ip"), [("abuseipdb", "abuseipdb-check-ip"), ("virustotal", "vt-ip-scan")]);
    // The host answers `test-module` for every enabled provider.
    assert_eq!(
        behind("test-module"),
        [("abuseipdb", "test-module"), ("virustotal", "test-module")]
    );

    let check =
        &commands.iter().find(|c| c["name"] == "abuseipdb-check-ip").unwrap()["providers"][0];
    assert_eq!(check["brand"], "AbuseIPDB");
    assert_eq!(check["kinds"], json!(["ipv4", "ipv6"]));
    assert_eq!(
        check["arguments"][0],
        json!({
            "name": "ip", "description": "IP addresses to check.", "required": true,
            "default": null, "list": true, "default_argument": true, "predefined": []
        })
    );
    assert_eq!(check["arguments"][1]["name"], "days");
    assert_eq!(check["arguments"][1]["default"], "30");
    assert_eq!(check["arguments"][1]["required"], false);
    // The outputs are the manifest's, in its order.
    let provider = &ferret.registry.providers()[0];
    let spec = provider.command("abuseipdb-check-ip").unwrap();
    let listed: Vec<&str> = check["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["context_path"].as_str().unwrap())
        .collect();
    let declared: Vec<&str> = spec.outputs.iter().map(|o| o.context_path.as_str()).collect();
    assert!(declared.contains(&"AbuseIPDB.IP.AbuseConfidenceScore"), "{declared:?}");
    assert_eq!(listed, declared);
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_lets_the_request_in_flight_finish() {
    let fake = Fake::start().await;
    fake.never_answer("GET", "/api/v2/check");
    // The provider's request gives up after one second, so the command
    // ends with an error entry a second after it started.
    let text = format!("[sandbox]\nhttp_timeout_seconds = 1\n{}", configuration(&fake));
    let ferret = Arc::new(ferret(&text, &[provider_module("abuseipdb")]).await);
    let served = support::serve(ferret, serve_settings(Duration::from_secs(60))).await;
    let url = served.url();

    let request = json!({"command": "abuseipdb-check-ip", "args": {"ip": IP}});
    let in_flight = tokio::spawn(async move { post(&url, "/v1/execute", &request).await });
    while fake.seen().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let address = served.address;
    served.stop().await.unwrap();

    // The request started before the stop was answered in full.
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["entries"].as_array().unwrap().len(), 1);
    assert_eq!(body["entries"][0]["Type"], 4, "{body:#}");
    // And the service no longer accepts connections.
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}

/// POSTs `body` with `Transfer-Encoding: chunked` over a bare connection
/// and returns the whole answer, head and body.
async fn chunked_post(address: std::net::SocketAddr, path: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {SERVE_TOKEN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(4096) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The service may answer and close before the whole body is sent.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_beyond_the_concurrency_limit_wait_their_turn() {
    let fake = Fake::start().await;
    fake.never_answer("GET", "/api/v2/check");
    // Each command ends a second after it started, when its request to the
    // upstream gives up.
    let text = format!("[sandbox]\nhttp_timeout_seconds = 1\n{}", configuration(&fake));
    let ferret = Arc::new(ferret(&text, &[provider_module("abuseipdb")]).await);
    let settings = ferret_host::serve::Settings {
        max_concurrent_requests: 1,
        ..serve_settings(Duration::from_secs(60))
    };
    let served = support::serve(ferret, settings).await;

    let requests: Vec<_> = ["203.0.113.1", "203.0.113.2"]
        .into_iter()
        .map(|ip| {
            let url = served.url();
            let request = json!({"command": "abuseipdb-check-ip", "args": {"ip": ip}});
            tokio::spawn(async move { post(&url, "/v1/execute", &request).await })
        })
        .collect();
    while fake.seen().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Half a second into the first command, the second has not started.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.seen().len(), 1);
    // Both are answered in the end, one after the other.
    for request in requests {
        let (status, body) = request.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body:#}");
    }
    assert_eq!(fake.seen().len(), 2);
    served.stop().await.unwrap();
}

/// Runs the built binary with `args`, `stdin` as its input, an empty
/// configuration and no `FERRET_*` variable from the caller.
fn ferret_binary(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ferret.toml");
    std::fs::write(&file, "").unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ferret"));
    command
        .arg("--config")
        .arg(&file)
        .args(args)
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("FERRET_")) {
        command.env_remove(name);
    }
    let mut child = command.spawn().expect("ferret runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn serve_refuses_an_address_beyond_loopback_without_a_token() {
    let output = ferret_binary(&["serve", "--listen", "0.0.0.0:0"], "");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: refusing to listen on 0.0.0.0:0 without a token: set [serve] token in \
         ferret.toml or FERRET_SERVE_TOKEN, or listen on a loopback address such as 127.0.0.1\n"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn exec_answers_a_refusal_as_json_with_status_two() {
    let output = ferret_binary(&["exec"], r#"{"command": "ip", "args": "#);
    assert_eq!(output.status.code(), Some(2));
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        body,
        error(
            "malformed-json",
            "the request is not valid JSON: EOF while parsing a value at line 1 column 26"
        )
    );

    let output = ferret_binary(&["exec"], r#"{"command": "ip", "argz": {}}"#);
    assert_eq!(output.status.code(), Some(2));
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        body,
        error(
            "invalid-request",
            "the request has an unknown field \"argz\"; it takes \"command\" and \"args\""
        )
    );
}

/// VirusTotal and AbuseIPDB both configured, at fakes that answer every
/// request with a malicious IP's record and count what they serve.
async fn enrichment_host() -> (Arc<ferret_host::dispatch::Ferret>, CountingFake, CountingFake) {
    let vt = CountingFake::start(&sample("virustotal", "ip_malicious")).await;
    let abuse = CountingFake::start(&sample("abuseipdb", "check_malicious_verbose")).await;
    let text = format!(
        "[policy]\nallow_documentation_ranges = true\n\
         [providers.virustotal]\nbase_url = \"{}\"\napi_key = \"{API_KEY}\"\n\
         [providers.virustotal.limits]\nper_minute = 60000\n\
         [providers.abuseipdb]\nbase_url = \"{}\"\napi_key = \"{API_KEY}\"\n",
        vt.url(),
        abuse.url()
    );
    let modules = [provider_module("virustotal"), provider_module("abuseipdb")];
    (Arc::new(ferret(&text, &modules).await), vt, abuse)
}

/// A SIEM alert naming two addresses, each twice.
const ALERT: &str = r#"{"rule": "Outbound to known C2", "severity": "high",
  "source": {"ip": "203.0.113.45"}, "destination": {"ip": "203.0.113.77", "port": 8443},
  "reason": "203.0.113.45 connected to 203.0.113.77"}"#;

/// Sends `body` to `/v1/enrich?<query>` with `content_type` and the test
/// token.
async fn post_enrich(
    url: &str,
    query: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/enrich?{query}"))
        .bearer_auth(SERVE_TOKEN)
        .header("Content-Type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("the service answers");
    read(response).await
}

/// A report's JSON without its wall-clock times, which differ from run to
/// run.
fn timeless(mut report: Value) -> Value {
    for summary in report["summary"].as_array_mut().expect("summaries") {
        summary.as_object_mut().unwrap().remove("elapsed").expect("an elapsed time");
    }
    report
}

/// Each indicator's `(provider, status, verdict, cached)`, in order.
fn provider_rows(report: &Value) -> Vec<Vec<(String, String, String, bool)>> {
    report["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|indicator| {
            indicator["providers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["provider"].as_str().unwrap().to_owned(),
                        p["status"].as_str().unwrap().to_owned(),
                        p["verdict"].as_str().unwrap_or("-").to_owned(),
                        p["cached"].as_bool().unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrich_answers_the_report_the_pipeline_gives() {
    use ferret_host::enrich::{EnrichOptions, enrich};

    let (ferret, vt, abuse) = enrichment_host().await;
    let served = support::serve(Arc::clone(&ferret), serve_settings(Duration::from_secs(60))).await;
    let url = served.url();

    // In process, without the cache: the report the service must give.
    let options = EnrichOptions { use_cache: false, ..EnrichOptions::default() };
    let expected = enrich(&ferret, ALERT.as_bytes(), &options).await.unwrap();
    let expected = serde_json::to_value(&expected).unwrap();

    // Over HTTP with `no_cache=true`: the same report, asked upstream again.
    let (status, body) = post_enrich(&url, "no_cache=true", "application/json", ALERT).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(timeless(body.clone()), timeless(expected));
    assert_eq!(vt.count(200), 4);
    assert_eq!(abuse.count(200), 4);

    // What that report says: two addresses, each seen twice, each
    // judged by both providers. VirusTotal's 9 of 94 engines is
    // suspicious with a figure of 10, AbuseIPDB's confidence 100
    // malicious; the composite is VirusTotal's 30 + 0.4 x 10 = 34 at
    // weight 60 and AbuseIPDB's 100 at weight 40: 60.4, suspicious.
    // Plain text, AbuseIPDB alone, TLP:AMBER, the cache allowed: both
    // answers come from the cache, and VirusTotal is not asked.
    let text = "Brute force from 203.0.113.45 and 203.0.113.77";
    let (status, body) =
        post_enrich(&url, "providers=AbuseIPDB&tlp=amber", "text/plain", text).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["summary"][0]["format"], "text");
    assert_eq!(body["summary"][0]["tlp"], "TLP:AMBER");
    let cached =
        vec![("abuseipdb".to_owned(), "answered".to_owned(), "malicious".to_owned(), true)];
    assert_eq!(provider_rows(&body), [cached.clone(), cached]);
    assert_eq!((vt.served().len(), abuse.served().len()), (4, 4));

    // The counters of all three runs: two addresses, asked twice of
    // VirusTotal and three times of AbuseIPDB, two of those from the
    // cache.
    let response = reqwest::Client::new()
        .get(format!("{url}/metrics"))
        .bearer_auth(SERVE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    for line in [
        "ferret_provider_calls_total{provider=\"virustotal\",outcome=\"answered\"} 4",
        "ferret_provider_calls_total{provider=\"abuseipdb\",outcome=\"answered\"} 6",
        "ferret_cache_hits_total{provider=\"abuseipdb\"} 2",
        "ferret_provider_call_duration_seconds_count{provider=\"abuseipdb\"} 4",
        "# EOF",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
    }
    assert!(!text.contains("ferret_cache_hits_total{provider=\"virustotal\"}"), "{text}");
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrich_refuses_bad_parameters_by_name_and_answers_empty_bodies() {
    let fake = Fake::start().await;
    let ferret = host(&fake).await;
    let served = support::serve(ferret, serve_settings(Duration::from_secs(60))).await;
    let url = served.url();
    let alert = format!(r#"{{"source": {{"ip": "{IP}"}}}}"#);

    let cases = [
        (
            "providers=abuseipdb,shodan",
            "invalid-parameter",
            "query parameter `providers`: no enabled provider is called `shodan` (enabled: \
             abuseipdb, virustotal)",
        ),
        ("providers=,", "invalid-parameter", "query parameter `providers`: names no provider"),
        (
            "tlp=purple",
            "invalid-parameter",
            "query parameter `tlp`: unknown TLP label `purple` (expected clear, white, green, \
             amber, amber+strict or red)",
        ),
        ("no_cache=yes", "invalid-parameter", "query parameter `no_cache`: must be true or false"),
        (
            "tlp=red&tlp=amber",
            "invalid-parameter",
            "query parameter `tlp`: is given more than once",
        ),
        (
            "colour=red",
            "unknown-parameter",
            "unknown query parameter `colour`: /v1/enrich takes providers, tlp and no_cache",
        ),
    ];
    for (query, kind, message) in cases {
        let (status, body) = post_enrich(&url, query, "application/json", &alert).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body, error(kind, message), "{query}");
    }

    // Without the token, neither endpoint answers.
    let client = reqwest::Client::new();
    let response = client.post(format!("{url}/v1/enrich")).body(alert.clone()).send().await;
    let (status, body) = read(response.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["kind"], "unauthorized");
    let response = client.get(format!("{url}/metrics")).bearer_auth("wrong-token").send().await;
    let (status, body) = read(response.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["kind"], "unauthorized");

    // A body over the limit is refused like any other.
    let big = format!("{IP}\n").repeat(6 * 1024);
    let (status, body) = post_enrich(&url, "", "text/plain", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["kind"], "too-large");
    // Nothing above reached the upstream.
    assert!(fake.seen().is_empty(), "{:?}", fake.seen());

    // An empty body, or one that names no indicator, is an empty report.
    for (content_type, body) in [("text/plain", ""), ("application/json", r#"{"rule": "x"}"#)] {
        let (status, answer) = post_enrich(&url, "", content_type, body).await;
        assert_eq!(status, StatusCode::OK, "{answer:#}");
        assert_eq!(answer["indicators"], json!([]), "{answer:#}");
        assert_eq!(answer["summary"][0]["indicators"], 0, "{answer:#}");
        assert_eq!(answer["summary"].as_array().unwrap().len(), 1);
    }
    assert!(fake.seen().is_empty(), "{:?}", fake.seen());
    served.stop().await.unwrap();
}
