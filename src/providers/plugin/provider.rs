//! [`PluginProvider`]: a Terraform provider plugin as a [`Provider`], calling it the way
//! Terraform 1.15 does.
//!
//! - Values cross the wire in cty's msgpack encoding of the schema's type
//!   ([`crate::value::msgpack`]); sensitive marks are stripped on the way out and put back on
//!   what returns (the configuration's and prior state's marks, and the schema's).
//! - Configure: `ValidateProviderConfig` (v5 `PrepareProviderConfig`, whose prepared
//!   configuration is what gets configured), then `ConfigureProvider` with Terraform's version.
//! - Plan: Terraform's proposed new object ([`super::objchange`]), then `PlanResourceChange`;
//!   its `requires_replace` paths make the change a replacement. The plan is checked against
//!   the configuration and an applied object against its plan ([`super::consistency`]): for a
//!   provider declaring the legacy type system (SDKv2) the problems are logged as warnings, for
//!   any other they are errors naming the provider, as Terraform has it.
//! - Import may return several objects (a resource and its parts): the one of the requested
//!   type is taken, as Terraform does.
//! - Diagnostics become [`ProviderError`]s (a list: the first error carries the others), with
//!   the attribute path they name, which the engine turns into the configuration line.
//!
//! The process is started on first use, or is the one that answered the schema while the
//! registry was built (handed over to the first instance), and stopped by [`Provider::close`].

use super::client::{PluginClient, PluginError};
use super::launch::LaunchSpec;
use super::proto::{self, attribute_path::step::Selector, DynamicValue};
use super::{consistency, objchange, schema};
use crate::providers::{
    ApplyRequest, ObjectState, PlanRequest, PlannedChange, Provider, ProviderError, ProviderSchema,
};
use crate::value::{msgpack, AttrPath, PathStep, Type, Value};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{RwLock, RwLockReadGuard};

/// The Terraform version a plugin is told it is configured by.
pub const TERRAFORM_VERSION: &str = crate::TERRAFORM_VERSION_COMPAT;

/// What loading a plugin's schema gives: the schema both ways and the process that answered.
pub struct LoadedPlugin {
    pub schema: Arc<ProviderSchema>,
    pub wire_schema: Arc<proto::GetProviderSchemaResponse>,
    pub client: PluginClient,
}

/// Starts a plugin and asks for its schema.
pub async fn load(spec: LaunchSpec) -> Result<LoadedPlugin, ProviderError> {
    let client = PluginClient::launch(spec.clone())
        .await
        .map_err(plugin_error)?;
    let response = client.get_provider_schema().await.map_err(plugin_error)?;
    if let Some(error) = ProviderError::from_list(diagnostics(&response.diagnostics)) {
        let _ = client.close().await;
        return Err(error);
    }
    let converted = match schema::convert(&response) {
        Ok(converted) => converted,
        Err(error) => {
            let _ = client.close().await;
            return Err(ProviderError::new(
                format!("the schema of provider `{}` cannot be used", spec.provider),
                error.to_string(),
            ));
        }
    };
    Ok(LoadedPlugin {
        schema: Arc::new(converted),
        wire_schema: Arc::new(response),
        client,
    })
}

/// A process that answered the schema, waiting to serve the first configuration.
pub type SpareClient = Arc<Mutex<Option<PluginClient>>>;

/// One provider configuration served by a plugin process.
pub struct PluginProvider {
    spec: LaunchSpec,
    schema: Arc<ProviderSchema>,
    wire_schema: Arc<proto::GetProviderSchemaResponse>,
    spare: SpareClient,
    client: RwLock<Option<PluginClient>>,
    /// The configuration last sent, so a second walk of the same command does not configure
    /// the process again.
    configured: tokio::sync::Mutex<Option<Value>>,
}

impl PluginProvider {
    pub fn new(
        spec: LaunchSpec,
        schema: Arc<ProviderSchema>,
        wire_schema: Arc<proto::GetProviderSchemaResponse>,
        spare: SpareClient,
    ) -> PluginProvider {
        PluginProvider {
            spec,
            schema,
            wire_schema,
            spare,
            client: RwLock::new(None),
            configured: tokio::sync::Mutex::new(None),
        }
    }

