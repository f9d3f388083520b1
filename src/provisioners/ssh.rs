//! The SSH communicator of the `file` and `remote-exec` provisioners (Terraform's
//! `internal/communicator/ssh`): the `connection` block read into [`ConnectionInfo`], a session
//! opened with retries until the connection's `timeout`, commands run with their output
//! streamed line by line, and files copied with the SCP protocol (the remote `scp -t`), as
//! Terraform copies them.
//!
//! Authentication by `password` or `private_key`; the server's key is checked against
//! `host_key` when one is given (and accepted otherwise, as Terraform does). SSH agents,
//! certificates, bastion hosts, proxies and WinRM are not supported: each is an error that
//! says so.

use super::{Output, ProvisionError};
use crate::value::Value;
use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKey};
use russh::ChannelMsg;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where and how to connect, from a `connection` block.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub private_key: Option<String>,
    pub host_key: Option<String>,
    pub timeout: Duration,
    /// Where `remote-exec` puts its scripts; `%RAND%` becomes a random number.
    pub script_path: String,
}

fn error(summary: &str, detail: impl Into<String>) -> ProvisionError {
    ProvisionError::new(summary, detail)
}

impl ConnectionInfo {
    /// Reads an evaluated connection block (every argument present, null when unset).
    pub fn from_value(connection: &Value) -> Result<ConnectionInfo, ProvisionError> {
        let text = |name: &str| {
            connection
                .get_attr(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if connection.is_null() {
            return Err(error(
                "Missing connection configuration for provisioner",
                "The file and remote-exec provisioners need a connection block (in the resource or in the provisioner) saying how to reach the machine: connection { type = \"ssh\", host = ..., user = ..., private_key = ... }.",
            ));
        }
        match text("type").as_deref() {
            None | Some("ssh") => {}
            Some("winrm") => {
                return Err(error(
                    "WinRM connections are not supported",
                    "Strata's file and remote-exec provisioners connect over SSH only; use connection { type = \"ssh\" } (OpenSSH runs on Windows too).",
                ))
            }
            Some(other) => {
                return Err(error(
                    "Invalid connection type",
                    format!("Unknown connection type \"{other}\": the types are \"ssh\" and \"winrm\"."),
                ))
            }
        }
        for unsupported in [
            "certificate",
            "bastion_host",
            "proxy_host",
            "agent_identity",
        ] {
            if text(unsupported).is_some() {
                return Err(error(
                    "Connection argument not supported",
                    format!("Strata's SSH connections do not support \"{unsupported}\" yet; connect to the host directly with a password or private_key."),
                ));
            }
        }
        let password = text("password");
        let private_key = text("private_key");
        let agent = connection.get_attr("agent").and_then(Value::as_bool);
        if agent == Some(true) || (password.is_none() && private_key.is_none()) {
            return Err(error(
                "SSH agent authentication is not supported",
                "Strata does not use an SSH agent: set private_key (for example private_key = file(\"~/.ssh/id_ed25519\")) or password in the connection block, and agent = false.",
            ));
        }
        let Some(host) = text("host") else {
            return Err(error(
                "Missing connection host",
                "The connection block needs a host (an address or name).",
            ));
        };
        let port = match connection.get_attr("port").map(Value::unmarked) {
            Some(Value::Number(n)) => {
                n.to_i64()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| {
                        error(
                            "Invalid connection port",
                            format!("{n} is not a port number."),
                        )
                    })?
            }
            _ => 22,
        };
        let timeout = match text("timeout") {
            Some(t) => crate::engine::parse_duration(&t).ok_or_else(|| {
                error(
                    "Invalid connection timeout",
                    format!("\"{t}\" is not a duration: write it as 30s, 5m or 1h."),
                )
            })?,
            None => Duration::from_secs(300),
        };
        Ok(ConnectionInfo {
            host,
            port,
            user: text("user").unwrap_or_else(|| "root".into()),
            password,
            private_key,
            host_key: text("host_key"),
            timeout,
            script_path: text("script_path").unwrap_or_else(|| "/tmp/terraform_%RAND%.sh".into()),
        })
    }

    /// The script path with `%RAND%` replaced, as Terraform's communicator does.
    pub fn script_path(&self) -> String {
        let random: u32 = rand::random::<u32>() >> 1;
        self.script_path.replace("%RAND%", &random.to_string())
    }

    /// What Terraform prints when it connects (`Connecting to remote host via SSH...`).
    pub fn connecting_message(&self) -> String {
        format!(
            "Connecting to remote host via SSH...\n  Host: {}\n  User: {}\n  Password: {}\n  Private key: {}\n  Certificate: false\n  SSH Agent: false\n  Checking Host Key: {}\n  Target Platform: unix\n",
            self.host,
            self.user,
            self.password.is_some(),
            self.private_key.is_some(),
            self.host_key.is_some()
        )
    }
}

/// Checks the server's key against `host_key`, when one is given.
struct HostKeyCheck {
    expected: Option<PublicKey>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(&mut self, server_key: &PublicKey) -> Result<bool, Self::Error> {
        Ok(match &self.expected {
            Some(expected) => expected.key_data() == server_key.key_data(),
            None => true,
        })
    }
}

/// An authenticated SSH session.
pub struct Session {
    handle: client::Handle<HostKeyCheck>,
}

impl Session {
    /// Connects and authenticates, retrying a refused or failed connection until the
    /// connection's timeout (the machine may still be booting).
    pub async fn connect(info: &ConnectionInfo) -> Result<Session, ProvisionError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            match Session::connect_once(info).await {
                Ok(session) => return Ok(session),
                Err(Retry::No(e)) => return Err(e),
                Err(Retry::Yes(e)) if started.elapsed() + delay >= info.timeout => return Err(e),
                Err(Retry::Yes(_)) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn connect_once(info: &ConnectionInfo) -> Result<Session, Retry> {
        let expected = match &info.host_key {
            Some(text) => Some(PublicKey::from_openssh(text.trim()).map_err(|e| {
                Retry::No(error(
                    "Invalid host_key",
                    format!("The connection's host_key is not an OpenSSH public key: {e}."),
                ))
            })?),
            None => None,
        };
        let config = Arc::new(client::Config {
            inactivity_timeout: None,
            ..client::Config::default()
        });
        let address = (info.host.as_str(), info.port);
        let connect = client::connect(config, address, HostKeyCheck { expected });
        let mut handle = tokio::time::timeout(info.timeout, connect)
            .await
            .map_err(|_| {
                Retry::Yes(error(
                    "SSH connection timed out",
                    format!(
                        "No answer from {}:{} within {:?}.",
                        info.host, info.port, info.timeout
                    ),
                ))
            })?
            .map_err(|e| match e {
                russh::Error::UnknownKey => Retry::No(error(
                    "SSH host key mismatch",
                    format!(
                        "The key of {}:{} is not the connection's host_key.",
                        info.host, info.port
                    ),
                )),
                other => Retry::Yes(error(
                    "Failed to connect over SSH",
                    format!("{}:{}: {other}", info.host, info.port),
                )),
            })?;
        let authenticated = authenticate(&mut handle, info).await.map_err(Retry::No)?;
        if !authenticated {
            return Err(Retry::No(error(
                "SSH authentication failed",
                format!(
                    "The server at {}:{} refused user \"{}\" with the given {}.",
                    info.host,
                    info.port,
                    info.user,
                    if info.private_key.is_some() {
                        "private_key"
                    } else {
                        "password"
                    }
                ),
            )));
        }
        Ok(Session { handle })
    }

    /// Runs a command, sending each line it prints (standard output and standard error) to
    /// `output`; returns its exit status.
    pub async fn run(&self, command: &str, output: &Output) -> Result<u32, ProvisionError> {
        let mut channel = self.exec(command).await?;
        let mut stdout = LineBuffer::default();
        let mut stderr = LineBuffer::default();
        let mut status = None;
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } => stdout.push(&data, output),
                ChannelMsg::ExtendedData { data, .. } => stderr.push(&data, output),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::ExitSignal { .. } => status = status.or(Some(255)),
                _ => {}
            }
        }
        stdout.finish(output);
        stderr.finish(output);
        status.ok_or_else(|| {
            error(
                "SSH command ended without a status",
                format!("The remote command {command:?} ended without an exit status (the connection was lost)."),
            )
        })
    }

    async fn exec(&self, command: &str) -> Result<russh::Channel<client::Msg>, ProvisionError> {
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| error("Failed to open an SSH session", e.to_string()))?;
        channel
            .exec(true, command)
            .await
            .map_err(|e| error("Failed to start a remote command", e.to_string()))?;
        Ok(channel)
    }

    /// Copies one file to `path` with `scp -vt DIR`, as Terraform's `Upload`.
    pub async fn upload(&self, path: &str, content: &[u8]) -> Result<(), ProvisionError> {
        let (dir, name) = split_remote_path(path);
        let mut scp = Scp::start(self, &format!("scp -vt {}", shell_quote(&dir))).await?;
        scp.file(&name, 0o644, content).await?;
        scp.finish().await
    }

    /// Copies a local directory to `destination` with `scp -rvt`: its contents when `source`
    /// ends with `/`, the directory itself (inside `destination`) otherwise.
    pub async fn upload_dir(&self, destination: &str, source: &str) -> Result<(), ProvisionError> {
        let mut scp = Scp::start(self, &format!("scp -rvt {}", shell_quote(destination))).await?;
        let local = std::path::Path::new(source);
        if source.ends_with('/') {
            scp.entries(local).await?;
        } else {
            let name = local
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| ".".into());
            scp.directory(&name, local).await?;
        }
        scp.finish().await
    }

    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

