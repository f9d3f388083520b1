//! The one journaled writer every backend's apply records through ([`JournaledWriter`]), and
//! the queue of its group commit ([`GroupCommit`]).
//!
//! The writer applies each batch of changes to its copy of the state, hands the batch to the
//! backend's journal in one durable step (a group commit: operations that finish together
//! share one sync or one upload), and rewrites the full state, emptying the journal, whenever
//! the journal has grown past [`JOURNAL_PER_STATE`] times the state's size (so recording is
//! O(1) per operation, amortised).
//! `finish` writes the full state and removes the journal.
//!
//! What "the journal" is differs per backend, behind [`JournalTarget`]: the local backend
//! appends to one file beside the state file (`journal::Journal`); a remote backend writes one
//! object per batch (`state::segments`).

use super::backend::{StateError, StateWriter};
use super::journal::JournalHeader;
use super::{State, StateChange};
use async_trait::async_trait;

/// The journal never triggers a compaction below this size, so that small states are not
/// rewritten after every few operations.
pub(crate) const MIN_COMPACTION_BYTES: u64 = 256 * 1024;

/// How many times the state's size the journal may grow to before the full state is written
/// again. Each rewrite encodes the whole state (and the local backend reads the stored one),
/// so an apply that creates N instances pays for a series of states growing geometrically, and
/// the larger the ratio, the faster they grow and the smaller their sum: at 1 (the journal as
/// large as the state) a 20,000-instance apply rewrote its state 8 times before the final write
/// (BENCHMARKS.md, "Found and fixed"). A replay after a crash reads at most that much journal.
pub(crate) const JOURNAL_PER_STATE: u64 = 4;

/// Where a backend keeps the full state and the journal of one workspace.
#[async_trait]
pub(crate) trait JournalTarget: Send {
    /// Stores the full state under the serial rule; returns the serial stored and its size.
    async fn store(&mut self, state: &State) -> Result<(u64, u64), StateError>;
    /// Appends `changes` durably in one step (one sync, one upload), in a journal that builds
    /// on the stored state `header` describes; returns the bytes added.
    async fn append(
        &mut self,
        header: &JournalHeader,
        changes: &[StateChange],
    ) -> Result<u64, StateError>;
    /// Empties the journal after `store` absorbed it: `next` heads the journal that follows,
    /// `None` removes it (the apply is over).
    async fn clear(&mut self, next: Option<&JournalHeader>) -> Result<(), StateError>;
}

/// The journal size at which a state of `state_bytes` is rewritten.
fn compaction_threshold(state_bytes: u64) -> u64 {
    (state_bytes * JOURNAL_PER_STATE).max(MIN_COMPACTION_BYTES)
}

/// Records an apply's changes through a backend's [`JournalTarget`].
pub(crate) struct JournaledWriter {
    target: Box<dyn JournalTarget>,
    /// The state as recorded so far: what a compaction writes.
    state: State,
    /// Journal bytes since the last full write.
    journal_bytes: u64,
    /// The journal size at which the full state is rewritten: [`JOURNAL_PER_STATE`] times the
    /// state's size.
    threshold: u64,
    /// The serial of the last full write.
    written: Option<u64>,
}

impl JournaledWriter {
    /// A writer starting from `base` (as stored, `state_bytes` long).
    pub fn new(target: Box<dyn JournalTarget>, base: State, state_bytes: u64) -> JournaledWriter {
        JournaledWriter {
            target,
            state: base,
            journal_bytes: 0,
            threshold: compaction_threshold(state_bytes),
            written: None,
        }
    }

    fn header(&self) -> JournalHeader {
        JournalHeader {
            lineage: self.state.lineage.clone(),
            serial: self.state.serial,
        }
    }

    async fn compact(&mut self) -> Result<(), StateError> {
        let (serial, size) = self.target.store(&self.state).await?;
        self.state.serial = serial;
        self.written = Some(serial);
        self.threshold = compaction_threshold(size);
        self.journal_bytes = 0;
        let header = self.header();
        self.target.clear(Some(&header)).await
    }
}

#[async_trait]
impl StateWriter for JournaledWriter {
    async fn record(&mut self, change: &StateChange) -> Result<(), StateError> {
        self.record_all(std::slice::from_ref(change)).await
    }

    async fn record_all(&mut self, changes: &[StateChange]) -> Result<(), StateError> {
        if changes.is_empty() {
            return Ok(());
        }
        let header = self.header();
        self.journal_bytes += self.target.append(&header, changes).await?;
        for change in changes {
            self.state.apply_change(change);
        }
        if self.journal_bytes > self.threshold {
            self.compact().await?;
        }
        Ok(())
    }

    async fn finish(&mut self, state: &State) -> Result<(), StateError> {
        let _phase = crate::timings::phase("state writing (final)");
        // `state` holds everything the copy kept for compactions does: the copy is freed
        // before the whole state is encoded (an apply's peak of memory), and made again from
        // `state` afterwards, or should the write fail.
        let serial = self.state.serial;
        self.state = State::new();
        let stored = self.target.store(state).await;
        self.state = State {
            serial: stored.as_ref().map_or(serial, |(serial, _)| *serial),
            ..state.clone()
        };
        let (serial, size) = stored?;
        self.target.clear(None).await?;
        self.threshold = compaction_threshold(size);
        self.journal_bytes = 0;
        self.written = Some(serial);
        Ok(())
    }

    fn written_serial(&self) -> Option<u64> {
        self.written
    }
}

/// The queue of a group commit: operations that finish while a durable step is under way
/// queue their changes here, and the next step records them all. Each change gets a sequence
/// number; [`GroupCommit::wait_durable`] returns once the change is recorded, so an operation
/// whose change another caller recorded leaves at once instead of queueing for the writer (a
/// convoy where every waiter records one change).
pub struct GroupCommit {
    /// The next sequence number and the changes not yet taken.
    pending: std::sync::Mutex<(u64, Vec<StateChange>)>,
    /// The highest sequence number recorded.
    durable: tokio::sync::watch::Sender<u64>,
}

impl Default for GroupCommit {
    fn default() -> GroupCommit {
        GroupCommit {
            pending: std::sync::Mutex::new((1, Vec::new())),
            durable: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl GroupCommit {
    /// Queues a change; its sequence number.
    pub fn enqueue(&self, change: StateChange) -> u64 {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let sequence = pending.0;
        pending.0 += 1;
        pending.1.push(change);
        sequence
    }

    /// Takes every queued change (call it holding the writer), with the last one's number.
    pub fn take(&self) -> (u64, Vec<StateChange>) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        (pending.0 - 1, std::mem::take(&mut pending.1))
    }

    /// Marks every change up to `sequence` as recorded.
    pub fn mark_durable(&self, sequence: u64) {
        self.durable
            .send_modify(|durable| *durable = (*durable).max(sequence));
    }

    /// Returns once the change numbered `sequence` is recorded.
    pub async fn wait_durable(&self, sequence: u64) {
        let mut durable = self.durable.subscribe();
        // The sender lives as long as `self`: `wait_for` cannot fail while we borrow it.
        let _ = durable.wait_for(|durable| *durable >= sequence).await;
    }
}
