//! The apply walk: the plan's changes made real, in dependency order, with every operation
//! recorded before anything that depends on it starts. The walk's graph is the configuration's
//! with the deletions and the `(applied)` nodes added ([`crate::graph::deletions::apply_steps`]);
//! a resource node starts a task per changing instance, which waits only for the instances it
//! picks ([`super::gates`]), and the resource's `(applied)` node collects them.

use super::eval::{
    apply_ignore_changes, check_condition, expand_resource, mark_sensitive_attributes,
    merge_config, recorded_object, resource_config, schema_for,
};
use super::gates::Gates;
use super::nodes::{configure_providers, walk_graph, Walker};
use super::provider_diagnostics::{decode_private, encode_private, located};
use super::store::ResourceValues;
use super::{
    dependency_addresses, locked, resource_dependencies, ApplyOutcome, Evaluation, Event, ObjectId,
    Run,
};
use crate::addrs::{ModuleInstance, Resource, ResourceInstance, ResourceMode};
use crate::config::ResourceConfig;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::graph::deletions::{self, Deletion, Replacement};
use crate::graph::{Graph, ModulePath, Node};
use crate::plan::{Action, Plan, PlanMode, ResourceChange};
use crate::providers::{ApplyRequest, PlanRequest, Progress};
use crate::state::{InstanceObject, ObjectStatus, OutputValue, StateChange};
use crate::value::{Type, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many instances per `-parallelism` slot may be evaluated, planned and journaled ahead of
/// their provider call ([`ResourceApply::lookahead`]).
const LOOKAHEAD: usize = 2;

/// The apply walk's resource visits: each planned change of an instance made real.
pub(super) struct ApplyWalker {
    plan: Arc<Plan>,
    /// The plan's deletions, by instance and deposed key.
    deletions: HashMap<(ResourceInstance, Option<String>), ResourceChange>,
    /// Each current instance's change: its index in `plan.changes`
    /// ([`Plan::current_change_indexes`]).
    current: Arc<HashMap<ResourceInstance, usize>>,
    /// The apply's graph: the resource nodes with an edge into a resource node are those whose
    /// instances its instances pick one by one ([`crate::graph::instances`]).
    graph: Arc<Graph>,
    gates: Arc<Gates>,
    /// Bounds the instances between their turn to be evaluated and their provider call
    /// ([`ResourceApply::lookahead`]).
    lookahead: Arc<tokio::sync::Semaphore>,
    /// The instance tasks each resource node started, until its `(applied)` node collects them.
    started: std::sync::Mutex<HashMap<(ModulePath, Resource), Vec<InstanceTask>>>,
}

impl ApplyWalker {
    fn new(plan: Arc<Plan>, graph: Arc<Graph>, parallelism: usize) -> ApplyWalker {
        let deletions = plan
            .changes
            .iter()
            .filter(|c| deletion(c).is_some())
            .map(|c| ((c.address.clone(), c.deposed.clone()), c.clone()))
            .collect();
        ApplyWalker {
            current: Arc::new(plan.current_change_indexes()),
            plan,
            deletions,
            graph,
            gates: Arc::new(Gates::default()),
            lookahead: Arc::new(tokio::sync::Semaphore::new(LOOKAHEAD * parallelism.max(1))),
            started: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The resources (in the same module) whose instances `resource`'s instances pick by their
    /// own repetition.
    fn picked_resources(&self, path: &ModulePath, resource: &Resource) -> Vec<Resource> {
        let node = Node::Resource {
            module: path.clone(),
            resource: resource.clone(),
        };
        let Some(&index) = self.graph.index.get(&node) else {
            return Vec::new();
        };
        self.graph
            .graph
            .neighbors_directed(index, petgraph::Direction::Incoming)
            .filter_map(|i| match &self.graph.graph[i] {
                Node::Resource { module, resource } if module == path => Some(resource.clone()),
                _ => None,
            })
            .collect()
    }

    fn take_started(&self, key: Option<&(ModulePath, Resource)>) -> Vec<InstanceTask> {
        let mut started = locked(&self.started);
        match key {
            Some(key) => started.remove(key).unwrap_or_default(),
            None => std::mem::take(&mut *started)
                .into_values()
                .flatten()
                .collect(),
        }
    }
}

impl ApplyWalker {
    /// How this walk evaluates.
    pub(super) const EVALUATION: Evaluation = Evaluation::APPLY;
}

#[async_trait::async_trait]
impl Walker for ApplyWalker {
    async fn visit_resource(
        &self,
        run: &Arc<Run>,
        module: &ModulePath,
        resource: &Resource,
    ) -> Result<(), Diagnostics> {
        start_resource_node(run, self, module, resource).await
    }

    async fn visit_resource_applied(
        &self,
        _run: &Arc<Run>,
        module: &ModulePath,
        resource: &Resource,
    ) -> Result<(), Diagnostics> {
        let key = (module.clone(), resource.clone());
        collect_instances(self.take_started(Some(&key))).await
    }

    async fn visit_destroy(
        &self,
        run: &Arc<Run>,
        instance: &ResourceInstance,
        deposed: Option<&str>,
    ) -> Result<(), Diagnostics> {
        let key = (instance.clone(), deposed.map(str::to_string));
        let Some(change) = self.deletions.get(&key) else {
            return Ok(());
        };
        if destroy_instance(run, &self.plan, change).await {
            Ok(())
        } else {
            // The errors are recorded; what depends on this deletion does not start.
            Err(Diagnostics::new())
        }
    }
}

/// Applies `plan`.
pub(super) async fn apply(run: Arc<Run>, plan: Plan) -> ApplyOutcome {
    let _phase = crate::timings::phase("apply walk");
    let plan = Arc::new(plan);
    let destroy_mode = plan.mode == PlanMode::Destroy;
    // Deletions are ordered by the dependencies the state records before anything changes.
    let graph = apply_graph(&run, &plan).unwrap_or_else(|diagnostics| {
        run.error(diagnostics);
        Arc::new(Graph::default())
    });
    let parallelism = run.options.parallelism;
    let walker = Arc::new(ApplyWalker::new(plan.clone(), graph.clone(), parallelism));
    if destroy_mode {
        let diagnostics = configure_providers(&run, &*walker).await;
        run.error(diagnostics);
    }
    if plan.mode != PlanMode::RefreshOnly {
        // What `moved` and `removed` blocks decided is recorded first: the walk below works on
        // the addresses the plan used.
        record_refactoring(&run, &plan).await;
        walk_graph(&run, graph, walker.clone()).await;
        // Instances a cancelled walk started and no `(applied)` node collected finish (and are
        // recorded) before the state is.
        if let Err(diagnostics) = collect_instances(walker.take_started(None)).await {
            run.error(diagnostics);
        }
    }
    // A destroy leaves no data sources behind either.
    if destroy_mode && plan.targets.is_empty() && !run.cancelled() && !run_failed(&run) {
        remove_data_sources(&run).await;
    }
    let outputs = final_outputs(&run, &plan);
    if plan.mode == PlanMode::RefreshOnly
        || run.cancelled()
        || !outputs.is_empty()
        || !run.state().outputs.is_empty()
    {
        record(&run, StateChange::Outputs { outputs }).await;
    }
    finish(&run, &plan).await
}

/// Whether a change deletes an object, and as which half of a replacement.
fn deletion(change: &ResourceChange) -> Option<Option<Replacement>> {
    match change.action {
        Action::Delete => Some(None),
        Action::DeleteThenCreate => Some(Some(Replacement::DestroyBeforeCreate)),
        Action::CreateThenDelete => Some(Some(Replacement::CreateBeforeDestroy)),
        _ => None,
    }
}

/// The graph an apply walks: the configuration's (none for `destroy`) with a node per deletion,
/// ordered by [`crate::graph::deletions::apply_steps`].
fn apply_graph(run: &Run, plan: &Plan) -> Result<Arc<Graph>, Diagnostics> {
    let deletions: Vec<Deletion> = plan
        .changes
        .iter()
        .filter_map(|change| {
            Some(Deletion {
                instance: change.address.clone(),
                deposed: change.deposed.clone(),
                replacing: deletion(change)?,
                provider: super::parse_provider_address(&run.registry, &change.provider),
            })
        })
        .collect();
    let prior = {
        let state = run.state();
        super::prior_objects(&run.registry, &state)
    };
    // A `destroy` configures every provider before its walk; an apply's deletions wait for
    // their provider's node.
    let base = if plan.mode == PlanMode::Destroy {
        Graph::default()
    } else {
        let providers = deletions.iter().filter_map(|d| d.provider.as_ref());
        super::graph_with_providers(run, providers)?
    };
    let steps = deletions::apply_steps(&run.tree, &run.graph, &deletions, &prior);
    Ok(Arc::new(crate::graph::transforms::run_on(base, &steps)?))
}

fn run_failed(run: &Run) -> bool {
    run.diagnostics().has_errors()
}

/// Records the moves, imports and forgotten instances the plan carries.
async fn record_refactoring(run: &Run, plan: &Plan) {
    for change in &plan.changes {
        if let Some(from) = &change.previous_address {
            let (from, to) = (from.clone(), change.address.clone());
            record(run, StateChange::Move { from, to }).await;
        }
        if change.importing.is_some() {
            let object = run.state().resources.get(&change.address).cloned();
            if let Some(object) = object {
                let address = change.address.clone();
                record(run, StateChange::Put { address, object }).await;
            }
        }
        if change.action == Action::Forget {
            let address = change.address.clone();
            record(run, StateChange::Remove { address }).await;
        }
    }
}

async fn remove_data_sources(run: &Run) {
    let data: Vec<ResourceInstance> = run
        .state()
        .resources
        .keys()
        .filter(|a| a.resource.mode == ResourceMode::Data)
        .cloned()
        .collect();
    for address in data {
        record(run, StateChange::Remove { address }).await;
    }
}

/// Root outputs, from what the walk evaluated. One the walk could not finish (a failed
/// resource it depends on) keeps its recorded value, so a failed apply does not make the next
/// plan show every such output as new.
fn final_outputs(run: &Run, plan: &Plan) -> BTreeMap<String, OutputValue> {
    if plan.mode == PlanMode::Destroy && plan.targets.is_empty() {
        return BTreeMap::new();
    }
    let store = run.store();
    let recorded = run.state().outputs.clone();
    run.tree
        .module
        .outputs
        .iter()
        .filter_map(|(name, output)| {
            let value = store.outputs.get(&(ModuleInstance::root(), name.clone()));
            let evaluated = value
                .filter(|v| v.is_wholly_known())
                .map(|value| OutputValue {
                    value: value.clone(),
                    sensitive: output.sensitive || value.contains_sensitive(),
                });
            // An output still unknown after a targeted apply (it reads an instance the
            // targets left out) and never recorded is recorded as null, as Terraform does.
            let unknown_in_targeted_run = || {
                (value.is_some() && !run.options.targets.is_empty()).then_some(OutputValue {
                    value: Value::Null,
                    sensitive: output.sensitive,
                })
            };
            evaluated
                .or_else(|| recorded.get(name).cloned())
                .or_else(unknown_in_targeted_run)
                .map(|value| (name.clone(), value))
        })
        .collect()
}

/// The outcome: the `check` blocks evaluated with the final values, the warning of a targeted
/// apply, and the state written in full.
async fn finish(run: &Run, plan: &Plan) -> ApplyOutcome {
    let mut diagnostics = run.diagnostics().clone();
    if plan.mode != PlanMode::Destroy && !diagnostics.has_errors() {
        diagnostics.extend(super::checks::evaluate(run).await);
    }
    // Taken, not copied: the walk is over, and writing the whole state is the apply's peak of
    // memory.
    let state = std::mem::take(&mut *run.state());
    if !plan.targets.is_empty() && !diagnostics.has_errors() {
        diagnostics.push(Diagnostic::warning("Applied changes may be incomplete").with_detail("The plan was created with the -target option in effect, so some changes requested in the configuration may have been ignored and the output values may not be fully updated. Run the following command to verify that no other changes are pending:\n    strata plan\n\nNote that the -target option is not suitable for routine use, and is provided only for exceptional situations such as recovering from errors or mistakes, or when Strata specifically suggests to use it as part of an error message."));
    }
    let mut writer = run.writer.lock().await.take();
    if let Some(writer) = writer.as_mut() {
        if let Err(error) = writer.finish(&state).await {
            diagnostics.push(Diagnostic::error("Failed to save state").with_detail(format!("{error}. The changes made are recorded in the state journal next to the state file; the next run replays it.")));
        } else {
            super::adopt::forget_intents(run, plan, &state).await;
        }
    }
    ApplyOutcome {
        state,
        diagnostics,
        writer: writer.unwrap_or_else(|| Box::new(NullWriter)),
    }
}

/// A writer that keeps nothing (when none was given).
struct NullWriter;

#[async_trait::async_trait]
impl crate::state::StateWriter for NullWriter {
    async fn record(&mut self, _change: &StateChange) -> Result<(), crate::state::StateError> {
        Ok(())
    }
    async fn finish(
        &mut self,
        _state: &crate::state::State,
    ) -> Result<(), crate::state::StateError> {
        Ok(())
    }
}

/// Records one change durably, then applies it to the working state.
pub(super) async fn record(run: &Run, change: StateChange) {
    // Group commit: the change joins a queue; whoever gets the writer next records everything
    // queued with one sync. A change is applied to the working state only once it is durable,
    // and in journal order. A caller whose change another one recorded leaves at once.
    let sequence = run.pending_records.enqueue(change);
    let mut writer = tokio::select! {
        biased;
        () = run.pending_records.wait_durable(sequence) => return,
        writer = run.writer.lock() => writer,
    };
    let (last, batch) = run.pending_records.take();
    if batch.is_empty() {
        // Another caller recorded this change along with its own while this one waited.
        return;
    }
    tracing::debug!(changes = batch.len(), "recording state changes");
    if let Some(writer) = writer.as_mut() {
        if let Err(error) = writer.record_all(&batch).await {
            run.error(
                Diagnostic::error("Failed to record state")
                    .with_detail(error.to_string())
                    .into(),
            );
        }
    }
    let mut state = run.state();
    for change in &batch {
        state.apply_change(change);
    }
    drop(state);
    run.pending_records.mark_durable(last);
}

fn token(plan: &Plan, address: &ResourceInstance, action: Action) -> String {
    let mut hasher = Sha256::new();
    hasher.update(plan.prior_lineage.as_bytes());
    hasher.update(plan.prior_serial.to_le_bytes());
    hasher.update(address.to_string().as_bytes());
    hasher.update(format!("{action:?}").as_bytes());
    let digest = hasher.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// An operation under way, as its progress lines name it: the action, the object, and when it
/// began (Terraform counts the provisioners' time as the operation's).
struct Running {
    action: Action,
    id: Option<ObjectId>,
    started: Instant,
}

/// Runs a step of an operation (the provider's call, or its provisioners), reporting progress
/// every ten seconds since the operation began.
async fn with_progress<F, T>(
    run: &Run,
    address: &ResourceInstance,
    running: &Running,
    future: F,
) -> T
where
    F: std::future::Future<Output = T>,
{
    tokio::pin!(future);
    let period = Duration::from_secs(10);
    let ticks_so_far = (running.started.elapsed().as_secs() / 10) as u32;
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::from_std(running.started) + period * (ticks_so_far + 1),
        period,
    );
    loop {
        tokio::select! {
            result = &mut future => return result,
            _ = ticker.tick() => run.events.event(Event::StillApplying {
                address: address.clone(),
                action: running.action,
                elapsed: running.started.elapsed(),
                id: running.id.clone(),
            }),
        }
    }
}

fn progress_for(run: &Arc<Run>, address: &ResourceInstance) -> Progress {
    let events = run.events.clone();
    let address = address.clone();
    Arc::new(move |message: &str| {
        events.event(Event::Message {
            address: address.clone(),
            message: message.to_string(),
        });
    })
}

/// Deletes one instance (a plain delete, or the old half of a replacement).
async fn destroy_instance(run: &Arc<Run>, plan: &Plan, change: &ResourceChange) -> bool {
    let Some(before) = change.before.clone() else {
        return true;
    };
    let address = &change.address;
    let provider_ref = super::parse_provider_address(&run.registry, &change.provider);
    let provider = provider_ref.as_ref().and_then(|p| run.provider(p));
    let configured = provider_ref.as_ref().is_some_and(|p| run.is_configured(p));
    let (Some(provider), true) = (provider, configured) else {
        // Never a silent skip, nor a call to a provider that is not configured (a `destroy`
        // configures every provider before its walk, and goes on when one fails): the object
        // stays, and the run says why.
        run.error(
            Diagnostic::error(format!(
                "{address}: not deleted: the provider {} that deletes it is not available or could not be configured",
                change.provider
            ))
            .with_detail("The object stays in the state. Correct the provider's configuration (its error is reported above) and run the command again.")
            .into(),
        );
        return false;
    };
    let timeout = resource_config(&run.tree, &address.module.module_path(), &address.resource)
        .and_then(|c| timeout_for(run, c, "delete", &address.module));
    let deposed = match (&change.deposed, change.action) {
        (Some(key), _) => Some(key.clone()),
        (None, Action::CreateThenDelete) => Some(deposed_key(plan, address)),
        _ => None,
    };
    let id = ObjectId::of_or_name(&before);
    run.events.event(Event::ApplyStarting {
        address: address.clone(),
        action: Action::Delete,
        deposed: deposed.clone(),
        id: id.clone(),
    });
    let running = Running {
        action: Action::Delete,
        id,
        started: Instant::now(),
    };
    let _permit = run.semaphore.acquire().await;
    if run.cancelled() {
        return false;
    }
    let provisioned = super::provision::before_destroy(run, change, deposed.is_some());
    if !with_progress(run, address, &running, provisioned).await {
        return false;
    }
    let prior_private = {
        let state = run.state();
        let object = match &deposed {
            Some(key) => state
                .deposed
                .get(address)
                .and_then(|objects| objects.get(key)),
            None => state.resources.get(address),
        };
        decode_private(object.and_then(|o| o.private.as_deref()))
    };
    let request = ApplyRequest {
        type_name: address.resource.type_name.clone(),
        prior: Some(before),
        planned: None,
        config: Value::Null,
        timeout,
        idempotency_token: token(plan, address, Action::Delete),
        progress: progress_for(run, address),
        prior_private,
        planned_private: Vec::new(),
    };
    let result = with_progress(run, address, &running, provider.apply(request)).await;
    match result {
        Ok(_) => {
            // A deposed object (one planned as such, or the old half of this run's
            // create_before_destroy replacement) leaves the deposed records; anything else the
            // instance itself.
            let forget = match &deposed {
                Some(key) => StateChange::ForgetDeposed {
                    address: address.clone(),
                    key: key.clone(),
                },
                None => StateChange::Remove {
                    address: address.clone(),
                },
            };
            record(run, forget).await;
            run.events.event(Event::ApplyDone {
                address: address.clone(),
                action: Action::Delete,
                elapsed: running.started.elapsed(),
                id: None,
            });
            true
        }
        Err(error) => {
            run.events.event(Event::ApplyFailed {
                address: address.clone(),
                action: Action::Delete,
            });
            let config =
                resource_config(&run.tree, &address.module.module_path(), &address.resource);
            run.error(located(address, &error, config));
            false
        }
    }
}

fn timeout_for(
    run: &Run,
    config: &ResourceConfig,
    operation: &str,
    module: &ModuleInstance,
) -> Option<Duration> {
    let expr = config.timeouts.get(operation)?;
    let value = run
        .eval(expr, module, &super::Repetition::None, None)
        .ok()?;
    super::parse_duration(value.as_str()?)
}

/// How one instance's task ended.
enum InstanceOutcome {
    /// Applied: its new value (`None` when the object is gone).
    Applied(Option<Value>),
    Failed(Diagnostics),
    /// Not started: an instance it picks failed, or the run was cancelled.
    Skipped,
}

type InstanceTask = tokio::task::JoinHandle<InstanceOutcome>;

/// Starts every changing instance of one resource node. The node's values go into the store
/// at once (an unchanged instance's recorded value, a changing one's unknown until it is
/// applied); each changing instance becomes a task that waits for the instances it picks, then
/// applies. The node's `(applied)` node collects the tasks ([`collect_instances`]).
async fn start_resource_node(
    run: &Arc<Run>,
    walker: &ApplyWalker,
    path: &ModulePath,
    resource: &Resource,
) -> Result<(), Diagnostics> {
    let Some(config) = resource_config(&run.tree, path, resource) else {
        return Ok(());
    };
    let (provider_ref, schema) = schema_for(run, config, path)?;
    let context = Arc::new(ResourceApply {
        plan: walker.plan.clone(),
        current: walker.current.clone(),
        config: config.clone(),
        provider_ref,
        schema,
        picked: walker.picked_resources(path, resource),
        gates: walker.gates.clone(),
        lookahead: walker.lookahead.clone(),
    });
    let mut tasks = Vec::new();
    let mut result = Ok(());
    for info in &run.module_instances(path) {
        match context.start_module_instance(run, info, resource) {
            Ok(started) => tasks.extend(started),
            Err(diagnostics) => {
                result = Err(diagnostics);
                break;
            }
        }
    }
    if let Err(mut diagnostics) = result {
        // What started finishes before the node reports its failure.
        if let Err(more) = collect_instances(tasks).await {
            diagnostics.extend(more);
        }
        return Err(diagnostics);
    }
    let key = (path.clone(), resource.clone());
    locked(&walker.started).insert(key, tasks);
    Ok(())
}

/// Waits for instance tasks: every error; a failure without errors when one was skipped (what
/// reads the resource as a whole does not run, as when the resource itself failed).
async fn collect_instances(tasks: Vec<InstanceTask>) -> Result<(), Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let mut skipped = false;
    for task in tasks {
        match task.await {
            Ok(InstanceOutcome::Applied(_)) => {}
            Ok(InstanceOutcome::Failed(errors)) => diagnostics.extend(errors),
            Ok(InstanceOutcome::Skipped) | Err(_) => skipped = true,
        }
    }
    if skipped || diagnostics.has_errors() {
        return Err(diagnostics);
    }
    Ok(())
}

/// One resource node being applied: what its instance tasks share.
struct ResourceApply {
    plan: Arc<Plan>,
    /// [`ApplyWalker::current`].
    current: Arc<HashMap<ResourceInstance, usize>>,
    config: ResourceConfig,
    provider_ref: crate::config::ProviderRef,
    schema: crate::providers::ResourceSchema,
    /// The resources whose instance each instance waits for: the one with its own key.
    picked: Vec<Resource>,
    gates: Arc<Gates>,
    /// Permits to go ahead of the provider call: an instance takes one before it is evaluated
    /// and gives it back once its provider call has its `-parallelism` slot. The slots are
    /// handed out in arrival order, so without this bound every ready instance was evaluated,
    /// planned and journaled before the first was applied, each holding its apply's state
    /// meanwhile (some kilobytes each: at 10,000 creates, over 100 MB before the first
    /// provider call).
    lookahead: Arc<tokio::sync::Semaphore>,
}

impl ResourceApply {
    /// Expands the resource in one module instance, puts its values in the store, and starts
    /// a task per changing instance.
    fn start_module_instance(
        self: &Arc<Self>,
        run: &Arc<Run>,
        info: &super::store::ModuleInstanceInfo,
        resource: &Resource,
    ) -> Result<Vec<InstanceTask>, Diagnostics> {
        let (expansion, repetitions) = expand_resource(run, &self.config, info)?;
        let mut values = BTreeMap::new();
        let mut changing = Vec::new();
        for repetition in repetitions {
            let address = ResourceInstance {
                module: info.instance.clone(),
                resource: resource.clone(),
                key: repetition.key(),
            };
            let current = recorded_object(run, &address, &self.schema);
            // The change's index, not a copy: the plan outlives the tasks.
            let change = self.current.get(&address).copied();
            match change.map(|index| (index, &self.plan.changes[index])) {
                Some((index, planned))
                    if planned.action != Action::NoOp && planned.action != Action::Delete =>
                {
                    values.insert(address.key.clone(), Value::Unknown(Type::Any));
                    self.gates.close(address.clone());
                    changing.push((address, index, current, repetition));
                }
                _ => {
                    if let Some(current) = current {
                        values.insert(address.key.clone(), current.value.clone());
                    } else if !run.options.targets.is_empty() {
                        // An instance `-target` left out (`-target=a[1]` creates only `a[1]`):
                        // it holds its place, with no value yet, as in Terraform.
                        values.insert(address.key.clone(), Value::Unknown(Type::Any));
                    }
                }
            }
        }
        // In the store before any task starts: a task writes its own value there.
        let values = ResourceValues {
            expansion,
            instances: values,
            unknown: false,
        };
        run.store_mut()
            .resources
            .insert((info.instance.clone(), resource.clone()), values);
        let tasks = changing
            .into_iter()
            .map(|(address, change, current, repetition)| {
                let (context, run) = (self.clone(), run.clone());
                tokio::spawn(async move {
                    context
                        .run_instance(&run, address, change, current, repetition)
                        .await
                })
            })
            .collect();
        Ok(tasks)
    }

    /// One instance's task: its outcome, its value in the store, its gate opened.
    async fn run_instance(
        &self,
        run: &Arc<Run>,
        address: ResourceInstance,
        change: usize,
        current: Option<InstanceObject>,
        repetition: super::Repetition,
    ) -> InstanceOutcome {
        let change = &self.plan.changes[change];
        let outcome = self
            .outcome(run, &address, change, current, &repetition)
            .await;
        let value = match &outcome {
            InstanceOutcome::Applied(value) => value.clone(),
            _ => None,
        };
        set_instance_value(run, &address, value);
        let applied = matches!(outcome, InstanceOutcome::Applied(_));
        self.gates.open(&address, applied);
        outcome
    }

    /// Waits for the instances this one picks, then evaluates and applies it.
    async fn outcome(
        &self,
        run: &Arc<Run>,
        address: &ResourceInstance,
        change: &ResourceChange,
        current: Option<InstanceObject>,
        repetition: &super::Repetition,
    ) -> InstanceOutcome {
        for picked in &self.picked {
            let picked = ResourceInstance {
                module: address.module.clone(),
                resource: picked.clone(),
                key: address.key.clone(),
            };
            if !self.gates.wait(&picked).await {
                return InstanceOutcome::Skipped;
            }
        }
        if run.cancelled() {
            return InstanceOutcome::Skipped;
        }
        let Ok(lookahead) = self.lookahead.acquire().await else {
            return InstanceOutcome::Skipped;
        };
        if run.cancelled() {
            return InstanceOutcome::Skipped;
        }
        let (config, schema) = (&self.config, &self.schema);
        let config_value =
            match run.eval_resource_body(config, &schema.block, &address.module, repetition) {
                Ok(value) => value,
                Err(diagnostics) => return InstanceOutcome::Failed(diagnostics),
            };
        let node = Node::Resource {
            module: address.module.module_path(),
            resource: address.resource.clone(),
        };
        let dependencies = {
            let store = run.store();
            dependency_addresses(&store, &resource_dependencies(&run.graph, &node))
        };
        let instance = InstanceApply {
            run,
            plan: &self.plan,
            address,
            config,
            provider_ref: &self.provider_ref,
            schema,
            change,
            dependencies,
            repetition,
        };
        // Boxed: the apply's state (some kilobytes) exists only while it runs, not in every
        // task waiting for its turn.
        let result = Box::pin(instance.apply(current, config_value, lookahead)).await;
        match result {
            Ok(value) => InstanceOutcome::Applied(value),
            Err(diagnostics) => InstanceOutcome::Failed(diagnostics),
        }
    }
}

/// An instance's value in the store, once it is applied (`None`: it has none).
fn set_instance_value(run: &Run, address: &ResourceInstance, value: Option<Value>) {
    let mut store = run.store_mut();
    let key = (address.module.clone(), address.resource.clone());
    if let Some(values) = store.resources.get_mut(&key) {
        match value {
            Some(value) => values.instances.insert(address.key.clone(), value),
            None => values.instances.remove(&address.key),
        };
    }
}

/// Whether every known part of `planned` is the same in `final_value`.
fn consistent(planned: &Value, final_value: &Value) -> bool {
    match (planned.unmarked(), final_value.unmarked()) {
        (Value::Unknown(_), _) => true,
        (Value::Object(a), Value::Object(b)) | (Value::Map(a), Value::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| consistent(v, w)))
        }
        (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| consistent(v, w))
        }
        (p, f) => !p.is_wholly_known() || p.equals(f) != Some(false),
    }
}

