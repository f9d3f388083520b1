//! The `-target` transform: prunes a configuration graph to what a targeted run may touch, so
//! the walk never sees anything else (OpenTofu's `TargetsTransformer`, as Terraform 1.15 does it).
//!
//! - **plan/apply**: the targeted resources and everything they depend on; then each *root*
//!   output whose resource dependencies are all kept (and that has at least one), with its own
//!   dependencies. Every other output and local is gone: it is neither evaluated nor changed,
//!   and its recorded value stays in the state.
//! - **destroy**: the targeted resources and every resource that depends on them (they must go
//!   first), with what the provider configurations need; no outputs.

use super::{Graph, ModulePath, Node};
use crate::addrs::Target;
use petgraph::graph::NodeIndex;
use petgraph::Direction;
use std::collections::HashSet;

/// Which run the targets are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetMode {
    /// `plan`/`apply -target`: targets and their dependencies.
    Plan,
    /// `destroy -target`: targets and their dependents.
    Destroy,
}

/// Whether `target` names (some instances of) the resource node `module`/`resource`.
pub fn target_selects(
    target: &Target,
    module: &ModulePath,
    resource: &crate::addrs::Resource,
) -> bool {
    let within = |path: Vec<String>| path.len() <= module.len() && path[..] == module[..path.len()];
    match target {
        Target::Module(m) => within(m.module_path()),
        Target::Resource(r) => r.module.module_path() == *module && r.resource == *resource,
        Target::Instance(i) => i.module.module_path() == *module && i.resource == *resource,
    }
}

/// The graph pruned to what `targets` select (see the module header); unchanged without targets.
pub fn prune_to_targets(graph: &Graph, targets: &[Target], mode: TargetMode) -> Graph {
    if targets.is_empty() {
        return graph.clone();
    }
    let targeted: Vec<NodeIndex> = graph
        .graph
        .node_indices()
        .filter(|&i| match &graph.graph[i] {
            Node::Resource { module, resource } => {
                targets.iter().any(|t| target_selects(t, module, resource))
            }
            _ => false,
        })
        .collect();
    let keep = match mode {
        TargetMode::Plan => plan_selection(graph, &targeted),
        TargetMode::Destroy => destroy_selection(graph, &targeted),
    };
    graph.induced(&keep)
}

/// `pruned` (a graph [`prune_to_targets`] made from `full`, or `full` itself) with a node for
/// each of `providers`: put back from `full` with everything its configuration needs, or, for a
/// provider the configuration never mentions, a node of its own (configured with an empty
/// configuration, as [`super::transforms::ProviderEdges`] adds one). A target may name an object
/// nothing configures any longer (an orphan, or an instance of a removed module): its provider,
/// which no targeted resource kept, refreshes and deletes it, and must be configured first.
pub fn with_providers(
    pruned: &Graph,
    full: &Graph,
    providers: &[crate::config::ProviderRef],
) -> Graph {
    let nodes: Vec<Node> = providers
        .iter()
        .map(|provider| Node::Provider {
            provider: provider.clone(),
        })
        .collect();
    let starts = nodes
        .iter()
        .filter_map(|node| full.index.get(node).copied());
    let mut keep = closure(full, starts, Direction::Incoming);
    keep.extend(pruned.index.keys().filter_map(|node| full.index.get(node)));
    let mut graph = full.induced(&keep);
    for node in nodes {
        graph.add(node);
    }
    graph
}

/// Targets, their dependencies, and the root outputs that depend only on those.
fn plan_selection(graph: &Graph, targeted: &[NodeIndex]) -> HashSet<NodeIndex> {
    let mut keep = closure(graph, targeted.iter().copied(), Direction::Incoming);
    let outputs: Vec<NodeIndex> = graph
        .graph
        .node_indices()
        .filter(|&i| matches!(&graph.graph[i], Node::Output { module, .. } if module.is_empty()))
        .collect();
    for output in outputs {
        let ancestors = closure(graph, [output], Direction::Incoming);
        let resources: Vec<NodeIndex> = ancestors
            .iter()
            .copied()
            .filter(|&i| matches!(graph.graph[i], Node::Resource { .. }))
            .collect();
        if !resources.is_empty() && resources.iter().all(|r| keep.contains(r)) {
            keep.extend(ancestors);
        }
    }
    keep
}

/// Targets and the resources depending on them, plus what the providers need to be configured
/// (destroy walks no other configuration node).
fn destroy_selection(graph: &Graph, targeted: &[NodeIndex]) -> HashSet<NodeIndex> {
    let mut keep: HashSet<NodeIndex> =
        closure(graph, targeted.iter().copied(), Direction::Outgoing)
            .into_iter()
            .filter(|&i| matches!(graph.graph[i], Node::Resource { .. }))
            .collect();
    let providers = graph
        .graph
        .node_indices()
        .filter(|&i| matches!(graph.graph[i], Node::Provider { .. }));
    keep.extend(
        closure(graph, providers, Direction::Incoming)
            .into_iter()
            .filter(|&i| !matches!(graph.graph[i], Node::Resource { .. })),
    );
    keep
}