    /// The running process, started (or taken from the spare) on first use.
    async fn client(&self) -> Result<RwLockReadGuard<'_, PluginClient>, ProviderError> {
        {
            let guard = self.client.read().await;
            if let Ok(client) = RwLockReadGuard::try_map(guard, Option::as_ref) {
                return Ok(client);
            }
        }
        let mut slot = self.client.write().await;
        if slot.is_none() {
            let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).take();
            let client = match spare {
                Some(client) => client,
                None => PluginClient::launch(self.spec.clone())
                    .await
                    .map_err(plugin_error)?,
            };
            *slot = Some(client);
        }
        let guard = slot.downgrade();
        RwLockReadGuard::try_map(guard, Option::as_ref)
            .map_err(|_| ProviderError::new("the plugin process is not running", ""))
    }

    fn resource(&self, type_name: &str) -> Result<(&proto::Schema, Type), ProviderError> {
        let wire = self.wire_schema.resource_schemas.get(type_name);
        let strata = self.schema.resources.get(type_name);
        match (wire, strata) {
            (Some(wire), Some(strata)) => Ok((wire, strata.block.value_type())),
            _ => Err(unsupported("resource type", type_name, &self.spec.provider)),
        }
    }

    /// UpgradeResourceState with a raw state (JSON or flatmap): the object under the current
    /// schema.
    async fn upgrade(
        &self,
        type_name: &str,
        version: u64,
        raw_state: proto::RawState,
    ) -> Result<Value, ProviderError> {
        let (_, ty) = self.resource(type_name)?;
        let request = proto::UpgradeResourceStateRequest {
            type_name: type_name.to_string(),
            version: i64::try_from(version).unwrap_or(i64::MAX),
            raw_state: Some(raw_state),
        };
        let client = self.client().await?;
        let response = client
            .upgrade_resource_state(request)
            .await
            .map_err(plugin_error)?;
        check(&response.diagnostics)?;
        decode(response.upgraded_state.as_ref(), &ty)
    }

    /// Problems with an answer: warnings in the log for a legacy-SDK provider (which Terraform
    /// tolerates), else one error naming the provider and every problem.
    fn judge(
        &self,
        problems: Vec<String>,
        legacy_type_system: bool,
        summary: &str,
        what: &str,
    ) -> Result<(), ProviderError> {
        if problems.is_empty() {
            return Ok(());
        }
        let provider = &self.spec.provider;
        if legacy_type_system {
            tracing::warn!(
                "Provider \"{provider}\" {what}, but we are tolerating it because it is using the legacy plugin SDK. The following problems may be the cause of any confusing errors from downstream operations:\n      - {}",
                problems.join("\n      - ")
            );
            return Ok(());
        }
        Err(ProviderError::new(
            summary,
            format!(
                "Provider \"{provider}\" {what}: {}.\n\nThis is a bug in the provider, which should be reported in the provider's own issue tracker.",
                problems.join("; ")
            ),
        ))
    }

    fn data_source_type(&self, type_name: &str) -> Result<Type, ProviderError> {
        self.schema
            .data_sources
            .get(type_name)
            .map(|schema| schema.block.value_type())
            .ok_or_else(|| unsupported("data source", type_name, &self.spec.provider))
    }

    fn block(&self, type_name: &str) -> Option<&crate::providers::Block> {
        self.schema.resources.get(type_name).map(|s| &s.block)
    }

    async fn read_one(
        &self,
        type_name: &str,
        current: &ObjectState,
    ) -> Result<Option<ObjectState>, ProviderError> {
        let (_, ty) = self.resource(type_name)?;
        let (plain, marks) = current.value.clone().deep_unmark();
        let request = proto::ReadResourceRequest {
            type_name: type_name.to_string(),
            current_state: Some(encode(&plain, &ty)?),
            private: current.private.clone(),
            client_capabilities: Some(proto::ClientCapabilities::default()),
            ..Default::default()
        };
        let client = self.client().await?;
        let response = client.read_resource(request).await.map_err(plugin_error)?;
        check(&response.diagnostics)?;
        let value = decode(response.new_state.as_ref(), &ty)?;
        if value.is_null() {
            return Ok(None);
        }
        Ok(Some(ObjectState {
            value: self.remark(type_name, value, &marks),
            private: response.private,
        }))
    }

    /// Puts back the marks a value had before it crossed the wire, and the schema's.
    fn remark(&self, type_name: &str, value: Value, marks: &[AttrPath]) -> Value {
        let value = value.mark_paths(marks);
        match self.block(type_name) {
            Some(block) => block.mark_sensitive(value),
            None => value,
        }
    }

    /// The provider configuration as the plugin expects it: an object even when no `provider`
    /// block was written.
    fn provider_config(&self, config: &Value) -> Result<DynamicValue, ProviderError> {
        let block = &self.schema.provider;
        let config = if config.is_null() {
            block.empty_value()
        } else {
            config.clone()
        };
        encode(&config, &block.value_type())
    }
}

