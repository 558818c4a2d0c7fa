//! The server invariants, checked for every `Server<SimRuntime>` from what the simulated
//! kernel did (accepts, their failures, connections a server closed before a socket
//! took them, its listeners) against what the user was told (the server's events,
//! `getConnections()`, `accept_failures()`, the accepted sockets' `Close`):
//!
//! * accounting: `Connection` + `Drop` + `Blocked` events = connections the kernel
//!   handed over from the server's accept queue (less those a `shutdown()` withdrew
//!   before they were announced: rejected without an event, which nothing else may do).
//!   Checked as "announced ≤ handed over" at every event, and as equality at every
//!   `accept(2)` the server makes: the driver accepts only once the core has no event
//!   queued, so no accepted connection is on its way to the user then;
//! * accept errors: exactly one `Error` (`accept <CODE>`) per burst of failed accepts
//!   (a burst ends with an accept that hands over a connection or finds the queue
//!   empty; a new code within it is reported again), `accept_failures()` = the failed
//!   accepts, and no retry before its pause is over (10 ms after the first failure,
//!   doubling up to 250 ms: the core's back-off);
//! * `getConnections()` = the accepted sockets neither closed (`Close`) nor dropped,
//!   plus the connections accepted and admitted but not yet handed out as sockets; a
//!   server's `Close` only when none of them is open;
//! * `shutdown(deadline)`: once the clock passes the deadline, none of the server's
//!   connections is open and it has no listener (assuming, as `shutdown`'s contract
//!   says, that the owners keep polling their connections: a destroy is performed at
//!   the owner's next poll). A `Listening` after `shutdown()` (a new `listen()`) ends
//!   this check, since the new listener's connections are not part of the shutdown.

use std::time::Duration;

use nodenet_core::server::{ACCEPT_RETRY_FIRST, ACCEPT_RETRY_MAX};
use nodenet_core::ErrorCode;

use super::{Checker, SocketId};

/// A server the checker follows: its runtime handle's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ServerId(pub(crate) u32);

impl std::fmt::Display for ServerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "server #{}", self.0)
    }
}

/// What one `accept(2)` on a server's listener did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Accept {
    /// A connection was handed over.
    Handed,
    /// The queue was empty (`EAGAIN`: the driver waits).
    Empty,
    /// The accept failed with this code.
    Failed(ErrorCode),
}

/// A server event as the checks need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    Listening,
    Connection,
    /// `Drop` or `Blocked`.
    Refused,
    /// An `Error` of `accept`.
    AcceptError,
    /// Another `Error` (of `listen`, ...).
    Error,
    Close,
}

/// The server's state when one of its events is handed to the user.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ServerView {
    /// `getConnections()`.
    pub(crate) connections: usize,
    /// `accept_failures()`.
    pub(crate) accept_failures: u64,
}

/// How often the sweep's runs exercised the server checks (see
/// [`Sim::checked`](crate::runtime::Sim::checked)): a check that never ran proves
/// nothing, so the sweep counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Server events checked (accounting bound, accept reports, `accept_failures()`,
    /// `getConnections()`).
    pub server_events: u64,
    /// Accounting equalities checked at an `accept(2)`.
    pub accounting: u64,
    /// ... of them after a `Drop` or `Blocked`.
    pub accounting_refused: u64,
    /// ... of them after a `shutdown()` withdrew a connection not yet announced.
    pub accounting_withdrawn: u64,
    /// Bursts of failed accepts whose reports were checked when the burst ended.
    pub accept_bursts: u64,
    /// Retries after a failed accept whose pause was checked.
    pub accept_pauses: u64,
    /// `getConnections()` checked while a connection was open.
    pub connections_open: u64,
    /// Accept queues found waiting when the clock moved on, checked against the longest
    /// accept pause (`SimConfig::servers_polled`).
    pub accept_queues_waiting: u64,
    /// Shutdown deadlines the clock passed, checked.
    pub shutdown_deadlines: u64,
    /// ... of them with connections closed at the deadline itself (destroyed then).
    pub shutdown_destroyed: u64,
}

/// The current run of failed accepts on one listener.
#[derive(Clone, Copy, Debug)]
struct Burst {
    listener: usize,
    code: ErrorCode,
    failures: u32,
    last: Duration,
}

