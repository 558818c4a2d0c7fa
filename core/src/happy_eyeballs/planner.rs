//! The attempt scheduler (§5.3 steps 6–11, and RFC 8305 staggering): which candidate to
//! try next, the per-attempt timer, aborting, recording errors, and the final outcome.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::candidates::Candidate;
use crate::block_list::BlockList;
use crate::defaults::{
    get_default_auto_select_family_attempt_timeout, MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT,
};
use crate::error::{Error, ErrorCode};
use crate::options::AttemptId;

/// How attempts are scheduled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Node v20 exactly: one attempt at a time; an attempt that outlives the attempt
    /// timeout is aborted (`connect ETIMEDOUT`) and the next one started; the last attempt
    /// has no timer.
    #[default]
    NodeCompat,
    /// RFC 8305 §5 (beyond Node, nodejs/node#54359): a new attempt every attempt delay
    /// while the earlier ones keep running, the next one at once when one fails; the first
    /// success wins and every other live attempt is aborted.
    Rfc8305,
}

/// The planner's configuration.
#[derive(Clone, Debug)]
pub struct PlannerOptions {
    /// Scheduling mode.
    pub mode: Mode,
    /// The port every candidate is connected on.
    pub port: u16,
    /// `autoSelectFamilyAttemptTimeout` in ms (the RFC 8305 attempt delay in that mode);
    /// values under 10 are used as 10.
    pub attempt_timeout_ms: u32,
    /// `localPort`: each attempt binds `0.0.0.0`/`::` on it first (0 means none, as in
    /// Node where it is falsy).
    pub local_port: Option<u16>,
    /// The socket's `blockList` (Node v22.13): blocked candidates fail with
    /// `ERR_IP_BLOCKED` without a connect.
    pub block_list: Option<Arc<BlockList>>,
    /// The id of the first attempt; later ones count up from it. Lets the socket keep
    /// attempt ids unique across reconnects.
    pub first_attempt_id: AttemptId,
}

impl PlannerOptions {
    /// Node's defaults for `port`: NodeCompat, the process-wide attempt timeout, no local
    /// port, no block list, ids from 1.
    pub fn new(port: u16) -> PlannerOptions {
        PlannerOptions {
            mode: Mode::NodeCompat,
            port,
            attempt_timeout_ms: get_default_auto_select_family_attempt_timeout(),
            local_port: None,
            block_list: None,
            first_attempt_id: AttemptId(1),
        }
    }
}

/// What the planner asks for, in order: IO for the backend (`Bind`, `Connect`, `Abort`),
/// events for the user (`ConnectionAttempt*`), and the outcome (`Connected` / `Failed`,
/// always last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Backend: open a fresh socket for attempt `id` and bind it to the unspecified address
    /// of `family` (`0.0.0.0` / `::`) on `local_port`; answer with
    /// [`Planner::handle_attempt_bound`]. Only when a local port is set. On failure the
    /// backend discards that socket.
    Bind {
        /// The attempt.
        id: AttemptId,
        /// 4 or 6.
        family: u8,
        /// The port to bind.
        local_port: u16,
    },
    /// Backend: connect attempt `id` (its bound socket if a `Bind` came first, else a fresh
    /// one) to `ip:port`; answer with [`Planner::handle_attempt_result`].
    Connect {
        /// The attempt.
        id: AttemptId,
        /// The candidate's IP text.
        ip: String,
        /// The port.
        port: u16,
        /// 4 or 6.
        family: u8,
    },
    /// Backend: close attempt `id`'s socket; no answer expected (a late one is ignored).
    Abort {
        /// The attempt.
        id: AttemptId,
    },
    /// User event `connectionAttempt(ip, port, family)`.
    ConnectionAttempt {
        /// Candidate IP.
        ip: String,
        /// Port.
        port: u16,
        /// 4 or 6.
        family: u8,
    },
    /// User event `connectionAttemptFailed(ip, port, family, error)`.
    ConnectionAttemptFailed {
        /// Candidate IP.
        ip: String,
        /// Port.
        port: u16,
        /// 4 or 6.
        family: u8,
        /// `connect ECONNREFUSED ip:port`, `IP(ip) is blocked by net.BlockList`, ...
        error: Error,
    },
    /// User event `connectionAttemptTimeout(ip, port, family)` (NodeCompat only).
    ConnectionAttemptTimeout {
        /// Candidate IP.
        ip: String,
        /// Port.
        port: u16,
        /// 4 or 6.
        family: u8,
    },
    /// Outcome: attempt `id` is connected; its socket becomes the socket's handle and the
    /// socket proceeds as after a plain connect (`connect`, `ready`).
    Connected {
        /// The winning attempt.
        id: AttemptId,
        /// Its IP.
        ip: String,
        /// Its port.
        port: u16,
        /// 4 or 6.
        family: u8,
    },
    /// Outcome: every candidate failed; destroy the socket with this error (an
    /// `AggregateError` of every recorded error in order, code = the first one's, or
    /// `ERR_SOCKET_CONNECTION_TIMEOUT` when none was recorded).
    Failed(Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Binding,
    Connecting,
}

