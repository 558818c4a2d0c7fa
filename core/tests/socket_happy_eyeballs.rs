//! Socket-level transcripts of happy eyeballs (§5.2, §5.3 and its test vectors): the
//! planner driven through `Socket` — lookup events, the order and ids of `Connect`
//! commands, attempt timers in `poll_timeout`, `Abort`s, the `AggregateError`,
//! `auto_select_family_attempted_addresses`, local ports, destroy mid-algorithm, the
//! client block list and RFC 8305 mode.

mod socket_support;

use std::net::SocketAddr;
use std::time::Duration;

use nodenet_core::happy_eyeballs::Mode;
use nodenet_core::socket::{Command, ConnectOptions, SocketEvent};
use nodenet_core::{AttemptId, BlockList, Endpoint, ErrorCode};
use socket_support::*;

const P: u16 = 8080;

/// `Connect` commands: (attempt, remote, local).
fn connects(cmds: &[Command]) -> Vec<(AttemptId, SocketAddr, Option<SocketAddr>)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Connect {
                attempt,
                endpoint: Endpoint::Tcp(a),
                local,
            } => Some((*attempt, *a, *local)),
            _ => None,
        })
        .collect()
}

fn aborts(cmds: &[Command]) -> Vec<AttemptId> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Abort { attempt } => Some(*attempt),
            _ => None,
        })
        .collect()
}

/// The address of every `ConnectionAttempt` event.
fn attempts(evs: &[SocketEvent]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            SocketEvent::ConnectionAttempt { address, .. } => Some(address.clone()),
            _ => None,
        })
        .collect()
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A client connecting to `x.test:P` with `opts` applied, resolved to `list`; returns
/// the harness with the resolve's outputs still queued.
fn multi(list: &[(&str, u32)], opts: impl FnOnce(&mut ConnectOptions)) -> H {
    let mut h = H::client();
    let mut o = ConnectOptions::tcp(P, "x.test");
    opts(&mut o);
    h.s.connect(o, h.now).unwrap();
    let id = h.resolve_id();
    h.resolved(id, list);
    h
}

fn attempted(h: &H) -> Option<Vec<String>> {
    h.s.auto_select_family_attempted_addresses()
        .map(|a| a.to_vec())
}

/// Refuse the single live attempt (the only `Connect` in `cmds`).
fn refuse_current(h: &mut H, cmds: &[Command]) -> Vec<Command> {
    let (id, _, _) = connects(cmds)[0];
    h.s.handle_connect_failed(id, ErrorCode::ECONNREFUSED, h.now);
    h.cmds()
}

// ---- order, dedup, events -----------------------------------------------------------

