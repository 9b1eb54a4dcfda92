//! Ferret provider for MISP, the self-hosted threat-sharing platform.
//!
//! Upstream: an organisation's own MISP instance, whose base URL the operator
//! sets as `[providers.misp] base_url` (the manifest's `misp.invalid` never
//! resolves). Endpoints: `POST /attributes/restSearch` and
//! `POST /events/restSearch` with a JSON body, `GET /servers/getVersion` for
//! the check. Auth: the raw API key in the `Authorization` header, added by
//! the host; every request asks for `Accept: application/json`. Quota: none
//! upstream, but every search is bounded: a `limit` (default 50, at most
//! 1,000) and a `page` always go in the body.
//!
//! The commands, arguments and context mirror Cortex XSOAR's MISP V3
//! integration: `misp-search-attributes` (also Ferret's `misp-search`),
//! `misp-search-events` and the reputation commands `ip`, `domain`, `url`,
//! `file` and `email` (declared as `misp-ip` and so on), writing
//! `MISP.Attribute` and `MISP.Event` objects keyed by `ID`, with MISP V3's
//! field names.

use ferret_provider_sdk::UpstreamFailure;
use ferret_provider_sdk::prelude::*;
use serde_json::{Map, Value, json};

const SEARCH_ATTRIBUTES: &str = "misp-search-attributes";
const SEARCH_EVENTS: &str = "misp-search-events";

/// Results a search returns when the caller names no `limit`, and the most
/// it may ask for: MISP builds the whole page in memory, so an unbounded
/// search can stall the instance for everyone.
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 1000;

/// Default tag names that make a matched indicator malicious: MISP's own
/// words, and galaxy clusters naming a threat actor or a malware family.
/// A trailing `*` matches any tag starting with the rest.
const DEFAULT_MALICIOUS_TAGS: &str =
    "malicious,misp-galaxy:threat-actor=*,misp-galaxy:malpedia=*,misp-galaxy:ransomware=*";
const DEFAULT_SUSPICIOUS_TAGS: &str = "suspicious";

/// The fixed 0-100 figures of each verdict. MISP gives no figure of its own;
/// these let the composite score weigh a MISP hit like any other source's.
const MALICIOUS_SCORE: u8 = 100;
const SUSPICIOUS_SCORE: u8 = 50;
const BENIGN_SCORE: u8 = 0;

/// MISP's attribute and event keys as MISP V3 writes them in the context.
/// A dotted name nests (`orgc_id` becomes `OwnerOrganization.ID`); keys not
/// listed keep MISP's spelling, as in XSOAR.
const CONTEXT_KEYS: [(&str, &str); 36] = [
    ("id", "ID"),
    ("event_id", "EventID"),
    ("object_id", "ObjectID"),
    ("object_relation", "ObjectRelation"),
    ("category", "Category"),
    ("type", "Type"),
    ("to_ids", "ToIDs"),
    ("uuid", "UUID"),
    ("timestamp", "LastChanged"),
    ("distribution", "Distribution"),
    ("sharing_group_id", "SharingGroupID"),
    ("comment", "Comment"),
    ("deleted", "Deleted"),
    ("disable_correlation", "DisableCorrelation"),
    ("value", "Value"),
    ("info", "Info"),
    ("date", "CreationDate"),
    ("published", "Published"),
    ("attribute_count", "AttributeCount"),
    ("proposal_email_lock", "ProposalEmailLock"),
    ("locked", "Locked"),
    ("publish_timestamp", "PublishTimestamp"),
    ("event_creator_email", "EventCreatorEmail"),
    ("name", "Name"),
    ("analysis", "Analysis"),
    ("threat_level_id", "ThreatLevelID"),
    ("org_id", "OrganizationID"),
    ("Org", "Organization"),
    ("Orgc", "OwnerOrganization"),
    ("orgc_id", "OwnerOrganization.ID"),
    ("orgc_uuid", "OwnerOrganization.UUID"),
    ("orgc_name", "OwnerOrganization.Name"),
    ("event_uuid", "EventUUID"),
    ("decay_score", "DecayScore"),
    ("description", "Description"),
    ("meta-category", "MetaCategory"),
];

/// The reputation commands: name, alias and argument, the indicator kinds,
/// and the MISP attribute types searched for them.
const REPUTATION: [(&str, &str, &[IndicatorKind], &[&str]); 5] = [
    (
        "misp-ip",
        "ip",
        &[IndicatorKind::Ipv4, IndicatorKind::Ipv6],
        &["ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"],
    ),
    ("misp-domain", "domain", &[IndicatorKind::Domain], &["domain", "hostname", "domain|ip"]),
    ("misp-url", "url", &[IndicatorKind::Url], &["url", "uri", "link"]),
    (
        "misp-file",
        "file",
        &[IndicatorKind::Md5, IndicatorKind::Sha1, IndicatorKind::Sha256, IndicatorKind::Sha512],
        &[],
    ),
    (
        "misp-email",
        "email",
        &[IndicatorKind::Email],
        &["email", "email-src", "email-dst", "email-reply-to"],
    ),
];

