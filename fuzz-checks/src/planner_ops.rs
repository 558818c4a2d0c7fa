//! Happy-eyeballs operation sequences for the `planner_ops` fuzz target: an arbitrary
//! lookup result goes through [`sort_candidates`]; when it yields several candidates a
//! [`Planner`] (either [`Mode`], arbitrary attempt timeout, local port and block list) is
//! driven with arbitrary bind/connect answers, stale answers, timings and `cancel`, and
//! [`run_planner_ops`] checks after every step:
//!
//! * candidates: valid IPs of family 4/6, no duplicate per family, families interleaved
//!   starting with the first valid entry's;
//! * actions: `Bind` (only with a local port) before its `Connect`; `ConnectionAttempt`
//!   right before each `Connect`, in candidate order, each candidate at most once; ids
//!   fresh; `Abort` only for a live attempt; NodeCompat never has two attempts live;
//! * outcome: exactly one `Connected`/`Failed` (none after `cancel`), last, with no live
//!   attempt left behind; `Failed` aggregates every recorded error (code of the first, or
//!   `ERR_SOCKET_CONNECTION_TIMEOUT`); `attempted_addresses` lists every attempt;
//! * time: a handled deadline is not due again at the same instant; answers for
//!   attempts that are no longer live change nothing;
//! * liveness: failing every live attempt and running every timer always ends the plan.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;

use nodenet_core::happy_eyeballs::{
    sort_candidates, Action, Candidate, Candidates, Mode, Planner, PlannerOptions,
};
use nodenet_core::{AttemptId, BlockList, ErrorCode, LookupAddress};

/// One entry of the fuzzed lookup result.
#[derive(Arbitrary, Clone, Debug)]
pub enum Entry {
    /// `127.0.0.n`, family 4.
    V4(u8),
    /// `::n`, family 6.
    V6(u8),
    /// `fe80::n%eth0` (a zone), family 6.
    Zoned(u8),
    /// Arbitrary text and family.
    Raw(String, u32),
}

/// One step.
#[derive(Arbitrary, Clone, Debug)]
pub enum PlannerOp {
    /// A live attempt's bind answers.
    Bound(u8, Option<Code>),
    /// A live attempt's connect answers.
    Result(u8, Option<Code>),
    /// An answer for an id that is not live.
    Stale(u8, bool),
    /// Time passes by `ms`; a due deadline is handled.
    Advance(u16),
    /// Jump to the deadline and handle it.
    Timeout,
    /// `handle_timeout` before the deadline (must change nothing).
    EarlyTimeout,
    /// The socket is destroyed.
    Cancel,
}

/// Connect/bind failure codes.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Code {
    /// `ECONNREFUSED`.
    Refused,
    /// `ENETUNREACH`.
    NetUnreach,
    /// `EADDRINUSE`.
    AddrInUse,
    /// `ECANCELED`.
    Canceled,
    /// `ETIMEDOUT`.
    TimedOut,
}

impl Code {
    fn code(self) -> ErrorCode {
        match self {
            Code::Refused => ErrorCode::ECONNREFUSED,
            Code::NetUnreach => ErrorCode::ENETUNREACH,
            Code::AddrInUse => ErrorCode::EADDRINUSE,
            Code::Canceled => ErrorCode::ECANCELED,
            Code::TimedOut => ErrorCode::ETIMEDOUT,
        }
    }
}

/// The run's configuration and lookup result.
#[derive(Arbitrary, Clone, Debug)]
pub struct PlannerConfig {
    /// RFC 8305 instead of NodeCompat.
    pub rfc8305: bool,
    /// Port to connect on.
    pub port: u16,
    /// Attempt timeout in ms (values under 10 count as 10).
    pub attempt_timeout_ms: u16,
    /// `localPort`.
    pub local_port: Option<u16>,
    /// Block `127.0.0.n` for n below this.
    pub block_below: Option<u8>,
    /// The lookup result.
    pub entries: Vec<Entry>,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Phase {
    Binding,
    Connecting,
}

struct Run {
    p: Planner,
    mode: Mode,
    local_port: bool,
    candidates: Vec<Candidate>,
    now: Instant,
    live: Vec<(AttemptId, Phase, usize)>,
    seen_ids: HashSet<AttemptId>,
    next_candidate: usize,
    announced: Option<usize>,
    attempted: Vec<String>,
    failures: usize,
    bind_failures: usize,
    outcome: bool,
    cancelled: bool,
    trace: Vec<String>,
}

impl Run {
    fn fail(&self, what: &str) -> ! {
        panic!("{what}\ntrace:\n{}", self.trace.join("\n"))
    }

