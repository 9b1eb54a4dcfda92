//! Ferret provider for urlscan.io, the sandbox that loads web pages and
//! records what they do.
//!
//! Upstream: the urlscan.io API at `https://urlscan.io` (`GET
//! /api/v1/search/?q=` over past scans, `POST /api/v1/scan/` to submit,
//! `GET /api/v1/result/{uuid}/` for a finished scan, `GET /user/quotas/` for
//! the check). Auth: the API key in the `API-Key` header, added by the host.
//! Quota: per action (search, public scan, result) per minute, hour and day;
//! every answer states the one it counted against in `X-Rate-Limit-*`
//! headers.
//!
//! The commands, arguments and context mirror Cortex XSOAR's urlscan.io
//! integration: `url` (declared as `urlscan-url`), `urlscan-search`, and,
//! split so that no call waits for a scan, `urlscan-submit` and
//! `urlscan-get-result`. Results go to `URLScan` keyed by `URL`.

use ferret_provider_sdk::prelude::*;
use ferret_provider_sdk::{UpstreamFailure, rate_limited_from};
use serde_json::{Value, json};

const URL: &str = "urlscan-url";
const SEARCH: &str = "urlscan-search";
const SUBMIT: &str = "urlscan-submit";
const GET_RESULT: &str = "urlscan-get-result";

/// The brand, also the `Malicious.Vendor` of a bad URL.
const BRAND: &str = "urlscan.io";

/// urlscan's overall score from which a URL is suspicious when urlscan does
/// not call it malicious outright.
const DEFAULT_SUSPICIOUS_SCORE: u32 = 50;

/// Search results when the caller names no `limit`, as XSOAR's, and the most
/// one call asks for.
const DEFAULT_SEARCH_LIMIT: u64 = 20;
const MAX_SEARCH_LIMIT: u64 = 100;

/// Context paths under `URLScan` for a scan result, for the YAML.
const RESULT_OUTPUTS: [(&str, &str, &str); 16] = [
    ("URL", "String", "The URL scanned."),
    ("Data", "String", "The URL scanned, as XSOAR's URL object names it."),
    ("ScanID", "String", "The scan's UUID."),
    ("ScanDate", "Date", "When the scan ran."),
    ("EffectiveURL", "String", "Where the page ended up after redirects."),
    ("ASN", "String", "The ASN of the page's server."),
    ("IP", "String", "The page's server address."),
    ("RelatedIPs", "String", "Addresses the page contacted."),
    ("RelatedASNs", "String", "ASNs the page contacted."),
    ("Countries", "String", "Countries the page contacted."),
    ("RelatedHash", "String", "SHA-256 hashes of the resources loaded."),
    ("Subdomains", "String", "Domains the page contacted."),
    ("Certificates", "Unknown", "TLS certificates seen."),
    ("Score", "Number", "urlscan's overall score, -100 to 100."),
    ("Malicious.Vendor", "String", "The vendor that judged the URL malicious."),
    ("Malicious.Description", "String", "Why it was judged malicious."),
];

struct UrlScan;

impl Provider for UrlScan {
    fn manifest() -> Manifest {
        // urlscan counts each action (search, public scan, result) against
        // its own quotas, but the manifest holds one budget. Sixty a minute
        // is the smallest per-minute quota on the free plan (public scans;
        // searches allow 120) and a thousand a day its smallest daily one
        // (searches). Known gap: the host may hold back results or scans
        // that urlscan would still allow; urlscan's own 429, read from its
        // headers, is the backstop until the manifest can name limits per
        // command.
        ManifestBuilder::new("urlscan", BRAND, "https://urlscan.io")
            .version(env!("CARGO_PKG_VERSION"))
            .description("Verdicts from past urlscan.io scans of a URL; search, submit and fetch")
            .reliability(Reliability::C)
            .secret("api-key", SecretPlacement::Header("API-Key".into()), "urlscan.io API key")
            .setting(
                "suspicious-score",
                Some("50"),
                "urlscan overall score (-100 to 100) from which a URL urlscan does not call \
                 malicious is suspicious",
            )
            .setting(
                "visibility",
                Some("public"),
                "Visibility of submissions that name none: public, unlisted or private",
            )
            .limits(None, Some(60), Some(1000))
            .command(url_command())
            .command(search_command())
            .command(submit_command())
            .command(get_result_command())
            .build()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        match request.command.as_str() {
            URL => url(&request),
            SEARCH => search(&request),
            SUBMIT => submit(&request),
            GET_RESULT => get_result(&request),
            other => Err(ProviderError::InvalidInput(format!("unknown command `{other}`"))),
        }
    }

