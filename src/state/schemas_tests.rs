//! Decoding a state as Terraform writes it per schema, and writing it back unchanged.

use super::*;
use crate::providers::schema::{Attribute, ResourceSchema};
use crate::state::format::{read_state, write_state};

const SOURCE: &str = "terraform.io/builtin/terraform";

fn schemas() -> Arc<StateSchemas> {
    let mut provider = ProviderSchema::default();
    provider.resources.insert(
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
    let mut schemas = StateSchemas::new();
    schemas.insert_provider(SOURCE, &provider);
    Arc::new(schemas)
}

fn state_text(instances: &str) -> String {
    format!(
        r#"{{
  "version": 4,
  "terraform_version": "1.15.5",
  "serial": 3,
  "lineage": "l",
  "outputs": {{}},
  "resources": [
    {{
      "mode": "managed",
      "type": "terraform_data",
      "name": "a",
      "provider": "provider[\"{SOURCE}\"]",
      "instances": [
{instances}
      ]
    }}
  ],
  "check_results": null
}}
"#
    )
}

const TERRAFORM_INSTANCE: &str = r#"        {
          "schema_version": 0,
          "attributes": {
            "id": "x",
            "input": {
              "value": {
                "hidden": "s3cr3t",
                "n": 12345678901234567890.125,
                "plain": [
                  1,
                  "a"
                ]
              },
              "type": [
                "object",
                {
                  "hidden": "string",
                  "n": "number",
                  "plain": [
                    "tuple",
                    [
                      "number",
                      "string"
                    ]
                  ]
                }
              ]
            },
            "output": null,
            "triggers_replace": {
              "value": "t",
              "type": "string"
            }
          },
          "sensitive_attributes": [
            [
              {
                "type": "get_attr",
                "value": "input"
              },
              {
                "type": "get_attr",
                "value": "hidden"
              }
            ]
          ],
          "identity_schema_version": 0,
          "private": "bnVsbA=="
        }"#;

#[test]
fn terraform_states_decode_per_schema_and_write_back_unchanged() {
    let text = state_text(TERRAFORM_INSTANCE);
    let mut state = read_state(&text, "t").unwrap();
    state.attach_schemas(schemas());
    let address = ResourceInstance::parse("terraform_data.a").unwrap();
    let value = &state.resources[&address].value;
    assert_eq!(
        value.get_attr("triggers_replace"),
        Some(&Value::string("t"))
    );
    let input = value.get_attr("input").unwrap();
    assert_eq!(
        input.get_attr("hidden"),
        Some(&Value::string("s3cr3t").mark_sensitive())
    );
    assert_eq!(
        input
            .get_attr("n")
            .and_then(Value::as_number)
            .map(ToString::to_string),
        Some("12345678901234567890.125".to_string())
    );
    assert_eq!(
        input.get_attr("plain"),
        Some(&Value::Tuple(vec![Value::from(1), Value::string("a")]))
    );
    // Written back byte for byte, private data included.
    assert_eq!(write_state(&state).unwrap(), text);
    // Attaching twice changes nothing.
    state.attach_schemas(schemas());
    assert_eq!(write_state(&state).unwrap(), text);
}

#[test]
fn bare_dynamic_values_of_older_strata_states_are_read_and_rewritten_wrapped() {
    let old = r#"        {
          "schema_version": 0,
          "attributes": {
            "id": "x",
            "input": {
              "k": "v"
            },
            "output": "o",
            "triggers_replace": null
          },
          "sensitive_attributes": [],
          "identity_schema_version": 0
        }"#;
    let mut state = read_state(&state_text(old), "t").unwrap();
    state.attach_schemas(schemas());
    let address = ResourceInstance::parse("terraform_data.a").unwrap();
    let value = &state.resources[&address].value;
    assert_eq!(
        value.get_attr("input"),
        Some(&Value::object([("k", Value::string("v"))]))
    );
    let written = write_state(&state).unwrap();
    assert!(
        written.contains("\"value\": \"o\",\n              \"type\": \"string\""),
        "{written}"
    );
}

#[test]
fn states_without_schemas_and_unknown_types_stay_as_read() {
    let text = state_text(TERRAFORM_INSTANCE);
    let state = read_state(&text, "t").unwrap();
    assert_eq!(write_state(&state).unwrap(), text);
    // A provider the schemas do not know: left as read.
    let other = text.replace(SOURCE, "registry.terraform.io/hashicorp/other");
    let mut state = read_state(&other, "t").unwrap();
    state.attach_schemas(schemas());
    assert_eq!(write_state(&state).unwrap(), other);
    assert_eq!(
        provider_source("module.m.provider[\"registry.terraform.io/hashicorp/aws\"].west"),
        Some("registry.terraform.io/hashicorp/aws")
    );
}

