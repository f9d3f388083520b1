//! Terraform's plugin protocol messages (`tfplugin5` and `tfplugin6`), written by hand as prost
//! structs from HashiCorp's published `docs/plugin-protocol/tfplugin5.x.proto` and
//! `tfplugin6.x.proto` (5.10 / 6.10): message shapes and field numbers are facts of the wire and
//! match those files; everything else (names, grouping) is ours.
//!
//! One message set serves both protocol versions: wherever v5 and v6 agree field for field (all
//! calls but two) the same struct is sent to `/tfplugin5.Provider/...` and `/tfplugin6.Provider/...`.
//! The differences:
//! - `Schema.Attribute`: v6 has `nested_type = 10` and `write_only = 11`, v5 has `write_only = 10`.
//!   [`Schema`] here is the v6 shape; v5 answers are decoded with [`v5`]'s types and converted.
//! - v5 `PrepareProviderConfig.Response { prepared_config = 1, diagnostics = 2 }` versus v6
//!   `ValidateProviderConfig.Response { diagnostics = 2 }`: the v5 message is a superset, so
//!   [`ValidateProviderConfigResponse`] decodes both (v6 never sets `prepared_config`).
//! - RPC names (`GetSchema`/`GetProviderSchema`, `PrepareProviderConfig`/`ValidateProviderConfig`,
//!   `ValidateResourceTypeConfig`/`ValidateResourceConfig`, `ValidateDataSourceConfig`/
//!   `ValidateDataResourceConfig`, `Configure`/`ConfigureProvider`, `Stop`/`StopProvider`): see
//!   [`Rpc`].
//!
//! Values stay opaque here: [`DynamicValue`] carries the cty msgpack (or JSON) bytes, and schema
//! types stay the JSON type bytes the provider sent; decoding them is the value codec's job.
//!
//! Also here: go-plugin's own two services every plugin process serves next to the provider
//! (`plugin.GRPCController/Shutdown`, `plugin.GRPCStdio/StreamStdio`).

use std::collections::BTreeMap;

/// An opaque value: exactly one of `msgpack` (what Terraform sends) or `json` (what some
/// providers answer in `UpgradeResourceState`, and what raw states hold) is set.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct DynamicValue {
    #[prost(bytes = "vec", tag = "1")]
    pub msgpack: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub json: Vec<u8>,
}

impl DynamicValue {
    /// A value in the msgpack encoding.
    pub fn msgpack(bytes: Vec<u8>) -> Self {
        DynamicValue {
            msgpack: bytes,
            json: Vec::new(),
        }
    }

    /// A value in the JSON encoding.
    pub fn json(bytes: Vec<u8>) -> Self {
        DynamicValue {
            msgpack: Vec::new(),
            json: bytes,
        }
    }
}

/// An error or warning from the provider, optionally about one attribute.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Diagnostic {
    #[prost(enumeration = "diagnostic::Severity", tag = "1")]
    pub severity: i32,
    #[prost(string, tag = "2")]
    pub summary: String,
    #[prost(string, tag = "3")]
    pub detail: String,
    #[prost(message, optional, tag = "4")]
    pub attribute: Option<AttributePath>,
}

pub mod diagnostic {
    //! [`Severity`] of a [`super::Diagnostic`].

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum Severity {
        Invalid = 0,
        Error = 1,
        Warning = 2,
    }
}

/// A path into a value: attribute names and collection keys, outermost first.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct AttributePath {
    #[prost(message, repeated, tag = "1")]
    pub steps: Vec<attribute_path::Step>,
}

pub mod attribute_path {
    //! One [`Step`] of a [`super::AttributePath`].

    #[derive(Clone, PartialEq, Eq, prost::Message)]
    pub struct Step {
        #[prost(oneof = "step::Selector", tags = "1, 2, 3")]
        pub selector: Option<step::Selector>,
    }

    pub mod step {
        //! What a [`super::Step`] selects.