    fn check(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }

    fn index_of(&self, ip: &str, family: u8) -> usize {
        match self
            .candidates
            .iter()
            .position(|c| c.ip == ip && c.family == family)
        {
            Some(i) => i,
            None => self.fail("action names an unknown candidate"),
        }
    }

    fn drain(&mut self) {
        while let Some(a) = self.p.poll_action() {
            self.trace.push(format!("  {a:?}"));
            self.check(!self.outcome, "an action after the outcome");
            match a {
                Action::Bind { id, family, .. } => {
                    self.check(self.local_port, "Bind without a local port");
                    let fresh = self.seen_ids.insert(id);
                    self.check(fresh, "Bind reuses an id");
                    let index = self.next_candidate;
                    self.check(
                        index < self.candidates.len(),
                        "Bind past the last candidate",
                    );
                    self.check(self.candidates[index].family == family, "Bind family");
                    self.next_candidate += 1;
                    self.live.push((id, Phase::Binding, index));
                }
                Action::ConnectionAttempt { ip, port, family } => {
                    let index = self.index_of(&ip, family);
                    self.check(self.announced.is_none(), "two ConnectionAttempts in a row");
                    self.attempted.push(format!("{ip}:{port}"));
                    self.announced = Some(index);
                }
                Action::Connect { id, ip, family, .. } => {
                    let index = self.index_of(&ip, family);
                    let announced = self.announced.take();
                    self.check(
                        announced == Some(index),
                        "Connect without its ConnectionAttempt",
                    );
                    if let Some(pos) = self.live.iter().position(|l| l.0 == id) {
                        self.check(self.local_port, "Connect reuses an id");
                        self.check(
                            self.live[pos] == (id, Phase::Binding, index),
                            "Connect after Bind of another candidate",
                        );
                        self.live[pos].1 = Phase::Connecting;
                    } else {
                        self.check(!self.local_port, "Connect without its Bind");
                        let fresh = self.seen_ids.insert(id);
                        self.check(fresh, "Connect reuses an id");
                        self.check(index == self.next_candidate, "candidates out of order");
                        self.next_candidate += 1;
                        self.live.push((id, Phase::Connecting, index));
                    }
                    if self.mode == Mode::NodeCompat {
                        self.check(self.live.len() == 1, "NodeCompat with two live attempts");
                    }
                }
                Action::Abort { id } => {
                    let pos = self.live.iter().position(|l| l.0 == id);
                    let Some(pos) = pos else {
                        self.fail("Abort of an attempt that is not live");
                    };
                    self.live.remove(pos);
                }
                Action::ConnectionAttemptFailed { ip, family, .. } => {
                    // A candidate that fails before any IO (blocked, no local port) is
                    // skipped without a Connect.
                    if self.index_of(&ip, family) == self.next_candidate {
                        self.next_candidate += 1;
                    }
                    self.failures += 1;
                }
                Action::ConnectionAttemptTimeout { .. } => self.failures += 1,
                Action::Connected { id, .. } => {
                    self.check(!self.cancelled, "an outcome after cancel");
                    let pos = self
                        .live
                        .iter()
                        .position(|l| l.0 == id && l.1 == Phase::Connecting);
                    self.check(pos.is_some(), "Connected for an attempt not connecting");
                    self.check(
                        self.live.len() == 1,
                        "Connected with other attempts still live",
                    );
                    self.live.clear();
                    self.outcome = true;
                }
                Action::Failed(err) => {
                    self.check(!self.cancelled, "an outcome after cancel");
                    self.check(self.live.is_empty(), "Failed with attempts still live");
                    let recorded = self.p.errors();
                    self.check(
                        err.errors() == recorded,
                        "Failed does not aggregate the errors",
                    );
                    let want = recorded
                        .first()
                        .map_or(ErrorCode::ERR_SOCKET_CONNECTION_TIMEOUT, |e| e.code());
                    self.check(err.code() == want, "Failed code is not the first error's");
                    self.outcome = true;
                }
            }
        }
        self.check(
            self.announced.is_none(),
            "ConnectionAttempt without its Connect",
        );
        self.check(
            self.p.errors().len() == self.failures + self.bind_failures,
            "recorded errors disagree with failure events and failed binds",
        );
        if self.cancelled {
            self.check(self.live.is_empty(), "attempts live after cancel");
        }
        self.check(
            self.p.attempted_addresses() == self.attempted.as_slice(),
            "attempted_addresses disagrees with ConnectionAttempt events",
        );
        if self.outcome || self.cancelled {
            self.check(self.p.is_finished(), "outcome but not finished");
            self.check(self.p.poll_timeout().is_none(), "a timer after the outcome");
        }
    }

