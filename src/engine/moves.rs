//! `moved` and `removed` blocks: refactoring without destroying.
//!
//! Before a plan, every `moved { from = ..., to = ... }` block (root module and called modules,
//! in file order) is resolved against the prior state into instance moves: a whole resource
//! (`aws_vpc.a` → `aws_vpc.b`, every instance key kept), one instance (`aws_vpc.a[0]` →
//! `aws_vpc.a["x"]`, or between `aws_vpc.a` and `aws_vpc.a[0]` when `count` is added or
//! dropped), or a whole module instance or call (`module.a` → `module.b`, everything inside).
//! A block inside a called module is relative to each instance of that module in the state.
//! Moves apply in order, so chains (`a` → `b`, then `b` → `c`) work; a move whose source is not
//! in the state is a no-op (the refactoring was applied already); one whose destination already
//! holds an object is skipped with a warning, as Terraform does.
//!
//! `removed { from = ... lifecycle { destroy = false } }` turns the deletion of instances that
//! left the configuration into forgetting them: the state drops them, the objects stay.
//!
//! `import { to = ..., id = ... }` blocks are acted on by the plan walk itself (the provider
//! must be configured to read the object); what they imported is noted here too.

use crate::addrs::{InstanceKey, ModuleInstance, ResourceInstance, ResourceMode, Target};
use crate::config::ModuleTree;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::state::{State, StateChange};
use std::collections::BTreeSet;

/// One instance moved from one address to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceMove {
    pub from: ResourceInstance,
    pub to: ResourceInstance,
}

/// What the `moved` and `removed` blocks mean for one state.
#[derive(Debug, Default)]
pub struct Refactoring {
    /// The instance moves, in the order they apply.
    pub moves: Vec<InstanceMove>,
    /// Instances (in the state after the moves) that `removed { destroy = false }` forgets.
    pub forget: BTreeSet<ResourceInstance>,
    /// Instances `import` blocks brought in while planning, with their IDs (filled by the
    /// plan walk: importing needs the configured provider).
    pub imported: std::collections::BTreeMap<ResourceInstance, String>,
}

