//! Property tests for the planner: random lookups and random interleavings of completions,
//! timers and cancels, checked against the invariants of §5.3 and RFC 8305.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use nodenet_core::happy_eyeballs::{
    sort_candidates, Action, Candidate, Candidates, Mode, Planner, PlannerOptions,
};
use nodenet_core::{AttemptId, ErrorCode, LookupAddress};
use proptest::prelude::*;

const POOL: [(&str, u32); 8] = [
    ("127.0.0.1", 4),
    ("127.0.0.2", 4),
    ("10.0.0.1", 4),
    ("::1", 6),
    ("2001:db8::1", 6),
    ("fe80::1", 6),
    ("notanip", 4),
    ("127.0.0.3", 5),
];

fn entries() -> impl Strategy<Value = Vec<LookupAddress>> {
    prop::collection::vec(0..POOL.len(), 0..10).prop_map(|ix| {
        ix.into_iter()
            .map(|i| LookupAddress::new(POOL[i].0, POOL[i].1))
            .collect()
    })
}

/// The straightforward reading of §5.3 steps 2–4.
fn reference_order(list: &[LookupAddress]) -> Vec<Candidate> {
    let valid: Vec<&LookupAddress> = list
        .iter()
        .filter(|e| e.address != "notanip" && (e.family == 4 || e.family == 6))
        .collect();
    let Some(first) = valid.first() else {
        return vec![];
    };
    let mut groups = [Vec::<Candidate>::new(), Vec::new()];
    for e in &valid {
        let g = &mut groups[usize::from(e.family != first.family)];
        if !g.iter().any(|c| c.ip == e.address) {
            g.push(Candidate::new(e.address.clone(), e.family as u8));
        }
    }
    let mut out = vec![];
    for i in 0..groups[0].len().max(groups[1].len()) {
        out.extend(groups[0].get(i).cloned());
        out.extend(groups[1].get(i).cloned());
    }
    out
}

#[derive(Clone, Debug)]
enum Op {
    /// Answer the `pick`-th id ever issued (maybe stale) with success or a failure.
    Result { pick: usize, ok: bool },
    /// Answer a bind.
    Bound { pick: usize, ok: bool },
    /// Let time pass and fire the timer if due.
    Advance(u64),
    /// Destroy the socket.
    Cancel,
    /// (Tail only) make progress towards the end: fail or bind the oldest live attempt.
    Drive,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..8usize, any::<bool>()).prop_map(|(pick, ok)| Op::Result { pick, ok }),
        2 => (0..8usize, prop::bool::weighted(0.8)).prop_map(|(pick, ok)| Op::Bound { pick, ok }),
        4 => (0..400u64).prop_map(Op::Advance),
        1 => Just(Op::Cancel),
    ];
    prop::collection::vec(op, 0..40)
}

/// What the test knows from the actions alone.
#[derive(Default, Debug)]
struct Model {
    issued: Vec<AttemptId>,
    binding: HashSet<AttemptId>,
    connecting: HashSet<AttemptId>,
    connect_ips: Vec<String>,
    outcomes: usize,
    connected: Option<AttemptId>,
    finished: bool,
    bind_failed: bool,
}

impl Model {
    fn live(&self) -> usize {
        self.binding.len() + self.connecting.len()
    }

