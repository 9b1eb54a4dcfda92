//! The sandbox: compiles provider components, and runs each call in a
//! fresh instance with its own memory cap, CPU deadline, wall-clock limit
//! and the network rules of its [`Grant`].
//!
//! Compiled code is cached on disk by wasmtime, keyed by the module's hash
//! and the engine's version and settings, so a restart does not recompile.
//! Instances come from pre-instantiated components and a pooling
//! allocator, which makes a new instance per call cheap.

mod bindings;
mod failure;
mod grant;
mod http;
mod state;
mod transport;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config as EngineConfig, Engine, InstanceAllocationStrategy, Store, Trap, UpdateDeadline,
};

pub use bindings::{
    Argument, ArgumentSpec, Assessment, CommandOutput, CommandRequest, CommandSpec, Indicator,
    IndicatorKind, Manifest, OutputSpec, ProviderError, RateLimits, Reliability, SecretPlacement,
    Table, UpstreamFailure, Verdict,
};
pub use failure::{SandboxFailure, Violation};
pub use grant::{Grant, missing_secrets};
pub use transport::{
    Kept, NamedRecording, RecordedRequest, Recorder, Recording, Replayed, Replayer, Transport,
};

use crate::config::SandboxLimits;
use bindings::{FerretProvider, FerretProviderPre};
use state::CallState;

/// The WIT package version this host implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// The WIT package every provider import and export belongs to.
const CONTRACT_PACKAGE: &str = "ferret:provider";

/// How often the engine's epoch advances: how often a running module
/// yields to the executor.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Fuel per millisecond of a call's CPU budget (`cpu_ms`). Wasmtime
/// charges about one unit per WebAssembly instruction, and a current x86-64
/// core runs compiled guest code at roughly a million instructions per
/// millisecond or more, so a budget of `cpu_ms` lasts about that long on
/// such a core, less on a faster one. Being a count, it is the same on a
/// loaded machine as on an idle one. Metering has a price: the AbuseIPDB
/// provider's own code runs about a third slower with it. Measuring the
/// thread's CPU time over each stretch the guest runs would keep the
/// load-independence without that cost.
const FUEL_PER_MS: u64 = 1_000_000;

/// Instances that may be alive at once, across all providers.
const POOL_INSTANCES: u32 = 256;

/// Bytes of a linear memory (and of a table) a pool slot keeps resident
/// between calls, reset with `memset` rather than returned to the kernel.
/// A provider's memory is mostly its stack and a small heap, about a
/// MiB; a module that grows further has the rest returned as before.
const RESIDENT_PER_SLOT: usize = 2 * 1024 * 1024;

/// Unused pool slots that keep what they hold for the next call, so that
/// the memory left resident stays under `WARM_SLOTS` x
/// `RESIDENT_PER_SLOT` (64 MiB) however many calls once ran at once.
const WARM_SLOTS: u32 = 32;

/// The engine and the host imports, shared by every provider.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<CallState>,
    limits: SandboxLimits,
    /// Where outbound requests go: the network unless replaying or
    /// recording.
    transport: Transport,
    /// Calls started so far, for [`CallStats::serial`].
    calls: AtomicU64,
}

/// Where the time of one call went.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallStats {
    /// Making the instance.
    pub instantiate: Duration,
    /// Waiting on the upstream, retries included.
    pub upstream: Duration,
    /// Running the module's own code once instantiated: wall time less
    /// instantiation and time spent in host imports. This is the provider's
    /// work (building requests, parsing answers), not the host's.
    pub guest: Duration,
    /// The whole call.
    pub total: Duration,
    /// Fuel the call burnt, instantiation included: about one unit per
    /// WebAssembly instruction run.
    pub fuel: u64,
    /// The call's number in its sandbox, from 1; it ties the exchanges a
    /// replay or a recording kept to the call. Zero for a call not made.
    pub serial: u64,
}

/// A compiled provider, ready to instantiate.
pub struct Module {
    /// What the provider says it is.
    pub manifest: Manifest,
    /// Where it was loaded from.
    pub origin: PathBuf,
    pre: FerretProviderPre<CallState>,
}

