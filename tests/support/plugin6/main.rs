//! `terraform-provider-stratatest`: a small but real Terraform provider plugin speaking plugin
//! protocol 6 from Strata's own message definitions, for the tests. It serves the way a Go
//! provider built on HashiCorp's go-plugin does: it refuses to run without the magic cookie,
//! negotiates the protocol from `PLUGIN_PROTOCOL_VERSIONS`, listens on a Unix socket, answers
//! `PLUGIN_CLIENT_CERT` with its own certificate (AutoMTLS, mutual TLS pinned both ways) or
//! serves plain gRPC without it, prints the handshake line, and exits on
//! `plugin.GRPCController/Shutdown`. What the provider declares and does is in `provider.rs`.
// Tests and the test plugin print their own output (the handshake line, progress).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod provider;

use hyper::body::Incoming;
use provider::Provider;
use std::convert::Infallible;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use strata::providers::plugin::launch::{
    CORE_PROTOCOL_VERSION, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE,
};
use strata::providers::plugin::proto::{self, Rpc};
use strata::providers::plugin::tls;
use tonic::Status;
use tonic_prost::ProstCodec;

const PROTOCOL_VERSION: u32 = 6;

fn main() -> ExitCode {
    if std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!(
            "This binary is a plugin. These are not meant to be executed directly.\n\
             Please execute the program that consumes these plugins, which will\n\
             load any plugins automatically"
        );
        return ExitCode::FAILURE;
    }
    let offered = std::env::var("PLUGIN_PROTOCOL_VERSIONS").unwrap_or_default();
    if !offered.split(',').any(|version| version.trim() == "6") {
        eprintln!("stratatest speaks plugin protocol 6 only; the client offered `{offered}`");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("stratatest: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stratatest: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    let (acceptor, server_cert) = auto_mtls()?;
    let listener = Listener::open()?;
    log(
        "info",
        "stratatest serving",
        &format!("\"protocol\":{PROTOCOL_VERSION}"),
    );
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{}|grpc|{server_cert}",
        listener.handshake_address()
    )
    .and_then(|()| stdout.flush())
    .map_err(|error| format!("printing the handshake: {error}"))?;
    let provider = Arc::new(Provider::default());
    loop {
        let stream = listener
            .accept()
            .await
            .map_err(|error| format!("accepting: {error}"))?;
        let provider = provider.clone();
        let acceptor = acceptor.clone();
        let socket = listener.socket();
        tokio::spawn(async move {
            let served = match acceptor {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => serve_connection(stream, provider, socket).await,
                    Err(error) => Err(format!("TLS: {error}")),
                },
                None => serve_connection(stream, provider, socket).await,
            };
            if let Err(error) = served {
                log("debug", "connection ended", &format!("\"error\":{error:?}"));
            }
        });
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

/// Where the plugin listens: a Unix socket, as go-plugin does on Unix; or, when the executable
/// is called through a name ending in `-tcp` (a symlink), a loopback TCP port from
/// `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`, as go-plugin does on Windows.
enum Listener {
    Unix(tokio::net::UnixListener, PathBuf),
    Tcp(tokio::net::TcpListener),
}

impl Listener {
    fn open() -> Result<Listener, String> {
        let name = std::env::args_os().next().unwrap_or_default();
        if !name.to_string_lossy().ends_with("-tcp") {
            let socket = socket_path();
            let listener = tokio::net::UnixListener::bind(&socket)
                .map_err(|error| format!("listening on {}: {error}", socket.display()))?;
            return Ok(Listener::Unix(listener, socket));
        }
        let port = |name: &str| -> Result<u16, String> {
            let value = std::env::var(name).map_err(|_| format!("{name} is not set"))?;
            value
                .parse()
                .map_err(|_| format!("{name}={value} is not a port"))
        };
        for port in port("PLUGIN_MIN_PORT")?..=port("PLUGIN_MAX_PORT")? {
            if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                listener
                    .set_nonblocking(true)
                    .map_err(|error| error.to_string())?;
                let listener = tokio::net::TcpListener::from_std(listener)
                    .map_err(|error| error.to_string())?;
                return Ok(Listener::Tcp(listener));
            }
        }
        Err("no free port between PLUGIN_MIN_PORT and PLUGIN_MAX_PORT".into())
    }

    /// `network|address` for the handshake line.
    fn handshake_address(&self) -> String {
        match self {
            Listener::Unix(_, socket) => format!("unix|{}", socket.display()),
            Listener::Tcp(listener) => match listener.local_addr() {
                Ok(address) => format!("tcp|{address}"),
                Err(_) => "tcp|127.0.0.1:0".into(),
            },
        }
    }

    async fn accept(&self) -> std::io::Result<Box<dyn Io>> {
        Ok(match self {
            Listener::Unix(listener, _) => Box::new(listener.accept().await?.0),
            Listener::Tcp(listener) => Box::new(listener.accept().await?.0),
        })
    }

    fn socket(&self) -> Option<PathBuf> {
        match self {
            Listener::Unix(_, socket) => Some(socket.clone()),
            Listener::Tcp(_) => None,
        }
    }
}

