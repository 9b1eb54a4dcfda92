//! The XSOAR bridge, `integration/ferret.py`, run by `python3` with the
//! stand-in `demistomock`: over HTTP to the service started in this
//! process, and through `ferret exec` with the built binary. What it hands
//! to `demisto.results` must equal the entries the host renders for the
//! same command in process.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    self, API_KEY, Fake, SERVE_TOKEN, entries, provider_module, provider_table, refusal, sample,
    workspace,
};

const ABUSE_IP: &str = "203.0.113.45";
const VT_IP: &str = "203.0.113.66";

/// A fake upstream for AbuseIPDB and VirusTotal: the malicious samples for
/// their addresses, the clean ones for every other (the connection checks
/// ask about 8.8.8.8).
fn upstream(fake: &Fake) {
    let json = [("Content-Type", "application/json")];
    let clean = sample("abuseipdb", "check_clean_unreported");
    fake.reply("GET", "/api/v2/check", &[], 200, &json, &clean.body.to_string());
    fake.serve(&sample("abuseipdb", "check_malicious_verbose"), &["ipAddress"]);
    let vt_clean = sample("virustotal", "ip_clean");
    fake.serve(&vt_clean, &[]);
    let path = format!("/api/v3/ip_addresses/{ABUSE_IP}");
    fake.reply("GET", &path, &[], 200, &json, &vt_clean.body.to_string());
    fake.serve(&sample("virustotal", "ip_malicious"), &[]);
}

fn configuration(fake: &Fake) -> String {
    format!(
        "[policy]\nallow_documentation_ranges = true\n{}{}",
        provider_table("abuseipdb", fake),
        provider_table("virustotal", fake)
    )
}

async fn in_process(fake: &Fake) -> Arc<ferret_host::dispatch::Ferret> {
    let modules = [provider_module("abuseipdb"), provider_module("virustotal")];
    Arc::new(support::ferret(&configuration(fake), &modules).await)
}

/// What the bridge did: every value handed to `demisto.results`, and every
/// `return_error` message.
#[derive(Debug)]
struct Run {
    results: Vec<Value>,
    errors: Vec<String>,
}

/// Runs the bridge for `command` and `args` with XSOAR instance `params`,
/// with `env` added to a process environment free of `FERRET_*`, as the
/// `Ferret` integration.
async fn bridge(command: &str, args: Value, params: Value, env: &[(&str, String)]) -> Run {
    bridge_as("Ferret", command, args, params, env).await
}

/// The same, as the integration of brand `brand`.
async fn bridge_as(
    brand: &str,
    command: &str,
    args: Value,
    params: Value,
    env: &[(&str, String)],
) -> Run {
    let request =
        json!({"command": command, "args": args, "params": params, "brand": brand}).to_string();
    let mut process = std::process::Command::new("python3");
    process
        .arg(workspace().join("integration/tests/run_bridge.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("FERRET_")) {
        process.env_remove(name);
    }
    for (name, value) in env {
        process.env(name, value);
    }
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = process.spawn().expect("python3 runs");
        child.stdin.take().unwrap().write_all(request.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the bridge failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!("{error}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr))
    });
    Run {
        results: answer["results"].as_array().unwrap().clone(),
        errors: answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|message| message.as_str().unwrap().to_owned())
            .collect(),
    }
}

/// The commands every mode runs, as XSOAR args and as the same command
/// typed.
fn commands() -> Vec<(&'static str, Value, String)> {
    vec![
        ("ip", json!({"ip": ABUSE_IP}), format!("!ip ip={ABUSE_IP}")),
        (
            "abuseipdb-check-ip",
            json!({"ip": [ABUSE_IP], "days": 90, "verbose": true}),
            format!("!abuseipdb-check-ip ip={ABUSE_IP} days=90 verbose=true"),
        ),
        ("vt-ip-scan", json!({"ip": VT_IP}), format!("!vt-ip-scan ip={VT_IP}")),
    ]
}

/// Runs every command, `test-module` and an unknown command through the
/// bridge with `params`, checking each against the host in process.
async fn check_mode(ferret: &ferret_host::dispatch::Ferret, params: Value, env: &[(&str, String)]) {
    for (command, args, typed) in commands() {
        let expected = entries(ferret, &typed).await;
        // A sanity check that the comparison is not between two empty lists.
        assert!(!expected.is_empty() && expected[0]["Type"] == 1, "{typed}: {expected:#?}");
        let run = bridge(command, args, params.clone(), env).await;
        assert_eq!(run.errors, Vec::<String>::new(), "{command}");
        assert_eq!(run.results, vec![Value::Array(expected)], "{command}");
    }

    // Both providers' checks pass against the fake: exactly `ok`.
    let run = bridge("test-module", json!({}), params.clone(), env).await;
    assert_eq!(run.errors, Vec::<String>::new());
    assert_eq!(run.results, vec![json!("ok")]);

    // An unknown command: the host's refusal, through return_error.
    let message = format!(
        "Ferret refused the command (unknown-command): {}",
        refusal(ferret, "!vt-ip-scna ip=8.8.8.8").await
    );
    let run = bridge("vt-ip-scna", json!({"ip": "8.8.8.8"}), params.clone(), env).await;
    assert_eq!(run.errors, vec![message.clone()]);
    assert_eq!(
        run.results,
        vec![json!({"Type": 4, "ContentsFormat": "text", "Contents": message})]
    );
}

