//! The S3 backend (`backend "s3" { ... }`), compatible with Terraform's: the same object keys,
//! the same lock object and DynamoDB lock items, so Terraform and Strata can share a bucket.
//!
//! - State: workspace `default` at `key`; any other at `<workspace_key_prefix>/<workspace>/<key>`
//!   (prefix `env:` by default). Optional server-side encryption (`encrypt = true`: AES256).
//! - Writes are compare-and-swap: the object is replaced only if its ETag is still the one read
//!   (`If-Match`), or created only if absent (`If-None-Match: *`), so a concurrent writer that
//!   skipped the lock makes the write fail instead of being silently overwritten.
//! - Locks: `use_lockfile = true` writes `<state key>.tflock` with `If-None-Match: *` (as
//!   Terraform 1.11+ does) and deletes it to release; `dynamodb_table` writes the item
//!   `LockID = <bucket>/<state key>` with a conditional PutItem (and keeps Terraform's
//!   `<bucket>/<state key>-md5` digest item up to date). Waiting runs queue in arrival order
//!   through ticket objects under `<state key>.tflock.queue/`, touched every few seconds; a
//!   ticket not touched for a minute belongs to a waiter that is gone.
//! - Leases: a Strata holder writes `LeaseExpires` into its lock record (Terraform ignores the
//!   extra key) and renews it every third of the lease (`STRATA_LOCK_LEASE`, default 60s) with a
//!   conditional write on the record it last saw. A waiter takes over a record whose lease has
//!   ended (or whose holder is a dead process on this host) with a conditional write on the
//!   stale record, so two waiters never both win, and says so. A holder whose renewal finds the
//!   record replaced has lost the lock: it stops before uploading state. Records without a
//!   lease (Terraform's) are never taken over.
//! - Durability during apply: rewriting the whole object per resource operation would make an
//!   apply quadratic, so the apply's journal lives in the bucket itself, beside the state: each
//!   group of changes recorded together is one small object `<state key>.journal/<seq>`,
//!   written with `If-None-Match: *` (see `state::segments`), and the full state is uploaded by
//!   `finish` and whenever the journal grows to 4 times the state (`JOURNAL_PER_STATE`; amortised
//!   linear), after which the
//!   segments are deleted. After a crash (a CI runner thrown away), the next run on any machine
//!   replays the segments before planning, pending creates included, and uploads the result.
//! - Every object byte goes through [`S3Objects`] (`state::s3_store`).

