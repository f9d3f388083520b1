//! What the `stratatest` test provider declares and does: its schema and its answer to each
//! call, in one place (the go-plugin serving around it is in `main.rs`). Tests of the wire layer
//! and of the plugin provider rely on exactly this behaviour:
//!
//! - provider config: `endpoint` (string, optional), `token` (string, optional, sensitive).
//!   ValidateProviderConfig answers an error at path `endpoint` when `endpoint = "invalid"`.
//!   ConfigureProvider answers a warning (no path) when `token` is null.
//! - `stratatest_thing` (schema version 1): `id` (string, computed), `name` (string, required,
//!   changing it forces replacement), `tags` (map of string, optional), `settings` (protocol 6
//!   nested attribute, single object of `size` number and `label` string, optional), and a
//!   `rule` block (list, `port` number required). ValidateResourceConfig answers an error at
//!   `settings.label` when that label is `"invalid"`.
//!   Plan: the proposed state, with `id` unknown on create or when `name` changes (then
//!   `requires_replace = [name]`), and the prior `id` otherwise; `planned_private` is
//!   `planned:` followed by the prior private bytes. Apply: the planned state with an unknown
//!   `id` set to `thing-N` (N counts from 1 per process), `private` = planned private + `|applied`;
//!   a null planned state (delete) gives a null new state. Read echoes state and private.
//!   A misbehaving provider on request: a `name` of `lie-in-plan` is planned as `lied`, and one
//!   of `lie-after-apply` comes back from apply as `lied` (the consistency checks' tests).
//!   Import of id X gives `{id = X, name = X}` (others null) with private `imported`.
//!   UpgradeResourceState from version 0 renames the attribute `title` to `name`.
//! - `stratatest_nest` (schema version 0): the nesting modes Terraform renders its own way: `id`
//!   (string, computed), `name` (string, required), a `listener` block nested as a map
//!   (`listener "KEY" { port = N, protocol = S }`, `port` number required, `protocol` string
//!   optional) and protocol 6 nested attributes `endpoints` (list of `host` string required,
//!   `weight` number optional), `members` (set of `name` string required, `role` string
//!   optional) and `zones` (map of `cidr` string required, `public` bool optional), all
//!   optional. It plans, applies and reads as `stratatest_thing` does.
//! - `stratatest_crash`: same attributes as `stratatest_thing`; ApplyResourceChange prints a Go
//!   style panic to stderr and exits the process with status 2 (a provider crashing mid-apply).
//! - data source `stratatest_echo`: `input` (string, required), `output` (string, computed);
//!   ReadDataSource sets `output = "echo: <input>"`.
//! - StopProvider answers no error; GetMetadata lists the types above.
//! - resource identity (Terraform 1.12+): `stratatest_thing` has the identity schema version 0
//!   `{id = string}` (GetResourceIdentitySchemas); ReadResource echoes the current identity,
//!   Plan plans the prior one, Apply answers `{id = <the object's id>}` for an object.

use rmpv::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use strata::providers::plugin::proto::{self, diagnostic::Severity, schema, DynamicValue};

pub const THING: &str = "stratatest_thing";
pub const CRASH: &str = "stratatest_crash";
pub const ECHO: &str = "stratatest_echo";
pub const NEST: &str = "stratatest_nest";

/// The provider's state across calls of one process.
#[derive(Default)]
pub struct Provider {
    next_id: AtomicU64,
}

pub fn schema() -> proto::GetProviderSchemaResponse {
    let provider = block(
        vec![
            attribute("endpoint", "\"string\"", Flags::Optional),
            attribute("token", "\"string\"", Flags::OptionalSensitive),
        ],
        vec![],
    );
    let echo = block(
        vec![
            attribute("input", "\"string\"", Flags::Required),
            attribute("output", "\"string\"", Flags::Computed),
        ],
        vec![],
    );
    let resources = [THING, CRASH]
        .into_iter()
        .map(|name| (name.to_string(), versioned(1, thing_block())))
        .chain([(NEST.to_string(), versioned(0, nest_block()))])
        .collect();
    proto::GetProviderSchemaResponse {
        provider: Some(versioned(0, provider)),
        resource_schemas: resources,
        data_source_schemas: BTreeMap::from([(ECHO.to_string(), versioned(0, echo))]),
        server_capabilities: Some(proto::ServerCapabilities::default()),
        ..Default::default()
    }
}