        #[derive(Clone, PartialEq, Eq, prost::Oneof)]
        pub enum Selector {
            /// An attribute of the current object.
            #[prost(string, tag = "1")]
            AttributeName(String),
            /// An element of a map (by key).
            #[prost(string, tag = "2")]
            ElementKeyString(String),
            /// An element of a list (by index).
            #[prost(int64, tag = "3")]
            ElementKeyInt(i64),
        }
    }
}

impl AttributePath {
    /// A path of attribute names only (`a.b.c`).
    pub fn attributes<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        use attribute_path::step::Selector;
        AttributePath {
            steps: names
                .into_iter()
                .map(|name| attribute_path::Step {
                    selector: Some(Selector::AttributeName(name.to_string())),
                })
                .collect(),
        }
    }
}

/// A stored state to upgrade: JSON as written by the provider's older schema, or the legacy
/// flatmap of Terraform 0.11 (`"tags.%" = "1"`).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct RawState {
    #[prost(bytes = "vec", tag = "1")]
    pub json: Vec<u8>,
    #[prost(btree_map = "string, string", tag = "2")]
    pub flatmap: BTreeMap<String, String>,
}

/// Whether a description is plain text or Markdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum StringKind {
    Plain = 0,
    Markdown = 1,
}

/// The schema of a provider, resource type or data source (v6 shape; v5 answers are converted).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Schema {
    /// The schema version; states recorded under an older one go through UpgradeResourceState.
    #[prost(int64, tag = "1")]
    pub version: i64,
    #[prost(message, optional, tag = "2")]
    pub block: Option<schema::Block>,
}

pub mod schema {
    //! The parts of a [`super::Schema`].

    use super::StringKind;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Block {
        #[prost(int64, tag = "1")]
        pub version: i64,
        #[prost(message, repeated, tag = "2")]
        pub attributes: Vec<Attribute>,
        #[prost(message, repeated, tag = "3")]
        pub block_types: Vec<NestedBlock>,
        #[prost(string, tag = "4")]
        pub description: String,
        #[prost(enumeration = "StringKind", tag = "5")]
        pub description_kind: i32,
        #[prost(bool, tag = "6")]
        pub deprecated: bool,
    }

    /// An attribute: either `type` (cty type JSON bytes) or, in protocol 6, `nested_type`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Attribute {
        #[prost(string, tag = "1")]
        pub name: String,
        /// The cty type as JSON (`"string"`, `["list","string"]`, ...); empty with `nested_type`.
        #[prost(bytes = "vec", tag = "2")]
        pub r#type: Vec<u8>,
        /// Protocol 6 only: an attribute whose value is an object (or collection of objects)
        /// with its own attribute schemas.
        #[prost(message, optional, tag = "10")]
        pub nested_type: Option<Object>,
        #[prost(string, tag = "3")]
        pub description: String,
        #[prost(bool, tag = "4")]
        pub required: bool,
        #[prost(bool, tag = "5")]
        pub optional: bool,
        #[prost(bool, tag = "6")]
        pub computed: bool,
        #[prost(bool, tag = "7")]
        pub sensitive: bool,
        #[prost(enumeration = "StringKind", tag = "8")]
        pub description_kind: i32,
        #[prost(bool, tag = "9")]
        pub deprecated: bool,
        #[prost(bool, tag = "11")]
        pub write_only: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NestedBlock {
        #[prost(string, tag = "1")]
        pub type_name: String,
        #[prost(message, optional, tag = "2")]
        pub block: Option<Block>,
        #[prost(enumeration = "nested_block::NestingMode", tag = "3")]
        pub nesting: i32,
        #[prost(int64, tag = "4")]
        pub min_items: i64,
        #[prost(int64, tag = "5")]
        pub max_items: i64,
    }

    pub mod nested_block {
        //! How a [`super::NestedBlock`] repeats.

        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
        #[repr(i32)]
        pub enum NestingMode {
            Invalid = 0,
            Single = 1,
            List = 2,
            Set = 3,
            Map = 4,
            Group = 5,
        }
    }

