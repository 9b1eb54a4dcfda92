//! Ferret provider for PassiveTotal (RiskIQ, now Microsoft Defender Threat
//! Intelligence): passive DNS, WHOIS and enrichment of domains and IPs.
//!
//! Upstream: the PassiveTotal API v2 at `https://api.passivetotal.org`
//! (`GET /v2/dns/passive`, `/v2/whois`, `/v2/enrichment`, `/v2/account`).
//! Auth: HTTP basic authentication with the account's user name and API key,
//! both added by the host. Quota: per account and per day, its size set by
//! the account's tier; PassiveTotal answers 429 "Quota exceeded" once it is
//! spent.
//!
//! The commands, arguments and context follow Cortex XSOAR's "PassiveTotal
//! v2" integration: `pt-get-pdns-details` (`PassiveTotal.PDNS`),
//! `pt-get-whois` (`PassiveTotal.WHOIS`), and the reputation commands
//! `domain` and `ip` (`PassiveTotal.Domain`, `PassiveTotal.IP`, keyed by
//! `query`).

use ferret_provider_sdk::UpstreamFailure;
use ferret_provider_sdk::prelude::*;
use ferret_provider_sdk::rate_limited_from;
use serde_json::{Map, Value, json};

const PDNS: &str = "pt-get-pdns-details";
const WHOIS: &str = "pt-get-whois";
const DOMAIN: &str = "pt-domain-reputation";
const IP: &str = "pt-ip-reputation";

/// WHOIS contact roles, flattened into `<role><Field>` keys as XSOAR does.
const CONTACT_ROLES: [&str; 4] = ["admin", "billing", "registrant", "tech"];

struct PassiveTotal;

impl Provider for PassiveTotal {
    fn manifest() -> Manifest {
        // The daily quota depends on the account's tier (a community
        // account gets a few dozen lookups, an enterprise one thousands), so
        // no daily number fits every operator: PassiveTotal's own 429 ends
        // the day as quota-exhausted, and the operator may set `per-day`.
        // Sixty a minute keeps one playbook burst from spending a small
        // quota at once.
        ManifestBuilder::new("passivetotal", "PassiveTotal_v2", "https://api.passivetotal.org")
            .version(env!("CARGO_PKG_VERSION"))
            .description("Passive DNS, WHOIS and enrichment of domains and IPs from PassiveTotal")
            .reliability(Reliability::C)
            .secret(
                "username",
                SecretPlacement::BasicUsername,
                "PassiveTotal account user name (e-mail address)",
            )
            .secret("api-key", SecretPlacement::BasicPassword, "PassiveTotal API key")
            .limits(None, Some(60), None)
            .command(pdns_command())
            .command(whois_command())
            .command(reputation_command(Lookup::Domain))
            .command(reputation_command(Lookup::Ip))
            .build()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        let indicator = request.indicator()?;
        match request.command.as_str() {
            PDNS => {
                let response = pdns_request(
                    &indicator.value,
                    request.optional("start"),
                    request.optional("end"),
                    request.optional("timeout"),
                )
                .send()?;
                map_pdns(&read_answer(&response)?)
            }
            WHOIS => {
                let history = request.flag("history")?.unwrap_or(false);
                let response = whois_request(&indicator.value, history).send()?;
                map_whois(indicator, &read_answer(&response)?)
            }
            DOMAIN | IP => {
                let response = enrichment_request(&indicator.value).send()?;
                map_enrichment(indicator, &read_answer(&response)?)
            }
            other => Err(ProviderError::InvalidInput(format!("unknown command `{other}`"))),
        }
    }

    fn check() -> Result<(), ProviderError> {
        read_answer(&Request::get("/v2/account").send()?).map(|_| ())
    }
}

register!(PassiveTotal);

/// What a reputation command looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Domain,
    Ip,
}

