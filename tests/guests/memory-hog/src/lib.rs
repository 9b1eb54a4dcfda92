//! Hostile fixture: a command that allocates memory without bound.
//!
//! Expected: the host's memory cap refuses to grow the guest's linear
//! memory, the allocation fails and the guest aborts; the call ends as the
//! provider's failure with a named memory-limit error (not a host crash or
//! an out-of-memory kill), and the next command in the same process runs.

use ferret_provider_sdk::prelude::*;

/// Size of each allocation, in bytes.
const CHUNK: usize = 1 << 20;

struct MemoryHog;

impl Provider for MemoryHog {
    fn manifest() -> Manifest {
        ManifestBuilder::new("memory-hog", "MemoryHog", "https://hog.example")
            .version(env!("CARGO_PKG_VERSION"))
            .description("grows its memory until something stops it")
            .command(CommandBuilder::new("grow", "allocates 1 MiB chunks forever"))
            .build()
    }

    fn run(_request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        // Every chunk is written and kept, so neither the allocator nor the
        // optimiser can skip the pages.
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(std::hint::black_box(vec![0xA5; CHUNK]));
        }
    }

    fn check() -> Result<(), ProviderError> {
        Ok(())
    }
}

register!(MemoryHog);
