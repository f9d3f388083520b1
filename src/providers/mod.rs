//! Providers: the [`Provider`] trait every resource implementation speaks, shaped like
//! Terraform's provider protocol (schema, configure, validate, plan, apply, read, import), and the
//! [`Registry`] that maps provider names to implementations.
//!
//! Architecture invariants:
//! - The trait knows no transport. Built-in providers implement it in process; a plugin
//!   speaking Terraform's gRPC protocol ([`plugin`]) is one more implementation, chosen per
//!   provider by [`selection`].
//! - Only the engine calls providers. Providers never print: they report progress through the
//!   [`Progress`] callback and errors through [`ProviderError`].
//! - Values crossing the trait are [`Value`]s shaped by the resource's [`schema::Block`]:
//!   every attribute present (null when unset), nested blocks as lists/sets/objects.

#[cfg(feature = "aws")]
pub mod aws;
pub mod fake;
mod plan;
pub mod plugin;
pub mod schema;
pub mod selection;
pub mod terraform;

pub use plan::default_plan;
pub use schema::{Attribute, Block, NestedBlock, Nesting, ProviderSchema, ResourceSchema};

use crate::value::{AttrPath, Value};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A message a provider reports while it waits ("waiting for state `available`, now `creating`").
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// A progress callback that drops every message.
pub fn no_progress() -> Progress {
    Arc::new(|_| {})
}

/// What the engine asks when planning one resource instance.
#[derive(Clone, Debug)]
pub struct PlanRequest<'a> {
    pub type_name: &'a str,
    /// The current state, `None` when the instance does not exist yet.
    pub prior: Option<&'a Value>,
    /// The evaluated configuration (may contain unknowns).
    pub config: &'a Value,
    /// The provider's private data recorded with the prior object (empty when none).
    pub prior_private: &'a [u8],
}

/// A provider's answer to a [`PlanRequest`].
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedChange {
    /// The state the instance will have after apply, unknowns where not yet known.
    pub planned: Value,
    /// Attributes whose change cannot be made in place: non-empty means replace.
    pub requires_replace: Vec<AttrPath>,
    /// Private data the provider wants handed back to it when the change is applied.
    pub private: Vec<u8>,
    /// Warnings the provider reported with the plan.
    pub warnings: Vec<ProviderError>,
}

impl PlannedChange {
    /// A plan with no private data and no warnings.
    pub fn new(planned: Value, requires_replace: Vec<AttrPath>) -> PlannedChange {
        PlannedChange {
            planned,
            requires_replace,
            private: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// One object as a provider reports it: its value and the provider's opaque private data
/// (which the engine records in state and hands back on the next call about the object).
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectState {
    pub value: Value,
    pub private: Vec<u8>,
}

impl ObjectState {
    /// An object without private data (what the built-in providers report).
    pub fn new(value: Value) -> ObjectState {
        ObjectState {
            value,
            private: Vec::new(),
        }
    }
}

/// What became of a create an interrupted run started ([`Provider::find_created`]).
#[derive(Clone, Debug, PartialEq)]
pub enum FoundCreate {
    /// The object the create made: the engine adopts it into state.
    Found(ObjectState),
    /// The create made nothing: the engine drops its intent.
    NotFound,
    /// The provider cannot tell before the create is sent again: the intent stays, and the
    /// create reuses its token (a client token, or a name checked against the tag).
    Unsupported,
}

/// What the engine asks to create (`prior` is `None`), update, or delete (`planned` is `None`).
#[derive(Clone)]
pub struct ApplyRequest {
    pub type_name: String,
    pub prior: Option<Value>,
    pub planned: Option<Value>,
    /// The configuration, wholly known at this point (`Null` for a delete).
    pub config: Value,
    /// The operation's time limit from the resource's `timeouts` block, if set.
    pub timeout: Option<Duration>,
    /// Unique per planned operation and stable across retries of it: creates that accept a
    /// client token pass this, so a retried or resumed create never makes two.
    pub idempotency_token: String,
    pub progress: Progress,
    /// The private data recorded with the prior object.
    pub prior_private: Vec<u8>,
    /// The private data the plan returned.
    pub planned_private: Vec<u8>,
}

impl fmt::Debug for ApplyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyRequest")
            .field("type_name", &self.type_name)
            .field("create", &self.prior.is_none())
            .field("delete", &self.planned.is_none())
            .finish_non_exhaustive()
    }
}

/// An error from a provider, worded for the user.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{summary}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
pub struct ProviderError {
    /// One line: what failed ("creating EC2 Subnet").
    pub summary: String,
    /// The remote system's message, and what to do.
    pub detail: String,
    /// The configuration attribute the error is about, when known (so the error can point at the
    /// line that set it).
    pub attribute: Option<AttrPath>,
    /// When an apply fails after the remote object came to exist: its state, which the engine
    /// records (as tainted) so nothing is lost.
    pub partial_state: Option<Value>,
    /// A warning rather than an error (only in lists of diagnostics that may hold both).
    pub warning: bool,
    /// Further errors the provider reported with this one (a plugin answers with a list).
    pub more: Vec<ProviderError>,
}

impl ProviderError {
    pub fn new(summary: impl Into<String>, detail: impl Into<String>) -> ProviderError {
        ProviderError {
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
            partial_state: None,
            warning: false,
            more: Vec::new(),
        }
    }

