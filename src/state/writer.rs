//! The one journaled writer every backend's apply records through ([`JournaledWriter`]), and
//! the remote journal kept as small objects beside the state ([`SegmentJournal`]).
//!
//! The writer applies each batch of changes to its copy of the state, hands the batch to the
//! backend's journal in one durable step (a group commit: operations that finish together
//! share one sync or one upload), and rewrites the full state, emptying the journal, whenever
//! the journal has grown past the state's size (so recording is O(1) per operation, amortised).
//! `finish` writes the full state and removes the journal.
//!
//! What "the journal" is differs per backend, behind [`JournalTarget`]: the local backend
//! appends to one file beside the state file (`journal::Journal`); a remote backend writes one
//! object per batch, `<state key>.journal/<seq>`, created with `If-None-Match: *` so that two
//! writers never overwrite each other's records ([`SegmentJournal`]). Each segment is a whole
//! journal in `journal`'s format: a header (lineage, and the serial of the stored state it
//! builds on) and one line per change.
//!
//! Replaying segments ([`replay_segments`]): in key order, onto the stored state, skipping
//! segments whose header serial is below the stored state's (they were written before a
//! compaction that absorbed them and were left behind by a crash while being deleted).
//! Replaying a suffix of a journal onto a state that already holds all of it changes nothing
//! (every change sets an absolute value), which is why segments are deleted oldest first when a
//! compaction left the serial unchanged.

use super::backend::{StateError, StateWriter};
use super::journal::{replay, JournalHeader};
use super::store::{ObjectStore, Precondition};
use super::{State, StateChange};
use async_trait::async_trait;

/// The journal never triggers a compaction below this size, so that small states are not
/// rewritten after every few operations.
pub(crate) const MIN_COMPACTION_BYTES: u64 = 256 * 1024;

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

/// Records an apply's changes through a backend's [`JournalTarget`].
pub(crate) struct JournaledWriter {
    target: Box<dyn JournalTarget>,
    /// The state as recorded so far: what a compaction writes.
    state: State,
    /// Journal bytes since the last full write.
    journal_bytes: u64,
    /// The journal size at which the full state is rewritten: the state's size.
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
            threshold: state_bytes.max(MIN_COMPACTION_BYTES),
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
        self.threshold = size.max(MIN_COMPACTION_BYTES);
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
        let (serial, size) = self.target.store(state).await?;
        self.target.clear(None).await?;
        self.state = State {
            serial,
            ..state.clone()
        };
        self.threshold = size.max(MIN_COMPACTION_BYTES);
        self.journal_bytes = 0;
        self.written = Some(serial);
        Ok(())
    }

    fn written_serial(&self) -> Option<u64> {
        self.written
    }
}

/// The journal's encoding of one batch: the header line, then one line per change.
pub(crate) fn encode_batch(
    header: &JournalHeader,
    changes: &[StateChange],
) -> Result<Vec<u8>, StateError> {
    let mut bytes = serde_json::to_vec(header).map_err(|e| StateError::Other(e.to_string()))?;
    bytes.push(b'\n');
    for change in changes {
        serde_json::to_writer(&mut bytes, change)
            .map_err(|e| StateError::Other(format!("cannot encode a state change: {e}")))?;
        bytes.push(b'\n');
    }
    Ok(bytes)
}

/// The prefix of the journal segments of the state at `state_key`.
pub(crate) fn segment_prefix(state_key: &str) -> String {
    format!("{state_key}.journal/")
}

/// The sequence number of a segment key (`<prefix><seq>`).
fn segment_number(prefix: &str, key: &str) -> Option<u64> {
    key.strip_prefix(prefix)?.parse().ok()
}

/// What [`replay_segments`] found.
pub(crate) struct Replayed {
    /// The stored state with the segments replayed (`None`: nothing stored, no segment).
    pub state: Option<State>,
    /// Every segment key found, oldest first.
    pub keys: Vec<String>,
}

/// Replays the journal segments under `prefix` onto `stored` (see the module documentation).
pub(crate) async fn replay_segments(
    store: &dyn ObjectStore,
    prefix: &str,
    stored: Option<State>,
) -> Result<Replayed, StateError> {
    let mut keys: Vec<(u64, String)> = store
        .list(prefix)
        .await?
        .into_iter()
        .filter_map(|key| segment_number(prefix, &key).map(|n| (n, key)))
        .collect();
    keys.sort();
    let floor = stored.as_ref().map(|s| s.serial);
    let mut state = stored;
    for (_, key) in &keys {
        let Some(object) = store.get(key).await? else {
            continue;
        };
        let header_line = object.bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let header: JournalHeader =
            serde_json::from_slice(header_line).map_err(|e| StateError::Format {
                file: store.location(key),
                message: format!("invalid journal header: {e}"),
            })?;
        if floor.is_some_and(|floor| header.serial < floor) {
            continue;
        }
        if let Some(replayed) = replay(&store.location(key), &object.bytes, state.clone())? {
            state = Some(replayed);
        }
    }
    Ok(Replayed {
        state,
        keys: keys.into_iter().map(|(_, key)| key).collect(),
    })
}

/// Deletes journal segments after the state absorbed them: all at once when the stored serial
/// moved past theirs (a replay skips them anyway), else oldest first, so that a crash between
/// two deletions leaves a suffix, which replays harmlessly.
pub(crate) async fn delete_segments(
    store: &dyn ObjectStore,
    keys: &[String],
    serial_moved: bool,
) -> Result<(), StateError> {
    if serial_moved {
        return store.delete_many(keys).await;
    }
    for key in keys {
        store.delete(key).await?;
    }
    Ok(())
}

/// A remote journal: one object per batch under `<state key>.journal/`.
pub(crate) struct SegmentJournal {
    prefix: String,
    /// The next sequence number.
    next: u64,
    /// Segments written since the last clear, and the serial their headers carry.
    written: Vec<String>,
    written_serial: Option<u64>,
}

impl SegmentJournal {
    /// The journal of the state at `state_key`, continuing after the segments in `existing`.
    pub fn new(state_key: &str, existing: &[String]) -> SegmentJournal {
        let prefix = segment_prefix(state_key);
        let next = existing
            .iter()
            .filter_map(|key| segment_number(&prefix, key))
            .max()
            .map_or(0, |n| n + 1);
        SegmentJournal {
            prefix,
            next,
            written: Vec::new(),
            written_serial: None,
        }
    }

    /// Writes one batch as the next segment; a segment already there (another writer's) is a
    /// conflict.
    pub async fn append(
        &mut self,
        store: &dyn ObjectStore,
        header: &JournalHeader,
        changes: &[StateChange],
    ) -> Result<u64, StateError> {
        let bytes = encode_batch(header, changes)?;
        let key = format!("{}{:020}", self.prefix, self.next);
        if store
            .put(&key, &bytes, Precondition::IfAbsent)
            .await?
            .is_none()
        {
            return Err(StateError::Conflict {
                location: store.location(&key),
            });
        }
        self.next += 1;
        self.written.push(key);
        self.written_serial = Some(header.serial);
        Ok(bytes.len() as u64)
    }

    /// Deletes the segments written so far (the state at serial `stored_serial` holds them).
    pub async fn clear(
        &mut self,
        store: &dyn ObjectStore,
        stored_serial: Option<u64>,
    ) -> Result<(), StateError> {
        let moved = match (self.written_serial, stored_serial) {
            (Some(written), Some(stored)) => stored > written,
            _ => false,
        };
        delete_segments(store, &self.written, moved).await?;
        self.written.clear();
        self.written_serial = None;
        Ok(())
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
