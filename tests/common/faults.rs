//! A fault-injecting loopback proxy in front of the emulator: throttling, server errors,
//! connection resets, delays and stalls, decided deterministically from a seed.
//!
//! **Deterministic from the seed.** The tool sends requests concurrently, so their order on the
//! wire varies from run to run; a fault drawn from one random stream in arrival order would
//! not repeat. Instead each request is decided on its own, from a hash of
//! (seed, request key, attempt), where the request key is (method, path and query, region,
//! service, operation, SHA-256 of the body) and the attempt is how many times the proxy has
//! seen that key so far (1 for the first). Retries of one call carry the same key, so a call
//! that is throttled on attempt 1 may pass on attempt 2, and the same run of the tool against
//! the same account gets the same faults whatever the interleaving. (Anything that varies in a
//! request, such as a pagination token the emulator draws at random, changes its key.)
//! Signatures, dates and the SDK's invocation id live in headers and are not part of the key.
//!
//! The hash is FNV-1a over the key, mixed with the seed and the attempt by splitmix64; the low
//! 53 bits give a uniform draw in [0, 1) compared with the share of faulted requests, and a
//! second splitmix64 step picks which fault. No dependency beyond the standard library.
//!
//! The answers are the ones AWS sends for each protocol (see [`answer`]), so the SDK classifies
//! them as it would classify AWS's: throttling and 5xx are retried with backoff, a reset is a
//! transient I/O error, a stall is ended by the tool's own timeouts.
//!
//! Listens on 127.0.0.1 only and forwards to a loopback upstream only.

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::proxy::{self, Answer, RequestInfo};

/// What the proxy does to one request instead of (or on the way to) forwarding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling answer: `400 Throttling` (IAM, STS: query protocol),
    /// `503 RequestLimitExceeded` (EC2, as AWS answers it), `429 ThrottlingException` (JSON
    /// protocols: KMS, CloudTrail, GuardDuty...), `503 SlowDown` (S3, S3 Control).
    Throttle,
    /// `500` with the service's internal error code.
    ServerError,
    /// The request is received, then the connection is reset (RST) without any answer.
    Reset,
    /// The emulator's answer, forwarded after this pause. Not an error: nothing to retry.
    Delay(Duration),
    /// The request is received and never answered; the connection stays open until the proxy
    /// is dropped.
    Stall,
    /// The emulator's status line, headers and half its body are sent, then nothing more; the
    /// connection stays open until the proxy is dropped.
    StallMidResponse,
}

impl Fault {
    /// Whether the client sees a failed attempt (everything but a delay).
    pub fn fails_attempt(self) -> bool {
        !matches!(self, Fault::Delay(_))
    }
}

/// One operation, optionally in one region (`None`: every region). `*` as the service or the
/// operation matches any.
#[derive(Debug, Clone)]
pub struct Target {
    pub service: String,
    pub operation: String,
    pub region: Option<String>,
}

impl Target {
    pub fn new(service: &str, operation: &str, region: Option<&str>) -> Target {
        Target {
            service: service.to_string(),
            operation: operation.to_string(),
            region: region.map(str::to_string),
        }
    }

    pub fn matches(&self, info: &RequestInfo) -> bool {
        (self.service == "*" || info.service == self.service)
            && (self.operation == "*" || info.operation == self.operation)
            && self.region.as_ref().is_none_or(|r| *r == info.region)
    }
}

/// Which requests get which fault.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    /// Share of requests, 0.0 to 1.0, answered with one of `kinds` (drawn per attempt).
    pub share: f64,
    pub kinds: Vec<Fault>,
    /// Operations that get a fault on every attempt, whatever the draw (first match wins).
    pub permanent: Vec<(Target, Fault)>,
    /// After this many requests, every request is stalled: the endpoint falls silent.
    pub silent_after: Option<usize>,
}

impl Plan {
    /// `share` of all requests get one of `kinds`, drawn from `seed`.
    pub fn transient(seed: u64, share: f64, kinds: &[Fault]) -> Plan {
        assert!((0.0..=1.0).contains(&share), "share is a fraction");
        assert!(!kinds.is_empty() || share == 0.0, "faults to draw from");
        Plan {
            seed,
            share,
            kinds: kinds.to_vec(),
            permanent: Vec::new(),
            silent_after: None,
        }
    }

