//! Provider schemas: which attributes and nested blocks a resource type has, and for each
//! attribute whether it is required, optional or computed, sensitive, and whether changing it
//! forces replacement. The engine derives a resource's default plan from its schema.

use crate::value::{ObjectType, Type, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One attribute of a block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    #[serde(rename = "type")]
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    /// Set by the provider when the configuration leaves it unset (`id`, `arn`, defaults).
    pub computed: bool,
    pub sensitive: bool,
    /// A change to it cannot be made in place: the resource is replaced.
    pub force_new: bool,
    /// The value the provider uses when the configuration leaves it unset and it is not computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// A protocol-6 nested attribute (its type an object, or a list, set or map of objects,
    /// declared attribute by attribute): plans render it as Terraform renders nested
    /// attributes, not as a plain object value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nested: bool,
}

impl Attribute {
    fn base(ty: Type) -> Attribute {
        Attribute {
            ty,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            force_new: false,
            default: None,
            description: String::new(),
            nested: false,
        }
    }

    /// Set only by the configuration.
    pub fn required(ty: Type) -> Attribute {
        Attribute {
            required: true,
            ..Attribute::base(ty)
        }
    }

    pub fn optional(ty: Type) -> Attribute {
        Attribute {
            optional: true,
            ..Attribute::base(ty)
        }
    }

    /// Set only by the provider (`id`, `arn`).
    pub fn computed(ty: Type) -> Attribute {
        Attribute {
            computed: true,
            ..Attribute::base(ty)
        }
    }

    /// Set by the configuration, or by the provider when left unset.
    pub fn optional_computed(ty: Type) -> Attribute {
        Attribute {
            optional: true,
            computed: true,
            ..Attribute::base(ty)
        }
    }

    pub fn force_new(mut self) -> Attribute {
        self.force_new = true;
        self
    }

    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }

    pub fn with_default(mut self, default: impl Into<Value>) -> Attribute {
        self.default = Some(default.into());
        self
    }

    pub fn describe(mut self, description: impl Into<String>) -> Attribute {
        self.description = description.into();
        self
    }
}

/// How a nested block repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nesting {
    /// At most one, seen as an object (or null).
    Single,
    /// Any number, in order, seen as a list of objects (`scaling_config[0]`).
    List,
    /// Any number, unordered, seen as a set of objects (`ingress`).
    Set,
    /// Any number, each with one label as its key (`listener "http" { ... }`), seen as a map
    /// of objects (`listener["http"]`).
    Map,
}

impl Nesting {
    /// The type of a value of blocks nested this way, each of type `inner`.
    pub fn wrap(self, inner: Type) -> Type {
        match self {
            Nesting::Single => inner,
            Nesting::List => Type::list(inner),
            Nesting::Set => Type::set(inner),
            Nesting::Map => Type::map(inner),
        }
    }

    /// The value when the configuration writes no block of this type.
    pub fn empty(self) -> Value {
        match self {
            Nesting::Single => Value::Null,
            Nesting::List => Value::List(Vec::new()),
            Nesting::Set => Value::Set(Vec::new()),
            Nesting::Map => Value::Map(BTreeMap::new()),
        }
    }
}

/// A nested block type (`vpc_config { ... }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NestedBlock {
    pub nesting: Nesting,
    pub block: Block,
    #[serde(default)]
    pub min_items: usize,
    /// 0 means no limit.
    #[serde(default)]
    pub max_items: usize,
    /// Any change inside forces replacement.
    #[serde(default)]
    pub force_new: bool,
    /// The provider fills the block in when the configuration leaves it out.
    #[serde(default)]
    pub computed: bool,
    /// The configuration may also set it as an attribute holding a list of objects
    /// (`ingress = [{ ... }]`, `ingress = []`), as Terraform's "attributes as blocks" mode
    /// allows for some provider arguments.
    #[serde(default)]
    pub attribute_syntax: bool,
}