    /// Protocol 6: the attributes of a nested attribute's object(s).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Object {
        #[prost(message, repeated, tag = "1")]
        pub attributes: Vec<Attribute>,
        #[prost(enumeration = "object::NestingMode", tag = "3")]
        pub nesting: i32,
        /// Deprecated in the protocol: never used by Terraform.
        #[prost(int64, tag = "4")]
        pub min_items: i64,
        /// Deprecated in the protocol: never used by Terraform.
        #[prost(int64, tag = "5")]
        pub max_items: i64,
    }

    pub mod object {
        //! How a nested attribute's [`super::Object`] repeats.

        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
        #[repr(i32)]
        pub enum NestingMode {
            Invalid = 0,
            Single = 1,
            List = 2,
            Set = 3,
            Map = 4,
        }
    }
}

/// A provider-defined function (listed in the schema answer; calling them is not wired yet).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    #[prost(message, repeated, tag = "1")]
    pub parameters: Vec<function::Parameter>,
    #[prost(message, optional, tag = "2")]
    pub variadic_parameter: Option<function::Parameter>,
    #[prost(message, optional, tag = "3")]
    pub r#return: Option<function::Return>,
    #[prost(string, tag = "4")]
    pub summary: String,
    #[prost(string, tag = "5")]
    pub description: String,
    #[prost(enumeration = "StringKind", tag = "6")]
    pub description_kind: i32,
    #[prost(string, tag = "7")]
    pub deprecation_message: String,
}

pub mod function {
    //! The parts of a [`super::Function`].

    use super::StringKind;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Parameter {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(bytes = "vec", tag = "2")]
        pub r#type: Vec<u8>,
        #[prost(bool, tag = "3")]
        pub allow_null_value: bool,
        #[prost(bool, tag = "4")]
        pub allow_unknown_values: bool,
        #[prost(string, tag = "5")]
        pub description: String,
        #[prost(enumeration = "StringKind", tag = "6")]
        pub description_kind: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Return {
        #[prost(bytes = "vec", tag = "1")]
        pub r#type: Vec<u8>,
    }
}

/// Optional protocol features the provider announces.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ServerCapabilities {
    /// The provider expects PlanResourceChange for destroys too.
    #[prost(bool, tag = "1")]
    pub plan_destroy: bool,
    #[prost(bool, tag = "2")]
    pub get_provider_schema_optional: bool,
    #[prost(bool, tag = "3")]
    pub move_resource_state: bool,
}

/// Optional protocol features the client (we) can handle.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ClientCapabilities {
    #[prost(bool, tag = "1")]
    pub deferral_allowed: bool,
    #[prost(bool, tag = "2")]
    pub write_only_attributes_allowed: bool,
}

/// A provider's answer that a change cannot be planned yet (only when deferral is allowed).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Deferred {
    #[prost(enumeration = "deferred::Reason", tag = "1")]
    pub reason: i32,
}

pub mod deferred {
    //! Why a change was [`super::Deferred`].

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum Reason {
        Unknown = 0,
        ResourceConfigUnknown = 1,
        ProviderConfigUnknown = 2,
        AbsentPrereq = 3,
    }
}

/// Resource identity data (newer providers; carried through untouched).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ResourceIdentityData {
    #[prost(message, optional, tag = "1")]
    pub identity_data: Option<DynamicValue>,
}

/// `GetResourceIdentitySchemas.Response` (Terraform 1.12+): each managed resource type's
/// identity schema. Strata does not call it yet; the test provider serves it, so that
/// Terraform accepts the identities a state records for its objects.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetResourceIdentitySchemasResponse {
    #[prost(btree_map = "string, message", tag = "1")]
    pub identity_schemas: BTreeMap<String, ResourceIdentitySchema>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// A resource type's identity schema: versioned, apart from its state schema.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceIdentitySchema {
    #[prost(int64, tag = "1")]
    pub version: i64,
    #[prost(message, repeated, tag = "2")]
    pub identity_attributes: Vec<IdentityAttribute>,
}

