//! State: what exists, as last recorded. The in-memory model ([`State`]), Terraform's state file
//! format version 4 ([`mod@format`]), and the backends that store it per workspace ([`backend`]):
//! the local file backend (default, [`local`]) and S3 (`s3`, with the `aws` feature).
//!
//! - [`mod@format`]: read and write `terraform.tfstate` exactly as Terraform 1.15 does;
//! - [`backend`]: the [`Backend`] and [`StateWriter`] traits the engine and CLI call, locks
//!   ([`LockGuard`], [`LockInfo`]) and errors ([`StateError`]);
//! - [`local`], `s3`: the backends; [`configure`]: a backend from the configuration's
//!   `backend` block and `-backend-config`, and state migration between backends;
//! - [`workspace`]: the current workspace (`.terraform/environment`, `TF_WORKSPACE`), select,
//!   new, delete;
//! - `journal`, `lock`: the apply journal and the lock queue, shared by the backends.
//!
//! Durability: during an apply, every resource operation is appended to a journal
//! ([`StateWriter::record`]) and synced before the next one starts, so the cost per operation is
//! independent of the state's size (Terraform rewrites the whole file each time). The full state
//! is written once at the end (and whenever the journal outgrows it four times over); loading
//! replays a journal left by an interrupted run.
//!
//! Architecture invariant: only this module reads or writes state files and lock files.

pub mod backend;
pub mod configure;
pub mod format;
mod journal;
pub(crate) use journal::off_the_runtime;
pub mod local;
mod lock;
pub mod lock_records;
#[cfg(feature = "aws")]
pub mod s3;
#[cfg(feature = "aws")]
pub mod s3_store;
pub mod schemas;
// Used by the S3 backend; generic over any storage client (unit-tested on local files).
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
mod segments;
pub mod store;
mod stream;
pub mod workspace;
mod writer;

use crate::addrs::{AbsResource, ResourceInstance};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether an object is usable or must be replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectStatus {
    #[default]
    Ready,
    /// Created, but its creation did not finish cleanly: the next plan replaces it.
    Tainted,
}

/// The recorded state of one resource instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceObject {
    /// The attributes, with sensitive marks where `sensitive_attributes` says.
    pub value: Value,
    /// The provider configuration address as state files write it:
    /// `provider["registry.terraform.io/hashicorp/aws"]` or `...aws"].west`.
    pub provider: String,
    pub schema_version: u64,
    /// Resources this one depended on when last applied (direct dependencies only).
    pub dependencies: Vec<AbsResource>,
    pub create_before_destroy: bool,
    pub status: ObjectStatus,
    /// The provider's opaque private data for the object, base64 as state files write it
    /// (`None` when the provider keeps none). Handed back to the provider with the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
}

/// What a state file records for an instance that Strata's providers do not use, kept so that
/// a state Terraform wrote round-trips unchanged: the resource identity (Terraform 1.12+).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceExtras {
    pub identity: Option<serde_json::Value>,
    pub identity_schema_version: u64,
    /// The pre-0.12 `attributes_flat` of an instance (Terraform 0.11's flatmap, `"tags.%" =
    /// "1"`), kept until the provider upgrades it (the instance's value is null until then) and
    /// written back as read if it never is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flatmap: Option<BTreeMap<String, String>>,
}

/// A root module output value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputValue {
    pub value: Value,
    pub sensitive: bool,
}

/// Everything recorded for one workspace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Increases by one with every write that changes anything.
    pub serial: u64,
    /// Fixed when a state is first created: a state with another lineage is another state.
    pub lineage: String,
    /// The version of the tool that last wrote it.
    pub terraform_version: String,
    pub outputs: BTreeMap<String, OutputValue>,
    /// Every resource instance, sorted by address.
    pub resources: BTreeMap<ResourceInstance, InstanceObject>,
    /// Creates that were started but whose outcome was never recorded (the run was killed
    /// while the provider worked), by address. The next create of that address reuses the
    /// token, so the provider returns the object it made instead of making a second one.
    /// Written to state files as `strata_pending_creates` (the tokens) and
    /// `strata_pending_planned` (what each create asked for).
    #[serde(default)]
    pub pending_creates: BTreeMap<ResourceInstance, PendingCreate>,
    /// Per-instance data read from a state file that the model does not use (see
    /// [`InstanceExtras`]); dropped when the instance changes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extras: BTreeMap<ResourceInstance, InstanceExtras>,
    /// Objects set aside by a `create_before_destroy` replacement: the old object, kept on
    /// record under a key from the moment its successor is created until it is destroyed, so a
    /// run that fails or is killed in between still knows it exists (the next plan destroys it).
    /// Written to state files as Terraform does, as instances with a `deposed` key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deposed: BTreeMap<ResourceInstance, BTreeMap<String, InstanceObject>>,
    /// The resource schemas the instances are decoded with and written per (see
    /// [`schemas`]); none for a state as read from a file.
    #[serde(skip)]
    pub(crate) schemas: schemas::AttachedSchemas,
}