    fn live_id(&self, i: u8, phase: Phase) -> Option<AttemptId> {
        let of_phase: Vec<AttemptId> = self
            .live
            .iter()
            .filter(|l| l.1 == phase)
            .map(|l| l.0)
            .collect();
        if of_phase.is_empty() {
            None
        } else {
            of_phase.get(usize::from(i) % of_phase.len()).copied()
        }
    }

    fn handle_due(&mut self) {
        if let Some(t) = self.p.poll_timeout() {
            if t <= self.now {
                self.p.handle_timeout(self.now);
                if let Some(next) = self.p.poll_timeout() {
                    self.check(next > self.now, "deadline still due after handle_timeout");
                }
            }
        }
    }

    fn apply(&mut self, op: PlannerOp) {
        self.trace.push(format!("{op:?}"));
        let now = self.now;
        match op {
            PlannerOp::Bound(i, code) => {
                if let Some(id) = self.live_id(i, Phase::Binding) {
                    if code.is_some() {
                        self.live.retain(|l| l.0 != id);
                        self.bind_failures += 1;
                    }
                    self.p
                        .handle_attempt_bound(id, code.map(Code::code).map_or(Ok(()), Err), now);
                }
            }
            PlannerOp::Result(i, code) => {
                if let Some(id) = self.live_id(i, Phase::Connecting) {
                    if code.is_some() {
                        self.live.retain(|l| l.0 != id);
                    }
                    self.p
                        .handle_attempt_result(id, code.map(Code::code).map_or(Ok(()), Err), now);
                }
            }
            PlannerOp::Stale(i, bind) => {
                let dead: Vec<AttemptId> = self
                    .seen_ids
                    .iter()
                    .filter(|id| !self.live.iter().any(|l| l.0 == **id))
                    .copied()
                    .collect();
                let id = if dead.is_empty() {
                    AttemptId(u64::MAX - u64::from(i))
                } else {
                    let mut dead = dead;
                    dead.sort();
                    dead[usize::from(i) % dead.len()]
                };
                if bind {
                    self.p.handle_attempt_bound(id, Ok(()), now);
                } else {
                    self.p.handle_attempt_result(id, Ok(()), now);
                }
                if let Some(a) = self.p.poll_action() {
                    self.fail(&format!("stale answer produced {a:?}"));
                }
            }
            PlannerOp::Advance(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.handle_due();
            }
            PlannerOp::Timeout => {
                if let Some(t) = self.p.poll_timeout() {
                    self.now = self.now.max(t);
                }
                self.handle_due();
            }
            PlannerOp::EarlyTimeout => {
                if let Some(t) = self.p.poll_timeout() {
                    if t > self.now {
                        self.p.handle_timeout(self.now);
                        if let Some(a) = self.p.poll_action() {
                            self.fail(&format!("early timeout produced {a:?}"));
                        }
                    }
                }
            }
            PlannerOp::Cancel => {
                if !self.p.is_finished() {
                    self.cancelled = true;
                }
                self.p.cancel(now);
            }
        }
        self.drain();
    }

