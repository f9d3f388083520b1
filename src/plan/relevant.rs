//! `relevant_attributes` of the JSON plan, as Terraform's `globalref` analysis finds them: the
//! resource attributes that contribute, directly or through module outputs, module variables
//! and other resources' arguments, to any resource instance or root output the plan changes.
//! Read from the plan's `configuration` (the references each expression makes, as
//! `show -json` lists them) and its `locals` (the same for each module's local values, which
//! that representation leaves out), so a reference through a local value is followed.

use super::{Action, Plan};
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;

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
    let mut found: BTreeSet<(String, Vec<String>)> = BTreeSet::new();
    while let Some((container, reference)) = pending.pop() {
        if !visited.insert((container.clone(), reference.clone())) {
            continue;
        }
        let trees = Trees {
            configuration,
            locals,
        };
        pending.extend(follow(&container, &reference, trees, &mut found));
    }
    found
        .into_iter()
        .map(|(resource, attribute)| json!({ "resource": resource, "attribute": attribute }))
        .collect()
}

/// The two representations a reference is looked up in.
#[derive(Clone, Copy)]
struct Trees<'a> {
    configuration: &'a Json,
    locals: &'a Json,
}

/// What `reference` (made in `container`) refers to in turn; a resource attribute is recorded
/// in `found`.
fn follow(
    container: &Container,
    reference: &str,
    trees: Trees,
    found: &mut BTreeSet<(String, Vec<String>)>,
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
        [("local", _), (name, _), ..] => {
            in_here(references_in(&container.config(trees.locals)["locals"][*name]))
        }
        [("local" | "count" | "each" | "path" | "terraform" | "self", _), ..] => Vec::new(),
        [("data", _), (type_name, _), (name, key), rest @ ..] => {
            let resource = format!("data.{type_name}.{name}");
            in_here(resource_attribute(
                container, config, &resource, key, rest, found,
            ))
        }
        [(type_name, _), (name, key), rest @ ..] => {
            let resource = format!("{type_name}.{name}");
            in_here(resource_attribute(
                container, config, &resource, key, rest, found,
            ))
        }
        _ => Vec::new(),
    }
}

/// Records `resource<key>.<first of rest>` (when the resource is in the configuration) and
/// returns the references of that attribute's argument.
fn resource_attribute(
    container: &Container,
    config: &Json,
    resource: &str,
    key: &str,
    rest: &[(&str, &str)],
    found: &mut BTreeSet<(String, Vec<String>)>,
) -> Vec<String> {
    let Some(resource_config) = config["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["address"] == resource))
    else {
        return Vec::new();
    };
    let attribute: Vec<String> = rest
        .first()
        .map(|(a, _)| a.to_string())
        .into_iter()
        .collect();
    found.insert((
        container.qualify(&format!("{resource}{key}")),
        attribute.clone(),
    ));
    match attribute.first() {
        Some(name) => references_in(&resource_config["expressions"][name]),
        None => references_in(&resource_config["expressions"]),
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
    fn a_reference_listed_with_its_shorter_forms_counts_once() {
        let expression = json!({"references": ["a.b[0].c", "a.b[0]", "a.b", "var.x"]});
        assert_eq!(references_in(&expression), vec!["a.b[0].c", "var.x"]);
    }
}
