//! Batch enrichment: how fast `ferret enrich` goes, and that it never goes
//! faster than the providers' quotas allow.
//!
//! Run from the repository after `cargo xtask build`:
//!
//! ```text
//! cargo bench -p ferret-host --bench batch
//! ```
//!
//! A fake VirusTotal and AbuseIPDB on loopback (`upstream.rs`) answers with
//! the recorded sample shapes after a set latency, optionally behind a token
//! bucket per provider. Three pipelines enrich the same unique public IP
//! addresses, each address with both providers:
//!
//! - `ferret enrich FILE --format ndjson --no-cache`, with a fresh data
//!   folder each run;
//! - `sequential.py`, the usual hand-written loop: urllib, one request after
//!   another, a fixed pause after each;
//! - `asyncio_pipeline.py`, the usual concurrent script: aiohttp and a
//!   semaphore of Ferret's concurrency, no rate limiting.
//!
//! Scenario (a) has no rate limit and 50 ms of latency; scenario (b) limits
//! each provider to 20 requests per second at the fake and configures
//! Ferret with the same limit. A last run sends 100,000 addresses through
//! Ferret against a fake that answers at once and records its peak memory.
//! The figures are printed side by side with the goals; the exit status is
//! 1 when a goal is missed or a pipeline could not run.
//!
//! Options (after `--`): `--indicators N` (default 500), `--sequential-subset
//! N` (default 40), `--memory-indicators N` (default 100000),
//! `--skip-memory`.

mod pipeline;
mod upstream;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use pipeline::{Job, Run, Subset};
use upstream::{Behaviour, Provider, Upstream};

/// Calls Ferret's scheduler runs at once per provider
/// (`scheduler.concurrency`, its default, written out in the configuration).
const LANE_CONCURRENCY: usize = 8;

/// Requests in flight at once across both providers: Ferret's lanes
/// together, and the asyncio pipeline's semaphore.
const CONCURRENCY: usize = LANE_CONCURRENCY * Provider::ALL.len();

/// Latency of every answer in scenarios (a) and (b).
const LATENCY: Duration = Duration::from_millis(50);

/// Scenario (b)'s limit, per provider, at the fake and in Ferret.
const RATE_PER_SECOND: u32 = 20;

/// The pause the sequential loop takes after each request.
const SEQUENTIAL_PAUSE: &str = "0.2";

/// The key every pipeline sends; the fake only checks that one is there.
const API_KEY: &str = "bench-key";

/// Limits large enough never to hold Ferret back, for the runs without a
/// quota. The daily one must cover the memory run's requests.
const UNLIMITED: Limits = Limits { per_second: 1_000_000, per_minute: 60_000_000 };
const PER_DAY: u32 = 100_000_000;

#[derive(Debug, Clone, Copy)]
struct Limits {
    per_second: u32,
    per_minute: u32,
}

struct Options {
    indicators: usize,
    sequential_subset: usize,
    memory_indicators: usize,
    skip_memory: bool,
}

