//! The XSOAR integration YAMLs: the checked-in copies are what the built
//! providers generate, byte for byte, and they declare what the real
//! integrations declare.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_norway::Value;

use crate::support::{provider_module, workspace};

const REGENERATE: &str =
    "cargo xtask build && ./target/release/ferret integration write integration";

/// Runs the built binary with `args` and configuration `text`, loading the
/// built-in providers from `target/providers`, without any `FERRET_*`
/// variable from the caller's environment.
fn ferret_cli(text: &str, args: &[&str]) -> Output {
    let builtin = provider_module("abuseipdb").parent().unwrap().to_path_buf();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ferret.toml");
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ferret-e2e-data");
    std::fs::write(
        &file,
        format!(
            "builtin_dir = {:?}\ndata_dir = {:?}\n{text}",
            builtin.display().to_string(),
            data.display().to_string()
        ),
    )
    .unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ferret"));
    command.arg("--config").arg(&file).args(args).current_dir(dir.path());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("FERRET_")) {
        command.env_remove(name);
    }
    command.output().expect("ferret runs")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The checked-in folder.
fn integration_dir() -> PathBuf {
    workspace().join("integration")
}

/// Every `.yml` under a folder and its `brands/`, relative, sorted.
fn yaml_files(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for sub in ["", "brands"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "yml") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                names.push(if sub.is_empty() { name } else { format!("{sub}/{name}") });
            }
        }
    }
    names.sort();
    names
}

fn checked_in(name: &str) -> Value {
    let text = std::fs::read_to_string(integration_dir().join(name)).unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn command<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["script"]["commands"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|command| command["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no command `{name}`"))
}

fn argument<'a>(command: &'a Value, name: &str) -> &'a Value {
    command["arguments"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|argument| argument["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no argument `{name}`"))
}

fn output_paths(command: &Value) -> Vec<&str> {
    command["outputs"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|output| output["contextPath"].as_str().unwrap())
        .collect()
}

fn names(document: &Value) -> Vec<&str> {
    document["script"]["commands"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|command| command["name"].as_str().unwrap())
        .collect()
}

#[test]
fn the_checked_in_yamls_are_what_the_providers_generate() {
    // Generated the way the regeneration command does it: into a folder
    // holding the bridge, if the bridge is there, so it is inlined too.
    let fresh = tempfile::tempdir().unwrap();
    let bridge = integration_dir().join("ferret.py");
    if bridge.is_file() {
        std::fs::copy(&bridge, fresh.path().join("ferret.py")).unwrap();
    }
    let output = ferret_cli("", &["integration", "write", fresh.path().to_str().unwrap()]);
    stdout(&output);

    let expected = yaml_files(fresh.path());
    assert_eq!(expected.len(), 9, "Ferret.yml and one per built-in provider: {expected:?}");
    assert_eq!(
        yaml_files(&integration_dir()),
        expected,
        "integration/ holds other YAMLs than the providers give; regenerate with `{REGENERATE}` \
         and remove the stale ones"
    );
    for name in expected {
        let want = std::fs::read_to_string(fresh.path().join(&name)).unwrap();
        let have = std::fs::read_to_string(integration_dir().join(&name)).unwrap();
        assert!(
            want == have,
            "integration/{name} is out of date with the providers' manifests; regenerate with \
             `{REGENERATE}`"
        );
    }
}

#[test]
fn bang_ip_takes_a_list_and_writes_dbotscore_and_both_vendors_context() {
    let ferret = checked_in("Ferret.yml");
    assert_eq!(ferret["commonfields"]["id"].as_str(), Some("Ferret"));
    assert_eq!(ferret["commonfields"]["version"].as_i64(), Some(-1));
    assert_eq!(ferret["category"].as_str(), Some("Data Enrichment & Threat Intelligence"));
    assert_eq!(ferret["script"]["type"].as_str(), Some("python"));
    assert_eq!(ferret["script"]["subtype"].as_str(), Some("python3"));
    assert!(ferret["script"]["dockerimage"].as_str().unwrap().starts_with("demisto/python3:3."));

    let ip = command(&ferret, "ip");
    let address = argument(ip, "ip");
    assert_eq!(address["isArray"].as_bool(), Some(true));
    assert_eq!(address["default"].as_bool(), Some(true));
    assert_eq!(address["required"].as_bool(), Some(true));
    // VirusTotal's argument is there too, with its default.
    assert_eq!(argument(ip, "extended_data")["defaultValue"].as_str(), Some("false"));
    let paths = output_paths(ip);
    for path in [
        "DBotScore.Indicator",
        "DBotScore.Type",
        "DBotScore.Vendor",
        "DBotScore.Score",
        "DBotScore.Reliability",
        "IP.Address",
        "IP.ASN",
        "IP.Geo.Country",
        "IP.DetectionEngines",
        "IP.PositiveDetections",
        "IP.Malicious.Vendor",
        "IP.Malicious.Description",
        "AbuseIPDB.IP.AbuseConfidenceScore",
        "AbuseIPDB.IP.TotalReports",
        "VirusTotal.IP.attributes.last_analysis_stats.malicious",
    ] {
        assert!(paths.contains(&path), "`ip` does not declare {path}: {paths:?}");
    }
    // One declaration per path, however many providers write it.
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), paths.len());
    // Each reputation command appears once.
    for name in ["ip", "domain", "url", "file"] {
        assert_eq!(names(&ferret).iter().filter(|n| **n == name).count(), 1, "{name}");
    }
}

