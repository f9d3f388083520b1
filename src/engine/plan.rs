//! The plan walk ([`PlanWalker`]): every resource instance planned through its provider,
//! orphans and deposed objects (the graph's orphan nodes, and the instances a resource's
//! expansion no longer has) planned for deletion, the upgrade and refresh of what each
//! provider owns, and the `destroy` plan.

use super::eval::{
    apply_ignore_changes, evaluate_instance, expand, expand_resource, mark_schema_sensitive,
    mark_sensitive_attributes, merge_config, recorded_object_as, resource_config, schema_for,
    typed, validate_instance,
};
use super::moves::InstanceMove;
use super::nodes::{configure_providers, walk_graph, Walker};
use super::provider_diagnostics::{self, decode_private, encode_private};
use super::store::{Expansion, ModuleInstanceInfo, Repetition, ResourceValues};
use super::walk::Outcome;
use super::{
    dependency_addresses, locked, resource_dependencies, Evaluation, Event, PlanOutcome, Run,
};
use crate::addrs::{InstanceKey, ModuleInstance, Resource, ResourceInstance, ResourceMode, Target};
use crate::config::{ProviderRef, ResourceConfig};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::graph::{self, Graph, ModulePath, Node};
use crate::plan::{Action, ActionReason, OutputChange, Plan, PlanMode, ResourceChange};
use crate::providers::{ObjectState, PlanRequest, RefreshWave, ResourceSchema};
use crate::state::{InstanceObject, ObjectStatus};
use crate::value::{Type, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The plan walk's resource visits.
#[derive(Default)]
pub(super) struct PlanWalker {
    /// Where the prior state records each resource's instances, for the orphan scan of each
    /// resource node (empty for walks that start from no state).
    recorded: RecordedModules,
}

impl PlanWalker {
    /// How this walk evaluates.
    pub(super) const EVALUATION: Evaluation = Evaluation::PLAN;

    /// The walker of a plan from `state`.
    fn for_state(state: &crate::state::State) -> PlanWalker {
        PlanWalker {
            recorded: RecordedModules::of(state),
        }
    }
}

/// The module instances in which a state records instances of each resource (module path and
/// resource → module instances), built in one pass over the state, so that each resource node
/// finds its orphans in ranges of the state rather than by filtering all of it (which made a
/// plan quadratic in the number of module calls). Pending creates count as recorded: a
/// provider may adopt them into the state during the walk.
#[derive(Default)]
struct RecordedModules(HashMap<(ModulePath, Resource), BTreeSet<ModuleInstance>>);

impl RecordedModules {
    fn of(state: &crate::state::State) -> RecordedModules {
        let mut index: HashMap<(ModulePath, Resource), BTreeSet<ModuleInstance>> = HashMap::new();
        let mut previous: Option<&ResourceInstance> = None;
        for address in state.resources.keys().chain(state.pending_creates.keys()) {
            // The state is ordered by module instance, then resource: most addresses repeat
            // the previous one's pair.
            let repeated = previous.is_some_and(|previous| {
                previous.module == address.module && previous.resource == address.resource
            });
            previous = Some(address);
            if repeated {
                continue;
            }
            index
                .entry((address.module.module_path(), address.resource.clone()))
                .or_default()
                .insert(address.module.clone());
        }
        RecordedModules(index)
    }

    /// The module instances of `path` that record instances of `resource`.
    fn of_resource(
        &self,
        path: &ModulePath,
        resource: &Resource,
    ) -> Option<&BTreeSet<ModuleInstance>> {
        self.0.get(&(path.clone(), resource.clone()))
    }
}

#[async_trait::async_trait]
impl Walker for PlanWalker {
    async fn visit_resource(
        &self,
        run: &Arc<Run>,
        module: &ModulePath,
        resource: &Resource,
    ) -> Result<(), Diagnostics> {
        plan_resource_node(run, module, resource, &self.recorded).await
    }

    /// Plans the deletion of an object nothing configures (after its provider refreshed it:
    /// one found gone has left the working state).
    async fn visit_orphan(
        &self,
        run: &Arc<Run>,
        instance: &ResourceInstance,
        deposed: Option<&str>,
    ) -> Result<(), Diagnostics> {
        let change = {
            let state = run.state();
            match deposed {
                Some(key) => state
                    .deposed
                    .get(instance)
                    .and_then(|objects| objects.get(key))
                    .map(|object| deposed_deletion(instance, key, object)),
                None => state
                    .resources
                    .get(instance)
                    .map(|object| orphan_deletion(run, instance, object)),
            }
        };
        if let Some(change) = change {
            push_change(run, change);
        }
        Ok(())
    }

    /// Brings what the provider owns to its current schema, then refreshes it.
    async fn provider_configured(
        &self,
        run: &Arc<Run>,
        provider: &ProviderRef,
    ) -> Result<(), Diagnostics> {
        upgrade_states(run, provider).await?;
        if run.options.refresh {
            refresh(run, provider).await?;
        }
        super::adopt::resolve(run, provider).await?;
        Ok(())
    }
}

/// A provider's refresh under way beside the walk: whether it succeeded, once it is over.
type Refreshing = futures_util::future::Shared<futures_util::future::BoxFuture<'static, bool>>;

/// The plan walk of `plan`: [`PlanWalker`]'s, except that a provider's refresh runs beside the
/// walk instead of holding up its provider node, so that data sources (which read what is there
/// now, not the refreshed state) are read while the managed objects are refreshed, as Terraform
/// does (issue 16: the cluster's two data sources waited for the whole refresh, one more round
/// trip). Managed resources and orphans wait for their provider's refresh (and the import blocks
/// it resolves after it); a failed refresh is reported once, by its task.
struct OverlappingPlanWalker {
    /// The walk this one overlaps refreshes with.
    plan: PlanWalker,
    refreshes: std::sync::Mutex<HashMap<ProviderRef, Refreshing>>,
}

impl OverlappingPlanWalker {
    /// Waits for the refresh of `provider` (`None`: every refresh started), which must have
    /// succeeded for the caller to go on.
    async fn refreshed(&self, provider: Option<&ProviderRef>) -> Result<(), Diagnostics> {
        let waiting: Vec<Refreshing> = {
            let refreshes = locked(&self.refreshes);
            match provider {
                Some(provider) => refreshes.get(provider).cloned().into_iter().collect(),
                None => refreshes.values().cloned().collect(),
            }
        };
        for refresh in waiting {
            if !refresh.await {
                // Its diagnostics are the run's already.
                return Err(Diagnostics::new());
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Walker for OverlappingPlanWalker {
    async fn visit_resource(
        &self,
        run: &Arc<Run>,
        module: &ModulePath,
        resource: &Resource,
    ) -> Result<(), Diagnostics> {
        if resource.mode == ResourceMode::Managed {
            let provider = resource_config(&run.tree, module, resource)
                .map(|config| graph::resolve_provider(&run.tree, module, &config.provider));
            self.refreshed(provider.as_ref()).await?;
        }
        plan_resource_node(run, module, resource, &self.plan.recorded).await
    }

    async fn visit_orphan(
        &self,
        run: &Arc<Run>,
        instance: &ResourceInstance,
        deposed: Option<&str>,
    ) -> Result<(), Diagnostics> {
        self.refreshed(None).await?;
        self.plan.visit_orphan(run, instance, deposed).await
    }

    async fn provider_configured(
        &self,
        run: &Arc<Run>,
        provider: &ProviderRef,
    ) -> Result<(), Diagnostics> {
        if !run.options.refresh {
            return self.plan.provider_configured(run, provider).await;
        }
        upgrade_states(run, provider).await?;
        let (run, provider_ref) = (run.clone(), provider.clone());
        let task = tokio::spawn(async move {
            let result = match refresh(&run, &provider_ref).await {
                Ok(()) => super::adopt::resolve(&run, &provider_ref).await,
                Err(diagnostics) => Err(diagnostics),
            };
            result.map_err(|diagnostics| run.error(diagnostics)).is_ok()
        });
        let refreshing =
            futures_util::FutureExt::shared(futures_util::FutureExt::boxed(async move {
                task.await.unwrap_or(false)
            }));
        locked(&self.refreshes).insert(provider.clone(), refreshing);
        Ok(())
    }
}

/// Plans the whole configuration.
pub(super) async fn plan(run: Arc<Run>) -> Result<PlanOutcome, Diagnostics> {
    let _phase = crate::timings::phase("plan walk");
    if run.options.mode == PlanMode::Destroy {
        return destroy_plan(run).await;
    }
    let graph = plan_graph(&run)?;
    let walker = Arc::new(OverlappingPlanWalker {
        plan: PlanWalker::for_state(&run.state()),
        refreshes: Default::default(),
    });
    let outcomes = walk_graph(&run, graph, walker.clone()).await;
    // Refreshes no node waited for (a provider whose resources all failed) end before the plan.
    let _ = walker.refreshed(None).await;
    finish_plan(run, &outcomes).await
}

/// The graph a plan walks: the configuration's, with a node per orphan (what the prior state
/// holds and nothing configures; none in a refresh-only plan).
fn plan_graph(run: &Run) -> Result<Arc<Graph>, Diagnostics> {
    if run.options.mode == PlanMode::RefreshOnly {
        return Ok(run.graph.clone());
    }
    let prior = {
        let state = run.state();
        super::prior_objects(&run.registry, &state)
    };
    let providers = prior
        .iter()
        .filter(|object| run.targets_allow_orphan(&object.instance))
        .filter_map(|object| object.provider.as_ref());
    let base = super::graph_with_providers(run, providers)?;
    let steps = graph::deletions::plan_steps(&prior, &run.options.targets);
    let graph = graph::transforms::run_on(base, &steps)?;
    Ok(Arc::new(graph))
}

/// Hands every managed object this provider owns to the provider to bring up to its current
/// schema (as Terraform does before anything else reads the object): objects recorded under an
/// older `schema_version`, and values decoded from the state file without a schema.
async fn upgrade_states(run: &Arc<Run>, provider_ref: &ProviderRef) -> Result<(), Diagnostics> {
    let _phase = crate::timings::phase("state upgrade");
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(());
    };
    let address = run.provider_address(provider_ref);
    let schema = provider.schema();
    let owned: Vec<(ResourceInstance, InstanceObject, Option<Flatmap>)> = {
        let state = run.state();
        let mut same_type = BTreeMap::new();
        state
            .resources
            .iter()
            .map(|(instance, object)| {
                let flatmap = state.extras.get(instance).and_then(|e| e.flatmap.clone());
                (instance, object, flatmap)
            })
            .filter(|(instance, object, flatmap)| {
                object.provider == address
                    && instance.resource.mode == ResourceMode::Managed
                    && (flatmap.is_some()
                        || !at_current_schema(&state, &schema, &mut same_type, instance, object))
            })
            .map(|(instance, object, flatmap)| (instance.clone(), object.clone(), flatmap))
            .collect()
    };
    // All at once (bounded by `-parallelism`), not one call after another: a plugin answers
    // each over its connection.
    let upgrades = owned.into_iter().map(|(instance, object, flatmap)| {
        upgrade_one(run, &provider, &schema, instance, object, flatmap)
    });
    let mut diagnostics = Diagnostics::new();
    for result in futures_util::future::join_all(upgrades).await {
        diagnostics.extend(result);
    }
    diagnostics.into_result(())
}

/// Terraform's error for an object a newer provider recorded (a `schema_version` above the
/// provider's): its state cannot be downgraded. Terraform names the provider the type implies.
fn newer_provider_version(instance: &ResourceInstance) -> Diagnostic {
    let type_name = &instance.resource.type_name;
    let implied_provider = type_name.split('_').next().unwrap_or(type_name);
    Diagnostic::error("Resource instance managed by newer provider version").with_detail(format!(
        "The current state of {instance} was created by a newer provider version than is currently selected. Upgrade the {implied_provider} provider to work with this state."
    ))
}

/// A pre-0.12 object's `attributes_flat` ([`crate::state::InstanceExtras::flatmap`]).
type Flatmap = BTreeMap<String, String>;

/// Upgrades one object ([`upgrade_states`]), from its flatmap when it was recorded as one; the
/// errors, if it failed.
async fn upgrade_one(
    run: &Arc<Run>,
    provider: &Arc<dyn crate::providers::Provider>,
    schema: &crate::providers::ProviderSchema,
    instance: ResourceInstance,
    object: InstanceObject,
    flatmap: Option<Flatmap>,
) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    let type_name = &instance.resource.type_name;
    let Some(resource) = schema.resources.get(type_name) else {
        return diagnostics;
    };
    if object.schema_version > resource.version {
        diagnostics.push(newer_provider_version(&instance));
        return diagnostics;
    }
    let (value, sensitive) = object.value.deep_unmark();
    let upgraded = {
        let _permit = run.semaphore.acquire().await;
        match &flatmap {
            Some(flatmap) => {
                provider
                    .upgrade_flatmap_state(type_name, object.schema_version, flatmap)
                    .await
            }
            None => {
                provider
                    .upgrade_resource_state(type_name, object.schema_version, &value)
                    .await
            }
        }
    };
    match upgraded {
        Ok(upgraded) => {
            let upgraded =
                mark_sensitive_attributes(&resource.block, upgraded).mark_paths(&sensitive);
            let mut state = run.state();
            if let Some(entry) = state.resources.get_mut(&instance) {
                entry.value = upgraded;
                entry.schema_version = resource.version;
            }
            if let Some(extra) = state.extras.get_mut(&instance) {
                extra.flatmap = None;
            }
        }
        Err(error) => {
            for one in error.all() {
                diagnostics.push(
                    Diagnostic::error(format!("Failed to upgrade the state of {instance}"))
                        .with_detail(one.to_string()),
                );
            }
        }
    }
    diagnostics
}

/// Whether an object needs no upgrade: recorded under its type's current schema version and
/// decoded from the state file with the type of the provider's current schema (the built-in
/// providers' schemas are attached when the state is loaded; a plugin's objects are decoded
/// with no schema, or another one, so they are upgraded). `same_type` remembers, per resource
/// type, whether the attached type is the provider's.
fn at_current_schema(
    state: &crate::state::State,
    schema: &crate::providers::ProviderSchema,
    same_type: &mut BTreeMap<String, bool>,
    instance: &ResourceInstance,
    object: &InstanceObject,
) -> bool {
    let type_name = &instance.resource.type_name;
    let Some(resource) = schema.resources.get(type_name) else {
        return false;
    };
    if object.schema_version != resource.version {
        return false;
    }
    let Some(attached) = state.schemas() else {
        return false;
    };
    if let Some(same) = same_type.get(type_name) {
        return *same;
    }
    let same = attached.for_instance(instance, object) == Some(&resource.block.value_type());
    same_type.insert(type_name.clone(), same);
    same
}

/// Reads every managed instance this provider owns, one batch per resource type.
async fn refresh(run: &Arc<Run>, provider_ref: &ProviderRef) -> Result<(), Diagnostics> {
    let _phase = crate::timings::phase("refresh");
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(());
    };
    let mut reads = Vec::new();
    let batches = refresh_batches(run, &run.provider_address(provider_ref));
    provider.refresh_starting(&RefreshWave {
        objects: batches
            .iter()
            .map(|(type_name, objects)| {
                let values = objects.iter().map(|(_, object)| &object.value).collect();
                (type_name.as_str(), values)
            })
            .collect(),
        read_only: run.options.read_only,
    });
    for (type_name, instances) in batches {
        let provider = provider.clone();
        let run = run.clone();
        reads.push(tokio::spawn(async move {
            let _permit = run.semaphore.acquire().await;
            let schema = provider.schema();
            let value_type = schema
                .resources
                .get(&type_name)
                .map(|resource| resource.block.value_type());
            let mut addresses = Vec::with_capacity(instances.len());
            let mut objects = Vec::with_capacity(instances.len());
            let mut events = Vec::with_capacity(instances.len());
            for (address, mut object) in instances {
                events.push(Event::Refreshing {
                    address: address.clone(),
                    id: object
                        .value
                        .get_attr("id")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                });
                if let Some(value_type) = &value_type {
                    object.value = typed(value_type, object.value);
                }
                addresses.push(address);
                objects.push(object);
            }
            run.events.events(events);
            let results = provider.refresh_resources(&type_name, &objects).await;
            (addresses, results)
        }));
    }
    let mut diagnostics = Diagnostics::new();
    for read in reads {
        let Ok((addresses, results)) = read.await else {
            continue;
        };
        let mut state = run.state();
        for (address, result) in addresses.into_iter().zip(results) {
            record_refreshed(run, &mut state, address, result, &mut diagnostics);
        }
    }
    provider.refresh_finished();
    diagnostics.into_result(())
}

/// The managed instances `provider` (a state file's provider address) owns, by resource type,
/// as the provider reads them: each a copy of its recorded value and private data (the
/// recorded object stays in the state until its read comes back).
fn refresh_batches(
    run: &Run,
    provider: &str,
) -> BTreeMap<String, Vec<(ResourceInstance, ObjectState)>> {
    let mut by_type: BTreeMap<String, Vec<(ResourceInstance, ObjectState)>> = BTreeMap::new();
    let state = run.state();
    for (instance, object) in &state.resources {
        if object.provider == provider && instance.resource.mode == ResourceMode::Managed {
            let node = Node::Resource {
                module: instance.module.module_path(),
                resource: instance.resource.clone(),
            };
            // With `-target`, what the graph no longer holds is not read.
            if !run.graph.index.contains_key(&node) && !run.targets_allow_orphan(instance) {
                continue;
            }
            by_type
                .entry(instance.resource.type_name.clone())
                .or_default()
                .push((
                    instance.clone(),
                    ObjectState {
                        value: object.value.clone(),
                        private: decode_private(object.private.as_deref()),
                    },
                ));
        }
    }
    by_type
}

/// Records one instance's read in the working state (and its drift): the new value, its removal
/// when the provider found it gone, or the error.
fn record_refreshed(
    run: &Run,
    state: &mut crate::state::State,
    address: ResourceInstance,
    result: Result<Option<ObjectState>, crate::providers::ProviderError>,
    diagnostics: &mut Diagnostics,
) {
    let found = match result {
        Ok(found) => found,
        Err(error) => {
            for one in error.all() {
                diagnostics.push(
                    Diagnostic::error(format!("Failed to refresh {address}"))
                        .with_detail(one.to_string()),
                );
            }
            return;
        }
    };
    let Some(object) = state.resources.get(&address) else {
        return;
    };
    match found {
        Some(new_object) => {
            // The prior object's marks too (what the configuration marked when it was
            // made), as Terraform keeps them across a refresh.
            let prior_marks = if object.value.contains_sensitive() {
                object.value.clone().deep_unmark().1
            } else {
                Vec::new()
            };
            let new_value =
                mark_schema_sensitive(run, &address, new_object.value).mark_paths(&prior_marks);
            if new_value.equals(&object.value) != Some(true) {
                locked(&run.drift).push(ResourceChange::changing(
                    address.clone(),
                    object,
                    Action::Update,
                    new_value.clone(),
                ));
            }
            if let Some(entry) = state.resources.get_mut(&address) {
                entry.value = new_value;
                entry.private = encode_private(&new_object.private);
            }
        }
        None => {
            locked(&run.drift).push(ResourceChange::removing(
                address.clone(),
                object,
                Action::Delete,
                None,
            ));
            state.resources.remove(&address);
        }
    }
}

/// Plans every instance of one resource (or reads one data source) in every module instance.
async fn plan_resource_node(
    run: &Arc<Run>,
    path: &ModulePath,
    resource: &Resource,
    recorded: &RecordedModules,
) -> Result<(), Diagnostics> {
    let Some(config) = resource_config(&run.tree, path, resource) else {
        return Ok(());
    };
    let (provider_ref, schema) = schema_for(run, config, path)?;
    tracing::debug!(resource = %resource, module = ?path, "planning resource");
    let module_instances = run.module_instances(path);
    let node = ResourcePlan {
        run,
        resource,
        config,
        shared: Arc::new((config.clone(), schema.clone())),
        value_type: schema.block.value_type(),
        provider_ref,
        schema,
    };
    let mut diagnostics = Diagnostics::new();
    let mut expanded = HashMap::new();
    for info in &module_instances {
        let keys = node.plan_module_instance(info, &mut diagnostics).await;
        expanded.insert(info.instance.clone(), keys);
    }
    if resource.mode == ResourceMode::Managed {
        let recorded = recorded.of_resource(path, resource);
        node.plan_orphans(recorded, &expanded, &mut diagnostics);
    }
    diagnostics.into_result(())
}

/// The instance keys of a resource in one module instance, and how it repeats (`None` when
/// its `count`/`for_each` failed).
type ExpandedKeys = Option<(BTreeSet<InstanceKey>, Expansion)>;

/// One resource being planned: its configuration, provider and schema.
struct ResourcePlan<'a> {
    run: &'a Arc<Run>,
    resource: &'a Resource,
    config: &'a ResourceConfig,
    /// The configuration and schema again, shared by the instances' plan tasks (one copy per
    /// resource, not per instance).
    shared: Arc<(ResourceConfig, ResourceSchema)>,
    /// The schema's object type, which every recorded object is converted to.
    value_type: Type,
    provider_ref: ProviderRef,
    schema: ResourceSchema,
}

/// What planning one instance settled before any provider call.
enum Prepared {
    /// Its value, known without planning (an instance the targets leave out).
    Settled(Value),
    /// To plan through the provider, from the prior object and the configuration.
    Plan {
        prior: Option<InstanceObject>,
        config_value: Value,
    },
    /// Failed; the errors are recorded.
    Failed,
}

type PlanTask = tokio::task::JoinHandle<(ResourceInstance, Result<Value, Diagnostics>)>;

impl ResourcePlan<'_> {
    /// Plans the resource's instances in one module instance and stores the values downstream
    /// expressions read; the keys it has there.
    async fn plan_module_instance(
        &self,
        info: &ModuleInstanceInfo,
        diagnostics: &mut Diagnostics,
    ) -> ExpandedKeys {
        let (run, config) = (self.run, self.config);
        let (expansion, repetitions) = match expand_resource(run, config, info) {
            Ok(x) => x,
            Err(d) => {
                diagnostics.extend(d);
                return None;
            }
        };
        let mut values = BTreeMap::new();
        let mut keys = BTreeSet::new();
        let mut tasks = Vec::new();
        for repetition in repetitions {
            let address = ResourceInstance {
                module: info.instance.clone(),
                resource: self.resource.clone(),
                key: repetition.key(),
            };
            keys.insert(address.key.clone());
            let prepared = self.prepare(&address, &repetition, diagnostics).await;
            match prepared {
                Prepared::Settled(value) => {
                    values.insert(address.key.clone(), value);
                }
                Prepared::Failed => {}
                Prepared::Plan {
                    prior,
                    config_value,
                } => {
                    let triggers = replace_triggered(run, config, &info.instance, &repetition);
                    tasks.push(self.spawn_plan(address, prior, config_value, triggers));
                }
            }
        }
        for task in tasks {
            let Ok((address, result)) = task.await else {
                continue;
            };
            match result {
                Ok(value) => {
                    values.insert(address.key.clone(), value);
                }
                Err(d) => diagnostics.extend(d),
            }
        }
        run.store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .resources
            .insert(
                (info.instance.clone(), self.resource.clone()),
                ResourceValues {
                    expansion,
                    instances: values,
                    unknown: false,
                },
            );
        Some((keys, expansion))
    }

    /// Everything about one instance before its provider plans it: targeting, a declared
    /// import, its configuration evaluated (with preconditions and provisioner checks) and the
    /// provider's validation.
    async fn prepare(
        &self,
        address: &ResourceInstance,
        repetition: &Repetition,
        diagnostics: &mut Diagnostics,
    ) -> Prepared {
        let (run, config, schema) = (self.run, self.config, &self.schema);
        if !run.targets_select_instance(address) {
            // Another instance of a resource targeted by instance: not planned; expressions
            // read what the state holds (unknown where it holds nothing, as in Terraform).
            let prior = recorded_object_as(run, address, &self.value_type).map(|o| o.value);
            return Prepared::Settled(prior.unwrap_or(Value::Unknown(Type::Any)));
        }
        let provider_ref = &self.provider_ref;
        if let Err(d) = import_if_declared(run, address, config, provider_ref, schema).await {
            diagnostics.extend(d);
            return Prepared::Failed;
        }
        let prior = recorded_object_as(run, address, &self.value_type);
        let Some(config_value) =
            evaluate_instance(run, config, schema, address, repetition, diagnostics)
        else {
            return Prepared::Failed;
        };
        let validation =
            validate_instance(run, address, config, &self.provider_ref, &config_value).await;
        if validation.has_errors() {
            diagnostics.extend(validation);
            return Prepared::Failed;
        }
        if !validation.is_empty() {
            run.error(validation);
        }
        Prepared::Plan {
            prior,
            config_value,
        }
    }

    /// Plans one managed instance, or reads one data source, as a task of its own.
    fn spawn_plan(
        &self,
        address: ResourceInstance,
        prior: Option<InstanceObject>,
        config_value: Value,
        triggers: bool,
    ) -> PlanTask {
        let run = self.run.clone();
        let provider_ref = self.provider_ref.clone();
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let (config, schema) = &*shared;
            let result = match config.addr.mode {
                ResourceMode::Managed => {
                    plan_instance(
                        &run,
                        &address,
                        config,
                        &provider_ref,
                        schema,
                        prior,
                        config_value,
                        triggers,
                    )
                    .await
                }
                ResourceMode::Data => {
                    read_data_instance(&run, &address, config, &provider_ref, schema, config_value)
                        .await
                }
            };
            (address, result)
        })
    }

    /// Deletes the instances in state whose key the configuration no longer has, or whose
    /// module instance is gone (the module call's `count`/`for_each` shrank).
    /// `recorded`: the module instances where the prior state has instances of the resource.
    fn plan_orphans(
        &self,
        recorded: Option<&BTreeSet<ModuleInstance>>,
        expanded: &HashMap<ModuleInstance, ExpandedKeys>,
        diagnostics: &mut Diagnostics,
    ) {
        let run = self.run;
        let mut changes = Vec::new();
        let state = run.state();
        let modules: BTreeSet<&ModuleInstance> = recorded
            .into_iter()
            .flatten()
            .chain(expanded.keys())
            .collect();
        let instances = modules
            .into_iter()
            .flat_map(|module| state.instances_of(module, self.resource))
            .filter(|(a, _)| run.targets_allow_orphan(a));
        for (address, object) in instances {
            let expansion = match expanded.get(&address.module) {
                // The module instance is gone.
                None => {
                    changes.push(orphan_deletion(run, address, object));
                    continue;
                }
                // Its `count`/`for_each` failed: the plan fails.
                Some(None) => continue,
                Some(Some((keys, _))) if keys.contains(&address.key) => continue,
                Some(Some((_, expansion))) => *expansion,
            };
            let reason = match (&address.key, expansion) {
                (InstanceKey::Int(_), Expansion::Count) => ActionReason::DeleteBecauseCountIndex,
                (InstanceKey::Str(_), Expansion::ForEach) => ActionReason::DeleteBecauseEachKey,
                _ => ActionReason::DeleteBecauseNoRepetitionKey,
            };
            if self.config.lifecycle.prevent_destroy {
                diagnostics.push(prevent_destroy_error(address, self.config));
                continue;
            }
            let address = address.clone();
            changes.push(ResourceChange::removing(
                address,
                object,
                Action::Delete,
                Some(reason),
            ));
        }
        drop(state);
        for change in changes {
            push_change(run, change);
        }
    }
}

