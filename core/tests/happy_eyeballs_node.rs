//! Transcript tests for the NodeCompat planner: every §5 test vector that concerns the
//! algorithm, input then the exact actions expected.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nodenet_core::happy_eyeballs::{
    attempt_timeout_option, sort_candidates, uses_auto_select_family, Action, Candidate,
    Candidates, Mode, Planner, PlannerOptions,
};
use nodenet_core::{AttemptId, BlockList, ErrorClass, ErrorCode, LookupAddress};

const P: u16 = 8124;

fn drain(p: &mut Planner) -> Vec<Action> {
    std::iter::from_fn(|| p.poll_action()).collect()
}

fn lookup(entries: &[(&str, u32)]) -> Vec<LookupAddress> {
    entries
        .iter()
        .map(|(a, f)| LookupAddress::new(*a, *f))
        .collect()
}

fn multiple(entries: &[(&str, u32)]) -> Vec<Candidate> {
    match sort_candidates(&lookup(entries), "example.test", P).unwrap() {
        Candidates::Multiple(list) => list,
        other => panic!("expected several candidates, got {other:?}"),
    }
}

fn opts(timeout_ms: u32) -> PlannerOptions {
    PlannerOptions {
        attempt_timeout_ms: timeout_ms,
        ..PlannerOptions::new(P)
    }
}

fn attempt(ip: &str, family: u8) -> Action {
    Action::ConnectionAttempt {
        ip: ip.into(),
        port: P,
        family,
    }
}

fn connect(id: u64, ip: &str, family: u8) -> Action {
    Action::Connect {
        id: AttemptId(id),
        ip: ip.into(),
        port: P,
        family,
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn all_refused_interleaves_dedups_and_aggregates() {
    // lookup → [127.0.0.1/4, 127.0.0.2/4, ::1/6, 127.0.0.1/4], all refused.
    let t0 = Instant::now();
    let list = multiple(&[
        ("127.0.0.1", 4),
        ("127.0.0.2", 4),
        ("::1", 6),
        ("127.0.0.1", 4),
    ]);
    let mut p = Planner::start(opts(250), list, t0);
    assert_eq!(
        drain(&mut p),
        [attempt("127.0.0.1", 4), connect(1, "127.0.0.1", 4)]
    );
    assert_eq!(p.poll_timeout(), Some(t0 + ms(250)));
    p.handle_attempt_result(AttemptId(1), Err(ErrorCode::ECONNREFUSED), t0 + ms(1));
    let a = drain(&mut p);
    let Action::ConnectionAttemptFailed { ip, error, .. } = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!(ip, "127.0.0.1");
    assert_eq!(error.message(), "connect ECONNREFUSED 127.0.0.1:8124");
    assert_eq!(&a[1..], [attempt("::1", 6), connect(2, "::1", 6)]);
    // A fresh timer for the new attempt.
    assert_eq!(p.poll_timeout(), Some(t0 + ms(251)));
    p.handle_attempt_result(AttemptId(2), Err(ErrorCode::ECONNREFUSED), t0 + ms(2));
    let a = drain(&mut p);
    assert_eq!(
        &a[1..],
        [attempt("127.0.0.2", 4), connect(3, "127.0.0.2", 4)]
    );
    // Last candidate: no attempt timer.
    assert_eq!(p.poll_timeout(), None);
    p.handle_attempt_result(AttemptId(3), Err(ErrorCode::ECONNREFUSED), t0 + ms(3));
    let a = drain(&mut p);
    assert_eq!(a.len(), 2, "{a:?}");
    let Action::Failed(err) = &a[1] else {
        panic!("{a:?}")
    };
    assert_eq!(err.class(), ErrorClass::AggregateError);
    assert_eq!(err.code(), ErrorCode::ECONNREFUSED);
    assert_eq!(err.message(), "");
    let messages: Vec<&str> = err.errors().iter().map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "connect ECONNREFUSED 127.0.0.1:8124",
            "connect ECONNREFUSED ::1:8124",
            "connect ECONNREFUSED 127.0.0.2:8124"
        ]
    );
    assert_eq!(
        p.attempted_addresses(),
        ["127.0.0.1:8124", "::1:8124", "127.0.0.2:8124"]
    );
    assert!(p.is_finished());
}

