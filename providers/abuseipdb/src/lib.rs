//! Ferret provider for AbuseIPDB, the community database of abusive IP
//! addresses.
//!
//! Upstream: the AbuseIPDB API v2 at `https://api.abuseipdb.com`
//! (`GET /api/v2/check` for one address, `GET /api/v2/check-block` for a
//! network). Auth: the API key in the `Key` header, added by the host; every
//! request also asks for `Accept: application/json`. Quota: the free tier
//! allows 1,000 checks and 100 block checks per UTC day, with no stated
//! per-second limit.
//!
//! The commands, arguments and context mirror Cortex XSOAR's AbuseIPDB
//! integration: `abuseipdb-check-ip` (also `ip`), `abuseipdb-check-cidr-block`
//! and `abuseipdb-get-categories`, writing `AbuseIPDB.IP` objects keyed by
//! `IP.Address`.

use ferret_provider_sdk::prelude::*;
use ferret_provider_sdk::{UpstreamFailure, rate_limited_from};
use serde_json::{Map, Value, json};

const CHECK_IP: &str = "abuseipdb-check-ip";
const CHECK_BLOCK: &str = "abuseipdb-check-cidr-block";
const GET_CATEGORIES: &str = "abuseipdb-get-categories";

/// Default `maxAgeInDays`; AbuseIPDB accepts 1 to 365.
const DEFAULT_DAYS: u64 = 30;
const MAX_DAYS: u64 = 365;

/// Default verdict thresholds on the abuse confidence score, as in XSOAR's
/// integration.
const DEFAULT_SUSPICIOUS: u32 = 20;
const DEFAULT_MALICIOUS: u32 = 80;

/// AbuseIPDB's report categories, by id.
const CATEGORIES: [(u64, &str); 23] = [
    (1, "DNS Compromise"),
    (2, "DNS Poisoning"),
    (3, "Fraud Orders"),
    (4, "DDoS Attack"),
    (5, "FTP Brute-Force"),
    (6, "Ping of Death"),
    (7, "Phishing"),
    (8, "Fraud VoIP"),
    (9, "Open Proxy"),
    (10, "Web Spam"),
    (11, "Email Spam"),
    (12, "Blog Spam"),
    (13, "VPN IP"),
    (14, "Port Scan"),
    (15, "Hacking"),
    (16, "SQL Injection"),
    (17, "Spoofing"),
    (18, "Brute-Force"),
    (19, "Bad Web Bot"),
    (20, "Exploited Host"),
    (21, "Web App Attack"),
    (22, "SSH"),
    (23, "IoT Targeted"),
];

/// Columns of the `AbuseIPDB Analysis` table, for both lookups.
const ANALYSIS_COLUMNS: [&str; 10] = [
    "Address",
    "AbuseConfidenceScore",
    "TotalReports",
    "Country",
    "ISP",
    "UsageType",
    "Domain",
    "Hostnames",
    "IsTor",
    "LastReportedAt",
];

/// Context paths under `AbuseIPDB` that the lookups write, for the YAML.
const IP_OUTPUTS: [(&str, &str, &str); 18] = [
    ("IP.Address", "String", "The address checked."),
    ("IP.AbuseConfidenceScore", "Number", "AbuseIPDB's confidence (0-100) that it is abusive."),
    ("IP.TotalReports", "Number", "Reports within the requested number of days."),
    ("IP.ISP", "String", "The address's ISP."),
    ("IP.UsageType", "String", "Usage type, e.g. Data Center/Web Hosting/Transit."),
    ("IP.Domain", "String", "The domain of the ISP."),
    ("IP.Hostnames", "Unknown", "Reverse DNS names of the address."),
    ("IP.IpVersion", "Number", "4 or 6."),
    ("IP.IsPublic", "Boolean", "Whether the address is publicly routable."),
    ("IP.IsTor", "Boolean", "Whether the address is a Tor exit node."),
    ("IP.IsWhitelisted", "Boolean", "Whether AbuseIPDB whitelists the address."),
    ("IP.LastReportedAt", "Date", "When the address was last reported."),
    ("IP.NumDistinctUsers", "Number", "Distinct users who reported it."),
    ("IP.Geo.Country", "String", "Country name."),
    ("IP.Geo.CountryCode", "String", "ISO 3166 country code."),
    ("IP.Reports", "Unknown", "Report counts by category name (verbose only)."),
    ("IP.Malicious.Vendor", "String", "The vendor that judged the address malicious."),
    ("IP.Malicious.Description", "String", "Why it was judged malicious."),
];

