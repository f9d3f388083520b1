//! Typed addresses: which module instance, resource, resource instance or output a thing is.
//!
//! Addresses print exactly as Terraform prints them (`module.vpc.aws_subnet.private["a"]`) and
//! parse back from that text (for `-target`, `-replace` and `state` commands). Nothing else in
//! Strata builds address strings by hand.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The key of one instance of a resource or module: none (single), `[0]` (count) or `["a"]`
/// (for_each).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceKey {
    None,
    Int(i64),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", quote(s)),
        }
    }
}

impl InstanceKey {
    /// The key as a state file's `index_key` (absent, a number or a string).
    pub fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            InstanceKey::None => None,
            InstanceKey::Int(i) => Some(serde_json::Value::from(*i)),
            InstanceKey::Str(s) => Some(serde_json::Value::from(s.clone())),
        }
    }

    pub fn from_json(json: Option<&serde_json::Value>) -> InstanceKey {
        match json {
            Some(serde_json::Value::Number(n)) => n
                .as_i64()
                .map(InstanceKey::Int)
                .unwrap_or(InstanceKey::None),
            Some(serde_json::Value::String(s)) => InstanceKey::Str(s.clone()),
            _ => InstanceKey::None,
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// One step of a module path: `module.NAME[KEY]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModuleStep {
    pub name: String,
    pub key: InstanceKey,
}

/// A module instance: the root module is the empty path.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    pub fn root() -> ModuleInstance {
        ModuleInstance(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn child(&self, name: impl Into<String>, key: InstanceKey) -> ModuleInstance {
        let mut steps = self.0.clone();
        steps.push(ModuleStep {
            name: name.into(),
            key,
        });
        ModuleInstance(steps)
    }

    /// The module path without instance keys (`module.a.module.b`), which names the configuration.
    pub fn module_path(&self) -> Vec<String> {
        self.0.iter().map(|s| s.name.clone()).collect()
    }

    /// The parent module instance, if this is not the root.
    pub fn parent(&self) -> Option<ModuleInstance> {
        if self.0.is_empty() {
            None
        } else {
            Some(ModuleInstance(self.0[..self.0.len() - 1].to_vec()))
        }
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}{}", step.name, step.key)?;
        }
        Ok(())
    }
}

/// Managed resource (`resource`) or data source (`data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceMode {
    Managed,
    Data,
}

impl ResourceMode {
    /// As a state file writes it.
    pub fn as_state_str(self) -> &'static str {
        match self {
            ResourceMode::Managed => "managed",
            ResourceMode::Data => "data",
        }
    }
}

/// A resource within a module: `aws_vpc.main` or `data.aws_availability_zones.available`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Resource {
    pub mode: ResourceMode,
    pub type_name: String,
    pub name: String,
}

impl Resource {
    pub fn managed(type_name: impl Into<String>, name: impl Into<String>) -> Resource {
        Resource {
            mode: ResourceMode::Managed,
            type_name: type_name.into(),
            name: name.into(),
        }
    }

    pub fn data(type_name: impl Into<String>, name: impl Into<String>) -> Resource {
        Resource {
            mode: ResourceMode::Data,
            type_name: type_name.into(),
            name: name.into(),
        }
    }

    /// The provider's local name implied by the type (`aws_vpc` → `aws`).
    pub fn implied_provider(&self) -> &str {
        self.type_name.split('_').next().unwrap_or(&self.type_name)
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode == ResourceMode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.type_name, self.name)
    }
}

/// A resource in a module instance (all its instances): `module.vpc.aws_subnet.private`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AbsResource {
    pub module: ModuleInstance,
    pub resource: Resource,
}

impl AbsResource {
    pub fn instance(&self, key: InstanceKey) -> ResourceInstance {
        ResourceInstance {
            module: self.module.clone(),
            resource: self.resource.clone(),
            key,
        }
    }
}

impl fmt::Display for AbsResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "{}", self.resource)
    }
}

/// One instance of a resource: `module.vpc.aws_subnet.private["a"]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceInstance {
    pub module: ModuleInstance,
    pub resource: Resource,
    pub key: InstanceKey,
}

impl ResourceInstance {
    pub fn abs_resource(&self) -> AbsResource {
        AbsResource {
            module: self.module.clone(),
            resource: self.resource.clone(),
        }
    }

    /// Parses `module.a["x"].aws_vpc.main[0]` and the like.
    pub fn parse(text: &str) -> Result<ResourceInstance, AddressError> {
        parse_instance(text)
    }
}

impl fmt::Display for ResourceInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.abs_resource(), self.key)
    }
}

/// An output value of a module instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OutputAddr {
    pub module: ModuleInstance,
    pub name: String,
}

impl fmt::Display for OutputAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "output.{}", self.name)
    }
}

/// What a `-target` names: a module instance, a whole resource, or one instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Target {
    Module(ModuleInstance),
    Resource(AbsResource),
    Instance(ResourceInstance),
}

impl Target {
    pub fn parse(text: &str) -> Result<Target, AddressError> {
        let steps = split_steps(text)?;
        let (module, rest) = take_modules(&steps, text)?;
        if rest.is_empty() {
            return Ok(Target::Module(module));
        }
        let (resource, key) = take_resource(rest, text)?;
        let abs = AbsResource { module, resource };
        Ok(match key {
            Some(key) => Target::Instance(abs.instance(key)),
            None => Target::Resource(abs),
        })
    }

