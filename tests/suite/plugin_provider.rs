//! Provider plugins as providers, through the `strata` binary: the protocol-6 test provider
//! `terraform-provider-stratatest` (tests/support/plugin6, its behaviour listed there) installed
//! in the working directory's `.terraform/providers` as `terraform init` lays it out. Nested
//! attributes, unknown values, private data through plan, apply and state, diagnostics pointing
//! at the configuration line, and a plugin that crashes mid-apply.

use crate::common::Workdir;
use base64::Engine as _;
use std::path::PathBuf;

const SOURCE: &str = "registry.terraform.io/strata/stratatest";

fn stratatest() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-stratatest"))
}

/// A working directory with `main_tf` and the test provider installed as `init` would.
fn workdir(main_tf: &str) -> Workdir {
    let header = "terraform {\n  required_providers {\n    stratatest = {\n      source = \"strata/stratatest\"\n    }\n  }\n}\n\n";
    let dir = Workdir::new(&format!("{header}{main_tf}"));
    let platform = strata::providers::selection::platform();
    let installed = dir
        .work
        .join(".terraform/providers")
        .join(SOURCE)
        .join("0.1.0")
        .join(platform);
    std::fs::create_dir_all(&installed).expect("create the provider directory");
    std::fs::copy(
        stratatest(),
        installed.join("terraform-provider-stratatest_v0.1.0"),
    )
    .expect("install the test provider");
    dir
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn state(dir: &Workdir) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.work.join("terraform.tfstate")).expect("a state file");
    serde_json::from_str(&text).expect("the state is JSON")
}

fn instance<'a>(state: &'a serde_json::Value, type_name: &str) -> &'a serde_json::Value {
    state["resources"]
        .as_array()
        .and_then(|resources| resources.iter().find(|r| r["type"] == type_name))
        .map(|resource| &resource["instances"][0])
        .unwrap_or_else(|| panic!("no {type_name} in {state:#}"))
}

fn private(instance: &serde_json::Value) -> String {
    let encoded = instance["private"].as_str().expect("private data in state");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    String::from_utf8(bytes).expect("text")
}

/// No plugin process outlives the command that started it.
fn assert_no_plugin_left(dir: &Workdir) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        assert!(
            !cmdline.contains(&*dir.work.to_string_lossy()),
            "a plugin process is still running: {cmdline}"
        );
    }
}

const THING: &str = r#"
resource "stratatest_thing" "a" {
  name = "first"
  tags = { team = "infra" }
  settings = {
    size  = 3
    label = "small"
  }
  rule {
    port = 443
  }
}

resource "stratatest_thing" "b" {
  name = "after-${stratatest_thing.a.id}"
}

data "stratatest_echo" "hello" {
  input = stratatest_thing.b.name
}

output "echo" {
  value = data.stratatest_echo.hello.output
}
"#;

#[test]
fn a_protocol_6_plugin_plans_applies_and_keeps_its_private_data_in_state() {
    let dir = workdir(THING);
    let plan = dir.run(&["plan", "-no-color"]);
    let printed = text(&plan);
    assert!(plan.status.success(), "{printed}");
    assert!(
        printed.contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{printed}"
    );
    // The nested attribute is shown with its values; what the provider computes is unknown.
    assert!(printed.contains("label = \"small\""), "{printed}");
    assert!(printed.contains("(known after apply)"), "{printed}");

    let apply = dir.run(&["apply", "-auto-approve", "-no-color"]);
    let printed = text(&apply);
    assert!(apply.status.success(), "{printed}");
    assert!(printed.contains("echo: after-thing-1"), "{printed}");
    let recorded = state(&dir);
    let a = instance(&recorded, "stratatest_thing");
    assert_eq!(a["attributes"]["id"], "thing-1", "{recorded:#}");
    assert_eq!(a["attributes"]["settings"]["label"], "small");
    assert_eq!(a["schema_version"], 1);
    // The plan's private data went to apply, and apply's into the state.
    assert_eq!(private(a), "planned:|applied");
    assert_no_plugin_left(&dir);

    let again = dir.run(&["plan", "-no-color", "-detailed-exitcode"]);
    let printed = text(&again);
    assert_eq!(again.status.code(), Some(0), "{printed}");
    assert!(printed.contains("No changes."), "{printed}");

    // A change the provider says cannot be made in place: its private data is handed back.
    let renamed = THING.replace("name = \"first\"", "name = \"second\"");
    std::fs::write(
        dir.work.join("main.tf"),
        format!("{}{renamed}", header_of(&dir)),
    )
    .expect("rewrite main.tf");
    let plan = dir.run(&["plan", "-no-color"]);
    let printed = text(&plan);
    assert!(printed.contains("# forces replacement"), "{printed}");
    let apply = dir.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(apply.status.success(), "{}", text(&apply));
    let recorded = state(&dir);
    assert_eq!(
        private(instance(&recorded, "stratatest_thing")),
        "planned:|applied"
    );

    let destroy = dir.run(&["destroy", "-auto-approve", "-no-color"]);
    assert!(destroy.status.success(), "{}", text(&destroy));
    assert!(state(&dir)["resources"]
        .as_array()
        .is_some_and(Vec::is_empty));
    assert_no_plugin_left(&dir);
}

