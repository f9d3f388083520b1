//! `relevant_attributes` of the JSON plan, as Terraform's `globalref` analysis finds them: the
//! resource attributes that contribute, directly or through module outputs, module variables
//! and other resources' arguments, to any resource instance or root output the plan changes.
//! Read from the plan's `configuration` (the references each expression makes, as
//! `show -json` lists them) and its `locals` (the same for each module's local values, which
//! that representation leaves out), so a reference through a local value is followed. An
//! attribute is named by as much of the reference's path as its resource type's schema allows
//! (`tags["Name"]` of a map, `output` of a `dynamic` one), as Terraform's `walkBlock` does; the
//! schemas are the built-in providers' (a plugin resource's attribute is named by its first
//! step, its schema not being read here).

use super::{Action, Plan};
use crate::providers::schema::{Block, NestedBlock, Nesting};
use crate::value::Type;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

/// One step of an attribute's path: an attribute name or string key, or a number index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Key(String),
    Number(u64),
}

impl Step {
    fn json(&self) -> Json {
        match self {
            Step::Key(key) => json!(key),
            Step::Number(index) => json!(index),
        }
    }

    fn name(&self) -> String {
        match self {
            Step::Key(key) => key.clone(),
            Step::Number(index) => index.to_string(),
        }
    }

    fn number(&self) -> Option<Step> {
        match self {
            Step::Key(key) => key.parse().ok().map(Step::Number),
            Step::Number(_) => Some(self.clone()),
        }
    }
}

/// Found attributes: the resource instance's address and the attribute's path.
type Found = BTreeSet<(String, Vec<Step>)>;

/// Where a reference is made: the module instance's address (`""` for the root,
/// `module.net[0]`) and the module call names leading to its configuration.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Container {
    address: String,
    calls: Vec<String>,
}

impl Container {
    fn root() -> Container {
        Container {
            address: String::new(),
            calls: Vec::new(),
        }
    }

    /// The configuration of this module (`module_calls.<name>.module` from the root).
    fn config<'a>(&self, configuration: &'a Json) -> &'a Json {
        self.calls
            .iter()
            .fold(&configuration["root_module"], |module, call| {
                &module["module_calls"][call]["module"]
            })
    }

    /// `prefix` + `text`, as Terraform writes an address inside this module.
    fn qualify(&self, text: &str) -> String {
        match self.address.as_str() {
            "" => text.to_string(),
            module => format!("{module}.{text}"),
        }
    }
}

/// The attributes, sorted by resource and path (Terraform's own order is not stable).
/// `locals` is [`super::config_json::locals_json`] of the same configuration.
pub fn relevant_attributes(plan: &Plan, configuration: &Json, locals: &Json) -> Vec<Json> {
    let mut pending: Vec<(Container, String)> = Vec::new();
    for change in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let address = &change.address;
        let container = Container {
            address: address.module.to_string(),
            calls: address.module.0.iter().map(|s| s.name.clone()).collect(),
        };
        let resource = address.resource.to_string();
        let config = container.config(configuration);
        let found = config["resources"]
            .as_array()
            .and_then(|all| all.iter().find(|r| r["address"] == resource.as_str()));
        if let Some(resource) = found {
            for reference in references_in(&resource["expressions"]) {
                pending.push((container.clone(), reference));
            }
        }
    }
    for (name, change) in &plan.output_changes {
        if change.action != Action::NoOp {
            let expression = &configuration["root_module"]["outputs"][name]["expression"];
            for reference in references_in(expression) {
                pending.push((Container::root(), reference));
            }
        }
    }
    let mut visited = BTreeSet::new();
    let mut found = Found::new();
    let schemas = builtin_schemas();
    while let Some((container, reference)) = pending.pop() {
        if !visited.insert((container.clone(), reference.clone())) {
            continue;
        }
        let trees = Trees {
            configuration,
            locals,
            schemas: &schemas,
        };
        pending.extend(follow(&container, &reference, trees, &mut found));
    }
    found
        .into_iter()
        .map(|(resource, path)| {
            let attribute: Vec<Json> = path.iter().map(Step::json).collect();
            json!({ "resource": resource, "attribute": attribute })
        })
        .collect()
}

/// The two representations a reference is looked up in.
#[derive(Clone, Copy)]
struct Trees<'a> {
    configuration: &'a Json,
    locals: &'a Json,
    schemas: &'a BTreeMap<String, Block>,
}

/// The built-in providers' resource schemas by type (`data.<type>` for a data source).
fn builtin_schemas() -> BTreeMap<String, Block> {
    let registry = crate::providers::Registry::builtin();
    let mut out = BTreeMap::new();
    for name in registry.names() {
        let Some(registered) = registry.get(name) else {
            continue;
        };
        let schema = (registered.factory)().schema();
        for (type_name, resource) in &schema.resources {
            out.insert(type_name.clone(), resource.block.clone());
        }
        for (type_name, resource) in &schema.data_sources {
            out.insert(format!("data.{type_name}"), resource.block.clone());
        }
    }
    out
}