fn push_change(run: &Run, change: ResourceChange) {
    locked(&run.changes).push(change);
}

fn prevent_destroy_error(address: &ResourceInstance, config: &ResourceConfig) -> Diagnostic {
    Diagnostic::error("Instance cannot be destroyed")
        .with_detail(format!("Resource {address} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using the -target flag."))
        .with_span(config.span.clone())
}

/// Whether a `replace_triggered_by` reference points at something that changes in this plan.
fn replace_triggered(
    run: &Run,
    config: &ResourceConfig,
    module: &ModuleInstance,
    _repetition: &Repetition,
) -> bool {
    if config.lifecycle.replace_triggered_by.is_empty() {
        return false;
    }
    let changes = locked(&run.changes);
    config.lifecycle.replace_triggered_by.iter().any(|expr| {
        crate::lang::references(expr)
            .iter()
            .any(|reference| match &reference.subject {
                crate::lang::Referenceable::Resource(target) => changes.iter().any(|c| {
                    c.address.module == *module
                        && c.address.resource == *target
                        && c.action != Action::NoOp
                        && c.action != Action::Read
                }),
                _ => false,
            })
    })
}

/// Plans one managed instance and records its change; returns the value downstream
/// references see.
#[allow(clippy::too_many_arguments)]
async fn plan_instance(
    run: &Arc<Run>,
    address: &ResourceInstance,
    config: &ResourceConfig,
    provider_ref: &ProviderRef,
    schema: &ResourceSchema,
    prior: Option<InstanceObject>,
    config_value: Value,
    replace_triggered: bool,
) -> Result<Value, Diagnostics> {
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(Value::unknown());
    };
    let instance = InstancePlan {
        run,
        address,
        config,
        schema,
        provider,
        provider_address: run.provider_address(provider_ref),
    };
    let _permit = run.semaphore.acquire().await;
    match prior {
        None => instance.create(config_value).await,
        Some(prior) => {
            instance
                .existing(prior, config_value, replace_triggered)
                .await
        }
    }
}

