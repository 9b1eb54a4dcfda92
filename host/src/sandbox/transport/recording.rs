//! One recorded exchange as a JSON file, in the shape of
//! `tests/data/samples/<provider>/*.json`: the `request` (method, base URL,
//! path, query, the headers the upstream requires, the body), then the
//! `status`, `headers` and `body` of the answer, and optionally the
//! `command` line that made it.
//!
//! Here are reading and writing such files, comparing a module's request
//! with one, and taking credentials out of an exchange before it is kept.

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

/// One exchange on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// The XSOAR command line that made this request, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// What was asked.
    pub request: RecordedRequest,
    /// HTTP status of the answer.
    pub status: u16,
    /// Answer headers, name to value.
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// Answer body: JSON as JSON, any other text as a string, absent when
    /// empty.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub body: Value,
}

/// The request half of a recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Scheme, host and any base path the path is relative to. Not
    /// compared: a recording made against a test server replays against
    /// the provider's real base URL.
    pub base_url: String,
    /// Path under `base_url`, percent-encoded as sent.
    pub path: String,
    /// Query parameters, decoded; a list for a repeated name.
    #[serde(default)]
    pub query: Map<String, Value>,
    /// Headers the upstream requires, as `Name: value`, or just the name
    /// for one that carries a credential.
    #[serde(default)]
    pub headers_required: Vec<String>,
    /// Request body: JSON as JSON, form fields as an object, other text as
    /// a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The request's `Content-Type`, when it has a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// A recording and the name of its file.
#[derive(Debug, Clone)]
pub struct NamedRecording {
    /// File name, e.g. `ip_clean.json`.
    pub name: String,
    /// The exchange.
    pub recording: Recording,
}

/// Reads every `*.json` file in `dir`, in name order.
pub fn load_dir(dir: &Path) -> Result<Vec<NamedRecording>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("failed to list recordings folder {}", dir.display()))?;
    let mut files: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("recordings folder {} holds no recordings (*.json files)", dir.display());
    }
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("failed to read recording {}", file.display()))?;
            let recording: Recording = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a recorded exchange", file.display()))?;
            let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
            Ok(NamedRecording { name, recording })
        })
        .collect()
}

impl Recording {
    /// The answer's headers as a module receives them: names in lower case.
    pub fn response_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value_text(value)))
            .collect()
    }

    /// The answer's body bytes.
    pub fn response_body(&self) -> Vec<u8> {
        match &self.body {
            Value::Null => Vec::new(),
            Value::String(text) => text.as_bytes().to_vec(),
            other => serde_json::to_vec(other).expect("JSON values serialise"),
        }
    }
}

/// A request as the module made it, in the terms a recording is compared
/// in.
#[derive(Debug, Clone)]
pub struct Asked {
    /// Upper-case method.
    pub method: String,
    /// Path relative to the base URL (see [`split_base`]).
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl Asked {
    /// `GET /path?query`, as a person reads it.
    pub fn line(&self) -> String {
        if self.query.is_empty() {
            return format!("{} {}", self.method, self.path);
        }
        let query =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.query).finish();
        format!("{} {}?{query}", self.method, self.path)
    }
}

/// Splits `url` into the base URL it is under and the path below it: the
/// provider's base URL when `url` lies under it, else the URL's own origin.
pub fn split_base(url: &Url, base: &Url) -> (String, String) {
    let base_path = base.path().trim_end_matches('/');
    if url.origin() == base.origin()
        && let Some(rest) = url.path().strip_prefix(base_path)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        let base_text = format!("{}{base_path}", base.origin().ascii_serialization());
        let path = if rest.is_empty() { "/".to_owned() } else { rest.to_owned() };
        return (base_text, path);
    }
    (url.origin().ascii_serialization(), url.path().to_owned())
}

/// One way a recording differs from what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Another method.
    Method { asked: String, recorded: String },
    /// Another path.
    Path { asked: String, recorded: String },
    /// A query parameter with another value, or present on one side only.
    Query { name: String, asked: Option<String>, recorded: Option<String> },
    /// Another body; the text names the fields that differ, when both
    /// sides are JSON objects or forms.
    Body(String),
}

impl Difference {
    /// How far apart this makes a recording: a method or path counts more
    /// than the query, and a parameter with another value more than one
    /// present on one side only, which is most often an optional flag.
    fn weight(&self) -> u32 {
        match self {
            Self::Method { .. } | Self::Path { .. } => 4,
            Self::Body(_) | Self::Query { asked: Some(_), recorded: Some(_), .. } => 2,
            Self::Query { .. } => 1,
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Method { asked, recorded } => {
                write!(f, "method ({asked} asked, {recorded} recorded)")
            }
            Self::Path { asked, recorded } => {
                write!(f, "path ({asked} asked, {recorded} recorded)")
            }
            Self::Query { name, asked, recorded } => {
                let side = |value: &Option<String>| match value {
                    Some(value) => format!("`{value}`"),
                    None => "absent".to_owned(),
                };
                write!(f, "query `{name}` ({} asked, {} recorded)", side(asked), side(recorded))
            }
            Self::Body(detail) if detail.is_empty() => f.write_str("request body"),
            Self::Body(detail) => write!(f, "request body {detail}"),
        }
    }
}