#[async_trait]
impl Provider for PluginProvider {
    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        let mut configured = self.configured.lock().await;
        if configured.as_ref() == Some(config) {
            return Ok(());
        }
        let encoded = self.provider_config(config)?;
        let client = self.client().await?;
        let (prepared, found) = client
            .validate_provider_config(encoded.clone())
            .await
            .map_err(plugin_error)?;
        check(&found)?;
        let to_configure = prepared
            .filter(|p| !p.msgpack.is_empty() || !p.json.is_empty())
            .unwrap_or(encoded);
        let found = client
            .configure_provider(TERRAFORM_VERSION, to_configure)
            .await
            .map_err(plugin_error)?;
        check(&found)?;
        *configured = Some(config.clone());
        Ok(())
    }

    async fn validate_resource(&self, type_name: &str, config: &Value) -> Vec<ProviderError> {
        let result: Result<Vec<ProviderError>, ProviderError> = async {
            let (_, ty) = self.resource(type_name)?;
            let request = proto::ValidateResourceConfigRequest {
                type_name: type_name.to_string(),
                config: Some(encode(config, &ty)?),
                client_capabilities: Some(proto::ClientCapabilities::default()),
            };
            let client = self.client().await?;
            let response = client
                .validate_resource_config(request)
                .await
                .map_err(plugin_error)?;
            Ok(diagnostics(&response.diagnostics))
        }
        .await;
        result.unwrap_or_else(|error| vec![error])
    }

    async fn validate_data_source(&self, type_name: &str, config: &Value) -> Vec<ProviderError> {
        let result: Result<Vec<ProviderError>, ProviderError> = async {
            let ty = self.data_source_type(type_name)?;
            let request = proto::ValidateDataResourceConfigRequest {
                type_name: type_name.to_string(),
                config: Some(encode(config, &ty)?),
            };
            let client = self.client().await?;
            let response = client
                .validate_data_resource_config(request)
                .await
                .map_err(plugin_error)?;
            Ok(diagnostics(&response.diagnostics))
        }
        .await;
        result.unwrap_or_else(|error| vec![error])
    }

    async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: u64,
        prior: &Value,
    ) -> Result<Value, ProviderError> {
        let json = crate::value::value_to_json(prior).map_err(|error| {
            ProviderError::new(
                format!("the recorded state of a {type_name} cannot be sent to the provider"),
                error.to_string(),
            )
        })?;
        let raw_state = proto::RawState {
            json: serde_json::to_vec(&json).unwrap_or_default(),
            ..Default::default()
        };
        self.upgrade(type_name, version, raw_state).await
    }

    async fn upgrade_flatmap_state(
        &self,
        type_name: &str,
        version: u64,
        flatmap: &BTreeMap<String, String>,
    ) -> Result<Value, ProviderError> {
        let raw_state = proto::RawState {
            flatmap: flatmap.clone(),
            ..Default::default()
        };
        self.upgrade(type_name, version, raw_state).await
    }

    async fn plan_resource(
        &self,
        request: PlanRequest<'_>,
    ) -> Result<PlannedChange, ProviderError> {
        let (wire, ty) = self.resource(request.type_name)?;
        let (config, config_marks) = request.config.clone().deep_unmark();
        let (prior, prior_marks) = request.prior.cloned().unwrap_or(Value::Null).deep_unmark();
        let default_block = proto::schema::Block::default();
        let block = wire.block.as_ref().unwrap_or(&default_block);
        let proposed = objchange::proposed_new(block, &prior, &config);
        let wire_request = proto::PlanResourceChangeRequest {
            type_name: request.type_name.to_string(),
            prior_state: Some(encode(&prior, &ty)?),
            proposed_new_state: Some(encode(&proposed, &ty)?),
            config: Some(encode(&config, &ty)?),
            prior_private: request.prior_private.to_vec(),
            client_capabilities: Some(proto::ClientCapabilities::default()),
            ..Default::default()
        };
        let client = self.client().await?;
        let response = client
            .plan_resource_change(wire_request)
            .await
            .map_err(plugin_error)?;
        let found = diagnostics(&response.diagnostics);
        if let Some(error) = ProviderError::from_list(found.clone()) {
            return Err(error);
        }
        let planned = decode(response.planned_state.as_ref(), &ty)?;
        if let Some(strata) = self.schema.resources.get(request.type_name) {
            let problems = consistency::plan_problems(&strata.block, &config, &planned);
            self.judge(
                problems,
                response.legacy_type_system,
                "Provider produced invalid plan",
                &format!("planned an invalid value for {}", request.type_name),
            )?;
        }
        let planned = self.remark(
            request.type_name,
            planned.mark_paths(&prior_marks),
            &config_marks,
        );
        let requires_replace = if request.prior.is_none() {
            Vec::new()
        } else {
            response.requires_replace.iter().map(attr_path).collect()
        };
        Ok(PlannedChange {
            planned,
            requires_replace,
            private: response.planned_private,
            warnings: found,
        })
    }

    async fn apply_resource(&self, request: ApplyRequest) -> Result<Option<Value>, ProviderError> {
        Ok(self.apply(request).await?.map(|object| object.value))
    }

    async fn apply(&self, request: ApplyRequest) -> Result<Option<ObjectState>, ProviderError> {
        let (_, ty) = self.resource(&request.type_name)?;
        let (prior, _) = request.prior.clone().unwrap_or(Value::Null).deep_unmark();
        let (planned, planned_marks) = request.planned.clone().unwrap_or(Value::Null).deep_unmark();
        let (config, _) = request.config.clone().deep_unmark();
        let wire_request = proto::ApplyResourceChangeRequest {
            type_name: request.type_name.clone(),
            prior_state: Some(encode(&prior, &ty)?),
            planned_state: Some(encode(&planned, &ty)?),
            config: Some(encode(&config, &ty)?),
            planned_private: request.planned_private.clone(),
            ..Default::default()
        };
        let client = self.client().await?;
        let response = client
            .apply_resource_change(wire_request)
            .await
            .map_err(plugin_error)?;
        let new_state = decode(response.new_state.as_ref(), &ty)?;
        if let Some(mut error) = ProviderError::from_list(diagnostics(&response.diagnostics)) {
            // What the provider reports as made despite the error is kept (tainted on a create).
            if !new_state.is_null() && request.planned.is_some() {
                error = error.with_partial_state(new_state.mark_paths(&planned_marks));
            }
            return Err(error);
        }
        if new_state.is_null() {
            return Ok(None);
        }
        if !planned.is_null() {
            self.judge(
                consistency::apply_problems(&planned, &new_state),
                response.legacy_type_system,
                "Provider produced inconsistent result after apply",
                &format!(
                    "produced an unexpected new value for {} when applying changes",
                    request.type_name
                ),
            )
            // What the provider made is kept, as Terraform keeps it.
            .map_err(|error| {
                error.with_partial_state(new_state.clone().mark_paths(&planned_marks))
            })?;
        }
        Ok(Some(ObjectState {
            value: self.remark(&request.type_name, new_state, &planned_marks),
            private: response.private,
        }))
    }

    async fn read_resource(
        &self,
        type_name: &str,
        current: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        let object = ObjectState::new(current.clone());
        Ok(self.read_one(type_name, &object).await?.map(|o| o.value))
    }

    async fn refresh_resources(
        &self,
        type_name: &str,
        current: &[ObjectState],
    ) -> Vec<Result<Option<ObjectState>, ProviderError>> {
        // One ReadResource per object, all in flight at once over the one connection.
        futures_util::future::join_all(
            current
                .iter()
                .map(|object| self.read_one(type_name, object)),
        )
        .await
    }

    async fn import_resource(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        Ok(self.import(type_name, id).await?.value)
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<ObjectState, ProviderError> {
        let (_, ty) = self.resource(type_name)?;
        let request = proto::ImportResourceStateRequest {
            type_name: type_name.to_string(),
            id: id.to_string(),
            client_capabilities: Some(proto::ClientCapabilities::default()),
            ..Default::default()
        };
        let client = self.client().await?;
        let response = client
            .import_resource_state(request)
            .await
            .map_err(plugin_error)?;
        check(&response.diagnostics)?;
        let imported = response
            .imported_resources
            .into_iter()
            .find(|r| r.type_name == type_name)
            .ok_or_else(|| {
                ProviderError::new(
                    format!("Cannot import non-existent remote object {type_name} `{id}`"),
                    "The provider returned no object of this type for the ID: check that it exists.",
                )
            })?;
        let value = decode(imported.state.as_ref(), &ty)?;
        if value.is_null() {
            return Err(ProviderError::new(
                format!("Cannot import non-existent remote object {type_name} `{id}`"),
                "While attempting to import an existing object, the provider detected that no object exists with the given id.",
            ));
        }
        // Terraform reads an imported object before recording it: the import answer of an
        // SDKv2 provider holds little more than the ID.
        let object = ObjectState {
            value: self.remark(type_name, value, &[]),
            private: imported.private,
        };
        match self.read_one(type_name, &object).await? {
            Some(read) => Ok(read),
            None => Err(ProviderError::new(
                format!("Cannot import non-existent remote object {type_name} `{id}`"),
                "While attempting to import an existing object, the provider detected that no object exists with the given id.",
            )),
        }
    }

    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        let ty = self.data_source_type(type_name)?;
        let (plain, marks) = config.clone().deep_unmark();
        let request = proto::ReadDataSourceRequest {
            type_name: type_name.to_string(),
            config: Some(encode(&plain, &ty)?),
            client_capabilities: Some(proto::ClientCapabilities::default()),
            ..Default::default()
        };
        let client = self.client().await?;
        let response = client
            .read_data_source(request)
            .await
            .map_err(plugin_error)?;
        check(&response.diagnostics)?;
        let value = decode(response.state.as_ref(), &ty)?.mark_paths(&marks);
        Ok(match self.schema.data_sources.get(type_name) {
            Some(schema) => schema.block.mark_sensitive(value),
            None => value,
        })
    }

    async fn close(&self) {
        let client = self.client.write().await.take();
        if let Some(client) = client {
            let _ = client.stop_provider().await;
            if let Err(error) = client.close().await {
                tracing::debug!(provider = %self.spec.provider, %error, "closing the plugin");
            }
        }
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(spare) = spare {
            let _ = spare.close().await;
        }
    }
}

