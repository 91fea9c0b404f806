//! Timeouts have a budget of their own (README "Timeouts"): an endpoint that stops answering
//! costs a run about a minute and a half, not one full round of attempts per call.
//!
//! Retrying is right for throttling and 5xx answers, which pass; it is wasteful for timeouts,
//! where every attempt costs the whole `--read-timeout` (30 s) or `--operation-timeout` (60 s).
//! With 8 attempts per call, one silent endpoint used to cost 4 minutes per call. So:
//!
//! - **A call stops at its second timed-out attempt** ([`TIMEOUTS_PER_CALL`]), whatever
//!   `--max-attempts` allows: one retry after a timeout, then the call is recorded as `Timeout`.
//!   Attempts of one call are told apart by the SDK's `amz-sdk-invocation-id` header.
//! - **A silent endpoint is not waited for again and again.** Once an attempt to an endpoint
//!   (a host) has timed out and that endpoint has given no complete answer for
//!   `--read-timeout`, it counts as silent: its requests fail at once without being sent
//!   (recorded as `Timeout`, saying so), except one probe request at a time, at most one every
//!   2 x the longer of the two timeouts. The first complete answer ends the silence.
//!
//! The bound: when an endpoint stops answering, it counts as silent after about one
//! `--read-timeout`; attempts already on the wire end within their own timeout; after that each
//! collector's remaining calls fail at once but for the probes, which keep a collector at most
//! about 2 x the timeout. With the defaults a run ends about 90 s after its endpoint fell
//! silent (3 x 30 s), plus writing the bundle; when answers stop halfway through instead, each
//! attempt ends at `--operation-timeout` and the bound is about 3 x that. Every call cut short
//! is recorded with its operation, region and code `Timeout`, and the run exits 3.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::vocab::TimeoutBudget;

/// Timed-out attempts after which a call is not tried again.
pub const TIMEOUTS_PER_CALL: u32 = 2;

/// The most calls remembered for their timeouts (only calls that had one are).
const MAX_CALLS_REMEMBERED: usize = 100_000;

/// The timeout budget of a run: shared by every client, so one silent endpoint is learnt once.
#[derive(Debug)]
pub struct Budget {
    /// How long an endpoint must have answered nothing, after a timeout, to count as silent.
    silent_after: Duration,
    /// The least time between two probes of a silent endpoint.
    probe_every: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    hosts: HashMap<String, Host>,
    /// Invocation id -> its timed-out attempts so far.
    calls: HashMap<String, u32>,
}

#[derive(Debug)]
struct Host {
    /// The last complete answer (or when the host was first used).
    last_answer: Instant,
    /// Timed-out attempts since that answer.
    timeouts: u32,
    probe_in_flight: bool,
    last_probe: Option<Instant>,
}

/// Whether an attempt may be sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Send it; `probe` when it tests a silent endpoint.
    Send { probe: bool },
    /// Do not: the endpoint is silent (the reason to record).
    Refuse(TimeoutBudget),
}

/// What a timed-out attempt leaves of its call.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterTimeout {
    /// The SDK may try it again.
    Retry,
    /// The call has spent its timeouts: not tried again (the reason to record).
    Stop(TimeoutBudget),
}

