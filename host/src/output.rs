//! Rendering results: XSOAR entries, markdown tables, and the reports of
//! the command line.

pub mod markdown;
pub mod report;
pub mod xsoar;

use crate::dispatch::{CallResult, Outcome};
use crate::sandbox::{ProviderError, UpstreamFailure};

/// The message of a result that is an error, worded the same for every
/// provider; `None` for results that are not errors.
pub fn error_message(result: &CallResult) -> Option<String> {
    let who = format!("{} ({} {})", result.brand, result.provider, result.version);
    let message = match &result.outcome {
        Outcome::Answered(_) | Outcome::NotFound | Outcome::NotSent(_) => return None,
        Outcome::NotConfigured(missing) if missing.base_url => {
            let mut advice = format!(
                "set base_url in the [providers.{}] table of ferret.toml to your instance's address",
                result.provider
            );
            if !missing.secrets.is_empty() {
                advice.push_str(&format!(
                    ", and {} or the same table",
                    missing.secrets.join(" and ")
                ));
            }
            format!("{who} is not configured: {advice}")
        }
        Outcome::NotConfigured(missing) => {
            format!("{who} is not configured: {}", set_secrets(&missing.secrets, &result.provider))
        }
        Outcome::Refused(error) => match error {
            ProviderError::NotFound => format!("{who}: no results found"),
            ProviderError::RateLimited(seconds) => {
                format!("{who}: rate limited by the upstream; retry after {seconds} s")
            }
            ProviderError::QuotaExhausted => {
                format!("{who}: the upstream's quota is spent; retry when its quota period renews")
            }
            ProviderError::Unauthorized(why) => {
                format!(
                    "{who}: the upstream refused the credential ({why}); {}",
                    set_secrets(&result.secret_vars, &result.provider)
                )
            }
            ProviderError::InvalidInput(why) => format!("{who}: invalid input: {why}"),
            ProviderError::Upstream(UpstreamFailure { status: 0, message }) => {
                format!("{who}: {message}")
            }
            ProviderError::Upstream(UpstreamFailure { status, message }) => {
                format!("{who}: upstream error (HTTP {status}): {message}")
            }
        },
        Outcome::Failed(failure) => format!("{who} {failure}"),
        Outcome::QuotaExhausted { until } => {
            format!("{who}: quota exhausted until {until} (its daily limit is spent)")
        }
    };
    Some(message)
}

/// How to set a provider's secrets: their variables, or its table.
fn set_secrets(variables: &[String], provider: &str) -> String {
    let variables =
        if variables.is_empty() { "its secrets".to_owned() } else { variables.join(" and ") };
    format!("set {variables} or the [providers.{provider}] table in ferret.toml")
}