#[test]
fn all_refused_interleaves_dedups_and_aggregates() {
    // §5.3 vector: [127.0.0.1/4, 127.0.0.2/4, ::1/6, 127.0.0.1/4], all refused.
    let mut h = multi(
        &[
            ("127.0.0.1", 4),
            ("127.0.0.2", 4),
            ("::1", 6),
            ("127.0.0.1", 4),
        ],
        |_| {},
    );
    let mut cmds = h.cmds();
    let mut order = Vec::new();
    let mut ids = Vec::new();
    while !connects(&cmds).is_empty() {
        let (id, remote, local) = connects(&cmds)[0];
        assert_eq!(connects(&cmds).len(), 1, "one attempt at a time");
        assert_eq!(local, None);
        order.push(remote);
        ids.push(id);
        cmds = refuse_current(&mut h, &cmds);
    }
    assert_eq!(
        order,
        [sa("127.0.0.1:8080"), sa("[::1]:8080"), sa("127.0.0.2:8080")]
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "fresh ids: {ids:?}");
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        [
            "lookup",
            "lookup",
            "lookup",
            "lookup",
            "connectionAttempt",
            "connectionAttemptFailed",
            "connectionAttempt",
            "connectionAttemptFailed",
            "connectionAttempt",
            "connectionAttemptFailed",
            "error",
            "close(true)"
        ]
    );
    let e = error_of(&evs);
    assert_eq!(e.code(), ErrorCode::ECONNREFUSED);
    assert_eq!(e.message(), "");
    let msgs: Vec<_> = e.errors().iter().map(|e| e.message().to_string()).collect();
    assert_eq!(
        msgs,
        [
            "connect ECONNREFUSED 127.0.0.1:8080",
            "connect ECONNREFUSED ::1:8080",
            "connect ECONNREFUSED 127.0.0.2:8080"
        ]
    );
    assert_eq!(
        attempted(&h).unwrap(),
        ["127.0.0.1:8080", "::1:8080", "127.0.0.2:8080"]
    );
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn first_valid_v6_goes_first_and_every_entry_gets_a_lookup() {
    // §5.3 vector: [::1, 127.0.0.1, ::1, 127.0.0.2, 127.0.0.3].
    let mut h = multi(
        &[
            ("::1", 6),
            ("127.0.0.1", 4),
            ("::1", 6),
            ("127.0.0.2", 4),
            ("127.0.0.3", 4),
        ],
        |_| {},
    );
    let evs = h.evs();
    let lookups: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            SocketEvent::Lookup {
                error: None,
                address: Some(a),
                family: Some(f),
                host,
            } => Some((a.clone(), *f, host.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(lookups.len(), 5);
    assert_eq!(lookups[2], ("::1".to_string(), 6, "x.test".to_string()));
    let mut cmds = h.cmds();
    let mut order = Vec::new();
    while let Some((_, remote, _)) = connects(&cmds).first().copied() {
        order.push(remote.ip().to_string());
        cmds = refuse_current(&mut h, &cmds);
    }
    assert_eq!(order, ["::1", "127.0.0.1", "127.0.0.2", "127.0.0.3"]);
}

#[test]
fn invalid_entries_get_lookup_events_but_no_attempt() {
    let mut h = multi(
        &[
            ("nope", 4),
            ("127.0.0.1", 5),
            ("10.0.0.1", 4),
            ("10.0.0.2", 4),
        ],
        |_| {},
    );
    let evs = h.evs();
    assert_eq!(evs.iter().filter(|e| name(e) == "lookup").count(), 4);
    assert_eq!(attempts(&evs), ["10.0.0.1"]);
    assert_eq!(connects(&h.cmds())[0].1, sa("10.0.0.1:8080"));
}

#[test]
fn lookup_then_first_attempt_come_in_one_batch() {
    // Node emits the lookups and the first connectionAttempt synchronously inside the
    // lookup callback: all are queued by the single handle_resolved call.
    let mut h = multi(&[("127.0.0.1", 4), ("::1", 6)], |_| {});
    assert_eq!(
        h.names(),
        ["lookup", "lookup", "connectionAttempt"],
        "no tick needed"
    );
    assert_eq!(connects(&h.cmds()).len(), 1);
    assert_eq!(attempted(&h).unwrap(), ["127.0.0.1:8080"]);
}

// ---- timers ---------------------------------------------------------------------------

#[test]
fn hanging_first_attempt_times_out_and_second_connects() {
    // §5.3 vector: [127.0.0.1 (hangs), ::1 (listening)], attempt timeout 100.
    let mut h = multi(&[("127.0.0.1", 4), ("::1", 6)], |o| {
        o.auto_select_family_attempt_timeout = Some(100.into())
    });
    h.evs();
    let first = connects(&h.cmds())[0].0;
    assert_eq!(h.s.poll_timeout(), Some(h.t0 + Duration::from_millis(100)));
    h.advance(99);
    h.tick();
    assert!(h.evs().is_empty() && h.cmds().is_empty(), "not yet");
    assert!(h.run_timer());
    assert_eq!(h.ms(), 100);
    let evs = h.evs();
    assert_eq!(
        evs,
        [
            SocketEvent::ConnectionAttemptTimeout {
                address: "127.0.0.1".into(),
                port: Some(P),
                family: Some(4)
            },
            SocketEvent::ConnectionAttempt {
                address: "::1".into(),
                port: Some(P),
                family: Some(6)
            }
        ]
    );
    let cmds = h.cmds();
    assert_eq!(aborts(&cmds), [first], "a timed-out attempt is closed");
    let (second, remote, _) = connects(&cmds)[0];
    assert_eq!(remote, sa("[::1]:8080"));
    assert!(second > first);
    assert_eq!(h.s.poll_timeout(), None, "no timer on the last attempt");
    h.advance(4);
    h.s.handle_connected(second, Some(sa("[::1]:40000")), h.now);
    assert_eq!(h.names(), ["connect", "ready"]);
    assert_eq!(h.cmds(), [Command::StartReading]);
    assert!(!h.s.connecting());
    assert_eq!(h.s.remote_address(), Some("::1".parse().unwrap()));
    assert_eq!(h.s.remote_port(), Some(P));
    assert_eq!(h.s.local_port(), Some(40000));
    assert_eq!(attempted(&h).unwrap(), ["127.0.0.1:8080", "::1:8080"]);
}

#[test]
fn late_success_of_a_timed_out_attempt_is_ignored() {
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |o| {
        o.auto_select_family_attempt_timeout = Some(50.into())
    });
    let first = connects(&h.cmds())[0].0;
    h.run_timer();
    let second = connects(&h.cmds())[0].0;
    h.evs();
    h.s.handle_connected(first, None, h.now);
    assert!(h.evs().is_empty(), "late success ignored");
    assert!(h.cmds().is_empty());
    assert!(h.s.connecting());
    h.s.handle_connect_failed(first, ErrorCode::ECONNREFUSED, h.now);
    assert!(h.evs().is_empty(), "stale failure ignored");
    h.s.handle_connected(second, None, h.now);
    assert_eq!(h.names(), ["connect", "ready"]);
}

#[test]
fn first_attempt_connects_at_once() {
    // §5.3 vector: [::1 (listening), 127.0.0.1] → attempted ["::1:P"].
    let mut h = multi(&[("::1", 6), ("127.0.0.1", 4)], |_| {});
    h.evs();
    let (id, remote, _) = connects(&h.cmds())[0];
    assert_eq!(remote, sa("[::1]:8080"));
    h.s.handle_connected(id, None, h.now);
    assert_eq!(h.names(), ["connect", "ready"]);
    assert!(aborts(&h.cmds()).is_empty());
    assert_eq!(attempted(&h).unwrap(), ["::1:8080"]);
    assert_eq!(h.s.poll_timeout(), None, "attempt timer cleared");
}

#[test]
fn timeout_then_refused_last_aggregates_as_etimedout() {
    // §5.3 vector: [127.0.0.1 (hangs), 127.0.0.2 (refused, last)], timeout 100.
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |o| {
        o.auto_select_family_attempt_timeout = Some(100.into())
    });
    h.cmds();
    h.run_timer();
    let cmds = h.cmds();
    h.advance(3);
    refuse_current(&mut h, &cmds);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        [
            "lookup",
            "lookup",
            "connectionAttempt",
            "connectionAttemptTimeout",
            "connectionAttempt",
            "connectionAttemptFailed",
            "error",
            "close(true)"
        ]
    );
    let e = error_of(&evs);
    assert_eq!(e.code(), ErrorCode::ETIMEDOUT);
    let msgs: Vec<_> = e.errors().iter().map(|e| e.message().to_string()).collect();
    assert_eq!(
        msgs,
        [
            "connect ETIMEDOUT 127.0.0.1:8080",
            "connect ECONNREFUSED 127.0.0.2:8080"
        ]
    );
    assert_eq!(e.errors()[0].syscall(), Some("connect"));
}