/// Context paths under `MISP.Attribute`, for the YAML.
const ATTRIBUTE_OUTPUTS: [(&str, &str, &str); 14] = [
    ("ID", "String", "The attribute's id."),
    ("EventID", "String", "The id of the event holding it."),
    ("Type", "String", "The attribute type, e.g. ip-dst or sha256."),
    ("Category", "String", "The category, e.g. Network activity."),
    ("Value", "String", "The value."),
    ("ToIDs", "Boolean", "Whether it is marked for detection (to_ids)."),
    ("Comment", "String", "The analyst's comment."),
    ("UUID", "String", "The attribute's UUID."),
    ("LastChanged", "Date", "When it last changed."),
    ("Distribution", "String", "Who it is shared with (0-5)."),
    ("Event.ID", "String", "The event's id."),
    ("Event.Info", "String", "The event's title."),
    ("Tag.Name", "String", "Tags on the attribute and, inherited, on its event."),
    ("Tag.ID", "String", "Tag ids."),
];

/// Context paths under `MISP.Event`, for the YAML.
const EVENT_OUTPUTS: [(&str, &str, &str); 11] = [
    ("ID", "String", "The event's id."),
    ("Info", "String", "The event's title."),
    ("CreationDate", "Date", "The event's date."),
    ("ThreatLevelID", "String", "1 high, 2 medium, 3 low, 4 undefined."),
    ("Analysis", "String", "0 initial, 1 ongoing, 2 completed."),
    ("Published", "Boolean", "Whether it is published."),
    ("AttributeCount", "String", "Attributes in the event."),
    ("OwnerOrganization.Name", "String", "The creating organisation."),
    ("Organization.Name", "String", "The organisation holding the event."),
    ("Tag.Name", "String", "The event's tags."),
    ("Attribute.Value", "String", "Attribute values (id, type, category and to_ids too)."),
];

struct Misp;

impl Provider for Misp {
    fn manifest() -> Manifest {
        // MISP states no limits; it is the organisation's own server, shared
        // with the analysts using its web interface. Each restSearch is a
        // database query, so five a second keeps a feed backfill from
        // slowing it for them; operators with a bigger instance raise it.
        let mut manifest = ManifestBuilder::new("misp", "MISP V3", "https://misp.invalid")
            .version(env!("CARGO_PKG_VERSION"))
            .description("Attributes, events and tag-based reputation from a MISP instance")
            .reliability(Reliability::C)
            .secret(
                "api-key",
                SecretPlacement::Header("Authorization".into()),
                "MISP automation key of an API-enabled user (the raw key, no `Bearer`)",
            )
            .setting(
                "malicious-tags",
                Some(DEFAULT_MALICIOUS_TAGS),
                "Comma-separated tag names that make a matched indicator malicious; a trailing \
                 * matches a prefix",
            )
            .setting(
                "suspicious-tags",
                Some(DEFAULT_SUSPICIOUS_TAGS),
                "Comma-separated tag names that make a matched indicator suspicious",
            )
            .setting(
                "benign-tags",
                None,
                "Comma-separated tag names that vouch for a matched indicator (benign)",
            )
            .setting(
                "max-attributes",
                Some("50"),
                "Attributes a reputation command fetches and writes to the context (1-1000)",
            )
            .limits(Some(5), None, None)
            .command(attributes_command())
            .command(events_command());
        for (name, alias, kinds, _) in REPUTATION {
            manifest = manifest.command(reputation_command(name, alias, kinds));
        }
        manifest.build()
    }

    fn run(request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        match request.command.as_str() {
            SEARCH_ATTRIBUTES => search_attributes(&request),
            SEARCH_EVENTS => search_events(&request),
            name => match REPUTATION.iter().find(|(command, ..)| *command == name) {
                Some(_) => reputation(&request),
                None => Err(ProviderError::InvalidInput(format!("unknown command `{name}`"))),
            },
        }
    }

    fn check() -> Result<(), ProviderError> {
        let response =
            Request::get("/servers/getVersion").header("Accept", "application/json").send()?;
        if response.is_success() { Ok(()) } else { Err(upstream_error(&response)) }
    }
}

register!(Misp);

fn search_arguments(command: CommandBuilder) -> CommandBuilder {
    command
        .argument(
            ArgumentBuilder::new("value", "The value to search for; % is a wildcard.")
                .default_argument(),
        )
        .argument(ArgumentBuilder::new("type", "Attribute type, e.g. ip-dst or sha256."))
        .argument(ArgumentBuilder::new("category", "Attribute category, e.g. Network activity."))
        .argument(ArgumentBuilder::new("tags", "Tag names to match; a ! prefix excludes.").list())
        .argument(ArgumentBuilder::new("eventid", "Only within this event."))
        .argument(
            ArgumentBuilder::new(
                "to_ids",
                "Only attributes marked (true) or not marked (false) for IDS.",
            )
            .one_of(&["true", "false"]),
        )
        .argument(ArgumentBuilder::new("last", "Only changed within this span, e.g. 5d or 12h."))
        .argument(ArgumentBuilder::new("limit", "Results per page (1-1000).").default_value("50"))
        .argument(ArgumentBuilder::new("page", "Page of results, from 1.").default_value("1"))
}