    /// A warning.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> ProviderError {
        ProviderError {
            warning: true,
            ..ProviderError::new(summary, detail)
        }
    }

    /// The first error of a list, carrying the others (`None` when the list holds none).
    pub fn from_list(diagnostics: Vec<ProviderError>) -> Option<ProviderError> {
        let mut errors = diagnostics.into_iter().filter(|d| !d.warning);
        let mut first = errors.next()?;
        first.more.extend(errors);
        Some(first)
    }

    /// This error and the others it carries, each alone.
    pub fn all(&self) -> Vec<ProviderError> {
        let mut first = self.clone();
        let more = std::mem::take(&mut first.more);
        std::iter::once(first).chain(more).collect()
    }

    pub fn on_attribute(mut self, path: AttrPath) -> ProviderError {
        self.attribute = Some(path);
        self
    }

    pub fn with_partial_state(mut self, state: Value) -> ProviderError {
        self.partial_state = Some(state);
        self
    }
}

/// One refresh's reads, announced to their provider ([`Provider::refresh_starting`]).
#[derive(Debug, Default)]
pub struct RefreshWave<'a> {
    /// The recorded values each resource type's read will get, by type.
    pub objects: BTreeMap<&'a str, Vec<&'a Value>>,
    /// The run only plans (`strata plan`): the reads change nothing outside, not even what a
    /// read would otherwise tidy (the AWS provider's intent tags a killed run left).
    pub read_only: bool,
}

/// A provider: the resource types and data sources of one system.
///
/// One value of a type implementing this trait serves one `provider` configuration block (one
/// alias); [`Provider::configure`] is called once before any other call but
/// [`Provider::schema`] and the validations.
///
/// The engine calls the object-level methods ([`Provider::plan_resource`], [`Provider::apply`],
/// [`Provider::refresh_resources`], [`Provider::import`], [`Provider::upgrade_resource_state`]),
/// which carry the provider's private data. Built-in providers, which keep none, implement the
/// value-level methods (`apply_resource`, `read_resource(s)`, `import_resource`) and inherit the
/// object-level defaults, which pass private data through unchanged; a plugin implements the
/// object-level methods.
#[async_trait]
pub trait Provider: Send + Sync {
    /// What the provider declares. Cheap: called often.
    fn schema(&self) -> Arc<ProviderSchema>;

    /// Configures the provider from its evaluated `provider` block (`Null` when there is none).
    async fn configure(&self, config: &Value) -> Result<(), ProviderError>;

    /// Checks a resource's configuration beyond what the schema says (wholly known parts only).
    /// Errors and warnings, each with the attribute it is about when known.
    async fn validate_resource(&self, _type_name: &str, _config: &Value) -> Vec<ProviderError> {
        Vec::new()
    }

    /// Checks a data source's configuration, like [`Provider::validate_resource`].
    async fn validate_data_source(&self, _type_name: &str, _config: &Value) -> Vec<ProviderError> {
        Vec::new()
    }

    /// Brings an object recorded under an older `schema_version` of its resource type up to the
    /// current schema. The default (for providers whose schemas have one version) passes it
    /// through.
    async fn upgrade_resource_state(
        &self,
        _type_name: &str,
        _version: u64,
        prior: &Value,
    ) -> Result<Value, ProviderError> {
        Ok(prior.clone())
    }