#[test]
fn attempt_timeout_has_a_10ms_floor() {
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |o| {
        o.auto_select_family_attempt_timeout = Some(1.into())
    });
    assert_eq!(h.s.poll_timeout(), Some(h.t0 + Duration::from_millis(10)));
    h.evs();
    h.run_timer();
    assert_eq!(h.ms(), 10);
    assert_eq!(h.names(), ["connectionAttemptTimeout", "connectionAttempt"]);
}

#[test]
fn default_attempt_timeout_is_250ms() {
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |_| {});
    h.evs();
    assert!(h.run_timer());
    assert_eq!(h.ms(), 250);
    assert_eq!(h.names(), ["connectionAttemptTimeout", "connectionAttempt"]);
}

#[test]
fn invalid_attempt_timeout_is_rejected_before_lookup() {
    let mut h = H::client();
    let o = ConnectOptions {
        auto_select_family_attempt_timeout: Some(0.into()),
        ..ConnectOptions::tcp(P, "x.test")
    };
    let e = h.s.connect(o, h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_OUT_OF_RANGE);
}

#[test]
fn last_attempt_waits_for_the_idle_timeout_and_destroy_cancels_it() {
    // §5.3 vector: [refused, hangs (last)] + idle timeout 300 → no attempt timer for the
    // last; `timeout` at 300; user destroy → connectionAttemptFailed(ECANCELED), close.
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |o| {
        o.timeout = Some(300.into())
    });
    let cmds = h.cmds();
    h.advance(2);
    let cmds = refuse_current(&mut h, &cmds);
    let last = connects(&cmds)[0].0;
    h.evs();
    // Only the idle timer is left (refreshed by the lookup at t0).
    assert_eq!(h.s.poll_timeout(), Some(h.t0 + Duration::from_millis(300)));
    assert!(h.run_timer());
    assert_eq!(h.names(), ["timeout"]);
    assert!(h.s.connecting(), "timeout closes nothing");
    h.s.destroy(None);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["connectionAttemptFailed", "close(false)"]
    );
    match &evs[0] {
        SocketEvent::ConnectionAttemptFailed { address, error, .. } => {
            assert_eq!(address, "127.0.0.2");
            assert_eq!(error.code(), ErrorCode::ECANCELED);
            assert_eq!(error.message(), "connect ECANCELED 127.0.0.2:8080");
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(
        h.cmds(),
        [
            Command::Abort { attempt: last },
            Command::Close { reset: false }
        ]
    );
    // Nothing after Close, late answers ignored.
    h.s.handle_connected(last, None, h.now);
    assert!(h.evs().is_empty() && h.cmds().is_empty());
    assert_eq!(h.s.poll_timeout(), None);
    assert_eq!(attempted(&h).unwrap(), ["127.0.0.1:8080", "127.0.0.2:8080"]);
}

#[test]
fn destroy_with_error_mid_algorithm_orders_error_cancel_close() {
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |_| {});
    h.evs();
    let first = connects(&h.cmds())[0].0;
    h.s.destroy(Some(nodenet_core::Error::abort()));
    assert_eq!(
        h.names(),
        ["error", "connectionAttemptFailed", "close(true)"]
    );
    assert_eq!(
        h.cmds(),
        [
            Command::Abort { attempt: first },
            Command::Close { reset: false }
        ]
    );
    assert_eq!(h.s.poll_timeout(), None, "attempt timer gone");
}