/// The identity schemas (only `stratatest_thing` has one).
pub fn identity_schemas() -> proto::GetResourceIdentitySchemasResponse {
    let id = proto::IdentityAttribute {
        name: "id".into(),
        r#type: b"\"string\"".to_vec(),
        required_for_import: true,
        ..Default::default()
    };
    let thing = proto::ResourceIdentitySchema {
        version: 0,
        identity_attributes: vec![id],
    };
    proto::GetResourceIdentitySchemasResponse {
        identity_schemas: BTreeMap::from([(THING.to_string(), thing)]),
        diagnostics: Vec::new(),
    }
}

fn thing_block() -> schema::Block {
    let settings = schema::Attribute {
        name: "settings".into(),
        nested_type: Some(schema::Object {
            attributes: vec![
                attribute("size", "\"number\"", Flags::Optional),
                attribute("label", "\"string\"", Flags::Optional),
            ],
            nesting: schema::object::NestingMode::Single as i32,
            ..Default::default()
        }),
        optional: true,
        ..Default::default()
    };
    let rule = schema::NestedBlock {
        type_name: "rule".into(),
        block: Some(block(
            vec![attribute("port", "\"number\"", Flags::Required)],
            vec![],
        )),
        nesting: schema::nested_block::NestingMode::List as i32,
        ..Default::default()
    };
    block(
        vec![
            attribute("id", "\"string\"", Flags::Computed),
            attribute("name", "\"string\"", Flags::Required),
            attribute("tags", "[\"map\",\"string\"]", Flags::Optional),
            settings,
        ],
        vec![rule],
    )
}

/// `stratatest_nest`: a map-nested block and the three collection kinds of nested attribute.
fn nest_block() -> schema::Block {
    use schema::object::NestingMode;
    let nested =
        |name: &str, nesting: NestingMode, attributes: Vec<schema::Attribute>| schema::Attribute {
            name: name.into(),
            nested_type: Some(schema::Object {
                attributes,
                nesting: nesting as i32,
                ..Default::default()
            }),
            optional: true,
            ..Default::default()
        };
    let endpoints = vec![
        attribute("host", "\"string\"", Flags::Required),
        attribute("weight", "\"number\"", Flags::Optional),
    ];
    let members = vec![
        attribute("name", "\"string\"", Flags::Required),
        attribute("role", "\"string\"", Flags::Optional),
    ];
    let zones = vec![
        attribute("cidr", "\"string\"", Flags::Required),
        attribute("public", "\"bool\"", Flags::Optional),
    ];
    let listener = schema::NestedBlock {
        type_name: "listener".into(),
        block: Some(block(
            vec![
                attribute("port", "\"number\"", Flags::Required),
                attribute("protocol", "\"string\"", Flags::Optional),
            ],
            vec![],
        )),
        nesting: schema::nested_block::NestingMode::Map as i32,
        ..Default::default()
    };
    block(
        vec![
            attribute("id", "\"string\"", Flags::Computed),
            attribute("name", "\"string\"", Flags::Required),
            nested("endpoints", NestingMode::List, endpoints),
            nested("members", NestingMode::Set, members),
            nested("zones", NestingMode::Map, zones),
        ],
        vec![listener],
    )
}

enum Flags {
    Required,
    Optional,
    OptionalSensitive,
    Computed,
}

fn attribute(name: &str, cty_type: &str, flags: Flags) -> schema::Attribute {
    schema::Attribute {
        name: name.into(),
        r#type: cty_type.as_bytes().to_vec(),
        required: matches!(flags, Flags::Required),
        optional: matches!(flags, Flags::Optional | Flags::OptionalSensitive),
        computed: matches!(flags, Flags::Computed),
        sensitive: matches!(flags, Flags::OptionalSensitive),
        ..Default::default()
    }
}

fn block(
    attributes: Vec<schema::Attribute>,
    block_types: Vec<schema::NestedBlock>,
) -> schema::Block {
    schema::Block {
        attributes,
        block_types,
        ..Default::default()
    }
}

fn versioned(version: i64, block: schema::Block) -> proto::Schema {
    proto::Schema {
        version,
        block: Some(block),
    }
}

impl Provider {
    pub fn metadata(&self) -> proto::GetMetadataResponse {
        let names = |names: &[&str]| {
            names
                .iter()
                .map(|name| proto::TypeNameMetadata {
                    type_name: name.to_string(),
                })
                .collect()
        };
        proto::GetMetadataResponse {
            server_capabilities: Some(proto::ServerCapabilities::default()),
            resources: names(&[THING, CRASH, NEST]),
            data_sources: names(&[ECHO]),
            ..Default::default()
        }
    }

