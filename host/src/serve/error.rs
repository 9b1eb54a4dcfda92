//! The service's errors: one JSON shape, `{"error": {"kind", "message"}}`,
//! for refused commands and for every failure around them.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Json};
use serde_json::{Value, json};

use super::Settings;
use crate::command::{BindError, RequestError};
use crate::dispatch::CommandError;

/// An error answer: its status, a stable kind a client can branch on, and
/// a message for a person. Messages never repeat a header or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short kebab-case name, e.g. `unknown-command`.
    pub kind: &'static str,
    /// What was wrong.
    pub message: String,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, message: message.into() }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": {"kind": self.kind, "message": self.message}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl From<RequestError> for ApiError {
    fn from(error: RequestError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-request", error.to_string())
    }
}

/// The kind of each refusal, so a client need not read the message.
impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        let kind = match &error {
            CommandError::UnknownCommand { .. } => "unknown-command",
            CommandError::UnknownArguments { .. } => "unknown-argument",
            CommandError::Bind(BindError::Missing { .. }) => "missing-argument",
            CommandError::Bind(_) | CommandError::Tlp(_) => "invalid-argument",
            CommandError::Classify { .. } => "invalid-indicator",
            CommandError::WrongKind { .. } => "wrong-indicator-kind",
        };
        Self::new(StatusCode::BAD_REQUEST, kind, error.to_string())
    }
}

/// A body that is not JSON, read outside the HTTP service (`ferret exec`).
pub fn malformed_json(error: &serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed-json",
        format!("the request is not valid JSON: {error}"),
    )
}

/// axum's own refusals of a JSON body, in the service's shape. A syntax
/// error's text names a line and column, never the content.
pub fn json_rejection(rejection: JsonRejection, settings: &Settings) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
        JsonRejection::JsonSyntaxError(_) | JsonRejection::JsonDataError(_) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed-json", rejection.body_text())
        }
        other => {
            let status = other.status();
            let (kind, message) = standard(status, Some(settings));
            ApiError::new(status, kind, message)
        }
    }
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "the body must be JSON, sent with `Content-Type: application/json`",
    )
}

/// Answers a path no endpoint serves.
pub async fn no_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "no endpoint at this path; the service answers under /v1/ and at /metrics",
    )
}

/// Turns every error response that is not already JSON (from axum's
/// routing, the body limit, the timeout, a caught panic) into the
/// service's JSON shape.
pub async fn errors_as_json<B>(State(settings): State<Settings>, response: Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let response = response.map(Body::new);
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (kind, message) = standard(status, Some(&settings));
    let mut replaced = ApiError::new(status, kind, message).into_response();
    // Headers a client acts on, such as `Allow` and `WWW-Authenticate`,
    // stay.
    for (name, value) in response.headers() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    replaced.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    replaced
}

/// The kind and message of a bare status.
fn standard(status: StatusCode, settings: Option<&Settings>) -> (&'static str, String) {
    match status {
        StatusCode::NOT_FOUND => (
            "not-found",
            "no endpoint at this path; the service answers under /v1/ and at /metrics".to_owned(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method-not-allowed", "this endpoint does not take that method".to_owned())
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too-large",
            match settings {
                Some(settings) => format!(
                    "the request body is larger than the service's limit of {} bytes",
                    settings.max_body_bytes
                ),
                None => "the request body is larger than the service's limit".to_owned(),
            },
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported-media-type", unsupported_media_type().message)
        }
        StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            match settings {
                Some(settings) => format!(
                    "the request took longer than the service's limit of {} s",
                    settings.request_timeout.as_secs()
                ),
                None => "the request took longer than the service's limit".to_owned(),
            },
        ),
        status if status.is_server_error() => {
            ("internal", "the service failed to answer; its log says why".to_owned())
        }
        status => (
            "bad-request",
            format!(
                "the request was refused ({})",
                status.canonical_reason().unwrap_or("client error").to_ascii_lowercase()
            ),
        ),
    }
}