impl Sandbox {
    /// An engine with the given limits, caching compiled code in
    /// `cache_dir` when given.
    pub fn new(limits: &SandboxLimits, cache_dir: Option<&Path>) -> Result<Self> {
        let memory_cap = usize::try_from(limits.memory_mib * 1024 * 1024)?;
        let mut pool = wasmtime::PoolingAllocationConfig::default();
        // The pool's own ceiling sits above the operator's cap so that the
        // limiter, which names the failure, is what stops a growing module.
        pool.max_memory_size(memory_cap.saturating_mul(2))
            .total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 4)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 4)
            .total_stacks(POOL_INSTANCES)
            // A finished instance's memory is set back to its initial
            // contents before the slot is reused. By default that is an
            // `madvise` of the whole memory, whose TLB shootdown interrupts
            // every core the process runs on: on a small guest it was the
            // largest part of the host's cost per call. Where the kernel
            // can say which pages were written (Linux 6.7's PAGEMAP_SCAN),
            // those pages alone are reset with `memset`, up to
            // `RESIDENT_PER_SLOT` a slot, and stay resident for the next
            // call; elsewhere, and beyond that size, `madvise` remains.
            .pagemap_scan(wasmtime::Enabled::Auto)
            .linear_memory_keep_resident(RESIDENT_PER_SLOT)
            .table_keep_resident(RESIDENT_PER_SLOT)
            // What warm slots keep resident is bounded by their number.
            .max_unused_warm_slots(WARM_SLOTS);

        let mut config = EngineConfig::new();
        config
            .epoch_interruption(true)
            .consume_fuel(true)
            .wasm_component_model(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        // For profiling providers: `perf` reads the map to name guest code.
        if std::env::var_os("FERRET_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        if let Some(dir) = cache_dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create module cache {}", dir.display()))?;
            let mut cache_config = wasmtime::CacheConfig::new();
            cache_config.with_directory(dir);
            let cache = wasmtime::Cache::new(cache_config).map_err(engine_error)?;
            config.cache(Some(cache));
        }
        let engine = Engine::new(&config).map_err(engine_error)?;
        start_epoch_ticker(&engine);

        let mut linker = Linker::new(&engine);
        FerretProvider::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |state| state,
        )
        .map_err(engine_error)?;
        Ok(Self {
            engine,
            linker,
            limits: limits.clone(),
            transport: Transport::Network,
            calls: AtomicU64::new(0),
        })
    }

    /// The same sandbox with its outbound requests answered by `transport`.
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Compiles a component, checks it speaks this host's contract, and
    /// asks it for its manifest.
    pub async fn load(&self, bytes: &[u8], origin: &Path) -> Result<Module> {
        let component =
            Component::new(&self.engine, bytes).map_err(engine_error).with_context(|| {
                format!("{} is not a valid WebAssembly component", origin.display())
            })?;
        self.check_contract(&component)
            .with_context(|| format!("refusing provider module {}", origin.display()))?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(engine_error)?;
        let pre = FerretProviderPre::new(instance_pre).map_err(engine_error)?;

        let label = origin.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
        let grant = Arc::new(Grant::offline(&label, &self.limits)?);
        let manifest = self
            .call(&pre, grant, "describe", async |provider, store| {
                provider.ferret_provider_provider().call_describe(store).await
            })
            .await
            .0
            .map_err(|failure| {
                anyhow!("{} failed to describe itself: {failure}", origin.display())
            })?;
        validate_manifest(&manifest)
            .with_context(|| format!("invalid manifest in {}", origin.display()))?;
        Ok(Module { manifest, origin: origin.to_path_buf(), pre })
    }

    /// Runs one command in a fresh instance.
    pub async fn run(
        &self,
        module: &Module,
        grant: Arc<Grant>,
        request: CommandRequest,
    ) -> (Result<Result<CommandOutput, ProviderError>, SandboxFailure>, CallStats) {
        let command = request.command.clone();
        let (answer, stats) = self
            .call(&module.pre, Arc::clone(&grant), &command, async |provider, store| {
                provider.ferret_provider_provider().call_run(store, &request).await
            })
            .await;
        let checked = answer.and_then(|mut answer| {
            match &mut answer {
                Ok(output) => {
                    check_output(output, self.limits.max_output_bytes)?;
                    redact_output(&grant, output);
                }
                Err(error) => redact_error(&grant, error),
            }
            Ok(answer)
        });
        (checked, stats)
    }

    /// Runs the provider's own connection check.
    pub async fn check(
        &self,
        module: &Module,
        grant: Arc<Grant>,
    ) -> Result<Result<(), ProviderError>, SandboxFailure> {
        let (answer, _) = self
            .call(&module.pre, Arc::clone(&grant), "test-module", async |provider, store| {
                provider.ferret_provider_provider().call_check(store).await
            })
            .await;
        answer.map(|mut answer| {
            if let Err(error) = &mut answer {
                redact_error(&grant, error);
            }
            answer
        })
    }

    /// Instantiates, calls `body`, and maps every way it can fail. The
    /// instance is dropped afterwards: no state survives between calls.
    async fn call<R>(
        &self,
        pre: &FerretProviderPre<CallState>,
        grant: Arc<Grant>,
        command: &str,
        body: impl AsyncFnOnce(&FerretProvider, &mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> (Result<R, SandboxFailure>, CallStats) {
        let limits = grant.limits.clone();
        let mut state = CallState::new(grant, command);
        state.transport = self.transport.clone();
        state.serial = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state);
        // The CPU budget is fuel, counted in the module's instructions:
        // unlike a clock, it does not run down while the machine is busy
        // with other work, while the call waits its turn to be scheduled,
        // or while it sits in a host import. Epoch ticks only make a long
        // computation yield now and then, so the wall-clock limit below can
        // fire and other calls on the same thread run.
        let fuel = limits.cpu_ms.saturating_mul(FUEL_PER_MS);
        if let Err(error) = store.set_fuel(fuel) {
            return (Err(SandboxFailure::Instantiate(format!("{error:#}"))), CallStats::default());
        }
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));

        let wall = Duration::from_secs(limits.call_timeout_seconds);
        let outcome = tokio::time::timeout(wall, async {
            let provider = pre.instantiate_async(&mut store).await?;
            store.data_mut().instantiated = Some(store.data().started.elapsed());
            body(&provider, &mut store).await
        })
        .await;
        let burnt = fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.data();
        let instantiate = state.instantiated.unwrap_or_default();
        let stats = CallStats {
            fuel: burnt,
            instantiate,
            upstream: state.upstream,
            guest: state.guest_time().saturating_sub(instantiate),
            total: state.started.elapsed(),
            serial: state.serial,
        };
        let result = match outcome {
            Err(_elapsed) => Err(SandboxFailure::Timeout(limits.call_timeout_seconds)),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(classify_failure(error, state, &limits)),
        };
        (result, stats)
    }

    /// Refuses components built for another contract version, or that
    /// import anything but the contract's interfaces.
    fn check_contract(&self, component: &Component) -> Result<()> {
        let ty = component.component_type();
        for (name, _) in ty.imports(&self.engine) {
            check_interface_name(name, "imports")?;
        }
        let mut exports_provider = false;
        for (name, _) in ty.exports(&self.engine) {
            check_interface_name(name, "exports")?;
            exports_provider |= name.starts_with("ferret:provider/provider@");
        }
        if !exports_provider {
            bail!("it does not export `{CONTRACT_PACKAGE}/provider@{CONTRACT_VERSION}`");
        }
        Ok(())
    }
}