enum Retry {
    Yes(ProvisionError),
    No(ProvisionError),
}

async fn authenticate(
    handle: &mut client::Handle<HostKeyCheck>,
    info: &ConnectionInfo,
) -> Result<bool, ProvisionError> {
    let failed = |e: russh::Error| error("SSH authentication failed", e.to_string());
    if let Some(pem) = &info.private_key {
        let key = russh::keys::decode_secret_key(pem, None).map_err(|e| {
            error(
                "Failed to read the SSH private key",
                format!("The connection's private_key could not be parsed: {e}. It must be an unencrypted key in OpenSSH or PEM format."),
            )
        })?;
        let hash = handle
            .best_supported_rsa_hash()
            .await
            .map_err(failed)?
            .flatten();
        let result = handle
            .authenticate_publickey(
                info.user.clone(),
                PrivateKeyWithHashAlg::new(Arc::new(key), hash),
            )
            .await
            .map_err(failed)?;
        if result.success() {
            return Ok(true);
        }
    }
    if let Some(password) = &info.password {
        let result = handle
            .authenticate_password(info.user.clone(), password.clone())
            .await
            .map_err(failed)?;
        return Ok(result.success());
    }
    Ok(false)
}

/// Bytes of one output stream cut into lines for [`Output`].
#[derive(Default)]
struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    fn push(&mut self, data: &[u8], output: &Output) {
        self.pending.extend_from_slice(data);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            output(text.trim_end_matches('\r'));
        }
    }

    fn finish(&mut self, output: &Output) {
        if !self.pending.is_empty() {
            output(&String::from_utf8_lossy(&self.pending));
            self.pending.clear();
        }
    }
}

