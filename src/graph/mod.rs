//! The dependency graph of a configuration.
//!
//! Nodes are configuration objects per module *path* (not yet per instance): variables, locals,
//! resources and data sources, outputs, module expansions and provider configurations. Each node
//! stands for all the instances `count`/`for_each` will give it; the engine expands them when it
//! visits the node. Edges come from references and `depends_on`: an edge `a → b` means `b` needs
//! `a` first.
//!
//! The graph is built by an ordered list of small transforms ([`transforms::steps`]): add nodes
//! for every module, add edges for every reference, add the implicit edges (a module's objects
//! need its expansion; a resource needs its provider), check for cycles, and with `-target`
//! prune the graph ([`targets::prune_to_targets`]) before it is walked. A reference to something
//! that does not exist is a diagnostic at the reference, with the closest existing name.

pub mod deletions;
pub mod instances;
pub mod targets;
pub mod transforms;

use crate::addrs::{Resource, ResourceInstance, ResourceMode};
use crate::config::{Expr, ModuleTree, ProviderRef};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::lang::{self, Reference, Referenceable};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// A module path: the names of the module calls from the root (`["vpc"]`); empty for the root.
pub type ModulePath = Vec<String>;

/// What a graph node stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// The instances of a module call (`count`/`for_each` evaluated in the caller).
    ModuleExpand {
        module: ModulePath,
    },
    /// An input variable of a module (for the root: from the run's variable values).
    Variable {
        module: ModulePath,
        name: String,
    },
    Local {
        module: ModulePath,
        name: String,
    },
    /// A resource or data source, all its instances.
    Resource {
        module: ModulePath,
        resource: Resource,
    },
    Output {
        module: ModulePath,
        name: String,
    },
    /// A root provider configuration.
    Provider {
        provider: ProviderRef,
    },
    /// All the instances of a resource applied (an apply's graph, added by
    /// [`instances::AppliedNodes`]): what reads the resource as a whole waits for this node;
    /// the resource node itself is done once its instances have started.
    ResourceApplied {
        module: ModulePath,
        resource: Resource,
    },
    /// An object of the prior state that no configuration has, whose deletion a plan plans
    /// (added by [`deletions::OrphanResourceInstances`]): an instance of a resource the
    /// configuration no longer declares, or a deposed object.
    Orphan {
        instance: ResourceInstance,
        deposed: Option<String>,
    },
    /// The deletion of one object during an apply (added by [`deletions::DestroyNodes`]): a
    /// planned delete, or the old half of a replacement.
    Destroy {
        instance: ResourceInstance,
        deposed: Option<String>,
    },
}

fn module_prefix(module: &ModulePath) -> String {
    module.iter().map(|m| format!("module.{m}.")).collect()
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::ModuleExpand { module } => {
                let prefix = module_prefix(module);
                write!(f, "{} (expand)", prefix.trim_end_matches('.'))
            }
            Node::Variable { module, name } => write!(f, "{}var.{name}", module_prefix(module)),
            Node::Local { module, name } => write!(f, "{}local.{name}", module_prefix(module)),
            Node::Resource { module, resource } => write!(f, "{}{resource}", module_prefix(module)),
            Node::Output { module, name } => write!(f, "{}output.{name}", module_prefix(module)),
            Node::Provider { provider } => write!(f, "provider[\"{provider}\"]"),
            Node::ResourceApplied { module, resource } => {
                write!(f, "{}{resource} (applied)", module_prefix(module))
            }
            Node::Orphan {
                instance,
                deposed: None,
            } => write!(f, "{instance} (orphan)"),
            Node::Orphan {
                instance,
                deposed: Some(key),
            } => write!(f, "{instance} (deposed {key})"),
            Node::Destroy {
                instance,
                deposed: None,
            } => write!(f, "{instance} (destroy)"),
            Node::Destroy {
                instance,
                deposed: Some(key),
            } => write!(f, "{instance} (destroy deposed {key})"),
        }
    }
}