/// Accepts `ferret:provider/<interface>@<this version>` only.
fn check_interface_name(name: &str, direction: &str) -> Result<()> {
    let Some(rest) = name.strip_prefix(CONTRACT_PACKAGE).and_then(|rest| rest.strip_prefix('/'))
    else {
        bail!(
            "it {direction} `{name}`, which Ferret does not provide: providers may only use \
             {CONTRACT_PACKAGE} interfaces"
        );
    };
    let version = rest.split_once('@').map(|(_, version)| version).unwrap_or("(none)");
    if version != CONTRACT_VERSION {
        bail!(
            "it was built for {CONTRACT_PACKAGE}@{version}; this host speaks \
             {CONTRACT_PACKAGE}@{CONTRACT_VERSION}"
        );
    }
    Ok(())
}

/// Reads a failed call: a sandbox violation raised by a host import, the
/// memory cap, the CPU deadline, a panic, or another trap.
fn classify_failure(
    error: wasmtime::Error,
    state: &CallState,
    limits: &SandboxLimits,
) -> SandboxFailure {
    if let Some(violation) = error.downcast_ref::<Violation>() {
        return SandboxFailure::Violation(violation.clone());
    }
    if state.memory_refused {
        return SandboxFailure::Violation(Violation::MemoryCap(limits.memory_mib));
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => SandboxFailure::CpuDeadline(limits.cpu_ms),
        Some(trap) => match &state.panic_message {
            Some(message) => SandboxFailure::Panic(message.clone()),
            None => SandboxFailure::Trap(trap.to_string()),
        },
        None => SandboxFailure::Instantiate(format!("{error:#}")),
    }
}

