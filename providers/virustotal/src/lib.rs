//! Ferret provider for VirusTotal, the multi-engine scanner's reputation
//! reports on IP addresses, domains, URLs and files.
//!
//! Upstream: the VirusTotal API v3 at `https://www.virustotal.com`
//! (`/api/v3/ip_addresses/{ip}`, `/domains/{domain}`, `/urls/{id}`,
//! `/files/{hash}`). Auth: the API key in the `x-apikey` header, added by the
//! host. Quota: a public key allows 4 requests a minute and 500 a day.
//!
//! The commands, arguments and context mirror Cortex XSOAR's VirusTotal (API
//! v3) integration's reputation commands: `vt-ip-scan` (also `ip`),
//! `vt-domain-scan` (`domain`), `vt-url-scan` (`url`) and `vt-file-scan`
//! (`file`), writing the upstream's `data` object under `VirusTotal.IP`,
//! `.Domain`, `.URL` and `.File`, keyed by `id`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferret_provider_sdk::prelude::*;
use ferret_provider_sdk::{UpstreamFailure, rate_limited_from};
use serde_json::{Value, json};

/// Default verdict thresholds in engines, XSOAR's defaults for every kind.
const DEFAULT_MALICIOUS: u32 = 10;
const DEFAULT_SUSPICIOUS: u32 = 5;

/// Bulky attributes left out of the context unless `extended_data` is set,
/// the list XSOAR's integration drops. The raw contents keep them.
const BULKY_ATTRIBUTES: [&str; 6] = [
    "last_analysis_results",
    "pe_info",
    "crowdsourced_ids_results",
    "autostart_locations",
    "sandbox_verdicts",
    "sigma_analysis_summary",
];

/// What a command looks up; each has its own endpoint, context path and
/// readable table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Ip,
    Domain,
    Url,
    File,
}

/// Each command's name and what it looks up.
const COMMANDS: [(&str, Lookup); 4] = [
    ("vt-ip-scan", Lookup::Ip),
    ("vt-domain-scan", Lookup::Domain),
    ("vt-url-scan", Lookup::Url),
    ("vt-file-scan", Lookup::File),
];

impl Lookup {
    fn from_command(name: &str) -> Option<Self> {
        COMMANDS.iter().find(|(command, _)| *command == name).map(|(_, lookup)| *lookup)
    }

    /// The argument carrying the indicators, also the command's alias: the
    /// reputation command XSOAR fans out to every enrichment source.
    fn argument(self) -> &'static str {
        match self {
            Lookup::Ip => "ip",
            Lookup::Domain => "domain",
            Lookup::Url => "url",
            Lookup::File => "file",
        }
    }

    /// Where the context goes, after `VirusTotal.`, and the table's noun.
    fn noun(self) -> &'static str {
        match self {
            Lookup::Ip => "IP",
            Lookup::Domain => "Domain",
            Lookup::Url => "URL",
            Lookup::File => "File",
        }
    }

    /// What the argument takes, for descriptions.
    fn plural(self) -> &'static str {
        match self {
            Lookup::Ip => "IP addresses",
            Lookup::Domain => "domains",
            Lookup::Url => "URLs",
            Lookup::File => "files, by MD5, SHA-1 or SHA-256 hash",
        }
    }

    /// VirusTotal indexes files by MD5, SHA-1 and SHA-256 only.
    fn kinds(self) -> &'static [IndicatorKind] {
        match self {
            Lookup::Ip => &[IndicatorKind::Ipv4, IndicatorKind::Ipv6],
            Lookup::Domain => &[IndicatorKind::Domain],
            Lookup::Url => &[IndicatorKind::Url],
            Lookup::File => &[IndicatorKind::Md5, IndicatorKind::Sha1, IndicatorKind::Sha256],
        }
    }
}

struct VirusTotal;