/// How `recording` differs from `asked`, leaving out the query parameters
/// in `ignored` (the ones that carry credentials). Method, path and query
/// are compared always; the body only when the recording has one.
pub fn differences(recording: &Recording, asked: &Asked, ignored: &[String]) -> Vec<Difference> {
    let request = &recording.request;
    let mut found = Vec::new();
    if !request.method.eq_ignore_ascii_case(&asked.method) {
        found.push(Difference::Method {
            asked: asked.method.clone(),
            recorded: request.method.to_ascii_uppercase(),
        });
    }
    if request.path != asked.path {
        found.push(Difference::Path { asked: asked.path.clone(), recorded: request.path.clone() });
    }

    let keep = |(name, _): &(String, String)| !ignored.contains(name);
    let mut recorded: Vec<(String, String)> = query_pairs(&request.query);
    recorded.retain(keep);
    let mut asked_query = asked.query.clone();
    asked_query.retain(keep);
    let mut names: Vec<&String> =
        asked_query.iter().chain(recorded.iter()).map(|(name, _)| name).collect();
    names.sort();
    names.dedup();
    for name in names {
        let values = |pairs: &[(String, String)]| -> Vec<String> {
            pairs.iter().filter(|(key, _)| key == name).map(|(_, value)| value.clone()).collect()
        };
        let (here, there) = (values(&asked_query), values(&recorded));
        if here != there {
            found.push(Difference::Query {
                name: name.clone(),
                asked: (!here.is_empty()).then(|| here.join(",")),
                recorded: (!there.is_empty()).then(|| there.join(",")),
            });
        }
    }

    if let Some(body) = &request.body {
        found.extend(body_difference(body, request.content_type.as_deref(), asked.body.as_deref()));
    }
    found
}

/// The total weight of `differences`; zero means a match.
pub fn distance(differences: &[Difference]) -> u32 {
    differences.iter().map(Difference::weight).sum()
}

/// How a recorded body differs from the body sent, if it does: compared
/// as JSON when the recording holds JSON, as form fields when it is a form,
/// as text when the recording holds text.
fn body_difference(
    recorded: &Value,
    content_type: Option<&str>,
    sent: Option<&[u8]>,
) -> Option<Difference> {
    let sent = sent.unwrap_or_default();
    let is_form = content_type.is_some_and(|kind| kind.contains("x-www-form-urlencoded"));
    let sent_value = match recorded {
        Value::String(text) => {
            return (text.as_bytes() != sent).then(|| Difference::Body(String::new()));
        }
        Value::Object(_) if is_form => Value::Object(
            url::form_urlencoded::parse(sent)
                .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
                .collect(),
        ),
        _ => match serde_json::from_slice::<Value>(sent) {
            Ok(value) => value,
            Err(_) => return Some(Difference::Body("(not JSON)".to_owned())),
        },
    };
    let same = |left: &Value, right: &Value| {
        if is_form { value_text(left) == value_text(right) } else { left == right }
    };
    let (Value::Object(asked), Value::Object(fields)) = (&sent_value, recorded) else {
        return (!same(&sent_value, recorded)).then(|| Difference::Body(String::new()));
    };
    let mut names: Vec<&String> = asked.keys().chain(fields.keys()).collect();
    names.sort();
    names.dedup();
    let side = |value: Option<&Value>| value.map_or("absent".to_owned(), |v| format!("`{v}`"));
    let differing: Vec<String> = names
        .into_iter()
        .filter(|name| match (asked.get(*name), fields.get(*name)) {
            (Some(left), Some(right)) => !same(left, right),
            _ => true,
        })
        .map(|name| {
            format!(
                "`{name}` ({} asked, {} recorded)",
                side(asked.get(name)),
                side(fields.get(name))
            )
        })
        .collect();
    (!differing.is_empty()).then(|| Difference::Body(format!("field {}", differing.join(", "))))
}

/// A recording's query object as pairs; a list value gives one pair per
/// item.
fn query_pairs(query: &Map<String, Value>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (name, value) in query {
        match value {
            Value::Array(items) => {
                pairs.extend(items.iter().map(|item| (name.clone(), value_text(item))))
            }
            other => pairs.push((name.clone(), value_text(other))),
        }
    }
    pairs
}

