//! The plan walk, and the node visits that plan and apply share (providers, module expansion,
//! variables, locals, outputs).

use super::moves::InstanceMove;
use super::provider_diagnostics::{self, decode_private, encode_private};
use super::store::{Expansion, ModuleInstanceInfo, Repetition, ResourceValues};
use super::walk::{walk, Outcome, WalkPlan};
use super::{dependency_addresses, resource_dependencies, Event, Phase, PlanOutcome, Run};
use crate::addrs::{InstanceKey, ModuleInstance, Resource, ResourceInstance, ResourceMode, Target};
use crate::config::{IgnoreChanges, ModuleTree, ProviderRef, ResourceConfig};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::graph::{self, ModulePath, Node};
use crate::plan::{Action, ActionReason, OutputChange, Plan, PlanMode, ResourceChange};
use crate::providers::{ObjectState, PlanRequest, ResourceSchema};
use crate::state::{InstanceObject, ObjectStatus};
use crate::value::{convert, Type, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// The walk plan of the configuration graph: node `i` is graph node index `i`.
pub(super) fn config_walk_plan(run: &Run) -> WalkPlan {
    let graph = &run.graph.graph;
    let mut dependencies = vec![Vec::new(); graph.node_count()];
    for edge in graph.edge_indices() {
        if let Some((from, to)) = graph.edge_endpoints(edge) {
            dependencies[to.index()].push(from.index());
        }
    }
    WalkPlan { dependencies }
}

/// Plans the whole configuration.
pub(super) async fn plan(run: Arc<Run>) -> Result<PlanOutcome, Diagnostics> {
    if run.options.mode == PlanMode::Destroy {
        return destroy_plan(run).await;
    }
    let walk_plan = config_walk_plan(&run);
    let outcomes = {
        let run = run.clone();
        walk(&walk_plan, run.cancelled.clone(), move |i| {
            let run = run.clone();
            async move { visit_node(run, i).await }
        })
        .await
    };
    finish_plan(run, &outcomes).await
}

/// Validates: the plan walk with every unknown allowed and no provider calls but schemas.
pub(super) async fn validate(run: Arc<Run>) -> Diagnostics {
    let walk_plan = config_walk_plan(&run);
    {
        let run = run.clone();
        walk(&walk_plan, run.cancelled.clone(), move |i| {
            let run = run.clone();
            async move { visit_node(run, i).await }
        })
        .await;
    }
    let diagnostics = run
        .diagnostics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    diagnostics
}

/// Visits one configuration node (plan, validate or apply).
pub(super) async fn visit_node(run: Arc<Run>, index: usize) -> bool {
    let node = run.graph.graph[petgraph::graph::NodeIndex::new(index)].clone();
    let result = match &node {
        Node::Provider { provider } => visit_provider(&run, provider).await,
        Node::ModuleExpand { module } => visit_expand(&run, module),
        Node::Variable { module, name } => visit_variable(&run, module, name),
        Node::Local { module, name } => visit_local(&run, module, name),
        Node::Output { module, name } => visit_output(&run, module, name),
        Node::Resource { module, resource } => match &run.phase {
            Phase::Apply(_) => super::apply::apply_resource_node(&run, module, resource).await,
            _ => plan_resource_node(&run, module, resource).await,
        },
    };
    match result {
        Ok(()) => true,
        Err(diagnostics) => {
            run.error(diagnostics);
            false
        }
    }
}

async fn visit_provider(run: &Arc<Run>, provider_ref: &ProviderRef) -> Result<(), Diagnostics> {
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(());
    };
    let schema = provider.schema();
    let block = run
        .tree
        .module
        .providers
        .iter()
        .find(|p| p.name == provider_ref.name && p.alias == provider_ref.alias);
    let config = match block {
        Some(block) => run.eval_body(
            &block.body,
            &schema.provider,
            &ModuleInstance::root(),
            &Repetition::None,
        )?,
        None => Value::Null,
    };
    if run.lenient() {
        return Ok(());
    }
    if !config.is_wholly_known() {
        let span = block.map(|b| b.span.clone());
        return Err(Diagnostic::error(format!("Invalid provider configuration for \"{provider_ref}\""))
            .with_detail("The provider configuration depends on values that cannot be determined until apply. Provider arguments may only refer to variables, locals and data sources that are known during plan.")
            .with_span_opt(span)
            .into());
    }
    if let Err(error) = provider.configure(&config).await {
        let span = block.map(|b| b.span.clone());
        return Err(
            Diagnostic::error(format!("Failed to configure provider \"{provider_ref}\""))
                .with_detail(error.to_string())
                .with_span_opt(span)
                .into(),
        );
    }
    run.configured
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(provider_ref.clone(), true);
    if matches!(run.phase, Phase::Plan) {
        upgrade_states(run, provider_ref).await?;
    }
    if matches!(run.phase, Phase::Plan) && run.options.refresh {
        refresh(run, provider_ref).await?;
    }
    if matches!(run.phase, Phase::Plan) {
        super::adopt::resolve(run, provider_ref).await?;
    }
    Ok(())
}