impl Provider for VirusTotal {
    fn manifest() -> Manifest {
        let mut manifest =
            ManifestBuilder::new("virustotal", "VirusTotal", "https://www.virustotal.com")
                .version(env!("CARGO_PKG_VERSION"))
                .description("Multi-engine reputation of IP addresses, domains, URLs and files")
                .reliability(Reliability::C)
                .secret("api-key", SecretPlacement::Header("x-apikey".into()), "VirusTotal API key")
                .setting(
                    "malicious-threshold",
                    Some("10"),
                    "Engines flagging an indicator as malicious from which it is malicious",
                )
                .setting(
                    "suspicious-threshold",
                    Some("5"),
                    "Engines flagging an indicator as malicious, or as suspicious, from which \
                     it is suspicious",
                )
                .limits(None, Some(4), Some(500));
        for (name, lookup) in COMMANDS {
            manifest = manifest.command(command(name, lookup));
        }
        manifest.build()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        let lookup = Lookup::from_command(&request.command).ok_or_else(|| {
            ProviderError::InvalidInput(format!("unknown command `{}`", request.command))
        })?;
        let indicator = request.indicator()?;
        let extended = request.flag("extended_data")?.unwrap_or(false);
        let thresholds = Thresholds {
            malicious: setting_u32("malicious-threshold", DEFAULT_MALICIOUS)?,
            suspicious: setting_u32("suspicious-threshold", DEFAULT_SUSPICIOUS)?,
        };

        let response = Request::get(&report_path(lookup, indicator)?).send()?;
        if !response.is_success() {
            return Err(upstream_error(&response));
        }
        let body: Value = response.json()?;

        map_report(lookup, indicator, &body, thresholds, extended)
    }

    fn check() -> Result<(), ProviderError> {
        let response = Request::get("/api/v3/ip_addresses/8.8.8.8").send()?;
        if response.is_success() { Ok(()) } else { Err(upstream_error(&response)) }
    }
}

register!(VirusTotal);

fn command(name: &str, lookup: Lookup) -> CommandBuilder {
    let command = vendor_outputs(name, lookup);
    let noun = lookup.noun();
    let standard = |path: &str| format!("/{noun}.{path}");
    let command = command
        .output(&standard("DetectionEngines"), "Number", "Engines that analysed the indicator.")
        .output(&standard("PositiveDetections"), "Number", "Engines that flagged it malicious.");
    let extra: &[(&str, &str, &str)] = match lookup {
        Lookup::Ip => &[
            ("ASN", "Number", "The autonomous system number."),
            ("ASOwner", "String", "The autonomous system's owner."),
            ("Geo.Country", "String", "ISO 3166 code of the address's country."),
        ],
        Lookup::Domain => &[
            ("Registrar.Name", "String", "The domain's registrar."),
            ("CreationDate", "Date", "When the domain was registered."),
            ("UpdatedDate", "Date", "When its registration last changed."),
            ("ExpirationDate", "Date", "When its registration expires."),
        ],
        Lookup::Url => &[],
        Lookup::File => &[
            ("SSDeep", "String", "The file's SSDeep fuzzy hash."),
            ("Size", "Number", "The file's size in bytes."),
            ("Type", "String", "The file's type as VirusTotal describes it."),
        ],
    };
    extra
        .iter()
        .fold(command, |command, (path, kind, text)| command.output(&standard(path), kind, text))
}

/// The command with its arguments and its `VirusTotal.<noun>` outputs.
fn vendor_outputs(name: &str, lookup: Lookup) -> CommandBuilder {
    let noun = lookup.noun();
    let argument = lookup.argument();
    CommandBuilder::new(name, &format!("Gets VirusTotal's reputation of {}.", lookup.plural()))
        .alias(argument)
        .indicator(argument, &format!("The {} to look up.", lookup.plural()), lookup.kinds())
        .argument(
            ArgumentBuilder::new(
                "extended_data",
                "Whether to keep bulky attributes, such as every engine's result, in the context.",
            )
            .default_value("false"),
        )
        .context(&format!("VirusTotal.{noun}"), "id")
        .output("id", "String", "The indicator's id in VirusTotal.")
        .output("type", "String", "The object type, e.g. ip_address or file.")
        .output("links.self", "String", "Link to the object in the API.")
        .output("attributes.reputation", "Number", "VirusTotal's community reputation score.")
        .output(
            "attributes.last_analysis_stats.malicious",
            "Number",
            "Engines flagging it malicious.",
        )
        .output(
            "attributes.last_analysis_stats.suspicious",
            "Number",
            "Engines flagging it suspicious.",
        )
        .output("attributes.last_analysis_stats.harmless", "Number", "Engines rating it harmless.")
        .output("attributes.last_analysis_stats.undetected", "Number", "Engines with no detection.")
        .output("attributes.last_analysis_date", "Date", "Last analysis, in seconds since 1970.")
        .output("attributes.total_votes.malicious", "Number", "Community votes for malicious.")
        .output("attributes.total_votes.harmless", "Number", "Community votes for harmless.")
}