#[derive(Clone, Debug)]
struct Live {
    id: AttemptId,
    index: usize,
    phase: Phase,
}

/// The happy-eyeballs planner for one `connect`: pure, driven by the socket. See the
/// [module docs](super) for how to plug it in.
#[derive(Debug)]
pub struct Planner {
    options: PlannerOptions,
    candidates: Vec<Candidate>,
    /// Index of the next candidate to start.
    next: usize,
    next_id: u64,
    live: Vec<Live>,
    errors: Vec<Error>,
    attempted: Vec<String>,
    actions: VecDeque<Action>,
    timer: Option<(Instant, AttemptId)>,
    finished: bool,
}

impl Planner {
    /// Start connecting to `candidates` (in order; normally from
    /// [`sort_candidates`](super::sort_candidates)) — queues the first attempt at once, as
    /// Node emits the first `connectionAttempt` inside the lookup callback.
    pub fn start(options: PlannerOptions, candidates: Vec<Candidate>, now: Instant) -> Planner {
        let next_id = options.first_attempt_id.0;
        let mut planner = Planner {
            options,
            candidates,
            next: 0,
            next_id,
            live: Vec::new(),
            errors: Vec::new(),
            attempted: Vec::new(),
            actions: VecDeque::new(),
            timer: None,
            finished: false,
        };
        planner.start_next(now);
        planner
    }

