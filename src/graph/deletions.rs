//! The graph steps for deletions (OpenTofu's `OrphanResourceInstanceTransformer`,
//! `DestroyEdgeTransformer` and `CBDEdgeTransformer`). They run after the configuration's
//! [`super::transforms::steps`], on what the prior state and the plan hold:
//!
//! - **plan** ([`plan_steps`]): [`OrphanResourceInstances`] adds a node per object of the prior
//!   state that nothing configures (an instance of a resource the configuration no longer
//!   declares, a deposed object), after its provider (which refreshes it first); the plan walk
//!   plans its deletion there. Instances of a declared resource whose key or module instance is
//!   gone are the resource node's to find, once `count`/`for_each` are known.
//! - **apply** ([`apply_steps`]): [`DestroyNodes`] adds a node per deletion the plan holds;
//!   [`DestroyEdges`] orders them: an object is destroyed before the objects it depends on, the
//!   object of a resource the configuration no longer has after the configured resources that
//!   depended on it have changed, and a plain replacement destroys before it creates;
//!   [`CreateBeforeDestroyEdges`]: a `create_before_destroy` replacement destroys the old object
//!   after the new one exists and the resources depending on it have moved on; last,
//!   [`super::instances::AppliedNodes`] splits each resource node for instance-level scheduling.

use super::transforms::Transform;
use super::{Graph, ModulePath, Node};
use crate::addrs::{AbsResource, Resource, ResourceInstance, ResourceMode, Target};
use crate::config::{ModuleTree, ProviderRef};
use crate::diagnostics::Diagnostics;
use petgraph::graph::NodeIndex;
use std::collections::{HashMap, HashSet};

/// An object of the prior state, as the deletion steps see it.
#[derive(Clone, Debug)]
pub struct PriorObject {
    pub instance: ResourceInstance,
    /// The key of a deposed object; `None` for the instance's current object.
    pub deposed: Option<String>,
    /// The provider configuration that manages it (from the state's provider address).
    pub provider: Option<ProviderRef>,
    /// The resources it depends on, as the state records them.
    pub dependencies: Vec<AbsResource>,
}

/// One deletion a plan holds.
#[derive(Clone, Debug)]
pub struct Deletion {
    pub instance: ResourceInstance,
    /// A deposed object's key (an unfinished replacement's old object).
    pub deposed: Option<String>,
    /// Set when the deletion is the old half of a replacement.
    pub replacing: Option<Replacement>,
    /// The provider configuration that deletes it (from the plan's provider address).
    pub provider: Option<ProviderRef>,
}

/// Which way a replacement goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// `-/+`: the old object is destroyed, then the new one created.
    DestroyBeforeCreate,
    /// `+/-` (`create_before_destroy`): the new object is created, then the old one destroyed.
    CreateBeforeDestroy,
}

impl Deletion {
    fn node(&self) -> Node {
        Node::Destroy {
            instance: self.instance.clone(),
            deposed: self.deposed.clone(),
        }
    }
}

/// The configuration node of an instance's resource.
fn resource_node(instance: &ResourceInstance) -> Node {
    Node::Resource {
        module: instance.module.module_path(),
        resource: instance.resource.clone(),
    }
}

/// The steps a plan adds to the configuration's graph (none for a refresh-only plan, which
/// plans no deletion).
pub fn plan_steps<'a>(
    prior: &'a [PriorObject],
    targets: &'a [Target],
) -> Vec<Box<dyn Transform + 'a>> {
    vec![Box::new(OrphanResourceInstances { prior, targets })]
}

/// The steps an apply adds to the configuration's graph (to an empty graph for `destroy`);
/// `config` is the configuration's graph, for the dependencies between resources. The last
/// one, [`super::instances::AppliedNodes`], lets an instance start as soon as the instances
/// it reads are applied.
pub fn apply_steps<'a>(
    tree: &'a ModuleTree,
    config: &'a Graph,
    deletions: &'a [Deletion],
    prior: &'a [PriorObject],
) -> Vec<Box<dyn Transform + 'a>> {
    vec![
        Box::new(DestroyNodes { deletions }),
        Box::new(DestroyEdges {
            config,
            deletions,
            prior,
        }),
        Box::new(CreateBeforeDestroyEdges { config, deletions }),
        Box::new(super::instances::AppliedNodes { tree }),
    ]
}

/// A node per prior object nothing configures, after its provider's node: every deposed
/// object, and the current object of every managed instance whose resource has no node. With
/// `-target`, only the objects the targets name.
pub struct OrphanResourceInstances<'a> {
    pub prior: &'a [PriorObject],
    pub targets: &'a [Target],
}

