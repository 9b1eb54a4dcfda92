//! The bearer token: `Authorization: Bearer <token>`, compared in
//! constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::{ApiError, Service};

/// Lets a request through when it carries the service's token, or when
/// the service has none. The answer to a wrong token says nothing of what
/// was sent.
pub async fn require_token(
    State(service): State<Arc<Service>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &service.settings.token else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    // `ct_eq` takes the same time whatever the first differing byte; only
    // a difference in length returns at once, which tells nothing of the
    // token's content.
    let accepted =
        given.is_some_and(|token| bool::from(token.as_bytes().ct_eq(expected.expose().as_bytes())));
    if accepted {
        return next.run(request).await;
    }
    tracing::warn!(token_sent = given.is_some(), "request refused: missing or wrong bearer token");
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or wrong bearer token: send `Authorization: Bearer <token>` with the token \
         set in [serve] token or FERRET_SERVE_TOKEN",
    )
    .into_response();
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