/// `/tmp/x/script.sh` → (`/tmp/x`, `script.sh`).
fn split_remote_path(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((dir, name)) => (dir.into(), name.into()),
        None => (".".into(), path.into()),
    }
}

/// A word for a POSIX shell command line.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The sending side of the SCP protocol over a remote `scp -t`.
struct Scp {
    channel: russh::Channel<client::Msg>,
    received: Vec<u8>,
    status: Option<u32>,
}

impl Scp {
    async fn start(session: &Session, command: &str) -> Result<Scp, ProvisionError> {
        let channel = session.exec(command).await?;
        let mut scp = Scp {
            channel,
            received: Vec::new(),
            status: None,
        };
        scp.ack().await?;
        Ok(scp)
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), ProvisionError> {
        self.channel.data(bytes).await.map_err(|e| {
            error(
                "file provisioner error",
                format!("Failed to send to scp: {e}"),
            )
        })
    }

    /// Waits for the remote's answer: 0 is fine; 1 and 2 carry an error message.
    async fn ack(&mut self) -> Result<(), ProvisionError> {
        loop {
            if let Some(&code) = self.received.first() {
                if code == 0 {
                    self.received.remove(0);
                    return Ok(());
                }
                if let Some(end) = self.received.iter().position(|b| *b == b'\n') {
                    let message = String::from_utf8_lossy(&self.received[1..end]).to_string();
                    return Err(error(
                        "file provisioner error",
                        format!("scp: {}", message.trim()),
                    ));
                }
            }
            match self.channel.wait().await {
                Some(ChannelMsg::Data { data }) => self.received.extend_from_slice(&data),
                Some(ChannelMsg::ExitStatus { exit_status }) => self.status = Some(exit_status),
                Some(_) => {}
                None => {
                    return Err(error(
                        "file provisioner error",
                        format!(
                        "scp ended early (exit status {}); is scp installed on the remote machine?",
                        self.status.map_or("unknown".to_string(), |s| s.to_string())
                    ),
                    ))
                }
            }
        }
    }

