//! The scheduler: every provider call, from `ferret run`, an XSOAR command
//! or a batch, passes through here on its way to the sandbox.
//!
//! Per provider it keeps a lane: a number of calls that may run at once,
//! the rate limits of the manifest (or the operator's
//! `[providers.<id>.limits]`), the daily quota in the state file, and a
//! pause set by a `429`. Around the lanes sit the result cache and
//! single-flight: a call identical to one already running waits for that
//! one's result instead of asking the upstream again.
//!
//! Limits hold per outbound request, not per call. The first request's
//! permit and quota unit are taken before the call starts, so waiting for
//! them never eats into the call's own time limit; any further request
//! the call makes (a second page, a second lookup) takes its own through
//! [`before_request`], which the sandbox's HTTP client calls before each
//! exchange. A retry of a request the upstream refused with `429` or `5xx`
//! is the same request again: it waits out the pause the refusal set but
//! takes no new permit or quota unit, since the refusal did not count
//! against the upstream's limit. A call that ends without sending anything
//! (its module refused the input) still spent its prepaid unit: the ledger
//! errs towards spending less than allowed, never more.
//!
//! Rate limits spread permits evenly over their period (a burst of one):
//! 4 a minute means one every 15 s. No window of the period's length then
//! holds more than the limit, whichever way the upstream counts. They are
//! kept in memory, per process: two `ferret` processes started at once
//! each keep the rate on their own. The daily quota, kept in the state
//! file, is shared by every process on the machine. A lane takes it from
//! the file in small blocks (see [`lease_block`]) and gives back what it
//! did not use when the scheduler is dropped; a process that dies holding
//! a block leaves those units spent for the day, so the quota can be
//! underused by a block, never overspent.
//!
//! Interactive calls (a command) go before queued batch calls: both wait
//! in one queue per lane, and a waiting interactive call is served first.
//! They also wait less: a batch sits out a `429`'s pause (up to
//! `scheduler.max_pause_seconds`) and carries on, while a command, which a
//! person or a playbook task is waiting on, waits at most
//! [`INTERACTIVE_MAX_WAIT`], tries once more, and otherwise reports the rate
//! limit at once.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{oneshot, watch};

use crate::config::{Config, KIND_NAMES, SchedulerConfig};
use crate::dispatch::{Outcome, kind_name, outcome_name};
use crate::metrics::Metrics;
use crate::output::xsoar::dbot_type;
use crate::router::{Provider, Registry};
use crate::sandbox::{CallStats, CommandRequest, ProviderError, Sandbox};
use crate::store::{CacheKey, Cached, CallRecord, Store, next_utc_midnight, now_seconds, utc_day};

/// The longest pause an interactive call sits out; the same as the HTTP
/// client's own longest retry wait.
pub const INTERACTIVE_MAX_WAIT: Duration = Duration::from_secs(2);

/// Who is waiting for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A person or a playbook waiting on one command.
    Interactive,
    /// One indicator of a batch.
    Batch,
}

/// How one call should be made.
#[derive(Debug, Clone, Copy)]
pub struct CallOptions {
    /// Its place in the queue.
    pub priority: Priority,
    /// Whether a cached result may answer it. Fresh results are stored
    /// either way.
    pub use_cache: bool,
}

/// A call's outcome and how it came about.
#[derive(Debug, Clone)]
pub struct Scheduled {
    /// What became of it.
    pub outcome: Outcome,
    /// Where the sandbox's time went; zero when nothing ran.
    pub stats: CallStats,
    /// Answered from the cache, or by an identical call in flight.
    pub cache_hit: bool,
}

/// The lanes of every provider, the cache and the in-flight calls.
pub struct Scheduler {
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    lanes: HashMap<String, Arc<Lane>>,
    inflight: Mutex<HashMap<CacheKey, watch::Receiver<Option<Scheduled>>>>,
    settings: SchedulerConfig,
}