/// One managed instance being planned through its provider.
struct InstancePlan<'a> {
    run: &'a Arc<Run>,
    address: &'a ResourceInstance,
    config: &'a ResourceConfig,
    schema: &'a ResourceSchema,
    provider: Arc<dyn crate::providers::Provider>,
    provider_address: String,
}

impl InstancePlan<'_> {
    /// The provider's plan from `prior` (its value and private data) to `config_value`, its
    /// warnings recorded.
    async fn ask(
        &self,
        prior: Option<(&Value, &[u8])>,
        config_value: &Value,
    ) -> Result<crate::providers::PlannedChange, Diagnostics> {
        let planned = self
            .provider
            .plan_resource(PlanRequest {
                type_name: &self.address.resource.type_name,
                prior: prior.map(|(value, _)| value),
                config: config_value,
                prior_private: prior.map(|(_, private)| private).unwrap_or_default(),
            })
            .await
            .map_err(|error| {
                provider_diagnostics::located(self.address, &error, Some(self.config))
            })?;
        warn(self.run, self.address, &planned.warnings, self.config);
        Ok(planned)
    }

    /// An instance the state lacks: created.
    async fn create(&self, config_value: Value) -> Result<Value, Diagnostics> {
        let planned = self.ask(None, &config_value).await?;
        let values = (None, Some(planned.planned.clone()));
        self.push(Action::Create, values, &planned.private, None, Vec::new());
        Ok(planned.planned)
    }

    /// An instance the state holds: no change, an update or a replacement.
    async fn existing(
        &self,
        prior: InstanceObject,
        config_value: Value,
        replace_triggered: bool,
    ) -> Result<Value, Diagnostics> {
        let (config, schema) = (self.config, self.schema);
        let ignore = &config.lifecycle.ignore_changes;
        let config_value = apply_ignore_changes(ignore, schema, &prior.value, config_value);
        let prior_private = decode_private(prior.private.as_deref());
        let planned = self
            .ask(Some((&prior.value, &prior_private)), &config_value)
            .await?;
        let reason = self.replacement_reason(&prior, &planned, replace_triggered);
        let Some(reason) = reason else {
            if planned.planned.equals(&prior.value) == Some(true) {
                return Ok(prior.value);
            }
            let values = (Some(prior.value), Some(planned.planned.clone()));
            self.push(Action::Update, values, &planned.private, None, Vec::new());
            return Ok(planned.planned);
        };
        // A replacement shows what a create would make.
        let fresh = self.ask(None, &config_value).await?;
        if config.lifecycle.prevent_destroy {
            return Err(prevent_destroy_error(self.address, config).into());
        }
        let action = if config.lifecycle.create_before_destroy {
            Action::CreateThenDelete
        } else {
            Action::DeleteThenCreate
        };
        let values = (Some(prior.value), Some(fresh.planned.clone()));
        let forced_by = planned.requires_replace;
        self.push(action, values, &fresh.private, Some(reason), forced_by);
        Ok(fresh.planned)
    }

    /// Why the instance must be replaced, if it must: `-replace`, tainted, a
    /// `replace_triggered_by` reference that changes, or an attribute the provider cannot update.
    fn replacement_reason(
        &self,
        prior: &InstanceObject,
        planned: &crate::providers::PlannedChange,
        replace_triggered: bool,
    ) -> Option<ActionReason> {
        if self.run.options.replace.contains(self.address) {
            Some(ActionReason::ReplaceByRequest)
        } else if prior.status == ObjectStatus::Tainted {
            Some(ActionReason::ReplaceBecauseTainted)
        } else if replace_triggered {
            Some(ActionReason::ReplaceByTriggers)
        } else if !planned.requires_replace.is_empty() {
            Some(ActionReason::ReplaceBecauseCannotUpdate)
        } else {
            None
        }
    }

    /// Records the instance's change.
    fn push(
        &self,
        action: Action,
        values: (Option<Value>, Option<Value>),
        private: &[u8],
        reason: Option<ActionReason>,
        requires_replace: Vec<crate::value::AttrPath>,
    ) {
        let (address, provider_address) = (self.address.clone(), self.provider_address.clone());
        let change = ResourceChange {
            requires_replace,
            reason,
            private: encode_private(private),
            ..ResourceChange::new(
                address,
                provider_address,
                action,
                values,
                self.schema.version,
            )
        };
        push_change(self.run, change);
    }
}