/// One attribute of an identity (its type as cty JSON, like a schema attribute's).
#[derive(Clone, PartialEq, prost::Message)]
pub struct IdentityAttribute {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(bytes = "vec", tag = "2")]
    pub r#type: Vec<u8>,
    #[prost(bool, tag = "3")]
    pub required_for_import: bool,
    #[prost(bool, tag = "4")]
    pub optional_for_import: bool,
    #[prost(string, tag = "5")]
    pub description: String,
}

/// An empty message (requests without fields; go-plugin's `plugin.Empty`).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Empty {}

/// `GetMetadata.Response` (optional RPC: providers may answer Unimplemented).
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetMetadataResponse {
    #[prost(message, optional, tag = "1")]
    pub server_capabilities: Option<ServerCapabilities>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    #[prost(message, repeated, tag = "3")]
    pub data_sources: Vec<TypeNameMetadata>,
    #[prost(message, repeated, tag = "4")]
    pub resources: Vec<TypeNameMetadata>,
    #[prost(message, repeated, tag = "5")]
    pub functions: Vec<FunctionMetadata>,
    #[prost(message, repeated, tag = "6")]
    pub ephemeral_resources: Vec<TypeNameMetadata>,
}

/// `GetMetadata.{DataSource,Resource,Ephemeral}Metadata`: one type name.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TypeNameMetadata {
    #[prost(string, tag = "1")]
    pub type_name: String,
}

/// `GetMetadata.FunctionMetadata`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct FunctionMetadata {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `GetProviderSchema.Response` (v5 `GetSchema`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetProviderSchemaResponse {
    #[prost(message, optional, tag = "1")]
    pub provider: Option<Schema>,
    #[prost(btree_map = "string, message", tag = "2")]
    pub resource_schemas: BTreeMap<String, Schema>,
    #[prost(btree_map = "string, message", tag = "3")]
    pub data_source_schemas: BTreeMap<String, Schema>,
    #[prost(btree_map = "string, message", tag = "7")]
    pub functions: BTreeMap<String, Function>,
    #[prost(btree_map = "string, message", tag = "8")]
    pub ephemeral_resource_schemas: BTreeMap<String, Schema>,
    #[prost(message, repeated, tag = "4")]
    pub diagnostics: Vec<Diagnostic>,
    #[prost(message, optional, tag = "5")]
    pub provider_meta: Option<Schema>,
    #[prost(message, optional, tag = "6")]
    pub server_capabilities: Option<ServerCapabilities>,
}

/// v5 `PrepareProviderConfig.Request` / v6 `ValidateProviderConfig.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValidateProviderConfigRequest {
    #[prost(message, optional, tag = "1")]
    pub config: Option<DynamicValue>,
}

/// v5 `PrepareProviderConfig.Response` / v6 `ValidateProviderConfig.Response` (the v5 message
/// has `prepared_config` in addition; v6 leaves it unset).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValidateProviderConfigResponse {
    #[prost(message, optional, tag = "1")]
    pub prepared_config: Option<DynamicValue>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `UpgradeResourceState.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UpgradeResourceStateRequest {
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The schema version the state was recorded under.
    #[prost(int64, tag = "2")]
    pub version: i64,
    #[prost(message, optional, tag = "3")]
    pub raw_state: Option<RawState>,
}

/// `UpgradeResourceState.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UpgradeResourceStateResponse {
    #[prost(message, optional, tag = "1")]
    pub upgraded_state: Option<DynamicValue>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// v5 `ValidateResourceTypeConfig.Request` / v6 `ValidateResourceConfig.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValidateResourceConfigRequest {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
    #[prost(message, optional, tag = "3")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// v5 `ValidateDataSourceConfig.Request` / v6 `ValidateDataResourceConfig.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValidateDataResourceConfigRequest {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
}

/// The answer of every call that returns only diagnostics (validate resource / data source
/// config, configure).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DiagnosticsResponse {
    #[prost(message, repeated, tag = "1")]
    pub diagnostics: Vec<Diagnostic>,
}