/// One provider's share of the scheduler.
pub struct Lane {
    id: String,
    /// Calls running at once.
    slots: Arc<PriorityGate>,
    /// One waiter at a time at the rate limiters, chosen by priority.
    turn: Arc<PriorityGate>,
    per_second: Option<DefaultDirectRateLimiter>,
    per_minute: Option<DefaultDirectRateLimiter>,
    /// Requests per UTC day, if limited.
    pub per_day: Option<u32>,
    /// Whose quota it is: the provider at this upstream.
    account: String,
    /// Units of the daily quota taken from the state file, not yet spent.
    lease: Mutex<Lease>,
    /// Units taken from the state file at a time.
    lease_block: u32,
    paused_until: Mutex<Option<Instant>>,
    max_pause: Duration,
    /// How long an answer and a not-found are reused, per kind name.
    lifetimes: HashMap<&'static str, (Duration, Duration)>,
    /// Whether results of this provider's commands may be cached, by
    /// command name.
    cacheable: Vec<String>,
}

/// The units of one account's daily quota a process holds: taken from
/// the state file a block at a time, spent one per request, and given
/// back when no longer wanted.
#[derive(Debug, Default)]
struct Lease {
    /// The UTC day they are of.
    day: String,
    /// Units held and not spent.
    units: u32,
    /// The day's spent count in the state file when they were taken,
    /// held units included.
    spent: u32,
}

impl Lease {
    /// Spends one unit of `account`'s quota of `limit` for `day`, taking
    /// `block` units from `store` when none is held. Returns the units
    /// left for the day as this process sees them, or `None` when the
    /// quota is spent.
    fn spend(
        &mut self,
        store: &Store,
        account: &str,
        day: &str,
        limit: u32,
        block: u32,
    ) -> anyhow::Result<Option<u32>> {
        if self.day != day {
            // Units of a day that is over are worth nothing now.
            *self = Self { day: day.to_owned(), units: 0, spent: 0 };
        }
        if self.units == 0 {
            (self.units, self.spent) = store.quota_take(account, day, block, limit)?;
        }
        if self.units == 0 {
            return Ok(None);
        }
        self.units -= 1;
        Ok(self.left(day, limit))
    }

    /// Units left of `limit` for `day`, held ones included; `None` when
    /// this lease knows nothing of that day.
    fn left(&self, day: &str, limit: u32) -> Option<u32> {
        (self.day == day).then(|| limit.saturating_sub(self.spent - self.units))
    }

    /// Gives the held units back to `store`.
    fn give_back(&mut self, store: &Store, account: &str) -> anyhow::Result<()> {
        if self.units > 0 {
            let units = std::mem::take(&mut self.units);
            store.quota_give_back(account, &self.day, units)?;
        }
        Ok(())
    }
}

/// Units of a daily `limit` a lane takes from the state file at a time:
/// a thousandth of it, between 1 and 100. Small quotas (a free tier's
/// 500 a day) are taken a unit at a time, so two processes sharing one
/// never strand a unit in the other; large ones cost one write per block
/// instead of one per call.
pub fn lease_block(limit: u32) -> u32 {
    (limit / 1000).clamp(1, 100)
}

tokio::task_local! {
    /// The lane and quota of the call running on this task, read by the
    /// sandbox's HTTP client through [`before_request`].
    static REQUEST: Arc<RequestContext>;
}

/// What the HTTP hook needs to know about the running call.
struct RequestContext {
    lane: Arc<Lane>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    priority: Priority,
    /// The first request's permit and quota unit, taken before the call.
    prepaid: AtomicBool,
    /// Set when a request was refused for want of quota.
    quota_refused: AtomicBool,
    /// Seconds of pause left when a request was refused for a pause
    /// longer than the call waits; 0 when none was.
    pause_refused: AtomicU32,
    /// `429` answers seen.
    rate_limits: AtomicU32,
}

