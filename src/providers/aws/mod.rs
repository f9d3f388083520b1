//! The `aws` provider: VPC networking, IAM, EKS and RDS through the official AWS SDK for Rust,
//! with the attribute names, defaults and replace/in-place rules of the Terraform AWS provider
//! so that existing configurations plan the same.
//!
//! Layout, as the Terraform AWS provider's `internal/service/<service>/`: [`config`] reads the
//! `provider "aws"` block and builds the SDK clients; each other module is one service
//! ([`ec2`], [`iam`], [`eks`], [`rds`], [`ssm`], [`sts`]) with one file per resource type or
//! data source (`ec2/vpc.rs`, `eks/node_group.rs`, ...) and, in the service's `mod.rs`, what
//! that service's types share. [`support`] has what all services share, [`tags`] how each
//! service tags its objects; [`intent`] finds a create again after an interruption.
//!
//! Every resource implements the small [`ResourceType`] trait: create (and wait), read (of one
//! or, where the API allows, many at once), update in place, delete. This module turns those
//! into the engine's [`Provider`] calls: it plans (adding `tags_all` from the provider's
//! `default_tags`), always reads the object back after a create or update so the state is what
//! AWS holds, carries over what AWS cannot tell (the password, `timeouts`, delete options) and
//! keeps the prior form of values AWS merely spells differently (null vs empty list).
//!
//! Architecture invariant: sensitive values never reach an error message: every error leaving
//! [`AwsProvider::apply_resource`] has the request's sensitive strings scrubbed out.

mod config;
mod ec2;
mod eks;
mod iam;
mod intent;
mod rds;
mod refresh;
mod ssm;
mod sts;
mod support;
mod tags;

use crate::providers::schema::{Block, Nesting, ProviderSchema, ResourceSchema};
use crate::providers::{
    default_plan, ApplyRequest, FoundCreate, PlanRequest, PlannedChange, Progress, Provider,
    ProviderError, RefreshWave,
};
use crate::value::{AttrPath, Value};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use support::{planned_tags_all, read_tags, scrub_error, sensitive_strings, string_map_of, Attrs};

pub(crate) use config::AwsContext;

/// The key under which a resource's read reports the tags AWS holds; the provider turns it into
/// `tags` and `tags_all`.
pub(crate) const REMOTE_TAGS: &str = "\u{0}remote_tags";

/// How many objects of a type without a batched read are read at once: enough that a refresh of
/// a few dozen takes the time of one, few enough not to be throttled (as the VPCs' attribute
/// calls, `ec2::vpc`).
const CONCURRENT_READS: usize = 16;

/// What a create, update or delete is given.
pub(crate) struct Operation<'a> {
    /// The state before (`None` on create).
    pub prior: Option<&'a Value>,
    /// The planned state (the prior state on delete).
    pub planned: &'a Value,
    pub timeout: Duration,
    pub token: &'a str,
    pub progress: &'a Progress,
}

impl Operation<'_> {
    /// Whether the plan changes `name`.
    pub fn changed(&self, name: &str) -> bool {
        let before = self
            .prior
            .and_then(|p| p.get_attr(name))
            .unwrap_or(&Value::Null);
        let after = self.planned.get_attr(name).unwrap_or(&Value::Null);
        before.equals(after) != Some(true)
    }

    /// The prior state's `id` (update and delete).
    pub fn id(&self) -> String {
        self.prior
            .or(Some(self.planned))
            .and_then(|v| support::get_str(v, "id"))
            .unwrap_or_default()
    }

    /// [`support::wait_for`] within the operation's timeout, reporting through its progress.
    pub async fn wait_for<T, F, Fut>(
        &self,
        what: &str,
        target: &str,
        poll: F,
    ) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<support::Poll<T>, ProviderError>>,
    {
        support::wait_for(what, target, self.timeout, self.progress, poll).await
    }

    /// [`support::retry_while`] within the operation's timeout, reporting through its progress.
    pub async fn retry_while<T, F, Fut>(
        &self,
        codes: &[&str],
        call: F,
    ) -> Result<T, support::ApiFailure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, support::ApiFailure>>,
    {
        support::retry_while(codes, self.timeout, self.progress, call).await
    }
}