use super::backend::{
    next_serial, Backend, LockGuard, LockInfo, LockRelease, OnLockWait, StateError, StateWriter,
};
use super::format::{read_state, read_state_with, write_state, write_state_as};
use super::journal::JournalHeader;
use super::lock::{refusal, wait_in_queue, LockQueue};
use super::lock_records::{self, LockRecord, ObjectLockRecord, Versioned};
use super::s3_store::S3Objects;
use super::segments::{
    delete_segments, list_segments, replay_listed, segment_prefix, SegmentJournal,
};
use super::store::{ObjectStore, Precondition};
use super::workspace::{validate_workspace_name, DEFAULT_WORKSPACE};
use super::writer::{JournalTarget, JournaledWriter};
use super::{State, StateChange, StateSchemas};
use crate::encryption::Sealer;
use crate::value::Value;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const POLL: Duration = Duration::from_millis(200);
const TICKET_HEARTBEAT: Duration = Duration::from_secs(10);
const TICKET_STALE: Duration = Duration::from_secs(60);
const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The settings of a `backend "s3"` block (after `-backend-config` merged into them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct S3Settings {
    pub bucket: String,
    pub key: String,
    pub region: Option<String>,
    /// `endpoints { s3 = ... }` (or the older `endpoint`).
    pub endpoint: Option<String>,
    /// `endpoints { dynamodb = ... }` (or the older `dynamodb_endpoint`).
    pub dynamodb_endpoint: Option<String>,
    /// `use_path_style` (or the older `force_path_style`).
    pub use_path_style: bool,
    pub workspace_key_prefix: String,
    pub encrypt: bool,
    pub use_lockfile: bool,
    pub dynamodb_table: Option<String>,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
}

impl S3Settings {
    /// Reads the literal settings of the block. `bucket` and `key` are required.
    pub fn from_settings(settings: &BTreeMap<String, Value>) -> Result<S3Settings, StateError> {
        let invalid = |name: &str, expected: &str| {
            StateError::Other(format!("backend \"s3\": `{name}` must be {expected}"))
        };
        let string = |name: &str| -> Result<Option<String>, StateError> {
            match settings.get(name).map(Value::unmarked) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(invalid(name, "a string")),
            }
        };
        let boolean = |name: &str| -> Result<Option<bool>, StateError> {
            match settings.get(name).map(Value::unmarked) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Bool(value)) => Ok(Some(*value)),
                Some(Value::String(text)) if text == "true" || text == "false" => {
                    Ok(Some(text == "true"))
                }
                Some(_) => Err(invalid(name, "a bool")),
            }
        };
        let endpoints = match settings.get("endpoints").map(Value::unmarked) {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(entries) | Value::Map(entries)) => entries.clone(),
            Some(_) => return Err(invalid("endpoints", "an object like `{ s3 = \"...\" }`")),
        };
        let endpoint_of = |name: &str| -> Result<Option<String>, StateError> {
            match endpoints.get(name).map(Value::unmarked) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(invalid(&format!("endpoints.{name}"), "a string")),
            }
        };
        let required = |name: &str| -> Result<String, StateError> {
            string(name)?.filter(|s| !s.is_empty()).ok_or_else(|| {
                StateError::Other(format!(
                    "backend \"s3\": `{name}` is required (set it in the block or with -backend-config={name}=...)"
                ))
            })
        };
        let url = |value: Option<String>, name: &str| -> Result<Option<String>, StateError> {
            match value {
                Some(text) if !(text.starts_with("http://") || text.starts_with("https://")) => {
                    Err(invalid(
                        name,
                        &format!("a URL like `https://s3.example.com`, not `{text}`"),
                    ))
                }
                other => Ok(other),
            }
        };
        let workspace_key_prefix =
            string("workspace_key_prefix")?.unwrap_or_else(|| "env:".to_string());
        let key = required("key")?;
        if key.starts_with('/') || key.ends_with('/') {
            return Err(invalid(
                "key",
                "an object key that neither starts nor ends with `/`",
            ));
        }
        Ok(S3Settings {
            bucket: required("bucket")?,
            key,
            region: string("region")?,
            endpoint: url(endpoint_of("s3")?.or(string("endpoint")?), "endpoint")?,
            dynamodb_endpoint: url(
                endpoint_of("dynamodb")?.or(string("dynamodb_endpoint")?),
                "dynamodb_endpoint",
            )?,
            use_path_style: boolean("use_path_style")?
                .or(boolean("force_path_style")?)
                .unwrap_or(false),
            workspace_key_prefix,
            encrypt: boolean("encrypt")?.unwrap_or(false),
            use_lockfile: boolean("use_lockfile")?.unwrap_or(false),
            dynamodb_table: string("dynamodb_table")?.filter(|s| !s.is_empty()),
            profile: string("profile")?,
            access_key: string("access_key")?,
            secret_key: string("secret_key")?,
        })
    }
}

/// State in an S3 bucket.
#[derive(Clone)]
pub struct S3Backend {
    settings: S3Settings,
    s3: aws_sdk_s3::Client,
    /// The bucket as a storage client: every state, journal and lock byte goes through it.
    objects: S3Objects,
    dynamodb: Option<aws_sdk_dynamodb::Client>,
    /// How long a lock's lease lasts unless renewed.
    lease: Duration,
    /// Set when a renewal found our lock record replaced: no state may be uploaded after.
    lease_lost: Arc<AtomicBool>,
    /// State encryption (plaintext when not configured): the state object and journal lines.
    sealer: Sealer,
}

/// A lock just taken.
struct Taken {
    /// The record of an abandoned holder it replaced, if any.
    taken_over: Option<LockInfo>,
    /// When its lease started (just before the write that took it): renewals count from here.
    leased_at: tokio::time::Instant,
}

impl std::fmt::Debug for S3Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Backend")
            .field("settings", &self.settings.bucket)
            .finish()
    }
}