/// Engine counts at which the verdict changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Thresholds {
    malicious: u32,
    suspicious: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { malicious: DEFAULT_MALICIOUS, suspicious: DEFAULT_SUSPICIOUS }
    }
}

// Requests.

/// The report's path for one indicator.
///
/// A URL's id is its exact text in unpadded URL-safe base64, as VirusTotal
/// documents; the host hands the URL over as written, so this is the same id
/// VirusTotal's own site computes.
fn report_path(lookup: Lookup, indicator: &Indicator) -> Result<String, ProviderError> {
    let value = indicator.value.as_str();
    Ok(match lookup {
        Lookup::Ip => format!("/api/v3/ip_addresses/{value}"),
        Lookup::Domain => format!("/api/v3/domains/{value}"),
        Lookup::Url => format!("/api/v3/urls/{}", url_id(value)),
        Lookup::File => match indicator.kind {
            IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256 => {
                format!("/api/v3/files/{value}")
            }
            IndicatorKind::Sha512 => {
                return Err(ProviderError::InvalidInput(
                    "VirusTotal does not index files by sha512; give an md5, sha1 or sha256 hash"
                        .to_owned(),
                ));
            }
            _ => {
                return Err(ProviderError::InvalidInput(format!(
                    "`file` must be an md5, sha1 or sha256 hash, not `{value}`"
                )));
            }
        },
    })
}

fn url_id(url: &str) -> String {
    URL_SAFE_NO_PAD.encode(url)
}

/// VirusTotal's failures, read beyond the standard mapping.
///
/// VirusTotal answers `QuotaExceededError` for its minute, daily and monthly
/// quotas alike, without saying which. The host already keeps the daily
/// count within 500, so a 429 that reaches here is most likely the
/// per-minute quota (another client sharing the key, or a clock skew): it is
/// rate limited, waiting the Retry-After or a minute, rather than a spent
/// day. A 400 `InvalidArgumentError` is the caller's input.
fn upstream_error(response: &Response) -> ProviderError {
    let error = response.json::<Value>().ok().and_then(|body| body.get("error").cloned());
    let code = error.as_ref().and_then(|error| error["code"].as_str());
    match (response.status, code) {
        (429, _) => rate_limited_from(response),
        (400, Some("InvalidArgumentError")) => ProviderError::InvalidInput(
            error
                .as_ref()
                .and_then(|error| error["message"].as_str())
                .unwrap_or("invalid argument")
                .to_owned(),
        ),
        _ => status_error(response),
    }
}

// Response mapping.

