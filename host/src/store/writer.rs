//! The state file's writer: one thread that takes cache rows and ledger
//! rows off the calls' path and writes whatever has queued up in one
//! transaction.
//!
//! A call hands its rows over and goes on; it does not wait for SQLite.
//! Until a cache row is committed it sits in [`Pending`], where the cache
//! lookup finds it, so a result is never asked for twice just because its
//! row is still on the way. Rows queued when the process dies without
//! dropping the [`Store`](super::Store) are lost: cache rows (the next run
//! asks again) and ledger rows (`ferret stats` counts fewer calls). The
//! daily quota is not written here; it is taken synchronously.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{Connection, TransactionBehavior, params};

use super::{CacheKey, Cached, CallRecord, output_to_json};

/// Rows that may wait for the writer. A call that finds the queue full
/// waits for room, so memory stays bounded however fast answers come.
const QUEUE: usize = 1024;

/// Rows written in one transaction at most.
const BATCH: usize = 512;

/// How long the writer lets rows gather after the first one arrives. A
/// thread woken for every row costs each call a system call and the
/// other core a transaction; gathering for a few milliseconds makes that
/// one wake and one transaction per batch, at the price of a row reaching
/// the file that much later (lookups in this process see it at once).
const LINGER: Duration = Duration::from_millis(5);

/// A cache row on its way to the file.
pub(super) struct PendingRow {
    pub key: CacheKey,
    pub value: Cached,
    pub stored_at: i64,
    pub expires_at: i64,
}

/// Cache rows handed to the writer and not yet committed, by key: the
/// latest row for each key.
pub(super) type Pending = Mutex<HashMap<CacheKey, Arc<PendingRow>>>;

/// Work for the writer.
pub(super) enum Job {
    Cache(Arc<PendingRow>),
    Call {
        at_ms: i64,
        record: CallRecord,
    },
    Run {
        at_ms: i64,
        indicators: u64,
        elapsed: Duration,
    },
    /// Answered once every job queued before it is committed.
    Flush(SyncSender<()>),
}

/// The writer thread and the way to it.
pub(super) struct Writer {
    sender: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
    pending: Arc<Pending>,
}

impl Writer {
    /// Starts the writer on its own connection to `path`.
    pub fn start(path: &Path) -> Result<Self> {
        let connection = super::connect(path)?;
        let pending = Arc::new(Pending::default());
        let (sender, receiver) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("ferret-store".to_owned())
            .spawn({
                let pending = Arc::clone(&pending);
                move || run(connection, &receiver, &pending)
            })
            .context("failed to start the state file's writer")?;
        Ok(Self { sender: Some(sender), thread: Some(thread), pending })
    }

    /// The uncommitted cache rows.
    pub fn pending(&self) -> &Pending {
        &self.pending
    }

    /// Queues a cache row; it is visible to lookups at once.
    pub fn cache(&self, row: PendingRow) {
        let row = Arc::new(row);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(row.key.clone(), Arc::clone(&row));
        self.send(Job::Cache(row));
    }

    /// Queues `job`, waiting for room when the queue is full.
    pub fn send(&self, job: Job) {
        let Some(sender) = &self.sender else { return };
        let job = match sender.try_send(job) {
            Ok(()) => return,
            Err(TrySendError::Full(job)) => job,
            Err(TrySendError::Disconnected(_)) => {
                tracing::error!("the state file's writer has stopped; a row was not written");
                return;
            }
        };
        if sender.send(job).is_err() {
            tracing::error!("the state file's writer has stopped; a row was not written");
        }
    }

    /// Returns once every row queued so far is committed (or has failed
    /// and been logged).
    pub fn flush(&self) {
        let (done, wait) = sync_channel(1);
        self.send(Job::Flush(done));
        // An error means the writer is gone; there is nothing to wait for.
        let _ = wait.recv();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue lets the writer write what is left and stop.
        self.sender = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the state file's writer panicked; queued rows were lost");
        }
    }
}

/// The writer's loop: everything queued, one transaction at a time.
fn run(mut connection: Connection, receiver: &Receiver<Job>, pending: &Pending) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Ok(first) = receiver.recv() {
        // A flush on its own is answered at once.
        if !matches!(first, Job::Flush(_)) {
            std::thread::sleep(LINGER);
        }
        batch.push(first);
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = write(&mut connection, &batch) {
            let rows = batch.iter().filter(|job| !matches!(job, Job::Flush(_))).count();
            tracing::error!("failed to write {rows} rows to the state file: {error:#}");
        }
        // Written or lost, the rows leave the overlay: a later row for the
        // same key stays.
        let mut overlay = pending.lock().unwrap_or_else(|p| p.into_inner());
        for job in &batch {
            if let Job::Cache(row) = job
                && overlay.get(&row.key).is_some_and(|latest| Arc::ptr_eq(latest, row))
            {
                overlay.remove(&row.key);
            }
        }
        drop(overlay);
        for job in batch.drain(..) {
            if let Job::Flush(done) = job {
                let _ = done.send(());
            }
        }
    }
}

fn write(connection: &mut Connection, batch: &[Job]) -> Result<()> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for job in batch {
        match job {
            Job::Cache(row) => {
                let (found, payload) = match &row.value {
                    Cached::Answer(output) => (true, output_to_json(output)),
                    Cached::NotFound => (false, String::new()),
                };
                transaction
                    .prepare_cached(
                        "INSERT OR REPLACE INTO cache (provider, command, indicator, arguments, \
                         found, payload, stored_at, expires_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(params![
                        row.key.provider,
                        row.key.command,
                        row.key.indicator,
                        row.key.arguments,
                        found,
                        payload,
                        row.stored_at,
                        row.expires_at,
                    ])?;
            }
            Job::Call { at_ms, record } => {
                transaction
                    .prepare_cached(
                        "INSERT INTO calls (at_ms, provider, command, kind, outcome, latency_ms, \
                         cache_hit, rate_limits) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(params![
                        at_ms,
                        record.provider,
                        record.command,
                        record.kind,
                        record.outcome,
                        record.latency.as_secs_f64() * 1000.0,
                        record.cache_hit,
                        record.rate_limits,
                    ])?;
            }
            Job::Run { at_ms, indicators, elapsed } => {
                transaction.execute(
                    "INSERT INTO runs (at_ms, indicators, elapsed_ms) VALUES (?1, ?2, ?3)",
                    params![at_ms, *indicators as i64, elapsed.as_secs_f64() * 1000.0],
                )?;
            }
            Job::Flush(_) => {}
        }
    }
    transaction.commit()?;
    Ok(())
}
