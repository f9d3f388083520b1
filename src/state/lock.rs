//! The local state lock: Terraform's `.terraform.tfstate.lock.info` file next to the state file,
//! plus a queue so that waiting runs get the lock in arrival order.
//!
//! The lock file is created atomically with its content (written to a temporary file, then
//! hard-linked to the lock name, which fails if the name exists), so a reader never sees a
//! half-written holder record.
//!
//! The holder also keeps a kernel lock (`flock`) on the lock file's inode, taken on the
//! temporary file before it is linked, so the record never exists unlocked while its holder
//! lives. The kernel drops that lock when the holder dies, however it dies (`kill -9`
//! included), so a waiter tells a live holder from a dead one exactly: a record whose inode it
//! can lock is left over, and the waiter takes the lock over (and says so) instead of asking a
//! person to run `force-unlock`. A record Terraform wrote carries no `flock`: Terraform holds a
//! POSIX (`fcntl`) lock on the state file itself while it runs, so a record is taken over only
//! when that lock is free too.
//!
//! Terraform looks only at that `fcntl` lock (it never reads the record before locking), so the
//! holder takes it too, as an open-file-description lock (`F_OFD_SETLK`, which conflicts with
//! Terraform's and is not lost when another handle on the file is closed), before it creates
//! the record: a Terraform started meanwhile waits or refuses, and a Strata started while
//! Terraform runs does the same. The state file is replaced by renames, so the lock moves to
//! each new file before it takes the name ([`carry_state_file_lock`]). Like Terraform, a lock
//! taken where no state file exists yet leaves an empty one, which reads as no state.
//!
//! The record is a storage client's lock record like S3's ([`LocalLockRecord`] implements
//! [`LockRecord`]: create, read with a version, replace at that version, delete), so taking,
//! taking over and releasing are [`lock_records`]'s, written once for every backend; what is
//! local is the version (the record file's identity) and how a dead holder is told
//! ([`LockRecord::is_abandoned`]: the kernel locks above, not a lease).
//!
//! The queue: a waiting run creates a ticket file in `.terraform.tfstate.lock.queue/` named by
//! its arrival time, and only the oldest live ticket may try to take the lock. A ticket whose
//! process is gone (same host) or that has not been touched for [`TICKET_STALE`] (another host
//! sharing the directory) is removed by whoever sees it, so a crashed waiter never blocks the
//! queue. Waiters touch their ticket every [`TICKET_HEARTBEAT`].

use super::backend::{LockGuard, LockInfo, LockRelease, OnLockWait, StateError};
use super::journal::remove_if_exists;
use super::lock_records::{self, LockRecord, Versioned};
use async_trait::async_trait;
use fs4::fs_std::FileExt;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

const POLL: Duration = Duration::from_millis(50);
const TICKET_HEARTBEAT: Duration = Duration::from_secs(5);
const TICKET_STALE: Duration = Duration::from_secs(30);

/// Lock IDs this process holds, so that `load` may fold a journal into the state file when the
/// lock is ours.
static HELD: Mutex<Option<HashSet<String>>> = Mutex::new(None);

pub(crate) fn held_by_this_process(id: &str) -> bool {
    HELD.lock()
        .map(|held| held.as_ref().is_some_and(|set| set.contains(id)))
        .unwrap_or(false)
}

/// The state files this process holds Terraform's kind of lock on (see the module
/// documentation), by path.
static STATE_FILE_LOCKS: Mutex<Option<HashMap<PathBuf, StateFileLock>>> = Mutex::new(None);

/// Terraform's kind of lock on one state file.
struct StateFileLock {
    /// The handle whose open file description holds the lock.
    file: File,
    /// Whether taking the lock created the (empty) file: it is removed on release if still
    /// empty, as Terraform does.
    created: bool,
}

pub(crate) fn set_held(id: &str, held: bool) {
    if let Ok(mut guard) = HELD.lock() {
        let set = guard.get_or_insert_with(HashSet::new);
        if held {
            set.insert(id.to_string());
        } else {
            set.remove(id);
        }
    }
}

