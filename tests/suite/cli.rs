//! End-to-end CLI scenarios: each folder under `tests/fixtures/scenarios/` has a `script` of
//! steps (switch configuration, run a strata command, change the fake provider's objects behind
//! Strata's back) and the transcript of the whole run is compared with an `insta` snapshot.
//!
//! Script lines:
//! - `config DIR` — make the working directory's `.tf` files those of `DIR` (in the scenario).
//! - `run ARGS...` — run `strata ARGS...`; its output and exit code go into the transcript.
//! - `run-ordered ARGS...` — the same, keeping the order of progress lines (for scenarios whose
//!   operations are ordered by dependencies, to show that order).
//! - `drift ADDRESS ATTRIBUTE VALUE` — change an attribute of the fake object behind ADDRESS.
//! - `vanish ADDRESS` — delete the fake object behind ADDRESS.
//! - `remote-count` — record how many objects the fake provider holds.
//!
//! Transcripts are made deterministic: ids become `<id>`, elapsed times `<t>`, and the lines
//! of concurrent operations (progress, refresh) are sorted within their block.

use crate::common::{copy_tree, fixtures, strata, Workdir};
use std::path::Path;
use std::process::Command;

fn copy_config(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(to).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tf" || e == "tfvars") {
            std::fs::remove_file(path).unwrap();
        }
    }
    copy_tree(from, to);
}

