//! Context keys one by one: the vendor and standard objects Ferret writes
//! for AbuseIPDB and VirusTotal, against the keys XSOAR's real
//! integrations set for the same upstream data, and against the outputs
//! the generated integration YAML declares for the command.

use serde_json::{Value, json};

use ferret_host::dispatch::Ferret;
use ferret_host::integration;

use crate::support::{
    DBOT, Fake, dbot, ferret, only_entry, provider_module, provider_table, sample,
};

const IP_KEY: &str = "IP(val.Address && val.Address == obj.Address)";
const DOMAIN_KEY: &str = "Domain(val.Name && val.Name == obj.Name)";
const URL_KEY: &str = "URL(val.Data && val.Data == obj.Data)";
const FILE_KEY: &str = "File(val.MD5 && val.MD5 == obj.MD5 || val.SHA1 && val.SHA1 == obj.SHA1 || \
                        val.SHA256 && val.SHA256 == obj.SHA256 || val.SHA512 && val.SHA512 == obj.SHA512)";
const ABUSEIPDB_KEY: &str = "AbuseIPDB(val.IP.Address && val.IP.Address == obj.IP.Address)";
const VT_IP_KEY: &str = "VirusTotal.IP(val.id && val.id == obj.id)";

const EICAR_SHA256: &str = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
const PHISHING_URL: &str = "http://login-verify.example.com/account/update.php";

fn configuration(id: &str, fake: &Fake) -> String {
    format!("[policy]\nallow_documentation_ranges = true\n{}", provider_table(id, fake))
}

/// The one entry `line` gives with provider `id` serving `sample_name`.
async fn entry_for(id: &str, sample_name: &str, line: &str) -> (Value, Ferret) {
    let fake = Fake::start().await;
    fake.serve(&sample(id, sample_name), &[]);
    let ferret = ferret(&configuration(id, &fake), &[provider_module(id)]).await;
    let entry = only_entry(&ferret, line).await;
    (entry, ferret)
}

/// The keys of an object, sorted.
fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {object}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

/// Every leaf path an entry's context writes, e.g. `AbuseIPDB.IP.Geo.Country`:
/// keys without their merge selectors, objects walked into, arrays of
/// objects walked through, anything else a leaf.
fn written_paths(entry: &Value) -> Vec<String> {
    fn walk(prefix: &str, value: &Value, paths: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    walk(&format!("{prefix}.{key}"), value, paths);
                }
            }
            Value::Array(items) if items.iter().any(Value::is_object) => {
                for item in items {
                    walk(prefix, item, paths);
                }
            }
            _ => {
                if !paths.iter().any(|known| known == prefix) {
                    paths.push(prefix.to_owned());
                }
            }
        }
    }
    let mut paths = Vec::new();
    for (key, value) in entry["EntryContext"].as_object().unwrap() {
        let path = key.split('(').next().unwrap();
        walk(path, value, &mut paths);
    }
    paths
}

/// The context paths the generated YAML declares for `command`.
fn declared_paths(ferret: &Ferret, command: &str) -> Vec<String> {
    let manifests: Vec<_> =
        ferret.registry.providers().iter().map(|provider| &provider.module.manifest).collect();
    let yaml = integration::combined(&manifests, None).unwrap();
    let command = yaml.command(command).unwrap_or_else(|| panic!("no command {command}"));
    command.outputs.iter().map(|output| output.context_path.clone()).collect()
}

/// Whether `path` or an object above it is declared.
fn is_declared(path: &str, declared: &[String]) -> bool {
    declared.iter().any(|known| path == known || path.starts_with(&format!("{known}.")))
}