fn header_of(dir: &Workdir) -> String {
    let text = std::fs::read_to_string(dir.work.join("main.tf")).expect("main.tf");
    text[..text.find("\nresource").unwrap_or(0) + 1].to_string()
}

#[test]
fn plugin_diagnostics_point_at_the_attribute_in_the_configuration() {
    let dir = workdir(
        r#"resource "stratatest_thing" "a" {
  name = "first"
  settings = {
    label = "invalid"
  }
}
"#,
    );
    let plan = dir.run(&["plan", "-no-color"]);
    let printed = text(&plan);
    assert!(!plan.status.success(), "{printed}");
    assert!(printed.contains("Invalid label"), "{printed}");
    // The header takes 8 lines: `settings` is on line 11 of main.tf.
    assert!(printed.contains("main.tf:11"), "{printed}");
    assert_no_plugin_left(&dir);
}

#[test]
fn a_plugin_that_crashes_mid_apply_is_named_and_what_was_applied_stays() {
    let dir = workdir(
        r#"resource "stratatest_thing" "first" {
  name = "first"
}

resource "stratatest_crash" "second" {
  name       = "second"
  depends_on = [stratatest_thing.first]
}
"#,
    );
    let apply = dir.run(&["apply", "-auto-approve", "-no-color"]);
    let printed = text(&apply);
    assert!(!apply.status.success(), "{printed}");
    assert!(printed.contains(SOURCE), "{printed}");
    assert!(printed.contains("crashed"), "{printed}");
    let recorded = state(&dir);
    assert_eq!(
        instance(&recorded, "stratatest_thing")["attributes"]["id"],
        "thing-1"
    );
    assert!(
        recorded["resources"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["type"] != "stratatest_crash")),
        "{recorded:#}"
    );
    assert_no_plugin_left(&dir);
}

/// A modern (non-legacy-SDK) provider whose plan does not keep the configuration, or whose
/// apply changes a value it planned, is refused with Terraform's errors naming the provider;
/// what the inconsistent apply made stays in the state.
#[test]
fn a_plugin_answer_inconsistent_with_the_plan_or_the_configuration_is_an_error() {
    let dir = workdir("resource \"stratatest_thing\" \"a\" {\n  name = \"lie-in-plan\"\n}\n");
    let plan = dir.run(&["plan", "-no-color"]);
    let printed = text(&plan);
    assert!(!plan.status.success(), "{printed}");
    assert!(
        printed.contains("Provider produced invalid plan"),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("Provider \"{SOURCE}\" planned an invalid value for stratatest_thing: .name: planned value \"lied\" does not match config value \"lie-in-plan\"")),
        "{printed}"
    );

    std::fs::write(
        dir.work.join("main.tf"),
        format!(
            "{}resource \"stratatest_thing\" \"a\" {{\n  name = \"lie-after-apply\"\n}}\n",
            header_of(&dir)
        ),
    )
    .expect("rewrite main.tf");
    let apply = dir.run(&["apply", "-auto-approve", "-no-color"]);
    let printed = text(&apply);
    assert!(!apply.status.success(), "{printed}");
    assert!(
        printed.contains("Provider produced inconsistent result after apply"),
        "{printed}"
    );
    assert!(
        printed.contains(".name: was \"lie-after-apply\", but now \"lied\""),
        "{printed}"
    );
    assert_eq!(
        instance(&state(&dir), "stratatest_thing")["attributes"]["name"],
        "lied"
    );
    assert_no_plugin_left(&dir);
}

#[test]
fn a_provider_neither_built_in_nor_installed_is_named_with_what_to_do() {
    let dir = Workdir::new(
        r#"resource "random_pet" "name" {
}
"#,
    );
    let plan = dir.run(&["plan", "-no-color"]);
    let printed = text(&plan);
    assert!(!plan.status.success(), "{printed}");
    assert!(printed.contains("random"), "{printed}");
}