impl S3Backend {
    /// Connects (lazily: no request is made here). Nothing is kept in `_working_dir`: the
    /// journal lives in the bucket.
    pub async fn new(
        settings: S3Settings,
        _working_dir: impl Into<PathBuf>,
    ) -> Result<S3Backend, StateError> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &settings.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let (Some(access_key), Some(secret_key)) = (&settings.access_key, &settings.secret_key) {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                access_key.clone(),
                secret_key.clone(),
                None,
                None,
                "backend-s3-settings",
            ));
        }
        let shared = loader.load().await;
        let mut s3_config =
            aws_sdk_s3::config::Builder::from(&shared).force_path_style(settings.use_path_style);
        if let Some(endpoint) = &settings.endpoint {
            s3_config = s3_config.endpoint_url(endpoint);
        }
        let s3 = aws_sdk_s3::Client::from_conf(s3_config.build());
        let dynamodb = settings.dynamodb_table.as_ref().map(|_| {
            let mut config = aws_sdk_dynamodb::config::Builder::from(&shared);
            if let Some(endpoint) = &settings.dynamodb_endpoint {
                config = config.endpoint_url(endpoint);
            }
            aws_sdk_dynamodb::Client::from_conf(config.build())
        });
        let objects = S3Objects::new(s3.clone(), settings.bucket.clone(), settings.encrypt);
        Ok(S3Backend {
            settings,
            s3,
            objects,
            dynamodb,
            lease: lease_from_env(),
            lease_lost: Arc::new(AtomicBool::new(false)),
            sealer: Sealer::plaintext("state"),
        })
    }

    /// The same backend, encrypting the state and journal with `sealer`.
    pub fn with_encryption(mut self, sealer: Sealer) -> S3Backend {
        self.sealer = sealer;
        self
    }

    /// The plaintext of the state object's bytes.
    fn open_bytes(&self, workspace: &str, bytes: &[u8]) -> Result<String, StateError> {
        let plain = self.sealer.open(&self.location(workspace), bytes)?;
        Ok(String::from_utf8_lossy(&plain).into_owned())
    }

    /// The same backend with locks leased for `lease` (tests use short leases).
    pub fn with_lease(mut self, lease: Duration) -> S3Backend {
        self.lease = lease;
        self
    }

    /// The backend for a `backend "s3"` block's settings, keeping its journal under the current
    /// directory (the working directory, after `-chdir`).
    pub async fn from_settings(
        settings: &BTreeMap<String, Value>,
    ) -> Result<S3Backend, StateError> {
        let working_dir = std::env::current_dir().map_err(|e| StateError::io(".", e))?;
        S3Backend::new(S3Settings::from_settings(settings)?, working_dir).await
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    /// The object key of a workspace's state.
    pub fn state_key(&self, workspace: &str) -> String {
        if workspace == DEFAULT_WORKSPACE {
            self.settings.key.clone()
        } else {
            format!(
                "{}/{workspace}/{}",
                self.settings.workspace_key_prefix, self.settings.key
            )
        }
    }

    fn lock_key(&self, workspace: &str) -> String {
        format!("{}.tflock", self.state_key(workspace))
    }

    fn queue_prefix(&self, workspace: &str) -> String {
        format!("{}.tflock.queue/", self.state_key(workspace))
    }

    fn lock_id(&self, workspace: &str) -> String {
        format!("{}/{}", self.settings.bucket, self.state_key(workspace))
    }

    fn location(&self, workspace: &str) -> String {
        format!(
            "s3://{}/{}",
            self.settings.bucket,
            self.state_key(workspace)
        )
    }

    /// The prefix of the journal segments of an apply on `workspace` (see `state::segments`).
    pub fn journal_prefix(&self, workspace: &str) -> String {
        segment_prefix(&self.state_key(workspace))
    }

    /// The storage client over the bucket.
    pub fn objects(&self) -> &S3Objects {
        &self.objects
    }

    fn failure(&self, what: &str, key: &str, error: impl std::error::Error) -> StateError {
        self.objects.failure(what, key, error)
    }

    /// An object's bytes and ETag; `None` when it does not exist.
    async fn get_object(&self, key: &str) -> Result<Option<(Vec<u8>, Option<String>)>, StateError> {
        Ok(self
            .objects
            .get(key)
            .await?
            .map(|stored| (stored.bytes, Some(stored.etag))))
    }

    /// The stored state (decoded with `schemas`, if any) with its ETag and size.
    async fn get_state(
        &self,
        workspace: &str,
        schemas: Option<Arc<StateSchemas>>,
    ) -> Result<Option<(State, Option<String>, u64)>, StateError> {
        let key = self.state_key(workspace);
        let Some((bytes, etag)) = self.get_object(&key).await? else {
            return Ok(None);
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let state = read_state_with(
            &self.open_bytes(workspace, &bytes)?,
            &self.location(workspace),
            schemas,
        )?;
        Ok(Some((state, etag, bytes.len() as u64)))
    }

    /// Uploads `state` under the serial rule, replacing only the version that was read.
    async fn put_state(
        &self,
        workspace: &str,
        state: &State,
        push_force: Option<bool>,
    ) -> Result<(u64, u64), StateError> {
        let key = self.state_key(workspace);
        let location = self.location(workspace);
        if self.lease_lost.load(Ordering::SeqCst) {
            return Err(StateError::Other(format!(
                "{location}: this run's state lock lease ended and another run took the lock over; stopping before writing the state (the objects this run made are in its journal, {}*)", self.journal_prefix(workspace)
            )));
        }
        let stored = self.get_state(workspace, None).await?;
        let Some(serial) = next_serial(
            &location,
            stored.as_ref().map(|(s, _, _)| s),
            state,
            push_force,
        )?
        else {
            let (stored, _, size) = stored.unwrap_or((State::new(), None, 0));
            return Ok((stored.serial, size));
        };
        let text = write_state_as(state, serial, crate::TERRAFORM_VERSION_COMPAT)?;
        let text = String::from_utf8(self.sealer.seal(text.as_bytes())?)
            .map_err(|e| StateError::Other(e.to_string()))?;
        let condition = match stored.as_ref().and_then(|(_, etag, _)| etag.clone()) {
            Some(etag) => Precondition::IfMatch(etag),
            None if stored.is_none() => Precondition::IfAbsent,
            None => Precondition::None,
        };
        if self
            .objects
            .put(&key, text.as_bytes(), condition)
            .await?
            .is_none()
        {
            return Err(StateError::Conflict { location });
        }
        self.put_digest(workspace, &text).await?;
        Ok((serial, text.len() as u64))
    }

    /// Terraform checks the state against an MD5 digest item in the lock table; keep it current
    /// so that Terraform can keep reading a state Strata wrote.
    async fn put_digest(&self, workspace: &str, text: &str) -> Result<(), StateError> {
        let (Some(client), Some(table)) = (&self.dynamodb, &self.settings.dynamodb_table) else {
            return Ok(());
        };
        use md5::Digest;
        let digest: String = md5::Md5::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        client
            .put_item()
            .table_name(table)
            .item(
                "LockID",
                AttributeValue::S(format!("{}-md5", self.lock_id(workspace))),
            )
            .item("Digest", AttributeValue::S(digest))
            .send()
            .await
            .map_err(|e| self.dynamodb_failure("PutItem", e))?;
        Ok(())
    }

    fn dynamodb_failure(&self, what: &str, error: impl std::error::Error) -> StateError {
        StateError::Other(format!(
            "DynamoDB table `{}`: {what} failed: {}",
            self.settings.dynamodb_table.as_deref().unwrap_or_default(),
            aws_sdk_dynamodb::error::DisplayErrorContext(error)
        ))
    }

    /// The stored state (with its size) with the journal segments an interrupted apply left
    /// replayed onto it, and the segments' keys.
    async fn read_current(
        &self,
        workspace: &str,
        schemas: Option<Arc<StateSchemas>>,
    ) -> Result<(Option<(State, u64)>, Vec<String>), StateError> {
        let prefix = self.journal_prefix(workspace);
        let (stored, keys) = tokio::try_join!(
            self.get_state(workspace, schemas),
            list_segments(&self.objects, &prefix)
        )?;
        let size = stored.as_ref().map_or(0, |(_, _, size)| *size);
        let replayed = replay_listed(
            &self.objects,
            keys,
            stored.map(|(state, _, _)| state),
            &self.sealer,
        )
        .await?;
        Ok((replayed.state.map(|state| (state, size)), replayed.keys))
    }

    /// Uploads a replayed journal and deletes its segments, unless another run holds the lock
    /// (it may still be appending).
    async fn settle(
        &self,
        workspace: &str,
        state: Option<&mut State>,
        segments: &[String],
    ) -> Result<(), StateError> {
        let holder = self.lock_holder(workspace).await?;
        if holder.is_some_and(|holder| !super::lock::held_by_this_process(&holder.id)) {
            return Ok(());
        }
        self.absorb(workspace, state, segments).await
    }

    /// Uploads `state` (the stored one with `segments` replayed) and deletes the segments.
    async fn absorb(
        &self,
        workspace: &str,
        state: Option<&mut State>,
        segments: &[String],
    ) -> Result<(), StateError> {
        let mut moved = false;
        if let Some(state) = state {
            let before = state.serial;
            state.serial = self.put_state(workspace, state, None).await?.0;
            moved = state.serial > before;
        }
        delete_segments(&self.objects, segments, moved).await
    }

    // --- locking primitives ---

    /// The lock's records, in the order they are taken: the lock object (`use_lockfile`), then
    /// the DynamoDB item (`dynamodb_table`). Taking, renewing and releasing them is
    /// `state::lock_records`'s, once for both kinds.
    fn lock_records(&self, workspace: &str) -> Vec<Box<dyn LockRecord + '_>> {
        let mut records: Vec<Box<dyn LockRecord + '_>> = Vec::new();
        if self.settings.use_lockfile {
            records.push(Box::new(ObjectLockRecord::new(
                &self.objects,
                self.lock_key(workspace),
            )));
        }
        if let (Some(client), Some(table)) = (&self.dynamodb, &self.settings.dynamodb_table) {
            records.push(Box::new(DynamoLockRecord {
                backend: self,
                client,
                table,
                lock_id: self.lock_id(workspace),
            }));
        }
        records
    }

    /// Takes every configured lock record, leased from now; `None` (having taken none) if one
    /// is held.
    async fn try_lock(
        &self,
        workspace: &str,
        info: &LockInfo,
    ) -> Result<Option<Taken>, StateError> {
        let leased_at = tokio::time::Instant::now();
        let info = with_lease(info, self.lease);
        let records = self.lock_records(workspace);
        let mut taken_over = None;
        for (index, record) in records.iter().enumerate() {
            match lock_records::take(record.as_ref(), &info).await? {
                Some(replaced) => taken_over = taken_over.or(replaced),
                None => {
                    // Held elsewhere: give back the records already taken.
                    for taken in &records[..index] {
                        lock_records::release(taken.as_ref(), &info.id).await?;
                    }
                    return Ok(None);
                }
            }
        }
        super::lock::set_held(&info.id, true);
        Ok(Some(Taken {
            taken_over,
            leased_at,
        }))
    }

    /// Extends the lease of the lock `info` holds; `false` if the lock is no longer ours.
    async fn renew(&self, workspace: &str, info: &LockInfo) -> Result<bool, StateError> {
        let fresh = with_lease(info, self.lease);
        for record in self.lock_records(workspace) {
            if !lock_records::renew(record.as_ref(), info, &fresh).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Renews the lease of a lock just taken every third of the lease (counted from the start
    /// of the last lease) until aborted; marks the lease lost (and stops) when the record was
    /// replaced.
    fn spawn_renewal(
        &self,
        workspace: &str,
        info: &LockInfo,
        leased_at: tokio::time::Instant,
    ) -> tokio::task::JoinHandle<()> {
        let backend = self.clone();
        let workspace = workspace.to_string();
        let info = info.clone();
        tokio::spawn(async move {
            let mut leased_at = leased_at;
            loop {
                tokio::time::sleep_until(leased_at + backend.lease / 3).await;
                let started = tokio::time::Instant::now();
                match backend.renew(&workspace, &info).await {
                    Ok(true) => leased_at = started,
                    Ok(false) => {
                        backend.lease_lost.store(true, Ordering::SeqCst);
                        tracing::warn!(
                            "the state lock `{}` was taken over by another run: no state will be written",
                            info.id
                        );
                        return;
                    }
                    Err(error) => {
                        tracing::warn!("renewing the state lock's lease failed (retrying): {error}")
                    }
                }
            }
        })
    }

    /// The lock item's `Info` text, if the item exists.
    async fn raw_item(
        &self,
        client: &aws_sdk_dynamodb::Client,
        table: &str,
        lock_id: &str,
    ) -> Result<Option<String>, StateError> {
        let output = client
            .get_item()
            .table_name(table)
            .key("LockID", AttributeValue::S(lock_id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.dynamodb_failure("GetItem (lock)", e))?;
        Ok(output.item().map(|item| {
            item.get("Info")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        }))
    }

    /// Removes the lock records whose ID is `id`; an error if one is held under another ID.
    async fn unlock(&self, workspace: &str, id: &str) -> Result<(), StateError> {
        let mut found = false;
        for record in self.lock_records(workspace) {
            found |= lock_records::release(record.as_ref(), id).await?;
        }
        super::lock::set_held(id, false);
        if found {
            Ok(())
        } else {
            Err(StateError::Unlock(format!(
                "{} is not locked",
                self.location(workspace)
            )))
        }
    }

    // --- the queue ---

    async fn take_ticket(&self, workspace: &str) -> Result<String, StateError> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let key = format!(
            "{}{nanos:024}-{}",
            self.queue_prefix(workspace),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        self.put_ticket(&key).await?;
        Ok(key)
    }

    async fn put_ticket(&self, key: &str) -> Result<(), StateError> {
        let body =
            serde_json::json!({"pid": std::process::id(), "host": super::backend::this_host()})
                .to_string();
        self.objects
            .put(key, body.as_bytes(), Precondition::None)
            .await?;
        Ok(())
    }

    async fn delete_key(&self, key: &str) {
        let _ = self.objects.delete(key).await;
    }

    /// Whether no live ticket precedes `ticket`; deletes the tickets of waiters that are gone.
    async fn is_first(&self, workspace: &str, ticket: &str) -> Result<bool, StateError> {
        let prefix = self.queue_prefix(workspace);
        let listed = self
            .s3
            .list_objects_v2()
            .bucket(&self.settings.bucket)
            .prefix(&prefix)
            .send()
            .await
            .map_err(|e| self.failure("ListObjectsV2 (queue)", &prefix, e))?;
        let mut older: Vec<(String, Option<SystemTime>)> = listed
            .contents()
            .iter()
            .filter_map(|object| {
                let key = object.key()?.to_string();
                let modified = object
                    .last_modified()
                    .and_then(|t| SystemTime::try_from(*t).ok());
                (key.as_str() < ticket).then_some((key, modified))
            })
            .collect();
        older.sort();
        for (key, modified) in older {
            let stale = modified
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > TICKET_STALE);
            let dead_here = match self.get_object(&key).await? {
                Some((bytes, _)) => serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .is_some_and(|info| {
                        info.get("host").and_then(|h| h.as_str())
                            == Some(super::backend::this_host().as_str())
                            && info
                                .get("pid")
                                .and_then(|p| p.as_u64())
                                .and_then(|p| u32::try_from(p).ok())
                                .is_some_and(|pid| !super::backend::process_is_alive(pid))
                    }),
                None => continue,
            };
            if stale || dead_here {
                self.delete_key(&key).await;
                continue;
            }
            return Ok(false);
        }
        Ok(true)
    }

    async fn current_holder(&self, workspace: &str) -> Result<Option<LockInfo>, StateError> {
        for record in self.lock_records(workspace) {
            if let Some(holder) = lock_records::holder(record.as_ref()).await? {
                return Ok(Some(holder));
            }
        }
        Ok(None)
    }
}

/// One waiter's place in an S3 lock queue.
struct S3Queue<'a> {
    backend: &'a S3Backend,
    workspace: &'a str,
    ticket: &'a str,
    /// Set once `try_acquire` took the lock.
    taken: Mutex<Option<Taken>>,
}

#[async_trait]
impl LockQueue for S3Queue<'_> {
    async fn my_turn(&self) -> Result<bool, StateError> {
        self.backend.is_first(self.workspace, self.ticket).await
    }
    async fn try_acquire(&self, info: &LockInfo) -> Result<bool, StateError> {
        let Some(taken) = self.backend.try_lock(self.workspace, info).await? else {
            return Ok(false);
        };
        if let Ok(mut slot) = self.taken.lock() {
            *slot = Some(taken);
        }
        Ok(true)
    }
    async fn holder(&self) -> Result<Option<LockInfo>, StateError> {
        self.backend.current_holder(self.workspace).await
    }
    async fn heartbeat(&self) -> Result<(), StateError> {
        self.backend.put_ticket(self.ticket).await
    }
    fn takes_over_dead_holders(&self) -> bool {
        true
    }
}

/// `info` with a lease that ends `lease` from now.
fn with_lease(info: &LockInfo, lease: Duration) -> LockInfo {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    LockInfo {
        lease_expires: Some(
            (chrono::Utc::now() + lease).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ),
        ..info.clone()
    }
}

/// The lease length from `STRATA_LOCK_LEASE` (a duration such as `30s`), else one minute.
fn lease_from_env() -> Duration {
    std::env::var("STRATA_LOCK_LEASE")
        .ok()
        .and_then(|text| crate::lang::functions::parse_go_duration(&text))
        .filter(|lease| !lease.is_zero())
        .unwrap_or(DEFAULT_LEASE)
}

/// Deletes a queue ticket when the wait ends, however it ends.
struct TicketGuard {
    backend: S3Backend,
    key: Option<String>,
}

impl Drop for TicketGuard {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let backend = self.backend.clone();
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move { backend.delete_key(&key).await });
            }
        }
    }
}