    fn check() -> Result<(), ProviderError> {
        let response = Request::get("/user/quotas/").send()?;
        if response.is_success() { Ok(()) } else { Err(upstream_error(&response)) }
    }
}

register!(UrlScan);

fn with_result_outputs(command: CommandBuilder) -> CommandBuilder {
    RESULT_OUTPUTS
        .iter()
        .fold(command, |command, (path, kind, text)| command.output(path, kind, text))
        .output("/URL.ASN", "String", "The ASN of the page's server.")
        .output("/URL.ASOwner", "String", "The owner of that ASN.")
        .output("/URL.Geo.Country", "String", "The country of the page's server.")
}

fn url_command() -> CommandBuilder {
    let command = CommandBuilder::new(
        URL,
        "Looks up urlscan.io's newest past scan of a URL and its verdict; submits nothing.",
    )
    .alias("url")
    .indicator("url", "URLs to look up.", &[IndicatorKind::Url])
    .context("URLScan", "URL");
    with_result_outputs(command)
}

fn search_command() -> CommandBuilder {
    CommandBuilder::new(SEARCH, "Searches urlscan.io's past scans.")
        .argument(
            ArgumentBuilder::new(
                "searchParameter",
                "A URL, domain, IP address or SHA-256 hash, or a urlscan query such as \
                 `domain:example.com AND page.status:200`.",
            )
            .required()
            .default_argument(),
        )
        .argument(
            ArgumentBuilder::new("limit", "Most results to return (1-100).").default_value("20"),
        )
        .context("URLScan", "URL")
        .output("URL", "String", "The page's URL.")
        .output("Domain", "String", "The page's domain.")
        .output("ASN", "String", "The ASN of the page's server.")
        .output("IP", "String", "The page's server address.")
        .output("ScanID", "String", "The scan's UUID.")
        .output("ScanDate", "Date", "When the scan ran.")
}

fn submit_command() -> CommandBuilder {
    CommandBuilder::new(
        SUBMIT,
        "Submits a URL for scanning and returns the scan's UUID at once; fetch the verdict \
         later with urlscan-get-result.",
    )
    .indicator("url", "URLs to scan.", &[IndicatorKind::Url])
    .argument(
        ArgumentBuilder::new(
            "public",
            "true for a public scan, false for a private one (XSOAR's argument).",
        )
        .one_of(&["true", "false"]),
    )
    .argument(
        ArgumentBuilder::new(
            "visibility",
            "public, unlisted or private; wins over `public` (default: the visibility setting).",
        )
        .one_of(&["public", "unlisted", "private"]),
    )
    .argument(ArgumentBuilder::new("tags", "Tags to put on the scan.").list())
    .context("URLScan.Submission", "ScanID")
    .output("ScanID", "String", "The scan's UUID, for urlscan-get-result.")
    .output("URL", "String", "The URL submitted.")
    .output("Visibility", "String", "public, unlisted or private.")
    .output("ReportURL", "String", "The scan's page on urlscan.io.")
}

fn get_result_command() -> CommandBuilder {
    let command = CommandBuilder::new(
        GET_RESULT,
        "Fetches a scan's result; a scan still running is reported as such, not as an error.",
    )
    .argument(ArgumentBuilder::new("uuid", "The scan's UUID, from urlscan-submit.").required())
    .context("URLScan", "URL")
    .output("/DBotScore.Indicator", "String", "The URL scanned.")
    .output("/DBotScore.Type", "String", "The indicator type, url.")
    .output("/DBotScore.Vendor", "String", "The vendor used to calculate the score.")
    .output("/DBotScore.Score", "Number", "The actual score.")
    .output("/DBotScore.Reliability", "String", "Reliability of the source.")
    .output("/URL.Data", "String", "The URL scanned.")
    .output("/URL.Malicious.Vendor", "String", "For a malicious URL, the vendor.")
    .output("/URL.Malicious.Description", "String", "For a malicious URL, why.");
    with_result_outputs(command)
}

// Commands: gather arguments and settings, call, map.