#[derive(Clone, Debug, Default)]
struct ServerState {
    // What the kernel did.
    handed: u64,
    /// Handed-over connections closed before a socket took them (`Drop`, `Blocked`, or
    /// withdrawn by `shutdown()`).
    rejected: u64,
    /// Accepted connections that became sockets.
    attached: u64,
    failures: u64,
    /// Accept errors the user must have heard of: one per burst (and per new code in it).
    reports_due: u64,
    burst: Option<Burst>,
    // What the user was told.
    connection_events: u64,
    refused_events: u64,
    accept_errors: u64,
    /// Accepted sockets not closed or dropped (a handful: a list, not a set, so that a
    /// server costs no tree node per connection).
    open: Vec<SocketId>,
    shutdown_called: bool,
    /// The shutdown deadline the clock has not passed yet.
    deadline: Option<Duration>,
    /// Connections closed at the deadline instant.
    closed_at_deadline: u64,
}

/// The servers of a run, and which server each accepted socket belongs to.
#[derive(Clone, Debug, Default)]
pub(crate) struct Servers {
    /// Sorted by id (a run has one or a few servers: a short list searched, where a map's
    /// node of eleven states was an allocation of 1.8 KiB per simulation).
    servers: Vec<(ServerId, ServerState)>,
    /// By socket number (sockets are numbered densely from 0).
    owner: Vec<Option<ServerId>>,
    pub(crate) checked: Checked,
    /// Some server may have a shutdown deadline (false only when none has one: the
    /// clock's moves then have none to check).
    deadlines: bool,
}

impl Servers {
    /// Back to `Servers::default()`, keeping the room of its lists.
    pub(crate) fn recycle(&mut self) {
        let Servers {
            servers,
            owner,
            checked,
            deadlines,
        } = self;
        servers.clear();
        owner.clear();
        *checked = Checked::default();
        *deadlines = false;
    }
}

/// The pause the core's back-off keeps after the `failures`-th failure of a burst.
fn pause_after(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    (ACCEPT_RETRY_FIRST * (1u32 << doublings)).min(ACCEPT_RETRY_MAX)
}

impl Checker {
    fn server(&mut self, s: ServerId) -> &mut ServerState {
        let list = &mut self.servers.servers;
        let i = match list.binary_search_by_key(&s, |(id, _)| *id) {
            Ok(i) => i,
            Err(i) => {
                list.insert(i, (s, ServerState::default()));
                i
            }
        };
        &mut list[i].1
    }

    /// Some server may have a shutdown deadline the clock has not passed yet.
    pub(crate) fn deadlines_pending(&self) -> bool {
        self.servers.deadlines
    }

    /// How often the server checks ran.
    pub(crate) fn checked(&self) -> Checked {
        self.servers.checked
    }

    /// Server `s` called `accept(2)` on its listener `listener` at `now`.
    pub(crate) fn server_accept(&mut self, s: ServerId, listener: usize, now: Duration, r: Accept) {
        let burst = self.server(s).burst;
        if let Some(b) = burst.filter(|b| b.listener == listener) {
            let want = pause_after(b.failures);
            let gap = now.saturating_sub(b.last);
            self.servers.checked.accept_pauses += 1;
            if gap < want {
                self.violation(format!(
                    "{s}: accept retried {gap:?} after failure {} of a burst, before its pause of {want:?}",
                    b.failures
                ));
            }
        }
        // No event is queued in the core when its driver accepts: everything handed over
        // so far has been announced (or withdrawn), every failure reported.
        self.check_accounting(s);
        let st = self.server(s);
        let ended = match r {
            Accept::Handed => {
                st.handed += 1;
                st.burst.take().is_some()
            }
            Accept::Empty => st.burst.take().is_some(),
            // Not failures: the core accepts again at once, as libuv does.
            Accept::Failed(ErrorCode::ECONNABORTED | ErrorCode::EINTR | ErrorCode::EAGAIN) => false,
            Accept::Failed(code) => {
                st.failures += 1;
                match &mut st.burst {
                    Some(b) if b.listener == listener => {
                        b.failures += 1;
                        b.last = now;
                        if b.code != code {
                            b.code = code;
                            st.reports_due += 1;
                        }
                    }
                    other => {
                        *other = Some(Burst {
                            listener,
                            code,
                            failures: 1,
                            last: now,
                        });
                        st.reports_due += 1;
                    }
                }
                false
            }
        };
        if ended {
            self.servers.checked.accept_bursts += 1;
        }
    }