#[test]
fn ipv6_first_when_the_first_valid_entry_is_ipv6() {
    let list = multiple(&[
        ("::1", 6),
        ("127.0.0.1", 4),
        ("::1", 6),
        ("127.0.0.2", 4),
        ("127.0.0.3", 4),
    ]);
    let ips: Vec<&str> = list.iter().map(|c| c.ip.as_str()).collect();
    assert_eq!(ips, ["::1", "127.0.0.1", "127.0.0.2", "127.0.0.3"]);
}

#[test]
fn invalid_entries_are_dropped_and_decide_nothing() {
    // 'nope' and family 5 are skipped; the first *valid* entry (IPv4) leads.
    let list = multiple(&[
        ("nope", 4),
        ("::2", 5),
        ("10.0.0.1", 4),
        ("::1", 6),
        ("10.0.0.2", 4),
    ]);
    let got: Vec<(&str, u8)> = list.iter().map(|c| (c.ip.as_str(), c.family)).collect();
    assert_eq!(got, [("10.0.0.1", 4), ("::1", 6), ("10.0.0.2", 4)]);
}

#[test]
fn single_candidate_falls_back_to_plain_connect() {
    let r = sort_candidates(
        &lookup(&[("127.0.0.1", 4), ("127.0.0.1", 4), ("bad", 4)]),
        "h",
        P,
    )
    .unwrap();
    assert_eq!(r, Candidates::Single(Candidate::new("127.0.0.1", 4)));
}

#[test]
fn no_valid_entry_errors_like_node() {
    let e = sort_candidates(&lookup(&[("nope", 4)]), "bad.test", 80).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_IP_ADDRESS);
    assert_eq!(e.message(), "Invalid IP address: nope");
    let e = sort_candidates(&lookup(&[("127.0.0.1", 5)]), "bad.test", 80).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_ADDRESS_FAMILY);
    assert_eq!(e.message(), "Invalid address family: 5 bad.test:80");
    assert_eq!(e.class(), ErrorClass::RangeError);
    assert_eq!(e.host(), Some("bad.test"));
    assert_eq!(e.port(), Some(80));
    // Deliberate deviation: Node v20 crashes on an empty answer.
    let e = sort_candidates(&[], "empty.test", 80).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ENOTFOUND);
}

#[test]
fn hanging_first_attempt_times_out_and_second_connects() {
    // [127.0.0.1 (hangs), ::1 (listening)], timeout 100.
    let t0 = Instant::now();
    let mut p = Planner::start(opts(100), multiple(&[("127.0.0.1", 4), ("::1", 6)]), t0);
    assert_eq!(
        drain(&mut p),
        [attempt("127.0.0.1", 4), connect(1, "127.0.0.1", 4)]
    );
    // Early timer calls change nothing.
    p.handle_timeout(t0 + ms(99));
    assert_eq!(drain(&mut p), []);
    p.handle_timeout(t0 + ms(102));
    assert_eq!(
        drain(&mut p),
        [
            Action::ConnectionAttemptTimeout {
                ip: "127.0.0.1".into(),
                port: P,
                family: 4
            },
            Action::Abort { id: AttemptId(1) },
            attempt("::1", 6),
            connect(2, "::1", 6),
        ]
    );
    assert_eq!(p.errors()[0].message(), "connect ETIMEDOUT 127.0.0.1:8124");
    p.handle_attempt_result(AttemptId(2), Ok(()), t0 + ms(104));
    assert_eq!(
        drain(&mut p),
        [Action::Connected {
            id: AttemptId(2),
            ip: "::1".into(),
            port: P,
            family: 6
        }]
    );
    assert_eq!(p.attempted_addresses(), ["127.0.0.1:8124", "::1:8124"]);
    // Late success of the abandoned attempt: ignored.
    p.handle_attempt_result(AttemptId(1), Ok(()), t0 + ms(105));
    p.handle_timeout(t0 + ms(1000));
    assert_eq!(drain(&mut p), []);
}