/// With `PLUGIN_CLIENT_CERT`: a TLS acceptor trusting exactly that certificate, and our own
/// certificate for the handshake line (base64 DER without padding, as go-plugin prints it).
fn auto_mtls() -> Result<(Option<tokio_rustls::TlsAcceptor>, String), String> {
    let Ok(client_pem) = std::env::var("PLUGIN_CLIENT_CERT") else {
        return Ok((None, String::new()));
    };
    let client_der = tls::pem_decode_certificate(&client_pem)
        .ok_or("PLUGIN_CLIENT_CERT holds no PEM certificate")?;
    let identity = tls::Identity::generate().map_err(|error| error.to_string())?;
    let config = tls::server_config(&identity, client_der).map_err(|error| error.to_string())?;
    use base64::Engine;
    let cert = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&identity.cert_der);
    Ok((
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
        cert,
    ))
}

fn socket_path() -> PathBuf {
    let nonce: u64 = rand::random();
    std::env::temp_dir().join(format!(
        "stratatest-plugin-{}-{nonce:x}.sock",
        std::process::id()
    ))
}

/// One hclog-style JSON line on stderr, as Go providers log.
fn log(level: &str, message: &str, fields: &str) {
    let separator = if fields.is_empty() { "" } else { "," };
    eprintln!(
        "{{\"@level\":\"{level}\",\"@message\":{message:?},\"@module\":\"stratatest\"{separator}{fields}}}"
    );
}

async fn serve_connection<S>(
    stream: S,
    provider: Arc<Provider>,
    socket: Option<PathBuf>,
) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let provider = provider.clone();
        let socket = socket.clone();
        async move { Ok::<_, Infallible>(route(request, provider, socket).await) }
    });
    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await
        .map_err(|error| error.to_string())
}

type Response = http::Response<tonic::body::Body>;

async fn route(
    request: http::Request<Incoming>,
    provider: Arc<Provider>,
    socket: Option<PathBuf>,
) -> Response {
    let path = request.uri().path().to_string();
    if path == proto::CONTROLLER_SHUTDOWN_PATH {
        return unary(request, move |_: proto::Empty| {
            exit_soon(socket);
            Ok(proto::Empty {})
        })
        .await;
    }
    let Some(rpc) = Rpc::from_path(&path, PROTOCOL_VERSION) else {
        return Status::unimplemented(format!("stratatest does not serve {path}")).into_http();
    };
    log(
        "debug",
        "call",
        &format!("\"rpc\":{:?}", rpc.name(PROTOCOL_VERSION)),
    );
    let p = provider;
    match rpc {
        Rpc::GetMetadata => unary(request, move |_: proto::Empty| Ok(p.metadata())).await,
        Rpc::GetProviderSchema => unary(request, |_: proto::Empty| Ok(provider::schema())).await,
        Rpc::ValidateProviderConfig => {
            unary(request, move |r| Ok(p.validate_provider_config(r))).await
        }
        Rpc::ValidateResourceConfig => {
            unary(request, move |r| Ok(p.validate_resource_config(r))).await
        }
        Rpc::ValidateDataResourceConfig => {
            unary(request, |_: proto::ValidateDataResourceConfigRequest| {
                Ok(proto::DiagnosticsResponse::default())
            })
            .await
        }
        Rpc::UpgradeResourceState => unary(request, move |r| Ok(p.upgrade_resource_state(r))).await,
        Rpc::ConfigureProvider => unary(request, move |r| Ok(p.configure(r))).await,
        Rpc::ReadResource => unary(request, move |r| Ok(p.read_resource(r))).await,
        Rpc::PlanResourceChange => unary(request, move |r| Ok(p.plan(r))).await,
        Rpc::ApplyResourceChange => unary(request, move |r| Ok(p.apply(r))).await,
        Rpc::ImportResourceState => unary(request, move |r| Ok(p.import(r))).await,
        Rpc::ReadDataSource => unary(request, move |r| Ok(p.read_data_source(r))).await,
        Rpc::StopProvider => {
            unary(request, |_: proto::Empty| {
                Ok(proto::StopProviderResponse::default())
            })
            .await
        }
        Rpc::GetResourceIdentitySchemas => {
            unary(request, |_: proto::Empty| Ok(provider::identity_schemas())).await
        }
        Rpc::MoveResourceState => {
            Status::unimplemented("stratatest does not move resource state").into_http()
        }
    }
}

/// Decodes one request message, answers it with `handle`, encodes the answer.
async fn unary<Request, Answer, Handle>(
    request: http::Request<Incoming>,
    handle: Handle,
) -> Response
where
    Request: prost::Message + Default + Send + 'static,
    Answer: prost::Message + Send + 'static,
    Handle: FnOnce(Request) -> Result<Answer, Status> + Send + 'static,
{
    let handle = Mutex::new(Some(handle));
    let service = tower::service_fn(move |request: tonic::Request<Request>| {
        let handle = handle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
        let answer = match handle {
            Some(handle) => handle(request.into_inner()),
            None => Err(Status::internal("handler called twice")),
        };
        std::future::ready(answer.map(tonic::Response::new))
    });
    let mut grpc = tonic::server::Grpc::new(ProstCodec::<Answer, Request>::default());
    grpc.unary(service, request).await
}

/// go-plugin's Shutdown: answer first, then stop serving and exit.
fn exit_soon(socket: Option<PathBuf>) {
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if let Some(socket) = socket {
            let _ = std::fs::remove_file(&socket);
        }
        std::process::exit(0);
    });
}