/// Records the warnings a provider gave with an answer about one instance.
fn warn(
    run: &Run,
    address: &ResourceInstance,
    warnings: &[crate::providers::ProviderError],
    config: &ResourceConfig,
) {
    if !warnings.is_empty() {
        run.error(provider_diagnostics::located_list(
            address,
            warnings,
            Some(config),
        ));
    }
}

/// Reads a data source now when its configuration is known, else plans a read at apply.
async fn read_data_instance(
    run: &Arc<Run>,
    address: &ResourceInstance,
    config: &ResourceConfig,
    provider_ref: &ProviderRef,
    schema: &ResourceSchema,
    config_value: Value,
) -> Result<Value, Diagnostics> {
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(Value::unknown());
    };
    let depends_on_changes = !config.depends_on.is_empty() && {
        let changes = locked(&run.changes);
        config.depends_on.iter().any(|expr| {
            crate::lang::references(expr)
                .iter()
                .any(|r| match &r.subject {
                    crate::lang::Referenceable::Resource(target) => changes
                        .iter()
                        .any(|c| c.address.resource == *target && c.action != Action::NoOp),
                    _ => false,
                })
        })
    };
    if !config_value.is_wholly_known() || depends_on_changes {
        let planned = crate::providers::default_plan(&schema.block, None, &config_value).planned;
        push_change(
            run,
            ResourceChange::new(
                address.clone(),
                run.provider_address(provider_ref),
                Action::Read,
                (None, Some(planned.clone())),
                schema.version,
            ),
        );
        return Ok(planned);
    }
    run.events.event(Event::Reading {
        address: address.clone(),
    });
    let _permit = run.semaphore.acquire().await;
    let value = provider
        .read_data_source(&address.resource.type_name, &config_value)
        .await
        .map_err(|error| provider_diagnostics::located(address, &error, Some(config)))?;
    let value = merge_config(&config_value, value);
    let dependencies = {
        let store = run.store.read().unwrap_or_else(|e| e.into_inner());
        dependency_addresses(
            &store,
            &resource_dependencies(
                &run.graph,
                &Node::Resource {
                    module: address.module.module_path(),
                    resource: address.resource.clone(),
                },
            ),
        )
    };
    run.state().resources.insert(
        address.clone(),
        InstanceObject {
            value: value.clone(),
            provider: run.provider_address(provider_ref),
            schema_version: schema.version,
            dependencies,
            create_before_destroy: false,
            status: ObjectStatus::Ready,
            private: None,
        },
    );
    Ok(value)
}