    /// The next action, in order; `None` when there is nothing to do until an input.
    #[must_use = "an action taken and ignored is never performed"]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Planner::handle_timeout`] must be called next.
    #[must_use = "the machine must be woken at this deadline"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer.map(|(at, _)| at)
    }

    /// `autoSelectFamilyAttemptedAddresses`: `"ip:port"` for every attempt that emitted
    /// `connectionAttempt` (IPv6 not bracketed).
    pub fn attempted_addresses(&self) -> &[String] {
        &self.attempted
    }

    /// The errors recorded so far, in order.
    pub fn errors(&self) -> &[Error] {
        &self.errors
    }

    /// Whether the outcome (`Connected`/`Failed`) was produced or [`Planner::cancel`] was
    /// called; every later input is ignored.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The first id this planner has not used, for the socket's next attempt id.
    pub fn next_free_id(&self) -> AttemptId {
        AttemptId(self.next_id)
    }

    /// The candidate a live attempt (binding or connecting) is for, `None` for an id that
    /// is not live. A socket that binds and connects in one backend command reads the
    /// target of an [`Action::Bind`] here.
    pub fn candidate_of(&self, id: AttemptId) -> Option<&Candidate> {
        let live = self.live.iter().find(|l| l.id == id)?;
        self.candidates.get(live.index)
    }

    /// Answer to [`Action::Bind`]: `Err(code)` records `bind <CODE> 0.0.0.0:<localPort>`
    /// and moves on without a `connectionAttempt` event, as Node does.
    pub fn handle_attempt_bound(
        &mut self,
        id: AttemptId,
        result: Result<(), ErrorCode>,
        now: Instant,
    ) {
        let Some(pos) = self.live_position(id, Phase::Binding) else {
            return;
        };
        match result {
            Ok(()) => {
                let index = self.live[pos].index;
                self.live.remove(pos);
                self.connect_phase(id, index, now);
            }
            Err(code) => {
                let live = self.live.remove(pos);
                let family = self.candidate(live.index).family;
                let local_port = self.options.local_port.unwrap_or(0);
                let err =
                    Error::with_host_port(code, "bind", unspecified(family), local_port, None);
                self.errors.push(err);
                self.start_next(now);
            }
        }
    }

    /// Answer to [`Action::Connect`]. A success of the live attempt ends the planner
    /// (`Connected`, and in Rfc8305 an `Abort` for every other live attempt); a failure is
    /// recorded (`connect <CODE> ip:port`, with ` - Local (...)` when a local port is
    /// bound), reported as `ConnectionAttemptFailed`, and the next candidate is tried
    /// (`ECANCELED` ends the planner with `Failed`, as Node treats it as canceled).
    /// Answers for attempts that are no longer live (timed out, aborted) are ignored.
    pub fn handle_attempt_result(
        &mut self,
        id: AttemptId,
        result: Result<(), ErrorCode>,
        now: Instant,
    ) {
        self.attempt_result(id, result, false, now);
    }

    /// The attempt's `connect(2)` failed at once (Node's synchronous path): as
    /// [`handle_attempt_result`](Self::handle_attempt_result) with `Err(code)`, the
    /// recorded error naming the socket's `getsockname` as Node's does (`connect
    /// ENETUNREACH 224.0.0.1:80 - Local (0.0.0.0:0)`).
    pub fn handle_attempt_failed_at_once(&mut self, id: AttemptId, code: ErrorCode, now: Instant) {
        self.attempt_result(id, Err(code), true, now);
    }

    fn attempt_result(
        &mut self,
        id: AttemptId,
        result: Result<(), ErrorCode>,
        at_once: bool,
        now: Instant,
    ) {
        let Some(pos) = self.live_position(id, Phase::Connecting) else {
            return;
        };
        let live = self.live.remove(pos);
        let cand = self.candidate(live.index).clone();
        let port = self.options.port;
        match result {
            Ok(()) => {
                self.timer = None;
                for other in std::mem::take(&mut self.live) {
                    self.actions.push_back(Action::Abort { id: other.id });
                }
                self.actions.push_back(Action::Connected {
                    id,
                    ip: cand.ip,
                    port,
                    family: cand.family,
                });
                self.finished = true;
            }
            Err(code) => {
                // Node clears the attempt timer on every completion; in Rfc8305 the stagger
                // timer is replaced when the next attempt starts.
                if self.options.mode == Mode::NodeCompat {
                    self.timer = None;
                }
                let err = if at_once {
                    let sockname = format!(
                        "{}:{}",
                        unspecified(cand.family),
                        self.local_port().unwrap_or(0)
                    );
                    Error::connect_at_once(code, &cand.ip, port, &sockname)
                } else {
                    self.connect_error(code, &cand)
                };
                self.errors.push(err.clone());
                self.actions.push_back(Action::ConnectionAttemptFailed {
                    ip: cand.ip,
                    port,
                    family: cand.family,
                    error: err,
                });
                if code == ErrorCode::ECANCELED {
                    self.fail();
                } else {
                    self.start_next(now);
                }
            }
        }
    }

    /// The timer from [`Planner::poll_timeout`] is due. NodeCompat: the live attempt is
    /// aborted, reported as `ConnectionAttemptTimeout`, recorded as `connect ETIMEDOUT
    /// ip:port`, and the next candidate started. Rfc8305: the next candidate is started
    /// while the others keep running. Early calls change nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some((at, id)) = self.timer else {
            return;
        };
        if now < at || self.finished {
            return;
        }
        self.timer = None;
        match self.options.mode {
            Mode::NodeCompat => {
                let Some(pos) = self.live_position(id, Phase::Connecting) else {
                    return;
                };
                let live = self.live.remove(pos);
                let cand = self.candidate(live.index).clone();
                let port = self.options.port;
                self.actions.push_back(Action::ConnectionAttemptTimeout {
                    ip: cand.ip.clone(),
                    port,
                    family: cand.family,
                });
                let err = self.connect_error(ErrorCode::ETIMEDOUT, &cand);
                self.errors.push(err);
                self.actions.push_back(Action::Abort { id });
                self.start_next(now);
            }
            Mode::Rfc8305 => self.start_next(now),
        }
    }

    /// The socket is destroyed (or aborted) mid-algorithm: every live attempt is aborted;
    /// one that was connecting reports `ConnectionAttemptFailed` with `connect ECANCELED
    /// ip:port` (Node emits it after `destroy()`, before `close`). No outcome follows.
    pub fn cancel(&mut self, _now: Instant) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.timer = None;
        for live in std::mem::take(&mut self.live) {
            self.actions.push_back(Action::Abort { id: live.id });
            if live.phase == Phase::Connecting {
                let cand = self.candidate(live.index).clone();
                let err = self.connect_error(ErrorCode::ECANCELED, &cand);
                self.errors.push(err.clone());
                self.actions.push_back(Action::ConnectionAttemptFailed {
                    ip: cand.ip,
                    port: self.options.port,
                    family: cand.family,
                    error: err,
                });
            }
        }
    }

    // ---- internals -------------------------------------------------------------------

    fn candidate(&self, index: usize) -> &Candidate {
        // Indices come from `next`, which never passes the list's length.
        &self.candidates[index]
    }

    fn live_position(&self, id: AttemptId, phase: Phase) -> Option<usize> {
        if self.finished {
            return None;
        }
        self.live
            .iter()
            .position(|l| l.id == id && l.phase == phase)
    }

    fn local_port(&self) -> Option<u16> {
        self.options.local_port.filter(|p| *p != 0)
    }

    fn attempt_timeout(&self) -> Duration {
        let ms = self
            .options
            .attempt_timeout_ms
            .max(MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT);
        Duration::from_millis(u64::from(ms))
    }

    fn connect_error(&self, code: ErrorCode, cand: &Candidate) -> Error {
        match self.local_port() {
            Some(lp) => Error::connect(
                code,
                &cand.ip,
                self.options.port,
                Some((unspecified(cand.family), lp)),
            ),
            None => Error::connect(code, &cand.ip, self.options.port, None),
        }
    }

    /// Node's `internalConnectMultiple`: start the next candidate, skipping those that
    /// fail before a connect is issued; when none is left and nothing is running, fail.
    fn start_next(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        if self.next >= self.candidates.len() {
            if self.live.is_empty() {
                self.fail();
            }
            return;
        }
        let index = self.next;
        self.next += 1;
        let id = AttemptId(self.next_id);
        self.next_id += 1;
        if self.options.mode == Mode::Rfc8305 {
            // A new attempt restarts the stagger delay once it connects.
            self.timer = None;
        }
        match self.local_port() {
            Some(local_port) => {
                let family = self.candidate(index).family;
                self.live.push(Live {
                    id,
                    index,
                    phase: Phase::Binding,
                });
                self.actions.push_back(Action::Bind {
                    id,
                    family,
                    local_port,
                });
            }
            None => self.connect_phase(id, index, now),
        }
    }

    /// After the (optional) bind: the block list, then `connectionAttempt` and the connect
    /// with its timer.
    fn connect_phase(&mut self, id: AttemptId, index: usize, now: Instant) {
        let cand = self.candidate(index).clone();
        let port = self.options.port;
        if self.is_blocked(&cand) {
            let err = Error::ip_blocked(&cand.ip);
            self.errors.push(err.clone());
            if self.local_port().is_some() {
                // The bound socket is of no use any more.
                self.actions.push_back(Action::Abort { id });
            }
            self.actions.push_back(Action::ConnectionAttemptFailed {
                ip: cand.ip,
                port,
                family: cand.family,
                error: err,
            });
            self.start_next(now);
            return;
        }
        self.actions.push_back(Action::ConnectionAttempt {
            ip: cand.ip.clone(),
            port,
            family: cand.family,
        });
        self.attempted.push(crate::ip::with_port(&cand.ip, port));
        self.actions.push_back(Action::Connect {
            id,
            ip: cand.ip,
            port,
            family: cand.family,
        });
        self.live.push(Live {
            id,
            index,
            phase: Phase::Connecting,
        });
        // Node: no timer on the last candidate. RFC 8305: the stagger delay only matters
        // while candidates remain.
        if index + 1 < self.candidates.len() {
            self.timer = Some((now + self.attempt_timeout(), id));
        }
    }

    fn is_blocked(&self, cand: &Candidate) -> bool {
        let Some(list) = &self.options.block_list else {
            return false;
        };
        let family = if cand.family == 6 { "ipv6" } else { "ipv4" };
        list.check(&cand.ip, family).unwrap_or(false)
    }

    fn fail(&mut self) {
        self.timer = None;
        for other in std::mem::take(&mut self.live) {
            self.actions.push_back(Action::Abort { id: other.id });
        }
        self.actions
            .push_back(Action::Failed(Error::aggregate(self.errors.clone())));
        self.finished = true;
    }
}

fn unspecified(family: u8) -> &'static str {
    if family == 6 {
        "::"
    } else {
        "0.0.0.0"
    }
}
