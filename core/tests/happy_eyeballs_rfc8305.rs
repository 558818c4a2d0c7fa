//! Transcript tests for the Rfc8305 planner (beyond Node): staggered attempts that keep
//! racing, the next attempt at once on failure, first success wins, the rest aborted.

use std::time::{Duration, Instant};

use nodenet_core::happy_eyeballs::{Action, Candidate, Mode, Planner, PlannerOptions};
use nodenet_core::{AttemptId, ErrorCode};

const P: u16 = 443;

fn drain(p: &mut Planner) -> Vec<Action> {
    std::iter::from_fn(|| p.poll_action()).collect()
}

fn rfc(delay_ms: u32) -> PlannerOptions {
    PlannerOptions {
        mode: Mode::Rfc8305,
        attempt_timeout_ms: delay_ms,
        ..PlannerOptions::new(P)
    }
}

fn three() -> Vec<Candidate> {
    vec![
        Candidate::new("2001:db8::1", 6),
        Candidate::new("192.0.2.1", 4),
        Candidate::new("2001:db8::2", 6),
    ]
}

fn connects(actions: &[Action]) -> Vec<u64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Connect { id, .. } => Some(id.0),
            _ => None,
        })
        .collect()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn attempts_are_staggered_and_keep_running() {
    let t0 = Instant::now();
    let mut p = Planner::start(rfc(250), three(), t0);
    assert_eq!(connects(&drain(&mut p)), [1]);
    assert_eq!(p.poll_timeout(), Some(t0 + ms(250)));
    p.handle_timeout(t0 + ms(250));
    let a = drain(&mut p);
    // No abort and no timeout event: the first attempt keeps running.
    assert_eq!(
        a,
        [
            Action::ConnectionAttempt {
                ip: "192.0.2.1".into(),
                port: P,
                family: 4
            },
            Action::Connect {
                id: AttemptId(2),
                ip: "192.0.2.1".into(),
                port: P,
                family: 4
            }
        ]
    );
    assert_eq!(p.poll_timeout(), Some(t0 + ms(500)));
    p.handle_timeout(t0 + ms(500));
    assert_eq!(connects(&drain(&mut p)), [3]);
    // All candidates started: no more timer.
    assert_eq!(p.poll_timeout(), None);
    // The second one wins; the others are aborted, the outcome comes last.
    p.handle_attempt_result(AttemptId(2), Ok(()), t0 + ms(600));
    assert_eq!(
        drain(&mut p),
        [
            Action::Abort { id: AttemptId(1) },
            Action::Abort { id: AttemptId(3) },
            Action::Connected {
                id: AttemptId(2),
                ip: "192.0.2.1".into(),
                port: P,
                family: 4
            }
        ]
    );
    assert_eq!(
        p.attempted_addresses(),
        ["2001:db8::1:443", "192.0.2.1:443", "2001:db8::2:443"]
    );
    // A later success of an aborted attempt is ignored.
    p.handle_attempt_result(AttemptId(1), Ok(()), t0 + ms(601));
    assert_eq!(drain(&mut p), []);
}

#[test]
fn a_failure_starts_the_next_attempt_at_once() {
    let t0 = Instant::now();
    let mut p = Planner::start(rfc(250), three(), t0);
    drain(&mut p);
    p.handle_attempt_result(AttemptId(1), Err(ErrorCode::ENETUNREACH), t0 + ms(5));
    let a = drain(&mut p);
    assert!(matches!(a[0], Action::ConnectionAttemptFailed { .. }));
    assert_eq!(connects(&a), [2]);
    // The stagger delay restarts from the new attempt.
    assert_eq!(p.poll_timeout(), Some(t0 + ms(255)));
}

#[test]
fn all_failures_are_aggregated_in_completion_order() {
    let t0 = Instant::now();
    let mut p = Planner::start(rfc(100), three(), t0);
    drain(&mut p);
    p.handle_timeout(t0 + ms(100));
    p.handle_timeout(t0 + ms(200));
    assert_eq!(connects(&drain(&mut p)), [2, 3]);
    p.handle_attempt_result(AttemptId(3), Err(ErrorCode::ECONNREFUSED), t0 + ms(210));
    p.handle_attempt_result(AttemptId(1), Err(ErrorCode::ETIMEDOUT), t0 + ms(220));
    // Still one running: no outcome yet.
    assert!(!drain(&mut p).iter().any(|a| matches!(a, Action::Failed(_))));
    p.handle_attempt_result(AttemptId(2), Err(ErrorCode::EHOSTUNREACH), t0 + ms(230));
    let a = drain(&mut p);
    let Some(Action::Failed(err)) = a.last() else {
        panic!("{a:?}")
    };
    assert_eq!(err.code(), ErrorCode::ECONNREFUSED);
    let messages: Vec<&str> = err.errors().iter().map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "connect ECONNREFUSED 2001:db8::2:443",
            "connect ETIMEDOUT 2001:db8::1:443",
            "connect EHOSTUNREACH 192.0.2.1:443"
        ]
    );
}

#[test]
fn cancel_aborts_every_live_attempt() {
    let t0 = Instant::now();
    let mut p = Planner::start(rfc(50), three(), t0);
    p.handle_timeout(t0 + ms(50));
    drain(&mut p);
    p.cancel(t0 + ms(60));
    let a = drain(&mut p);
    let aborted: Vec<u64> = a
        .iter()
        .filter_map(|a| match a {
            Action::Abort { id } => Some(id.0),
            _ => None,
        })
        .collect();
    assert_eq!(aborted, [1, 2]);
    assert!(!a
        .iter()
        .any(|a| matches!(a, Action::Failed(_) | Action::Connected { .. })));
    assert_eq!(p.poll_timeout(), None);
}
