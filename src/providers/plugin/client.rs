//! [`PluginClient`]: one running provider plugin and typed calls to it, protocol 5 or 6 alike.
//!
//! Every call takes and returns the [`proto`] messages; the client picks the method path of
//! the negotiated protocol version (`/tfplugin5.Provider/GetSchema` or
//! `/tfplugin6.Provider/GetProviderSchema`, ...). Calls take `&self` and may run concurrently:
//! they share one HTTP/2 connection (the tonic channel is a cheap handle).
//!
//! Failures name the provider: a gRPC error while the process is alive is
//! [`PluginError::Status`]; a call that fails because the process died is
//! [`PluginError::Crashed`], quoting the plugin's last output (a Go panic is there).

use super::launch::{self, LaunchSpec, Process};
use super::proto::{self, Rpc};
use super::tls::Identity;
use http::uri::PathAndQuery;
use std::path::PathBuf;
use std::time::Duration;
use tonic::transport::Channel;
use tonic_prost::ProstCodec;

/// Terraform accepts answers up to 64 MiB (large providers' schemas exceed gRPC's 4 MiB default).
const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// How long `close` waits for the plugin to exit by itself before killing it (go-plugin: 2 s).
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the rest of a plugin's stderr once it has exited.
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);
/// How long a failed call waits to see whether the process is exiting (crash vs error).
const CRASH_CHECK: Duration = Duration::from_millis(1500);

/// What went wrong talking to a plugin; every variant names the provider.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("could not start the plugin for provider `{provider}` ({}): {source}", executable.display())]
    Launch {
        provider: String,
        executable: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the plugin for provider `{provider}` ({}) did not start: {detail}{}",
        executable.display(),
        quote_output(output)
    )]
    Handshake {
        provider: String,
        executable: PathBuf,
        detail: String,
        /// The plugin's last output lines (stderr), often the reason.
        output: String,
    },
    #[error("could not talk to the plugin for provider `{provider}` ({}): {detail}", executable.display())]
    Transport {
        provider: String,
        executable: PathBuf,
        detail: String,
    },
    #[error(
        "the plugin for provider `{provider}` ({}) crashed during {call} ({status}); {}{}",
        executable.display(),
        crash_advice(status),
        quote_output(output)
    )]
    Crashed {
        provider: String,
        executable: PathBuf,
        call: &'static str,
        /// How the process ended (`exit status: 2`).
        status: String,
        output: String,
    },
    #[error("provider `{provider}`: {call} failed: {message} (gRPC status {code:?})")]
    Status {
        provider: String,
        call: &'static str,
        code: tonic::Code,
        message: String,
    },
}

impl PluginError {
    /// The provider the error is about.
    pub fn provider(&self) -> &str {
        match self {
            PluginError::Launch { provider, .. }
            | PluginError::Handshake { provider, .. }
            | PluginError::Transport { provider, .. }
            | PluginError::Crashed { provider, .. }
            | PluginError::Status { provider, .. } => provider,
        }
    }
}

/// What a user can do about a crash: a signal came from outside (often the out-of-memory
/// killer), an exit status from the provider itself (a Go panic exits with status 2).
fn crash_advice(status: &str) -> &'static str {
    match status.starts_with("signal") {
        true => "it was killed by a signal: check the system log for the out-of-memory killer",
        false => "this is a bug in the provider: report it to its authors with its output",
    }
}

fn quote_output(output: &str) -> String {
    if output.is_empty() {
        return String::new();
    }
    let indented: Vec<String> = output.lines().map(|line| format!("  {line}")).collect();
    format!("; its last output:\n{}", indented.join("\n"))
}

/// A running provider plugin.
pub struct PluginClient {
    provider: String,
    executable: PathBuf,
    protocol_version: u32,
    channel: Channel,
    process: Process,
    stdio: tokio::task::JoinHandle<()>,
    mutual_tls: bool,
    /// The Unix socket the plugin listens on, removed once the process is gone (a killed
    /// plugin cannot remove it itself).
    unix_socket: Option<PathBuf>,
}