fn state_id(work: &Path, address: &str) -> String {
    let output = Command::new(strata())
        .args(["state", "show", address])
        .current_dir(work)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| {
            let line = line.trim();
            line.strip_prefix("id").map(|rest| {
                rest.trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
        })
        .unwrap_or_else(|| panic!("no id for {address} in state:\n{text}"))
}

fn is_concurrent_line(line: &str) -> bool {
    [
        ": Creating...",
        ": Modifying...",
        ": Destroying...",
        ": Refreshing state...",
        ": Reading...",
        ": Preparing import...",
        "complete after",
        ": Still ",
        " failed",
        "failed",
        // Provisioners of concurrent operations print concurrently too.
        ": Provisioning with '",
        " (local-exec): ",
        " (file): ",
        " (remote-exec): ",
    ]
    .iter()
    .any(|p| line.contains(p))
}

/// Makes a command's output deterministic.
pub fn normalize(text: &str, work: &Path, sort_concurrent: bool) -> String {
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let fake = regex::Regex::new(r"fake-[0-9a-f]{12}").unwrap();
    let elapsed = regex::Regex::new(r"after \d+s").unwrap();
    // A deposed object's key derives from the state's (random) lineage.
    let deposed = regex::Regex::new(r"\(deposed object [0-9a-f]{8}\)").unwrap();
    let text = uuid.replace_all(text, "<id>");
    let text = deposed.replace_all(&text, "(deposed object <key>)");
    let text = fake.replace_all(&text, "<id>");
    let text = elapsed.replace_all(&text, "after <t>");
    let text = text.replace(&work.display().to_string(), "<work>");
    let mut out: Vec<String> = Vec::new();
    let mut block: Vec<String> = Vec::new();
    for line in text.lines() {
        if sort_concurrent && is_concurrent_line(line) {
            block.push(line.to_string());
            continue;
        }
        sort_block(&mut block);
        out.append(&mut block);
        out.push(line.to_string());
    }
    sort_block(&mut block);
    out.append(&mut block);
    out.join("\n")
}

/// Sorts the lines of concurrent operations. A block with provisioner lines keeps each
/// address's lines in the order they were printed (creating, provisioning with its output,
/// complete) and sorts by address only.
fn sort_block(block: &mut [String]) {
    let provisioning = block.iter().any(|l| l.contains(": Provisioning with '"));
    if !provisioning {
        block.sort();
        return;
    }
    let address = |line: &String| -> String {
        let end = [line.find(": "), line.find(" (")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(line.len());
        line[..end].to_string()
    };
    block.sort_by_key(address);
}

fn run_scenario(name: &str) -> String {
    let dir = fixtures("scenarios").join(name);
    let script = std::fs::read_to_string(dir.join("script")).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let work = temp.path().join("work");
    let store = temp.path().join("store");
    std::fs::create_dir_all(&work).unwrap();
    let mut transcript = String::new();
    for line in script.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "config" => {
                copy_config(&dir.join(words[1]), &work);
                transcript.push_str(&format!("## config {}\n", words[1]));
            }
            "run" | "run-ordered" => {
                let ordered = words[0] == "run-ordered";
                let output = Command::new(strata())
                    .args(&words[1..])
                    .current_dir(&work)
                    .env("STRATA_FAKE_STORE", &store)
                    .env("NO_COLOR", "1")
                    .env_remove("TF_WORKSPACE")
                    .env_remove("STRATA_WORKSPACE")
                    .output()
                    .unwrap();
                let stdout = String::from_utf8_lossy(&output.stdout);
                let stderr = String::from_utf8_lossy(&output.stderr);
                transcript.push_str(&format!("## strata {}\n", words[1..].join(" ")));
                transcript.push_str(&normalize(&stdout, &work, !ordered));
                if !stderr.trim().is_empty() {
                    transcript.push_str("\n-- stderr --\n");
                    transcript.push_str(&normalize(&stderr, &work, !ordered));
                }
                transcript.push_str(&format!(
                    "\n-- exit {} --\n\n",
                    output.status.code().unwrap_or(-1)
                ));
            }
            "drift" => {
                let id = state_id(&work, words[1]);
                let path = store.join(format!("{id}.json"));
                let mut object: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                object[words[2]] = serde_json::Value::String(words[3..].join(" "));
                std::fs::write(&path, serde_json::to_string(&object).unwrap()).unwrap();
                transcript.push_str(&format!(
                    "## drift {} {} = {}\n",
                    words[1],
                    words[2],
                    words[3..].join(" ")
                ));
            }
            "vanish" => {
                let id = state_id(&work, words[1]);
                std::fs::remove_file(store.join(format!("{id}.json"))).unwrap();
                transcript.push_str(&format!("## vanish {}\n", words[1]));
            }
            // `console <expression>`: the expression piped into `strata console`.
            "console" => {
                let expression = words[1..].join(" ");
                let mut child = Command::new(strata())
                    .arg("console")
                    .current_dir(&work)
                    .env("STRATA_FAKE_STORE", &store)
                    .env("NO_COLOR", "1")
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                {
                    use std::io::Write as _;
                    let mut stdin = child.stdin.take().unwrap();
                    writeln!(stdin, "{expression}").unwrap();
                }
                let output = child.wait_with_output().unwrap();
                transcript.push_str(&format!("## console {expression}\n"));
                transcript.push_str(&normalize(
                    &String::from_utf8_lossy(&output.stdout),
                    &work,
                    true,
                ));
                let stderr = String::from_utf8_lossy(&output.stderr);
                if !stderr.trim().is_empty() {
                    transcript.push_str("\n-- stderr --\n");
                    transcript.push_str(&normalize(&stderr, &work, true));
                }
                transcript.push_str(&format!(
                    "\n-- exit {} --\n\n",
                    output.status.code().unwrap_or(-1)
                ));
            }
            // `file <path>`: a file a command wrote (a Markdown summary, ...), as it is.
            "file" => {
                let text = std::fs::read_to_string(work.join(words[1]))
                    .unwrap_or_else(|e| panic!("reading {}: {e}", words[1]));
                transcript.push_str(&format!("## file {}\n", words[1]));
                transcript.push_str(&normalize(&text, &work, false));
                transcript.push_str("\n\n");
            }
            // An object made outside Strata: `remote-object <id> <name>`.
            "remote-object" => {
                std::fs::create_dir_all(&store).unwrap();
                let object = serde_json::json!({
                    "id": words[1], "name": words[2], "value": null, "replace_on": null,
                    "secret": null, "tags": null, "latency_ms": null, "fail": null,
                    "computed": format!("computed-{}", words[2]), "rule": [],
                });
                std::fs::write(
                    store.join(format!("{}.json", words[1])),
                    serde_json::to_string(&object).unwrap(),
                )
                .unwrap();
                transcript.push_str(&format!("## remote object {} {}\n", words[1], words[2]));
            }
            "remote-count" => {
                let count = std::fs::read_dir(&store)
                    .map(|d| {
                        d.flatten()
                            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                            .count()
                    })
                    .unwrap_or(0);
                transcript.push_str(&format!("## remote objects: {count}\n"));
            }
            other => panic!("unknown script command `{other}` in {name}"),
        }
    }
    transcript
}

