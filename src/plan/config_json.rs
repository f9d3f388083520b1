//! The `configuration` part of Terraform's JSON plan: the configuration as written, module by
//! module: resources (address, type, provider, `count`/`for_each`, and each argument as
//! `{"constant_value": ...}` when it is a literal or `{"references": [...]}` naming what it
//! refers to), module calls (with their inputs and the called module), variables, outputs,
//! and the provider configurations. Policy tools (OPA/conftest, checkov) read it to check how
//! a value is set, not just what it is.
//!
//! Sensitive variable defaults are left out; a literal in an argument the schema marks
//! sensitive is not written either.

use crate::config::{Expr, Module, ModuleTree};
use crate::lang::{self, Referenceable};
use crate::providers::Registry;
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;

/// The `configuration` object.
pub fn configuration_json(tree: &ModuleTree, registry: &Registry) -> Json {
    let mut providers = Map::new();
    let mut keys = ProviderKeys::new();
    collect_providers(
        tree,
        "",
        &Inherited::new(),
        registry,
        &mut providers,
        &mut keys,
    );
    json!({
        "provider_config": providers,
        "root_module": module_json(tree, "", registry, &keys),
    })
}

/// Each module's `locals`, as `{"root_module": {"locals": {name: expression}, "module_calls":
/// {call: {"module": ...}}}}` (the shape of [`configuration_json`], whose representation, like
/// Terraform's, holds no locals): the expressions' `references`, for `relevant_attributes` to
/// follow a reference through a local value as Terraform's analysis does.
pub fn locals_json(tree: &ModuleTree) -> Json {
    fn module(tree: &ModuleTree) -> Json {
        let locals: Map<String, Json> = (tree.module.locals.iter())
            .map(|(name, local)| (name.clone(), expr_json(&local.expr)))
            .collect();
        let calls: Map<String, Json> = (tree.children.iter())
            .map(|(name, child)| (name.clone(), json!({ "module": module(child) })))
            .collect();
        json!({ "locals": locals, "module_calls": calls })
    }
    json!({ "root_module": module(tree) })
}

/// The `provider_config` key each module's provider reference (`aws`, `aws.west`) resolves to,
/// by module address (`""` for the root): Terraform's `jsonconfig` points a resource whose
/// provider its module inherits (implicitly by name, or passed through the call's `providers`
/// map) at the ancestor's entry, and writes no entry of the module's own for it.
type ProviderKeys = HashMap<(String, String), String>;

/// A module's provider references as resolved for its children: reference → (key, full name).
type Inherited = HashMap<String, (String, String)>;

