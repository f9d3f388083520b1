//! Terraform's machine-readable formats: the JSON plan (`show -json PLANFILE`, format 1.2) and
//! the JSON state values (`show -json`), so tools written for Terraform (checkov, OPA, CI
//! scripts) read Strata's output unchanged.

use super::{Action, ActionReason, Plan};
use crate::addrs::{InstanceKey, ModuleInstance, ResourceInstance, ResourceMode};
use crate::state::State;
use crate::value::{Type, Value};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// A value as JSON with unknowns as null, plus its unknown mask and sensitive mask, as
/// Terraform splits them (`after`, `after_unknown`, `after_sensitive`).
pub fn split_value(value: &Value) -> (Json, Json, Json) {
    match value {
        // As Terraform's `SensitiveAsBool`: nothing is known of an unknown collection's
        // elements, so its sensitivity is an empty one of its shape.
        Value::Unknown(ty) => {
            let sensitive = match ty {
                Type::Object(_) | Type::Map(_) => json!({}),
                Type::List(_) | Type::Set(_) | Type::Tuple(_) => json!([]),
                _ => Json::Bool(false),
            };
            (Json::Null, Json::Bool(true), sensitive)
        }
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

/// A value as JSON with its unknown parts left out, as Terraform's `omitUnknowns` does: an
/// unknown attribute or map element is dropped, an unknown sequence element becomes `null`
/// (element order is how `after_unknown` lines up with it), a wholly unknown value is `None`.
pub fn known_json(value: &Value) -> Option<Json> {
    match value {
        Value::Unknown(_) => None,
        Value::Sensitive(inner) => known_json(inner),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => Some(Json::Array(
            items
                .iter()
                .map(|item| known_json(item).unwrap_or(Json::Null))
                .collect(),
        )),
        Value::Map(items) | Value::Object(items) => Some(Json::Object(
            items
                .iter()
                .filter_map(|(key, item)| Some((key.clone(), known_json(item)?)))
                .collect(),
        )),
        other => Some(crate::value::value_to_json(other).unwrap_or(Json::Null)),
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
    let (_, _, sensitive) = split_value(value);
    let values = known_json(value).unwrap_or(Json::Null);
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
        // As Terraform (`omitempty`): no `resources` key for a module without any.
        let mut object = json!({});
        if !resources.is_empty() {
            object["resources"] = Json::Array(resources);
        }
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
        // Terraform gives a destroy plan's deletions no reason (see `plan_json`).
        ActionReason::DeleteBecauseDestroyMode => "",
    }
}

/// The plan in Terraform's JSON plan format (as `terraform show -json PLANFILE` writes it).
/// `configuration` is [`super::config_json::configuration_json`] of the configuration the plan
/// was made from, `locals` its [`super::config_json::locals_json`].
pub fn plan_json(plan: &Plan, prior: &State, configuration: Json, locals: &Json) -> Json {
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
    for change in &with_no_ops(plan, prior) {
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
        let (_, after_unknown, after_sensitive) = change
            .after
            .as_ref()
            .map(split_value)
            .unwrap_or((Json::Null, Json::Bool(false), Json::Bool(false)));
        // As Terraform: a wholly known (or absent) value has an empty `after_unknown`.
        let after_unknown = match &change.after {
            Some(after) if !after.is_wholly_known() => after_unknown,
            _ => json!({}),
        };
        let after = change.after.as_ref().map_or(Some(Json::Null), known_json);
        let mut entry = json!({
            "address": change.address.to_string(),
            "mode": mode_str(change.address.resource.mode),
            "type": change.address.resource.type_name,
            "name": change.address.resource.name,
            "provider_name": provider_name(&change.provider),
            "change": {
                "actions": change.action.json_actions(),
                "before": before,
                "after_unknown": after_unknown,
                "before_sensitive": before_sensitive,
                "after_sensitive": after_sensitive,
            },
        });
        if let Some(after) = after {
            entry["change"]["after"] = after;
        }
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
        if let Some(reason) = change.reason.as_ref().map(reason_text) {
            if !reason.is_empty() {
                entry["action_reason"] = Json::String(reason.into());
            }
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
    let (planned_outputs, output_changes) = output_changes_json(plan);
    let mut planned_values = json!({ "root_module": module_tree(planned_entries) });
    if !planned_outputs.is_empty() {
        planned_values["outputs"] = Json::Object(planned_outputs);
    }
    let mut out = Map::new();
    out.insert("format_version".into(), json!("1.2"));
    out.insert(
        "terraform_version".into(),
        json!(crate::TERRAFORM_VERSION_COMPAT),
    );
    out.insert("planned_values".into(), planned_values);
    // Terraform leaves each of these out when it is empty (`omitempty`).
    if !resource_changes.is_empty() {
        out.insert("resource_changes".into(), Json::Array(resource_changes));
    }
    if !output_changes.is_empty() {
        out.insert("output_changes".into(), Json::Object(output_changes));
    }
    if let Some(prior_state) = prior_state_json(plan, prior) {
        out.insert("prior_state".into(), prior_state);
    }
    let relevant = super::relevant::relevant_attributes(plan, &configuration, locals);
    out.insert("configuration".into(), configuration);
    if !relevant.is_empty() {
        out.insert("relevant_attributes".into(), Json::Array(relevant));
    }
    out.insert(
        "timestamp".into(),
        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    );
    out.insert("applyable".into(), json!(plan.has_changes()));
    out.insert("complete".into(), json!(plan.targets.is_empty()));
    out.insert("errored".into(), json!(false));
    Json::Object(out)
}

/// The plan's changes with a no-op for every managed instance of the prior state that does not
/// change, as Terraform lists them in `resource_changes` (a saved plan keeps only changes). A
/// targeted plan or a refresh-only one lists none: Terraform plans nothing for the instances
/// outside the targets, and nothing at all in refresh-only mode.
fn with_no_ops(plan: &Plan, prior: &State) -> Vec<super::ResourceChange> {
    let mut changes = plan.changes.clone();
    if plan.mode != super::PlanMode::Normal || !plan.targets.is_empty() {
        return changes;
    }
    let changed: std::collections::BTreeSet<&ResourceInstance> = plan
        .changes
        .iter()
        .filter(|c| c.deposed.is_none())
        .map(|c| &c.address)
        .collect();
    let no_ops: Vec<super::ResourceChange> = prior
        .resources
        .iter()
        .filter(|(address, _)| address.resource.mode == ResourceMode::Managed)
        .filter(|(address, _)| !changed.contains(address))
        .map(|(address, object)| {
            super::ResourceChange::changing(
                address.clone(),
                object,
                Action::NoOp,
                object.value.clone(),
            )
        })
        .collect();
    changes.extend(no_ops);
    changes.sort_by(|a, b| {
        (&a.address, a.deposed.is_some(), &a.deposed).cmp(&(
            &b.address,
            b.deposed.is_some(),
            &b.deposed,
        ))
    });
    changes
}

/// `planned_values.outputs` and `output_changes`, as Terraform writes them: the sensitivity is
/// the output's alone (`before_sensitive` = `after_sensitive`), unknown parts are left out of
/// `after`, and a planned output has its `value` and `type` only when wholly known.
fn output_changes_json(plan: &Plan) -> (Map<String, Json>, Map<String, Json>) {
    let mut planned_outputs = Map::new();
    let mut output_changes = Map::new();
    for (name, change) in &plan.output_changes {
        let sensitive = Json::Bool(change.sensitive);
        let known_after = change.after.as_ref().filter(|v| v.is_wholly_known());
        if change.action != Action::Delete {
            let mut planned = json!({ "sensitive": change.sensitive });
            if let Some(after) = known_after {
                planned["type"] = after.type_of().to_cty_json();
                planned["value"] = known_json(after).unwrap_or(Json::Null);
            }
            planned_outputs.insert(name.clone(), planned);
        }
        let mut entry = json!({
            "actions": change.action.json_actions(),
            "before": change.before.as_ref().and_then(known_json).unwrap_or(Json::Null),
            "after_unknown": match (&change.after, known_after) {
                (Some(after), None) => split_value(after).1,
                _ => Json::Bool(false),
            },
            "before_sensitive": sensitive,
            "after_sensitive": sensitive,
        });
        match &change.after {
            None => entry["after"] = Json::Null,
            Some(after) => {
                if let Some(known) = known_json(after) {
                    entry["after"] = known;
                }
            }
        }
        output_changes.insert(name.clone(), entry);
    }
    (planned_outputs, output_changes)
}

/// `prior_state`: the refreshed state, whose root outputs Terraform's plan has already updated
/// to every wholly known planned value (a null one removes the output); left out when that
/// state has no resources and no outputs.
fn prior_state_json(plan: &Plan, prior: &State) -> Option<Json> {
    let mut state = prior.clone();
    if plan.mode != super::PlanMode::Destroy {
        for (name, change) in &plan.output_changes {
            let Some(after) = change.after.as_ref().filter(|v| v.is_wholly_known()) else {
                continue;
            };
            match after.unmarked() {
                Value::Null => {
                    state.outputs.remove(name);
                }
                value => {
                    state.outputs.insert(
                        name.clone(),
                        crate::state::OutputValue {
                            value: value.clone(),
                            sensitive: change.sensitive,
                        },
                    );
                }
            }
        }
    }
    (!state.resources.is_empty() || !state.outputs.is_empty()).then(|| state_json(&state))
}