/// Hands every managed object this provider owns to the provider to bring up to its current
/// schema (as Terraform does before anything else reads the object): objects recorded under an
/// older `schema_version`, and values decoded from the state file without a schema.
async fn upgrade_states(run: &Arc<Run>, provider_ref: &ProviderRef) -> Result<(), Diagnostics> {
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(());
    };
    let address = run.provider_address(provider_ref);
    let schema = provider.schema();
    let owned: Vec<(ResourceInstance, InstanceObject)> = {
        let state = run.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .resources
            .iter()
            .filter(|(instance, object)| {
                object.provider == address && instance.resource.mode == ResourceMode::Managed
            })
            .map(|(instance, object)| (instance.clone(), object.clone()))
            .collect()
    };
    let mut diagnostics = Diagnostics::new();
    for (instance, object) in owned {
        let type_name = &instance.resource.type_name;
        let Some(resource) = schema.resources.get(type_name) else {
            continue;
        };
        let (value, sensitive) = object.value.clone().deep_unmark();
        let upgraded = {
            let _permit = run.semaphore.acquire().await;
            provider
                .upgrade_resource_state(type_name, object.schema_version, &value)
                .await
        };
        match upgraded {
            Ok(upgraded) => {
                let upgraded =
                    mark_sensitive_attributes(&resource.block, upgraded).mark_paths(&sensitive);
                let mut state = run.state.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(entry) = state.resources.get_mut(&instance) {
                    entry.value = upgraded;
                    entry.schema_version = resource.version;
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
    }
    diagnostics.into_result(())
}

/// Reads every managed instance this provider owns, one batch per resource type.
async fn refresh(run: &Arc<Run>, provider_ref: &ProviderRef) -> Result<(), Diagnostics> {
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(());
    };
    let address = run.provider_address(provider_ref);
    let mut by_type: BTreeMap<String, Vec<(ResourceInstance, InstanceObject)>> = BTreeMap::new();
    {
        let state = run.state.lock().unwrap_or_else(|e| e.into_inner());
        for (instance, object) in &state.resources {
            if object.provider == address && instance.resource.mode == ResourceMode::Managed {
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
                    .push((instance.clone(), object.clone()));
            }
        }
    }
    let mut diagnostics = Diagnostics::new();
    let mut reads = Vec::new();
    for (type_name, instances) in by_type {
        let provider = provider.clone();
        let run = run.clone();
        reads.push(tokio::spawn(async move {
            let _permit = run.semaphore.acquire().await;
            for (address, object) in &instances {
                run.events.event(Event::Refreshing {
                    address: address.clone(),
                    id: object
                        .value
                        .get_attr("id")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                });
            }
            let schema = provider.schema();
            let objects: Vec<ObjectState> = instances
                .iter()
                .map(|(_, o)| ObjectState {
                    value: match schema.resources.get(&type_name) {
                        Some(resource) => typed(&resource.block, o.value.clone()),
                        None => o.value.clone(),
                    },
                    private: decode_private(o.private.as_deref()),
                })
                .collect();
            let results = provider.refresh_resources(&type_name, &objects).await;
            (instances, results)
        }));
    }
    for read in reads {
        let Ok((instances, results)) = read.await else {
            continue;
        };
        let mut state = run.state.lock().unwrap_or_else(|e| e.into_inner());
        for ((address, object), result) in instances.into_iter().zip(results) {
            match result {
                Ok(Some(new_object)) => {
                    let new_value = mark_schema_sensitive(run, &address, new_object.value);
                    if new_value.equals(&object.value) != Some(true) {
                        run.drift
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(ResourceChange {
                                address: address.clone(),
                                provider: object.provider.clone(),
                                action: Action::Update,
                                before: Some(object.value.clone()),
                                after: Some(new_value.clone()),
                                requires_replace: Vec::new(),
                                reason: None,
                                schema_version: object.schema_version,
                                deposed: None,
                                previous_address: None,
                                importing: None,
                                private: None,
                            });
                    }
                    if let Some(entry) = state.resources.get_mut(&address) {
                        entry.value = new_value;
                        entry.private = encode_private(&new_object.private);
                    }
                }
                Ok(None) => {
                    run.drift.lock().unwrap_or_else(|e| e.into_inner()).push(
                        ResourceChange::removing(address.clone(), &object, Action::Delete, None),
                    );
                    state.resources.remove(&address);
                }
                Err(error) => {
                    for one in error.all() {
                        diagnostics.push(
                            Diagnostic::error(format!("Failed to refresh {address}"))
                                .with_detail(one.to_string()),
                        );
                    }
                }
            }
        }
    }
    diagnostics.into_result(())
}

/// Puts the schema's sensitive marks on a value read from a provider.
pub(super) fn mark_schema_sensitive(run: &Run, address: &ResourceInstance, value: Value) -> Value {
    let Some(config) = resource_config(&run.tree, &address.module.module_path(), &address.resource)
    else {
        return value;
    };
    let Some(provider) = run.provider(&graph::resolve_provider(
        &run.tree,
        &address.module.module_path(),
        &config.provider,
    )) else {
        return value;
    };
    let schema = provider.schema();
    let Some(resource) = schema.resources.get(&address.resource.type_name) else {
        return value;
    };
    mark_sensitive_attributes(&resource.block, value)
}

/// The schema's sensitive marks on a value that came from a provider or a state file.
pub(super) fn mark_sensitive_attributes(block: &crate::providers::Block, value: Value) -> Value {
    block.mark_sensitive(value)
}

pub(super) fn resource_config<'a>(
    tree: &'a ModuleTree,
    path: &ModulePath,
    resource: &Resource,
) -> Option<&'a ResourceConfig> {
    tree.descendant(path)?.module.resources.get(resource)
}

