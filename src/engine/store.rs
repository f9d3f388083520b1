//! What the walk knows so far: the value of every variable, local, resource and output per
//! module instance, and which module instances exist. The evaluator reads it through
//! [`InstanceScope`].

use crate::addrs::{InstanceKey, ModuleInstance, Resource};
use crate::config::ModuleTree;
use crate::diagnostics::{Diagnostic, Span};
use crate::graph::ModulePath;
use crate::lang::{Referenceable, Scope};
use crate::value::{Type, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::RwLock;

/// `count.index` or `each.key`/`each.value` of the instance being evaluated.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Repetition {
    #[default]
    None,
    Count(i64),
    Each {
        key: String,
        value: Value,
    },
}

impl Repetition {
    pub fn key(&self) -> InstanceKey {
        match self {
            Repetition::None => InstanceKey::None,
            Repetition::Count(i) => InstanceKey::Int(*i),
            Repetition::Each { key, .. } => InstanceKey::Str(key.clone()),
        }
    }
}

/// How a resource or module call repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expansion {
    Single,
    Count,
    ForEach,
}

/// The instances of one resource in one module instance.
#[derive(Clone, Debug)]
pub struct ResourceValues {
    pub expansion: Expansion,
    pub instances: BTreeMap<InstanceKey, Value>,
    /// When `count`/`for_each` itself is unknown (only in validation).
    pub unknown: bool,
}

impl ResourceValues {
    /// The value a reference to the whole resource sees.
    pub fn value(&self) -> Value {
        if self.unknown {
            return Value::unknown();
        }
        match self.expansion {
            Expansion::Single => self
                .instances
                .get(&InstanceKey::None)
                .cloned()
                .unwrap_or(Value::Null),
            Expansion::Count => Value::Tuple(self.instances.values().cloned().collect()),
            Expansion::ForEach => Value::Object(
                self.instances
                    .iter()
                    .filter_map(|(k, v)| match k {
                        InstanceKey::Str(s) => Some((s.clone(), v.clone())),
                        _ => None,
                    })
                    .collect(),
            ),
        }
    }
}

impl ResourceValues {
    /// The instance `key` selects, as indexing [`ResourceValues::value`] would give it: a whole
    /// number when counted (the tuple's position is the key when the keys are exactly 0..n), a
    /// string with `for_each`; `None` for anything else (the caller indexes the whole value).
    pub fn element(&self, key: &Value) -> Option<Value> {
        if self.unknown {
            return None;
        }
        match (self.expansion, key) {
            (Expansion::Count, Value::Number(n)) if n.is_integer() => {
                let last = i64::try_from(self.instances.len()).ok()? - 1;
                let first = self.instances.keys().next();
                let consecutive = first == Some(&InstanceKey::Int(0))
                    && self.instances.keys().next_back() == Some(&InstanceKey::Int(last));
                if !consecutive {
                    return None;
                }
                self.instances.get(&InstanceKey::Int(n.to_i64()?)).cloned()
            }
            (Expansion::ForEach, Value::String(name)) => {
                self.instances.get(&InstanceKey::Str(name.clone())).cloned()
            }
            _ => None,
        }
    }
}

/// One instance of a module, and how it was repeated.
#[derive(Clone, Debug)]
pub struct ModuleInstanceInfo {
    pub instance: ModuleInstance,
    pub repetition: Repetition,
}

/// Everything evaluated so far in a walk.
#[derive(Debug, Default)]
pub struct Store {
    pub module_instances: HashMap<ModulePath, Vec<ModuleInstanceInfo>>,
    pub module_expansion: HashMap<ModulePath, Expansion>,
    pub variables: HashMap<(ModuleInstance, String), Value>,
    pub locals: HashMap<(ModuleInstance, String), Value>,
    pub resources: HashMap<(ModuleInstance, Resource), ResourceValues>,
    pub outputs: HashMap<(ModuleInstance, String), Value>,
}

impl Store {
    pub fn new() -> Store {
        let mut store = Store::default();
        store.module_instances.insert(
            Vec::new(),
            vec![ModuleInstanceInfo {
                instance: ModuleInstance::root(),
                repetition: Repetition::None,
            }],
        );
        store
    }

    pub fn instances_of(&self, path: &ModulePath) -> Vec<ModuleInstanceInfo> {
        self.module_instances.get(path).cloned().unwrap_or_default()
    }
}