impl Options {
    fn from_args() -> Result<Self> {
        let mut options = Self {
            indicators: 500,
            sequential_subset: 40,
            memory_indicators: 100_000,
            skip_memory: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<usize> {
                let value = args.next().with_context(|| format!("{name} needs a number"))?;
                match value.parse() {
                    Ok(number) if number > 0 => Ok(number),
                    _ => bail!("{name} needs a number above zero, not `{value}`"),
                }
            };
            match arg.as_str() {
                "--indicators" => options.indicators = number("--indicators")?,
                "--sequential-subset" => {
                    options.sequential_subset = number("--sequential-subset")?;
                }
                "--memory-indicators" => {
                    options.memory_indicators = number("--memory-indicators")?;
                }
                "--skip-memory" => options.skip_memory = true,
                // `cargo bench` passes `--bench` to every bench binary.
                "--bench" => {}
                other => bail!("unknown option `{other}`"),
            }
        }
        options.sequential_subset = options.sequential_subset.min(options.indicators);
        Ok(options)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("batch bench: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Everything the pipelines share.
struct Bench {
    root: PathBuf,
    scratch: tempfile::TempDir,
    upstream: Upstream,
    ferret: Result<PathBuf, String>,
    asyncio_python: Result<PathBuf, String>,
    /// A data folder whose compiled-module cache is warm.
    warm_modules: Option<PathBuf>,
    goals: Vec<Goal>,
}

struct Goal {
    text: String,
    met: bool,
}

fn run() -> Result<bool> {
    let options = Options::from_args()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for id in ["virustotal", "abuseipdb"] {
        let module = root.join("target/providers").join(format!("{id}.wasm"));
        if !module.is_file() {
            bail!("{} is missing: run `cargo xtask build` first", module.display());
        }
    }

    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let quiet = Behaviour { latency: Duration::ZERO, per_second: None };
    let upstream = runtime.block_on(Upstream::start(&root.join("tests/data/samples"), quiet));
    let scratch = tempfile::tempdir().context("creating a scratch folder")?;
    let mut bench = Bench {
        ferret: ferret_enrich(),
        asyncio_python: asyncio_python(&root),
        root,
        scratch,
        upstream,
        warm_modules: None,
        goals: Vec::new(),
    };
    if let Err(reason) = &bench.ferret {
        println!("ferret enrich not available: {reason}\n");
    }
    if let Err(reason) = &bench.asyncio_python {
        println!("asyncio pipeline not available: {reason}\n");
    }
    bench.warm_up()?;

    let input = bench.write_input("addresses.txt", options.indicators)?;
    bench.latency_scenario(&options, &input)?;
    bench.rate_scenario(&options, &input)?;
    if !options.skip_memory {
        bench.memory_run(&options)?;
    }

    println!("Goals");
    for goal in &bench.goals {
        println!("  [{}] {}", if goal.met { "met" } else { "MISSED" }, goal.text);
    }
    let complete = bench.ferret.is_ok() && bench.asyncio_python.is_ok();
    if !complete {
        println!("  [MISSED] every pipeline ran (see above for what was not available)");
    }
    Ok(complete && bench.goals.iter().all(|goal| goal.met))
}

impl Bench {
    /// Scenario (a): latency only.
    fn latency_scenario(&mut self, options: &Options, input: &Path) -> Result<()> {
        let behaviour = Behaviour { latency: LATENCY, per_second: None };
        let requests = (options.indicators * Provider::ALL.len()) as u64;
        let bound = LATENCY.mul_f64(requests as f64 / CONCURRENCY as f64);
        println!(
            "Scenario (a): {} addresses x 2 providers = {requests} requests, {} ms latency, \
             no rate limit, concurrency {CONCURRENCY}",
            options.indicators,
            LATENCY.as_millis()
        );
        println!(
            "  bound = requests x latency / concurrency = {requests} x {} ms / {CONCURRENCY} = \
             {:.2} s",
            LATENCY.as_millis(),
            bound.as_secs_f64()
        );

        let sequential = self.sequential(options, input, behaviour)?;
        let asyncio = self.asyncio(input, requests, behaviour)?;
        let ferret = self.ferret(input, requests, behaviour, UNLIMITED, false)?.map(|f| f.run);
        print_table(&sequential, asyncio.as_ref(), ferret.as_ref(), bound);
        print_subset_note(&sequential);
        if let Some(asyncio) = &asyncio {
            // With as many requests in flight, no pipeline beats the bound:
            // that caps any speed-up over the asyncio script.
            println!(
                "  with {CONCURRENCY} requests in flight no pipeline can beat the bound, so the \
                 most any could gain over asyncio here is its time / bound = {:.2}x",
                ratio_to(asyncio, bound)
            );
        }

        if let Some(ferret) = &ferret {
            let versus_sequential = speed_up(ferret, &sequential);
            self.goal(
                format!("(a) ferret >= 50x sequential: {versus_sequential:.1}x"),
                versus_sequential >= 50.0,
            );
            if let Some(asyncio) = &asyncio {
                let versus_asyncio = speed_up(ferret, asyncio);
                self.goal(
                    format!("(a) ferret >= 1.5x asyncio: {versus_asyncio:.2}x"),
                    versus_asyncio >= 1.5,
                );
            }
            let ratio = ratio_to(ferret, bound);
            self.goal(format!("(a) ferret within 1.25x the bound: {ratio:.2}x"), ratio <= 1.25);
            self.answered_everything("(a)", ferret);
        }
        println!();
        Ok(())
    }

    /// Scenario (b): the fake enforces a quota and Ferret is told it.
    fn rate_scenario(&mut self, options: &Options, input: &Path) -> Result<()> {
        let behaviour = Behaviour { latency: LATENCY, per_second: Some(RATE_PER_SECOND) };
        let requests = (options.indicators * Provider::ALL.len()) as u64;
        let rate = f64::from(RATE_PER_SECOND) * Provider::ALL.len() as f64;
        let bound = Duration::from_secs_f64(requests as f64 / rate);
        println!(
            "Scenario (b): the same {requests} requests, {} ms latency, the fake limited to \
             {RATE_PER_SECOND}/s per provider (token bucket, burst {RATE_PER_SECOND}, 429 with \
             Retry-After beyond), Ferret configured with per_second = {RATE_PER_SECOND}, \
             per_minute = {}",
            LATENCY.as_millis(),
            RATE_PER_SECOND * 60
        );
        println!(
            "  bound = requests / rate = {requests} / ({RATE_PER_SECOND}/s x 2 providers) = \
             {:.2} s",
            bound.as_secs_f64()
        );

        let limits = Limits { per_second: RATE_PER_SECOND, per_minute: RATE_PER_SECOND * 60 };
        let sequential = self.sequential(options, input, behaviour)?;
        let asyncio = self.asyncio(input, requests, behaviour)?;
        let ferret = self.ferret(input, requests, behaviour, limits, false)?.map(|f| f.run);
        print_table(&sequential, asyncio.as_ref(), ferret.as_ref(), bound);
        print_subset_note(&sequential);

        if let Some(ferret) = &ferret {
            let too_many = ferret.counts.total().too_many;
            self.goal(format!("(b) ferret saw no 429: {too_many} 429s"), too_many == 0);
            let ratio = ratio_to(ferret, bound);
            self.goal(
                format!("(b) ferret within 1.25x of requests / rate: {ratio:.2}x"),
                ratio <= 1.25,
            );
            self.answered_everything("(b)", ferret);
        }
        if let Some(asyncio) = &asyncio {
            let too_many = asyncio.counts.total().too_many;
            self.goal(format!("(b) the asyncio pipeline hit 429s: {too_many} 429s"), too_many > 0);
        }
        println!();
        Ok(())
    }

    /// Many addresses through Ferret, answered at once, for its memory.
    fn memory_run(&mut self, options: &Options) -> Result<()> {
        let behaviour = Behaviour { latency: Duration::ZERO, per_second: None };
        let input = self.write_input("memory.txt", options.memory_indicators)?;
        let requests = (options.memory_indicators * Provider::ALL.len()) as u64;
        println!(
            "Memory: {} addresses x 2 providers = {requests} requests through ferret enrich \
             --format ndjson, the fake answering at once, no rate limit",
            options.memory_indicators
        );
        let Some(FerretRun { run: ferret, state_bytes }) =
            self.ferret(&input, requests, behaviour, UNLIMITED, true)?
        else {
            println!();
            return Ok(());
        };
        let peak_kib = ferret.peak_rss_kib.context("the memory run measured no peak")?;
        let peak_bytes = peak_kib * 1024;
        let how = if Path::new("/usr/bin/time").is_file() {
            "GNU time's maximum resident set size"
        } else {
            "VmHWM polled every 5 ms"
        };
        println!(
            "  time {:.1} s, {:.0} requests/s, {} output lines, {} answered, {} 429s, peak in \
             flight {}",
            ferret.elapsed.as_secs_f64(),
            ferret.per_second(),
            ferret.lines,
            ferret.counts.total().answered,
            ferret.counts.total().too_many,
            ferret.counts.peak_in_flight,
        );
        println!(
            "  peak RSS {:.1} MB ({:.1} MiB), by {how}",
            peak_bytes as f64 / 1e6,
            peak_kib as f64 / 1024.0
        );
        println!(
            "  state file afterwards (ferret.sqlite3 with its WAL): {:.1} MB; with --no-cache \
             the answers are still stored, for later runs",
            state_bytes as f64 / 1e6
        );
        self.goal(
            format!(
                "memory: ferret's peak RSS <= 150 MB over {} addresses: {:.1} MB",
                options.memory_indicators,
                peak_bytes as f64 / 1e6
            ),
            peak_bytes <= 150_000_000,
        );
        self.answered_everything("memory", &ferret);
        println!();
        Ok(())
    }

    fn goal(&mut self, text: String, met: bool) {
        self.goals.push(Goal { text, met });
    }

    /// Ferret's answers are only worth timing if every request was made
    /// and answered.
    fn answered_everything(&mut self, scenario: &str, ferret: &Run) {
        let answered = ferret.counts.total().answered;
        self.goal(
            format!(
                "{scenario} ferret made and got an answer to every request: {answered} of {}",
                ferret.requests
            ),
            answered == ferret.requests,
        );
    }

    fn sequential(&self, options: &Options, input: &Path, behaviour: Behaviour) -> Result<Run> {
        let mut command = Command::new("python3");
        command
            .arg(self.root.join("host/benches/batch/sequential.py"))
            .arg(input)
            .args(["--virustotal", &self.upstream.url(), "--abuseipdb", &self.upstream.url()])
            .args(["--pause", SEQUENTIAL_PAUSE])
            .args(["--limit", &options.sequential_subset.to_string()]);
        with_keys(&mut command);
        let subset = (options.sequential_subset < options.indicators).then_some(Subset {
            measured: options.sequential_subset,
            workload: options.indicators,
        });
        let job = Job {
            label: "sequential (urllib)",
            command,
            scratch: self.scratch.path(),
            subset,
            requests: (options.indicators * Provider::ALL.len()) as u64,
            measure_memory: false,
            accepted_exits: &[0],
        };
        pipeline::run(job, &self.upstream, behaviour)
    }

    fn asyncio(&self, input: &Path, requests: u64, behaviour: Behaviour) -> Result<Option<Run>> {
        let Ok(python) = &self.asyncio_python else {
            return Ok(None);
        };
        let mut command = Command::new(python);
        command
            .arg(self.root.join("host/benches/batch/asyncio_pipeline.py"))
            .arg(input)
            .args(["--virustotal", &self.upstream.url(), "--abuseipdb", &self.upstream.url()])
            .args(["--concurrency", &CONCURRENCY.to_string()]);
        with_keys(&mut command);
        let job = Job {
            label: "asyncio (aiohttp)",
            command,
            scratch: self.scratch.path(),
            subset: None,
            requests,
            measure_memory: false,
            accepted_exits: &[0],
        };
        pipeline::run(job, &self.upstream, behaviour).map(Some)
    }

    fn ferret(
        &self,
        input: &Path,
        requests: u64,
        behaviour: Behaviour,
        limits: Limits,
        measure_memory: bool,
    ) -> Result<Option<FerretRun>> {
        let Ok(ferret) = &self.ferret else {
            return Ok(None);
        };
        let data_dir = tempfile::tempdir_in(self.scratch.path()).context("a fresh data folder")?;
        if let Some(warm) = &self.warm_modules {
            copy_dir(warm, &data_dir.path().join("modules"))?;
        }
        let config = self.ferret_config(data_dir.path(), limits)?;
        let job = Job {
            label: "ferret enrich",
            command: ferret_command(ferret, &config, input),
            scratch: self.scratch.path(),
            subset: None,
            requests,
            measure_memory,
            // 1 is Ferret's "some provider entry is an error": the run
            // completed, and the fake's counts say what went wrong.
            accepted_exits: &[0, 1],
        };
        let run = pipeline::run(job, &self.upstream, behaviour)?;
        let state_bytes = state_file_bytes(data_dir.path())?;
        Ok(Some(FerretRun { run, state_bytes }))
    }

    /// A configuration pointing both providers at the fake, with `limits`.
    fn ferret_config(&self, data_dir: &Path, limits: Limits) -> Result<PathBuf> {
        let mut text = format!(
            "data_dir = {:?}\n\n[scheduler]\nconcurrency = {LANE_CONCURRENCY}\n",
            data_dir.display().to_string()
        );
        for provider in Provider::ALL {
            let id = provider.id();
            let _ = write!(
                text,
                "\n[providers.{id}]\nbase_url = \"{url}\"\n\n[providers.{id}.limits]\n\
                 per_second = {}\nper_minute = {}\nper_day = {PER_DAY}\n",
                limits.per_second,
                limits.per_minute,
                url = self.upstream.url(),
            );
        }
        let path = data_dir.join("ferret.toml");
        std::fs::write(&path, text).context("writing the configuration")?;
        Ok(path)
    }

    /// Runs Ferret once on one address so that wasmtime compiles the two
    /// providers; each measured run then starts with a copy of that cache,
    /// as every run after an installation's first does.
    fn warm_up(&mut self) -> Result<()> {
        let Ok(ferret) = &self.ferret else {
            return Ok(());
        };
        let data_dir = self.scratch.path().join("warm");
        std::fs::create_dir_all(&data_dir).context("creating the warm-up folder")?;
        let input = self.write_input("warm-up.txt", 1)?;
        let config = self.ferret_config(&data_dir, UNLIMITED)?;
        let output = ferret_command(ferret, &config, &input)
            .output()
            .context("running ferret enrich to warm the module cache")?;
        if !output.status.code().is_some_and(|code| code == 0 || code == 1) {
            bail!(
                "ferret enrich failed on one address: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        self.warm_modules = Some(data_dir.join("modules")).filter(|dir| dir.is_dir());
        Ok(())
    }

    /// Writes `count` unique public addresses, one a line.
    fn write_input(&self, name: &str, count: usize) -> Result<PathBuf> {
        let mut text = String::with_capacity(count * 14);
        for address in addresses(count) {
            text.push_str(&address);
            text.push('\n');
        }
        let path = self.scratch.path().join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// A Ferret run and what it left in its data folder.
struct FerretRun {
    run: Run,
    /// Bytes of the SQLite state file and its side files.
    state_bytes: u64,
}

/// The size of `ferret.sqlite3` and its `-wal` and `-shm` files in
/// `data_dir`.
fn state_file_bytes(data_dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(data_dir).context("reading the data folder")? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with("ferret.sqlite3") {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// `count` distinct public unicast addresses from 23.0.0.0/8 on, with no
/// network or broadcast-looking last octet.
fn addresses(count: usize) -> impl Iterator<Item = String> {
    (0..count).map(|index| {
        let host = index % 254 + 1;
        let third = index / 254 % 256;
        let second = index / (254 * 256) % 256;
        let first = 23 + index / (254 * 256 * 256);
        format!("{first}.{second}.{third}.{host}")
    })
}

fn ferret_command(ferret: &Path, config: &Path, input: &Path) -> Command {
    let mut command = Command::new(ferret);
    command
        .arg("enrich")
        .arg(input)
        .args(["--format", "ndjson", "--no-cache", "--providers", "virustotal,abuseipdb"])
        .arg("--config")
        .arg(config)
        .env_remove("FERRET_CONFIG")
        .env_remove("FERRET_LOG");
    with_keys(&mut command);
    command
}

fn with_keys(command: &mut Command) {
    command.env("FERRET_VIRUSTOTAL_API_KEY", API_KEY).env("FERRET_ABUSEIPDB_API_KEY", API_KEY);
}

/// The `ferret` binary, if it has the `enrich` command.
fn ferret_enrich() -> Result<PathBuf, String> {
    let ferret = PathBuf::from(env!("CARGO_BIN_EXE_ferret"));
    let output = Command::new(&ferret)
        .args(["enrich", "--help"])
        .output()
        .map_err(|error| format!("cannot run {}: {error}", ferret.display()))?;
    if output.status.success() {
        Ok(ferret)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(stderr.lines().next().unwrap_or("`ferret enrich --help` failed").to_owned())
    }
}

/// A Python with aiohttp: a virtual environment under the target folder,
/// made and filled from `requirements.txt` on first use.
fn asyncio_python(root: &Path) -> Result<PathBuf, String> {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("batch-venv");
    let python = venv.join("bin/python");
    let has_aiohttp = |python: &Path| {
        Command::new(python)
            .args(["-c", "import aiohttp"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_aiohttp(&python) {
        return Ok(python);
    }
    println!("Installing aiohttp into {} for the asyncio pipeline...", venv.display());
    let requirements = root.join("host/benches/batch/requirements.txt");
    let steps: [(&str, Command); 2] = [
        ("python3 -m venv", {
            let mut command = Command::new("python3");
            command.args(["-m", "venv"]).arg(&venv);
            command
        }),
        ("pip install", {
            let mut command = Command::new(venv.join("bin/pip"));
            command.args(["install", "--quiet", "-r"]).arg(&requirements);
            command
        }),
    ];
    for (what, mut command) in steps {
        let output = command.output().map_err(|error| format!("{what}: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "{what} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    if has_aiohttp(&python) {
        Ok(python)
    } else {
        Err(format!("{} still cannot import aiohttp", python.display()))
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// How many times faster `run` was than `baseline`.
fn speed_up(run: &Run, baseline: &Run) -> f64 {
    baseline.elapsed.as_secs_f64() / run.elapsed.as_secs_f64()
}

/// `run`'s time over the bound: 1.00 is at the bound, above is slower.
fn ratio_to(run: &Run, bound: Duration) -> f64 {
    run.elapsed.as_secs_f64() / bound.as_secs_f64()
}

fn print_table(sequential: &Run, asyncio: Option<&Run>, ferret: Option<&Run>, bound: Duration) {
    let runs = [Some(sequential), asyncio, ferret];
    println!(
        "  {:<20} {:>10} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>9} {:>9} {:>7}",
        "pipeline",
        "time",
        "start-up",
        "req/s",
        "x seq",
        "x async",
        "/ bound",
        "429s",
        "answered",
        "in flight",
        "lines"
    );
    for run in runs.iter().flatten() {
        let star = if run.subset.is_some() { "*" } else { " " };
        let versus_asyncio =
            asyncio.map_or("-".to_owned(), |asyncio| format!("{:.2}", speed_up(run, asyncio)));
        let total = run.counts.total();
        println!(
            "  {:<20} {:>9.2}s{star}{:>7.2}s {:>9.1} {:>8.1} {:>9} {:>8.2} {:>6} {:>9} {:>9} {:>7}",
            run.label,
            run.elapsed.as_secs_f64(),
            run.start_up.as_secs_f64(),
            run.per_second(),
            speed_up(run, sequential),
            versus_asyncio,
            ratio_to(run, bound),
            total.too_many,
            total.answered,
            run.counts.peak_in_flight,
            run.lines,
        );
    }
    for run in runs.iter().flatten() {
        let [virustotal, abuseipdb] = run.counts.per_provider;
        let exit =
            if run.exit_code == 0 { String::new() } else { format!(", exit {}", run.exit_code) };
        println!(
            "    {}: virustotal {} requests ({} answered, {} 429, {} refused), abuseipdb {} \
             requests ({} answered, {} 429, {} refused){exit}",
            run.label,
            virustotal.requests,
            virustotal.answered,
            virustotal.too_many,
            virustotal.refused,
            abuseipdb.requests,
            abuseipdb.answered,
            abuseipdb.too_many,
            abuseipdb.refused,
        );
    }
}

fn print_subset_note(sequential: &Run) {
    if let Some(subset) = sequential.subset {
        println!(
            "  * sequential ran on the first {} of {} addresses, in {:.2} s of which {:.2} s \
             start-up; the rest was scaled by {}/{}: each request waits for the one before plus \
             a fixed {SEQUENTIAL_PAUSE} s pause, so its time grows linearly with the count, and \
             the whole set would take minutes. Its counts (429s, answered, lines) are those of \
             the part it ran",
            subset.measured,
            subset.workload,
            sequential.measured.as_secs_f64(),
            sequential.start_up.as_secs_f64(),
            subset.workload,
            subset.measured
        );
    }
}