fn attributes_command() -> CommandBuilder {
    let command =
        CommandBuilder::new(SEARCH_ATTRIBUTES, "Searches MISP's attributes.").alias("misp-search");
    let command = search_arguments(command).context("MISP.Attribute", "ID");
    ATTRIBUTE_OUTPUTS
        .iter()
        .fold(command, |command, (path, kind, text)| command.output(path, kind, text))
}

fn events_command() -> CommandBuilder {
    let command = CommandBuilder::new(
        SEARCH_EVENTS,
        "Searches MISP's events; attributes are summarised, use misp-search-attributes for them.",
    );
    let command = search_arguments(command).context("MISP.Event", "ID");
    EVENT_OUTPUTS
        .iter()
        .fold(command, |command, (path, kind, text)| command.output(path, kind, text))
}

fn reputation_command(name: &str, argument: &str, kinds: &[IndicatorKind]) -> CommandBuilder {
    let command = CommandBuilder::new(
        name,
        &format!("Checks whether MISP holds the {argument} and how its tags judge it."),
    )
    .alias(argument)
    .indicator(argument, &format!("The {argument} values to check."), kinds)
    .context("MISP.Attribute", "ID");
    ATTRIBUTE_OUTPUTS
        .iter()
        .fold(command, |command, (path, kind, text)| command.output(path, kind, text))
}

// Commands: gather arguments and settings, call, map.

fn search_attributes(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let filters = filters(request)?;
    let page = Page::from_request(request)?;

    let response = attributes_request(&filters, page).send()?;
    let body = search_answer(&response)?.unwrap_or_else(|| json!({"response": {"Attribute": []}}));

    map_attribute_search(&body, page)
}

fn search_events(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let filters = filters(request)?;
    let page = Page::from_request(request)?;

    let response = events_request(&filters, page).send()?;
    let body = search_answer(&response)?.unwrap_or_else(|| json!({"response": []}));

    map_event_search(&body, page)
}

fn reputation(request: &CommandRequest) -> Result<CommandOutput, ProviderError> {
    let indicator = request.indicator()?;
    let limit = u64::from(setting_u32("max-attributes", DEFAULT_LIMIT as u32)?);
    let page = Page::new(limit, 1)?;
    let rules = Rules {
        malicious: tag_list(setting("malicious-tags").as_deref().unwrap_or(DEFAULT_MALICIOUS_TAGS)),
        suspicious: tag_list(
            setting("suspicious-tags").as_deref().unwrap_or(DEFAULT_SUSPICIOUS_TAGS),
        ),
        benign: tag_list(setting("benign-tags").as_deref().unwrap_or("")),
    };

    let response = attributes_request(&reputation_filters(indicator), page).send()?;
    let body = search_answer(&response)?.ok_or(ProviderError::NotFound)?;

    map_reputation(indicator, &body, &rules, page)
}

// Arguments and settings.

/// A page of results: how many, and which page from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Page {
    limit: u64,
    page: u64,
}

impl Page {
    fn new(limit: u64, page: u64) -> Result<Self, ProviderError> {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ProviderError::InvalidInput(format!(
                "`limit` must be from 1 to {MAX_LIMIT}, not {limit}; page through bigger results"
            )));
        }
        if page == 0 {
            return Err(ProviderError::InvalidInput("argument `page` starts at 1, not 0".into()));
        }
        Ok(Self { limit, page })
    }

    fn from_request(request: &CommandRequest) -> Result<Self, ProviderError> {
        Self::new(
            request.number("limit")?.unwrap_or(DEFAULT_LIMIT),
            request.number("page")?.unwrap_or(1),
        )
    }

    /// Words for a table title: how many came back, and whether a full page
    /// means more are waiting.
    fn describe(self, count: usize, noun: &str) -> String {
        let mut text = format!("{count} {noun} (page {}, limit {})", self.page, self.limit);
        if count as u64 >= self.limit {
            text.push_str(&format!("; more may exist, ask for page {}", self.page + 1));
        }
        text
    }
}

/// The search filters MISP's restSearch takes, as the caller gave them.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filters {
    value: Option<String>,
    types: Vec<String>,
    category: Option<String>,
    tags: Vec<String>,
    eventid: Option<String>,
    to_ids: Option<bool>,
    last: Option<String>,
}

fn filters(request: &CommandRequest) -> Result<Filters, ProviderError> {
    Ok(Filters {
        value: request.optional("value").map(str::to_owned),
        types: request.optional("type").map(str::to_owned).into_iter().collect(),
        category: request.optional("category").map(str::to_owned),
        tags: request.values("tags").iter().filter(|tag| !tag.is_empty()).cloned().collect(),
        eventid: request.optional("eventid").map(str::to_owned),
        to_ids: request.flag("to_ids")?,
        last: request.optional("last").map(str::to_owned),
    })
}