/// A JSON value as the text a header or a query holds.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Replaces every secret in `text` with `<redacted>`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    for secret in secrets {
        if !secret.is_empty() && text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), "<redacted>");
        }
    }
    text
}

/// A body as a recording holds it: a JSON object or array as JSON, form
/// fields as an object when `form`, anything else as text, with secrets
/// taken out first. Bytes that are not UTF-8 are kept lossily, so such a
/// body does not replay byte for byte; the providers' APIs all answer in
/// text.
pub fn body_value(bytes: &[u8], form: bool, secrets: &[String]) -> Value {
    let text = scrub(&String::from_utf8_lossy(bytes), secrets);
    if form {
        let fields: Map<String, Value> = url::form_urlencoded::parse(text.as_bytes())
            .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
            .collect();
        return Value::Object(fields);
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => value,
        _ => Value::String(text),
    }
}

/// The query of `url` as a recording holds it, secrets taken out.
pub fn query_object(url: &Url, secrets: &[String]) -> Map<String, Value> {
    let mut query = Map::new();
    for (name, value) in url.query_pairs() {
        let value = Value::String(scrub(&value, secrets));
        match query.get_mut(name.as_ref()) {
            Some(Value::Array(items)) => items.push(value),
            Some(first) => *first = Value::Array(vec![first.clone(), value]),
            None => {
                query.insert(name.into_owned(), value);
            }
        }
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(path: &str, query: Value, body: Option<Value>) -> Recording {
        serde_json::from_value(serde_json::json!({
            "request": {
                "method": "GET", "base_url": "https://api.example.com", "path": path,
                "query": query, "headers_required": ["Key"], "body": body,
            },
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": {"ok": true},
        }))
        .unwrap()
    }

    fn asked(path: &str, query: &[(&str, &str)]) -> Asked {
        Asked {
            method: "GET".into(),
            path: path.into(),
            query: query.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: None,
        }
    }

    #[test]
    fn the_same_request_matches_whatever_the_query_order() {
        let recorded =
            recording("/check", serde_json::json!({"days": "90", "ip": "8.8.8.8"}), None);
        let found =
            differences(&recorded, &asked("/check", &[("ip", "8.8.8.8"), ("days", "90")]), &[]);
        assert_eq!(found, []);
    }

    #[test]
    fn a_credential_parameter_is_not_compared() {
        let recorded = recording("/host/8.8.8.8", serde_json::json!({"key": "<API_KEY>"}), None);
        let ignored = ["key".to_owned()];
        assert_eq!(differences(&recorded, &asked("/host/8.8.8.8", &[]), &ignored), []);
    }

    #[test]
    fn each_difference_is_named() {
        let recorded = recording("/check", serde_json::json!({"days": "90"}), None);
        let found = differences(&recorded, &asked("/check", &[("days", "30"), ("v", "")]), &[]);
        let text: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["query `days` (`30` asked, `90` recorded)", "query `v` (`` asked, absent recorded)"]
        );
        assert_eq!(distance(&found), 3);
    }

    #[test]
    fn a_form_body_matches_its_fields() {
        let mut recorded = recording("/api/v1/", serde_json::json!({}), None);
        recorded.request.body = Some(serde_json::json!({"query": "get_info", "hash": "ab"}));
        recorded.request.content_type = Some("application/x-www-form-urlencoded".into());
        let mut request = asked("/api/v1/", &[]);
        request.body = Some(b"hash=ab&query=get_info".to_vec());
        assert_eq!(differences(&recorded, &request, &[]), []);
        request.body = Some(b"hash=cd&query=get_info".to_vec());
        let found = differences(&recorded, &request, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "request body field `hash` (`\"cd\"` asked, `\"ab\"` recorded)"
        );
    }

    #[test]
    fn a_path_under_a_base_path_is_relative_to_it() {
        let base = Url::parse("https://host.example/misp/").unwrap();
        let url = Url::parse("https://host.example/misp/events/restSearch").unwrap();
        assert_eq!(
            split_base(&url, &base),
            ("https://host.example/misp".to_owned(), "/events/restSearch".to_owned())
        );
        let elsewhere = Url::parse("https://other.example/x").unwrap();
        assert_eq!(
            split_base(&elsewhere, &base),
            ("https://other.example".to_owned(), "/x".to_owned())
        );
    }

    #[test]
    fn secrets_leave_bodies_before_they_are_parsed() {
        let secrets = ["k3y".to_owned()];
        let body = body_value(br#"{"self":"https://x/?key=k3y"}"#, false, &secrets);
        assert_eq!(body, serde_json::json!({"self": "https://x/?key=<redacted>"}));
        // A JSON string stays text, so it replays byte for byte.
        assert_eq!(body_value(b"\"ok\"", false, &[]), Value::String("\"ok\"".into()));
    }
}