/// The scope of one module instance (and, inside a repeated block, its repetition).
pub struct InstanceScope<'a> {
    pub store: &'a RwLock<Store>,
    pub module: &'a ModuleInstance,
    pub repetition: &'a Repetition,
    /// The repetition's kind is known but its value is not (validation).
    pub repetition_unknown: bool,
    pub module_dir: PathBuf,
    pub root_dir: PathBuf,
    pub cwd: PathBuf,
    pub workspace: &'a str,
    /// The configuration of the module, for the output names of `module.NAME`.
    pub module_tree: &'a ModuleTree,
    /// Missing values are unknown rather than errors (validation, and nodes skipped by failure).
    pub lenient: bool,
    /// `self`, in postconditions.
    pub self_value: Option<Value>,
}

impl InstanceScope<'_> {
    /// The instances of module call `name` made from this module instance, when expanded.
    fn module_call<'s>(&self, store: &'s Store, name: &str) -> Option<ModuleCallValues<'s>> {
        let mut path = self.module.module_path();
        path.push(name.to_string());
        let outputs = self
            .module_tree
            .children
            .get(name)
            .map(|child| child.module.outputs.keys().cloned().collect())
            .unwrap_or_default();
        let expansion = store
            .module_expansion
            .get(&path)
            .copied()
            .unwrap_or(Expansion::Single);
        let mine = store
            .module_instances
            .get(&path)?
            .iter()
            .filter(|i| i.instance.parent().as_ref() == Some(self.module))
            .collect();
        Some(ModuleCallValues {
            store,
            outputs,
            expansion,
            mine,
        })
    }
}

/// What a reference to a module call reads: its instances from one module instance and their
/// outputs.
struct ModuleCallValues<'s> {
    store: &'s Store,
    outputs: Vec<String>,
    expansion: Expansion,
    mine: Vec<&'s ModuleInstanceInfo>,
}

impl ModuleCallValues<'_> {
    /// One module instance's object of outputs (unknown where not evaluated yet).
    fn object_of(&self, instance: &ModuleInstance) -> Value {
        Value::Object(
            self.outputs
                .iter()
                .map(|o| {
                    let v = self
                        .store
                        .outputs
                        .get(&(instance.clone(), o.clone()))
                        .cloned()
                        .unwrap_or_else(Value::unknown);
                    (o.clone(), v)
                })
                .collect(),
        )
    }

    /// The instance `key` selects, as indexing the whole value would give it (see
    /// [`ResourceValues::element`]): a position with `count`, a key with `for_each`.
    fn element(&self, key: &Value) -> Option<Value> {
        let instance =
            match (self.expansion, key) {
                (Expansion::Count, Value::Number(n)) if n.is_integer() => {
                    self.mine.get(usize::try_from(n.to_i64()?).ok()?)?
                }
                (Expansion::ForEach, Value::String(name)) => self.mine.iter().rev().find(
                    |i| matches!(&i.repetition, Repetition::Each { key, .. } if key == name),
                )?,
                _ => return None,
            };
        Some(self.object_of(&instance.instance))
    }
}

