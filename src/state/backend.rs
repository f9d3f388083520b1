//! Where state lives, per workspace, and the lock that keeps two runs apart: the [`Backend`]
//! trait the engine and CLI call, the [`StateWriter`] an apply records into, the [`LockGuard`]
//! a run holds, and the errors all of them report.
//!
//! How the engine is expected to use a backend for one `apply`:
//!
//! 1. `let guard = backend.lock(workspace, "apply", lock_timeout, &on_wait).await?;`
//!    (`on_wait` is called once, with the holder's details, if the run has to queue);
//! 2. `let state = backend.load(workspace).await?;` (replays a journal an interrupted run left);
//! 3. `let mut writer = backend.writer(workspace, &state).await?;` then
//!    `writer.record(&change).await?` after every resource operation (durable on return, cost
//!    independent of the state's size), and `writer.finish(&final_state).await?` at the end;
//! 4. `guard.release().await?` (dropping the guard releases it too, best effort).
//!
//! Commands that rewrite state outside an apply (`state rm`, `state mv`, refresh-only) call
//! [`Backend::write`]; `state pull`/`push` call [`Backend::pull`]/[`Backend::push`].
//!
//! Serial rule, for every backend: a write whose content (lineage, outputs, resources) equals
//! the stored state's leaves the serial as it is; any other write stores `stored serial + 1`. A
//! write whose lineage differs from the stored state's is refused.

use super::{State, StateChange, StateSchemas};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Who holds a lock, for the message a waiting run prints. The JSON keys are Terraform's
/// (`.terraform.tfstate.lock.info`), plus the holder's pid and host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Operation")]
    pub operation: String,
    /// Free text (Terraform's `Info`), usually empty.
    #[serde(rename = "Info", default)]
    pub info: String,
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Path")]
    pub path: String,
    /// The holder's process id and host, to tell a dead holder from a live one.
    #[serde(rename = "Pid", default)]
    pub pid: u32,
    #[serde(rename = "Host", default)]
    pub host: String,
    /// When the holder's lease ends unless it renews it (RFC 3339; remote locks only). A
    /// waiter may take over a lock whose lease has ended.
    #[serde(
        rename = "LeaseExpires",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub lease_expires: Option<String>,
}

impl LockInfo {
    /// A fresh lock record for this process: a new ID, `user@host`, the current time.
    pub fn new(operation: &str, path: &str) -> LockInfo {
        let host = this_host();
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".to_string());
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            info: String::new(),
            who: format!("{user}@{host}"),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            path: path.to_string(),
            pid: std::process::id(),
            host,
            lease_expires: None,
        }
    }

    /// Whether the record carries a lease that has ended. A record without a lease (written
    /// by Terraform, or by a local lock) never expires.
    pub fn lease_has_expired(&self) -> bool {
        self.lease_expires
            .as_deref()
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
            .is_some_and(|expires| expires < chrono::Utc::now())
    }

    /// The error a run reports when it cannot get the lock this record describes.
    pub fn locked_error(&self) -> StateError {
        StateError::Locked {
            id: self.id.clone(),
            holder: self.who.clone(),
            operation: self.operation.clone(),
            created: self.created.clone(),
        }
    }

    /// Whether the holder is a process on this host that no longer exists. A holder on another
    /// host cannot be checked and counts as alive.
    pub fn holder_is_gone(&self) -> bool {
        self.pid != 0 && self.host == this_host() && !process_is_alive(self.pid)
    }

    /// The error for a lock whose holder process is gone.
    pub fn gone_error(&self) -> StateError {
        StateError::LockHolderGone {
            id: self.id.clone(),
            holder: self.who.clone(),
            operation: self.operation.clone(),
            created: self.created.clone(),
            pid: self.pid,
        }
    }
}

/// This machine's host name.
pub fn this_host() -> String {
    hostname::get()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".to_string())
}