/// The operation a timeout is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OperationKind {
    Create,
    Update,
    Delete,
}

/// One resource type of the provider.
#[async_trait]
pub(crate) trait ResourceType: Send + Sync {
    /// The AWS name used in messages ("EC2 Subnet").
    fn label(&self) -> &'static str;

    fn schema(&self) -> Block;

    /// The version of the stored form (`schema_version` in state): the real provider's, so a
    /// state either one wrote is at the other's current version.
    fn schema_version(&self) -> u64 {
        0
    }

    /// Whether it has `tags` and `tags_all`.
    fn taggable(&self) -> bool {
        true
    }

    /// How long an operation may take when the `timeouts` block does not say.
    fn default_timeout(&self, _operation: OperationKind) -> Duration {
        Duration::from_secs(20 * 60)
    }

    /// Checks a configuration beyond the schema.
    fn validate_config(&self, _config: &Value) -> Vec<ProviderError> {
        Vec::new()
    }

    /// Changes to the schema-derived plan (JSON documents compared as JSON, ...).
    fn adjust_plan(
        &self,
        _prior: Option<&Value>,
        _planned: &mut Value,
        _requires_replace: &mut Vec<AttrPath>,
    ) {
    }

    /// Makes the object; returns what identifies it (at least `id`).
    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError>;

