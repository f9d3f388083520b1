//! The local backend (the default): state files in the working directory, as Terraform lays
//! them out.
//!
//! - workspace `default`: `terraform.tfstate` (or the configured `path`);
//! - any other workspace: `terraform.tfstate.d/<workspace>/terraform.tfstate`;
//! - beside each state file: `.backup` (the previous version), `.journal` (changes recorded by
//!   an apply in progress, see the `journal` module), and the lock `.terraform.tfstate.lock.info`
//!   with its queue (see the `lock` module).
//!
//! Writes are atomic (temporary file, fsync, rename, fsync of the directory) and private (mode
//! 0600). With state encryption configured ([`LocalBackend::with_encryption`]) the state file,
//! its backup and each journal line hold OpenTofu's encrypted envelope instead of plaintext.

use super::backend::{
    next_serial, Backend, LockGuard, LockInfo, OnLockWait, StateError, StateWriter,
};
use super::format::{read_state, read_state_with, write_state_as};
use super::journal::{off_the_runtime, remove_if_exists, replay_sealed, Journal, JournalHeader};
use super::lock::{held_by_this_process, FileLock};
use super::store::{read_file, read_state_file, write_file};
use super::workspace::{validate_workspace_name, DEFAULT_WORKSPACE};
use super::writer::{JournalTarget, JournaledWriter};
use super::{State, StateChange, StateSchemas};
use crate::encryption::Sealer;
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// State files under a working directory.
#[derive(Clone, Debug)]
pub struct LocalBackend {
    root: PathBuf,
    state_path: PathBuf,
    workspace_dir: PathBuf,
    /// Seals what is written, opens what is read (plaintext when not configured).
    sealer: Sealer,
}

impl LocalBackend {
    /// The backend for `working_dir`, with Terraform's default file names.
    pub fn new(working_dir: impl Into<PathBuf>) -> LocalBackend {
        LocalBackend {
            root: working_dir.into(),
            state_path: PathBuf::from("terraform.tfstate"),
            workspace_dir: PathBuf::from("terraform.tfstate.d"),
            sealer: Sealer::plaintext("state"),
        }
    }

    /// The same backend, encrypting state and journal with `sealer`.
    pub fn with_encryption(mut self, sealer: Sealer) -> LocalBackend {
        self.sealer = sealer;
        self
    }

    /// The plaintext of a state file's bytes.
    fn open_bytes(&self, path: &Path, bytes: &[u8]) -> Result<String, StateError> {
        let plain = self.sealer.open(&path.display().to_string(), bytes)?;
        String::from_utf8(plain).map_err(|_| {
            let error = std::io::Error::from(std::io::ErrorKind::InvalidData);
            super::format::unreadable_state(path, error)
        })
    }