/// What `reference` (made in `container`) refers to in turn; a resource attribute is recorded
/// in `found`.
fn follow(
    container: &Container,
    reference: &str,
    trees: Trees,
    found: &mut Found,
) -> Vec<(Container, String)> {
    let configuration = trees.configuration;
    let steps = split_steps(reference);
    let config = container.config(configuration);
    let in_here = |refs: Vec<String>| refs.into_iter().map(|r| (container.clone(), r)).collect();
    match steps.as_slice() {
        [("var", _), (name, _), ..] => {
            let Some((call, parent_calls)) = container.calls.split_last() else {
                return Vec::new();
            };
            let parent = Container {
                address: container
                    .address
                    .rsplit_once(".module.")
                    .map(|(parent, _)| parent.to_string())
                    .unwrap_or_default(),
                calls: parent_calls.to_vec(),
            };
            let call_config = &parent.config(configuration)["module_calls"][call];
            references_in(&call_config["expressions"][*name])
                .into_iter()
                .map(|r| (parent.clone(), r))
                .collect()
        }
        [("module", _), (call, key), rest @ ..] => {
            let child = Container {
                address: container.qualify(&format!("module.{call}{key}")),
                calls: [container.calls.clone(), vec![call.to_string()]].concat(),
            };
            let outputs = &child.config(configuration)["outputs"];
            let refs = match rest.first() {
                Some((output, _)) => references_in(&outputs[*output]),
                None => references_in(outputs),
            };
            refs.into_iter().map(|r| (child.clone(), r)).collect()
        }
        [("local", _), (name, _), ..] => in_here(references_in(
            &container.config(trees.locals)["locals"][*name],
        )),
        [("local" | "count" | "each" | "path" | "terraform" | "self", _), ..] => Vec::new(),
        [("data", _), (type_name, _), (name, key), rest @ ..] => {
            let resource = format!("data.{type_name}.{name}");
            let schema = trees.schemas.get(&format!("data.{type_name}"));
            in_here(resource_attribute(
                container, config, &resource, key, rest, schema, found,
            ))
        }
        [(type_name, _), (name, key), rest @ ..] => {
            let resource = format!("{type_name}.{name}");
            let schema = trees.schemas.get(*type_name);
            in_here(resource_attribute(
                container, config, &resource, key, rest, schema, found,
            ))
        }
        _ => Vec::new(),
    }
}

/// Records `resource<key>` and the path `rest` takes in it (when the resource is in the
/// configuration) and returns the references of the argument its first step names.
fn resource_attribute(
    container: &Container,
    config: &Json,
    resource: &str,
    key: &str,
    rest: &[(&str, &str)],
    schema: Option<&Block>,
    found: &mut Found,
) -> Vec<String> {
    let Some(resource_config) = config["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["address"] == resource))
    else {
        return Vec::new();
    };
    let steps = path_steps(rest);
    let path = match schema {
        Some(block) => walk_block(block, &steps),
        None => steps.into_iter().take(1).collect(),
    };
    found.insert((container.qualify(&format!("{resource}{key}")), path));
    match rest.first() {
        Some((name, _)) => references_in(&resource_config["expressions"][*name]),
        None => references_in(&resource_config["expressions"]),
    }
}

/// The steps of `[("tags", "[\"Name\"]")]`: `tags`, `Name`.
fn path_steps(rest: &[(&str, &str)]) -> Vec<Step> {
    let mut steps = Vec::new();
    for (name, key) in rest {
        steps.push(Step::Key(name.to_string()));
        let inner = key.trim_start_matches('[').trim_end_matches(']');
        if let Some(text) = inner.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            steps.push(Step::Key(text.to_string()));
        } else if let Ok(index) = inner.parse() {
            steps.push(Step::Number(index));
        }
    }
    steps
}

/// As much of `steps` as names something in `block` (Terraform's `walkBlock`).
fn walk_block(block: &Block, steps: &[Step]) -> Vec<Step> {
    let Some((first, rest)) = steps.split_first() else {
        return Vec::new();
    };
    let name = first.name();
    let tail = if let Some(attribute) = block.attributes.get(&name) {
        walk_type(&attribute.ty, rest)
    } else if let Some(nested) = block.blocks.get(&name) {
        walk_nested(nested, rest)
    } else {
        return Vec::new();
    };
    [vec![Step::Key(name)], tail].concat()
}

/// As much of `steps` as names something in the blocks of `nested`.
fn walk_nested(nested: &NestedBlock, steps: &[Step]) -> Vec<Step> {
    let Some((first, rest)) = steps.split_first() else {
        return Vec::new();
    };
    let step = match nested.nesting {
        Nesting::Single => return walk_block(&nested.block, steps),
        Nesting::Set => return Vec::new(),
        Nesting::List => first.number(),
        Nesting::Map => Some(Step::Key(first.name())),
    };
    match step {
        Some(step) => [vec![step], walk_block(&nested.block, rest)].concat(),
        None => Vec::new(),
    }
}