/// After the walk: the changes in order, the output changes, the plan and its warnings.
async fn finish_plan(run: Arc<Run>, outcomes: &[Outcome]) -> Result<PlanOutcome, Diagnostics> {
    let diagnostics = walk_diagnostics(&run, outcomes)?;
    // The walk is over: the refreshed state moves out of the run rather than being copied.
    let state = std::mem::take(&mut *run.state());
    let mut changes = std::mem::take(&mut *locked(&run.changes));
    let mut drift = std::mem::take(&mut *locked(&run.drift));
    if run.options.mode == PlanMode::RefreshOnly {
        changes.clear();
    }
    annotate_refactoring(&run, &state, &mut changes);
    changes.sort_by(|a, b| (&a.address, &a.deposed).cmp(&(&b.address, &b.deposed)));
    drift.sort_by(|a, b| a.address.cmp(&b.address));
    // Drift is only worth showing for attributes the plan does not change back anyway; keep all
    // of it, as Terraform does in refresh-only mode, and only real differences otherwise.
    let output_changes = output_changes(&run, &state);
    let plan = Plan {
        format_version: Plan::FORMAT_VERSION,
        mode: run.options.mode,
        workspace: run.options.workspace.clone(),
        prior_lineage: state.lineage.clone(),
        prior_serial: state.serial,
        variables: run.variables.clone(),
        changes,
        drift,
        output_changes,
        targets: run
            .options
            .targets
            .iter()
            .map(ToString::to_string)
            .collect(),
        replace: run
            .options
            .replace
            .iter()
            .map(ToString::to_string)
            .collect(),
    };
    let mut warnings = diagnostics;
    if let Some(warning) = forgotten_warning(&plan) {
        warnings.push(warning);
    }
    if !run.options.targets.is_empty() {
        warnings.push(targeting_warning());
    }
    warnings.extend(super::checks::evaluate(&run).await);
    Ok(PlanOutcome {
        plan,
        refreshed: state,
        warnings,
    })
}