fn collect_providers(
    tree: &ModuleTree,
    prefix: &str,
    inherited: &Inherited,
    registry: &Registry,
    out: &mut Map<String, Json>,
    keys: &mut ProviderKeys,
) {
    let key = |local: &str| match prefix {
        "" => local.to_string(),
        _ => format!("{prefix}:{local}"),
    };
    // The module's `required_providers` source first (a plugin's `strata/stratatest`).
    let full_name = |name: &str| {
        let required = tree.module.terraform.required_providers.get(name);
        required
            .and_then(|r| r.source.as_deref())
            .map(crate::providers::selection::normalize_source)
            .or_else(|| registry.get(name).map(|p| p.source.clone()))
            .unwrap_or_else(|| format!("registry.terraform.io/hashicorp/{name}"))
    };
    let mut here = Inherited::new();
    for provider in &tree.module.providers {
        let mut entry = Map::new();
        entry.insert("name".into(), json!(provider.name));
        entry.insert("full_name".into(), json!(full_name(&provider.name)));
        if let Some(alias) = &provider.alias {
            entry.insert("alias".into(), json!(alias));
        }
        if !prefix.is_empty() {
            entry.insert("module_address".into(), json!(prefix));
        }
        entry.insert("expressions".into(), body_json(&provider.body));
        let local = match &provider.alias {
            Some(alias) => format!("{}.{alias}", provider.name),
            None => provider.name.clone(),
        };
        out.insert(key(&local), Json::Object(entry));
        here.insert(local.clone(), (key(&local), full_name(&provider.name)));
    }
    // Providers the module uses or requires without configuring them: the ancestor's entry
    // where one of the same provider is inherited, else an entry of this module's own.
    let implied = (tree
        .module
        .resources
        .values()
        .map(|r| (r.provider.to_string(), &r.provider.name)))
    .chain(
        tree.module
            .terraform
            .required_providers
            .keys()
            .map(|name| (name.clone(), name)),
    );
    for (local, name) in implied {
        if here.contains_key(&local) {
            continue;
        }
        let full = full_name(name);
        let resolved = match inherited.get(&local) {
            Some((parent_key, parent_full)) if *parent_full == full => parent_key.clone(),
            _ => {
                let mut entry = Map::new();
                entry.insert("name".into(), json!(name));
                entry.insert("full_name".into(), json!(full));
                if !prefix.is_empty() {
                    entry.insert("module_address".into(), json!(prefix));
                }
                out.insert(key(&local), Json::Object(entry));
                key(&local)
            }
        };
        here.insert(local, (resolved, full));
    }
    for (local, (resolved, _)) in &here {
        keys.insert((prefix.to_string(), local.clone()), resolved.clone());
    }
    for (name, child) in &tree.children {
        let child_prefix = if prefix.is_empty() {
            format!("module.{name}")
        } else {
            format!("{prefix}.module.{name}")
        };
        // Default configurations pass down by name; the call's `providers` map passes others.
        let mut passed: Inherited = (here.iter())
            .filter(|(local, _)| !local.contains('.'))
            .map(|(local, resolved)| (local.clone(), resolved.clone()))
            .collect();
        if let Some(call) = tree.module.module_calls.get(name) {
            for (in_child, in_parent) in &call.providers {
                let resolved = here
                    .get(&in_parent.to_string())
                    .cloned()
                    .unwrap_or_else(|| (key(&in_parent.to_string()), full_name(&in_parent.name)));
                passed.insert(in_child.clone(), resolved);
            }
        }
        collect_providers(child, &child_prefix, &passed, registry, out, keys);
    }
}

fn module_json(tree: &ModuleTree, prefix: &str, registry: &Registry, keys: &ProviderKeys) -> Json {
    let module: &Module = &tree.module;
    let mut out = Map::new();
    let mut resources = Vec::new();
    for (address, resource) in &module.resources {
        let mut entry = Map::new();
        entry.insert("address".into(), json!(address.to_string()));
        entry.insert(
            "mode".into(),
            json!(match address.mode {
                crate::addrs::ResourceMode::Managed => "managed",
                crate::addrs::ResourceMode::Data => "data",
            }),
        );
        entry.insert("type".into(), json!(address.type_name));
        entry.insert("name".into(), json!(address.name));
        let local = resource.provider.to_string();
        let config_key = (keys.get(&(prefix.to_string(), local.clone()))).cloned();
        entry.insert(
            "provider_config_key".into(),
            json!(config_key.unwrap_or(local)),
        );
        let provisioners: Vec<Json> = resource
            .provisioning
            .provisioners
            .iter()
            .map(|p| json!({ "type": p.type_name, "expressions": body_json(&p.body) }))
            .collect();
        if !provisioners.is_empty() {
            entry.insert("provisioners".into(), Json::Array(provisioners));
        }
        entry.insert("expressions".into(), body_json(&resource.body));
        let schema_version = registry
            .get(&resource.provider.name)
            .map(|p| (p.factory)().schema())
            .and_then(|schema| {
                let schemas = match address.mode {
                    crate::addrs::ResourceMode::Managed => &schema.resources,
                    crate::addrs::ResourceMode::Data => &schema.data_sources,
                };
                schemas.get(&address.type_name).map(|s| s.version)
            })
            .unwrap_or(0);
        entry.insert("schema_version".into(), json!(schema_version));
        if let Some(count) = &resource.count {
            entry.insert("count_expression".into(), expr_json(count));
        }
        if let Some(for_each) = &resource.for_each {
            entry.insert("for_each_expression".into(), expr_json(for_each));
        }
        let depends_on: Vec<String> = resource.depends_on.iter().map(source_text).collect();
        if !depends_on.is_empty() {
            entry.insert("depends_on".into(), json!(depends_on));
        }
        resources.push(Json::Object(entry));
    }
    if !resources.is_empty() {
        resources.sort_by(|a, b| a["address"].as_str().cmp(&b["address"].as_str()));
        out.insert("resources".into(), Json::Array(resources));
    }
    let mut calls = Map::new();
    for (name, call) in &module.module_calls {
        let mut entry = Map::new();
        entry.insert("source".into(), json!(call.source));
        let inputs: Map<String, Json> = call
            .inputs
            .iter()
            .map(|(name, expr)| (name.clone(), expr_json(expr)))
            .collect();
        if !inputs.is_empty() {
            entry.insert("expressions".into(), Json::Object(inputs));
        }
        if let Some(count) = &call.count {
            entry.insert("count_expression".into(), expr_json(count));
        }
        if let Some(for_each) = &call.for_each {
            entry.insert("for_each_expression".into(), expr_json(for_each));
        }
        if let Some(child) = tree.children.get(name) {
            let child_prefix = match prefix {
                "" => format!("module.{name}"),
                _ => format!("{prefix}.module.{name}"),
            };
            entry.insert(
                "module".into(),
                module_json(child, &child_prefix, registry, keys),
            );
        }
        calls.insert(name.clone(), Json::Object(entry));
    }
    if !calls.is_empty() {
        out.insert("module_calls".into(), Json::Object(calls));
    }
    let mut variables = Map::new();
    for (name, variable) in &module.variables {
        let mut entry = Map::new();
        if let (Some(default), false) = (&variable.default, variable.sensitive) {
            if let Ok(value) = crate::value::value_to_json(&default.clone().deep_unmark().0) {
                entry.insert("default".into(), value);
            }
        }
        if let Some(description) = &variable.description {
            entry.insert("description".into(), json!(description));
        }
        if variable.sensitive {
            entry.insert("sensitive".into(), json!(true));
        }
        variables.insert(name.clone(), Json::Object(entry));
    }
    if !variables.is_empty() {
        out.insert("variables".into(), Json::Object(variables));
    }
    let mut outputs = Map::new();
    for (name, output) in &module.outputs {
        let mut entry = Map::new();
        entry.insert("expression".into(), expr_json(&output.expr));
        if output.sensitive {
            entry.insert("sensitive".into(), json!(true));
        }
        if let Some(description) = &output.description {
            entry.insert("description".into(), json!(description));
        }
        outputs.insert(name.clone(), Json::Object(entry));
    }
    if !outputs.is_empty() {
        out.insert("outputs".into(), Json::Object(outputs));
    }
    sorted(out)
}

