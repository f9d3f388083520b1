//! Lock records as storage clients keep them (OpenTofu's remote client `Lock`/`Unlock`, at the
//! level of one record): a [`LockRecord`] is created only if absent, read with the version it is
//! at, replaced only if still at that version, and deleted. [`ObjectLockRecord`] keeps one as an
//! object of any [`ObjectStore`] (conditional puts: S3's lock object, and the next object-store
//! backend's for free); `state::s3` keeps the DynamoDB lock item, and `state::lock` the local
//! backend's lock file (`LocalLockRecord`, which tells a dead holder by the kernel locks).
//!
//! Taking, taking over, renewing a lease and releasing are written once, here, over a record
//! ([`take`], [`renew`], [`release`], [`holder`]) for every backend; a backend that keeps several
//! records for one lock (S3 with `use_lockfile` and `dynamodb_table`) applies them to each in
//! turn.

use super::backend::{LockInfo, StateError};
use super::store::{ObjectStore, Precondition};
use async_trait::async_trait;

/// A lock record as read: who holds it, and the version to replace it at.
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned {
    pub holder: LockInfo,
    /// An ETag, or the record's own text (DynamoDB's `Info = :old` condition).
    pub version: String,
}

/// One lock record in a storage client.
#[async_trait]
pub trait LockRecord: Send + Sync {
    /// Creates the record holding `info` if there is none; `false` when one exists.
    async fn create(&self, info: &LockInfo) -> Result<bool, StateError>;
    /// The record, if there is one.
    async fn read(&self) -> Result<Option<Versioned>, StateError>;
    /// Replaces the record with `info` if it is still at `version`; `false` when it is not.
    async fn replace(&self, info: &LockInfo, version: &str) -> Result<bool, StateError>;
    /// Deletes the record; deleting a missing record succeeds.
    async fn delete(&self) -> Result<(), StateError>;
    /// Deletes the record in one request if it is still the version this process last wrote
    /// for lock `id`: `Some(true)` when deleted, `Some(false)` when it is not that version,
    /// `None` when the record cannot tell (nothing remembered, or no conditional delete).
    async fn delete_own(&self, _id: &str) -> Result<Option<bool>, StateError> {
        Ok(None)
    }
    /// Whether `current`'s holder will never release it, so it may be taken over: by default
    /// [`is_abandoned`] (its lease ended, or its process on this host is gone); the local
    /// lock file asks the kernel locks instead (`state::lock::LocalLockRecord`).
    async fn is_abandoned(&self, current: &Versioned) -> Result<bool, StateError> {
        Ok(is_abandoned(&current.holder))
    }
}

/// Takes `record` for `info`, or takes over an abandoned holder's
/// ([`LockRecord::is_abandoned`]): `None`
/// when it is held, `Some(None)` when it was free, `Some(Some(old))` when `old` was taken over.
/// A take-over replaces the record at the version read, so two waiters never both win.
pub async fn take(
    record: &dyn LockRecord,
    info: &LockInfo,
) -> Result<Option<Option<LockInfo>>, StateError> {
    if record.create(info).await? {
        return Ok(Some(None));
    }
    let Some(current) = record.read().await? else {
        return Ok(None);
    };
    if !record.is_abandoned(&current).await? || !record.replace(info, &current.version).await? {
        return Ok(None);
    }
    Ok(Some(Some(current.holder)))
}

/// Writes `fresh` (the same lock, a new lease) over the record `held` took; `false` when the
/// record is gone or another run's.
pub async fn renew(
    record: &dyn LockRecord,
    held: &LockInfo,
    fresh: &LockInfo,
) -> Result<bool, StateError> {
    let Some(current) = record.read().await? else {
        return Ok(false);
    };
    Ok(current.holder.id == held.id && record.replace(fresh, &current.version).await?)
}

/// Deletes the record if lock `id` holds it: `false` when there is none, an error when another
/// lock holds it. The record as this process last wrote it goes in one conditional delete
/// ([`LockRecord::delete_own`]); anything else (taken over, gone, a record that cannot tell) is
/// read first, and the answer is the same as without that shortcut.
pub async fn release(record: &dyn LockRecord, id: &str) -> Result<bool, StateError> {
    if record.delete_own(id).await? == Some(true) {
        return Ok(true);
    }
    let Some(current) = record.read().await? else {
        return Ok(false);
    };
    if current.holder.id != id {
        return Err(StateError::Unlock(format!(
            "the lock ID is `{}`, not `{id}`",
            current.holder.id
        )));
    }
    record.delete().await?;
    Ok(true)
}

/// Who holds the record, if anyone.
pub async fn holder(record: &dyn LockRecord) -> Result<Option<LockInfo>, StateError> {
    Ok(record.read().await?.map(|current| current.holder))
}

/// Whether a lock record's holder will never release it: its lease ended, or it is a dead
/// process on this host.
pub fn is_abandoned(holder: &LockInfo) -> bool {
    holder.lease_has_expired() || holder.holder_is_gone()
}

/// A lock record's holder; a record that does not parse is someone's, described as unknown
/// (never taken over: it has no lease and no process).
pub fn parse_holder(bytes: &[u8], path: &str) -> LockInfo {
    serde_json::from_slice(bytes).unwrap_or_else(|_| LockInfo {
        id: String::new(),
        operation: "unknown".into(),
        info: String::new(),
        who: "an unknown holder".into(),
        version: String::new(),
        created: "an unknown time".into(),
        path: path.to_string(),
        pid: 0,
        host: String::new(),
        lease_expires: None,
    })
}

