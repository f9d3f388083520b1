//! A fault-injecting HTTP proxy for the tests, put between an AWS SDK client (Strata's AWS
//! provider) and the emulator (moto): it forwards each request, and at configured rates, drawn
//! from a seeded generator, answers instead with the faults a real AWS region produces —
//! throttling in each protocol's own words (`RequestLimitExceeded` for EC2's XML, `Throttling`
//! for the query APIs, HTTP 429 `ThrottlingException` for the JSON APIs, 503 `SlowDown` for S3),
//! 500 and 503 server errors, connections reset before the request arrives, **responses dropped
//! after the emulator processed the request** (the case that makes a retried create a
//! duplicate unless the object can be found again), and latency.
//!
//! One request per connection (`Connection: close` both ways), a thread per connection: the
//! proxy is for correctness tests, not throughput. It listens on a free loopback port and stops
//! when dropped.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often each fault happens, as a fraction of requests (the faults are exclusive: their sum
/// is the share of requests that do not simply pass).
#[derive(Clone, Debug, Default)]
pub struct FaultRates {
    /// Throttling, in the protocol's own form.
    pub throttle: f64,
    /// HTTP 500 `InternalError` / 503 `ServiceUnavailable`, without forwarding.
    pub server_error: f64,
    /// The connection is closed (reset when a body is pending) before the request is forwarded.
    /// (The client sees the same as for a drop: no response; the emulator sees nothing.)
    pub reset: f64,
    /// The request is forwarded and processed; the response is then dropped with the connection.
    pub drop_response: f64,
    /// Added delay (`latency`) before forwarding; independent of the faults above.
    pub slow: f64,
    pub latency: Duration,
    /// The first request carrying each client token is processed and its response dropped, so
    /// every create that takes a token is retried once after it was made.
    pub drop_first_token_use: bool,
}

impl FaultRates {
    /// `total` spread over the four faults (throttling and drops get the larger shares), plus
    /// 20% of requests slowed by 50 ms.
    pub fn spread(total: f64) -> FaultRates {
        FaultRates {
            throttle: total * 0.35,
            server_error: total * 0.2,
            reset: total * 0.15,
            drop_response: total * 0.3,
            slow: 0.2,
            latency: Duration::from_millis(50),
            drop_first_token_use: false,
        }
    }
}

/// What the proxy did, by kind, and to which operations.
#[derive(Clone, Debug, Default)]
pub struct FaultStats {
    pub passed: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub resets: u64,
    pub dropped: u64,
    pub slowed: u64,
    /// Operation → how many of its responses were dropped after processing.
    pub dropped_operations: BTreeMap<String, u64>,
}

impl FaultStats {
    pub fn faults(&self) -> u64 {
        self.throttled + self.server_errors + self.resets + self.dropped
    }
}

/// One request as the proxy read it: enough to answer in the right protocol.
pub struct Request {
    /// The signing service (`ec2`, `iam`, `eks`, `s3`, ...) from the SigV4 credential scope.
    pub service: String,
    /// The operation: the query `Action`, the JSON `X-Amz-Target`, or `METHOD /path`.
    pub operation: String,
    head: Vec<u8>,
    pub body: Vec<u8>,
}

impl Request {
    /// Whether the body names a client token (EC2's `ClientToken`, EKS's `clientRequestToken`):
    /// a create AWS deduplicates by itself when it is retried.
    pub fn has_client_token(&self) -> bool {
        self.client_token().is_some()
    }

    /// The client token the request carries, if any.
    pub fn client_token(&self) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        if let Some(token) = body.split('&').find_map(|p| p.strip_prefix("ClientToken=")) {
            return Some(token.to_string());
        }
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        json["clientRequestToken"].as_str().map(str::to_string)
    }
}

/// Decides per request whether a dropped response is allowed for it (the others are closed
/// before they are forwarded instead).
pub type DropFilter = Arc<dyn Fn(&Request) -> bool + Send + Sync>;

/// The running proxy.
pub struct FaultProxy {
    pub port: u16,
    pub endpoint: String,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<FaultStats>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: u16,
    rates: FaultRates,
    seed: u64,
    counter: AtomicU64,
    stats: Arc<Mutex<FaultStats>>,
    drop_filter: DropFilter,
    tokens_seen: Mutex<std::collections::BTreeSet<String>>,
}

