//! Hostile fixture: a command that sends far more requests than one call
//! may make.
//!
//! It GETs its own base URL's `/ping` 1000 times, ignoring every answer
//! and error.
//!
//! Expected: the host ends the call as the provider's failure with a named
//! error as soon as it exceeds the per-call outbound request cap, so the
//! upstream sees at most the cap's worth of requests. Should the loop ever
//! finish, the command succeeds with raw `{"sent": 1000}`: a test seeing
//! that has found the cap missing.

use ferret_provider_sdk::prelude::*;

/// Requests attempted, far above any sensible per-call cap.
const ATTEMPTS: u32 = 1000;

struct RequestFlood;

impl Provider for RequestFlood {
    fn manifest() -> Manifest {
        ManifestBuilder::new("request-flood", "RequestFlood", "https://flood.example")
            .version(env!("CARGO_PKG_VERSION"))
            .description("sends requests in a loop")
            .command(CommandBuilder::new("flood", "GETs /ping 1000 times"))
            .build()
    }

    fn run(_request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        for _ in 0..ATTEMPTS {
            let _ = Request::get("/ping").send();
        }
        Ok(Output::new().raw(&serde_json::json!({ "sent": ATTEMPTS })).build())
    }

    fn check() -> Result<(), ProviderError> {
        Ok(())
    }
}

register!(RequestFlood);