impl PluginClient {
    /// Starts the plugin, completes go-plugin's handshake and connects. Call it inside a tokio
    /// runtime: the process watcher and the log readers are tasks of that runtime.
    pub async fn launch(spec: LaunchSpec) -> Result<PluginClient, PluginError> {
        let identity = match spec.auto_mtls {
            true => Some(
                Identity::generate().map_err(|error| PluginError::Transport {
                    provider: spec.provider.clone(),
                    executable: spec.executable.clone(),
                    detail: format!("could not make the AutoMTLS certificate: {error}"),
                })?,
            ),
            false => None,
        };
        let (process, handshake) = launch::start(&spec, identity.as_ref()).await?;
        let channel = match launch::connect(&handshake, identity.as_ref()).await {
            Ok(channel) => channel,
            Err(detail) => {
                return Err(PluginError::Transport {
                    provider: spec.provider,
                    executable: spec.executable,
                    detail: with_output(detail, &process.log.tail.text()),
                })
            }
        };
        tracing::debug!(
            target: "strata::plugin",
            provider = %spec.provider,
            pid = process.pid,
            protocol = handshake.protocol_version,
            tls = identity.is_some(),
            "plugin started"
        );
        let stdio = stream_stdio(channel.clone(), process.log.clone());
        Ok(PluginClient {
            provider: spec.provider,
            executable: spec.executable,
            protocol_version: handshake.protocol_version,
            channel,
            process,
            stdio,
            mutual_tls: identity.is_some(),
            unix_socket: match handshake.address {
                launch::Address::Unix(path) => Some(path),
                launch::Address::Tcp(_) => None,
            },
        })
    }

    /// The negotiated plugin protocol version: 5 or 6.
    pub fn protocol_version(&self) -> u32 {
        self.protocol_version
    }

    /// The plugin process's id (for diagnostics and tests).
    pub fn pid(&self) -> u32 {
        self.process.pid
    }

    /// Whether the connection is mutually authenticated TLS (AutoMTLS) rather than plain gRPC.
    pub fn mutual_tls(&self) -> bool {
        self.mutual_tls
    }

    /// The Unix socket the plugin listens on (`None` for TCP).
    pub fn unix_socket(&self) -> Option<&std::path::Path> {
        self.unix_socket.as_deref()
    }

