//! The steps that build a configuration graph, each a small [`Transform`] (OpenTofu's
//! `graph_builder_plan.go` `Steps()`): [`steps`] lists them in order and [`run`] applies them,
//! stopping at the first that reports errors.
//!
//! 1. [`ConfigNodes`]: one node per configuration object of every module.
//! 2. [`ReferenceEdges`]: an edge for every reference in every expression (undeclared
//!    references are errors here), all through one function, [`connect`].
//! 3. [`ModuleExpansionEdges`]: a module's objects need its expansion, a nested call's
//!    expansion its parent's.
//! 4. [`ProviderEdges`]: a resource needs its (resolved) provider configuration; providers
//!    without a `provider` block get a node.
//! 5. [`CycleCheck`]: a cycle is an error naming each reference in it.
//! 6. [`Targets`]: with `-target`, the graph pruned to the targets, what they need and the root
//!    outputs that read only those ([`super::targets`]); every other output and local is gone.
//!
//! A plan and an apply add the steps of [`super::deletions`] to this graph: the orphans a plan
//! plans the deletion of; the deletions an apply makes, and the edges that order them.
//!
//! Reference edges come before the structural ones on purpose: an edge is added once, and the
//! first one keeps its span, so an edge that is also a reference points at that reference.

use super::targets::{prune_to_targets, TargetMode};
use super::{reference_target, resolve_provider, Graph, ModulePath, Node};
use crate::addrs::Target;
use crate::config::{Expr, ModuleTree, ProviderRef};
use crate::diagnostics::Diagnostics;
use crate::lang::{self, Reference};
use petgraph::graph::NodeIndex;

/// One step of building a graph.
pub trait Transform {
    /// A short name (for goldens and debugging).
    fn name(&self) -> &'static str;
    /// Changes the graph; errors stop the build after this step.
    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics>;
}

/// The steps that build the graph a plan (and its apply) walks, in order.
pub fn steps<'a>(
    tree: &'a ModuleTree,
    targets: &'a [Target],
    mode: TargetMode,
) -> Vec<Box<dyn Transform + 'a>> {
    vec![
        Box::new(ConfigNodes { tree }),
        Box::new(ReferenceEdges { tree }),
        Box::new(ModuleExpansionEdges { tree }),
        Box::new(ProviderEdges { tree }),
        Box::new(CycleCheck),
        Box::new(Targets { targets, mode }),
    ]
}

/// Applies `steps` to an empty graph, stopping at the first step that reports errors.
pub fn run(steps: &[Box<dyn Transform + '_>]) -> Result<Graph, Diagnostics> {
    run_on(Graph::default(), steps)
}

/// Applies `steps` to `graph` (a plan's or an apply's [`super::deletions`] steps on the
/// configuration's graph), stopping at the first step that reports errors.
pub fn run_on(mut graph: Graph, steps: &[Box<dyn Transform + '_>]) -> Result<Graph, Diagnostics> {
    for step in steps {
        tracing::trace!(step = step.name(), "graph transform");
        step.transform(&mut graph)?;
    }
    Ok(graph)
}

/// Calls `visit` with every module of the tree and its path, parents before children.
fn each_module<'a>(
    tree: &'a ModuleTree,
    path: &ModulePath,
    visit: &mut impl FnMut(&'a ModuleTree, &ModulePath),
) {
    visit(tree, path);
    for (name, child) in &tree.children {
        let mut child_path = path.clone();
        child_path.push(name.clone());
        each_module(child, &child_path, visit);
    }
}

/// Adds the edges `references` (written in module `path` of `tree`) make into `to`, except an
/// edge from `except`; an undeclared reference is a diagnostic.
fn connect(
    graph: &mut Graph,
    tree: &ModuleTree,
    path: &ModulePath,
    to: &Node,
    references: Vec<Reference>,
    except: Option<&Node>,
    diagnostics: &mut Diagnostics,
) {
    let Some(&to) = graph.index.get(to) else {
        return;
    };
    for reference in references {
        let Some(targets) = reference_target(tree, path, &reference, diagnostics) else {
            continue;
        };
        for dep in targets.iter().filter(|dep| Some(*dep) != except) {
            graph.edge(dep, to, reference.span.clone());
        }
    }
}

fn expr_references<'e>(exprs: impl IntoIterator<Item = &'e Expr>) -> Vec<Reference> {
    exprs.into_iter().flat_map(lang::references).collect()
}

/// One node per configuration object: root provider blocks, module expansions, variables,
/// locals, resources and data sources, outputs.
pub struct ConfigNodes<'a> {
    pub tree: &'a ModuleTree,
}