/// Whether a process with this id runs on this host (a zombie counts as gone). Where `/proc` is
/// not available the answer is "alive", which only costs a wait, never a broken lock.
pub fn process_is_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if !std::path::Path::new("/proc/self").exists() {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name, which may itself contain
        // spaces or parentheses: take the text after the last `)`.
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next()),
            Some("Z") | Some("X")
        ),
        Err(_) => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state is locked by {holder} ({operation}, since {created}); lock ID `{id}`")]
    Locked {
        id: String,
        holder: String,
        operation: String,
        created: String,
    },
    #[error("state is locked by {holder} ({operation}, since {created}), but that process ({pid}) is gone; if no other run is using this state, run `strata force-unlock {id}`")]
    LockHolderGone {
        id: String,
        holder: String,
        operation: String,
        created: String,
        pid: u32,
    },
    #[error("cannot unlock: {0}")]
    Unlock(String),
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    #[error(transparent)]
    Encryption(#[from] crate::encryption::EncryptionError),
    #[error("{location}: the stored state has lineage `{stored}` but the state being written has `{new}`: they are different states; refusing to overwrite")]
    LineageMismatch {
        location: String,
        stored: String,
        new: String,
    },
    #[error("{location}: the stored state has serial {stored} and the state being written has serial {new}; writing it would lose the stored changes (use -force to override)")]
    SerialBehind {
        location: String,
        stored: u64,
        new: u64,
    },
    #[error("{location}: the state changed while it was being written (another writer?); reload and retry")]
    Conflict { location: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("workspace `{0}` already exists")]
    WorkspaceExists(String),
    #[error("workspace `{0}` does not exist; `strata workspace list` shows the existing ones")]
    WorkspaceNotFound(String),
    #[error("invalid workspace name `{name}`: {reason}")]
    WorkspaceInvalid { name: String, reason: String },
    #[error("workspace `{name}` is not empty: its state tracks {count} resource instance(s); destroy them first or delete with -force (which forgets them)")]
    WorkspaceNotEmpty { name: String, count: usize },
    #[error("cannot delete workspace `{0}`: {1}")]
    WorkspaceUndeletable(String, String),
    #[error("{0}")]
    Other(String),
}

impl StateError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, error: impl std::fmt::Display) -> StateError {
        StateError::Io {
            path: path.as_ref().display().to_string(),
            message: error.to_string(),
        }
    }
}

/// Persists state changes during an operation.
#[async_trait]
pub trait StateWriter: Send {
    /// Records one change durably before returning. Its cost does not depend on the state's
    /// size (amortised: now and then the whole state is written and the journal emptied).
    async fn record(&mut self, change: &StateChange) -> Result<(), StateError>;
    /// Records several changes, in order, durably before returning: what operations that end
    /// at the same moment share (one sync for all, a group commit). The default records them
    /// one by one.
    async fn record_all(&mut self, changes: &[StateChange]) -> Result<(), StateError> {
        for change in changes {
            self.record(change).await?;
        }
        Ok(())
    }
    /// Writes the full state and clears the journal.
    async fn finish(&mut self, state: &State) -> Result<(), StateError>;
    /// The serial of the last full write ([`StateWriter::finish`] or a compaction), if any.
    fn written_serial(&self) -> Option<u64> {
        None
    }
}

/// Releases one held lock; implemented per backend.
#[async_trait]
pub trait LockRelease: Send + Sync {
    async fn release(&mut self) -> Result<(), StateError>;
    /// Best-effort release from `Drop`, where nothing can be awaited.
    fn release_now(&mut self);
}

/// A held state lock. Release it with [`LockGuard::release`]; dropping it releases it too
/// (best effort: an S3 lock is then deleted in the background).
pub struct LockGuard {
    info: LockInfo,
    release: Option<Box<dyn LockRelease>>,
    taken_over: Option<LockInfo>,
}

impl LockGuard {
    pub fn new(info: LockInfo, release: Box<dyn LockRelease>) -> LockGuard {
        LockGuard {
            info,
            release: Some(release),
            taken_over: None,
        }
    }

    /// Notes the record of a dead holder that this lock replaced.
    pub fn with_taken_over(mut self, taken_over: Option<LockInfo>) -> LockGuard {
        self.taken_over = taken_over;
        self
    }

    /// The record of a dead holder this lock replaced, if it took one over.
    pub fn taken_over(&self) -> Option<&LockInfo> {
        self.taken_over.as_ref()
    }

    /// The record written for this lock.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    pub async fn release(mut self) -> Result<(), StateError> {
        match self.release.take() {
            Some(mut release) => release.release().await,
            None => Ok(()),
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(mut release) = self.release.take() {
            release.release_now();
        }
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("info", &self.info)
            .finish()
    }
}

/// Called once, with the holder's details, when a lock request has to wait.
pub type OnLockWait<'a> = &'a (dyn Fn(&LockInfo) + Send + Sync);