/// The reputation lookup: the newest past scan of exactly this URL, then its
/// result for the verdict (search hits carry none). Two requests, never a
/// submission and never a wait: a URL urlscan has not scanned is not found.
fn url(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let indicator = request.indicator()?;
    let suspicious = setting_u32("suspicious-score", DEFAULT_SUSPICIOUS_SCORE)?;

    let response = search_request(&url_query(&indicator.value), 1).send()?;
    if !response.is_success() {
        return Err(upstream_error(&response));
    }
    let search: Value = response.json()?;
    let newest = newest_hit(&search).ok_or(ProviderError::NotFound)?;
    let uuid = scan_id(newest).ok_or_else(|| malformed("a search hit has no `_id`"))?;

    let response = result_request(uuid)?.send()?;
    match response.status {
        200..=299 => map_result(&response.json()?, Some(indicator), suspicious),
        // The scan was deleted, or is not finished yet: what the search
        // knows, without a verdict.
        404 => Ok(map_hit_without_result(indicator, newest)),
        _ => Err(upstream_error(&response)),
    }
}

fn search(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let parameter = request.value("searchParameter");
    let limit = match request.number("limit")?.unwrap_or(DEFAULT_SEARCH_LIMIT) {
        limit @ 1..=MAX_SEARCH_LIMIT => limit,
        limit => {
            return Err(ProviderError::InvalidInput(format!(
                "argument `limit` must be from 1 to {MAX_SEARCH_LIMIT}, not {limit}"
            )));
        }
    };
    let query = search_query(parameter);

    let response = search_request(&query, limit).send()?;
    if !response.is_success() {
        return Err(upstream_error(&response));
    }
    let body: Value = response.json()?;

    Ok(map_search(&query, &body))
}

fn submit(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let indicator = request.indicator()?;
    let visibility = match (request.optional("visibility"), request.flag("public")?) {
        (Some(visibility), _) => visibility.to_owned(),
        (None, Some(true)) => "public".to_owned(),
        (None, Some(false)) => "private".to_owned(),
        (None, None) => setting("visibility").unwrap_or_else(|| "public".to_owned()),
    };
    let tags = request.values("tags");

    let response = submit_request(&indicator.value, &visibility, tags)?.send()?;
    if !response.is_success() {
        return Err(upstream_error(&response));
    }
    let body: Value = response.json()?;

    map_submission(&body)
}

fn get_result(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let uuid = request.value("uuid");
    let suspicious = setting_u32("suspicious-score", DEFAULT_SUSPICIOUS_SCORE)?;

    let response = result_request(uuid)?.send()?;
    if response.is_success() {
        return map_result(&response.json()?, None, suspicious);
    }
    if still_running(&response) { Ok(pending_output(uuid)) } else { Err(upstream_error(&response)) }
}

// Requests.