/// The files of one lock.
#[derive(Clone, Debug)]
pub(crate) struct FileLock {
    pub lock_path: PathBuf,
    pub queue_dir: PathBuf,
    /// The state file the lock protects (Terraform holds its `fcntl` lock on it).
    pub state_path: PathBuf,
}

impl FileLock {
    /// The lock of the state file at `state_path`: `.NAME.lock.info` beside it, as Terraform
    /// names it.
    pub fn for_state(state_path: &Path) -> FileLock {
        let dir = state_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let name = state_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "terraform.tfstate".to_string());
        FileLock {
            lock_path: dir.join(format!(".{name}.lock.info")),
            queue_dir: dir.join(format!(".{name}.lock.queue")),
            state_path: state_path.to_path_buf(),
        }
    }

    /// The lock's record ([`LocalLockRecord`]).
    fn record(&self) -> LocalLockRecord<'_> {
        LocalLockRecord {
            lock: self,
            created: Mutex::new(None),
        }
    }

    /// The current holder, if the lock is held. A lock file that cannot be parsed (written by
    /// another tool) still counts as held, by an unknown holder.
    pub fn holder(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.record().read_now()?.map(|current| current.holder))
    }

    /// Takes the record for `info` ([`lock_records::take`]: created, or taken over from a dead
    /// holder, which is returned for the message); `None` if the lock is held.
    async fn try_take(&self, info: &LockInfo) -> Result<Option<Taken>, StateError> {
        let record = self.record();
        let Some(taken_over) = lock_records::take(&record, info).await? else {
            return Ok(None);
        };
        let Some(file) = record.take_created() else {
            return Err(StateError::Other(
                "the state lock was taken but its file handle was lost".into(),
            ));
        };
        set_held(&info.id, true);
        Ok(Some(Taken { file, taken_over }))
    }

    /// Takes the lock (see the module documentation for the queue).
    pub async fn acquire(
        &self,
        info: LockInfo,
        timeout: Duration,
        on_wait: OnLockWait<'_>,
    ) -> Result<LockGuard, StateError> {
        if timeout.is_zero() {
            if let Some(taken) = self.try_take(&info).await? {
                return Ok(self.guard(info, taken));
            }
            return Err(self.refusal(None)?);
        }
        let queue = LocalQueue {
            lock: self,
            ticket: Ticket::take(&self.queue_dir)?,
            taken: Mutex::new(None),
        };
        wait_in_queue(&queue, &info, timeout, on_wait, POLL, TICKET_HEARTBEAT).await?;
        let taken = queue.taken.lock().ok().and_then(|mut t| t.take());
        match taken {
            Some(taken) => Ok(self.guard(info, taken)),
            None => Err(StateError::Other(
                "the state lock was taken but its file handle was lost".into(),
            )),
        }
    }

    /// The error for a lock that could not be taken.
    fn refusal(&self, holder: Option<LockInfo>) -> Result<StateError, StateError> {
        let holder = match holder {
            Some(holder) => Some(holder),
            None => self.holder()?,
        };
        Ok(refusal(holder))
    }

    fn guard(&self, info: LockInfo, taken: Taken) -> LockGuard {
        let release = FileLockRelease {
            lock_path: self.lock_path.clone(),
            state_path: self.state_path.clone(),
            id: info.id.clone(),
            released: false,
            kernel_lock: Some(taken.file),
        };
        LockGuard::new(info, Box::new(release)).with_taken_over(taken.taken_over)
    }

    /// Removes the lock if its ID is `id`.
    pub async fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        if !lock_records::release(&self.record(), id).await? {
            return Err(StateError::Unlock(format!(
                "the state is not locked (no {})",
                self.lock_path.display()
            )));
        }
        set_held(id, false);
        Ok(())
    }
}

/// A lock just created: the open, kernel-locked lock file, and the abandoned record it
/// replaced, if any.
struct Taken {
    file: File,
    taken_over: Option<LockInfo>,
}