    /// Liveness: fail everything live and run every timer until the plan ends.
    fn finish(&mut self) {
        self.trace.push("finish".into());
        for _ in 0..(self.candidates.len() * 4 + 8) {
            if self.p.is_finished() {
                break;
            }
            if let Some(id) = self.live_id(0, Phase::Binding) {
                self.live.retain(|l| l.0 != id);
                self.bind_failures += 1;
                self.p
                    .handle_attempt_bound(id, Err(ErrorCode::EADDRINUSE), self.now);
            } else if let Some(id) = self.live_id(0, Phase::Connecting) {
                self.live.retain(|l| l.0 != id);
                self.p
                    .handle_attempt_result(id, Err(ErrorCode::ECONNREFUSED), self.now);
            } else if let Some(t) = self.p.poll_timeout() {
                self.now = self.now.max(t);
                self.handle_due();
            }
            self.drain();
        }
        self.check(self.p.is_finished(), "the plan never ended");
        self.check(
            self.outcome || self.cancelled,
            "finished without an outcome",
        );
        self.check(self.live.is_empty(), "attempts live after the plan ended");
    }
}

fn entry(e: &Entry) -> LookupAddress {
    match e {
        Entry::V4(n) => LookupAddress::new(format!("127.0.0.{n}"), 4),
        Entry::V6(n) => LookupAddress::new(format!("::{n:x}"), 6),
        Entry::Zoned(n) => LookupAddress::new(format!("fe80::{n:x}%eth0"), 6),
        Entry::Raw(s, f) => LookupAddress::new(s.clone(), *f),
    }
}

/// `sort_candidates`' output obeys §5.3 steps 2–4 for `entries`.
fn check_candidates(entries: &[LookupAddress], list: &[Candidate]) {
    let valid: Vec<&LookupAddress> = entries
        .iter()
        .filter(|e| nodenet_core::is_ip(&e.address) != 0 && (e.family == 4 || e.family == 6))
        .collect();
    let mut seen = HashSet::new();
    for c in list {
        assert!(c.family == 4 || c.family == 6, "candidate family {c:?}");
        assert!(nodenet_core::is_ip(&c.ip) != 0, "candidate not an IP {c:?}");
        assert!(
            seen.insert((c.ip.clone(), c.family)),
            "duplicate candidate {c:?}"
        );
        assert!(
            valid
                .iter()
                .any(|e| e.address == c.ip && e.family == u32::from(c.family)),
            "candidate not from the lookup {c:?}"
        );
    }
    if let (Some(first), Some(c0)) = (valid.first(), list.first()) {
        assert_eq!(u32::from(c0.family), first.family, "first family");
    }
    // Interleaved: the families alternate until one runs out.
    let fams: Vec<u8> = list.iter().map(|c| c.family).collect();
    let other = fams.iter().filter(|f| **f != fams[0]).count();
    let pairs = other.min(fams.len() - other);
    for (i, f) in fams.iter().enumerate().take(pairs * 2) {
        assert_eq!(
            *f == fams[0],
            i % 2 == 0,
            "families not interleaved: {fams:?}"
        );
    }
}

/// Decode a configuration and up to 200 operations from fuzzer bytes and run them.
pub fn check_planner_ops(data: &[u8]) {
    let Some((config, ops)) = super::config_and_ops::<PlannerConfig, PlannerOp>(data) else {
        return;
    };
    run_planner_ops(&config, &ops);
}

/// Sort the lookup result and, with several candidates, run `ops` on a [`Planner`],
/// panicking (with the trace) on the first broken invariant.
pub fn run_planner_ops(config: &PlannerConfig, ops: &[PlannerOp]) {
    let entries: Vec<LookupAddress> = config.entries.iter().take(16).map(entry).collect();
    let list = match sort_candidates(&entries, "example.test", config.port) {
        Err(e) => {
            assert!(
                matches!(
                    e.code(),
                    ErrorCode::ERR_INVALID_IP_ADDRESS
                        | ErrorCode::ERR_INVALID_ADDRESS_FAMILY
                        | ErrorCode::ENOTFOUND
                ),
                "sort_candidates error {e:?}"
            );
            return;
        }
        Ok(Candidates::Single(c)) => {
            check_candidates(&entries, std::slice::from_ref(&c));
            return;
        }
        Ok(Candidates::Multiple(list)) => {
            assert!(list.len() >= 2, "Multiple with {} candidates", list.len());
            check_candidates(&entries, &list);
            list
        }
    };
    let mode = if config.rfc8305 {
        Mode::Rfc8305
    } else {
        Mode::NodeCompat
    };
    let mut options = PlannerOptions::new(config.port);
    options.mode = mode;
    options.attempt_timeout_ms = u32::from(config.attempt_timeout_ms);
    options.local_port = config.local_port;
    options.first_attempt_id = AttemptId(7);
    if let Some(below) = config.block_below {
        let mut bl = BlockList::new();
        let _ = bl.add_range("127.0.0.0", format!("127.0.0.{below}").as_str(), "ipv4");
        options.block_list = Some(Arc::new(bl));
    }
    let now = Instant::now();
    let mut run = Run {
        p: Planner::start(options, list.clone(), now),
        mode,
        local_port: config.local_port.is_some_and(|p| p != 0),
        candidates: list,
        now,
        live: Vec::new(),
        seen_ids: HashSet::new(),
        next_candidate: 0,
        announced: None,
        attempted: Vec::new(),
        failures: 0,
        bind_failures: 0,
        outcome: false,
        cancelled: false,
        trace: vec![format!("{config:?}")],
    };
    run.drain();
    for op in ops {
        run.apply(op.clone());
    }
    run.finish();
}
