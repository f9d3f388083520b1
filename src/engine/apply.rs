//! The apply walk: the plan's changes made real, in dependency order, with every operation
//! recorded before anything that depends on it starts.

use super::plan::{
    apply_ignore_changes, check_condition, config_walk_plan, expand, merge_config, resource_config,
    schema_for, visit_node,
};
use super::provider_diagnostics::{decode_private, encode_private, located};
use super::store::ResourceValues;
use super::walk::{walk, WalkPlan};
use super::{dependency_addresses, resource_dependencies, ApplyOutcome, Event, Phase, Run};
use crate::addrs::{ModuleInstance, Resource, ResourceInstance, ResourceMode};
use crate::config::ResourceConfig;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::graph::{ModulePath, Node};
use crate::plan::{Action, Plan, PlanMode, ResourceChange};
use crate::providers::{ApplyRequest, PlanRequest, Progress};
use crate::state::{InstanceObject, ObjectStatus, OutputValue, StateChange};
use crate::value::{Type, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn the_plan(run: &Run) -> &Plan {
    match &run.phase {
        Phase::Apply(plan) => plan,
        _ => unreachable_plan(),
    }
}

fn unreachable_plan() -> &'static Plan {
    // Only the apply walk calls this module; a static empty plan keeps it total.
    static EMPTY: std::sync::OnceLock<Plan> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Plan {
        format_version: Plan::FORMAT_VERSION,
        mode: PlanMode::Normal,
        workspace: String::new(),
        prior_lineage: String::new(),
        prior_serial: 0,
        variables: BTreeMap::new(),
        changes: Vec::new(),
        drift: Vec::new(),
        output_changes: BTreeMap::new(),
        targets: Vec::new(),
        replace: Vec::new(),
    })
}