fn scenario_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures("scenarios"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("script").exists())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn scenarios() {
    let names = scenario_names();
    assert!(!names.is_empty(), "no scenarios found");
    let mut failures = Vec::new();
    for name in names {
        let transcript = run_scenario(&name);
        let result = std::panic::catch_unwind(|| {
            insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!("scenario", transcript);
            });
        });
        if result.is_err() {
            failures.push(name);
        }
    }
    assert!(
        failures.is_empty(),
        "scenario snapshots differ: {failures:?}"
    );
}

/// Every line of a `-json` run, parsed: Terraform's machine-readable UI is one JSON object per
/// line on standard output, nothing else.
fn json_lines(work: &Path, store: &Path, args: &[&str]) -> (Vec<serde_json::Value>, i32) {
    let output = Command::new(strata())
        .args(args)
        .current_dir(work)
        .env("STRATA_FAKE_STORE", store)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{stdout}"))
        })
        .collect();
    (lines, output.status.code().unwrap_or(-1))
}

fn of_type<'a>(lines: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["type"] == kind).collect()
}

#[test]
fn plan_and_apply_json_speak_terraforms_machine_readable_ui() {
    let dir = Workdir::new(
        "resource \"fake_resource\" \"n\" {\n  count = 2\n  name  = \"n-${count.index}\"\n}\n\noutput \"names\" {\n  value = fake_resource.n[*].name\n}\n\noutput \"secret\" {\n  value     = \"hunter2\"\n  sensitive = true\n}\n",
    );
    let (work, store) = (dir.work.clone(), dir.store.clone());

    let (lines, code) = json_lines(&work, &store, &["plan", "-json"]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["type"], "version", "{lines:?}");
    for line in &lines {
        for key in ["@level", "@message", "@module", "@timestamp", "type"] {
            assert!(line.get(key).is_some(), "{key} missing: {line}");
        }
    }
    let planned = of_type(&lines, "planned_change");
    assert_eq!(planned.len(), 2, "{lines:?}");
    assert_eq!(planned[0]["change"]["action"], "create");
    assert_eq!(
        planned[0]["change"]["resource"]["addr"],
        "fake_resource.n[0]"
    );
    assert_eq!(planned[0]["change"]["resource"]["resource_key"], 0);
    let summary = of_type(&lines, "change_summary");
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0]["changes"]["add"], 2);
    assert_eq!(summary[0]["changes"]["operation"], "plan");

    let (lines, code) = json_lines(&work, &store, &["apply", "-json", "-auto-approve"]);
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(of_type(&lines, "apply_start").len(), 2, "{lines:?}");
    let complete = of_type(&lines, "apply_complete");
    assert_eq!(complete.len(), 2);
    assert_eq!(complete[0]["hook"]["action"], "create");
    assert!(complete[0]["hook"]["id_value"].is_string());
    let summary = of_type(&lines, "change_summary");
    assert_eq!(summary.last().unwrap()["changes"]["operation"], "apply");
    let outputs = of_type(&lines, "outputs");
    assert_eq!(
        outputs[0]["outputs"]["names"]["value"],
        serde_json::json!(["n-0", "n-1"])
    );
    assert_eq!(outputs[0]["outputs"]["secret"]["sensitive"], true);
    let all = serde_json::to_string(&lines).unwrap();
    assert!(!all.contains("hunter2"), "a sensitive value leaked");

    // A re-plan refreshes (one line per instance) and plans nothing.
    let (lines, _) = json_lines(&work, &store, &["plan", "-json"]);
    assert_eq!(of_type(&lines, "refresh_start").len(), 2);
    assert!(of_type(&lines, "planned_change").is_empty());

    // Errors are diagnostics with their place; without -auto-approve an apply refuses.
    std::fs::write(
        work.join("main.tf"),
        "resource \"fake_resource\" \"n\" {\n  nme = 1\n}\n",
    )
    .unwrap();
    let (lines, code) = json_lines(&work, &store, &["plan", "-json"]);
    assert_eq!(code, 1);
    let diagnostics = of_type(&lines, "diagnostic");
    assert_eq!(diagnostics[0]["@level"], "error");
    assert_eq!(diagnostics[0]["diagnostic"]["range"]["start"]["line"], 2);
    let output = Command::new(strata())
        .args(["apply", "-json"])
        .current_dir(&work)
        .env("STRATA_FAKE_STORE", &store)
        .output()
        .unwrap();
    assert!(!output.status.success());
}