struct S3LockRelease {
    backend: S3Backend,
    workspace: String,
    id: String,
    released: bool,
    renewal: Option<tokio::task::JoinHandle<()>>,
}

impl S3LockRelease {
    fn stop_renewing(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
    }
}

#[async_trait]
impl LockRelease for S3LockRelease {
    async fn release(&mut self) -> Result<(), StateError> {
        if self.released {
            return Ok(());
        }
        self.released = true;
        self.stop_renewing();
        match self.backend.unlock(&self.workspace, &self.id).await {
            // Already gone (force-unlocked): nothing to release.
            Err(StateError::Unlock(_)) => Ok(()),
            other => other,
        }
    }

    fn release_now(&mut self) {
        if self.released {
            return;
        }
        self.released = true;
        self.stop_renewing();
        let backend = self.backend.clone();
        let workspace = self.workspace.clone();
        let id = self.id.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(error) = backend.unlock(&workspace, &id).await {
                        tracing::warn!("releasing the state lock failed: {error}");
                    }
                });
            }
            Err(_) => tracing::warn!(
                "the state lock `{id}` could not be released; run `strata force-unlock {id}`"
            ),
        }
    }
}

#[async_trait]
impl Backend for S3Backend {
    async fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let prefix = format!("{}/", self.settings.workspace_key_prefix);
        let suffix = format!("/{}", self.settings.key);
        let mut names = Vec::new();
        for key in self.objects.list(&prefix).await? {
            let Some(rest) = key.strip_prefix(&prefix) else {
                continue;
            };
            if let Some(name) = rest.strip_suffix(&suffix) {
                if !name.contains('/')
                    && name != DEFAULT_WORKSPACE
                    && validate_workspace_name(name).is_ok()
                {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        names.insert(0, DEFAULT_WORKSPACE.to_string());
        Ok(names)
    }

    async fn create_workspace(&self, workspace: &str) -> Result<(), StateError> {
        validate_workspace_name(workspace)?;
        if workspace == DEFAULT_WORKSPACE
            || self.get_object(&self.state_key(workspace)).await?.is_some()
        {
            return Err(StateError::WorkspaceExists(workspace.to_string()));
        }
        self.put_state(workspace, &State::new(), None)
            .await
            .map(|_| ())
    }

    async fn delete_workspace(&self, workspace: &str, force: bool) -> Result<(), StateError> {
        if workspace == DEFAULT_WORKSPACE {
            return Err(StateError::WorkspaceUndeletable(
                workspace.into(),
                "the default workspace always exists".into(),
            ));
        }
        validate_workspace_name(workspace)?;
        let key = self.state_key(workspace);
        let Some((state, _, _)) = self.get_state(workspace, None).await? else {
            if self.get_object(&key).await?.is_none() {
                return Err(StateError::WorkspaceNotFound(workspace.to_string()));
            }
            return self.delete_object(&key).await;
        };
        if !state.resources.is_empty() && !force {
            return Err(StateError::WorkspaceNotEmpty {
                name: workspace.to_string(),
                count: state.resources.len(),
            });
        }
        let guard = self
            .lock(workspace, "workspace delete", Duration::ZERO, &|_| {})
            .await?;
        self.delete_object(&key).await?;
        if let (Some(client), Some(table)) = (&self.dynamodb, &self.settings.dynamodb_table) {
            let _ = client
                .delete_item()
                .table_name(table)
                .key(
                    "LockID",
                    AttributeValue::S(format!("{}-md5", self.lock_id(workspace))),
                )
                .send()
                .await;
        }
        let segments = self.objects.list(&self.journal_prefix(workspace)).await?;
        self.objects.delete_many(&segments).await?;
        guard.release().await
    }

    async fn load_with_schemas(
        &self,
        workspace: &str,
        schemas: Option<Arc<StateSchemas>>,
    ) -> Result<State, StateError> {
        let (state, segments) = self.read_current(workspace, schemas).await?;
        let mut state = state.map(|(state, _)| state);
        if !segments.is_empty() {
            self.settle(workspace, state.as_mut(), &segments).await?;
        }
        Ok(state.unwrap_or_default())
    }

    async fn write(&self, workspace: &str, state: &State) -> Result<u64, StateError> {
        Ok(self.put_state(workspace, state, None).await?.0)
    }

    async fn writer(
        &self,
        workspace: &str,
        base: &State,
    ) -> Result<Box<dyn StateWriter>, StateError> {
        let (mut stored, segments) = self.read_current(workspace, None).await?;
        if !segments.is_empty() {
            self.absorb(workspace, stored.as_mut().map(|(s, _)| s), &segments)
                .await?;
        }
        let mut base = base.clone();
        if let Some((stored, _)) = &stored {
            if stored.lineage != base.lineage {
                return Err(StateError::LineageMismatch {
                    location: self.location(workspace),
                    stored: stored.lineage.clone(),
                    new: base.lineage.clone(),
                });
            }
            // The segments this writer adds build on the stored serial (a replay skips
            // segments older than the stored state).
            base.serial = stored.serial;
        }
        let size = stored.as_ref().map_or(0, |(_, size)| *size);
        let target = S3Target {
            backend: self.clone(),
            workspace: workspace.to_string(),
            journal: SegmentJournal::new(&self.state_key(workspace), &segments),
            stored_serial: None,
        };
        Ok(Box::new(JournaledWriter::new(Box::new(target), base, size)))
    }

    async fn pull(&self, workspace: &str) -> Result<Option<String>, StateError> {
        let (state, segments) = self.read_current(workspace, None).await?;
        if !segments.is_empty() {
            return state.map(|(state, _)| write_state(&state)).transpose();
        }
        Ok(self
            .get_object(&self.state_key(workspace))
            .await?
            .map(|(bytes, _)| self.open_bytes(workspace, &bytes))
            .transpose()?
            .filter(|text| !text.trim().is_empty()))
    }

    async fn push(&self, workspace: &str, text: &str, force: bool) -> Result<u64, StateError> {
        let state = read_state(text, "the pushed state")?;
        Ok(self.put_state(workspace, &state, Some(force)).await?.0)
    }

    async fn lock(
        &self,
        workspace: &str,
        operation: &str,
        timeout: Duration,
        on_wait: OnLockWait<'_>,
    ) -> Result<LockGuard, StateError> {
        if !self.settings.use_lockfile && self.settings.dynamodb_table.is_none() {
            // No locking configured (Terraform's behaviour): a guard that releases nothing.
            return Ok(LockGuard::new(
                LockInfo::new(operation, &self.location(workspace)),
                Box::new(NoLock),
            ));
        }
        let info = LockInfo::new(operation, &self.location(workspace));
        let taken = if timeout.is_zero() {
            match self.try_lock(workspace, &info).await? {
                Some(taken) => taken,
                None => {
                    let holder = self.current_holder(workspace).await?;
                    return Err(refusal(holder));
                }
            }
        } else {
            let ticket = self.take_ticket(workspace).await?;
            let mut guard = TicketGuard {
                backend: self.clone(),
                key: Some(ticket.clone()),
            };
            let queue = S3Queue {
                backend: self,
                workspace,
                ticket: &ticket,
                taken: Mutex::new(None),
            };
            let result =
                wait_in_queue(&queue, &info, timeout, on_wait, POLL, TICKET_HEARTBEAT).await;
            guard.key = None;
            self.delete_key(&ticket).await;
            result?;
            let taken = queue.taken.lock().ok().and_then(|mut slot| slot.take());
            taken.ok_or_else(|| StateError::Other("the state lock was taken but lost".into()))?
        };
        let renewal = self.spawn_renewal(workspace, &info, taken.leased_at);
        Ok(LockGuard::new(
            info.clone(),
            Box::new(S3LockRelease {
                backend: self.clone(),
                workspace: workspace.to_string(),
                id: info.id,
                released: false,
                renewal: Some(renewal),
            }),
        )
        .with_taken_over(taken.taken_over))
    }

    async fn lock_holder(&self, workspace: &str) -> Result<Option<LockInfo>, StateError> {
        self.current_holder(workspace).await
    }

    async fn force_unlock(&self, workspace: &str, id: &str) -> Result<(), StateError> {
        self.unlock(workspace, id).await
    }
}

impl S3Backend {
    async fn delete_object(&self, key: &str) -> Result<(), StateError> {
        self.objects.delete(key).await
    }
}

/// The DynamoDB lock item (`LockID`, `Info`) as a [`LockRecord`]: created with
/// `attribute_not_exists(LockID)`, replaced with `Info = :old` (its version is its text).
struct DynamoLockRecord<'a> {
    backend: &'a S3Backend,
    client: &'a aws_sdk_dynamodb::Client,
    table: &'a str,
    lock_id: String,
}

impl DynamoLockRecord<'_> {
    async fn put(&self, info: &LockInfo, expected: Option<&str>) -> Result<bool, StateError> {
        let body = serde_json::to_string(info).map_err(|e| StateError::Other(e.to_string()))?;
        let mut request = self
            .client
            .put_item()
            .table_name(self.table)
            .item("LockID", AttributeValue::S(self.lock_id.clone()))
            .item("Info", AttributeValue::S(body));
        request = match expected {
            Some(old) => request
                .condition_expression("Info = :old")
                .expression_attribute_values(":old", AttributeValue::S(old.to_string())),
            None => request.condition_expression("attribute_not_exists(LockID)"),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(self.backend.dynamodb_failure("PutItem (lock)", error)),
        }
    }
}

