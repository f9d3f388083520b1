//! When provisioners run and what their failure means, as in Terraform
//! (`node_resource_abstract_instance.go`, `evalApplyProvisioners` / `applyProvisioners`):
//!
//! - create-time provisioners run after an object is created (a plain create or the new half
//!   of a replacement), never after an update; one that fails with `on_failure = fail` (the
//!   default) stops the rest, fails the apply and leaves the object **tainted** in the state, so
//!   the next plan replaces it; `on_failure = continue` ignores the failure (Terraform does
//!   not warn either);
//! - destroy-time provisioners run before an object is destroyed, unless it is tainted or
//!   deposed; once the `resource` block is gone, only a `removed` block's provisioners run
//!   (Terraform 1.7's `removed { provisioner ... }`), otherwise none; a failure stops the
//!   destroy and the object stays;
//! - a configuration with a sensitive value prints only `(output suppressed due to sensitive
//!   value in config)`, and the error message of such a provisioner names no sensitive value.
//!
//! The provisioners themselves are in [`crate::provisioners`]; this module evaluates their
//! blocks (with `self`, `count.index`, `each`), merges the connection blocks and reports events.

use super::apply::record;
use super::{Event, Repetition, Run};
use crate::addrs::{InstanceKey, ResourceInstance};
use crate::config::provisioner::{OnFailure, Provisioner, Provisioning, When};
use crate::config::ResourceConfig;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::lang;
use crate::plan::{Action, ResourceChange};
use crate::provisioners::{self, Output, ProvisionError};
use crate::state::{InstanceObject, ObjectStatus, StateChange};
use crate::value::Value;
use std::sync::Arc;

const SUPPRESSED: &str = "(output suppressed due to sensitive value in config)";

/// Runs the create-time provisioners of a freshly created object. On failure the object is
/// recorded as tainted and the errors returned.
pub(super) async fn after_create(
    run: &Arc<Run>,
    address: &ResourceInstance,
    config: &ResourceConfig,
    object: InstanceObject,
    repetition: &Repetition,
) -> Result<(), Diagnostics> {
    if !config
        .provisioning
        .provisioners
        .iter()
        .any(|p| p.when == When::Create)
    {
        return Ok(());
    }
    let permit = run.semaphore.acquire().await;
    let result = run_all(
        run,
        address,
        &config.provisioning,
        When::Create,
        &object.value,
        repetition,
    )
    .await;
    drop(permit);
    if let Err(diagnostics) = result {
        let tainted = InstanceObject {
            status: ObjectStatus::Tainted,
            ..object
        };
        record(
            run,
            StateChange::Put {
                address: address.clone(),
                object: tainted,
            },
        )
        .await;
        run.events.event(Event::ApplyFailed {
            address: address.clone(),
            action: Action::Create,
        });
        return Err(diagnostics);
    }
    Ok(())
}

/// Runs the destroy-time provisioners before an object is destroyed; `false` (with the errors
/// recorded in the run) when one failed and the destroy must not happen.
pub(super) async fn before_destroy(run: &Arc<Run>, change: &ResourceChange, deposed: bool) -> bool {
    let address = &change.address;
    let Some(provisioning) = destroy_provisioning(run, address) else {
        return true;
    };
    let Some(prior) = &change.before else {
        return true;
    };
    let tainted = run
        .state()
        .resources
        .get(address)
        .is_some_and(|o| o.status == ObjectStatus::Tainted);
    if deposed || tainted {
        return true;
    }
    let repetition = match &address.key {
        InstanceKey::None => Repetition::None,
        InstanceKey::Int(index) => Repetition::Count(*index),
        // Destroy-time provisioners may use each.key only (the loader checks it).
        InstanceKey::Str(key) => Repetition::Each {
            key: key.clone(),
            value: Value::Null,
        },
    };
    match run_all(
        run,
        address,
        provisioning,
        When::Destroy,
        prior,
        &repetition,
    )
    .await
    {
        Ok(()) => true,
        Err(diagnostics) => {
            run.events.event(Event::ApplyFailed {
                address: address.clone(),
                action: Action::Delete,
            });
            run.error(diagnostics);
            false
        }
    }
}