impl Transform for ConfigNodes<'_> {
    fn name(&self) -> &'static str {
        "config nodes"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        each_module(self.tree, &Vec::new(), &mut |tree, path| {
            add_module_nodes(graph, tree, path)
        });
        Ok(())
    }
}

fn add_module_nodes(graph: &mut Graph, tree: &ModuleTree, path: &ModulePath) {
    let module = &tree.module;
    if path.is_empty() {
        for provider in &module.providers {
            graph.add(Node::Provider {
                provider: ProviderRef {
                    name: provider.name.clone(),
                    alias: provider.alias.clone(),
                },
            });
        }
    } else {
        graph.add(Node::ModuleExpand {
            module: path.clone(),
        });
    }
    let module_path = || path.clone();
    for name in module.variables.keys() {
        graph.add(Node::Variable {
            module: module_path(),
            name: name.clone(),
        });
    }
    for name in module.locals.keys() {
        graph.add(Node::Local {
            module: module_path(),
            name: name.clone(),
        });
    }
    for resource in module.resources.keys() {
        graph.add(Node::Resource {
            module: module_path(),
            resource: resource.clone(),
        });
    }
    for name in module.outputs.keys() {
        graph.add(Node::Output {
            module: module_path(),
            name: name.clone(),
        });
    }
}

/// An edge for every reference and `depends_on`: a child module's variables from the call's
/// arguments (in the parent), locals, root `import` blocks (on their target resource),
/// resources (meta-arguments, conditions, body, provisioners), outputs, root provider blocks,
/// module calls' `count`/`for_each`/`depends_on` (on the call's expansion).
pub struct ReferenceEdges<'a> {
    pub tree: &'a ModuleTree,
}

impl Transform for ReferenceEdges<'_> {
    fn name(&self) -> &'static str {
        "reference edges"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        let mut diagnostics = Diagnostics::new();
        each_module(self.tree, &Vec::new(), &mut |tree, path| {
            for uses in module_references(self.tree, tree, path) {
                let (scope, scope_path) = uses.scope;
                connect(
                    graph,
                    scope,
                    &scope_path,
                    &uses.node,
                    uses.references,
                    uses.except.as_ref(),
                    &mut diagnostics,
                );
            }
        });
        diagnostics.into_result(())
    }
}

/// The references one node's expressions make, and the module they are written in.
struct NodeReferences<'a> {
    node: Node,
    scope: (&'a ModuleTree, ModulePath),
    references: Vec<Reference>,
    /// A node the references may name without making an edge (a resource's body naming the
    /// resource itself, through a provisioner's `self`-like reference).
    except: Option<Node>,
}

/// The references of every object of one module, in a fixed order (variables, locals, root
/// imports, resources, outputs, root providers, module calls).
fn module_references<'a>(
    root: &'a ModuleTree,
    tree: &'a ModuleTree,
    path: &ModulePath,
) -> Vec<NodeReferences<'a>> {
    let module = &tree.module;
    let here = |node: Node, references: Vec<Reference>| NodeReferences {
        node,
        scope: (tree, path.clone()),
        references,
        except: None,
    };
    let mut found = variable_references(root, tree, path);
    for (name, local) in &module.locals {
        let node = Node::Local {
            module: path.clone(),
            name: name.clone(),
        };
        found.push(here(node, lang::references(&local.expr)));
    }
    if path.is_empty() {
        found.extend(import_references(tree));
    }
    for (resource, config) in &module.resources {
        let node = Node::Resource {
            module: path.clone(),
            resource: resource.clone(),
        };
        found.push(here(
            node.clone(),
            expr_references(config.meta_expressions()),
        ));
        let bodies = std::iter::once(&config.body).chain(config.provisioning.bodies());
        found.push(NodeReferences {
            except: Some(node.clone()),
            ..here(node, bodies.flat_map(lang::body_references).collect())
        });
    }
    for (name, output) in &module.outputs {
        let node = Node::Output {
            module: path.clone(),
            name: name.clone(),
        };
        let conditions = output
            .preconditions
            .iter()
            .flat_map(|c| [&c.condition, &c.error_message]);
        let exprs = std::iter::once(&output.expr)
            .chain(output.depends_on.iter())
            .chain(conditions);
        found.push(here(node, expr_references(exprs)));
    }
    if path.is_empty() {
        for provider in &module.providers {
            let node = Node::Provider {
                provider: ProviderRef {
                    name: provider.name.clone(),
                    alias: provider.alias.clone(),
                },
            };
            found.push(here(node, lang::body_references(&provider.body)));
        }
    }
    for (name, call) in &module.module_calls {
        let mut child_path = path.clone();
        child_path.push(name.clone());
        let exprs = call
            .count
            .iter()
            .chain(call.for_each.iter())
            .chain(call.depends_on.iter());
        let node = Node::ModuleExpand { module: child_path };
        found.push(here(node, expr_references(exprs)));
    }
    found
}