/// An object with its keys in order, as Terraform (Go) writes JSON objects.
fn sorted(map: Map<String, Json>) -> Json {
    let mut entries: Vec<(String, Json)> = map.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Json::Object(entries.into_iter().collect())
}

/// A body's arguments as expressions; nested blocks as lists of bodies, and blocks with one
/// label (nested as a map: `listener "http" { }`) as an object of bodies by label (`dynamic`
/// blocks are left out: their content exists only once expanded).
fn body_json(body: &crate::config::Body) -> Json {
    use hcl_edit::structure::Structure;
    let mut out = Map::new();
    for structure in body.body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                let expr = Expr {
                    file: body.file.clone(),
                    expr: attribute.value.clone(),
                };
                out.insert(attribute.key.as_str().to_string(), expr_json(&expr));
            }
            Structure::Block(block) if block.ident.as_str() != "dynamic" => {
                let nested = crate::config::Body {
                    file: body.file.clone(),
                    body: block.body.clone(),
                };
                let labelled = match block.labels.as_slice() {
                    [label] if block.ident.as_str() != "provisioner" => Some(label.as_str()),
                    _ => None,
                };
                let entry = out
                    .entry(block.ident.as_str().to_string())
                    .or_insert_with(|| match labelled {
                        Some(_) => Json::Object(Map::new()),
                        None => Json::Array(Vec::new()),
                    });
                match (entry, labelled) {
                    (Json::Array(items), None) => items.push(body_json(&nested)),
                    (Json::Object(items), Some(label)) => {
                        items.insert(label.to_string(), body_json(&nested));
                    }
                    _ => {}
                }
            }
            Structure::Block(_) => {}
        }
    }
    sorted(out)
}