/// `show -json` of a saved plan carries the configuration as written, as Terraform's does:
/// constants, references, module calls with their modules, variables (sensitive defaults left
/// out), outputs, provider configurations.
#[test]
fn show_json_of_a_saved_plan_describes_the_configuration() {
    let dir = Workdir::new(
        r#"variable "size" {
  default = 2
}

variable "token" {
  default   = "s3cret-default"
  sensitive = true
}

resource "fake_resource" "b" {
  count = var.size
  name  = "b-${count.index}"
  value = "constant"
}

resource "fake_resource" "a" {
  name = fake_resource.b[0].id

  rule {
    port = 22
  }
}

module "child" {
  source = "./child"
  label  = fake_resource.a.name
}

output "child_name" {
  value = module.child.name
}
"#,
    );
    let work = dir.work.clone();
    std::fs::create_dir_all(work.join("child")).unwrap();
    std::fs::write(
        work.join("child/main.tf"),
        "variable \"label\" {}\n\nresource \"fake_resource\" \"c\" {\n  name = var.label\n}\n\noutput \"name\" {\n  value = fake_resource.c.name\n}\n",
    )
    .unwrap();
    let run = |args: &[&str]| dir.run(args);
    assert!(run(&["plan", "-out=p.plan"]).status.success());
    let shown = run(&["show", "-json", "p.plan"]);
    assert!(shown.status.success());
    let text = String::from_utf8_lossy(&shown.stdout).to_string();
    assert!(
        !text.contains("s3cret-default"),
        "a sensitive default leaked"
    );
    let plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    let root = &plan["configuration"]["root_module"];
    let addresses: Vec<&str> = root["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["fake_resource.a", "fake_resource.b"]);
    let b = &root["resources"][1];
    assert_eq!(b["expressions"]["value"]["constant_value"], "constant");
    assert_eq!(
        b["expressions"]["name"]["references"],
        serde_json::json!(["count.index"])
    );
    assert_eq!(
        b["count_expression"]["references"],
        serde_json::json!(["var.size"])
    );
    let a = &root["resources"][0];
    assert_eq!(
        a["expressions"]["name"]["references"],
        serde_json::json!([
            "fake_resource.b[0].id",
            "fake_resource.b[0]",
            "fake_resource.b"
        ])
    );
    assert_eq!(a["expressions"]["rule"][0]["port"]["constant_value"], 22);
    assert_eq!(a["provider_config_key"], "fake");
    let child = &root["module_calls"]["child"];
    assert_eq!(child["source"], "./child");
    assert_eq!(
        child["expressions"]["label"]["references"],
        serde_json::json!(["fake_resource.a.name", "fake_resource.a"])
    );
    assert_eq!(
        child["module"]["resources"][0]["address"],
        "fake_resource.c"
    );
    assert_eq!(root["variables"]["size"]["default"], 2);
    assert_eq!(root["variables"]["token"]["sensitive"], true);
    assert!(root["variables"]["token"].get("default").is_none());
    assert_eq!(
        root["outputs"]["child_name"]["expression"]["references"],
        serde_json::json!(["module.child.name", "module.child"])
    );
    assert_eq!(
        plan["configuration"]["provider_config"]["fake"]["full_name"],
        "registry.strata.dev/strata/fake"
    );
}

