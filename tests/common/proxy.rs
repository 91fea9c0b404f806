//! A loopback HTTP proxy between the binary and the emulator that can answer chosen requests
//! itself, the way AWS would refuse them (e.g. AccessDenied for one service in one region).
//! One request per connection: every answer closes it, and the SDK reconnects.
//!
//! The request reading, naming and forwarding here are shared with the fault-injecting proxy
//! of [`super::faults`].

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// What the proxy knows of a request when it decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// From the SigV4 credential scope, e.g. `eu-west-1`.
    pub region: String,
    /// From the SigV4 credential scope, e.g. `kms`; `s3control` for S3 Control paths, which
    /// are signed as `s3`.
    pub service: String,
    /// The API operation, e.g. `ListKeys`: from `X-Amz-Target` (JSON protocols), the `Action=`
    /// of a query body, or the method and path of REST protocols (S3, GuardDuty); an unknown
    /// REST call is named `METHOD /path`.
    pub operation: String,
    /// The body as text (query-protocol parameters such as `RoleArn=` of sts:AssumeRole).
    pub body: String,
}

/// One whole request as it arrived.
#[derive(Debug, Clone)]
pub struct Request {
    /// Request line and headers, without `Connection` and without the empty line.
    pub head: Vec<u8>,
    pub body: Vec<u8>,
    /// Bytes the request occupies on the connection (head, empty line and body).
    pub len: usize,
    pub info: RequestInfo,
}

/// An answer the proxy sends instead of forwarding: status, extra headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

type Rule = dyn Fn(&RequestInfo) -> Option<Answer> + Send + Sync;

pub struct Proxy {
    pub url: String,
    _listener: Listener,
    /// Requests answered by the rule instead of the emulator.
    pub intercepted: Arc<AtomicUsize>,
}

/// The loopback address of an `http://127.0.0.1:PORT` url; anything else is refused.
pub fn loopback(upstream: &str) -> SocketAddr {
    let addr: SocketAddr = upstream
        .trim_start_matches("http://")
        .parse()
        .expect("upstream is http://127.0.0.1:PORT");
    assert!(
        addr.ip().is_loopback(),
        "the proxy only forwards to loopback"
    );
    addr
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (an http://127.0.0.1:PORT url),
    /// except for requests `rule` answers.
    pub fn start(
        upstream: &str,
        rule: impl Fn(&RequestInfo) -> Option<Answer> + Send + Sync + 'static,
    ) -> Proxy {
        let upstream = loopback(upstream);
        let intercepted = Arc::new(AtomicUsize::new(0));
        let counter = intercepted.clone();
        let listener = Listener::start(move |stream, _| {
            let _ = serve(stream, upstream, &rule, &counter);
        });
        Proxy {
            url: listener.url(),
            _listener: listener,
            intercepted,
        }
    }
}

/// Accepts connections on a free loopback port and hands each to `handle`, on a thread of its
/// own, with a flag that is set once the listener is dropped.
pub struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Listener {
    pub fn start(handle: impl Fn(TcpStream, &AtomicBool) + Send + Sync + 'static) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let handle = Arc::new(handle);
        {
            let stop = stop.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (handle, stop) = (handle.clone(), stop.clone());
                    thread::spawn(move || handle(stream, &stop));
                }
            });
        }
        Listener { addr, stop }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Releases handlers that watch the flag, and wakes the accept loop so it sees it.
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    rule: &Rule,
    intercepted: &AtomicUsize,
) -> std::io::Result<()> {
    let Some(request) = peek_request(&client)? else {
        return Ok(());
    };
    consume(&mut client, request.len)?;
    if let Some(answer) = rule(&request.info) {
        intercepted.fetch_add(1, Ordering::SeqCst);
        return write_answer(&mut client, &answer);
    }
    let response = forward(upstream, &request)?;
    client.write_all(&response)?;
    client.flush()
}

/// Waits until a whole request has arrived and returns it *without* taking it off the socket,
/// so that a caller can still reset the connection with the request unread (closing a socket
/// with unread data makes the kernel send RST). `None` when the client closed first.
pub fn peek_request(client: &TcpStream) -> std::io::Result<Option<Request>> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = client.peek(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(request) = parse_request(&buf[..n]) {
            return Ok(Some(request));
        }
        if n == buf.len() {
            return Err(std::io::Error::other(
                "request larger than the proxy's buffer",
            ));
        }
        if Instant::now() > deadline {
            return Err(std::io::Error::other("incomplete request after 30 s"));
        }
        // peek returns at once while part of the request is there: wait for the rest.
        thread::sleep(Duration::from_millis(1));
    }
}

/// Takes `len` bytes (a peeked request) off the socket.
pub fn consume(client: &mut TcpStream, len: usize) -> std::io::Result<()> {
    let mut sink = vec![0u8; len];
    client.read_exact(&mut sink)
}

