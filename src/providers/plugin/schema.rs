//! A plugin's schema (the protocol's `GetProviderSchema` answer) as Strata's
//! [`ProviderSchema`]: attributes with their cty types, nested blocks with their nesting, and
//! protocol 6's nested attributes as attributes of the object (or collection of objects) type
//! they denote.
//!
//! One nesting mode has no Strata counterpart: a `group` block becomes a `single` one (the
//! configuration writes both the same way).

use super::proto::schema as wire;
use super::proto::{GetProviderSchemaResponse, Schema};
use crate::providers::schema::{Attribute, Block, NestedBlock, Nesting, ProviderSchema};
use crate::providers::ResourceSchema;
use crate::value::{ObjectType, Type};
use std::collections::BTreeMap;

/// Why a plugin's schema could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct SchemaError {
    /// `resource aws_vpc, attribute cidr_block`.
    pub place: String,
    pub message: String,
}

/// The whole provider schema.
pub fn convert(response: &GetProviderSchemaResponse) -> Result<ProviderSchema, SchemaError> {
    let provider = match &response.provider {
        Some(schema) => resource_schema(schema, "provider configuration")?.block,
        None => Block::new(),
    };
    let mut resources = BTreeMap::new();
    for (name, schema) in &response.resource_schemas {
        resources.insert(
            name.clone(),
            resource_schema(schema, &format!("resource {name}"))?,
        );
    }
    let mut data_sources = BTreeMap::new();
    for (name, schema) in &response.data_source_schemas {
        data_sources.insert(
            name.clone(),
            resource_schema(schema, &format!("data source {name}"))?,
        );
    }
    Ok(ProviderSchema {
        provider,
        resources,
        data_sources,
    })
}

fn resource_schema(schema: &Schema, place: &str) -> Result<ResourceSchema, SchemaError> {
    let block = match &schema.block {
        Some(block) => convert_block(block, place)?,
        None => Block::new(),
    };
    Ok(ResourceSchema {
        version: u64::try_from(schema.version).unwrap_or(0),
        block,
    })
}

fn convert_block(block: &wire::Block, place: &str) -> Result<Block, SchemaError> {
    let mut out = Block::new();
    out.description = block.description.clone();
    for attribute in &block.attributes {
        let place = format!("{place}, attribute {}", attribute.name);
        out.attributes.insert(
            attribute.name.clone(),
            convert_attribute(attribute, &place)?,
        );
    }
    for nested in &block.block_types {
        let place = format!("{place}, block {}", nested.type_name);
        let inner = match &nested.block {
            Some(inner) => convert_block(inner, &place)?,
            None => Block::new(),
        };
        use wire::nested_block::NestingMode;
        let nesting = match NestingMode::try_from(nested.nesting) {
            Ok(NestingMode::Single) | Ok(NestingMode::Group) => Nesting::Single,
            Ok(NestingMode::List) => Nesting::List,
            Ok(NestingMode::Set) => Nesting::Set,
            Ok(NestingMode::Map) => Nesting::Map,
            _ => {
                return Err(SchemaError {
                    place,
                    message: format!("unknown nesting mode {}", nested.nesting),
                })
            }
        };
        out.blocks.insert(
            nested.type_name.clone(),
            NestedBlock {
                nesting,
                block: inner,
                min_items: usize::try_from(nested.min_items).unwrap_or(0),
                max_items: usize::try_from(nested.max_items).unwrap_or(0),
                force_new: false,
                computed: false,
                attribute_syntax: false,
            },
        );
    }
    Ok(out)
}

fn convert_attribute(attribute: &wire::Attribute, place: &str) -> Result<Attribute, SchemaError> {
    let ty = match &attribute.nested_type {
        Some(object) => nested_type(object, place)?,
        None => attribute_type(&attribute.r#type, place)?,
    };
    let mut out = match (attribute.required, attribute.optional, attribute.computed) {
        (true, _, _) => Attribute::required(ty),
        (false, true, true) => Attribute::optional_computed(ty),
        (false, true, false) => Attribute::optional(ty),
        _ => Attribute::computed(ty),
    };
    out.sensitive = attribute.sensitive;
    out.description = attribute.description.clone();
    out.nested = attribute.nested_type.is_some();
    Ok(out)
}

/// A cty type from its JSON form (`"string"`, `["list","string"]`, `"dynamic"`).
pub fn attribute_type(bytes: &[u8], place: &str) -> Result<Type, SchemaError> {
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| SchemaError {
        place: place.to_string(),
        message: format!("the type is not JSON: {error}"),
    })?;
    Type::from_cty_json(&json).map_err(|message| SchemaError {
        place: place.to_string(),
        message,
    })
}

/// The type a protocol-6 nested attribute's values have: an object, or a list, set or map of
/// objects.
fn nested_type(object: &wire::Object, place: &str) -> Result<Type, SchemaError> {
    let mut attributes = BTreeMap::new();
    // What the configuration may leave out: every attribute but the required ones (a
    // configuration writes a nested attribute's object without them, as in Terraform).
    let mut optional = BTreeMap::new();
    for attribute in &object.attributes {
        let place = format!("{place}.{}", attribute.name);
        attributes.insert(
            attribute.name.clone(),
            convert_attribute(attribute, &place)?.ty,
        );
        if !attribute.required {
            optional.insert(attribute.name.clone(), None);
        }
    }
    let inner = Type::Object(ObjectType {
        attributes,
        optional,
    });
    use wire::object::NestingMode;
    Ok(match NestingMode::try_from(object.nesting) {
        Ok(NestingMode::Single) => inner,
        Ok(NestingMode::List) => Type::list(inner),
        Ok(NestingMode::Set) => Type::set(inner),
        Ok(NestingMode::Map) => Type::Map(Box::new(inner)),
        _ => {
            return Err(SchemaError {
                place: place.to_string(),
                message: format!("unknown nesting mode {}", object.nesting),
            })
        }
    })
}