fn pdns_command() -> CommandBuilder {
    CommandBuilder::new(PDNS, "Gets the passive DNS records of a domain or an IP address.")
        .indicator(
            "query",
            "Domains or IP addresses to look up.",
            &[IndicatorKind::Domain, IndicatorKind::Ipv4, IndicatorKind::Ipv6],
        )
        .argument(ArgumentBuilder::new("start", "Only records seen from this date (YYYY-MM-DD)."))
        .argument(ArgumentBuilder::new("end", "Only records seen until this date (YYYY-MM-DD)."))
        .argument(
            ArgumentBuilder::new("timeout", "Seconds PassiveTotal waits for its sources.")
                .default_value("7"),
        )
        .context("PassiveTotal.PDNS", "resolve")
        .output("resolve", "String", "The name or address the query resolved to.")
        .output("resolveType", "String", "What `resolve` is: ip, domain...")
        .output("recordType", "String", "The DNS record type, e.g. A.")
        .output("value", "String", "The name or address queried.")
        .output("source", "String", "The passive DNS sources that saw it.")
        .output("firstSeen", "Date", "When the record was first seen.")
        .output("lastSeen", "Date", "When the record was last seen.")
        .output("collected", "Date", "When PassiveTotal collected it.")
        .output("recordHash", "String", "PassiveTotal's id of the record.")
}

fn whois_command() -> CommandBuilder {
    CommandBuilder::new(WHOIS, "Gets the WHOIS record of a domain.")
        .indicator("query", "Domains to look up.", &[IndicatorKind::Domain])
        .argument(
            ArgumentBuilder::new("history", "Whether to return the record's history as well.")
                .default_value("false")
                .one_of(&["true", "false"]),
        )
        .context("PassiveTotal.WHOIS", "domain")
        .output("/Domain.WHOIS.CreationDate", "Date", "When the domain was registered.")
        .output("/Domain.WHOIS.UpdatedDate", "Date", "When its registration last changed.")
        .output("/Domain.WHOIS.ExpirationDate", "Date", "When its registration expires.")
        .output("/Domain.WHOIS.NameServers", "String", "The domain's name servers.")
        .output("/Domain.WHOIS.Registrar.Name", "String", "The domain's registrar.")
        .output("/Domain.Registrant.Name", "String", "The registrant's name.")
        .output("/Domain.Registrant.Email", "String", "The registrant's e-mail address.")
        .output("/Domain.Registrant.Phone", "String", "The registrant's telephone number.")
        .output("/Domain.Organization", "String", "The registrant's organisation.")
        .output("domain", "String", "The domain.")
        .output("registrar", "String", "The registrar.")
        .output("registered", "Date", "When the domain was registered.")
        .output("registryUpdatedAt", "Date", "When the registry last updated it.")
        .output("expiresAt", "Date", "When the registration expires.")
        .output("lastLoadedAt", "Date", "When PassiveTotal last loaded the record.")
        .output("nameServers", "String", "Name servers.")
        .output("whoisServer", "String", "The WHOIS server asked.")
        .output("contactEmail", "String", "Contact e-mail address.")
        .output("registrantName", "String", "Registrant's name.")
        .output("registrantOrganization", "String", "Registrant's organisation.")
        .output("registrantEmail", "String", "Registrant's e-mail address.")
        .output("registrantCountry", "String", "Registrant's country.")
        .output("adminEmail", "String", "Administrative contact's e-mail address.")
        .output("techEmail", "String", "Technical contact's e-mail address.")
}

fn reputation_command(lookup: Lookup) -> CommandBuilder {
    let (name, alias, noun, kinds): (_, _, _, &[IndicatorKind]) = match lookup {
        Lookup::Domain => (DOMAIN, "domain", "Domain", &[IndicatorKind::Domain]),
        Lookup::Ip => (IP, "ip", "IP", &[IndicatorKind::Ipv4, IndicatorKind::Ipv6]),
    };
    CommandBuilder::new(name, &format!("Gets PassiveTotal's classification of {alias}s."))
        .alias(alias)
        .indicator(alias, &format!("The {alias}s to look up."), kinds)
        .context(&format!("PassiveTotal.{noun}"), "query")
        .output("query", "String", "The indicator looked up.")
        .output("classification", "String", "malicious, suspicious, non-malicious or unknown.")
        .output("everCompromised", "Boolean", "Whether it was ever known to be compromised.")
        .output("tags", "String", "Tags PassiveTotal users gave it.")
        .output("dynamicDns", "Boolean", "Whether it is a dynamic DNS name.")
        .output("sinkhole", "Boolean", "Whether it is a sinkhole.")
        .output("primaryDomain", "String", "The registered domain (domains only).")
        .output("tld", "String", "The top-level domain (domains only).")
        .output("country", "String", "Country of the address (IPs only).")
        .output("autonomousSystemNumber", "Number", "AS number of the address (IPs only).")
        .output(&format!("/{noun}.Tags"), "String", "Tags PassiveTotal users gave it.")
}

// Requests.

