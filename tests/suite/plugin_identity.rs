//! Resource identities (Terraform 1.12+: `identity` and `identity_schema_version` beside an
//! instance's attributes) kept byte for byte through Strata's commands. Terraform 1.15.5 applies
//! the test provider's `stratatest_thing` (which has an identity schema, so Terraform records
//! each object's identity); Strata then plans, applies an in-place update, moves an instance and
//! pulls the state; every identity is as Terraform wrote it, and Terraform plans `No changes.`
//! on Strata's result. Strata does not call the identity RPCs itself: an object it creates or
//! replaces has no identity until a provider that reports one refreshes it under Terraform.

use crate::plugin_nesting::{ok, Dir};
use serde_json::Value as Json;

const PROVIDER: &str = r#"terraform {
  required_providers {
    stratatest = {
      source = "strata/stratatest"
    }
  }
}
"#;

fn config(first: &str, tag: &str) -> String {
    format!(
        "{PROVIDER}\nresource \"stratatest_thing\" \"{first}\" {{\n  name = \"a\"\n}}\n\nresource \"stratatest_thing\" \"b\" {{\n  name = \"b\"\n  tags = {{ v = \"{tag}\" }}\n}}\n"
    )
}

/// `(address, identity_schema_version, identity)` of every instance of the state file.
fn identities(dir: &Dir) -> Vec<(String, Json, Json)> {
    let text = std::fs::read_to_string(dir.work().join("terraform.tfstate")).expect("a state");
    let state: Json = serde_json::from_str(&text).expect("state JSON");
    let mut found = Vec::new();
    for resource in state["resources"].as_array().expect("resources") {
        for instance in resource["instances"].as_array().expect("instances") {
            let address = format!("{}.{}", resource["type"], resource["name"]);
            found.push((
                address.replace('"', ""),
                instance["identity_schema_version"].clone(),
                instance["identity"].clone(),
            ));
        }
    }
    found
}

#[test]
fn identities_terraform_recorded_survive_strata_plan_apply_and_state_commands() {
    let peer = crate::common::ensure_installed("ensure-terraform-peer.sh");
    let dir = Dir::new(&peer, "v1.tf");
    let main_tf = dir.work().join("main.tf");
    std::fs::write(&main_tf, config("a", "1")).unwrap();
    ok(dir.terraform(&["init", "-no-color"]), "terraform init");
    ok(
        dir.terraform(&["apply", "-auto-approve", "-no-color"]),
        "terraform apply",
    );
    let recorded = identities(&dir);
    assert_eq!(recorded.len(), 2);
    for (address, _, identity) in &recorded {
        assert!(identity["id"].is_string(), "{address}: {identity}");
    }

    let planned = ok(dir.strata(&["plan", "-no-color"]), "strata plan");
    assert!(planned.contains("No changes."), "{planned}");
    assert_eq!(identities(&dir), recorded);

    // An in-place update of b: both identities stay.
    std::fs::write(&main_tf, config("a", "2")).unwrap();
    let applied = ok(
        dir.strata(&["apply", "-auto-approve", "-no-color"]),
        "strata apply",
    );
    assert!(
        applied.contains("0 added, 1 changed, 0 destroyed"),
        "{applied}"
    );
    assert_eq!(identities(&dir), recorded);

    // Moved: the identity goes with the object.
    let moved = ok(
        dir.strata(&["state", "mv", "stratatest_thing.a", "stratatest_thing.c"]),
        "strata state mv",
    );
    assert!(moved.contains("Successfully moved 1 object(s)."), "{moved}");
    std::fs::write(&main_tf, config("c", "2")).unwrap();
    let after_move = identities(&dir);
    assert_eq!(after_move[1].0, "stratatest_thing.c");
    assert_eq!(after_move[1].1, recorded[0].1);
    assert_eq!(after_move[1].2, recorded[0].2);
    assert_eq!(after_move[0], recorded[1]);
    let pulled = ok(dir.strata(&["state", "pull"]), "strata state pull");
    let file = std::fs::read_to_string(dir.work().join("terraform.tfstate")).unwrap();
    assert_eq!(pulled.trim_end(), file.trim_end());

    // Terraform reads Strata's result: nothing to change, the identities as they were.
    let replan = dir.terraform(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(
        replan.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&replan.stdout),
        String::from_utf8_lossy(&replan.stderr)
    );
    ok(
        dir.terraform(&["apply", "-auto-approve", "-no-color"]),
        "terraform apply on Strata's state",
    );
    assert_eq!(identities(&dir), after_move);
}