/// `{"constant_value": ...}` for a literal, `{"references": [...]}` for an expression that
/// refers to something, `{}` otherwise (functions of constants).
fn expr_json(expr: &Expr) -> Json {
    let references = lang::references(expr);
    if references.is_empty() {
        return match crate::config::literal::literal_expr(expr)
            .ok()
            .and_then(|value| crate::value::value_to_json(&value).ok())
        {
            Some(value) => json!({ "constant_value": value }),
            None => json!({}),
        };
    }
    let mut names: Vec<String> = Vec::new();
    for reference in references {
        let text = reference
            .span
            .as_ref()
            .and_then(|span| expr.file.text.get(span.start.byte..span.end.byte))
            .map(|t| t.split_whitespace().collect::<String>());
        let mut subject = subject_text(&reference.subject);
        let instance = text
            .as_deref()
            .zip(subject.as_deref())
            .and_then(|(text, subject)| instance_text(text, subject));
        // Terraform names a module call instance's output by the instance, not the call.
        if instance.is_some() && matches!(reference.subject, Referenceable::ModuleCall(_)) {
            subject = None;
        }
        // Terraform lists the whole traversal, then each shorter one down to the instance or
        // the resource (`a.b.tags["k"]`, `a.b.tags`, `a.b`).
        let unwound = text
            .as_deref()
            .zip(instance.as_deref().or(subject.as_deref()))
            .map(|(text, base)| unwound(text, base))
            .unwrap_or_else(|| text.into_iter().collect());
        for name in unwound.into_iter().chain(instance).chain(subject) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    json!({ "references": names })
}

/// `text` and each shorter traversal of it down to (not including) `base`: `a.b.c["k"]` over
/// `a.b` gives `a.b.c["k"]`, `a.b.c`. A text not made of `.name` and `[key]` steps after `base`
/// is given alone.
fn unwound(text: &str, base: &str) -> Vec<String> {
    let Some(rest) = text.strip_prefix(base) else {
        return vec![text.to_string()];
    };
    let bytes = rest.as_bytes();
    let mut ends = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'.' | b'[') {
                    i += 1;
                }
            }
            b'[' => {
                let mut quoted = false;
                i += 1;
                while i < bytes.len() && (quoted || bytes[i] != b']') {
                    match bytes[i] {
                        b'\\' if quoted => i += 1,
                        b'"' => quoted = !quoted,
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => return vec![text.to_string()],
        }
        ends.push(i.min(rest.len()));
    }
    let mut out: Vec<String> = ends
        .iter()
        .map(|&end| format!("{base}{}", &rest[..end]))
        .collect();
    out.reverse();
    if out.is_empty() {
        out.push(text.to_string());
    }
    out
}

/// The instance a reference picks (`aws_subnet.a[0]` of `aws_subnet.a[0].id`), which Terraform
/// lists between the whole reference and the resource or module call.
fn instance_text(text: &str, subject: &str) -> Option<String> {
    let rest = text.strip_prefix(subject)?.strip_prefix('[')?;
    let key = &rest[..rest.find(']')?];
    // Only a literal key makes the instance part of the traversal (`a[count.index]` is a
    // reference to `a` and one to `count.index`).
    let literal = (!key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()))
        || (key.len() >= 2 && key.starts_with('"') && key.ends_with('"'));
    let instance = format!("{subject}[{key}]");
    (literal && instance != text).then_some(instance)
}

/// The reference's root as Terraform lists it (`aws_vpc.main`, `var.x`, `module.m`).
fn subject_text(subject: &Referenceable) -> Option<String> {
    Some(match subject {
        Referenceable::Variable(name) => format!("var.{name}"),
        Referenceable::Local(name) => format!("local.{name}"),
        Referenceable::Resource(resource) => match resource.mode {
            crate::addrs::ResourceMode::Managed => {
                format!("{}.{}", resource.type_name, resource.name)
            }
            crate::addrs::ResourceMode::Data => {
                format!("data.{}.{}", resource.type_name, resource.name)
            }
        },
        Referenceable::ModuleCall(name) => format!("module.{name}"),
        Referenceable::CountIndex => "count.index".into(),
        Referenceable::EachKey => "each.key".into(),
        Referenceable::EachValue => "each.value".into(),
        Referenceable::Path(name) => format!("path.{name}"),
        Referenceable::TerraformWorkspace => "terraform.workspace".into(),
        Referenceable::SelfObject => "self".into(),
    })
}

fn source_text(expr: &Expr) -> String {
    use hcl_edit::Span as _;
    expr.expr
        .span()
        .and_then(|range| expr.file.text.get(range))
        .map(|t| t.trim().to_string())
        .unwrap_or_default()
}