#[test]
fn auto_select_family_false_uses_the_single_path() {
    let mut h = multi(&[("127.0.0.1", 4), ("::1", 6)], |o| {
        o.auto_select_family = Some(false)
    });
    assert_eq!(h.names(), ["lookup", "connectionAttempt"]);
    let (id, _, _) = connects(&h.cmds())[0];
    assert_eq!(h.s.poll_timeout(), None, "no attempt timer");
    h.s.handle_connect_failed(id, ErrorCode::ECONNREFUSED, h.now);
    let evs = h.evs();
    assert_eq!(
        error_of(&evs).message(),
        "connect ECONNREFUSED 127.0.0.1:8080"
    );
    assert_eq!(attempted(&h), None);
}

// ---- local port ------------------------------------------------------------------------

#[test]
fn busy_local_port_fails_every_bind_without_attempt_events() {
    // §5.3 vector: localPort busy, two candidates → no connectionAttempt, AggregateError
    // EADDRINUSE of bind errors for 0.0.0.0 and ::, attempted [].
    let mut h = multi(&[("127.0.0.1", 4), ("::1", 6)], |o| {
        o.local_port = Some(5000)
    });
    let c = connects(&h.cmds());
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].2, Some(sa("0.0.0.0:5000")));
    h.s.handle_bind_failed(c[0].0, ErrorCode::EADDRINUSE, h.now);
    let c = connects(&h.cmds());
    assert_eq!(c[0].1, sa("[::1]:8080"));
    assert_eq!(c[0].2, Some(sa("[::]:5000")));
    h.s.handle_bind_failed(c[0].0, ErrorCode::EADDRINUSE, h.now);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["lookup", "lookup", "error", "close(true)"]
    );
    let e = error_of(&evs);
    assert_eq!(e.code(), ErrorCode::EADDRINUSE);
    let msgs: Vec<_> = e.errors().iter().map(|e| e.message().to_string()).collect();
    assert_eq!(
        msgs,
        ["bind EADDRINUSE 0.0.0.0:5000", "bind EADDRINUSE :::5000"]
    );
    assert_eq!(e.errors()[1].syscall(), Some("bind"));
    assert_eq!(attempted(&h).unwrap(), Vec::<String>::new());
}