#[test]
fn abuseipdb_check_ip_has_the_real_arguments_and_defaults() {
    let ferret = checked_in("Ferret.yml");
    let check = command(&ferret, "abuseipdb-check-ip");
    let arguments: Vec<&str> = check["arguments"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|argument| argument["name"].as_str().unwrap())
        .collect();
    assert_eq!(arguments, ["ip", "days", "verbose", "threshold"]);
    assert_eq!(argument(check, "days")["defaultValue"].as_str(), Some("30"));
    assert_eq!(argument(check, "verbose")["defaultValue"].as_str(), Some("true"));
    // XSOAR fills in a declared default itself, which would override the
    // operator's `malicious-threshold` setting (80 unless changed), so the
    // YAML declares none and says so.
    let threshold = argument(check, "threshold");
    assert!(threshold.get("defaultValue").is_none(), "{threshold:?}");
    assert!(threshold["description"].as_str().unwrap().contains("80"));
    let block = command(&ferret, "abuseipdb-check-cidr-block");
    assert_eq!(argument(block, "limit")["defaultValue"].as_str(), Some("40"));
    assert_eq!(argument(block, "network")["required"].as_bool(), Some(true));
    assert!(output_paths(block).contains(&"IP.Address"));
}

#[test]
fn the_brand_variants_carry_the_vendors_names_and_only_their_commands() {
    let abuse = checked_in("brands/AbuseIPDB.yml");
    assert_eq!(abuse["commonfields"]["id"].as_str(), Some("AbuseIPDB"));
    assert_eq!(abuse["name"].as_str(), Some("AbuseIPDB"));
    assert_eq!(
        names(&abuse),
        ["abuseipdb-check-ip", "ip", "abuseipdb-check-cidr-block", "abuseipdb-get-categories"]
    );
    let reliability = abuse["configuration"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"].as_str() == Some("reliability"))
        .unwrap();
    assert_eq!(reliability["type"].as_u64(), Some(15));
    assert_eq!(reliability["defaultvalue"].as_str(), Some("C - Fairly reliable"));

    let vt = checked_in("brands/VirusTotal.yml");
    assert_eq!(vt["name"].as_str(), Some("VirusTotal"));
    assert_eq!(
        names(&vt),
        [
            "vt-ip-scan",
            "ip",
            "vt-domain-scan",
            "domain",
            "vt-url-scan",
            "url",
            "vt-file-scan",
            "file"
        ]
    );
    // Alone, VirusTotal's `ip` is its own: no AbuseIPDB argument.
    let ip = command(&vt, "ip");
    assert!(
        ip["arguments"].as_sequence().unwrap().iter().all(|a| a["name"].as_str() != Some("days"))
    );
}

#[test]
fn the_configuration_offers_server_token_and_exec_routes() {
    let ferret = checked_in("Ferret.yml");
    let parameters: Vec<(&str, u64)> = ferret["configuration"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["type"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        parameters,
        [
            ("url", 0),
            ("token", 9),
            ("reliability", 15),
            ("insecure", 8),
            ("proxy", 8),
            ("ferret_path", 0)
        ]
    );
    let token = &ferret["configuration"][1];
    assert_eq!(token["hiddenusername"].as_bool(), Some(true));
}

#[test]
fn yaml_brand_output_writes_the_same_document_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("abuse.yml");
    let bridge = integration_dir().join("ferret.py");
    let mut args = vec!["integration", "yaml", "--brand", "AbuseIPDB", "--output"];
    args.push(file.to_str().unwrap());
    if bridge.is_file() {
        args.extend(["--script", bridge.to_str().unwrap()]);
    }
    let output = ferret_cli("", &args);
    // Nothing on standard output when writing to a file.
    assert_eq!(stdout(&output), "");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        std::fs::read_to_string(integration_dir().join("brands/AbuseIPDB.yml")).unwrap()
    );
}

#[test]
fn a_disabled_provider_is_left_out_and_cannot_be_a_brand() {
    let text = "[providers.virustotal]\nenabled = false\n";
    let yaml = stdout(&ferret_cli(text, &["integration", "yaml"]));
    let document: Value = serde_norway::from_str(&yaml).unwrap();
    let commands = names(&document);
    assert!(!commands.contains(&"vt-ip-scan"), "{commands:?}");
    assert!(commands.contains(&"abuseipdb-check-ip"));
    let ip = command(&document, "ip");
    assert!(!output_paths(ip).iter().any(|path| path.starts_with("VirusTotal.")));

    let refused = ferret_cli(text, &["integration", "yaml", "--brand", "virustotal"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim(),
        "error: provider `virustotal` is disabled in the configuration"
    );
}

#[test]
fn an_unknown_brand_is_refused_naming_the_loaded_ones() {
    let refused = ferret_cli("", &["integration", "yaml", "--brand", "nosuch"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(refused.stdout, b"");
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim(),
        "error: no provider `nosuch` is loaded; loaded: abuseipdb, malwarebazaar, misp, \
         passivetotal, safebrowsing, shodan, urlscan, virustotal"
    );
}
