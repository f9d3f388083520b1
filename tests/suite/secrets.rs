//! Secrets never leave the state: a configuration holding test passwords — sensitive variables
//! (from `TF_VAR_*` and `-var`), sensitive outputs, an argument the provider's schema marks
//! sensitive, an argument set from a sensitive variable, a provisioner's environment (whose
//! command echoes it) — goes through plan, apply, show, output, state and destroy with `-json`
//! and trace-level logs, and every byte Strata writes is searched for the passwords: stdout,
//! stderr, the `-json` streams, the log file, and every file left in the working directory.
//!
//! Where Terraform deliberately hands the values out, Strata does too, and the test checks that
//! they are there (so the search is known to find them): the state file and its backup, `state
//! pull`, the saved plan (what `apply` executes; readable by its owner only), `show -json` and
//! `output -json` (Terraform's machine-readable dumps of the state and plan), and `output NAME`.

use crate::common::strata;
use std::path::Path;
use std::process::{Command, Output};

const PASSWORDS: [&str; 3] = [
    "Tfvar-Env-Pw-8675309",
    "Cli-Token-Pw-4242",
    "Schema-Marked-Pw-5150",
];

const CONFIG: &str = r#"
variable "db_password" {
  type      = string
  sensitive = true
}

variable "api_token" {
  type      = string
  sensitive = true
}

resource "fake_resource" "db" {
  name   = "db"
  secret = "Schema-Marked-Pw-5150"
  value  = var.db_password
}

resource "terraform_data" "provisioned" {
  triggers_replace = var.api_token

  provisioner "local-exec" {
    command = "echo the token is $API_TOKEN"
    environment = {
      API_TOKEN = var.api_token
    }
  }
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}

output "secret" {
  value     = fake_resource.db.secret
  sensitive = true
}

output "token" {
  value     = terraform_data.provisioned.triggers_replace
  sensitive = true
}
"#;

/// `strata ARGS` with trace logs to `strata.log` beside the working directory (appended).
fn run(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(strata())
        .args(args)
        .current_dir(dir.join("work"))
        .env("STRATA_FAKE_STORE", dir.join("store"))
        .env("TF_VAR_db_password", PASSWORDS[0])
        .env("TF_LOG", "trace")
        .env("TF_LOG_PATH", dir.join("strata.log"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run strata");
    assert!(
        output.status.success(),
        "strata {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn leaked(bytes: &[u8]) -> Vec<&'static str> {
    let text = String::from_utf8_lossy(bytes);
    PASSWORDS
        .iter()
        .copied()
        .filter(|password| text.contains(password))
        .collect()
}

#[test]
fn no_password_in_anything_strata_writes_but_the_state() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("work")).unwrap();
    std::fs::write(dir.join("work/main.tf"), CONFIG).unwrap();
    let token = format!("-var=api_token={}", PASSWORDS[1]);
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate", "-json"],
        vec!["plan", &token],
        vec!["plan", "-json", &token, "-out=saved.plan"],
        vec!["show", "saved.plan"],
        vec!["apply", "-json", "saved.plan"],
        vec!["apply", "-auto-approve", &token],
        vec!["plan", "-json", &token],
        vec!["show"],
        vec!["output"],
        vec!["state", "list"],
        vec!["state", "show", "fake_resource.db"],
        vec!["state", "show", "terraform_data.provisioned"],
        vec![
            "apply",
            "-auto-approve",
            "-var=api_token=Cli-Token-Pw-4242-rotated",
        ],
        vec!["plan", "-destroy", &token],
    ];
    let mut leaks = Vec::new();
    for args in &commands {
        let output = run(dir, args);
        for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            let found = leaked(bytes);
            if !found.is_empty() {
                leaks.push(format!(
                    "strata {} ({stream}) shows {found:?}:\n{}",
                    args.join(" "),
                    String::from_utf8_lossy(bytes)
                ));
            }
        }
    }
    // Logs to stderr too (no TF_LOG_PATH), at trace level, for a full apply and destroy.
    for args in [
        vec!["apply", "-auto-approve", "-json", token.as_str()],
        vec!["destroy", "-auto-approve", token.as_str()],
    ] {
        let output = Command::new(strata())
            .args(&args)
            .current_dir(dir.join("work"))
            .env("STRATA_FAKE_STORE", dir.join("store"))
            .env("TF_VAR_db_password", PASSWORDS[0])
            .env("TF_LOG", "trace")
            .env("NO_COLOR", "1")
            .output()
            .expect("run strata");
        assert!(output.status.success(), "strata {args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("TRACE"),
            "trace logs go to stderr"
        );
        for bytes in [&output.stdout, &output.stderr] {
            let found = leaked(bytes);
            if !found.is_empty() {
                leaks.push(format!("strata {} shows {found:?}", args.join(" ")));
            }
        }
    }
    let log = std::fs::read(dir.join("strata.log")).expect("the trace log was written");
    assert!(log.len() > 1000, "the trace log holds the runs' logs");
    let found = leaked(&log);
    if !found.is_empty() {
        leaks.push(format!("the trace log holds {found:?}"));
    }
    // Every file left in the working directory but the configuration (which holds one password
    // as written), the state and the saved plan.
    for entry in walk(&dir.join("work")) {
        let name = entry
            .strip_prefix(dir.join("work"))
            .unwrap()
            .display()
            .to_string();
        if [
            "main.tf",
            "terraform.tfstate",
            "terraform.tfstate.backup",
            "saved.plan",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        let found = leaked(&std::fs::read(&entry).unwrap());
        if !found.is_empty() {
            leaks.push(format!("{name} holds {found:?}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "passwords leaked:\n{}",
        leaks.join("\n\n")
    );
}

/// The state, the saved plan and Terraform's machine-readable dumps do hold the values, as
/// Terraform's do: the search above is known to find them.
#[test]
fn the_state_and_the_dumps_terraform_hands_out_hold_the_values() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("work")).unwrap();
    std::fs::write(dir.join("work/main.tf"), CONFIG).unwrap();
    let token = format!("-var=api_token={}", PASSWORDS[1]);
    run(dir, &["plan", &token, "-out=saved.plan"]);
    let saved = dir.join("work/saved.plan");
    assert_eq!(leaked(&std::fs::read(&saved).unwrap()), PASSWORDS);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the saved plan is readable by its owner only"
        );
    }
    assert_eq!(
        leaked(&run(dir, &["show", "-json", "saved.plan"]).stdout),
        PASSWORDS
    );
    run(dir, &["apply", "saved.plan"]);
    let state = std::fs::read(dir.join("work/terraform.tfstate")).unwrap();
    assert_eq!(leaked(&state), PASSWORDS);
    let state_text = String::from_utf8_lossy(&state);
    assert!(
        state_text.contains("\"value\": \"value\"") || state_text.contains("\"value\": \"secret\""),
        "the state records which attributes are sensitive"
    );
    for args in [
        vec!["state", "pull"],
        vec!["show", "-json"],
        vec!["output", "-json"],
    ] {
        assert_eq!(
            leaked(&run(dir, &args).stdout),
            PASSWORDS,
            "strata {args:?}"
        );
    }
    assert_eq!(
        leaked(&run(dir, &["output", "db_password"]).stdout),
        [PASSWORDS[0]]
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
