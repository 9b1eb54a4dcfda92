//! Ferret provider for Shodan, the search engine of Internet-facing hosts
//! and the service banners they answer with.
//!
//! Upstream: the Shodan REST API at `https://api.shodan.io`
//! (`GET /shodan/host/{ip}` for one address, `GET /shodan/host/search` and
//! `GET /shodan/host/count` for queries, `GET /api-info` for the plan).
//! Auth: the API key in the `key` query parameter, added by the host.
//! Quota: about one request a second on every plan; searches with filters
//! or beyond the first page spend monthly query credits, host lookups and
//! counts do not.
//!
//! The commands, arguments and context mirror Cortex XSOAR's Shodan v2
//! integration: `shodan-ip` (also `ip`), `shodan-search` (also `search`) and
//! `shodan-search-count`, writing `Shodan.IP`, `Shodan.Banner` and
//! `Shodan.Search.ResultCount`.

use ferret_provider_sdk::prelude::*;
use ferret_provider_sdk::{UpstreamFailure, rate_limited_from};
use serde_json::{Value, json};

const HOST: &str = "shodan-ip";
const SEARCH: &str = "shodan-search";
const COUNT: &str = "shodan-search-count";

/// Tags Shodan puts on hosts it found serving malware, acting as a command
/// and control server, or carrying an implant (`doublepulsar` is one).
const DEFAULT_MALICIOUS_TAGS: &str = "malware,c2,compromised,doublepulsar";

/// Shodan's `scanner` tag: the address sweeps the Internet itself.
const DEFAULT_SUSPICIOUS_TAGS: &str = "scanner";

/// Known vulnerabilities (CVE ids) from which a host is suspicious; 0 turns
/// the rule off.
const DEFAULT_SUSPICIOUS_VULNS: u32 = 1;

/// Banners on one page of search results, as Shodan fixes it.
const PAGE_SIZE: u64 = 100;

/// Context paths under `Shodan.IP` that `shodan-ip` writes, for the YAML.
const IP_OUTPUTS: [(&str, &str, &str); 12] = [
    ("Address", "String", "The address looked up."),
    ("Tag", "String", "Shodan's tags on the host, e.g. self-signed or c2."),
    ("Latitude", "Number", "Latitude of the host's location."),
    ("Longitude", "Number", "Longitude of the host's location."),
    ("Org", "String", "The organisation the address space is assigned to."),
    ("ASN", "String", "The autonomous system, e.g. AS15169."),
    ("ISP", "String", "The ISP providing the address space."),
    ("LastUpdate", "Date", "When Shodan last saw the host."),
    ("CountryName", "String", "The host's country."),
    ("OS", "String", "The operating system, when Shodan could tell."),
    ("Port", "Number", "Open ports Shodan saw."),
    ("Vulnerabilities", "String", "CVE ids Shodan attributes to the host's software."),
];

/// Context paths under `Shodan.Banner` that `shodan-search` writes.
const BANNER_OUTPUTS: [(&str, &str, &str); 15] = [
    ("Org", "String", "The organisation the address space is assigned to."),
    ("Isp", "String", "The ISP providing the address space."),
    ("Transport", "String", "tcp or udp."),
    ("Asn", "String", "The autonomous system, e.g. AS4837."),
    ("IP", "String", "The address of the host."),
    ("Port", "Number", "The port the service answers on."),
    ("Ssl.versions", "String", "TLS versions offered; a leading - marks one refused."),
    ("Hostnames", "String", "Host names of the address."),
    ("Location.City", "String", "City of the host."),
    ("Location.Longitude", "Number", "Longitude of the host."),
    ("Location.Latitude", "Number", "Latitude of the host."),
    ("Location.Country", "String", "Country of the host."),
    ("Timestamp", "Date", "When the banner was collected, UTC."),
    ("Domains", "String", "Registered domains of the host names."),
    ("OS", "String", "The operating system, when Shodan could tell."),
];

struct Shodan;