/// Maps a report on `indicator` to context, verdict and table.
fn map_report(
    lookup: Lookup,
    indicator: &Indicator,
    body: &Value,
    thresholds: Thresholds,
    extended: bool,
) -> Result<CommandOutput, ProviderError> {
    let data = body.get("data").filter(|data| data["attributes"].is_object()).ok_or_else(|| {
        ProviderError::Upstream(UpstreamFailure {
            status: 200,
            message: "the answer has no `data.attributes` object".to_owned(),
        })
    })?;
    let attributes = &data["attributes"];
    let stats = Stats::of(attributes);
    let (verdict, reason) = judge(stats, thresholds);

    let mut standard = json!({});
    if let Some(stats) = stats {
        standard["DetectionEngines"] = json!(stats.engines);
        standard["PositiveDetections"] = json!(stats.malicious);
    }
    match lookup {
        Lookup::Ip => {
            copy(attributes, "asn", &mut standard, "ASN");
            copy(attributes, "as_owner", &mut standard, "ASOwner");
            if let Some(country) = attributes.get("country") {
                standard["Geo"] = json!({"Country": country});
            }
        }
        Lookup::Domain => {
            let whois = attributes["whois"].as_str().unwrap_or("");
            let registrar = attributes
                .get("registrar")
                .and_then(Value::as_str)
                .or(whois_field(whois, "Registrar"));
            if let Some(name) = registrar {
                standard["Registrar"] = json!({"Name": name});
            }
            for (field, key) in [
                ("Creation Date", "CreationDate"),
                ("Updated Date", "UpdatedDate"),
                ("Registry Expiry Date", "ExpirationDate"),
            ] {
                if let Some(value) = whois_field(whois, field) {
                    standard[key] = json!(value);
                }
            }
        }
        Lookup::Url => {}
        Lookup::File => {
            for (from, to) in [
                ("md5", "MD5"),
                ("sha1", "SHA1"),
                ("sha256", "SHA256"),
                ("ssdeep", "SSDeep"),
                ("size", "Size"),
                ("type_description", "Type"),
            ] {
                copy(attributes, from, &mut standard, to);
            }
        }
    }

    let mut context = data.clone();
    if !extended && let Some(attributes) = context["attributes"].as_object_mut() {
        for bulky in BULKY_ATTRIBUTES {
            attributes.remove(bulky);
        }
    }

    let (title, headers, row) = table(lookup, indicator, data, stats);
    let score = stats.and_then(Stats::percent);
    Ok(Output::new()
        .raw(body)
        .context(context)
        .assessment(assess(indicator, verdict, score, &reason).with_standard_context(standard))
        .table(&title, &headers, vec![row])
        .build())
}

/// The counts of `last_analysis_stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stats {
    malicious: u64,
    suspicious: u64,
    harmless: u64,
    undetected: u64,
    /// Every engine counted in any category, as XSOAR's "detection engines".
    engines: u64,
}

impl Stats {
    /// `None` when the object was never analysed.
    fn of(attributes: &Value) -> Option<Self> {
        let stats = attributes.get("last_analysis_stats")?.as_object()?;
        let count = |key: &str| stats.get(key).and_then(Value::as_u64).unwrap_or(0);
        Some(Self {
            malicious: count("malicious"),
            suspicious: count("suspicious"),
            harmless: count("harmless"),
            undetected: count("undetected"),
            engines: stats.values().filter_map(Value::as_u64).sum(),
        })
    }

    /// Malicious engines as a share of all engines, 0-100, rounded.
    fn percent(self) -> Option<u8> {
        (self.engines > 0)
            .then(|| ((self.malicious * 100 + self.engines / 2) / self.engines).min(100) as u8)
    }
}

/// The verdict and its reason from the engine counts.
///
/// Malicious from `malicious-threshold` engines flagging it malicious;
/// suspicious from `suspicious-threshold` engines flagging it malicious, or as
/// many flagging it suspicious. Everything else is unknown: VirusTotal's
/// "harmless" means an engine found nothing, which is the absence of
/// evidence, not a vouch, so VirusTotal never makes an indicator benign here.
/// (XSOAR's integration can say good on domain popularity ranks; Ferret
/// leaves allow-listing to allow-lists.)
fn judge(stats: Option<Stats>, thresholds: Thresholds) -> (Verdict, String) {
    let Some(stats) = stats else {
        return (Verdict::Unknown, "not analysed by VirusTotal yet".to_owned());
    };
    let mut reason =
        format!("{}/{} security vendors flagged it as malicious", stats.malicious, stats.engines);
    if stats.suspicious > 0 {
        reason.push_str(&format!(", {} as suspicious", stats.suspicious));
    }
    let verdict = if stats.malicious >= u64::from(thresholds.malicious) {
        Verdict::Malicious
    } else if stats.malicious >= u64::from(thresholds.suspicious)
        || stats.suspicious >= u64::from(thresholds.suspicious)
    {
        Verdict::Suspicious
    } else {
        Verdict::Unknown
    };
    (verdict, reason)
}