impl Transform for OrphanResourceInstances<'_> {
    fn name(&self) -> &'static str {
        "orphan resource instances"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        for object in self.prior {
            let instance = &object.instance;
            let targeted =
                self.targets.is_empty() || self.targets.iter().any(|t| t.contains(instance));
            let orphan = object.deposed.is_some()
                || (instance.resource.mode == ResourceMode::Managed
                    && !graph.index.contains_key(&resource_node(instance)));
            if !targeted || !orphan {
                continue;
            }
            let node = graph.add(Node::Orphan {
                instance: instance.clone(),
                deposed: object.deposed.clone(),
            });
            if let Some(provider) = &object.provider {
                let provider = Node::Provider {
                    provider: provider.clone(),
                };
                graph.edge(&provider, node, None);
            }
        }
        Ok(())
    }
}

/// A node per deletion, after its provider's node when the graph has one (an apply's; a
/// `destroy` configures every provider before its walk): no provider deletes anything before
/// it is configured.
pub struct DestroyNodes<'a> {
    pub deletions: &'a [Deletion],
}

impl Transform for DestroyNodes<'_> {
    fn name(&self) -> &'static str {
        "destroy nodes"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        for deletion in self.deletions {
            let node = graph.add(deletion.node());
            if let Some(provider) = &deletion.provider {
                let provider = Node::Provider {
                    provider: provider.clone(),
                };
                graph.edge(&provider, node, None);
            }
        }
        Ok(())
    }
}

/// Orders the deletions: an object goes before what it depends on (as the state records it,
/// or as the configuration says); the object of a resource no longer configured goes after the
/// configured resources that depended on it have changed; a plain replacement destroys before
/// it creates.
pub struct DestroyEdges<'a> {
    pub config: &'a Graph,
    pub deletions: &'a [Deletion],
    pub prior: &'a [PriorObject],
}

impl Transform for DestroyEdges<'_> {
    fn name(&self) -> &'static str {
        "destroy edges"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        let recorded: HashMap<&ResourceInstance, &PriorObject> = self
            .prior
            .iter()
            .filter(|o| o.deposed.is_none())
            .map(|o| (&o.instance, o))
            .collect();
        let mut by_resource: HashMap<(ModulePath, &Resource), Vec<NodeIndex>> = HashMap::new();
        for deletion in self.deletions {
            let key = (
                deletion.instance.module.module_path(),
                &deletion.instance.resource,
            );
            by_resource
                .entry(key)
                .or_default()
                .push(graph.index[&deletion.node()]);
        }
        for deletion in self.deletions {
            let destroy = deletion.node();
            let depends_on = self.depends_on(deletion, &recorded);
            for key in &depends_on {
                let others = by_resource.get(&(key.0.clone(), &key.1));
                for &other in others.into_iter().flatten() {
                    graph.edge(&destroy, other, None);
                }
            }
            self.after_configured_changes(graph, deletion);
        }
        Ok(())
    }
}

impl DestroyEdges<'_> {
    /// The resources a deleted object depends on: recorded in the state, and configured.
    fn depends_on(
        &self,
        deletion: &Deletion,
        recorded: &HashMap<&ResourceInstance, &PriorObject>,
    ) -> HashSet<(ModulePath, Resource)> {
        let mut found = HashSet::new();
        if let Some(object) = recorded.get(&deletion.instance) {
            for dep in &object.dependencies {
                found.insert((dep.module.module_path(), dep.resource.clone()));
            }
        }
        let configured = self
            .config
            .resource_dependencies(&resource_node(&deletion.instance));
        for dep in configured {
            if let Node::Resource { module, resource } = dep {
                found.insert((module, resource));
            }
        }
        found
    }

    /// The edges between a deletion and the configuration nodes the graph holds (none in a
    /// `destroy`'s graph).
    fn after_configured_changes(&self, graph: &mut Graph, deletion: &Deletion) {
        let destroy = graph.index[&deletion.node()];
        let resource = resource_node(&deletion.instance);
        match graph.index.get(&resource).copied() {
            None => {
                // A resource no longer configured: what depended on it changes first.
                let instance = &deletion.instance;
                for object in self.prior.iter().filter(|o| o.deposed.is_none()) {
                    let depended = object
                        .dependencies
                        .iter()
                        .any(|d| d.resource == instance.resource && d.module == instance.module);
                    if depended {
                        graph.edge(&resource_node(&object.instance), destroy, None);
                    }
                }
            }
            Some(create) if deletion.replacing == Some(Replacement::DestroyBeforeCreate) => {
                graph.edge(&deletion.node(), create, None);
            }
            Some(_) => {}
        }
    }
}

