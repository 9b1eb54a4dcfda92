//! The `http-client` import: every outbound request a provider makes goes
//! through here and is checked against its grant.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use super::bindings::SecretPlacement;
use super::bindings::ferret::provider::http_client::{self, HttpError, Method, Request, Response};
use super::failure::Violation;
use super::state::CallState;

/// Retries after a `429` or `5xx`, at the most.
const MAX_RETRIES: u32 = 2;

/// Longest wait a retry may take. A longer `Retry-After` goes back to the
/// provider as its answer, so that one rate-limited upstream cannot hold a
/// batch in a sleep.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(2);

/// First back-off when the upstream gives no `Retry-After`.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

impl http_client::Host for CallState {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let started = Instant::now();
        let result = self.send_checked(request).await;
        self.waiting += started.elapsed();
        result
    }
}

impl CallState {
    /// Applies the sandbox rules, then sends with retries. A rule broken is
    /// an `Err` (a trap); a failed exchange is an `Ok(Err(..))` for the
    /// module to handle.
    async fn send_checked(
        &mut self,
        request: Request,
    ) -> wasmtime::Result<Result<Response, HttpError>> {
        self.requests += 1;
        let cap = self.grant.limits.max_requests_per_call;
        if self.requests > cap {
            return Err(wasmtime::Error::new(Violation::RequestCap(cap)));
        }

        // A path is appended to the base URL's own path, so that an upstream
        // served under a prefix (`https://host/misp/`) keeps it.
        let target = match request.url.strip_prefix('/') {
            Some(path) => format!("{}/{path}", self.grant.base_url.as_str().trim_end_matches('/')),
            None => request.url.clone(),
        };
        let url = match Url::parse(&target) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            _ => {
                return Ok(Err(HttpError::InvalidRequest(format!(
                    "`{}` is not a URL",
                    request.url
                ))));
            }
        };
        if let Err(violation) = self.grant.check_url(&url) {
            return Err(wasmtime::Error::new(violation));
        }
        let reserved = request
            .headers
            .iter()
            .find(|(name, _)| self.grant.reserved_headers.contains(&name.to_ascii_lowercase()));
        if let Some((name, _)) = reserved {
            let message = format!("header `{name}` carries credentials and is set by the host");
            return Ok(Err(HttpError::InvalidRequest(message)));
        }

        let mut attempt = 0;
        loop {
            // The scheduler's rate limits and daily quota hold per request.
            if let Err(reason) = crate::schedule::before_request(attempt > 0).await {
                return Ok(Err(HttpError::InvalidRequest(format!("not sent: {reason}"))));
            }
            let sent = Instant::now();
            let answer = self.exchange(&request, &url).await;
            self.upstream += sent.elapsed();
            let response = match answer {
                Ok(response) => response,
                Err(error) => return Ok(Err(error)),
            };
            crate::schedule::after_response(response.status, &response.headers);
            let retryable = response.status == 429 || response.status >= 500;
            let remaining = self.time_left();
            match retry_wait(&response, attempt) {
                Some(wait) if retryable && attempt < MAX_RETRIES && wait < remaining => {
                    tracing::debug!(
                        provider = %self.grant.label,
                        status = response.status,
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return Ok(Ok(response)),
            }
        }
    }

    /// Wall-clock time left in this call.
    fn time_left(&self) -> Duration {
        let budget = Duration::from_secs(self.grant.limits.call_timeout_seconds);
        budget.saturating_sub(self.started.elapsed())
    }

    /// One exchange: credentials added, body read up to the cap.
    pub(super) async fn send_once(
        &self,
        request: &Request,
        url: &Url,
    ) -> Result<Response, HttpError> {
        let grant = &self.grant;
        let mut url = url.clone();
        let mut basic: (Option<&str>, Option<&str>) = (None, None);
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &request.headers {
            let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value))
            else {
                return Err(HttpError::InvalidRequest(format!("header `{name}` is malformed")));
            };
            headers.append(name, value);
        }
        for (placement, secret) in &grant.credentials {
            match placement {
                SecretPlacement::Header(name) => {
                    let name = HeaderName::try_from(name.as_str()).map_err(|_| {
                        HttpError::InvalidRequest(format!(
                            "credential header `{name}` is malformed"
                        ))
                    })?;
                    let mut value = HeaderValue::try_from(secret.expose()).map_err(|_| {
                        HttpError::InvalidRequest(
                            "a configured credential is not valid header text".into(),
                        )
                    })?;
                    value.set_sensitive(true);
                    headers.insert(name, value);
                }
                SecretPlacement::Query(name) => {
                    url.query_pairs_mut().append_pair(name, secret.expose());
                }
                SecretPlacement::BasicUsername => basic.0 = Some(secret.expose()),
                SecretPlacement::BasicPassword => basic.1 = Some(secret.expose()),
            }
        }

        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
            Method::Head => reqwest::Method::HEAD,
            Method::Patch => reqwest::Method::PATCH,
        };
        let mut builder = grant.client.request(method, url).headers(headers);
        if basic.0.is_some() || basic.1.is_some() {
            builder = builder.basic_auth(basic.0.unwrap_or(""), basic.1);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }

        let mut response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
            })
            .collect();
        let cap = grant.limits.max_response_bytes;
        if response.content_length().is_some_and(|length| length > cap) {
            return Err(HttpError::BodyTooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(HttpError::BodyTooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response { status, headers, body })
    }
}

/// How long to wait before retrying `response`, if it says. `Retry-After`
/// in seconds wins; otherwise an exponential back-off. A wait longer than
/// [`MAX_RETRY_WAIT`] means "do not retry here".
fn retry_wait(response: &Response, attempt: u32) -> Option<Duration> {
    let stated = response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, value)| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let wait = stated.unwrap_or(FIRST_BACKOFF * 2u32.pow(attempt));
    (wait <= MAX_RETRY_WAIT).then_some(wait)
}

/// Maps a transport failure for the module. Of the URL only the host is
/// kept in the message: the rest may carry a credential in its query.
fn transport_error(error: reqwest::Error) -> HttpError {
    if error.is_timeout() {
        return HttpError::Timeout;
    }
    let host = error.url().and_then(|url| url.host_str()).map(str::to_owned);
    let error = error.without_url();
    let mut message = match host {
        Some(host) => format!("{host}: {error}"),
        None => error.to_string(),
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    HttpError::Connection(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<&str>) -> Response {
        let headers = retry_after
            .map(|value| vec![("retry-after".to_owned(), value.to_owned())])
            .unwrap_or_default();
        Response { status, headers, body: Vec::new() }
    }

    #[test]
    fn a_short_retry_after_is_honoured() {
        assert_eq!(retry_wait(&answer(429, Some("1")), 0), Some(Duration::from_secs(1)));
    }

    #[test]
    fn a_long_retry_after_is_left_to_the_provider() {
        // Thirty seconds is too long to hold a call: no retry here.
        assert_eq!(retry_wait(&answer(429, Some("30")), 0), None);
    }

    #[test]
    fn without_retry_after_the_backoff_doubles() {
        assert_eq!(retry_wait(&answer(503, None), 0), Some(Duration::from_millis(200)));
        assert_eq!(retry_wait(&answer(503, None), 1), Some(Duration::from_millis(400)));
    }
}
