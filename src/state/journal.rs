//! The apply journal: one JSON line per [`StateChange`], appended and synced after each resource
//! operation, so recording costs the size of the change, not of the state.
//!
//! Layout: the first line is a header (`{"lineage": ..., "serial": ...}`: which state the
//! changes apply to), every further line one change in Strata's own serde encoding (which keeps
//! sensitive marks and exact types). A crash can only cut the last line short; replay ignores
//! such a line. Replaying is idempotent (every change sets an absolute value), so a journal that
//! was already folded into the state file (a crash between writing the state and emptying the
//! journal) replays harmlessly.
//!
//! With state encryption configured, every line (the header too) is sealed on its own: the line
//! is OpenTofu's encrypted envelope (one line of JSON) around the plaintext line, so appending
//! stays O(1) and a cut last line is still recognised and ignored.

use super::{State, StateChange, StateError};
use crate::encryption::Sealer;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to do about a journal that cannot be replayed: nothing was changed.
const DAMAGED_JOURNAL_HINT: &str = "The journal (the changes an interrupted apply recorded) cannot be replayed, and Strata left it and the state as they are: if the state file already holds what that apply did, move the journal away; otherwise correct its broken line (the first line names the state, each further line one change).";

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct JournalHeader {
    pub lineage: String,
    pub serial: u64,
}

/// Replays a journal's bytes onto `stored` (or onto an empty state of the journal's lineage when
/// nothing is stored). Returns `None` for an empty journal.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn replay(
    source: &str,
    bytes: &[u8],
    stored: Option<State>,
) -> Result<Option<State>, StateError> {
    replay_sealed(source, bytes, stored, &Sealer::default())
}

/// [`replay`] of a journal whose lines `sealer` opens.
pub(crate) fn replay_sealed(
    source: &str,
    bytes: &[u8],
    stored: Option<State>,
    sealer: &Sealer,
) -> Result<Option<State>, StateError> {
    let fail = |message: String| StateError::Format {
        file: source.to_string(),
        message: format!("{message}\n  {DAMAGED_JOURNAL_HINT}"),
    };
    let mut lines = bytes.split(|b| *b == b'\n').peekable();
    let header_line = match lines.next() {
        Some(line) if !line.is_empty() => line,
        _ => return Ok(None),
    };
    // A header without its newline was cut short: nothing after it was recorded.
    if lines.peek().is_none() {
        return Ok(None);
    }
    let header_line = sealer.open(source, header_line)?;
    let header: JournalHeader = serde_json::from_slice(&header_line)
        .map_err(|e| fail(format!("invalid journal header: {e}")))?;
    let mut state = match stored {
        Some(state) => {
            if state.lineage != header.lineage {
                return Err(fail(format!(
                    "the journal belongs to lineage `{}` but the state file has `{}`: they belong to different states",
                    header.lineage, state.lineage
                )));
            }
            state
        }
        None => State {
            serial: header.serial,
            lineage: header.lineage,
            ..State::new()
        },
    };
    let mut number = 1;
    while let Some(line) = lines.next() {
        number += 1;
        let last = lines.peek().is_none();
        if last {
            // Either empty (the journal ended with a newline) or cut short by a crash.
            break;
        }
        if line.is_empty() {
            continue;
        }
        let line = sealer.open(source, line)?;
        let change: StateChange = serde_json::from_slice(&line)
            .map_err(|e| fail(format!("line {number}: invalid journal entry: {e}")))?;
        state.apply_change(&typed_change(change, &state));
    }
    Ok(Some(state))
}

/// A replayed `Put` decoded per its schema when the state it lands on was read with schemas
/// (`format::read_state_with`): that state's objects are typed already and
/// [`State::attach_schemas`] will not run again, so the journal's object (read without a type)
/// is decoded here, as attaching the schemas would have.
fn typed_change(change: StateChange, state: &State) -> StateChange {
    match (change, state.schemas()) {
        (
            StateChange::Put {
                address,
                mut object,
            },
            Some(schemas),
        ) => {
            if let Some(ty) = schemas.for_instance(&address, &object) {
                object.value = super::schemas::decode_object(&object.value, ty);
            }
            StateChange::Put { address, object }
        }
        (change, _) => change,
    }
}

/// One journal line: `value` as JSON, sealed by `sealer` (a no-op without encryption), and
/// the newline; the header and every change are written this way, locally and remotely.
pub(crate) fn sealed_line(value: &impl Serialize, sealer: &Sealer) -> Result<Vec<u8>, StateError> {
    let json = serde_json::to_vec(value)
        .map_err(|e| StateError::Other(format!("cannot encode a journal line: {e}")))?;
    let mut line = sealer.seal(&json)?;
    line.push(b'\n');
    Ok(line)
}

