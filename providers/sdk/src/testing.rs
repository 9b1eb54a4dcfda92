//! Recorded upstream answers for a provider's unit tests.
//!
//! A sample file holds one exchange with the upstream: the `request` it
//! answers, the `status`, the `headers` and the `body` (JSON, or a JSON
//! string for a text body). `ferret providers test --replay` reads the same
//! format. Enabled by the `testing` feature:
//!
//! ```toml
//! [dev-dependencies]
//! ferret-provider-sdk = { workspace = true, features = ["testing"] }
//! ```

use serde_json::Value;

use crate::Response;

/// A sample file's answer as the [`Response`] a provider's `send` would
/// have returned, and its body as JSON for comparing with the output.
///
/// Header names are lower-cased as the host delivers them; a text body is
/// handed over as the text itself, not as a quoted JSON string. Panics on a
/// file that is not a sample, naming what is missing: this is for tests.
pub fn sample(text: &str) -> (Response, Value) {
    let sample: Value = serde_json::from_str(text).expect("a sample file is JSON");
    let headers = sample["headers"]
        .as_object()
        .expect("a sample has a `headers` object")
        .iter()
        .map(|(name, value)| {
            let value = value.as_str().expect("sample header values are strings");
            (name.to_ascii_lowercase(), value.to_owned())
        })
        .collect();
    let status = sample["status"].as_u64().expect("a sample has a numeric `status`");
    let body = match &sample["body"] {
        Value::String(text) => text.as_bytes().to_vec(),
        other => serde_json::to_vec(other).expect("a JSON value always serialises"),
    };
    let response = Response {
        status: u16::try_from(status).expect("a sample's `status` is an HTTP status"),
        headers,
        body,
    };
    (response, sample["body"].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_sample_becomes_its_response() {
        let text = r#"{"request": {"method": "GET", "path": "/x"}, "status": 404,
                       "headers": {"Content-Type": "application/json", "Retry-After": "5"},
                       "body": {"error": "not here"}}"#;
        let (response, body) = sample(text);
        assert_eq!(response.status, 404);
        // Names lower case, as the host hands them over.
        assert_eq!(
            response.headers,
            [
                ("content-type".to_owned(), "application/json".to_owned()),
                ("retry-after".to_owned(), "5".to_owned())
            ]
        );
        assert_eq!(response.header("Retry-After"), Some("5"));
        assert_eq!(response.text(), r#"{"error":"not here"}"#);
        assert_eq!(body, serde_json::json!({"error": "not here"}));
    }

    #[test]
    fn a_text_body_is_the_text_itself() {
        let text = r#"{"status": 429, "headers": {}, "body": "Too Many Requests"}"#;
        let (response, body) = sample(text);
        assert_eq!(response.text(), "Too Many Requests");
        assert_eq!(body, Value::String("Too Many Requests".to_owned()));
    }
}
