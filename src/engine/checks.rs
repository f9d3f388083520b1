//! `check` blocks: assertions about the infrastructure as a whole that never block a plan or an
//! apply. After each plan and each apply, every `assert` of every check block (in every
//! instance of its module) is evaluated with what the walk knows; a false one is a warning
//! carrying its `error_message`, and an error evaluating one is a warning too. An assertion
//! that depends on values not known until apply is skipped at plan time and checked after
//! the apply, as Terraform does. A scoped `data` block inside a check is read first (when its
//! configuration is known) and only its check's assertions see it; failing to read it is a
//! warning as well.

use super::store::{Expansion, Repetition, ResourceValues};
use super::Run;
use crate::addrs::{InstanceKey, ModuleInstance};
use crate::config::ResourceConfig;
use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use std::collections::BTreeMap;

/// The warnings of every check block, in configuration order.
pub(super) async fn evaluate(run: &Run) -> Diagnostics {
    let mut warnings = Diagnostics::new();
    for (path, module) in run.tree.modules() {
        if module.checks.is_empty() {
            continue;
        }
        let instances = run.store().instances_of(&path);
        for check in &module.checks {
            for info in &instances {
                if let Some(data) = &check.data {
                    match read_scoped_data(run, data, &path, &info.instance).await {
                        Ok(true) => {}
                        // Not known until apply: checked then.
                        Ok(false) => continue,
                        Err(diagnostics) => {
                            warnings.extend(as_warnings(&check.name, diagnostics));
                            continue;
                        }
                    }
                }
                for assert in &check.asserts {
                    let result = super::eval::check_condition(
                        run,
                        assert,
                        &info.instance,
                        &Repetition::None,
                        None,
                        "Check block assertion failed",
                    );
                    if let Err(diagnostics) = result {
                        warnings.extend(as_warnings(&check.name, diagnostics));
                    }
                }
            }
        }
    }
    warnings
}

/// A check's errors as warnings, named after the check unless they are the failed assertion.
fn as_warnings(check: &str, diagnostics: Diagnostics) -> Diagnostics {
    let mut out = Diagnostics::new();
    for mut diagnostic in diagnostics {
        diagnostic.severity = Severity::Warning;
        if diagnostic.summary != "Check block assertion failed" {
            diagnostic.summary = format!("Check block \"{check}\": {}", diagnostic.summary);
        }
        out.push(diagnostic);
    }
    out
}

/// Reads a check's scoped data source into the walk's store; `Ok(false)` when its
/// configuration is not known yet, or its provider was not configured in this walk.
async fn read_scoped_data(
    run: &Run,
    data: &ResourceConfig,
    path: &crate::graph::ModulePath,
    instance: &ModuleInstance,
) -> Result<bool, Diagnostics> {
    let (provider_ref, schema) = super::eval::schema_for(run, data, path)?;
    let config = run.eval_body(&data.body, &schema.block, instance, &Repetition::None)?;
    if !config.is_wholly_known() {
        return Ok(false);
    }
    let Some(provider) = run.provider(&provider_ref) else {
        return Err(Diagnostic::error(format!(
            "provider \"{}\" is not configured",
            provider_ref.name
        ))
        .with_span(data.span.clone())
        .into());
    };
    if !run.is_configured(&provider_ref) {
        // A provider this walk never configured (`-target` left it out): the targeted run does
        // not reach this check, which is not evaluated.
        return Ok(false);
    }
    let value = {
        let _permit = run.semaphore.acquire().await;
        provider
            .read_data_source(&data.addr.type_name, &config)
            .await
            .map_err(|error| {
                Diagnostics::from(
                    Diagnostic::error(format!("{}: {}", data.addr, error.summary))
                        .with_detail(error.detail)
                        .with_span(data.span.clone()),
                )
            })?
    };
    run.store_mut().resources.insert(
        (instance.clone(), data.addr.clone()),
        ResourceValues {
            expansion: Expansion::Single,
            instances: BTreeMap::from([(InstanceKey::None, value)]),
            unknown: false,
        },
    );
    Ok(true)
}
