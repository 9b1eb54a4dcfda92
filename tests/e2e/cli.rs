//! The `ferret` binary itself: `run` with a module file, `providers list`
//! and `providers inspect`.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::support::{API_KEY, Fake, guest_module, provider_module, provider_table};

/// Runs the built binary with `args` and configuration `text`, without any
/// `FERRET_*` variable from the caller's environment.
pub(crate) async fn ferret_cli(text: &str, args: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ferret.toml");
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ferret-e2e-data");
    std::fs::write(&file, format!("data_dir = {:?}\n{text}", data.display().to_string())).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ferret"));
    command.arg("--config").arg(&file).args(args).current_dir(dir.path());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("FERRET_")) {
        command.env_remove(name);
    }
    let output =
        tokio::task::spawn_blocking(move || command.output().expect("ferret runs")).await.unwrap();
    (output, dir)
}

pub(crate) fn stdout_json(output: &Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&text).unwrap_or_else(|error| {
        panic!("{error}: {text}\nstderr: {}", String::from_utf8_lossy(&output.stderr))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_a_module_file_prints_xsoar_entries() {
    let fake = Fake::start().await;
    let verdict = r#"{"verdict":"suspicious","score":55}"#;
    fake.reply(
        "GET",
        "/echo",
        &[("ip", "8.8.8.8")],
        200,
        &[("Content-Type", "application/json")],
        verdict,
    );
    let text = format!("[providers.echo]\nbase_url = \"{}\"\n", fake.url());
    let module = guest_module("well-behaved");
    let args =
        ["run", "--provider", module.to_str().unwrap(), "!echo-ip 8.8.8.8", "--format", "xsoar"];
    let (output, _dir) = ferret_cli(&text, &args).await;
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let entries = stdout_json(&output);
    assert_eq!(
        entries,
        json!([{
            "Type": 1,
            "ContentsFormat": "json",
            "Contents": {"verdict": "suspicious", "score": 55},
            "ReadableContentsFormat": "markdown",
            "HumanReadable": "### Echo - echo-ip\n|Address|Verdict|Score|\n|---|---|---|\n| 8.8.8.8 | suspicious | 55 |\n",
            "EntryContext": {
                "Echo(val.Address && val.Address == obj.Address)": [
                    {"Address": "8.8.8.8", "Verdict": "suspicious", "Score": 55}
                ],
                "DBotScore(val.Indicator && val.Indicator == obj.Indicator && val.Vendor == obj.Vendor && val.Type == obj.Type)": [
                    {"Indicator": "8.8.8.8", "Type": "ip", "Vendor": "Echo", "Score": 2, "Reliability": "C - Fairly reliable"}
                ],
                "IP(val.Address && val.Address == obj.Address)": [{"Address": "8.8.8.8"}]
            },
            "IndicatorTimeline": [
                {"Value": "8.8.8.8", "Message": "Echo marked the indicator as Suspicious", "Category": "Integration Update"}
            ]
        }])
    );
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_command_is_an_error_entry_and_exit_status_two() {
    let module = guest_module("well-behaved");
    let args =
        ["run", "--provider", module.to_str().unwrap(), "!echo-ip 8.8.4.0/24", "--format", "xsoar"];
    let (output, _dir) = ferret_cli("", &args).await;
    assert_eq!(output.status.code(), Some(2));
    let entries = stdout_json(&output);
    assert_eq!(entries[0]["Type"], 4);
    assert_eq!(
        entries[0]["Contents"],
        "`8.8.4.0/24` is a CIDR network, which !echo-ip does not take (it takes ipv4, ipv6)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_list_shows_ids_commands_hosts_secrets_and_limits() {
    let fake = Fake::start().await;
    let builtin = tempfile::tempdir().unwrap();
    for id in ["virustotal", "abuseipdb"] {
        std::fs::copy(provider_module(id), builtin.path().join(format!("{id}.wasm"))).unwrap();
    }
    // AbuseIPDB has its key; VirusTotal has none.
    let text = format!(
        "builtin_dir = {:?}\n{}",
        builtin.path().display().to_string(),
        provider_table("abuseipdb", &fake)
    );
    let (output, _dir) = ferret_cli(&text, &["providers", "list", "--format", "json"]).await;
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(!String::from_utf8_lossy(&output.stdout).contains(API_KEY));
    let listing = stdout_json(&output);
    let ids: Vec<&str> =
        listing.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    // Loaded in file-name order.
    assert_eq!(ids, ["abuseipdb", "virustotal"]);

    let abuse = &listing[0];
    assert_eq!(abuse["status"], "ready");
    assert_eq!(abuse["base_url"], format!("{}/", fake.url()));
    // The hosts it may reach: the configured base URL's stands in for
    // the manifest's.
    assert_eq!(abuse["hosts"], json!(["127.0.0.1"]));
    assert_eq!(
        abuse["secrets"],
        json!([{"name": "api-key", "env": "FERRET_ABUSEIPDB_API_KEY", "description": "AbuseIPDB API v2 key"}])
    );
    assert_eq!(abuse["limits"], json!({"per_second": null, "per_minute": 60, "per_day": 1000}));
    let commands: Vec<&str> =
        abuse["commands"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        commands,
        ["abuseipdb-check-ip", "abuseipdb-check-cidr-block", "abuseipdb-get-categories"]
    );

    let vt = &listing[1];
    assert_eq!(vt["status"], "not configured: set FERRET_VIRUSTOTAL_API_KEY");
    assert_eq!(vt["version"], "0.1.0");
    assert_eq!(vt["base_url"], "https://www.virustotal.com/");
    assert_eq!(vt["hosts"], json!(["www.virustotal.com"]));
    assert_eq!(vt["limits"], json!({"per_second": null, "per_minute": 4, "per_day": 500}));
    assert_eq!(
        vt["commands"][0],
        json!({"name": "vt-ip-scan", "aliases": ["ip"], "kinds": ["ipv4", "ipv6"], "arguments": ["ip", "extended_data"]})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_inspect_reads_one_module() {
    let module = provider_module("virustotal");
    let (output, _dir) =
        ferret_cli("", &["providers", "inspect", module.to_str().unwrap(), "--format", "json"])
            .await;
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let listing = stdout_json(&output);
    assert_eq!(listing.as_array().unwrap().len(), 1);
    let vt = &listing[0];
    assert_eq!(vt["id"], "virustotal");
    assert_eq!(vt["brand"], "VirusTotal");
    assert_eq!(vt["module"], module.display().to_string());
    assert_eq!(vt["secrets"][0]["env"], "FERRET_VIRUSTOTAL_API_KEY");
    let commands: Vec<&str> =
        vt["commands"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(commands, ["vt-ip-scan", "vt-domain-scan", "vt-url-scan", "vt-file-scan"]);
    // The table form names the same things for a person.
    let (output, _dir) = ferret_cli("", &["providers", "inspect", module.to_str().unwrap()]).await;
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with(
            "virustotal 0.1.0 (VirusTotal) - not configured: set FERRET_VIRUSTOTAL_API_KEY\n"
        ),
        "{text}"
    );
    assert!(text.contains("  limits:   -/s, 4/min, 500/day\n"), "{text}");
    assert!(text.contains("  !vt-ip-scan (also ip): ip, extended_data\n"), "{text}");
}
