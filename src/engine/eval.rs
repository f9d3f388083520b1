//! Evaluation the walks share: `count`/`for_each` expansion, condition checks, a resource's
//! configuration and schema, the schema's marks on values from providers and state files,
//! `ignore_changes`, and data source results.

use super::store::{Expansion, ModuleInstanceInfo, Repetition};
use super::{provider_diagnostics, Run, RunContext};
use crate::addrs::{ModuleInstance, Resource, ResourceInstance, ResourceMode};
use crate::config::{IgnoreChanges, ModuleTree, ProviderRef, ResourceConfig};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics};
use crate::graph::{self, ModulePath};
use crate::providers::ResourceSchema;
use crate::value::{convert, Type, Value};

/// A resource's `count`/`for_each` evaluated in one instance of its module.
pub(super) fn expand_resource(
    run: &Run,
    config: &ResourceConfig,
    info: &ModuleInstanceInfo,
) -> Result<(Expansion, Vec<Repetition>), Diagnostics> {
    let (count, for_each) = (config.count.as_ref(), config.for_each.as_ref());
    expand(run, count, for_each, &info.instance, &info.repetition)
}

/// Evaluates `count` / `for_each` into the repetitions of a resource or module call.
pub(super) fn expand(
    run: &Run,
    count: Option<&crate::config::Expr>,
    for_each: Option<&crate::config::Expr>,
    module: &ModuleInstance,
    parent_repetition: &Repetition,
) -> Result<(Expansion, Vec<Repetition>), Diagnostics> {
    if let Some(expr) = count {
        let value = run.eval(expr, module, parent_repetition, None)?;
        if value.is_unknown() {
            if run.evaluation.partial {
                return Ok((Expansion::Count, vec![Repetition::Count(0)]));
            }
            return Err(Diagnostic::error("Invalid count argument")
                .with_detail("The \"count\" value depends on resource attributes that cannot be determined until apply, so Strata cannot predict how many instances will be created. To work around this, use -target to first apply only the resources that the count depends on.")
                .with_span_opt(expr.span())
                .into());
        }
        if value.contains_sensitive() {
            return Err(Diagnostic::error("Invalid count argument")
                .with_detail("Sensitive values, or values derived from sensitive values, cannot be used as count arguments.")
                .with_span_opt(expr.span())
                .into());
        }
        let number = convert(value, &crate::value::Type::Number)
            .ok()
            .and_then(|v| v.as_number().and_then(|n| n.to_i64()))
            .filter(|n| *n >= 0);
        let Some(number) = number else {
            return Err(Diagnostic::error("Invalid count argument")
                .with_detail("The given \"count\" argument value is unsuitable: must be a whole number greater than or equal to zero.")
                .with_span_opt(expr.span())
                .into());
        };
        return Ok((
            Expansion::Count,
            (0..number).map(Repetition::Count).collect(),
        ));
    }
    if let Some(expr) = for_each {
        let value = run.eval(expr, module, parent_repetition, None)?;
        if !value.is_wholly_known() && (value.is_unknown() || value.as_seq().is_some()) {
            if run.evaluation.partial {
                return Ok((
                    Expansion::ForEach,
                    vec![Repetition::Each {
                        key: String::new(),
                        value: Value::unknown(),
                    }],
                ));
            }
            return Err(Diagnostic::error("Invalid for_each argument")
                .with_detail("The \"for_each\" value depends on resource attributes that cannot be determined until apply, so Strata cannot predict how many instances will be created. To work around this, use -target to first apply only the resources that the for_each value depends on.")
                .with_span_opt(expr.span())
                .into());
        }
        // As Terraform: the collection itself may not be sensitive, nor may the elements of a
        // set (they become instance keys); a map's sensitive values stay marked in each.value.
        let keys_sensitive = matches!(value, Value::Sensitive(_))
            || matches!(&value, Value::Set(items) if items.iter().any(Value::contains_sensitive));
        if keys_sensitive {
            return Err(Diagnostic::error("Invalid for_each argument")
                .with_detail("Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments.")
                .with_span_opt(expr.span())
                .into());
        }
        let repetitions = match &value {
            Value::Map(entries) | Value::Object(entries) => entries
                .iter()
                .map(|(k, v)| Repetition::Each { key: k.clone(), value: v.clone() })
                .collect(),
            Value::Set(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(s) => out.push(Repetition::Each { key: s.to_string(), value: Value::from(s) }),
                        None => {
                            return Err(Diagnostic::error("Invalid for_each set argument")
                                .with_detail(format!("The given \"for_each\" argument value is unsuitable: \"for_each\" supports sets of strings, but you have provided a set containing type {}.", item.friendly_type_name()))
                                .with_span_opt(expr.span())
                                .into())
                        }
                    }
                }
                out
            }
            Value::Null => {
                return Err(Diagnostic::error("Invalid for_each argument")
                    .with_detail("The given \"for_each\" argument value is null. A map, or set of strings is allowed.")
                    .with_span_opt(expr.span())
                    .into())
            }
            other => {
                return Err(Diagnostic::error("Invalid for_each argument")
                    .with_detail(format!("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type {}.", other.friendly_type_name()))
                    .with_help("Convert a list to a set with toset(...), or build a map with a for expression.")
                    .with_span_opt(expr.span())
                    .into())
            }
        };
        return Ok((Expansion::ForEach, repetitions));
    }
    Ok((Expansion::Single, vec![Repetition::None]))
}