/// `TF_CLI_ARGS` and `TF_CLI_ARGS_<command>` add arguments after the command name, as
/// Terraform reads them (`-var` included: variable precedence sees them too).
#[test]
fn tf_cli_args_environment_variables_add_arguments() {
    let dir = Workdir::new(
        "variable \"name\" {\n  default = \"from-default\"\n}\n\nresource \"fake_resource\" \"a\" {\n  name = var.name\n}\n",
    );
    let work = dir.work.clone();
    let output = Command::new(strata())
        .args(["plan", "-detailed-exitcode"])
        .current_dir(&work)
        .env("STRATA_FAKE_STORE", dir.path().join("store"))
        .env("TF_CLI_ARGS", "-no-color")
        .env("TF_CLI_ARGS_plan", "-var name=from-env-args")
        .env("TF_CLI_ARGS_apply", "-var name=not-for-plan")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("\"from-env-args\""), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}'),
        "-no-color from TF_CLI_ARGS applies"
    );

    // TF_INPUT is read as -input is (here a value it cannot be).
    let output = Command::new(strata())
        .args(["plan"])
        .current_dir(&work)
        .env("STRATA_FAKE_STORE", dir.path().join("store"))
        .env("TF_INPUT", "maybe")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("not a boolean"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `TF_LOG` (or `STRATA_LOG`) turns logging on and `TF_LOG_PATH` sends it to a file, as in
/// Terraform; a secret in the configuration never reaches the log.
#[test]
fn tf_log_writes_debug_logs_to_tf_log_path_without_secrets() {
    let dir = Workdir::new(
        "resource \"fake_resource\" \"a\" {\n  name   = \"a\"\n  secret = \"hunter2-in-config\"\n}\n",
    );
    let work = dir.work.clone();
    let log = dir.path().join("strata.log");
    let output = Command::new(strata())
        .args(["apply", "-auto-approve"])
        .current_dir(&work)
        .env("STRATA_FAKE_STORE", dir.path().join("store"))
        .env("TF_LOG", "TRACE")
        .env("TF_LOG_PATH", &log)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "logs went to the file, not stderr"
    );
    let text = std::fs::read_to_string(&log).expect("the log file was written");
    assert!(text.contains("provider apply done"), "{text}");
    assert!(text.contains("fake_resource.a"), "{text}");
    assert!(
        !text.contains("hunter2-in-config"),
        "a secret reached the log"
    );
}

/// The comment step runs apart from the plan step: `show -markdown PLANFILE` prints the same
/// summary `plan -markdown=FILE` wrote, within GitHub's 65,536 characters for a 5,000-resource
/// plan, with the whole counts and a last line naming what was left out.
#[test]
fn show_markdown_of_a_saved_5000_resource_plan_fits_a_comment() {
    let dir = Workdir::new(
        "resource \"terraform_data\" \"n\" {\n  count = 5000\n  input = \"n-${count.index}\"\n}\n",
    );
    let output = dir.run(&["plan", "-out=tfplan", "-markdown=summary.md"]);
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read_to_string(dir.work.join("summary.md")).unwrap();
    let output = dir.run(&["show", "-markdown", "tfplan"]);
    assert!(output.status.success(), "{output:?}");
    let shown = String::from_utf8(output.stdout).unwrap();
    assert_eq!(shown, written);
    assert!(
        shown.chars().count() <= 65_536,
        "{} characters",
        shown.len()
    );
    assert!(shown.contains("**Plan:** 5000 to add, 0 to change, 0 to destroy."));
    assert!(
        shown
            .trim_end()
            .ends_with("Run `strata show tfplan` to see the whole plan."),
        "{}",
        &shown[shown.len() - 300..]
    );
    let output = dir.run(&["show", "-markdown", "-markdown-limit=2000", "tfplan"]);
    let small = String::from_utf8(output.stdout).unwrap();
    assert!(small.chars().count() <= 2_000, "{small}");
    assert!(
        small.contains("to create. Run `strata show tfplan`"),
        "{small}"
    );
}