    /// The provider name this client was launched for.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// `GetMetadata`; `None` when the provider does not implement it (most older ones).
    pub async fn get_metadata(&self) -> Result<Option<proto::GetMetadataResponse>, PluginError> {
        match self.call(Rpc::GetMetadata, proto::Empty {}).await {
            Ok(response) => Ok(Some(response)),
            Err(PluginError::Status {
                code: tonic::Code::Unimplemented,
                ..
            }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `GetProviderSchema` (v5 `GetSchema`), in the protocol-6 message shape for both versions.
    pub async fn get_provider_schema(
        &self,
    ) -> Result<proto::GetProviderSchemaResponse, PluginError> {
        if self.protocol_version == 5 {
            let v5: proto::v5::GetProviderSchemaResponse =
                self.call(Rpc::GetProviderSchema, proto::Empty {}).await?;
            return Ok(v5.into());
        }
        self.call(Rpc::GetProviderSchema, proto::Empty {}).await
    }

    /// v5 `PrepareProviderConfig` / v6 `ValidateProviderConfig`: the prepared configuration
    /// (v5 only; providers fill in defaults there) and the diagnostics.
    pub async fn validate_provider_config(
        &self,
        config: proto::DynamicValue,
    ) -> Result<(Option<proto::DynamicValue>, Vec<proto::Diagnostic>), PluginError> {
        let request = proto::ValidateProviderConfigRequest {
            config: Some(config),
        };
        let response: proto::ValidateProviderConfigResponse =
            self.call(Rpc::ValidateProviderConfig, request).await?;
        Ok((response.prepared_config, response.diagnostics))
    }

    /// v5 `Configure` / v6 `ConfigureProvider`.
    pub async fn configure_provider(
        &self,
        terraform_version: &str,
        config: proto::DynamicValue,
    ) -> Result<Vec<proto::Diagnostic>, PluginError> {
        let request = proto::ConfigureProviderRequest {
            terraform_version: terraform_version.to_string(),
            config: Some(config),
            client_capabilities: Some(proto::ClientCapabilities::default()),
        };
        let response: proto::DiagnosticsResponse =
            self.call(Rpc::ConfigureProvider, request).await?;
        Ok(response.diagnostics)
    }

    /// v5 `ValidateResourceTypeConfig` / v6 `ValidateResourceConfig`.
    pub async fn validate_resource_config(
        &self,
        request: proto::ValidateResourceConfigRequest,
    ) -> Result<proto::DiagnosticsResponse, PluginError> {
        self.call(Rpc::ValidateResourceConfig, request).await
    }

    /// v5 `ValidateDataSourceConfig` / v6 `ValidateDataResourceConfig`.
    pub async fn validate_data_resource_config(
        &self,
        request: proto::ValidateDataResourceConfigRequest,
    ) -> Result<proto::DiagnosticsResponse, PluginError> {
        self.call(Rpc::ValidateDataResourceConfig, request).await
    }

    pub async fn upgrade_resource_state(
        &self,
        request: proto::UpgradeResourceStateRequest,
    ) -> Result<proto::UpgradeResourceStateResponse, PluginError> {
        self.call(Rpc::UpgradeResourceState, request).await
    }

    pub async fn read_resource(
        &self,
        request: proto::ReadResourceRequest,
    ) -> Result<proto::ReadResourceResponse, PluginError> {
        self.call(Rpc::ReadResource, request).await
    }

    pub async fn plan_resource_change(
        &self,
        request: proto::PlanResourceChangeRequest,
    ) -> Result<proto::PlanResourceChangeResponse, PluginError> {
        self.call(Rpc::PlanResourceChange, request).await
    }

    pub async fn apply_resource_change(
        &self,
        request: proto::ApplyResourceChangeRequest,
    ) -> Result<proto::ApplyResourceChangeResponse, PluginError> {
        self.call(Rpc::ApplyResourceChange, request).await
    }

    pub async fn import_resource_state(
        &self,
        request: proto::ImportResourceStateRequest,
    ) -> Result<proto::ImportResourceStateResponse, PluginError> {
        self.call(Rpc::ImportResourceState, request).await
    }

    /// `MoveResourceState`: only for providers announcing the `move_resource_state` capability.
    pub async fn move_resource_state(
        &self,
        request: proto::MoveResourceStateRequest,
    ) -> Result<proto::MoveResourceStateResponse, PluginError> {
        self.call(Rpc::MoveResourceState, request).await
    }

    pub async fn read_data_source(
        &self,
        request: proto::ReadDataSourceRequest,
    ) -> Result<proto::ReadDataSourceResponse, PluginError> {
        self.call(Rpc::ReadDataSource, request).await
    }

    /// v5 `Stop` / v6 `StopProvider`: asks the provider to cancel what it is doing (Ctrl-C);
    /// `Some(message)` when the provider reports that stopping failed.
    pub async fn stop_provider(&self) -> Result<Option<String>, PluginError> {
        let response: proto::StopProviderResponse =
            self.call(Rpc::StopProvider, proto::Empty {}).await?;
        Ok(Some(response.error).filter(|error| !error.is_empty()))
    }

    /// Ends the plugin as go-plugin does: `GRPCController/Shutdown`, a grace period for the
    /// process to exit, then a kill. Afterwards the process is gone (reaped).
    pub async fn close(mut self) -> Result<(), PluginError> {
        if self.process.exit_status().is_none() {
            let shutdown = self.shutdown();
            let _ = tokio::time::timeout(EXIT_GRACE, shutdown).await;
            if self.process.wait_exit(EXIT_GRACE).await.is_none() {
                tracing::debug!(target: "strata::plugin", provider = %self.provider, "plugin did not exit after Shutdown; killing it");
            }
        }
        self.stdio.abort();
        let killed = self.process.kill().await;
        // Everything the plugin logged is forwarded by the time `close` returns.
        self.process.wait_output(OUTPUT_DRAIN).await;
        remove_socket(self.unix_socket.take());
        match killed {
            Some(_) => Ok(()),
            None => Err(PluginError::Transport {
                provider: self.provider.clone(),
                executable: self.executable.clone(),
                detail: format!(
                    "process {} did not exit after being killed",
                    self.process.pid
                ),
            }),
        }
    }

    async fn shutdown(&self) {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        if grpc.ready().await.is_err() {
            return;
        }
        let codec = ProstCodec::<proto::Empty, proto::Empty>::default();
        let path = PathAndQuery::from_static(proto::CONTROLLER_SHUTDOWN_PATH);
        let _ = grpc
            .unary(tonic::Request::new(proto::Empty {}), path, codec)
            .await;
    }

    /// One unary call of the provider service.
    async fn call<Request, Response>(
        &self,
        rpc: Rpc,
        request: Request,
    ) -> Result<Response, PluginError>
    where
        Request: prost::Message + Send + Sync + 'static,
        Response: prost::Message + Default + Send + Sync + 'static,
    {
        let call = rpc.name(self.protocol_version);
        let mut grpc = tonic::client::Grpc::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        if let Err(error) = grpc.ready().await {
            let status = tonic::Status::unavailable(launch::error_chain(&error));
            return Err(self.failure(call, status).await);
        }
        let path = PathAndQuery::try_from(rpc.path(self.protocol_version))
            .map_err(|error| self.failure_sync(call, tonic::Status::internal(error.to_string())))?;
        let codec = ProstCodec::<Request, Response>::default();
        match grpc.unary(tonic::Request::new(request), path, codec).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(self.failure(call, status).await),
        }
    }

    /// A failed call: a crash if the process is gone (or going), else the provider's status.
    async fn failure(&self, call: &'static str, status: tonic::Status) -> PluginError {
        let may_be_crash = matches!(
            status.code(),
            tonic::Code::Unavailable
                | tonic::Code::Unknown
                | tonic::Code::Cancelled
                | tonic::Code::Internal
        );
        let exit = match may_be_crash {
            true => self.process.wait_exit(CRASH_CHECK).await,
            false => self.process.exit_status(),
        };
        if exit.is_some() {
            self.process.wait_output(OUTPUT_DRAIN).await;
        }
        match exit {
            Some(status) => PluginError::Crashed {
                provider: self.provider.clone(),
                executable: self.executable.clone(),
                call,
                status,
                output: self.process.log.tail.text(),
            },
            None => self.failure_sync(call, status),
        }
    }

    fn failure_sync(&self, call: &'static str, status: tonic::Status) -> PluginError {
        PluginError::Status {
            provider: self.provider.clone(),
            call,
            code: status.code(),
            message: status.message().to_string(),
        }
    }
}

impl std::fmt::Debug for PluginClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PluginClient")
            .field("provider", &self.provider)
            .field("executable", &self.executable)
            .field("protocol_version", &self.protocol_version)
            .field("pid", &self.process.pid)
            .finish()
    }
}