/// Why one node depends on another: the reference that made the edge, if any.
#[derive(Clone, Debug, Default)]
pub struct Edge {
    pub span: Option<Span>,
}

/// The graph, and the index of each node.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub graph: DiGraph<Node, Edge>,
    pub index: HashMap<Node, NodeIndex>,
    /// The edges already added, to skip duplicates in constant time: petgraph's `find_edge`
    /// scans the source's outgoing edges, and the provider and module-expansion nodes have an
    /// edge to every resource, which made building the graph quadratic in the resource count.
    edges: HashSet<(NodeIndex, NodeIndex)>,
}

impl Graph {
    fn add(&mut self, node: Node) -> NodeIndex {
        if let Some(&i) = self.index.get(&node) {
            return i;
        }
        let i = self.graph.add_node(node.clone());
        self.index.insert(node, i);
        i
    }

    fn edge(&mut self, from: &Node, to: NodeIndex, span: Option<Span>) {
        if let Some(&f) = self.index.get(from) {
            if f != to && self.edges.insert((f, to)) {
                self.graph.add_edge(f, to, Edge { span });
            }
        }
    }

    /// Moves the edges leaving `from` whose target `moved` selects so that they leave `to`
    /// instead, each with its span.
    fn move_outgoing(&mut self, from: NodeIndex, to: NodeIndex, moved: impl Fn(NodeIndex) -> bool) {
        let targets: Vec<NodeIndex> = self
            .graph
            .neighbors_directed(from, petgraph::Direction::Outgoing)
            .filter(|&target| moved(target))
            .collect();
        for target in targets {
            let Some(edge) = self.graph.find_edge(from, target) else {
                continue;
            };
            let span = self.graph.remove_edge(edge).and_then(|e| e.span);
            self.edges.remove(&(from, target));
            if to != target && self.edges.insert((to, target)) {
                self.graph.add_edge(to, target, Edge { span });
            }
        }
    }

    pub fn node(&self, i: NodeIndex) -> &Node {
        &self.graph[i]
    }

    /// The subgraph of the `keep` nodes and the edges between them (node indices change).
    pub fn induced(&self, keep: &HashSet<NodeIndex>) -> Graph {
        let mut graph = Graph::default();
        for i in self.graph.node_indices().filter(|i| keep.contains(i)) {
            graph.add(self.graph[i].clone());
        }
        for edge in self.graph.edge_indices() {
            let Some((from, to)) = self.graph.edge_endpoints(edge) else {
                continue;
            };
            if keep.contains(&from) && keep.contains(&to) {
                let to = graph.index[&self.graph[to]];
                graph.edge(&self.graph[from], to, self.graph[edge].span.clone());
            }
        }
        graph
    }

    /// The managed resources `node` depends on, directly or through locals, variables and
    /// module outputs (not through other resources, nor providers): what the state records as
    /// an instance's `dependencies`, and what orders deletions.
    pub fn resource_dependencies(&self, node: &Node) -> Vec<Node> {
        let Some(&start) = self.index.get(node) else {
            return Vec::new();
        };
        let mut seen = HashSet::new();
        let mut stack = vec![start];
        let mut found = Vec::new();
        while let Some(current) = stack.pop() {
            for dep in self
                .graph
                .neighbors_directed(current, petgraph::Direction::Incoming)
            {
                if !seen.insert(dep) {
                    continue;
                }
                match &self.graph[dep] {
                    n @ Node::Resource { resource, .. }
                        if resource.mode == ResourceMode::Managed =>
                    {
                        found.push(n.clone());
                    }
                    Node::Provider { .. }
                    | Node::ResourceApplied { .. }
                    | Node::Orphan { .. }
                    | Node::Destroy { .. } => {}
                    _ => stack.push(dep),
                }
            }
        }
        found.sort();
        found
    }