/// One changing instance to apply: what it is, its configuration, and the plan's change.
struct InstanceApply<'a> {
    run: &'a Arc<Run>,
    plan: &'a Plan,
    address: &'a ResourceInstance,
    config: &'a ResourceConfig,
    provider_ref: &'a crate::config::ProviderRef,
    schema: &'a crate::providers::ResourceSchema,
    change: &'a ResourceChange,
    dependencies: Vec<crate::addrs::AbsResource>,
    repetition: &'a super::Repetition,
}

/// The provider's final plan for a create or update, with what the apply request needs.
struct FinalPlan {
    operation: Action,
    prior: Option<Value>,
    prior_private: Vec<u8>,
    config: Value,
    planned: crate::providers::PlannedChange,
}

impl InstanceApply<'_> {
    /// Applies the instance's change: its final plan, its intent recorded, the provider's
    /// call, and what it made recorded. `lookahead` ([`ResourceApply::lookahead`]) is given
    /// back once the provider call has its slot.
    async fn apply(
        &self,
        current: Option<InstanceObject>,
        config_value: Value,
        lookahead: tokio::sync::SemaphorePermit<'_>,
    ) -> Result<Option<Value>, Diagnostics> {
        let (run, config) = (self.run, self.config);
        let Some(provider) = run.provider(self.provider_ref) else {
            return Ok(None);
        };
        if config.addr.mode == ResourceMode::Data {
            drop(lookahead);
            return self.read_data(&*provider, &config_value).await;
        }
        self.apply_managed(&*provider, current, config_value, lookahead)
            .await
    }

    async fn apply_managed(
        &self,
        provider: &dyn crate::providers::Provider,
        current: Option<InstanceObject>,
        config_value: Value,
        lookahead: tokio::sync::SemaphorePermit<'_>,
    ) -> Result<Option<Value>, Diagnostics> {
        let (run, address, config) = (self.run, self.address, self.config);
        let Some(final_plan) = self
            .final_plan(provider, current.as_ref(), config_value)
            .await?
        else {
            // Interrupted while waiting for a turn: this operation never starts.
            return Ok(current.map(|c| c.value));
        };
        let (deposed_key, idempotency_token) = self.record_intent(&final_plan).await;
        let permit = run.semaphore.acquire().await;
        drop(lookahead);
        if run.cancelled() {
            if final_plan.operation == Action::Create {
                abandon_create(run, address, deposed_key.as_deref()).await;
            }
            return Ok(current.map(|c| c.value));
        }
        let operation = final_plan.operation;
        let running = Running {
            action: operation,
            // A create (also a replacement's) has no prior object to name.
            id: match operation {
                Action::Create => None,
                _ => final_plan.prior.as_ref().and_then(ObjectId::of_or_name),
            },
            started: Instant::now(),
        };
        let result = self
            .call_provider(provider, &final_plan, idempotency_token, &running)
            .await;
        drop(permit);
        match result {
            Ok(Some(new_object)) => {
                let planned = &final_plan.planned.planned;
                self.applied(planned, new_object, &running).await
            }
            Ok(None) => {
                let address = address.clone();
                record(run, StateChange::Remove { address }).await;
                Ok(None)
            }
            Err(error) => {
                self.failed(&final_plan, deposed_key.as_deref(), &error)
                    .await;
                Err(located(address, &error, Some(config)))
            }
        }
    }

    /// The object the state records for this instance.
    fn object(&self, value: Value, status: ObjectStatus, private: &[u8]) -> InstanceObject {
        InstanceObject {
            value,
            provider: self.run.provider_address(self.provider_ref),
            schema_version: self.schema.version,
            dependencies: self.dependencies.clone(),
            create_before_destroy: self.config.lifecycle.create_before_destroy,
            status,
            private: encode_private(private),
        }
    }

    /// A data source the plan deferred to apply: read now and recorded.
    async fn read_data(
        &self,
        provider: &dyn crate::providers::Provider,
        config_value: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        let (run, address) = (self.run, self.address);
        run.events.event(Event::Reading {
            address: address.clone(),
        });
        let _permit = run.semaphore.acquire().await;
        let value = provider
            .read_data_source(&address.resource.type_name, config_value)
            .await
            .map_err(|error| located(address, &error, Some(self.config)))?;
        let value = merge_config(config_value, value);
        let object = InstanceObject {
            create_before_destroy: false,
            ..self.object(value.clone(), ObjectStatus::Ready, &[])
        };
        let address = address.clone();
        record(run, StateChange::Put { address, object }).await;
        Ok(Some(value))
    }

    /// Re-plans the instance with the values now known and checks the result against the plan;
    /// `None` when the run was interrupted before its turn.
    async fn final_plan(
        &self,
        provider: &dyn crate::providers::Provider,
        current: Option<&InstanceObject>,
        config_value: Value,
    ) -> Result<Option<FinalPlan>, Diagnostics> {
        let (run, address, config) = (self.run, self.address, self.config);
        let prior = match self.change.action {
            Action::Update => current.map(|c| c.value.clone()),
            _ => None,
        };
        let config_value = match &prior {
            Some(prior) => apply_ignore_changes(
                &config.lifecycle.ignore_changes,
                self.schema,
                prior,
                config_value,
            ),
            None => config_value,
        };
        let operation = if prior.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        // The permits bound provider calls, not state recording: the journal's synced writes
        // are serialized, and holding a permit through them kept the provider idle (issue 4's
        // scheduling benchmark in BENCHMARKS.md).
        let _planning_permit = run.semaphore.acquire().await;
        if run.cancelled() {
            return Ok(None);
        }
        let prior_private = match &prior {
            Some(_) => decode_private(current.and_then(|c| c.private.as_deref())),
            None => Vec::new(),
        };
        let planned = provider
            .plan_resource(PlanRequest {
                type_name: &address.resource.type_name,
                prior: prior.as_ref(),
                config: &config_value,
                prior_private: &prior_private,
            })
            .await
            .map_err(|error| located(address, &error, Some(config)))?;
        if let Some(expected) = &self.change.after {
            if !consistent(expected, &planned.planned) {
                return Err(Diagnostic::error(format!("{address}: Provider produced inconsistent final plan"))
                    .with_detail("When expanding the plan for this resource to include new values learned so far during apply, the result differs from the plan. This is a bug in the provider; run plan again.")
                    .with_span(config.span.clone())
                    .into());
            }
        }
        Ok(Some(FinalPlan {
            operation,
            prior,
            prior_private,
            config: config_value,
            planned,
        }))
    }

    /// Records what must be on record before the provider is called: a create_before_destroy
    /// replacement sets the old object aside (deposed), so that the state records both until
    /// the old one is gone; a create is recorded as intended with its client token, and a
    /// create interrupted earlier reuses that token, so the provider hands back what it made.
    /// Returns the deposed key and the operation's token.
    async fn record_intent(&self, final_plan: &FinalPlan) -> (Option<String>, String) {
        let operation = final_plan.operation;
        let (run, address, action) = (self.run, self.address, self.change.action);
        let plan = self.plan;
        let deposed_key = (action == Action::CreateThenDelete).then(|| deposed_key(plan, address));
        if let Some(key) = &deposed_key {
            let (address, key) = (address.clone(), key.clone());
            record(run, StateChange::Depose { address, key }).await;
        }
        if operation != Action::Create {
            return (deposed_key, token(plan, address, action));
        }
        let pending = run.state().pending_creates.get(address).cloned();
        let token = pending.map_or_else(|| token(plan, address, action), |p| p.token);
        record(
            run,
            StateChange::CreateStarted {
                address: address.clone(),
                token: token.clone(),
                planned: final_plan.planned.planned.clone().without_unknowns(),
            },
        )
        .await;
        (deposed_key, token)
    }

    /// The provider's create or update, reported as it runs.
    async fn call_provider(
        &self,
        provider: &dyn crate::providers::Provider,
        final_plan: &FinalPlan,
        idempotency_token: String,
        running: &Running,
    ) -> Result<Option<crate::providers::ObjectState>, crate::providers::ProviderError> {
        let (run, address, operation) = (self.run, self.address, final_plan.operation);
        run.events.event(Event::ApplyStarting {
            address: address.clone(),
            action: operation,
            deposed: None,
            id: running.id.clone(),
        });
        let timeout = timeout_for(
            run,
            self.config,
            if operation == Action::Create {
                "create"
            } else {
                "update"
            },
            &address.module,
        );
        let started = Instant::now();
        let request = ApplyRequest {
            type_name: address.resource.type_name.clone(),
            prior: final_plan.prior.clone(),
            planned: Some(final_plan.planned.planned.clone()),
            config: final_plan.config.clone(),
            timeout,
            idempotency_token,
            progress: progress_for(run, address),
            prior_private: final_plan.prior_private.clone(),
            planned_private: final_plan.planned.private.clone(),
        };
        tracing::debug!(%address, ?operation, "provider apply starts");
        let result = with_progress(run, address, running, provider.apply(request)).await;
        tracing::debug!(
            %address,
            ?operation,
            ok = result.is_ok(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "provider apply done"
        );
        result
    }

    /// Records the object the provider made or updated, runs the provisioners of a create,
    /// and checks the postconditions.
    async fn applied(
        &self,
        planned: &Value,
        new_object: crate::providers::ObjectState,
        running: &Running,
    ) -> Result<Option<Value>, Diagnostics> {
        let (run, address, operation) = (self.run, self.address, running.action);
        let new_value = remark(self.schema, planned, new_object.value);
        let object = self.object(new_value.clone(), ObjectStatus::Ready, &new_object.private);
        record(
            run,
            StateChange::Put {
                address: address.clone(),
                object: object.clone(),
            },
        )
        .await;
        if operation == Action::Create {
            let provisioned =
                super::provision::after_create(run, address, self.config, object, self.repetition);
            with_progress(run, address, running, provisioned).await?;
        }
        run.events.event(Event::ApplyDone {
            address: address.clone(),
            action: operation,
            elapsed: running.started.elapsed(),
            id: ObjectId::of(&new_value),
        });
        let mut postcondition_errors = Diagnostics::new();
        for condition in &self.config.lifecycle.postconditions {
            if let Err(d) = check_condition(
                run,
                condition,
                &address.module,
                self.repetition,
                Some(new_value.clone()),
                "Resource postcondition failed",
            ) {
                postcondition_errors.extend(d);
            }
        }
        postcondition_errors.into_result(Some(new_value))
    }

    /// A failed create or update: what the provider reports it left is recorded (tainted, for
    /// a create); a create that left nothing gives up its intent.
    async fn failed(
        &self,
        final_plan: &FinalPlan,
        deposed_key: Option<&str>,
        error: &crate::providers::ProviderError,
    ) {
        let (run, address, operation) = (self.run, self.address, final_plan.operation);
        run.events.event(Event::ApplyFailed {
            address: address.clone(),
            action: operation,
        });
        if let Some(partial) = error.partial_state.clone() {
            let status = if operation == Action::Create {
                ObjectStatus::Tainted
            } else {
                ObjectStatus::Ready
            };
            let private = &final_plan.planned.private;
            let planned = &final_plan.planned.planned;
            let object = self.object(remark(self.schema, planned, partial), status, private);
            let address = address.clone();
            record(run, StateChange::Put { address, object }).await;
        } else if operation == Action::Create {
            abandon_create(run, address, deposed_key).await;
        }
    }
}