/// Evaluates every provisioner and connection block of an instance with `self` unknown, as
/// Terraform validates them before planning: a wrong type or a missing required argument is an
/// error at plan time, not after the object was created. New errors join `found`.
pub(super) fn check(
    run: &Run,
    config: &ResourceConfig,
    address: &ResourceInstance,
    repetition: &Repetition,
    found: &mut Diagnostics,
) {
    let mut diagnostics = self_by_name(config);
    let provisioning = &config.provisioning;
    let connections = provisioning.connection.iter().chain(
        provisioning
            .provisioners
            .iter()
            .filter_map(|p| p.connection.as_ref()),
    );
    // Built per connection block: most resources have none, and this runs per instance.
    let bodies: Vec<(&crate::config::Body, crate::providers::Block)> = connections
        .map(|c| (&c.body, provisioners::connection_schema()))
        .collect();
    for (body, schema) in bodies {
        let evaluated = eval_with_self(run, body, &schema, address, repetition, &Value::unknown());
        if let Err(errors) = evaluated {
            diagnostics.extend(errors);
        }
    }
    for provisioner in &provisioning.provisioners {
        let Some(schema) = provisioners::schema(&provisioner.type_name) else {
            continue;
        };
        let unknown = Value::unknown();
        match eval_with_self(
            run,
            &provisioner.body,
            &schema,
            address,
            repetition,
            &unknown,
        ) {
            Err(errors) => diagnostics.extend(errors),
            Ok(value) => {
                if let Err(error) = provisioners::validate(&provisioner.type_name, &value) {
                    diagnostics.push(
                        Diagnostic::error(error.summary)
                            .with_detail(error.detail)
                            .with_span(provisioner.span.clone()),
                    );
                }
            }
        }
    }
    // Every instance finds the same errors in the same blocks: each is reported once.
    for diagnostic in diagnostics.iter() {
        if !found.iter().any(|seen| seen == diagnostic) {
            found.push(diagnostic.clone());
        }
    }
}

/// References by name to the resource a provisioner belongs to. Terraform resolves them (to
/// the instances finished so far); Strata does not know the resource's values while it is
/// provisioning one of its instances, so such a reference is an error at plan time that says
/// to use `self`, rather than an unknown value reaching the command.
fn self_by_name(config: &ResourceConfig) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    for body in config.provisioning.bodies() {
        for reference in lang::body_references(body) {
            if reference.subject == lang::Referenceable::Resource(config.addr.clone()) {
                diagnostics.push(
                    Diagnostic::error("Provisioner refers to its own resource by name")
                        .with_detail(format!(
                            "Provisioners and connection blocks refer to the object they run for through self (self.id, self.input), not as {}: its values are not known yet while its provisioners run.",
                            config.addr
                        ))
                        .with_span_opt(reference.span.clone()),
                );
            }
        }
    }
    diagnostics
}

/// The provisioners that apply when an object is destroyed: its resource block's, or, once the
/// block is gone, those of a `removed` block naming the resource (in its module, or in the root
/// module with the module path); none otherwise.
fn destroy_provisioning<'a>(run: &'a Run, address: &ResourceInstance) -> Option<&'a Provisioning> {
    let path = address.module.module_path();
    if let Some(config) = super::eval::resource_config(&run.tree, &path, &address.resource) {
        return Some(&config.provisioning);
    }
    let local = address.resource.to_string();
    let from_root: String = path
        .iter()
        .map(|name| format!("module.{name}."))
        .chain(std::iter::once(local.clone()))
        .collect();
    let named = |module: &'a crate::config::Module, from: &str| {
        module
            .removed
            .iter()
            .find(|removed| removed.destroy && removed.from == from)
            .map(|removed| &removed.provisioning)
    };
    run.tree
        .descendant(&path)
        .and_then(|tree| named(&tree.module, &local))
        .or_else(|| named(&run.tree.module, &from_root))
}