    /// The accounting equality and the accept reports, at a point where nothing is on
    /// its way to the user.
    fn check_accounting(&mut self, s: ServerId) {
        let st = self.server(s);
        let st = st.clone_counts();
        let mut v = Vec::new();
        let announced = st.connection_events + st.refused_events;
        if st.rejected < st.refused_events {
            v.push(format!(
                "{s}: {} Drop/Blocked events but {} connections rejected",
                st.refused_events, st.rejected
            ));
        }
        let withdrawn = st.withdrawn();
        if withdrawn > 0 && !st.shutdown_called {
            v.push(format!(
                "{s}: {withdrawn} accepted connections rejected without a Drop or Blocked event (and no shutdown())"
            ));
        }
        if announced + withdrawn != st.handed {
            v.push(format!(
                "{s}: Connection + Drop + Blocked = {announced} (+ {withdrawn} withdrawn by shutdown) but the kernel handed over {}",
                st.handed
            ));
        }
        if st.attached != st.connection_events {
            v.push(format!(
                "{s}: {} Connection events but {} accepted sockets",
                st.connection_events, st.attached
            ));
        }
        if st.accept_errors != st.reports_due {
            v.push(format!(
                "{s}: {} accept errors reported for {} bursts of failed accepts",
                st.accept_errors, st.reports_due
            ));
        }
        let c = &mut self.servers.checked;
        c.accounting += 1;
        if st.refused_events > 0 {
            c.accounting_refused += 1;
        }
        if withdrawn > 0 {
            c.accounting_withdrawn += 1;
        }
        for x in v {
            self.violation(x);
        }
    }

    /// A connection server `s` accepted was closed before a socket took it.
    pub(crate) fn server_rejected(&mut self, s: ServerId) {
        self.server(s).rejected += 1;
    }

    /// Socket `sock` took a connection server `s` accepted.
    pub(crate) fn server_socket(&mut self, s: ServerId, sock: SocketId) {
        let st = self.server(s);
        st.attached += 1;
        if !st.open.contains(&sock) {
            st.open.push(sock);
        }
        let owner = &mut self.servers.owner;
        if owner.len() <= sock.0 {
            owner.resize(sock.0 + 1, None);
        }
        owner[sock.0] = Some(s);
    }

    /// Socket `sock` emitted `Close` or was dropped at `now` (if it was accepted, its
    /// server no longer counts it).
    pub(crate) fn server_socket_closed(&mut self, sock: SocketId, now: Duration) {
        let Some(s) = self.servers.owner.get(sock.0).copied().flatten() else {
            return;
        };
        let st = self.server(s);
        let was_open = st
            .open
            .iter()
            .position(|&o| o == sock)
            .map(|i| st.open.swap_remove(i))
            .is_some();
        if was_open && st.deadline == Some(now) {
            st.closed_at_deadline += 1;
        }
    }

    /// Server `s` began `shutdown(deadline)`.
    pub(crate) fn server_shutdown(&mut self, s: ServerId, deadline: Duration) {
        let st = self.server(s);
        st.shutdown_called = true;
        st.deadline = Some(st.deadline.map_or(deadline, |d| d.min(deadline)));
        self.servers.deadlines = true;
    }

    /// Server `s` hands event `ev` to the user at `now`; `view` is its state then.
    pub(crate) fn server_event(&mut self, s: ServerId, ev: Seen, view: ServerView) {
        let st = self.server(s);
        match ev {
            Seen::Connection => st.connection_events += 1,
            Seen::Refused => st.refused_events += 1,
            Seen::AcceptError => st.accept_errors += 1,
            // A new listener after `shutdown()`: its connections are not the shutdown's.
            Seen::Listening => st.deadline = None,
            Seen::Error | Seen::Close => {}
        }
        let st = st.clone_counts();
        let mut v = Vec::new();
        let announced = st.connection_events + st.refused_events;
        if announced > st.handed {
            v.push(format!(
                "{s}: Connection + Drop + Blocked = {announced} but the kernel handed over only {}",
                st.handed
            ));
        }
        if st.accept_errors > st.reports_due {
            v.push(format!(
                "{s}: {} accept errors reported for {} bursts of failed accepts",
                st.accept_errors, st.reports_due
            ));
        }
        if view.accept_failures != st.failures {
            v.push(format!(
                "{s}: accept_failures() = {} but {} accepts failed",
                view.accept_failures, st.failures
            ));
        }
        // Admitted by the core, not yet a socket: accepted, neither attached nor rejected.
        let in_flight = st.handed.saturating_sub(st.attached + st.rejected);
        let open = st.open_count as u64 + in_flight;
        if view.connections as u64 != open {
            v.push(format!(
                "{s}: getConnections() = {} but {} accepted sockets are open and {in_flight} connections on their way",
                view.connections, st.open_count
            ));
        }
        if ev == Seen::Close && open > 0 {
            v.push(format!("{s}: Close with {open} connections open"));
        }
        let c = &mut self.servers.checked;
        c.server_events += 1;
        if open > 0 {
            c.connections_open += 1;
        }
        for x in v {
            self.violation(x);
        }
    }