struct AbuseIpdb;

impl Provider for AbuseIpdb {
    fn manifest() -> Manifest {
        // AbuseIPDB states only a daily quota. Sixty a minute keeps one
        // playbook burst from spending the whole day's 1,000 checks within a
        // minute while staying far above what an analyst notices.
        //
        // Known gap: `check-block` has its own, smaller daily quota (100 on
        // the free tier) but the manifest holds one budget per provider, so
        // the host counts block checks against the 1,000; AbuseIPDB's own
        // 429 (mapped to quota-exhausted) is the backstop until the manifest
        // can name limits per command.
        ManifestBuilder::new("abuseipdb", "AbuseIPDB", "https://api.abuseipdb.com")
            .version(env!("CARGO_PKG_VERSION"))
            .description("Abuse reports and confidence scores for IP addresses and networks")
            .reliability(Reliability::C)
            .secret("api-key", SecretPlacement::Header("Key".into()), "AbuseIPDB API v2 key")
            .setting(
                "malicious-threshold",
                Some("80"),
                "Abuse confidence score from which an address is malicious, unless the \
                 command's `threshold` argument sets one",
            )
            .setting(
                "suspicious-threshold",
                Some("20"),
                "Abuse confidence score from which a reported address is suspicious",
            )
            .limits(None, Some(60), Some(1000))
            .command(check_ip_command())
            .command(check_block_command())
            .command(
                CommandBuilder::new(GET_CATEGORIES, "Lists AbuseIPDB's report categories.")
                    .context("AbuseIPDB.Categories", "")
                    .output("/AbuseIPDB.Categories", "Unknown", "Category names by id."),
            )
            .build()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        match request.command.as_str() {
            CHECK_IP => check_ip(&request),
            CHECK_BLOCK => check_block(&request),
            GET_CATEGORIES => Ok(categories_output()),
            other => Err(ProviderError::InvalidInput(format!("unknown command `{other}`"))),
        }
    }

    fn check() -> Result<(), ProviderError> {
        let response = check_request("8.8.8.8", 1, false).send()?;
        if response.is_success() { Ok(()) } else { Err(upstream_error(&response)) }
    }
}

register!(AbuseIpdb);

fn check_ip_command() -> CommandBuilder {
    let command = CommandBuilder::new(CHECK_IP, "Checks an IP address against AbuseIPDB.")
        .alias("ip")
        .indicator("ip", "IP addresses to check.", &[IndicatorKind::Ipv4, IndicatorKind::Ipv6])
        .argument(days_argument())
        .argument(
            ArgumentBuilder::new(
                "verbose",
                "Whether to fetch the reports and count their categories.",
            )
            .default_value("true"),
        )
        .argument(threshold_argument())
        .context("AbuseIPDB", "IP.Address")
        .output("/IP.Geo.Country", "String", "The country in which the address is located.")
        .output("/IP.Geo.CountryCode", "String", "ISO 3166 code of that country.");
    with_ip_outputs(command)
}

fn check_block_command() -> CommandBuilder {
    let command = CommandBuilder::new(CHECK_BLOCK, "Lists the reported addresses of a network.")
        .indicator("network", "Networks in CIDR form, e.g. 203.0.113.0/24.", &[IndicatorKind::Cidr])
        .argument(days_argument())
        .argument(
            ArgumentBuilder::new("limit", "Most reported addresses to return.").default_value("40"),
        )
        .argument(threshold_argument())
        .context("AbuseIPDB", "IP.Address")
        // The network is the indicator given, but each reported address in
        // it gets its own score and standard IP object.
        .output("/IP.Address", "String", "A reported address in the network.")
        .output("/IP.Geo.CountryCode", "String", "ISO 3166 code of the address's country.")
        .output("/IP.Malicious.Vendor", "String", "For a malicious address, the vendor.")
        .output("/IP.Malicious.Description", "String", "For a malicious address, why.");
    with_ip_outputs(command)
}