/// The local lock's record, Terraform's `.NAME.lock.info` file, as a [`LockRecord`]: created
/// kernel-locked (with Terraform's lock on the state file taken first), read with the file's
/// identity as its version, replaced only when it is still that file, deleted. Taking, taking
/// over and releasing are `lock_records`'s, as for S3's records; what is local is how a dead
/// holder is told from a live one ([`LockRecord::is_abandoned`]: the kernel locks, not a lease).
pub(crate) struct LocalLockRecord<'a> {
    lock: &'a FileLock,
    /// The record this value created: open and kernel-locked, for the guard to hold.
    created: Mutex<Option<File>>,
}

impl LocalLockRecord<'_> {
    /// The record as it is now ([`LockRecord::read`], for the release on drop, which cannot
    /// wait).
    fn read_now(&self) -> Result<Option<Versioned>, StateError> {
        let path = &self.lock.lock_path;
        let read = File::open(path).and_then(|mut file| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            Ok((bytes, file.metadata()?))
        });
        match read {
            Ok((bytes, metadata)) => Ok(Some(Versioned {
                holder: super::lock_records::parse_holder(&bytes, &path.display().to_string()),
                version: file_version(&metadata),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::io(path, e)),
        }
    }

    /// The open, kernel-locked file of the record [`LockRecord::create`] made, if it made one.
    fn take_created(&self) -> Option<File> {
        self.created
            .lock()
            .ok()
            .and_then(|mut created| created.take())
    }

    /// Writes `info` to a new file beside the lock, kernel-locked before it has the lock's name
    /// (so no one ever sees the record unlocked).
    fn locked_temporary(&self, info: &LockInfo) -> Result<tempfile::NamedTempFile, StateError> {
        let dir = self.lock.lock_path.parent().unwrap_or(Path::new("."));
        let mut temporary = tempfile::Builder::new()
            .prefix(".strata-lock-")
            .tempfile_in(dir)
            .map_err(|e| StateError::io(dir, e))?;
        let text = serde_json::to_vec(info).map_err(|e| StateError::Other(e.to_string()))?;
        std::io::Write::write_all(&mut temporary, &text)
            .map_err(|e| StateError::io(temporary.path(), e))?;
        temporary
            .as_file()
            .sync_all()
            .map_err(|e| StateError::io(temporary.path(), e))?;
        if !temporary
            .as_file()
            .try_lock_exclusive()
            .map_err(|e| StateError::io(temporary.path(), e))?
        {
            return Err(StateError::Other(format!(
                "could not lock the new lock file {}",
                temporary.path().display()
            )));
        }
        Ok(temporary)
    }

    /// The record file open and kernel-locked by this process, if it exists, no one else holds
    /// its kernel lock, and it is still the file `version` names.
    fn lock_record_at(&self, version: &str) -> Result<Option<File>, StateError> {
        let path = &self.lock.lock_path;
        let record = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StateError::io(path, e)),
        };
        if !record
            .try_lock_exclusive()
            .map_err(|e| StateError::io(path, e))?
        {
            return Ok(None);
        }
        // Released and re-taken while we looked: another record.
        let same = [record.metadata(), std::fs::metadata(path)]
            .iter()
            .all(|m| m.as_ref().is_ok_and(|m| file_version(m) == version));
        Ok(same.then_some(record))
    }
}

/// A record file's identity, its version: a new record is a new file.
fn file_version(metadata: &std::fs::Metadata) -> String {
    format!("{}:{}", metadata.dev(), metadata.ino())
}

