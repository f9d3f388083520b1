//! Nesting modes through the protocol-6 test provider (`stratatest_nest`: a block nested as a
//! map, nested attributes as a list, a set and a map of objects), with Terraform 1.15.5 driving
//! the same provider binary from a filesystem mirror as the oracle: the plans (create and an
//! update touching every mode), `show` after apply, and each tool planning `No changes.` on the
//! state the other applied. Fixtures: `tests/fixtures/plugin/nesting/{v1,v2}.tf`.

use crate::common::{ensure_installed, fixtures, repo_root, strata};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const V1: &str = "v1.tf";
const V2: &str = "v2.tf";

/// A working directory whose CLI configuration installs the test provider from a filesystem
/// mirror beside it (both tools' `init` read it).
pub(crate) struct Dir {
    temp: tempfile::TempDir,
    peer: PathBuf,
}

impl Dir {
    pub(crate) fn new(peer: &Path, fixture: &str) -> Dir {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let mirror = temp.path().join("mirror");
        let installed = mirror.join("registry.terraform.io/strata/stratatest/0.1.0/linux_amd64");
        std::fs::create_dir_all(&installed).expect("create the mirror");
        std::fs::copy(
            env!("CARGO_BIN_EXE_terraform-provider-stratatest"),
            installed.join("terraform-provider-stratatest_v0.1.0"),
        )
        .expect("put the test provider in the mirror");
        let rc = format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/strata/stratatest\"]\n  }}\n}}\n",
            mirror.display()
        );
        std::fs::write(temp.path().join("cli.tfrc"), rc).expect("write the CLI configuration");
        std::fs::create_dir(temp.path().join("work")).expect("create the working directory");
        let dir = Dir {
            temp,
            peer: peer.to_path_buf(),
        };
        dir.use_fixture(fixture);
        dir
    }

    pub(crate) fn work(&self) -> PathBuf {
        self.temp.path().join("work")
    }

    fn use_fixture(&self, name: &str) {
        let text = std::fs::read_to_string(fixtures("plugin/nesting").join(name)).expect(name);
        std::fs::write(self.work().join("main.tf"), text).expect("write main.tf");
    }

    pub(crate) fn terraform(&self, args: &[&str]) -> Output {
        Command::new(self.peer.join("bin/python3"))
            .arg(repo_root().join("scripts/terraform.py"))
            .args(args)
            .current_dir(self.work())
            .env("TF_CLI_CONFIG_FILE", self.temp.path().join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("run terraform")
    }

    /// `terraform ARGS` with standard input read from `input` (`console`).
    pub(crate) fn terraform_with_input(&self, args: &[&str], input: &Path) -> Output {
        Command::new(self.peer.join("bin/python3"))
            .arg(repo_root().join("scripts/terraform.py"))
            .args(args)
            .current_dir(self.work())
            .stdin(std::fs::File::open(input).expect("the input"))
            .env("TF_CLI_CONFIG_FILE", self.temp.path().join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("run terraform")
    }

    pub(crate) fn strata(&self, args: &[&str]) -> Output {
        Command::new(strata())
            .args(args)
            .current_dir(self.work())
            .output()
            .expect("run strata")
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub(crate) fn ok(output: Output, what: &str) -> String {
    let printed = text(&output);
    assert!(output.status.success(), "{what}:\n{printed}");
    printed
}

/// The resource changes of a plan: from the first `  # ` line to the `Plan:` line.
fn changes(plan: &str) -> String {
    let start = plan
        .find("  # ")
        .unwrap_or_else(|| panic!("no change in:\n{plan}"));
    let end = plan.find("Plan: ").unwrap_or(plan.len());
    plan[start..end].trim_end().to_string()
}

#[test]
fn map_blocks_and_nested_attributes_plan_show_and_interoperate_as_terraform() {
    let peer = ensure_installed("ensure-terraform-peer.sh");
    let ours = Dir::new(&peer, V1);
    let theirs = Dir::new(&peer, V1);
    ok(
        ours.terraform(&["init", "-no-color"]),
        "terraform init (ours)",
    );
    ok(
        theirs.terraform(&["init", "-no-color"]),
        "terraform init (theirs)",
    );

    // Create: every mode rendered as Terraform renders it.
    let our_plan = ok(ours.strata(&["plan", "-no-color"]), "strata plan");
    let their_plan = ok(theirs.terraform(&["plan", "-no-color"]), "terraform plan");
    assert_eq!(changes(&our_plan), changes(&their_plan));
    assert!(our_plan.contains("listener \"https\" {"), "{our_plan}");

    ok(
        ours.strata(&["apply", "-auto-approve", "-no-color"]),
        "strata apply",
    );
    ok(
        theirs.terraform(&["apply", "-auto-approve", "-no-color"]),
        "terraform apply",
    );
    let our_show = ok(ours.strata(&["show", "-no-color"]), "strata show");
    let their_show = ok(theirs.terraform(&["show", "-no-color"]), "terraform show");
    assert_eq!(our_show.trim_end(), their_show.trim_end());

    // Each tool on the other's state: no changes.
    let replan = theirs.strata(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(replan.status.code(), Some(0), "{}", text(&replan));
    let replan = ours.terraform(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(replan.status.code(), Some(0), "{}", text(&replan));

    // An update in every mode: list elements by position, set elements by value, map elements
    // and map blocks by key, added and removed.
    ours.use_fixture(V2);
    theirs.use_fixture(V2);
    let our_plan = ok(ours.strata(&["plan", "-no-color"]), "strata plan v2");
    let their_plan = ok(
        theirs.terraform(&["plan", "-no-color"]),
        "terraform plan v2",
    );
    assert_eq!(changes(&our_plan), changes(&their_plan));
    assert!(our_plan.contains("- listener \"https\" {"), "{our_plan}");

    // The saved plans, shown as text and as JSON by each tool.
    let save = ["plan", "-no-color", "-out", "plan.bin"];
    ok(ours.strata(&save), "strata plan -out");
    ok(theirs.terraform(&save), "terraform plan -out");
    let show = ["show", "-no-color", "plan.bin"];
    let our_shown = ok(ours.strata(&show), "strata show PLAN");
    let their_shown = ok(theirs.terraform(&show), "terraform show PLAN");
    assert_eq!(changes(&our_shown), changes(&their_shown));
    let json = |printed: String| -> serde_json::Value {
        serde_json::from_str(&printed).unwrap_or_else(|e| panic!("{e}: {printed}"))
    };
    let show_json = ["show", "-json", "plan.bin"];
    let our_json = json(ok(ours.strata(&show_json), "strata show -json PLAN"));
    let their_json = json(ok(
        theirs.terraform(&show_json),
        "terraform show -json PLAN",
    ));
    for key in [
        "configuration",
        "resource_changes",
        "planned_values",
        "prior_state",
    ] {
        assert_eq!(our_json[key], their_json[key], "{key}");
    }
    ok(
        ours.strata(&["apply", "-auto-approve", "-no-color"]),
        "strata apply v2",
    );
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ours.work().join("terraform.tfstate")).expect("state"),
    )
    .expect("state JSON");
    let attributes = &state["resources"][0]["instances"][0]["attributes"];
    assert_eq!(attributes["listener"]["admin"]["port"], 9000, "{state:#}");
    assert_eq!(attributes["zones"]["north"]["cidr"], "10.2.0.0/16");
    let replan = ours.terraform(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(replan.status.code(), Some(0), "{}", text(&replan));
}

#[test]
fn a_map_block_without_its_key_is_an_error_at_its_line_as_in_terraform() {
    let peer = ensure_installed("ensure-terraform-peer.sh");
    let dir = Dir::new(&peer, V1);
    let main_tf = std::fs::read_to_string(dir.work().join("main.tf")).expect("main.tf");
    let broken = main_tf.replace("listener \"http\" {", "listener {");
    std::fs::write(dir.work().join("main.tf"), &broken).expect("write main.tf");
    let line = 1 + broken
        .lines()
        .position(|l| l.contains("listener {"))
        .unwrap_or(0);
    ok(dir.terraform(&["init", "-no-color"]), "terraform init");
    let theirs = text(&dir.terraform(&["validate", "-no-color"]));
    let ours = dir.strata(&["validate", "-no-color"]);
    let printed = text(&ours);
    assert!(!ours.status.success(), "{printed}");
    assert!(theirs.contains("Missing key for listener"), "{theirs}");
    assert!(printed.contains("Missing key for listener"), "{printed}");
    assert!(printed.contains(&format!("main.tf:{line}:")), "{printed}");
}
