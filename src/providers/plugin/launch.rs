//! Starting a plugin process as go-plugin's client does, and watching it until it is gone.
//!
//! The steps, in go-plugin's order (`client.go` `Start`): the handshake environment (magic
//! cookie, the protocol versions we speak, the port range, and with AutoMTLS a fresh client
//! certificate in `PLUGIN_CLIENT_CERT`); the child's first stdout line, the handshake
//! `core|app|network|address|protocol|server-cert`, read within a time limit and validated;
//! then the connection: gRPC over the Unix socket (or TCP address) it names, through mutual TLS
//! pinned to the certificate in the handshake, or in plain text when AutoMTLS is off.
//!
//! The process's stderr is read line by line for its whole life: hclog JSON lines go into
//! `tracing` at their own level with the provider's name, other lines at the level their
//! `[DEBUG]`-style prefix names (debug when none), as go-plugin's `logStderr` does. The last
//! lines are kept for error messages (a crash's panic is there). Stdout after the handshake is
//! drained at debug level so the plugin never blocks on a full pipe.
//!
//! Architecture invariant: a [`Process`] never outlives its owner. Dropping it kills the child
//! (the watcher task holds the child with `kill_on_drop`, and the task ends when its kill
//! channel closes), so no error path leaves a plugin running.

use super::tls::{self, Identity};
use super::PluginError;
use hyper_util::rt::TokioIo;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::{oneshot, watch};
use tonic::transport::{Channel, Endpoint};

/// The magic cookie every Terraform provider checks before it serves (go-plugin handshake).
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The protocol versions Strata speaks, offered in `PLUGIN_PROTOCOL_VERSIONS`.
pub const SUPPORTED_PROTOCOLS: [u32; 2] = [5, 6];
/// go-plugin's core protocol version (the first handshake field).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// go-plugin's default port range for plugins that listen on TCP.
const MIN_PORT: u16 = 10000;
const MAX_PORT: u16 = 25000;
/// The longest handshake line read (a certificate is about 1 KB of base64).
const MAX_HANDSHAKE_BYTES: u64 = 64 * 1024;
/// How many of the plugin's last output lines an error message quotes.
const TAIL_LINES: usize = 20;

/// What to start and how.
#[derive(Clone, Debug)]
pub struct LaunchSpec {
    /// The provider's name for messages, e.g. `registry.terraform.io/hashicorp/aws`.
    pub provider: String,
    /// The plugin executable.
    pub executable: PathBuf,
    /// go-plugin's AutoMTLS (what Terraform uses): mutual TLS with per-launch certificates.
    pub auto_mtls: bool,
    /// How long the plugin may take to print its handshake line.
    pub handshake_timeout: Duration,
}

impl LaunchSpec {
    /// A launch as Terraform does it: AutoMTLS on, one minute for the handshake (go-plugin's
    /// default start timeout).
    pub fn new(provider: impl Into<String>, executable: impl Into<PathBuf>) -> LaunchSpec {
        LaunchSpec {
            provider: provider.into(),
            executable: executable.into(),
            auto_mtls: true,
            handshake_timeout: Duration::from_secs(60),
        }
    }
}

/// Where the plugin listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    Tcp(String),
}

/// The plugin's handshake line, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// The plugin protocol version it chose (5 or 6).
    pub protocol_version: u32,
    pub address: Address,
    /// The plugin's AutoMTLS certificate (DER), when it sent one.
    pub server_cert: Option<Vec<u8>>,
}