/// v5 `Configure.Request` / v6 `ConfigureProvider.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfigureProviderRequest {
    #[prost(string, tag = "1")]
    pub terraform_version: String,
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
    #[prost(message, optional, tag = "3")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// `ReadResource.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadResourceRequest {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(message, optional, tag = "2")]
    pub current_state: Option<DynamicValue>,
    /// The provider's private data recorded with the state, byte for byte.
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
    #[prost(message, optional, tag = "4")]
    pub provider_meta: Option<DynamicValue>,
    #[prost(message, optional, tag = "5")]
    pub client_capabilities: Option<ClientCapabilities>,
    #[prost(message, optional, tag = "6")]
    pub current_identity: Option<ResourceIdentityData>,
}

/// `ReadResource.Response`: `new_state` null means the object is gone.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadResourceResponse {
    #[prost(message, optional, tag = "1")]
    pub new_state: Option<DynamicValue>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
    #[prost(message, optional, tag = "4")]
    pub deferred: Option<Deferred>,
    #[prost(message, optional, tag = "5")]
    pub new_identity: Option<ResourceIdentityData>,
}

/// `PlanResourceChange.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PlanResourceChangeRequest {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(message, optional, tag = "2")]
    pub prior_state: Option<DynamicValue>,
    #[prost(message, optional, tag = "3")]
    pub proposed_new_state: Option<DynamicValue>,
    #[prost(message, optional, tag = "4")]
    pub config: Option<DynamicValue>,
    #[prost(bytes = "vec", tag = "5")]
    pub prior_private: Vec<u8>,
    #[prost(message, optional, tag = "6")]
    pub provider_meta: Option<DynamicValue>,
    #[prost(message, optional, tag = "7")]
    pub client_capabilities: Option<ClientCapabilities>,
    #[prost(message, optional, tag = "8")]
    pub prior_identity: Option<ResourceIdentityData>,
}

/// `PlanResourceChange.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PlanResourceChangeResponse {
    #[prost(message, optional, tag = "1")]
    pub planned_state: Option<DynamicValue>,
    /// Attributes whose change forces replacement (`# forces replacement`).
    #[prost(message, repeated, tag = "2")]
    pub requires_replace: Vec<AttributePath>,
    #[prost(bytes = "vec", tag = "3")]
    pub planned_private: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    pub diagnostics: Vec<Diagnostic>,
    /// Set only by the legacy SDK: Terraform tolerates inconsistencies it would otherwise reject.
    #[prost(bool, tag = "5")]
    pub legacy_type_system: bool,
    #[prost(message, optional, tag = "6")]
    pub deferred: Option<Deferred>,
    #[prost(message, optional, tag = "7")]
    pub planned_identity: Option<ResourceIdentityData>,
}

/// `ApplyResourceChange.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyResourceChangeRequest {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(message, optional, tag = "2")]
    pub prior_state: Option<DynamicValue>,
    #[prost(message, optional, tag = "3")]
    pub planned_state: Option<DynamicValue>,
    #[prost(message, optional, tag = "4")]
    pub config: Option<DynamicValue>,
    #[prost(bytes = "vec", tag = "5")]
    pub planned_private: Vec<u8>,
    #[prost(message, optional, tag = "6")]
    pub provider_meta: Option<DynamicValue>,
    #[prost(message, optional, tag = "7")]
    pub planned_identity: Option<ResourceIdentityData>,
}

/// `ApplyResourceChange.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyResourceChangeResponse {
    #[prost(message, optional, tag = "1")]
    pub new_state: Option<DynamicValue>,
    #[prost(bytes = "vec", tag = "2")]
    pub private: Vec<u8>,
    #[prost(message, repeated, tag = "3")]
    pub diagnostics: Vec<Diagnostic>,
    #[prost(bool, tag = "4")]
    pub legacy_type_system: bool,
    #[prost(message, optional, tag = "5")]
    pub new_identity: Option<ResourceIdentityData>,
}

