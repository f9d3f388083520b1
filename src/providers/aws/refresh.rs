//! What the reads of one refresh share. The engine announces a refresh with the objects it will
//! read ([`crate::providers::Provider::refresh_starting`]) and ends it
//! ([`crate::providers::Provider::refresh_finished`]); in between, a question several resource
//! types' reads ask goes to AWS once and its answer is kept here (today: the route tables of the
//! refreshed VPCs, [`RouteTablesOfVpcs`]). Nothing is kept outside a refresh, so the reads of an
//! apply, an import or a data source outside one always ask AWS.
//!
//! A read-only refresh (`strata plan`) also keeps the reads from tidying: an object found still
//! carrying a killed run's intent tag keeps it (hidden from `tags`) until a refresh that may
//! write (an `apply`'s) removes it, so a plan makes no call that changes anything.

use super::ec2::RouteTablesOfVpcs;
use crate::providers::RefreshWave;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The answers of the refresh under way, if one is.
#[derive(Default)]
pub struct RefreshScope {
    route_tables: Mutex<Option<Arc<RouteTablesOfVpcs>>>,
    read_only: AtomicBool,
}

impl RefreshScope {
    /// A refresh of `wave.objects` starts.
    pub fn start(&self, wave: &RefreshWave<'_>) {
        *self.route_tables_slot() = RouteTablesOfVpcs::for_refresh(&wave.objects).map(Arc::new);
        self.read_only.store(wave.read_only, Ordering::Relaxed);
    }

    /// The refresh is over: its answers are dropped.
    pub fn finish(&self) {
        *self.route_tables_slot() = None;
        self.read_only.store(false, Ordering::Relaxed);
    }

    /// A read-only refresh is under way: reads change nothing (no intent tag is removed).
    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }

    /// The route tables this refresh's reads share, if they share them.
    pub(crate) fn route_tables(&self) -> Option<Arc<RouteTablesOfVpcs>> {
        self.route_tables_slot().clone()
    }

    fn route_tables_slot(&self) -> MutexGuard<'_, Option<Arc<RouteTablesOfVpcs>>> {
        // A read that panicked holding the lock left a whole value behind: keep using it.
        self.route_tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
