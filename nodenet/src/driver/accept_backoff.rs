//! What the accept loop does when `accept(2)` fails (beyond Node): one report per burst
//! of failures, a growing pause between retries instead of a busy loop, and a reset once
//! an accept succeeds or the queue is seen empty.
//!
//! Why not Node's behaviour: libuv answers `EMFILE`/`ENFILE` with its "emfile trick"
//! (close a reserved descriptor, accept every queued connection and close it at once,
//! reopen the reserve), so Node v20 emits no `error` and the queued clients see an
//! immediate close; only when the trick cannot run does `error` (`accept EMFILE`) fire,
//! and then once per failed `accept`. Here the queued connections stay in the kernel's
//! backlog and are served when descriptors free up; the user hears about the condition
//! once (a `ServerEvent::Error` with `accept EMFILE`), and [`AcceptBackoff::failures`]
//! counts every failed attempt. A listener that is always readable but cannot accept
//! would otherwise be polled in a tight loop, so retries wait 10 ms, then twice as long
//! each time, up to 250 ms (the longest a freed descriptor waits to be used).
//!
//! Pure logic (time is an argument), so it is tested without sockets.

use std::time::{Duration, Instant};

use nodenet_core::ErrorCode;

/// The first pause after a failed `accept`.
pub const FIRST_DELAY: Duration = Duration::from_millis(10);
/// The longest pause between retries.
pub const MAX_DELAY: Duration = Duration::from_millis(250);

/// What to do with one failed `accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptFailure {
    /// A connection went away before it was accepted (`ECONNABORTED`) or the call was
    /// interrupted: accept again at once, report nothing (libuv does the same).
    Retry,
    /// The first failure of a burst (or a different code within it): report it to the
    /// user, then pause.
    Report,
    /// The same failure again within a burst: pause silently.
    Pause,
}

/// The accept loop's error state for one listener.
#[derive(Clone, Debug, Default)]
pub struct AcceptBackoff {
    /// The code reported for the current burst (`None` outside a burst).
    burst: Option<ErrorCode>,
    delay: Duration,
    retry_at: Option<Instant>,
    failures: u64,
}

impl AcceptBackoff {
    /// `accept` failed with `code` at `now`.
    pub fn on_error(&mut self, code: ErrorCode, now: Instant) -> AcceptFailure {
        if matches!(
            code,
            ErrorCode::ECONNABORTED | ErrorCode::EINTR | ErrorCode::EAGAIN
        ) {
            return AcceptFailure::Retry;
        }
        self.failures += 1;
        self.delay = if self.burst.is_none() {
            FIRST_DELAY
        } else {
            (self.delay * 2).min(MAX_DELAY)
        };
        self.retry_at = Some(now + self.delay);
        if self.burst == Some(code) {
            return AcceptFailure::Pause;
        }
        self.burst = Some(code);
        AcceptFailure::Report
    }

    /// `accept` succeeded, or found the queue empty: the burst (if any) is over, and the
    /// next failure is reported again.
    pub fn on_ok(&mut self) {
        self.burst = None;
        self.retry_at = None;
        self.delay = Duration::ZERO;
    }

    /// While paused: when to call `accept` again. `None` when accepting is not paused
    /// (the pause is over once `now` reaches it: call [`AcceptBackoff::resume`]).
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// The pause is over: `accept` may be called (the burst goes on until it succeeds).
    pub fn resume(&mut self) {
        self.retry_at = None;
    }

    /// Failed `accept` calls so far (reported or not; `ECONNABORTED` not counted).
    pub fn failures(&self) -> u64 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn one_report_per_burst_with_doubling_pauses() {
        let t0 = Instant::now();
        let mut b = AcceptBackoff::default();
        assert_eq!(b.retry_at(), None);
        assert_eq!(b.on_error(ErrorCode::EMFILE, t0), AcceptFailure::Report);
        assert_eq!(b.retry_at(), Some(t0 + ms(10)));
        let mut now = t0 + ms(10);
        let mut expected = 10;
        for _ in 0..10 {
            b.resume();
            assert_eq!(b.retry_at(), None);
            assert_eq!(b.on_error(ErrorCode::EMFILE, now), AcceptFailure::Pause);
            expected = (expected * 2).min(250);
            assert_eq!(b.retry_at(), Some(now + ms(expected)));
            now += ms(expected);
        }
        assert_eq!(expected, 250, "capped");
        assert_eq!(b.failures(), 11);
        // Descriptors freed: an accept works, the burst ends; the next failure reports.
        b.resume();
        b.on_ok();
        assert_eq!(b.retry_at(), None);
        assert_eq!(b.on_error(ErrorCode::EMFILE, now), AcceptFailure::Report);
        assert_eq!(b.retry_at(), Some(now + ms(10)), "delay starts over");
    }

    #[test]
    fn a_different_code_within_a_burst_is_reported() {
        let t0 = Instant::now();
        let mut b = AcceptBackoff::default();
        assert_eq!(b.on_error(ErrorCode::EMFILE, t0), AcceptFailure::Report);
        b.resume();
        assert_eq!(b.on_error(ErrorCode::ENFILE, t0), AcceptFailure::Report);
        b.resume();
        assert_eq!(b.on_error(ErrorCode::ENFILE, t0), AcceptFailure::Pause);
        assert_eq!(b.failures(), 3);
    }

    #[test]
    fn aborted_connections_are_skipped_silently() {
        let t0 = Instant::now();
        let mut b = AcceptBackoff::default();
        assert_eq!(
            b.on_error(ErrorCode::ECONNABORTED, t0),
            AcceptFailure::Retry
        );
        assert_eq!(b.on_error(ErrorCode::EINTR, t0), AcceptFailure::Retry);
        assert_eq!(b.retry_at(), None);
        assert_eq!(b.failures(), 0);
        // A later real failure still opens a burst and is reported.
        assert_eq!(b.on_error(ErrorCode::EMFILE, t0), AcceptFailure::Report);
    }
}