/// `ImportResourceState.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImportResourceStateRequest {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(string, tag = "2")]
    pub id: String,
    #[prost(message, optional, tag = "3")]
    pub client_capabilities: Option<ClientCapabilities>,
    #[prost(message, optional, tag = "4")]
    pub identity: Option<ResourceIdentityData>,
}

/// `ImportResourceState.ImportedResource`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImportedResource {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(message, optional, tag = "2")]
    pub state: Option<DynamicValue>,
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
    #[prost(message, optional, tag = "4")]
    pub identity: Option<ResourceIdentityData>,
}

/// `ImportResourceState.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImportResourceStateResponse {
    #[prost(message, repeated, tag = "1")]
    pub imported_resources: Vec<ImportedResource>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    #[prost(message, optional, tag = "3")]
    pub deferred: Option<Deferred>,
}

/// `MoveResourceState.Request` (only when the provider announces `move_resource_state`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct MoveResourceStateRequest {
    #[prost(string, tag = "1")]
    pub source_provider_address: String,
    #[prost(string, tag = "2")]
    pub source_type_name: String,
    #[prost(int64, tag = "3")]
    pub source_schema_version: i64,
    #[prost(message, optional, tag = "4")]
    pub source_state: Option<RawState>,
    #[prost(string, tag = "5")]
    pub target_type_name: String,
    #[prost(bytes = "vec", tag = "6")]
    pub source_private: Vec<u8>,
    #[prost(message, optional, tag = "7")]
    pub source_identity: Option<RawState>,
    #[prost(int64, tag = "8")]
    pub source_identity_schema_version: i64,
}

/// `MoveResourceState.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MoveResourceStateResponse {
    #[prost(message, optional, tag = "1")]
    pub target_state: Option<DynamicValue>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    #[prost(bytes = "vec", tag = "3")]
    pub target_private: Vec<u8>,
    #[prost(message, optional, tag = "4")]
    pub target_identity: Option<ResourceIdentityData>,
}

/// `ReadDataSource.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadDataSourceRequest {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
    #[prost(message, optional, tag = "3")]
    pub provider_meta: Option<DynamicValue>,
    #[prost(message, optional, tag = "4")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// `ReadDataSource.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadDataSourceResponse {
    #[prost(message, optional, tag = "1")]
    pub state: Option<DynamicValue>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    #[prost(message, optional, tag = "3")]
    pub deferred: Option<Deferred>,
}

/// v5 `Stop.Response` / v6 `StopProvider.Response`: `error` non-empty when stopping failed.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct StopProviderResponse {
    #[prost(string, tag = "1")]
    pub error: String,
}

/// go-plugin's `plugin.StdioData`: a chunk of the plugin's stdout or stderr after the handshake
/// (go-plugin redirects both into the `GRPCStdio` stream).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct StdioData {
    #[prost(enumeration = "stdio_data::Channel", tag = "1")]
    pub channel: i32,
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
}

pub mod stdio_data {
    //! Which stream a [`super::StdioData`] chunk came from.

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum Channel {
        Invalid = 0,
        Stdout = 1,
        Stderr = 2,
    }
}

/// One call of the provider service, with its method path in each protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    GetMetadata,
    GetProviderSchema,
    ValidateProviderConfig,
    ValidateResourceConfig,
    ValidateDataResourceConfig,
    UpgradeResourceState,
    ConfigureProvider,
    ReadResource,
    PlanResourceChange,
    ApplyResourceChange,
    ImportResourceState,
    MoveResourceState,
    ReadDataSource,
    StopProvider,
    GetResourceIdentitySchemas,
}

impl Rpc {
    /// Every call, for servers that dispatch on the method path.
    pub const ALL: [Rpc; 15] = [
        Rpc::GetMetadata,
        Rpc::GetProviderSchema,
        Rpc::ValidateProviderConfig,
        Rpc::ValidateResourceConfig,
        Rpc::ValidateDataResourceConfig,
        Rpc::UpgradeResourceState,
        Rpc::ConfigureProvider,
        Rpc::ReadResource,
        Rpc::PlanResourceChange,
        Rpc::ApplyResourceChange,
        Rpc::ImportResourceState,
        Rpc::MoveResourceState,
        Rpc::ReadDataSource,
        Rpc::StopProvider,
        Rpc::GetResourceIdentitySchemas,
    ];

