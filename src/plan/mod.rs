//! Plans: what an apply will do, as a plain serializable value.
//!
//! A [`Plan`] lists one [`ResourceChange`] per resource instance that changes (and the drift
//! found while refreshing), the changes to root outputs, and what is needed to apply it later
//! exactly as planned: the variable values, the mode, and the serial and lineage of the state it
//! was made against (a saved plan is refused if the state moved on since).

pub mod config_json;
pub mod file;
pub mod json;
pub mod relevant;

use crate::addrs::ResourceInstance;
use crate::value::{AttrPath, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happens to one resource instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    /// A data source read during apply (its configuration was not known at plan time).
    Read,
    Update,
    /// Replace: destroy the old object, then create the new one (`-/+`).
    DeleteThenCreate,
    /// Replace with `create_before_destroy` (`+/-`).
    CreateThenDelete,
    Delete,
    /// `removed { lifecycle { destroy = false } }`: the state forgets the object, which stays.
    Forget,
}

impl Action {
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// The symbol the plan shows.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
            Action::Forget => ".",
        }
    }

    /// Terraform's JSON plan `actions` list.
    pub fn json_actions(self) -> Vec<&'static str> {
        match self {
            Action::NoOp => vec!["no-op"],
            Action::Create => vec!["create"],
            Action::Read => vec!["read"],
            Action::Update => vec!["update"],
            Action::DeleteThenCreate => vec!["delete", "create"],
            Action::CreateThenDelete => vec!["create", "delete"],
            Action::Delete => vec!["delete"],
            Action::Forget => vec!["forget"],
        }
    }
}

/// Why an instance is being replaced or deleted, beyond its own attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReason {
    /// `-replace=ADDRESS`
    ReplaceByRequest,
    /// The object is tainted (its creation did not finish).
    ReplaceBecauseTainted,
    /// `replace_triggered_by`
    ReplaceByTriggers,
    /// Attributes that cannot change in place changed.
    ReplaceBecauseCannotUpdate,
    /// The resource is no longer in the configuration.
    DeleteBecauseNoResourceConfig,
    /// Its `count`/`for_each` no longer has this key.
    DeleteBecauseNoRepetitionKey,
    DeleteBecauseCountIndex,
    DeleteBecauseEachKey,
    /// `strata destroy`
    DeleteBecauseDestroyMode,
}

/// One instance's change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: ResourceInstance,
    /// The provider configuration address as state files write it.
    pub provider: String,
    pub action: Action,
    /// The current (refreshed) value; `None` for a create.
    pub before: Option<Value>,
    /// The planned value (unknowns where not known until apply); `None` for a delete.
    pub after: Option<Value>,
    /// For replacements: the attributes that force it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_replace: Vec<AttrPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ActionReason>,
    /// The provider's schema version of `after`.
    #[serde(default)]
    pub schema_version: u64,
    /// Set for the destruction of a deposed object (the old half of an unfinished
    /// `create_before_destroy` replacement): its key in the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    /// Where a `moved` block moved the instance from (its address in the prior state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<ResourceInstance>,
    /// The ID an `import` block brings this instance under management with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importing: Option<String>,
    /// The provider's private data for `after` as it planned it (base64, as state files keep
    /// it), carried in saved plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
}

impl ResourceChange {
    /// A change with its action and values and nothing else (no reason, no forced
    /// attributes, no move or import, no private data): the others are set by struct update.
    pub fn new(
        address: ResourceInstance,
        provider: String,
        action: Action,
        (before, after): (Option<Value>, Option<Value>),
        schema_version: u64,
    ) -> ResourceChange {
        ResourceChange {
            address,
            provider,
            action,
            before,
            after,
            requires_replace: Vec::new(),
            reason: None,
            schema_version,
            deposed: None,
            previous_address: None,
            importing: None,
            private: None,
        }
    }

    /// A change of a recorded object to `after` (an update, or a no-op with `after` the same).
    pub fn changing(
        address: ResourceInstance,
        object: &crate::state::InstanceObject,
        action: Action,
        after: Value,
    ) -> ResourceChange {
        let values = (Some(object.value.clone()), Some(after));
        let provider = object.provider.clone();
        ResourceChange::new(address, provider, action, values, object.schema_version)
    }

    /// A change that takes a recorded object away (`Delete`, `Forget`): before is the object,
    /// after is nothing.
    pub fn removing(
        address: ResourceInstance,
        object: &crate::state::InstanceObject,
        action: Action,
        reason: Option<ActionReason>,
    ) -> ResourceChange {
        let values = (Some(object.value.clone()), None);
        let provider = object.provider.clone();
        ResourceChange {
            reason,
            ..ResourceChange::new(address, provider, action, values, object.schema_version)
        }
    }

    /// Whether applying it does anything: an action, or a move or import to record.
    pub fn is_change(&self) -> bool {
        self.action != Action::NoOp || self.previous_address.is_some() || self.importing.is_some()
    }
}

/// A root output's change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    pub action: Action,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

/// How the plan was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    #[default]
    Normal,
    Destroy,
    RefreshOnly,
}

/// A whole plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// This file's format version (of Strata's own saved-plan format).
    pub format_version: u32,
    pub mode: PlanMode,
    pub workspace: String,
    /// The state this plan was made against.
    pub prior_lineage: String,
    pub prior_serial: u64,
    /// The root variable values the plan was made with (sensitive ones keep their mark and are
    /// never printed).
    pub variables: BTreeMap<String, Value>,
    /// Every instance that changes, sorted by address; no-ops are left out.
    pub changes: Vec<ResourceChange>,
    /// Changes made outside Strata, found while refreshing.
    pub drift: Vec<ResourceChange>,
    pub output_changes: BTreeMap<String, OutputChange>,
    /// `-target` addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// `-replace` addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<String>,
}

impl Plan {
    pub const FORMAT_VERSION: u32 = 1;

    /// Whether applying would change any resource or output.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(ResourceChange::is_change)
            || self
                .output_changes
                .values()
                .any(|o| o.action != Action::NoOp)
    }

    pub fn has_resource_changes(&self) -> bool {
        self.changes.iter().any(ResourceChange::is_change)
    }

    /// How many instances `import` blocks bring under management.
    pub fn import_count(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.importing.is_some())
            .count()
    }

    /// How many instances `removed` blocks forget.
    pub fn forget_count(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Forget)
            .count()
    }

    /// `(to add, to change, to destroy)`, as the summary line counts them.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut add = 0;
        let mut change = 0;
        let mut destroy = 0;
        for c in &self.changes {
            match c.action {
                Action::Create => add += 1,
                Action::Update => change += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    add += 1;
                    destroy += 1
                }
                Action::Delete => destroy += 1,
                Action::NoOp | Action::Read | Action::Forget => {}
            }
        }
        (add, change, destroy)
    }

    /// The change of the instance's current object (not of a deposed one).
    pub fn change_for(&self, address: &ResourceInstance) -> Option<&ResourceChange> {
        self.changes
            .iter()
            .find(|c| &c.address == address && c.deposed.is_none())
    }

    /// [`Plan::change_for`] of every address at once: the index in `changes` of each
    /// instance's current change, so that a walk over many instances looks each up instead of
    /// scanning the plan per instance.
    pub fn current_change_indexes(&self) -> std::collections::HashMap<ResourceInstance, usize> {
        let mut index = std::collections::HashMap::with_capacity(self.changes.len());
        for (i, change) in self.changes.iter().enumerate() {
            if change.deposed.is_none() {
                index.entry(change.address.clone()).or_insert(i);
            }
        }
        index
    }
}
