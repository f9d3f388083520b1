//! Instance attributes encoded per their resource type's schema, as Terraform stores them: go-cty's
//! JSON encoding of the schema's object type, so an attribute of type `dynamic` (terraform_data's
//! `input`, `output`, `triggers_replace`; any provider attribute declared `DynamicPseudoType`) is
//! the wrapper `{"value": .., "type": ..}` in the file and the plain value in the model.
//!
//! A state file is read without schemas (the reader cannot know them), so its instances hold
//! attributes as the file has them ("raw"). A command that knows the providers' schemas attaches
//! them ([`State::attach_schemas`]): every instance whose resource type has a schema is decoded
//! into the model's form, and from then on the writer encodes those instances per their schema.
//! A state without schemas attached (`state pull`, `state mv`, …) is written back as read, byte
//! for byte. Schemas are plain data ([`StateSchemas`], built from any provider's
//! [`ProviderSchema`]): this module knows no provider.
//!
//! A command that knows the schemas before it loads the state reads the file with them
//! ([`super::backend::Backend::load_with_schemas`], [`super::format::read_state_with`]): each
//! instance's attributes are then decoded from the file's text straight into the model's form,
//! and the state comes back with the schemas attached, as if [`State::attach_schemas`] had run,
//! without building the schema-less values first.
//!
//! Older Strata versions wrote dynamic attributes bare; such an attribute is taken as it is when
//! it is not a wrapper, and is written in Terraform's form from then on.

use super::format::decode_raw_paths;
use super::{InstanceObject, State};
use crate::addrs::{ResourceInstance, ResourceMode};
use crate::providers::schema::{Block, ProviderSchema};
use crate::value::{
    value_from_cty_json, value_to_cty_json, value_to_json, JsonValueError, Type, Value,
};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The schemas of the resource types a state's instances may have, per provider source address
/// (`registry.terraform.io/hashicorp/aws`), mode and type name: each as its object type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateSchemas {
    types: BTreeMap<(String, ResourceMode, String), Type>,
    /// Each type's current schema version, where known ([`StateSchemas::insert_provider`]).
    versions: BTreeMap<(String, ResourceMode, String), u64>,
}

impl StateSchemas {
    pub fn new() -> StateSchemas {
        StateSchemas::default()
    }

    /// Adds every managed resource type and data source of one provider.
    pub fn insert_provider(&mut self, source: &str, schema: &ProviderSchema) {
        let kinds = [
            (ResourceMode::Managed, &schema.resources),
            (ResourceMode::Data, &schema.data_sources),
        ];
        for (mode, types) in kinds {
            for (type_name, resource) in types {
                self.insert(source, mode, type_name, &resource.block);
                let key = (source.to_string(), mode, type_name.to_string());
                self.versions.insert(key, resource.version);
            }
        }
    }

    pub fn insert(&mut self, source: &str, mode: ResourceMode, type_name: &str, block: &Block) {
        self.types.insert(
            (source.to_string(), mode, type_name.to_string()),
            block.value_type(),
        );
    }

    /// The object type of an instance recorded with `provider` (a state file's provider
    /// address, `provider["registry.terraform.io/hashicorp/aws"].west`, possibly in a module).
    pub fn object_type(
        &self,
        provider: &str,
        mode: ResourceMode,
        type_name: &str,
    ) -> Option<&Type> {
        let source = provider_source(provider)?;
        self.types
            .get(&(source.to_string(), mode, type_name.to_string()))
    }

    /// The type `object`'s values are decoded with, if this state knows its resource type and
    /// the object was recorded under that schema's version. An object an older version of the
    /// provider recorded stays as the file has it: the provider's `UpgradeResourceState` must
    /// receive it so (as Terraform sends the raw JSON), not reshaped to the current schema.
    pub(crate) fn for_instance(
        &self,
        address: &ResourceInstance,
        object: &InstanceObject,
    ) -> Option<&Type> {
        self.for_recorded(
            &object.provider,
            address.resource.mode,
            &address.resource.type_name,
            object.schema_version,
        )
    }

    /// [`StateSchemas::for_instance`] from what a state file records of the instance: its
    /// provider address, its resource's mode and type, and its schema version.
    pub(super) fn for_recorded(
        &self,
        provider: &str,
        mode: ResourceMode,
        type_name: &str,
        schema_version: u64,
    ) -> Option<&Type> {
        let source = provider_source(provider)?;
        let key = (source.to_string(), mode, type_name.to_string());
        let older = self
            .versions
            .get(&key)
            .is_some_and(|current| schema_version < *current);
        self.types.get(&key).filter(|_| !older)
    }
}