    /// The method name in protocol `version` (5 or 6).
    pub fn name(self, version: u32) -> &'static str {
        let v5 = version == 5;
        match self {
            Rpc::GetMetadata => "GetMetadata",
            Rpc::GetProviderSchema if v5 => "GetSchema",
            Rpc::GetProviderSchema => "GetProviderSchema",
            Rpc::ValidateProviderConfig if v5 => "PrepareProviderConfig",
            Rpc::ValidateProviderConfig => "ValidateProviderConfig",
            Rpc::ValidateResourceConfig if v5 => "ValidateResourceTypeConfig",
            Rpc::ValidateResourceConfig => "ValidateResourceConfig",
            Rpc::ValidateDataResourceConfig if v5 => "ValidateDataSourceConfig",
            Rpc::ValidateDataResourceConfig => "ValidateDataResourceConfig",
            Rpc::UpgradeResourceState => "UpgradeResourceState",
            Rpc::ConfigureProvider if v5 => "Configure",
            Rpc::ConfigureProvider => "ConfigureProvider",
            Rpc::ReadResource => "ReadResource",
            Rpc::PlanResourceChange => "PlanResourceChange",
            Rpc::ApplyResourceChange => "ApplyResourceChange",
            Rpc::ImportResourceState => "ImportResourceState",
            Rpc::MoveResourceState => "MoveResourceState",
            Rpc::ReadDataSource => "ReadDataSource",
            Rpc::StopProvider if v5 => "Stop",
            Rpc::StopProvider => "StopProvider",
            Rpc::GetResourceIdentitySchemas => "GetResourceIdentitySchemas",
        }
    }

    /// The gRPC method path, e.g. `/tfplugin5.Provider/GetSchema`.
    pub fn path(self, version: u32) -> String {
        format!("/tfplugin{version}.Provider/{}", self.name(version))
    }

    /// The call a method path names, in protocol `version`.
    pub fn from_path(path: &str, version: u32) -> Option<Rpc> {
        Rpc::ALL.into_iter().find(|rpc| rpc.path(version) == path)
    }
}

/// go-plugin's controller: asks the plugin process to exit.
pub const CONTROLLER_SHUTDOWN_PATH: &str = "/plugin.GRPCController/Shutdown";
/// go-plugin's stdio service: the plugin's stdout/stderr after the handshake, as a stream.
pub const STDIO_STREAM_PATH: &str = "/plugin.GRPCStdio/StreamStdio";

pub mod v5 {
    //! Protocol 5's schema messages, where `Attribute.write_only` is field 10 (protocol 6 put
    //! `nested_type` there). Decoded from `GetSchema` answers and converted into the shared
    //! (v6-shaped) [`super::GetProviderSchemaResponse`].

