//! An apply with nothing to change still writes what the plan's refresh learned, as Terraform
//! 1.15.5 does: here an object recorded under an older schema version of the test provider
//! (`stratatest_thing` v0 called `name` `title`), which the provider upgrades. Both tools apply
//! the same configuration to the same state, and must write the same state: the upgraded
//! attributes and schema version, the serial moved on by one, the lineage kept; a second apply
//! that finds nothing new leaves the serial where it is. Drift found by the refresh is written
//! the same way (checked on Strata alone with the built-in fake provider).

use crate::plugin_nesting::{ok, Dir};
use serde_json::Value as Json;

const MAIN_TF: &str = r#"terraform {
  required_providers {
    stratatest = {
      source = "strata/stratatest"
    }
  }
}

resource "stratatest_thing" "a" {
  name = "kept"
  tags = { team = "core" }
}
"#;

fn state_of(dir: &Dir) -> Json {
    read_state(&dir.work())
}

fn write_state(dir: &Dir, state: &Json) {
    let text = serde_json::to_string_pretty(state).unwrap();
    std::fs::write(dir.work().join("terraform.tfstate"), text).expect("write the state");
}

/// What both tools must agree on: serial, lineage and the resources (not the writer's version).
fn essentials(state: &Json) -> Json {
    serde_json::json!({
        "serial": state["serial"],
        "lineage": state["lineage"],
        "resources": state["resources"],
    })
}

#[test]
fn an_apply_with_no_changes_writes_the_upgraded_state_as_terraform_does() {
    let peer = crate::common::ensure_installed("ensure-terraform-peer.sh");
    let ours = Dir::new(&peer, "v1.tf");
    let theirs = Dir::new(&peer, "v1.tf");
    for dir in [&ours, &theirs] {
        std::fs::write(dir.work().join("main.tf"), MAIN_TF).unwrap();
        ok(dir.terraform(&["init", "-no-color"]), "terraform init");
    }
    ok(
        ours.strata(&["apply", "-auto-approve", "-no-color"]),
        "strata apply",
    );
    // The same object as an older provider version recorded it.
    let mut old = state_of(&ours);
    let instance = &mut old["resources"][0]["instances"][0];
    instance["schema_version"] = Json::from(0);
    let attributes = instance["attributes"].as_object_mut().expect("attributes");
    let name = attributes.remove("name").expect("a name");
    attributes.insert("title".into(), name);
    write_state(&ours, &old);
    write_state(&theirs, &old);

    let applied = ok(
        ours.strata(&["apply", "-auto-approve", "-no-color"]),
        "strata apply with nothing to change",
    );
    assert!(applied.contains("No changes."), "{applied}");
    ok(
        theirs.terraform(&["apply", "-auto-approve", "-no-color"]),
        "terraform apply with nothing to change",
    );
    let (our_state, their_state) = (state_of(&ours), state_of(&theirs));
    assert_eq!(essentials(&our_state), essentials(&their_state));
    let instance = &our_state["resources"][0]["instances"][0];
    assert_eq!(instance["schema_version"], 1, "{our_state:#}");
    assert_eq!(instance["attributes"]["name"], "kept", "{our_state:#}");
    assert!(
        instance["attributes"].get("title").is_none(),
        "{our_state:#}"
    );
    assert_eq!(our_state["serial"], old["serial"].as_u64().unwrap() + 1);
    assert_eq!(our_state["lineage"], old["lineage"]);

    // Nothing new: each tool leaves the state (and its serial) as it was.
    ok(
        ours.strata(&["apply", "-auto-approve", "-no-color"]),
        "strata apply again",
    );
    ok(
        theirs.terraform(&["apply", "-auto-approve", "-no-color"]),
        "terraform apply again",
    );
    assert_eq!(essentials(&state_of(&ours)), essentials(&our_state));
    assert_eq!(essentials(&state_of(&theirs)), essentials(&their_state));
}

/// Drift in a computed attribute (the built-in fake provider's `computed`, changed in its store
/// behind Strata's back) plans no change, and the apply writes what the refresh read, as
/// Terraform writes a refreshed state; with nothing new, the next apply writes nothing.
#[test]
fn an_apply_with_no_changes_writes_what_the_refresh_found() {
    let dir = crate::common::Workdir::new(
        "resource \"fake_resource\" \"web\" {\n  name  = \"web\"\n  value = \"v1\"\n}\n",
    );
    let applied = dir.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(applied.status.success(), "{applied:?}");
    let before = read_state(&dir.work);
    let object_file = std::fs::read_dir(&dir.store)
        .expect("the fake store")
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "json"))
        .expect("the fake object");
    let mut object: Json =
        serde_json::from_str(&std::fs::read_to_string(&object_file).unwrap()).unwrap();
    object["computed"] = Json::String("changed-outside".into());
    std::fs::write(&object_file, object.to_string()).unwrap();

    let applied = dir.run(&["apply", "-auto-approve", "-no-color"]);
    let printed = String::from_utf8_lossy(&applied.stdout).to_string();
    assert!(applied.status.success(), "{applied:?}");
    assert!(printed.contains("No changes."), "{printed}");
    let after = read_state(&dir.work);
    let attributes = &after["resources"][0]["instances"][0]["attributes"];
    assert_eq!(attributes["computed"], "changed-outside", "{after:#}");
    assert_eq!(after["serial"], before["serial"].as_u64().unwrap() + 1);
    assert_eq!(after["lineage"], before["lineage"]);

    let again = dir.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(read_state(&dir.work), after);
}

fn read_state(dir: &std::path::Path) -> Json {
    let text = std::fs::read_to_string(dir.join("terraform.tfstate")).expect("a state");
    serde_json::from_str(&text).expect("state JSON")
}