#[test]
fn attributes_encode_and_decode_per_block() {
    let block = Block::new()
        .attr("id", Attribute::computed(Type::String))
        .attr("input", Attribute::optional(Type::Any));
    let value = Value::object([
        ("id", Value::string("x")),
        ("input", Value::List(vec![Value::from(1)])),
    ]);
    let json = encode_attributes(&block, &value).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"id": "x", "input": {"value": [1], "type": ["list", "number"]}})
    );
    assert_eq!(decode_attributes(&block, &json).unwrap(), value);
}

/// A state read with schemas ([`crate::state::format::read_state_with`]) in one pass.
fn read_with_schemas(text: &str, schemas: Arc<StateSchemas>) -> State {
    crate::state::format::read_state_with(text, "t", Some(schemas)).unwrap()
}

/// Reading with the schemas gives what reading without them and attaching them gives, marks
/// included, and writes the same bytes: for Terraform's encoding, an older Strata's bare
/// dynamic values (decoded attribute by attribute), a sensitive map key, and an object recorded
/// under an older schema version (left as the file has it).
#[test]
fn reading_with_schemas_is_reading_then_attaching() {
    let bare = r#"        {
          "schema_version": 0,
          "attributes": {
            "id": "x",
            "input": {
              "k": "v"
            },
            "output": "o",
            "triggers_replace": null
          },
          "sensitive_attributes": [
            [
              {
                "type": "get_attr",
                "value": "input"
              },
              {
                "type": "index",
                "value": {
                  "value": "k",
                  "type": "string"
                }
              }
            ]
          ],
          "identity_schema_version": 0
        }"#;
    let mut newer = StateSchemas::new();
    let mut provider = ProviderSchema::default();
    provider.resources.insert(
        "terraform_data".into(),
        ResourceSchema {
            version: 1,
            block: Block::new().attr("id", Attribute::computed(Type::Number)),
        },
    );
    newer.insert_provider(SOURCE, &provider);
    let cases = [
        (TERRAFORM_INSTANCE, schemas()),
        (bare, schemas()),
        (TERRAFORM_INSTANCE, Arc::new(newer)),
    ];
    for (instance, schemas) in cases {
        let text = state_text(instance);
        let mut expected = read_state(&text, "t").unwrap();
        expected.attach_schemas(Arc::clone(&schemas));
        let state = read_with_schemas(&text, Arc::clone(&schemas));
        assert!(state.schemas().is_some());
        assert_eq!(
            format!("{:?}", state.resources),
            format!("{:?}", expected.resources)
        );
        assert_eq!(
            write_state(&state).unwrap(),
            write_state(&expected).unwrap()
        );
    }
    // Read without schemas: none attached.
    assert!(read_state(&state_text(bare), "t")
        .unwrap()
        .schemas()
        .is_none());
}

/// A journal replayed onto a state read with schemas (what a run after a kill -9 does) leaves
/// the replayed objects decoded per their schema too, as replaying onto a state read without
/// them and attaching the schemas afterwards does: same values, same bytes written.
#[test]
fn a_journal_replayed_onto_a_state_read_with_schemas_is_decoded_too() {
    use crate::state::journal::{replay, sealed_line, sealed_lines, JournalHeader};
    use crate::state::StateChange;
    let text = state_text(TERRAFORM_INSTANCE);
    let untyped = read_state(&text, "t").unwrap();
    let a = ResourceInstance::parse("terraform_data.a").unwrap();
    let put = StateChange::Put {
        address: ResourceInstance::parse("terraform_data.b").unwrap(),
        object: untyped.resources[&a].clone(),
    };
    let header = JournalHeader {
        lineage: untyped.lineage.clone(),
        serial: untyped.serial,
    };
    let sealer = crate::encryption::Sealer::default();
    let mut journal = sealed_line(&header, &sealer).unwrap();
    journal.extend(sealed_lines(&[put], &sealer).unwrap());

    let mut expected = replay("j", &journal, Some(untyped)).unwrap().unwrap();
    expected.attach_schemas(schemas());
    let typed = read_with_schemas(&text, schemas());
    let replayed = replay("j", &journal, Some(typed)).unwrap().unwrap();
    assert_eq!(replayed.resources, expected.resources);
    assert_eq!(
        write_state(&replayed).unwrap(),
        write_state(&expected).unwrap()
    );
}