    use super::{schema as shared, Diagnostic, Function, ServerCapabilities, StringKind};
    use std::collections::BTreeMap;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GetProviderSchemaResponse {
        #[prost(message, optional, tag = "1")]
        pub provider: Option<Schema>,
        #[prost(btree_map = "string, message", tag = "2")]
        pub resource_schemas: BTreeMap<String, Schema>,
        #[prost(btree_map = "string, message", tag = "3")]
        pub data_source_schemas: BTreeMap<String, Schema>,
        #[prost(btree_map = "string, message", tag = "7")]
        pub functions: BTreeMap<String, Function>,
        #[prost(btree_map = "string, message", tag = "8")]
        pub ephemeral_resource_schemas: BTreeMap<String, Schema>,
        #[prost(message, repeated, tag = "4")]
        pub diagnostics: Vec<Diagnostic>,
        #[prost(message, optional, tag = "5")]
        pub provider_meta: Option<Schema>,
        #[prost(message, optional, tag = "6")]
        pub server_capabilities: Option<ServerCapabilities>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Schema {
        #[prost(int64, tag = "1")]
        pub version: i64,
        #[prost(message, optional, tag = "2")]
        pub block: Option<Block>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Block {
        #[prost(int64, tag = "1")]
        pub version: i64,
        #[prost(message, repeated, tag = "2")]
        pub attributes: Vec<Attribute>,
        #[prost(message, repeated, tag = "3")]
        pub block_types: Vec<NestedBlock>,
        #[prost(string, tag = "4")]
        pub description: String,
        #[prost(enumeration = "StringKind", tag = "5")]
        pub description_kind: i32,
        #[prost(bool, tag = "6")]
        pub deprecated: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Attribute {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(bytes = "vec", tag = "2")]
        pub r#type: Vec<u8>,
        #[prost(string, tag = "3")]
        pub description: String,
        #[prost(bool, tag = "4")]
        pub required: bool,
        #[prost(bool, tag = "5")]
        pub optional: bool,
        #[prost(bool, tag = "6")]
        pub computed: bool,
        #[prost(bool, tag = "7")]
        pub sensitive: bool,
        #[prost(enumeration = "StringKind", tag = "8")]
        pub description_kind: i32,
        #[prost(bool, tag = "9")]
        pub deprecated: bool,
        #[prost(bool, tag = "10")]
        pub write_only: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NestedBlock {
        #[prost(string, tag = "1")]
        pub type_name: String,
        #[prost(message, optional, tag = "2")]
        pub block: Option<Block>,
        #[prost(enumeration = "shared::nested_block::NestingMode", tag = "3")]
        pub nesting: i32,
        #[prost(int64, tag = "4")]
        pub min_items: i64,
        #[prost(int64, tag = "5")]
        pub max_items: i64,
    }

    impl From<GetProviderSchemaResponse> for super::GetProviderSchemaResponse {
        fn from(v5: GetProviderSchemaResponse) -> Self {
            let schemas = |map: BTreeMap<String, Schema>| {
                map.into_iter()
                    .map(|(name, schema)| (name, schema.into()))
                    .collect()
            };
            super::GetProviderSchemaResponse {
                provider: v5.provider.map(Into::into),
                resource_schemas: schemas(v5.resource_schemas),
                data_source_schemas: schemas(v5.data_source_schemas),
                functions: v5.functions,
                ephemeral_resource_schemas: schemas(v5.ephemeral_resource_schemas),
                diagnostics: v5.diagnostics,
                provider_meta: v5.provider_meta.map(Into::into),
                server_capabilities: v5.server_capabilities,
            }
        }
    }

    impl From<Schema> for super::Schema {
        fn from(v5: Schema) -> Self {
            super::Schema {
                version: v5.version,
                block: v5.block.map(Into::into),
            }
        }
    }

    impl From<Block> for shared::Block {
        fn from(v5: Block) -> Self {
            shared::Block {
                version: v5.version,
                attributes: v5.attributes.into_iter().map(Into::into).collect(),
                block_types: v5.block_types.into_iter().map(Into::into).collect(),
                description: v5.description,
                description_kind: v5.description_kind,
                deprecated: v5.deprecated,
            }
        }
    }

    impl From<Attribute> for shared::Attribute {
        fn from(v5: Attribute) -> Self {
            shared::Attribute {
                name: v5.name,
                r#type: v5.r#type,
                nested_type: None,
                description: v5.description,
                required: v5.required,
                optional: v5.optional,
                computed: v5.computed,
                sensitive: v5.sensitive,
                description_kind: v5.description_kind,
                deprecated: v5.deprecated,
                write_only: v5.write_only,
            }
        }
    }

    impl From<NestedBlock> for shared::NestedBlock {
        fn from(v5: NestedBlock) -> Self {
            shared::NestedBlock {
                type_name: v5.type_name,
                block: v5.block.map(Into::into),
                nesting: v5.nesting,
                min_items: v5.min_items,
                max_items: v5.max_items,
            }
        }
    }
}