fn days_argument() -> ArgumentBuilder {
    ArgumentBuilder::new("days", "Only reports from this many days back (1-365).")
        .default_value("30")
}

/// No default here on purpose: an absent argument falls back to the
/// `malicious-threshold` setting, so the operator's setting can take effect.
fn threshold_argument() -> ArgumentBuilder {
    ArgumentBuilder::new(
        "threshold",
        "Abuse confidence score from which an address is malicious (default: the \
         malicious-threshold setting, 80).",
    )
}

fn with_ip_outputs(command: CommandBuilder) -> CommandBuilder {
    IP_OUTPUTS.iter().fold(command, |command, (path, kind, text)| command.output(path, kind, text))
}

// Commands: gather arguments and settings, call, map.

fn check_ip(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let indicator = request.indicator()?;
    let days = days(request)?;
    let verbose = request.flag("verbose")?.unwrap_or(true);
    let thresholds = thresholds(request)?;

    let response = check_request(&indicator.value, days, verbose).send()?;
    if !response.is_success() {
        return Err(upstream_error(&response));
    }
    let body: Value = response.json()?;

    map_check(indicator, &body, thresholds, verbose)
}

fn check_block(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let indicator = request.indicator()?;
    let days = days(request)?;
    let limit = request.number("limit")?.unwrap_or(40);
    let thresholds = thresholds(request)?;

    let response = check_block_request(&indicator.value, days).send()?;
    if !response.is_success() {
        return Err(upstream_error(&response));
    }
    let body: Value = response.json()?;

    map_check_block(&body, usize::try_from(limit).unwrap_or(usize::MAX), thresholds)
}

// Arguments and settings.

/// Where the verdict changes, on AbuseIPDB's 0-100 confidence score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Thresholds {
    suspicious: u64,
    malicious: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { suspicious: DEFAULT_SUSPICIOUS.into(), malicious: DEFAULT_MALICIOUS.into() }
    }
}

fn thresholds(request: &CommandRequest) -> Result<Thresholds, ProviderError> {
    let malicious = match request.number("threshold")? {
        Some(threshold) => threshold,
        None => setting_u32("malicious-threshold", DEFAULT_MALICIOUS)?.into(),
    };
    let suspicious = setting_u32("suspicious-threshold", DEFAULT_SUSPICIOUS)?.into();
    Ok(Thresholds { suspicious, malicious })
}

fn days(request: &CommandRequest) -> Result<u64, ProviderError> {
    match request.number("days")?.unwrap_or(DEFAULT_DAYS) {
        days @ 1..=MAX_DAYS => Ok(days),
        days => Err(ProviderError::InvalidInput(format!(
            "argument `days` must be from 1 to {MAX_DAYS}, not {days}"
        ))),
    }
}

// Requests.

fn check_request(ip: &str, days: u64, verbose: bool) -> Request {
    let request = Request::get("/api/v2/check")
        .header("Accept", "application/json")
        .query("ipAddress", ip)
        .query("maxAgeInDays", days.to_string());
    if verbose { request.query("verbose", "") } else { request }
}

fn check_block_request(network: &str, days: u64) -> Request {
    Request::get("/api/v2/check-block")
        .header("Accept", "application/json")
        .query("network", network)
        .query("maxAgeInDays", days.to_string())
}