impl State {
    /// An empty state with a fresh lineage.
    pub fn new() -> State {
        State {
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            terraform_version: crate::TERRAFORM_VERSION_COMPAT.to_string(),
            outputs: BTreeMap::new(),
            resources: BTreeMap::new(),
            pending_creates: BTreeMap::new(),
            extras: BTreeMap::new(),
            deposed: BTreeMap::new(),
            schemas: schemas::AttachedSchemas::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.outputs.is_empty() && self.deposed.is_empty()
    }

    /// The recorded instances of `resource` in `module`: one range of the ordered map (the
    /// address orders by module, then resource, then key), not a scan of the whole state.
    pub fn instances_of<'a>(
        &'a self,
        module: &'a crate::addrs::ModuleInstance,
        resource: &'a crate::addrs::Resource,
    ) -> impl Iterator<Item = (&'a ResourceInstance, &'a InstanceObject)> + 'a {
        let first = ResourceInstance {
            module: module.clone(),
            resource: resource.clone(),
            key: crate::addrs::InstanceKey::None,
        };
        self.resources
            .range(first..)
            .take_while(move |(address, _)| {
                address.module == *module && address.resource == *resource
            })
    }

    /// Applies one journal entry.
    pub fn apply_change(&mut self, change: &StateChange) {
        match change {
            StateChange::Put { address, object } => {
                self.pending_creates.remove(address);
                let updated = self.resources.insert(address.clone(), object.clone());
                // The same object, updated in place (a replacement removes or deposes the old
                // one first): its identity stays, as a provider never changes an object's
                // identity; a pre-0.12 flatmap is superseded by the new attributes.
                match (updated, self.extras.get_mut(address)) {
                    (Some(_), Some(extra)) if extra.identity.is_some() => extra.flatmap = None,
                    _ => {
                        self.extras.remove(address);
                    }
                }
            }
            StateChange::Remove { address } => {
                self.pending_creates.remove(address);
                self.resources.remove(address);
                self.extras.remove(address);
            }
            StateChange::CreateStarted {
                address,
                token,
                planned,
            } => {
                let pending = PendingCreate {
                    token: token.clone(),
                    planned: planned.clone(),
                };
                self.pending_creates.insert(address.clone(), pending);
            }
            StateChange::CreateAbandoned { address } => {
                self.pending_creates.remove(address);
            }
            StateChange::Outputs { outputs } => {
                self.outputs = outputs.clone();
            }
            StateChange::Depose { address, key } => {
                if let Some(object) = self.resources.remove(address) {
                    self.extras.remove(address);
                    self.deposed
                        .entry(address.clone())
                        .or_default()
                        .insert(key.clone(), object);
                }
            }
            StateChange::ForgetDeposed { address, key } => {
                self.take_deposed(address, key);
            }
            StateChange::Move { from, to } => {
                if let Some(object) = self.resources.remove(from) {
                    self.resources.insert(to.clone(), object);
                }
                if let Some(objects) = self.deposed.remove(from) {
                    self.deposed.insert(to.clone(), objects);
                }
                if let Some(extra) = self.extras.remove(from) {
                    self.extras.insert(to.clone(), extra);
                }
                if let Some(pending) = self.pending_creates.remove(from) {
                    self.pending_creates.insert(to.clone(), pending);
                }
            }
            StateChange::RestoreDeposed { address, key } => {
                if !self.resources.contains_key(address) {
                    if let Some(object) = self.take_deposed(address, key) {
                        self.resources.insert(address.clone(), object);
                    }
                }
            }
        }
    }

    fn take_deposed(&mut self, address: &ResourceInstance, key: &str) -> Option<InstanceObject> {
        let objects = self.deposed.get_mut(address)?;
        let object = objects.remove(key);
        if objects.is_empty() {
            self.deposed.remove(address);
        }
        object
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// A create sent to a provider whose outcome no run recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingCreate {
    /// The operation's client token, reused by the next create of the address.
    pub token: String,
    /// What the create asked for: its planned value with unknowns as null (null when a state
    /// written before it was kept has none). An adopted object takes from it what the provider
    /// cannot read back from the object (an RDS instance's `skip_final_snapshot`, a password).
    #[serde(default)]
    pub planned: Value,
}

