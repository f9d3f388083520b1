//! The workspace's state lock as a command holds it: [`StateLock`].
//!
//! A command takes the lock once (the user is told while it waits) and never releases it by
//! hand on its error paths: on the normal path it awaits [`StateLock::release`] (a failure is
//! reported); on any other path (`?`, an early return) dropping the guard hands the lock to a
//! list that [`release_dropped`] empties before the process exits, so a remote lock is deleted
//! by an awaited request rather than by a task the runtime's shutdown might cancel.

use super::args::LockArgs;
use super::{views, Context, Reported};
use crate::state::backend::{Backend, LockGuard, LockInfo};
use std::sync::Mutex;
use std::time::Duration;

/// Locks whose holders returned without releasing them (an error path).
static DROPPED: Mutex<Vec<LockGuard>> = Mutex::new(Vec::new());

/// A held state lock (or none, with `-lock=false`), released on drop.
#[derive(Debug)]
pub struct StateLock {
    guard: Option<LockGuard>,
}

impl StateLock {
    /// Takes the workspace's lock (unless `-lock=false`), telling the user while it waits.
    pub async fn take(
        context: &Context,
        backend: &dyn Backend,
        workspace: &str,
        operation: &str,
        lock: &LockArgs,
    ) -> anyhow::Result<StateLock> {
        if !lock.lock {
            return Ok(StateLock { guard: None });
        }
        let timeout = lock_timeout(lock)?;
        let style = context.style;
        let on_wait = move |holder: &LockInfo| views::lock::waiting(style, holder, timeout);
        match backend.lock(workspace, operation, timeout, &on_wait).await {
            Ok(guard) => {
                if let Some(dead) = guard.taken_over() {
                    views::lock::taken_over(style, dead);
                }
                Ok(StateLock { guard: Some(guard) })
            }
            Err(error) => {
                views::lock::not_acquired(style, &error);
                Err(Reported.into())
            }
        }
    }

    /// Releases the lock now, reporting a failure (the command's outcome stands).
    pub async fn release(mut self) {
        if let Some(guard) = self.guard.take() {
            release_reporting(guard).await;
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        match DROPPED.lock() {
            Ok(mut dropped) => dropped.push(guard),
            // A poisoned list: the guard's own drop releases it (best effort).
            Err(_) => drop(guard),
        }
    }
}

/// Releases every lock a command dropped without releasing; `cli::run` awaits it after the
/// command, whatever it returned.
pub async fn release_dropped() {
    let dropped = match DROPPED.lock() {
        Ok(mut dropped) => std::mem::take(&mut *dropped),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    for guard in dropped {
        release_reporting(guard).await;
    }
}

async fn release_reporting(guard: LockGuard) {
    if let Err(error) = guard.release().await {
        views::lock::release_failed(&error);
    }
}

/// `-lock-timeout`: `0` (or `0s`) fails at once.
fn lock_timeout(lock: &LockArgs) -> anyhow::Result<Duration> {
    if lock.lock_timeout == "0" {
        return Ok(Duration::ZERO);
    }
    crate::engine::parse_duration(&lock.lock_timeout).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid -lock-timeout `{}`: use a duration such as 30s or 5m",
            lock.lock_timeout
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::local::LocalBackend;

    fn context(dir: &std::path::Path) -> Context {
        Context {
            dir: dir.to_path_buf(),
            style: crate::ui::Style { color: false },
            interactive: false,
            json: false,
            compact_warnings: false,
            var_sources: Vec::new(),
        }
    }

    fn args() -> LockArgs {
        LockArgs {
            lock: true,
            lock_timeout: "0s".into(),
        }
    }

    #[tokio::test]
    async fn a_dropped_lock_is_released_by_release_dropped_and_a_released_one_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let context = context(dir.path());
        let backend = LocalBackend::new(dir.path());
        let held = StateLock::take(&context, &backend, "default", "test", &args())
            .await
            .unwrap();
        assert!(backend.lock_holder("default").await.unwrap().is_some());
        // A second run cannot take it while it is held.
        assert!(
            StateLock::take(&context, &backend, "default", "test", &args())
                .await
                .is_err()
        );
        // An error path: the guard is dropped, the lock waits for `release_dropped`.
        drop(held);
        release_dropped().await;
        assert!(backend.lock_holder("default").await.unwrap().is_none());
        let again = StateLock::take(&context, &backend, "default", "test", &args())
            .await
            .unwrap();
        again.release().await;
        assert!(backend.lock_holder("default").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn lock_false_takes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(dir.path());
        let none = LockArgs {
            lock: false,
            lock_timeout: "0s".into(),
        };
        let held = StateLock::take(&context(dir.path()), &backend, "default", "test", &none)
            .await
            .unwrap();
        assert!(backend.lock_holder("default").await.unwrap().is_none());
        held.release().await;
    }

    #[test]
    fn a_bad_lock_timeout_names_the_value() {
        let bad = LockArgs {
            lock: true,
            lock_timeout: "soon".into(),
        };
        let error = lock_timeout(&bad).unwrap_err().to_string();
        assert!(error.contains("`soon`"), "{error}");
    }
}
