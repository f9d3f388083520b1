//! The one-pass reader against the JSON tree's: the same state from every state fixture, with
//! and without schemas, and the fast path taken where the layout is Terraform's.

use super::*;
use crate::providers::Registry;
use crate::state::format::{read_state_through_tree, read_state_with, write_state};
use std::sync::Arc;

/// The resource schemas of the built-in providers, as a command that runs them reads the state.
fn builtin_schemas() -> Arc<StateSchemas> {
    let registry = Registry::builtin();
    let mut schemas = StateSchemas::new();
    for name in registry.names() {
        if let Some(registered) = registry.get(name) {
            schemas.insert_provider(&registered.source, &(registered.factory)().schema());
        }
    }
    Arc::new(schemas)
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/state/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads `text` both ways and checks they agree (values, marks, schemas, bytes written, or the
/// error); returns whether the one-pass reader took it.
fn agree(name: &str, text: &str, schemas: Option<Arc<StateSchemas>>) -> bool {
    let streamed = read(text, schemas.as_deref()).is_some();
    let fast = read_state_with(text, name, schemas.clone());
    let tree = read_state_through_tree(text, name, schemas);
    match (fast, tree) {
        (Ok(fast), Ok(tree)) => {
            assert_eq!(fast, tree, "{name}");
            assert_eq!(
                format!("{:?}", fast.resources),
                format!("{:?}", tree.resources),
                "{name}: marks"
            );
            assert_eq!(fast.schemas().is_some(), tree.schemas().is_some(), "{name}");
            assert_eq!(write_state(&fast).ok(), write_state(&tree).ok(), "{name}");
        }
        (Err(fast), Err(tree)) => assert_eq!(fast.to_string(), tree.to_string(), "{name}"),
        (fast, tree) => panic!("{name}: one pass {fast:?}, tree {tree:?}"),
    }
    streamed
}

#[test]
fn every_state_fixture_reads_as_through_a_json_tree() {
    for name in [
        "terraform-1.15.tfstate",
        "deposed-terraform-1.15.tfstate",
        "terraform-aws.tfstate",
        "bad-instance.tfstate",
        "truncated.tfstate",
        "version-3.tfstate",
    ] {
        let text = fixture(name);
        let canonical = !matches!(name, "bad-instance.tfstate" | "truncated.tfstate");
        for schemas in [None, Some(builtin_schemas())] {
            // That fixture's AWS objects carry a hand-picked few attributes (a subnet with an
            // `ingress`, a database without most of its own): the built-in AWS provider's
            // schemas (with the `aws` feature) do not fit them, so the reader falls back to the
            // tree, as for any attribute that does not fit its schema.
            let fits =
                !(name == "terraform-aws.tfstate" && schemas.is_some() && cfg!(feature = "aws"));
            let streamed = agree(name, &text, schemas);
            assert_eq!(streamed, canonical && fits, "{name}: one pass taken");
        }
    }
}

/// Terraform's layout with sensitive paths into dynamic values and maps, outputs, pending
/// creates, identities and private data: one pass, same state.
#[test]
fn a_state_with_every_field_reads_in_one_pass() {
    let text = r#"{
  "version": 4,
  "terraform_version": "1.15.5",
  "serial": 7,
  "lineage": "l",
  "outputs": {"o": {"value": {"a": 1}, "type": ["object", {"a": "number"}], "sensitive": true}},
  "resources": [
    {
      "module": "module.m[\"k\"]",
      "mode": "managed",
      "type": "terraform_data",
      "name": "a",
      "provider": "provider[\"terraform.io/builtin/terraform\"]",
      "instances": [
        {
          "index_key": "x",
          "status": "tainted",
          "schema_version": 0,
          "attributes": {
            "id": "i\u003c",
            "input": {"value": {"m": {"k": "v"}, "n": 1.50}, "type": ["object", {"m": ["map", "string"], "n": "number"}]},
            "output": {"value": ["a", 2], "type": ["tuple", ["string", "number"]]},
            "triggers_replace": null
          },
          "sensitive_attributes": [
            [{"type": "get_attr", "value": "input"}, {"type": "get_attr", "value": "m"}, {"type": "index", "value": {"value": "k", "type": "string"}}],
            [{"type": "get_attr", "value": "output"}, {"type": "index", "value": {"value": 0, "type": "number"}}]
          ],
          "identity_schema_version": 2,
          "identity": {"id": "i"},
          "private": "eyJ4IjoxfQ==",
          "dependencies": ["terraform_data.b"],
          "create_before_destroy": true,
          "unknown_field": [1, {"x": null}]
        },
        {
          "index_key": "y",
          "deposed": "00000001",
          "schema_version": 0,
          "attributes": {"id": "old", "input": null, "output": null, "triggers_replace": null},
          "sensitive_attributes": []
        }
      ]
    },
    {
      "mode": "data",
      "type": "unknown_type",
      "name": "b",
      "provider": "provider[\"registry.example.com/x/y\"]",
      "instances": [{"schema_version": 3, "attributes": {"a": [1, {"b": "c"}]}, "sensitive_attributes": [[{"type": "get_attr", "value": "a"}]]}]
    }
  ],
  "check_results": null,
  "strata_pending_creates": {"terraform_data.c": "token"}
}
"#;
    for schemas in [None, Some(builtin_schemas())] {
        assert!(agree("every-field", text, schemas));
    }
}

/// What the one-pass reader leaves to the tree: an older Strata's bare dynamic value, fields
/// in another order, a duplicate instance; the result is the tree's either way.
#[test]
fn other_layouts_are_read_through_the_tree() {
    let instance = |fields: &str| {
        format!(
            r#"{{"version": 4, "serial": 1, "lineage": "l", "resources": [{{"mode": "managed", "type": "terraform_data", "name": "a", "provider": "provider[\"terraform.io/builtin/terraform\"]", "instances": [{fields}]}}]}}"#
        )
    };
    let bare = instance(
        r#"{"schema_version": 0, "attributes": {"id": "x", "input": "bare", "output": null, "triggers_replace": null}}"#,
    );
    let reordered = instance(
        r#"{"attributes": {"id": "x", "input": null, "output": null, "triggers_replace": null}, "schema_version": 0}"#,
    );
    let twice = instance(r#"{"schema_version": 0}, {"schema_version": 0}"#);
    let provider_last = r#"{"version": 4, "resources": [{"mode": "managed", "type": "terraform_data", "name": "a", "instances": [{"schema_version": 0, "attributes": {"id": "x"}}], "provider": "provider[\"terraform.io/builtin/terraform\"]"}]}"#;
    let schemas = Some(builtin_schemas());
    assert!(!agree("bare", &bare, schemas.clone()));
    assert!(!agree("reordered", &reordered, schemas.clone()));
    assert!(!agree("twice", &twice, schemas.clone()));
    assert!(!agree("provider-last", provider_last, schemas.clone()));
    // Without schemas, the order of an instance's fields does not matter.
    assert!(agree("reordered", &reordered, None));
    assert!(agree("provider-last", provider_last, None));
}