/// The value at a dotted path in an entry's context, through the first
/// object of each array. The context key whose path (selector aside) is
/// the longest start of `path` holds it.
fn lookup<'a>(entry: &'a Value, path: &str) -> Option<&'a Value> {
    let (rest, mut value) = entry["EntryContext"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(key, value)| {
            let root = key.split('(').next().unwrap();
            let rest = path.strip_prefix(root)?;
            (rest.is_empty() || rest.starts_with('.')).then_some((rest, value))
        })
        .min_by_key(|(rest, _)| rest.len())?;
    for part in rest.split('.').filter(|part| !part.is_empty()) {
        if let Some(first) = value.as_array().and_then(|items| items.first()) {
            value = first;
        }
        value = value.get(part)?;
    }
    Some(value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuseipdb_writes_exactly_the_real_integrations_keys() {
    let (entry, _) = entry_for("abuseipdb", "check_malicious_verbose", "!ip 203.0.113.45").await;

    // XSOAR's AbuseIPDB sets these on `AbuseIPDB.IP`, and Ferret no others.
    let vendor = &entry["EntryContext"][ABUSEIPDB_KEY][0]["IP"];
    assert_eq!(
        keys(vendor),
        [
            "AbuseConfidenceScore",
            "Address",
            "Domain",
            "Geo",
            "Hostnames",
            "ISP",
            "IpVersion",
            "IsPublic",
            "IsTor",
            "IsWhitelisted",
            "LastReportedAt",
            "Malicious",
            "NumDistinctUsers",
            "Reports",
            "TotalReports",
            "UsageType",
        ]
    );
    assert_eq!(keys(&vendor["Geo"]), ["Country", "CountryCode"]);
    assert_eq!(keys(&vendor["Malicious"]), ["Description", "Vendor"]);
    // The standard object: the address, its country by name and code, and
    // the verdict. AbuseIPDB gives no ASN, so neither integration sets one.
    let standard = &entry["EntryContext"][IP_KEY][0];
    assert_eq!(keys(standard), ["Address", "Geo", "Malicious"]);
    assert_eq!(standard["Geo"], json!({"Country": "Netherlands", "CountryCode": "NL"}));
    assert_eq!(standard["Malicious"]["Vendor"], "AbuseIPDB");
    assert_eq!(keys(dbot(&entry)), ["Indicator", "Reliability", "Score", "Type", "Vendor"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuseipdb_without_verbose_has_no_reports_key() {
    let fake = Fake::start().await;
    fake.serve(&sample("abuseipdb", "check_malicious_verbose"), &["ipAddress"]);
    let ferret = ferret(&configuration("abuseipdb", &fake), &[provider_module("abuseipdb")]).await;
    let entry = only_entry(&ferret, "!abuseipdb-check-ip ip=203.0.113.45 verbose=false").await;

    // The request did not ask for the reports...
    assert_eq!(fake.seen()[0].query("verbose"), None);
    // ...though the served answer has them, the context counts none,
    // as XSOAR's integration does with verbose off.
    let vendor = &entry["EntryContext"][ABUSEIPDB_KEY][0]["IP"];
    assert!(vendor.get("Reports").is_none(), "{vendor:#}");
    assert_eq!(vendor["TotalReports"], 1043);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuseipdb_unreported_address_keeps_empty_hostnames_and_drops_nulls() {
    let (entry, _) = entry_for("abuseipdb", "check_clean_unreported", "!ip 198.51.100.20").await;
    let vendor = &entry["EntryContext"][ABUSEIPDB_KEY][0]["IP"];
    // `lastReportedAt` is null upstream: left out, as `removeNull` does.
    assert_eq!(
        vendor,
        &json!({
            "Address": "198.51.100.20", "AbuseConfidenceScore": 0, "TotalReports": 0,
            "ISP": "Example Broadband LLC", "UsageType": "Fixed Line ISP",
            "Domain": "example.org", "Hostnames": [], "IpVersion": 4, "IsPublic": true,
            "IsTor": false, "IsWhitelisted": false, "NumDistinctUsers": 0,
            "Geo": {"CountryCode": "US"}
        })
    );
    assert_eq!(
        entry["EntryContext"][IP_KEY],
        json!([{"Address": "198.51.100.20", "Geo": {"CountryCode": "US"}}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuseipdb_block_check_keys_each_reported_address() {
    let (entry, _) = entry_for(
        "abuseipdb",
        "check_block",
        "!abuseipdb-check-cidr-block network=203.0.113.0/24 days=15",
    )
    .await;
    let context = &entry["EntryContext"];
    let first = &context[ABUSEIPDB_KEY][0]["IP"];
    assert_eq!(
        keys(first),
        ["AbuseConfidenceScore", "Address", "Geo", "LastReportedAt", "Malicious", "TotalReports"]
    );
    assert_eq!(first["Geo"], json!({"CountryCode": "NL"}));
    // The weakly reported second address has no Malicious block.
    let second = &context[ABUSEIPDB_KEY][1]["IP"];
    assert_eq!(second["Address"], "203.0.113.66");
    assert!(second.get("Malicious").is_none());
    // One standard IP object and one DBotScore per reported address.
    let addresses: Vec<&str> = context[IP_KEY]
        .as_array()
        .unwrap()
        .iter()
        .map(|ip| ip["Address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["203.0.113.45", "203.0.113.66"]);
    assert_eq!(context[DBOT].as_array().unwrap().len(), 2);
    assert_eq!(context[DBOT][0]["Type"], "ip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuseipdb_every_key_written_is_declared_in_the_yaml_and_back() {
    let (entry, ferret) =
        entry_for("abuseipdb", "check_malicious_verbose", "!abuseipdb-check-ip ip=203.0.113.45")
            .await;
    let declared = declared_paths(&ferret, "abuseipdb-check-ip");
    for path in written_paths(&entry) {
        assert!(is_declared(&path, &declared), "{path} is written but not declared");
    }
    // Each declared path is written for this fully reported address, but
    // the DBotScore message, which only a score-less entry has.
    for path in declared.iter().filter(|path| *path != "DBotScore.Message") {
        assert!(lookup(&entry, path).is_some(), "{path} is declared but not written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virustotal_ip_has_the_real_integrations_standard_and_vendor_keys() {
    let (entry, ferret) = entry_for("virustotal", "ip_malicious", "!ip 203.0.113.66").await;
    let context = &entry["EntryContext"];

    let standard = &context[IP_KEY][0];
    assert_eq!(
        standard,
        &json!({"Address": "203.0.113.66", "ASN": 64500, "ASOwner": "EXAMPLE-HOSTING-AS",
                "Geo": {"Country": "NL"}, "DetectionEngines": 94, "PositiveDetections": 9})
    );
    assert_eq!(
        dbot(&entry),
        &json!({"Indicator": "203.0.113.66", "Type": "ip", "Vendor": "VirusTotal", "Score": 2,
                "Reliability": "C - Fairly reliable"})
    );

    let vendor = &context[VT_IP_KEY][0];
    assert_eq!(keys(vendor), ["attributes", "id", "links", "type"]);
    assert_eq!(vendor["type"], "ip_address");
    assert_eq!(
        vendor["links"]["self"],
        "https://www.virustotal.com/api/v3/ip_addresses/203.0.113.66"
    );
    let attributes = &vendor["attributes"];
    assert_eq!(attributes["asn"], 64500);
    assert_eq!(attributes["country"], "NL");
    assert_eq!(attributes["network"], "203.0.113.0/24");
    assert_eq!(attributes["reputation"], -11);
    assert_eq!(
        attributes["last_analysis_stats"],
        json!({"harmless": 61, "malicious": 9, "suspicious": 2, "undetected": 22, "timeout": 0})
    );
    assert!(attributes.get("last_analysis_results").is_none());

    // Every standard key written is declared, and every declared
    // VirusTotal.IP path is written.
    let declared = declared_paths(&ferret, "vt-ip-scan");
    for path in written_paths(&entry).iter().filter(|path| !path.starts_with("VirusTotal.")) {
        assert!(is_declared(path, &declared), "{path} is written but not declared");
    }
    for path in declared.iter().filter(|path| path.starts_with("VirusTotal.")) {
        assert!(lookup(&entry, path).is_some(), "{path} is declared but not written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virustotal_extended_data_keeps_every_engines_result() {
    let (entry, _) =
        entry_for("virustotal", "ip_malicious", "!vt-ip-scan ip=203.0.113.66 extended_data=true")
            .await;
    let attributes = &entry["EntryContext"][VT_IP_KEY][0]["attributes"];
    assert!(attributes["last_analysis_results"].is_object(), "{attributes:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virustotal_domain_url_and_file_standard_objects() {
    let (domain, _) =
        entry_for("virustotal", "domain_malicious", "!domain login-verify.example.com").await;
    assert_eq!(
        domain["EntryContext"][DOMAIN_KEY],
        json!([{"Name": "login-verify.example.com", "Registrar": {"Name": "Example Registrar, Inc."},
                "CreationDate": "2024-05-01T00:00:00Z", "DetectionEngines": 94,
                "PositiveDetections": 8}])
    );

    let (url, _) = entry_for("virustotal", "url_malicious", &format!("!url {PHISHING_URL}")).await;
    assert_eq!(
        url["EntryContext"][URL_KEY],
        json!([{"Data": PHISHING_URL, "DetectionEngines": 94, "PositiveDetections": 9}])
    );

    let (file, ferret) =
        entry_for("virustotal", "file_eicar_malicious", &format!("!file {EICAR_SHA256}")).await;
    let standard = &file["EntryContext"][FILE_KEY][0];
    assert_eq!(
        keys(standard),
        [
            "DetectionEngines",
            "MD5",
            "Malicious",
            "PositiveDetections",
            "SHA1",
            "SHA256",
            "Size",
            "Type"
        ]
    );
    assert_eq!(standard["MD5"], "44d88612fea8a8f36de82e1278abb02f");
    assert_eq!(standard["SHA1"], "3395856ce81f2b7382dee72602f798b642f14140");
    assert_eq!(standard["Size"], 68);
    assert_eq!(standard["Type"], "Text");
    assert_eq!(standard["PositiveDetections"], 62);
    assert_eq!(standard["Malicious"]["Vendor"], "VirusTotal");
    let declared = declared_paths(&ferret, "vt-file-scan");
    for path in written_paths(&file).iter().filter(|path| !path.starts_with("VirusTotal.")) {
        assert!(is_declared(path, &declared), "{path} is written but not declared");
    }
}