/// Parses and checks `core|app|network|address|protocol|server-cert`; the error says what is
/// wrong in words a user can act on.
pub fn parse_handshake(line: &str) -> Result<Handshake, String> {
    let parts: Vec<&str> = line.trim().splitn(6, '|').collect();
    if parts.len() < 4 {
        return Err(format!(
            "it printed `{}` instead of the plugin handshake line \
             (`core|protocol|network|address|grpc|certificate`); is this a Terraform provider?",
            truncate(line.trim(), 200)
        ));
    }
    let core: u32 = parts[0]
        .parse()
        .map_err(|_| format!("bad core protocol version `{}`", truncate(parts[0], 40)))?;
    if core != CORE_PROTOCOL_VERSION {
        return Err(format!(
            "it speaks go-plugin core protocol {core}, Strata speaks {CORE_PROTOCOL_VERSION}"
        ));
    }
    let protocol_version: u32 = parts[1]
        .parse()
        .map_err(|_| format!("bad plugin protocol version `{}`", truncate(parts[1], 40)))?;
    if !SUPPORTED_PROTOCOLS.contains(&protocol_version) {
        return Err(format!(
            "it speaks plugin protocol {protocol_version}; Strata supports 5 and 6 \
             (as Terraform 1.x does): use a provider version built for Terraform 0.12 or later"
        ));
    }
    let address = match parts[2] {
        "unix" => Address::Unix(PathBuf::from(parts[3])),
        "tcp" => Address::Tcp(parts[3].to_string()),
        other => return Err(format!("unknown network `{}`", truncate(other, 40))),
    };
    // go-plugin's default when the field is missing is its older net/rpc protocol.
    let protocol = parts.get(4).copied().unwrap_or("netrpc");
    if protocol != "grpc" {
        return Err(format!(
            "it serves `{}`, not gRPC: Terraform providers of this age are not supported",
            truncate(protocol, 40)
        ));
    }
    // Like go-plugin, a short last field is old plugins' unused "extra" data, not a certificate.
    let server_cert = match parts.get(5) {
        Some(cert) if cert.len() > 50 => Some(decode_cert(cert)?),
        _ => None,
    };
    Ok(Handshake {
        protocol_version,
        address,
        server_cert,
    })
}

fn decode_cert(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD_NO_PAD;
    engine
        .decode(text.trim_end_matches('='))
        .map_err(|error| format!("its TLS certificate is not valid base64 ({error})"))
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// The plugin's recent output, kept for error messages.
#[derive(Default)]
pub(super) struct OutputTail(Mutex<VecDeque<String>>);

impl OutputTail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The last lines, joined, or empty.
    pub(super) fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// Sends the plugin's output lines into `tracing` and the tail.
#[derive(Clone)]
pub(super) struct LogForwarder {
    provider: Arc<str>,
    pub(super) tail: Arc<OutputTail>,
}

impl LogForwarder {
    fn new(provider: &str) -> LogForwarder {
        LogForwarder {
            provider: provider.into(),
            tail: Arc::default(),
        }
    }

    /// One stderr line: an hclog JSON record or free text.
    pub(super) fn stderr_line(&self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            return;
        }
        let (level, message) = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(record)) => hclog_record(&record),
            _ => (prefix_level(text), text.to_string()),
        };
        self.emit(level, &message);
        self.tail.push(message);
    }

    /// One stdout line after the handshake (providers do not use stdout; logged for debugging).
    pub(super) fn stdout_line(&self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches(['\r', '\n']);
        if !text.is_empty() {
            self.emit(tracing::Level::DEBUG, &format!("stdout: {text}"));
        }
    }

    fn emit(&self, level: tracing::Level, message: &str) {
        let provider = &*self.provider;
        match level {
            tracing::Level::ERROR => {
                tracing::error!(target: "strata::plugin", provider, "{message}")
            }
            tracing::Level::WARN => tracing::warn!(target: "strata::plugin", provider, "{message}"),
            tracing::Level::INFO => tracing::info!(target: "strata::plugin", provider, "{message}"),
            tracing::Level::DEBUG => {
                tracing::debug!(target: "strata::plugin", provider, "{message}")
            }
            tracing::Level::TRACE => {
                tracing::trace!(target: "strata::plugin", provider, "{message}")
            }
        }
    }
}

/// An hclog JSON record's level and its message followed by its other fields (`key=value`).
fn hclog_record(record: &serde_json::Map<String, serde_json::Value>) -> (tracing::Level, String) {
    let level = match record.get("@level").and_then(|level| level.as_str()) {
        Some("trace") => tracing::Level::TRACE,
        Some("info") => tracing::Level::INFO,
        Some("warn") => tracing::Level::WARN,
        Some("error") => tracing::Level::ERROR,
        _ => tracing::Level::DEBUG,
    };
    let mut message = record
        .get("@message")
        .and_then(|message| message.as_str())
        .unwrap_or_default()
        .to_string();
    for (key, value) in record {
        if matches!(key.as_str(), "@level" | "@message" | "@timestamp") {
            continue;
        }
        let value = match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        message.push_str(&format!(" {key}={value}"));
    }
    (level, message)
}