/// The object lock records this process wrote, by location: the lock's ID and the ETag of the
/// version written, so that their holder releases them with one conditional delete. Process-wide
/// because a backend makes its record values afresh for each operation on a lock.
static WRITTEN: std::sync::Mutex<std::collections::BTreeMap<String, (String, String)>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

fn written() -> std::sync::MutexGuard<'static, std::collections::BTreeMap<String, (String, String)>>
{
    WRITTEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A lock record kept as the object `key` of a storage client, written with conditional puts
/// (`If-None-Match: *` to create, `If-Match: <etag>` to replace).
pub struct ObjectLockRecord<'a> {
    store: &'a dyn ObjectStore,
    key: String,
}

impl<'a> ObjectLockRecord<'a> {
    pub fn new(store: &'a dyn ObjectStore, key: String) -> ObjectLockRecord<'a> {
        ObjectLockRecord { store, key }
    }

    async fn put(&self, info: &LockInfo, condition: Precondition) -> Result<bool, StateError> {
        let body = serde_json::to_vec(info).map_err(|e| StateError::Other(e.to_string()))?;
        let Some(etag) = self.store.put(&self.key, &body, condition).await? else {
            return Ok(false);
        };
        written().insert(self.location(), (info.id.clone(), etag));
        Ok(true)
    }

    fn location(&self) -> String {
        self.store.location(&self.key)
    }
}

#[async_trait]
impl LockRecord for ObjectLockRecord<'_> {
    async fn create(&self, info: &LockInfo) -> Result<bool, StateError> {
        self.put(info, Precondition::IfAbsent).await
    }

    async fn read(&self) -> Result<Option<Versioned>, StateError> {
        Ok(self.store.get(&self.key).await?.map(|stored| Versioned {
            holder: parse_holder(&stored.bytes, &self.key),
            version: stored.etag,
        }))
    }

    async fn replace(&self, info: &LockInfo, version: &str) -> Result<bool, StateError> {
        self.put(info, Precondition::IfMatch(version.to_string()))
            .await
    }

    async fn delete(&self) -> Result<(), StateError> {
        written().remove(&self.location());
        self.store.delete(&self.key).await
    }

    async fn delete_own(&self, id: &str) -> Result<Option<bool>, StateError> {
        let location = self.location();
        let etag = match written().get(&location) {
            Some((holder, etag)) if holder == id => etag.clone(),
            _ => return Ok(None),
        };
        let deleted = self.store.delete_if_match(&self.key, &etag).await?;
        if deleted == Some(true) {
            written().remove(&location);
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::store::LocalFiles;

    fn leased(operation: &str, lease_seconds: i64) -> LockInfo {
        let mut info = LockInfo::new(operation, "test");
        info.lease_expires = Some(
            (chrono::Utc::now() + chrono::Duration::seconds(lease_seconds))
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        );
        info
    }

    #[tokio::test]
    async fn an_object_record_is_taken_once_renewed_by_its_holder_and_released() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFiles::new(dir.path());
        let record = ObjectLockRecord::new(&store, "state.tflock".into());
        let first = leased("apply", 60);
        let second = leased("plan", 60);
        assert_eq!(take(&record, &first).await.unwrap(), Some(None));
        // Held, with a live lease: the second run waits.
        assert_eq!(take(&record, &second).await.unwrap(), None);
        assert_eq!(holder(&record).await.unwrap().unwrap().id, first.id);
        // Only the holder renews it, and only the holder releases it.
        let mut fresh = first.clone();
        fresh.lease_expires = leased("apply", 120).lease_expires;
        assert!(renew(&record, &first, &fresh).await.unwrap());
        assert!(!renew(&record, &second, &second).await.unwrap());
        assert!(release(&record, &second.id).await.is_err());
        assert!(release(&record, &first.id).await.unwrap());
        assert!(!release(&record, &first.id).await.unwrap());
        assert_eq!(holder(&record).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_record_whose_lease_ended_is_taken_over_and_its_holder_cannot_renew() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFiles::new(dir.path());
        let record = ObjectLockRecord::new(&store, "state.tflock".into());
        let expired = leased("apply", -1);
        assert_eq!(take(&record, &expired).await.unwrap(), Some(None));
        let waiter = leased("apply", 60);
        let taken_over = take(&record, &waiter).await.unwrap();
        assert_eq!(
            taken_over.flatten().map(|old| old.id),
            Some(expired.id.clone())
        );
        assert!(!renew(&record, &expired, &expired).await.unwrap());
        assert_eq!(holder(&record).await.unwrap().unwrap().id, waiter.id);
    }

    #[tokio::test]
    async fn a_record_without_a_lease_is_never_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFiles::new(dir.path());
        let record = ObjectLockRecord::new(&store, "state.tflock".into());
        // Terraform's records carry no lease (and no pid this host could check).
        let mut terraforms = LockInfo::new("apply", "test");
        terraforms.pid = 0;
        assert_eq!(take(&record, &terraforms).await.unwrap(), Some(None));
        assert_eq!(take(&record, &leased("plan", 60)).await.unwrap(), None);
    }
}