/// Evaluates a condition; a false one is an error with its message. Unknown passes (it is
/// checked again at apply).
pub(super) fn check_condition(
    run: &Run,
    condition: &crate::config::Condition,
    module: &ModuleInstance,
    repetition: &Repetition,
    self_value: Option<Value>,
    summary: &str,
) -> Result<(), Diagnostics> {
    let value = run.eval(&condition.condition, module, repetition, self_value.clone())?;
    if !value.is_wholly_known() || run.evaluation.partial {
        return Ok(());
    }
    match convert(value, &crate::value::Type::Bool)
        .ok()
        .and_then(|v| v.as_bool())
    {
        Some(true) => Ok(()),
        Some(false) => {
            let message = run
                .eval(&condition.error_message, module, repetition, self_value)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "The condition is false.".into());
            Err(Diagnostic::error(summary)
                .with_detail(message)
                .with_span(condition.span.clone())
                .into())
        }
        None => Err(Diagnostic::error("Invalid condition result")
            .with_detail("The condition expression must return a bool (true or false).")
            .with_span(condition.span.clone())
            .into()),
    }
}

/// The schema of a resource or data source, or a located error.
pub(super) fn schema_for(
    run: &RunContext,
    config: &ResourceConfig,
    path: &ModulePath,
) -> Result<(ProviderRef, ResourceSchema), Diagnostics> {
    let provider_ref = graph::resolve_provider(&run.tree, path, &config.provider);
    let Some(provider) = run.provider(&provider_ref) else {
        return Err(Diagnostic::error(format!(
            "Provider \"{}\" is not available",
            provider_ref.name
        ))
        .with_span(config.span.clone())
        .into());
    };
    let schema = provider.schema();
    let table = match config.addr.mode {
        ResourceMode::Managed => &schema.resources,
        ResourceMode::Data => &schema.data_sources,
    };
    match table.get(&config.addr.type_name) {
        Some(s) => Ok((provider_ref, s.clone())),
        None => {
            let kind = if config.addr.mode == ResourceMode::Data {
                "data source"
            } else {
                "resource type"
            };
            let mut diagnostic = Diagnostic::error(format!("Invalid {kind}"))
                .with_detail(format!(
                    "The provider {} does not support {kind} \"{}\".",
                    provider_ref.name, config.addr.type_name
                ))
                .with_span(config.span.clone());
            if let Some(best) =
                did_you_mean(&config.addr.type_name, table.keys().map(String::as_str))
            {
                diagnostic = diagnostic.with_suggestion(Some(best));
            } else if !run
                .registry
                .get(&provider_ref.name)
                .is_some_and(|r| r.shared)
            {
                diagnostic = diagnostic.with_help(format!(
                    "Strata's built-in provider {} implements only some types. To use the provider's plugin, run `strata init` with a provider installation source (a filesystem mirror in the CLI configuration, or -plugin-dir).",
                    provider_ref.name
                ));
            }
            Err(diagnostic.into())
        }
    }
}

pub(super) fn resource_config<'a>(
    tree: &'a ModuleTree,
    path: &ModulePath,
    resource: &Resource,
) -> Option<&'a ResourceConfig> {
    tree.descendant(path)?.module.resources.get(resource)
}

/// Puts the schema's sensitive marks on a value read from a provider.
pub(super) fn mark_schema_sensitive(
    run: &RunContext,
    address: &ResourceInstance,
    value: Value,
) -> Value {
    let Some(config) = resource_config(&run.tree, &address.module.module_path(), &address.resource)
    else {
        return value;
    };
    let Some(provider) = run.provider(&graph::resolve_provider(
        &run.tree,
        &address.module.module_path(),
        &config.provider,
    )) else {
        return value;
    };
    let schema = provider.schema();
    let Some(resource) = schema.resources.get(&address.resource.type_name) else {
        return value;
    };
    mark_sensitive_attributes(&resource.block, value)
}