fn visit_expand(run: &Run, path: &ModulePath) -> Result<(), Diagnostics> {
    let Some((name, parent_path)) = path.split_last() else {
        return Ok(());
    };
    let parent_path = parent_path.to_vec();
    let Some(parent) = run.tree.descendant(&parent_path) else {
        return Ok(());
    };
    let Some(call) = parent.module.module_calls.get(name) else {
        return Ok(());
    };
    let parents = run
        .store
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .instances_of(&parent_path);
    let mut instances = Vec::new();
    let mut expansion = Expansion::Single;
    for parent_info in parents {
        let (kind, repetitions) = expand(
            run,
            call.count.as_ref(),
            call.for_each.as_ref(),
            &parent_info.instance,
            &parent_info.repetition,
        )?;
        expansion = kind;
        for repetition in repetitions {
            instances.push(ModuleInstanceInfo {
                instance: parent_info.instance.child(name.clone(), repetition.key()),
                repetition,
            });
        }
    }
    let mut store = run.store.write().unwrap_or_else(|e| e.into_inner());
    store.module_instances.insert(path.clone(), instances);
    store.module_expansion.insert(path.clone(), expansion);
    Ok(())
}

/// Evaluates `count` / `for_each` into the repetitions of a resource or module call.
pub(super) fn expand(
    run: &Run,
    count: Option<&crate::config::Expr>,
    for_each: Option<&crate::config::Expr>,
    module: &ModuleInstance,
    parent_repetition: &Repetition,
) -> Result<(Expansion, Vec<Repetition>), Diagnostics> {
    if let Some(expr) = count {
        let value = run.eval(expr, module, parent_repetition, None)?;
        if value.is_unknown() {
            if run.lenient() {
                return Ok((Expansion::Count, vec![Repetition::Count(0)]));
            }
            return Err(Diagnostic::error("Invalid count argument")
                .with_detail("The \"count\" value depends on resource attributes that cannot be determined until apply, so Strata cannot predict how many instances will be created. To work around this, use -target to first apply only the resources that the count depends on.")
                .with_span_opt(expr.span())
                .into());
        }
        if value.contains_sensitive() {
            return Err(Diagnostic::error("Invalid count argument")
                .with_detail("Sensitive values, or values derived from sensitive values, cannot be used as count arguments.")
                .with_span_opt(expr.span())
                .into());
        }
        let number = convert(value, &crate::value::Type::Number)
            .ok()
            .and_then(|v| v.as_number().and_then(|n| n.to_i64()))
            .filter(|n| *n >= 0);
        let Some(number) = number else {
            return Err(Diagnostic::error("Invalid count argument")
                .with_detail("The given \"count\" argument value is unsuitable: must be a whole number greater than or equal to zero.")
                .with_span_opt(expr.span())
                .into());
        };
        return Ok((
            Expansion::Count,
            (0..number).map(Repetition::Count).collect(),
        ));
    }
    if let Some(expr) = for_each {
        let value = run.eval(expr, module, parent_repetition, None)?;
        if !value.is_wholly_known() && (value.is_unknown() || value.as_seq().is_some()) {
            if run.lenient() {
                return Ok((
                    Expansion::ForEach,
                    vec![Repetition::Each {
                        key: String::new(),
                        value: Value::unknown(),
                    }],
                ));
            }
            return Err(Diagnostic::error("Invalid for_each argument")
                .with_detail("The \"for_each\" value depends on resource attributes that cannot be determined until apply, so Strata cannot predict how many instances will be created. To work around this, use -target to first apply only the resources that the for_each value depends on.")
                .with_span_opt(expr.span())
                .into());
        }
        // As Terraform: the collection itself may not be sensitive, nor may the elements of a
        // set (they become instance keys); a map's sensitive values stay marked in each.value.
        let keys_sensitive = matches!(value, Value::Sensitive(_))
            || matches!(&value, Value::Set(items) if items.iter().any(Value::contains_sensitive));
        if keys_sensitive {
            return Err(Diagnostic::error("Invalid for_each argument")
                .with_detail("Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments.")
                .with_span_opt(expr.span())
                .into());
        }
        let repetitions = match &value {
            Value::Map(entries) | Value::Object(entries) => entries
                .iter()
                .map(|(k, v)| Repetition::Each { key: k.clone(), value: v.clone() })
                .collect(),
            Value::Set(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(s) => out.push(Repetition::Each { key: s.to_string(), value: Value::from(s) }),
                        None => {
                            return Err(Diagnostic::error("Invalid for_each set argument")
                                .with_detail(format!("The given \"for_each\" argument value is unsuitable: \"for_each\" supports sets of strings, but you have provided a set containing type {}.", item.friendly_type_name()))
                                .with_span_opt(expr.span())
                                .into())
                        }
                    }
                }
                out
            }
            Value::Null => {
                return Err(Diagnostic::error("Invalid for_each argument")
                    .with_detail("The given \"for_each\" argument value is null. A map, or set of strings is allowed.")
                    .with_span_opt(expr.span())
                    .into())
            }
            other => {
                return Err(Diagnostic::error("Invalid for_each argument")
                    .with_detail(format!("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type {}.", other.friendly_type_name()))
                    .with_help("Convert a list to a set with toset(...), or build a map with a for expression.")
                    .with_span_opt(expr.span())
                    .into())
            }
        };
        return Ok((Expansion::ForEach, repetitions));
    }
    Ok((Expansion::Single, vec![Repetition::None]))
}

