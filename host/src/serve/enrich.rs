//! `POST /v1/enrich`: a webhook's body (an alert in JSON, an e-mail, CSV,
//! plain text) in, the scored report of its indicators out, the JSON
//! `ferret enrich --format json` prints.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ferret_indicators::Tlp;
use tracing::Instrument;

use super::{ApiError, Service};
use crate::dispatch::Ferret;
use crate::enrich::{EnrichOptions, chosen_providers, enrich as enrich_input};

/// The query parameters the endpoint takes.
const PARAMETERS: &str = "providers, tlp and no_cache";

/// The handler. Any content type is read: webhooks send JSON or text, and
/// extraction recognises the format from the bytes. A body with no
/// indicator, an empty one included, is answered `200` with an empty
/// report, since an alert that names nothing is not a faulty request.
pub async fn enrich(
    State(service): State<Arc<Service>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let options = match options(&service.ferret, query.as_deref()) {
        Ok(options) => options,
        Err(error) => return error.into_response(),
    };
    let span = tracing::info_span!("enrich", bytes = body.len());
    match enrich_input(&service.ferret, &body, &options).instrument(span).await {
        Ok(report) => Json(report).into_response(),
        Err(error) => {
            tracing::error!("enrichment failed: {error:#}");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the service failed to answer; its log says why",
            )
            .into_response()
        }
    }
}

/// The options of a query string such as
/// `providers=virustotal,abuseipdb&tlp=amber&no_cache=true`. Every
/// parameter is checked before anything is sent, and a refusal names the
/// parameter at fault.
pub fn options(ferret: &Ferret, query: Option<&str>) -> Result<EnrichOptions, ApiError> {
    let mut options = EnrichOptions::default();
    let mut given: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if given.iter().any(|seen| *seen == name) {
            return Err(invalid(&name, "is given more than once"));
        }
        given.push(name.clone().into_owned());
        match name.as_ref() {
            "providers" => {
                let names: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(str::to_owned)
                    .collect();
                if names.is_empty() {
                    return Err(invalid("providers", "names no provider"));
                }
                chosen_providers(ferret, Some(&names))
                    .map_err(|unknown| invalid("providers", unknown))?;
                options.providers = Some(names);
            }
            "tlp" => {
                let tlp = value.parse::<Tlp>().map_err(|error| invalid("tlp", error))?;
                options.tlp = Some(tlp);
            }
            "no_cache" => {
                options.use_cache = match value.as_ref() {
                    "true" => false,
                    "false" => true,
                    _ => return Err(invalid("no_cache", "must be true or false")),
                };
            }
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unknown-parameter",
                    format!("unknown query parameter `{other}`: /v1/enrich takes {PARAMETERS}"),
                ));
            }
        }
    }
    Ok(options)
}

fn invalid(parameter: &str, fault: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid-parameter",
        format!("query parameter `{parameter}`: {fault}"),
    )
}
