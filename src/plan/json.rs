//! Terraform's machine-readable formats: the JSON plan (`show -json PLANFILE`, format 1.2) and
//! the JSON state values (`show -json`), so tools written for Terraform (checkov, OPA, CI
//! scripts) read Strata's output unchanged.

use super::{Action, ActionReason, Plan};
use crate::addrs::{InstanceKey, ModuleInstance, ResourceInstance, ResourceMode};
use crate::state::State;
use crate::value::Value;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// A value as JSON with unknowns as null, plus its unknown mask and sensitive mask, as
/// Terraform splits them (`after`, `after_unknown`, `after_sensitive`).
pub fn split_value(value: &Value) -> (Json, Json, Json) {
    match value {
        Value::Unknown(_) => (Json::Null, Json::Bool(true), Json::Bool(false)),
        Value::Sensitive(inner) => {
            let (plain, unknown, _) = split_value(inner);
            (plain, unknown, Json::Bool(true))
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            let mut plain = Vec::new();
            let mut unknown = Vec::new();
            let mut sensitive = Vec::new();
            for item in items {
                let (p, u, s) = split_value(item);
                plain.push(p);
                unknown.push(u);
                sensitive.push(s);
            }
            (
                Json::Array(plain),
                Json::Array(unknown),
                Json::Array(sensitive),
            )
        }
        Value::Map(items) | Value::Object(items) => {
            let mut plain = Map::new();
            let mut unknown = Map::new();
            let mut sensitive = Map::new();
            for (k, item) in items {
                let (p, u, s) = split_value(item);
                plain.insert(k.clone(), p);
                if u != Json::Bool(false) {
                    unknown.insert(k.clone(), u);
                }
                if s != Json::Bool(false) {
                    sensitive.insert(k.clone(), s);
                }
            }
            (
                Json::Object(plain),
                Json::Object(unknown),
                Json::Object(sensitive),
            )
        }
        other => (
            crate::value::value_to_json(other).unwrap_or(Json::Null),
            Json::Bool(false),
            Json::Bool(false),
        ),
    }
}

fn provider_name(provider: &str) -> String {
    provider
        .strip_prefix("provider[\"")
        .and_then(|rest| rest.split_once("\"]"))
        .map(|(source, _)| source.to_string())
        .unwrap_or_else(|| provider.to_string())
}

fn index_json(key: &InstanceKey) -> Option<Json> {
    key.to_json()
}

fn mode_str(mode: ResourceMode) -> &'static str {
    mode.as_state_str()
}

fn resource_entry(
    address: &ResourceInstance,
    provider: &str,
    schema_version: u64,
    value: &Value,
) -> Json {
    let (values, _, sensitive) = split_value(value);
    let mut entry = json!({
        "address": address.to_string(),
        "mode": mode_str(address.resource.mode),
        "type": address.resource.type_name,
        "name": address.resource.name,
        "provider_name": provider_name(provider),
        "schema_version": schema_version,
        "values": values,
        "sensitive_values": sensitive,
    });
    if let Some(index) = index_json(&address.key) {
        entry["index"] = index;
    }
    entry
}

/// Groups resource entries into Terraform's nested `root_module` / `child_modules` shape.
fn module_tree(entries: Vec<(ModuleInstance, Json)>) -> Json {
    let mut by_module: BTreeMap<ModuleInstance, Vec<Json>> = BTreeMap::new();
    for (module, entry) in entries {
        by_module.entry(module).or_default().push(entry);
    }
    fn build(module: &ModuleInstance, by_module: &BTreeMap<ModuleInstance, Vec<Json>>) -> Json {
        let resources = by_module.get(module).cloned().unwrap_or_default();
        let children: Vec<Json> = by_module
            .keys()
            .filter(|m| m.0.len() == module.0.len() + 1 && m.0.starts_with(&module.0))
            .map(|child| build(child, by_module))
            .collect();
        // Intermediate modules without resources still need to appear for their children.
        let mut implied: Vec<ModuleInstance> = by_module
            .keys()
            .filter(|m| m.0.len() > module.0.len() + 1 && m.0.starts_with(&module.0))
            .map(|m| ModuleInstance(m.0[..module.0.len() + 1].to_vec()))
            .filter(|m| !by_module.contains_key(m))
            .collect();
        implied.sort();
        implied.dedup();
        let mut children = children;
        children.extend(implied.iter().map(|m| build(m, by_module)));
        let mut object = json!({ "resources": resources });
        if !module.is_root() {
            object["address"] = Json::String(module.to_string());
        }
        if !children.is_empty() {
            object["child_modules"] = Json::Array(children);
        }
        object
    }
    build(&ModuleInstance::root(), &by_module)
}