    /// The default workspace's state file (`backend "local" { path = ... }`), relative to the
    /// working directory unless absolute.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> LocalBackend {
        self.state_path = path.into();
        self
    }

    /// Where other workspaces live (`workspace_dir`).
    pub fn with_workspace_dir(mut self, dir: impl Into<PathBuf>) -> LocalBackend {
        self.workspace_dir = dir.into();
        self
    }

    /// The state file of `workspace`.
    pub fn state_file(&self, workspace: &str) -> PathBuf {
        if workspace == DEFAULT_WORKSPACE {
            self.root.join(&self.state_path)
        } else {
            self.root
                .join(&self.workspace_dir)
                .join(workspace)
                .join("terraform.tfstate")
        }
    }

    fn backup_file(state_file: &Path) -> PathBuf {
        suffixed(state_file, ".backup")
    }

    /// The journal of an apply in progress.
    pub fn journal_file(&self, workspace: &str) -> PathBuf {
        suffixed(&self.state_file(workspace), ".journal")
    }

    /// The lock file of `workspace`.
    pub fn lock_file(&self, workspace: &str) -> PathBuf {
        self.file_lock(workspace).lock_path
    }

    fn file_lock(&self, workspace: &str) -> FileLock {
        FileLock::for_state(&self.state_file(workspace))
    }

    fn workspace_exists(&self, workspace: &str) -> bool {
        workspace == DEFAULT_WORKSPACE
            || self
                .state_file(workspace)
                .parent()
                .is_some_and(Path::is_dir)
    }

    /// The stored state file, parsed (with `schemas`, if any), with its size; `None` when
    /// absent or empty.
    fn read_stored(
        &self,
        workspace: &str,
        schemas: Option<Arc<StateSchemas>>,
    ) -> Result<Option<(State, u64)>, StateError> {
        let path = self.state_file(workspace);
        let Some(bytes) = read_state_file(&path)? else {
            return Ok(None);
        };
        let text = self.open_bytes(&path, &bytes)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        let state = read_state_with(&text, &path.display().to_string(), schemas)?;
        Ok(Some((state, bytes.len() as u64)))
    }

    /// The stored state with any leftover journal replayed onto it, and whether there was one.
    fn read_current(
        &self,
        workspace: &str,
        schemas: Option<Arc<StateSchemas>>,
    ) -> Result<(Option<State>, bool), StateError> {
        let stored = self
            .read_stored(workspace, schemas)?
            .map(|(state, _)| state);
        let journal_path = self.journal_file(workspace);
        let Some(bytes) = read_file(&journal_path)? else {
            return Ok((stored, false));
        };
        let had_stored = stored.is_some();
        let source = journal_path.display().to_string();
        match replay_sealed(&source, &bytes, stored.clone(), &self.sealer)? {
            Some(state) => Ok((Some(state), true)),
            None => Ok((stored, had_stored || !bytes.is_empty())),
        }
    }

    /// Whether this process may fold a journal into the state file: nobody else holds the lock
    /// (another live run may still be appending to it).
    fn may_settle(&self, workspace: &str) -> Result<bool, StateError> {
        Ok(match self.file_lock(workspace).holder()? {
            None => true,
            Some(holder) => held_by_this_process(&holder.id),
        })
    }

    /// Loads (with `schemas`, if any), and folds a leftover journal into the state file when
    /// that is safe.
    fn load_sync(
        &self,
        workspace: &str,
        schemas: Option<Arc<StateSchemas>>,
    ) -> Result<State, StateError> {
        let (mut state, had_journal) = self.read_current(workspace, schemas)?;
        if had_journal && self.may_settle(workspace)? {
            if let Some(state) = &mut state {
                state.serial = self.store(workspace, state, None)?.0;
            }
            remove_if_exists(&self.journal_file(workspace))?;
        }
        Ok(state.unwrap_or_default())
    }

    /// Writes `state` under the serial rule; returns the serial stored and the file size.
    fn store(
        &self,
        workspace: &str,
        state: &State,
        push_force: Option<bool>,
    ) -> Result<(u64, u64), StateError> {
        let (serial, size, _) = self.store_over(workspace, state, push_force, None)?;
        Ok((serial, size))
    }

    /// [`LocalBackend::store`], and what was written. With `ours` (the file as this process
    /// last wrote it, changed since: a journal compaction, [`LocalTarget`]), a file still
    /// holding those bytes is not decoded again for the serial rule: `state` goes at the next
    /// serial. Decoding the whole stored state at every compaction was a fifth of the CPU of
    /// a 20,000-instance apply.
    fn store_over(
        &self,
        workspace: &str,
        state: &State,
        push_force: Option<bool>,
        ours: Option<&Written>,
    ) -> Result<(u64, u64, Option<Written>), StateError> {
        let path = self.state_file(workspace);
        let previous = read_file(&path)?.filter(|bytes| !bytes.iter().all(u8::is_ascii_whitespace));
        let location = path.display().to_string();
        let unchanged_since_ours = match (&previous, ours) {
            (Some(bytes), Some(ours)) => Written::digest(bytes) == ours.digest,
            _ => false,
        };
        let serial = match ours {
            Some(ours) if unchanged_since_ours => ours.serial + 1,
            _ => {
                let stored = match &previous {
                    Some(bytes) => Some(read_state(&self.open_bytes(&path, bytes)?, &location)?),
                    None => None,
                };
                let Some(serial) = next_serial(&location, stored.as_ref(), state, push_force)?
                else {
                    let size = previous.as_ref().map_or(0, |b| b.len() as u64);
                    return Ok((stored.map_or(state.serial, |s| s.serial), size, None));
                };
                serial
            }
        };
        let text = write_state_as(state, serial, crate::TERRAFORM_VERSION_COMPAT)?;
        let sealed = self.sealer.seal(text.as_bytes())?;
        if let Some(previous) = previous {
            write_file(&Self::backup_file(&path), &previous)?;
        }
        write_file(&path, &sealed)?;
        let written = Written {
            digest: Written::digest(&sealed),
            serial,
        };
        Ok((serial, sealed.len() as u64, Some(written)))
    }
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_os_string();
    text.push(suffix);
    PathBuf::from(text)
}