    /// With the programs polling their servers: connections have waited in an accept
    /// queue of server `s` without an `accept` since `since`, and the clock moves on to
    /// `next`. Longer than the longest accept pause, the server has stopped accepting.
    pub(crate) fn server_waiting(&mut self, s: ServerId, since: Duration, next: Duration) {
        self.servers.checked.accept_queues_waiting += 1;
        if next.saturating_sub(since) > ACCEPT_RETRY_MAX {
            self.violation(format!(
                "{s}: connections wait in its accept queue without an accept since {since:?}, longer than the longest accept pause ({ACCEPT_RETRY_MAX:?})"
            ));
        }
    }

    /// The clock is about to move on from `now`: every shutdown whose deadline is
    /// reached must have left nothing open. `listening(s)`: whether server `s` still
    /// has an open listener in the kernel.
    pub(crate) fn server_deadlines(&mut self, now: Duration, listening: impl Fn(ServerId) -> bool) {
        if !self.servers.deadlines {
            return;
        }
        let due: Vec<ServerId> = self
            .servers
            .servers
            .iter()
            .filter(|(_, st)| st.deadline.is_some_and(|d| d <= now))
            .map(|(s, _)| *s)
            .collect();
        for s in due {
            let st = self.server(s);
            let deadline = st.deadline.take().unwrap_or_default();
            let open = st.open.len();
            let destroyed = st.closed_at_deadline;
            let c = &mut self.servers.checked;
            c.shutdown_deadlines += 1;
            if destroyed > 0 {
                c.shutdown_destroyed += 1;
            }
            if open > 0 {
                self.violation(format!(
                    "{s}: {open} connections still open after the shutdown deadline {deadline:?}"
                ));
            }
            if listening(s) {
                self.violation(format!(
                    "{s}: still listening after the shutdown deadline {deadline:?}"
                ));
            }
        }
        self.servers.deadlines = self
            .servers
            .servers
            .iter()
            .any(|(_, st)| st.deadline.is_some());
    }
}

/// The counters of a [`ServerState`] (without its socket set).
#[derive(Clone, Copy, Debug)]
struct Counts {
    handed: u64,
    rejected: u64,
    attached: u64,
    failures: u64,
    reports_due: u64,
    connection_events: u64,
    refused_events: u64,
    accept_errors: u64,
    open_count: usize,
    shutdown_called: bool,
}

impl Counts {
    /// Connections rejected without an event (only `shutdown()` does that).
    fn withdrawn(&self) -> u64 {
        self.rejected.saturating_sub(self.refused_events)
    }
}