fn pdns_request(
    query: &str,
    start: Option<&str>,
    end: Option<&str>,
    timeout: Option<&str>,
) -> Request {
    let mut request = Request::get("/v2/dns/passive").query("query", query);
    for (name, value) in [("start", start), ("end", end), ("timeout", timeout)] {
        if let Some(value) = value {
            request = request.query(name, value);
        }
    }
    request
}

fn whois_request(query: &str, history: bool) -> Request {
    Request::get("/v2/whois").query("query", query).query("history", history.to_string())
}

fn enrichment_request(query: &str) -> Request {
    Request::get("/v2/enrichment").query("query", query)
}

/// The JSON body of a 2xx answer, else PassiveTotal's failure.
///
/// PassiveTotal words its failures as `{"error": {"message",
/// "developer_message"}}`. A 429 whose words name the quota means the
/// account's daily quota is spent, which no short wait fixes; any other 429
/// waits. A 400 is the caller's input.
fn read_answer(response: &Response) -> Result<Value, ProviderError> {
    if response.is_success() {
        return response.json();
    }
    let error = response.json::<Value>().ok().map(|body| body["error"].clone());
    let words =
        |key: &str| error.as_ref().and_then(|error| error[key].as_str()).unwrap_or("").to_owned();
    let (message, developer) = (words("message"), words("developer_message"));
    Err(match response.status {
        429 if format!("{message} {developer}").to_ascii_lowercase().contains("quota") => {
            ProviderError::QuotaExhausted
        }
        429 => rate_limited_from(response),
        400 if !message.is_empty() => ProviderError::InvalidInput(message),
        _ => status_error(response),
    })
}

// Response mapping.

/// Maps a passive DNS answer: one context object a record, no verdict
/// (resolutions say where a name pointed, not whether it is harmful).
///
/// No records is not-found, as the not-found rule wants, so the host
/// answers "No results found" rather than an empty table.
fn map_pdns(body: &Value) -> Result<CommandOutput, ProviderError> {
    let records = body["results"].as_array().map_or(&[][..], Vec::as_slice);
    if records.is_empty() {
        return Err(ProviderError::NotFound);
    }
    let rows = records
        .iter()
        .map(|record| {
            without_empty(json!({
                "Resolve": record["resolve"],
                "Location": record["resolveType"],
                "Type": record["recordType"],
                "First Seen (GMT)": record["firstSeen"],
                "Last Seen (GMT)": record["lastSeen"],
                "Source": string_list(&record["source"]).join(", "),
            }))
        })
        .collect();
    let total = body["totalRecords"].as_u64().unwrap_or(records.len() as u64);
    Ok(records
        .iter()
        .fold(Output::new().raw(body), |output, record| {
            output.context(without_empty(record.clone()))
        })
        .table(
            &format!("Total Retrieved Record(s): {total}"),
            &["Resolve", "Location", "Type", "First Seen (GMT)", "Last Seen (GMT)", "Source"],
            rows,
        )
        .build())
}

/// Maps a WHOIS answer for `indicator`: the record (or, with history, each
/// record) flattened as XSOAR flattens it, and the standard `Domain.WHOIS`
/// fields on an unknown verdict (WHOIS says who, not whether it is harmful).
fn map_whois(indicator: &Indicator, body: &Value) -> Result<CommandOutput, ProviderError> {
    let records: Vec<&Value> = match body["results"].as_array() {
        Some(results) => results.iter().collect(),
        None => vec![body],
    };
    let records: Vec<&Value> =
        records.into_iter().filter(|record| record["domain"].is_string()).collect();
    let Some(latest) = records.first() else {
        return Err(ProviderError::NotFound);
    };

    let mut whois = Map::new();
    for (from, to) in [
        ("registered", "CreationDate"),
        ("registryUpdatedAt", "UpdatedDate"),
        ("expiresAt", "ExpirationDate"),
        ("nameServers", "NameServers"),
    ] {
        if let Some(value) = latest.get(from).filter(|value| !is_empty(value)) {
            whois.insert(to.to_owned(), value.clone());
        }
    }
    if let Some(registrar) = latest["registrar"].as_str() {
        whois.insert("Registrar".to_owned(), json!({"Name": registrar}));
    }
    let registrant = &latest["registrant"];
    let standard = without_empty(json!({
        "WHOIS": whois,
        "Registrant": {
            "Name": registrant["name"],
            "Email": registrant["email"],
            "Phone": registrant["telephone"],
        },
        "Organization": registrant["organization"],
    }));
    let assessment = assess(indicator, Verdict::Unknown, None, "WHOIS record only, no verdict")
        .with_standard_context(standard);

    let flat: Vec<Value> = records.iter().map(|record| flatten_whois(record)).collect();
    let rows = flat
        .iter()
        .map(|record| {
            without_empty(json!({
                "Domain": record["domain"],
                "Registrar": record["registrar"],
                "Registered": record["registered"],
                "Expires": record["expiresAt"],
                "Name Servers": string_list(&record["nameServers"]).join(", "),
                "Registrant": record["registrantOrganization"],
                "Contact E-mail": record["contactEmail"],
            }))
        })
        .collect();
    Ok(flat
        .into_iter()
        .fold(Output::new().raw(body), |output, record| output.context(record))
        .assessment(assessment)
        .table(
            &format!("Domain(s) ({})", records.len()),
            &[
                "Domain",
                "Registrar",
                "Registered",
                "Expires",
                "Name Servers",
                "Registrant",
                "Contact E-mail",
            ],
            rows,
        )
        .build())
}