fn unsupported(what: &str, type_name: &str, provider: &str) -> ProviderError {
    ProviderError::new(
        format!("provider `{provider}` has no {what} `{type_name}`"),
        "Check the type name, or the provider version that declares it.",
    )
}

fn plugin_error(error: PluginError) -> ProviderError {
    ProviderError::new(error.to_string(), "")
}

/// A value on the wire.
fn encode(value: &Value, ty: &Type) -> Result<DynamicValue, ProviderError> {
    msgpack::encode(value, ty)
        .map(DynamicValue::msgpack)
        .map_err(|error| {
            ProviderError::new("a value cannot be sent to the provider", error.to_string())
        })
}

/// A value from the wire (msgpack, or JSON from providers that answer so); null when absent.
fn decode(value: Option<&DynamicValue>, ty: &Type) -> Result<Value, ProviderError> {
    let invalid = |error: String| {
        ProviderError::new(
            "the provider returned a value Strata cannot read",
            format!("{error}. This is a bug in the provider."),
        )
    };
    match value {
        Some(value) if !value.msgpack.is_empty() => {
            msgpack::decode(&value.msgpack, ty).map_err(|e| invalid(e.to_string()))
        }
        Some(value) if !value.json.is_empty() => {
            let json: serde_json::Value =
                serde_json::from_slice(&value.json).map_err(|e| invalid(e.to_string()))?;
            crate::value::value_from_cty_json(&json, ty).map_err(|e| invalid(e.to_string()))
        }
        _ => Ok(Value::Null),
    }
}