/// The lines of `changes`, one [`sealed_line`] each.
pub(crate) fn sealed_lines(
    changes: &[StateChange],
    sealer: &Sealer,
) -> Result<Vec<u8>, StateError> {
    let mut lines = Vec::new();
    for change in changes {
        lines.extend(sealed_line(change, sealer)?);
    }
    Ok(lines)
}

/// Runs blocking file work (a synced append, a full state write) without holding up the
/// runtime's other tasks: on the multi-threaded runtime the worker first hands its queue to
/// another thread (`block_in_place`). Without it, a task the writer had just woken (the next
/// holder of a released `-parallelism` slot sits in the worker's unstealable LIFO slot) waited
/// for the `fsync`, and provider slots sat idle. Elsewhere (a test's current-thread runtime,
/// no runtime) the work runs in place.
pub(crate) fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// An open journal file, appended to with a sync after every entry.
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    bytes: u64,
    sealer: Sealer,
}

impl Journal {
    /// Creates (or empties) the journal at `path`, starting with `header`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn create(path: &Path, header: &JournalHeader) -> Result<Journal, StateError> {
        Journal::create_sealed(path, header, Sealer::default())
    }

    /// [`Journal::create`], each line sealed by `sealer`.
    pub fn create_sealed(
        path: &Path,
        header: &JournalHeader,
        sealer: Sealer,
    ) -> Result<Journal, StateError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StateError::io(dir, e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| StateError::io(path, e))?;
        set_private_mode(&file, path)?;
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            bytes: 0,
            sealer,
        };
        journal.reset(header)?;
        if let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
        Ok(journal)
    }

    /// Empties the journal and writes a new header (after the state file absorbed it).
    pub fn reset(&mut self, header: &JournalHeader) -> Result<(), StateError> {
        self.file
            .set_len(0)
            .map_err(|e| StateError::io(&self.path, e))?;
        self.bytes = 0;
        let line = sealed_line(header, &self.sealer)?;
        self.write_line(&line)
    }

    /// Appends several changes with one write and one sync.
    pub fn append_all(&mut self, changes: &[StateChange]) -> Result<(), StateError> {
        let lines = sealed_lines(changes, &self.sealer)?;
        self.write_line(&lines)
    }

    #[cfg(test)]
    pub fn append(&mut self, change: &StateChange) -> Result<(), StateError> {
        self.append_all(std::slice::from_ref(change))
    }

    fn write_line(&mut self, line: &[u8]) -> Result<(), StateError> {
        self.file
            .write_all(line)
            .map_err(|e| StateError::io(&self.path, e))?;
        self.file
            .sync_data()
            .map_err(|e| StateError::io(&self.path, e))?;
        self.bytes += line.len() as u64;
        Ok(())
    }

    /// Bytes written since the last reset.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// Deletes the journal (its changes are in the state file now).
    pub fn remove(self) -> Result<(), StateError> {
        drop(self.file);
        remove_if_exists(&self.path)
    }
}

pub(crate) fn remove_if_exists(path: &Path) -> Result<(), StateError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StateError::io(path, e)),
    }
}

/// Syncs a directory, so that a rename or a new file in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StateError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|e| StateError::io(dir, e))
}

#[cfg(unix)]
pub(crate) fn set_private_mode(file: &File, path: &Path) -> Result<(), StateError> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| StateError::io(path, e))
}

#[cfg(not(unix))]
pub(crate) fn set_private_mode(_file: &File, _path: &Path) -> Result<(), StateError> {
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, renamed
/// over `path`, and the directory synced. The file is readable by its owner only (state holds
/// secrets).
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| StateError::io(dir, e))?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".strata-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| StateError::io(dir, e))?;
    set_private_mode(temporary.as_file(), path)?;
    temporary
        .write_all(bytes)
        .map_err(|e| StateError::io(path, e))?;
    temporary
        .as_file()
        .sync_all()
        .map_err(|e| StateError::io(path, e))?;
    super::lock::carry_state_file_lock(path, temporary.as_file())?;
    temporary
        .persist(path)
        .map_err(|e| StateError::io(path, e.error))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ResourceInstance;
    use crate::state::{InstanceObject, ObjectStatus};
    use crate::value::Value;

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

    #[test]
    fn replays_and_ignores_a_cut_last_line() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("j");
        let header = JournalHeader {
            lineage: "l".into(),
            serial: 3,
        };
        let mut journal = Journal::create(&path, &header).unwrap();
        journal.append(&put("a")).unwrap();
        journal.append(&put("b")).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let full = replay("j", &bytes, None).unwrap().unwrap();
        assert_eq!(full.resources.len(), 2);
        assert_eq!(full.lineage, "l");
        bytes.truncate(bytes.len() - 5);
        let cut = replay("j", &bytes, None).unwrap().unwrap();
        assert_eq!(cut.resources.len(), 1);
        assert!(replay("j", b"", None).unwrap().is_none());
        assert!(replay("j", b"{\"lineage\"", None).unwrap().is_none());
        let other = State::new();
        assert!(replay("j", &bytes, Some(other)).is_err());
    }
}