/// State values as `show -json` prints them (`values` of the format 1.0 state representation).
pub fn state_values(state: &State) -> Json {
    let entries = state
        .resources
        .iter()
        .map(|(address, object)| {
            let mut entry = resource_entry(
                address,
                &object.provider,
                object.schema_version,
                &object.value,
            );
            // As Terraform: the recorded dependencies, when there are any.
            if !object.dependencies.is_empty() {
                let mut depends_on: Vec<String> = object
                    .dependencies
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                depends_on.sort();
                entry["depends_on"] = json!(depends_on);
            }
            (address.module.clone(), entry)
        })
        .collect();
    let outputs: Map<String, Json> = state
        .outputs
        .iter()
        .map(|(name, output)| {
            let (value, _, _) = split_value(&output.value);
            // As Terraform's state representation: the value's own type, in cty's JSON form.
            let ty = output.value.type_of().to_cty_json();
            (
                name.clone(),
                json!({ "sensitive": output.sensitive, "value": value, "type": ty }),
            )
        })
        .collect();
    // Terraform leaves `outputs` out when there are none.
    let mut values = json!({ "root_module": module_tree(entries) });
    if !outputs.is_empty() {
        values["outputs"] = Json::Object(outputs);
    }
    values
}

/// `strata show -json` of a state.
pub fn state_json(state: &State) -> Json {
    json!({
        "format_version": "1.0",
        "terraform_version": crate::TERRAFORM_VERSION_COMPAT,
        "values": state_values(state),
    })
}

fn reason_text(reason: &ActionReason) -> &'static str {
    match reason {
        ActionReason::ReplaceByRequest => "replace_by_request",
        ActionReason::ReplaceBecauseTainted => "replace_because_tainted",
        ActionReason::ReplaceByTriggers => "replace_by_triggers",
        ActionReason::ReplaceBecauseCannotUpdate => "replace_because_cannot_update",
        ActionReason::DeleteBecauseNoResourceConfig => "delete_because_no_resource_config",
        ActionReason::DeleteBecauseNoRepetitionKey => "delete_because_no_module",
        ActionReason::DeleteBecauseCountIndex => "delete_because_count_index",
        ActionReason::DeleteBecauseEachKey => "delete_because_each_key",
        ActionReason::DeleteBecauseDestroyMode => "delete_because_no_resource_config",
    }
}

