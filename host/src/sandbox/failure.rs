//! How a call can fail on the host's side: the module broke a sandbox rule,
//! ran out of time or memory, trapped or panicked.

use thiserror::Error;

/// A sandbox rule broken by a module while it ran. Raised from a host
/// import as a trap, so the call ends at once.
#[derive(Debug, Clone, Error)]
pub enum Violation {
    /// The request went to a host the manifest does not declare.
    #[error("tried to reach `{0}`, a host its manifest does not declare")]
    UndeclaredHost(String),
    /// A declared host resolved to, or was, a non-routable address.
    #[error("tried to reach `{host}`, which is {why}")]
    NonRoutableHost {
        /// The host asked for.
        host: String,
        /// Why the address may not be reached.
        why: String,
    },
    /// The call made more outbound requests than allowed.
    #[error("made more than {0} outbound requests in one call")]
    RequestCap(u32),
    /// Linear memory grew past the cap.
    #[error("exceeded its memory limit of {0} MiB")]
    MemoryCap(u64),
}

/// Why a call produced no answer from the module.
#[derive(Debug, Clone, Error)]
pub enum SandboxFailure {
    /// A sandbox rule was broken.
    #[error(transparent)]
    Violation(#[from] Violation),
    /// The module spent more CPU time than one call may.
    #[error("exceeded its CPU time limit of {0} ms")]
    CpuDeadline(u64),
    /// The call, network included, took longer than allowed.
    #[error("did not finish within the {0} s call time limit")]
    Timeout(u64),
    /// The module panicked; the message is its own.
    #[error("panicked: {0}")]
    Panic(String),
    /// The module trapped for another reason.
    #[error("crashed: {0}")]
    Trap(String),
    /// The output was larger than the cap.
    #[error("returned {size} bytes of output, over the {cap}-byte cap")]
    OutputTooLarge {
        /// Bytes returned.
        size: u64,
        /// The cap.
        cap: u64,
    },
    /// The output was malformed (context that is not JSON, for instance).
    #[error("returned malformed output: {0}")]
    InvalidOutput(String),
    /// No instance could be made.
    #[error("could not be started: {0}")]
    Instantiate(String),
}

impl SandboxFailure {
    /// A short stable name for the kind of failure, for JSON output and
    /// metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Violation(Violation::UndeclaredHost(_)) => "undeclared-host",
            Self::Violation(Violation::NonRoutableHost { .. }) => "non-routable-host",
            Self::Violation(Violation::RequestCap(_)) => "request-cap",
            Self::Violation(Violation::MemoryCap(_)) => "memory-cap",
            Self::CpuDeadline(_) => "cpu-deadline",
            Self::Timeout(_) => "timeout",
            Self::Panic(_) => "panic",
            Self::Trap(_) => "trap",
            Self::OutputTooLarge { .. } => "output-too-large",
            Self::InvalidOutput(_) => "invalid-output",
            Self::Instantiate(_) => "instantiate",
        }
    }
}