/// Runs the resource's provisioners of one kind in order; the first failure that is not
/// `on_failure = continue` stops them.
async fn run_all(
    run: &Arc<Run>,
    address: &ResourceInstance,
    provisioning: &Provisioning,
    when: When,
    self_value: &Value,
    repetition: &Repetition,
) -> Result<(), Diagnostics> {
    for provisioner in provisioning.provisioners.iter().filter(|p| p.when == when) {
        if run.cancelled() {
            return Ok(());
        }
        let result = run_one(
            run,
            address,
            provisioning,
            provisioner,
            self_value,
            repetition,
        )
        .await;
        if let Err(diagnostics) = result {
            if provisioner.on_failure == OnFailure::Fail {
                return Err(diagnostics);
            }
            tracing::warn!(%address, provisioner = %provisioner.type_name, "provisioner failed; continuing as on_failure = continue says");
        }
    }
    Ok(())
}

async fn run_one(
    run: &Arc<Run>,
    address: &ResourceInstance,
    provisioning: &Provisioning,
    provisioner: &Provisioner,
    self_value: &Value,
    repetition: &Repetition,
) -> Result<(), Diagnostics> {
    let type_name = provisioner.type_name.clone();
    run.events.event(Event::ProvisionStarting {
        address: address.clone(),
        provisioner: type_name.clone(),
    });
    let schema = provisioners::schema(&type_name).unwrap_or_default();
    let arguments = eval_with_self(
        run,
        &provisioner.body,
        &schema,
        address,
        repetition,
        self_value,
    )?;
    let connection = connection(
        run,
        provisioning,
        provisioner,
        address,
        repetition,
        self_value,
    )?;
    if !arguments.is_wholly_known() || !connection.is_wholly_known() {
        return Err(Diagnostic::error(format!(
            "{address}: Provisioner configuration is not known"
        ))
        .with_detail("Some of the provisioner's arguments (or its connection's) depend on values that are still unknown when it runs. Refer to the object itself through self.")
        .with_span(provisioner.span.clone())
        .into());
    }
    let sensitive = arguments.contains_sensitive();
    let output = output_for(run, address, &type_name, sensitive);
    let secrets = if sensitive {
        sensitive_strings(&arguments)
    } else {
        Vec::new()
    };
    let (arguments, _) = arguments.deep_unmark();
    let (connection, _) = connection.deep_unmark();
    let result = tokio::select! {
        result = provisioners::provision(&type_name, &arguments, &connection, output) => result,
        () = interrupted(run) => Err(ProvisionError::new(
            format!("{type_name} provisioner interrupted"),
            "The run was interrupted: the provisioner was stopped (a running command is killed) before it finished.",
        )),
    };
    run.events.event(Event::ProvisionDone {
        address: address.clone(),
        provisioner: type_name,
        failed: result.is_err(),
    });
    result.map_err(|error| failure(address, provisioner, error, sensitive, &secrets))
}

/// Resolves once the run is interrupted (Ctrl-C): a running provisioner is then stopped, as
/// Terraform stops its provisioners, by dropping it (its command is killed on drop).
async fn interrupted(run: &Run) {
    while !run.cancelled() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Where a provisioner's output goes: the run's events (only the UI prints).
fn output_for(
    run: &Arc<Run>,
    address: &ResourceInstance,
    type_name: &str,
    sensitive: bool,
) -> Output {
    let events = run.events.clone();
    let address = address.clone();
    let provisioner = type_name.to_string();
    Arc::new(move |message: &str| {
        events.event(Event::ProvisionOutput {
            address: address.clone(),
            provisioner: provisioner.clone(),
            output: if sensitive {
                SUPPRESSED.to_string()
            } else {
                message.to_string()
            },
        })
    })
}

/// The error of a failed provisioner at its block. With a sensitive configuration its
/// sensitive strings are masked and the output it printed is left out.
fn failure(
    address: &ResourceInstance,
    provisioner: &Provisioner,
    error: ProvisionError,
    sensitive: bool,
    secrets: &[String],
) -> Diagnostics {
    let mut detail = error.detail;
    if sensitive {
        if let Some(start) = detail.find(". Output: ") {
            detail.truncate(start);
            detail.push_str(&format!(". Output: {SUPPRESSED}"));
        }
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            detail = detail.replace(secret.as_str(), "(sensitive value)");
        }
    }
    Diagnostic::error(format!("{address}: {}", error.summary))
        .with_detail(detail)
        .with_span(provisioner.span.clone())
        .into()
}