/// Called by the sandbox's HTTP client before each outbound request
/// (`retry`: the same request again after a `429` or `5xx`): waits out a
/// pause and the rate limits, and takes a unit of the daily quota. The
/// error is the reason to give the module instead of sending. Outside a
/// scheduled call (loading a module, `test-module`) it lets everything
/// through.
pub async fn before_request(retry: bool) -> Result<(), String> {
    let Ok(context) = REQUEST.try_with(Arc::clone) else {
        return Ok(());
    };
    let prepaid = context.prepaid.swap(false, Ordering::SeqCst);
    let waited = if prepaid {
        Ok(())
    } else if retry {
        context.lane.sit_out_pause(context.priority).await
    } else {
        context.lane.admit(context.priority).await
    };
    if let Err(seconds) = waited {
        context.pause_refused.store(seconds.max(1), Ordering::SeqCst);
        return Err(format!("the upstream asked for a pause of {seconds} s more"));
    }
    if prepaid || retry {
        return Ok(());
    }
    match context.lane.reserve(&context.store, &context.metrics) {
        Ok(()) => Ok(()),
        Err(until) => {
            context.quota_refused.store(true, Ordering::SeqCst);
            Err(format!("the daily quota is spent until {until}"))
        }
    }
}

/// Called by the sandbox's HTTP client after each answer: a `429` pauses
/// the provider for its `Retry-After` (capped), so that its other calls
/// wait instead of being refused too.
pub fn after_response(status: u16, headers: &[(String, String)]) {
    if status != 429 {
        return;
    }
    let Ok(context) = REQUEST.try_with(Arc::clone) else {
        return;
    };
    context.rate_limits.fetch_add(1, Ordering::SeqCst);
    context.metrics.rate_limited(&context.lane.id);
    let seconds = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, value)| value.trim().parse::<u64>().ok())
        // Without a usable Retry-After (absent, or an HTTP date), a second.
        .unwrap_or(1);
    context.lane.pause(Duration::from_secs(seconds));
}

impl Scheduler {
    /// Lanes for every provider of `registry`, under `config`.
    pub fn new(
        config: &Config,
        registry: &Registry,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let lanes = registry
            .providers()
            .iter()
            .map(|provider| {
                let lane = Lane::new(provider, config);
                (provider.id().to_owned(), Arc::new(lane))
            })
            .collect();
        Self {
            store,
            metrics,
            lanes,
            inflight: Mutex::new(HashMap::new()),
            settings: config.scheduler,
        }
    }

    /// The state file.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// A provider's lane.
    pub fn lane(&self, id: &str) -> Option<&Arc<Lane>> {
        self.lanes.get(id)
    }

    /// Quota left today for provider `id`: `None` when it has no daily
    /// limit. Units this process holds count as left; another process's
    /// spending shows once this one takes its next block.
    pub fn quota_left(&self, id: &str) -> Option<u32> {
        let lane = self.lanes.get(id)?;
        let limit = lane.per_day?;
        let day = utc_day(now_seconds());
        let held = lane.lease.lock().unwrap_or_else(|p| p.into_inner()).left(&day, limit);
        if held.is_some() {
            return held;
        }
        let spent = self.store.quota_spent(&lane.account, &day).ok()?;
        Some(limit.saturating_sub(spent))
    }

