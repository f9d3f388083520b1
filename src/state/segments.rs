//! The remote journal: one object per batch of changes, `<state key>.journal/<seq>`, created
//! with `If-None-Match: *` so that two writers never overwrite each other's records
//! ([`SegmentJournal`]), on any storage client (`state::store::ObjectStore`). Each segment is
//! a whole journal in `journal`'s format: a header (lineage, and the serial of the stored state
//! it builds on) and one line per change.
//!
//! Replaying segments ([`list_segments`], then [`replay_listed`]): in key order, onto the stored state, skipping
//! segments whose header serial is below the stored state's (they were written before a
//! compaction that absorbed them and were left behind by a crash while being deleted).
//! Replaying a suffix of a journal onto a state that already holds all of it changes nothing
//! (every change sets an absolute value), which is why segments are deleted oldest first when a
//! compaction left the serial unchanged.

use super::backend::StateError;
use super::journal::{replay_sealed, sealed_line, sealed_lines, JournalHeader};
use super::store::{ObjectStore, Precondition};
use super::{State, StateChange};
use crate::encryption::Sealer;

/// The journal's encoding of one batch: the header line, then one line per change, each line
/// sealed on its own (`journal::sealed_line`, as a local journal's lines are).
pub(crate) fn encode_batch(
    header: &JournalHeader,
    changes: &[StateChange],
    sealer: &Sealer,
) -> Result<Vec<u8>, StateError> {
    let mut bytes = sealed_line(header, sealer)?;
    bytes.extend(sealed_lines(changes, sealer)?);
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

/// What [`replay_listed`] found.
pub(crate) struct Replayed {
    /// The stored state with the segments replayed (`None`: nothing stored, no segment).
    pub state: Option<State>,
    /// Every segment key found, oldest first.
    pub keys: Vec<String>,
}

/// The keys of the journal segments under `prefix`, oldest first: what
/// [`replay_listed`] replays. Listing needs no stored state, so a reader can list while it
/// reads the state (one round trip instead of two).
pub(crate) async fn list_segments(
    store: &dyn ObjectStore,
    prefix: &str,
) -> Result<Vec<String>, StateError> {
    let mut keys: Vec<(u64, String)> = store
        .list(prefix)
        .await?
        .into_iter()
        .filter_map(|key| segment_number(prefix, &key).map(|n| (n, key)))
        .collect();
    keys.sort();
    Ok(keys.into_iter().map(|(_, key)| key).collect())
}

/// Replays the segments `keys` ([`list_segments`]) onto `stored` (see the module
/// documentation).
pub(crate) async fn replay_listed(
    store: &dyn ObjectStore,
    keys: Vec<String>,
    stored: Option<State>,
    sealer: &Sealer,
) -> Result<Replayed, StateError> {
    let floor = stored.as_ref().map(|s| s.serial);
    let mut state = stored;
    for key in &keys {
        let Some(object) = store.get(key).await? else {
            continue;
        };
        let header_line = object.bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let header_line = sealer.open(&store.location(key), header_line)?;
        let header: JournalHeader =
            serde_json::from_slice(&header_line).map_err(|e| StateError::Format {
                file: store.location(key),
                message: format!("invalid journal header: {e}"),
            })?;
        if floor.is_some_and(|floor| header.serial < floor) {
            continue;
        }
        let location = store.location(key);
        if let Some(replayed) = replay_sealed(&location, &object.bytes, state.clone(), sealer)? {
            state = Some(replayed);
        }
    }
    Ok(Replayed { state, keys })
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
        sealer: &Sealer,
    ) -> Result<u64, StateError> {
        let bytes = encode_batch(header, changes, sealer)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ResourceInstance;
    use crate::state::store::LocalFiles;
    use crate::state::{InstanceObject, ObjectStatus};
    use crate::value::Value;

    /// Lists and replays, as a reader of the state does.
    async fn replay_segments(
        store: &dyn ObjectStore,
        prefix: &str,
        stored: Option<State>,
        sealer: &Sealer,
    ) -> Result<Replayed, StateError> {
        let keys = list_segments(store, prefix).await?;
        replay_listed(store, keys, stored, sealer).await
    }

    fn put(name: &str) -> StateChange {
        StateChange::Put {
            address: ResourceInstance::parse(&format!("terraform_data.{name}")).unwrap(),
            object: InstanceObject {
                value: Value::object([("id", Value::string(name))]),
                provider: "provider[\"terraform.io/builtin/terraform\"]".into(),
                schema_version: 0,
                dependencies: Vec::new(),
                create_before_destroy: false,
                status: ObjectStatus::Ready,
                private: None,
            },
        }
    }

    fn remove(name: &str) -> StateChange {
        StateChange::Remove {
            address: ResourceInstance::parse(&format!("terraform_data.{name}")).unwrap(),
        }
    }

    fn names(state: &State) -> Vec<String> {
        state.resources.keys().map(|a| a.to_string()).collect()
    }

    #[tokio::test]
    async fn segments_replay_in_order_skip_absorbed_ones_and_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFiles::new(dir.path());
        let header = |serial| JournalHeader {
            lineage: "l".into(),
            serial,
        };
        let mut journal = SegmentJournal::new("s.tfstate", &[]);
        journal
            .append(
                &store,
                &header(3),
                &[put("a"), put("b")],
                &Sealer::default(),
            )
            .await
            .unwrap();
        journal
            .append(&store, &header(3), &[remove("a")], &Sealer::default())
            .await
            .unwrap();
        let stored = State {
            lineage: "l".into(),
            serial: 3,
            ..State::new()
        };
        let replayed = replay_segments(
            &store,
            "s.tfstate.journal/",
            Some(stored.clone()),
            &Sealer::default(),
        )
        .await
        .unwrap();
        assert_eq!(replayed.keys.len(), 2);
        assert_eq!(names(&replayed.state.unwrap()), ["terraform_data.b"]);

        // A state stored after a compaction (serial 4) already holds these segments: a
        // crash that left them behind does not replay them onto it.
        let compacted = State {
            serial: 4,
            ..stored.clone()
        };
        let replayed = replay_segments(
            &store,
            "s.tfstate.journal/",
            Some(compacted),
            &Sealer::default(),
        )
        .await
        .unwrap();
        assert!(replayed.state.unwrap().resources.is_empty());

        // Another writer continuing from the same sequence number conflicts.
        let mut other = SegmentJournal::new("s.tfstate", &[]);
        assert!(matches!(
            other
                .append(&store, &header(3), &[put("c")], &Sealer::default())
                .await,
            Err(StateError::Conflict { .. })
        ));
        // A writer that starts after the existing segments continues their numbering.
        let mut next = SegmentJournal::new("s.tfstate", &replayed.keys);
        next.append(&store, &header(3), &[put("c")], &Sealer::default())
            .await
            .unwrap();
        assert!(next.written[0].ends_with("00000000000000000002"));

        // Clearing deletes what this journal wrote.
        next.clear(&store, Some(3)).await.unwrap();
        assert_eq!(store.list("s.tfstate.journal/").await.unwrap().len(), 2);
    }
}