#[test]
fn free_local_port_announces_after_a_tick_and_adds_local_details() {
    // §5.3 vector: localPort free, two refused → ` - Local (0.0.0.0:L)` / ` - Local (:::L)`.
    let mut h = multi(&[("127.0.0.1", 4), ("::1", 6)], |o| {
        o.local_port = Some(5000);
        o.auto_select_family_attempt_timeout = Some(100.into());
    });
    // The backend runs the bind+connect command before the user's code returns.
    let cmds = h.cmds();
    assert_eq!(
        h.next_names(2),
        ["lookup", "lookup"],
        "bind outcome not known yet"
    );
    assert_eq!(h.s.poll_timeout(), Some(h.now), "a tick is due");
    h.advance(1);
    h.tick();
    assert_eq!(h.names(), ["connectionAttempt"]);
    // The attempt timer counts from when the command went out.
    assert_eq!(h.s.poll_timeout(), Some(h.t0 + Duration::from_millis(100)));
    let cmds = refuse_current(&mut h, &cmds);
    h.tick();
    refuse_current(&mut h, &cmds);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        [
            "connectionAttemptFailed",
            "connectionAttempt",
            "connectionAttemptFailed",
            "error",
            "close(true)"
        ]
    );
    let msgs: Vec<_> = error_of(&evs)
        .errors()
        .iter()
        .map(|e| e.message().to_string())
        .collect();
    assert_eq!(
        msgs,
        [
            "connect ECONNREFUSED 127.0.0.1:8080 - Local (0.0.0.0:5000)",
            "connect ECONNREFUSED ::1:8080 - Local (:::5000)"
        ]
    );
    assert_eq!(attempted(&h).unwrap(), ["127.0.0.1:8080", "::1:8080"]);
}