    /// Makes one call, or answers it from the cache or from an identical
    /// call in flight.
    pub async fn call(
        &self,
        sandbox: &Sandbox,
        provider: &Provider,
        request: CommandRequest,
        options: CallOptions,
    ) -> Scheduled {
        let started = Instant::now();
        let lane = Arc::clone(&self.lanes[provider.id()]);
        let key = cache_key(provider, &request);
        // Results are cached per indicator, for as long as its kind says.
        let lifetimes = request
            .indicator
            .as_ref()
            .and_then(|indicator| lane.lifetimes.get(dbot_type(indicator.kind)).copied())
            .filter(|_| lane.cacheable.contains(&request.command));
        let cacheable = lifetimes.is_some();

        let cached = if cacheable && options.use_cache {
            self.store.cache_get(&key).unwrap_or_else(|error| {
                tracing::warn!(provider = %provider.id(), "cache read failed: {error:#}");
                None
            })
        } else {
            None
        };
        if let Some(cached) = cached {
            let outcome = match cached {
                Cached::Answer(output) => Outcome::Answered(output),
                Cached::NotFound => Outcome::NotFound,
            };
            let scheduled = Scheduled { outcome, stats: CallStats::default(), cache_hit: true };
            self.record(provider, &request, &scheduled, started.elapsed(), 0);
            return scheduled;
        }

        // Single-flight: the first caller of a key runs it; the others
        // wait for its result. A leader that is cancelled drops its
        // sender, and a follower then takes over.
        let sender = loop {
            let waiting = {
                let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
                match inflight.get(&key) {
                    Some(receiver) => receiver.clone(),
                    None => {
                        let (sender, receiver) = watch::channel(None);
                        inflight.insert(key.clone(), receiver);
                        break sender;
                    }
                }
            };
            let mut waiting = waiting;
            let joined = waiting.wait_for(Option::is_some).await.map(|value| value.clone());
            if let Ok(Some(mut scheduled)) = joined {
                scheduled.cache_hit = true;
                self.record(provider, &request, &scheduled, started.elapsed(), 0);
                return scheduled;
            }
        };
        let leader = Leader { inflight: &self.inflight, key: &key, done: false };

        let (scheduled, rate_limits) =
            self.run(sandbox, provider, &lane, request.clone(), options).await;
        if let Some((answer_ttl, not_found_ttl)) = lifetimes {
            let kept = match &scheduled.outcome {
                Outcome::Answered(output) => Some((Cached::Answer(output.clone()), answer_ttl)),
                Outcome::NotFound => Some((Cached::NotFound, not_found_ttl)),
                _ => None,
            };
            if let Some((value, ttl)) = kept {
                self.store.cache_put(&key, value, ttl);
            }
        }
        self.record(provider, &request, &scheduled, started.elapsed(), rate_limits);
        leader.finish(&sender, &scheduled);
        scheduled
    }

    /// Runs a call on its lane: a slot, the first request's permit and
    /// quota unit, then the sandbox; again after a `429`'s pause.
    async fn run(
        &self,
        sandbox: &Sandbox,
        provider: &Provider,
        lane: &Arc<Lane>,
        request: CommandRequest,
        options: CallOptions,
    ) -> (Scheduled, u32) {
        let _slot = lane.slots.acquire(options.priority).await;
        let mut rate_limits = 0;
        let mut attempt = 0;
        loop {
            if let Err(seconds) = lane.admit(options.priority).await {
                let outcome = Outcome::Refused(ProviderError::RateLimited(seconds));
                return (
                    Scheduled { outcome, stats: CallStats::default(), cache_hit: false },
                    rate_limits,
                );
            }
            if let Err(until) = lane.reserve(&self.store, &self.metrics) {
                let outcome = Outcome::QuotaExhausted { until };
                return (
                    Scheduled { outcome, stats: CallStats::default(), cache_hit: false },
                    rate_limits,
                );
            }
            let context = Arc::new(RequestContext {
                lane: Arc::clone(lane),
                store: Arc::clone(&self.store),
                metrics: Arc::clone(&self.metrics),
                priority: options.priority,
                prepaid: AtomicBool::new(true),
                quota_refused: AtomicBool::new(false),
                pause_refused: AtomicU32::new(0),
                rate_limits: AtomicU32::new(0),
            });
            let grant = Arc::clone(&provider.grant);
            let (answer, stats) = REQUEST
                .scope(Arc::clone(&context), sandbox.run(&provider.module, grant, request.clone()))
                .await;
            rate_limits += context.rate_limits.load(Ordering::SeqCst);
            let mut outcome = match answer {
                Ok(Ok(output)) => Outcome::Answered(output),
                Ok(Err(ProviderError::NotFound)) => Outcome::NotFound,
                Ok(Err(error)) => Outcome::Refused(error),
                Err(failure) => Outcome::Failed(failure),
            };
            let paused = context.pause_refused.load(Ordering::SeqCst);
            if paused > 0 {
                outcome = Outcome::Refused(ProviderError::RateLimited(paused));
            }
            if context.quota_refused.load(Ordering::SeqCst) {
                outcome = Outcome::QuotaExhausted { until: next_utc_midnight(now_seconds()) };
            }

            // A rate-limited call is tried again once the pause its `429`
            // set is over, as long as that pause is one Ferret waits out.
            if let Outcome::Refused(ProviderError::RateLimited(seconds)) = &outcome {
                let wait = Duration::from_secs(u64::from(*seconds));
                let longest = lane.longest_wait(options.priority);
                // Each try already had the HTTP layer's own short retries,
                // so a command tries once more at most: a playbook task
                // waits little, and a throttled upstream is not hammered.
                let retries = match options.priority {
                    Priority::Interactive => self.settings.rate_limit_retries.min(1),
                    Priority::Batch => self.settings.rate_limit_retries,
                };
                if wait <= longest && attempt < retries {
                    lane.pause(wait);
                    attempt += 1;
                    tracing::info!(
                        provider = %lane.id,
                        wait_s = seconds,
                        attempt,
                        "rate limited; trying again after the pause"
                    );
                    continue;
                }
                tracing::warn!(
                    provider = %lane.id,
                    wait_s = seconds,
                    longest_wait_s = longest.as_secs(),
                    "rate limited for longer than Ferret waits; reporting it"
                );
            }
            return (Scheduled { outcome, stats, cache_hit: false }, rate_limits);
        }
    }