/// The walk's diagnostics: its errors when it failed (or did not finish), else its warnings.
fn walk_diagnostics(run: &Run, outcomes: &[Outcome]) -> Result<Diagnostics, Diagnostics> {
    let mut diagnostics = run.diagnostics().clone();
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    if outcomes.iter().any(|o| *o != Outcome::Done) {
        diagnostics.push(
            Diagnostic::error("Plan interrupted")
                .with_detail("The plan did not finish; nothing was changed."),
        );
        return Err(diagnostics);
    }
    Ok(diagnostics)
}

/// The warning for the objects a plan forgets (`removed` blocks with `destroy = false`).
fn forgotten_warning(plan: &Plan) -> Option<Diagnostic> {
    let forgotten: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Forget)
        .map(|c| format!(" - {}", c.address))
        .collect();
    if forgotten.is_empty() {
        return None;
    }
    Some(Diagnostic::warning("Some objects will no longer be managed by Strata").with_detail(format!(
        "If you apply this plan, Strata will discard its tracking information for the following objects, but it will not delete them:\n{}\n\nAfter applying this plan, Strata will no longer manage these objects. You will need to import them into Strata to manage them again.",
        forgotten.join("\n")
    )))
}

/// The root `import` block that targets `address`, with the import ID evaluated: a plain
/// block names it; one with `for_each` is expanded (`each.key` / `each.value` in its `to` key
/// and `id`) and one of its elements may name it.
fn declared_import<'a>(
    run: &'a Run,
    address: &ResourceInstance,
) -> Result<Option<(&'a crate::config::Import, String)>, Diagnostics> {
    let root = ModuleInstance::root();
    for import in &run.tree.module.imports {
        let repetition = match (&import.for_each, Target::parse(&import.to)) {
            (None, Ok(Target::Instance(i))) if &i == address => Repetition::None,
            (None, Ok(Target::Resource(r)))
                if address.key == InstanceKey::None
                    && r.module == address.module
                    && r.resource == address.resource =>
            {
                Repetition::None
            }
            (Some(for_each), Ok(Target::Resource(r)))
                if r.module == address.module && r.resource == address.resource =>
            {
                let (_, repetitions) = expand(run, None, Some(for_each), &root, &Repetition::None)?;
                let mut matching = None;
                for repetition in repetitions {
                    let Some(key_expr) = &import.key else { break };
                    let key = run.eval(key_expr, &root, &repetition, None)?;
                    let key = match key.unmarked() {
                        Value::String(s) => InstanceKey::Str(s.clone()),
                        Value::Number(n) => match n.to_i64() {
                            Some(i) => InstanceKey::Int(i),
                            None => continue,
                        },
                        _ => continue,
                    };
                    if key == address.key {
                        matching = Some(repetition);
                        break;
                    }
                }
                match matching {
                    Some(repetition) => repetition,
                    None => continue,
                }
            }
            _ => continue,
        };
        let id = run.eval(&import.id, &root, &repetition, None)?;
        let Some(id) = id
            .as_str()
            .filter(|_| id.is_wholly_known())
            .map(str::to_string)
        else {
            return Err(Diagnostic::error("Invalid import id argument")
                .with_detail("The import ID must be a string known when planning: an ID written in the configuration, or built from variables and locals.")
                .with_span(import.span.clone())
                .into());
        };
        return Ok(Some((import, id)));
    }
    Ok(None)
}

