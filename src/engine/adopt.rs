//! Creates an interrupted run left pending (issue 12): resolved before planning, so the next
//! run simply finishes the job.
//!
//! A create is recorded as an intent with its idempotency token before the provider is called
//! (`StateChange::CreateStarted`). When a run dies during the call, the next plan asks the
//! provider for the object that token made ([`Provider::find_created`], after the refresh, so
//! only recorded objects are refreshed):
//! - found: the object is adopted into state, planned like an imported one (the apply records
//!   it first), and the output says `<address>: Adopted the object an interrupted run created`;
//! - nothing made: the intent is dropped (the plan creates the instance anew);
//! - the provider cannot tell before creating again (a client token, or a unique name checked
//!   against the intent's tag): the intent stays and the create reuses its token.
//!
//! The intent keeps what the create asked for (`PendingCreate::planned`), and the provider
//! finishes a found object on it: what a read cannot see (an RDS instance's
//! `skip_final_snapshot`, a password) is recorded as the create would have recorded it, so even
//! a `destroy` as the next command deletes it as configured.
//!
//! Once an apply has saved the state, [`forget_intents`] asks the provider to remove what it
//! marked the objects it created or adopted with (the AWS provider's `strata:intent` tag), so
//! nothing of it shows to another tool.

use super::eval::{mark_sensitive_attributes, resource_config};
use super::provider_diagnostics::encode_private;
use super::{parse_provider_address, Event, Run, RunContext};
use crate::addrs::{ResourceInstance, ResourceMode};
use crate::config::ProviderRef;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::plan::{Action, Plan};
use crate::providers::{FoundCreate, ObjectState, Provider};
use crate::state::{InstanceObject, ObjectStatus, PendingCreate, State};
use std::sync::Arc;

/// The message printed for an adopted object (the chaos test counts it).
pub const ADOPTED: &str = "Adopted the object an interrupted run created";
/// The message printed for a dropped intent.
pub const DROPPED: &str = "An interrupted create made nothing; its intent is dropped";

/// Resolves the pending creates of resources `provider_ref` manages.
pub(super) async fn resolve(run: &Arc<Run>, provider_ref: &ProviderRef) -> Result<(), Diagnostics> {
    let Some(provider) = run.provider(provider_ref) else {
        return Ok(());
    };
    let pending: Vec<(ResourceInstance, PendingCreate)> = {
        let state = run.state();
        state
            .pending_creates
            .iter()
            .filter(|(address, _)| owner(run, address) == *provider_ref)
            .map(|(address, create)| (address.clone(), create.clone()))
            .collect()
    };
    let mut diagnostics = Diagnostics::new();
    for (address, create) in pending {
        let found = {
            let _permit = run.semaphore.acquire().await;
            let type_name = &address.resource.type_name;
            provider
                .find_created(type_name, &create.token, &create.planned)
                .await
        };
        match found {
            Ok(FoundCreate::Found(object)) => {
                adopt(run, provider_ref, provider.as_ref(), &address, object)
            }
            Ok(FoundCreate::NotFound) => {
                let mut state = run.state();
                state.pending_creates.remove(&address);
                run.events.event(Event::Message {
                    address: address.clone(),
                    message: DROPPED.into(),
                });
            }
            Ok(FoundCreate::Unsupported) => {}
            Err(error) => diagnostics.push(
                Diagnostic::error(format!(
                    "Failed to look for the object the interrupted create of {address} made"
                ))
                .with_detail(format!(
                    "{error}. The intent stays recorded: run the command again once the provider answers."
                )),
            ),
        }
    }
    diagnostics.into_result(())
}

/// The provider configuration that manages `address`: its configuration's, or the default
/// one of its type's provider when the configuration no longer has it.
fn owner(run: &RunContext, address: &ResourceInstance) -> ProviderRef {
    let path = address.module.module_path();
    match resource_config(&run.tree, &path, &address.resource) {
        Some(config) => crate::graph::resolve_provider(&run.tree, &path, &config.provider),
        None => ProviderRef {
            name: address
                .resource
                .type_name
                .split('_')
                .next()
                .unwrap_or_default()
                .to_string(),
            alias: None,
        },
    }
}

/// Puts a found object into the working state in place of its intent, marked as imported so
/// the plan shows it and the apply records it before anything else.
fn adopt(
    run: &Run,
    provider_ref: &ProviderRef,
    provider: &dyn Provider,
    address: &ResourceInstance,
    found: ObjectState,
) {
    let schema = provider.schema();
    let Some(resource) = schema.resources.get(&address.resource.type_name) else {
        return;
    };
    let id = found
        .value
        .get_attr("id")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let path = address.module.module_path();
    let create_before_destroy = resource_config(&run.tree, &path, &address.resource)
        .is_some_and(|c| c.lifecycle.create_before_destroy);
    let object = InstanceObject {
        value: mark_sensitive_attributes(&resource.block, found.value),
        provider: run.provider_address(provider_ref),
        schema_version: resource.version,
        dependencies: Vec::new(),
        create_before_destroy,
        status: ObjectStatus::Ready,
        private: encode_private(&found.private),
    };
    {
        let mut state = run.state();
        state.pending_creates.remove(address);
        state.resources.insert(address.clone(), object);
    }
    run.refactoring()
        .imported
        .insert(address.clone(), id.clone());
    run.events.event(Event::Message {
        address: address.clone(),
        message: format!("{ADOPTED} [id={id}]"),
    });
}

/// After an apply saved `state`: removes the marks of every object the plan created or
/// imported (adopted ones are planned as imports). Best effort: a mark left behind is removed
/// by the next apply's refresh (a plan's changes nothing).
pub(super) async fn forget_intents(run: &Run, plan: &Plan, state: &State) {
    for change in &plan.changes {
        let created = matches!(
            change.action,
            Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
        );
        if !(created || change.importing.is_some())
            || change.address.resource.mode != ResourceMode::Managed
        {
            continue;
        }
        let Some(object) = state.resources.get(&change.address) else {
            continue;
        };
        // Only a provider this walk configured (one whose node a failed walk never reached
        // is left alone: the next refresh removes the mark).
        let provider = parse_provider_address(&run.registry, &object.provider)
            .filter(|provider_ref| run.is_configured(provider_ref))
            .and_then(|provider_ref| run.provider(&provider_ref));
        let Some(provider) = provider else {
            continue;
        };
        let (value, _) = object.value.clone().deep_unmark();
        if let Err(error) = provider
            .forget_intent(&change.address.resource.type_name, &value)
            .await
        {
            tracing::warn!(address = %change.address, %error, "could not remove a create's mark");
        }
    }
}