    fn record(
        &self,
        provider: &Provider,
        request: &CommandRequest,
        scheduled: &Scheduled,
        latency: Duration,
        rate_limits: u32,
    ) {
        let record = CallRecord {
            provider: provider.id().to_owned(),
            command: request.command.clone(),
            kind: request
                .indicator
                .as_ref()
                .map(|indicator| kind_name(indicator.kind))
                .unwrap_or("-")
                .to_owned(),
            outcome: outcome_name(&scheduled.outcome).to_owned(),
            latency,
            cache_hit: scheduled.cache_hit,
            rate_limits,
        };
        self.metrics.observe(&record);
        self.store.record_call(record);
    }

    /// Records a call that never reached the scheduler proper (not
    /// configured, not sent by the gate), for the ledger and metrics.
    pub fn record_skipped(&self, provider: &Provider, request: &CommandRequest, outcome: &Outcome) {
        let scheduled =
            Scheduled { outcome: outcome.clone(), stats: CallStats::default(), cache_hit: false };
        self.record(provider, request, &scheduled, Duration::ZERO, 0);
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        for lane in self.lanes.values() {
            lane.give_back(&self.store);
        }
    }
}

/// Removes a leader's key from the in-flight map when it finishes or is
/// cancelled.
struct Leader<'a> {
    inflight: &'a Mutex<HashMap<CacheKey, watch::Receiver<Option<Scheduled>>>>,
    key: &'a CacheKey,
    /// Set by [`Leader::finish`], which has removed the key already: the
    /// key may by then belong to a newer leader.
    done: bool,
}

impl Leader<'_> {
    /// Leaves the in-flight map and hands the result to the calls that
    /// joined this one. Under the map's lock no call can join once the key
    /// is gone, so the count of receivers left is exactly the followers,
    /// and the result (an answer of a few kilobytes) is copied only when
    /// one is waiting.
    fn finish(mut self, sender: &watch::Sender<Option<Scheduled>>, scheduled: &Scheduled) {
        let followers = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            inflight.remove(self.key);
            sender.receiver_count()
        };
        self.done = true;
        if followers > 0 {
            let _ = sender.send(Some(scheduled.clone()));
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.inflight.lock().unwrap_or_else(|p| p.into_inner()).remove(self.key);
        }
    }
}