/// A configuration file for `ferret exec`: the same two providers, copied
/// into a built-in folder of their own.
fn exec_configuration(fake: &Fake, dir: &Path) -> std::path::PathBuf {
    let builtin = dir.join("providers");
    std::fs::create_dir_all(&builtin).unwrap();
    for id in ["abuseipdb", "virustotal"] {
        std::fs::copy(provider_module(id), builtin.join(format!("{id}.wasm"))).unwrap();
    }
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ferret-e2e-data");
    let file = dir.join("ferret.toml");
    let text = format!(
        "data_dir = {:?}\nbuiltin_dir = {:?}\n{}",
        data.display().to_string(),
        builtin.display().to_string(),
        configuration(fake)
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_the_bridge_hands_xsoar_the_hosts_entries() {
    let fake = Fake::start().await;
    upstream(&fake);
    let ferret = in_process(&fake).await;
    let served =
        support::serve(Arc::clone(&ferret), support::serve_settings(Duration::from_secs(60))).await;
    let params = json!({
        "url": format!("{}/", served.url()),
        "token": {"identifier": "", "password": SERVE_TOKEN},
        "insecure": false,
        "proxy": false,
    });
    check_mode(&ferret, params.clone(), &[]).await;

    // The instance's source reliability replaces every DBotScore's, and
    // nothing else changes.
    let mut expected = entries(&ferret, &format!("!ip ip={ABUSE_IP}")).await;
    for entry in &mut expected {
        for score in entry["EntryContext"][support::DBOT].as_array_mut().into_iter().flatten() {
            score["Reliability"] = json!("B - Usually reliable");
        }
    }
    let mut with_reliability = params.clone();
    with_reliability["reliability"] = json!("B - Usually reliable");
    let run = bridge("ip", json!({"ip": ABUSE_IP}), with_reliability, &[]).await;
    assert_eq!(run.results, vec![Value::Array(expected)]);

    // As the AbuseIPDB brand's integration, `!ip` reaches AbuseIPDB alone:
    // the entries of `using-brand=AbuseIPDB`, one of them.
    let expected = entries(&ferret, &format!("!ip ip={ABUSE_IP} using-brand=AbuseIPDB")).await;
    assert_eq!(expected.len(), 1);
    let run = bridge_as("AbuseIPDB", "ip", json!({"ip": ABUSE_IP}), params.clone(), &[]).await;
    assert_eq!(run.results, vec![Value::Array(expected)]);

    // A wrong token: refused, and the message does not repeat it.
    let mut wrong = params.clone();
    wrong["token"] = json!({"password": "not-the-token-91"});
    let run = bridge("ip", json!({"ip": ABUSE_IP}), wrong, &[]).await;
    assert_eq!(run.errors.len(), 1);
    assert!(run.errors[0].starts_with("Ferret refused the command (unauthorized): "), "{run:?}");
    assert!(!run.errors[0].contains("not-the-token-91"), "{run:?}");

    // VirusTotal now refuses the key: test-module reports exactly the
    // host's message for it, and AbuseIPDB's success is not mentioned.
    fake.serve(&sample("virustotal", "error_401_wrong_key"), &[]);
    let checks = entries(&ferret, "test-module").await;
    let failed: Vec<String> = checks
        .iter()
        .filter(|entry| entry["Type"] == 4)
        .map(|entry| entry["Contents"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed.len(), 1, "{checks:#?}");
    assert!(failed[0].starts_with("VirusTotal (virustotal 0.1.0): "), "{failed:?}");
    let run = bridge("test-module", json!({}), params.clone(), &[]).await;
    assert_eq!(run.errors, failed);
    assert!(!run.errors[0].contains(API_KEY));

    // The AbuseIPDB brand's integration checks AbuseIPDB alone: `ok`.
    let run = bridge_as("AbuseIPDB", "test-module", json!({}), params, &[]).await;
    assert_eq!(run.errors, Vec::<String>::new());
    assert_eq!(run.results, vec![json!("ok")]);

    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_ferret_exec_the_bridge_hands_xsoar_the_hosts_entries() {
    let fake = Fake::start().await;
    upstream(&fake);
    let ferret = in_process(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let config = exec_configuration(&fake, dir.path());
    let params = json!({"ferret_path": env!("CARGO_BIN_EXE_ferret"), "proxy": false});
    let env = [("FERRET_CONFIG", config.display().to_string())];
    check_mode(&ferret, params, &env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_service_is_named_in_the_error() {
    // A port that was free a moment ago: nothing listens on it now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let run = bridge("ip", json!({"ip": "8.8.8.8"}), json!({"url": url}), &[]).await;
    assert_eq!(run.errors.len(), 1, "{run:?}");
    assert!(
        run.errors[0].starts_with(&format!("Cannot reach Ferret at {url}: ")),
        "{:?}",
        run.errors
    );
}