    /// Apply one drained batch, checking the per-action invariants.
    fn apply(&mut self, batch: &[Action], mode: Mode) -> Result<(), TestCaseError> {
        let before: HashSet<AttemptId> = self.binding.union(&self.connecting).copied().collect();
        let mut aborted = HashSet::new();
        for a in batch {
            prop_assert!(!self.finished, "action {a:?} after the outcome");
            match a {
                Action::Bind { id, .. } => {
                    prop_assert!(!self.issued.contains(id));
                    self.issued.push(*id);
                    self.binding.insert(*id);
                }
                Action::Connect { id, ip, .. } => {
                    if !self.binding.remove(id) {
                        prop_assert!(!self.issued.contains(id));
                        self.issued.push(*id);
                    }
                    self.connecting.insert(*id);
                    self.connect_ips.push(ip.clone());
                }
                Action::Abort { id } => {
                    let was_live = self.binding.remove(id) | self.connecting.remove(id);
                    prop_assert!(was_live, "abort of a dead attempt {id:?}");
                    aborted.insert(*id);
                }
                Action::Connected { id, .. } => {
                    prop_assert!(self.connecting.remove(id) || before.contains(id));
                    self.outcomes += 1;
                    self.connected = Some(*id);
                    self.finished = true;
                    // Every other attempt that was live is aborted before the outcome.
                    let others: HashSet<AttemptId> =
                        before.iter().copied().filter(|x| x != id).collect();
                    for o in &others {
                        prop_assert!(
                            aborted.contains(o) || !self.issued.contains(o),
                            "live attempt {o:?} not aborted"
                        );
                    }
                    prop_assert_eq!(self.live(), 0);
                }
                Action::Failed(_) => {
                    self.outcomes += 1;
                    self.finished = true;
                    prop_assert_eq!(self.live(), 0);
                }
                _ => {}
            }
            if mode == Mode::NodeCompat {
                prop_assert!(self.live() <= 1, "{} live attempts", self.live());
            }
        }
        Ok(())
    }
}

fn drain(p: &mut Planner) -> Vec<Action> {
    std::iter::from_fn(|| p.poll_action()).collect()
}