impl Provider for Shodan {
    fn manifest() -> Manifest {
        // Shodan allows one request a second on every plan and states no
        // daily cap; searches spend monthly query credits, which the host
        // cannot count, so Shodan's own answer (quota-exhausted) is the
        // guard there.
        ManifestBuilder::new("shodan", "Shodan_v2", "https://api.shodan.io")
            .version(env!("CARGO_PKG_VERSION"))
            .description("Open ports, banners, tags and known vulnerabilities of Internet hosts")
            .reliability(Reliability::C)
            .secret("api-key", SecretPlacement::Query("key".into()), "Shodan API key")
            .setting(
                "malicious-tags",
                Some(DEFAULT_MALICIOUS_TAGS),
                "Comma-separated Shodan host tags that make an address malicious",
            )
            .setting(
                "suspicious-tags",
                Some(DEFAULT_SUSPICIOUS_TAGS),
                "Comma-separated Shodan host tags that make an address suspicious",
            )
            .setting(
                "suspicious-vulns",
                Some("1"),
                "Known vulnerabilities (CVEs) from which a host is suspicious; 0 turns it off",
            )
            .limits(Some(1), None, None)
            .command(host_command())
            .command(search_command())
            .command(count_command())
            .build()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        match request.command.as_str() {
            HOST => host(&request),
            SEARCH => search(&request),
            COUNT => count(&request),
            other => Err(ProviderError::InvalidInput(format!("unknown command `{other}`"))),
        }
    }

    fn check() -> Result<(), ProviderError> {
        let response = Request::get("/api-info").send()?;
        if response.is_success() { Ok(()) } else { Err(upstream_error(&response)) }
    }
}

register!(Shodan);

fn host_command() -> CommandBuilder {
    let command = CommandBuilder::new(HOST, "Returns the services Shodan found on an IP address.")
        .alias("ip")
        .indicator("ip", "IP addresses to look up.", &[IndicatorKind::Ipv4, IndicatorKind::Ipv6])
        .context("Shodan.IP", "Address")
        .output("/IP.ASN", "String", "The autonomous system, e.g. AS15169.")
        .output("/IP.Hostname", "String", "The address's first host name.")
        .output("/IP.Geo.Country", "String", "The address's country.")
        .output("/IP.Geo.Location", "String", "Latitude and longitude, as lat:long.");
    IP_OUTPUTS.iter().fold(command, |command, (path, kind, text)| command.output(path, kind, text))
}

fn search_command() -> CommandBuilder {
    let command = CommandBuilder::new(
        SEARCH,
        "Searches Shodan's banners; filters and pages past the first spend query credits.",
    )
    .alias("search")
    .argument(
        ArgumentBuilder::new(
            "query",
            "Shodan search query, e.g. `apache country:DE` (filters as filter:value).",
        )
        .required()
        .default_argument(),
    )
    .argument(ArgumentBuilder::new(
        "facets",
        "Comma-separated properties to summarise, as property:count, e.g. country:100.",
    ))
    .argument(ArgumentBuilder::new("page", "Page of results, 100 banners each.").default_value("1"))
    .context("Shodan.Banner", "");
    BANNER_OUTPUTS
        .iter()
        .fold(command, |command, (path, kind, text)| command.output(path, kind, text))
}

fn count_command() -> CommandBuilder {
    CommandBuilder::new(
        COUNT,
        "Counts the banners matching a query without returning them; spends no query credits.",
    )
    .argument(ArgumentBuilder::new("query", "Shodan search query.").required())
    .argument(ArgumentBuilder::new(
        "facets",
        "Comma-separated properties to summarise, as property:count, e.g. country:3.",
    ))
    .context("Shodan.Search", "")
    .output("ResultCount", "Number", "Banners matching the query.")
    .output("Facets", "Unknown", "Counts by facet value, when facets were asked for.")
}

// Commands: gather arguments and settings, call, map.

fn host(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let indicator = request.indicator()?;
    let rules = Rules {
        malicious_tags: tag_list(&setting("malicious-tags"), DEFAULT_MALICIOUS_TAGS),
        suspicious_tags: tag_list(&setting("suspicious-tags"), DEFAULT_SUSPICIOUS_TAGS),
        suspicious_vulns: setting_u32("suspicious-vulns", DEFAULT_SUSPICIOUS_VULNS)?,
    };

    let response = host_request(&indicator.value).send()?;
    if !response.is_success() {
        return Err(upstream_error(&response));
    }
    let body: Value = response.json()?;

    map_host(indicator, &body, &rules)
}

