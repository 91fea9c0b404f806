//! A loopback HTTP proxy between the binary and the emulator that can answer chosen requests
//! itself, the way AWS would refuse them (e.g. AccessDenied for one service in one region).
//! One request per connection: every answer closes it, and the SDK reconnects.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// What the proxy knows of a request when it decides.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub method: String,
    pub path: String,
    /// From the SigV4 credential scope, e.g. `eu-west-1`.
    pub region: String,
    /// From the SigV4 credential scope, e.g. `kms`.
    pub service: String,
    /// `X-Amz-Target` (JSON protocols) or the `Action=` of a query body, when present.
    pub operation: String,
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
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    /// Requests answered by the rule instead of the emulator.
    pub intercepted: Arc<AtomicUsize>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (an http://127.0.0.1:PORT url),
    /// except for requests `rule` answers.
    pub fn start(
        upstream: &str,
        rule: impl Fn(&RequestInfo) -> Option<Answer> + Send + Sync + 'static,
    ) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("upstream is http://127.0.0.1:PORT");
        assert!(
            upstream.ip().is_loopback(),
            "the proxy only forwards to loopback"
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let intercepted = Arc::new(AtomicUsize::new(0));
        let rule: Arc<Rule> = Arc::new(rule);
        {
            let stop = stop.clone();
            let intercepted = intercepted.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let rule = rule.clone();
                    let intercepted = intercepted.clone();
                    thread::spawn(move || {
                        let _ = serve(stream, upstream, &*rule, &intercepted);
                    });
                }
            });
        }
        Proxy {
            url: format!("http://{addr}"),
            stop,
            addr,
            intercepted,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    rule: &Rule,
    intercepted: &AtomicUsize,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0usize;
    let mut authorization = String::new();
    let mut target = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization:") {
            authorization = line.clone();
        }
        if let Some(v) = lower.strip_prefix("x-amz-target:") {
            target = v.trim().to_string();
        }
        let end = line == "\r\n";
        if !lower.starts_with("connection:") && !end {
            head.extend_from_slice(line.as_bytes());
        }
        if end {
            break;
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;

    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let mut parts = request_line.split_whitespace();
    let scope = authorization
        .split("Credential=")
        .nth(1)
        .unwrap_or("")
        .split(',')
        .next()
        .unwrap_or("")
        .to_string();
    let scope: Vec<&str> = scope.split('/').collect();
    let action = String::from_utf8_lossy(&body)
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action=").map(str::to_string))
        .unwrap_or_default();
    let info = RequestInfo {
        method: parts.next().unwrap_or("").to_string(),
        path: parts.next().unwrap_or("").to_string(),
        region: scope.get(2).unwrap_or(&"").to_string(),
        service: scope.get(3).unwrap_or(&"").to_string(),
        operation: if target.is_empty() { action } else { target },
    };

    let mut client = client;
    if let Some(answer) = rule(&info) {
        intercepted.fetch_add(1, Ordering::SeqCst);
        let mut response = format!(
            "HTTP/1.1 {} Refused\r\nContent-Length: {}\r\nConnection: close\r\n",
            answer.status,
            answer.body.len()
        );
        for (name, value) in &answer.headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&answer.body);
        client.write_all(response.as_bytes())?;
        return client.flush();
    }

    let mut upstream = TcpStream::connect(upstream)?;
    upstream.write_all(&head)?;
    upstream.write_all(b"Connection: close\r\n\r\n")?;
    upstream.write_all(&body)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    client.write_all(&response)?;
    client.flush()
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
