//! Reading a state file in one pass over its text: the layout Terraform and Strata write
//! (each resource's `mode`, `type` and `provider` before its `instances`, each instance's
//! `schema_version` before its `attributes`) is decoded with serde straight into the model,
//! each instance's attributes into typed values per its resource type's schema (without a type
//! where none is known), with no `serde_json::Value` tree of the file. Only the small fields
//! (the top level's but `resources`, a resource's names, an instance's keys and paths) are read
//! as JSON values, and checked by the same functions as a tree's ([`super::format`]).
//!
//! It gives up (`None`) on anything else: fields in another order, an attribute that does not
//! match its schema (an older Strata's bare dynamic value, a provider's newer attribute), a
//! duplicate key, any error. [`super::format::read_state_with`] then reads the file through a
//! JSON tree, leniently where the schemas do not fit, and says what is wrong with a damaged
//! file. What this module returns is what that reader returns for the same text (tested below
//! on every state fixture).

use super::format::{
    file_instance, read_instance, read_resource_header, Attributes, Instances, ReadInstance,
};
use super::StateSchemas;
use crate::addrs::ResourceMode;
use crate::value::{CtyJsonSeed, KeySeed, Type, UntypedJsonSeed};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};
use std::fmt;

/// A state file read in one pass: its top-level fields but `resources`, and the instances.
pub(super) struct Streamed {
    pub root: Map<String, Json>,
    pub instances: Instances,
}

/// Reads `text` in one pass, decoding instances per `schemas`; `None` when the file is not in
/// the layout this reader takes (see the module documentation).
pub(super) fn read(text: &str, schemas: Option<&StateSchemas>) -> Option<Streamed> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let streamed = deserializer
        .deserialize_map(DocumentVisitor { schemas })
        .ok()?;
    deserializer.end().ok()?;
    Some(streamed)
}

/// The top-level fields the state reader looks at, besides `resources`.
const ROOT_FIELDS: [&str; 7] = [
    "version",
    "serial",
    "lineage",
    "terraform_version",
    "outputs",
    "strata_pending_creates",
    "strata_pending_planned",
];

struct DocumentVisitor<'s> {
    schemas: Option<&'s StateSchemas>,
}

impl<'de> Visitor<'de> for DocumentVisitor<'_> {
    type Value = Streamed;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a state file")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Streamed, A::Error> {
        let mut root = Map::new();
        let mut instances = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == "resources" && instances.is_none() {
                let mut into = Instances::default();
                map.next_value_seed(ResourcesSeed {
                    schemas: self.schemas,
                    into: &mut into,
                })?;
                instances = Some(into);
            } else if ROOT_FIELDS.contains(&key.as_ref()) && !root.contains_key(key.as_ref()) {
                root.insert(key.into_owned(), map.next_value()?);
            } else if ROOT_FIELDS.contains(&key.as_ref()) || key == "resources" {
                return Err(de::Error::custom("a duplicate key"));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Streamed {
            root,
            instances: instances.unwrap_or_default(),
        })
    }
}

/// `resources`: null or a list of resources.
struct ResourcesSeed<'s, 'i> {
    schemas: Option<&'s StateSchemas>,
    into: &'i mut Instances,
}

impl<'de> DeserializeSeed<'de> for ResourcesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResourcesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of resources")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ResourceSeed {
                schemas: self.schemas,
                into: &mut *self.into,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// The fields of a resource entry its header is read from.
const RESOURCE_FIELDS: [&str; 5] = ["module", "mode", "type", "name", "provider"];

/// One resource entry, its instances filed into `into`.
struct ResourceSeed<'s, 'i> {
    schemas: Option<&'s StateSchemas>,
    into: &'i mut Instances,
}