/// A reputation search: the exact value, among the attribute types that can
/// hold that kind of indicator. A hash searches its own type and the
/// `filename|<hash>` pair MISP stores with file names.
fn reputation_filters(indicator: &Indicator) -> Filters {
    let types = match indicator.kind {
        IndicatorKind::Md5 => vec!["md5", "filename|md5"],
        IndicatorKind::Sha1 => vec!["sha1", "filename|sha1"],
        IndicatorKind::Sha256 => vec!["sha256", "filename|sha256"],
        IndicatorKind::Sha512 => vec!["sha512", "filename|sha512"],
        kind => REPUTATION
            .iter()
            .find(|(.., kinds, _)| kinds.contains(&kind))
            .map(|(.., types)| types.to_vec())
            .unwrap_or_default(),
    };
    Filters {
        value: Some(indicator.value.clone()),
        types: types.into_iter().map(str::to_owned).collect(),
        ..Filters::default()
    }
}

/// Tag names matched without regard to case. A trailing `*` makes a prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rules {
    malicious: Vec<String>,
    suspicious: Vec<String>,
    benign: Vec<String>,
}

fn tag_list(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(|tag| tag.trim().to_ascii_lowercase())
        .filter(|tag| !tag.is_empty())
        .collect()
}

fn tag_matches(patterns: &[String], tag: &str) -> bool {
    let tag = tag.to_ascii_lowercase();
    patterns.iter().any(|pattern| match pattern.strip_suffix('*') {
        Some(prefix) => tag.starts_with(prefix),
        None => tag == *pattern,
    })
}

// Requests.

/// The restSearch body: the filters given, JSON back, and always a page.
fn search_body(filters: &Filters, page: Page) -> Value {
    let mut body = json!({"returnFormat": "json"});
    let mut set = |key: &str, value: Value| {
        body[key] = value;
    };
    if let Some(value) = &filters.value {
        set("value", json!(value));
    }
    match filters.types.as_slice() {
        [] => {}
        [one] => set("type", json!(one)),
        many => set("type", json!(many)),
    }
    if let Some(category) = &filters.category {
        set("category", json!(category));
    }
    if !filters.tags.is_empty() {
        set("tags", json!(filters.tags));
    }
    if let Some(eventid) = &filters.eventid {
        set("eventid", json!(eventid));
    }
    if let Some(to_ids) = filters.to_ids {
        set("to_ids", json!(to_ids));
    }
    if let Some(last) = &filters.last {
        set("last", json!(last));
    }
    set("limit", json!(page.limit));
    set("page", json!(page.page));
    body
}

fn attributes_body(filters: &Filters, page: Page) -> Value {
    let mut body = search_body(filters, page);
    // Event tags come back on each attribute, marked `inherited`, so the
    // verdict can weigh them.
    body["includeEventTags"] = json!(true);
    body
}

fn events_body(filters: &Filters, page: Page) -> Value {
    let mut body = search_body(filters, page);
    // Whole events, with their tags and attributes, not just the headers.
    body["metadata"] = json!(false);
    body
}

fn attributes_request(filters: &Filters, page: Page) -> Request {
    Request::post("/attributes/restSearch")
        .header("Accept", "application/json")
        .json(&attributes_body(filters, page))
}

fn events_request(filters: &Filters, page: Page) -> Request {
    Request::post("/events/restSearch")
        .header("Accept", "application/json")
        .json(&events_body(filters, page))
}

/// A search's body, or `None` when MISP says it matched nothing: older MISP
/// versions answer an empty search with `404 No matches` rather than an
/// empty list.
fn search_answer(response: &Response) -> Result<Option<Value>, ProviderError> {
    if response.is_success() {
        return response.json().map(Some);
    }
    match upstream_error(response) {
        ProviderError::NotFound => Ok(None),
        error => Err(error),
    }
}

/// MISP's failures, read beyond the standard mapping.
///
/// A 403 `Authentication failed` is the standard unauthorized. A 404 is
/// "nothing matched" unless MISP names an object that does not exist
/// (`Invalid event`), which is the caller's input, not an absence of
/// evidence.
fn upstream_error(response: &Response) -> ProviderError {
    let message = response
        .json::<Value>()
        .ok()
        .and_then(|body| body.get("message").and_then(Value::as_str).map(str::to_owned));
    match (response.status, message) {
        (404, Some(message)) if message.to_ascii_lowercase().starts_with("invalid ") => {
            ProviderError::InvalidInput(format!("MISP: {message}; check the `eventid` argument"))
        }
        _ => status_error(response),
    }
}

// Response mapping.

fn attributes_of(body: &Value) -> Result<&[Value], ProviderError> {
    body.pointer("/response/Attribute").and_then(Value::as_array).map(Vec::as_slice).ok_or_else(
        || {
            ProviderError::Upstream(UpstreamFailure {
                status: 200,
                message: "the answer has no `response.Attribute` list".to_owned(),
            })
        },
    )
}

/// Maps an attribute search: one `MISP.Attribute` object an attribute.
fn map_attribute_search(body: &Value, page: Page) -> Result<CommandOutput, ProviderError> {
    let attributes = attributes_of(body)?;
    Ok(attribute_output(body, attributes, page, "MISP attributes").build())
}