/// Checks the size and form of a module's output.
fn check_output(output: &CommandOutput, cap: u64) -> Result<(), SandboxFailure> {
    let table_size = output.readable.as_ref().map_or(0, |table| table.rows.len());
    let size = (output.raw.len() + output.context.len() + table_size) as u64;
    if size > cap {
        return Err(SandboxFailure::OutputTooLarge { size, cap });
    }
    for (what, text) in [("raw", &output.raw), ("context", &output.context)] {
        if !text.is_empty() {
            serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|error| {
                SandboxFailure::InvalidOutput(format!("{what} is not JSON: {error}"))
            })?;
        }
    }
    Ok(())
}

/// Takes the grant's credentials out of everything a module returned.
fn redact_output(grant: &Grant, output: &mut CommandOutput) {
    grant.redact(&mut output.raw);
    grant.redact(&mut output.context);
    for assessment in &mut output.assessments {
        grant.redact(&mut assessment.reason);
        grant.redact(&mut assessment.standard_context);
    }
    if let Some(table) = &mut output.readable {
        grant.redact(&mut table.title);
        grant.redact(&mut table.rows);
    }
}

/// Takes the grant's credentials out of a module's error.
fn redact_error(grant: &Grant, error: &mut ProviderError) {
    match error {
        ProviderError::Unauthorized(text) | ProviderError::InvalidInput(text) => grant.redact(text),
        ProviderError::Upstream(failure) => grant.redact(&mut failure.message),
        ProviderError::NotFound | ProviderError::RateLimited(_) | ProviderError::QuotaExhausted => {
        }
    }
}

/// Rules a manifest must follow before its commands are offered.
fn validate_manifest(manifest: &Manifest) -> Result<()> {
    let id_ok = !manifest.id.is_empty()
        && manifest
            .id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if !id_ok {
        bail!("provider id `{}` must be lowercase letters, digits and `-`", manifest.id);
    }
    url::Url::parse(&manifest.base_url)
        .with_context(|| format!("base URL `{}` is not a URL", manifest.base_url))?;
    for command in &manifest.commands {
        let names: Vec<&str> =
            command.arguments.iter().map(|argument| argument.name.as_str()).collect();
        if let Some(indicator) = &command.indicator_argument {
            if !names.contains(&indicator.as_str()) {
                bail!(
                    "command `{}` names indicator argument `{indicator}`, which it does not declare",
                    command.name
                );
            }
            if command.kinds.is_empty() {
                bail!("command `{}` takes an indicator but lists no indicator kinds", command.name);
            }
        }
        if command.arguments.iter().filter(|argument| argument.is_default).count() > 1 {
            bail!("command `{}` has more than one default argument", command.name);
        }
    }
    Ok(())
}

/// Advances the engine's epoch every [`EPOCH_TICK`] for as long as the
/// engine lives; each tick makes a running call yield to the executor.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("ferret-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning a thread at start-up succeeds");
}

/// Wasmtime 48 has its own error type; this is where it becomes ours.
fn engine_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow!("{error:#}")
}