    /// The graph in Graphviz DOT, nodes and edges sorted for a stable output.
    pub fn to_dot(&self) -> String {
        let mut lines = Vec::new();
        for edge in self.graph.edge_indices() {
            if let Some((a, b)) = self.graph.edge_endpoints(edge) {
                lines.push(format!("  \"{}\" -> \"{}\"", self.graph[b], self.graph[a]));
            }
        }
        lines.sort();
        let mut nodes: Vec<String> = self
            .graph
            .node_indices()
            .map(|i| format!("  \"{}\"", self.graph[i]))
            .collect();
        nodes.sort();
        format!(
            "digraph {{\n  compound = \"true\"\n  newrank = \"true\"\n{}\n{}\n}}\n",
            nodes.join("\n"),
            lines.join("\n")
        )
    }
}

/// Builds the graph of a module tree (the [`transforms::steps`] without targets). Errors:
/// references to undeclared objects, and cycles.
pub fn build(tree: &ModuleTree) -> Result<Graph, Diagnostics> {
    build_targeted(tree, &[], targets::TargetMode::Plan)
}

/// Builds the graph a run walks: [`build`]'s, pruned to what `targets` select.
pub fn build_targeted(
    tree: &ModuleTree,
    targets: &[crate::addrs::Target],
    mode: targets::TargetMode,
) -> Result<Graph, Diagnostics> {
    let _phase = crate::timings::phase("graph construction");
    transforms::run(&transforms::steps(tree, targets, mode))
}

/// The root provider configuration a resource in `path` uses: its own `provider` argument, mapped
/// through each module call's `providers` map, defaulting to the same name.
pub fn resolve_provider(
    root: &ModuleTree,
    path: &ModulePath,
    provider: &ProviderRef,
) -> ProviderRef {
    let mut current = provider.clone();
    for depth in (0..path.len()).rev() {
        let Some(parent) = root.descendant(&path[..depth]) else {
            break;
        };
        let Some(call) = parent.module.module_calls.get(&path[depth]) else {
            break;
        };
        let key = current.to_string();
        if let Some(mapped) = call.providers.get(&key) {
            current = mapped.clone();
        }
    }
    current
}

/// Checks that every reference in an expression written in the root module (`strata console`
/// input) names something declared, with the same errors (and suggestions) as the graph gives.
pub fn check_root_references(tree: &ModuleTree, expr: &Expr) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    for reference in lang::references(expr) {
        reference_target(tree, &Vec::new(), &reference, &mut diagnostics);
    }
    diagnostics
}