/// AbuseIPDB's failures, read beyond the standard mapping.
///
/// A 422 names the argument it rejects, so it is the caller's input that is
/// wrong, not the upstream. AbuseIPDB only has daily limits, and its 429 says
/// so ("Daily rate limit of 1000 requests exceeded") with a Retry-After that
/// runs to the next UTC midnight: that is a spent quota, not a pause worth
/// waiting out. A 429 without that wording keeps the standard retry time.
fn upstream_error(response: &Response) -> ProviderError {
    let detail = response.json::<Value>().ok().and_then(|body| {
        body.pointer("/errors/0/detail").and_then(Value::as_str).map(str::to_owned)
    });
    match (response.status, detail) {
        (422, Some(detail)) => ProviderError::InvalidInput(detail),
        (429, Some(detail)) if detail.to_ascii_lowercase().contains("daily") => {
            ProviderError::QuotaExhausted
        }
        (429, _) => rate_limited_from(response),
        _ => status_error(response),
    }
}

// Response mapping.

/// Maps a `/check` answer for `indicator` to context, verdict and table;
/// with `verbose`, the reports' categories are counted too.
fn map_check(
    indicator: &Indicator,
    body: &Value,
    thresholds: Thresholds,
    verbose: bool,
) -> Result<CommandOutput, ProviderError> {
    let data = data_object(body)?;
    let score = number_field(data, "abuseConfidenceScore");
    let total_reports = number_field(data, "totalReports");
    let whitelisted = data.get("isWhitelisted").and_then(Value::as_bool).unwrap_or(false);
    let (verdict, reason) = judge(score, total_reports, whitelisted, thresholds);

    let geo = json!({"Country": data.get("countryName"), "CountryCode": data.get("countryCode")});
    let mut ip = json!({
        "Address": data.get("ipAddress"),
        "AbuseConfidenceScore": score,
        "TotalReports": total_reports,
        "ISP": data.get("isp"),
        "UsageType": data.get("usageType"),
        "Domain": data.get("domain"),
        "Hostnames": data.get("hostnames"),
        "IpVersion": data.get("ipVersion"),
        "IsPublic": data.get("isPublic"),
        "IsTor": data.get("isTor"),
        "IsWhitelisted": data.get("isWhitelisted"),
        "LastReportedAt": data.get("lastReportedAt"),
        "NumDistinctUsers": data.get("numDistinctUsers"),
        "Geo": geo.clone(),
    });
    // Only a verbose answer lists the reports; without them there are no
    // counts to give, which is not the same as zero. As in XSOAR's
    // integration, the counts follow the argument, not what came back.
    if let Some(reports) = data.get("reports").and_then(Value::as_array).filter(|_| verbose) {
        ip["Reports"] = Value::Object(count_categories(reports));
    }
    if verdict == Verdict::Malicious {
        ip["Malicious"] = json!({"Vendor": "AbuseIPDB", "Description": reason});
    }
    let row = table_row(&ip);

    let assessment = assess(indicator, verdict, Some(percent(score)), &reason)
        .with_standard_context(without_nulls(json!({"Geo": geo})));
    Ok(Output::new()
        .raw(body)
        .context(without_nulls(json!({"IP": ip})))
        .assessment(assessment)
        .table("AbuseIPDB Analysis", &ANALYSIS_COLUMNS, vec![row])
        .build())
}

/// Maps a `/check-block` answer: one context object and one verdict per
/// reported address, at most `limit` of them, in AbuseIPDB's order.
fn map_check_block(
    body: &Value,
    limit: usize,
    thresholds: Thresholds,
) -> Result<CommandOutput, ProviderError> {
    let data = data_object(body)?;
    let reported =
        data.get("reportedAddress").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);

    let mut output = Output::new().raw(body);
    let mut rows = Vec::new();
    for entry in reported.iter().take(limit) {
        let Some(address) = entry.get("ipAddress").and_then(Value::as_str) else {
            continue;
        };
        let score = number_field(entry, "abuseConfidenceScore");
        let total_reports = number_field(entry, "numReports");
        // A block listing says nothing of whitelisting.
        let (verdict, reason) = judge(score, total_reports, false, thresholds);

        let geo = json!({"CountryCode": entry.get("countryCode")});
        let mut ip = json!({
            "Address": address,
            "AbuseConfidenceScore": score,
            "TotalReports": total_reports,
            "LastReportedAt": entry.get("mostRecentReport"),
            "Geo": geo.clone(),
        });
        if verdict == Verdict::Malicious {
            ip["Malicious"] = json!({"Vendor": "AbuseIPDB", "Description": reason});
        }
        rows.push(table_row(&ip));

        let kind = if address.contains(':') { IndicatorKind::Ipv6 } else { IndicatorKind::Ipv4 };
        let indicator = Indicator { kind, value: address.to_owned() };
        output = output.context(without_nulls(json!({"IP": ip}))).assessment(
            assess(&indicator, verdict, Some(percent(score)), &reason)
                .with_standard_context(without_nulls(json!({"Geo": geo}))),
        );
    }
    Ok(output.table("AbuseIPDB Analysis", &ANALYSIS_COLUMNS, rows).build())
}

