//! The HTTP service, `ferret serve`: XSOAR commands and enrichment as JSON
//! over HTTP, and the metrics for Prometheus.
//!
//! - `POST /v1/execute` takes `{"command": "ip", "args": {...}}` and answers
//!   `{"entries": [...]}`, the XSOAR entries of the command, or a `400` with
//!   `{"error": {"kind", "message"}}` when the command is refused.
//! - `POST /v1/enrich` takes an alert, an e-mail, CSV or text in any
//!   content type (what a SIEM's webhook sends) and answers the scored
//!   report of its indicators, the JSON of `ferret enrich --format json`.
//!   The query string chooses `providers` (ids or brands, comma-separated),
//!   the input's `tlp` and `no_cache=true`; a bad parameter is a `400`
//!   naming it. A body with no indicator is a `200` with an empty report.
//! - `GET /v1/commands` lists every command with its providers, arguments
//!   and context outputs.
//! - `GET /metrics` gives the provider calls, errors, 429s, latency, cache
//!   hits and quota left of this process, in the OpenMetrics text format
//!   Prometheus scrapes. It needs the token like the API (a scraper sends
//!   it as a bearer token), but not a turn at the concurrency gate, so a
//!   busy service can still be watched.
//! - `GET /v1/health` says the service is up, its version, and which
//!   providers are loaded and configured. It needs no token, so that a
//!   load balancer can probe it; it shows no secret and no setting.
//!
//! Every other failure (no token, malformed JSON, a body too large, a
//! request that runs out of time, a path that does not exist) is a JSON
//! error of the same shape, and none repeats what the client sent.
//! [`router`] builds the whole service from one shared [`Service`], so an
//! endpoint is one more line there.

mod auth;
mod enrich;
mod error;
mod execute;
mod listing;
mod metrics;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, malformed_json};
pub use execute::answer;

use crate::config::{Config, SERVE_TOKEN_ENV, Secret};
use crate::dispatch::Ferret;

/// The service's limits and token.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bearer token clients must send; `None` lets any client in,
    /// which [`check_exposure`] allows on loopback only.
    pub token: Option<Secret>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Commands and enrichments run at once; later requests wait their
    /// turn.
    pub max_concurrent_requests: usize,
    /// Time one request may take, waiting its turn included.
    pub request_timeout: Duration,
}

impl Settings {
    /// The settings of `[serve]`, with the token from the environment or
    /// the file.
    pub fn from_config(config: &Config) -> Self {
        let serve = &config.serve;
        Self {
            token: config.serve_token(),
            max_body_bytes: usize::try_from(serve.max_body_bytes).unwrap_or(usize::MAX),
            max_concurrent_requests: usize::try_from(serve.max_concurrent_requests)
                .unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(serve.request_timeout_seconds),
        }
    }
}

/// What every handler shares: the host with its providers, the settings,
/// and the one gate that bounds the commands running at once.
pub struct Service {
    /// The host.
    pub ferret: Arc<Ferret>,
    /// Limits and token.
    pub settings: Settings,
    concurrency: GlobalConcurrencyLimitLayer,
}

impl Service {
    /// Wraps a loaded host.
    pub fn new(ferret: Arc<Ferret>, settings: Settings) -> Arc<Self> {
        let concurrency = GlobalConcurrencyLimitLayer::new(settings.max_concurrent_requests);
        Arc::new(Self { ferret, settings, concurrency })
    }
}

/// The whole service. Endpoints that call providers (execute, enrich) go
/// through the token check, the concurrency gate they share and the request
/// timeout; every response that is an error leaves as JSON.
pub fn router(service: Arc<Service>) -> Router {
    let settings = &service.settings;
    let bounded = ServiceBuilder::new()
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            settings.request_timeout,
        ))
        .layer(service.concurrency.clone());

    let protected = Router::new()
        .route("/v1/execute", post(execute::execute).layer(bounded.clone()))
        .route("/v1/enrich", post(enrich::enrich).layer(bounded))
        .route("/v1/commands", get(listing::commands))
        .route("/metrics", get(metrics::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&service),
            auth::require_token,
        ));

    let routes = Router::new()
        .merge(protected)
        .route("/v1/health", get(listing::health))
        .fallback(error::no_route);
    with_outer_layers(routes, settings).with_state(service)
}

/// What wraps every endpoint: the body limit, a caught panic answered as
/// `500`, request tracing, and every error response turned into JSON.
fn with_outer_layers<S>(routes: Router<S>, settings: &Settings) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    routes.layer(
        ServiceBuilder::new()
            .layer(axum::middleware::map_response_with_state(
                settings.clone(),
                error::errors_as_json,
            ))
            .layer(TraceLayer::new_for_http())
            .layer(CatchPanicLayer::new())
            .layer(DefaultBodyLimit::disable())
            .layer(RequestBodyLimitLayer::new(settings.max_body_bytes)),
    )
}

/// Serves `service` on `listener` until `shutdown` completes; requests
/// already being answered then finish before this returns.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, router(service))
        .with_graceful_shutdown(shutdown)
        .await
        .context("the HTTP service stopped on an error")
}

/// Refuses to expose the service beyond this machine without a token: an
/// address other than loopback needs one.
pub fn check_exposure(address: SocketAddr, token: Option<&Secret>) -> Result<()> {
    if token.is_none() && !address.ip().is_loopback() {
        bail!(
            "refusing to listen on {address} without a token: set [serve] token in ferret.toml \
             or {SERVE_TOKEN_ENV}, or listen on a loopback address such as 127.0.0.1"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_a_json_500_and_the_service_goes_on() {
        let settings = Settings {
            token: None,
            max_body_bytes: 1024,
            max_concurrent_requests: 4,
            request_timeout: Duration::from_secs(5),
        };
        async fn boom() -> &'static str {
            panic!("detail-that-stays-in-the-log")
        }
        let routes: Router =
            Router::new().route("/boom", get(boom)).route("/fine", get(|| async { "fine" }));
        let app = with_outer_layers(routes, &settings);

        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(get("/boom")).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {
                "kind": "internal",
                "message": "the service failed to answer; its log says why",
            }})
        );
        // The next request is answered as usual.
        let response = app.oneshot(get("/fine")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(to_bytes(response.into_body(), 4096).await.unwrap(), "fine");
    }

    #[test]
    fn only_loopback_goes_without_a_token() {
        let token = Secret::new("t0ken");
        let anywhere: SocketAddr = "0.0.0.0:8700".parse().unwrap();
        let error = check_exposure(anywhere, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "refusing to listen on 0.0.0.0:8700 without a token: set [serve] token in \
             ferret.toml or FERRET_SERVE_TOKEN, or listen on a loopback address such as 127.0.0.1"
        );
        assert!(check_exposure(anywhere, Some(&token)).is_ok());
        assert!(check_exposure("127.0.0.1:8700".parse().unwrap(), None).is_ok());
        assert!(check_exposure("[::1]:8700".parse().unwrap(), None).is_ok());
        assert!(check_exposure("192.0.2.10:8700".parse().unwrap(), None).is_err());
    }
}