#[async_trait]
impl LockRecord for LocalLockRecord<'_> {
    async fn create(&self, info: &LockInfo) -> Result<bool, StateError> {
        let dir = self.lock.lock_path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| StateError::io(dir, e))?;
        let state_path = &self.lock.state_path;
        // Terraform's lock first, as Terraform takes it: held by a Terraform (or a Strata) run.
        // (A directory in the state file's place is left for the read to report.)
        if !state_path.is_dir() {
            match lock_state_file(state_path)? {
                Some(lock) => hold_state_file_lock(state_path, lock),
                None => return Ok(false),
            }
        }
        let created = self.locked_temporary(info).and_then(|temporary| {
            match std::fs::hard_link(temporary.path(), &self.lock.lock_path) {
                Ok(()) => Ok(Some(temporary.into_file())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
                Err(e) => Err(StateError::io(&self.lock.lock_path, e)),
            }
        });
        match created {
            Ok(Some(file)) => {
                if let Ok(mut slot) = self.created.lock() {
                    *slot = Some(file);
                }
                Ok(true)
            }
            other => {
                release_state_file_lock(state_path);
                other.map(|_| false)
            }
        }
    }

    async fn read(&self) -> Result<Option<Versioned>, StateError> {
        self.read_now()
    }

    /// Removes the record at `version` (holding its kernel lock, so only one waiter does) and
    /// creates this one.
    async fn replace(&self, info: &LockInfo, version: &str) -> Result<bool, StateError> {
        let Some(_old) = self.lock_record_at(version)? else {
            return Ok(false);
        };
        remove_if_exists(&self.lock.lock_path)?;
        self.create(info).await
    }

    async fn delete(&self) -> Result<(), StateError> {
        remove_if_exists(&self.lock.lock_path)
    }

    /// A holder is dead when no process holds the record's kernel lock nor Terraform's lock on
    /// the state file, and it is no live process on this host (an older Strata wrote records
    /// without the kernel lock: that one is left to its process).
    async fn is_abandoned(&self, current: &Versioned) -> Result<bool, StateError> {
        let Some(_record) = self.lock_record_at(&current.version)? else {
            return Ok(false);
        };
        let holder = &current.holder;
        let live_here = holder.pid != 0
            && holder.host == super::backend::this_host()
            && super::backend::process_is_alive(holder.pid);
        Ok(!terraform_holds(&self.lock.state_path) && !live_here)
    }
}

/// Whether another process holds a POSIX (`fcntl`) lock on the state file, as a running
/// Terraform does. A probe: the lock is released at once (this process holds no other POSIX
/// lock on the file, so closing it loses nothing).
fn terraform_holds(state_path: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(state_path)
    else {
        return false;
    };
    match rustix::fs::fcntl_lock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {
            let _ = rustix::fs::fcntl_lock(&file, rustix::fs::FlockOperation::Unlock);
            false
        }
        Err(_) => true,
    }
}

/// Takes Terraform's kind of lock on the state file (creating it empty if absent, as Terraform
/// does), or `None` when another run holds it.
fn lock_state_file(state_path: &Path) -> Result<Option<StateFileLock>, StateError> {
    use std::os::unix::fs::OpenOptionsExt;
    let created = !state_path.exists();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(state_path)
        .map_err(|e| StateError::io(state_path, e))?;
    if try_lock_description(&file).map_err(|e| StateError::io(state_path, e))? {
        return Ok(Some(StateFileLock { file, created }));
    }
    Ok(None)
}

/// An exclusive open-file-description lock on all of `file`, without waiting: `false` when a
/// conflicting lock (Terraform's `fcntl` lock, or another run's) is held.
fn try_lock_description(file: &File) -> std::io::Result<bool> {
    use nix::fcntl::{fcntl, FcntlArg};
    let whole_file = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    match fcntl(file, FcntlArg::F_OFD_SETLK(&whole_file)) {
        Ok(_) => Ok(true),
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EACCES) => Ok(false),
        Err(errno) => Err(std::io::Error::from(errno)),
    }
}

fn hold_state_file_lock(state_path: &Path, lock: StateFileLock) {
    if let Ok(mut guard) = STATE_FILE_LOCKS.lock() {
        guard
            .get_or_insert_with(HashMap::new)
            .insert(state_path.to_path_buf(), lock);
    }
}

/// Lets the lock on the state file go; a file the lock created and nothing wrote is removed
/// first (while still locked, so no other run is using it).
fn release_state_file_lock(state_path: &Path) {
    let Ok(mut guard) = STATE_FILE_LOCKS.lock() else {
        return;
    };
    let Some(lock) = guard.as_mut().and_then(|locks| locks.remove(state_path)) else {
        return;
    };
    if lock.created && std::fs::metadata(state_path).is_ok_and(|m| m.len() == 0) {
        let _ = std::fs::remove_file(state_path);
    }
    drop(lock);
}