fn attribute_output(body: &Value, attributes: &[Value], page: Page, title: &str) -> Output {
    let mut output = Output::new().raw(body);
    let mut rows = Vec::new();
    for attribute in attributes {
        rows.push(json!({
            "ID": attribute["id"],
            "EventID": attribute["event_id"],
            "EventInfo": attribute.pointer("/Event/info"),
            "Type": attribute["type"],
            "Category": attribute["category"],
            "Value": attribute["value"],
            "ToIDs": attribute["to_ids"],
            "Tags": tag_names(attribute).join(", "),
            "LastChanged": attribute["timestamp"].as_str().and_then(epoch_text),
        }));
        output = output.context(to_context(attribute));
    }
    output.table(
        &format!("{}: {}", title, page.describe(attributes.len(), "attributes")),
        &[
            "ID",
            "EventID",
            "EventInfo",
            "Type",
            "Category",
            "Value",
            "ToIDs",
            "Tags",
            "LastChanged",
        ],
        rows,
    )
}

/// Maps an event search: one `MISP.Event` object an event, its attributes
/// cut to id, type, category, value and to_ids so a big event does not
/// flood the context.
fn map_event_search(body: &Value, page: Page) -> Result<CommandOutput, ProviderError> {
    let events = body.get("response").and_then(Value::as_array).ok_or_else(|| {
        ProviderError::Upstream(UpstreamFailure {
            status: 200,
            message: "the answer has no `response` list".to_owned(),
        })
    })?;

    let mut output = Output::new().raw(body);
    let mut rows = Vec::new();
    for event in events.iter().filter_map(|item| item.get("Event")) {
        let mut event = event.clone();
        if let Some(attributes) = event.get_mut("Attribute").and_then(Value::as_array_mut) {
            for attribute in attributes.iter_mut() {
                *attribute = json!({
                    "id": attribute["id"], "type": attribute["type"],
                    "category": attribute["category"], "value": attribute["value"],
                    "to_ids": attribute["to_ids"],
                });
            }
        }
        rows.push(json!({
            "ID": event["id"],
            "Info": event["info"],
            "Organization": event.pointer("/Orgc/name"),
            "ThreatLevelID": event["threat_level_id"],
            "Published": event["published"],
            "AttributeCount": event["attribute_count"],
            "CreationDate": event["date"],
            "Tags": tag_names(&event).join(", "),
        }));
        output = output.context(to_context(&event));
    }
    Ok(output
        .table(
            &format!("MISP events: {}", page.describe(rows.len(), "events")),
            &[
                "ID",
                "Info",
                "Organization",
                "ThreatLevelID",
                "Published",
                "AttributeCount",
                "CreationDate",
                "Tags",
            ],
            rows,
        )
        .build())
}

/// Maps a reputation search on `indicator`: the attributes found, and one
/// verdict from their tags and IDS flags. No attribute means MISP knows
/// nothing of it: not found.
fn map_reputation(
    indicator: &Indicator,
    body: &Value,
    rules: &Rules,
    page: Page,
) -> Result<CommandOutput, ProviderError> {
    let attributes = attributes_of(body)?;
    if attributes.is_empty() {
        return Err(ProviderError::NotFound);
    }
    let (verdict, score, reason) = judge(attributes, rules);

    let title = format!("Results found in MISP for value: {}", indicator.value);
    Ok(attribute_output(body, attributes, page, &title)
        .assessment(assess(indicator, verdict, Some(score), &reason))
        .build())
}

/// The verdict, its figure and its reason, from the matched attributes.
///
/// As XSOAR's MISP V3, tags decide first and attribute tags outweigh event
/// tags: a tag from `malicious-tags` on an attribute is malicious, then one
/// from `suspicious-tags`, then one from `benign-tags` (the one way MISP can
/// vouch for an indicator); then the same on the events' tags. Ferret names
/// tags rather than numbering them, since tag ids differ between instances.
///
/// Without a deciding tag XSOAR falls back on the event's threat level,
/// which an attribute search does not return. Ferret reads `to_ids`
/// instead: an analyst marking the attribute for detection is the sharper
/// signal, so any such attribute is malicious, and a match without it is
/// suspicious (MISP holds it as context, not as a detection rule).
fn judge(attributes: &[Value], rules: &Rules) -> (Verdict, u8, String) {
    let levels: [(&[String], Verdict, u8); 3] = [
        (&rules.malicious, Verdict::Malicious, MALICIOUS_SCORE),
        (&rules.suspicious, Verdict::Suspicious, SUSPICIOUS_SCORE),
        (&rules.benign, Verdict::Benign, BENIGN_SCORE),
    ];
    for inherited in [false, true] {
        for (patterns, verdict, score) in levels {
            for attribute in attributes {
                let found =
                    tags(attribute, inherited).into_iter().find(|tag| tag_matches(patterns, tag));
                if let Some(tag) = found {
                    let whose = if inherited { "event" } else { "attribute" };
                    let reason = format!(
                        "{whose} tag `{tag}` on attribute {} in event {}",
                        text(&attribute["id"]),
                        text(&attribute["event_id"])
                    );
                    return (verdict, score, reason);
                }
            }
        }
    }
    match attributes.iter().find(|attribute| attribute["to_ids"].as_bool() == Some(true)) {
        Some(attribute) => (
            Verdict::Malicious,
            MALICIOUS_SCORE,
            format!(
                "attribute {} in event {} is marked for detection (to_ids)",
                text(&attribute["id"]),
                text(&attribute["event_id"])
            ),
        ),
        None => (
            Verdict::Suspicious,
            SUSPICIOUS_SCORE,
            format!("found in {} attributes, none marked for detection", attributes.len()),
        ),
    }
}

