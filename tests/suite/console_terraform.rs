//! `console` prints what Terraform 1.15.5's console prints (`common::terraform`): each line of
//! `tests/fixtures/console/expressions.txt` is evaluated by both tools, each in its own run,
//! against `tests/fixtures/console/` (variables of every kind of type, null and not, sensitive;
//! local values and a module `child` passing them on), and the outputs must be equal: typed
//! nulls (`tomap(null) /* of string */`, `tostring(null)`) from variables, locals, module
//! outputs and function results, the conversion functions around collections, quoted keys,
//! heredocs.

use crate::common::{fixtures, strata, terraform};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn strata_console(dir: &Path, expression: &str) -> String {
    let mut child = Command::new(strata())
        .args(["console", "-no-color"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run strata console");
    {
        let mut stdin = child.stdin.take().expect("its input");
        writeln!(stdin, "{expression}").expect("write the expression");
    }
    let output = child.wait_with_output().expect("strata console");
    assert!(
        output.status.success(),
        "strata console {expression}: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Terraform's console reads its input from a file given as standard input.
fn terraform_console(dir: &Path, expression: &str) -> String {
    let input = dir.join("console-input.txt");
    std::fs::write(&input, format!("{expression}\n")).expect("write the input");
    let output = terraform_with_input(dir, &input);
    assert!(
        output.status.success(),
        "terraform console {expression}: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn terraform_with_input(dir: &Path, input: &Path) -> std::process::Output {
    let peer = crate::common::ensure_installed("ensure-terraform-peer.sh");
    Command::new(peer.join("bin/python3"))
        .arg(crate::common::repo_root().join("scripts/terraform.py"))
        .args(["console", "-no-color"])
        .current_dir(dir)
        .stdin(std::fs::File::open(input).expect("the input"))
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .expect("run terraform console")
}

#[test]
fn console_prints_values_and_typed_nulls_as_terraform_does() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let dir = temp.path();
    crate::common::copy_tree(&fixtures("console"), dir);
    let init = terraform(dir, &["init", "-no-color"]);
    assert!(init.status.success(), "{init:?}");
    let table = std::fs::read_to_string(fixtures("console").join("expressions.txt")).unwrap();
    let expressions: Vec<&str> = table
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .collect();
    assert!(expressions.len() >= 30, "{expressions:?}");
    let mut differences = Vec::new();
    for expression in expressions {
        let ours = strata_console(dir, expression);
        let theirs = terraform_console(dir, expression);
        if ours != theirs {
            differences.push(format!(
                "{expression}\n  strata:    {ours:?}\n  terraform: {theirs:?}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// A resource's attributes take their types from its schema: the test provider's
/// `stratatest_thing` (a null map, a null nested object, an empty list, the whole object),
/// applied by Terraform, printed by both tools from the same state. (An instance of a counted
/// resource is not compared: Strata's console shows it as `(known after apply)`.)
#[test]
fn console_prints_resource_attributes_with_their_schema_types_as_terraform_does() {
    use crate::plugin_nesting::{ok, Dir};
    let peer = crate::common::ensure_installed("ensure-terraform-peer.sh");
    let dir = Dir::new(&peer, "v1.tf");
    std::fs::write(
        dir.work().join("main.tf"),
        "terraform {\n  required_providers {\n    stratatest = { source = \"strata/stratatest\" }\n  }\n}\n\nresource \"stratatest_thing\" \"a\" {\n  name = \"a\"\n}\n\nresource \"stratatest_thing\" \"b\" {\n  name = \"b\"\n  tags = { team = \"core\" }\n}\n",
    )
    .unwrap();
    ok(dir.terraform(&["init", "-no-color"]), "terraform init");
    ok(
        dir.terraform(&["apply", "-auto-approve", "-no-color"]),
        "terraform apply",
    );
    let expressions = [
        "stratatest_thing.a.tags",
        "stratatest_thing.a.settings",
        "stratatest_thing.a.rule",
        "stratatest_thing.a",
        "stratatest_thing.b.tags",
    ];
    let mut differences = Vec::new();
    for expression in expressions {
        let ours = strata_console(&dir.work(), expression);
        let input = dir.work().join("console-input.txt");
        std::fs::write(&input, format!("{expression}\n")).unwrap();
        let output = dir.terraform_with_input(&["console", "-no-color"], &input);
        let theirs = String::from_utf8_lossy(&output.stdout).into_owned();
        if ours != theirs {
            differences.push(format!(
                "{expression}\n  strata:    {ours:?}\n  terraform: {theirs:?}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