#[test]
fn bound_attempt_answered_without_a_tick_still_announces_first() {
    // A backend that answers the connect before any handle_timeout: the bind is taken
    // as done at the start of that answer, so connectionAttempt precedes connect.
    let mut h = multi(&[("127.0.0.1", 4), ("::1", 6)], |o| {
        o.local_port = Some(5000)
    });
    assert_eq!(h.next_names(2), ["lookup", "lookup"]);
    let (id, _, _) = connects(&h.cmds())[0];
    h.s.handle_connected(id, Some(sa("127.0.0.1:5000")), h.now);
    assert_eq!(h.names(), ["connectionAttempt", "connect", "ready"]);
    assert_eq!(h.s.local_port(), Some(5000));
}

#[test]
fn one_busy_bind_then_success() {
    let mut h = multi(&[("127.0.0.1", 4), ("::1", 6)], |o| {
        o.local_port = Some(5000)
    });
    assert_eq!(h.next_names(2), ["lookup", "lookup"]);
    let (a, _, _) = connects(&h.cmds())[0];
    h.s.handle_bind_failed(a, ErrorCode::EADDRINUSE, h.now);
    let (b, remote, _) = connects(&h.cmds())[0];
    assert_eq!(remote, sa("[::1]:8080"));
    h.tick();
    assert_eq!(h.names(), ["connectionAttempt"]);
    h.s.handle_connected(b, None, h.now);
    assert_eq!(h.names(), ["connect", "ready"]);
    assert_eq!(attempted(&h).unwrap(), ["::1:8080"]);
}

// ---- block list ------------------------------------------------------------------------

#[test]
fn blocked_candidate_is_recorded_and_skipped() {
    let mut list = BlockList::new();
    list.add_subnet("127.0.0.0", 8, "ipv4").unwrap();
    let mut h = multi(&[("127.0.0.1", 4), ("::1", 6), ("127.0.0.2", 4)], |o| {
        o.block_list = Some(list)
    });
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).skip(3).collect::<Vec<_>>(),
        ["connectionAttemptFailed", "connectionAttempt"]
    );
    let cmds = h.cmds();
    let c = connects(&cmds);
    assert_eq!(c.len(), 1, "no connect to a blocked address");
    assert_eq!(c[0].1, sa("[::1]:8080"));
    refuse_current(&mut h, &cmds);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        [
            "connectionAttemptFailed",
            "connectionAttemptFailed",
            "error",
            "close(true)"
        ]
    );
    let e = error_of(&evs);
    assert_eq!(e.code(), ErrorCode::ERR_IP_BLOCKED);
    let msgs: Vec<_> = e.errors().iter().map(|e| e.message().to_string()).collect();
    assert_eq!(
        msgs,
        [
            "IP(127.0.0.1) is blocked by net.BlockList",
            "connect ECONNREFUSED ::1:8080",
            "IP(127.0.0.2) is blocked by net.BlockList"
        ]
    );
    assert_eq!(attempted(&h).unwrap(), ["::1:8080"]);
}

#[test]
fn blocked_candidate_with_local_port_never_reaches_the_backend() {
    let mut list = BlockList::new();
    list.add_address("::1", "ipv6").unwrap();
    let mut h = multi(&[("::1", 6), ("127.0.0.1", 4)], |o| {
        o.block_list = Some(list);
        o.local_port = Some(5000);
    });
    let c = connects(&h.cmds());
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].1, sa("127.0.0.1:8080"));
    assert_eq!(c[0].2, Some(sa("0.0.0.0:5000")));
    assert_eq!(
        h.next_names(3),
        ["lookup", "lookup", "connectionAttemptFailed"],
        "blocked before any bind"
    );
}

// ---- connected: same as a plain connect ------------------------------------------------

#[test]
fn winner_gets_queued_writes_options_and_reading() {
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |o| {
        o.no_delay = Some(true)
    });
    let w = h.write("hello");
    assert!(w.ok);
    let cmds = h.cmds();
    let cmds = refuse_current(&mut h, &cmds);
    let (id, _, _) = connects(&cmds)[0];
    h.evs();
    h.s.handle_connected(id, None, h.now);
    assert_eq!(
        h.cmds(),
        [
            Command::SetNoDelay(true),
            Command::Write,
            Command::StartReading
        ]
    );
    assert_eq!(h.names(), ["connect", "ready"]);
    assert_eq!(h.s.write_chunks().collect::<Vec<_>>(), [&b"hello"[..]]);
    assert_eq!(h.s.remote_address(), Some("127.0.0.2".parse().unwrap()));
}