fn visit_variable(run: &Run, path: &ModulePath, name: &str) -> Result<(), Diagnostics> {
    let Some(tree) = run.tree.descendant(path) else {
        return Ok(());
    };
    let Some(variable) = tree.module.variables.get(name) else {
        return Ok(());
    };
    if path.is_empty() {
        let value = match run.variables.get(name) {
            Some(value) => value.clone(),
            None if run.lenient() => Value::unknown(),
            None => variable.default.clone().unwrap_or(Value::Null),
        };
        run.store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .variables
            .insert((ModuleInstance::root(), name.to_string()), value);
        return Ok(());
    }
    let (call_name, parent_path) = path
        .split_last()
        .map(|(c, p)| (c.clone(), p.to_vec()))
        .unwrap_or_default();
    let call = run
        .tree
        .descendant(&parent_path)
        .and_then(|p| p.module.module_calls.get(&call_name));
    let instances = run
        .store
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .instances_of(path);
    let mut diagnostics = Diagnostics::new();
    for info in instances {
        let parent = info.instance.parent().unwrap_or_default();
        let input = call.and_then(|c| c.inputs.get(name));
        let value = match input {
            Some(expr) => match run.eval(expr, &parent, &info.repetition, None) {
                Ok(v) => v,
                Err(d) => {
                    diagnostics.extend(d);
                    continue;
                }
            },
            None => {
                match &variable.default {
                    Some(default) => default.clone(),
                    None => {
                        diagnostics.push(
                        Diagnostic::error("Missing required argument")
                            .with_detail(format!("The argument \"{name}\" is required, but no definition was found."))
                            .with_span_opt(call.map(|c| c.span.clone())),
                    );
                        continue;
                    }
                }
            }
        };
        let value = if value.is_null() {
            variable.default.clone().unwrap_or(Value::Null)
        } else {
            value
        };
        if value.is_null() && !variable.nullable {
            diagnostics.push(
                Diagnostic::error("Invalid value for input variable")
                    .with_detail(format!("The given value is not suitable for var.{name}: required variable may not be set to null."))
                    .with_span_opt(input.and_then(|e| e.span())),
            );
            continue;
        }
        let value = match &variable.ty {
            Some(ty) => match convert(value, ty) {
                Ok(v) => v,
                Err(error) => {
                    diagnostics.push(
                        Diagnostic::error("Invalid value for input variable")
                            .with_detail(format!("The given value is not suitable for module.{}.var.{name}: {error}.", path.join(".module.")))
                            .with_span_opt(input.and_then(|e| e.span())),
                    );
                    continue;
                }
            },
            None => value,
        };
        let value = value.mark_if(variable.sensitive);
        run.store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .variables
            .insert((info.instance.clone(), name.to_string()), value);
    }
    diagnostics.into_result(())
}

fn visit_local(run: &Run, path: &ModulePath, name: &str) -> Result<(), Diagnostics> {
    let Some(local) = run
        .tree
        .descendant(path)
        .and_then(|t| t.module.locals.get(name))
    else {
        return Ok(());
    };
    let instances = run
        .store
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .instances_of(path);
    let mut diagnostics = Diagnostics::new();
    for info in instances {
        match run.eval(&local.expr, &info.instance, &Repetition::None, None) {
            Ok(value) => {
                run.store
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .locals
                    .insert((info.instance.clone(), name.to_string()), value);
            }
            Err(d) => diagnostics.extend(d),
        }
    }
    diagnostics.into_result(())
}

fn visit_output(run: &Run, path: &ModulePath, name: &str) -> Result<(), Diagnostics> {
    let Some(output) = run
        .tree
        .descendant(path)
        .and_then(|t| t.module.outputs.get(name))
    else {
        return Ok(());
    };
    let instances = run
        .store
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .instances_of(path);
    let mut diagnostics = Diagnostics::new();
    for info in instances {
        for condition in &output.preconditions {
            if let Err(d) = check_condition(
                run,
                condition,
                &info.instance,
                &Repetition::None,
                None,
                "Module output value precondition failed",
            ) {
                diagnostics.extend(d);
            }
        }
        match run.eval(&output.expr, &info.instance, &Repetition::None, None) {
            Ok(value) => {
                if path.is_empty() && value.contains_sensitive() && !output.sensitive {
                    diagnostics.push(
                        Diagnostic::error("Output refers to sensitive values")
                            .with_detail("To reduce the risk of accidentally exporting sensitive data that was intended to be only internal, Strata requires that any root module output containing sensitive data be explicitly marked as sensitive, to confirm your intent.\n\nIf you do intend to export this data, annotate the output value as sensitive by adding the following argument:\n    sensitive = true")
                            .with_span(output.span.clone()),
                    );
                    continue;
                }
                let value = value.mark_if(output.sensitive);
                run.store
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .outputs
                    .insert((info.instance.clone(), name.to_string()), value);
            }
            Err(d) => diagnostics.extend(d),
        }
    }
    diagnostics.into_result(())
}

