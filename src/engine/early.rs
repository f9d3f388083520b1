//! Configuring providers while the command takes the lock and reads the state.
//!
//! A provider whose configuration reads only variables and locals needs nothing the state
//! holds, yet a plan configures it only after the state has arrived: with the AWS provider
//! that is the SDK's configuration and a GetCallerIdentity round trip on the critical path,
//! after the lock's and the state's. [`Engine::configure_early`] evaluates such configurations
//! in a run of its own (an empty state; only variables, locals and module expansions are
//! visited, no resource or data source) and configures a fresh instance with each, while the
//! command fetches the state. The next run takes those instances ([`Engine::run`]); its
//! provider node evaluates the configuration again and keeps the early instance only when the
//! two are equal (an impure function such as `timestamp()` makes them differ: a fresh instance
//! is configured, as without this step). Anything the early run cannot do (an unknown value, a
//! failed configure, a variable's validation) is left to the run, which reports it as before.
//!
//! Only built-in providers: a plugin's instance is shared by the whole command and configured
//! once.

use super::nodes::{provider_config, visit_node, Walker};
use super::{plan, Engine};
use crate::addrs::Resource;
use crate::config::ProviderRef;
use crate::diagnostics::Diagnostics;
use crate::graph::{ModulePath, Node};
use crate::providers::Provider;
use crate::state::State;
use crate::value::Value;
use petgraph::graph::NodeIndex;
use petgraph::Direction;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A provider instance configured before its run, with the configuration it was given.
pub(super) struct EarlyProvider {
    pub instance: Arc<dyn Provider>,
    pub config: Value,
}

/// The providers configured early, by configuration address.
pub(super) type EarlyProviders = HashMap<ProviderRef, EarlyProvider>;

impl Engine {
    /// Configures, in the background of the lock and the state, every built-in provider whose
    /// configuration needs no resource or data source; the next run takes them.
    pub async fn configure_early(&self) {
        let (candidates, ancestors) = candidates(self);
        if candidates.is_empty() {
            return;
        }
        let Ok(run) = self.run(State::new(), plan::PlanWalker::EVALUATION) else {
            return;
        };
        let graph = &self.graph.graph;
        let Ok(order) = petgraph::algo::toposort(graph, None) else {
            return;
        };
        for node in order.into_iter().filter(|n| ancestors.contains(n)) {
            visit_node(run.clone(), &NoResources, &graph[node]).await;
        }
        let mut early = EarlyProviders::new();
        for provider in candidates {
            let Some(instance) = run.provider(&provider) else {
                continue;
            };
            let Ok((_, config)) = provider_config(&run, instance.as_ref(), &provider) else {
                continue;
            };
            if config.is_wholly_known() && instance.configure(&config).await.is_ok() {
                tracing::debug!(%provider, "provider configured while the state is read");
                early.insert(provider, EarlyProvider { instance, config });
            }
        }
        *super::locked(&self.early) = early;
    }
}

/// The built-in providers of the graph whose ancestors are variables, locals and module
/// expansions only, and those ancestors.
fn candidates(engine: &Engine) -> (Vec<ProviderRef>, HashSet<NodeIndex>) {
    let graph = &engine.graph.graph;
    let mut candidates = Vec::new();
    let mut all_ancestors = HashSet::new();
    for index in graph.node_indices() {
        let Node::Provider { provider } = &graph[index] else {
            continue;
        };
        let built_in = engine
            .registry
            .get(&provider.name)
            .is_some_and(|registered| !registered.shared);
        if !built_in {
            continue;
        }
        let mut ancestors = HashSet::new();
        let mut stack: Vec<NodeIndex> = graph
            .neighbors_directed(index, Direction::Incoming)
            .collect();
        let mut plain = true;
        while let Some(node) = stack.pop() {
            if !ancestors.insert(node) {
                continue;
            }
            match &graph[node] {
                Node::Variable { .. } | Node::Local { .. } | Node::ModuleExpand { .. } => {
                    stack.extend(graph.neighbors_directed(node, Direction::Incoming));
                }
                _ => plain = false,
            }
        }
        if plain {
            candidates.push(provider.clone());
            all_ancestors.extend(ancestors);
        }
    }
    (candidates, all_ancestors)
}

/// The early run visits no resource (its graph walk only reaches variables, locals and module
/// expansions).
struct NoResources;

#[async_trait::async_trait]
impl Walker for NoResources {
    async fn visit_resource(
        &self,
        _run: &Arc<super::Run>,
        _module: &ModulePath,
        _resource: &Resource,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }
}