/// The level a free-text line names with go-plugin's recognised prefixes (`[DEBUG] ...`).
fn prefix_level(line: &str) -> tracing::Level {
    const PREFIXES: [(&str, tracing::Level); 5] = [
        ("[TRACE]", tracing::Level::TRACE),
        ("[DEBUG]", tracing::Level::DEBUG),
        ("[INFO]", tracing::Level::INFO),
        ("[WARN]", tracing::Level::WARN),
        ("[ERROR]", tracing::Level::ERROR),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| line.starts_with(prefix))
        .map_or(tracing::Level::DEBUG, |(_, level)| *level)
}

/// A running plugin process: its pid, how it ended (once it has), its recent output.
pub(super) struct Process {
    pub(super) pid: u32,
    kill: Option<oneshot::Sender<()>>,
    exit: watch::Receiver<Option<String>>,
    pub(super) log: LogForwarder,
    /// Becomes true once the plugin's stderr is closed and every line of it forwarded.
    stderr_closed: watch::Receiver<bool>,
}

impl Process {
    /// How the process ended (`exit status: 2`, `signal: 9 (SIGKILL)`), `None` while it runs.
    pub(super) fn exit_status(&self) -> Option<String> {
        self.exit.borrow().clone()
    }

    /// Waits up to `limit` for the process to end; its exit status if it did.
    pub(super) async fn wait_exit(&self, limit: Duration) -> Option<String> {
        let mut exit = self.exit.clone();
        let ended = tokio::time::timeout(limit, exit.wait_for(Option::is_some)).await;
        match ended {
            Ok(Ok(status)) => status.clone(),
            _ => self.exit_status(),
        }
    }

    /// Waits up to `limit` until the plugin's stderr is read to its end, so that the log and
    /// the quoted output are complete (after the process ended, this is immediate).
    pub(super) async fn wait_output(&self, limit: Duration) {
        let mut closed = self.stderr_closed.clone();
        let _ = tokio::time::timeout(limit, closed.wait_for(|closed| *closed)).await;
    }

    /// Kills the process (if still running) and waits until it is reaped.
    pub(super) async fn kill(&mut self) -> Option<String> {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        self.wait_exit(Duration::from_secs(10)).await
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Closing the channel is enough: the watcher kills the child when it sees it closed.
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
    }
}

/// Starts the plugin and reads its handshake; on any failure the child is killed.
pub(super) async fn start(
    spec: &LaunchSpec,
    identity: Option<&Identity>,
) -> Result<(Process, Handshake), PluginError> {
    let (process, stdout) = spawn(spec, identity)?;
    match read_handshake(spec, &process, stdout).await {
        Ok(handshake) => Ok((process, handshake)),
        Err(detail) => Err(handshake_error(spec, &process, detail)),
    }
}

/// Starts the child with go-plugin's handshake environment; its stderr is forwarded from now on.
fn spawn(
    spec: &LaunchSpec,
    identity: Option<&Identity>,
) -> Result<(Process, Option<ChildStdout>), PluginError> {
    let mut command = Command::new(&spec.executable);
    command
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", protocol_list())
        .env("PLUGIN_MIN_PORT", MIN_PORT.to_string())
        .env("PLUGIN_MAX_PORT", MAX_PORT.to_string())
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(identity) = identity {
        command.env("PLUGIN_CLIENT_CERT", identity.cert_pem());
    }
    let mut child = command.spawn().map_err(|source| PluginError::Launch {
        provider: spec.provider.clone(),
        executable: spec.executable.clone(),
        source,
    })?;
    let log = LogForwarder::new(&spec.provider);
    let stdout = child.stdout.take();
    let stderr_closed = forward_stderr(&mut child, &log);
    Ok((watch_process(child, log, stderr_closed), stdout))
}