/// The category table; AbuseIPDB's list is fixed, so no request is made.
fn categories_output() -> CommandOutput {
    let categories: Map<String, Value> =
        CATEGORIES.iter().map(|(id, name)| (id.to_string(), json!(name))).collect();
    let rows = CATEGORIES.iter().map(|(id, name)| json!({"ID": id, "Name": name})).collect();
    Output::new()
        .raw(&categories)
        .context(Value::Object(categories.clone()))
        .table("AbuseIPDB report categories", &["ID", "Name"], rows)
        .build()
}

/// The verdict and its reason, from the confidence score and report count.
///
/// XSOAR's integration scores 0 (unknown) without reports, 1 (good) under
/// 20, 2 (suspicious) under the threshold and 3 (bad) from it. Ferret
/// departs from it at the bottom: a low score from a few reports is weak
/// evidence, not a vouch, so it stays unknown. Only AbuseIPDB's own
/// whitelist is a positive signal, and it wins over the score.
fn judge(
    score: u64,
    total_reports: u64,
    whitelisted: bool,
    thresholds: Thresholds,
) -> (Verdict, String) {
    if whitelisted {
        return (Verdict::Benign, "whitelisted by AbuseIPDB".to_owned());
    }
    if total_reports == 0 {
        return (Verdict::Unknown, "no reports".to_owned());
    }
    let evidence = format!("abuse confidence {score}/100 from {total_reports} reports");
    if score >= thresholds.malicious {
        (Verdict::Malicious, format!("{evidence} (malicious from {})", thresholds.malicious))
    } else if score >= thresholds.suspicious {
        (Verdict::Suspicious, format!("{evidence} (suspicious from {})", thresholds.suspicious))
    } else {
        (Verdict::Unknown, evidence)
    }
}

/// Counts each category id across the reports, by category name, in id
/// order. Ids AbuseIPDB adds later than this list are left out, as XSOAR's
/// integration does.
fn count_categories(reports: &[Value]) -> Map<String, Value> {
    let mut counts = [0u64; CATEGORIES.len()];
    let ids = reports
        .iter()
        .filter_map(|report| report.get("categories").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_u64);
    for id in ids {
        if let Some(slot) = CATEGORIES.iter().position(|(known, _)| *known == id) {
            counts[slot] += 1;
        }
    }
    CATEGORIES
        .iter()
        .zip(counts)
        .filter(|(_, count)| *count > 0)
        .map(|((_, name), count)| ((*name).to_owned(), json!(count)))
        .collect()
}