/// A child module's variables take their values from the call's arguments, written in the
/// parent module.
fn variable_references<'a>(
    root: &'a ModuleTree,
    tree: &'a ModuleTree,
    path: &ModulePath,
) -> Vec<NodeReferences<'a>> {
    let Some((call_name, parent_path)) = path.split_last() else {
        return Vec::new();
    };
    let Some(parent) = root.descendant(parent_path) else {
        return Vec::new();
    };
    let Some(call) = parent.module.module_calls.get(call_name) else {
        return Vec::new();
    };
    tree.module
        .variables
        .keys()
        .filter_map(|name| {
            let input = call.inputs.get(name)?;
            Some(NodeReferences {
                node: Node::Variable {
                    module: path.clone(),
                    name: name.clone(),
                },
                scope: (parent, parent_path.to_vec()),
                references: lang::references(input),
                except: None,
            })
        })
        .collect()
}

/// A root `import` block's ID (and `for_each`, `to` key) is evaluated when its target resource
/// is planned.
fn import_references(tree: &ModuleTree) -> Vec<NodeReferences<'_>> {
    let mut found = Vec::new();
    for import in &tree.module.imports {
        let (module, resource) = match Target::parse(&import.to) {
            Ok(Target::Resource(r)) => (r.module.module_path(), r.resource),
            Ok(Target::Instance(i)) => (i.module.module_path(), i.resource),
            _ => continue,
        };
        let exprs = std::iter::once(&import.id)
            .chain(import.for_each.iter())
            .chain(import.key.iter());
        found.push(NodeReferences {
            node: Node::Resource { module, resource },
            scope: (tree, Vec::new()),
            references: expr_references(exprs),
            except: None,
        });
    }
    found
}

/// A module's variables, locals, resources and outputs need the module's expansion (its
/// `count`/`for_each` evaluated); a nested call's expansion needs its parent's.
pub struct ModuleExpansionEdges<'a> {
    pub tree: &'a ModuleTree,
}

impl Transform for ModuleExpansionEdges<'_> {
    fn name(&self) -> &'static str {
        "module expansion edges"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        let nodes: Vec<(NodeIndex, ModulePath)> = graph
            .graph
            .node_indices()
            .filter_map(|i| match &graph.graph[i] {
                Node::Variable { module, .. }
                | Node::Local { module, .. }
                | Node::Resource { module, .. }
                | Node::Output { module, .. } => Some((i, module.clone())),
                Node::ModuleExpand { module } => {
                    Some((i, module[..module.len().saturating_sub(1)].to_vec()))
                }
                Node::Provider { .. }
                | Node::ResourceApplied { .. }
                | Node::Orphan { .. }
                | Node::Destroy { .. } => None,
            })
            .collect();
        for (to, module) in nodes {
            if !module.is_empty() {
                graph.edge(&Node::ModuleExpand { module }, to, None);
            }
        }
        Ok(())
    }
}

/// Each resource needs its provider configuration, resolved through the module calls'
/// `providers` maps; a provider without a `provider` block gets its node here (it is
/// configured with an empty configuration).
pub struct ProviderEdges<'a> {
    pub tree: &'a ModuleTree,
}

impl Transform for ProviderEdges<'_> {
    fn name(&self) -> &'static str {
        "provider edges"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        each_module(self.tree, &Vec::new(), &mut |tree, path| {
            for (resource, config) in &tree.module.resources {
                let node = Node::Resource {
                    module: path.clone(),
                    resource: resource.clone(),
                };
                let Some(&to) = graph.index.get(&node) else {
                    continue;
                };
                let provider = resolve_provider(self.tree, path, &config.provider);
                let provider_node = Node::Provider { provider };
                graph.add(provider_node.clone());
                graph.edge(&provider_node, to, None);
            }
        });
        Ok(())
    }
}

/// A cycle is an error that prints the cycle with the location of each reference.
pub struct CycleCheck;

impl Transform for CycleCheck {
    fn name(&self) -> &'static str {
        "cycle check"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        super::check_cycles(graph)
    }
}

