//! Stopping a run from outside: Ctrl-C (SIGINT) and SIGTERM (what CI systems send on
//! cancellation) end `collect` cleanly instead of killing the process mid-write.
//!
//! [`listen`] installs the handlers and hands out a [`Stop`] that the run watches at every await
//! point that can take long (credentials, the first calls, the collectors). When it fires, the
//! run stops its collectors, waits until none of them can still write, removes the temporary
//! bundle and returns [`crate::error::Error::Interrupted`]; `main` then exits 130 or 143.

use std::future::Future;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

use crate::error::Error;
pub use crate::vocab::Signal;

/// SIGXFSZ on Linux (x86, ARM, RISC-V, PowerPC, s390) and the BSDs, macOS included.
const SIGXFSZ: i32 = 25;

/// A stop request the run can wait for. Clones watch the same request.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<Option<Signal>>);

/// Sends the stop request (tests use it in place of a real signal).
#[derive(Debug)]
pub struct StopSender(watch::Sender<Option<Signal>>);

impl StopSender {
    pub fn stop(&self, signal: Signal) {
        self.0.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(signal);
            }
            first
        });
    }
}

impl Stop {
    /// A stop request and the handle that sends it.
    pub fn channel() -> (StopSender, Stop) {
        let (sender, receiver) = watch::channel(None);
        (StopSender(sender), Stop(receiver))
    }

    /// A request that never comes: for runs nobody interrupts.
    pub fn never() -> Stop {
        Stop::channel().1
    }

    /// The signal received so far, if any.
    pub fn received(&self) -> Option<Signal> {
        *self.0.borrow()
    }

    /// Waits for the stop request; never returns if none can come any more.
    pub async fn wait(&self) -> Signal {
        let mut receiver = self.0.clone();
        let received = receiver.wait_for(Option::is_some).await.map(|s| *s);
        match received {
            Ok(signal) => signal.expect("waited for Some"),
            Err(_) => std::future::pending().await,
        }
    }

    /// Runs `work` unless the stop request comes first, which ends it with
    /// [`Error::Interrupted`]. Dropping `work` must leave nothing behind: use it only around
    /// work that has not started writing the bundle.
    pub async fn guard<F: Future>(&self, work: F) -> Result<F::Output, Error> {
        tokio::select! {
            biased;
            signal = self.wait() => Err(Error::Interrupted { signal, temporary: None }),
            output = work => Ok(output),
        }
    }
}

/// Installs the handlers for SIGINT and SIGTERM and returns the stop request they send; also
/// catches SIGXFSZ, so that a file size limit (`ulimit -f`) makes a write fail with an error the
/// run reports and cleans up after, instead of killing the process. Must be called inside the
/// runtime; the handlers stay installed until the process exits.
pub fn listen() -> std::io::Result<Stop> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    // Registering is enough: the handler only records the signal, and the write that exceeded
    // the limit fails with EFBIG.
    let _file_size = signal(SignalKind::from_raw(SIGXFSZ))?;
    let (sender, stop) = Stop::channel();
    tokio::spawn(async move {
        loop {
            let signal = tokio::select! {
                Some(()) = interrupt.recv() => Signal::Interrupt,
                Some(()) = terminate.recv() => Signal::Terminate,
                else => break,
            };
            tracing::debug!(signal = signal.name(), "stop requested");
            sender.stop(signal);
        }
    });
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_wins_and_guard_stops_pending_work() {
        let (sender, stop) = Stop::channel();
        assert_eq!(stop.received(), None);
        sender.stop(Signal::Terminate);
        sender.stop(Signal::Interrupt);
        assert_eq!(stop.received(), Some(Signal::Terminate));
        assert_eq!(stop.wait().await, Signal::Terminate);
        let result = stop.guard(std::future::pending::<()>()).await;
        assert!(matches!(
            result,
            Err(Error::Interrupted {
                signal: Signal::Terminate,
                temporary: None
            })
        ));
    }

    #[tokio::test]
    async fn without_a_signal_guard_returns_the_work() {
        let stop = Stop::never();
        assert_eq!(stop.guard(async { 7 }).await.unwrap(), 7);
    }
}