/// An attribute's own tags (`inherited` false) or its event's: those MISP
/// copied onto the attribute with `inherited: 1`, and the event's own list.
fn tags(attribute: &Value, inherited: bool) -> Vec<String> {
    let on_attribute = attribute["Tag"].as_array().into_iter().flatten().filter(|tag| {
        let is_event_tag = tag["inherited"].as_u64() == Some(1) || tag["inherited"] == json!(true);
        is_event_tag == inherited
    });
    let on_event = attribute.pointer("/Event/Tag").and_then(Value::as_array).into_iter().flatten();
    let chosen: Vec<&Value> =
        if inherited { on_attribute.chain(on_event).collect() } else { on_attribute.collect() };
    chosen.into_iter().filter_map(|tag| tag["name"].as_str()).map(str::to_owned).collect()
}

fn tag_names(object: &Value) -> Vec<&str> {
    object["Tag"].as_array().into_iter().flatten().filter_map(|tag| tag["name"].as_str()).collect()
}

fn text(value: &Value) -> String {
    value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())
}

/// A MISP object in MISP V3's context form: keys renamed (see
/// [`CONTEXT_KEYS`]), tag lists cut to id and name, epoch timestamps written
/// as `YYYY-MM-DDTHH:MM:SSZ`.
fn to_context(object: &Value) -> Value {
    match object {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let value = match (key.as_str(), value) {
                    ("Tag", Value::Array(tags)) => Value::Array(
                        tags.iter()
                            .map(|tag| json!({"ID": tag["id"], "Name": tag["name"]}))
                            .collect(),
                    ),
                    ("timestamp" | "publish_timestamp", Value::String(epoch)) => {
                        epoch_text(epoch).map_or_else(|| value.clone(), Value::String)
                    }
                    _ => to_context(value),
                };
                let name = CONTEXT_KEYS
                    .iter()
                    .find(|(from, _)| from == key)
                    .map_or(key.as_str(), |(_, to)| to);
                insert(&mut out, name, value);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_context).collect()),
        other => other.clone(),
    }
}

/// Inserts at a possibly dotted name, merging with an object already there
/// (`Orgc` and `orgc_id` both land in `OwnerOrganization`).
fn insert(map: &mut Map<String, Value>, name: &str, value: Value) {
    match name.split_once('.') {
        None => match (map.get_mut(name), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
            (_, value) => {
                map.insert(name.to_owned(), value);
            }
        },
        Some((head, rest)) => {
            let slot = map.entry(head.to_owned()).or_insert_with(|| json!({}));
            if let Value::Object(inner) = slot {
                insert(inner, rest, value);
            }
        }
    }
}