fn search(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let query = request.value("query");
    let facets = request.optional("facets");
    let page = page(request)?;

    let response = search_request(query, facets, page).send()?;
    if !response.is_success() {
        return Err(upstream_error(&response));
    }
    let body: Value = response.json()?;

    Ok(map_search(query, page, &body))
}

fn count(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let query = request.value("query");

    let response = count_request(query, request.optional("facets")).send()?;
    if !response.is_success() {
        return Err(upstream_error(&response));
    }
    let body: Value = response.json()?;

    Ok(map_count(query, &body))
}

// Arguments and settings.

/// What turns Shodan's description of a host into a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rules {
    malicious_tags: Vec<String>,
    suspicious_tags: Vec<String>,
    suspicious_vulns: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            malicious_tags: tag_list(&None, DEFAULT_MALICIOUS_TAGS),
            suspicious_tags: tag_list(&None, DEFAULT_SUSPICIOUS_TAGS),
            suspicious_vulns: DEFAULT_SUSPICIOUS_VULNS,
        }
    }
}

/// A comma-separated tag setting, lower case; an empty setting is an empty
/// list, so the operator can turn a rule off.
fn tag_list(setting: &Option<String>, default: &str) -> Vec<String> {
    setting
        .as_deref()
        .unwrap_or(default)
        .split(',')
        .map(|tag| tag.trim().to_ascii_lowercase())
        .filter(|tag| !tag.is_empty())
        .collect()
}

fn page(request: &CommandRequest) -> Result<u64, ProviderError> {
    match request.number("page")?.unwrap_or(1) {
        0 => Err(ProviderError::InvalidInput("argument `page` starts at 1, not 0".to_owned())),
        page => Ok(page),
    }
}

// Requests.

fn host_request(ip: &str) -> Request {
    Request::get(&format!("/shodan/host/{ip}"))
}

fn search_request(query: &str, facets: Option<&str>, page: u64) -> Request {
    let request = Request::get("/shodan/host/search").query("query", query);
    let request = match facets {
        Some(facets) => request.query("facets", facets),
        None => request,
    };
    request.query("page", page.to_string())
}

fn count_request(query: &str, facets: Option<&str>) -> Request {
    let request = Request::get("/shodan/host/count").query("query", query);
    match facets {
        Some(facets) => request.query("facets", facets),
        None => request,
    }
}

/// Shodan's failures, read beyond the standard mapping.
///
/// Shodan's 429 is its one-request-a-second limit ("Request rate limit
/// reached (1 request/ second)") and comes without a Retry-After, so the
/// wait is a second, not the SDK's minute. Running out of monthly query
/// credits is a spent quota, whatever the status. A 400 names what is wrong
/// with the query.
fn upstream_error(response: &Response) -> ProviderError {
    let message = response
        .json::<Value>()
        .ok()
        .and_then(|body| body.get("error").and_then(Value::as_str).map(str::to_owned));
    let lower = message.as_deref().unwrap_or("").to_ascii_lowercase();
    match (response.status, message) {
        (_, Some(_)) if lower.contains("query credits") => ProviderError::QuotaExhausted,
        (429, _) if response.header("retry-after").is_some() => rate_limited_from(response),
        (429, _) => ProviderError::RateLimited(1),
        (400, Some(message)) => ProviderError::InvalidInput(message),
        _ => status_error(response),
    }
}

// Response mapping.