    /// Brings an object recorded by Terraform 0.11 as a flatmap (`attributes_flat`: `"tags.%" =
    /// "1"`, `"tags.Name" = "x"`) up to the current schema, as a value. The default (the
    /// built-in providers, which never wrote one) refuses it, naming the resource type.
    async fn upgrade_flatmap_state(
        &self,
        type_name: &str,
        _version: u64,
        _flatmap: &BTreeMap<String, String>,
    ) -> Result<Value, ProviderError> {
        Err(ProviderError::new(
            format!("the recorded state of this {type_name} is in the pre-0.12 `attributes_flat` form, which Strata's built-in provider cannot upgrade"),
            "run `terraform apply` with Terraform 0.12 or later once to upgrade the state, or, where the provider has a plugin, have Strata use it (`STRATA_PROVIDER_<name>=plugin`)",
        ))
    }

    /// Plans a change. The default derives the plan from the schema ([`default_plan`]).
    async fn plan_resource(
        &self,
        request: PlanRequest<'_>,
    ) -> Result<PlannedChange, ProviderError> {
        let schema = self.schema();
        let resource = schema.resources.get(request.type_name).ok_or_else(|| {
            ProviderError::new(
                format!("unsupported resource type `{}`", request.type_name),
                "",
            )
        })?;
        let mut change = default_plan(&resource.block, request.prior, request.config);
        change.private = request.prior_private.to_vec();
        Ok(change)
    }

    /// Creates, updates or deletes one instance, returning its new state (`None` once deleted).
    async fn apply_resource(&self, request: ApplyRequest) -> Result<Option<Value>, ProviderError>;

    /// Applies a planned change, returning the new object with its private data (`None` once
    /// deleted). The default calls [`Provider::apply_resource`] and keeps the planned private
    /// data.
    async fn apply(&self, request: ApplyRequest) -> Result<Option<ObjectState>, ProviderError> {
        let private = request.planned_private.clone();
        let state = self.apply_resource(request).await?;
        Ok(state.map(|value| ObjectState { value, private }))
    }

    /// Reads the current state of one instance; `None` when it no longer exists.
    async fn read_resource(
        &self,
        type_name: &str,
        current: &Value,
    ) -> Result<Option<Value>, ProviderError>;

    /// Reads many instances of one type. Providers whose API can describe many objects in one
    /// call override this so refreshing N resources of k types takes about k calls.
    async fn read_resources(
        &self,
        type_name: &str,
        current: &[Value],
    ) -> Vec<Result<Option<Value>, ProviderError>> {
        let mut results = Vec::with_capacity(current.len());
        for value in current {
            results.push(self.read_resource(type_name, value).await);
        }
        results
    }

    /// Refreshes many instances of one type with their private data (what the engine calls).
    /// The default calls [`Provider::read_resources`] and keeps each object's private data.
    async fn refresh_resources(
        &self,
        type_name: &str,
        current: &[ObjectState],
    ) -> Vec<Result<Option<ObjectState>, ProviderError>> {
        let values: Vec<Value> = current.iter().map(|c| c.value.clone()).collect();
        let results = self.read_resources(type_name, &values).await;
        results
            .into_iter()
            .zip(current)
            .map(|(result, object)| {
                result.map(|value| {
                    value.map(|value| ObjectState {
                        value,
                        private: object.private.clone(),
                    })
                })
            })
            .collect()
    }

