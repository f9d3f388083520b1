//! What the reads of one refresh share. The engine announces a refresh with the objects it will
//! read ([`crate::providers::Provider::refresh_starting`]) and ends it
//! ([`crate::providers::Provider::refresh_finished`]); in between, a question several resource
//! types' reads ask goes to AWS once and its answer is kept here (today: the route tables of the
//! refreshed VPCs, [`RouteTablesOfVpcs`]). Nothing is kept outside a refresh, so the reads of an
//! apply, an import or a data source outside one always ask AWS.

use super::ec2::RouteTablesOfVpcs;
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The answers of the refresh under way, if one is.
#[derive(Default)]
pub struct RefreshScope {
    route_tables: Mutex<Option<Arc<RouteTablesOfVpcs>>>,
}

impl RefreshScope {
    /// A refresh of `objects` (recorded values by resource type) starts.
    pub fn start(&self, objects: &BTreeMap<&str, Vec<&Value>>) {
        *self.route_tables_slot() = RouteTablesOfVpcs::for_refresh(objects).map(Arc::new);
    }

    /// The refresh is over: its answers are dropped.
    pub fn finish(&self) {
        *self.route_tables_slot() = None;
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