#[test]
fn reset_and_destroy_while_racing_is_deferred_to_connect() {
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |_| {});
    let (id, _, _) = connects(&h.cmds())[0];
    h.evs();
    h.s.reset_and_destroy().unwrap();
    assert!(h.evs().is_empty());
    h.s.handle_connected(id, None, h.now);
    assert_eq!(h.names(), ["connect", "ready", "close(false)"]);
    assert!(h.cmds().contains(&Command::Close { reset: true }));
}

#[test]
fn reconnect_after_a_race_uses_fresh_ids_and_keeps_attempted() {
    let mut h = multi(&[("127.0.0.1", 4), ("127.0.0.2", 4)], |_| {});
    let cmds = h.cmds();
    let cmds = refuse_current(&mut h, &cmds);
    let used = connects(&cmds)[0].0;
    h.s.destroy(None);
    h.cmds();
    h.evs();
    h.s.connect(ConnectOptions::tcp(P, "127.0.0.1"), h.now)
        .unwrap();
    h.tick();
    let (id, _, _) = connects(&h.cmds())[0];
    assert!(id > used, "{id:?} must not reuse {used:?}");
    h.s.handle_connected(id, None, h.now);
    assert_eq!(h.names(), ["connectionAttempt", "connect", "ready"]);
    // Node never resets the property on a single-address reconnect.
    assert_eq!(attempted(&h).unwrap(), ["127.0.0.1:8080", "127.0.0.2:8080"]);
}

#[test]
fn single_candidate_after_dedup_leaves_attempted_unset() {
    let mut h = multi(&[("::1", 6), ("::1", 6)], |_| {});
    let (id, _, _) = connects(&h.cmds())[0];
    assert_eq!(h.s.poll_timeout(), None);
    h.s.handle_connected(id, None, h.now);
    assert_eq!(attempted(&h), None);
}

// ---- RFC 8305 ----------------------------------------------------------------------------

#[test]
fn rfc8305_staggers_and_first_success_wins() {
    let mut h = multi(
        &[("::1", 6), ("127.0.0.1", 4), ("::2", 6), ("127.0.0.2", 4)],
        |o| {
            o.happy_eyeballs = Mode::Rfc8305;
            o.auto_select_family_attempt_timeout = Some(100.into());
        },
    );
    let a = connects(&h.cmds())[0].0;
    assert_eq!(attempts(&h.evs()), ["::1"]);
    // After the delay the next attempt starts while the first keeps running.
    h.run_timer();
    assert_eq!(h.ms(), 100);
    let cmds = h.cmds();
    assert!(aborts(&cmds).is_empty(), "earlier attempts keep racing");
    let b = connects(&cmds)[0].0;
    assert_eq!(connects(&cmds)[0].1, sa("127.0.0.1:8080"));
    assert_eq!(
        h.names(),
        ["connectionAttempt"],
        "no connectionAttemptTimeout in RFC 8305 mode"
    );
    // A failure starts the next attempt at once.
    h.advance(20);
    h.s.handle_connect_failed(b, ErrorCode::ECONNREFUSED, h.now);
    let c = connects(&h.cmds())[0].0;
    assert_eq!(h.names(), ["connectionAttemptFailed", "connectionAttempt"]);
    // The first attempt wins; the other live one is aborted.
    h.advance(10);
    h.s.handle_connected(a, None, h.now);
    let cmds = h.cmds();
    assert_eq!(aborts(&cmds), [c]);
    assert_eq!(h.names(), ["connect", "ready"]);
    assert_eq!(h.s.remote_address(), Some("::1".parse().unwrap()));
    assert_eq!(h.s.poll_timeout(), None);
    assert_eq!(
        attempted(&h).unwrap(),
        ["::1:8080", "127.0.0.1:8080", "::2:8080"]
    );
    // The loser's late success changes nothing.
    h.s.handle_connected(c, None, h.now);
    assert!(h.evs().is_empty() && h.cmds().is_empty());
}