fn table_row(ip: &Value) -> Value {
    let hostnames = ip["Hostnames"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "));
    let country = ip["Geo"]["Country"].as_str().or(ip["Geo"]["CountryCode"].as_str());
    without_nulls(json!({
        "Address": ip["Address"],
        "AbuseConfidenceScore": ip["AbuseConfidenceScore"],
        "TotalReports": ip["TotalReports"],
        "Country": country,
        "ISP": ip["ISP"],
        "UsageType": ip["UsageType"],
        "Domain": ip["Domain"],
        "Hostnames": hostnames,
        "IsTor": ip["IsTor"],
        "LastReportedAt": ip["LastReportedAt"],
    }))
}

fn data_object(body: &Value) -> Result<&Value, ProviderError> {
    body.get("data").filter(|data| data.is_object()).ok_or_else(|| {
        ProviderError::Upstream(UpstreamFailure {
            status: 200,
            message: "the answer has no `data` object".to_owned(),
        })
    })
}

fn number_field(object: &Value, key: &str) -> u64 {
    object.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn percent(score: u64) -> u8 {
    score.min(100) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_provider_sdk::Argument;
    use ferret_provider_sdk::testing::sample;

    fn ipv4(value: &str) -> Indicator {
        Indicator { kind: IndicatorKind::Ipv4, value: value.to_owned() }
    }

    fn context(output: &CommandOutput) -> Vec<Value> {
        serde_json::from_str(&output.context).expect("context is a JSON array")
    }

    fn request(arguments: &[(&str, &str)]) -> CommandRequest {
        CommandRequest {
            command: CHECK_IP.to_owned(),
            arguments: arguments
                .iter()
                .map(|(name, value)| Argument {
                    name: (*name).to_owned(),
                    values: vec![(*value).to_owned()],
                })
                .collect(),
            indicator: None,
        }
    }

    #[test]
    fn check_request_asks_for_reports_only_when_verbose() {
        assert_eq!(
            check_request("203.0.113.45", 90, true).url(),
            "/api/v2/check?ipAddress=203.0.113.45&maxAgeInDays=90&verbose="
        );
        assert_eq!(
            check_request("2001:db8::1", 30, false).url(),
            "/api/v2/check?ipAddress=2001%3Adb8%3A%3A1&maxAgeInDays=30"
        );
    }

    #[test]
    fn check_block_request_encodes_the_network() {
        assert_eq!(
            check_block_request("203.0.113.0/24", 15).url(),
            "/api/v2/check-block?network=203.0.113.0%2F24&maxAgeInDays=15"
        );
    }

    #[test]
    fn malicious_verbose_sample_is_malicious_with_category_counts() {
        let (_, body) = sample(include_str!(
            "../../../tests/data/samples/abuseipdb/check_malicious_verbose.json"
        ));
        let output = map_check(&ipv4("203.0.113.45"), &body, Thresholds::default(), true).unwrap();

        let assessment = &output.assessments[0];
        assert_eq!(assessment.verdict, Verdict::Malicious);
        assert_eq!(assessment.score, Some(100));
        assert_eq!(
            assessment.reason,
            "abuse confidence 100/100 from 1043 reports (malicious from 80)"
        );
        // The standard IP object gets the country, name and code.
        let standard: Value = serde_json::from_str(&assessment.standard_context).unwrap();
        assert_eq!(standard, json!({"Geo": {"Country": "Netherlands", "CountryCode": "NL"}}));

        let ip = &context(&output)[0]["IP"];
        assert_eq!(ip["Address"], "203.0.113.45");
        assert_eq!(ip["AbuseConfidenceScore"], 100);
        assert_eq!(ip["TotalReports"], 1043);
        assert_eq!(ip["ISP"], "Example Hosting B.V.");
        assert_eq!(ip["Hostnames"], json!(["vps45.example.net"]));
        assert_eq!(ip["NumDistinctUsers"], 211);
        assert_eq!(ip["Geo"]["CountryCode"], "NL");
        // Each category id counted once per report that names it, in id order.
        assert_eq!(
            ip["Reports"],
            json!({"Port Scan": 1, "Hacking": 1, "Brute-Force": 1, "Web App Attack": 1,
                   "SSH": 1, "IoT Targeted": 1})
        );
        let names: Vec<_> = ip["Reports"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(names[0], "Port Scan");
        assert_eq!(ip["Malicious"]["Vendor"], "AbuseIPDB");

        let table = output.readable.as_ref().unwrap();
        assert_eq!(table.title, "AbuseIPDB Analysis");
        assert_eq!(table.headers[0], "Address");
        let rows: Vec<Value> = serde_json::from_str(&table.rows).unwrap();
        assert_eq!(rows[0]["Country"], "Netherlands");
        assert_eq!(rows[0]["Hostnames"], "vps45.example.net");
        // The raw contents are the upstream's answer as is.
        assert_eq!(serde_json::from_str::<Value>(&output.raw).unwrap(), body);
    }

    #[test]
    fn without_verbose_no_report_counts_are_written() {
        let (_, body) = sample(include_str!(
            "../../../tests/data/samples/abuseipdb/check_malicious_verbose.json"
        ));
        let output = map_check(&ipv4("203.0.113.45"), &body, Thresholds::default(), false).unwrap();
        assert!(context(&output)[0]["IP"].get("Reports").is_none());
        assert_eq!(context(&output)[0]["IP"]["TotalReports"], 1043);
    }

    #[test]
    fn the_threshold_argument_moves_the_malicious_line() {
        let (_, body) = sample(include_str!(
            "../../../tests/data/samples/abuseipdb/check_malicious_verbose.json"
        ));
        let strict = Thresholds { suspicious: 20, malicious: 101 };
        let output = map_check(&ipv4("203.0.113.45"), &body, strict, true).unwrap();

        // 100 is under a threshold of 101: suspicious, and no Malicious block.
        assert_eq!(output.assessments[0].verdict, Verdict::Suspicious);
        assert!(context(&output)[0]["IP"].get("Malicious").is_none());
    }

    #[test]
    fn clean_unreported_sample_is_unknown_not_benign() {
        let (_, body) = sample(include_str!(
            "../../../tests/data/samples/abuseipdb/check_clean_unreported.json"
        ));
        let output =
            map_check(&ipv4("198.51.100.20"), &body, Thresholds::default(), false).unwrap();

        let assessment = &output.assessments[0];
        assert_eq!(assessment.verdict, Verdict::Unknown);
        assert_eq!(assessment.reason, "no reports");
        assert_eq!(assessment.score, Some(0));

        let ip = &context(&output)[0]["IP"];
        assert_eq!(ip["TotalReports"], 0);
        // A null upstream field is left out, not written as null.
        assert!(ip.get("LastReportedAt").is_none());
        assert_eq!(ip["Geo"], json!({"CountryCode": "US"}));
        // Not verbose: no report counts at all.
        assert!(ip.get("Reports").is_none());
        // An empty host name list stays, as in XSOAR's answer.
        assert_eq!(ip["Hostnames"], json!([]));
    }

    #[test]
    fn verdicts_follow_thresholds_and_the_whitelist() {
        let defaults = Thresholds::default();
        // A low score from a few reports is weak evidence: unknown (XSOAR says good).
        assert_eq!(judge(5, 3, false, defaults).0, Verdict::Unknown);
        assert_eq!(judge(20, 3, false, defaults).0, Verdict::Suspicious);
        assert_eq!(judge(79, 3, false, defaults).0, Verdict::Suspicious);
        assert_eq!(judge(80, 3, false, defaults).0, Verdict::Malicious);
        // The whitelist is AbuseIPDB vouching for the address.
        assert_eq!(
            judge(0, 12, true, defaults),
            (Verdict::Benign, "whitelisted by AbuseIPDB".to_owned())
        );
        let lenient = Thresholds { suspicious: 50, malicious: 90 };
        assert_eq!(judge(40, 3, false, lenient).0, Verdict::Unknown);
    }

    #[test]
    fn check_block_sample_gives_one_object_and_verdict_per_address() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/abuseipdb/check_block.json"));
        let output = map_check_block(&body, 40, Thresholds::default()).unwrap();

        let objects = context(&output);
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0]["IP"]["Address"], "203.0.113.45");
        assert_eq!(objects[0]["IP"]["TotalReports"], 1043);
        assert_eq!(objects[0]["IP"]["LastReportedAt"], "2024-06-01T12:34:56+00:00");
        assert_eq!(objects[0]["IP"]["Geo"]["CountryCode"], "NL");
        assert_eq!(output.assessments[0].indicator.value, "203.0.113.45");
        assert_eq!(output.assessments[0].indicator.kind, IndicatorKind::Ipv4);
        assert_eq!(output.assessments[0].verdict, Verdict::Malicious);
        // Score 12 from 3 reports: below suspicious, so unknown.
        assert_eq!(output.assessments[1].verdict, Verdict::Unknown);
        assert_eq!(output.assessments[1].score, Some(12));

        // `limit` caps the addresses returned.
        let limited = map_check_block(&body, 1, Thresholds::default()).unwrap();
        assert_eq!(context(&limited).len(), 1);
        assert_eq!(limited.assessments.len(), 1);
    }

    #[test]
    fn an_answer_without_data_is_an_upstream_failure() {
        let error =
            map_check(&ipv4("8.8.8.8"), &json!({"errors": []}), Thresholds::default(), true);
        assert!(matches!(error, Err(ProviderError::Upstream(UpstreamFailure { status: 200, .. }))));
    }

    #[test]
    fn categories_are_listed_without_a_request() {
        let output = categories_output();
        let categories = &context(&output)[0];
        assert_eq!(categories["18"], "Brute-Force");
        assert_eq!(categories.as_object().unwrap().len(), 23);
        let rows: Vec<Value> = serde_json::from_str(&output.readable.unwrap().rows).unwrap();
        assert_eq!(rows[22], json!({"ID": 23, "Name": "IoT Targeted"}));
    }

    #[test]
    fn a_bad_key_is_unauthorized_with_abuseipdbs_words() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/abuseipdb/error_401_bad_key.json"));
        match upstream_error(&response) {
            ProviderError::Unauthorized(message) => {
                assert!(message.starts_with("Authentication failed."), "{message}")
            }
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn an_invalid_address_is_invalid_input_naming_it() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/abuseipdb/error_422_invalid_ip.json"));
        match upstream_error(&response) {
            ProviderError::InvalidInput(message) => {
                assert!(message.starts_with("The ip address must be a valid"), "{message}")
            }
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn the_daily_limit_is_a_spent_quota_and_other_429s_wait() {
        let (response, _) = sample(include_str!(
            "../../../tests/data/samples/abuseipdb/error_429_daily_limit.json"
        ));
        assert!(matches!(upstream_error(&response), ProviderError::QuotaExhausted));

        // A 429 that does not say "daily" waits for its Retry-After.
        let burst = Response {
            status: 429,
            headers: vec![("retry-after".to_owned(), "5".to_owned())],
            body: br#"{"errors": [{"detail": "Too many requests", "status": 429}]}"#.to_vec(),
        };
        assert!(matches!(upstream_error(&burst), ProviderError::RateLimited(5)));
    }

    #[test]
    fn manifest_names_xsoars_commands_and_the_free_tier() {
        let manifest = AbuseIpdb::manifest();
        let names: Vec<_> = manifest.commands.iter().map(|command| command.name.as_str()).collect();
        assert_eq!(names, [CHECK_IP, CHECK_BLOCK, GET_CATEGORIES]);
        assert_eq!(manifest.commands[0].aliases, ["ip"]);
        assert_eq!(manifest.commands[0].key_field, "IP.Address");
        // No default on `threshold`, so the operator's setting can apply.
        let threshold =
            manifest.commands[0].arguments.iter().find(|argument| argument.name == "threshold");
        assert_eq!(threshold.unwrap().default_value, None);
        assert!(
            matches!(&manifest.secrets[0].placement, SecretPlacement::Header(name) if name == "Key")
        );
        assert_eq!(manifest.limits.per_day, Some(1000));
    }

    #[test]
    fn days_stay_within_what_abuseipdb_accepts() {
        assert_eq!(days(&request(&[("days", "30")])).unwrap(), 30);
        // AbuseIPDB looks back at most a year, and at least a day.
        assert!(matches!(days(&request(&[("days", "400")])), Err(ProviderError::InvalidInput(_))));
        assert!(matches!(days(&request(&[("days", "0")])), Err(ProviderError::InvalidInput(_))));
    }
}
