//! The node visits every walk shares (OpenTofu's node types apart from the resource ones):
//! provider configurations, module expansions, variables, locals and outputs. What a walk does
//! at a resource node, at an orphan or a deletion node, and once a provider is configured, is its
//! [`Walker`]'s: the plan walk's in `plan`, the apply walk's in `apply`.

use super::eval::{check_condition, expand};
use super::store::{Expansion, ModuleInstanceInfo, Repetition};
use super::walk::{walk, Outcome, WalkPlan};
use super::{locked, Run};
use crate::addrs::{ModuleInstance, Resource, ResourceInstance};
use crate::config::ProviderRef;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::graph::{Graph, ModulePath, Node};
use crate::value::{convert, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// What one walk (plan, apply) does where the walks differ.
#[async_trait::async_trait]
pub(super) trait Walker: Send + Sync {
    /// Visits every instance of one resource or data source, in every module instance.
    async fn visit_resource(
        &self,
        run: &Arc<Run>,
        module: &ModulePath,
        resource: &Resource,
    ) -> Result<(), Diagnostics>;

    /// Visits the node that stands for all the instances of a resource applied (the apply
    /// walk waits for the instances its resource node started).
    async fn visit_resource_applied(
        &self,
        _run: &Arc<Run>,
        _module: &ModulePath,
        _resource: &Resource,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Visits an object of the prior state that nothing configures (the plan walk plans its
    /// deletion).
    async fn visit_orphan(
        &self,
        _run: &Arc<Run>,
        _instance: &ResourceInstance,
        _deposed: Option<&str>,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Visits one deletion (the apply walk destroys the object).
    async fn visit_destroy(
        &self,
        _run: &Arc<Run>,
        _instance: &ResourceInstance,
        _deposed: Option<&str>,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Called once a provider is configured (the plan walk upgrades and refreshes the objects
    /// it owns).
    async fn provider_configured(
        &self,
        _run: &Arc<Run>,
        _provider: &ProviderRef,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }
}

/// The walk plan of a graph: node `i` is graph node index `i`.
pub(super) fn walk_plan(graph: &Graph) -> WalkPlan {
    let graph = &graph.graph;
    let mut dependencies = vec![Vec::new(); graph.node_count()];
    for edge in graph.edge_indices() {
        if let Some((from, to)) = graph.edge_endpoints(edge) {
            dependencies[to.index()].push(from.index());
        }
    }
    WalkPlan { dependencies }
}

/// Walks the configuration graph with `walker`; the outcome of every node.
pub(super) async fn walk_config(run: &Arc<Run>, walker: Arc<dyn Walker>) -> Vec<Outcome> {
    walk_graph(run, run.graph.clone(), walker).await
}

/// Walks `graph` (the configuration's, or one a plan or apply extended with the steps of
/// [`crate::graph::deletions`]) with `walker`; the outcome of every node.
pub(super) async fn walk_graph(
    run: &Arc<Run>,
    graph: Arc<Graph>,
    walker: Arc<dyn Walker>,
) -> Vec<Outcome> {
    let walk_plan = walk_plan(&graph);
    let run = run.clone();
    walk(&walk_plan, run.cancelled.clone(), move |i| {
        let run = run.clone();
        let walker = walker.clone();
        let node = graph.graph[petgraph::graph::NodeIndex::new(i)].clone();
        async move { visit_node(run, &*walker, &node).await }
    })
    .await
}

/// Visits one node; resource nodes, orphans and deletions are the walker's.
pub(super) async fn visit_node(run: Arc<Run>, walker: &dyn Walker, node: &Node) -> bool {
    let result = match node {
        Node::Provider { provider } => visit_provider(&run, walker, provider).await,
        Node::ModuleExpand { module } => visit_expand(&run, module),
        Node::Variable { module, name } => visit_variable(&run, module, name),
        Node::Local { module, name } => visit_local(&run, module, name),
        Node::Output { module, name } => visit_output(&run, module, name),
        Node::Resource { module, resource } => walker.visit_resource(&run, module, resource).await,
        Node::ResourceApplied { module, resource } => {
            walker.visit_resource_applied(&run, module, resource).await
        }
        Node::Orphan { instance, deposed } => {
            walker
                .visit_orphan(&run, instance, deposed.as_deref())
                .await
        }
        Node::Destroy { instance, deposed } => {
            walker
                .visit_destroy(&run, instance, deposed.as_deref())
                .await
        }
    };
    match result {
        Ok(()) => true,
        Err(diagnostics) => {
            run.error(diagnostics);
            false
        }
    }
}

/// Evaluates a provider's configuration and configures it (validation only evaluates it), then
/// hands it to the walker.
async fn visit_provider(
    run: &Arc<Run>,
    walker: &dyn Walker,
    provider_ref: &ProviderRef,
) -> Result<(), Diagnostics> {
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(());
    };
    let (block, config) = provider_config(run, provider.as_ref(), provider_ref)?;
    if !run.evaluation.configures_providers {
        return Ok(());
    }
    let span = || block.map(|b| b.span.clone());
    if !config.is_wholly_known() {
        return Err(Diagnostic::error(format!("Invalid provider configuration for \"{provider_ref}\""))
            .with_detail("The provider configuration depends on values that cannot be determined until apply. Provider arguments may only refer to variables, locals and data sources that are known during plan.")
            .with_span_opt(span())
            .into());
    }
    // Configured early with this very configuration (`engine::early`): nothing to send.
    let early = run.early_config(provider_ref);
    if early != Some(&config) {
        let provider = match early {
            // Configured early with another (an impure function): a fresh instance.
            Some(_) => {
                tracing::debug!(provider = %provider_ref, "provider configured again: its configuration changed since it was configured early");
                run.replace_provider(provider_ref).unwrap_or(provider)
            }
            None => provider,
        };
        if let Err(error) = provider.configure(&config).await {
            return Err(Diagnostic::error(format!(
                "Failed to configure provider \"{provider_ref}\""
            ))
            .with_detail(error.to_string())
            .with_span_opt(span())
            .into());
        }
    }
    locked(&run.configured).insert(provider_ref.clone(), true);
    walker.provider_configured(run, provider_ref).await
}

/// A root provider's configuration block (none: the provider is configured with null) and
/// its value, evaluated against `provider`'s schema.
pub(super) fn provider_config<'r>(
    run: &'r Run,
    provider: &dyn crate::providers::Provider,
    provider_ref: &ProviderRef,
) -> Result<(Option<&'r crate::config::ProviderConfig>, Value), Diagnostics> {
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
    Ok((block, config))
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
    let parents = run.module_instances(&parent_path);
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
    let mut store = run.store_mut();
    store.module_instances.insert(path.clone(), instances);
    store.module_expansion.insert(path.clone(), expansion);
    Ok(())
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
            None if run.evaluation.partial => Value::unknown(),
            None => variable.default.clone().unwrap_or(Value::Null),
        };
        run.store_mut()
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
    let instances = run.module_instances(path);
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
        run.store_mut()
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
    let instances = run.module_instances(path);
    let mut diagnostics = Diagnostics::new();
    for info in instances {
        match run.eval(&local.expr, &info.instance, &Repetition::None, None) {
            Ok(value) => {
                run.store_mut()
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
    let instances = run.module_instances(path);
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
                run.store_mut()
                    .outputs
                    .insert((info.instance.clone(), name.to_string()), value);
            }
            Err(d) => diagnostics.extend(d),
        }
    }
    diagnostics.into_result(())
}

/// Configures every provider, first evaluating the variables, locals and module expansions
/// their configurations depend on (for `destroy`, which walks no resources). Providers only
/// found in state are configured with an empty configuration.
pub(super) async fn configure_providers(run: &Arc<Run>, walker: &dyn Walker) -> Diagnostics {
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
        if !visit_node(run.clone(), walker, &graph[node]).await {
            diagnostics.extend(std::mem::take(&mut *run.diagnostics()));
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
        .provider_refs()
        .into_iter()
        .filter(|p| !in_graph.contains(p))
        .collect();
    for provider in extra {
        if let Err(d) = visit_provider(run, walker, &provider).await {
            diagnostics.extend(d);
        }
    }
    diagnostics
}