/// Maps a `/shodan/host/{ip}` answer for `indicator` to context, verdict and
/// table.
fn map_host(
    indicator: &Indicator,
    body: &Value,
    rules: &Rules,
) -> Result<CommandOutput, ProviderError> {
    if !body.is_object() || body.get("ip_str").is_none() {
        return Err(ProviderError::Upstream(UpstreamFailure {
            status: 200,
            message: "the answer has no `ip_str`".to_owned(),
        }));
    }
    let tags = strings(&body["tags"]);
    let vulns = strings(&body["vulns"]);
    let ports: Vec<Value> = body["ports"].as_array().cloned().unwrap_or_default();
    let (verdict, reason) = judge(&tags, &vulns, rules);

    let shodan_ip = without_nulls(json!({
        "Address": indicator.value,
        "Tag": tags,
        "Latitude": body.get("latitude"),
        "Longitude": body.get("longitude"),
        "Org": body.get("org"),
        "ASN": body.get("asn"),
        "ISP": body.get("isp"),
        "LastUpdate": body.get("last_update"),
        "CountryName": body.get("country_name"),
        "OS": body.get("os"),
        "Port": ports,
        "Vulnerabilities": vulns,
    }));

    // XSOAR's IP object: the first host name, and the location rounded to
    // three places as `lat:lon`.
    let hostname = body["hostnames"].as_array().and_then(|names| names.first()).cloned();
    let latitude = body["latitude"].as_f64().map(round3);
    let longitude = body["longitude"].as_f64().map(round3);
    let mut geo = json!({"Country": body.get("country_name")});
    if let (Some(latitude), Some(longitude)) = (latitude, longitude) {
        geo["Location"] = json!(format!("{latitude}:{longitude}"));
    }
    let standard = without_nulls(json!({"ASN": body.get("asn"), "Hostname": hostname, "Geo": geo}));

    let location = match (latitude, longitude) {
        (Some(latitude), Some(longitude)) => Some(format!("{latitude},{longitude}")),
        _ => None,
    };
    let ports_text = ports.iter().map(Value::to_string).collect::<Vec<_>>().join(", ");
    let row = without_nulls(json!({
        "Country": body.get("country_name"),
        "Location": location,
        "ASN": body.get("asn"),
        "ISP": body.get("isp"),
        "Ports": ports_text,
        "Hostname": hostname,
        "Tags": tags.join(", "),
        "Vulnerabilities": vulns.join(", "),
    }));

    Ok(Output::new()
        .raw(body)
        .context(shodan_ip)
        .assessment(assess(indicator, verdict, None, &reason).with_standard_context(standard))
        .table(
            &format!("Shodan details for IP {}", indicator.value),
            &["Country", "Location", "ASN", "ISP", "Ports", "Hostname", "Tags", "Vulnerabilities"],
            vec![row],
        )
        .build())
}

/// The verdict and its reason, from the host's tags and known CVEs.
///
/// Shodan describes hosts; it does not judge them, and XSOAR's integration
/// always scores 0. Ferret reads the few signals Shodan does give: a tag
/// from `malicious-tags` (Shodan saw malware, a C2 server or an implant) is
/// malicious; a tag from `suspicious-tags`, or at least `suspicious-vulns`
/// known vulnerabilities, is suspicious. A vulnerable host is a likely
/// victim rather than an attacker, which is why CVEs never reach malicious.
/// Nothing here is ever benign: an ordinary banner vouches for nobody. The
/// score is `none` because Shodan gives no figure of its own.
fn judge(tags: &[String], vulns: &[String], rules: &Rules) -> (Verdict, String) {
    let tagged =
        |list: &[String]| tags.iter().find(|tag| list.contains(&tag.to_ascii_lowercase())).cloned();
    if let Some(tag) = tagged(&rules.malicious_tags) {
        return (Verdict::Malicious, format!("Shodan tags the host `{tag}`"));
    }
    if let Some(tag) = tagged(&rules.suspicious_tags) {
        return (Verdict::Suspicious, format!("Shodan tags the host `{tag}`"));
    }
    let count = vulns.len();
    if rules.suspicious_vulns > 0 && count >= rules.suspicious_vulns as usize {
        return (Verdict::Suspicious, format!("{count} known vulnerabilities, e.g. {}", vulns[0]));
    }
    (Verdict::Unknown, "no malicious tags or known vulnerabilities".to_owned())
}