/// The source address inside a state file's provider address: `registry.terraform.io/hashicorp/aws`
/// in `module.a.provider["registry.terraform.io/hashicorp/aws"].west`.
fn provider_source(provider: &str) -> Option<&str> {
    let start = provider.find("provider[\"")? + "provider[\"".len();
    let length = provider[start..].find('"')?;
    Some(&provider[start..start + length])
}

/// The attributes of an object of `block`, unmarked, as Terraform writes them in a state file
/// (and as a plugin's `UpgradeResourceState` receives them): go-cty's JSON for the block's type.
pub fn encode_attributes(block: &Block, value: &Value) -> Result<Json, JsonValueError> {
    value_to_cty_json(value, &block.value_type())
}

/// The inverse of [`encode_attributes`]: attributes as a state file has them, per `block`.
pub fn decode_attributes(block: &Block, json: &Json) -> Result<Value, JsonValueError> {
    value_from_cty_json(json, &block.value_type())
}

/// Attributes of `ty` from their JSON, each attribute decoded on its own: one that does not
/// decode per its type (a dynamic attribute written bare by an older Strata) is taken as it is.
fn decode_lenient(json: &Json, raw: &Value, ty: &Type) -> Value {
    if let Ok(value) = value_from_cty_json(json, ty) {
        return value;
    }
    let (Type::Object(object), Json::Object(entries)) = (ty, json) else {
        return raw.clone();
    };
    let mut attributes = BTreeMap::new();
    for (name, item) in entries {
        let raw_item = raw.get_attr(name).cloned().unwrap_or(Value::Null);
        let decoded = match object.attributes.get(name) {
            Some(attribute_type) => value_from_cty_json(item, attribute_type).unwrap_or(raw_item),
            None => raw_item,
        };
        attributes.insert(name.clone(), decoded);
    }
    for name in object.attributes.keys() {
        attributes.entry(name.clone()).or_insert(Value::Null);
    }
    Value::Object(attributes)
}

/// A raw instance value (as read from a file, sensitive marks at the file's paths) in the
/// model's form per `ty`, the marks kept where the file put them.
pub(super) fn decode_object(raw: &Value, ty: &Type) -> Value {
    let (plain, terraform_paths) = decode_raw_paths(raw);
    let Ok(json) = value_to_json(&plain) else {
        return raw.clone();
    };
    decode_lenient(&json, &plain, ty).mark_paths(&terraform_paths)
}

impl State {
    /// Decodes every instance whose resource type `schemas` knows into the model's form, and
    /// keeps `schemas` so that writing this state encodes those instances per their schema.
    /// Attaching again (or a state whose values are already decoded) changes nothing.
    pub fn attach_schemas(&mut self, schemas: Arc<StateSchemas>) {
        let _phase = crate::timings::phase("state decoding (schemas)");
        if self.schemas.0.is_some() {
            return;
        }
        for (address, object) in &mut self.resources {
            if let Some(ty) = schemas.for_instance(address, object) {
                object.value = decode_object(&object.value, ty);
            }
        }
        for (address, objects) in &mut self.deposed {
            for object in objects.values_mut() {
                if let Some(ty) = schemas.for_instance(address, object) {
                    object.value = decode_object(&object.value, ty);
                }
            }
        }
        self.schemas = AttachedSchemas(Some(schemas));
    }

    /// The schemas attached by [`State::attach_schemas`], if any.
    pub fn schemas(&self) -> Option<&StateSchemas> {
        self.schemas.0.as_deref()
    }
}

/// The schemas a [`State`] is encoded with. Not part of the state's content: two states with
/// the same content are equal whether or not schemas are attached.
#[derive(Clone, Debug, Default)]
pub struct AttachedSchemas(Option<Arc<StateSchemas>>);

impl AttachedSchemas {
    /// Schemas a state was read with ([`super::format::read_state_with`]).
    pub(super) fn read_with(schemas: Option<Arc<StateSchemas>>) -> AttachedSchemas {
        AttachedSchemas(schemas)
    }
}

impl PartialEq for AttachedSchemas {
    fn eq(&self, _other: &AttachedSchemas) -> bool {
        true
    }
}

#[cfg(test)]
#[path = "schemas_tests.rs"]
mod tests;