    pub fn validate_provider_config(
        &self,
        request: proto::ValidateProviderConfigRequest,
    ) -> proto::ValidateProviderConfigResponse {
        let config = decode(request.config.as_ref());
        let mut diagnostics = Vec::new();
        if get(&config, "endpoint").as_str() == Some("invalid") {
            diagnostics.push(diagnostic(
                Severity::Error,
                "Invalid endpoint",
                "The endpoint must be a URL.",
                &["endpoint"],
            ));
        }
        proto::ValidateProviderConfigResponse {
            prepared_config: None,
            diagnostics,
        }
    }

    pub fn configure(
        &self,
        request: proto::ConfigureProviderRequest,
    ) -> proto::DiagnosticsResponse {
        let config = decode(request.config.as_ref());
        let mut diagnostics = Vec::new();
        if get(&config, "token").is_nil() {
            diagnostics.push(diagnostic(
                Severity::Warning,
                "No token",
                "stratatest runs without a token.",
                &[],
            ));
        }
        proto::DiagnosticsResponse { diagnostics }
    }

    pub fn validate_resource_config(
        &self,
        request: proto::ValidateResourceConfigRequest,
    ) -> proto::DiagnosticsResponse {
        let config = decode(request.config.as_ref());
        let label = get(get(&config, "settings"), "label");
        let mut diagnostics = Vec::new();
        if label.as_str() == Some("invalid") {
            diagnostics.push(diagnostic(
                Severity::Error,
                "Invalid label",
                "A label must not be \"invalid\".",
                &["settings", "label"],
            ));
        }
        proto::DiagnosticsResponse { diagnostics }
    }

    pub fn upgrade_resource_state(
        &self,
        request: proto::UpgradeResourceStateRequest,
    ) -> proto::UpgradeResourceStateResponse {
        let raw = request.raw_state.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&raw.json).unwrap_or_default();
        let mut state = from_json(&json);
        if request.version == 0 {
            rename(&mut state, "title", "name");
        }
        proto::UpgradeResourceStateResponse {
            upgraded_state: Some(encode(&state)),
            diagnostics: Vec::new(),
        }
    }

    pub fn read_resource(
        &self,
        request: proto::ReadResourceRequest,
    ) -> proto::ReadResourceResponse {
        proto::ReadResourceResponse {
            new_state: request.current_state,
            private: request.private,
            new_identity: request.current_identity,
            ..Default::default()
        }
    }

    pub fn plan(
        &self,
        request: proto::PlanResourceChangeRequest,
    ) -> proto::PlanResourceChangeResponse {
        let prior = decode(request.prior_state.as_ref());
        let mut planned = decode(request.proposed_new_state.as_ref());
        let mut requires_replace = Vec::new();
        if !planned.is_nil() {
            let renamed = !prior.is_nil() && get(&prior, "name") != get(&planned, "name");
            if renamed {
                requires_replace.push(proto::AttributePath::attributes(["name"]));
            }
            let id = match prior.is_nil() || renamed {
                true => unknown(),
                false => get(&prior, "id").clone(),
            };
            set(&mut planned, "id", id);
            if get(&planned, "name").as_str() == Some("lie-in-plan") {
                set(&mut planned, "name", Value::from("lied"));
            }
        }
        let mut planned_private = b"planned:".to_vec();
        planned_private.extend_from_slice(&request.prior_private);
        proto::PlanResourceChangeResponse {
            planned_state: Some(encode(&planned)),
            requires_replace,
            planned_private,
            planned_identity: request.prior_identity,
            ..Default::default()
        }
    }

    pub fn apply(
        &self,
        request: proto::ApplyResourceChangeRequest,
    ) -> proto::ApplyResourceChangeResponse {
        if request.type_name == CRASH {
            crash();
        }
        let mut state = decode(request.planned_state.as_ref());
        if state.is_nil() {
            return proto::ApplyResourceChangeResponse {
                new_state: Some(encode(&Value::Nil)),
                ..Default::default()
            };
        }
        if is_unknown(get(&state, "id")) {
            let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
            set(&mut state, "id", Value::from(format!("thing-{id}")));
        }
        if get(&state, "name").as_str() == Some("lie-after-apply") {
            set(&mut state, "name", Value::from("lied"));
        }
        let mut private = request.planned_private;
        private.extend_from_slice(b"|applied");
        let new_identity = (request.type_name == THING).then(|| proto::ResourceIdentityData {
            identity_data: Some(encode(&object(&[("id", get(&state, "id").clone())]))),
        });
        proto::ApplyResourceChangeResponse {
            new_state: Some(encode(&state)),
            private,
            new_identity,
            ..Default::default()
        }
    }

    pub fn import(
        &self,
        request: proto::ImportResourceStateRequest,
    ) -> proto::ImportResourceStateResponse {
        let state = object(&[
            ("id", Value::from(request.id.as_str())),
            ("name", Value::from(request.id.as_str())),
            ("rule", Value::Nil),
            ("settings", Value::Nil),
            ("tags", Value::Nil),
        ]);
        proto::ImportResourceStateResponse {
            imported_resources: vec![proto::ImportedResource {
                type_name: request.type_name,
                state: Some(encode(&state)),
                private: b"imported".to_vec(),
                identity: None,
            }],
            ..Default::default()
        }
    }

    pub fn read_data_source(
        &self,
        request: proto::ReadDataSourceRequest,
    ) -> proto::ReadDataSourceResponse {
        let mut state = decode(request.config.as_ref());
        let output = match get(&state, "input").as_str() {
            Some(input) => Value::from(format!("echo: {input}")),
            None => unknown(),
        };
        set(&mut state, "output", output);
        proto::ReadDataSourceResponse {
            state: Some(encode(&state)),
            ..Default::default()
        }
    }
}