impl Lane {
    fn new(provider: &Provider, config: &Config) -> Self {
        let settings = &config.scheduler;
        let manifest = &provider.module.manifest;
        let overrides = provider.config.limits.unwrap_or_default();
        let per_second = overrides.per_second.or(manifest.limits.per_second);
        let per_minute = overrides.per_minute.or(manifest.limits.per_minute);
        let per_day = overrides.per_day.or(manifest.limits.per_day);
        let spread = |count: Option<u32>, period: Duration| {
            let count = NonZeroU32::new(count?)?;
            let quota = Quota::with_period(period / count.get())?;
            Some(RateLimiter::direct(quota))
        };
        let cacheable = manifest
            .commands
            .iter()
            .filter(|spec| {
                spec.indicator_argument.is_some()
                    && REPUTATION_COMMANDS.iter().any(|name| {
                        spec.name == *name || spec.aliases.iter().any(|alias| alias == name)
                    })
            })
            .map(|spec| spec.name.clone())
            .collect();
        Self {
            id: manifest.id.clone(),
            slots: PriorityGate::new(settings.concurrency as usize),
            turn: PriorityGate::new(1),
            per_second: spread(per_second, Duration::from_secs(1)),
            per_minute: spread(per_minute, Duration::from_secs(60)),
            per_day,
            account: format!("{}@{}", manifest.id, provider.grant.base_url),
            lease: Mutex::new(Lease::default()),
            lease_block: per_day.map_or(1, lease_block),
            paused_until: Mutex::new(None),
            max_pause: Duration::from_secs(settings.max_pause_seconds),
            lifetimes: KIND_NAMES
                .iter()
                .map(|kind| (*kind, config.lifetimes(&manifest.id, kind)))
                .collect(),
            cacheable,
        }
    }

    /// Waits for this lane's turn: the end of any pause, then a permit of
    /// each rate limit. A pause longer than `priority` waits is not sat
    /// out: the error is the seconds left of it.
    async fn admit(&self, priority: Priority) -> Result<(), u32> {
        let _turn = self.turn.acquire(priority).await;
        self.sit_out_pause(priority).await?;
        for limiter in [&self.per_second, &self.per_minute].into_iter().flatten() {
            limiter.until_ready().await;
        }
        Ok(())
    }

    /// Waits for the end of any pause, unless it is longer than `priority`
    /// waits: the error is then the seconds left of it.
    async fn sit_out_pause(&self, priority: Priority) -> Result<(), u32> {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(until) if until > Instant::now() => {
                    let left = until - Instant::now();
                    if left > self.longest_wait(priority) {
                        return Err(left.as_secs_f64().ceil() as u32);
                    }
                    tokio::time::sleep_until(until.into()).await
                }
                _ => return Ok(()),
            }
        }
    }

    /// The longest pause a call of `priority` sits out.
    fn longest_wait(&self, priority: Priority) -> Duration {
        match priority {
            Priority::Interactive => INTERACTIVE_MAX_WAIT.min(self.max_pause),
            Priority::Batch => self.max_pause,
        }
    }

    /// Takes one unit of today's quota; the error is when it renews.
    fn reserve(&self, store: &Store, metrics: &Metrics) -> Result<(), String> {
        let Some(limit) = self.per_day else {
            return Ok(());
        };
        let now = now_seconds();
        let day = utc_day(now);
        let mut lease = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        match lease.spend(store, &self.account, &day, limit, self.lease_block) {
            Ok(Some(left)) => {
                metrics.quota_left(&self.id, left);
                Ok(())
            }
            Ok(None) => {
                metrics.quota_left(&self.id, 0);
                Err(next_utc_midnight(now))
            }
            Err(error) => {
                // Without the ledger the quota cannot be kept: refuse
                // rather than overspend.
                tracing::error!(provider = %self.id, "quota ledger failed: {error:#}");
                Err(next_utc_midnight(now))
            }
        }
    }

    /// Gives the units this lane holds back to the state file.
    fn give_back(&self, store: &Store) {
        let mut lease = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(error) = lease.give_back(store, &self.account) {
            tracing::warn!(
                provider = %self.id,
                "failed to give unused quota back; it stays spent for the day: {error:#}"
            );
        }
    }

    /// Pauses the lane for `wait`, capped at the longest pause allowed;
    /// an earlier, longer pause stays.
    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait.min(self.max_pause);
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