/// Called with the file about to be renamed over `path`: when this process holds the lock on
/// the state file at `path`, the new file is locked too (before it takes the name, so the name
/// is never unlocked) and the lock on the old one is let go.
pub(crate) fn carry_state_file_lock(path: &Path, replacement: &File) -> Result<(), StateError> {
    let Ok(mut guard) = STATE_FILE_LOCKS.lock() else {
        return Ok(());
    };
    let Some(held) = guard.as_mut().and_then(|locks| locks.get_mut(path)) else {
        return Ok(());
    };
    let handle = replacement
        .try_clone()
        .map_err(|e| StateError::io(path, e))?;
    if !try_lock_description(&handle).map_err(|e| StateError::io(path, e))? {
        return Err(StateError::Other(format!(
            "could not lock the new state file for {}",
            path.display()
        )));
    }
    held.file = handle;
    Ok(())
}

/// The local lock as a [`LockQueue`]: one waiter's ticket in the queue directory.
struct LocalQueue<'a> {
    lock: &'a FileLock,
    ticket: Ticket,
    /// The lock once `try_acquire` got it.
    taken: Mutex<Option<Taken>>,
}

#[async_trait]
impl LockQueue for LocalQueue<'_> {
    async fn my_turn(&self) -> Result<bool, StateError> {
        self.ticket.is_first()
    }
    async fn try_acquire(&self, info: &LockInfo) -> Result<bool, StateError> {
        let Some(taken) = self.lock.try_take(info).await? else {
            return Ok(false);
        };
        if let Ok(mut slot) = self.taken.lock() {
            *slot = Some(taken);
        }
        Ok(true)
    }
    async fn holder(&self) -> Result<Option<LockInfo>, StateError> {
        self.lock.holder()
    }
    async fn heartbeat(&self) -> Result<(), StateError> {
        self.ticket.touch();
        Ok(())
    }
    fn takes_over_dead_holders(&self) -> bool {
        true
    }
}

/// What waiting for a lock in arrival order needs from a backend: a waiter's view of its own
/// queue ticket, the lock itself, and its holder.
#[async_trait]
pub(crate) trait LockQueue: Send + Sync {
    /// Whether no live waiter arrived before this one (removing the tickets of dead waiters).
    async fn my_turn(&self) -> Result<bool, StateError>;
    /// Takes the lock; `false` if it is held.
    async fn try_acquire(&self, info: &LockInfo) -> Result<bool, StateError>;
    /// The current holder, if any.
    async fn holder(&self) -> Result<Option<LockInfo>, StateError>;
    /// Shows that this waiter is still alive.
    async fn heartbeat(&self) -> Result<(), StateError>;
    /// Whether `try_acquire` itself takes over a dead holder's lock (so a dead holder is no
    /// reason to stop waiting).
    fn takes_over_dead_holders(&self) -> bool {
        false
    }
}