impl Scope for InstanceScope<'_> {
    fn resolve_element(&self, subject: &Referenceable, key: &Value) -> Option<Value> {
        let store = super::read_locked(self.store);
        match subject {
            Referenceable::Resource(resource) => store
                .resources
                .get(&(self.module.clone(), resource.clone()))?
                .element(key),
            Referenceable::ModuleCall(name) => self.module_call(&store, name)?.element(key),
            _ => None,
        }
    }

    fn resolve(&self, subject: &Referenceable, span: Option<&Span>) -> Result<Value, Diagnostic> {
        let store = super::read_locked(self.store);
        let missing = |what: String| -> Result<Value, Diagnostic> {
            if self.lenient {
                Ok(Value::unknown())
            } else {
                Err(Diagnostic::error(format!("{what} is not available"))
                    .with_span_opt(span.cloned()))
            }
        };
        match subject {
            Referenceable::Variable(name) => match store.variables.get(&(self.module.clone(), name.clone())) {
                Some(v) => Ok(v.clone()),
                None => missing(format!("var.{name}")),
            },
            Referenceable::Local(name) => match store.locals.get(&(self.module.clone(), name.clone())) {
                Some(v) => Ok(v.clone()),
                None => missing(format!("local.{name}")),
            },
            Referenceable::Resource(resource) => match store.resources.get(&(self.module.clone(), resource.clone())) {
                Some(values) => Ok(values.value()),
                None => Ok(Value::unknown()),
            },
            Referenceable::ModuleCall(name) => {
                let Some(call) = self.module_call(&store, name) else {
                    return Ok(Value::unknown());
                };
                Ok(match call.expansion {
                    Expansion::Single => call.mine.first().map(|i| call.object_of(&i.instance)).unwrap_or(Value::Null),
                    Expansion::Count => Value::Tuple(call.mine.iter().map(|i| call.object_of(&i.instance)).collect()),
                    Expansion::ForEach => Value::Object(
                        call.mine
                            .iter()
                            .filter_map(|i| match &i.repetition {
                                Repetition::Each { key, .. } => Some((key.clone(), call.object_of(&i.instance))),
                                _ => None,
                            })
                            .collect(),
                    ),
                })
            }
            Referenceable::CountIndex => match self.repetition {
                Repetition::Count(i) => Ok(Value::from(*i)),
                _ if self.repetition_unknown => Ok(Value::Unknown(Type::Number)),
                _ => Err(Diagnostic::error("Reference to \"count\" in non-counted context")
                    .with_detail("The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set.")
                    .with_span_opt(span.cloned())),
            },
            Referenceable::EachKey | Referenceable::EachValue => match self.repetition {
                Repetition::Each { key, value } => Ok(if matches!(subject, Referenceable::EachKey) {
                    Value::from(key.as_str())
                } else {
                    value.clone()
                }),
                _ if self.repetition_unknown => Ok(Value::unknown()),
                _ => Err(Diagnostic::error("Reference to \"each\" in context without for_each")
                    .with_detail("The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set.")
                    .with_span_opt(span.cloned())),
            },
            Referenceable::Path(which) => {
                let path = match which.as_str() {
                    "module" => &self.module_dir,
                    "root" => &self.root_dir,
                    "cwd" => &self.cwd,
                    other => {
                        return Err(Diagnostic::error("Invalid \"path\" attribute")
                            .with_detail(format!("The \"path\" object does not have an attribute named \"{other}\". The supported attributes are module, root and cwd."))
                            .with_span_opt(span.cloned()))
                    }
                };
                Ok(Value::from(path.to_string_lossy().as_ref()))
            }
            Referenceable::TerraformWorkspace => Ok(Value::from(self.workspace)),
            Referenceable::SelfObject => match &self.self_value {
                Some(v) => Ok(v.clone()),
                None => Err(Diagnostic::error("Invalid \"self\" reference")
                    .with_detail("The \"self\" object is only available in postconditions, provisioner and connection blocks.")
                    .with_span_opt(span.cloned())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(expansion: Expansion, keys: &[InstanceKey]) -> ResourceValues {
        ResourceValues {
            expansion,
            instances: keys
                .iter()
                .map(|k| (k.clone(), Value::from(format!("instance {k}").as_str())))
                .collect(),
            unknown: false,
        }
    }

    /// What indexing the whole value gives, when it gives an element.
    fn indexed(values: &ResourceValues, key: &Value) -> Option<Value> {
        let whole = values.value();
        match key {
            Value::Number(n) => {
                let at = usize::try_from(n.to_i64()?).ok()?;
                whole.as_seq()?.get(at).cloned()
            }
            Value::String(name) => whole.as_entries()?.get(name).cloned(),
            _ => None,
        }
    }

    #[test]
    fn an_element_is_what_indexing_the_whole_value_gives_or_none() {
        let ints = |range: std::ops::Range<i64>| range.map(InstanceKey::Int).collect::<Vec<_>>();
        let cases = [
            values(Expansion::Count, &ints(0..5)),
            // An apply's store may lack instances: positions no longer match keys.
            values(Expansion::Count, &ints(1..5)),
            values(
                Expansion::Count,
                &[InstanceKey::Int(0), InstanceKey::Int(2)],
            ),
            values(Expansion::Count, &[]),
            values(
                Expansion::ForEach,
                &[InstanceKey::Str("a".into()), InstanceKey::Str("b".into())],
            ),
            values(Expansion::Single, &[InstanceKey::None]),
        ];
        let keys = [
            Value::from(0),
            Value::from(2),
            Value::from(4),
            Value::from(7),
            Value::from(-1),
            Value::Number(crate::value::Number::parse("1.5").expect("a number")),
            Value::from("a"),
            Value::from("c"),
            Value::from("1"),
            Value::unknown(),
        ];
        let mut answered = 0;
        for values in &cases {
            for key in &keys {
                if let Some(element) = values.element(key) {
                    answered += 1;
                    assert_eq!(Some(element), indexed(values, key), "{values:?} [{key:?}]");
                }
            }
        }
        // Counted from 0: keys 0, 2 and 4; for_each: "a".
        assert_eq!(answered, 4);
        let unknown = ResourceValues {
            unknown: true,
            ..values(Expansion::Count, &ints(0..3))
        };
        assert_eq!(unknown.element(&Value::from(0)), None);
    }
}
