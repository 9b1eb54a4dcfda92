//! Hostile fixture: a command that never returns.
//!
//! Expected: the host stops it at its CPU deadline with a timeout error
//! naming the provider, and the next command in the same process runs.

use ferret_provider_sdk::prelude::*;

struct EndlessLoop;

impl Provider for EndlessLoop {
    fn manifest() -> Manifest {
        ManifestBuilder::new("endless-loop", "EndlessLoop", "https://loop.example")
            .version(env!("CARGO_PKG_VERSION"))
            .description("spins forever")
            .command(CommandBuilder::new("spin", "never returns"))
            .build()
    }

    fn run(_request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        let mut counter: u64 = 0;
        loop {
            counter = std::hint::black_box(counter.wrapping_add(1));
        }
    }

    fn check() -> Result<(), ProviderError> {
        Ok(())
    }
}

register!(EndlessLoop);
