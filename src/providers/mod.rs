//! Providers: the [`Provider`] trait every resource implementation speaks, shaped like
//! Terraform's provider protocol (schema, configure, validate, plan, apply, read, import), and the
//! [`Registry`] that maps provider names to implementations.
//!
//! Architecture invariants:
//! - The trait knows no transport. Built-in providers implement it in process; an
//!   out-of-process plugin speaking Terraform's gRPC protocol would be one more implementation.
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
pub mod terraform;

pub use plan::default_plan;
pub use schema::{Attribute, Block, NestedBlock, Nesting, ProviderSchema, ResourceSchema};

use crate::value::{AttrPath, Value};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
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
}

/// A provider's answer to a [`PlanRequest`].
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedChange {
    /// The state the instance will have after apply, unknowns where not yet known.
    pub planned: Value,
    /// Attributes whose change cannot be made in place: non-empty means replace.
    pub requires_replace: Vec<AttrPath>,
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
}

impl ProviderError {
    pub fn new(summary: impl Into<String>, detail: impl Into<String>) -> ProviderError {
        ProviderError {
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
            partial_state: None,
        }
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

/// A provider: the resource types and data sources of one system.
///
/// One value of a type implementing this trait serves one `provider` configuration block (one
/// alias); [`Provider::configure`] is called once before any other call but
/// [`Provider::schema`].
#[async_trait]
pub trait Provider: Send + Sync {
    /// What the provider declares. Cheap: called often.
    fn schema(&self) -> Arc<ProviderSchema>;

    /// Configures the provider from its evaluated `provider` block (`Null` when there is none).
    async fn configure(&self, config: &Value) -> Result<(), ProviderError>;

    /// Checks a resource's configuration beyond what the schema says (wholly known parts only).
    fn validate_resource(&self, _type_name: &str, _config: &Value) -> Vec<ProviderError> {
        Vec::new()
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
        Ok(default_plan(&resource.block, request.prior, request.config))
    }

    /// Creates, updates or deletes one instance, returning its new state (`None` once deleted).
    async fn apply_resource(&self, request: ApplyRequest) -> Result<Option<Value>, ProviderError>;

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

    /// Imports an existing object by its id.
    async fn import_resource(&self, type_name: &str, id: &str) -> Result<Value, ProviderError>;

    /// Reads a data source.
    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError>;
}

/// Makes a fresh, unconfigured provider instance.
pub type ProviderFactory = Arc<dyn Fn() -> Arc<dyn Provider> + Send + Sync>;

/// One registered provider.
#[derive(Clone)]
pub struct RegisteredProvider {
    /// The source address recorded in state, e.g. `registry.terraform.io/hashicorp/aws`.
    pub source: String,
    pub factory: ProviderFactory,
}

/// The providers Strata knows, by local name (`aws`, `terraform`, `fake`).
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<String, RegisteredProvider>,
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
            },
        );
    }

    pub fn get(&self, name: &str) -> Option<&RegisteredProvider> {
        self.providers.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }
}