    /// Every request of `target` gets `fault`; everything else is forwarded untouched.
    pub fn permanent(target: Target, fault: Fault) -> Plan {
        Plan {
            seed: 0,
            share: 0.0,
            kinds: Vec::new(),
            permanent: vec![(target, fault)],
            silent_after: None,
        }
    }

    /// Every request is forwarded untouched until `requests` have been; then none is answered.
    pub fn silent_after(requests: usize) -> Plan {
        Plan {
            silent_after: Some(requests),
            ..Plan::transient(0, 0.0, &[])
        }
    }

    /// Adds an operation that gets `fault` on every attempt.
    pub fn and_permanent(mut self, target: Target, fault: Fault) -> Plan {
        self.permanent.push((target, fault));
        self
    }

    /// The fault for attempt `attempt` (1-based) of the request with key hash `key`.
    pub fn decide(&self, info: &RequestInfo, key: u64, attempt: u32) -> Option<Fault> {
        if let Some((_, fault)) = self.permanent.iter().find(|(t, _)| t.matches(info)) {
            return Some(*fault);
        }
        if self.share <= 0.0 {
            return None;
        }
        let draw = splitmix64(splitmix64(self.seed ^ splitmix64(key)) ^ u64::from(attempt));
        let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= self.share {
            return None;
        }
        let pick = splitmix64(draw) % self.kinds.len() as u64;
        Some(self.kinds[pick as usize])
    }
}

/// splitmix64 (Steele, Lea, Flood 2014): one step of a small, well-mixed PRNG.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The request key's hash: FNV-1a over method, path, region, service, operation and the body's
/// SHA-256, each field followed by a separator.
pub fn request_key(info: &RequestInfo, body: &[u8]) -> u64 {
    use sha2::Digest;
    let body_hash = sha2::Sha256::digest(body);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for field in [
        info.method.as_bytes(),
        info.path.as_bytes(),
        info.region.as_bytes(),
        info.service.as_bytes(),
        info.operation.as_bytes(),
        body_hash.as_slice(),
    ] {
        for byte in field.iter().chain(&[0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// One request the proxy received, and what it did with it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub info: RequestInfo,
    /// How many times the proxy had seen this request key, this one included.
    pub attempt: u32,
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    attempts: HashMap<u64, u32>,
    seen: Vec<Seen>,
    /// Requests received and not yet answered (or reset), and the most there ever were.
    in_flight: usize,
    max_in_flight: usize,
}

pub struct FaultProxy {
    pub url: String,
    _listener: proxy::Listener,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Listens on a free 127.0.0.1 port and forwards to `upstream` (http://127.0.0.1:PORT),
    /// applying `plan`.
    pub fn start(upstream: &str, plan: Plan) -> FaultProxy {
        let upstream = proxy::loopback(upstream);
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let listener = proxy::Listener::start(move |stream, stop| {
            let _ = serve(stream, upstream, &plan, &shared, stop);
        });
        FaultProxy {
            url: listener.url(),
            _listener: listener,
            state,
        }
    }

    /// Every request received so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Requests received for `operation` of `service` in `region` (every attempt counts).
    pub fn requests(&self, service: &str, operation: &str, region: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| {
                s.info.service == service
                    && s.info.operation == operation
                    && s.info.region == region
            })
            .count()
    }

    /// The most requests that were ever open at once (received, not yet answered).
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }

    /// Requests whose attempt failed because of the proxy (every fault but a delay).
    pub fn failed_attempts(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.fault.is_some_and(Fault::fails_attempt))
            .count()
    }
}

fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    plan: &Plan,
    state: &Mutex<State>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let Some(request) = proxy::peek_request(&client)? else {
        return Ok(());
    };
    let key = request_key(&request.info, &request.body);
    let open = Open::new(state);
    let fault = {
        let mut state = state.lock().unwrap();
        let attempt = state.attempts.entry(key).or_default();
        *attempt += 1;
        let attempt = *attempt;
        let fault = if plan.silent_after.is_some_and(|n| state.seen.len() >= n) {
            Some(Fault::Stall)
        } else {
            plan.decide(&request.info, key, attempt)
        };
        state.seen.push(Seen {
            info: request.info.clone(),
            attempt,
            fault,
        });
        fault
    };
    if fault == Some(Fault::Reset) {
        drop(open);
        // Closing with the request still unread in the socket makes the kernel send RST.
        drop(client);
        return Ok(());
    }
    proxy::consume(&mut client, request.len)?;
    let response = match fault {
        None => proxy::forward(upstream, &request)?,
        Some(Fault::Delay(pause)) => {
            thread::sleep(pause);
            proxy::forward(upstream, &request)?
        }
        Some(kind @ (Fault::Throttle | Fault::ServerError)) => {
            proxy::answer_bytes(&answer(kind, &request.info))
        }
        Some(Fault::Stall) => {
            hold(stop);
            return Ok(());
        }
        Some(Fault::StallMidResponse) => {
            let response = proxy::forward(upstream, &request)?;
            let body_start = response
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(response.len(), |p| p + 4);
            let cut = body_start + (response.len() - body_start) / 2;
            client.write_all(&response[..cut])?;
            client.flush()?;
            hold(stop);
            return Ok(());
        }
        Some(Fault::Reset) => unreachable!("handled above"),
    };
    // No longer open before the client can have the answer: the count never includes a
    // request the client already considers done.
    drop(open);
    client.write_all(&response)?;
    client.flush()
}