    /// A refresh is about to read `wave.objects`: until [`Provider::refresh_finished`], those
    /// reads may share the answer to a question several of them ask (the AWS provider's VPCs,
    /// route tables and route table associations all read one DescribeRouteTables), and in a
    /// read-only wave they must change nothing. The default shares nothing.
    fn refresh_starting(&self, _wave: &RefreshWave<'_>) {}

    /// The refresh [`Provider::refresh_starting`] announced is over: nothing it shared may serve
    /// a later call (an apply changes what it described).
    fn refresh_finished(&self) {}

    /// Imports an existing object by its id.
    async fn import_resource(&self, type_name: &str, id: &str) -> Result<Value, ProviderError>;

    /// Imports an existing object by its id, with its private data (what the engine calls).
    async fn import(&self, type_name: &str, id: &str) -> Result<ObjectState, ProviderError> {
        self.import_resource(type_name, id)
            .await
            .map(ObjectState::new)
    }

    /// Finds the object a create with idempotency token `token` made, for a run that was
    /// killed before recording it (see `engine::adopt`). `planned` is what that create asked
    /// for (its planned value, unknowns null; null when not recorded): the found object takes
    /// from it what a read cannot see (write-only settings), as a created one would have. The
    /// default cannot tell.
    async fn find_created(
        &self,
        _type_name: &str,
        _token: &str,
        _planned: &Value,
    ) -> Result<FoundCreate, ProviderError> {
        Ok(FoundCreate::Unsupported)
    }

    /// Called once a created (or adopted) object is recorded in state: the provider removes
    /// what it marked the object with to find it again. The default does nothing.
    async fn forget_intent(&self, _type_name: &str, _value: &Value) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Reads a data source.
    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError>;

    /// Ends the provider's work: a plugin stops its process. Called once per command, after
    /// the last call; the default does nothing.
    async fn close(&self) {}
}

/// Makes a fresh, unconfigured provider instance.
pub type ProviderFactory = Arc<dyn Fn() -> Arc<dyn Provider> + Send + Sync>;

/// One registered provider.
#[derive(Clone)]
pub struct RegisteredProvider {
    /// The source address recorded in state, e.g. `registry.terraform.io/hashicorp/aws`.
    pub source: String,
    pub factory: ProviderFactory,
    /// One instance per provider configuration for the registry's whole life (one command),
    /// shared by its walks: set for plugins, whose instance is a process.
    pub shared: bool,
}

/// The providers Strata knows, by local name (`aws`, `terraform`, `fake`), built once per
/// command. Clones share the instances of shared providers.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<String, RegisteredProvider>,
    instances: Arc<Mutex<BTreeMap<(String, Option<String>), Arc<dyn Provider>>>>,
}

impl Registry {
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// Every built-in provider.
    pub fn builtin() -> Registry {
        let mut registry = Registry::empty();
        registry.register(
            "terraform",
            "terraform.io/builtin/terraform",
            Arc::new(|| Arc::new(terraform::TerraformProvider::new()) as Arc<dyn Provider>),
        );
        #[cfg(feature = "aws")]
        registry.register(
            "aws",
            "registry.terraform.io/hashicorp/aws",
            Arc::new(|| Arc::new(aws::AwsProvider::new()) as Arc<dyn Provider>),
        );
        registry.register(
            "fake",
            "registry.strata.dev/strata/fake",
            Arc::new(|| Arc::new(fake::FakeProvider::new()) as Arc<dyn Provider>),
        );
        registry
    }

    pub fn register(&mut self, name: &str, source: &str, factory: ProviderFactory) {
        self.providers.insert(
            name.to_string(),
            RegisteredProvider {
                source: source.to_string(),
                factory,
                shared: false,
            },
        );
    }

    /// Registers a provider whose instances live as long as the registry (a plugin).
    pub fn register_shared(&mut self, name: &str, source: &str, factory: ProviderFactory) {
        self.providers.insert(
            name.to_string(),
            RegisteredProvider {
                source: source.to_string(),
                factory,
                shared: true,
            },
        );
    }

    /// The instance serving the configuration `name` (with `alias`): a fresh one for built-in
    /// providers, the command's one for shared providers. `None` when `name` is unknown.
    pub fn instance(&self, name: &str, alias: Option<&str>) -> Option<Arc<dyn Provider>> {
        let registered = self.providers.get(name)?;
        if !registered.shared {
            return Some((registered.factory)());
        }
        let key = (name.to_string(), alias.map(str::to_string));
        let mut instances = self.instances.lock().unwrap_or_else(|e| e.into_inner());
        Some(
            instances
                .entry(key)
                .or_insert_with(|| (registered.factory)())
                .clone(),
        )
    }

    /// Closes every shared instance (stops plugin processes). Called once at the end of a
    /// command; the registry can still make new instances afterwards.
    pub async fn close(&self) {
        let instances: Vec<Arc<dyn Provider>> = {
            let mut instances = self.instances.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *instances).into_values().collect()
        };
        for instance in instances {
            instance.close().await;
        }
        // A shared provider's process started for its schema and never used ends here too.
        for registered in self.providers.values().filter(|r| r.shared) {
            (registered.factory)().close().await;
        }
    }

    pub fn get(&self, name: &str) -> Option<&RegisteredProvider> {
        self.providers.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }
}
