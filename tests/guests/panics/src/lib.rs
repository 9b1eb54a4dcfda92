//! Hostile fixture: a command that panics.
//!
//! Expected: the panic aborts the guest (providers build with
//! `panic = "abort"`), which the host sees as a trap; the call ends as the
//! provider's failure naming the provider and its version, and the next
//! command in the same process runs. The panic message itself stays inside
//! the guest: `wasm32-unknown-unknown` has no stderr to print it on.

use ferret_provider_sdk::prelude::*;

struct Panics;

impl Provider for Panics {
    fn manifest() -> Manifest {
        ManifestBuilder::new("panics", "Panics", "https://panics.invalid")
            .version(env!("CARGO_PKG_VERSION"))
            .description("panics in every run")
            .command(CommandBuilder::new("panic", "panics with a message"))
            .build()
    }

    fn run(_request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        panic!("guest-panics: deliberate panic in run");
    }

    fn check() -> Result<(), ProviderError> {
        Ok(())
    }
}

register!(Panics);