/// Applies the run's plan.
pub(super) async fn apply(run: Arc<Run>) -> ApplyOutcome {
    let plan = the_plan(&run).clone();
    let destroy_mode = plan.mode == PlanMode::Destroy;
    let deletions: Vec<ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| {
            matches!(
                c.action,
                Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
            )
        })
        .cloned()
        .collect();
    let config_plan = if destroy_mode {
        WalkPlan {
            dependencies: Vec::new(),
        }
    } else {
        config_walk_plan(&run)
    };
    let config_count = config_plan.dependencies.len();
    let walk_plan = add_deletions(&run, config_plan, &deletions, destroy_mode);
    if destroy_mode {
        let diagnostics = super::plan::configure_providers(&run).await;
        run.error(diagnostics);
    }
    if plan.mode != PlanMode::RefreshOnly {
        // What `moved` and `removed` blocks decided is recorded first: the walk below works on
        // the addresses the plan used.
        for change in &plan.changes {
            if let Some(from) = &change.previous_address {
                record(
                    &run,
                    StateChange::Move {
                        from: from.clone(),
                        to: change.address.clone(),
                    },
                )
                .await;
            }
            if change.importing.is_some() {
                let object = run
                    .state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .resources
                    .get(&change.address)
                    .cloned();
                if let Some(object) = object {
                    record(
                        &run,
                        StateChange::Put {
                            address: change.address.clone(),
                            object,
                        },
                    )
                    .await;
                }
            }
            if change.action == Action::Forget {
                record(
                    &run,
                    StateChange::Remove {
                        address: change.address.clone(),
                    },
                )
                .await;
            }
        }
        let run2 = run.clone();
        let deletions = Arc::new(deletions);
        walk(&walk_plan, run.cancelled.clone(), move |i| {
            let run = run2.clone();
            let deletions = deletions.clone();
            async move {
                if i < config_count {
                    visit_node(run, i).await
                } else {
                    destroy_instance(&run, &deletions[i - config_count]).await
                }
            }
        })
        .await;
    }
    // A destroy leaves no data sources behind either.
    if destroy_mode
        && plan.targets.is_empty()
        && !run.cancelled()
        && !run
            .diagnostics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .has_errors()
    {
        let data: Vec<ResourceInstance> = run
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .resources
            .keys()
            .filter(|a| a.resource.mode == ResourceMode::Data)
            .cloned()
            .collect();
        for address in data {
            record(&run, StateChange::Remove { address }).await;
        }
    }
    // Root outputs, from what the walk evaluated. One the walk could not finish (a failed
    // resource it depends on) keeps its recorded value, so a failed apply does not make the
    // next plan show every such output as new.
    let outputs: BTreeMap<String, OutputValue> = if destroy_mode && plan.targets.is_empty() {
        BTreeMap::new()
    } else {
        let store = run.store.read().unwrap_or_else(|e| e.into_inner());
        let recorded = run
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outputs
            .clone();
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
    };
    if plan.mode == PlanMode::RefreshOnly
        || run.cancelled()
        || !outputs.is_empty()
        || !run
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outputs
            .is_empty()
    {
        record(&run, StateChange::Outputs { outputs }).await;
    }
    let state = run.state.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut diagnostics = run
        .diagnostics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if !destroy_mode && !diagnostics.has_errors() {
        diagnostics.extend(super::checks::evaluate(&run).await);
    }
    if !plan.targets.is_empty() && !diagnostics.has_errors() {
        diagnostics.push(Diagnostic::warning("Applied changes may be incomplete").with_detail("The plan was created with the -target option in effect, so some changes requested in the configuration may have been ignored and the output values may not be fully updated. Run the following command to verify that no other changes are pending:\n    strata plan\n\nNote that the -target option is not suitable for routine use, and is provided only for exceptional situations such as recovering from errors or mistakes, or when Strata specifically suggests to use it as part of an error message."));
    }
    let mut writer = run.writer.lock().await.take();
    if let Some(writer) = writer.as_mut() {
        if let Err(error) = writer.finish(&state).await {
            diagnostics.push(Diagnostic::error("Failed to save state").with_detail(format!("{error}. The changes made are recorded in the state journal next to the state file; the next run replays it.")));
        } else {
            super::adopt::forget_intents(&run, &plan, &state).await;
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

/// Adds one node per deletion to the configuration's walk plan, ordered as Terraform orders
/// them: dependents are destroyed before what they depend on; a plain replacement destroys
/// before it creates; a create_before_destroy replacement destroys after its dependents moved on.
fn add_deletions(
    run: &Run,
    mut plan: WalkPlan,
    deletions: &[ResourceChange],
    destroy_mode: bool,
) -> WalkPlan {
    let base = plan.dependencies.len();
    plan.dependencies
        .extend(deletions.iter().map(|_| Vec::new()));
    let state = run.state.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let node_of = |address: &ResourceInstance| Node::Resource {
        module: address.module.module_path(),
        resource: address.resource.clone(),
    };
    // What each deleted instance depends on: recorded dependencies and configuration ones.
    let depends: Vec<HashSet<(ModulePath, Resource)>> = deletions
        .iter()
        .map(|change| {
            let mut set = HashSet::new();
            if let Some(object) = state.resources.get(&change.address) {
                for dep in &object.dependencies {
                    set.insert((dep.module.module_path(), dep.resource.clone()));
                }
            }
            for dep in resource_dependencies(&run.graph, &node_of(&change.address)) {
                if let Node::Resource { module, resource } = dep {
                    set.insert((module, resource));
                }
            }
            set
        })
        .collect();
    for (i, depends_on) in depends.iter().enumerate() {
        for (j, b) in deletions.iter().enumerate() {
            if i != j
                && depends_on
                    .contains(&(b.address.module.module_path(), b.address.resource.clone()))
            {
                // a depends on b: destroy a first.
                plan.dependencies[base + j].push(base + i);
            }
        }
    }
    if destroy_mode {
        return plan;
    }
    for (i, change) in deletions.iter().enumerate() {
        let node = node_of(&change.address);
        let Some(&config_index) = run.graph.index.get(&node) else {
            // An orphan: configuration resources that depended on it change first.
            for (address, object) in &state.resources {
                if object.dependencies.iter().any(|d| {
                    d.resource == change.address.resource && d.module == change.address.module
                }) {
                    if let Some(&dependent) = run.graph.index.get(&node_of(address)) {
                        plan.dependencies[base + i].push(dependent.index());
                    }
                }
            }
            continue;
        };
        match change.action {
            Action::DeleteThenCreate => plan.dependencies[config_index.index()].push(base + i),
            Action::CreateThenDelete => {
                plan.dependencies[base + i].push(config_index.index());
                for other in run.graph.index.keys() {
                    if matches!(other, Node::Resource { .. })
                        && resource_dependencies(&run.graph, other).contains(&node)
                    {
                        plan.dependencies[base + i].push(run.graph.index[other].index());
                    }
                }
            }
            _ => {}
        }
    }
    plan
}

/// Records one change durably, then applies it to the working state.
pub(super) async fn record(run: &Run, change: StateChange) {
    // Group commit: the change joins a queue; whoever gets the writer next records everything
    // queued with one sync. A change is applied to the working state only once it is durable,
    // and in journal order.
    run.pending_records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(change);
    let mut writer = run.writer.lock().await;
    let batch = std::mem::take(
        &mut *run
            .pending_records
            .lock()
            .unwrap_or_else(|e| e.into_inner()),
    );
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
    let mut state = run.state.lock().unwrap_or_else(|e| e.into_inner());
    for change in &batch {
        state.apply_change(change);
    }
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

/// Runs a provider operation, reporting progress every ten seconds.
async fn with_progress<F, T>(run: &Run, address: &ResourceInstance, action: Action, future: F) -> T
where
    F: std::future::Future<Output = T>,
{
    let started = Instant::now();
    tokio::pin!(future);
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(10),
        Duration::from_secs(10),
    );
    loop {
        tokio::select! {
            result = &mut future => return result,
            _ = ticker.tick() => run.events.event(Event::StillApplying { address: address.clone(), action, elapsed: started.elapsed() }),
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

fn id_of(value: &Value) -> Option<String> {
    value
        .get_attr("id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Deletes one instance (a plain delete, or the old half of a replacement).
async fn destroy_instance(run: &Arc<Run>, change: &ResourceChange) -> bool {
    let Some(before) = change.before.clone() else {
        return true;
    };
    let Some(provider_ref) = super::parse_provider_address(&run.registry, &change.provider) else {
        return false;
    };
    let Some(provider) = run.provider(&provider_ref) else {
        return false;
    };
    let address = &change.address;
    let timeout = resource_config(&run.tree, &address.module.module_path(), &address.resource)
        .and_then(|c| timeout_for(run, c, "delete", &address.module));
    let deposed = match (&change.deposed, change.action) {
        (Some(key), _) => Some(key.clone()),
        (None, Action::CreateThenDelete) => Some(deposed_key(the_plan(run), address)),
        _ => None,
    };
    run.events.event(Event::ApplyStarting {
        address: address.clone(),
        action: Action::Delete,
        deposed: deposed.clone(),
    });
    let started = Instant::now();
    let _permit = run.semaphore.acquire().await;
    if run.cancelled() || !super::provision::before_destroy(run, change, deposed.is_some()).await {
        return false;
    }
    let prior_private = {
        let state = run.state.lock().unwrap_or_else(|e| e.into_inner());
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
        idempotency_token: token(the_plan(run), address, Action::Delete),
        progress: progress_for(run, address),
        prior_private,
        planned_private: Vec::new(),
    };
    let result = with_progress(run, address, Action::Delete, provider.apply(request)).await;
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
                elapsed: started.elapsed(),
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

/// Applies every changing instance of one resource node.
pub(super) async fn apply_resource_node(
    run: &Arc<Run>,
    path: &ModulePath,
    resource: &Resource,
) -> Result<(), Diagnostics> {
    let Some(config) = resource_config(&run.tree, path, resource) else {
        return Ok(());
    };
    let (provider_ref, schema) = schema_for(run, config, path)?;
    let plan = the_plan(run);
    let module_instances = run
        .store
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .instances_of(path);
    let node = Node::Resource {
        module: path.clone(),
        resource: resource.clone(),
    };
    let mut diagnostics = Diagnostics::new();
    for info in &module_instances {
        let (expansion, repetitions) = expand(
            run,
            config.count.as_ref(),
            config.for_each.as_ref(),
            &info.instance,
            &info.repetition,
        )?;
        let mut values = BTreeMap::new();
        let mut tasks = Vec::new();
        for repetition in repetitions {
            let address = ResourceInstance {
                module: info.instance.clone(),
                resource: resource.clone(),
                key: repetition.key(),
            };
            let change = plan.change_for(&address).cloned();
            let current = run
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .resources
                .get(&address)
                .cloned()
                .map(|mut object| {
                    object.value = super::plan::typed(&schema.block, object.value);
                    object
                });
            let change = match change {
                Some(change)
                    if change.action != Action::NoOp && change.action != Action::Delete =>
                {
                    change
                }
                _ => {
                    if let Some(current) = current {
                        values.insert(address.key.clone(), current.value.clone());
                    } else if !run.options.targets.is_empty() {
                        // An instance `-target` left out (`-target=a[1]` creates only `a[1]`):
                        // it holds its place, with no value yet, as in Terraform.
                        values.insert(address.key.clone(), Value::Unknown(Type::Any));
                    }
                    continue;
                }
            };
            if run.cancelled() {
                continue;
            }
            let config_value =
                match run.eval_resource_body(config, &schema.block, &info.instance, &repetition) {
                    Ok(v) => v,
                    Err(d) => {
                        diagnostics.extend(d);
                        continue;
                    }
                };
            let dependencies = {
                let store = run.store.read().unwrap_or_else(|e| e.into_inner());
                dependency_addresses(&store, &resource_dependencies(&run.graph, &node))
            };
            let run = run.clone();
            let provider_ref = provider_ref.clone();
            let schema = schema.clone();
            let config = config.clone();
            let repetition = repetition.clone();
            tasks.push(tokio::spawn(async move {
                let result = apply_instance(
                    &run,
                    &address,
                    &config,
                    &provider_ref,
                    &schema,
                    &change,
                    current,
                    config_value,
                    dependencies,
                    &repetition,
                )
                .await;
                (address, result)
            }));
        }
        for task in tasks {
            let Ok((address, result)) = task.await else {
                continue;
            };
            match result {
                Ok(Some(value)) => {
                    values.insert(address.key.clone(), value);
                }
                Ok(None) => {}
                Err(d) => diagnostics.extend(d),
            }
        }
        run.store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .resources
            .insert(
                (info.instance.clone(), resource.clone()),
                ResourceValues {
                    expansion,
                    instances: values,
                    unknown: false,
                },
            );
    }
    diagnostics.into_result(())
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

#[allow(clippy::too_many_arguments)]
async fn apply_instance(
    run: &Arc<Run>,
    address: &ResourceInstance,
    config: &ResourceConfig,
    provider_ref: &crate::config::ProviderRef,
    schema: &crate::providers::ResourceSchema,
    change: &ResourceChange,
    current: Option<InstanceObject>,
    config_value: Value,
    dependencies: Vec<crate::addrs::AbsResource>,
    repetition: &super::Repetition,
) -> Result<Option<Value>, Diagnostics> {
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(None);
    };
    let located_at = |summary: String, detail: String| -> Diagnostics {
        Diagnostic::error(format!("{address}: {summary}"))
            .with_detail(detail)
            .with_span(config.span.clone())
            .into()
    };
    if config.addr.mode == ResourceMode::Data {
        run.events.event(Event::Reading {
            address: address.clone(),
        });
        let _permit = run.semaphore.acquire().await;
        let value = provider
            .read_data_source(&address.resource.type_name, &config_value)
            .await
            .map_err(|error| located(address, &error, Some(config)))?;
        let value = merge_config(&config_value, value);
        record(
            run,
            StateChange::Put {
                address: address.clone(),
                object: InstanceObject {
                    value: value.clone(),
                    provider: run.provider_address(provider_ref),
                    schema_version: schema.version,
                    dependencies,
                    create_before_destroy: false,
                    status: ObjectStatus::Ready,
                    private: None,
                },
            },
        )
        .await;
        return Ok(Some(value));
    }
    let prior = match change.action {
        Action::Update => current.as_ref().map(|c| c.value.clone()),
        _ => None,
    };
    let config_value = match &prior {
        Some(prior) => apply_ignore_changes(
            &config.lifecycle.ignore_changes,
            schema,
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
    let planning_permit = run.semaphore.acquire().await;
    // Interrupted while waiting for a turn: this operation never starts.
    if run.cancelled() {
        return Ok(current.map(|c| c.value));
    }
    let prior_private = match &prior {
        Some(_) => decode_private(current.as_ref().and_then(|c| c.private.as_deref())),
        None => Vec::new(),
    };
    let final_plan = provider
        .plan_resource(PlanRequest {
            type_name: &address.resource.type_name,
            prior: prior.as_ref(),
            config: &config_value,
            prior_private: &prior_private,
        })
        .await
        .map_err(|error| located(address, &error, Some(config)))?;
    // The permits bound provider calls, not state recording: the journal's synced writes are
    // serialized, and holding a permit through them kept the provider idle (issue 4's
    // scheduling benchmark in BENCHMARKS.md).
    drop(planning_permit);
    if let Some(planned) = &change.after {
        if !consistent(planned, &final_plan.planned) {
            return Err(located_at(
                "Provider produced inconsistent final plan".into(),
                "When expanding the plan for this resource to include new values learned so far during apply, the result differs from the plan. This is a bug in the provider; run plan again.".into(),
            ));
        }
    }
    let timeout = timeout_for(
        run,
        config,
        if operation == Action::Create {
            "create"
        } else {
            "update"
        },
        &address.module,
    );
    // A create is recorded as intended before the provider is called, with its client token; a
    // create interrupted earlier reuses that token, so the provider hands back what it made.
    // A create_before_destroy replacement sets the old object aside (deposed) before making its
    // successor, so that the state records both until the old one is gone.
    let deposed_key =
        (change.action == Action::CreateThenDelete).then(|| deposed_key(the_plan(run), address));
    if let Some(key) = &deposed_key {
        record(
            run,
            StateChange::Depose {
                address: address.clone(),
                key: key.clone(),
            },
        )
        .await;
    }
    let idempotency_token = if operation == Action::Create {
        let pending = run
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending_creates
            .get(address)
            .cloned();
        let token = pending.unwrap_or_else(|| token(the_plan(run), address, change.action));
        record(
            run,
            StateChange::CreateStarted {
                address: address.clone(),
                token: token.clone(),
            },
        )
        .await;
        token
    } else {
        token(the_plan(run), address, change.action)
    };
    let permit = run.semaphore.acquire().await;
    if run.cancelled() {
        if operation == Action::Create {
            abandon_create(run, address, deposed_key.as_deref()).await;
        }
        return Ok(current.map(|c| c.value));
    }
    run.events.event(Event::ApplyStarting {
        address: address.clone(),
        action: operation,
        deposed: None,
    });
    let started = Instant::now();
    let request = ApplyRequest {
        type_name: address.resource.type_name.clone(),
        prior: prior.clone(),
        planned: Some(final_plan.planned.clone()),
        config: config_value,
        timeout,
        idempotency_token,
        progress: progress_for(run, address),
        prior_private,
        planned_private: final_plan.private.clone(),
    };
    tracing::debug!(%address, ?operation, "provider apply starts");
    let result = with_progress(run, address, operation, provider.apply(request)).await;
    tracing::debug!(
        %address,
        ?operation,
        ok = result.is_ok(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "provider apply done"
    );
    drop(permit);
    let object = |value: Value, status: ObjectStatus, private: &[u8]| InstanceObject {
        value,
        provider: run.provider_address(provider_ref),
        schema_version: schema.version,
        dependencies: dependencies.clone(),
        create_before_destroy: config.lifecycle.create_before_destroy,
        status,
        private: encode_private(private),
    };
    match result {
        Ok(Some(new_object)) => {
            let new_value = remark(schema, new_object.value);
            record(
                run,
                StateChange::Put {
                    address: address.clone(),
                    object: object(new_value.clone(), ObjectStatus::Ready, &new_object.private),
                },
            )
            .await;
            if operation == Action::Create {
                let created = object(new_value.clone(), ObjectStatus::Ready, &new_object.private);
                super::provision::after_create(run, address, config, created, repetition).await?;
            }
            run.events.event(Event::ApplyDone {
                address: address.clone(),
                action: operation,
                elapsed: started.elapsed(),
                id: id_of(&new_value),
            });
            let mut postcondition_errors = Diagnostics::new();
            for condition in &config.lifecycle.postconditions {
                if let Err(d) = check_condition(
                    run,
                    condition,
                    &address.module,
                    repetition,
                    Some(new_value.clone()),
                    "Resource postcondition failed",
                ) {
                    postcondition_errors.extend(d);
                }
            }
            postcondition_errors.into_result(Some(new_value))
        }
        Ok(None) => {
            record(
                run,
                StateChange::Remove {
                    address: address.clone(),
                },
            )
            .await;
            Ok(None)
        }
        Err(error) => {
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
                record(
                    run,
                    StateChange::Put {
                        address: address.clone(),
                        object: object(remark(schema, partial), status, &final_plan.private),
                    },
                )
                .await;
            } else if operation == Action::Create {
                abandon_create(run, address, deposed_key.as_deref()).await;
            }
            Err(located(address, &error, Some(config)))
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

/// The schema's sensitive marks on a provider's result.
fn remark(schema: &crate::providers::ResourceSchema, value: Value) -> Value {
    super::plan::mark_sensitive_attributes(&schema.block, value)
}
