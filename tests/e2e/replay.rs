//! `ferret providers test`: the samples replayed through the real modules
//! give the verdicts the fake-upstream tests give; a request without a
//! recording names the closest one; what is recorded against a fake
//! upstream replays to the same entries and holds no credential.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use ferret_host::dispatch::CallResult;
use ferret_host::output::xsoar;
use ferret_host::replay::{self, ExchangeOutcome, LineRun, Report};

use crate::cli::{ferret_cli, stdout_json};
use crate::support::{
    API_KEY, DBOT, Fake, config, dbot, error_text, guest_module, provider_module, provider_table,
    sample, workspace,
};

fn samples(provider: &str) -> PathBuf {
    workspace().join("tests/data/samples").join(provider)
}

fn lines(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| text.to_string()).collect()
}

/// The XSOAR entries of a line that ran.
fn run_entries(run: &LineRun) -> Vec<Value> {
    let results: &[CallResult] = run
        .outcome
        .as_ref()
        .unwrap_or_else(|error| panic!("`{}` was refused: {error}", run.planned.text));
    xsoar::entries(results)
}

/// The one entry of a line that must give exactly one.
fn run_entry(run: &LineRun) -> Value {
    let mut entries = run_entries(run);
    assert_eq!(entries.len(), 1, "`{}`: {entries:#?}", run.planned.text);
    entries.remove(0)
}

/// The recording that answered each request of a line.
fn answered_by(run: &LineRun) -> Vec<String> {
    run.exchanges
        .iter()
        .map(|exchange| match &exchange.outcome {
            ExchangeOutcome::Replayed(file) => file.clone(),
            other => panic!("`{}`: {} was {other:?}", run.planned.text, exchange.request),
        })
        .collect()
}

