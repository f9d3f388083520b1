//! The built-in `terraform` provider: `terraform_data`, exactly as Terraform has it, so the same
//! configuration runs on both tools.
//!
//! `terraform_data` stores `input` and, after apply, copies it to `output`; a change to
//! `triggers_replace` replaces it. Its `id` is a random UUID.
//!
//! The `terraform_remote_state` data source reads another configuration's root outputs from
//! its backend (`backend = "s3"` or `"local"`, `config = { ... }` as that configuration's
//! backend block has it, `workspace`), with `defaults` for outputs it does not have; sensitive
//! outputs stay sensitive.

use super::schema::{Attribute, Block, ProviderSchema, ResourceSchema};
use super::{ApplyRequest, ObjectState, PlanRequest, PlannedChange, Provider, ProviderError};
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use std::sync::Arc;

/// The `terraform` provider.
pub struct TerraformProvider {
    schema: Arc<ProviderSchema>,
}

impl TerraformProvider {
    pub fn new() -> TerraformProvider {
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            "terraform_data".into(),
            ResourceSchema {
                version: 0,
                block: Block::new()
                    .attr("id", Attribute::computed(Type::String))
                    .attr("input", Attribute::optional(Type::Any))
                    .attr("output", Attribute::computed(Type::Any))
                    .attr("triggers_replace", Attribute::optional(Type::Any)),
            },
        );
        schema.data_sources.insert(
            "terraform_remote_state".into(),
            ResourceSchema {
                version: 0,
                block: Block::new()
                    .attr("backend", Attribute::required(Type::String))
                    .attr("config", Attribute::optional(Type::Any))
                    .attr("defaults", Attribute::optional(Type::Any))
                    .attr("workspace", Attribute::optional(Type::String))
                    .attr("outputs", Attribute::computed(Type::Any)),
            },
        );
        TerraformProvider {
            schema: Arc::new(schema),
        }
    }
}

impl Default for TerraformProvider {
    fn default() -> Self {
        TerraformProvider::new()
    }
}

fn unsupported(type_name: &str) -> ProviderError {
    ProviderError::new(
        format!("unsupported resource type `{type_name}`"),
        "the terraform provider has only `terraform_data`",
    )
}

#[async_trait]
impl Provider for TerraformProvider {
    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }

    async fn configure(&self, _config: &Value) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn plan_resource(
        &self,
        request: PlanRequest<'_>,
    ) -> Result<PlannedChange, ProviderError> {
        if request.type_name != "terraform_data" {
            return Err(unsupported(request.type_name));
        }
        let input = request
            .config
            .get_attr("input")
            .cloned()
            .unwrap_or(Value::Null);
        let triggers = request
            .config
            .get_attr("triggers_replace")
            .cloned()
            .unwrap_or(Value::Null);
        let mut requires_replace = Vec::new();
        let (id, output) = match request.prior {
            None => (Value::Unknown(Type::String), unknown_like(&input)),
            Some(prior) => {
                let prior_triggers = prior.get_attr("triggers_replace").unwrap_or(&Value::Null);
                if triggers.equals(prior_triggers) != Some(true) {
                    requires_replace.push(AttrPath::attr("triggers_replace"));
                }
                let prior_input = prior.get_attr("input").unwrap_or(&Value::Null);
                let output =
                    if input.equals(prior_input) == Some(true) && requires_replace.is_empty() {
                        prior.get_attr("output").cloned().unwrap_or(Value::Null)
                    } else {
                        unknown_like(&input)
                    };
                let id = if requires_replace.is_empty() {
                    prior
                        .get_attr("id")
                        .cloned()
                        .unwrap_or(Value::Unknown(Type::String))
                } else {
                    Value::Unknown(Type::String)
                };
                (id, output)
            }
        };
        let planned = Value::object([
            ("id", id),
            ("input", input),
            ("output", output),
            ("triggers_replace", triggers),
        ]);
        Ok(PlannedChange::new(planned, requires_replace))
    }

    async fn apply_resource(&self, request: ApplyRequest) -> Result<Option<Value>, ProviderError> {
        if request.type_name != "terraform_data" {
            return Err(unsupported(&request.type_name));
        }
        let Some(planned) = request.planned else {
            return Ok(None);
        };
        let input = request
            .config
            .get_attr("input")
            .cloned()
            .unwrap_or(Value::Null);
        let id = match planned.get_attr("id") {
            Some(Value::String(id)) => id.clone(),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        Ok(Some(Value::object([
            ("id", Value::String(id)),
            ("input", input.clone()),
            // Marks come from the configuration's paths only, as in Terraform: the copy in
            // `output` is not sensitive in state (Terraform records only `input`'s paths).
            ("output", input.deep_unmark().0),
            (
                "triggers_replace",
                request
                    .config
                    .get_attr("triggers_replace")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
        ])))
    }

    async fn read_resource(
        &self,
        _type_name: &str,
        current: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        Ok(Some(current.clone()))
    }

    /// What was recorded, read back as it is (private data included): one copy per object,
    /// where the default's `read_resources` made two.
    async fn refresh_resources(
        &self,
        _type_name: &str,
        current: &[ObjectState],
    ) -> Vec<Result<Option<ObjectState>, ProviderError>> {
        current
            .iter()
            .map(|object| Ok(Some(object.clone())))
            .collect()
    }

    async fn import_resource(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        if type_name != "terraform_data" {
            return Err(unsupported(type_name));
        }
        Ok(Value::object([
            ("id", Value::from(id)),
            ("input", Value::Null),
            ("output", Value::Null),
            ("triggers_replace", Value::Null),
        ]))
    }

    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        if type_name != "terraform_remote_state" {
            return Err(ProviderError::new(
                format!("unsupported data source `{type_name}`"),
                "the terraform provider has one data source: `terraform_remote_state`",
            ));
        }
        read_remote_state(config).await
    }
}