/// `-target`: the graph pruned to what the targets select (nothing changes without targets).
pub struct Targets<'a> {
    pub targets: &'a [Target],
    pub mode: TargetMode,
}

impl Transform for Targets<'_> {
    fn name(&self) -> &'static str {
        "targets"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        if !self.targets.is_empty() {
            *graph = prune_to_targets(graph, self.targets, self.mode);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::load_tree;
    use crate::diagnostics::SourceMap;

    const ROOT: &str = r#"
variable "region" {
  default = "eu-west-1"
}
provider "fake" {
  region = var.region
}
locals {
  name = "app-${var.region}"
}
module "net" {
  source = "./net"
  count  = 2
  cidr   = local.name
}
resource "fake_thing" "app" {
  name       = local.name
  depends_on = [module.net]
  lifecycle {
    precondition {
      condition     = var.region != ""
      error_message = "a region"
    }
  }
}
import {
  to = fake_thing.app
  id = local.name
}
output "app" {
  value = fake_thing.app.id
}
"#;
    const NET: &str = r#"
variable "cidr" {}
resource "terraform_data" "vpc" {
  input = var.cidr
}
output "id" {
  value = terraform_data.vpc.id
}
"#;

    fn tree() -> ModuleTree {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, text) in [("main.tf", ROOT), ("net/main.tf", NET)] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
            std::fs::write(path, text).expect("write a file");
        }
        load_tree(dir.path(), &mut SourceMap::new()).expect("a valid configuration")
    }

    /// The DOT of the config nodes with one more transform applied.
    fn nodes_and(step: &dyn Transform) -> String {
        let tree = tree();
        let mut graph = Graph::default();
        ConfigNodes { tree: &tree }
            .transform(&mut graph)
            .expect("nodes");
        step.transform(&mut graph).expect("the transform");
        graph.to_dot()
    }

    #[test]
    fn config_nodes_are_one_per_object_and_nothing_else() {
        let tree = tree();
        let mut graph = Graph::default();
        ConfigNodes { tree: &tree }
            .transform(&mut graph)
            .expect("nodes");
        insta::assert_snapshot!(graph.to_dot());
    }

    #[test]
    fn reference_edges_follow_every_expression_in_its_own_scope() {
        let tree = tree();
        insta::assert_snapshot!(nodes_and(&ReferenceEdges { tree: &tree }));
    }

    #[test]
    fn module_expansion_edges_lead_to_every_object_of_the_module() {
        let tree = tree();
        insta::assert_snapshot!(nodes_and(&ModuleExpansionEdges { tree: &tree }));
    }

    #[test]
    fn provider_edges_add_the_providers_without_a_block() {
        let tree = tree();
        insta::assert_snapshot!(nodes_and(&ProviderEdges { tree: &tree }));
    }

    #[test]
    fn targets_prune_after_the_other_steps() {
        let tree = tree();
        let targets = [Target::parse("module.net").expect("a target")];
        let graph = run(&steps(&tree, &targets, TargetMode::Plan)).expect("a graph");
        insta::assert_snapshot!(graph.to_dot());
    }

    #[test]
    fn an_undeclared_reference_stops_the_build_at_its_step() {
        let tree = tree();
        let mut graph = Graph::default();
        ConfigNodes { tree: &tree }
            .transform(&mut graph)
            .expect("nodes");
        let mut broken = tree.clone();
        broken.module.locals.clear();
        let errors = ReferenceEdges { tree: &broken }
            .transform(&mut graph)
            .expect_err("local.name is undeclared");
        let summaries: Vec<String> = errors
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect();
        insta::assert_snapshot!(summaries.join("\n"));
    }

    #[test]
    fn a_cycle_is_reported_by_the_cycle_check() {
        let tree = tree();
        let mut graph = Graph::default();
        ConfigNodes { tree: &tree }
            .transform(&mut graph)
            .expect("nodes");
        let local = graph.index[&Node::Local {
            module: Vec::new(),
            name: "name".into(),
        }];
        let variable = Node::Variable {
            module: Vec::new(),
            name: "region".into(),
        };
        let variable_index = graph.index[&variable];
        graph.edge(&variable, local, None);
        graph.edge(
            &Node::Local {
                module: Vec::new(),
                name: "name".into(),
            },
            variable_index,
            None,
        );
        let errors = CycleCheck.transform(&mut graph).expect_err("a cycle");
        assert_eq!(
            errors.iter().next().map(|d| d.summary.as_str()),
            Some("Cycle in configuration")
        );
    }
}
