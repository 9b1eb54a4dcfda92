//! Hostile fixture: a command that panics.
//!
//! Expected: the SDK's panic hook writes the message through the `log`
//! import, then the guest aborts (providers build with `panic = "abort"`),
//! which the host sees as a trap. The call ends as the provider's failure
//! naming the provider, its version and the message `guest-panics:
//! deliberate panic in run`, and the next command in the same process runs.

use ferret_provider_sdk::prelude::*;

struct Panics;

impl Provider for Panics {
    fn manifest() -> Manifest {
        ManifestBuilder::new("panics", "Panics", "https://panics.example")
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