/// Counts one request as open from receipt until its answer starts (a stalled one stays open).
struct Open<'a>(&'a Mutex<State>);

impl<'a> Open<'a> {
    fn new(state: &'a Mutex<State>) -> Self {
        let mut s = state.lock().unwrap();
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        Open(state)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap().in_flight -= 1;
    }
}

/// Keeps a connection open, silent, until the proxy stops.
fn hold(stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(20));
    }
}

/// The answer AWS gives for `fault` (throttling or a server error) in the protocol of the
/// request's service.
pub fn answer(fault: Fault, info: &RequestInfo) -> Answer {
    const REQUEST_ID: &str = "11111111-2222-3333-4444-555555555555";
    let throttle = fault == Fault::Throttle;
    match info.service.as_str() {
        "iam" | "sts" => {
            let (status, kind, code, message) = if throttle {
                (400, "Sender", "Throttling", "Rate exceeded")
            } else {
                (500, "Receiver", "ServiceFailure", "Internal failure")
            };
            Answer {
                status,
                headers: vec![("Content-Type".into(), "text/xml".into())],
                body: format!(
                    "<ErrorResponse xmlns=\"https://{}.amazonaws.com/doc/\"><Error><Type>{kind}</Type>\
                     <Code>{code}</Code><Message>{message}</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>",
                    info.service
                ),
            }
        }
        "ec2" => {
            let (status, code, message) = if throttle {
                (503, "RequestLimitExceeded", "Request limit exceeded.")
            } else {
                (500, "InternalError", "An internal error has occurred")
            };
            Answer {
                status,
                headers: vec![("Content-Type".into(), "text/xml;charset=UTF-8".into())],
                body: format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>\
                     <Message>{message}</Message></Error></Errors><RequestID>{REQUEST_ID}</RequestID></Response>"
                ),
            }
        }
        "s3" | "s3control" => {
            let (status, code, message) = if throttle {
                (503, "SlowDown", "Please reduce your request rate.")
            } else {
                (
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                )
            };
            Answer {
                status,
                headers: vec![("Content-Type".into(), "application/xml".into())],
                body: format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message>\
                     <RequestId>{REQUEST_ID}</RequestId><HostId>faults</HostId></Error>"
                ),
            }
        }
        // JSON protocols: awsJson (KMS, CloudTrail: X-Amz-Target) and restJson (GuardDuty,
        // Access Analyzer). Both read the code from `__type` or `x-amzn-ErrorType`.
        _ => {
            let (status, code, message) = if throttle {
                (429, "ThrottlingException", "Rate exceeded")
            } else {
                (500, "InternalFailure", "An internal error occurred")
            };
            Answer {
                status,
                headers: vec![
                    ("Content-Type".into(), "application/x-amz-json-1.1".into()),
                    ("x-amzn-ErrorType".into(), code.into()),
                    ("x-amzn-RequestId".into(), REQUEST_ID.into()),
                ],
                body: format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
            }
        }
    }
}