#[async_trait]
impl Backend for LocalBackend {
    async fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let mut names = Vec::new();
        let dir = self.root.join(&self.workspace_dir);
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|e| StateError::io(&dir, e))?;
                    if entry.path().is_dir() {
                        let name = entry.file_name().to_string_lossy().into_owned();
                        if name != DEFAULT_WORKSPACE && validate_workspace_name(&name).is_ok() {
                            names.push(name);
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StateError::io(&dir, e)),
        }
        names.sort();
        names.insert(0, DEFAULT_WORKSPACE.to_string());
        Ok(names)
    }

    async fn create_workspace(&self, workspace: &str) -> Result<(), StateError> {
        validate_workspace_name(workspace)?;
        if self.workspace_exists(workspace) {
            return Err(StateError::WorkspaceExists(workspace.to_string()));
        }
        let path = self.state_file(workspace);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|e| StateError::io(dir, e))
    }

    async fn delete_workspace(&self, workspace: &str, force: bool) -> Result<(), StateError> {
        if workspace == DEFAULT_WORKSPACE {
            return Err(StateError::WorkspaceUndeletable(
                workspace.into(),
                "the default workspace always exists".into(),
            ));
        }
        validate_workspace_name(workspace)?;
        if !self.workspace_exists(workspace) {
            return Err(StateError::WorkspaceNotFound(workspace.to_string()));
        }
        let guard = self
            .lock(workspace, "workspace delete", Duration::ZERO, &|_| {})
            .await?;
        let (state, _) = self.read_current(workspace, None)?;
        let count = state.as_ref().map_or(0, |s| s.resources.len());
        if count > 0 && !force {
            return Err(StateError::WorkspaceNotEmpty {
                name: workspace.to_string(),
                count,
            });
        }
        drop(guard);
        let path = self.state_file(workspace);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::remove_dir_all(dir).map_err(|e| StateError::io(dir, e))
    }

    async fn load_with_schemas(
        &self,
        workspace: &str,
        schemas: Option<Arc<StateSchemas>>,
    ) -> Result<State, StateError> {
        self.load_sync(workspace, schemas)
    }

    async fn write(&self, workspace: &str, state: &State) -> Result<u64, StateError> {
        let (serial, _) = self.store(workspace, state, None)?;
        Ok(serial)
    }

    async fn writer(
        &self,
        workspace: &str,
        base: &State,
    ) -> Result<Box<dyn StateWriter>, StateError> {
        let (stored, had_journal) = self.read_current(workspace, None)?;
        if had_journal {
            if let Some(stored) = &stored {
                self.store(workspace, stored, None)?;
            }
            remove_if_exists(&self.journal_file(workspace))?;
        }
        if let Some(stored) = &stored {
            if stored.lineage != base.lineage {
                return Err(StateError::LineageMismatch {
                    location: self.state_file(workspace).display().to_string(),
                    stored: stored.lineage.clone(),
                    new: base.lineage.clone(),
                });
            }
        }
        let state_bytes = std::fs::metadata(self.state_file(workspace)).map_or(0, |m| m.len());
        let target = LocalTarget {
            backend: self.clone(),
            workspace: workspace.to_string(),
            journal: None,
            written: None,
            appended: false,
        };
        Ok(Box::new(JournaledWriter::new(
            Box::new(target),
            base.clone(),
            state_bytes,
        )))
    }

    async fn pull(&self, workspace: &str) -> Result<Option<String>, StateError> {
        let (state, had_journal) = self.read_current(workspace, None)?;
        if !had_journal {
            let path = self.state_file(workspace);
            return match read_state_file(&path)? {
                Some(bytes) => {
                    let text = self.open_bytes(&path, &bytes)?;
                    Ok(Some(text).filter(|text| !text.trim().is_empty()))
                }
                None => Ok(None),
            };
        }
        state.map(|s| super::format::write_state(&s)).transpose()
    }

    async fn push(&self, workspace: &str, text: &str, force: bool) -> Result<u64, StateError> {
        let state = read_state(text, "the pushed state")?;
        let (serial, _) = self.store(workspace, &state, Some(force))?;
        Ok(serial)
    }

    async fn lock(
        &self,
        workspace: &str,
        operation: &str,
        timeout: Duration,
        on_wait: OnLockWait<'_>,
    ) -> Result<LockGuard, StateError> {
        let state_file = self.state_file(workspace);
        let info = LockInfo::new(operation, &state_file.display().to_string());
        self.file_lock(workspace)
            .acquire(info, timeout, on_wait)
            .await
    }

    async fn lock_holder(&self, workspace: &str) -> Result<Option<LockInfo>, StateError> {
        self.file_lock(workspace).holder()
    }

    async fn force_unlock(&self, workspace: &str, id: &str) -> Result<(), StateError> {
        self.file_lock(workspace).force_unlock(id).await
    }
}

