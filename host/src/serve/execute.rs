//! `POST /v1/execute`: one command as JSON in, its XSOAR entries out. The
//! same answer serves `ferret exec`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tracing::Instrument;

use super::error::json_rejection;
use super::{ApiError, Service};
use crate::command::command_line_from_json;
use crate::dispatch::Ferret;
use crate::output::xsoar;

/// The handler.
pub async fn execute(
    State(service): State<Arc<Service>>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let request = match body {
        Ok(Json(request)) => request,
        Err(rejection) => return json_rejection(rejection, &service.settings).into_response(),
    };
    match answer(&service.ferret, &request).await {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Runs a request `{"command", "args"}` and gives the body to answer:
/// `{"entries": [...]}`, exactly [`xsoar::entries`] of the results, or the
/// refusal. A provider's failure is an error entry among the entries, not
/// a refusal.
pub async fn answer(ferret: &Ferret, request: &Value) -> Result<Value, ApiError> {
    let line = command_line_from_json(request)?;
    let span = tracing::info_span!("execute", command = %line.name);
    let results = ferret.execute(&line).instrument(span).await?;
    // Built by hand: `json!` would copy every entry by serializing it.
    let mut body = serde_json::Map::new();
    body.insert("entries".to_owned(), Value::Array(xsoar::entries(&results)));
    Ok(Value::Object(body))
}