/// The readable table: its title, columns and one row.
fn table(
    lookup: Lookup,
    indicator: &Indicator,
    data: &Value,
    stats: Option<Stats>,
) -> (String, Vec<&'static str>, Value) {
    let attributes = &data["attributes"];
    let mut row = json!({
        "Id": data["id"],
        "Reputation": attributes["reputation"],
        "LastModified": attributes["last_modification_date"].as_i64().map(epoch_to_timestamp),
    });
    if let Some(stats) = stats {
        row["Positives"] = json!(format!("{}/{}", stats.malicious, stats.engines));
        row["Malicious"] = json!(stats.malicious);
        row["Suspicious"] = json!(stats.suspicious);
        row["Harmless"] = json!(stats.harmless);
        row["Undetected"] = json!(stats.undetected);
    }
    let extra: &[(&str, &str)] = match lookup {
        Lookup::Ip => &[("Network", "network"), ("Country", "country"), ("AsOwner", "as_owner")],
        Lookup::Domain => &[("Registrar", "registrar")],
        Lookup::Url => &[("Url", "url"), ("Title", "title"), ("FinalUrl", "last_final_url")],
        Lookup::File => &[
            ("MD5", "md5"),
            ("SHA1", "sha1"),
            ("SHA256", "sha256"),
            ("MeaningfulName", "meaningful_name"),
            ("Type", "type_description"),
            ("Size", "size"),
        ],
    };
    for (column, key) in extra {
        row[*column] = attributes[*key].clone();
    }
    let mut headers = vec!["Id"];
    headers.extend(extra.iter().map(|(column, _)| *column));
    headers.extend([
        "Reputation",
        "Positives",
        "Malicious",
        "Suspicious",
        "Harmless",
        "Undetected",
        "LastModified",
    ]);
    let title = format!("VirusTotal {} reputation for: {}", lookup.noun(), indicator.value);
    (title, headers, row)
}

fn copy(from: &Value, key: &str, to: &mut Value, as_key: &str) {
    if let Some(value) = from.get(key).filter(|value| !value.is_null()) {
        to[as_key] = value.clone();
    }
}