impl FaultProxy {
    /// Starts a proxy to `127.0.0.1:upstream` on a free loopback port.
    pub fn start(upstream: u16, rates: FaultRates, seed: u64, drop_filter: DropFilter) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let port = listener.local_addr().expect("proxy address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(FaultStats::default()));
        let shared = Arc::new(Shared {
            upstream,
            rates,
            seed,
            counter: AtomicU64::new(0),
            stats: stats.clone(),
            drop_filter,
            tokens_seen: Mutex::new(Default::default()),
        });
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || accept_loop(listener, shared, stopping));
        FaultProxy {
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            stop,
            stats,
            thread: Some(thread),
        }
    }

    pub fn stats(&self) -> FaultStats {
        self.stats.lock().expect("stats lock").clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    let _ = serve(stream, &shared);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// splitmix64: a uniform draw in [0, 1) for the `n`th request of the run seeded `seed`.
fn draw(seed: u64, n: u64) -> f64 {
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

enum Fault {
    Pass,
    Throttle,
    ServerError,
    Reset,
    DropResponse,
    FirstTokenUse,
}

fn choose(shared: &Shared) -> (Fault, bool) {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let draw_fault = draw(shared.seed, 2 * n);
    let slow = draw(shared.seed, 2 * n + 1) < shared.rates.slow;
    let rates = &shared.rates;
    let mut edge = 0.0;
    for (rate, fault) in [
        (rates.throttle, Fault::Throttle),
        (rates.server_error, Fault::ServerError),
        (rates.reset, Fault::Reset),
        (rates.drop_response, Fault::DropResponse),
    ] {
        edge += rate;
        if draw_fault < edge {
            return (fault, slow);
        }
    }
    (Fault::Pass, slow)
}

fn serve(client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let head = read_head(&mut reader)?;
    let (fault, slow) = choose(shared);
    if matches!(fault, Fault::Reset) {
        // Closing with the body still unread makes the kernel answer with a reset.
        shared.stats.lock().expect("stats").resets += 1;
        drop(reader);
        return client.shutdown(Shutdown::Both);
    }
    let body = read_body(&mut reader, &head)?;
    let request = describe(head, body);
    if slow {
        shared.stats.lock().expect("stats").slowed += 1;
        std::thread::sleep(shared.rates.latency);
    }
    let mut client = client;
    let fault = match request.client_token() {
        Some(token)
            if shared.rates.drop_first_token_use
                && shared
                    .tokens_seen
                    .lock()
                    .expect("tokens")
                    .insert(token.clone()) =>
        {
            Fault::FirstTokenUse
        }
        _ => fault,
    };
    match fault {
        Fault::Throttle => {
            shared.stats.lock().expect("stats").throttled += 1;
            client.write_all(&throttling(&request))?;
        }
        Fault::ServerError => {
            shared.stats.lock().expect("stats").server_errors += 1;
            client.write_all(&server_error(
                &request,
                shared.counter.load(Ordering::SeqCst),
            ))?;
        }
        Fault::FirstTokenUse => {
            let _processed = forward(shared.upstream, &request)?;
            let mut stats = shared.stats.lock().expect("stats");
            stats.dropped += 1;
            *stats
                .dropped_operations
                .entry(format!(
                    "{}:{} (first use of its token)",
                    request.service, request.operation
                ))
                .or_default() += 1;
        }
        Fault::DropResponse if (shared.drop_filter)(&request) => {
            let _processed = forward(shared.upstream, &request)?;
            let mut stats = shared.stats.lock().expect("stats");
            stats.dropped += 1;
            *stats
                .dropped_operations
                .entry(format!("{}:{}", request.service, request.operation))
                .or_default() += 1;
        }
        // A drop the filter refuses becomes a connection closed before forwarding: still a
        // fault, one the emulator never sees.
        Fault::DropResponse => shared.stats.lock().expect("stats").resets += 1,
        Fault::Pass | Fault::Reset => {
            let response = forward(shared.upstream, &request)?;
            shared.stats.lock().expect("stats").passed += 1;
            client.write_all(&response)?;
        }
    }
    client.flush()?;
    client.shutdown(Shutdown::Both)
}

/// The request line and headers, up to the blank line.
fn read_head(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            return Ok(head);
        }
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

/// The body: `Content-Length` bytes, or the chunks of a chunked body (kept as sent).
fn read_body(reader: &mut BufReader<TcpStream>, head: &[u8]) -> std::io::Result<Vec<u8>> {
    let text = String::from_utf8_lossy(head);
    if let Some(length) = header(&text, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        return Ok(body);
    }
    if header(&text, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let mut size_line = Vec::new();
            reader.read_until(b'\n', &mut size_line)?;
            body.extend_from_slice(&size_line);
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&size_line)
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or("0"),
                16,
            )
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            if size == 0 {
                return Ok(body);
            }
        }
    }
    Ok(Vec::new())
}