/// Parses one request from the start of `bytes`; `None` while it is incomplete.
pub fn parse_request(bytes: &[u8]) -> Option<Request> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut head = format!("{request_line}\r\n").into_bytes();
    let mut content_length = 0usize;
    let mut authorization = String::new();
    let mut target = String::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => content_length = value.parse().unwrap_or(0),
            "authorization" => authorization = value.to_string(),
            "x-amz-target" => target = value.to_string(),
            "connection" => continue,
            _ => {}
        }
        head.extend_from_slice(line.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    let body_start = end + 4;
    if bytes.len() < body_start + content_length {
        return None;
    }
    let body = bytes[body_start..body_start + content_length].to_vec();

    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let scope: Vec<&str> = authorization
        .split("Credential=")
        .nth(1)
        .unwrap_or("")
        .split(',')
        .next()
        .unwrap_or("")
        .split('/')
        .collect();
    let region = scope.get(2).unwrap_or(&"").to_string();
    let mut service = scope.get(3).unwrap_or(&"").to_string();
    if path.starts_with("/v20180820/") {
        service = "s3control".to_string();
    }
    let operation = operation_of(&service, &method, &path, &target, &body);
    let body_text = String::from_utf8_lossy(&body).into_owned();
    Some(Request {
        head,
        body,
        len: body_start + content_length,
        info: RequestInfo {
            method,
            path,
            region,
            service,
            operation,
            body: body_text,
        },
    })
}

/// The API operation a request calls (see [`RequestInfo::operation`]).
fn operation_of(service: &str, method: &str, path: &str, target: &str, body: &[u8]) -> String {
    if !target.is_empty() {
        // `TrentService.ListKeys`, `com.amazonaws...CloudTrail_20131101.DescribeTrails`
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    if let Some(action) = String::from_utf8_lossy(body)
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action=").map(str::to_string))
    {
        return action;
    }
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let keys: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split('=').next().unwrap_or(kv))
        .collect();
    let segments: Vec<&str> = route.split('/').filter(|s| !s.is_empty()).collect();
    let named = match (service, method, segments.as_slice()) {
        ("s3control", "GET", [.., "configuration", "publicAccessBlock"]) => {
            Some("GetPublicAccessBlock")
        }
        ("s3", "GET", []) => Some("ListBuckets"),
        ("s3", "GET", [_bucket]) => [
            ("acl", "GetBucketAcl"),
            ("policyStatus", "GetBucketPolicyStatus"),
            ("publicAccessBlock", "GetPublicAccessBlock"),
            ("location", "GetBucketLocation"),
            ("policy", "GetBucketPolicy"),
        ]
        .iter()
        .find(|(key, _)| keys.contains(key))
        .map(|(_, op)| *op),
        ("guardduty", "GET", ["detector"]) => Some("ListDetectors"),
        ("guardduty", "GET", ["detector", _]) => Some("GetDetector"),
        ("guardduty", "POST", ["detector", _, "findings"]) => Some("ListFindings"),
        ("guardduty", "POST", ["detector", _, "findings", "get"]) => Some("GetFindings"),
        ("guardduty", "POST", ["detector", _, "findings", "statistics"]) => {
            Some("GetFindingsStatistics")
        }
        ("access-analyzer", "GET", ["analyzer"]) => Some("ListAnalyzers"),
        _ => None,
    };
    if let Some(name) = named {
        return name.to_string();
    }
    // The SDK names some S3 calls itself: `?x-id=GetObject`.
    if let Some(id) = query.split('&').find_map(|kv| kv.strip_prefix("x-id=")) {
        return id.to_string();
    }
    format!("{method} {route}")
}

/// Sends `request` to `upstream` on a fresh connection and returns the whole response.
pub fn forward(upstream: SocketAddr, request: &Request) -> std::io::Result<Vec<u8>> {
    let mut upstream = TcpStream::connect(upstream)?;
    upstream.set_read_timeout(Some(Duration::from_secs(60)))?;
    upstream.write_all(&request.head)?;
    upstream.write_all(b"Connection: close\r\n\r\n")?;
    upstream.write_all(&request.body)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    Ok(response)
}

/// Writes `answer` and closes the exchange (`Connection: close`).
pub fn write_answer(client: &mut TcpStream, answer: &Answer) -> std::io::Result<()> {
    client.write_all(&answer_bytes(answer))?;
    client.flush()
}

/// `answer` as an HTTP/1.1 response that closes the connection.
pub fn answer_bytes(answer: &Answer) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        reason(answer.status),
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&answer.body);
    response.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Refused",
    }
}

/// AWS's answer for a JSON-protocol service (KMS, CloudTrail, GuardDuty...) refusing a call.
pub fn json_access_denied(operation: &str) -> Answer {
    Answer {
        status: 400,
        headers: vec![
            ("Content-Type".into(), "application/x-amz-json-1.1".into()),
            (
                "x-amzn-RequestId".into(),
                "00000000-0000-0000-0000-000000000000".into(),
            ),
        ],
        body: format!(
            r#"{{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/audit/ci is not authorized to perform: {operation} because no identity-based policy allows it"}}"#
        ),
    }
}

/// AWS's answer for a query-protocol service (IAM, STS) refusing a call.
pub fn query_access_denied(operation: &str) -> Answer {
    Answer {
        status: 403,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: format!(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
             <Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/audit/ci is not \
             authorized to perform: {operation}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        ),
    }
}