/// A phrase in urlscan's (Elasticsearch) query syntax: quoted, with quotes
/// and backslashes escaped.
fn phrase(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Scans of exactly this URL, as submitted or as the page finally loaded.
fn url_query(url: &str) -> String {
    let phrase = phrase(url);
    format!("task.url:{phrase} OR page.url:{phrase}")
}

/// What `urlscan-search` asks for, as XSOAR's integration reads its
/// `searchParameter`: a URL, an address, a SHA-256 or a domain becomes the
/// matching field query; anything else is taken as a query already.
fn search_query(parameter: &str) -> String {
    let parameter = parameter.trim();
    let is_hash = parameter.len() == 64 && parameter.bytes().all(|byte| byte.is_ascii_hexdigit());
    if parameter.starts_with("http://") || parameter.starts_with("https://") {
        format!("page.url:{}", phrase(parameter))
    } else if parameter.parse::<std::net::IpAddr>().is_ok() {
        format!("ip:{}", phrase(parameter))
    } else if is_hash {
        format!("hash:{}", parameter.to_ascii_lowercase())
    } else if parameter.contains([':', ' ', '"', '*']) || !parameter.contains('.') {
        parameter.to_owned()
    } else {
        format!("domain:{parameter}")
    }
}

fn search_request(query: &str, size: u64) -> Request {
    Request::get("/api/v1/search/").query("q", query).query("size", size.to_string())
}

/// A result's path, once the UUID is known to be one: it goes into the path
/// as is, so nothing but hex digits and dashes may pass.
fn result_request(uuid: &str) -> Result<Request, ProviderError> {
    let valid =
        uuid.len() == 36 && uuid.bytes().all(|byte| byte.is_ascii_hexdigit() || byte == b'-');
    if !valid {
        return Err(ProviderError::InvalidInput(format!(
            "argument `uuid` must be a scan UUID such as 0196d977-aaaa-7bbb-8ccc-dddddddddddd, \
             not `{uuid}`"
        )));
    }
    Ok(Request::get(&format!("/api/v1/result/{}/", uuid.to_ascii_lowercase())))
}

fn submit_body(url: &str, visibility: &str, tags: &[String]) -> Result<Value, ProviderError> {
    if !["public", "unlisted", "private"].contains(&visibility) {
        return Err(ProviderError::InvalidInput(format!(
            "visibility must be public, unlisted or private, not `{visibility}`"
        )));
    }
    let mut body = json!({"url": url, "visibility": visibility});
    if !tags.is_empty() {
        body["tags"] = json!(tags);
    }
    Ok(body)
}

fn submit_request(url: &str, visibility: &str, tags: &[String]) -> Result<Request, ProviderError> {
    Ok(Request::post("/api/v1/scan/").json(&submit_body(url, visibility, tags)?))
}

/// Whether a result's 404 means "not finished yet" rather than "no such
/// scan": urlscan says so in the message.
fn still_running(response: &Response) -> bool {
    response.status == 404
        && response
            .json::<Value>()
            .ok()
            .and_then(|body| body["message"].as_str().map(str::to_ascii_lowercase))
            .is_some_and(|message| message.contains("not finished"))
}

/// urlscan's failures, read beyond the standard mapping.
///
/// A 429 names its window and when it resets (`X-Rate-Limit-Window`,
/// `X-Rate-Limit-Reset-After` in seconds, possibly with a fraction): a spent
/// daily quota is quota-exhausted; a minute or hour waits as long as urlscan
/// says. A 400 is a submission urlscan refused (an unresolvable domain, a
/// blocked URL), so the caller's input.
fn upstream_error(response: &Response) -> ProviderError {
    match response.status {
        429 if response.header("x-rate-limit-window") == Some("day") => {
            ProviderError::QuotaExhausted
        }
        429 => match response
            .header("x-rate-limit-reset-after")
            .and_then(|seconds| seconds.trim().parse::<f64>().ok())
        {
            Some(seconds) => ProviderError::RateLimited(seconds.max(1.0).ceil() as u32),
            None => rate_limited_from(response),
        },
        400 => {
            let body = response.json::<Value>().unwrap_or(Value::Null);
            let message = body["description"]
                .as_str()
                .or(body["message"].as_str())
                .unwrap_or("urlscan.io refused the request");
            ProviderError::InvalidInput(message.to_owned())
        }
        _ => status_error(response),
    }
}

// Response mapping.

fn malformed(what: &str) -> ProviderError {
    ProviderError::Upstream(UpstreamFailure { status: 200, message: format!("the answer: {what}") })
}

/// The first search hit; urlscan sorts newest first.
fn newest_hit(search: &Value) -> Option<&Value> {
    search["results"].as_array().and_then(|results| results.first())
}

fn scan_id(hit: &Value) -> Option<&str> {
    hit["_id"].as_str().or(hit.pointer("/task/uuid").and_then(Value::as_str))
}

/// Maps a finished scan's result: `URLScan` context and a verdict on the
/// URL. For `url` the verdict is on the indicator asked about; for
/// `urlscan-get-result` on the URL the scan was submitted with.
fn map_result(
    body: &Value,
    indicator: Option<&Indicator>,
    suspicious_score: u32,
) -> Result<CommandOutput, ProviderError> {
    let task = &body["task"];
    let page = &body["page"];
    let lists = &body["lists"];
    let overall = &body["verdicts"]["overall"];
    let submitted = task["url"].as_str().ok_or_else(|| malformed("no `task.url`"))?;
    let (verdict, reason) = judge(overall, suspicious_score);
    let score = overall["score"].as_i64().map(|score| score.clamp(0, 100) as u8);

    let mut context = json!({
        "URL": submitted,
        "Data": submitted,
        "ScanID": task.get("uuid"),
        "ScanDate": task.get("time"),
        "ReportURL": task.get("reportURL"),
        "Screenshot": task.get("screenshotURL"),
        "EffectiveURL": page.get("url"),
        "Domain": page.get("domain"),
        "IP": page.get("ip"),
        "ASN": page.get("asn"),
        "Title": page.get("title"),
        "RelatedIPs": lists.get("ips"),
        "RelatedASNs": lists.get("asns"),
        "Countries": lists.get("countries"),
        "RelatedHash": lists.get("hashes"),
        "Subdomains": lists.get("domains"),
        "Certificates": lists.get("certificates"),
        "Score": overall.get("score"),
        "Categories": overall.get("categories"),
        "Brands": overall.get("brands"),
    });
    if verdict == Verdict::Malicious {
        context["Malicious"] = json!({"Vendor": BRAND, "Description": reason});
    }
    let standard = without_nulls(json!({
        "ASN": page.get("asn"),
        "ASOwner": page.get("asnname"),
        "Geo": {"Country": page.get("country")},
    }));
    let row = without_nulls(json!({
        "URL": submitted,
        "EffectiveURL": page.get("url"),
        "Verdict": reason,
        "Score": overall.get("score"),
        "Categories": overall["categories"].as_array().map(|items| join(items)),
        "IP": page.get("ip"),
        "Country": page.get("country"),
        "ScanDate": task.get("time"),
        "ReportURL": task.get("reportURL"),
    }));

    let target = match indicator {
        Some(indicator) => indicator.clone(),
        None => Indicator { kind: IndicatorKind::Url, value: submitted.to_owned() },
    };
    Ok(Output::new()
        .raw(body)
        .context(without_nulls(context))
        .assessment(assess(&target, verdict, score, &reason).with_standard_context(standard))
        .table(
            &format!("urlscan.io scan of {submitted}"),
            &[
                "URL",
                "EffectiveURL",
                "Verdict",
                "Score",
                "Categories",
                "IP",
                "Country",
                "ScanDate",
                "ReportURL",
            ],
            vec![row],
        )
        .build())
}

/// The verdict and its reason, from urlscan's overall verdict.
///
/// urlscan's own classifier calling the page malicious (`malicious: true`,
/// typically phishing it recognised) is malicious. Short of that, the
/// overall score (-100 to 100) mixes urlscan's engines and community votes:
/// from `suspicious-score` (default 50, where most of them lean bad) it is
/// suspicious; a lower positive score is a single vote or engine, weak
/// evidence, so unknown. A negative score means some voted it benign, which
/// is no vouch from urlscan itself: never benign.
fn judge(overall: &Value, suspicious_score: u32) -> (Verdict, String) {
    let score = overall["score"].as_i64().unwrap_or(0);
    let categories = overall["categories"].as_array().map(|items| join(items)).unwrap_or_default();
    let with_categories =
        if categories.is_empty() { String::new() } else { format!(" ({categories})") };
    if overall["malicious"].as_bool() == Some(true) {
        return (
            Verdict::Malicious,
            format!("urlscan.io found it malicious{with_categories}, score {score}"),
        );
    }
    if score >= i64::from(suspicious_score) {
        return (
            Verdict::Suspicious,
            format!(
                "urlscan.io score {score}{with_categories} (suspicious from {suspicious_score})"
            ),
        );
    }
    (Verdict::Unknown, format!("urlscan.io score {score}, no malicious verdict"))
}

/// A search hit whose result could not be fetched: what the hit says of the
/// page, and no judgement.
fn map_hit_without_result(indicator: &Indicator, hit: &Value) -> CommandOutput {
    let object = search_object(hit);
    Output::new()
        .raw(hit)
        .context(object.clone())
        .assessment(assess(
            indicator,
            Verdict::Unknown,
            None,
            "urlscan.io scanned it, but the scan's result is not available",
        ))
        .table(
            &format!("urlscan.io scan of {}", indicator.value),
            &["URL", "Domain", "IP", "ASN", "ScanID", "ScanDate"],
            vec![object],
        )
        .build()
}

fn search_object(hit: &Value) -> Value {
    without_nulls(json!({
        "URL": hit.pointer("/page/url").or(hit.pointer("/task/url")),
        "Domain": hit.pointer("/page/domain"),
        "ASN": hit.pointer("/page/asn"),
        "IP": hit.pointer("/page/ip"),
        "ScanID": scan_id(hit),
        "ScanDate": hit.pointer("/task/time"),
    }))
}

/// Maps a search: one `URLScan` object a hit, no verdicts (a hit carries
/// none).
fn map_search(query: &str, body: &Value) -> CommandOutput {
    let hits = body["results"].as_array().map_or(&[][..], Vec::as_slice);
    let total = body["total"].as_u64().unwrap_or(hits.len() as u64);

    let mut output = Output::new().raw(body);
    let mut rows = Vec::new();
    for hit in hits {
        let object = search_object(hit);
        rows.push(object.clone());
        output = output.context(object);
    }
    let more = if body["has_more"].as_bool() == Some(true) || total > hits.len() as u64 {
        "; more exist, narrow the query or raise the limit"
    } else {
        ""
    };
    output
        .table(
            &format!("urlscan.io results for {query}: {} of {total}{more}", hits.len()),
            &["URL", "Domain", "IP", "ASN", "ScanID", "ScanDate"],
            rows,
        )
        .build()
}

/// Maps a submission: the scan's UUID at once, under `URLScan.Submission`.
fn map_submission(body: &Value) -> Result<CommandOutput, ProviderError> {
    let uuid = body["uuid"].as_str().ok_or_else(|| malformed("no `uuid`"))?;
    let object = without_nulls(json!({
        "ScanID": uuid,
        "URL": body.get("url"),
        "Visibility": body.get("visibility"),
        "ReportURL": body.get("result"),
    }));
    Ok(Output::new()
        .raw(body)
        .context(object.clone())
        .table(
            &format!(
                "urlscan.io is scanning {}; run !urlscan-get-result uuid={uuid} in a minute",
                text(&body["url"])
            ),
            &["ScanID", "URL", "Visibility", "ReportURL"],
            vec![object],
        )
        .build())
}

/// A scan not finished yet: a normal answer telling the reader to come back.
fn pending_output(uuid: &str) -> CommandOutput {
    Output::new()
        .raw(&json!({"uuid": uuid, "status": "pending"}))
        .table(
            "urlscan.io scan not finished yet; retry in a few seconds",
            &["ScanID", "Status"],
            vec![json!({"ScanID": uuid, "Status": "running"})],
        )
        .build()
}

fn join(items: &[Value]) -> String {
    items.iter().map(text).collect::<Vec<_>>().join(", ")
}

fn text(value: &Value) -> String {
    value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_provider_sdk::testing::sample;

    fn url(value: &str) -> Indicator {
        Indicator { kind: IndicatorKind::Url, value: value.to_owned() }
    }

    fn context(output: &CommandOutput) -> Vec<Value> {
        serde_json::from_str(&output.context).expect("context is a JSON array")
    }

    const PHISH: &str = "https://login-verify.example.com/account/update.php";

    #[test]
    fn the_url_lookup_searches_exactly_that_url() {
        assert_eq!(
            url_query("https://a.example/x?q=\"1\""),
            r#"task.url:"https://a.example/x?q=\"1\"" OR page.url:"https://a.example/x?q=\"1\"""#
        );
        assert_eq!(
            search_request("domain:example.com", 1).url(),
            "/api/v1/search/?q=domain%3Aexample.com&size=1"
        );
    }

    #[test]
    fn search_parameters_become_field_queries() {
        assert_eq!(search_query("example.com"), "domain:example.com");
        assert_eq!(search_query("203.0.113.66"), "ip:\"203.0.113.66\"");
        assert_eq!(search_query("https://example.com/"), "page.url:\"https://example.com/\"");
        let hash = "67c1bc796bffe9169be3ef87dd8af4e8776d04484812a5bfdc7c5c9042aed1ca";
        assert_eq!(search_query(hash), format!("hash:{hash}"));
        // Already a query: passed as is.
        assert_eq!(
            search_query("domain:example.com AND page.status:200"),
            "domain:example.com AND page.status:200"
        );
    }

    #[test]
    fn submissions_are_bounded_to_urlscans_visibilities() {
        assert_eq!(
            submit_body(PHISH, "public", &["ioc-enrich".to_owned()]).unwrap(),
            json!({"url": PHISH, "visibility": "public", "tags": ["ioc-enrich"]})
        );
        assert!(matches!(submit_body(PHISH, "secret", &[]), Err(ProviderError::InvalidInput(_))));
        assert_eq!(submit_request(PHISH, "private", &[]).unwrap().url(), "/api/v1/scan/");
    }

    #[test]
    fn a_uuid_must_look_like_one_before_it_reaches_the_path() {
        let uuid = "0196d977-aaaa-7bbb-8ccc-dddddddddddd";
        assert_eq!(result_request(uuid).unwrap().url(), format!("/api/v1/result/{uuid}/"));
        assert!(matches!(result_request("../../user/quotas"), Err(ProviderError::InvalidInput(_))));
    }

    #[test]
    fn malicious_result_is_malicious_with_xsoars_context() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/urlscan/result_malicious.json"));
        let output = map_result(&body, Some(&url(PHISH)), DEFAULT_SUSPICIOUS_SCORE).unwrap();

        let assessment = &output.assessments[0];
        assert_eq!(assessment.verdict, Verdict::Malicious);
        assert_eq!(assessment.score, Some(100));
        assert_eq!(assessment.reason, "urlscan.io found it malicious (phishing), score 100");
        let standard: Value = serde_json::from_str(&assessment.standard_context).unwrap();
        assert_eq!(
            standard,
            json!({"ASN": "AS64500", "ASOwner": "EXAMPLE-HOSTING-AS, NL", "Geo": {"Country": "NL"}})
        );

        let scan = &context(&output)[0];
        assert_eq!(scan["URL"], PHISH);
        assert_eq!(scan["Data"], PHISH);
        assert_eq!(scan["ScanID"], "0196d977-aaaa-7bbb-8ccc-dddddddddddd");
        assert_eq!(scan["RelatedIPs"], json!(["203.0.113.66"]));
        assert_eq!(scan["RelatedASNs"], json!(["64500"]));
        assert_eq!(
            scan["RelatedHash"],
            json!(["67c1bc796bffe9169be3ef87dd8af4e8776d04484812a5bfdc7c5c9042aed1ca"])
        );
        assert_eq!(scan["Malicious"]["Vendor"], "urlscan.io");
        let rows: Vec<Value> = serde_json::from_str(&output.readable.unwrap().rows).unwrap();
        assert_eq!(rows[0]["Categories"], "phishing");
    }

    #[test]
    fn get_result_judges_the_submitted_url() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/urlscan/result_malicious.json"));
        let output = map_result(&body, None, DEFAULT_SUSPICIOUS_SCORE).unwrap();
        let judged = &output.assessments[0].indicator;
        assert_eq!((judged.kind, judged.value.as_str()), (IndicatorKind::Url, PHISH));
    }

    #[test]
    fn scores_short_of_a_malicious_verdict() {
        let overall = |score: i64| json!({"score": score, "malicious": false, "categories": []});
        assert_eq!(judge(&overall(50), 50).0, Verdict::Suspicious);
        // One vote or engine is weak evidence.
        assert_eq!(judge(&overall(10), 50).0, Verdict::Unknown);
        // A benign-leaning score is no vouch from urlscan.
        assert_eq!(judge(&overall(-100), 50).0, Verdict::Unknown);
        assert_eq!(judge(&overall(10), 5).0, Verdict::Suspicious);
    }

    #[test]
    fn search_hits_map_to_urlscan_objects_and_the_newest_comes_first() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/urlscan/search_hits.json"));
        let output = map_search("domain:example.com", &body);

        assert!(output.assessments.is_empty());
        let hits = context(&output);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[1]["URL"], PHISH);
        assert_eq!(hits[1]["IP"], "203.0.113.66");
        assert_eq!(hits[1]["ScanID"], "0196d976-1b2c-7d3e-8f40-5a6b7c8d9e0f");
        assert_eq!(hits[0]["ScanDate"], "2024-06-01T10:11:12.345Z");
        assert_eq!(
            output.readable.unwrap().title,
            "urlscan.io results for domain:example.com: 2 of 2"
        );
        // The url lookup fetches the first hit's result.
        assert_eq!(
            scan_id(newest_hit(&body).unwrap()),
            Some("0196d976-07f6-7aae-8a57-aa019145f31c")
        );

        // Without a result the hit is shown, unjudged.
        let fallback =
            map_hit_without_result(&url("https://example.com/"), newest_hit(&body).unwrap());
        assert_eq!(fallback.assessments[0].verdict, Verdict::Unknown);
        assert_eq!(context(&fallback)[0]["Domain"], "example.com");
    }

    #[test]
    fn an_unscanned_url_has_no_hit() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/urlscan/search_empty.json"));
        // The url command turns this None into not-found; it never submits.
        assert!(newest_hit(&body).is_none());
        let output = map_search("domain:unseen-domain.example", &body);
        assert!(output.context.is_empty());
    }

    #[test]
    fn a_submission_answers_the_uuid_at_once() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/urlscan/scan_submit_ok.json"));
        let output = map_submission(&body).unwrap();
        let submission = &context(&output)[0];
        assert_eq!(submission["ScanID"], "0196d977-aaaa-7bbb-8ccc-dddddddddddd");
        assert_eq!(submission["Visibility"], "public");
        assert_eq!(
            submission["ReportURL"],
            "https://urlscan.io/result/0196d977-aaaa-7bbb-8ccc-dddddddddddd/"
        );
        assert!(output.assessments.is_empty());
    }

    #[test]
    fn a_scan_still_running_is_a_normal_answer() {
        let (response, _) = sample(include_str!(
            "../../../tests/data/samples/urlscan/result_404_not_finished.json"
        ));
        assert!(still_running(&response));
        let output = pending_output("0196d977-aaaa-7bbb-8ccc-dddddddddddd");
        assert_eq!(
            output.readable.unwrap().title,
            "urlscan.io scan not finished yet; retry in a few seconds"
        );
        // Any other 404 is a scan that does not exist.
        let gone = Response {
            status: 404,
            headers: Vec::new(),
            body: br#"{"message": "Not Found"}"#.to_vec(),
        };
        assert!(!still_running(&gone));
        assert!(matches!(upstream_error(&gone), ProviderError::NotFound));
    }

    #[test]
    fn a_missing_key_is_unauthorized_with_urlscans_words() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/urlscan/error_401_no_api_key.json"));
        match upstream_error(&response) {
            ProviderError::Unauthorized(message) => {
                assert!(message.starts_with("No API key supplied."), "{message}")
            }
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn rate_limits_wait_as_long_as_urlscan_says() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/urlscan/error_429_rate_limited.json"));
        // The minute window resets after 17 seconds.
        assert!(matches!(upstream_error(&response), ProviderError::RateLimited(17)));

        let daily = Response {
            status: 429,
            headers: vec![
                ("x-rate-limit-window".to_owned(), "day".to_owned()),
                ("x-rate-limit-reset-after".to_owned(), "3600.5".to_owned()),
            ],
            body: br#"{"message": "Rate limit exceeded", "status": 429}"#.to_vec(),
        };
        assert!(matches!(upstream_error(&daily), ProviderError::QuotaExhausted));
        let fraction = Response {
            status: 429,
            headers: vec![("x-rate-limit-reset-after".to_owned(), "2.2".to_owned())],
            body: Vec::new(),
        };
        assert!(matches!(upstream_error(&fraction), ProviderError::RateLimited(3)));
    }

    #[test]
    fn a_refused_submission_is_the_callers_input() {
        let refused = Response {
            status: 400,
            headers: Vec::new(),
            body: br#"{"message": "DNS Error - Could not resolve domain", "description": "The domain .invalid could not be resolved", "status": 400}"#.to_vec(),
        };
        assert!(
            matches!(upstream_error(&refused), ProviderError::InvalidInput(m) if m.starts_with("The domain"))
        );
    }

    #[test]
    fn manifest_names_the_commands_and_quotas() {
        let manifest = UrlScan::manifest();
        assert_eq!(manifest.brand, "urlscan.io");
        let names: Vec<_> = manifest.commands.iter().map(|command| command.name.as_str()).collect();
        assert_eq!(names, [URL, SEARCH, SUBMIT, GET_RESULT]);
        assert_eq!(manifest.commands[0].aliases, ["url"]);
        assert_eq!(manifest.commands[0].context_path, "URLScan");
        assert_eq!(manifest.commands[0].key_field, "URL");
        assert_eq!(manifest.commands[2].context_path, "URLScan.Submission");
        assert!(
            matches!(&manifest.secrets[0].placement, SecretPlacement::Header(name) if name == "API-Key")
        );
        assert_eq!((manifest.limits.per_minute, manifest.limits.per_day), (Some(60), Some(1000)));
    }
}
