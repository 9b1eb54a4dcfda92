//! `GET /metrics`: the process's provider calls, errors, 429s, latency,
//! cache hits and quota left, for a Prometheus scraper.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::Service;

/// The content type of what `prometheus-client`'s encoder writes: the
/// OpenMetrics text format, which ends with `# EOF`.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The handler.
pub async fn metrics(State(service): State<Arc<Service>>) -> impl IntoResponse {
    ([(CONTENT_TYPE, OPENMETRICS)], service.ferret.scheduler.metrics().render())
}