/// The first stdout line, within the time limit, parsed; afterwards stdout is drained.
async fn read_handshake(
    spec: &LaunchSpec,
    process: &Process,
    stdout: Option<ChildStdout>,
) -> Result<Handshake, String> {
    let mut stdout = BufReader::new(stdout.ok_or("its stdout could not be read")?);
    let mut line = Vec::new();
    // Bounded: a program that is no plugin may print anything, newline or not.
    let mut bounded = (&mut stdout).take(MAX_HANDSHAKE_BYTES);
    let first_line = bounded.read_until(b'\n', &mut line);
    match tokio::time::timeout(spec.handshake_timeout, first_line).await {
        Err(_) => Err(format!(
            "it printed no handshake line within {} s",
            spec.handshake_timeout.as_secs_f64()
        )),
        Ok(Err(error)) => Err(format!("reading its output failed: {error}")),
        Ok(Ok(0)) => {
            // Let the last stderr lines (usually the reason) arrive before quoting them.
            let status = process.wait_exit(Duration::from_secs(2)).await;
            process.wait_output(Duration::from_secs(2)).await;
            Err(format!(
                "it exited before the handshake ({})",
                status.as_deref().unwrap_or("still running, stdout closed")
            ))
        }
        Ok(Ok(_)) => {
            let handshake = parse_handshake(&String::from_utf8_lossy(&line))?;
            drain_stdout(stdout, process.log.clone());
            Ok(handshake)
        }
    }
}

fn protocol_list() -> String {
    SUPPORTED_PROTOCOLS
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn handshake_error(spec: &LaunchSpec, process: &Process, detail: String) -> PluginError {
    PluginError::Handshake {
        provider: spec.provider.clone(),
        executable: spec.executable.clone(),
        detail,
        output: process.log.tail.text(),
    }
}

/// Reads stderr line by line until it closes; the receiver turns true then.
fn forward_stderr(child: &mut Child, log: &LogForwarder) -> watch::Receiver<bool> {
    let (done, done_rx) = watch::channel(false);
    if let Some(stderr) = child.stderr.take() {
        let log = log.clone();
        tokio::spawn(async move {
            read_lines(stderr, |line| log.stderr_line(line)).await;
            let _ = done.send(true);
        });
    }
    done_rx
}

fn drain_stdout(stdout: BufReader<ChildStdout>, log: LogForwarder) {
    tokio::spawn(async move {
        read_lines(stdout, |line| log.stdout_line(line)).await;
    });
}

async fn read_lines(reader: impl AsyncRead + Unpin, mut each: impl FnMut(&[u8])) {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => each(&line),
        }
    }
}

