//! The resource schemas a plan rendering consults: with a resource type's [`Block`], nested
//! blocks render as `name { ... }` sections, as Terraform prints them; without one (a type no
//! provider declares), every entry renders as an attribute.
//!
//! A nested block type with the attribute form (`NestedBlock::attribute_syntax`:
//! aws_security_group `ingress`/`egress`, aws_route_table `route`) is what Terraform's AWS
//! provider declares as an attribute of set-of-object type (the legacy SDK's attribute mode,
//! which lets `ingress = []` clear them): Terraform renders those as attribute values, so the
//! rendering schema holds them as attributes too.

use crate::addrs::ResourceMode;
use crate::providers::{Attribute, Block, Nesting, Registry};
use crate::value::Type;
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
        let _phase = crate::timings::phase("schema building (ui)");
        let mut schemas = Schemas::none();
        for name in registry.names() {
            let Some(registered) = registry.get(name) else {
                continue;
            };
            let schema = (registered.factory)().schema();
            for (type_name, resource) in &schema.resources {
                schemas
                    .resources
                    .insert(type_name.clone(), as_rendered(&resource.block));
            }
            for (type_name, data) in &schema.data_sources {
                schemas
                    .data_sources
                    .insert(type_name.clone(), as_rendered(&data.block));
            }
        }
        schemas
    }

    /// Adds (or replaces) one resource type's schema.
    pub fn with_resource(mut self, type_name: &str, block: Block) -> Schemas {
        self.resources
            .insert(type_name.to_string(), as_rendered(&block));
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

/// The block as plans render it: block types with an attribute form turned into attributes
/// (see the module documentation), at every depth.
fn as_rendered(block: &Block) -> Block {
    let mut rendered = Block {
        attributes: block.attributes.clone(),
        blocks: BTreeMap::new(),
        description: String::new(),
    };
    for (name, nested) in &block.blocks {
        if nested.attribute_syntax {
            let ty = match nested.nesting {
                Nesting::Set => Type::set(nested.block.value_type()),
                Nesting::List | Nesting::Single => Type::list(nested.block.value_type()),
                Nesting::Map => Type::map(nested.block.value_type()),
            };
            rendered
                .attributes
                .insert(name.clone(), Attribute::optional_computed(ty));
        } else {
            let mut kept = nested.clone();
            kept.block = as_rendered(&nested.block);
            rendered.blocks.insert(name.clone(), kept);
        }
    }
    rendered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::NestedBlock;

    #[test]
    fn block_types_with_an_attribute_form_render_as_attributes() {
        let rule = Block::new().attr("port", Attribute::required(Type::Number));
        let block = Block::new()
            .nested(
                "ingress",
                NestedBlock {
                    nesting: Nesting::Set,
                    block: rule.clone(),
                    min_items: 0,
                    max_items: 0,
                    force_new: false,
                    computed: true,
                    attribute_syntax: true,
                },
            )
            .block("rule", Nesting::Set, rule);
        let schemas = Schemas::none().with_resource("test_group", block);
        let rendered = schemas
            .block(ResourceMode::Managed, "test_group")
            .expect("the schema");
        assert!(rendered.attributes.contains_key("ingress"));
        assert!(!rendered.blocks.contains_key("ingress"));
        assert!(rendered.blocks.contains_key("rule"));
        assert!(schemas.block(ResourceMode::Data, "test_group").is_none());
    }

    #[test]
    fn builtin_registry_knows_the_fake_provider() {
        let schemas = Schemas::from_registry(&Registry::builtin());
        let fake = schemas
            .block(ResourceMode::Managed, "fake_resource")
            .expect("fake_resource");
        assert!(fake.blocks.contains_key("rule"));
    }
}