/// Waits in the queue until this waiter's turn comes and the lock is free, then takes it.
/// Tells `on_wait` about the holder once; fails when the holder is a dead process on this host
/// (it will never release) or when `timeout` passes.
pub(crate) async fn wait_in_queue(
    queue: &dyn LockQueue,
    info: &LockInfo,
    timeout: Duration,
    on_wait: OnLockWait<'_>,
    poll: Duration,
    heartbeat_every: Duration,
) -> Result<(), StateError> {
    let deadline = Instant::now() + timeout;
    let mut told = false;
    let mut last_heartbeat = Instant::now();
    loop {
        if queue.my_turn().await? && queue.try_acquire(info).await? {
            return Ok(());
        }
        let holder = queue.holder().await?;
        if let Some(holder) = &holder {
            if holder.holder_is_gone() && !queue.takes_over_dead_holders() {
                return Err(holder.gone_error());
            }
            if !told {
                on_wait(holder);
                told = true;
            }
        }
        if Instant::now() >= deadline {
            return Err(refusal(holder));
        }
        if last_heartbeat.elapsed() >= heartbeat_every {
            queue.heartbeat().await?;
            last_heartbeat = Instant::now();
        }
        tokio::time::sleep(poll.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

/// The error for a lock request that did not get the lock.
pub(crate) fn refusal(holder: Option<LockInfo>) -> StateError {
    match holder {
        Some(holder) if holder.holder_is_gone() => holder.gone_error(),
        Some(holder) => holder.locked_error(),
        // Free now, but other runs queued ahead of this one (or it was released just now).
        None => StateError::Locked {
            id: String::new(),
            holder: "another run queued ahead".into(),
            operation: "waiting".into(),
            created: "just now".into(),
        },
    }
}

struct FileLockRelease {
    lock_path: PathBuf,
    /// The state file whose Terraform-kind lock goes with the record.
    state_path: PathBuf,
    id: String,
    released: bool,
    /// The lock file, open and kernel-locked while the lock is held.
    kernel_lock: Option<File>,
}

impl FileLockRelease {
    fn release_sync(&mut self) -> Result<(), StateError> {
        if self.released {
            return Ok(());
        }
        self.released = true;
        set_held(&self.id, false);
        // Only remove the file if it is still ours: after a force-unlock someone else may hold it.
        let lock = FileLock {
            lock_path: self.lock_path.clone(),
            queue_dir: PathBuf::new(),
            state_path: PathBuf::new(),
        };
        let removed = match lock.holder()? {
            Some(holder) if holder.id == self.id => remove_if_exists(&self.lock_path),
            _ => Ok(()),
        };
        // Closing the files drops the kernel locks, after the record is gone.
        self.kernel_lock = None;
        release_state_file_lock(&self.state_path);
        removed
    }
}

#[async_trait]
impl LockRelease for FileLockRelease {
    async fn release(&mut self) -> Result<(), StateError> {
        self.release_sync()
    }

    fn release_now(&mut self) {
        if let Err(error) = self.release_sync() {
            tracing::warn!("releasing the state lock failed: {error}");
        }
    }
}

/// A waiter's place in the queue; removed when dropped (whether the wait succeeded, failed or
/// was cancelled).
struct Ticket {
    dir: PathBuf,
    name: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TicketInfo {
    pid: u32,
    host: String,
}

impl Ticket {
    fn take(dir: &Path) -> Result<Ticket, StateError> {
        std::fs::create_dir_all(dir).map_err(|e| StateError::io(dir, e))?;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!(
            "{nanos:024}-{:010}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let info = TicketInfo {
            pid: std::process::id(),
            host: super::backend::this_host(),
        };
        let text = serde_json::to_vec(&info).map_err(|e| StateError::Other(e.to_string()))?;
        let path = dir.join(&name);
        std::fs::write(&path, text).map_err(|e| StateError::io(&path, e))?;
        Ok(Ticket {
            dir: dir.to_path_buf(),
            name,
        })
    }

    /// Whether no live ticket is older than this one; removes dead tickets on the way.
    fn is_first(&self) -> Result<bool, StateError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) => return Err(StateError::io(&self.dir, e)),
        };
        let mut older: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|entry| {
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    entry.path(),
                )
            })
            .filter(|(name, _)| name.as_str() < self.name.as_str())
            .collect();
        older.sort();
        for (_, path) in older {
            if ticket_is_live(&path) {
                return Ok(false);
            }
            let _ = std::fs::remove_file(&path);
        }
        Ok(true)
    }

    fn touch(&self) {
        let path = self.dir.join(&self.name);
        if let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
    }
}

fn ticket_is_live(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let Ok(info) = serde_json::from_slice::<TicketInfo>(&bytes) else {
        // Being written right now, or garbage: judge by age.
        return !is_stale(path);
    };
    if info.host == super::backend::this_host() {
        super::backend::process_is_alive(info.pid)
    } else {
        !is_stale(path)
    }
}

fn is_stale(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age > TICKET_STALE)
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir.join(&self.name));
    }
}