/// The nodes a reference in module `path` depends on; `None` (with a diagnostic) when it refers
/// to something undeclared. References to `count`, `each`, `path`, … need no node.
fn reference_target(
    tree: &ModuleTree,
    path: &ModulePath,
    reference: &Reference,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<Node>> {
    let module = &tree.module;
    let undeclared = |kind: &str, what: &str, name: &str, candidates: Vec<&str>| {
        Diagnostic::error(format!("Reference to undeclared {kind}"))
            .with_detail(format!(
                "{what} \"{name}\" has not been declared in {}.",
                module_description(path)
            ))
            .with_span_opt(reference.span.clone())
            .with_suggestion(did_you_mean(name, candidates))
    };
    match &reference.subject {
        Referenceable::Variable(name) => {
            if module.variables.contains_key(name) {
                Some(vec![Node::Variable {
                    module: path.clone(),
                    name: name.clone(),
                }])
            } else {
                diagnostics.push(undeclared(
                    "input variable",
                    "An input variable with the name",
                    name,
                    module.variables.keys().map(String::as_str).collect(),
                ));
                None
            }
        }
        Referenceable::Local(name) => {
            if module.locals.contains_key(name) {
                Some(vec![Node::Local {
                    module: path.clone(),
                    name: name.clone(),
                }])
            } else {
                diagnostics.push(undeclared(
                    "local value",
                    "A local value with the name",
                    name,
                    module.locals.keys().map(String::as_str).collect(),
                ));
                None
            }
        }
        Referenceable::Resource(resource) => {
            if module.resources.contains_key(resource) {
                Some(vec![Node::Resource {
                    module: path.clone(),
                    resource: resource.clone(),
                }])
            } else {
                let kind = if resource.mode == ResourceMode::Data {
                    "data source"
                } else {
                    "resource"
                };
                let names: Vec<String> = module
                    .resources
                    .keys()
                    .filter(|r| r.mode == resource.mode)
                    .map(|r| format!("{}.{}", r.type_name, r.name))
                    .collect();
                let wanted = format!("{}.{}", resource.type_name, resource.name);
                diagnostics.push(undeclared(
                    kind,
                    &format!("A {kind}"),
                    &wanted,
                    names.iter().map(String::as_str).collect(),
                ));
                None
            }
        }
        Referenceable::ModuleCall(name) => {
            if let Some(child) = tree.children.get(name) {
                let mut child_path = path.clone();
                child_path.push(name.clone());
                let mut nodes: Vec<Node> = child
                    .module
                    .outputs
                    .keys()
                    .map(|output| Node::Output {
                        module: child_path.clone(),
                        name: output.clone(),
                    })
                    .collect();
                nodes.push(Node::ModuleExpand { module: child_path });
                Some(nodes)
            } else {
                diagnostics.push(undeclared(
                    "module",
                    "A module call named",
                    name,
                    module.module_calls.keys().map(String::as_str).collect(),
                ));
                None
            }
        }
        _ => Some(Vec::new()),
    }
}

fn module_description(path: &ModulePath) -> String {
    if path.is_empty() {
        "the root module".to_string()
    } else {
        format!("module.{}", path.join(".module."))
    }
}

fn check_cycles(graph: &Graph) -> Result<(), Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    for component in petgraph::algo::tarjan_scc(&graph.graph) {
        let is_cycle = component.len() > 1
            || component
                .first()
                .is_some_and(|&n| graph.graph.find_edge(n, n).is_some());
        if !is_cycle {
            continue;
        }
        let mut members: Vec<NodeIndex> = component.clone();
        members.sort_by_key(|&i| graph.graph[i].to_string());
        // Walk the cycle from its first member to print it in order, with each reference.
        let in_cycle: std::collections::HashSet<NodeIndex> = component.iter().copied().collect();
        let start = members[0];
        let mut order = vec![start];
        let mut spans = Vec::new();
        let mut current = start;
        loop {
            let next = graph
                .graph
                .neighbors_directed(current, petgraph::Direction::Incoming)
                .filter(|n| in_cycle.contains(n))
                .min_by_key(|&n| graph.graph[n].to_string());
            let Some(next) = next else { break };
            let edge = graph
                .graph
                .find_edge(next, current)
                .map(|e| graph.graph[e].span.clone())
                .unwrap_or_default();
            spans.push(edge);
            if next == start || order.contains(&next) {
                order.push(next);
                break;
            }
            order.push(next);
            current = next;
        }
        let chain = order
            .iter()
            .map(|&i| graph.graph[i].to_string())
            .collect::<Vec<_>>()
            .join(" → ");
        let mut detail = format!("The configuration has a dependency cycle: {chain}.\n");
        let mut locations: BTreeMap<String, ()> = BTreeMap::new();
        for (i, span) in spans.iter().enumerate() {
            if let Some(span) = span {
                locations.insert(
                    format!(
                        "  {} refers to {} at {span}",
                        graph.graph[order[i]],
                        graph.graph[order[i + 1]]
                    ),
                    (),
                );
            }
        }
        for line in locations.keys() {
            detail.push_str(line);
            detail.push('\n');
        }
        detail.push_str("Break the cycle by removing one of these references.");
        let first_span = spans.iter().flatten().next().cloned();
        diagnostics.push(
            Diagnostic::error("Cycle in configuration")
                .with_detail(detail)
                .with_span_opt(first_span),
        );
    }
    diagnostics.into_result(())
}
