//! XSOAR entries: one per result, with the standard context keys and
//! merge selectors XSOAR's own integrations write.

use serde_json::{Map, Value, json};

use super::{error_message, markdown};
use crate::dispatch::{CallResult, Outcome};
use crate::sandbox::{Assessment, CommandOutput, Indicator, IndicatorKind};
use crate::scoring::{dbot_score, score_word};

/// The DBotScore context key.
pub const DBOT_KEY: &str = "DBotScore(val.Indicator && val.Indicator == obj.Indicator && \
                            val.Vendor == obj.Vendor && val.Type == obj.Type)";

const FILE_KEY: &str = "File(val.MD5 && val.MD5 == obj.MD5 || val.SHA1 && val.SHA1 == obj.SHA1 || \
                        val.SHA256 && val.SHA256 == obj.SHA256 || val.SHA512 && val.SHA512 == obj.SHA512)";

/// Entry types.
const NOTE: u8 = 1;
const ERROR: u8 = 4;

/// The entries for a command's results, in order.
pub fn entries(results: &[CallResult]) -> Vec<Value> {
    results.iter().map(entry).collect()
}

/// An error entry.
pub fn error_entry(message: &str) -> Value {
    json!({"Type": ERROR, "ContentsFormat": "text", "Contents": message})
}

/// The entry of one result.
pub fn entry(result: &CallResult) -> Value {
    if let Some(message) = error_message(result) {
        return error_entry(&message);
    }
    match &result.outcome {
        Outcome::Answered(_) if result.command == "test-module" => {
            json!({"Type": NOTE, "ContentsFormat": "text", "Contents": "ok"})
        }
        Outcome::Answered(output) => answered(result, output),
        Outcome::NotFound => unscored(result, "No results found"),
        Outcome::NotSent(reason) => unscored(result, reason),
        _ => unreachable!("error outcomes are rendered above"),
    }
}

fn answered(result: &CallResult, output: &CommandOutput) -> Value {
    let contents: Value = serde_json::from_str(&output.raw).unwrap_or(Value::Null);
    let mut context = Map::new();

    let (path, key_field) = &result.context;
    if !path.is_empty() && !output.context.is_empty() {
        let objects: Value = serde_json::from_str(&output.context).unwrap_or(Value::Null);
        context.insert(selector(path, key_field), objects);
    }

    let mut timeline = Vec::new();
    for assessment in &output.assessments {
        let score = dbot_score(assessment.verdict);
        push(&mut context, DBOT_KEY, dbot(result, &assessment.indicator, score, None));
        if let Some((key, object)) = standard_object(result, assessment, score) {
            push(&mut context, &key, object);
        }
        timeline.push(json!({
            "Value": assessment.indicator.value,
            "Message": format!("{} marked the indicator as {}", result.brand, score_word(score)),
            "Category": "Integration Update",
        }));
    }

    let readable = match &output.readable {
        Some(table) => {
            let rows: Vec<Value> = serde_json::from_str(&table.rows).unwrap_or_default();
            markdown::table(&table.title, &table.headers, &rows)
        }
        None => fallback_table(result, &context),
    };

    let mut entry = json!({
        "Type": NOTE,
        "ContentsFormat": "json",
        "Contents": null,
        "ReadableContentsFormat": "markdown",
        "HumanReadable": null,
        "EntryContext": null,
    });
    fill(&mut entry, contents, readable, context);
    if !timeline.is_empty() {
        entry["IndicatorTimeline"] = Value::Array(timeline);
    }
    entry
}

/// Moves the large parts of an entry into the places `json!` left for
/// them. `json!` copies whatever it is given by serializing it again, which
/// for a parsed upstream answer cost as much as parsing it had.
fn fill(entry: &mut Value, contents: Value, readable: String, context: Map<String, Value>) {
    entry["Contents"] = contents;
    entry["HumanReadable"] = Value::String(readable);
    entry["EntryContext"] = Value::Object(context);
}