/// Commands whose results are cached: the reputation lookups, under their
/// own name or as an alias. Other commands (a scan submission, a search)
/// may have effects or answer differently each time.
pub const REPUTATION_COMMANDS: &[&str] = &["ip", "domain", "url", "file", "email"];

/// The cache and single-flight key of a request. The upstream's address
/// is part of it: answers of one MISP do not stand for another's.
fn cache_key(provider: &Provider, request: &CommandRequest) -> CacheKey {
    let mut arguments: Vec<String> = request
        .arguments
        .iter()
        .map(|argument| format!("{}={}", argument.name, argument.values.join("\u{1f}")))
        .collect();
    arguments.sort();
    arguments.push(format!("upstream={}", provider.grant.base_url));
    CacheKey {
        provider: provider.id().to_owned(),
        command: request.command.clone(),
        indicator: request
            .indicator
            .as_ref()
            .map(|indicator| format!("{}:{}", kind_name(indicator.kind), indicator.value))
            .unwrap_or_default(),
        arguments: arguments.join("\u{1e}"),
    }
}

/// A counting semaphore whose waiters are served interactive first, then
/// batch, each in arrival order.
pub struct PriorityGate {
    state: Mutex<GateState>,
}

struct GateState {
    available: usize,
    interactive: VecDeque<oneshot::Sender<()>>,
    batch: VecDeque<oneshot::Sender<()>>,
}

/// A held place; dropping it hands it to the next waiter.
pub struct GatePermit {
    gate: Arc<PriorityGate>,
}

/// A waiter's receiver; dropping it after a place was handed over gives
/// the place back.
struct Waiting {
    receiver: Option<oneshot::Receiver<()>>,
    gate: Arc<PriorityGate>,
}

impl PriorityGate {
    /// A gate of `places` places.
    pub fn new(places: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(GateState {
                available: places,
                interactive: VecDeque::new(),
                batch: VecDeque::new(),
            }),
        })
    }

    /// Waits for a place.
    pub async fn acquire(self: &Arc<Self>, priority: Priority) -> GatePermit {
        let receiver = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.available > 0 {
                state.available -= 1;
                return GatePermit { gate: Arc::clone(self) };
            }
            let (sender, receiver) = oneshot::channel();
            match priority {
                Priority::Interactive => state.interactive.push_back(sender),
                Priority::Batch => state.batch.push_back(sender),
            }
            receiver
        };
        let mut waiting = Waiting { receiver: Some(receiver), gate: Arc::clone(self) };
        let receiver = waiting.receiver.as_mut().expect("set above");
        // The gate never drops a sender without sending.
        let _ = receiver.await;
        waiting.receiver = None;
        GatePermit { gate: Arc::clone(self) }
    }

    fn release(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(next) = state.interactive.pop_front().or_else(|| state.batch.pop_front()) {
            if next.send(()).is_ok() {
                return;
            }
        }
        state.available += 1;
    }
}