/// Resolves every `moved` and `removed` block of the tree against `state`, and applies the
/// moves to it. Invalid blocks (unparseable or mismatched addresses) are errors; moves that
/// cannot apply are warnings.
pub fn resolve(
    tree: &ModuleTree,
    state: &mut State,
) -> Result<(Refactoring, Diagnostics), Diagnostics> {
    let mut refactoring = Refactoring::default();
    let mut errors = Diagnostics::new();
    let mut warnings = Diagnostics::new();
    let modules = tree.modules();
    for (path, module) in &modules {
        // Finding a module's instances scans the state: only for modules with `moved` blocks.
        if module.moved.is_empty() {
            continue;
        }
        // The module's instances, as the state knows them (the root has one).
        let instances: Vec<ModuleInstance> = if path.is_empty() {
            vec![ModuleInstance::root()]
        } else {
            let mut found: BTreeSet<ModuleInstance> = BTreeSet::new();
            for address in state.resources.keys() {
                let mut module = address.module.clone();
                while module.0.len() > path.len() {
                    module.0.pop();
                }
                if module.module_path() == *path {
                    found.insert(module);
                }
            }
            found.into_iter().collect()
        };
        for block in &module.moved {
            let parsed = (Target::parse(&block.from), Target::parse(&block.to));
            let (from, to) = match parsed {
                (Ok(from), Ok(to)) => (from, to),
                (Err(e), _) | (_, Err(e)) => {
                    errors.push(
                        Diagnostic::error("Invalid address in moved block")
                            .with_detail(e.to_string())
                            .with_span(block.span.clone()),
                    );
                    continue;
                }
            };
            if let Err(message) = compatible(&from, &to) {
                errors.push(
                    Diagnostic::error("Invalid moved block")
                        .with_detail(format!(
                            "Cannot move {} to {}: {message}.",
                            block.from, block.to
                        ))
                        .with_span(block.span.clone()),
                );
                continue;
            }
            for instance in &instances {
                let from = relative(&from, instance);
                let to = relative(&to, instance);
                for found in instance_moves(&from, &to, state) {
                    let occupied = state.resources.contains_key(&found.to)
                        || state.deposed.contains_key(&found.to);
                    if occupied {
                        warnings.push(
                            Diagnostic::warning("Moved object still exists")
                                .with_detail(format!(
                                    "This statement declares a move from {} to {}, but there is already an object at {}: it stays, and {} is planned as if the move were not there. Remove the moved block or the object at the destination.",
                                    found.from, found.to, found.to, found.from
                                ))
                                .with_span(block.span.clone()),
                        );
                        continue;
                    }
                    state.apply_change(&StateChange::Move {
                        from: found.from.clone(),
                        to: found.to.clone(),
                    });
                    refactoring.moves.push(found);
                }
            }
        }
    }
    for block in &tree.module.imports {
        let resource = match Target::parse(&block.to) {
            Ok(Target::Resource(r)) => Some(r),
            Ok(Target::Instance(i)) => Some(i.abs_resource()),
            Ok(Target::Module(_)) => None,
            Err(e) => {
                errors.push(
                    Diagnostic::error("Invalid address in import block")
                        .with_detail(e.to_string())
                        .with_span(block.span.clone()),
                );
                continue;
            }
        };
        let configured = resource.as_ref().is_some_and(|r| {
            tree.descendant(&r.module.module_path())
                .is_some_and(|t| t.module.resources.contains_key(&r.resource))
        });
        if !configured {
            errors.push(
                Diagnostic::error("Configuration for import target does not exist")
                    .with_detail(format!(
                        "The configuration for the given import target {} does not exist. All target instances must have an associated configuration to be imported.",
                        block.to
                    ))
                    .with_span(block.span.clone()),
            );
        }
    }
    for (path, module) in &modules {
        for block in &module.removed {
            if block.destroy {
                // Destroying is what happens to an instance that left the configuration anyway.
                continue;
            }
            let target = match Target::parse(&block.from) {
                Ok(target) => target,
                Err(e) => {
                    errors.push(
                        Diagnostic::error("Invalid address in removed block")
                            .with_detail(e.to_string())
                            .with_span(block.span.clone()),
                    );
                    continue;
                }
            };
            for address in state.resources.keys() {
                let module_path = address.module.module_path();
                if module_path.len() < path.len() || module_path[..path.len()] != path[..] {
                    continue;
                }
                let relative_to = ModuleInstance(address.module.0[..path.len()].to_vec());
                if relative(&target, &relative_to).contains(address) {
                    refactoring.forget.insert(address.clone());
                }
            }
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    Ok((refactoring, warnings))
}

/// Whether `from` can move to `to`: both modules, or both resources (or instances) of the
/// same mode and type.
fn compatible(from: &Target, to: &Target) -> Result<(), String> {
    let resource = |target: &Target| match target {
        Target::Module(_) => None,
        Target::Resource(r) => Some(r.resource.clone()),
        Target::Instance(i) => Some(i.resource.clone()),
    };
    match (resource(from), resource(to)) {
        (None, None) => Ok(()),
        (Some(a), Some(b)) => {
            if a.mode == ResourceMode::Data || b.mode == ResourceMode::Data {
                Err("data sources cannot be moved: they are read again anyway".into())
            } else if a.type_name != b.type_name {
                Err(format!(
                    "the resource types differ ({} and {})",
                    a.type_name, b.type_name
                ))
            } else if from == to {
                Err("the two addresses are the same".into())
            } else {
                Ok(())
            }
        }
        _ => Err("a module can only move to a module, a resource to a resource".into()),
    }
}

/// An address written in a module, made absolute for one instance of that module.
fn relative(target: &Target, module: &ModuleInstance) -> Target {
    let prefix = |inner: &ModuleInstance| {
        let mut steps = module.0.clone();
        steps.extend(inner.0.iter().cloned());
        ModuleInstance(steps)
    };
    match target {
        Target::Module(m) => Target::Module(prefix(m)),
        Target::Resource(r) => {
            let mut r = r.clone();
            r.module = prefix(&r.module);
            Target::Resource(r)
        }
        Target::Instance(i) => {
            let mut i = i.clone();
            i.module = prefix(&i.module);
            Target::Instance(i)
        }
    }
}

/// The instance moves one resolved block makes in `state`.
fn instance_moves(from: &Target, to: &Target, state: &State) -> Vec<InstanceMove> {
    let addresses: BTreeSet<&ResourceInstance> =
        state.resources.keys().chain(state.deposed.keys()).collect();
    let mut moves = Vec::new();
    match (from, to) {
        (Target::Module(from_module), Target::Module(to_module)) => {
            // A module call without a key moves every instance of the call; with a key, that
            // instance and everything in it.
            let whole_call = matches!(from_module.0.last(), Some(step) if step.key == InstanceKey::None)
                && matches!(to_module.0.last(), Some(step) if step.key == InstanceKey::None);
            for address in addresses {
                let Some(rest) = strip_module(&address.module, from_module, whole_call) else {
                    continue;
                };
                let mut steps = to_module.0.clone();
                if whole_call {
                    if let (Some(last), Some(key)) = (steps.last_mut(), rest.0.first()) {
                        last.key = key.key.clone();
                    }
                    steps.extend(rest.0.iter().skip(1).cloned());
                } else {
                    steps.extend(rest.0.iter().cloned());
                }
                moves.push(InstanceMove {
                    from: address.clone(),
                    to: ResourceInstance {
                        module: ModuleInstance(steps),
                        resource: address.resource.clone(),
                        key: address.key.clone(),
                    },
                });
            }
        }
        (Target::Resource(from_resource), Target::Resource(to_resource)) => {
            for address in addresses {
                if address.module == from_resource.module
                    && address.resource == from_resource.resource
                {
                    moves.push(InstanceMove {
                        from: address.clone(),
                        to: to_resource.instance(address.key.clone()),
                    });
                }
            }
        }
        // `aws_vpc.a` next to `aws_vpc.a[0]`: the resource side is its key-less instance.
        (from, to) => {
            let as_instance = |target: &Target| match target {
                Target::Instance(i) => Some(i.clone()),
                Target::Resource(r) => Some(r.instance(InstanceKey::None)),
                Target::Module(_) => None,
            };
            if let (Some(from), Some(to)) = (as_instance(from), as_instance(to)) {
                if addresses.contains(&from) {
                    moves.push(InstanceMove { from, to });
                }
            }
        }
    }
    moves
}

/// For a module address inside `prefix`, what follows it. With `whole_call`, the prefix's
/// last step matches any key of that call and the remainder starts with the matched step.
fn strip_module(
    module: &ModuleInstance,
    prefix: &ModuleInstance,
    whole_call: bool,
) -> Option<ModuleInstance> {
    if module.0.len() < prefix.0.len() || prefix.0.is_empty() {
        return None;
    }
    let last = prefix.0.len() - 1;
    for (index, step) in prefix.0.iter().enumerate() {
        let other = &module.0[index];
        if other.name != step.name {
            return None;
        }
        if !(whole_call && index == last) && other.key != step.key {
            return None;
        }
    }
    let skip = if whole_call { last } else { prefix.0.len() };
    Some(ModuleInstance(module.0[skip..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{InstanceObject, ObjectStatus};
    use crate::value::Value;

    fn state_with(addresses: &[&str]) -> State {
        let mut state = State::new();
        for address in addresses {
            state.resources.insert(
                ResourceInstance::parse(address).unwrap(),
                InstanceObject {
                    value: Value::Null,
                    provider: String::new(),
                    schema_version: 0,
                    dependencies: Vec::new(),
                    create_before_destroy: false,
                    status: ObjectStatus::Ready,
                    private: None,
                },
            );
        }
        state
    }

    fn moves(from: &str, to: &str, state: &State) -> Vec<String> {
        instance_moves(
            &Target::parse(from).unwrap(),
            &Target::parse(to).unwrap(),
            state,
        )
        .into_iter()
        .map(|m| format!("{} -> {}", m.from, m.to))
        .collect()
    }

    #[test]
    fn a_module_call_moves_every_instance_with_its_key() {
        let state = state_with(&[
            r#"module.a["x"].fake_resource.r"#,
            r#"module.a["y"].module.inner.fake_resource.r[0]"#,
            "module.ab.fake_resource.r",
        ]);
        assert_eq!(
            moves("module.a", "module.b", &state),
            [
                r#"module.a["x"].fake_resource.r -> module.b["x"].fake_resource.r"#,
                r#"module.a["y"].module.inner.fake_resource.r[0] -> module.b["y"].module.inner.fake_resource.r[0]"#,
            ]
        );
        assert_eq!(
            moves(r#"module.a["x"]"#, "module.c", &state),
            [r#"module.a["x"].fake_resource.r -> module.c.fake_resource.r"#]
        );
    }

    #[test]
    fn resources_move_with_their_keys_and_to_or_from_a_key() {
        let state = state_with(&[
            "fake_resource.a[0]",
            "fake_resource.a[1]",
            "fake_resource.b",
        ]);
        assert_eq!(
            moves("fake_resource.a", "fake_resource.c", &state),
            [
                "fake_resource.a[0] -> fake_resource.c[0]",
                "fake_resource.a[1] -> fake_resource.c[1]"
            ]
        );
        assert_eq!(
            moves("fake_resource.b", r#"fake_resource.b["k"]"#, &state),
            [r#"fake_resource.b -> fake_resource.b["k"]"#]
        );
        assert!(moves("fake_resource.z", "fake_resource.y", &state).is_empty());
    }

    #[test]
    fn incompatible_moves_are_refused() {
        let parse = |text: &str| Target::parse(text).unwrap();
        assert!(compatible(&parse("fake_resource.a"), &parse("other_resource.a")).is_err());
        assert!(compatible(&parse("module.a"), &parse("fake_resource.a")).is_err());
        assert!(compatible(&parse("data.fake_data.a"), &parse("data.fake_data.b")).is_err());
        assert!(compatible(&parse("fake_resource.a"), &parse("fake_resource.a")).is_err());
        assert!(compatible(&parse("fake_resource.a[0]"), &parse("fake_resource.b")).is_ok());
    }
}