/// As much of `steps` as names something in a value of type `ty` (none in a primitive, a set
/// or a `dynamic` value).
fn walk_type(ty: &Type, steps: &[Step]) -> Vec<Step> {
    let Some((first, rest)) = steps.split_first() else {
        return Vec::new();
    };
    let (step, inner) = match ty {
        Type::List(element) => (first.number(), (**element).clone()),
        Type::Map(element) => (Some(Step::Key(first.name())), (**element).clone()),
        Type::Object(object) => match object.attributes.get(&first.name()) {
            Some(inner) => (Some(Step::Key(first.name())), inner.clone()),
            None => (None, Type::Any),
        },
        Type::Tuple(items) => match first.number() {
            Some(Step::Number(index)) if (index as usize) < items.len() => {
                (Some(Step::Number(index)), items[index as usize].clone())
            }
            _ => (None, Type::Any),
        },
        _ => (None, Type::Any),
    };
    match step {
        Some(step) => [vec![step], walk_type(&inner, rest)].concat(),
        None => Vec::new(),
    }
}

/// `a.b[0].c["k"]` → `[("a", ""), ("b", "[0]"), ("c", "[\"k\"]")]`: each name with the literal
/// index that follows it (a non-literal one ends the reference, as in Terraform).
fn split_steps(reference: &str) -> Vec<(&str, &str)> {
    let mut steps = Vec::new();
    let mut rest = reference;
    while !rest.is_empty() {
        let name_end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = &rest[name_end..];
        let mut key = "";
        if rest.starts_with('[') {
            let Some(close) = rest.find(']') else { break };
            let inner = &rest[1..close];
            let literal = (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()))
                || (inner.len() >= 2 && inner.starts_with('"') && inner.ends_with('"'));
            if !literal {
                steps.push((name, ""));
                break;
            }
            key = &rest[..=close];
            rest = &rest[close + 1..];
        }
        steps.push((name, key));
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if !key.is_empty() && rest.starts_with('[') {
            break;
        }
    }
    steps
}

/// Every `references` list inside `node` (an expression, or any object of them), without the
/// shorter forms Terraform's configuration representation adds (`aws_vpc.a` beside
/// `aws_vpc.a.id`): they are the same reference.
fn references_in(node: &Json) -> Vec<String> {
    let mut out = Vec::new();
    collect(node, &mut out);
    out
}

fn collect(node: &Json, out: &mut Vec<String>) {
    match node {
        Json::Object(map) => {
            if let Some(Json::Array(list)) = map.get("references") {
                let texts: Vec<&str> = list.iter().filter_map(Json::as_str).collect();
                for text in &texts {
                    let shorter = texts.iter().any(|other| {
                        other.len() > text.len()
                            && other.starts_with(text)
                            && matches!(other.as_bytes()[text.len()], b'.' | b'[')
                    });
                    if !shorter {
                        out.push(text.to_string());
                    }
                }
            }
            for (key, value) in map {
                if key != "references" {
                    collect(value, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|item| collect(item, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_steps_with_literal_keys() {
        assert_eq!(
            split_steps("aws_subnet.a[0].tags[\"Name\"]"),
            vec![("aws_subnet", ""), ("a", "[0]"), ("tags", "[\"Name\"]")]
        );
        assert_eq!(
            split_steps("module.net[\"x\"].ids"),
            vec![("module", ""), ("net", "[\"x\"]"), ("ids", "")]
        );
        assert_eq!(
            split_steps("aws_subnet.a[count.index].id"),
            vec![("aws_subnet", ""), ("a", "")]
        );
    }

    #[test]
    fn an_attribute_is_named_by_as_much_of_the_path_as_the_schema_allows() {
        use crate::providers::schema::Attribute;
        let block = Block::new()
            .attr(
                "tags",
                Attribute::optional(Type::Map(Box::new(Type::String))),
            )
            .attr("input", Attribute::optional(Type::Any))
            .attr(
                "ids",
                Attribute::computed(Type::Set(Box::new(Type::String))),
            )
            .block(
                "ebs",
                Nesting::List,
                Block::new().attr("size", Attribute::optional(Type::Number)),
            );
        let path = |rest: &[(&str, &str)]| -> Vec<Json> {
            walk_block(&block, &path_steps(rest))
                .iter()
                .map(Step::json)
                .collect()
        };
        assert_eq!(
            path(&[("tags", "[\"Name\"]")]),
            vec![json!("tags"), json!("Name")]
        );
        assert_eq!(
            path(&[("tags", ""), ("Name", "")]),
            vec![json!("tags"), json!("Name")]
        );
        assert_eq!(path(&[("input", "[\"Name\"]")]), vec![json!("input")]);
        assert_eq!(path(&[("ids", "[0]")]), vec![json!("ids")]);
        assert_eq!(
            path(&[("ebs", "[0]"), ("size", "")]),
            vec![json!("ebs"), json!(0), json!("size")]
        );
        assert_eq!(path(&[("nothing", "")]), Vec::<Json>::new());
    }

    #[test]
    fn a_reference_listed_with_its_shorter_forms_counts_once() {
        let expression = json!({"references": ["a.b[0].c", "a.b[0]", "a.b", "var.x"]});
        assert_eq!(references_in(&expression), vec!["a.b[0].c", "var.x"]);
    }
}
