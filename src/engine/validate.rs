//! The validate walk ([`ValidateWalker`], also `strata console`'s): every resource instance's
//! configuration evaluated with unknowns allowed and checked by its provider; nothing is
//! planned, and what a provider would compute is unknown. The console's walk takes each
//! instance's value from the state instead, where the state has one.

use super::eval::{
    evaluate_instance, expand_resource, recorded_object, resource_config, schema_for,
    validate_instance,
};
use super::nodes::{walk_config, Walker};
use super::store::{Repetition, ResourceValues};
use super::{Evaluation, Run};
use crate::addrs::{Resource, ResourceInstance};
use crate::config::{ProviderRef, ResourceConfig};
use crate::diagnostics::Diagnostics;
use crate::graph::ModulePath;
use crate::providers::ResourceSchema;
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The validate walk's resource visits.
pub(super) struct ValidateWalker {
    /// The console's walk: instances the state holds have the state's values.
    pub(super) state_values: bool,
}

/// Validates (or, for the console, evaluates) the configuration; every diagnostic.
pub(super) async fn validate(run: Arc<Run>, walker: ValidateWalker) -> Diagnostics {
    walk_config(&run, Arc::new(walker)).await;
    let diagnostics = run.diagnostics().clone();
    diagnostics
}

impl ValidateWalker {
    /// How this walk evaluates.
    pub(super) const EVALUATION: Evaluation = Evaluation::PARTIAL;
}

#[async_trait::async_trait]
impl Walker for ValidateWalker {
    async fn visit_resource(
        &self,
        run: &Arc<Run>,
        path: &ModulePath,
        resource: &Resource,
    ) -> Result<(), Diagnostics> {
        let Some(config) = resource_config(&run.tree, path, resource) else {
            return Ok(());
        };
        let (provider_ref, schema) = schema_for(run, config, path)?;
        let module_instances = run.module_instances(path);
        let mut diagnostics = Diagnostics::new();
        for info in &module_instances {
            let (expansion, repetitions) = match expand_resource(run, config, info) {
                Ok(x) => x,
                Err(d) => {
                    diagnostics.extend(d);
                    continue;
                }
            };
            let mut values = BTreeMap::new();
            for repetition in repetitions {
                let address = ResourceInstance {
                    module: info.instance.clone(),
                    resource: resource.clone(),
                    key: repetition.key(),
                };
                let instance = (config, &provider_ref, &schema);
                let value = self
                    .instance_value(run, instance, &address, &repetition, &mut diagnostics)
                    .await;
                if let Some(value) = value {
                    values.insert(address.key.clone(), value);
                }
            }
            let values = ResourceValues {
                expansion,
                instances: values,
                // Validation does not know how many instances there will be.
                unknown: config.count.is_some() || config.for_each.is_some(),
            };
            run.store_mut()
                .resources
                .insert((info.instance.clone(), resource.clone()), values);
        }
        diagnostics.into_result(())
    }
}

impl ValidateWalker {
    /// One instance's configuration evaluated and validated; its value as downstream
    /// expressions see it (`None` when it does not evaluate or validate).
    async fn instance_value(
        &self,
        run: &Run,
        (config, provider_ref, schema): (&ResourceConfig, &ProviderRef, &ResourceSchema),
        address: &ResourceInstance,
        repetition: &Repetition,
        diagnostics: &mut Diagnostics,
    ) -> Option<Value> {
        let config_value =
            evaluate_instance(run, config, schema, address, repetition, diagnostics)?;
        if self.state_values {
            // The console shows what the state holds.
            let recorded = recorded_object(run, address, schema).map(|object| object.value);
            if recorded.is_some() {
                return recorded;
            }
        } else {
            let validation =
                validate_instance(run, address, config, provider_ref, &config_value).await;
            if validation.has_errors() {
                diagnostics.extend(validation);
                return None;
            }
            if !validation.is_empty() {
                run.error(validation);
            }
        }
        // What the provider will compute is unknown.
        Some(crate::providers::default_plan(&schema.block, None, &config_value).planned)
    }
}
