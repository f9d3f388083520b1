//! The resource schemas a plan rendering consults: with a resource type's [`Block`], nested
//! blocks render as `name { ... }` sections, as Terraform prints them; without one (a type no
//! provider declares), every entry renders as an attribute.

use crate::addrs::ResourceMode;
use crate::providers::{Block, Registry};
use std::collections::BTreeMap;

/// Resource and data source schemas by type name.
#[derive(Clone, Debug, Default)]
pub struct Schemas {
    resources: BTreeMap<String, Block>,
    data_sources: BTreeMap<String, Block>,
}

impl Schemas {
    /// No schemas: everything renders as attributes.
    pub fn none() -> Schemas {
        Schemas::default()
    }

    /// The schemas of every provider of a registry. Type names are prefixed by their provider's
    /// name, so one map serves all providers.
    pub fn from_registry(registry: &Registry) -> Schemas {
        let mut schemas = Schemas::none();
        for name in registry.names() {
            let Some(registered) = registry.get(name) else {
                continue;
            };
            let schema = (registered.factory)().schema();
            for (type_name, resource) in &schema.resources {
                schemas
                    .resources
                    .insert(type_name.clone(), resource.block.clone());
            }
            for (type_name, data) in &schema.data_sources {
                schemas
                    .data_sources
                    .insert(type_name.clone(), data.block.clone());
            }
        }
        schemas
    }

    /// Adds (or replaces) one resource type's schema.
    pub fn with_resource(mut self, type_name: &str, block: Block) -> Schemas {
        self.resources.insert(type_name.to_string(), block);
        self
    }

    /// The schema of a resource type or data source, if known.
    pub fn block(&self, mode: ResourceMode, type_name: &str) -> Option<&Block> {
        match mode {
            ResourceMode::Managed => self.resources.get(type_name),
            ResourceMode::Data => self.data_sources.get(type_name),
        }
    }
}
