//! The state of one call, kept in its store, and the host imports that
//! read it: `log`, `config` and the memory limiter. Outbound HTTP is in
//! `http.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::ResourceLimiter;

use super::bindings::ferret::provider::{config, log, types};
use super::failure::Violation;
use super::grant::Grant;
use super::transport::Transport;

/// Longest log line kept from a module, in bytes.
const LOG_LINE_LIMIT: usize = 4096;

/// Per-call state.
pub struct CallState {
    /// What this provider may do.
    pub grant: Arc<Grant>,
    /// The command running, for logs.
    pub command: String,
    /// Outbound requests made so far.
    pub requests: u32,
    /// When the call started.
    pub started: Instant,
    /// Time spent waiting inside host imports, which is not the module's
    /// CPU time.
    pub waiting: Duration,
    /// Time spent waiting on the upstream itself, for the benchmark's
    /// split between host cost and upstream latency.
    pub upstream: Duration,
    /// How long making the instance took, once it is made.
    pub instantiated: Option<Duration>,
    /// The panic message the module logged before aborting, if any.
    pub panic_message: Option<String>,
    /// Memory cap, in bytes, and whether the module ran into it.
    memory_cap: usize,
    pub memory_refused: bool,
    /// Where outbound requests go.
    pub transport: Transport,
    /// The call's number in its sandbox.
    pub serial: u64,
}

impl CallState {
    /// State for a new call.
    pub fn new(grant: Arc<Grant>, command: &str) -> Self {
        let memory_cap =
            usize::try_from(grant.limits.memory_mib * 1024 * 1024).unwrap_or(usize::MAX);
        Self {
            grant,
            command: command.to_owned(),
            requests: 0,
            started: Instant::now(),
            waiting: Duration::ZERO,
            upstream: Duration::ZERO,
            instantiated: None,
            panic_message: None,
            memory_cap,
            memory_refused: false,
            transport: Transport::Network,
            serial: 0,
        }
    }

    /// CPU time the module has used so far: wall time less time spent
    /// waiting in host imports.
    pub fn guest_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.waiting)
    }
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.memory_refused = true;
            return Err(wasmtime::Error::new(Violation::MemoryCap(self.grant.limits.memory_mib)));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a provider needs a few
        // thousand at most.
        Ok(desired <= 100_000)
    }
}

impl types::Host for CallState {}

impl log::Host for CallState {
    fn write(&mut self, level: log::Level, message: String) {
        let mut message = message;
        self.grant.redact(&mut message);
        if message.len() > LOG_LINE_LIMIT {
            let mut end = LOG_LINE_LIMIT;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        let provider = self.grant.label.as_str();
        let command = self.command.as_str();
        match level {
            log::Level::Debug => tracing::debug!(provider, command, "{message}"),
            log::Level::Info => tracing::info!(provider, command, "{message}"),
            log::Level::Warn => tracing::warn!(provider, command, "{message}"),
            log::Level::Error => {
                if let Some(panic) = message.strip_prefix("panic: ") {
                    self.panic_message = Some(panic.to_owned());
                }
                tracing::error!(provider, command, "{message}");
            }
        }
    }
}

impl config::Host for CallState {
    fn get(&mut self, key: String) -> Option<String> {
        self.grant.setting(&key)
    }
}