/// One change to a state: what the journal records after each operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StateChange {
    /// An instance was created, updated, refreshed or imported.
    Put {
        address: ResourceInstance,
        object: InstanceObject,
    },
    /// An instance was deleted (or forgotten).
    Remove { address: ResourceInstance },
    /// The root outputs were recomputed.
    Outputs {
        outputs: BTreeMap<String, OutputValue>,
    },
    /// A create is about to be sent to the provider with this client token (the intent,
    /// recorded first so that a crash during the call cannot lose the object it makes) and
    /// this planned value ([`PendingCreate::planned`]).
    CreateStarted {
        address: ResourceInstance,
        token: String,
        /// Null in a journal written before it was recorded.
        #[serde(default)]
        planned: Value,
    },
    /// A started create failed without making anything.
    CreateAbandoned { address: ResourceInstance },
    /// A `create_before_destroy` replacement is about to create the successor: the current
    /// object is set aside as deposed under `key` (nothing happens when there is none).
    Depose {
        address: ResourceInstance,
        key: String,
    },
    /// The deposed object was destroyed.
    ForgetDeposed {
        address: ResourceInstance,
        key: String,
    },
    /// The successor's create failed without making anything: the deposed object is current
    /// again (when nothing else took its place).
    RestoreDeposed {
        address: ResourceInstance,
        key: String,
    },
    /// A `moved` block took effect: everything recorded at `from` is now at `to`.
    Move {
        from: ResourceInstance,
        to: ResourceInstance,
    },
}

pub use backend::{Backend, LockGuard, LockInfo, OnLockWait, StateError, StateWriter};
pub use configure::{migrate_states, open_backend, parse_backend_config_arg};
pub use local::LocalBackend;
pub use schemas::StateSchemas;
pub use workspace::{current_workspace, DEFAULT_WORKSPACE};
pub use writer::GroupCommit;

#[cfg(test)]
mod instances_of_tests {
    use super::*;

    /// The range holds exactly one resource's instances in one module: not a neighbour whose
    /// name extends it, nor the same resource in a child module or another module instance.
    #[test]
    fn instances_of_is_one_resource_in_one_module() {
        let mut state = State::new();
        for address in [
            "terraform_data.a",
            "terraform_data.a[0]",
            "terraform_data.a[\"k\"]",
            "terraform_data.ab[0]",
            "terraform_data.b",
            "module.m.terraform_data.a[0]",
            "module.m[1].terraform_data.a[0]",
            "data.terraform_data.a",
        ] {
            let address = ResourceInstance::parse(address).expect("an address");
            let object = InstanceObject {
                value: crate::value::Value::Null,
                provider: "provider[\"terraform.io/builtin/terraform\"]".to_string(),
                schema_version: 0,
                dependencies: Vec::new(),
                create_before_destroy: false,
                status: ObjectStatus::Ready,
                private: None,
            };
            state.resources.insert(address, object);
        }
        let wanted = ResourceInstance::parse("terraform_data.a[0]").expect("an address");
        let found: Vec<String> = state
            .instances_of(&wanted.module, &wanted.resource)
            .map(|(address, _)| address.to_string())
            .collect();
        assert_eq!(
            found,
            [
                "terraform_data.a",
                "terraform_data.a[0]",
                "terraform_data.a[\"k\"]"
            ]
        );
        let child = ResourceInstance::parse("module.m.terraform_data.a[0]").expect("an address");
        let found: Vec<String> = state
            .instances_of(&child.module, &child.resource)
            .map(|(address, _)| address.to_string())
            .collect();
        assert_eq!(found, ["module.m.terraform_data.a[0]"]);
    }
}