/// Evaluates a condition; a false one is an error with its message. Unknown passes (it is
/// checked again at apply).
pub(super) fn check_condition(
    run: &Run,
    condition: &crate::config::Condition,
    module: &ModuleInstance,
    repetition: &Repetition,
    self_value: Option<Value>,
    summary: &str,
) -> Result<(), Diagnostics> {
    let value = run.eval(&condition.condition, module, repetition, self_value.clone())?;
    if !value.is_wholly_known() || run.lenient() {
        return Ok(());
    }
    match convert(value, &crate::value::Type::Bool)
        .ok()
        .and_then(|v| v.as_bool())
    {
        Some(true) => Ok(()),
        Some(false) => {
            let message = run
                .eval(&condition.error_message, module, repetition, self_value)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "The condition is false.".into());
            Err(Diagnostic::error(summary)
                .with_detail(message)
                .with_span(condition.span.clone())
                .into())
        }
        None => Err(Diagnostic::error("Invalid condition result")
            .with_detail("The condition expression must return a bool (true or false).")
            .with_span(condition.span.clone())
            .into()),
    }
}

/// The schema of a resource or data source, or a located error.
pub(super) fn schema_for(
    run: &Run,
    config: &ResourceConfig,
    path: &ModulePath,
) -> Result<(ProviderRef, ResourceSchema), Diagnostics> {
    let provider_ref = graph::resolve_provider(&run.tree, path, &config.provider);
    let Some(provider) = run.provider(&provider_ref) else {
        return Err(Diagnostic::error(format!(
            "Provider \"{}\" is not available",
            provider_ref.name
        ))
        .with_span(config.span.clone())
        .into());
    };
    let schema = provider.schema();
    let table = match config.addr.mode {
        ResourceMode::Managed => &schema.resources,
        ResourceMode::Data => &schema.data_sources,
    };
    match table.get(&config.addr.type_name) {
        Some(s) => Ok((provider_ref, s.clone())),
        None => {
            let kind = if config.addr.mode == ResourceMode::Data {
                "data source"
            } else {
                "resource type"
            };
            let mut diagnostic = Diagnostic::error(format!("Invalid {kind}"))
                .with_detail(format!(
                    "The provider {} does not support {kind} \"{}\".",
                    provider_ref.name, config.addr.type_name
                ))
                .with_span(config.span.clone());
            if let Some(best) =
                graph::closest(&config.addr.type_name, table.keys().map(String::as_str))
            {
                diagnostic = diagnostic.with_help(format!("Did you mean \"{best}\"?"));
            } else if !run
                .registry
                .get(&provider_ref.name)
                .is_some_and(|r| r.shared)
            {
                diagnostic = diagnostic.with_help(format!(
                    "Strata's built-in provider {} implements only some types. To use the provider's plugin, run `strata init` with a provider installation source (a filesystem mirror in the CLI configuration, or -plugin-dir).",
                    provider_ref.name
                ));
            }
            Err(diagnostic.into())
        }
    }
}

