//! Instance-level scheduling for an apply (issue 16): an instance starts as soon as the
//! instances it reads are applied, not when the whole resource is.
//!
//! [`AppliedNodes`] splits each resource node in two: the resource node itself expands the
//! resource and starts its instances; a `(applied)` node is done once they all are. What reads
//! the resource as a whole (a local, an output, a resource reading `a[*]` or `a[0]`, a
//! `depends_on`, a deletion ordered after it) waits for the `(applied)` node. A resource whose
//! every reference to another one picks the instance by its own repetition (`a[count.index]`
//! with `count`, `a[each.key]` with `for_each`), in its body and provisioners alone, keeps its
//! edge from that resource's node: it starts with it, and each of its instances waits for the
//! one instance it reads (the engine's instance gates).

use super::transforms::Transform;
use super::{Graph, ModulePath, Node};
use crate::addrs::Resource;
use crate::config::{ModuleTree, ResourceConfig};
use crate::diagnostics::Diagnostics;
use crate::lang::{self, InstancePick, Referenceable};
use petgraph::graph::NodeIndex;
use petgraph::Direction;

/// A `(applied)` node per resource node, which takes over the edges to what reads the resource
/// as a whole.
pub struct AppliedNodes<'a> {
    pub tree: &'a ModuleTree,
}

impl Transform for AppliedNodes<'_> {
    fn name(&self) -> &'static str {
        "applied nodes"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        let resources: Vec<(NodeIndex, ModulePath, Resource)> = graph
            .graph
            .node_indices()
            .filter_map(|i| match &graph.graph[i] {
                Node::Resource { module, resource } => Some((i, module.clone(), resource.clone())),
                _ => None,
            })
            .collect();
        for (index, module, resource) in resources {
            let applied = graph.add(Node::ResourceApplied {
                module: module.clone(),
                resource: resource.clone(),
            });
            let picks_from = |target: NodeIndex| match &graph.graph[target] {
                Node::Resource {
                    module: dependent_module,
                    resource: dependent,
                } => {
                    *dependent_module == module
                        && picks_one_instance(self.tree, &module, dependent, &resource)
                }
                _ => false,
            };
            let whole: Vec<NodeIndex> = graph
                .graph
                .neighbors_directed(index, Direction::Outgoing)
                .filter(|&target| !picks_from(target))
                .collect();
            graph.move_outgoing(index, applied, |target| whole.contains(&target));
            if graph.edges.insert((index, applied)) {
                graph.graph.add_edge(index, applied, super::Edge::default());
            }
        }
        Ok(())
    }
}

/// Whether every reference `dependent` (in module `path`) makes to `dependency` picks one
/// instance by the dependent instance's own repetition, in its body and provisioners only.
pub fn picks_one_instance(
    tree: &ModuleTree,
    path: &ModulePath,
    dependent: &Resource,
    dependency: &Resource,
) -> bool {
    let Some(config) = tree
        .descendant(path)
        .and_then(|t| t.module.resources.get(dependent))
    else {
        return false;
    };
    let wanted = match (&config.count, &config.for_each) {
        (Some(_), _) => InstancePick::CountIndex,
        (None, Some(_)) => InstancePick::EachKey,
        (None, None) => return false,
    };
    if meta_refers_to(config, dependency) {
        return false;
    }
    let bodies = std::iter::once(&config.body).chain(config.provisioning.bodies());
    let mut found = false;
    for body in bodies {
        for (resource, pick) in lang::resource_picks(body) {
            if resource == *dependency {
                if pick != Some(wanted) {
                    return false;
                }
                found = true;
            }
        }
    }
    found
}

/// Whether a resource's meta-arguments or conditions name `dependency` (they read it whole).
fn meta_refers_to(config: &ResourceConfig, dependency: &Resource) -> bool {
    config
        .meta_expressions()
        .flat_map(lang::references)
        .any(|r| r.subject == Referenceable::Resource(dependency.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::load_tree;
    use crate::diagnostics::SourceMap;

    /// `b` picks `a`'s instance by `count.index`; `c` reads `a[0]`; `d` picks by `each.key`
    /// from `e` but names it in `depends_on` too; `f` picks by `each.key`; `out` reads `b`.
    const CONFIG: &str = r#"
resource "fake_resource" "a" {
  count = 2
  name  = "a-${count.index}"
}
resource "fake_resource" "b" {
  count = 2
  name  = "b-${fake_resource.a[count.index].id}"
}
resource "fake_resource" "c" {
  count = 2
  name  = fake_resource.a[0].id
}
resource "fake_resource" "e" {
  for_each = toset(["x", "y"])
  name     = each.key
}
resource "fake_resource" "d" {
  for_each   = toset(["x", "y"])
  name       = fake_resource.e[each.key].id
  depends_on = [fake_resource.e]
}
resource "fake_resource" "f" {
  for_each = toset(["x", "y"])
  name     = fake_resource.e[each.key].id
}
output "out" {
  value = fake_resource.b[*].id
}
"#;

    #[test]
    fn applied_nodes_take_the_edges_of_whole_resource_readers() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("main.tf"), CONFIG).expect("write main.tf");
        let tree = load_tree(dir.path(), &mut SourceMap::new()).expect("a valid configuration");
        let mut graph = super::super::build(&tree).expect("a graph");
        AppliedNodes { tree: &tree }
            .transform(&mut graph)
            .expect("the step");
        insta::assert_snapshot!(graph.to_dot());
    }
}
