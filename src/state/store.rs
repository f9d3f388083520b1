//! Backends as small storage clients (OpenTofu's `states/remote` client model): the
//! [`ObjectStore`] trait (get, put, conditional put, delete, list by prefix) that a backend
//! keeps its state, journal and lock objects in, and [`LocalFiles`], the client over a
//! directory. The S3 client is `state::s3_store::S3Objects`.
//!
//! Every state and journal byte a backend reads or writes passes through one of these clients
//! (`get`/`put`; the local backend through [`read_file`]/[`write_file`], which `LocalFiles`
//! uses too, and appends its journal through `journal::Journal`), so a byte-level hook
//! (encryption) has one place per backend to land.
//!
//! Semantics every client honours (checked by `tests/suite/state_conformance.rs`):
//! - `get` of a missing key is `Ok(None)`; a present key yields its bytes and an ETag that
//!   changes whenever the bytes change;
//! - `put` with [`Precondition::IfAbsent`] creates the key only if it does not exist, with
//!   [`Precondition::IfMatch`] replaces it only if its ETag is still the one given; a failed
//!   condition is `Ok(None)`, never an error, and leaves the object as it was; a successful
//!   put returns the new ETag; writes are atomic (a reader sees the old or the new bytes);
//! - `delete` of a missing key succeeds;
//! - `list` returns the keys under a prefix, sorted.

use super::backend::StateError;
use super::journal::{atomic_write, remove_if_exists};
use async_trait::async_trait;
use fs4::fs_std::FileExt;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// An object's bytes and the ETag that names this version of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub bytes: Vec<u8>,
    pub etag: String,
}

/// When a put may happen.
#[derive(Clone, Debug, PartialEq)]
pub enum Precondition {
    /// Always (last writer wins).
    None,
    /// Only if the key does not exist (`If-None-Match: *`).
    IfAbsent,
    /// Only if the key's ETag is still this one (`If-Match`).
    IfMatch(String),
}

/// A key-value store of objects: what a backend needs from its storage.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Where `key` lives, for messages (`s3://bucket/key`, a file path).
    fn location(&self, key: &str) -> String;
    /// The object's bytes and ETag; `None` when it does not exist.
    async fn get(&self, key: &str) -> Result<Option<Stored>, StateError>;
    /// Writes the object if `condition` holds: the new ETag, or `None` when it did not hold.
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        condition: Precondition,
    ) -> Result<Option<String>, StateError>;
    /// Deletes the object; deleting a missing key succeeds.
    async fn delete(&self, key: &str) -> Result<(), StateError>;
    /// Deletes the object only if its ETag is still `etag`, in one request: `Some(true)` when
    /// deleted, `Some(false)` when the object is another version or gone, `None` when the store
    /// cannot make the delete conditional (the caller then reads and deletes).
    async fn delete_if_match(&self, _key: &str, _etag: &str) -> Result<Option<bool>, StateError> {
        Ok(None)
    }
    /// Deletes several objects (one request where the store allows it).
    async fn delete_many(&self, keys: &[String]) -> Result<(), StateError> {
        for key in keys {
            self.delete(key).await?;
        }
        Ok(())
    }
    /// The keys that start with `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StateError>;
}

/// Objects as files under a root directory: key `a/b` is the file `<root>/a/b` (an absolute
/// key is used as it is). Writes are atomic and private (see `journal::atomic_write`);
/// conditional writes hold a kernel lock on the directory while they compare and write.
#[derive(Clone, Debug)]
pub struct LocalFiles {
    root: PathBuf,
}

impl LocalFiles {
    pub fn new(root: impl Into<PathBuf>) -> LocalFiles {
        LocalFiles { root: root.into() }
    }

    /// The file of `key`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// [`ObjectStore::get`], synchronously.
    pub fn get_now(&self, key: &str) -> Result<Option<Stored>, StateError> {
        Ok(read_file(&self.path(key))?.map(|bytes| Stored {
            etag: etag_of(&bytes),
            bytes,
        }))
    }

    /// [`ObjectStore::put`], synchronously.
    pub fn put_now(
        &self,
        key: &str,
        bytes: &[u8],
        condition: Precondition,
    ) -> Result<Option<String>, StateError> {
        let path = self.path(key);
        if condition == Precondition::None {
            write_file(&path, bytes)?;
            return Ok(Some(etag_of(bytes)));
        }
        let dir = parent_dir(&path);
        std::fs::create_dir_all(&dir).map_err(|e| StateError::io(&dir, e))?;
        let handle = std::fs::File::open(&dir).map_err(|e| StateError::io(&dir, e))?;
        handle
            .lock_exclusive()
            .map_err(|e| StateError::io(&dir, e))?;
        let current = self.get_now(key)?;
        let holds = match (&condition, &current) {
            (Precondition::IfAbsent, current) => current.is_none(),
            (Precondition::IfMatch(etag), Some(current)) => &current.etag == etag,
            (Precondition::IfMatch(_), None) => false,
            (Precondition::None, _) => true,
        };
        let result = if holds {
            write_file(&path, bytes).map(|()| Some(etag_of(bytes)))
        } else {
            Ok(None)
        };
        let _ = FileExt::unlock(&handle);
        result
    }

    fn list_now(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        // The directory part of the prefix is walked; the rest filters names.
        let (dir_part, _) = prefix.rsplit_once('/').unwrap_or(("", prefix));
        let mut keys = Vec::new();
        let mut pending = vec![dir_part.to_string()];
        while let Some(relative) = pending.pop() {
            let dir = self.root.join(&relative);
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StateError::io(&dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| StateError::io(&dir, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(".strata-") && name.ends_with(".tmp") {
                    continue;
                }
                let key = if relative.is_empty() {
                    name
                } else {
                    format!("{relative}/{name}")
                };
                if entry.path().is_dir() {
                    pending.push(key);
                } else if key.starts_with(prefix) {
                    keys.push(key);
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

/// A local file's bytes, `None` when it does not exist: where local state and journal bytes
/// are read.
pub fn read_file(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::io(path, e)),
    }
}

/// A local state file's bytes, `None` when it does not exist; what cannot be read (a
/// directory) is reported with what to do (`format::unreadable_state`).
pub fn read_state_file(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    let _phase = crate::timings::phase("state file reading");
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(super::format::unreadable_state(path, e)),
    }
}

/// Replaces a local file's bytes atomically and privately: where local state bytes are
/// written.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    atomic_write(path, bytes)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A file's ETag: the SHA-256 of its bytes.
fn etag_of(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait]
impl ObjectStore for LocalFiles {
    fn location(&self, key: &str) -> String {
        self.path(key).display().to_string()
    }

    async fn get(&self, key: &str) -> Result<Option<Stored>, StateError> {
        self.get_now(key)
    }

    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        condition: Precondition,
    ) -> Result<Option<String>, StateError> {
        self.put_now(key, bytes, condition)
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        remove_if_exists(&self.path(key))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        self.list_now(prefix)
    }
}
