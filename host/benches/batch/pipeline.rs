//! Running one pipeline as a child process and measuring it.
//!
//! Every pipeline is timed from its process's start to its exit, as a user
//! waits for it: interpreter or binary start-up, reading the input, every
//! request, writing the output. Its standard output goes to a file whose
//! lines are counted; the requests it made are counted by the fake.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::upstream::{Behaviour, Counts, Upstream};

/// How a run was scaled, when it covered only part of the workload.
#[derive(Debug, Clone, Copy)]
pub struct Subset {
    /// Indicators the pipeline actually handled.
    pub measured: usize,
    /// Indicators of the whole workload its time stands for.
    pub workload: usize,
}

/// One pipeline's measured run.
#[derive(Debug, Clone)]
pub struct Run {
    pub label: &'static str,
    /// Wall time, scaled to the whole workload when `subset` says so.
    pub elapsed: Duration,
    /// From the start of the process to its first request at the fake:
    /// start-up, reading the input, loading providers.
    pub start_up: Duration,
    /// Wall time of the part that ran, unscaled.
    pub measured: Duration,
    /// Requests of the whole workload: indicators times providers.
    pub requests: u64,
    /// What the fake counted (over the measured part only).
    pub counts: Counts,
    /// Lines the pipeline wrote to standard output.
    pub lines: usize,
    pub subset: Option<Subset>,
    /// Peak resident set size, when measured.
    pub peak_rss_kib: Option<u64>,
    /// The process's exit code, one of the job's accepted ones.
    pub exit_code: i32,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// A child process to run and time.
pub struct Job<'a> {
    pub label: &'static str,
    pub command: Command,
    /// Where its standard output and error go.
    pub scratch: &'a Path,
    /// Indicators it is given, and how many the workload has.
    pub subset: Option<Subset>,
    pub requests: u64,
    pub measure_memory: bool,
    /// Exit codes of a completed run.
    pub accepted_exits: &'static [i32],
}

/// Runs `job` against `upstream`, freshly reset to `behaviour`.
pub fn run(job: Job<'_>, upstream: &Upstream, behaviour: Behaviour) -> Result<Run> {
    let stdout_path = job.scratch.join(format!("{}.out", slug(job.label)));
    let stderr_path = job.scratch.join(format!("{}.err", slug(job.label)));
    let time_path = job.scratch.join(format!("{}.maxrss", slug(job.label)));
    // GNU time reports the child's exact peak; without it, `VmHWM` is polled.
    let wrapped = job.measure_memory && Path::new(GNU_TIME).is_file();
    let poll_memory = job.measure_memory && !wrapped;
    let accepted_exits = job.accepted_exits;
    let mut command = if wrapped {
        let mut wrapped = Command::new(GNU_TIME);
        wrapped.args(["-f", "%M", "-o"]).arg(&time_path).arg(job.command.get_program());
        wrapped.args(job.command.get_args());
        for (name, value) in job.command.get_envs() {
            match value {
                Some(value) => wrapped.env(name, value),
                None => wrapped.env_remove(name),
            };
        }
        wrapped
    } else {
        job.command
    };
    command
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).context("creating the output file")?)
        .stderr(File::create(&stderr_path).context("creating the error file")?);

    upstream.reset(behaviour);
    let started = Instant::now();
    let mut child = command.spawn().with_context(|| format!("starting {}", job.label))?;
    let mut polled_peak = None;
    let status = if poll_memory {
        loop {
            if let Some(status) = child.try_wait().context("waiting for the pipeline")? {
                break status;
            }
            polled_peak = high_water_mark(child.id()).or(polled_peak);
            std::thread::sleep(Duration::from_millis(5));
        }
    } else {
        child.wait().context("waiting for the pipeline")?
    };
    let measured = started.elapsed();
    let counts = upstream.counts();

    if !status.code().is_some_and(|code| accepted_exits.contains(&code)) {
        let errors = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        let tail: Vec<&str> = errors.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{} exited with {status}:\n    {}", job.label, tail.join("\n    "));
    }
    let peak_rss_kib = if wrapped {
        let text = std::fs::read_to_string(&time_path).context("reading GNU time's figure")?;
        Some(text.trim().parse().with_context(|| format!("GNU time wrote `{}`", text.trim()))?)
    } else {
        polled_peak
    };
    // A subset's time is scaled past its start-up, which a whole run pays
    // once too.
    let start_up = counts.first_request.map_or(measured, |first| first - started).min(measured);
    let scale = job.subset.map_or(1.0, |subset| subset.workload as f64 / subset.measured as f64);
    Ok(Run {
        label: job.label,
        elapsed: start_up + (measured - start_up).mul_f64(scale),
        start_up,
        measured,
        requests: job.requests,
        counts,
        lines: count_lines(&stdout_path)?,
        subset: job.subset,
        peak_rss_kib,
        exit_code: status.code().unwrap_or_default(),
    })
}

/// GNU time, whose `%M` is the child's peak resident set from the kernel.
const GNU_TIME: &str = "/usr/bin/time";

/// `VmHWM` of a running process, in KiB: the peak of its resident set so
/// far. Used when GNU time is not installed; polling can miss growth in
/// the last few milliseconds of the process.
fn high_water_mark(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn count_lines(path: &PathBuf) -> Result<usize> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(BufReader::new(file).lines().count())
}

fn slug(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}