fn describe(head: Vec<u8>, body: Vec<u8>) -> Request {
    let text = String::from_utf8_lossy(&head).to_string();
    let service = header(&text, "authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unknown")
        .to_string();
    let body_text = String::from_utf8_lossy(&body);
    let operation = if let Some(target) = header(&text, "x-amz-target") {
        target.to_string()
    } else if let Some(action) = body_text
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
    {
        action.to_string()
    } else {
        let line = text.lines().next().unwrap_or_default();
        line.rsplit_once(' ')
            .map_or(line, |(start, _)| start)
            .to_string()
    };
    Request {
        service,
        operation,
        head,
        body,
    }
}

/// Sends the request to the emulator on a connection of its own and returns the whole response,
/// with `Connection: close` so the client does not reuse the connection.
fn forward(upstream: u16, request: &Request) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(("127.0.0.1", upstream))?;
    server.set_read_timeout(Some(Duration::from_secs(300)))?;
    server.write_all(&with_connection_close(&request.head))?;
    server.write_all(&request.body)?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(response.len());
    let mut out = with_connection_close(&response[..split]);
    out.extend_from_slice(&response[split..]);
    Ok(out)
}

/// The head with its `Connection` header replaced by `Connection: close`.
fn with_connection_close(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    for line in text.split("\r\n") {
        if line.is_empty() {
            continue;
        }
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

fn response(status: &str, content_type: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The error as the request's protocol writes it: EC2's `<Response><Errors>`, the query APIs'
/// `<ErrorResponse>`, S3's `<Error>`, or the JSON APIs' `x-amzn-ErrorType` header.
fn protocol_error(request: &Request, status: &str, code: &str, message: &str) -> Vec<u8> {
    let query = String::from_utf8_lossy(&request.body).contains("Action=");
    match request.service.as_str() {
        "ec2" => response(
            status,
            "text/xml",
            "",
            &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>"),
        ),
        "s3" => response(
            status,
            "application/xml",
            "",
            &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"),
        ),
        _ if query => response(
            status,
            "text/xml",
            "",
            &format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"),
        ),
        _ => {
            let json_code = if code == "Throttling" { "ThrottlingException" } else { code };
            response(
                status,
                "application/json",
                &format!("x-amzn-ErrorType: {json_code}\r\n"),
                &format!("{{\"__type\":\"{json_code}\",\"message\":\"{message}\"}}"),
            )
        }
    }
}

fn throttling(request: &Request) -> Vec<u8> {
    match request.service.as_str() {
        "ec2" => protocol_error(
            request,
            "503 Service Unavailable",
            "RequestLimitExceeded",
            "Request limit exceeded.",
        ),
        "s3" => protocol_error(
            request,
            "503 Slow Down",
            "SlowDown",
            "Please reduce your request rate.",
        ),
        "iam" | "rds" | "sts" => {
            protocol_error(request, "400 Bad Request", "Throttling", "Rate exceeded")
        }
        _ => protocol_error(
            request,
            "429 Too Many Requests",
            "Throttling",
            "Rate exceeded",
        ),
    }
}

/// Half 500 `InternalError`, half 503 `ServiceUnavailable`.
fn server_error(request: &Request, n: u64) -> Vec<u8> {
    if n.is_multiple_of(2) {
        protocol_error(
            request,
            "500 Internal Server Error",
            "InternalError",
            "An internal error has occurred.",
        )
    } else {
        protocol_error(
            request,
            "503 Service Unavailable",
            "ServiceUnavailable",
            "The service is unavailable.",
        )
    }
}