/// The schema's sensitive marks on a value that came from a provider or a state file.
pub(super) fn mark_sensitive_attributes(block: &crate::providers::Block, value: Value) -> Value {
    block.mark_sensitive(value)
}

/// A value read from a state file (which carries no types: lists come back as tuples, maps as
/// objects) converted to its schema's types, marks kept; unchanged if it does not convert.
pub(super) fn typed(ty: &Type, value: Value) -> Value {
    if crate::value::conforms(&value, ty) {
        return value;
    }
    let (plain, paths) = value.clone().deep_unmark();
    match convert(plain, ty) {
        Ok(converted) => converted.mark_paths(&paths),
        Err(_) => value,
    }
}

/// Sets the prior values at the ignored paths, so ignored attributes never show a change.
pub(super) fn apply_ignore_changes(
    ignore: &IgnoreChanges,
    schema: &ResourceSchema,
    prior: &Value,
    config: Value,
) -> Value {
    let mut config = config;
    match ignore {
        IgnoreChanges::None => {}
        IgnoreChanges::All => {
            for (name, attribute) in &schema.block.attributes {
                if attribute.optional || attribute.required {
                    if let Some(p) = prior.get_attr(name) {
                        config
                            .set_at_path(&[crate::value::PathStep::Attr(name.clone())], p.clone());
                    }
                }
            }
            for name in schema.block.blocks.keys() {
                if let Some(p) = prior.get_attr(name) {
                    config.set_at_path(&[crate::value::PathStep::Attr(name.clone())], p.clone());
                }
            }
        }
        IgnoreChanges::Paths(paths) => {
            for path in paths {
                if let Some(p) = prior.at_path(path) {
                    config.set_at_path(&path.0, p.clone());
                }
            }
        }
    }
    config
}

/// A data source result keeps the configured arguments the provider did not echo back.
pub(super) fn merge_config(config: &Value, result: Value) -> Value {
    match (config.as_entries(), result) {
        (Some(config_entries), Value::Object(mut attrs)) => {
            for (k, v) in config_entries {
                attrs.entry(k.clone()).or_insert_with(|| v.clone());
            }
            Value::Object(attrs)
        }
        (_, other) => other,
    }
}

/// An instance's configuration evaluated against its schema, with its preconditions and its
/// provisioners' settings checked (errors join `diagnostics`); `None` when the configuration
/// does not evaluate.
pub(super) fn evaluate_instance(
    run: &Run,
    config: &ResourceConfig,
    schema: &ResourceSchema,
    address: &ResourceInstance,
    repetition: &Repetition,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let module = &address.module;
    let config_value = match run.eval_resource_body(config, &schema.block, module, repetition) {
        Ok(v) => v,
        Err(d) => {
            diagnostics.extend(d);
            return None;
        }
    };
    for condition in &config.lifecycle.preconditions {
        let summary = "Resource precondition failed";
        if let Err(d) = check_condition(run, condition, module, repetition, None, summary) {
            diagnostics.extend(d);
        }
    }
    super::provision::check(run, config, address, repetition, diagnostics);
    Some(config_value)
}

/// Asks the provider to check one instance's configuration (what the schema cannot say).
pub(super) async fn validate_instance(
    run: &Run,
    address: &ResourceInstance,
    config: &ResourceConfig,
    provider_ref: &ProviderRef,
    config_value: &Value,
) -> Diagnostics {
    let Some(provider) = run.provider(provider_ref) else {
        return Diagnostics::new();
    };
    let type_name = &address.resource.type_name;
    // Providers see values without marks; most configurations have none to take off.
    let unmarked = if config_value.contains_sensitive() {
        std::borrow::Cow::Owned(config_value.clone().deep_unmark().0)
    } else {
        std::borrow::Cow::Borrowed(config_value)
    };
    let found = match address.resource.mode {
        ResourceMode::Managed => provider.validate_resource(type_name, &unmarked).await,
        ResourceMode::Data => provider.validate_data_source(type_name, &unmarked).await,
    };
    provider_diagnostics::located_list(address, &found, Some(config))
}

/// The object the working state holds at `address`, its value typed per the schema (a state
/// file carries no types).
pub(super) fn recorded_object(
    run: &Run,
    address: &ResourceInstance,
    schema: &ResourceSchema,
) -> Option<crate::state::InstanceObject> {
    recorded_object_as(run, address, &schema.block.value_type())
}

/// [`recorded_object`] with its schema's object type (`Block::value_type`) computed by the
/// caller, once per resource rather than once per instance.
pub(super) fn recorded_object_as(
    run: &Run,
    address: &ResourceInstance,
    ty: &Type,
) -> Option<crate::state::InstanceObject> {
    let state = run.state();
    let mut object = state.resources.get(address)?.clone();
    object.value = typed(ty, object.value);
    Some(object)
}