/// An `import { to = ..., id = ... }` block of the root module that names `address`, when the
/// state has no object there yet: the provider reads the object by its ID, and it joins the
/// working state as the instance's prior object (so the plan diffs the configuration against
/// it). An instance already in the state ignores its import block, as Terraform does.
async fn import_if_declared(
    run: &Arc<Run>,
    address: &ResourceInstance,
    config: &ResourceConfig,
    provider_ref: &ProviderRef,
    schema: &ResourceSchema,
) -> Result<(), Diagnostics> {
    if address.resource.mode != ResourceMode::Managed
        || run
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .resources
            .contains_key(address)
    {
        return Ok(());
    }
    let Some((import, id)) = declared_import(run, address)? else {
        return Ok(());
    };
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(());
    };
    run.events.event(Event::Importing {
        address: address.clone(),
        id: id.clone(),
    });
    let imported = {
        let _permit = run.semaphore.acquire().await;
        provider
            .import(&address.resource.type_name, &id)
            .await
            .map_err(|error| {
                let mut diagnostics = Diagnostics::new();
                for one in error.all() {
                    diagnostics.push(
                        Diagnostic::error(format!("{address}: {}", one.summary))
                            .with_detail(one.detail)
                            .with_span(import.span.clone()),
                    );
                }
                diagnostics
            })?
    };
    let object = InstanceObject {
        value: mark_sensitive_attributes(&schema.block, imported.value),
        provider: run.provider_address(provider_ref),
        schema_version: schema.version,
        dependencies: Vec::new(),
        create_before_destroy: config.lifecycle.create_before_destroy,
        status: ObjectStatus::Ready,
        private: encode_private(&imported.private),
    };
    let mut state = run.state();
    state.resources.insert(address.clone(), object);
    run.refactoring
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .imported
        .insert(address.clone(), id);
    Ok(())
}

/// Marks each change of a moved or imported instance with where it came from (or its import
/// ID), and adds a no-op change for one that otherwise stays as it is, so the plan shows (and
/// the apply records) the move or import. A chain of moves shows its first address.
fn annotate_refactoring(run: &Run, state: &crate::state::State, changes: &mut Vec<ResourceChange>) {
    let refactoring = run.refactoring();
    let mut origin: BTreeMap<ResourceInstance, ResourceInstance> = BTreeMap::new();
    for InstanceMove { from, to } in &refactoring.moves {
        let first = origin.remove(from).unwrap_or_else(|| from.clone());
        origin.insert(to.clone(), first);
    }
    let marks = refactoring
        .imported
        .iter()
        .map(|(address, id)| (address.clone(), None, Some(id.clone())))
        .chain(origin.into_iter().map(|(to, from)| (to, Some(from), None)));
    for (address, previous, importing) in marks {
        let change = match changes
            .iter_mut()
            .find(|c| c.address == address && c.deposed.is_none())
        {
            Some(change) => change,
            None => {
                let Some(object) = state.resources.get(&address) else {
                    continue;
                };
                let unchanged = object.value.clone();
                changes.push(ResourceChange::changing(
                    address,
                    object,
                    Action::NoOp,
                    unchanged,
                ));
                changes.last_mut().expect("just pushed")
            }
        };
        if previous.is_some() {
            change.previous_address = previous;
        }
        if importing.is_some() {
            change.importing = importing;
        }
    }
}