impl Drop for GatePermit {
    fn drop(&mut self) {
        self.gate.release();
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(mut receiver) = self.receiver.take() {
            receiver.close();
            if receiver.try_recv().is_ok() {
                self.gate.release();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two handles on one state file, as two processes would have.
    fn two_stores() -> (tempfile::TempDir, Store, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite3");
        let first = Store::open(&path).unwrap();
        let second = Store::open(&path).unwrap();
        (dir, first, second)
    }

    #[test]
    fn blocks_are_a_thousandth_of_the_quota_between_one_and_a_hundred() {
        let blocks: Vec<u32> =
            [0, 500, 1_999, 10_000, 100_000_000].into_iter().map(lease_block).collect();
        assert_eq!(blocks, [1, 1, 1, 10, 100]);
    }

    #[test]
    fn two_processes_taking_blocks_spend_the_quota_exactly_once() {
        let (_dir, first_store, second_store) = two_stores();
        let (mut first, mut second) = (Lease::default(), Lease::default());
        let day = "2024-01-01";
        let mut spent = 0;
        // Each takes blocks of 3 of a quota of 10, turn about, until
        // neither gets a unit.
        loop {
            let a = first.spend(&first_store, "vt", day, 10, 3).unwrap();
            let b = second.spend(&second_store, "vt", day, 10, 3).unwrap();
            spent += u32::from(a.is_some()) + u32::from(b.is_some());
            if a.is_none() && b.is_none() {
                break;
            }
        }
        // Every unit was spent by one of them, none twice, none past 10.
        assert_eq!(spent, 10);
        assert_eq!(first_store.quota_spent("vt", day).unwrap(), 10);
    }

    #[test]
    fn units_not_spent_go_back_to_the_file_for_others() {
        let (_dir, first_store, second_store) = two_stores();
        let mut first = Lease::default();
        let day = "2024-01-01";
        // One request takes a block of 4: the file counts 4, this process
        // counts 1 spent and 3 held.
        assert_eq!(first.spend(&first_store, "vt", day, 6, 4).unwrap(), Some(5));
        assert_eq!(first_store.quota_spent("vt", day).unwrap(), 4);
        first.give_back(&first_store, "vt").unwrap();
        assert_eq!(first_store.quota_spent("vt", day).unwrap(), 1);

        // Another process can now have the other five, and no more.
        let mut second = Lease::default();
        let taken = (0..7)
            .filter(|_| second.spend(&second_store, "vt", day, 6, 4).unwrap().is_some())
            .count();
        assert_eq!(taken, 5);
    }

    #[test]
    fn a_new_day_starts_a_new_lease() {
        let (_dir, store, _) = two_stores();
        let mut lease = Lease::default();
        assert_eq!(lease.spend(&store, "vt", "2024-01-01", 1, 1).unwrap(), Some(0));
        assert_eq!(lease.spend(&store, "vt", "2024-01-01", 1, 1).unwrap(), None);
        // The next UTC day's quota is whole again.
        assert_eq!(lease.spend(&store, "vt", "2024-01-02", 1, 1).unwrap(), Some(0));
        assert_eq!(lease.left("2024-01-01", 1), None);
    }

    #[tokio::test]
    async fn interactive_waiters_go_before_batch_waiters() {
        let gate = PriorityGate::new(1);
        let held = gate.acquire(Priority::Batch).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, priority) in [
            ("batch-1", Priority::Batch),
            ("batch-2", Priority::Batch),
            ("interactive", Priority::Interactive),
        ] {
            let gate = Arc::clone(&gate);
            let order = Arc::clone(&order);
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire(priority).await;
                order.lock().unwrap().push(name);
            }));
            // Let each waiter queue before the next arrives.
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        // The interactive waiter came last but was served first.
        assert_eq!(*order.lock().unwrap(), ["interactive", "batch-1", "batch-2"]);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_gives_its_place_back() {
        let gate = PriorityGate::new(1);
        let held = gate.acquire(Priority::Batch).await;
        let waiter = {
            let gate = Arc::clone(&gate);
            tokio::spawn(async move {
                let _permit = gate.acquire(Priority::Batch).await;
                std::future::pending::<()>().await;
            })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        waiter.abort();
        let _ = waiter.await;
        drop(held);
        // The place is free again: this does not wait.
        let again = tokio::time::timeout(Duration::from_secs(1), gate.acquire(Priority::Batch));
        assert!(again.await.is_ok());
    }

    #[tokio::test]
    async fn permits_are_spread_over_the_period() {
        let quota = Quota::with_period(Duration::from_secs(1) / 20).unwrap();
        let limiter: DefaultDirectRateLimiter = RateLimiter::direct(quota);
        let started = Instant::now();
        for _ in 0..6 {
            limiter.until_ready().await;
        }
        // 20 a second, a burst of one: the sixth permit comes 5 × 50 ms
        // after the first.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(245), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
    }
}