impl<'de> DeserializeSeed<'de> for ResourceSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resource")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut header = Map::new();
        let mut instances: Option<Vec<ReadInstance>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == "instances" && instances.is_none() {
                let schema = ResourceSchema::of(&header, self.schemas)?;
                instances = Some(map.next_value_seed(InstancesSeed(schema))?);
            } else if key == "instances" || header.contains_key(key.as_ref()) {
                return Err(de::Error::custom("a duplicate key"));
            } else if RESOURCE_FIELDS.contains(&key.as_ref()) {
                header.insert(key.into_owned(), map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let (resource, provider) =
            read_resource_header(|key| header.get(key)).map_err(de::Error::custom)?;
        for mut read in instances.unwrap_or_default() {
            // Instances were read before the provider address was checked.
            read.object.provider.clone_from(&provider);
            file_instance(&resource, read, self.into).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// What an instance's attributes are decoded with: the state's schemas and the resource's
/// provider address, mode and type (read before its `instances`).
#[derive(Clone, Copy)]
struct ResourceSchema<'s, 'h> {
    schemas: Option<&'s StateSchemas>,
    provider: &'h str,
    mode: ResourceMode,
    type_name: &'h str,
}

impl<'s, 'h> ResourceSchema<'s, 'h> {
    /// From the resource fields read so far; an error (giving up) when the state has schemas
    /// and the fields that pick one are not all there yet.
    fn of<E: de::Error>(
        header: &'h Map<String, Json>,
        schemas: Option<&'s StateSchemas>,
    ) -> Result<ResourceSchema<'s, 'h>, E> {
        let text = |key: &str| header.get(key).and_then(Json::as_str);
        let mode = match text("mode") {
            Some("managed") => Some(ResourceMode::Managed),
            Some("data") => Some(ResourceMode::Data),
            _ => None,
        };
        match (mode, text("type"), text("provider")) {
            (Some(mode), Some(type_name), Some(provider)) => Ok(ResourceSchema {
                schemas,
                provider,
                mode,
                type_name,
            }),
            _ if schemas.is_none() => Ok(ResourceSchema {
                schemas,
                provider: "",
                mode: ResourceMode::Managed,
                type_name: "",
            }),
            _ => Err(E::custom("`instances` before the resource's type")),
        }
    }

    /// The object type of attributes recorded under `schema_version`, if the state has one.
    fn object_type(&self, schema_version: u64) -> Option<&'s Type> {
        let schemas = self.schemas?;
        schemas.for_recorded(self.provider, self.mode, self.type_name, schema_version)
    }
}

/// `instances`: null or a list of instance objects.
struct InstancesSeed<'s, 'h>(ResourceSchema<'s, 'h>);

impl<'de> DeserializeSeed<'de> for InstancesSeed<'_, '_> {
    type Value = Vec<ReadInstance>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InstancesSeed<'_, '_> {
    type Value = Vec<ReadInstance>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of instances")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut instances = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(instance) = seq.next_element_seed(InstanceSeed(self.0))? {
            instances.push(instance);
        }
        Ok(instances)
    }
}

/// The fields of an instance read as JSON (all it has but `attributes`).
const INSTANCE_FIELDS: [&str; 11] = [
    "index_key",
    "status",
    "deposed",
    "schema_version",
    "attributes_flat",
    "sensitive_attributes",
    "identity_schema_version",
    "identity",
    "private",
    "dependencies",
    "create_before_destroy",
];

fn field_index(name: &str) -> Option<usize> {
    INSTANCE_FIELDS.iter().position(|field| *field == name)
}

/// One instance object.
struct InstanceSeed<'s, 'h>(ResourceSchema<'s, 'h>);

impl<'de> DeserializeSeed<'de> for InstanceSeed<'_, '_> {
    type Value = ReadInstance;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ReadInstance, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for InstanceSeed<'_, '_> {
    type Value = ReadInstance;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an instance")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadInstance, A::Error> {
        let mut fields: [Option<Json>; INSTANCE_FIELDS.len()] = Default::default();
        let mut attributes = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if let Some(position) = field_index(&key) {
                if fields[position].is_some() {
                    return Err(de::Error::custom("a duplicate key"));
                }
                fields[position] = Some(map.next_value()?);
            } else if key == "attributes" && attributes.is_none() {
                attributes = Some(self.attributes(&mut map, &fields)?);
            } else if key == "attributes" {
                return Err(de::Error::custom("a duplicate key"));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let field = |name: &str| fields[field_index(name)?].as_ref();
        let attributes = attributes.unwrap_or(Attributes::Json(&Json::Null));
        let schema = self.0;
        read_instance(field, attributes, "", |version| schema.object_type(version))
            .map_err(de::Error::custom)
    }
}

impl InstanceSeed<'_, '_> {
    /// The instance's attributes, per its schema when the state has one for it (which takes
    /// its schema version, read before), without a type otherwise.
    fn attributes<'de, A: MapAccess<'de>>(
        &self,
        map: &mut A,
        fields: &[Option<Json>; INSTANCE_FIELDS.len()],
    ) -> Result<Attributes<'static>, A::Error> {
        if self.0.schemas.is_none() {
            return Ok(Attributes::Untyped(map.next_value_seed(UntypedJsonSeed)?));
        }
        let version = field_index("schema_version").and_then(|index| fields[index].as_ref());
        let Some(version) = version else {
            return Err(de::Error::custom("`attributes` before `schema_version`"));
        };
        Ok(match self.0.object_type(version.as_u64().unwrap_or(0)) {
            Some(ty) => Attributes::Typed(map.next_value_seed(CtyJsonSeed(ty))?),
            None => Attributes::Untyped(map.next_value_seed(UntypedJsonSeed)?),
        })
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