/// Maps a `/shodan/host/search` answer: one `Shodan.Banner` object a match.
fn map_search(query: &str, page: u64, body: &Value) -> CommandOutput {
    let matches = body["matches"].as_array().map_or(&[][..], Vec::as_slice);
    let total = body["total"].as_u64().unwrap_or(0);

    let mut output = Output::new().raw(body);
    let mut rows = Vec::new();
    for banner in matches {
        let location = &banner["location"];
        let object = json!({
            "Org": banner.get("org"),
            "Isp": banner.get("isp"),
            "Transport": banner.get("transport"),
            "Asn": banner.get("asn"),
            "IP": banner.get("ip_str"),
            "Port": banner.get("port"),
            "Ssl": {"versions": banner.pointer("/ssl/versions").cloned().unwrap_or(json!([]))},
            "Hostnames": banner.get("hostnames"),
            "Location": {
                "City": location.get("city"),
                "Longitude": location.get("longitude"),
                "Latitude": location.get("latitude"),
                "Country": location.get("country_name"),
            },
            "Timestamp": banner.get("timestamp"),
            "Domains": banner.get("domains"),
            "OS": banner.get("os"),
        });
        let vulns = banner["vulns"]
            .as_object()
            .map(|vulns| vulns.keys().cloned().collect::<Vec<_>>().join(", "));
        rows.push(without_nulls(json!({
            "IP": banner.get("ip_str"),
            "Port": banner.get("port"),
            "Transport": banner.get("transport"),
            "Org": banner.get("org"),
            "Product": banner.get("product"),
            "Vulnerabilities": vulns,
            "Timestamp": banner.get("timestamp"),
        })));
        output = output.context(without_nulls(object));
    }

    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let title =
        format!("Search results for query \"{query}\": {total} banners, page {page} of {pages}");
    output
        .table(
            &title,
            &["IP", "Port", "Transport", "Org", "Product", "Vulnerabilities", "Timestamp"],
            rows,
        )
        .build()
}