/// `terraform_remote_state`: the outputs of the named backend's state in `workspace`.
async fn read_remote_state(config: &Value) -> Result<Value, ProviderError> {
    let backend_type = config
        .get_attr("backend")
        .and_then(Value::as_str)
        .unwrap_or("local")
        .to_string();
    let settings: std::collections::BTreeMap<String, Value> =
        match config.get_attr("config").map(Value::unmarked) {
            Some(Value::Object(entries)) | Some(Value::Map(entries)) => entries.clone(),
            None | Some(Value::Null) => Default::default(),
            Some(_) => {
                return Err(ProviderError::new(
                    "invalid terraform_remote_state config",
                    "`config` must be an object of the backend's settings, as in its backend block",
                ))
            }
        };
    let workspace = config
        .get_attr("workspace")
        .and_then(Value::as_str)
        .unwrap_or(crate::state::DEFAULT_WORKSPACE)
        .to_string();
    let failed = |error: crate::state::StateError| {
        ProviderError::new(
            format!("reading the remote state ({backend_type} backend)"),
            error.to_string(),
        )
    };
    let backend = crate::state::configure::open_sealed_backend_of_type(
        &backend_type,
        &settings,
        std::path::Path::new("."),
        crate::encryption::remote_state_sealer(),
    )
    .await
    .map_err(failed)?;
    let state = backend.load(&workspace).await.map_err(failed)?;
    let mut outputs = match config.get_attr("defaults").map(Value::unmarked) {
        Some(Value::Object(entries)) | Some(Value::Map(entries)) => entries.clone(),
        _ => Default::default(),
    };
    for (name, output) in state.outputs {
        outputs.insert(name, output.value.mark_if(output.sensitive));
    }
    let mut value = config.clone();
    if let Value::Object(attributes) = &mut value {
        attributes.insert("outputs".into(), Value::Object(outputs));
        attributes.entry("workspace".into()).and_modify(|w| {
            if w.is_null() {
                *w = Value::from(workspace.as_str());
            }
        });
    }
    Ok(value)
}

/// Unknown, of the input's type (null input stays null: the output will be null too).
fn unknown_like(input: &Value) -> Value {
    if input.is_null() {
        Value::Null
    } else {
        Value::Unknown(input.type_of())
    }
}