impl ServerState {
    fn clone_counts(&self) -> Counts {
        Counts {
            handed: self.handed,
            rejected: self.rejected,
            attached: self.attached,
            failures: self.failures,
            reports_due: self.reports_due,
            connection_events: self.connection_events,
            refused_events: self.refused_events,
            accept_errors: self.accept_errors,
            open_count: self.open.len(),
            shutdown_called: self.shutdown_called,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: ServerId = ServerId(7);
    const L: usize = 0;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn view(connections: usize, accept_failures: u64) -> ServerView {
        ServerView {
            connections,
            accept_failures,
        }
    }

    /// A connection handed over, taken by socket `sock` and announced.
    fn connection(c: &mut Checker, sock: usize, open_after: usize, now: Duration) {
        let failures = c
            .servers
            .servers
            .iter()
            .find(|(id, _)| *id == S)
            .map_or(0, |(_, st)| st.failures);
        c.server_accept(S, L, now, Accept::Handed);
        c.server_socket(S, SocketId(sock));
        c.server_event(S, Seen::Connection, view(open_after, failures));
    }

    fn assert_clean(c: &Checker) {
        assert!(c.violations().is_empty(), "{:?}", c.violations());
    }

    fn assert_caught(c: &Checker, what: &str) {
        assert!(
            c.violations().iter().any(|v| v.contains(what)),
            "expected a violation containing {what:?}, got {:?}",
            c.violations()
        );
    }

    #[test]
    fn accounting_holds_for_a_good_run_and_catches_a_lost_connection() {
        let mut c = Checker::default();
        connection(&mut c, 1, 1, ms(0));
        // max_connections reached: Drop, the connection rejected before the event.
        c.server_accept(S, L, ms(1), Accept::Handed);
        c.server_rejected(S);
        c.server_event(S, Seen::Refused, view(1, 0));
        c.server_accept(S, L, ms(1), Accept::Empty);
        assert_clean(&c);
        assert_eq!(c.checked().accounting_refused, 1);

        // Handed over, rejected, but never announced: caught at the next accept.
        c.server_accept(S, L, ms(2), Accept::Handed);
        c.server_rejected(S);
        c.server_accept(S, L, ms(3), Accept::Empty);
        assert_caught(&c, "rejected without a Drop or Blocked event");

        // Handed over and never heard of again: caught at the next accept.
        let mut c = Checker::default();
        c.server_accept(S, L, ms(0), Accept::Handed);
        c.server_accept(S, L, ms(1), Accept::Empty);
        assert_caught(
            &c,
            "= 0 (+ 0 withdrawn by shutdown) but the kernel handed over 1",
        );

        // A connection announced twice: caught at the event.
        let mut c = Checker::default();
        connection(&mut c, 1, 1, ms(0));
        c.server_event(S, Seen::Connection, view(1, 0));
        assert_caught(&c, "handed over only 1");
    }

    #[test]
    fn a_shutdown_may_withdraw_a_connection_not_yet_announced() {
        let mut c = Checker::default();
        c.server_accept(S, L, ms(0), Accept::Handed);
        c.server_shutdown(S, ms(100));
        c.server_rejected(S);
        c.server_accept(S, L, ms(0), Accept::Empty);
        assert_clean(&c);
        assert_eq!(c.checked().accounting_withdrawn, 1);
    }

    #[test]
    fn one_error_per_burst_of_failed_accepts() {
        let mut c = Checker::default();
        // A burst: failures at 0, 10 and 30 ms (pauses 10 and 20 ms), one report.
        c.server_accept(S, L, ms(0), Accept::Failed(ErrorCode::EMFILE));
        c.server_event(S, Seen::AcceptError, view(0, 1));
        c.server_accept(S, L, ms(10), Accept::Failed(ErrorCode::EMFILE));
        c.server_accept(S, L, ms(30), Accept::Failed(ErrorCode::EMFILE));
        connection(&mut c, 1, 1, ms(70));
        assert_clean(&c);
        assert_eq!(c.checked().accept_bursts, 1);
        assert_eq!(c.checked().accept_pauses, 3);

        // A second report within the burst: caught at the event.
        c.server_accept(S, L, ms(100), Accept::Failed(ErrorCode::EMFILE));
        c.server_event(S, Seen::AcceptError, view(1, 4));
        assert_clean(&c);
        c.server_accept(S, L, ms(110), Accept::Failed(ErrorCode::EMFILE));
        c.server_event(S, Seen::AcceptError, view(1, 5));
        assert_caught(&c, "3 accept errors reported for 2 bursts");

        // A burst never reported: caught at the next accept.
        let mut c = Checker::default();
        c.server_accept(S, L, ms(0), Accept::Failed(ErrorCode::ENFILE));
        c.server_accept(S, L, ms(10), Accept::Empty);
        assert_caught(&c, "0 accept errors reported for 1 bursts");

        // accept_failures() must count every failed accept.
        let mut c = Checker::default();
        c.server_accept(S, L, ms(0), Accept::Failed(ErrorCode::EMFILE));
        c.server_event(S, Seen::AcceptError, view(0, 0));
        assert_caught(&c, "accept_failures() = 0 but 1 accepts failed");
    }

    #[test]
    fn a_new_code_within_a_burst_is_reported_again() {
        let mut c = Checker::default();
        c.server_accept(S, L, ms(0), Accept::Failed(ErrorCode::EMFILE));
        c.server_event(S, Seen::AcceptError, view(0, 1));
        c.server_accept(S, L, ms(10), Accept::Failed(ErrorCode::ENFILE));
        c.server_event(S, Seen::AcceptError, view(0, 2));
        c.server_accept(S, L, ms(30), Accept::Empty);
        // ECONNABORTED is no failure: accepted again at once, no report.
        c.server_accept(S, L, ms(30), Accept::Failed(ErrorCode::ECONNABORTED));
        c.server_accept(S, L, ms(30), Accept::Empty);
        assert_clean(&c);
    }

    #[test]
    fn catches_a_retry_before_its_pause() {
        let mut c = Checker::default();
        c.server_accept(S, L, ms(0), Accept::Failed(ErrorCode::EMFILE));
        c.server_event(S, Seen::AcceptError, view(0, 1));
        c.server_accept(S, L, ms(10), Accept::Failed(ErrorCode::EMFILE));
        // The second pause is 20 ms.
        c.server_accept(S, L, ms(25), Accept::Empty);
        assert_caught(&c, "before its pause of 20ms");
        // The pause stops doubling at 250 ms; later than the pause is fine (the
        // server was not polled at once).
        assert_eq!(pause_after(10), ACCEPT_RETRY_MAX);
        let mut c = Checker::default();
        c.server_accept(S, L, ms(0), Accept::Failed(ErrorCode::EMFILE));
        c.server_event(S, Seen::AcceptError, view(0, 1));
        c.server_accept(S, L, ms(500), Accept::Empty);
        assert_clean(&c);
        // A new listener starts without a burst.
        c.server_accept(S, L, ms(600), Accept::Failed(ErrorCode::EMFILE));
        c.server_event(S, Seen::AcceptError, view(0, 2));
        c.server_accept(S, L + 1, ms(601), Accept::Empty);
        assert_clean(&c);
    }

    #[test]
    fn get_connections_counts_open_sockets_and_close_waits_for_them() {
        let mut c = Checker::default();
        connection(&mut c, 1, 1, ms(0));
        connection(&mut c, 2, 2, ms(0));
        c.server_socket_closed(SocketId(1), ms(5));
        // A dropped socket counts as closed too.
        c.server_socket_closed(SocketId(2), ms(6));
        c.server_event(S, Seen::Close, view(0, 0));
        assert_clean(&c);

        // The count does not go down when a socket closes.
        let mut c = Checker::default();
        connection(&mut c, 1, 1, ms(0));
        c.server_socket_closed(SocketId(1), ms(5));
        c.server_event(S, Seen::Error, view(1, 0));
        assert_caught(&c, "getConnections() = 1 but 0 accepted sockets are open");

        // Close while a socket is still open.
        let mut c = Checker::default();
        connection(&mut c, 1, 1, ms(0));
        c.server_event(S, Seen::Close, view(0, 0));
        assert_caught(&c, "Close with 1 connections open");

        // A connection admitted but not yet a socket counts (an event queued before
        // its `Connection`).
        let mut c = Checker::default();
        c.server_accept(S, L, ms(0), Accept::Handed);
        c.server_event(S, Seen::Listening, view(1, 0));
        assert_clean(&c);
    }

    #[test]
    fn catches_a_server_that_stops_accepting() {
        let mut c = Checker::default();
        // Waiting out a pause of 250 ms is fine.
        c.server_waiting(S, ms(100), ms(350));
        assert_clean(&c);
        c.server_waiting(S, ms(100), ms(351));
        assert_caught(&c, "without an accept since 100ms");
    }

    #[test]
    fn catches_a_connection_open_after_the_shutdown_deadline() {
        let mut c = Checker::default();
        connection(&mut c, 1, 1, ms(0));
        connection(&mut c, 2, 2, ms(0));
        c.server_shutdown(S, ms(100));
        c.server_socket_closed(SocketId(1), ms(40));
        c.server_deadlines(ms(50), |_| false);
        assert_clean(&c);
        // Destroyed at the deadline: fine, and counted.
        c.server_socket_closed(SocketId(2), ms(100));
        c.server_deadlines(ms(100), |_| false);
        assert_clean(&c);
        assert_eq!(c.checked().shutdown_deadlines, 1);
        assert_eq!(c.checked().shutdown_destroyed, 1);

        let mut c = Checker::default();
        connection(&mut c, 1, 1, ms(0));
        c.server_shutdown(S, ms(100));
        c.server_deadlines(ms(100), |_| true);
        assert_caught(&c, "1 connections still open after the shutdown deadline");
        assert_caught(&c, "still listening after the shutdown deadline");

        // A `listen()` after the shutdown takes the server out of the check.
        let mut c = Checker::default();
        c.server_shutdown(S, ms(100));
        c.server_event(S, Seen::Listening, view(0, 0));
        connection(&mut c, 1, 1, ms(50));
        c.server_deadlines(ms(100), |_| true);
        assert_clean(&c);
    }
}