/// The first `Field: value` line of a WHOIS text, as XSOAR's integration
/// reads the domain's dates and registrar.
fn whois_field<'a>(whois: &'a str, field: &str) -> Option<&'a str> {
    whois.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == field).then(|| value.trim()).filter(|value| !value.is_empty())
    })
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM:SSZ`, XSOAR's integration's form.
/// Civil date from a day count after Howard Hinnant's `civil_from_days`.
fn epoch_to_timestamp(epoch: i64) -> String {
    let (days, seconds) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_provider_sdk::testing::sample;

    fn indicator(kind: IndicatorKind, value: &str) -> Indicator {
        Indicator { kind, value: value.to_owned() }
    }

    fn map(lookup: Lookup, indicator: &Indicator, body: &Value) -> CommandOutput {
        map_report(lookup, indicator, body, Thresholds::default(), false).unwrap()
    }

    fn context(output: &CommandOutput) -> Value {
        let mut objects: Vec<Value> = serde_json::from_str(&output.context).unwrap();
        assert_eq!(objects.len(), 1);
        objects.remove(0)
    }

    fn standard(output: &CommandOutput) -> Value {
        serde_json::from_str(&output.assessments[0].standard_context).unwrap()
    }

    #[test]
    fn manifest_names_xsoars_commands_and_the_public_key_limits() {
        let manifest = VirusTotal::manifest();
        let names: Vec<_> = manifest
            .commands
            .iter()
            .map(|command| (command.name.as_str(), command.aliases[0].as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("vt-ip-scan", "ip"),
                ("vt-domain-scan", "domain"),
                ("vt-url-scan", "url"),
                ("vt-file-scan", "file")
            ]
        );
        assert_eq!(manifest.commands[3].context_path, "VirusTotal.File");
        assert_eq!(manifest.commands[3].key_field, "id");
        assert!(
            matches!(&manifest.secrets[0].placement, SecretPlacement::Header(name) if name == "x-apikey")
        );
        assert_eq!((manifest.limits.per_minute, manifest.limits.per_day), (Some(4), Some(500)));
    }

    #[test]
    fn url_ids_are_unpadded_url_safe_base64_of_the_exact_text() {
        assert_eq!(url_id("http://example.com/"), "aHR0cDovL2V4YW1wbGUuY29tLw");
        // `?` encodes to `_` in the URL-safe alphabet.
        assert_eq!(
            url_id("http://example.com/a?b=1&c=2"),
            "aHR0cDovL2V4YW1wbGUuY29tL2E_Yj0xJmM9Mg"
        );
    }

    #[test]
    fn paths_follow_the_indicator() {
        let url =
            indicator(IndicatorKind::Url, "http://login-verify.example.com/account/update.php");
        // The same path the url_malicious sample was fetched from.
        assert_eq!(
            report_path(Lookup::Url, &url).unwrap(),
            "/api/v3/urls/aHR0cDovL2xvZ2luLXZlcmlmeS5leGFtcGxlLmNvbS9hY2NvdW50L3VwZGF0ZS5waHA"
        );
        assert_eq!(
            report_path(Lookup::Ip, &indicator(IndicatorKind::Ipv4, "8.8.8.8")).unwrap(),
            "/api/v3/ip_addresses/8.8.8.8"
        );
        assert_eq!(
            report_path(Lookup::Domain, &indicator(IndicatorKind::Domain, "example.com")).unwrap(),
            "/api/v3/domains/example.com"
        );
        let md5 = indicator(IndicatorKind::Md5, "44d88612fea8a8f36de82e1278abb02f");
        assert_eq!(
            report_path(Lookup::File, &md5).unwrap(),
            "/api/v3/files/44d88612fea8a8f36de82e1278abb02f"
        );
    }

    #[test]
    fn sha512_is_refused_by_name() {
        let sha512 = indicator(IndicatorKind::Sha512, &"a".repeat(128));
        match report_path(Lookup::File, &sha512) {
            Err(ProviderError::InvalidInput(message)) => {
                assert!(message.contains("sha512"), "{message}")
            }
            other => panic!("expected invalid input, got {other:?}"),
        }
        // The manifest does not offer sha512 either, so `!file` skips VirusTotal.
        assert!(!Lookup::File.kinds().contains(&IndicatorKind::Sha512));
    }

    #[test]
    fn ip_malicious_sample_is_suspicious_under_default_thresholds() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/virustotal/ip_malicious.json"));
        let ip = indicator(IndicatorKind::Ipv4, "203.0.113.66");
        let output = map(Lookup::Ip, &ip, &body);

        let assessment = &output.assessments[0];
        // 9 malicious engines: under 10, at least 5.
        assert_eq!(assessment.verdict, Verdict::Suspicious);
        // 9 of 61+9+2+22+0 = 94 engines is 9.6%.
        assert_eq!(assessment.score, Some(10));
        assert_eq!(
            assessment.reason,
            "9/94 security vendors flagged it as malicious, 2 as suspicious"
        );
        assert_eq!(
            standard(&output),
            json!({"DetectionEngines": 94, "PositiveDetections": 9, "ASN": 64500,
                   "ASOwner": "EXAMPLE-HOSTING-AS", "Geo": {"Country": "NL"}})
        );

        // A stricter operator setting makes the same answer malicious.
        let strict = Thresholds { malicious: 9, suspicious: 5 };
        let output = map_report(Lookup::Ip, &ip, &body, strict, false).unwrap();
        assert_eq!(output.assessments[0].verdict, Verdict::Malicious);
    }

    #[test]
    fn ip_context_is_the_data_object_without_engine_results() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/virustotal/ip_malicious.json"));
        let ip = indicator(IndicatorKind::Ipv4, "203.0.113.66");
        let output = map(Lookup::Ip, &ip, &body);

        let object = context(&output);
        assert_eq!(object["id"], "203.0.113.66");
        assert_eq!(object["type"], "ip_address");
        assert_eq!(
            object["links"]["self"],
            "https://www.virustotal.com/api/v3/ip_addresses/203.0.113.66"
        );
        assert_eq!(object["attributes"]["last_analysis_stats"]["malicious"], 9);
        assert_eq!(object["attributes"]["reputation"], -11);
        assert!(object["attributes"].get("last_analysis_results").is_none());
        // The raw contents keep everything.
        assert_eq!(serde_json::from_str::<Value>(&output.raw).unwrap(), body);

        // extended_data keeps the engine results in the context too.
        let extended = map_report(Lookup::Ip, &ip, &body, Thresholds::default(), true).unwrap();
        assert!(context(&extended)["attributes"]["last_analysis_results"]["CRDF"].is_object());
    }

    #[test]
    fn ip_clean_sample_is_unknown_despite_harmless_engines_and_votes() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/virustotal/ip_clean.json"));
        let output = map(Lookup::Ip, &indicator(IndicatorKind::Ipv4, "8.8.8.8"), &body);

        let assessment = &output.assessments[0];
        // 63 harmless engines and 210 harmless votes are no positive signal.
        assert_eq!(assessment.verdict, Verdict::Unknown);
        assert_eq!(assessment.score, Some(0));
        assert_eq!(assessment.reason, "0/94 security vendors flagged it as malicious");

        let table = output.readable.as_ref().unwrap();
        assert_eq!(table.title, "VirusTotal IP reputation for: 8.8.8.8");
        let rows: Vec<Value> = serde_json::from_str(&table.rows).unwrap();
        assert_eq!(rows[0]["Positives"], "0/94");
        assert_eq!(rows[0]["AsOwner"], "GOOGLE");
        assert_eq!(rows[0]["Network"], "8.8.8.0/24");
        assert_eq!(rows[0]["LastModified"], "2024-06-01 08:36:40Z");
    }

    #[test]
    fn domain_malicious_sample_is_suspicious_with_registrar_and_dates() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/virustotal/domain_malicious.json"));
        let domain = indicator(IndicatorKind::Domain, "login-verify.example.com");
        let output = map(Lookup::Domain, &domain, &body);

        let assessment = &output.assessments[0];
        // 8 malicious engines: suspicious under the default 10.
        assert_eq!(assessment.verdict, Verdict::Suspicious);
        assert_eq!(assessment.score, Some(9));
        assert_eq!(
            standard(&output),
            json!({"DetectionEngines": 94, "PositiveDetections": 8,
                   "Registrar": {"Name": "Example Registrar, Inc."},
                   "CreationDate": "2024-05-01T00:00:00Z"})
        );
        let object = context(&output);
        assert_eq!(object["id"], "login-verify.example.com");
        assert_eq!(object["attributes"]["categories"]["Sophos"], "phishing");
        assert!(object["attributes"].get("last_analysis_results").is_none());
    }

    #[test]
    fn url_malicious_sample_is_suspicious_and_keyed_by_vt_id() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/virustotal/url_malicious.json"));
        let url =
            indicator(IndicatorKind::Url, "http://login-verify.example.com/account/update.php");
        let output = map(Lookup::Url, &url, &body);

        // 9 malicious of 94: suspicious; 9.57% rounds to 10.
        assert_eq!(output.assessments[0].verdict, Verdict::Suspicious);
        assert_eq!(output.assessments[0].score, Some(10));
        // The context id is VirusTotal's SHA-256 of the URL, as XSOAR's is.
        assert_eq!(
            context(&output)["id"],
            "b0979656bb1a064d9e5070f8a29cf856bcc8dee0ed0eb77cdcdb78244bddea77"
        );
        let rows: Vec<Value> = serde_json::from_str(&output.readable.unwrap().rows).unwrap();
        assert_eq!(rows[0]["Title"], "Account verification");
    }

    #[test]
    fn eicar_sample_is_malicious_with_its_hashes() {
        let (_, body) = sample(include_str!(
            "../../../tests/data/samples/virustotal/file_eicar_malicious.json"
        ));
        let sha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
        let output = map(Lookup::File, &indicator(IndicatorKind::Sha256, sha256), &body);

        let assessment = &output.assessments[0];
        assert_eq!(assessment.verdict, Verdict::Malicious);
        // 62 of 0+8+0+0+0+0+62+7 = 77 engines, unsupported types included as XSOAR counts them.
        assert_eq!(assessment.score, Some(81));
        assert_eq!(assessment.reason, "62/77 security vendors flagged it as malicious");
        assert_eq!(
            standard(&output),
            json!({"DetectionEngines": 77, "PositiveDetections": 62,
                   "MD5": "44d88612fea8a8f36de82e1278abb02f",
                   "SHA1": "3395856ce81f2b7382dee72602f798b642f14140",
                   "SHA256": sha256, "Size": 68, "Type": "Text"})
        );
        let object = context(&output);
        assert_eq!(object["type"], "file");
        assert_eq!(object["attributes"]["meaningful_name"], "eicar.com");
        assert!(object["attributes"].get("last_analysis_results").is_none());
    }

    #[test]
    fn verdict_edges() {
        let stats = |malicious, suspicious| Stats {
            malicious,
            suspicious,
            harmless: 0,
            undetected: 0,
            engines: 70,
        };
        let defaults = Thresholds::default();
        assert_eq!(judge(Some(stats(10, 0)), defaults).0, Verdict::Malicious);
        assert_eq!(judge(Some(stats(5, 0)), defaults).0, Verdict::Suspicious);
        // Suspicious engines alone reach suspicious, never malicious.
        assert_eq!(judge(Some(stats(0, 40)), defaults).0, Verdict::Suspicious);
        assert_eq!(judge(Some(stats(4, 4)), defaults).0, Verdict::Unknown);
        // Never analysed: unknown without a figure.
        assert_eq!(judge(None, defaults).0, Verdict::Unknown);
        let empty = Stats { malicious: 0, suspicious: 0, harmless: 0, undetected: 0, engines: 0 };
        assert_eq!(empty.percent(), None);
    }

    #[test]
    fn not_found_is_not_found() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/virustotal/file_not_found_404.json"));
        assert!(matches!(upstream_error(&response), ProviderError::NotFound));
    }

    #[test]
    fn a_wrong_key_is_unauthorized_with_virustotals_words() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/virustotal/error_401_wrong_key.json"));
        match upstream_error(&response) {
            ProviderError::Unauthorized(message) => assert_eq!(message, "Wrong API key"),
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn quota_exceeded_is_rate_limited_for_a_minute() {
        let (response, _) = sample(include_str!(
            "../../../tests/data/samples/virustotal/error_429_quota_exceeded.json"
        ));
        // No Retry-After: the SDK's minute.
        assert!(matches!(upstream_error(&response), ProviderError::RateLimited(60)));
    }

    #[test]
    fn an_invalid_argument_is_invalid_input() {
        let response = Response {
            status: 400,
            headers: Vec::new(),
            body: br#"{"error": {"code": "InvalidArgumentError", "message": "Domain \"x\" is not a valid domain pattern"}}"#.to_vec(),
        };
        match upstream_error(&response) {
            ProviderError::InvalidInput(message) => {
                assert!(message.starts_with("Domain"), "{message}")
            }
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn an_answer_without_attributes_is_an_upstream_failure() {
        let ip = indicator(IndicatorKind::Ipv4, "8.8.8.8");
        let error = map_report(
            Lookup::Ip,
            &ip,
            &json!({"data": {"id": "8.8.8.8"}}),
            Thresholds::default(),
            false,
        );
        assert!(matches!(error, Err(ProviderError::Upstream(UpstreamFailure { status: 200, .. }))));
    }

    #[test]
    fn epoch_seconds_become_xsoar_timestamps() {
        assert_eq!(epoch_to_timestamp(0), "1970-01-01 00:00:00Z");
        assert_eq!(epoch_to_timestamp(1_714_521_600), "2024-05-01 00:00:00Z");
        assert_eq!(epoch_to_timestamp(951_782_400), "2000-02-29 00:00:00Z");
    }
}