    /// Waits until a new object is usable. An error here still leaves the object recorded.
    async fn wait_created(
        &self,
        _aws: &AwsContext,
        _operation: &Operation<'_>,
        _created: &Value,
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Reads one object: `None` when it no longer exists.
    async fn read(&self, aws: &AwsContext, current: &Value)
        -> Result<Option<Attrs>, ProviderError>;

    /// Reads many objects (overridden where one API call can describe many). Otherwise the
    /// objects are read concurrently, [`CONCURRENT_READS`] at a time, so that a refresh of N
    /// objects takes about as long as the slowest read rather than the sum of them.
    async fn read_many(
        &self,
        aws: &AwsContext,
        current: &[Value],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        use futures_util::stream::{self, StreamExt};
        // The reads are made first (they start when polled), so that the stream holds plain
        // boxed futures rather than a closure over borrowed values.
        let reads: Vec<_> = current.iter().map(|value| self.read(aws, value)).collect();
        stream::iter(reads)
            .buffered(CONCURRENT_READS)
            .collect()
            .await
    }

    /// `read` for the types whose `read_many` is the batched call: its one-element case.
    async fn read_one_of_many(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        let mut results = self.read_many(aws, std::slice::from_ref(current)).await;
        results.pop().unwrap_or(Ok(None))
    }

    /// Changes the object in place; returns attributes the change made new (an association id).
    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError>;

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError>;

    /// What an imported object is read from, given the id the user wrote.
    fn import_attrs(&self, id: &str) -> Result<Attrs, ProviderError> {
        Ok(support::attrs([("id", Value::from(id))]))
    }
}

/// One data source of the provider.
#[async_trait]
pub(crate) trait DataSourceType: Send + Sync {
    fn schema(&self) -> Block;
    async fn read(&self, aws: &AwsContext, config: &Value) -> Result<Attrs, ProviderError>;
}

/// The `aws` provider.
pub struct AwsProvider {
    schema: Arc<ProviderSchema>,
    resources: BTreeMap<&'static str, Arc<dyn ResourceType>>,
    data_sources: BTreeMap<&'static str, Arc<dyn DataSourceType>>,
    context: OnceLock<Arc<AwsContext>>,
    calls: Arc<support::CallStats>,
}

impl Default for AwsProvider {
    fn default() -> Self {
        AwsProvider::new()
    }
}

impl AwsProvider {
    pub fn new() -> AwsProvider {
        let resources: BTreeMap<&'static str, Arc<dyn ResourceType>> = [
            ("aws_vpc", Arc::new(ec2::Vpc) as Arc<dyn ResourceType>),
            ("aws_subnet", Arc::new(ec2::Subnet)),
            ("aws_internet_gateway", Arc::new(ec2::InternetGateway)),
            ("aws_eip", Arc::new(ec2::Eip)),
            ("aws_nat_gateway", Arc::new(ec2::NatGateway)),
            ("aws_route_table", Arc::new(ec2::RouteTable)),
            (
                "aws_route_table_association",
                Arc::new(ec2::RouteTableAssociation),
            ),
            ("aws_security_group", Arc::new(ec2::SecurityGroup)),
            ("aws_security_group_rule", Arc::new(ec2::SecurityGroupRule)),
            ("aws_iam_role", Arc::new(iam::Role)),
            (
                "aws_iam_role_policy_attachment",
                Arc::new(iam::RolePolicyAttachment),
            ),
            ("aws_eks_cluster", Arc::new(eks::Cluster)),
            ("aws_eks_node_group", Arc::new(eks::NodeGroup)),
            ("aws_db_subnet_group", Arc::new(rds::DbSubnetGroup)),
            ("aws_db_instance", Arc::new(rds::DbInstance)),
            ("aws_ssm_parameter", Arc::new(ssm::Parameter)),
        ]
        .into_iter()
        .collect();
        let data_sources: BTreeMap<&'static str, Arc<dyn DataSourceType>> = [
            (
                "aws_availability_zones",
                Arc::new(ec2::AvailabilityZones) as Arc<dyn DataSourceType>,
            ),
            ("aws_caller_identity", Arc::new(sts::CallerIdentity)),
            ("aws_iam_policy_document", Arc::new(iam::IamPolicyDocument)),
            ("aws_vpc", Arc::new(ec2::VpcData)),
            ("aws_ssm_parameter", Arc::new(ssm::ParameterData)),
            (
                "aws_ssm_parameters_by_path",
                Arc::new(ssm::ParametersByPath),
            ),
        ]
        .into_iter()
        .collect();
        let schema = ProviderSchema {
            provider: config::provider_block(),
            resources: resources
                .iter()
                .map(|(name, resource)| {
                    (
                        name.to_string(),
                        ResourceSchema {
                            version: resource.schema_version(),
                            block: resource.schema(),
                        },
                    )
                })
                .collect(),
            data_sources: data_sources
                .iter()
                .map(|(name, data)| {
                    (
                        name.to_string(),
                        ResourceSchema {
                            version: 0,
                            block: data.schema(),
                        },
                    )
                })
                .collect(),
        };
        AwsProvider {
            schema: Arc::new(schema),
            resources,
            data_sources,
            context: OnceLock::new(),
            calls: Arc::default(),
        }
    }

    /// How many AWS API operations this provider has made (retries of one operation count once).
    pub fn api_calls(&self) -> u64 {
        self.calls.started()
    }

    /// The most AWS API operations under way at once since the last
    /// [`AwsProvider::reset_api_calls_at_once`]: 1 when every call waited for the one before.
    pub fn api_calls_at_once(&self) -> u64 {
        self.calls.most_in_flight()
    }

    pub fn reset_api_calls_at_once(&self) {
        self.calls.reset_most_in_flight();
    }

    fn context(&self) -> Result<&Arc<AwsContext>, ProviderError> {
        self.context.get().ok_or_else(|| {
            ProviderError::new(
                "the aws provider is not configured",
                "the engine must call `configure` before using it",
            )
        })
    }

    fn resource(&self, type_name: &str) -> Result<(&Arc<dyn ResourceType>, &Block), ProviderError> {
        match (
            self.resources.get(type_name),
            self.schema.resources.get(type_name),
        ) {
            (Some(resource), Some(schema)) => Ok((resource, &schema.block)),
            _ => Err(ProviderError::new(
                format!("unsupported resource type `{type_name}`"),
                "the aws provider does not implement this resource type",
            )),
        }
    }

    fn default_tags(&self) -> BTreeMap<String, String> {
        self.context
            .get()
            .map(|c| c.default_tags.clone())
            .unwrap_or_default()
    }

    fn ignore_tags(&self) -> support::IgnoreTags {
        self.context
            .get()
            .map(|c| c.ignore_tags.clone())
            .unwrap_or_default()
    }

    /// A full state from what a read returned: schema attributes from the read, else from
    /// `base` (the prior or planned state); values AWS spells differently but that mean the
    /// same keep `base`'s form; unknowns become null; sensitive attributes are marked.
    fn finish_state(&self, block: &Block, taggable: bool, base: &Value, mut read: Attrs) -> Value {
        if let Some(remote) = read.remove(REMOTE_TAGS) {
            if taggable {
                let prior_tags = base.get_attr("tags").cloned().unwrap_or(Value::Null);
                let prior_tags = if prior_tags.is_wholly_known() {
                    prior_tags
                } else {
                    Value::Null
                };
                let mut remote = self.ignore_tags().retain(&string_map_of(&remote));
                remote.retain(|key, _| !key.starts_with(intent::INTENT_TAG));
                let (tags, tags_all) = read_tags(&self.default_tags(), &remote, &prior_tags);
                read.insert("tags".into(), tags);
                read.insert("tags_all".into(), tags_all);
            }
        }
        let mut out = BTreeMap::new();
        let names = block.attributes.keys().chain(block.blocks.keys());
        for name in names {
            let prior = base.get_attr(name).cloned().unwrap_or(Value::Null);
            let value = match read.remove(name) {
                Some(value) => reconcile(&prior, value),
                None => prior,
            };
            let value = value.without_unknowns();
            let sensitive = block.attributes.get(name).is_some_and(|a| a.sensitive);
            let value = if sensitive && !value.is_null() {
                value.mark_sensitive()
            } else {
                value
            };
            out.insert(name.clone(), value);
        }
        Value::Object(out)
    }

    /// [`Self::skeleton`] with the known values of `planned` (what a create asked for) over the
    /// defaults and `attrs` over both: the base a found object is finished on, so it keeps
    /// what a read cannot see, as the object the create would have recorded.
    fn planned_skeleton(block: &Block, planned: &Value, attrs: &Attrs) -> Value {
        let mut out = Self::skeleton(block, attrs);
        let (Value::Object(out_items), Value::Object(planned)) = (&mut out, typed(block, planned))
        else {
            return out;
        };
        // `planned` has no unknowns: the engine recorded it with nulls in their place.
        for (name, value) in planned {
            if out_items.contains_key(&name) && !attrs.contains_key(&name) && !value.is_null() {
                out_items.insert(name, value);
            }
        }
        out
    }

    /// An object with every attribute of `block` null or its default, and `attrs` over them.
    fn skeleton(block: &Block, attrs: &Attrs) -> Value {
        let mut out = BTreeMap::new();
        for (name, attribute) in &block.attributes {
            out.insert(
                name.clone(),
                attribute.default.clone().unwrap_or(Value::Null),
            );
        }
        for (name, nested) in &block.blocks {
            let empty = match nested.nesting {
                Nesting::Single => Value::Null,
                Nesting::List => Value::List(Vec::new()),
                Nesting::Set => Value::Set(Vec::new()),
                Nesting::Map => Value::Map(BTreeMap::new()),
            };
            out.insert(name.clone(), empty);
        }
        for (name, value) in attrs {
            out.insert(name.clone(), value.clone());
        }
        Value::Object(out)
    }

    fn timeout(
        resource: &dyn ResourceType,
        request: &ApplyRequest,
        kind: OperationKind,
    ) -> Duration {
        request
            .timeout
            .unwrap_or_else(|| resource.default_timeout(kind))
    }

    async fn apply_inner(&self, request: &ApplyRequest) -> Result<Option<Value>, ProviderError> {
        let (resource, block) = self.resource(&request.type_name)?;
        let aws = self.context()?;
        let label = resource.label();
        match (&request.prior, &request.planned) {
            (None, None) => Ok(None),
            (Some(prior), None) => {
                let operation = Operation {
                    prior: Some(prior),
                    planned: prior,
                    timeout: Self::timeout(resource.as_ref(), request, OperationKind::Delete),
                    token: &request.idempotency_token,
                    progress: &request.progress,
                };
                resource.delete(aws, &operation).await?;
                Ok(None)
            }
            (None, Some(planned)) => {
                // The create carries its token in a tag, to be found again (`intent`).
                let tagged = if resource.taggable() {
                    intent::with_intent_tag(planned, &request.idempotency_token)
                } else {
                    planned.clone()
                };
                let operation = Operation {
                    prior: None,
                    planned: &tagged,
                    timeout: Self::timeout(resource.as_ref(), request, OperationKind::Create),
                    token: &request.idempotency_token,
                    progress: &request.progress,
                };
                let created = self
                    .create_or_find(
                        resource.as_ref(),
                        &request.type_name,
                        block,
                        aws,
                        &operation,
                    )
                    .await?;
                // The plan with the new id: still unknown where AWS has yet to say, so the read
                // that follows fills those in.
                let base = overlay(planned, created);
                if let Err(error) = resource.wait_created(aws, &operation, &base).await {
                    let partial = match resource.read(aws, &base).await {
                        Ok(Some(read)) => {
                            self.finish_state(block, resource.taggable(), &base, read)
                        }
                        _ => self.finish_state(block, resource.taggable(), &base, Attrs::new()),
                    };
                    return Err(error.with_partial_state(partial));
                }
                let state = self
                    .read_after_write(resource.as_ref(), block, aws, &base, &request.progress)
                    .await;
                match state {
                    Ok(state) => Ok(Some(state)),
                    Err(error) => Err(error.with_partial_state(self.finish_state(
                        block,
                        resource.taggable(),
                        &base,
                        Attrs::new(),
                    ))),
                }
            }
            (Some(prior), Some(planned)) => {
                let operation = Operation {
                    prior: Some(prior),
                    planned,
                    timeout: Self::timeout(resource.as_ref(), request, OperationKind::Update),
                    token: &request.idempotency_token,
                    progress: &request.progress,
                };
                let changed = resource.update(aws, &operation).await?;
                let base = overlay(planned, changed);
                self.read_after_write(resource.as_ref(), block, aws, &base, &request.progress)
                    .await
                    .map(Some)
                    .map_err(|e| {
                        ProviderError::new(format!("reading {label} after update"), e.to_string())
                    })
            }
        }
    }

    /// Reads an object just written; AWS is eventually consistent, so a missing object is read
    /// again a few times before giving up.
    async fn read_after_write(
        &self,
        resource: &dyn ResourceType,
        block: &Block,
        aws: &AwsContext,
        base: &Value,
        progress: &Progress,
    ) -> Result<Value, ProviderError> {
        let mut backoff = support::Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        for attempt in 0..8 {
            if let Some(read) = resource.read(aws, base).await? {
                return Ok(self.finish_state(block, resource.taggable(), base, read));
            }
            if attempt > 2 {
                progress(&format!(
                    "waiting for the new {} to become visible",
                    resource.label()
                ));
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
        Err(ProviderError::new(
            format!("reading {} after writing it", resource.label()),
            "AWS does not find the object it just made; it may have been deleted at once",
        ))
    }
}

/// `value` converted to the block's type: a state read back from a file has tuples and
/// objects where the schema has lists, sets and maps.
fn typed(block: &Block, value: &Value) -> Value {
    crate::value::convert(value.clone(), &block.value_type()).unwrap_or_else(|_| value.clone())
}

/// `value` (an object) with `attrs` set in it.
fn overlay(value: &Value, attrs: Attrs) -> Value {
    let mut out = value.clone();
    if let Value::Object(items) = &mut out {
        for (name, attribute) in attrs {
            if name != REMOTE_TAGS {
                items.insert(name, attribute);
            }
        }
    }
    out
}

/// `planned` with unknowns where `prior` has null put back to null.
fn keep_prior_nulls(planned: Value, prior: &Value) -> Value {
    match (planned, prior.unmarked()) {
        (Value::Unknown(_), Value::Null) => Value::Null,
        (Value::Object(items), Value::Object(before)) => Value::Object(
            items
                .into_iter()
                .map(|(k, v)| {
                    let v = match before.get(&k) {
                        Some(p) => keep_prior_nulls(v, p),
                        None => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        // The prior may come from a state file as a tuple: positions match all the same.
        (Value::List(items), Value::List(before) | Value::Tuple(before))
            if items.len() == before.len() =>
        {
            Value::List(
                items
                    .into_iter()
                    .zip(before)
                    .map(|(v, p)| keep_prior_nulls(v, p))
                    .collect(),
            )
        }
        (planned, _) => planned,
    }
}

/// `planned` where it is null, filled from `prior` (an update plan's computed values are the
/// prior ones already; this covers what was unknown).
fn merge_known(planned: &Value, prior: &Value) -> Value {
    match (planned.unmarked(), prior.unmarked()) {
        (Value::Object(items), Value::Object(before)) => Value::Object(
            items
                .iter()
                .map(|(k, v)| {
                    let v = if v.is_null() {
                        before.get(k).cloned().unwrap_or(Value::Null)
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        _ => planned.clone(),
    }
}

fn is_empty_value(value: &Value) -> bool {
    match value.unmarked() {
        Value::Null => true,
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => items.is_empty(),
        Value::Map(items) => items.is_empty(),
        _ => false,
    }
}

/// Whether two values mean the same to AWS: null and empty collections are alike, and objects
/// compare attribute by attribute (a missing attribute is null).
fn equivalent(a: &Value, b: &Value) -> bool {
    if a.is_unknown() || b.is_unknown() {
        return false;
    }
    if is_empty_value(a) && is_empty_value(b) {
        return true;
    }
    match (a.unmarked(), b.unmarked()) {
        (
            Value::List(x) | Value::Set(x) | Value::Tuple(x),
            Value::List(y) | Value::Set(y) | Value::Tuple(y),
        ) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equivalent(p, q)),
        (Value::Object(x) | Value::Map(x), Value::Object(y) | Value::Map(y)) => {
            x.keys().chain(y.keys()).all(|k| {
                equivalent(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                )
            })
        }
        _ => a.equals(b) == Some(true),
    }
}

/// The read value, in the prior form wherever the two mean the same.
fn reconcile(prior: &Value, read: Value) -> Value {
    if equivalent(prior, &read) {
        return prior.clone();
    }
    match (prior.unmarked(), read) {
        (Value::Object(before), Value::Object(after)) => Value::Object(
            after
                .into_iter()
                .map(|(k, v)| {
                    let v = match before.get(&k) {
                        Some(p) => reconcile(p, v),
                        None => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        (Value::List(before), Value::List(after)) if before.len() == after.len() => Value::List(
            before
                .iter()
                .zip(after)
                .map(|(p, v)| reconcile(p, v))
                .collect(),
        ),
        (_, read) => read,
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        let context = config::build_context(config, self.calls.clone()).await?;
        // A provider value serves one configuration: a second configure keeps the first.
        let _ = self.context.set(Arc::new(context));
        Ok(())
    }

    fn refresh_starting(&self, wave: &RefreshWave<'_>) {
        if let Ok(aws) = self.context() {
            aws.refresh.start(wave);
        }
    }

    fn refresh_finished(&self) {
        if let Ok(aws) = self.context() {
            aws.refresh.finish();
        }
    }

    async fn validate_resource(&self, type_name: &str, config: &Value) -> Vec<ProviderError> {
        match self.resources.get(type_name) {
            Some(resource) => resource.validate_config(config),
            None => Vec::new(),
        }
    }

    async fn plan_resource(
        &self,
        request: PlanRequest<'_>,
    ) -> Result<PlannedChange, ProviderError> {
        let (resource, block) = self.resource(request.type_name)?;
        let prior = request.prior.map(|p| typed(block, p));
        let config = typed(block, request.config);
        let request = PlanRequest {
            type_name: request.type_name,
            prior: prior.as_ref(),
            config: &config,
            prior_private: request.prior_private,
        };
        let mut change = default_plan(block, request.prior, request.config);
        if let (Some(prior), true) = (request.prior, change.requires_replace.is_empty()) {
            // An update leaves computed attributes as they were, null ones included (the
            // schema-derived plan would make those unknown, a change on every plan).
            change.planned = keep_prior_nulls(change.planned, prior);
        }
        let replacing = request.prior.is_none() || !change.requires_replace.is_empty();
        if let Value::Object(attributes) = &mut change.planned {
            if resource.taggable() {
                let tags = attributes.get("tags").cloned().unwrap_or(Value::Null);
                let mut all = self
                    .ignore_tags()
                    .retain_value(planned_tags_all(&self.default_tags(), &tags));
                let prior_all = request
                    .prior
                    .and_then(|p| p.get_attr("tags_all"))
                    .filter(|_| !replacing);
                if let Some(prior_all) = prior_all {
                    if equivalent(prior_all, &all) {
                        all = prior_all.clone();
                    }
                }
                attributes.insert("tags_all".into(), all);
            }
            // Blocks AWS fills in when the configuration writes none are known only after a
            // create (as Terraform shows them: known after apply).
            if replacing {
                for (name, nested) in &block.blocks {
                    let configured = request.config.get_attr(name).unwrap_or(&Value::Null);
                    if nested.computed && is_empty_value(configured) && !configured.is_unknown() {
                        let ty = match nested.nesting {
                            Nesting::Single => nested.block.value_type(),
                            Nesting::List => crate::value::Type::list(nested.block.value_type()),
                            Nesting::Set => crate::value::Type::set(nested.block.value_type()),
                            Nesting::Map => crate::value::Type::map(nested.block.value_type()),
                        };
                        attributes.insert(name.clone(), Value::Unknown(ty));
                    }
                }
            }
        }
        resource.adjust_plan(
            request.prior,
            &mut change.planned,
            &mut change.requires_replace,
        );
        if request.prior.is_none() {
            change.requires_replace.clear();
        }
        Ok(change)
    }

    async fn apply_resource(
        &self,
        mut request: ApplyRequest,
    ) -> Result<Option<Value>, ProviderError> {
        if let Ok((_, block)) = self.resource(&request.type_name) {
            request.prior = request.prior.map(|p| typed(block, &p));
            request.planned = request.planned.map(|p| typed(block, &p));
            if !request.config.is_null() {
                request.config = typed(block, &request.config);
            }
        }
        let mut secrets = Vec::new();
        for value in [
            Some(&request.config),
            request.prior.as_ref(),
            request.planned.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            sensitive_strings(value, false, &mut secrets);
        }
        // The partial state keeps its sensitive marks; only the text is scrubbed.
        self.apply_inner(&request)
            .await
            .map_err(|error| scrub_error(error, &secrets))
    }

    async fn read_resource(
        &self,
        type_name: &str,
        current: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        let mut results = self
            .read_resources(type_name, std::slice::from_ref(current))
            .await;
        results.pop().unwrap_or(Ok(None))
    }

    async fn read_resources(
        &self,
        type_name: &str,
        current: &[Value],
    ) -> Vec<Result<Option<Value>, ProviderError>> {
        let (resource, block, aws) = match self
            .resource(type_name)
            .and_then(|(r, b)| Ok((r, b, self.context()?)))
        {
            Ok(found) => found,
            Err(error) => return current.iter().map(|_| Err(error.clone())).collect(),
        };
        let current: Vec<Value> = current.iter().map(|c| typed(block, c)).collect();
        let current = current.as_slice();
        let reads = resource.read_many(aws, current).await;
        if !aws.refresh.read_only() {
            intent::remove_left_tags(aws, type_name, &reads, current).await;
        }
        reads
            .into_iter()
            .zip(current)
            .map(|(read, base)| {
                let mut secrets = Vec::new();
                sensitive_strings(base, false, &mut secrets);
                read.map(|found| {
                    found.map(|attrs| self.finish_state(block, resource.taggable(), base, attrs))
                })
                .map_err(|e| scrub_error(e, &secrets))
            })
            .collect()
    }

    async fn import_resource(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        let (resource, block) = self.resource(type_name)?;
        let aws = self.context()?;
        let skeleton = Self::skeleton(block, &resource.import_attrs(id)?);
        match resource.read(aws, &skeleton).await? {
            Some(read) => Ok(self.finish_state(block, resource.taggable(), &skeleton, read)),
            None => Err(ProviderError::new(
                "Cannot import non-existent remote object",
                format!("no {} with id `{id}` exists in the account and region the provider is configured for", resource.label()),
            )),
        }
    }

    async fn find_created(
        &self,
        type_name: &str,
        token: &str,
        planned: &Value,
    ) -> Result<FoundCreate, ProviderError> {
        self.find_by_token(type_name, token, planned).await
    }

    async fn forget_intent(&self, type_name: &str, value: &Value) -> Result<(), ProviderError> {
        let (resource, _) = self.resource(type_name)?;
        if !resource.taggable() && intent::recovery(type_name) != intent::Recovery::NaturalKey {
            return Ok(());
        }
        intent::remove_intent_tag(self.context()?, type_name, value).await
    }

    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        let (data, schema) = match (
            self.data_sources.get(type_name),
            self.schema.data_sources.get(type_name),
        ) {
            (Some(data), Some(schema)) => (data, &schema.block),
            _ => {
                return Err(ProviderError::new(
                    format!("unsupported data source `{type_name}`"),
                    "the aws provider does not implement this data source",
                ))
            }
        };
        let aws = self.context()?;
        let config = &typed(schema, config);
        let read = data.read(aws, config).await?;
        let base = Self::skeleton(schema, &Attrs::new());
        let base = merge_known(config, &base);
        let mut out = BTreeMap::new();
        for name in schema.attributes.keys().chain(schema.blocks.keys()) {
            let value = read
                .get(name)
                .cloned()
                .or_else(|| base.get_attr(name).cloned())
                .unwrap_or(Value::Null);
            out.insert(name.clone(), value.without_unknowns());
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_empty_are_equivalent() {
        assert!(equivalent(&Value::Null, &Value::List(Vec::new())));
        assert!(equivalent(&Value::Map(BTreeMap::new()), &Value::Null));
        assert!(!equivalent(&Value::Null, &Value::from("a")));
        let prior = Value::object([
            ("cidr_blocks", Value::Null),
            ("from_port", Value::from(443)),
        ]);
        let read = Value::object([
            ("cidr_blocks", Value::List(Vec::new())),
            ("from_port", Value::from(443)),
        ]);
        assert_eq!(reconcile(&prior, read), prior);
    }

    #[test]
    fn every_resource_has_a_valid_schema() {
        let provider = AwsProvider::new();
        let schema = provider.schema();
        for (name, resource) in &schema.resources {
            let block = &resource.block;
            assert!(block.attributes.contains_key("id"), "{name} has no id");
            for (attribute_name, attribute) in &block.attributes {
                assert!(
                    attribute.required || attribute.optional || attribute.computed,
                    "{name}.{attribute_name} is neither set nor computed"
                );
                assert!(
                    !(attribute.required && attribute.computed),
                    "{name}.{attribute_name}"
                );
            }
            let taggable = provider.resources[name.as_str()].taggable();
            assert_eq!(
                taggable,
                block.attributes.contains_key("tags_all"),
                "{name} tags"
            );
        }
        assert!(schema.resources["aws_db_instance"].block.attributes["password"].sensitive);
        assert!(schema.provider.attributes["secret_key"].sensitive);
    }
}