/// The destruction of every deposed object (left by a create_before_destroy replacement that
/// did not finish) that the targets allow: they exist, nothing configures them, so they go
/// (`destroy`'s plan; a plan walk visits them as orphans).
fn deposed_deletions(run: &Run, state: &crate::state::State) -> Vec<ResourceChange> {
    let mut changes = Vec::new();
    for (address, objects) in &state.deposed {
        if !run.targets_allow_orphan(address) {
            continue;
        }
        for (key, object) in objects {
            changes.push(deposed_deletion(address, key, object));
        }
    }
    changes
}

/// The destruction of one deposed object.
fn deposed_deletion(
    address: &ResourceInstance,
    key: &str,
    object: &InstanceObject,
) -> ResourceChange {
    ResourceChange {
        deposed: Some(key.to_string()),
        ..ResourceChange::removing(address.clone(), object, Action::Delete, None)
    }
}

/// The deletion of an instance the configuration no longer has (whose resource, or module
/// instance, is gone), or its forgetting when a `removed` block says not to destroy it.
fn orphan_deletion(
    run: &Run,
    address: &ResourceInstance,
    object: &InstanceObject,
) -> ResourceChange {
    let forget = run
        .refactoring
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .forget
        .contains(address);
    let (action, reason) = if forget {
        (Action::Forget, None)
    } else {
        (
            Action::Delete,
            Some(ActionReason::DeleteBecauseNoResourceConfig),
        )
    };
    ResourceChange::removing(address.clone(), object, action, reason)
}

impl Run {
    /// With `-target`, only targeted orphans are deleted.
    fn targets_allow_orphan(&self, address: &ResourceInstance) -> bool {
        self.options.targets.is_empty() || self.options.targets.iter().any(|t| t.contains(address))
    }

    /// Whether a targeted run plans (or, for `destroy`, takes away) an instance of a resource the
    /// pruned graph holds: when a target names it, or when no target names its resource (it is
    /// there as a dependency, or for destroy a dependent). `-target=a[0]` leaves `a[1]`.
    fn targets_select_instance(&self, address: &ResourceInstance) -> bool {
        let module = address.module.module_path();
        let node = Node::Resource {
            module: module.clone(),
            resource: address.resource.clone(),
        };
        self.targets_allow_orphan(address)
            || (self.graph.index.contains_key(&node)
                && !self
                    .options
                    .targets
                    .iter()
                    .any(|t| graph::targets::target_selects(t, &module, &address.resource)))
    }
}

/// Terraform's warning for a plan made with `-target`.
fn targeting_warning() -> Diagnostic {
    Diagnostic::warning("Resource targeting is in effect").with_detail("You are creating a plan with the -target option, which means that the result of this plan may not represent all of the changes requested by the current configuration.\n\nThe -target option is not for routine use, and is provided only for exceptional situations such as recovering from errors or mistakes, or when Strata specifically suggests to use it as part of an error message.")
}

fn output_changes(run: &Run, state: &crate::state::State) -> BTreeMap<String, OutputChange> {
    let store = run.store.read().unwrap_or_else(|e| e.into_inner());
    let mut changes = BTreeMap::new();
    for (name, output) in &run.tree.module.outputs {
        // An output `-target` pruned from the graph keeps its recorded value.
        let node = Node::Output {
            module: Vec::new(),
            name: name.clone(),
        };
        if !run.graph.index.contains_key(&node) {
            continue;
        }
        let after = store
            .outputs
            .get(&(ModuleInstance::root(), name.clone()))
            .cloned();
        let before = state.outputs.get(name).map(|o| o.value.clone());
        let action = match (&before, &after) {
            (None, Some(_)) => Action::Create,
            (Some(b), Some(a)) if b.equals(a) == Some(true) => Action::NoOp,
            (Some(_), Some(_)) => Action::Update,
            (Some(_), None) => Action::Delete,
            (None, None) => continue,
        };
        changes.insert(
            name.clone(),
            OutputChange {
                action,
                before,
                after,
                sensitive: output.sensitive,
            },
        );
    }
    for (name, old) in &state.outputs {
        if !run.tree.module.outputs.contains_key(name) && run.options.targets.is_empty() {
            changes.insert(
                name.clone(),
                OutputChange {
                    action: Action::Delete,
                    before: Some(old.value.clone()),
                    after: None,
                    sensitive: old.sensitive,
                },
            );
        }
    }
    changes
}

/// `strata destroy`'s plan: every managed instance in state, deleted.
async fn destroy_plan(run: Arc<Run>) -> Result<PlanOutcome, Diagnostics> {
    // Configure providers (refreshing what they own) so deletions can run.
    let diagnostics = configure_providers(&run, &PlanWalker::default()).await;
    diagnostics.into_result(())?;
    let state = run.state().clone();
    let mut errors = Diagnostics::new();
    let mut changes = Vec::new();
    for (address, object) in &state.resources {
        if address.resource.mode == ResourceMode::Data || !run.targets_select_instance(address) {
            continue;
        }
        if let Some(config) =
            resource_config(&run.tree, &address.module.module_path(), &address.resource)
        {
            if config.lifecycle.prevent_destroy {
                errors.push(prevent_destroy_error(address, config));
                continue;
            }
        }
        changes.push(ResourceChange::removing(
            address.clone(),
            object,
            Action::Delete,
            Some(ActionReason::DeleteBecauseDestroyMode),
        ));
    }
    errors.into_result(())?;
    changes.extend(deposed_deletions(&run, &state));
    annotate_refactoring(&run, &state, &mut changes);
    changes.sort_by(|a, b| (&a.address, &a.deposed).cmp(&(&b.address, &b.deposed)));
    // A targeted destroy leaves the outputs as they are, as Terraform does.
    let output_changes = state
        .outputs
        .iter()
        .filter(|_| run.options.targets.is_empty())
        .map(|(name, o)| {
            (
                name.clone(),
                OutputChange {
                    action: Action::Delete,
                    before: Some(o.value.clone()),
                    after: None,
                    sensitive: o.sensitive,
                },
            )
        })
        .collect();
    let drift = std::mem::take(&mut *locked(&run.drift));
    Ok(PlanOutcome {
        plan: Plan {
            format_version: Plan::FORMAT_VERSION,
            mode: PlanMode::Destroy,
            workspace: run.options.workspace.clone(),
            prior_lineage: state.lineage.clone(),
            prior_serial: state.serial,
            variables: run.variables.clone(),
            changes,
            drift,
            output_changes,
            targets: run
                .options
                .targets
                .iter()
                .map(ToString::to_string)
                .collect(),
            replace: Vec::new(),
        },
        refreshed: state,
        warnings: if run.options.targets.is_empty() {
            Diagnostics::new()
        } else {
            targeting_warning().into()
        },
    })
}