/// The plan in Terraform's JSON plan format (as `terraform show -json PLANFILE` writes it).
/// `configuration` is [`super::config_json::configuration_json`] of the configuration the plan
/// was made from.
pub fn plan_json(plan: &Plan, prior: &State, configuration: Json) -> Json {
    // Planned values: every instance as it will be after apply.
    let mut planned: BTreeMap<ResourceInstance, (String, u64, Value)> = prior
        .resources
        .iter()
        .filter(|(a, _)| a.resource.mode == ResourceMode::Managed)
        .map(|(a, o)| {
            (
                a.clone(),
                (o.provider.clone(), o.schema_version, o.value.clone()),
            )
        })
        .collect();
    let mut resource_changes = Vec::new();
    for change in &plan.changes {
        match (&change.after, change.action) {
            // A deposed object's destruction leaves the instance's current object as it is.
            (_, Action::Delete) if change.deposed.is_none() => {
                planned.remove(&change.address);
            }
            (_, Action::Delete) => {}
            (Some(after), _) => {
                planned.insert(
                    change.address.clone(),
                    (
                        change.provider.clone(),
                        change.schema_version,
                        after.clone(),
                    ),
                );
            }
            _ => {}
        }
        let (before, _, before_sensitive) = change.before.as_ref().map(split_value).unwrap_or((
            Json::Null,
            Json::Bool(false),
            Json::Bool(false),
        ));
        let (after, after_unknown, after_sensitive) = change
            .after
            .as_ref()
            .map(split_value)
            .unwrap_or((Json::Null, Json::Bool(false), Json::Bool(false)));
        // As Terraform: a wholly known value has an empty `after_unknown`.
        let after_unknown = match &change.after {
            Some(after) if after.is_wholly_known() => json!({}),
            _ => after_unknown,
        };
        let mut entry = json!({
            "address": change.address.to_string(),
            "mode": mode_str(change.address.resource.mode),
            "type": change.address.resource.type_name,
            "name": change.address.resource.name,
            "provider_name": provider_name(&change.provider),
            "change": {
                "actions": change.action.json_actions(),
                "before": before,
                "after": after,
                "after_unknown": after_unknown,
                "before_sensitive": before_sensitive,
                "after_sensitive": after_sensitive,
            },
        });
        if !change.address.module.is_root() {
            entry["module_address"] = Json::String(change.address.module.to_string());
        }
        if let Some(index) = index_json(&change.address.key) {
            entry["index"] = index;
        }
        if !change.requires_replace.is_empty() {
            entry["change"]["replace_paths"] = Json::Array(
                change
                    .requires_replace
                    .iter()
                    .map(|p| {
                        Json::Array(
                            p.0.iter()
                                .map(|s| match s {
                                    crate::value::PathStep::Attr(a)
                                    | crate::value::PathStep::Key(a) => Json::String(a.clone()),
                                    crate::value::PathStep::Index(i) => Json::from(*i),
                                })
                                .collect(),
                        )
                    })
                    .collect(),
            );
        }
        if let Some(reason) = &change.reason {
            entry["action_reason"] = Json::String(reason_text(reason).into());
        }
        if let Some(key) = &change.deposed {
            entry["deposed"] = Json::String(key.clone());
        }
        if let Some(id) = &change.importing {
            entry["change"]["importing"] = json!({ "id": id });
        }
        if let Some(previous) = &change.previous_address {
            entry["previous_address"] = Json::String(previous.to_string());
        }
        resource_changes.push(entry);
    }
    let planned_entries = planned
        .iter()
        .map(|(address, (provider, version, value))| {
            (
                address.module.clone(),
                resource_entry(address, provider, *version, value),
            )
        })
        .collect();
    let mut planned_outputs = Map::new();
    let mut output_changes = Map::new();
    for (name, change) in &plan.output_changes {
        let after_value = change.after.clone().map(|v| v.mark_if(change.sensitive));
        let before_value = change.before.clone().map(|v| v.mark_if(change.sensitive));
        let (after, after_unknown, after_sensitive) = after_value
            .as_ref()
            .map(split_value)
            .unwrap_or((Json::Null, Json::Bool(false), Json::Bool(false)));
        let (before, _, before_sensitive) = before_value.as_ref().map(split_value).unwrap_or((
            Json::Null,
            Json::Bool(false),
            Json::Bool(false),
        ));
        if change.after.is_some() && after_unknown != Json::Bool(true) {
            planned_outputs.insert(
                name.clone(),
                json!({ "sensitive": change.sensitive, "value": after.clone() }),
            );
        }
        output_changes.insert(
            name.clone(),
            json!({
                "change": null,
                "actions": change.action.json_actions(),
                "before": before,
                "after": after,
                "after_unknown": after_unknown,
                "before_sensitive": before_sensitive,
                "after_sensitive": after_sensitive,
            }),
        );
        if let Some(Json::Object(entry)) = output_changes.get_mut(name) {
            entry.remove("change");
        }
    }
    let mut planned_values = json!({ "root_module": module_tree(planned_entries) });
    if !planned_outputs.is_empty() {
        planned_values["outputs"] = Json::Object(planned_outputs);
    }
    let mut out = json!({
        "format_version": "1.2",
        "terraform_version": crate::TERRAFORM_VERSION_COMPAT,
        "planned_values": planned_values,
        "resource_changes": resource_changes,
        "output_changes": output_changes,
        "prior_state": state_json(prior),
        "configuration": configuration,
        "relevant_attributes": [],
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "applyable": plan.has_changes(),
        "complete": plan.targets.is_empty(),
        "errored": false,
    });
    if let Json::Object(map) = &mut out {
        if let Some(Json::Array(changes)) = map.get("resource_changes") {
            if changes.is_empty() {
                map.remove("resource_changes");
            }
        }
    }
    out
}
