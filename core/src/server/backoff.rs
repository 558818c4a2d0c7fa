//! What the server does when `accept(2)` fails (beyond Node): one report per burst of
//! failures, a growing pause between retries instead of a busy loop, and a reset once an
//! accept succeeds or the queue is seen empty.
//!
//! Why not Node's behaviour: libuv answers `EMFILE`/`ENFILE` with its "emfile trick"
//! (close a reserved descriptor, accept every queued connection and close it at once,
//! reopen the reserve), so Node v20 emits no `error` and the queued clients see an
//! immediate close; only when the trick cannot run does `error` (`accept EMFILE`) fire,
//! and then once per failed `accept`. Here the queued connections stay in the kernel's
//! backlog and are served when descriptors free up; the user hears about the condition
//! once (a [`ServerEvent::Error`] with `accept EMFILE`), and
//! [`Server::accept_failures`] counts every failed attempt. A listener that is always
//! readable but cannot accept would otherwise be polled in a tight loop, so the backend is
//! told to pause ([`ServerCommand::PauseAccept`]) for 10 ms, then twice as long each time,
//! up to 250 ms (the longest a freed descriptor waits to be used), and to resume
//! ([`ServerCommand::ResumeAccept`]) when [`Server::handle_timeout`] reaches the end of
//! the pause.

use std::time::{Duration, Instant};

use super::events::{ListenerId, ServerCommand, ServerEvent};
use super::Server;
use crate::error::{Error, ErrorCode};

/// The first pause after a failed `accept`.
pub const ACCEPT_RETRY_FIRST: Duration = Duration::from_millis(10);
/// The longest pause between retries.
pub const ACCEPT_RETRY_MAX: Duration = Duration::from_millis(250);

/// The accept error state of the current listener.
#[derive(Clone, Debug, Default)]
pub(crate) struct AcceptBackoff {
    /// The code reported for the current burst (`None` outside a burst).
    burst: Option<ErrorCode>,
    delay: Duration,
    /// The paused listener and when it may accept again.
    paused: Option<(ListenerId, Instant)>,
    failures: u64,
}

impl AcceptBackoff {
    /// The end of the current pause, if accepting is paused.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.paused.map(|(_, at)| at)
    }

    /// A new listener, or none: no pause and no burst carries over.
    pub(crate) fn reset(&mut self) {
        self.burst = None;
        self.delay = Duration::ZERO;
        self.paused = None;
    }
}

impl Server {
    /// `accept(2)` failed on `listener` with `code`. `ECONNABORTED` (a connection went
    /// away before it was accepted), `EINTR` and `EAGAIN` change nothing: accept again at
    /// once (libuv does the same). Any other code is counted in
    /// [`accept_failures`](Server::accept_failures) and pauses accepting
    /// ([`ServerCommand::PauseAccept`], then `ResumeAccept` from
    /// [`handle_timeout`](Server::handle_timeout) after 10 ms, doubling up to 250 ms while
    /// the failures go on); the first failure of a burst (or a different code within it)
    /// is reported as [`ServerEvent::Error`] with `accept <CODE>`. The server keeps
    /// listening and the queued connections stay queued. Ignored for a listener that is
    /// no longer the server's.
    pub fn handle_accept_error(&mut self, listener: ListenerId, code: ErrorCode, now: Instant) {
        if !self.is_current_listener(listener)
            || matches!(
                code,
                ErrorCode::ECONNABORTED | ErrorCode::EINTR | ErrorCode::EAGAIN
            )
        {
            return;
        }
        let b = &mut self.backoff;
        b.failures += 1;
        b.delay = if b.burst.is_none() {
            ACCEPT_RETRY_FIRST
        } else {
            (b.delay * 2).min(ACCEPT_RETRY_MAX)
        };
        let was_paused = b.paused.is_some();
        b.paused = Some((listener, now + b.delay));
        if !was_paused {
            self.commands
                .push_back(ServerCommand::PauseAccept { id: listener });
        }
        if self.backoff.burst != Some(code) {
            self.backoff.burst = Some(code);
            let err = Error::errno_exception(code, "accept");
            self.events.push_back(ServerEvent::Error(err));
        }
    }

    /// `accept(2)` on `listener` found no connection to hand over: the queue is empty
    /// (`EAGAIN`), or the connection it returned was gone before it could be reported.
    /// Accepting works again, so a burst of accept errors is over and the next failure is
    /// reported again.
    #[inline]
    pub fn handle_accept_empty(&mut self, listener: ListenerId, _now: Instant) {
        if self.backoff.burst.is_some() && self.is_current_listener(listener) {
            self.backoff.burst = None;
            self.backoff.delay = Duration::ZERO;
        }
    }

    /// Beyond Node: failed `accept(2)` calls so far, reported or not (`ECONNABORTED`,
    /// `EINTR` and `EAGAIN` not counted). During a burst this grows by a few per second
    /// (one per pause), not by thousands.
    pub fn accept_failures(&self) -> u64 {
        self.backoff.failures
    }

    /// An accept succeeded: the burst (if any) is over.
    #[inline]
    pub(super) fn accept_succeeded(&mut self) {
        if self.backoff.burst.is_some() {
            self.backoff.burst = None;
            self.backoff.delay = Duration::ZERO;
        }
    }

    /// The pause is over at `now`: `ResumeAccept`.
    pub(super) fn resume_accept_if_due(&mut self, now: Instant) {
        if let Some((id, at)) = self.backoff.paused {
            if at <= now {
                self.backoff.paused = None;
                if self.is_current_listener(id) {
                    self.commands.push_back(ServerCommand::ResumeAccept { id });
                }
            }
        }
    }
}