impl Drop for PluginClient {
    fn drop(&mut self) {
        // The process is killed by `Process`'s own Drop; the stdio stream ends with it.
        self.stdio.abort();
        remove_socket(self.unix_socket.take());
    }
}

/// Removes the plugin's socket file if it is still there (and still a socket).
fn remove_socket(path: Option<PathBuf>) {
    use std::os::unix::fs::FileTypeExt;
    let Some(path) = path else { return };
    if let Ok(metadata) = std::fs::symlink_metadata(&path) {
        if metadata.file_type().is_socket() {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn with_output(detail: String, output: &str) -> String {
    format!("{detail}{}", quote_output(output))
}

/// Subscribes to go-plugin's `GRPCStdio` stream: once connected, a plugin's writes to its
/// stdout and stderr arrive there rather than on the pipes, and would block the plugin if
/// nobody read them. Plugins without the service answer Unimplemented; that is fine.
fn stream_stdio(channel: Channel, log: launch::LogForwarder) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut grpc = tonic::client::Grpc::new(channel);
        if grpc.ready().await.is_err() {
            return;
        }
        let codec = ProstCodec::<proto::Empty, proto::StdioData>::default();
        let path = PathAndQuery::from_static(proto::STDIO_STREAM_PATH);
        let request = tonic::Request::new(proto::Empty {});
        let mut stream = match grpc.server_streaming(request, path, codec).await {
            Ok(response) => response.into_inner(),
            Err(status) => {
                tracing::trace!(target: "strata::plugin", "no stdio stream: {}", status.message());
                return;
            }
        };
        let mut partial = [Vec::new(), Vec::new()];
        while let Ok(Some(chunk)) = stream.message().await {
            let stderr = chunk.channel == proto::stdio_data::Channel::Stderr as i32;
            let buffer = &mut partial[usize::from(stderr)];
            buffer.extend_from_slice(&chunk.data);
            while let Some(end) = buffer.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                match stderr {
                    true => log.stderr_line(&line),
                    false => log.stdout_line(&line),
                }
            }
        }
    })
}