/// What a Go provider's panic looks like to its caller: text on stderr, then exit status 2.
fn crash() -> ! {
    eprintln!("panic: stratatest_crash was asked to crash");
    eprintln!();
    eprintln!("goroutine 1 [running]:");
    eprintln!("main.apply(...)");
    std::process::exit(2)
}

fn diagnostic(severity: Severity, summary: &str, detail: &str, path: &[&str]) -> proto::Diagnostic {
    proto::Diagnostic {
        severity: severity as i32,
        summary: summary.into(),
        detail: detail.into(),
        attribute: (!path.is_empty())
            .then(|| proto::AttributePath::attributes(path.iter().copied())),
    }
}

/// cty's msgpack encoding of an unknown value: extension type 0.
fn unknown() -> Value {
    Value::Ext(0, vec![0])
}

fn is_unknown(value: &Value) -> bool {
    matches!(value, Value::Ext(0, _))
}

fn decode(value: Option<&DynamicValue>) -> Value {
    match value {
        Some(value) if !value.msgpack.is_empty() => {
            rmpv::decode::read_value(&mut value.msgpack.as_slice()).unwrap_or(Value::Nil)
        }
        Some(value) if !value.json.is_empty() => {
            from_json(&serde_json::from_slice(&value.json).unwrap_or_default())
        }
        _ => Value::Nil,
    }
}

fn encode(value: &Value) -> DynamicValue {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut bytes, value);
    DynamicValue::msgpack(bytes)
}

fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(flag) => Value::from(*flag),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(int) => Value::from(int),
            None => Value::from(number.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(text) => Value::from(text.as_str()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        serde_json::Value::Object(fields) => Value::Map(
            fields
                .iter()
                .map(|(key, value)| (Value::from(key.as_str()), from_json(value)))
                .collect(),
        ),
    }
}

fn object(fields: &[(&str, Value)]) -> Value {
    Value::Map(
        fields
            .iter()
            .map(|(key, value)| (Value::from(*key), value.clone()))
            .collect(),
    )
}

static NIL: Value = Value::Nil;

fn get<'a>(object: &'a Value, key: &str) -> &'a Value {
    match object {
        Value::Map(fields) => fields
            .iter()
            .find(|(name, _)| name.as_str() == Some(key))
            .map_or(&NIL, |(_, value)| value),
        _ => &NIL,
    }
}

fn set(object: &mut Value, key: &str, value: Value) {
    if let Value::Map(fields) = object {
        match fields
            .iter_mut()
            .find(|(name, _)| name.as_str() == Some(key))
        {
            Some((_, slot)) => *slot = value,
            None => fields.push((Value::from(key), value)),
        }
    }
}

fn rename(object: &mut Value, from: &str, to: &str) {
    if let Value::Map(fields) = object {
        for (name, _) in fields.iter_mut() {
            if name.as_str() == Some(from) {
                *name = Value::from(to);
            }
        }
    }
}