#[test]
fn first_attempt_connects() {
    let t0 = Instant::now();
    let mut p = Planner::start(opts(250), multiple(&[("::1", 6), ("127.0.0.1", 4)]), t0);
    drain(&mut p);
    p.handle_attempt_result(AttemptId(1), Ok(()), t0 + ms(1));
    assert!(matches!(
        drain(&mut p)[..],
        [Action::Connected {
            id: AttemptId(1),
            ..
        }]
    ));
    assert_eq!(p.attempted_addresses(), ["::1:8124"]);
    assert_eq!(p.poll_timeout(), None);
}

#[test]
fn timeout_then_refused_aggregates_with_etimedout_code() {
    // [127.0.0.1 (hangs), 127.0.0.2 (refused, last)], timeout 100.
    let t0 = Instant::now();
    let mut p = Planner::start(
        opts(100),
        multiple(&[("127.0.0.1", 4), ("127.0.0.2", 4)]),
        t0,
    );
    drain(&mut p);
    p.handle_timeout(t0 + ms(103));
    drain(&mut p);
    p.handle_attempt_result(AttemptId(2), Err(ErrorCode::ECONNREFUSED), t0 + ms(104));
    let a = drain(&mut p);
    let Some(Action::Failed(err)) = a.last() else {
        panic!("{a:?}")
    };
    assert_eq!(err.code(), ErrorCode::ETIMEDOUT);
    let messages: Vec<&str> = err.errors().iter().map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "connect ETIMEDOUT 127.0.0.1:8124",
            "connect ECONNREFUSED 127.0.0.2:8124"
        ]
    );
}

#[test]
fn attempt_timeout_floor_is_10ms_and_default_is_250() {
    let t0 = Instant::now();
    let p = Planner::start(opts(1), multiple(&[("127.0.0.1", 4), ("::1", 6)]), t0);
    assert_eq!(p.poll_timeout(), Some(t0 + ms(10)));
    let p = Planner::start(
        PlannerOptions {
            attempt_timeout_ms: 250,
            ..PlannerOptions::new(P)
        },
        multiple(&[("127.0.0.1", 4), ("::1", 6)]),
        t0,
    );
    assert_eq!(p.poll_timeout(), Some(t0 + ms(250)));
    assert_eq!(attempt_timeout_option(Some(1.into())).unwrap(), 10);
    let e = attempt_timeout_option(Some(0.into())).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_OUT_OF_RANGE);
    assert_eq!(
        e.message(),
        "The value of \"options.autoSelectFamilyAttemptTimeout\" is out of range. \
         It must be >= 1 && <= 2147483647. Received 0"
    );
    let e = attempt_timeout_option(Some(1.5.into())).unwrap_err();
    assert!(e.message().contains("It must be an integer. Received 1.5"));
}

#[test]
fn destroy_during_last_attempt_reports_ecanceled_and_no_outcome() {
    // [refused, hangs (last)]: no timer on the last; destroy → ECANCELED failure event.
    let t0 = Instant::now();
    let mut p = Planner::start(
        opts(250),
        multiple(&[("127.0.0.1", 4), ("127.0.0.2", 4)]),
        t0,
    );
    drain(&mut p);
    p.handle_attempt_result(AttemptId(1), Err(ErrorCode::ECONNREFUSED), t0);
    drain(&mut p);
    assert_eq!(p.poll_timeout(), None);
    p.cancel(t0 + ms(302));
    let a = drain(&mut p);
    assert_eq!(a[0], Action::Abort { id: AttemptId(2) });
    let Action::ConnectionAttemptFailed { ip, error, .. } = &a[1] else {
        panic!("{a:?}")
    };
    assert_eq!(ip, "127.0.0.2");
    assert_eq!(error.message(), "connect ECANCELED 127.0.0.2:8124");
    assert_eq!(a.len(), 2);
    // Nothing after a cancel.
    p.handle_attempt_result(AttemptId(2), Err(ErrorCode::ECONNREFUSED), t0 + ms(303));
    p.cancel(t0 + ms(304));
    assert_eq!(drain(&mut p), []);
}

