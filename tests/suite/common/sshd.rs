//! An OpenSSH server for the tests that talk SSH (the `file` and `remote-exec` provisioners,
//! git modules over `ssh://`): Debian's `sshd` (installed by `scripts/ensure-sshd.sh` when
//! missing) on a free loopback port, with its own configuration, host key and authorized keys
//! in a temporary directory, accepting the current user; stopped when dropped.

use super::{ensure_installed, free_port};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `sshd`. Its directory holds the host key (`host_ed25519`, `.pub`) and two client
/// keys it accepts (`id_ed25519`, `id_rsa`).
pub struct Sshd {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Sshd {
    pub fn start() -> Sshd {
        let sshd = ensure_installed("ensure-sshd.sh");
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, kind) in [
            ("host_ed25519", "ed25519"),
            ("id_ed25519", "ed25519"),
            ("id_rsa", "rsa"),
        ] {
            let made = Command::new("ssh-keygen")
                .args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
                .arg(dir.path().join(name))
                .output()
                .expect("run ssh-keygen");
            assert!(
                made.status.success(),
                "ssh-keygen: {}",
                String::from_utf8_lossy(&made.stderr)
            );
        }
        let authorized: String = ["id_ed25519.pub", "id_rsa.pub"]
            .iter()
            .map(|name| std::fs::read_to_string(dir.path().join(name)).expect("a public key"))
            .collect();
        std::fs::write(dir.path().join("authorized_keys"), authorized).unwrap();
        let port = free_port();
        std::fs::write(dir.path().join("sshd_config"), config(&dir, port)).unwrap();
        let child = Command::new(&sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.path().join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("sshd.log")).unwrap())
            .spawn()
            .expect("start sshd");
        let server = Sshd { child, dir, port };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&self) {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "sshd did not start: {}",
                std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A file in the server's directory (`id_ed25519`, `host_ed25519.pub`, …).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `GIT_SSH_COMMAND` for this server: the ed25519 client key, no host key prompts or
    /// records.
    pub fn ssh_command(&self) -> String {
        format!(
            "ssh -i {} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
            self.path("id_ed25519").display()
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's configuration: loopback only, keys only, the files in its own directory.
fn config(dir: &tempfile::TempDir, port: u16) -> String {
    format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\n\
         AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\nLogLevel ERROR\n",
        d = dir.path().display()
    )
}

/// The user the tests run as, whom the server lets in.
pub fn current_user() -> String {
    let output = Command::new("id").arg("-un").output().expect("run id -un");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}