/// A started create made nothing: forget its intent, and put back the object a
/// create_before_destroy replacement had set aside (it stays, since its successor does not exist).
async fn abandon_create(run: &Run, address: &ResourceInstance, deposed_key: Option<&str>) {
    record(
        run,
        StateChange::CreateAbandoned {
            address: address.clone(),
        },
    )
    .await;
    if let Some(key) = deposed_key {
        record(
            run,
            StateChange::RestoreDeposed {
                address: address.clone(),
                key: key.to_string(),
            },
        )
        .await;
    }
}

/// The key under which a create_before_destroy replacement deposes the old object: derived from
/// the plan, so the create and the later destroy of the old object agree on it (8 hex digits,
/// as Terraform's keys).
fn deposed_key(plan: &Plan, address: &ResourceInstance) -> String {
    token(plan, address, Action::CreateThenDelete)[..8].to_string()
}

/// The sensitive marks on a provider's result: the schema's, and the planned value's (what the
/// configuration marked, e.g. an argument set from a sensitive variable), which the provider
/// does not return and Terraform puts back the same way.
fn remark(schema: &crate::providers::ResourceSchema, planned: &Value, value: Value) -> Value {
    let (_, planned_marks) = planned.clone().deep_unmark();
    mark_sensitive_attributes(&schema.block, value).mark_paths(&planned_marks)
}