#[test]
fn ecanceled_from_the_os_ends_with_the_aggregate() {
    let t0 = Instant::now();
    let mut p = Planner::start(
        opts(250),
        multiple(&[("127.0.0.1", 4), ("127.0.0.2", 4), ("127.0.0.3", 4)]),
        t0,
    );
    drain(&mut p);
    p.handle_attempt_result(AttemptId(1), Err(ErrorCode::ECANCELED), t0);
    let a = drain(&mut p);
    assert!(matches!(a[0], Action::ConnectionAttemptFailed { .. }));
    let Action::Failed(err) = &a[1] else {
        panic!("{a:?}")
    };
    assert_eq!(err.code(), ErrorCode::ECANCELED);
    assert_eq!(p.attempted_addresses(), ["127.0.0.1:8124"]);
}

#[test]
fn auto_select_family_off_or_pinned_uses_the_single_path() {
    assert!(uses_auto_select_family(0, None, true));
    assert!(!uses_auto_select_family(0, None, false));
    assert!(!uses_auto_select_family(4, None, true));
    assert!(!uses_auto_select_family(0, Some("127.0.0.1"), true));
    // family 5 is passed through and counts as unspecified.
    assert!(uses_auto_select_family(5, None, true));
}

#[test]
fn busy_local_port_fails_every_bind_without_attempt_events() {
    let t0 = Instant::now();
    let mut p = Planner::start(
        PlannerOptions {
            local_port: Some(5000),
            ..opts(250)
        },
        multiple(&[("127.0.0.1", 4), ("::1", 6)]),
        t0,
    );
    assert_eq!(
        drain(&mut p),
        [Action::Bind {
            id: AttemptId(1),
            family: 4,
            local_port: 5000
        }]
    );
    assert_eq!(p.poll_timeout(), None);
    p.handle_attempt_bound(AttemptId(1), Err(ErrorCode::EADDRINUSE), t0);
    assert_eq!(
        drain(&mut p),
        [Action::Bind {
            id: AttemptId(2),
            family: 6,
            local_port: 5000
        }]
    );
    p.handle_attempt_bound(AttemptId(2), Err(ErrorCode::EADDRINUSE), t0);
    let a = drain(&mut p);
    let [Action::Failed(err)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(err.code(), ErrorCode::EADDRINUSE);
    let messages: Vec<&str> = err.errors().iter().map(|e| e.message()).collect();
    assert_eq!(
        messages,
        ["bind EADDRINUSE 0.0.0.0:5000", "bind EADDRINUSE :::5000"]
    );
    assert_eq!(err.errors()[0].syscall(), Some("bind"));
    assert!(p.attempted_addresses().is_empty());
}

#[test]
fn free_local_port_errors_carry_the_local_detail() {
    let t0 = Instant::now();
    let mut p = Planner::start(
        PlannerOptions {
            local_port: Some(5000),
            ..opts(250)
        },
        multiple(&[("127.0.0.1", 4), ("::1", 6)]),
        t0,
    );
    drain(&mut p);
    p.handle_attempt_bound(AttemptId(1), Ok(()), t0);
    assert_eq!(
        drain(&mut p),
        [attempt("127.0.0.1", 4), connect(1, "127.0.0.1", 4)]
    );
    // The attempt timer starts with the connect.
    assert_eq!(p.poll_timeout(), Some(t0 + ms(250)));
    p.handle_attempt_result(AttemptId(1), Err(ErrorCode::ECONNREFUSED), t0);
    drain(&mut p);
    p.handle_attempt_bound(AttemptId(2), Ok(()), t0);
    drain(&mut p);
    p.handle_attempt_result(AttemptId(2), Err(ErrorCode::ECONNREFUSED), t0);
    let a = drain(&mut p);
    let Some(Action::Failed(err)) = a.last() else {
        panic!("{a:?}")
    };
    let messages: Vec<&str> = err.errors().iter().map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "connect ECONNREFUSED 127.0.0.1:8124 - Local (0.0.0.0:5000)",
            "connect ECONNREFUSED ::1:8124 - Local (:::5000)"
        ]
    );
    assert_eq!(err.errors()[1].local_address(), Some("::"));
    assert_eq!(err.errors()[1].local_port(), Some(5000));
}