/// Maps a `/shodan/host/count` answer to `Shodan.Search.ResultCount`, with
/// the facet counts when there are any.
fn map_count(query: &str, body: &Value) -> CommandOutput {
    let total = body["total"].as_u64().unwrap_or(0);
    let facets = body["facets"].as_object().filter(|facets| !facets.is_empty());

    let mut context = json!({"ResultCount": total});
    let title = format!("{total} results for query \"{query}\"");
    let output = match facets {
        Some(facets) => {
            context["Facets"] = Value::Object(facets.clone());
            let rows = facets
                .iter()
                .flat_map(|(facet, counts)| {
                    counts.as_array().into_iter().flatten().map(move |count| {
                        json!({"Facet": facet, "Value": count["value"], "Count": count["count"]})
                    })
                })
                .collect();
            Output::new().table(&title, &["Facet", "Value", "Count"], rows)
        }
        None => Output::new().table(
            &title,
            &["Query", "ResultCount"],
            vec![json!({"Query": query, "ResultCount": total})],
        ),
    };
    output.raw(body).context(context).build()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_provider_sdk::testing::sample;

    fn ipv4(value: &str) -> Indicator {
        Indicator { kind: IndicatorKind::Ipv4, value: value.to_owned() }
    }

    fn context(output: &CommandOutput) -> Vec<Value> {
        serde_json::from_str(&output.context).expect("context is a JSON array")
    }

    fn rows(output: &CommandOutput) -> Vec<Value> {
        serde_json::from_str(&output.readable.as_ref().unwrap().rows).unwrap()
    }

    fn tags(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn requests_carry_the_query_and_page() {
        assert_eq!(host_request("8.8.8.8").url(), "/shodan/host/8.8.8.8");
        assert_eq!(
            search_request("net:203.0.113.0/24 port:80", None, 1).url(),
            "/shodan/host/search?query=net%3A203.0.113.0%2F24+port%3A80&page=1"
        );
        assert_eq!(
            count_request("product:\"Apache httpd\"", Some("country:3")).url(),
            "/shodan/host/count?query=product%3A%22Apache+httpd%22&facets=country%3A3"
        );
    }

    #[test]
    fn host_with_vulns_is_suspicious_with_xsoars_context() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/shodan/host_with_vulns.json"));
        let output = map_host(&ipv4("203.0.113.10"), &body, &Rules::default()).unwrap();

        let assessment = &output.assessments[0];
        // Two CVEs and only a `self-signed` tag: suspicious, never malicious.
        assert_eq!(assessment.verdict, Verdict::Suspicious);
        assert_eq!(assessment.score, None);
        assert_eq!(assessment.reason, "2 known vulnerabilities, e.g. CVE-2021-41773");
        let standard: Value = serde_json::from_str(&assessment.standard_context).unwrap();
        assert_eq!(
            standard,
            json!({"ASN": "AS64500", "Hostname": "host10.example.net",
                   "Geo": {"Country": "Netherlands", "Location": "52.374:4.89"}})
        );

        let ip = &context(&output)[0];
        assert_eq!(ip["Address"], "203.0.113.10");
        assert_eq!(ip["Tag"], json!(["self-signed"]));
        assert_eq!(ip["Port"], json!([22, 80]));
        assert_eq!(ip["Vulnerabilities"], json!(["CVE-2021-41773", "CVE-2021-42013"]));
        assert_eq!(ip["Org"], "Example Hosting B.V.");
        assert_eq!(ip["LastUpdate"], "2024-06-01T08:12:33.456789");
        // Shodan's null `os` is left out, not written as null.
        assert!(ip.get("OS").is_none());

        let table = output.readable.as_ref().unwrap();
        assert_eq!(table.title, "Shodan details for IP 203.0.113.10");
        let row = &rows(&output)[0];
        assert_eq!(row["Ports"], "22, 80");
        assert_eq!(row["Location"], "52.374,4.89");
        assert_eq!(serde_json::from_str::<Value>(&output.raw).unwrap(), body);
    }

    #[test]
    fn google_dns_is_unknown_not_benign() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/shodan/host_clean_google_dns.json"));
        let output = map_host(&ipv4("8.8.8.8"), &body, &Rules::default()).unwrap();

        // No tags and no CVEs: Shodan vouches for nobody.
        assert_eq!(output.assessments[0].verdict, Verdict::Unknown);
        let ip = &context(&output)[0];
        assert_eq!(ip["ASN"], "AS15169");
        assert_eq!(ip["Tag"], json!([]));
        assert_eq!(ip["Vulnerabilities"], json!([]));
        let standard: Value =
            serde_json::from_str(&output.assessments[0].standard_context).unwrap();
        assert_eq!(standard["Hostname"], "dns.google");
        assert_eq!(standard["Geo"]["Location"], "37.406:-122.078");
    }

    #[test]
    fn tags_decide_before_vulnerabilities() {
        let rules = Rules::default();
        let cves = tags(&["CVE-2021-41773"]);
        assert_eq!(judge(&tags(&["C2"]), &cves, &rules).0, Verdict::Malicious);
        assert_eq!(judge(&tags(&["compromised"]), &[], &rules).0, Verdict::Malicious);
        assert_eq!(judge(&tags(&["scanner"]), &[], &rules).0, Verdict::Suspicious);
        assert_eq!(judge(&tags(&["cloud", "cdn"]), &[], &rules).0, Verdict::Unknown);
        // suspicious-vulns 0 turns the CVE rule off, and 3 asks for more.
        let off = Rules { suspicious_vulns: 0, ..Rules::default() };
        assert_eq!(judge(&[], &cves, &off).0, Verdict::Unknown);
        let three = Rules { suspicious_vulns: 3, ..Rules::default() };
        assert_eq!(judge(&[], &tags(&["CVE-1", "CVE-2"]), &three).0, Verdict::Unknown);
    }

    #[test]
    fn tag_settings_are_lists_and_empty_turns_them_off() {
        assert_eq!(tag_list(&Some(" Malware , tor ,".to_owned()), "x"), ["malware", "tor"]);
        assert!(tag_list(&Some(String::new()), DEFAULT_MALICIOUS_TAGS).is_empty());
        assert_eq!(tag_list(&None, DEFAULT_SUSPICIOUS_TAGS), ["scanner"]);
    }

    #[test]
    fn search_sample_gives_one_banner_per_match() {
        let (_, body) = sample(include_str!("../../../tests/data/samples/shodan/host_search.json"));
        let output = map_search("net:203.0.113.0/24 port:80", 1, &body);

        // A search judges nothing.
        assert!(output.assessments.is_empty());
        let banners = context(&output);
        assert_eq!(banners.len(), 1);
        assert_eq!(banners[0]["IP"], "203.0.113.10");
        assert_eq!(banners[0]["Port"], 80);
        assert_eq!(banners[0]["Asn"], "AS64500");
        assert_eq!(banners[0]["Location"]["Country"], "Netherlands");
        // No TLS on port 80: an empty version list, as XSOAR writes it.
        assert_eq!(banners[0]["Ssl"]["versions"], json!([]));
        let table = output.readable.as_ref().unwrap();
        assert_eq!(
            table.title,
            "Search results for query \"net:203.0.113.0/24 port:80\": 1 banners, page 1 of 1"
        );
        assert_eq!(rows(&output)[0]["Vulnerabilities"], "CVE-2021-41773");
    }

    #[test]
    fn count_sample_gives_the_total_and_facets() {
        let (_, body) = sample(include_str!("../../../tests/data/samples/shodan/host_count.json"));
        let output = map_count("product:\"Apache httpd\" version:\"2.4.49\"", &body);

        let count = &context(&output)[0];
        assert_eq!(count["ResultCount"], 48213);
        assert_eq!(count["Facets"]["country"][0], json!({"count": 12004, "value": "US"}));
        let rows = rows(&output);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], json!({"Facet": "country", "Value": "DE", "Count": 5120}));
    }

    #[test]
    fn an_unknown_address_is_not_found() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/shodan/host_not_found_404.json"));
        assert!(matches!(upstream_error(&response), ProviderError::NotFound));
    }

    #[test]
    fn an_invalid_key_is_unauthorized_with_shodans_words() {
        let (response, _) = sample(include_str!(
            "../../../tests/data/samples/shodan/error_401_invalid_key_json.json"
        ));
        match upstream_error(&response) {
            ProviderError::Unauthorized(message) => assert_eq!(message, "Invalid API key"),
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn the_rate_limit_waits_a_second() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/shodan/error_429_rate_limit.json"));
        // No Retry-After, and Shodan's limit is per second.
        assert!(matches!(upstream_error(&response), ProviderError::RateLimited(1)));
    }

    #[test]
    fn spent_query_credits_and_bad_queries_are_named() {
        let credits = Response {
            status: 402,
            headers: Vec::new(),
            body: br#"{"error": "Insufficient query credits, please upgrade your API plan"}"#
                .to_vec(),
        };
        assert!(matches!(upstream_error(&credits), ProviderError::QuotaExhausted));
        let bad = Response {
            status: 400,
            headers: Vec::new(),
            body: br#"{"error": "Invalid search query"}"#.to_vec(),
        };
        assert!(
            matches!(upstream_error(&bad), ProviderError::InvalidInput(m) if m == "Invalid search query")
        );
        // An HTML page from a proxy is an upstream failure, not a parse panic.
        let html =
            Response { status: 502, headers: Vec::new(), body: b"<html>bad</html>".to_vec() };
        assert!(matches!(
            upstream_error(&html),
            ProviderError::Upstream(UpstreamFailure { status: 502, .. })
        ));
    }

    #[test]
    fn an_answer_without_an_address_is_an_upstream_failure() {
        let error = map_host(&ipv4("8.8.8.8"), &json!({"matches": []}), &Rules::default());
        assert!(matches!(error, Err(ProviderError::Upstream(UpstreamFailure { status: 200, .. }))));
    }

    #[test]
    fn manifest_names_xsoars_commands_and_the_rate_limit() {
        let manifest = Shodan::manifest();
        assert_eq!(manifest.brand, "Shodan_v2");
        let names: Vec<_> = manifest
            .commands
            .iter()
            .map(|command| (command.name.as_str(), command.aliases.clone()))
            .collect();
        assert_eq!(
            names,
            [(HOST, vec!["ip".to_owned()]), (SEARCH, vec!["search".to_owned()]), (COUNT, vec![])]
        );
        assert_eq!(manifest.commands[0].context_path, "Shodan.IP");
        assert_eq!(manifest.commands[0].key_field, "Address");
        assert_eq!(manifest.commands[2].outputs[0].context_path, "Shodan.Search.ResultCount");
        assert!(
            matches!(&manifest.secrets[0].placement, SecretPlacement::Query(name) if name == "key")
        );
        assert_eq!(manifest.limits.per_second, Some(1));
    }
}