/// `start` and every node reachable from it against (`Incoming`: dependencies) or along
/// (`Outgoing`: dependents) the edges.
fn closure(
    graph: &Graph,
    start: impl IntoIterator<Item = NodeIndex>,
    direction: Direction,
) -> HashSet<NodeIndex> {
    let mut seen = HashSet::new();
    let mut stack: Vec<NodeIndex> = start.into_iter().collect();
    while let Some(node) = stack.pop() {
        if seen.insert(node) {
            stack.extend(graph.graph.neighbors_directed(node, direction));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::load_tree;
    use crate::diagnostics::SourceMap;

    fn graph_of(files: &[(&str, &str)]) -> Graph {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
            std::fs::write(path, text).expect("write a file");
        }
        let tree = load_tree(dir.path(), &mut SourceMap::new()).expect("a valid configuration");
        super::super::build(&tree).expect("a graph")
    }

    const NETWORK_FIRST: &str = r#"
module "vpc" {
  source = "./vpc"
}
resource "terraform_data" "cluster" {
  input = module.vpc.subnet
}
resource "terraform_data" "dns" {
  input = terraform_data.cluster.output
}
locals {
  endpoint = "https://${terraform_data.cluster.output}"
}
output "vpc_id" {
  value = module.vpc.vpc_id
}
output "cluster_endpoint" {
  value = local.endpoint
}
output "constant" {
  value = "c"
}
"#;
    const VPC: &str = r#"
resource "terraform_data" "vpc" {
  input = "10.0.0.0/16"
}
resource "terraform_data" "subnet" {
  input = terraform_data.vpc.output
}
output "vpc_id" {
  value = terraform_data.vpc.id
}
output "subnet" {
  value = terraform_data.subnet.output
}
"#;

    fn pruned(targets: &[&str], mode: TargetMode) -> String {
        let graph = graph_of(&[("main.tf", NETWORK_FIRST), ("vpc/main.tf", VPC)]);
        let targets: Vec<Target> = targets
            .iter()
            .map(|t| Target::parse(t).expect("a target"))
            .collect();
        prune_to_targets(&graph, &targets, mode).to_dot()
    }

    #[test]
    fn a_module_target_keeps_the_module_and_the_outputs_that_depend_only_on_it() {
        insta::assert_snapshot!(pruned(&["module.vpc"], TargetMode::Plan));
    }

    #[test]
    fn a_resource_target_keeps_its_dependencies_but_not_its_dependents() {
        insta::assert_snapshot!(pruned(&["terraform_data.cluster"], TargetMode::Plan));
    }

    #[test]
    fn a_destroy_target_keeps_its_dependents() {
        insta::assert_snapshot!(pruned(
            &["module.vpc.terraform_data.subnet"],
            TargetMode::Destroy
        ));
    }

    /// A targeted orphan's provider, which no targeted resource kept, comes back with what its
    /// configuration reads; a provider the configuration never mentions gets a bare node.
    #[test]
    fn a_targeted_orphans_provider_comes_back_with_what_its_configuration_needs() {
        let graph = graph_of(&[(
            "main.tf",
            r#"
variable "region" {
  default = "eu-west-1"
}
provider "aws" {
  region = var.region
}
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}
resource "terraform_data" "kept" {
  input = "x"
}
"#,
        )]);
        let target = Target::parse("aws_subnet.gone").expect("a target");
        let pruned = prune_to_targets(&graph, &[target], TargetMode::Plan);
        let reference = |name: &str| crate::config::ProviderRef {
            name: name.into(),
            alias: None,
        };
        let provider = |name: &str| Node::Provider {
            provider: reference(name),
        };
        assert!(!pruned.index.contains_key(&provider("aws")));
        let widened = with_providers(&pruned, &graph, &[reference("aws"), reference("fake")]);
        let aws = widened.index[&provider("aws")];
        let region = widened
            .index
            .iter()
            .find(|(node, _)| matches!(node, Node::Variable { name, .. } if name == "region"))
            .map(|(_, &index)| index)
            .expect("the provider's variable is back");
        assert!(widened.graph.contains_edge(region, aws));
        assert!(widened.index.contains_key(&provider("fake")));
        // Nothing else: no resource comes back with the provider.
        assert!(!widened
            .index
            .keys()
            .any(|node| matches!(node, Node::Resource { .. })));
    }

    #[test]
    fn no_targets_keep_the_whole_graph() {
        let graph = graph_of(&[("main.tf", NETWORK_FIRST), ("vpc/main.tf", VPC)]);
        assert_eq!(
            prune_to_targets(&graph, &[], TargetMode::Plan).to_dot(),
            graph.to_dot()
        );
    }
}