/// A `create_before_destroy` replacement destroys the old object once the new one exists and
/// every configured resource depending on it has changed (to use the new one).
pub struct CreateBeforeDestroyEdges<'a> {
    pub config: &'a Graph,
    pub deletions: &'a [Deletion],
}

impl Transform for CreateBeforeDestroyEdges<'_> {
    fn name(&self) -> &'static str {
        "create_before_destroy edges"
    }

    fn transform(&self, graph: &mut Graph) -> Result<(), Diagnostics> {
        let replaced: Vec<&Deletion> = self
            .deletions
            .iter()
            .filter(|d| d.replacing == Some(Replacement::CreateBeforeDestroy))
            .collect();
        if replaced.is_empty() {
            return Ok(());
        }
        let dependents = self.dependents();
        for deletion in replaced {
            let resource = resource_node(&deletion.instance);
            let destroy = graph.index[&deletion.node()];
            if !graph.index.contains_key(&resource) {
                continue;
            }
            graph.edge(&resource, destroy, None);
            for dependent in dependents.get(&resource).into_iter().flatten() {
                graph.edge(dependent, destroy, None);
            }
        }
        Ok(())
    }
}

impl CreateBeforeDestroyEdges<'_> {
    /// Every configured resource node, and the resource nodes that depend on it.
    fn dependents(&self) -> HashMap<Node, Vec<Node>> {
        let mut dependents: HashMap<Node, Vec<Node>> = HashMap::new();
        for node in self.config.index.keys() {
            if !matches!(node, Node::Resource { .. }) {
                continue;
            }
            for dep in self.config.resource_dependencies(node) {
                dependents.entry(dep).or_default().push(node.clone());
            }
        }
        dependents
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ModuleInstance;
    use crate::config::load::load_tree;
    use crate::diagnostics::SourceMap;

    /// `a` ← `b` ← `c` (each refers to the one before), and `cbd` (create_before_destroy) that
    /// `user` refers to.
    const CONFIG: &str = r#"
resource "fake_resource" "a" {
  name = "a"
}
resource "fake_resource" "b" {
  name = fake_resource.a.id
}
resource "fake_resource" "c" {
  name = fake_resource.b.id
}
resource "fake_resource" "cbd" {
  name = "cbd"
  lifecycle {
    create_before_destroy = true
  }
}
resource "fake_resource" "user" {
  name = fake_resource.cbd.id
}
"#;

    fn config_graph() -> Graph {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("main.tf"), CONFIG).expect("write main.tf");
        let tree = load_tree(dir.path(), &mut SourceMap::new()).expect("a valid configuration");
        super::super::build(&tree).expect("a graph")
    }

    fn instance(text: &str) -> ResourceInstance {
        match Target::parse(text).expect("an address") {
            Target::Instance(instance) => instance,
            Target::Resource(resource) => ResourceInstance {
                module: resource.module,
                resource: resource.resource,
                key: crate::addrs::InstanceKey::None,
            },
            Target::Module(module) => panic!("{module} is not an instance"),
        }
    }

    fn prior(address: &str, deposed: Option<&str>, depends_on: &[&str]) -> PriorObject {
        PriorObject {
            instance: instance(address),
            deposed: deposed.map(str::to_string),
            provider: Some(ProviderRef {
                name: "fake".into(),
                alias: None,
            }),
            dependencies: depends_on
                .iter()
                .map(|d| AbsResource {
                    module: ModuleInstance::root(),
                    resource: instance(d).resource,
                })
                .collect(),
        }
    }

    fn deletion(address: &str, replacing: Option<Replacement>) -> Deletion {
        Deletion {
            instance: instance(address),
            deposed: None,
            replacing,
            provider: Some(ProviderRef {
                name: "fake".into(),
                alias: None,
            }),
        }
    }

    /// The prior state: `gone` (no longer configured) that `a` recorded it depended on, and a
    /// deposed object of `b`; `a`, `b`, `c` are configured.
    fn prior_state() -> Vec<PriorObject> {
        vec![
            prior("fake_resource.a", None, &["fake_resource.gone"]),
            prior("fake_resource.b", None, &["fake_resource.a"]),
            prior("fake_resource.b", Some("1a2b3c4d"), &["fake_resource.a"]),
            prior("fake_resource.c", None, &["fake_resource.b"]),
            prior("fake_resource.gone", None, &[]),
            prior("data.fake_resource.old", None, &[]),
        ]
    }

    fn dot_after(steps: &[Box<dyn Transform + '_>], mut graph: Graph) -> String {
        for step in steps {
            step.transform(&mut graph).expect("the step");
        }
        graph.to_dot()
    }

    #[test]
    fn orphans_are_the_unconfigured_and_deposed_objects_after_their_provider() {
        let prior = prior_state();
        let steps = plan_steps(&prior, &[]);
        insta::assert_snapshot!(dot_after(&steps, config_graph()));
    }

    #[test]
    fn targets_keep_only_the_orphans_they_name() {
        let prior = prior_state();
        let targets = [Target::parse("fake_resource.b").expect("a target")];
        let graph = config_graph();
        let before = graph.graph.node_count();
        let mut after = graph.clone();
        OrphanResourceInstances {
            prior: &prior,
            targets: &targets,
        }
        .transform(&mut after)
        .expect("the step");
        let added: Vec<String> = after
            .graph
            .node_indices()
            .skip(before)
            .map(|i| after.graph[i].to_string())
            .collect();
        assert_eq!(added, ["fake_resource.b (deposed 1a2b3c4d)"]);
    }

    #[test]
    fn destroy_nodes_are_one_per_deletion() {
        let deletions = [
            deletion("fake_resource.gone", None),
            deletion("fake_resource.b", Some(Replacement::DestroyBeforeCreate)),
        ];
        let steps: Vec<Box<dyn Transform>> = vec![Box::new(DestroyNodes {
            deletions: &deletions,
        })];
        insta::assert_snapshot!(dot_after(&steps, Graph::default()));
    }

    #[test]
    fn destroy_edges_put_dependents_first_and_destroy_before_create() {
        let config = config_graph();
        let prior = prior_state();
        // `b` is replaced (-/+), `c` deleted, `gone` is no longer configured.
        let deletions = [
            deletion("fake_resource.b", Some(Replacement::DestroyBeforeCreate)),
            deletion("fake_resource.c", None),
            deletion("fake_resource.gone", None),
        ];
        let steps: Vec<Box<dyn Transform>> = vec![
            Box::new(DestroyNodes {
                deletions: &deletions,
            }),
            Box::new(DestroyEdges {
                config: &config,
                deletions: &deletions,
                prior: &prior,
            }),
        ];
        insta::assert_snapshot!(dot_after(&steps, config.clone()));
    }

    /// The chaos test's failure: a replaced leaf's destroy (nothing depends on it, it depends
    /// on nothing being deleted) started before its provider was configured.
    #[test]
    fn an_apply_deletes_nothing_before_the_provider_is_configured() {
        let config = config_graph();
        let prior = prior_state();
        let deletions = [
            deletion("fake_resource.c", Some(Replacement::DestroyBeforeCreate)),
            deletion("fake_resource.gone", None),
        ];
        let tree = ModuleTree::default();
        let mut graph = config.clone();
        for step in apply_steps(&tree, &config, &deletions, &prior) {
            step.transform(&mut graph).expect("the step");
        }
        let provider = graph.index[&Node::Provider {
            provider: ProviderRef {
                name: "fake".into(),
                alias: None,
            },
        }];
        for deletion in &deletions {
            let destroy = graph.index[&deletion.node()];
            assert!(
                petgraph::algo::has_path_connecting(&graph.graph, provider, destroy, None),
                "{} does not wait for its provider",
                deletion.node()
            );
        }
    }

    #[test]
    fn a_destroy_graph_orders_deletions_by_dependencies_alone() {
        let config = config_graph();
        let prior = prior_state();
        let deletions = [
            deletion("fake_resource.a", None),
            deletion("fake_resource.b", None),
            deletion("fake_resource.c", None),
            deletion("fake_resource.gone", None),
        ];
        let tree = ModuleTree::default();
        insta::assert_snapshot!(dot_after(
            &apply_steps(&tree, &config, &deletions, &prior),
            Graph::default()
        ));
    }

    #[test]
    fn create_before_destroy_destroys_after_the_create_and_its_dependents() {
        let config = config_graph();
        let deletions = [deletion(
            "fake_resource.cbd",
            Some(Replacement::CreateBeforeDestroy),
        )];
        let steps: Vec<Box<dyn Transform>> = vec![
            Box::new(DestroyNodes {
                deletions: &deletions,
            }),
            Box::new(CreateBeforeDestroyEdges {
                config: &config,
                deletions: &deletions,
            }),
        ];
        insta::assert_snapshot!(dot_after(&steps, config.clone()));
    }
}