#[test]
fn local_port_zero_means_no_bind() {
    let t0 = Instant::now();
    let mut p = Planner::start(
        PlannerOptions {
            local_port: Some(0),
            ..opts(250)
        },
        multiple(&[("127.0.0.1", 4), ("::1", 6)]),
        t0,
    );
    assert_eq!(
        drain(&mut p),
        [attempt("127.0.0.1", 4), connect(1, "127.0.0.1", 4)]
    );
}

#[test]
fn blocked_candidates_fail_with_err_ip_blocked_without_connecting() {
    let t0 = Instant::now();
    let mut list = BlockList::new();
    list.add_subnet("127.0.0.0", 8, "ipv4").unwrap();
    list.add_subnet("::1", 128, "ipv6").unwrap();
    let mut p = Planner::start(
        PlannerOptions {
            block_list: Some(Arc::new(list)),
            ..opts(250)
        },
        multiple(&[("127.0.0.1", 4), ("::1", 6)]),
        t0,
    );
    let a = drain(&mut p);
    assert_eq!(a.len(), 3, "{a:?}");
    let Action::ConnectionAttemptFailed { ip, error, .. } = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!(ip, "127.0.0.1");
    assert_eq!(error.code(), ErrorCode::ERR_IP_BLOCKED);
    assert_eq!(error.message(), "IP(127.0.0.1) is blocked by net.BlockList");
    let Action::Failed(err) = &a[2] else {
        panic!("{a:?}")
    };
    assert_eq!(err.code(), ErrorCode::ERR_IP_BLOCKED);
    assert_eq!(err.errors().len(), 2);
    assert!(p.attempted_addresses().is_empty());
}

#[test]
fn blocked_candidate_is_skipped_for_the_next() {
    // Needs a real BlockList (the placeholder blocks every address).
    if BlockList::new().check("192.0.2.1", "ipv4").unwrap_or(false) {
        return;
    }
    let t0 = Instant::now();
    let mut list = BlockList::new();
    list.add_subnet("127.0.0.0", 8, "ipv4").unwrap();
    let mut p = Planner::start(
        PlannerOptions {
            block_list: Some(Arc::new(list)),
            ..opts(250)
        },
        multiple(&[("127.0.0.1", 4), ("::1", 6)]),
        t0,
    );
    let a = drain(&mut p);
    assert!(matches!(a[0], Action::ConnectionAttemptFailed { .. }));
    assert_eq!(&a[1..], [attempt("::1", 6), connect(2, "::1", 6)]);
    assert_eq!(p.attempted_addresses(), ["::1:8124"]);
}

#[test]
fn no_candidates_at_all_is_a_connection_timeout() {
    let mut p = Planner::start(opts(250), Vec::new(), Instant::now());
    let a = drain(&mut p);
    let [Action::Failed(err)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(err.code(), ErrorCode::ERR_SOCKET_CONNECTION_TIMEOUT);
    assert_eq!(err.message(), "Socket connection timeout");
}

#[test]
fn ids_start_where_the_socket_says() {
    let t0 = Instant::now();
    let mut p = Planner::start(
        PlannerOptions {
            first_attempt_id: AttemptId(40),
            mode: Mode::NodeCompat,
            ..opts(250)
        },
        multiple(&[("127.0.0.1", 4), ("::1", 6)]),
        t0,
    );
    assert_eq!(drain(&mut p)[1], connect(40, "127.0.0.1", 4));
    assert_eq!(p.next_free_id(), AttemptId(41));
}