    async fn file(&mut self, name: &str, mode: u32, content: &[u8]) -> Result<(), ProvisionError> {
        self.send(format!("C{mode:04o} {} {name}\n", content.len()).as_bytes())
            .await?;
        self.ack().await?;
        self.send(content).await?;
        self.send(&[0]).await?;
        self.ack().await
    }

    async fn directory(
        &mut self,
        name: &str,
        local: &std::path::Path,
    ) -> Result<(), ProvisionError> {
        self.send(format!("D0755 0 {name}\n").as_bytes()).await?;
        self.ack().await?;
        Box::pin(self.entries(local)).await?;
        self.send(b"E\n").await?;
        self.ack().await
    }

    async fn entries(&mut self, local: &std::path::Path) -> Result<(), ProvisionError> {
        let unreadable = |e: std::io::Error| {
            error(
                "file provisioner error",
                format!("Failed to read {}: {e}", local.display()),
            )
        };
        let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(local)
            .map_err(unreadable)?
            .collect::<Result<_, _>>()
            .map_err(unreadable)?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            let metadata = std::fs::metadata(&path).map_err(unreadable)?;
            if metadata.is_dir() {
                Box::pin(self.directory(&name, &path)).await?;
            } else {
                let content = std::fs::read(&path).map_err(unreadable)?;
                let mode = std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o777;
                self.file(&name, mode, &content).await?;
            }
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<(), ProvisionError> {
        let _ = self.channel.eof().await;
        while let Some(message) = self.channel.wait().await {
            if let ChannelMsg::ExitStatus { exit_status } = message {
                self.status = Some(exit_status);
            }
        }
        match self.status {
            Some(0) | None => Ok(()),
            Some(status) => Err(error(
                "file provisioner error",
                format!("scp exited with status {status}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_words_for_the_shell() {
        assert_eq!(shell_quote("/tmp/a.sh"), "/tmp/a.sh");
        assert_eq!(shell_quote("/tmp/it's here"), "'/tmp/it'\\''s here'");
        assert_eq!(split_remote_path("/x.sh"), ("/".into(), "x.sh".into()));
        assert_eq!(split_remote_path("/a/b/c"), ("/a/b".into(), "c".into()));
    }

    #[test]
    fn connection_blocks_say_what_is_not_supported() {
        let block = |pairs: &[(&str, Value)]| {
            Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
        };
        let winrm = ConnectionInfo::from_value(&block(&[("type", Value::from("winrm"))]));
        assert_eq!(
            winrm.unwrap_err().summary,
            "WinRM connections are not supported"
        );
        let agent = ConnectionInfo::from_value(&block(&[("host", Value::from("h"))]));
        assert_eq!(
            agent.unwrap_err().summary,
            "SSH agent authentication is not supported"
        );
        let info = ConnectionInfo::from_value(&block(&[
            ("host", Value::from("h")),
            ("password", Value::from("p")),
            ("port", Value::from(2222i64)),
            ("timeout", Value::from("30s")),
        ]))
        .unwrap();
        assert_eq!((info.port, info.user.as_str()), (2222, "root"));
        assert_eq!(info.timeout, Duration::from_secs(30));
        assert!(info.script_path().starts_with("/tmp/terraform_"));
    }
}