#[test]
fn rfc8305_all_failing_aggregates_in_order() {
    let mut h = multi(&[("::1", 6), ("127.0.0.1", 4)], |o| {
        o.happy_eyeballs = Mode::Rfc8305;
        o.auto_select_family_attempt_timeout = Some(50.into());
    });
    let a = connects(&h.cmds())[0].0;
    h.run_timer();
    let b = connects(&h.cmds())[0].0;
    h.s.handle_connect_failed(b, ErrorCode::ECONNREFUSED, h.now);
    assert!(h.s.connecting(), "the first attempt still runs");
    h.s.handle_connect_failed(a, ErrorCode::ETIMEDOUT, h.now);
    let e = error_of(&h.evs());
    assert_eq!(e.code(), ErrorCode::ECONNREFUSED);
    assert_eq!(e.errors().len(), 2);
}

#[test]
fn rfc8305_destroy_cancels_every_live_attempt() {
    let mut h = multi(&[("::1", 6), ("127.0.0.1", 4)], |o| {
        o.happy_eyeballs = Mode::Rfc8305;
        o.auto_select_family_attempt_timeout = Some(50.into());
    });
    let a = connects(&h.cmds())[0].0;
    h.run_timer();
    let b = connects(&h.cmds())[0].0;
    h.evs();
    h.s.destroy(None);
    assert_eq!(
        h.names(),
        [
            "connectionAttemptFailed",
            "connectionAttemptFailed",
            "close(false)"
        ]
    );
    let mut ab = aborts(&h.cmds());
    ab.sort();
    assert_eq!(ab, [a, b]);
}

#[test]
fn socket_options_default_to_node_compat() {
    assert_eq!(ConnectOptions::default().happy_eyeballs, Mode::NodeCompat);
}

/// Attempts whose `connect(2)` fails at once name the local socket, as Node's
/// `internalConnectMultiple` does (Node v20, lookup answering 224.0.0.1 then fe80::1:
/// `connect ENETUNREACH 224.0.0.1:80 - Local (0.0.0.0:0)`, `connect EINVAL fe80::1:80 -
/// Local (:::0)`, each also in its `connectionAttemptFailed`).
#[test]
fn attempts_that_fail_at_once_name_the_local_socket() {
    let mut h = multi(&[("224.0.0.1", 4), ("fe80::1", 6)], |o| {
        o.auto_select_family = Some(true)
    });
    h.tick();
    let (first, _, _) = connects(&h.cmds())[0];
    h.s.handle_connect_failed_at_once(first, ErrorCode::ENETUNREACH, h.now);
    h.tick();
    let (second, _, _) = connects(&h.cmds())[0];
    h.s.handle_connect_failed_at_once(second, ErrorCode::EINVAL, h.now);
    h.tick();
    let evs = h.evs();
    let failed: Vec<String> = evs
        .iter()
        .filter_map(|e| match e {
            SocketEvent::ConnectionAttemptFailed { error, .. } => Some(error.message().into()),
            _ => None,
        })
        .collect();
    let expected = [
        "connect ENETUNREACH 224.0.0.1:8080 - Local (0.0.0.0:0)",
        "connect EINVAL fe80::1:8080 - Local (:::0)",
    ];
    assert_eq!(failed, expected);
    let e = error_of(&evs);
    let msgs: Vec<_> = e.errors().iter().map(|e| e.message().to_string()).collect();
    assert_eq!(msgs, expected);
    assert_eq!(e.errors()[0].local_address(), None);
}