/// A place that stores one state per workspace.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Every workspace, `default` first, the rest sorted.
    async fn workspaces(&self) -> Result<Vec<String>, StateError>;
    /// Creates an empty workspace; an error if it exists.
    async fn create_workspace(&self, workspace: &str) -> Result<(), StateError>;
    /// Deletes a workspace and its state. Refuses `default`, and a state that still tracks
    /// resources unless `force`. (Refusing the *current* workspace is the caller's job: see
    /// [`super::workspace::delete_workspace`].)
    async fn delete_workspace(&self, workspace: &str, force: bool) -> Result<(), StateError>;
    /// The workspace's state (replaying any journal an interrupted run left); a fresh empty
    /// state when it has none.
    async fn load(&self, workspace: &str) -> Result<State, StateError> {
        self.load_with_schemas(workspace, None).await
    }
    /// [`Backend::load`], the stored state decoded with `schemas` as it is read
    /// ([`super::format::read_state_with`]): its instances typed per their resource types'
    /// schemas and the schemas attached. Without schemas, as the file has them.
    async fn load_with_schemas(
        &self,
        workspace: &str,
        schemas: Option<Arc<StateSchemas>>,
    ) -> Result<State, StateError>;
    /// Writes a whole state (serial rule above). Returns the serial stored.
    async fn write(&self, workspace: &str, state: &State) -> Result<u64, StateError>;
    /// A writer for an apply that starts from `base` (as loaded; its lineage must match the
    /// stored one).
    async fn writer(
        &self,
        workspace: &str,
        base: &State,
    ) -> Result<Box<dyn StateWriter>, StateError>;
    /// The stored state as Terraform's JSON text, `None` when there is none.
    async fn pull(&self, workspace: &str) -> Result<Option<String>, StateError>;
    /// Replaces the stored state with `text` (a version-4 state). Without `force`, refuses a
    /// different lineage, a lower serial, or different content under the same serial.
    async fn push(&self, workspace: &str, text: &str, force: bool) -> Result<u64, StateError>;
    /// Takes the workspace's lock, waiting up to `timeout` (in arrival order) if another run
    /// holds it; `on_wait` is called once with the holder's details when waiting starts. A
    /// timeout of zero fails at once with [`StateError::Locked`].
    async fn lock(
        &self,
        workspace: &str,
        operation: &str,
        timeout: Duration,
        on_wait: OnLockWait<'_>,
    ) -> Result<LockGuard, StateError>;
    /// The current holder of the workspace's lock, if any.
    async fn lock_holder(&self, workspace: &str) -> Result<Option<LockInfo>, StateError>;
    /// Removes the workspace's lock if its ID is `id`.
    async fn force_unlock(&self, workspace: &str, id: &str) -> Result<(), StateError>;
}

/// What the serial of a write becomes (see the module documentation), and the checks a write
/// makes against the stored state. Shared by every backend.
pub(crate) fn next_serial(
    location: &str,
    stored: Option<&State>,
    new: &State,
    push_force: Option<bool>,
) -> Result<Option<u64>, StateError> {
    let Some(stored) = stored else {
        // Nothing stored: a pushed state keeps its serial, a new one starts at 1.
        return Ok(Some(if push_force.is_some() {
            new.serial.max(1)
        } else {
            new.serial + 1
        }));
    };
    let force = push_force == Some(true);
    if stored.lineage != new.lineage && !force {
        return Err(StateError::LineageMismatch {
            location: location.to_string(),
            stored: stored.lineage.clone(),
            new: new.lineage.clone(),
        });
    }
    // Deposed objects and pending creates are content too: a run that only destroyed a
    // deposed object, or only resolved an interrupted create, must be written.
    let same_content = stored.lineage == new.lineage
        && stored.outputs == new.outputs
        && stored.resources == new.resources
        && stored.deposed == new.deposed
        && stored.pending_creates == new.pending_creates;
    if push_force == Some(false)
        && (new.serial < stored.serial || (new.serial == stored.serial && !same_content))
    {
        return Err(StateError::SerialBehind {
            location: location.to_string(),
            stored: stored.serial,
            new: new.serial,
        });
    }
    if same_content {
        return Ok(None);
    }
    Ok(Some(match push_force {
        Some(_) => new.serial.max(stored.serial + 1),
        None => stored.serial + 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ResourceInstance;
    use crate::state::PendingCreate;

    fn stored() -> State {
        State {
            serial: 7,
            lineage: "l".into(),
            ..State::new()
        }
    }

    #[test]
    fn a_state_is_written_when_anything_recorded_changed_and_only_then() {
        let same = stored();
        assert_eq!(
            next_serial("s", Some(&stored()), &same, None).unwrap(),
            None
        );
        let address = ResourceInstance::parse("aws_vpc.main").unwrap();
        // The stored state had a pending create the run resolved (or a deposed object it
        // destroyed): the resources are the same, the state is not.
        let mut with_pending = stored();
        let pending = PendingCreate {
            token: "t".into(),
            planned: crate::value::Value::Null,
        };
        with_pending
            .pending_creates
            .insert(address.clone(), pending);
        assert_eq!(
            next_serial("s", Some(&with_pending), &same, None).unwrap(),
            Some(8)
        );
        let mut with_deposed = stored();
        let object = crate::state::InstanceObject {
            value: crate::value::Value::Null,
            provider: "provider[\"registry.terraform.io/hashicorp/aws\"]".into(),
            schema_version: 0,
            dependencies: Vec::new(),
            create_before_destroy: true,
            status: crate::state::ObjectStatus::Ready,
            private: None,
        };
        with_deposed
            .deposed
            .entry(address)
            .or_default()
            .insert("00000001".into(), object);
        assert_eq!(
            next_serial("s", Some(&with_deposed), &same, None).unwrap(),
            Some(8)
        );
    }
}