/// Plans every instance of one resource (or reads one data source) in every module instance.
async fn plan_resource_node(
    run: &Arc<Run>,
    path: &ModulePath,
    resource: &Resource,
) -> Result<(), Diagnostics> {
    let Some(config) = resource_config(&run.tree, path, resource) else {
        return Ok(());
    };
    let (provider_ref, schema) = schema_for(run, config, path)?;
    tracing::debug!(resource = %resource, module = ?path, "planning resource");
    let module_instances = run
        .store
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .instances_of(path);
    let mut diagnostics = Diagnostics::new();
    for info in &module_instances {
        let (expansion, repetitions) = match expand(
            run,
            config.count.as_ref(),
            config.for_each.as_ref(),
            &info.instance,
            &info.repetition,
        ) {
            Ok(x) => x,
            Err(d) => {
                diagnostics.extend(d);
                continue;
            }
        };
        let mut values = BTreeMap::new();
        let mut keys = BTreeSet::new();
        let mut tasks = Vec::new();
        for repetition in repetitions {
            let address = ResourceInstance {
                module: info.instance.clone(),
                resource: resource.clone(),
                key: repetition.key(),
            };
            keys.insert(address.key.clone());
            if !run.targets_select_instance(&address) {
                // Another instance of a resource targeted by instance: not planned; expressions
                // read what the state holds (unknown where it holds nothing, as in Terraform).
                let prior = run
                    .state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .resources
                    .get(&address)
                    .map(|object| typed(&schema.block, object.value.clone()));
                values.insert(
                    address.key.clone(),
                    prior.unwrap_or(Value::Unknown(Type::Any)),
                );
                continue;
            }
            if matches!(run.phase, Phase::Plan) {
                if let Err(d) =
                    import_if_declared(run, &address, config, &provider_ref, &schema).await
                {
                    diagnostics.extend(d);
                    continue;
                }
            }
            let prior = run
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .resources
                .get(&address)
                .cloned()
                .map(|mut object| {
                    object.value = typed(&schema.block, object.value);
                    object
                });
            let config_value =
                match run.eval_resource_body(config, &schema.block, &info.instance, &repetition) {
                    Ok(v) => v,
                    Err(d) => {
                        diagnostics.extend(d);
                        continue;
                    }
                };
            for condition in &config.lifecycle.preconditions {
                if let Err(d) = check_condition(
                    run,
                    condition,
                    &info.instance,
                    &repetition,
                    None,
                    "Resource precondition failed",
                ) {
                    diagnostics.extend(d);
                }
            }
            super::provision::check(run, config, &address, &repetition, &mut diagnostics);
            // The console shows what the state holds.
            if let (Phase::Console, Some(prior)) = (&run.phase, &prior) {
                values.insert(address.key.clone(), prior.value.clone());
                continue;
            }
            let validation =
                validate_instance(run, &address, config, &provider_ref, &config_value).await;
            if validation.has_errors() {
                diagnostics.extend(validation);
                continue;
            }
            if !validation.is_empty() {
                run.error(validation);
            }
            if run.lenient() {
                // Validation: what the provider will compute is unknown.
                let planned =
                    crate::providers::default_plan(&schema.block, None, &config_value).planned;
                values.insert(address.key.clone(), planned);
                continue;
            }
            let run = run.clone();
            let provider_ref = provider_ref.clone();
            let schema = schema.clone();
            let config = config.clone();
            let triggers = replace_triggered(&run, &config, &info.instance, &repetition);
            tasks.push(tokio::spawn(async move {
                let result = match config.addr.mode {
                    ResourceMode::Managed => {
                        plan_instance(
                            &run,
                            &address,
                            &config,
                            &provider_ref,
                            &schema,
                            prior,
                            config_value,
                            triggers,
                        )
                        .await
                    }
                    ResourceMode::Data => {
                        read_data_instance(
                            &run,
                            &address,
                            &config,
                            &provider_ref,
                            &schema,
                            config_value,
                        )
                        .await
                    }
                };
                (address, result)
            }));
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
        // Instances in state whose key the configuration no longer has.
        if !run.lenient() && resource.mode == ResourceMode::Managed {
            let orphans: Vec<(ResourceInstance, InstanceObject)> = run
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .resources
                .iter()
                .filter(|(a, _)| {
                    a.module == info.instance
                        && a.resource == *resource
                        && !keys.contains(&a.key)
                        && run.targets_allow_orphan(a)
                })
                .map(|(a, o)| (a.clone(), o.clone()))
                .collect();
            for (address, object) in orphans {
                let reason = match (&address.key, expansion) {
                    (InstanceKey::Int(_), Expansion::Count) => {
                        ActionReason::DeleteBecauseCountIndex
                    }
                    (InstanceKey::Str(_), Expansion::ForEach) => ActionReason::DeleteBecauseEachKey,
                    _ => ActionReason::DeleteBecauseNoRepetitionKey,
                };
                if config.lifecycle.prevent_destroy {
                    diagnostics.push(prevent_destroy_error(&address, config));
                    continue;
                }
                push_change(
                    run,
                    ResourceChange::removing(address, &object, Action::Delete, Some(reason)),
                );
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
                    // Validation does not know how many instances there will be.
                    unknown: run.lenient() && (config.count.is_some() || config.for_each.is_some()),
                },
            );
    }
    diagnostics.into_result(())
}

fn push_change(run: &Run, change: ResourceChange) {
    run.changes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(change);
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
    let changes = run.changes.lock().unwrap_or_else(|e| e.into_inner());
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

/// Sets the prior values at the ignored paths, so ignored attributes never show a change.
pub(super) fn apply_ignore_changes(
    ignore: &IgnoreChanges,
    schema: &ResourceSchema,
    prior: &Value,
    config: Value,
) -> Value {
    let mut config = config;
    match ignore {
        IgnoreChanges::None => {}
        IgnoreChanges::All => {
            for (name, attribute) in &schema.block.attributes {
                if attribute.optional || attribute.required {
                    if let Some(p) = prior.get_attr(name) {
                        config
                            .set_at_path(&[crate::value::PathStep::Attr(name.clone())], p.clone());
                    }
                }
            }
            for name in schema.block.blocks.keys() {
                if let Some(p) = prior.get_attr(name) {
                    config.set_at_path(&[crate::value::PathStep::Attr(name.clone())], p.clone());
                }
            }
        }
        IgnoreChanges::Paths(paths) => {
            for path in paths {
                if let Some(p) = prior.at_path(path) {
                    config.set_at_path(&path.0, p.clone());
                }
            }
        }
    }
    config
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
    let provider_address = run.provider_address(provider_ref);
    let located = |error: crate::providers::ProviderError| -> Diagnostics {
        provider_diagnostics::located(address, &error, Some(config))
    };
    let _permit = run.semaphore.acquire().await;
    let Some(prior) = prior else {
        let planned = provider
            .plan_resource(PlanRequest {
                type_name: &address.resource.type_name,
                prior: None,
                config: &config_value,
                prior_private: &[],
            })
            .await
            .map_err(located)?;
        warn(run, address, &planned.warnings, config);
        push_change(
            run,
            ResourceChange {
                address: address.clone(),
                provider: provider_address,
                action: Action::Create,
                before: None,
                after: Some(planned.planned.clone()),
                requires_replace: Vec::new(),
                reason: None,
                schema_version: schema.version,
                deposed: None,
                previous_address: None,
                importing: None,
                private: encode_private(&planned.private),
            },
        );
        return Ok(planned.planned);
    };
    let config_value = apply_ignore_changes(
        &config.lifecycle.ignore_changes,
        schema,
        &prior.value,
        config_value,
    );
    let prior_private = decode_private(prior.private.as_deref());
    let planned = provider
        .plan_resource(PlanRequest {
            type_name: &address.resource.type_name,
            prior: Some(&prior.value),
            config: &config_value,
            prior_private: &prior_private,
        })
        .await
        .map_err(located)?;
    warn(run, address, &planned.warnings, config);
    let forced = run.options.replace.contains(address);
    let tainted = prior.status == ObjectStatus::Tainted;
    let (action, reason, after, requires_replace) =
        if !planned.requires_replace.is_empty() || forced || tainted || replace_triggered {
            let fresh = provider
                .plan_resource(PlanRequest {
                    type_name: &address.resource.type_name,
                    prior: None,
                    config: &config_value,
                    prior_private: &[],
                })
                .await
                .map_err(located)?;
            let reason = if forced {
                ActionReason::ReplaceByRequest
            } else if tainted {
                ActionReason::ReplaceBecauseTainted
            } else if replace_triggered {
                ActionReason::ReplaceByTriggers
            } else {
                ActionReason::ReplaceBecauseCannotUpdate
            };
            let action = if config.lifecycle.create_before_destroy {
                Action::CreateThenDelete
            } else {
                Action::DeleteThenCreate
            };
            (
                action,
                Some(reason),
                (fresh.planned, fresh.private),
                planned.requires_replace,
            )
        } else if planned.planned.equals(&prior.value) == Some(true) {
            (
                Action::NoOp,
                None,
                (prior.value.clone(), planned.private),
                Vec::new(),
            )
        } else {
            (
                Action::Update,
                None,
                (planned.planned, planned.private),
                Vec::new(),
            )
        };
    let (after, after_private) = after;
    if action.is_replace() && config.lifecycle.prevent_destroy {
        return Err(prevent_destroy_error(address, config).into());
    }
    if action != Action::NoOp {
        push_change(
            run,
            ResourceChange {
                address: address.clone(),
                provider: provider_address,
                action,
                before: Some(prior.value.clone()),
                after: Some(after.clone()),
                requires_replace,
                reason,
                schema_version: schema.version,
                deposed: None,
                previous_address: None,
                importing: None,
                private: encode_private(&after_private),
            },
        );
    }
    Ok(after)
}

/// Asks the provider to check one instance's configuration (what the schema cannot say).
async fn validate_instance(
    run: &Run,
    address: &ResourceInstance,
    config: &ResourceConfig,
    provider_ref: &ProviderRef,
    config_value: &Value,
) -> Diagnostics {
    if matches!(run.phase, Phase::Console) {
        return Diagnostics::new();
    }
    let Some(provider) = run.provider(provider_ref) else {
        return Diagnostics::new();
    };
    let type_name = &address.resource.type_name;
    let (unmarked, _) = config_value.clone().deep_unmark();
    let found = match address.resource.mode {
        ResourceMode::Managed => provider.validate_resource(type_name, &unmarked).await,
        ResourceMode::Data => provider.validate_data_source(type_name, &unmarked).await,
    };
    provider_diagnostics::located_list(address, &found, Some(config))
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
        let changes = run.changes.lock().unwrap_or_else(|e| e.into_inner());
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
            ResourceChange {
                address: address.clone(),
                provider: run.provider_address(provider_ref),
                action: Action::Read,
                before: None,
                after: Some(planned.clone()),
                requires_replace: Vec::new(),
                reason: None,
                schema_version: schema.version,
                deposed: None,
                previous_address: None,
                importing: None,
                private: None,
            },
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
    run.state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .resources
        .insert(
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

/// A data source result keeps the configured arguments the provider did not echo back.
pub(super) fn merge_config(config: &Value, result: Value) -> Value {
    match (config.as_entries(), result) {
        (Some(config_entries), Value::Object(mut attrs)) => {
            for (k, v) in config_entries {
                attrs.entry(k.clone()).or_insert_with(|| v.clone());
            }
            Value::Object(attrs)
        }
        (_, other) => other,
    }
}

/// After the walk: deletions for resources no longer configured, output changes, the plan.
async fn finish_plan(run: Arc<Run>, outcomes: &[Outcome]) -> Result<PlanOutcome, Diagnostics> {
    let diagnostics = run
        .diagnostics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if diagnostics.has_errors() || outcomes.iter().any(|o| *o != Outcome::Done) {
        let mut diagnostics = diagnostics;
        if !diagnostics.has_errors() {
            diagnostics.push(
                Diagnostic::error("Plan interrupted")
                    .with_detail("The plan did not finish; nothing was changed."),
            );
        }
        return Err(diagnostics);
    }
    let state = run.state.lock().unwrap_or_else(|e| e.into_inner()).clone();
    // Orphans: instances of resources (or module instances) no longer in the configuration.
    let store_has_module = |instance: &ModuleInstance| {
        run.store
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .instances_of(&instance.module_path())
            .iter()
            .any(|i| i.instance == *instance)
    };
    for (address, object) in &state.resources {
        let node = Node::Resource {
            module: address.module.module_path(),
            resource: address.resource.clone(),
        };
        let configured = run.graph.index.contains_key(&node) && store_has_module(&address.module);
        if configured {
            continue;
        }
        if run.options.mode == PlanMode::RefreshOnly || !run.targets_allow_orphan(address) {
            continue;
        }
        if address.resource.mode == ResourceMode::Data {
            continue;
        }
        let forget = run
            .refactoring
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget
            .contains(address);
        push_change(
            &run,
            ResourceChange::removing(
                address.clone(),
                object,
                if forget {
                    Action::Forget
                } else {
                    Action::Delete
                },
                (!forget).then_some(ActionReason::DeleteBecauseNoResourceConfig),
            ),
        );
    }
    if run.options.mode != PlanMode::RefreshOnly {
        for change in deposed_deletions(&run, &state) {
            push_change(&run, change);
        }
    }
    let mut changes = std::mem::take(&mut *run.changes.lock().unwrap_or_else(|e| e.into_inner()));
    let mut drift = std::mem::take(&mut *run.drift.lock().unwrap_or_else(|e| e.into_inner()));
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
    let forgotten: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Forget)
        .map(|c| format!(" - {}", c.address))
        .collect();
    if !forgotten.is_empty() {
        warnings.push(
            Diagnostic::warning("Some objects will no longer be managed by Strata").with_detail(format!(
                "If you apply this plan, Strata will discard its tracking information for the following objects, but it will not delete them:\n{}\n\nAfter applying this plan, Strata will no longer manage these objects. You will need to import them into Strata to manage them again.",
                forgotten.join("\n")
            )),
        );
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
    let mut state = run.state.lock().unwrap_or_else(|e| e.into_inner());
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
    let refactoring = run.refactoring.lock().unwrap_or_else(|e| e.into_inner());
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
                changes.push(ResourceChange {
                    address,
                    provider: object.provider.clone(),
                    action: Action::NoOp,
                    before: Some(object.value.clone()),
                    after: Some(object.value.clone()),
                    requires_replace: Vec::new(),
                    reason: None,
                    schema_version: object.schema_version,
                    deposed: None,
                    previous_address: None,
                    importing: None,
                    private: None,
                });
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
/// did not finish) that the targets allow: they exist, nothing configures them, so they go.
fn deposed_deletions(run: &Run, state: &crate::state::State) -> Vec<ResourceChange> {
    let mut changes = Vec::new();
    for (address, objects) in &state.deposed {
        if !run.targets_allow_orphan(address) {
            continue;
        }
        for (key, object) in objects {
            changes.push(ResourceChange {
                deposed: Some(key.clone()),
                ..ResourceChange::removing(address.clone(), object, Action::Delete, None)
            });
        }
    }
    changes
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
    let diagnostics = configure_providers(&run).await;
    diagnostics.into_result(())?;
    let state = run.state.lock().unwrap_or_else(|e| e.into_inner()).clone();
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
    let drift = std::mem::take(&mut *run.drift.lock().unwrap_or_else(|e| e.into_inner()));
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

/// Configures every provider, first evaluating the variables, locals and module expansions
/// their configurations depend on (for `destroy`, which walks no resources). Providers only
/// found in state are configured with an empty configuration.
pub(super) async fn configure_providers(run: &Arc<Run>) -> Diagnostics {
    let graph = &run.graph.graph;
    let mut needed = HashSet::new();
    let mut stack: Vec<petgraph::graph::NodeIndex> = graph
        .node_indices()
        .filter(|&i| matches!(graph[i], Node::Provider { .. }))
        .collect();
    while let Some(node) = stack.pop() {
        if needed.insert(node) {
            stack.extend(graph.neighbors_directed(node, petgraph::Direction::Incoming));
        }
    }
    let mut diagnostics = Diagnostics::new();
    let order = match petgraph::algo::toposort(graph, None) {
        Ok(order) => order,
        Err(_) => {
            diagnostics.push(Diagnostic::error("Cycle in configuration"));
            return diagnostics;
        }
    };
    for node in order.into_iter().filter(|n| needed.contains(n)) {
        if matches!(graph[node], Node::Resource { .. }) {
            continue;
        }
        if !visit_node(run.clone(), node.index()).await {
            diagnostics.extend(std::mem::take(
                &mut *run.diagnostics.lock().unwrap_or_else(|e| e.into_inner()),
            ));
        }
    }
    let in_graph: HashSet<ProviderRef> = graph
        .node_indices()
        .filter_map(|i| match &graph[i] {
            Node::Provider { provider } => Some(provider.clone()),
            _ => None,
        })
        .collect();
    let extra: Vec<ProviderRef> = run
        .providers
        .keys()
        .filter(|p| !in_graph.contains(*p))
        .cloned()
        .collect();
    for provider in extra {
        if let Err(d) = visit_provider(run, &provider).await {
            diagnostics.extend(d);
        }
    }
    diagnostics
}

/// A value read from a state file (which carries no types: lists come back as tuples, maps as
/// objects) converted to its schema's types, marks kept; unchanged if it does not convert.
pub(super) fn typed(block: &crate::providers::Block, value: Value) -> Value {
    let (plain, paths) = value.clone().deep_unmark();
    match convert(plain, &block.value_type()) {
        Ok(converted) => converted.mark_paths(&paths),
        Err(_) => value,
    }
}