/// Every string inside a sensitive part of a value, to keep them out of messages.
fn sensitive_strings(value: &Value) -> Vec<String> {
    fn walk(value: &Value, inside: bool, out: &mut Vec<String>) {
        match value {
            Value::Sensitive(inner) => walk(inner, true, out),
            Value::String(s) if inside => out.push(s.clone()),
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                items.iter().for_each(|v| walk(v, inside, out))
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().for_each(|v| walk(v, inside, out))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, false, &mut out);
    out
}

/// The connection: the resource's block with the provisioner's own arguments masking it
/// (Terraform merges the two bodies the way override files merge); null when neither exists.
fn connection(
    run: &Arc<Run>,
    provisioning: &Provisioning,
    provisioner: &Provisioner,
    address: &ResourceInstance,
    repetition: &Repetition,
    self_value: &Value,
) -> Result<Value, Diagnostics> {
    let schema = provisioners::connection_schema();
    let evaluate = |body: &crate::config::Body| {
        eval_with_self(run, body, &schema, address, repetition, self_value)
    };
    let base = match &provisioning.connection {
        Some(connection) => Some(evaluate(&connection.body)?),
        None => None,
    };
    let own = match &provisioner.connection {
        Some(connection) => Some(evaluate(&connection.body)?),
        None => None,
    };
    Ok(match (base, own) {
        (None, None) => Value::Null,
        (Some(only), None) | (None, Some(only)) => only,
        (Some(Value::Object(mut base)), Some(Value::Object(own))) => {
            for (name, value) in own {
                if !value.is_null() {
                    base.insert(name, value);
                }
            }
            Value::Object(base)
        }
        (Some(_), Some(own)) => own,
    })
}

/// A provisioner or connection body evaluated with `self` bound to the object.
fn eval_with_self(
    run: &Run,
    body: &crate::config::Body,
    schema: &crate::providers::Block,
    address: &ResourceInstance,
    repetition: &Repetition,
    self_value: &Value,
) -> Result<Value, Diagnostics> {
    run.in_context(
        &address.module,
        repetition,
        Some(self_value.clone()),
        |context| lang::eval_body(body, schema, context),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::provisioner::Connection;
    use crate::diagnostics::SourceFile;

    fn provisioner() -> Provisioner {
        let file = Arc::new(SourceFile::new(
            "main.tf",
            "provisioner \"local-exec\" {}\n",
        ));
        let body = crate::config::Body {
            file: file.clone(),
            body: hcl_edit::structure::Body::new(),
        };
        Provisioner {
            type_name: "local-exec".into(),
            body: body.clone(),
            connection: Some(Connection {
                body,
                span: file.span(0..11),
            }),
            when: When::Create,
            on_failure: OnFailure::Fail,
            span: file.span(0..24),
        }
    }

    #[test]
    fn a_sensitive_configuration_keeps_its_secrets_and_output_out_of_the_error() {
        let config = Value::object([
            (
                "command",
                Value::from("echo s3cr3t; exit 1").mark_sensitive(),
            ),
            ("quiet", Value::Null),
        ]);
        let secrets = sensitive_strings(&config);
        assert_eq!(secrets, vec!["echo s3cr3t; exit 1".to_string()]);
        let error = ProvisionError::new(
            "local-exec provisioner error",
            "Error running command 'echo s3cr3t; exit 1': exit status 1. Output: s3cr3t\n",
        );
        let address = ResourceInstance::parse("terraform_data.x").unwrap();
        let diagnostics = failure(&address, &provisioner(), error, true, &secrets);
        let shown = diagnostics.to_string();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("exit status 1"), "{shown}");
        assert!(shown.contains(SUPPRESSED), "{shown}");
    }
}
