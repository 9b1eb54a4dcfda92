//! The standard reading of upstream failures, so that every provider maps
//! the same status to the same error.

use crate::{ProviderError, Response, UpstreamFailure};

/// Retry time assumed when a `429` carries no usable `Retry-After`.
const DEFAULT_RETRY_SECONDS: u32 = 60;

/// Longest upstream message kept in an error, in characters.
const MESSAGE_LIMIT: usize = 200;

/// Maps a non-2xx answer to the provider error every provider uses:
/// `404` is not-found, `401` and `403` unauthorized, `429` rate limited
/// with the upstream's retry time, anything else an upstream failure with
/// the status and the upstream's own message.
pub fn status_error(response: &Response) -> ProviderError {
    match response.status {
        404 => ProviderError::NotFound,
        401 | 403 => ProviderError::Unauthorized(upstream_message(response)),
        429 => rate_limited_from(response),
        status => {
            ProviderError::Upstream(UpstreamFailure { status, message: upstream_message(response) })
        }
    }
}

/// A rate-limited error carrying the upstream's `Retry-After` in seconds,
/// or a minute when it gives none (or gives an HTTP date, which a sandbox
/// without a clock cannot read).
pub fn rate_limited_from(response: &Response) -> ProviderError {
    let seconds = response
        .header("retry-after")
        .and_then(|value| value.trim().parse::<u32>().ok())
        .unwrap_or(DEFAULT_RETRY_SECONDS);
    ProviderError::RateLimited(seconds)
}

/// The upstream's own words for a failure, on one line.
///
/// JSON error bodies name their message in a handful of common places;
/// an HTML page is described, not quoted, since its markup helps nobody.
fn upstream_message(response: &Response) -> String {
    let text = response.text();
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        return format!("HTTP {} with an HTML page instead of JSON", response.status);
    }
    let found = serde_json::from_str::<serde_json::Value>(trimmed).ok().and_then(|body| {
        [
            "/error/message",
            "/errors/0/detail",
            "/error/0/message",
            "/error",
            "/message",
            "/detail",
            "/query_status",
        ]
        .iter()
        .find_map(|pointer| {
            body.pointer(pointer).and_then(|value| value.as_str()).map(str::to_owned)
        })
    });
    let message = found.unwrap_or_else(|| trimmed.lines().next().unwrap_or("").to_owned());
    let message = if message.is_empty() { format!("HTTP {}", response.status) } else { message };
    message.chars().take(MESSAGE_LIMIT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn retry_after_in_seconds_is_kept() {
        let error = status_error(&response(429, &[("retry-after", "30")], "{}"));
        assert!(matches!(error, ProviderError::RateLimited(30)), "{error:?}");
    }

    #[test]
    fn retry_after_as_a_date_falls_back_to_a_minute() {
        let answer = response(429, &[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")], "");
        assert!(matches!(rate_limited_from(&answer), ProviderError::RateLimited(60)));
    }

    #[test]
    fn json_error_messages_are_quoted() {
        let body = r#"{"error": {"code": "WrongCredentialsError", "message": "Wrong API key"}}"#;
        match status_error(&response(401, &[], body)) {
            ProviderError::Unauthorized(message) => assert_eq!(message, "Wrong API key"),
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn html_error_pages_are_described_not_quoted() {
        let error = status_error(&response(502, &[], "<html><body>Bad gateway</body></html>"));
        match error {
            ProviderError::Upstream(failure) => {
                assert_eq!(failure.status, 502);
                assert_eq!(failure.message, "HTTP 502 with an HTML page instead of JSON");
            }
            other => panic!("expected an upstream failure, got {other:?}"),
        }
    }
}