impl Budget {
    /// A budget for attempts with these timeouts (the first byte, and the whole attempt).
    pub fn new(read_timeout: Option<Duration>, attempt_timeout: Option<Duration>) -> Budget {
        let longest = read_timeout.max(attempt_timeout).unwrap_or(Duration::ZERO);
        Budget {
            silent_after: read_timeout.or(attempt_timeout).unwrap_or(Duration::ZERO),
            probe_every: longest * 2,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether an attempt to `host` may be sent now.
    pub fn admit(&self, host: &str, now: Instant) -> Admission {
        let mut state = self.state();
        let entry = state.hosts.entry(host.to_string()).or_insert(Host {
            last_answer: now,
            timeouts: 0,
            probe_in_flight: false,
            last_probe: None,
        });
        let quiet = now.saturating_duration_since(entry.last_answer);
        if entry.timeouts == 0 || quiet < self.silent_after || self.silent_after.is_zero() {
            return Admission::Send { probe: false };
        }
        let due = entry
            .last_probe
            .is_none_or(|at| now.saturating_duration_since(at) >= self.probe_every);
        if !entry.probe_in_flight && due {
            entry.probe_in_flight = true;
            entry.last_probe = Some(now);
            return Admission::Send { probe: true };
        }
        Admission::Refuse(TimeoutBudget {
            message: format!(
                "not sent: {host} has answered nothing for {}s and {} attempt(s) to it timed out; \
                 one probe request at a time tests whether it is back (README \"Timeouts\")",
                quiet.as_secs(),
                entry.timeouts
            ),
        })
    }

    /// A complete answer came from `host` (for the call `invocation`).
    pub fn answered(&self, host: &str, invocation: Option<&str>, probe: bool, now: Instant) {
        let mut state = self.state();
        if let Some(entry) = state.hosts.get_mut(host) {
            entry.last_answer = now;
            entry.timeouts = 0;
            if probe {
                entry.probe_in_flight = false;
            }
        }
        if let Some(id) = invocation {
            state.calls.remove(id);
        }
    }

    /// An attempt to `host` failed otherwise than by a timeout (a reset, a refused connection).
    pub fn failed(&self, host: &str, probe: bool) {
        if probe {
            if let Some(entry) = self.state().hosts.get_mut(host) {
                entry.probe_in_flight = false;
            }
        }
    }

    /// An attempt of the call `invocation` to `host` timed out, saying `why`.
    pub fn timed_out(
        &self,
        host: &str,
        invocation: Option<&str>,
        probe: bool,
        why: &str,
    ) -> AfterTimeout {
        let mut state = self.state();
        if let Some(entry) = state.hosts.get_mut(host) {
            entry.timeouts = entry.timeouts.saturating_add(1);
            if probe {
                entry.probe_in_flight = false;
            }
        }
        let Some(id) = invocation else {
            return AfterTimeout::Retry;
        };
        if state.calls.len() >= MAX_CALLS_REMEMBERED && !state.calls.contains_key(id) {
            state.calls.clear();
        }
        let count = state.calls.entry(id.to_string()).or_insert(0);
        *count += 1;
        if *count >= TIMEOUTS_PER_CALL {
            let n = *count;
            state.calls.remove(id);
            AfterTimeout::Stop(TimeoutBudget {
                message: format!(
                    "{why}; not tried again: a call stops at its {n}th timed-out attempt (README \"Timeouts\")"
                ),
            })
        } else {
            AfterTimeout::Retry
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Duration = Duration::from_secs(30);

    fn budget() -> Budget {
        Budget::new(Some(R), Some(Duration::from_secs(60)))
    }

    #[test]
    fn a_call_stops_at_its_second_timeout() {
        let b = budget();
        let t0 = Instant::now();
        assert_eq!(b.admit("h", t0), Admission::Send { probe: false });
        assert_eq!(
            b.timed_out("h", Some("call-1"), false, "read timeout"),
            AfterTimeout::Retry
        );
        // Another call's timeout does not count against this one.
        assert_eq!(
            b.timed_out("h", Some("call-2"), false, "x"),
            AfterTimeout::Retry
        );
        match b.timed_out("h", Some("call-1"), false, "read timeout") {
            AfterTimeout::Stop(reason) => {
                assert!(
                    reason.message.starts_with("read timeout; not tried again"),
                    "{reason:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        // An answer forgets a call's timeouts.
        b.answered("h", Some("call-2"), false, t0);
        assert_eq!(
            b.timed_out("h", Some("call-2"), false, "x"),
            AfterTimeout::Retry
        );
    }

    #[test]
    fn a_silent_endpoint_is_probed_one_request_at_a_time() {
        let b = budget();
        let t0 = Instant::now();
        assert_eq!(b.admit("h", t0), Admission::Send { probe: false });
        assert_eq!(b.admit("other", t0), Admission::Send { probe: false });
        // A timeout alone is not silence: the endpoint answered recently.
        b.timed_out("h", Some("a"), false, "x");
        assert_eq!(b.admit("h", t0 + R / 2), Admission::Send { probe: false });
        // Nothing answered for the read timeout: one probe, the others refused at once.
        let silent = t0 + R;
        assert_eq!(b.admit("h", silent), Admission::Send { probe: true });
        match b.admit("h", silent) {
            Admission::Refuse(reason) => assert!(reason
                .message
                .contains("not sent: h has answered nothing for 30s")),
            other => panic!("{other:?}"),
        }
        // Other endpoints are not affected.
        assert_eq!(b.admit("other", silent), Admission::Send { probe: false });
        // The probe times out: the next one waits 2 x 60 s from the last one's start.
        b.timed_out("h", Some("p"), true, "x");
        assert!(matches!(b.admit("h", silent + R), Admission::Refuse(_)));
        let next = silent + Duration::from_secs(120);
        assert_eq!(b.admit("h", next), Admission::Send { probe: true });
        // It is answered: the endpoint is back.
        b.answered("h", Some("p2"), true, next);
        assert_eq!(b.admit("h", next), Admission::Send { probe: false });
        assert_eq!(b.admit("h", next + R * 3), Admission::Send { probe: false });
    }

    #[test]
    fn a_failed_probe_frees_the_slot() {
        let b = budget();
        let t0 = Instant::now();
        b.admit("h", t0);
        b.timed_out("h", None, false, "x");
        assert_eq!(b.admit("h", t0 + R), Admission::Send { probe: true });
        b.failed("h", true);
        // Not in flight any more, but not due before the spacing either.
        assert!(matches!(b.admit("h", t0 + R), Admission::Refuse(_)));
        assert_eq!(
            b.admit("h", t0 + R + Duration::from_secs(120)),
            Admission::Send { probe: true }
        );
    }
}
