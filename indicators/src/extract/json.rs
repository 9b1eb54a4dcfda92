//! SIEM alerts as JSON: Splunk notable events, Elastic (ECS) alerts,
//! Microsoft Sentinel incidents and alerts, or anything else.
//!
//! Every string value is scanned, wherever it is, and each find is placed
//! at its path (`source.ip`, `result.src`, `Entities[2].Address`). Fields
//! that the common schemas use for one indicator are first read whole, so
//! `url.full` keeps the exact URL even when it ends in a character the
//! free-text scanner would take for punctuation. Strings that hold JSON
//! themselves (Sentinel's `Entities` and `ExtendedProperties` columns) are
//! walked as JSON under their own path. Input that is a series of JSON
//! values, one per line (an NDJSON export), is read value by value under
//! `[0]`, `[1]`, and so on.

use serde_json::Value;

use crate::batch::{Batch, Format, Location};
use crate::classify::classify;
use crate::extract::{ExtractError, scan_into};
use crate::policy::Tlp;

/// Field names (the last path segment, compared case-insensitively) that
/// hold a single indicator in Splunk's CIM and notable events (`src`,
/// `dest_ip`, `url`, `file_hash`, `sender`), Elastic's ECS (`source.ip`,
/// `destination.domain`, `url.full`, `file.hash.sha256`,
/// `email.from.address`) and Sentinel's entities (`Address`, `Url`,
/// `DomainName`, `FileHashes[].Value`, `Sender`, `P1Sender`).
const INDICATOR_FIELDS: &[&str] = &[
    // Splunk CIM and notables
    "src",
    "src_ip",
    "dest",
    "dest_ip",
    "dst",
    "dst_ip",
    "dvc_ip",
    "orig_src",
    "url",
    "http_referrer",
    "dest_host",
    "src_host",
    "query",
    "file_hash",
    "hash",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "sender",
    "recipient",
    "src_user",
    "return_addr",
    "threat_match_value",
    // ECS leaves (`source.ip`, `url.full`, `file.hash.sha256`, ...)
    "ip",
    "full",
    "original",
    "domain",
    "registered_domain",
    "name",
    "address",
    "reply_to",
    "referrer",
    // Sentinel entities
    "hostname",
    "domainname",
    "value",
    "senderip",
    "p1sender",
    "p2sender",
    "senderfromaddress",
    "recipientemailaddress",
];

/// Field names that carry a TLP label (`tlp`, `TLP`, `tlp_level`, ECS's
/// `threat.indicator.marking.tlp`).
const TLP_FIELDS: &[&str] = &["tlp", "tlp_level", "tlplevel", "tlp_marking", "marking"];

/// Extract the indicators of a JSON alert (or of JSON lines).
pub fn extract_json(input: &[u8]) -> Result<Batch, ExtractError> {
    let mut batch = Batch::new(Format::Json);
    match serde_json::from_slice::<Value>(input) {
        Ok(value) => walk(&value, &mut String::new(), &mut batch, 0),
        Err(whole) => {
            let mut values = serde_json::Deserializer::from_slice(input).into_iter::<Value>();
            let first = values.next().ok_or(whole)??;
            let mut path = String::from("[0]");
            walk(&first, &mut path, &mut batch, 0);
            for (index, value) in values.enumerate() {
                let mut path = format!("[{}]", index + 1);
                walk(&value?, &mut path, &mut batch, 0);
            }
        }
    }
    Ok(batch)
}

/// JSON nested in strings nested in JSON goes this deep, no deeper.
const MAX_EMBEDDED: u8 = 4;

fn walk(value: &Value, path: &mut String, batch: &mut Batch, embedded: u8) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if let (Value::String(label), true) = (child, is_tlp_field(key))
                    && let Ok(tlp) = label.parse::<Tlp>()
                {
                    batch.note_tlp(tlp);
                }
                walk(child, path, batch, embedded);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let len = path.len();
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
                walk(child, path, batch, embedded);
                path.truncate(len);
            }
        }
        Value::String(text) => read_string(text, path, batch, embedded),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn read_string(text: &str, path: &mut String, batch: &mut Batch, embedded: u8) {
    let trimmed = text.trim();
    if trimmed.starts_with(['{', '['])
        && embedded < MAX_EMBEDDED
        && let Ok(inner) = serde_json::from_str::<Value>(trimmed)
    {
        walk(&inner, path, batch, embedded + 1);
        return;
    }

    if is_indicator_field(path)
        && let Ok(indicator) = classify(text)
    {
        batch.add(indicator, Location::Field(path.clone()), text);
        return;
    }
    let location = Location::Field(path.clone());
    scan_into(batch, text, &mut |_| location.clone());
}

/// The last segment of a path, without any array index.
fn leaf(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

fn is_indicator_field(path: &str) -> bool {
    let leaf = leaf(path);
    INDICATOR_FIELDS.iter().any(|name| name.eq_ignore_ascii_case(leaf))
}

fn is_tlp_field(key: &str) -> bool {
    let leaf = leaf(key);
    TLP_FIELDS.iter().any(|name| name.eq_ignore_ascii_case(leaf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(input: &str) -> Vec<(String, String)> {
        let batch = extract_json(input.as_bytes()).expect("valid json");
        batch
            .entries()
            .iter()
            .flat_map(|entry| {
                entry
                    .occurrences
                    .iter()
                    .map(|o| (entry.indicator.value.clone(), o.location.to_string()))
            })
            .collect()
    }

    #[test]
    fn paths_name_nested_fields_and_array_items() {
        let found =
            places(r#"{"source": {"ip": "8.8.8.8"}, "hits": [{"url": "https://example.com/a."}]}"#);
        assert_eq!(
            found,
            [
                ("8.8.8.8".to_owned(), "source.ip".to_owned()),
                // A field that holds a URL keeps it whole, final dot and all.
                ("https://example.com/a.".to_owned(), "hits[0].url".to_owned()),
            ]
        );
    }

    #[test]
    fn json_inside_a_string_is_walked() {
        let found = places(r#"{"Entities": "[{\"Address\": \"1.1.1.1\"}]"}"#);
        assert_eq!(found, [("1.1.1.1".to_owned(), "Entities[0].Address".to_owned())]);
    }

    #[test]
    fn json_lines_are_read_one_by_one() {
        let found = places("{\"src\": \"8.8.8.8\"}\n{\"src\": \"1.1.1.1\"}\n");
        assert_eq!(
            found,
            [
                ("8.8.8.8".to_owned(), "[0].src".to_owned()),
                ("1.1.1.1".to_owned(), "[1].src".to_owned())
            ]
        );
    }

    #[test]
    fn tlp_fields_and_tags_are_noted() {
        let batch = extract_json(br#"{"tlp": "amber", "tags": ["TLP:RED"]}"#).expect("json");
        assert_eq!(batch.tlp(), Some(Tlp::Red));
    }
}