fn all_entries(report: &Report) -> Vec<Vec<Value>> {
    report.runs.iter().map(run_entries).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuseipdb_samples_replay_to_the_live_verdicts() {
    // The samples asked for 90 days, and two of them without the verbose
    // reports, so the lines say so; the 401 and the 429 answer the same
    // request, and answer it in turn.
    let commands = lines(&[
        "!abuseipdb-check-ip ip=203.0.113.45 days=90",
        "!abuseipdb-check-ip ip=198.51.100.20 days=90 verbose=false",
        "!abuseipdb-check-cidr-block network=203.0.113.0/24 days=15",
        "!abuseipdb-check-ip ip=8.8.8.8 days=90 verbose=false",
        "!abuseipdb-check-ip ip=8.8.8.8 days=90 verbose=false",
    ]);
    let report =
        replay::replay(config(""), &provider_module("abuseipdb"), &samples("abuseipdb"), &commands)
            .await
            .expect("the replay runs");
    assert!(!report.failed(), "{report:#?}");
    let runs = &report.runs;
    assert_eq!(runs.len(), 5);

    let bad = run_entry(&runs[0]);
    assert_eq!(answered_by(&runs[0]), ["check_malicious_verbose.json"]);
    assert_eq!(
        bad["EntryContext"]["IP(val.Address && val.Address == obj.Address)"][0]["Malicious"],
        json!({"Vendor": "AbuseIPDB",
               "Description": "abuse confidence 100/100 from 1043 reports (malicious from 80)"})
    );
    assert_eq!(
        dbot(&bad),
        &json!({"Indicator": "203.0.113.45", "Type": "ip", "Vendor": "AbuseIPDB", "Score": 3,
                "Reliability": "C - Fairly reliable"})
    );

    // Unreported: unknown, not good, and nothing malicious anywhere.
    let clean = run_entry(&runs[1]);
    assert_eq!(answered_by(&runs[1]), ["check_clean_unreported.json"]);
    assert_eq!(dbot(&clean)["Score"], 0);
    assert!(!clean.to_string().contains("Malicious"), "{clean:#}");

    let block = run_entry(&runs[2]);
    assert_eq!(answered_by(&runs[2]), ["check_block.json"]);
    let scores: Vec<(&str, u64)> = block["EntryContext"][DBOT]
        .as_array()
        .unwrap()
        .iter()
        .map(|score| (score["Indicator"].as_str().unwrap(), score["Score"].as_u64().unwrap()))
        .collect();
    assert_eq!(scores, [("203.0.113.45", 3), ("203.0.113.66", 0)]);

    assert_eq!(answered_by(&runs[3]), ["error_401_bad_key.json"]);
    let refused = error_text(&run_entry(&runs[3]));
    assert!(
        refused.starts_with(
            "AbuseIPDB (abuseipdb 0.1.0): the upstream refused the credential (Authentication failed."
        ),
        "{refused}"
    );
    assert_eq!(answered_by(&runs[4]), ["error_429_daily_limit.json"]);
    assert_eq!(
        error_text(&run_entry(&runs[4])),
        "AbuseIPDB (abuseipdb 0.1.0): the upstream's quota is spent; retry when its quota period renews"
    );

    // The 422 is for an address the host refuses before any request.
    assert_eq!(report.unused, ["error_422_invalid_ip.json"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virustotal_samples_replay_by_the_commands_derived_from_them() {
    let report =
        replay::replay(config(""), &provider_module("virustotal"), &samples("virustotal"), &[])
            .await
            .expect("the replay runs");
    assert!(!report.failed(), "{report:#?}");
    assert_eq!(report.skipped, Vec::<String>::new());
    assert_eq!(report.unused, Vec::<String>::new());

    let planned: Vec<(&str, &str)> = report
        .runs
        .iter()
        .map(|run| (run.planned.text.as_str(), run.planned.origin.as_str()))
        .collect();
    assert_eq!(
        planned,
        [
            (
                "!vt-domain-scan domain=login-verify.example.com",
                "derived from domain_malicious.json"
            ),
            ("!vt-ip-scan ip=8.8.8.8", "derived from error_401_wrong_key.json"),
            ("!vt-domain-scan domain=example.com", "derived from error_429_quota_exceeded.json"),
            (
                "!vt-file-scan file=275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
                "derived from file_eicar_malicious.json"
            ),
            (
                "!vt-file-scan file=752bb7ce1b5a2ccffac7154b9640027ccb45d7f5475fa23c6445f56479735e36",
                "derived from file_not_found_404.json"
            ),
            ("!vt-ip-scan ip=8.8.8.8", "derived from ip_clean.json"),
            ("!vt-ip-scan ip=203.0.113.66", "derived from ip_malicious.json"),
            // The URL is found by reading the path's id as base64url.
            (
                "!vt-url-scan url=http://login-verify.example.com/account/update.php",
                "derived from url_malicious.json"
            ),
        ]
    );

    // The scores the fake-upstream tests expect with the default
    // thresholds; `None` for the error samples.
    let expected: [Option<u8>; 8] =
        [Some(2), None, None, Some(3), Some(0), Some(0), Some(2), Some(2)];
    for (run, want) in report.runs.iter().zip(expected) {
        let entry = run_entry(run);
        match want {
            Some(score) => {
                assert_eq!(entry["Type"], 1, "{}: {entry:#}", run.planned.text);
                assert_eq!(dbot(&entry)["Score"], score, "{}", run.planned.text);
            }
            None => assert_eq!(entry["Type"], 4, "{}: {entry:#}", run.planned.text),
        }
    }
    assert_eq!(
        error_text(&run_entry(&report.runs[1])),
        "VirusTotal (virustotal 0.1.0): the upstream refused the credential (Wrong API key); \
         set FERRET_VIRUSTOTAL_API_KEY or the [providers.virustotal] table in ferret.toml"
    );
    // The 429 has no Retry-After: the host retries twice, and the one
    // recording answers all three attempts, as the fake upstream does.
    assert_eq!(
        answered_by(&report.runs[2]),
        ["error_429_quota_exceeded.json"; 3].map(str::to_owned)
    );
    assert_eq!(
        error_text(&run_entry(&report.runs[2])),
        "VirusTotal (virustotal 0.1.0): rate limited by the upstream; retry after 60 s"
    );
    assert_eq!(run_entry(&report.runs[4])["Contents"], "No results found");
    // The same request twice: the 401 answered first, the clean answer next.
    assert_eq!(answered_by(&report.runs[5]), ["ip_clean.json"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_recording_names_the_closest_and_the_difference() {
    // Without `days=90` the module asks for its default of 30 days.
    let commands = lines(&["!abuseipdb-check-ip ip=203.0.113.45"]);
    let report =
        replay::replay(config(""), &provider_module("abuseipdb"), &samples("abuseipdb"), &commands)
            .await
            .expect("the replay runs");
    assert!(report.failed());
    let run = &report.runs[0];
    let why = "no recording matches GET /api/v2/check?ipAddress=203.0.113.45&maxAgeInDays=30&verbose=; \
               the closest is check_malicious_verbose.json, which differs in query `maxAgeInDays` \
               (`30` asked, `90` recorded)";
    assert_eq!(run.exchanges.len(), 1);
    assert_eq!(run.exchanges[0].outcome, ExchangeOutcome::NoRecording(why.to_owned()));
    // The module saw a connection failure carrying the same words.
    assert_eq!(
        error_text(&run_entry(run)),
        format!("AbuseIPDB (abuseipdb 0.1.0): could not reach the upstream: {why}")
    );
}

/// A fake AbuseIPDB whose answers quote the key back, in a body field and
/// in a header, as some upstreams do in links and errors.
async fn echoing_abuseipdb() -> Fake {
    let fake = Fake::start().await;
    let recorded = sample("abuseipdb", "check_malicious_verbose");
    let mut body = recorded.body.clone();
    body["data"]["link"] = json!(format!("https://api.abuseipdb.com/check?key={API_KEY}"));
    fake.reply(
        "GET",
        "/api/v2/check",
        &[("ipAddress", "203.0.113.45")],
        200,
        &[("Content-Type", "application/json"), ("X-Echo", &format!("key {API_KEY}"))],
        &body.to_string(),
    );
    fake.serve(&sample("abuseipdb", "check_block"), &["network"]);
    fake
}

fn recording_live_configuration(fake: &Fake, id: &str) -> String {
    format!("[policy]\nallow_documentation_ranges = true\n{}", provider_table(id, fake))
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_recorded_replays_to_identical_entries_without_the_key() {
    let fake = echoing_abuseipdb().await;
    let dir = tempfile::tempdir().unwrap();
    let commands = lines(&[
        "!abuseipdb-check-ip ip=203.0.113.45",
        "!abuseipdb-check-cidr-block network=203.0.113.0/24",
    ]);
    let module = provider_module("abuseipdb");
    let live = replay::record(
        config(&recording_live_configuration(&fake, "abuseipdb")),
        &module,
        dir.path(),
        &commands,
        false,
    )
    .await
    .expect("the recording runs");
    assert!(!live.failed(), "{live:#?}");
    assert_eq!(fake.seen().len(), 2);
    assert_eq!(
        file_names(dir.path()),
        ["abuseipdb-check-cidr-block_203.0.113.0_24.json", "abuseipdb-check-ip_203.0.113.45.json"]
    );

    // No file holds the key, in any form; the echoed copies are redacted.
    for name in file_names(dir.path()) {
        let text = std::fs::read_to_string(dir.path().join(&name)).unwrap();
        assert!(!text.contains(API_KEY), "{name} holds the key:\n{text}");
    }
    let ip: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("abuseipdb-check-ip_203.0.113.45.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(ip["command"], "!abuseipdb-check-ip ip=203.0.113.45");
    assert_eq!(
        ip["request"],
        json!({
            "method": "GET",
            "base_url": fake.url(),
            "path": "/api/v2/check",
            "query": {"ipAddress": "203.0.113.45", "maxAgeInDays": "30", "verbose": ""},
            "headers_required": ["Key", "Accept: application/json"],
        })
    );
    assert_eq!(ip["status"], 200);
    assert_eq!(ip["headers"]["x-echo"], "key <redacted>");
    assert_eq!(ip["body"]["data"]["link"], "https://api.abuseipdb.com/check?key=<redacted>");

    // Replayed with no key and the real base URL: the same entries.
    let replayed = replay::replay(config(""), &module, dir.path(), &[]).await.unwrap();
    assert!(!replayed.failed(), "{replayed:#?}");
    let planned: Vec<&str> = replayed.runs.iter().map(|run| run.planned.text.as_str()).collect();
    assert_eq!(
        planned,
        ["!abuseipdb-check-cidr-block network=203.0.113.0/24", commands[0].as_str()]
    );
    let mut live_entries = all_entries(&live);
    live_entries.reverse();
    assert_eq!(all_entries(&replayed), live_entries);
    assert_eq!(dbot(&live_entries[1][0])["Score"], 3);
    assert_eq!(fake.seen().len(), 2, "the replay sent nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_never_replaced_silently() {
    let fake = echoing_abuseipdb().await;
    let dir = tempfile::tempdir().unwrap();
    let commands = lines(&["!abuseipdb-check-ip ip=203.0.113.45"]);
    let module = provider_module("abuseipdb");
    let text = recording_live_configuration(&fake, "abuseipdb");
    let file = dir.path().join("abuseipdb-check-ip_203.0.113.45.json");
    std::fs::write(&file, "kept").unwrap();

    let again = replay::record(config(&text), &module, dir.path(), &commands, false).await.unwrap();
    assert!(again.failed());
    assert_eq!(
        again.runs[0].exchanges[0].outcome,
        ExchangeOutcome::NotWritten(format!(
            "{} exists; pass --overwrite to replace it",
            file.display()
        ))
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");

    let replaced =
        replay::record(config(&text), &module, dir.path(), &commands, true).await.unwrap();
    assert!(!replaced.failed(), "{replaced:#?}");
    assert_eq!(replaced.runs[0].exchanges[0].outcome, ExchangeOutcome::Recorded(file.clone()));
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("{\n  \"command\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_sent_in_the_query_is_left_out_of_the_recording() {
    let fake = Fake::start().await;
    fake.serve(&sample("shodan", "host_clean_google_dns"), &[]);
    let dir = tempfile::tempdir().unwrap();
    let commands = lines(&["!shodan-ip ip=8.8.8.8"]);
    let module = provider_module("shodan");
    let live = replay::record(
        config(&recording_live_configuration(&fake, "shodan")),
        &module,
        dir.path(),
        &commands,
        false,
    )
    .await
    .unwrap();
    assert!(!live.failed(), "{live:#?}");
    // The key did go out, in the query.
    assert_eq!(fake.seen()[0].query("key"), Some(API_KEY));

    let text = std::fs::read_to_string(dir.path().join("shodan-ip_8.8.8.8.json")).unwrap();
    assert!(!text.contains(API_KEY), "{text}");
    let recorded: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(recorded["request"]["path"], "/shodan/host/8.8.8.8");
    assert_eq!(recorded["request"]["headers_required"], json!(["query param: key"]));
    assert!(recorded["request"]["query"].get("key").is_none(), "{text}");

    let replayed = replay::replay(config(""), &module, dir.path(), &[]).await.unwrap();
    assert!(!replayed.failed(), "{replayed:#?}");
    assert_eq!(all_entries(&replayed), all_entries(&live));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_replays_records_and_fails_on_a_missing_recording() {
    let module = provider_module("abuseipdb");
    let module = module.to_str().unwrap();
    let dir = samples("abuseipdb");
    let dir = dir.to_str().unwrap();

    let args = [
        "providers",
        "test",
        module,
        "--replay",
        dir,
        "--command",
        "!abuseipdb-check-ip ip=203.0.113.45 days=90",
        "--format",
        "json",
    ];
    let (output, _home) = ferret_cli("", &args).await;
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let document = stdout_json(&output);
    assert_eq!(document["failed"], false);
    let command = &document["commands"][0];
    assert_eq!(command["origin"], "--command");
    assert_eq!(
        command["requests"],
        json!([{
            "request": "GET /api/v2/check?ipAddress=203.0.113.45&maxAgeInDays=90&verbose=",
            "recording": "check_malicious_verbose.json"
        }])
    );
    assert_eq!(command["results"][0]["assessments"][0]["dbot_score"], 3);

    // Without `days=90` no recording matches: exit status 1, the table
    // names the closest recording.
    let args = [
        "providers",
        "test",
        module,
        "--replay",
        dir,
        "--command",
        "!abuseipdb-check-ip ip=203.0.113.45",
    ];
    let (output, _home) = ferret_cli("", &args).await;
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(
            "  error: no recording matches GET /api/v2/check?ipAddress=203.0.113.45&maxAgeInDays=30&verbose=; \
             the closest is check_malicious_verbose.json"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(
            "1 command line: 0 requests answered from recordings, 1 without a recording, 0 calls \
             failed in the sandbox: FAILED\n"
        ),
        "{text}"
    );

    // Record through the binary against the fake, then replay the folder
    // with no configuration at all: the same XSOAR entries.
    let fake = echoing_abuseipdb().await;
    let recordings = tempfile::tempdir().unwrap();
    let folder = recordings.path().to_str().unwrap();
    let line = "!abuseipdb-check-ip ip=203.0.113.45";
    let live_args =
        ["providers", "test", module, "--record", folder, "--command", line, "--format", "xsoar"];
    let (live, _home) =
        ferret_cli(&recording_live_configuration(&fake, "abuseipdb"), &live_args).await;
    assert!(live.status.success(), "stderr: {}", String::from_utf8_lossy(&live.stderr));
    let live = stdout_json(&live);
    assert!(!live.to_string().contains(API_KEY));
    let replay_args = ["providers", "test", module, "--replay", folder, "--format", "xsoar"];
    let (replayed, _home) = ferret_cli("", &replay_args).await;
    assert!(replayed.status.success(), "stderr: {}", String::from_utf8_lossy(&replayed.stderr));
    let replayed = stdout_json(&replayed);
    assert_eq!(replayed["commands"][0]["entries"], live["commands"][0]["entries"]);
    assert_eq!(replayed["commands"][0]["entries"][0]["EntryContext"][DBOT][0]["Score"], 3);
    assert_eq!(
        replayed["commands"][0]["requests"][0]["recording"],
        "abuseipdb-check-ip_203.0.113.45.json"
    );

    // A folder that is not there is refused before anything runs.
    let args = ["providers", "test", module, "--replay", "no-such-folder"];
    let (output, _home) = ferret_cli("", &args).await;
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).lines().next().unwrap_or_default(),
        "error: failed to list recordings folder no-such-folder: No such file or directory (os error 2)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_keeps_the_sandbox_rules() {
    // A recording stands ready for the undeclared host, yet the request is
    // refused before any recording is consulted, as it would be before the
    // network.
    let dir = tempfile::tempdir().unwrap();
    let exfil = json!({
        "request": {"method": "GET", "base_url": "https://evil.example", "path": "/exfil",
                    "query": {}, "headers_required": []},
        "status": 200, "headers": {}, "body": {"stolen": true},
    });
    std::fs::write(dir.path().join("exfil.json"), exfil.to_string()).unwrap();
    let commands = lines(&["!exfiltrate"]);
    let report =
        replay::replay(config(""), &guest_module("undeclared-host"), dir.path(), &commands)
            .await
            .unwrap();
    assert!(report.failed());
    let run = &report.runs[0];
    assert_eq!(run.exchanges.len(), 0);
    assert_eq!(report.unused, ["exfil.json"]);
    assert_eq!(
        error_text(&run_entry(run)),
        "UndeclaredHost (undeclared-host 0.1.0) tried to reach `evil.example`, a host its \
         manifest does not declare"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_several_requests_replays_them_in_turn() {
    // A 429 without Retry-After: the host asks three times, and each
    // attempt is its own numbered recording.
    let fake = Fake::start().await;
    fake.serve(&sample("virustotal", "error_429_quota_exceeded"), &[]);
    let dir = tempfile::tempdir().unwrap();
    let module = provider_module("virustotal");
    let commands = lines(&["!vt-domain-scan domain=example.com"]);
    let text = recording_live_configuration(&fake, "virustotal");
    let live = replay::record(config(&text), &module, dir.path(), &commands, false).await.unwrap();
    assert!(!live.failed(), "{live:#?}");
    let names = [
        "vt-domain-scan_example.com_01.json",
        "vt-domain-scan_example.com_02.json",
        "vt-domain-scan_example.com_03.json",
    ];
    assert_eq!(file_names(dir.path()), names);

    // The three files carry the same command: it runs once, and the
    // recordings answer its three attempts in name order.
    let replayed = replay::replay(config(""), &module, dir.path(), &[]).await.unwrap();
    assert!(!replayed.failed(), "{replayed:#?}");
    assert_eq!(replayed.runs.len(), 1);
    assert_eq!(answered_by(&replayed.runs[0]), names);
    assert_eq!(all_entries(&replayed), all_entries(&live));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_recording_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.json"), r#"{"threshold": 5}"#).unwrap();
    let error = replay::replay(config(""), &provider_module("abuseipdb"), dir.path(), &[])
        .await
        .expect_err("the folder is refused");
    assert_eq!(
        format!("{error:#}"),
        format!(
            "{} is not a recorded exchange: unknown field `threshold`, expected one of \
             `command`, `request`, `status`, `headers`, `body` at line 1 column 12",
            dir.path().join("settings.json").display()
        )
    );
}