/// A note for an indicator that got no score: not found, or not sent.
fn unscored(result: &CallResult, message: &str) -> Value {
    let Some(indicator) = &result.indicator else {
        return json!({"Type": NOTE, "ContentsFormat": "text", "Contents": message});
    };
    let mut context = Map::new();
    push(&mut context, DBOT_KEY, dbot(result, indicator, 0, Some(message)));
    let readable = format!(
        "### {} - {}\n{message} for `{}`.\n",
        result.brand, result.command, indicator.value
    );
    let mut entry = json!({
        "Type": NOTE,
        "ContentsFormat": "text",
        "Contents": null,
        "ReadableContentsFormat": "markdown",
        "HumanReadable": null,
        "EntryContext": null,
    });
    fill(&mut entry, Value::String(message.to_owned()), readable, context);
    entry
}

fn dbot(result: &CallResult, indicator: &Indicator, score: u8, message: Option<&str>) -> Value {
    let mut object = json!({
        "Indicator": indicator.value,
        "Type": dbot_type(indicator.kind),
        "Vendor": result.brand,
        "Score": score,
        "Reliability": result.reliability,
    });
    if let Some(message) = message {
        object["Message"] = json!(message);
    }
    object
}

/// The standard indicator object (`IP`, `Domain`, `URL`, `File`, `Email`)
/// with the provider's extra fields and `Malicious` for a bad score.
fn standard_object(
    result: &CallResult,
    assessment: &Assessment,
    score: u8,
) -> Option<(String, Value)> {
    let indicator = &assessment.indicator;
    let (key, field) = match indicator.kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => (selector("IP", "Address"), "Address"),
        IndicatorKind::Domain => (selector("Domain", "Name"), "Name"),
        IndicatorKind::Url => (selector("URL", "Data"), "Data"),
        IndicatorKind::Email => (selector("Email", "Address"), "Address"),
        IndicatorKind::Md5 => (FILE_KEY.to_owned(), "MD5"),
        IndicatorKind::Sha1 => (FILE_KEY.to_owned(), "SHA1"),
        IndicatorKind::Sha256 => (FILE_KEY.to_owned(), "SHA256"),
        IndicatorKind::Sha512 => (FILE_KEY.to_owned(), "SHA512"),
        IndicatorKind::Cidr => return None,
    };
    let mut object = Map::new();
    object.insert(field.to_owned(), json!(indicator.value));
    if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(&assessment.standard_context) {
        for (name, value) in extra {
            object.entry(name).or_insert(value);
        }
    }
    if score == 3 {
        object.insert(
            "Malicious".to_owned(),
            json!({"Vendor": result.brand, "Description": assessment.reason}),
        );
    }
    Some((key, Value::Object(object)))
}

/// `Path(val.Key && val.Key == obj.Key)`, or the bare path without a key.
fn selector(path: &str, key: &str) -> String {
    if key.is_empty() {
        path.to_owned()
    } else {
        format!("{path}(val.{key} && val.{key} == obj.{key})")
    }
}

fn push(context: &mut Map<String, Value>, key: &str, value: Value) {
    match context.entry(key.to_owned()).or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(items) => items.push(value),
        other => *other = Value::Array(vec![other.take(), value]),
    }
}

/// DBotScore `Type` of a kind.
pub fn dbot_type(kind: IndicatorKind) -> &'static str {
    match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => "ip",
        IndicatorKind::Cidr => "cidr",
        IndicatorKind::Domain => "domain",
        IndicatorKind::Url => "url",
        IndicatorKind::Email => "email",
        IndicatorKind::Md5
        | IndicatorKind::Sha1
        | IndicatorKind::Sha256
        | IndicatorKind::Sha512 => "file",
    }
}

/// Without a table from the provider: its vendor context, one row per
/// object, one column per top-level field.
fn fallback_table(result: &CallResult, context: &Map<String, Value>) -> String {
    let (path, key_field) = &result.context;
    let rows: Vec<Value> = context
        .get(&selector(path, key_field))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut headers: Vec<String> = Vec::new();
    for row in &rows {
        for name in row.as_object().into_iter().flat_map(|object| object.keys()) {
            if !headers.contains(name) {
                headers.push(name.clone());
            }
        }
    }
    markdown::table(&format!("{} - {}", result.brand, result.command), &headers, &rows)
}
