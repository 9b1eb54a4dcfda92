//! Requests to the provider's upstream, sent through the host.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ProviderError;
use crate::bindings::ferret::provider::http_client::{self, HttpError, Method};
use crate::errors::status_error;

/// A request being built. Credentials are never set here: the host adds
/// them where the manifest says.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Request {
    fn new(method: Method, url: &str) -> Self {
        Self { method, url: url.to_owned(), query: Vec::new(), headers: Vec::new(), body: None }
    }

    /// A `GET` of a path under the base URL (`/api/v2/check`) or of an
    /// absolute URL to a declared host.
    pub fn get(url: &str) -> Self {
        Self::new(Method::Get, url)
    }

    /// A `POST`, as [`Request::get`].
    pub fn post(url: &str) -> Self {
        Self::new(Method::Post, url)
    }

    /// Adds a query parameter; both halves are percent-encoded here.
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends `value` as a JSON body.
    pub fn json(self, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).expect("a JSON value always serialises");
        let mut request = self.header("Content-Type", "application/json");
        request.body = Some(body);
        request
    }

    /// Sends `pairs` as an `application/x-www-form-urlencoded` body.
    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let mut request = self.header("Content-Type", "application/x-www-form-urlencoded");
        request.body = Some(body.into_bytes());
        request
    }

    /// The URL the host will be asked for, query included.
    pub fn url(&self) -> String {
        if self.query.is_empty() {
            return self.url.clone();
        }
        let query =
            form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.query).finish();
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{separator}{query}", self.url)
    }

    /// Sends the request through the host and waits for the answer.
    ///
    /// Any status comes back as a [`Response`]; only a failure to get an
    /// answer at all (timeout, connection, oversized body) is an error,
    /// reported as an upstream failure with status 0.
    pub fn send(self) -> Result<Response, ProviderError> {
        let request = http_client::Request {
            url: self.url(),
            method: self.method,
            headers: self.headers,
            body: self.body,
        };
        http_client::send(&request).map(Response::from).map_err(transport_error)
    }
}

/// One mapping from the host's transport errors to the provider error.
fn transport_error(error: HttpError) -> ProviderError {
    let message = match error {
        HttpError::Timeout => "the upstream did not answer in time".to_owned(),
        HttpError::Connection(why) => format!("could not reach the upstream: {why}"),
        HttpError::BodyTooLarge(cap) => format!("the answer is larger than the {cap}-byte cap"),
        HttpError::InvalidRequest(why) => format!("the request was refused: {why}"),
    };
    ProviderError::Upstream(crate::UpstreamFailure { status: 0, message })
}

/// An answer from the upstream.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header names, lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl From<http_client::Response> for Response {
    fn from(response: http_client::Response) -> Self {
        Self { status: response.status, headers: response.headers, body: response.body }
    }
}

impl Response {
    /// The first value of a header, matched without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Parses the body as JSON. A body that is not the expected JSON (an
    /// HTML error page, a cut answer) is an upstream failure naming the
    /// status, never a panic.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ProviderError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            ProviderError::Upstream(crate::UpstreamFailure {
                status: self.status,
                message: format!("the answer is not the expected JSON: {error}"),
            })
        })
    }

    /// The body as JSON when the status is 2xx; otherwise the standard
    /// error for the status (see [`status_error`]).
    pub fn success_json<T: DeserializeOwned>(&self) -> Result<T, ProviderError> {
        if self.is_success() { self.json() } else { Err(status_error(self)) }
    }

    /// `Ok` for a 2xx status, else the standard error for the status.
    pub fn expect_success(&self) -> Result<(), ProviderError> {
        if self.is_success() { Ok(()) } else { Err(status_error(self)) }
    }

    /// The body as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