/// A state file as this process wrote it: the SHA-256 of its bytes and the serial they hold.
struct Written {
    digest: [u8; 32],
    serial: u64,
}

impl Written {
    fn digest(bytes: &[u8]) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(bytes).into()
    }
}

/// The local backend's [`JournalTarget`]: the journal file beside the state file.
struct LocalTarget {
    backend: LocalBackend,
    workspace: String,
    journal: Option<Journal>,
    /// The state file this target wrote last ([`LocalBackend::store_over`]).
    written: Option<Written>,
    /// Whether changes were appended since then.
    appended: bool,
}

#[async_trait]
impl JournalTarget for LocalTarget {
    async fn store(&mut self, state: &State) -> Result<(u64, u64), StateError> {
        let ours = self.written.as_ref().filter(|_| self.appended);
        let (serial, size, written) =
            off_the_runtime(|| self.backend.store_over(&self.workspace, state, None, ours))?;
        self.written = written;
        self.appended = false;
        Ok((serial, size))
    }

    async fn append(
        &mut self,
        header: &JournalHeader,
        changes: &[StateChange],
    ) -> Result<u64, StateError> {
        let added = off_the_runtime(|| -> Result<u64, StateError> {
            let journal = match &mut self.journal {
                Some(journal) => journal,
                None => self.journal.insert(Journal::create_sealed(
                    &self.backend.journal_file(&self.workspace),
                    header,
                    self.backend.sealer.clone(),
                )?),
            };
            let before = journal.len();
            journal.append_all(changes)?;
            Ok(journal.len() - before)
        })?;
        self.appended = true;
        Ok(added)
    }

    async fn clear(&mut self, next: Option<&JournalHeader>) -> Result<(), StateError> {
        off_the_runtime(|| match (next, &mut self.journal) {
            (Some(header), Some(journal)) => journal.reset(header),
            (None, journal) => match journal.take() {
                Some(journal) => journal.remove(),
                None => Ok(()),
            },
            (Some(_), None) => Ok(()),
        })
    }
}

/// Whether `dir` holds local state in the default layout (`terraform.tfstate`, or a
/// `terraform.tfstate.d` of workspaces): `init` counts such a directory as using the local
/// backend before it records settings.
pub fn holds_state(dir: &Path) -> bool {
    dir.join("terraform.tfstate").exists() || dir.join("terraform.tfstate.d").is_dir()
}
