//! Hostile fixture: a command whose output is far larger than the host
//! accepts.
//!
//! Its raw output is one JSON string of 4 MiB of `A`: small enough to fit
//! the 32 MiB memory cap the tests set (it is built in place, never copied
//! inside the guest), four times their 1 MiB output cap. It is no larger
//! than that so that building it stays far inside their CPU deadline.
//!
//! Expected: the host refuses the output with a named "output too large"
//! error as the provider's failure, without copying it into a command
//! entry, and the next command in the same process runs.

use ferret_provider_sdk::prelude::*;

/// Length of the JSON string's contents, in bytes.
const SIZE: usize = 4 << 20;

struct HugeOutput;

impl Provider for HugeOutput {
    fn manifest() -> Manifest {
        ManifestBuilder::new("huge-output", "HugeOutput", "https://huge.example")
            .version(env!("CARGO_PKG_VERSION"))
            .description("answers with 4 MiB of output")
            .command(CommandBuilder::new("huge", "returns a 4 MiB raw output"))
            .build()
    }

    fn run(_request: CommandRequest) -> Result<CommandOutput, ProviderError> {
        // Built by hand rather than through `Output::raw`, whose serialising
        // would hold a second copy and could hit the memory cap first.
        let mut raw = String::with_capacity(SIZE + 2);
        raw.push('"');
        raw.extend(std::iter::repeat_n('A', SIZE));
        raw.push('"');
        Ok(CommandOutput { raw, context: String::new(), assessments: Vec::new(), readable: None })
    }

    fn check() -> Result<(), ProviderError> {
        Ok(())
    }
}

register!(HugeOutput);