/// Seconds since 1970, as MISP writes them (a string), in XSOAR's
/// `YYYY-MM-DDTHH:MM:SSZ`; `None` for anything else. Civil date from a day
/// count after Howard Hinnant's `civil_from_days`.
fn epoch_text(epoch: &str) -> Option<String> {
    let epoch: i64 = epoch.trim().parse().ok()?;
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
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_provider_sdk::Argument;
    use ferret_provider_sdk::testing::sample;

    fn indicator(kind: IndicatorKind, value: &str) -> Indicator {
        Indicator { kind, value: value.to_owned() }
    }

    fn context(output: &CommandOutput) -> Vec<Value> {
        serde_json::from_str(&output.context).expect("context is a JSON array")
    }

    fn default_rules() -> Rules {
        Rules {
            malicious: tag_list(DEFAULT_MALICIOUS_TAGS),
            suspicious: tag_list(DEFAULT_SUSPICIOUS_TAGS),
            benign: Vec::new(),
        }
    }

    fn page() -> Page {
        Page::new(50, 1).unwrap()
    }

    fn request(arguments: &[(&str, &[&str])]) -> CommandRequest {
        CommandRequest {
            command: SEARCH_ATTRIBUTES.to_owned(),
            arguments: arguments
                .iter()
                .map(|(name, values)| Argument {
                    name: (*name).to_owned(),
                    values: values.iter().map(|value| (*value).to_owned()).collect(),
                })
                .collect(),
            indicator: None,
        }
    }

    #[test]
    fn the_reputation_body_is_bounded_and_typed() {
        let ip = indicator(IndicatorKind::Ipv4, "203.0.113.50");
        let filters = reputation_filters(&ip);
        assert_eq!(attributes_request(&filters, page()).url(), "/attributes/restSearch");
        assert_eq!(
            attributes_body(&filters, page()),
            json!({"returnFormat": "json", "value": "203.0.113.50",
                   "type": ["ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"],
                   "limit": 50, "page": 1, "includeEventTags": true})
        );
        let sha256 = indicator(IndicatorKind::Sha256, &"a".repeat(64));
        assert_eq!(reputation_filters(&sha256).types, ["sha256", "filename|sha256"]);
    }

    #[test]
    fn search_arguments_become_the_body_with_limit_and_page() {
        let request = request(&[
            ("value", &["203.0.113.50"]),
            ("tags", &["tlp:white", "!tlp:red"]),
            ("to_ids", &["true"]),
            ("last", &["5d"]),
            ("limit", &["10"]),
            ("page", &["2"]),
        ]);
        let filters = filters(&request).unwrap();
        let page = Page::from_request(&request).unwrap();
        assert_eq!(events_request(&filters, page).url(), "/events/restSearch");
        assert_eq!(
            events_body(&filters, page),
            json!({"returnFormat": "json", "value": "203.0.113.50",
                   "tags": ["tlp:white", "!tlp:red"], "to_ids": true, "last": "5d",
                   "limit": 10, "page": 2, "metadata": false})
        );
    }

    #[test]
    fn limits_stay_bounded() {
        assert!(matches!(Page::new(1001, 1), Err(ProviderError::InvalidInput(_))));
        assert!(matches!(Page::new(0, 1), Err(ProviderError::InvalidInput(_))));
        assert!(matches!(Page::new(50, 0), Err(ProviderError::InvalidInput(_))));
        // Without arguments: 50 from page 1, never everything.
        assert_eq!(Page::from_request(&request(&[])).unwrap(), Page { limit: 50, page: 1 });
        // A full page says more may be waiting.
        assert_eq!(
            Page { limit: 2, page: 1 }.describe(2, "events"),
            "2 events (page 1, limit 2); more may exist, ask for page 2"
        );
    }

    #[test]
    fn an_attribute_marked_for_ids_is_malicious_with_misp_v3_context() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/misp/attributes_restsearch_hit.json"));
        let ip = indicator(IndicatorKind::Ipv4, "203.0.113.50");
        let output = map_reputation(&ip, &body, &Rules::default(), page()).unwrap();

        let assessment = &output.assessments[0];
        // No deciding tag list: to_ids decides.
        assert_eq!(assessment.verdict, Verdict::Malicious);
        assert_eq!(assessment.score, Some(100));
        assert_eq!(
            assessment.reason,
            "attribute 70942 in event 149 is marked for detection (to_ids)"
        );

        let attribute = &context(&output)[0];
        assert_eq!(attribute["ID"], "70942");
        assert_eq!(attribute["EventID"], "149");
        assert_eq!(attribute["Value"], "203.0.113.50");
        assert_eq!(attribute["Type"], "ip-dst");
        assert_eq!(attribute["ToIDs"], true);
        assert_eq!(attribute["Category"], "Network activity");
        // 1717236000 seconds after 1970.
        assert_eq!(attribute["LastChanged"], "2024-06-01T10:00:00Z");
        assert_eq!(attribute["Event"]["ID"], "149");
        assert_eq!(attribute["Event"]["Info"], "Phishing campaign targeting example.com customers");
        assert_eq!(attribute["Event"]["OwnerOrganization"]["ID"], "8");
        // Tags keep their id and name only.
        assert_eq!(attribute["Tag"][0], json!({"ID": "2", "Name": "tlp:white"}));

        let table = output.readable.as_ref().unwrap();
        assert_eq!(
            table.title,
            "Results found in MISP for value: 203.0.113.50: 1 attributes (page 1, limit 50)"
        );
        assert_eq!(serde_json::from_str::<Value>(&output.raw).unwrap(), body);
    }

    #[test]
    fn tags_outweigh_to_ids_and_attribute_tags_outweigh_event_tags() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/misp/attributes_restsearch_hit.json"));
        let attributes = attributes_of(&body).unwrap();

        // The default list's malpedia prefix catches the Loki galaxy tag.
        let (verdict, _, reason) = judge(attributes, &default_rules());
        assert_eq!(verdict, Verdict::Malicious);
        assert!(reason.starts_with("attribute tag `misp-galaxy:malpedia="), "{reason}");

        // An operator's benign tag vouches even for an IDS attribute.
        let benign = Rules { benign: tag_list("tlp:white"), ..Rules::default() };
        assert_eq!(judge(attributes, &benign).0, Verdict::Benign);

        // An attribute's own suspicious tag beats a malicious event tag.
        let mixed = json!([{"id": "1", "event_id": "2", "to_ids": false,
            "Tag": [{"name": "suspicious"}, {"name": "malicious", "inherited": 1}]}]);
        assert_eq!(judge(mixed.as_array().unwrap(), &default_rules()).0, Verdict::Suspicious);

        // Found, untagged, not for IDS: suspicious.
        let plain = json!([{"id": "1", "event_id": "2", "to_ids": false}]);
        assert_eq!(
            judge(plain.as_array().unwrap(), &default_rules()),
            (Verdict::Suspicious, 50, "found in 1 attributes, none marked for detection".into())
        );
    }

    #[test]
    fn no_attribute_is_not_found() {
        let (response, body) = sample(include_str!(
            "../../../tests/data/samples/misp/attributes_restsearch_empty.json"
        ));
        let ip = indicator(IndicatorKind::Ipv4, "198.51.100.99");
        assert!(matches!(
            map_reputation(&ip, &body, &default_rules(), page()),
            Err(ProviderError::NotFound)
        ));
        // A search command shows the empty page instead.
        let output =
            map_attribute_search(&search_answer(&response).unwrap().unwrap(), page()).unwrap();
        assert!(output.context.is_empty());
        assert_eq!(
            output.readable.unwrap().title,
            "MISP attributes: 0 attributes (page 1, limit 50)"
        );
    }

    #[test]
    fn event_search_sample_gives_misp_v3_events() {
        let (_, body) =
            sample(include_str!("../../../tests/data/samples/misp/events_restsearch_hit.json"));
        let output = map_event_search(&body, Page::new(10, 1).unwrap()).unwrap();

        assert!(output.assessments.is_empty());
        let event = &context(&output)[0];
        assert_eq!(event["ID"], "149");
        assert_eq!(event["Info"], "Phishing campaign targeting example.com customers");
        assert_eq!(event["ThreatLevelID"], "1");
        assert_eq!(event["CreationDate"], "2024-05-30");
        assert_eq!(event["PublishTimestamp"], "2024-06-01T10:01:40Z");
        // `Orgc` and `orgc_id` meet in one OwnerOrganization object.
        assert_eq!(event["OwnerOrganization"]["Name"], "EXAMPLE-CERT");
        assert_eq!(event["OwnerOrganization"]["ID"], "8");
        assert_eq!(event["Organization"]["Name"], "EXAMPLE-ORG");
        assert_eq!(event["Tag"][1], json!({"ID": "124", "Name": "Phishing"}));
        // Attributes are summarised to five fields.
        assert_eq!(
            event["Attribute"][1],
            json!({"ID": "70943", "Type": "domain", "Category": "Network activity",
                   "Value": "login-verify.example.com", "ToIDs": true})
        );
        let rows: Vec<Value> = serde_json::from_str(&output.readable.unwrap().rows).unwrap();
        assert_eq!(rows[0]["Organization"], "EXAMPLE-CERT");
        assert_eq!(rows[0]["Tags"], "tlp:white, Phishing");
    }

    #[test]
    fn authentication_failed_is_unauthorized_with_misps_words() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/misp/error_403_auth_failed.json"));
        match search_answer(&response) {
            Err(ProviderError::Unauthorized(message)) => {
                assert!(message.starts_with("Authentication failed."), "{message}")
            }
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn an_invalid_event_is_the_callers_input_and_no_matches_is_empty() {
        let (response, _) =
            sample(include_str!("../../../tests/data/samples/misp/error_404_invalid_event.json"));
        match upstream_error(&response) {
            ProviderError::InvalidInput(message) => {
                assert_eq!(message, "MISP: Invalid event; check the `eventid` argument")
            }
            other => panic!("expected invalid input, got {other:?}"),
        }
        // Older MISP answers an empty search with 404 No matches.
        let no_matches = Response {
            status: 404,
            headers: Vec::new(),
            body: br#"{"name": "No matches.", "message": "No matches.", "url": "/attributes/restSearch"}"#.to_vec(),
        };
        assert!(matches!(search_answer(&no_matches), Ok(None)));
    }

    #[test]
    fn tag_patterns_match_whole_names_or_prefixes() {
        let patterns = tag_list("Malicious, misp-galaxy:threat-actor=*");
        assert!(tag_matches(&patterns, "malicious"));
        assert!(tag_matches(&patterns, "misp-galaxy:threat-actor=\"APT28\""));
        assert!(!tag_matches(&patterns, "not-malicious"));
        assert!(!tag_matches(&patterns, "misp-galaxy:threat-actor"));
    }

    #[test]
    fn epoch_strings_become_xsoar_dates() {
        assert_eq!(epoch_text("0").as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(epoch_text("951782400").as_deref(), Some("2000-02-29T00:00:00Z"));
        assert_eq!(epoch_text("soon"), None);
    }

    #[test]
    fn manifest_names_misp_v3_commands() {
        let manifest = Misp::manifest();
        assert_eq!(manifest.brand, "MISP V3");
        let names: Vec<_> = manifest
            .commands
            .iter()
            .map(|command| (command.name.as_str(), command.aliases.join(",")))
            .collect();
        assert_eq!(
            names,
            [
                (SEARCH_ATTRIBUTES, "misp-search".to_owned()),
                (SEARCH_EVENTS, String::new()),
                ("misp-ip", "ip".to_owned()),
                ("misp-domain", "domain".to_owned()),
                ("misp-url", "url".to_owned()),
                ("misp-file", "file".to_owned()),
                ("misp-email", "email".to_owned()),
            ]
        );
        assert_eq!(manifest.commands[1].context_path, "MISP.Event");
        assert_eq!(manifest.commands[2].key_field, "ID");
        let limit = manifest.commands[0].arguments.iter().find(|a| a.name == "limit").unwrap();
        assert_eq!(limit.default_value.as_deref(), Some("50"));
        assert!(
            matches!(&manifest.secrets[0].placement, SecretPlacement::Header(name) if name == "Authorization")
        );
    }
}