/// The plugin's diagnostics as provider errors and warnings.
pub fn diagnostics(found: &[proto::Diagnostic]) -> Vec<ProviderError> {
    found
        .iter()
        .map(|diagnostic| {
            let warning = diagnostic.severity == proto::diagnostic::Severity::Warning as i32;
            let mut error = if warning {
                ProviderError::warning(&diagnostic.summary, &diagnostic.detail)
            } else {
                ProviderError::new(&diagnostic.summary, &diagnostic.detail)
            };
            if let Some(path) = &diagnostic.attribute {
                if !path.steps.is_empty() {
                    error = error.on_attribute(attr_path(path));
                }
            }
            error
        })
        .collect()
}

/// `Err` with every error when the diagnostics hold any (warnings alone pass).
fn check(found: &[proto::Diagnostic]) -> Result<(), ProviderError> {
    match ProviderError::from_list(diagnostics(found)) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// A protocol attribute path as Strata's.
pub fn attr_path(path: &proto::AttributePath) -> AttrPath {
    AttrPath(
        path.steps
            .iter()
            .filter_map(|step| match step.selector.as_ref()? {
                Selector::AttributeName(name) => Some(PathStep::Attr(name.clone())),
                Selector::ElementKeyString(key) => Some(PathStep::Key(key.clone())),
                Selector::ElementKeyInt(index) => Some(PathStep::Index(*index)),
            })
            .collect(),
    )
}
