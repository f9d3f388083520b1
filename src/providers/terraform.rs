//! The built-in `terraform` provider: `terraform_data`, exactly as Terraform has it, so the same
//! configuration runs on both tools.
//!
//! `terraform_data` stores `input` and, after apply, copies it to `output`; a change to
//! `triggers_replace` replaces it. Its `id` is a random UUID.

use super::schema::{Attribute, Block, ProviderSchema, ResourceSchema};
use super::{ApplyRequest, PlanRequest, PlannedChange, Provider, ProviderError};
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
        Ok(PlannedChange {
            planned: Value::object([
                ("id", id),
                ("input", input),
                ("output", output),
                ("triggers_replace", triggers),
            ]),
            requires_replace,
        })
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
            ("output", input),
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
        _config: &Value,
    ) -> Result<Value, ProviderError> {
        Err(ProviderError::new(
            format!("unsupported data source `{type_name}`"),
            "the terraform provider has no data sources (use `terraform_remote_state` later)",
        ))
    }
}

/// Unknown, of the input's type (null input stays null: the output will be null too).
fn unknown_like(input: &Value) -> Value {
    if input.is_null() {
        Value::Null
    } else {
        Value::Unknown(input.type_of()).mark_if(input.contains_sensitive())
    }
}