/// Hands the child to a task that reaps it, or kills it when asked (or when the [`Process`]
/// is dropped), and publishes how it ended.
fn watch_process(
    mut child: Child,
    log: LogForwarder,
    stderr_closed: watch::Receiver<bool>,
) -> Process {
    let pid = child.id().unwrap_or_default();
    let (kill, kill_rx) = oneshot::channel::<()>();
    let (exit_tx, exit) = watch::channel(None);
    tokio::spawn(async move {
        let status = tokio::select! {
            status = child.wait() => status,
            _ = kill_rx => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        let text = match status {
            Ok(status) => status.to_string(),
            Err(error) => format!("unknown: {error}"),
        };
        let _ = exit_tx.send(Some(text));
    });
    Process {
        pid,
        kill: Some(kill),
        exit,
        log,
        stderr_closed,
    }
}

/// A byte stream to the plugin, TLS or not, Unix socket or TCP.
trait PluginIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> PluginIo for T {}

/// Opens the gRPC channel the handshake names: mutual TLS when both sides sent certificates.
pub(super) async fn connect(
    handshake: &Handshake,
    identity: Option<&Identity>,
) -> Result<Channel, String> {
    let tls = match (identity, &handshake.server_cert) {
        (Some(identity), Some(server_cert)) => {
            let config = tls::client_config(identity, server_cert.clone())
                .map_err(|error| format!("TLS set-up failed: {error}"))?;
            Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
        }
        (Some(_), None) => {
            return Err(
                "it sent no TLS certificate in its handshake although Strata asked \
                        for AutoMTLS: the plugin's go-plugin is too old for AutoMTLS"
                    .into(),
            )
        }
        (None, _) => None,
    };
    let address = handshake.address.clone();
    let connector = tower::service_fn(move |_: tonic::transport::Uri| {
        let address = address.clone();
        let tls = tls.clone();
        async move { open_stream(&address, tls).await.map(TokioIo::new) }
    });
    // The URI only names the `:authority`; the connector decides where bytes go.
    Endpoint::from_static("http://localhost")
        .connect_with_connector(connector)
        .await
        .map_err(|error| {
            format!(
                "connecting to {} failed: {}",
                describe(&handshake.address),
                error_chain(&error)
            )
        })
}

async fn open_stream(
    address: &Address,
    tls: Option<tokio_rustls::TlsConnector>,
) -> std::io::Result<Box<dyn PluginIo>> {
    let plain: Box<dyn PluginIo> = match address {
        Address::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
        Address::Tcp(address) => {
            let stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            Box::new(stream)
        }
    };
    let Some(tls) = tls else {
        return Ok(plain);
    };
    let name = rustls::pki_types::ServerName::try_from(tls::SERVER_NAME)
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(Box::new(tls.connect(name, plain).await?))
}

fn describe(address: &Address) -> String {
    match address {
        Address::Unix(path) => format!("unix socket {}", path.display()),
        Address::Tcp(address) => format!("tcp {address}"),
    }
}

pub(super) use crate::diagnostics::error_chain;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handshake_with_a_certificate_is_parsed() {
        use base64::Engine;
        let cert = vec![7u8; 60];
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&cert);
        let line = format!("1|6|unix|/tmp/plugin123|grpc|{encoded}\n");
        assert_eq!(
            parse_handshake(&line).unwrap(),
            Handshake {
                protocol_version: 6,
                address: Address::Unix("/tmp/plugin123".into()),
                server_cert: Some(cert),
            }
        );
    }

    #[test]
    fn a_handshake_without_a_certificate_is_plain() {
        let handshake = parse_handshake("1|5|tcp|127.0.0.1:10000|grpc|").unwrap();
        assert_eq!(handshake.protocol_version, 5);
        assert_eq!(handshake.address, Address::Tcp("127.0.0.1:10000".into()));
        assert_eq!(handshake.server_cert, None);
    }

    #[test]
    fn bad_handshakes_say_what_is_wrong() {
        let cases = [
            ("hello world", "instead of the plugin handshake line"),
            ("2|5|unix|/tmp/x|grpc|", "core protocol 2"),
            ("1|4|unix|/tmp/x|grpc|", "plugin protocol 4"),
            ("1|x|unix|/tmp/x|grpc|", "bad plugin protocol version `x`"),
            ("1|5|pipe|/tmp/x|grpc|", "unknown network `pipe`"),
            ("1|5|unix|/tmp/x", "serves `netrpc`"),
            ("1|5|unix|/tmp/x|netrpc|", "serves `netrpc`"),
            (
                &format!("1|5|unix|/tmp/x|grpc|{}", "!".repeat(60)),
                "not valid base64",
            ),
        ];
        for (line, expected) in cases {
            let error = parse_handshake(line).unwrap_err();
            assert!(error.contains(expected), "{line}: {error}");
        }
    }

    #[test]
    fn hclog_records_keep_level_message_and_fields() {
        let record = serde_json::json!({
            "@level": "warn", "@message": "slow", "@timestamp": "2026-01-01T00:00:00Z",
            "@module": "provider", "attempt": 3
        });
        let (level, message) = hclog_record(record.as_object().unwrap());
        assert_eq!(level, tracing::Level::WARN);
        assert_eq!(message, "slow @module=provider attempt=3");
        assert_eq!(prefix_level("[ERROR] boom"), tracing::Level::ERROR);
        assert_eq!(prefix_level("panic: boom"), tracing::Level::DEBUG);
    }

    #[test]
    fn the_tail_keeps_the_last_lines() {
        let log = LogForwarder::new("p");
        for index in 0..30 {
            log.stderr_line(format!("line {index}\n").as_bytes());
        }
        let text = log.tail.text();
        assert!(text.starts_with("line 10\n"));
        assert!(text.ends_with("line 29"));
    }
}
