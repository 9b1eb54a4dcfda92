//! `GET /v1/commands` and `GET /v1/health`: what the service answers, and
//! whether it is up.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::Service;
use crate::dispatch::kind_name;
use crate::router::{Provider, Registry};
use crate::sandbox::CommandSpec;

/// Every command name the enabled providers answer, aliases included,
/// each with the providers behind it. An alias such as `ip` lists every
/// provider that answers it, each with its own arguments.
pub async fn commands(State(service): State<Arc<Service>>) -> Json<Value> {
    Json(json!({"commands": command_listing(&service.ferret.registry)}))
}

/// The listing [`commands`] answers, in name order. `test-module`, which
/// the host answers for every enabled provider with its connection check,
/// is among them.
pub fn command_listing(registry: &Registry) -> Vec<Value> {
    let mut listing: Vec<Value> = registry
        .command_names()
        .into_iter()
        .map(|name| {
            let providers: Vec<Value> = registry
                .route(&name, None)
                .into_iter()
                .map(|(provider, spec)| provider_command(provider, spec))
                .collect();
            json!({"name": name, "providers": providers})
        })
        .collect();
    let checked: Vec<Value> = registry
        .providers()
        .iter()
        .filter(|provider| provider.config.is_enabled())
        .map(|provider| {
            json!({
                "provider": provider.id(),
                "brand": provider.module.manifest.brand,
                "command": "test-module",
                "description": "Checks that the upstream answers and accepts the credentials",
                "kinds": [],
                "arguments": [],
                "outputs": [],
            })
        })
        .collect();
    listing.push(json!({"name": "test-module", "providers": checked}));
    listing.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    listing
}

fn provider_command(provider: &Provider, spec: &CommandSpec) -> Value {
    let arguments: Vec<Value> = spec
        .arguments
        .iter()
        .map(|argument| {
            json!({
                "name": argument.name,
                "description": argument.description,
                "required": argument.required,
                "default": argument.default_value,
                "list": argument.is_array,
                "default_argument": argument.is_default,
                "predefined": argument.predefined,
            })
        })
        .collect();
    let outputs: Vec<Value> = spec
        .outputs
        .iter()
        .map(|output| {
            json!({
                "context_path": output.context_path,
                "description": output.description,
                "type": output.value_type,
            })
        })
        .collect();
    json!({
        "provider": provider.id(),
        "brand": provider.module.manifest.brand,
        "command": spec.name,
        "description": spec.description,
        "kinds": spec.kinds.iter().map(|kind| kind_name(*kind)).collect::<Vec<_>>(),
        "arguments": arguments,
        "outputs": outputs,
    })
}

/// Up, the version, and each provider with whether it is enabled and has
/// its secrets. Nothing here names a secret or a setting.
pub async fn health(State(service): State<Arc<Service>>) -> Json<Value> {
    let providers: Vec<Value> = service
        .ferret
        .registry
        .providers()
        .iter()
        .map(|provider| {
            json!({
                "id": provider.id(),
                "brand": provider.module.manifest.brand,
                "version": provider.module.manifest.version,
                "enabled": provider.config.is_enabled(),
                "configured": provider.is_configured(),
            })
        })
        .collect();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "providers": providers,
    }))
}