/// A WHOIS record with each contact role's object flattened into
/// `<role><Field>` keys (`registrantEmail`), empty values dropped.
fn flatten_whois(record: &Value) -> Value {
    let mut flat = Map::new();
    for (key, value) in record.as_object().into_iter().flatten() {
        if CONTACT_ROLES.contains(&key.as_str()) {
            for (field, value) in value.as_object().into_iter().flatten() {
                let mut chars = field.chars();
                let capitalised: String = chars
                    .next()
                    .map(|first| first.to_ascii_uppercase())
                    .into_iter()
                    .chain(chars)
                    .collect();
                flat.insert(format!("{key}{capitalised}"), value.clone());
            }
        } else if key != "zone" {
            flat.insert(key.clone(), value.clone());
        }
    }
    without_empty(Value::Object(flat))
}

/// Maps an enrichment answer for `indicator` to a verdict, in this order:
///
/// - `classification` malicious or suspicious: that verdict. PassiveTotal's
///   classification is a person's judgement, set by a user of the platform.
/// - `non-malicious`: benign. The same person's explicit vouch is the
///   positive signal benign needs, and being the later, deliberate judgement
///   it outweighs the historic `everCompromised` flag.
/// - otherwise `everCompromised`: suspicious, since RiskIQ saw it
///   compromised at some point, which may no longer hold.
/// - otherwise unknown: tags alone (`security`, `dynamic dns`) name what a
///   thing is, not whether it harms.
///
/// PassiveTotal gives no figure, so the score is `none`.
fn map_enrichment(indicator: &Indicator, body: &Value) -> Result<CommandOutput, ProviderError> {
    if !body.is_object() {
        return Err(ProviderError::Upstream(UpstreamFailure {
            status: 200,
            message: "the answer is not a JSON object".to_owned(),
        }));
    }
    let classification = body["classification"].as_str().unwrap_or("").to_ascii_lowercase();
    let compromised = body["everCompromised"].as_bool().unwrap_or(false);
    let (verdict, reason) = match classification.as_str() {
        "malicious" => (Verdict::Malicious, "classified malicious in PassiveTotal"),
        "suspicious" => (Verdict::Suspicious, "classified suspicious in PassiveTotal"),
        "non-malicious" => (Verdict::Benign, "classified non-malicious in PassiveTotal"),
        _ if compromised => (Verdict::Suspicious, "PassiveTotal saw it compromised at some time"),
        _ => (Verdict::Unknown, "not classified in PassiveTotal"),
    };

    let tags = string_list(&body["tags"]);
    let mut standard = Map::new();
    if !tags.is_empty() {
        standard.insert("Tags".to_owned(), json!(tags));
    }
    let mut context = without_empty(body.clone());
    context["query"] = json!(indicator.value);
    let row = without_empty(json!({
        "Query": indicator.value,
        "Classification": body["classification"],
        "Ever Compromised": body["everCompromised"],
        "Dynamic DNS": body["dynamicDns"],
        "Tags": tags.join(", "),
    }));
    Ok(Output::new()
        .raw(body)
        .context(context)
        .assessment(
            assess(indicator, verdict, None, reason).with_standard_context(Value::Object(standard)),
        )
        .table(
            &format!("PassiveTotal reputation for: {}", indicator.value),
            &["Query", "Classification", "Ever Compromised", "Dynamic DNS", "Tags"],
            vec![row],
        )
        .build())
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Drops null and empty values at every depth, as XSOAR's
/// `remove_empty_elements` does for this integration's context.
fn without_empty(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key, without_empty(value)))
                .filter(|(_, value)| !is_empty(value))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items.into_iter().map(without_empty).filter(|value| !is_empty(value)).collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_provider_sdk::testing::sample;

    fn domain(value: &str) -> Indicator {
        Indicator { kind: IndicatorKind::Domain, value: value.to_owned() }
    }

    fn context(output: &CommandOutput) -> Vec<Value> {
        serde_json::from_str(&output.context).expect("context is a JSON array")
    }

    #[test]
    fn manifest_names_xsoars_commands_and_basic_auth() {
        let manifest = PassiveTotal::manifest();
        let names: Vec<_> = manifest.commands.iter().map(|command| command.name.as_str()).collect();
        assert_eq!(names, [PDNS, WHOIS, DOMAIN, IP]);
        assert_eq!(manifest.commands[2].aliases, ["domain"]);
        assert_eq!(manifest.commands[3].aliases, ["ip"]);
        assert_eq!(manifest.commands[0].context_path, "PassiveTotal.PDNS");
        assert_eq!(manifest.commands[1].key_field, "domain");
        assert_eq!(manifest.commands[3].context_path, "PassiveTotal.IP");
        assert_eq!(manifest.brand, "PassiveTotal_v2");
        let secrets: Vec<_> = manifest.secrets.iter().map(|secret| secret.name.as_str()).collect();
        assert_eq!(secrets, ["username", "api-key"]);
        assert!(matches!(manifest.secrets[0].placement, SecretPlacement::BasicUsername));
        assert!(matches!(manifest.secrets[1].placement, SecretPlacement::BasicPassword));
    }

    #[test]
    fn requests_carry_the_query_and_only_the_dates_given() {
        assert_eq!(
            pdns_request("login-verify.example.com", None, None, Some("7")).url(),
            "/v2/dns/passive?query=login-verify.example.com&timeout=7"
        );
        assert_eq!(
            pdns_request("203.0.113.66", Some("2024-05-01"), Some("2024-06-01"), None).url(),
            "/v2/dns/passive?query=203.0.113.66&start=2024-05-01&end=2024-06-01"
        );
        assert_eq!(
            whois_request("example.com", false).url(),
            "/v2/whois?query=example.com&history=false"
        );
        assert_eq!(enrichment_request("example.com").url(), "/v2/enrichment?query=example.com");
    }

    #[test]
    fn pdns_hit_gives_one_object_a_record() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/passivetotal/dns_passive_hit.json"));
        let output = map_pdns(&read_answer(&response).unwrap()).unwrap();

        let records = context(&output);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["resolve"], "203.0.113.66");
        assert_eq!(records[0]["source"], json!(["riskiq", "pingly"]));
        assert_eq!(records[1]["firstSeen"], "2024-04-28 10:12:09");
        // Resolutions are no verdict.
        assert!(output.assessments.is_empty());
        let table = output.readable.unwrap();
        assert_eq!(table.title, "Total Retrieved Record(s): 2");
        let rows: Vec<Value> = serde_json::from_str(&table.rows).unwrap();
        assert_eq!(rows[0]["Source"], "riskiq, pingly");
    }

    #[test]
    fn pdns_without_records_is_not_found() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/passivetotal/dns_passive_empty.json"));
        assert!(matches!(map_pdns(&read_answer(&response).unwrap()), Err(ProviderError::NotFound)));
    }

    #[test]
    fn whois_is_flattened_and_fills_the_standard_domain() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/passivetotal/whois_domain.json"));
        let output = map_whois(&domain("example.com"), &read_answer(&response).unwrap()).unwrap();

        let record = &context(&output)[0];
        assert_eq!(record["domain"], "example.com");
        assert_eq!(record["registrar"], "Example Registrar, Inc.");
        // Contact roles become `<role><Field>` keys, as in XSOAR's context.
        assert_eq!(record["registrantOrganization"], "Example Privacy Registration LLC");
        assert_eq!(record["adminCity"], "Anytown");
        assert_eq!(record["techTelephone"], "15555550100");
        // Empty objects (billing, zone) leave nothing behind.
        assert!(record.get("billing").is_none() && record.get("zone").is_none());
        assert!(record.get("admin").is_none());

        let assessment = &output.assessments[0];
        // WHOIS says who owns it, not whether it harms.
        assert_eq!(assessment.verdict, Verdict::Unknown);
        let standard: Value = serde_json::from_str(&assessment.standard_context).unwrap();
        assert_eq!(standard["WHOIS"]["CreationDate"], "1995-08-14");
        assert_eq!(standard["WHOIS"]["ExpirationDate"], "2025-08-13");
        assert_eq!(standard["WHOIS"]["Registrar"]["Name"], "Example Registrar, Inc.");
        assert_eq!(standard["WHOIS"]["NameServers"], json!(["NS1.EXAMPLE.NET", "NS2.EXAMPLE.NET"]));
        assert_eq!(standard["Registrant"]["Name"], "Privacy Proxy Service");
    }

    #[test]
    fn whois_without_a_domain_is_not_found() {
        assert!(matches!(
            map_whois(&domain("unseen.example"), &json!({})),
            Err(ProviderError::NotFound)
        ));
        // With history, each record of `results` is one context object.
        let history = json!({"results": [{"domain": "example.com", "lastLoadedAt": "2024-06-01"},
                                          {"domain": "example.com", "lastLoadedAt": "2023-06-01"}]});
        let output = map_whois(&domain("example.com"), &history).unwrap();
        assert_eq!(context(&output).len(), 2);
    }

    #[test]
    fn enrichment_with_tags_only_is_unknown() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/passivetotal/enrichment_domain.json"));
        let output =
            map_enrichment(&domain("example.com"), &read_answer(&response).unwrap()).unwrap();

        let assessment = &output.assessments[0];
        // A `security` tag and no classification: no verdict either way.
        assert_eq!(assessment.verdict, Verdict::Unknown);
        assert_eq!(assessment.score, None);
        assert_eq!(assessment.reason, "not classified in PassiveTotal");
        let standard: Value = serde_json::from_str(&assessment.standard_context).unwrap();
        assert_eq!(standard, json!({"Tags": ["security"]}));

        let object = &context(&output)[0];
        assert_eq!(object["query"], "example.com");
        assert_eq!(object["primaryDomain"], "example.com");
        assert_eq!(object["everCompromised"], false);
        // The empty subdomain list is dropped, as XSOAR drops empty values.
        assert!(object.get("subdomains").is_none());
    }

    #[test]
    fn classification_and_compromise_decide_the_verdict() {
        let verdict = |body: Value| {
            map_enrichment(&domain("x.example"), &body).unwrap().assessments[0].verdict
        };
        assert_eq!(verdict(json!({"classification": "malicious"})), Verdict::Malicious);
        assert_eq!(verdict(json!({"classification": "suspicious"})), Verdict::Suspicious);
        // An analyst's explicit non-malicious is the positive signal benign needs.
        assert_eq!(verdict(json!({"classification": "non-malicious"})), Verdict::Benign);
        assert_eq!(
            verdict(json!({"classification": "non-malicious", "everCompromised": true})),
            Verdict::Benign
        );
        assert_eq!(
            verdict(json!({"classification": "unknown", "everCompromised": true})),
            Verdict::Suspicious
        );
        assert_eq!(verdict(json!({"classification": "unknown"})), Verdict::Unknown);
    }

    #[test]
    fn bad_credentials_are_unauthorized_with_passivetotals_words() {
        let (response, _) = sample(include_str!(
            "../../../tests/data/samples/passivetotal/error_401_bad_credentials.json"
        ));
        match read_answer(&response) {
            Err(ProviderError::Unauthorized(message)) => {
                assert_eq!(message, "Authentication failed.")
            }
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn a_spent_quota_is_quota_exhausted_and_other_429s_wait() {
        let (response, _) = sample(include_str!(
            "../../../tests/data/samples/passivetotal/error_429_quota_exceeded.json"
        ));
        assert!(matches!(read_answer(&response), Err(ProviderError::QuotaExhausted)));

        let burst = Response {
            status: 429,
            headers: vec![("retry-after".to_owned(), "3".to_owned())],
            body: br#"{"error": {"http_code": 429, "message": "Too many requests."}}"#.to_vec(),
        };
        assert!(matches!(read_answer(&burst), Err(ProviderError::RateLimited(3))));
    }

    #[test]
    fn server_errors_and_html_pages_are_upstream_failures() {
        let response = Response {
            status: 500,
            headers: Vec::new(),
            body: b"<html><body>Internal Server Error</body></html>".to_vec(),
        };
        assert!(matches!(
            read_answer(&response),
            Err(ProviderError::Upstream(UpstreamFailure { status: 500, .. }))
        ));
    }
}