    /// Whether this target selects the given resource instance.
    pub fn contains(&self, instance: &ResourceInstance) -> bool {
        match self {
            Target::Module(module) => module_prefix_matches(module, &instance.module),
            Target::Resource(resource) => {
                instance.module == resource.module && instance.resource == resource.resource
            }
            Target::Instance(target) => target == instance,
        }
    }
}

/// `module.a` (no key) selects every instance of module a.
fn module_prefix_matches(target: &ModuleInstance, module: &ModuleInstance) -> bool {
    if target.0.len() > module.0.len() {
        return false;
    }
    target
        .0
        .iter()
        .zip(&module.0)
        .all(|(t, m)| t.name == m.name && (t.key == InstanceKey::None || t.key == m.key))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Module(m) => write!(f, "{m}"),
            Target::Resource(r) => write!(f, "{r}"),
            Target::Instance(i) => write!(f, "{i}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid address `{text}`: {reason}")]
pub struct AddressError {
    pub text: String,
    pub reason: String,
}

fn error(text: &str, reason: impl Into<String>) -> AddressError {
    AddressError {
        text: text.to_string(),
        reason: reason.into(),
    }
}

/// A name followed by an optional key, as the address text splits into.
#[derive(Debug)]
struct Step {
    name: String,
    key: Option<InstanceKey>,
}

fn split_steps(text: &str) -> Result<Vec<Step>, AddressError> {
    let mut steps = Vec::new();
    let chars: Vec<char> = text.trim().chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        if name.is_empty() {
            return Err(error(text, "expected a name"));
        }
        let mut key = None;
        if i < chars.len() && chars[i] == '[' {
            i += 1;
            if i < chars.len() && chars[i] == '"' {
                i += 1;
                let mut value = String::new();
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    value.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(error(text, "unterminated string key"));
                }
                i += 1;
                key = Some(InstanceKey::Str(value));
            } else {
                let start = i;
                while i < chars.len() && chars[i] != ']' {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().collect();
                let index = digits.trim().parse::<i64>().map_err(|_| {
                    error(
                        text,
                        format!(
                            "`{digits}` is not a valid index key: use a number or a quoted string"
                        ),
                    )
                })?;
                key = Some(InstanceKey::Int(index));
            }
            if i >= chars.len() || chars[i] != ']' {
                return Err(error(text, "expected `]`"));
            }
            i += 1;
        }
        steps.push(Step { name, key });
        if i < chars.len() {
            if chars[i] != '.' {
                return Err(error(text, format!("unexpected `{}`", chars[i])));
            }
            i += 1;
            if i == chars.len() {
                return Err(error(text, "address ends with `.`"));
            }
        }
    }
    Ok(steps)
}

fn take_modules<'a>(
    steps: &'a [Step],
    text: &str,
) -> Result<(ModuleInstance, &'a [Step]), AddressError> {
    let mut module = ModuleInstance::root();
    let mut rest = steps;
    while let Some(first) = rest.first() {
        if first.name != "module" {
            break;
        }
        if first.key.is_some() {
            return Err(error(text, "`module` must be followed by a module name"));
        }
        let name = rest
            .get(1)
            .ok_or_else(|| error(text, "`module` must be followed by a module name"))?;
        module = module.child(
            name.name.clone(),
            name.key.clone().unwrap_or(InstanceKey::None),
        );
        rest = &rest[2..];
    }
    Ok((module, rest))
}

fn take_resource(
    steps: &[Step],
    text: &str,
) -> Result<(Resource, Option<InstanceKey>), AddressError> {
    let (mode, steps) = match steps.first() {
        Some(step) if step.name == "data" && step.key.is_none() => {
            (ResourceMode::Data, &steps[1..])
        }
        _ => (ResourceMode::Managed, steps),
    };
    match steps {
        [type_step, name_step] if type_step.key.is_none() => Ok((
            Resource {
                mode,
                type_name: type_step.name.clone(),
                name: name_step.name.clone(),
            },
            name_step.key.clone(),
        )),
        _ => Err(error(
            text,
            "expected a resource address such as `aws_vpc.main` or `aws_subnet.private[\"a\"]`",
        )),
    }
}

fn parse_instance(text: &str) -> Result<ResourceInstance, AddressError> {
    let steps = split_steps(text)?;
    let (module, rest) = take_modules(&steps, text)?;
    let (resource, key) = take_resource(rest, text)?;
    Ok(ResourceInstance {
        module,
        resource,
        key: key.unwrap_or(InstanceKey::None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "aws_vpc.main",
            "aws_subnet.private[0]",
            "module.vpc.aws_subnet.private[\"us-east-1a\"]",
            "module.a[\"x\"].module.b[2].data.aws_vpc.this",
        ] {
            assert_eq!(ResourceInstance::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn targets() {
        let instance = ResourceInstance::parse("module.vpc.aws_subnet.private[1]").unwrap();
        assert!(Target::parse("module.vpc").unwrap().contains(&instance));
        assert!(Target::parse("module.vpc.aws_subnet.private")
            .unwrap()
            .contains(&instance));
        assert!(!Target::parse("module.vpc.aws_subnet.private[0]")
            .unwrap()
            .contains(&instance));
        assert!(!Target::parse("aws_subnet.private")
            .unwrap()
            .contains(&instance));
    }

    #[test]
    fn rejects_bad_addresses() {
        assert!(ResourceInstance::parse("aws_vpc").is_err());
        assert!(ResourceInstance::parse("aws_vpc.main[x]").is_err());
        assert!(ResourceInstance::parse("module.").is_err());
    }
}