#[async_trait]
impl LockRecord for DynamoLockRecord<'_> {
    async fn create(&self, info: &LockInfo) -> Result<bool, StateError> {
        self.put(info, None).await
    }

    async fn read(&self) -> Result<Option<Versioned>, StateError> {
        let raw = self
            .backend
            .raw_item(self.client, self.table, &self.lock_id)
            .await?;
        Ok(raw.map(|raw| Versioned {
            holder: lock_records::parse_holder(raw.as_bytes(), &self.lock_id),
            version: raw,
        }))
    }

    async fn replace(&self, info: &LockInfo, version: &str) -> Result<bool, StateError> {
        self.put(info, Some(version)).await
    }

    async fn delete(&self) -> Result<(), StateError> {
        self.client
            .delete_item()
            .table_name(self.table)
            .key("LockID", AttributeValue::S(self.lock_id.clone()))
            .send()
            .await
            .map_err(|e| self.backend.dynamodb_failure("DeleteItem (lock)", e))?;
        Ok(())
    }
}

struct NoLock;

#[async_trait]
impl LockRelease for NoLock {
    async fn release(&mut self) -> Result<(), StateError> {
        Ok(())
    }
    fn release_now(&mut self) {}
}

/// The S3 backend's [`JournalTarget`]: the state object and the journal segments beside it.
struct S3Target {
    backend: S3Backend,
    workspace: String,
    journal: SegmentJournal,
    /// The serial of the last upload.
    stored_serial: Option<u64>,
}

#[async_trait]
impl JournalTarget for S3Target {
    async fn store(&mut self, state: &State) -> Result<(u64, u64), StateError> {
        let stored = self.backend.put_state(&self.workspace, state, None).await?;
        self.stored_serial = Some(stored.0);
        Ok(stored)
    }

    async fn append(
        &mut self,
        header: &JournalHeader,
        changes: &[StateChange],
    ) -> Result<u64, StateError> {
        if self.backend.lease_lost.load(Ordering::SeqCst) {
            return Err(StateError::Other(format!(
                "{}: this run's state lock lease ended and another run took the lock over; stopping before recording more changes",
                self.backend.location(&self.workspace)
            )));
        }
        let sealer = &self.backend.sealer;
        self.journal
            .append(&self.backend.objects, header, changes, sealer)
            .await
    }

    async fn clear(&mut self, _next: Option<&JournalHeader>) -> Result<(), StateError> {
        self.journal
            .clear(&self.backend.objects, self.stored_serial)
            .await
    }
}
