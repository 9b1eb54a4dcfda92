//! `ferret providers list|inspect`: what each provider is and needs.

use serde_json::{Value, json};

use ferret_host::dispatch::kind_name;
use ferret_host::router::Registry;

use super::ListFormat;

pub fn print_providers(registry: &Registry, format: ListFormat) {
    let listing: Vec<Value> = registry
        .providers()
        .iter()
        .map(|provider| {
            let manifest = &provider.module.manifest;
            let status = if !provider.config.is_enabled() {
                "disabled".to_owned()
            } else if provider.is_configured() {
                "ready".to_owned()
            } else {
                format!("not configured: set {}", provider.missing_secrets.join(", "))
            };
            json!({
                "id": manifest.id,
                "brand": manifest.brand,
                "version": manifest.version,
                "description": manifest.description,
                "module": provider.module.origin.display().to_string(),
                "status": status,
                "base_url": provider.grant.base_url.as_str(),
                "hosts": manifest.hosts,
                "secrets": manifest.secrets.iter().map(|secret| json!({
                    "name": secret.name,
                    "env": ferret_host::config::secret_env_var(&manifest.id, &secret.name),
                    "description": secret.description,
                })).collect::<Vec<_>>(),
                "limits": {
                    "per_second": manifest.limits.per_second,
                    "per_minute": manifest.limits.per_minute,
                    "per_day": manifest.limits.per_day,
                },
                "commands": manifest.commands.iter().map(|command| json!({
                    "name": command.name,
                    "aliases": command.aliases,
                    "kinds": command.kinds.iter().map(|kind| kind_name(*kind)).collect::<Vec<_>>(),
                    "arguments": command.arguments.iter().map(|argument| argument.name.clone()).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    match format {
        ListFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&listing).expect("JSON values serialise"))
        }
        ListFormat::Table => {
            if listing.is_empty() {
                println!("No providers loaded. `cargo xtask build` builds the built-in ones.");
            }
            for provider in &listing {
                print_provider(provider);
            }
        }
    }
}

fn print_provider(provider: &Value) {
    let text = |key: &str| provider[key].as_str().unwrap_or("").to_owned();
    let list = |value: &Value| {
        value.as_array().map(|items| {
            items
                .iter()
                .map(|item| item.as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    println!("{} {} ({}) - {}", text("id"), text("version"), text("brand"), text("status"));
    println!("  {}", text("description"));
    println!("  module:   {}", text("module"));
    println!("  base URL: {}", text("base_url"));
    let hosts = list(&provider["hosts"]).unwrap_or_default();
    if !hosts.is_empty() {
        println!("  hosts:    {hosts}");
    }
    for secret in provider["secrets"].as_array().into_iter().flatten() {
        println!(
            "  secret:   {} ({})",
            secret["name"].as_str().unwrap_or(""),
            secret["env"].as_str().unwrap_or("")
        );
    }
    let limits = &provider["limits"];
    let limit = |key: &str| limits[key].as_u64().map_or("-".to_owned(), |n| n.to_string());
    println!(
        "  limits:   {}/s, {}/min, {}/day",
        limit("per_second"),
        limit("per_minute"),
        limit("per_day")
    );
    for command in provider["commands"].as_array().into_iter().flatten() {
        let aliases = list(&command["aliases"]).unwrap_or_default();
        let alias_text =
            if aliases.is_empty() { String::new() } else { format!(" (also {aliases})") };
        println!(
            "  !{}{alias_text}: {}",
            command["name"].as_str().unwrap_or(""),
            list(&command["arguments"]).unwrap_or_default()
        );
    }
}