fn run(
    mode: Mode,
    list: Vec<Candidate>,
    local_port: Option<u16>,
    script: Vec<Op>,
) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut now = t0;
    let opts = PlannerOptions {
        mode,
        local_port,
        attempt_timeout_ms: 100,
        ..PlannerOptions::new(80)
    };
    let mut p = Planner::start(opts, list.clone(), now);
    let mut m = Model::default();
    m.apply(&drain(&mut p), mode)?;
    let mut canceled = false;
    let script_len = script.len();
    // The script, then a tail that fails whatever is live until the planner ends.
    let tail = std::iter::repeat_n(Op::Drive, 200);
    for (step, op) in script.into_iter().chain(tail).enumerate() {
        if m.finished && step >= script_len {
            break;
        }
        let pick =
            |pick: usize, issued: &[AttemptId]| issued.get(pick % issued.len().max(1)).copied();
        match op {
            Op::Drive => {
                // Fail the oldest connecting attempt, or let the oldest bind succeed.
                if let Some(id) = m.connecting.iter().min().copied() {
                    p.handle_attempt_result(id, Err(ErrorCode::ECONNREFUSED), now);
                    m.connecting.remove(&id);
                } else if let Some(id) = m.binding.iter().min().copied() {
                    p.handle_attempt_bound(id, Ok(()), now);
                } else {
                    now += Duration::from_millis(1000);
                    p.handle_timeout(now);
                }
                let batch = drain(&mut p);
                m.apply(&batch, mode)?;
            }
            Op::Result { pick: k, ok } => {
                let Some(id) = pick(k, &m.issued) else {
                    continue;
                };
                let live = m.connecting.contains(&id) && !m.finished;
                let code = if ok {
                    Ok(())
                } else {
                    Err(ErrorCode::ECONNREFUSED)
                };
                p.handle_attempt_result(id, code, now);
                let batch = drain(&mut p);
                if live {
                    // A winner stays live until its `Connected` is applied.
                    if !ok {
                        m.connecting.remove(&id);
                    }
                } else {
                    prop_assert!(
                        batch.is_empty(),
                        "stale answer for {id:?} produced {batch:?}"
                    );
                }
                m.apply(&batch, mode)?;
            }
            Op::Bound { pick: k, ok } => {
                let Some(id) = pick(k, &m.issued) else {
                    continue;
                };
                let live = m.binding.contains(&id) && !m.finished;
                let result = if ok {
                    Ok(())
                } else {
                    Err(ErrorCode::EADDRINUSE)
                };
                p.handle_attempt_bound(id, result, now);
                let batch = drain(&mut p);
                if live && !ok {
                    m.bind_failed = true;
                    m.binding.remove(&id);
                }
                if !live {
                    prop_assert!(batch.is_empty(), "stale bind answer produced {batch:?}");
                }
                m.apply(&batch, mode)?;
            }
            Op::Advance(ms) => {
                now += Duration::from_millis(ms);
                if let Some(deadline) = p.poll_timeout() {
                    prop_assert!(!m.finished);
                    if now >= deadline {
                        p.handle_timeout(now);
                    }
                } else {
                    p.handle_timeout(now);
                }
                let batch = drain(&mut p);
                m.apply(&batch, mode)?;
            }
            Op::Cancel => {
                let was_finished = m.finished;
                let live_before: HashSet<AttemptId> =
                    m.binding.union(&m.connecting).copied().collect();
                p.cancel(now);
                let batch = drain(&mut p);
                if was_finished {
                    prop_assert!(batch.is_empty());
                } else {
                    for id in &live_before {
                        let abort = Action::Abort { id: *id };
                        prop_assert!(batch.contains(&abort), "{id:?} not aborted");
                    }
                    m.apply(&batch, mode)?;
                    m.binding.clear();
                    m.connecting.clear();
                    m.finished = true;
                    canceled = true;
                }
            }
        }
    }
    prop_assert!(m.finished, "planner never finished");
    prop_assert!(m.outcomes <= 1);
    if !canceled {
        prop_assert_eq!(m.outcomes, 1);
    }
    // Attempts follow the candidate order: a prefix, or a subsequence when binds failed.
    // In RFC 8305 mode several binds can be outstanding at once, and each connect starts
    // when its bind is answered, so there the order is the answers' order: check only
    // that every connect is a distinct candidate.
    let order: Vec<&str> = list.iter().map(|c| c.ip.as_str()).collect();
    if mode == Mode::NodeCompat || local_port.is_none() {
        let mut rest = order.iter();
        for ip in &m.connect_ips {
            prop_assert!(rest.any(|o| o == ip), "{ip} out of order in {order:?}");
        }
    } else {
        let mut seen = HashSet::new();
        for ip in &m.connect_ips {
            prop_assert!(order.contains(&ip.as_str()), "{ip} is not a candidate");
            prop_assert!(seen.insert(ip.clone()), "{ip} attempted twice");
        }
    }
    if !m.bind_failed && mode == Mode::NodeCompat {
        prop_assert_eq!(&m.connect_ips[..], &order[..m.connect_ips.len()]);
    }
    prop_assert_eq!(p.attempted_addresses().len(), m.connect_ips.len());
    // Nothing more, ever.
    p.handle_timeout(now + Duration::from_secs(3600));
    for id in m.issued.clone() {
        p.handle_attempt_result(id, Ok(()), now);
        p.handle_attempt_bound(id, Ok(()), now);
    }
    prop_assert_eq!(drain(&mut p), vec![]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sort_matches_the_reference(list in entries()) {
        let expected = reference_order(&list);
        match sort_candidates(&list, "h", 80) {
            Ok(Candidates::Multiple(got)) => {
                prop_assert!(got.len() >= 2);
                prop_assert_eq!(got, expected);
            }
            Ok(Candidates::Single(c)) => prop_assert_eq!(vec![c], expected),
            Err(_) => prop_assert!(expected.is_empty()),
        }
    }

    #[test]
    fn node_compat_invariants(list in entries(), script in ops(), local in prop::option::of(Just(5000u16))) {
        if let Ok(Candidates::Multiple(c)) = sort_candidates(&list, "h", 80) {
            run(Mode::NodeCompat, c, local, script)?;
        }
    }

    #[test]
    fn rfc8305_invariants(list in entries(), script in ops(), local in prop::option::of(Just(5000u16))) {
        if let Ok(Candidates::Multiple(c)) = sort_candidates(&list, "h", 80) {
            run(Mode::Rfc8305, c, local, script)?;
        }
    }
}