/// A block's attributes and nested block types.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub attributes: BTreeMap<String, Attribute>,
    pub blocks: BTreeMap<String, NestedBlock>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl Block {
    pub fn new() -> Block {
        Block::default()
    }

    pub fn attr(mut self, name: &str, attribute: Attribute) -> Block {
        self.attributes.insert(name.to_string(), attribute);
        self
    }

    pub fn block(mut self, name: &str, nesting: Nesting, block: Block) -> Block {
        self.blocks.insert(
            name.to_string(),
            NestedBlock {
                nesting,
                block,
                min_items: 0,
                max_items: 0,
                force_new: false,
                computed: false,
                attribute_syntax: false,
            },
        );
        self
    }

    /// The schema's sensitive marks on a value that came from a provider or a state file.
    pub fn mark_sensitive(&self, value: Value) -> Value {
        let mut value = value;
        for (name, attribute) in &self.attributes {
            if attribute.sensitive {
                if let Some(v) = value.get_attr(name).cloned() {
                    if !v.is_null() {
                        value.set_at_path(
                            &[crate::value::PathStep::Attr(name.clone())],
                            v.mark_sensitive(),
                        );
                    }
                }
            }
        }
        value
    }

    /// A value of this block with nothing set: every attribute null, list and set blocks
    /// empty (what decoding an empty configuration block gives).
    pub fn empty_value(&self) -> Value {
        let mut attributes: BTreeMap<String, Value> = self
            .attributes
            .keys()
            .map(|name| (name.clone(), Value::Null))
            .collect();
        for (name, nested) in &self.blocks {
            attributes.insert(name.clone(), nested.nesting.empty());
        }
        Value::Object(attributes)
    }

    pub fn nested(mut self, name: &str, nested: NestedBlock) -> Block {
        self.blocks.insert(name.to_string(), nested);
        self
    }

    /// The object type of a value of this block: attributes, and nested blocks as lists, sets
    /// or objects.
    pub fn value_type(&self) -> Type {
        let mut attributes: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), a.ty.clone()))
            .collect();
        for (name, nested) in &self.blocks {
            let inner = nested.block.value_type();
            attributes.insert(name.clone(), nested.nesting.wrap(inner));
        }
        Type::Object(ObjectType {
            attributes,
            optional: BTreeMap::new(),
        })
    }
}

impl Block {
    /// The block in the form of Terraform's `providers schema -json`: `attributes` (type and
    /// the flags that are set) and `block_types` (nesting mode, item bounds, inner block).
    pub fn to_terraform_json(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value as Json};
        let mut attributes = Map::new();
        for (name, attribute) in &self.attributes {
            let mut entry = Map::new();
            entry.insert("type".into(), attribute.ty.to_cty_json());
            if !attribute.description.is_empty() {
                entry.insert("description".into(), json!(attribute.description));
            }
            entry.insert("description_kind".into(), json!("plain"));
            for (flag, set) in [
                ("required", attribute.required),
                ("optional", attribute.optional),
                ("computed", attribute.computed),
                ("sensitive", attribute.sensitive),
            ] {
                if set {
                    entry.insert(flag.into(), Json::Bool(true));
                }
            }
            attributes.insert(name.clone(), Json::Object(entry));
        }
        let mut block_types = Map::new();
        for (name, nested) in &self.blocks {
            let mut entry = Map::new();
            let mode = match nested.nesting {
                Nesting::Single => "single",
                Nesting::List => "list",
                Nesting::Set => "set",
                Nesting::Map => "map",
            };
            entry.insert("nesting_mode".into(), json!(mode));
            entry.insert("block".into(), nested.block.to_terraform_json());
            if nested.min_items > 0 {
                entry.insert("min_items".into(), json!(nested.min_items));
            }
            if nested.max_items > 0 {
                entry.insert("max_items".into(), json!(nested.max_items));
            }
            block_types.insert(name.clone(), Json::Object(entry));
        }
        let mut block = Map::new();
        if !attributes.is_empty() {
            block.insert("attributes".into(), Json::Object(attributes));
        }
        if !block_types.is_empty() {
            block.insert("block_types".into(), Json::Object(block_types));
        }
        if !self.description.is_empty() {
            block.insert("description".into(), json!(self.description));
        }
        block.insert("description_kind".into(), json!("plain"));
        Json::Object(block)
    }
}

/// The schema of one resource type or data source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceSchema {
    /// Bumped when the stored form of the resource changes (`schema_version` in state).
    pub version: u64,
    pub block: Block,
}

/// Everything a provider declares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderSchema {
    /// The provider's own configuration block.
    pub provider: Block,
    pub resources: BTreeMap<String, ResourceSchema>,
    pub data_sources: BTreeMap<String, ResourceSchema>,
}

impl ProviderSchema {
    /// The provider's entry in Terraform's `providers schema -json` output
    /// (`provider`, `resource_schemas`, `data_source_schemas`).
    pub fn to_terraform_json(&self) -> serde_json::Value {
        let schemas =
            |map: &BTreeMap<String, ResourceSchema>| -> serde_json::Map<String, serde_json::Value> {
                map.iter()
                .map(|(name, schema)| {
                    (
                        name.clone(),
                        serde_json::json!({"version": schema.version, "block": schema.block.to_terraform_json()}),
                    )
                })
                .collect()
            };
        serde_json::json!({
            "provider": {"version": 0, "block": self.provider.to_terraform_json()},
            "resource_schemas": schemas(&self.resources),
            "data_source_schemas": schemas(&self.data_sources),
        })
    }
}
