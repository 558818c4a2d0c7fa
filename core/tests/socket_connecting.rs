//! Transcripts for RESOLVING and CONNECTING (§1.3, §2 rules 1, 9, 12, 16, §4): resolve
//! and connect commands with their options, lookup events, failures and their error
//! shapes, writes queued before connect, destroy/reset while connecting, stale answers.

mod socket_support;

use bytes::Bytes;
use nodenet_core::dns::{dns_lookup, DnsLookup, LookupOptions, V4MAPPED};
use nodenet_core::socket::{Command, ConnectOptions, ReadyState, SocketEvent, ADDRCONFIG};
use nodenet_core::{AttemptId, BlockList, Endpoint, Error, ErrorCode, SocketOptions};
use socket_support::*;

fn resolve_cmd(opts: ConnectOptions) -> Command {
    let mut h = H::client();
    h.s.connect(opts, h.now).unwrap();
    h.cmds().into_iter().next().expect("a command")
}

// ---- IP literals ------------------------------------------------------------------

#[test]
fn ip_literal_connects_on_next_tick_without_lookup() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    assert!(h.s.connecting());
    assert_eq!(h.s.ready_state(), ReadyState::Opening);
    assert!(h.cmds().is_empty(), "connect starts on the next tick");
    assert_eq!(h.s.poll_timeout(), Some(h.now));
    h.tick();
    assert_eq!(
        h.cmds(),
        [Command::Connect {
            attempt: AttemptId(1),
            endpoint: Endpoint::Tcp("127.0.0.1:80".parse().unwrap()),
            local: None
        }]
    );
    assert_eq!(
        h.evs(),
        [SocketEvent::ConnectionAttempt {
            address: "127.0.0.1".into(),
            port: Some(80),
            family: Some(4)
        }]
    );
}

#[test]
fn successful_connect_sequence() {
    let mut h = H::client();
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.evs();
    h.s.handle_connected(a, "127.0.0.1:5555".parse().ok(), h.now);
    assert_eq!(h.names(), ["connect", "ready"]);
    assert_eq!(h.cmds(), [Command::StartReading]);
    assert!(!h.s.connecting() && !h.s.pending());
    assert_eq!(h.s.ready_state(), ReadyState::Open);
    assert_eq!(h.s.remote_address(), Some("127.0.0.1".parse().unwrap()));
    assert_eq!(h.s.remote_port(), Some(80));
    assert_eq!(h.s.remote_family().unwrap().as_str(), "IPv4");
    assert_eq!(h.s.local_port(), Some(5555));
    assert_eq!(h.s.auto_select_family_attempted_addresses(), None);
}

#[test]
fn ipv6_literal() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(443, "::1"), h.now).unwrap();
    h.tick();
    let c = h.cmds();
    assert!(
        matches!(&c[0], Command::Connect { endpoint: Endpoint::Tcp(a), .. } if a.to_string() == "[::1]:443")
    );
    assert_eq!(
        h.evs(),
        [SocketEvent::ConnectionAttempt {
            address: "::1".into(),
            port: Some(443),
            family: Some(6)
        }]
    );
}

#[test]
fn hex_string_port() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp("0x50", "127.0.0.1"), h.now)
        .unwrap();
    h.tick();
    assert!(
        matches!(&h.cmds()[0], Command::Connect { endpoint: Endpoint::Tcp(a), .. } if a.port() == 80)
    );
}

#[test]
fn exponent_and_negative_zero_ports() {
    for (p, want) in [("1e3", 1000u16), ("-0", 0)] {
        let mut h = H::client();
        h.s.connect(ConnectOptions::tcp(p, "127.0.0.1"), h.now)
            .unwrap();
        h.tick();
        assert!(
            matches!(&h.cmds()[0], Command::Connect { endpoint: Endpoint::Tcp(a), .. } if a.port() == want)
        );
    }
}

#[test]
fn refused_connect_sequence_and_error_shape() {
    let mut h = H::client();
    let a = h.connect_to(ConnectOptions::tcp(9, "127.0.0.1"));
    h.s.handle_connect_failed(a, ErrorCode::ECONNREFUSED, h.now);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        [
            "connectionAttempt",
            "connectionAttemptFailed",
            "error",
            "close(true)"
        ]
    );
    let e = error_of(&evs);
    assert_eq!(e.message(), "connect ECONNREFUSED 127.0.0.1:9");
    assert_eq!(
        (e.errno(), e.syscall(), e.port()),
        (Some(-111), Some("connect"), Some(9))
    );
    assert_eq!(e.address(), Some("127.0.0.1"));
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
    assert_eq!(h.s.ready_state(), ReadyState::Closed);
}

/// A `connect(2)` that fails at once is Node's synchronous path: the message names the
/// socket's `getsockname` (` - Local (0.0.0.0:0)`, `:::0`, or the bound address), with
/// no `localAddress`/`localPort` properties (Node v20: `connect ENETUNREACH
/// 224.0.0.1:80 - Local (0.0.0.0:0)`, `connect EINVAL fe80::1%eth99:80 - Local (:::0)`).
#[test]
fn a_connect_that_fails_at_once_names_the_local_socket() {
    for (host, local_port, shown) in [
        (
            "224.0.0.1",
            None,
            "connect ENETUNREACH 224.0.0.1:80 - Local (0.0.0.0:0)",
        ),
        (
            "fe80::1",
            None,
            "connect ENETUNREACH fe80::1:80 - Local (:::0)",
        ),
        (
            "224.0.0.1",
            Some(5000),
            "connect ENETUNREACH 224.0.0.1:80 - Local (0.0.0.0:5000)",
        ),
    ] {
        let mut h = H::client();
        let opts = ConnectOptions {
            local_port,
            ..ConnectOptions::tcp(80, host)
        };
        let a = h.connect_to(opts);
        h.s.handle_connect_failed_at_once(a, ErrorCode::ENETUNREACH, h.now);
        let evs = h.evs();
        let e = error_of(&evs);
        assert_eq!(e.message(), shown);
        assert_eq!((e.local_address(), e.local_port()), (None, None));
        assert_eq!(name(evs.last().unwrap()), "close(true)");
        // Node's synchronous path destroys directly: no 'connectionAttemptFailed'.
        assert!(
            !evs.iter()
                .any(|ev| matches!(ev, SocketEvent::ConnectionAttemptFailed { .. })),
            "{evs:?}"
        );
    }
}

#[test]
fn refused_on_port_zero_has_no_port() {
    let mut h = H::client();
    let a = h.connect_to(ConnectOptions::tcp(0, "127.0.0.1"));
    h.s.handle_connect_failed(a, ErrorCode::ECONNREFUSED, h.now);
    let e = error_of(&h.evs());
    assert_eq!(e.message(), "connect ECONNREFUSED 127.0.0.1");
    assert_eq!(e.port(), None);
}

#[test]
fn attempt_failed_event_carries_the_error() {
    let mut h = H::client();
    let a = h.connect_to(ConnectOptions::tcp(9, "127.0.0.1"));
    h.evs();
    h.s.handle_connect_failed(a, ErrorCode::ETIMEDOUT, h.now);
    match &h.evs()[0] {
        SocketEvent::ConnectionAttemptFailed {
            address,
            port,
            family,
            error,
        } => {
            assert_eq!(
                (address.as_str(), *port, *family),
                ("127.0.0.1", Some(9), Some(4))
            );
            assert_eq!(error.code(), ErrorCode::ETIMEDOUT);
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn empty_path_means_tcp_localhost_port_zero() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::path(""), h.now).unwrap();
    match &h.cmds()[0] {
        Command::Resolve { host, .. } => assert_eq!(host, "localhost"),
        c => panic!("{c:?}"),
    }
}

#[test]
fn empty_host_means_localhost() {
    match resolve_cmd(ConnectOptions::tcp(80, "")) {
        Command::Resolve { host, .. } => assert_eq!(host, "localhost"),
        c => panic!("{c:?}"),
    }
}

// ---- local address / bind -----------------------------------------------------------

#[test]
fn local_port_binds_and_adds_local_details_to_errors() {
    let mut h = H::client();
    let opts = ConnectOptions {
        local_port: Some(5000),
        ..ConnectOptions::tcp(9, "127.0.0.1")
    };
    h.s.connect(opts, h.now).unwrap();
    h.tick();
    let c = h.cmds();
    let Command::Connect { attempt, local, .. } = &c[0] else {
        panic!()
    };
    assert_eq!(*local, Some("0.0.0.0:5000".parse().unwrap()));
    assert!(
        h.evs().is_empty(),
        "connectionAttempt waits until the bind is known to work"
    );
    h.s.handle_connect_failed(*attempt, ErrorCode::ECONNREFUSED, h.now);
    let evs = h.evs();
    assert_eq!(name(&evs[0]), "connectionAttempt");
    let e = error_of(&evs);
    assert_eq!(
        e.message(),
        "connect ECONNREFUSED 127.0.0.1:9 - Local (0.0.0.0:5000)"
    );
    assert_eq!(
        (e.local_address(), e.local_port()),
        (Some("0.0.0.0"), Some(5000))
    );
}

#[test]
fn local_port_with_ipv6_target_binds_unspecified_v6() {
    let mut h = H::client();
    let opts = ConnectOptions {
        local_port: Some(5000),
        ..ConnectOptions::tcp(9, "::1")
    };
    h.s.connect(opts, h.now).unwrap();
    h.tick();
    let c = h.cmds();
    assert!(
        matches!(&c[0], Command::Connect { local: Some(l), .. } if l.to_string() == "[::]:5000")
    );
}

#[test]
fn bind_in_use_error() {
    let mut h = H::client();
    let opts = ConnectOptions {
        local_address: Some("127.0.0.1".into()),
        local_port: Some(5000),
        ..ConnectOptions::tcp(9, "127.0.0.1")
    };
    let a = h.connect_to(opts);
    h.s.handle_bind_failed(a, ErrorCode::EADDRINUSE, h.now);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close(true)"]
    );
    let e = error_of(&evs);
    assert_eq!(e.message(), "bind EADDRINUSE 127.0.0.1:5000");
    assert_eq!(e.syscall(), Some("bind"));
}

#[test]
fn bind_unavailable_address_without_port() {
    let mut h = H::client();
    let opts = ConnectOptions {
        local_address: Some("8.8.8.8".into()),
        ..ConnectOptions::tcp(9, "127.0.0.1")
    };
    let a = h.connect_to(opts);
    h.s.handle_bind_failed(a, ErrorCode::EADDRNOTAVAIL, h.now);
    assert_eq!(error_of(&h.evs()).message(), "bind EADDRNOTAVAIL 8.8.8.8");
}

#[test]
fn a_local_address_of_the_other_family_fails_the_bind_with_einval() {
    // Node binds with the target's family, and libuv's address parsing refuses the other
    // one: `bind EINVAL <localAddress>`, no attempt, no system call.
    for (host, local) in [("::1", "127.0.0.1"), ("127.0.0.1", "::1")] {
        let mut h = H::client();
        let opts = ConnectOptions {
            local_address: Some(local.into()),
            ..ConnectOptions::tcp(9, host)
        };
        h.s.connect(opts, h.now).unwrap();
        h.tick();
        assert!(!h
            .cmds()
            .iter()
            .any(|c| matches!(c, Command::Connect { .. })));
        let evs = h.evs();
        assert_eq!(
            evs.iter().map(name).collect::<Vec<_>>(),
            ["error", "close(true)"]
        );
        let e = error_of(&evs);
        assert_eq!(e.message(), format!("bind EINVAL {local}"));
        assert_eq!(e.code(), ErrorCode::EINVAL);
    }
}

#[test]
fn local_address_without_port_has_no_local_details() {
    let mut h = H::client();
    let opts = ConnectOptions {
        local_address: Some("127.0.0.1".into()),
        ..ConnectOptions::tcp(9, "127.0.0.1")
    };
    let a = h.connect_to(opts);
    h.s.handle_connect_failed(a, ErrorCode::ECONNREFUSED, h.now);
    assert_eq!(
        error_of(&h.evs()).message(),
        "connect ECONNREFUSED 127.0.0.1:9"
    );
}

#[test]
fn bound_connect_success_announces_attempt_first() {
    let mut h = H::client();
    let opts = ConnectOptions {
        local_port: Some(5000),
        ..ConnectOptions::tcp(9, "127.0.0.1")
    };
    let a = h.connect_to(opts);
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.names(), ["connectionAttempt", "connect", "ready"]);
}

// ---- hostnames: Resolve and Lookup --------------------------------------------------

#[test]
fn default_resolve_options() {
    assert_eq!(
        resolve_cmd(ConnectOptions::tcp(80, "example.test")),
        Command::Resolve {
            id: AttemptId(1),
            host: "example.test".into(),
            family: 0,
            hints: ADDRCONFIG,
            all: true,
            custom: false
        }
    );
}

#[test]
fn resolve_family_4_has_no_addrconfig_and_single_mode() {
    let c = resolve_cmd(ConnectOptions {
        family: 4,
        ..ConnectOptions::tcp(80, "example.test")
    });
    assert!(matches!(
        c,
        Command::Resolve {
            family: 4,
            hints: 0,
            all: false,
            ..
        }
    ));
}

#[test]
fn resolve_family_6_hints_0() {
    let c = resolve_cmd(ConnectOptions {
        family: 6,
        hints: 0,
        ..ConnectOptions::tcp(80, "example.test")
    });
    assert!(matches!(
        c,
        Command::Resolve {
            family: 6,
            hints: 0,
            all: false,
            ..
        }
    ));
}

#[test]
fn resolve_with_local_address_is_single_mode() {
    let c = resolve_cmd(ConnectOptions {
        local_address: Some("127.0.0.1".into()),
        ..ConnectOptions::tcp(80, "example.test")
    });
    assert!(matches!(
        c,
        Command::Resolve {
            hints: 32,
            all: false,
            ..
        }
    ));
}

#[test]
fn resolve_family_5_is_passed_through() {
    let c = resolve_cmd(ConnectOptions {
        family: 5,
        ..ConnectOptions::tcp(80, "example.test")
    });
    assert!(matches!(
        c,
        Command::Resolve {
            family: 5,
            hints: 32,
            all: true,
            ..
        }
    ));
}

#[test]
fn resolve_without_auto_select_family() {
    let c = resolve_cmd(ConnectOptions {
        auto_select_family: Some(false),
        ..ConnectOptions::tcp(80, "example.test")
    });
    assert!(matches!(
        c,
        Command::Resolve {
            hints: 32,
            all: false,
            ..
        }
    ));
}

#[test]
fn resolve_keeps_explicit_hints() {
    let c = resolve_cmd(ConnectOptions {
        hints: 1024,
        ..ConnectOptions::tcp(80, "example.test")
    });
    assert!(matches!(c, Command::Resolve { hints: 1024, .. }));
}

#[test]
fn family_6_with_v4mapped_asks_getaddrinfo_for_mapped_addresses_and_connects_to_one() {
    // Node v20: `{host: 'localhost', family: 6, hints: dns.V4MAPPED}` on a machine whose
    // hosts file has only `127.0.0.1 localhost` connects to ::ffff:127.0.0.1.
    let mut h = H::client();
    let mut opts = ConnectOptions::tcp(80, "localhost");
    opts.family = 6;
    opts.hints = V4MAPPED;
    h.s.connect(opts, h.now).unwrap();
    let cmds = h.cmds();
    let [Command::Resolve {
        id,
        host,
        family,
        hints,
        all,
        custom: false,
    }] = &cmds[..]
    else {
        panic!("{cmds:?}")
    };
    assert_eq!((*family, *hints, *all), (6, V4MAPPED, false));
    // The driver's lookup: the question getaddrinfo gets, and the answer shaped.
    let DnsLookup::Query(query) = dns_lookup(
        host,
        LookupOptions {
            family: *family,
            hints: *hints,
            all: *all,
        },
    ) else {
        panic!("localhost is not a literal")
    };
    assert_eq!((query.family(), query.hints()), (6, V4MAPPED));
    let mapped: std::net::IpAddr = "::ffff:127.0.0.1".parse().unwrap();
    let answer = query.answer(Some(Ok(vec![mapped, mapped])));
    h.s.handle_resolved(*id, answer, h.now);
    assert_eq!(
        h.evs()[0],
        SocketEvent::Lookup {
            error: None,
            address: Some("::ffff:127.0.0.1".into()),
            family: Some(6),
            host: "localhost".into(),
        }
    );
    h.tick();
    let connect = h.cmds().into_iter().find_map(|c| match c {
        Command::Connect { endpoint, .. } => Some(endpoint),
        _ => None,
    });
    assert_eq!(
        connect,
        Some(Endpoint::Tcp("[::ffff:127.0.0.1]:80".parse().unwrap()))
    );
}

#[test]
fn custom_lookup_flag_reaches_the_backend() {
    let c = resolve_cmd(ConnectOptions {
        lookup: true,
        ..ConnectOptions::tcp(80, "example.test")
    });
    assert!(matches!(c, Command::Resolve { custom: true, .. }));
}

#[test]
fn resolving_state_properties() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "localhost"), h.now)
        .unwrap();
    assert!(h.s.connecting() && h.s.pending());
    assert_eq!(h.s.ready_state().as_str(), "opening");
    assert_eq!(h.s.remote_address(), None);
}

#[test]
fn localhost_lookup_then_connect() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "localhost"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.resolved(id, &[("127.0.0.1", 4)]);
    assert_eq!(
        h.evs(),
        [
            SocketEvent::Lookup {
                error: None,
                address: Some("127.0.0.1".into()),
                family: Some(4),
                host: "localhost".into()
            },
            SocketEvent::ConnectionAttempt {
                address: "127.0.0.1".into(),
                port: Some(80),
                family: Some(4)
            }
        ]
    );
    let a = h.attempt();
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.names(), ["connect", "ready"]);
}

#[test]
fn single_mode_takes_the_first_address() {
    let mut h = H::client();
    let opts = ConnectOptions {
        family: 4,
        ..ConnectOptions::tcp(80, "example.test")
    };
    h.s.connect(opts, h.now).unwrap();
    let id = h.resolve_id();
    h.resolved(id, &[("10.0.0.1", 4), ("10.0.0.2", 4)]);
    assert_eq!(h.names(), ["lookup", "connectionAttempt"]);
}

#[test]
fn multi_mode_emits_one_lookup_per_entry() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "example.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.resolved(
        id,
        &[
            ("::1", 6),
            ("127.0.0.1", 4),
            ("::1", 6),
            ("127.0.0.2", 4),
            ("127.0.0.3", 4),
        ],
    );
    let evs = h.evs();
    assert_eq!(evs.iter().filter(|e| name(e) == "lookup").count(), 5);
    match evs.last().unwrap() {
        SocketEvent::ConnectionAttempt {
            address, family, ..
        } => {
            assert_eq!((address.as_str(), *family), ("::1", Some(6)))
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn multi_mode_single_candidate_falls_back_to_single_path() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "example.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.resolved(id, &[("127.0.0.1", 4), ("127.0.0.1", 4)]);
    assert_eq!(h.names(), ["lookup", "lookup", "connectionAttempt"]);
    assert_eq!(h.s.auto_select_family_attempted_addresses(), None);
}

#[test]
fn lookup_failure() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "nope.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    let err = Error::getaddrinfo(ErrorCode::ENOTFOUND, "nope.test");
    h.s.handle_resolved(id, Err(err.clone()), h.now);
    let evs = h.evs();
    assert_eq!(
        evs,
        [
            SocketEvent::Lookup {
                error: Some(err.clone()),
                address: None,
                family: None,
                host: "nope.test".into()
            },
            SocketEvent::Error(err),
            SocketEvent::Close {
                had_error: Some(true)
            }
        ]
    );
    assert_eq!(error_of(&evs).message(), "getaddrinfo ENOTFOUND nope.test");
}

#[test]
fn empty_lookup_result_is_not_found() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "nope.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.s.handle_resolved(id, Ok(vec![]), h.now);
    let evs = h.evs();
    assert_eq!(error_of(&evs).code(), ErrorCode::ENOTFOUND);
}

#[test]
fn lookup_returning_a_non_ip() {
    let mut h = H::client();
    let opts = ConnectOptions {
        family: 4,
        ..ConnectOptions::tcp(80, "bad.test")
    };
    h.s.connect(opts, h.now).unwrap();
    let id = h.resolve_id();
    h.resolved(id, &[("notanip", 4)]);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["lookup", "error", "close(true)"]
    );
    let e = error_of(&evs);
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_IP_ADDRESS);
    assert_eq!(e.message(), "Invalid IP address: notanip");
}

#[test]
fn lookup_returning_a_bad_family() {
    let mut h = H::client();
    let opts = ConnectOptions {
        family: 4,
        ..ConnectOptions::tcp(80, "bad.test")
    };
    h.s.connect(opts, h.now).unwrap();
    let id = h.resolve_id();
    h.resolved(id, &[("127.0.0.1", 5)]);
    let e = error_of(&h.evs());
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_ADDRESS_FAMILY);
    assert_eq!(e.message(), "Invalid address family: 5 bad.test:80");
    assert_eq!((e.host(), e.port()), (Some("bad.test"), Some(80)));
}

#[test]
fn multi_mode_no_valid_entry_reports_first_entry() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "bad.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.resolved(id, &[("nope", 4)]);
    assert_eq!(error_of(&h.evs()).code(), ErrorCode::ERR_INVALID_IP_ADDRESS);
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "bad.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.resolved(id, &[("127.0.0.1", 5)]);
    assert_eq!(
        error_of(&h.evs()).code(),
        ErrorCode::ERR_INVALID_ADDRESS_FAMILY
    );
}

#[test]
fn stale_resolve_id_is_ignored() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "a.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.resolved(AttemptId(id.0 + 100), &[("127.0.0.1", 4)]);
    assert!(h.evs().is_empty());
    assert!(h.cmds().is_empty());
    assert!(h.s.connecting());
}

#[test]
fn destroyed_during_lookup_ignores_the_result() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "a.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.s.destroy(None);
    assert_eq!(h.names(), ["close(false)"]);
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
    h.resolved(id, &[("127.0.0.1", 4)]);
    assert!(h.evs().is_empty(), "nothing after Close");
    assert!(h.cmds().is_empty());
}

#[test]
fn lookup_refreshes_the_idle_timer() {
    let mut h = H::client();
    h.s.set_timeout(100, h.now).unwrap();
    h.s.connect(ConnectOptions::tcp(80, "a.test"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.advance(80);
    h.resolved(id, &[("127.0.0.1", 4)]);
    assert_eq!(
        h.s.poll_timeout(),
        Some(h.t0 + std::time::Duration::from_millis(180))
    );
}

#[test]
fn block_list_blocks_the_address() {
    let mut list = BlockList::new();
    list.add_subnet("127.0.0.0", 8, "ipv4").unwrap();
    let mut h = H::client();
    let opts = ConnectOptions {
        block_list: Some(list),
        ..ConnectOptions::tcp(80, "127.0.0.1")
    };
    h.s.connect(opts, h.now).unwrap();
    h.tick();
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["connectionAttempt", "error", "close(true)"]
    );
    assert_eq!(
        error_of(&evs).message(),
        "IP(127.0.0.1) is blocked by net.BlockList"
    );
    assert!(!h
        .cmds()
        .iter()
        .any(|c| matches!(c, Command::Connect { .. })));
}

// ---- IPC ------------------------------------------------------------------------------

#[test]
fn pipe_connect_is_synchronous() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::path("/tmp/x.sock"), h.now)
        .unwrap();
    assert!(h.s.connecting());
    assert_eq!(
        h.cmds(),
        [Command::Connect {
            attempt: AttemptId(1),
            endpoint: Endpoint::Pipe("/tmp/x.sock".into()),
            local: None
        }]
    );
    assert_eq!(
        h.evs(),
        [SocketEvent::ConnectionAttempt {
            address: "/tmp/x.sock".into(),
            port: None,
            family: None
        }]
    );
}

#[test]
fn pipe_connected_has_no_addresses() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::path("/tmp/x.sock"), h.now)
        .unwrap();
    let a = h.attempt();
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.names(), ["connectionAttempt", "connect", "ready"]);
    assert_eq!(h.s.remote_address(), None);
    assert_eq!(h.s.local_address(), None);
    assert_eq!(h.s.address(), None);
}

#[test]
fn pipe_missing_path_error() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::path("/path"), h.now).unwrap();
    let a = h.attempt();
    h.s.handle_connect_failed(a, ErrorCode::ENOENT, h.now);
    let e = error_of(&h.evs());
    assert_eq!(e.message(), "connect ENOENT /path");
    assert_eq!((e.address(), e.port()), (Some("/path"), None));
}

#[test]
fn pipe_ignores_no_delay_and_keep_alive() {
    let mut h = H::new(SocketOptions {
        no_delay: true,
        keep_alive: true,
        ..SocketOptions::default()
    });
    h.s.connect(ConnectOptions::path("/p"), h.now).unwrap();
    let a = h.attempt();
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.cmds(), [Command::StartReading]);
    h.s.set_no_delay(false);
    h.s.set_keep_alive(false, 0);
    assert!(h.cmds().is_empty());
}

#[test]
fn reset_and_destroy_on_pipe_is_invalid_handle_type() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::path("/p"), h.now).unwrap();
    let a = h.attempt();
    h.s.handle_connected(a, None, h.now);
    let e = h.s.reset_and_destroy().unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_HANDLE_TYPE);
    assert_eq!(e.message(), "This handle type cannot be sent");
    assert!(!h.s.destroyed());
}

// ---- writes and end while connecting --------------------------------------------------

#[test]
fn writes_before_connect_are_queued_and_counted() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    assert!(h.write("héllo").ok);
    assert!(h.s.write_tracked(Bytes::from(vec![0u8; 10]), h.now).ok);
    assert_eq!(h.s.bytes_written(), 16);
    assert_eq!(h.s.writable_length(), 16);
    h.tick();
    let a = h.attempt();
    h.s.handle_connected(a, None, h.now);
    let cmds = h.cmds();
    assert!(cmds.contains(&Command::Write));
    assert_eq!(h.s.write_chunks().count(), 2);
    h.flush_all();
    let evs = h.evs();
    assert_eq!(write_results(&evs), [None, None]);
    assert_eq!(h.s.bytes_written(), 16);
    assert_eq!(h.s.writable_length(), 0);
}

#[test]
fn high_water_mark_before_connect_and_drain_after() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    assert!(h.s.write_tracked(Bytes::from(vec![0u8; 16383]), h.now).ok);
    assert_eq!(h.s.writable_length(), 16383);
    assert!(!h.s.write_tracked(Bytes::from(vec![0u8; 1]), h.now).ok);
    assert_eq!(h.s.writable_length(), 16384);
    assert!(h.s.writable_need_drain());
    h.tick();
    let a = h.attempt();
    h.s.handle_connected(a, None, h.now);
    h.evs();
    h.flush_all();
    assert_eq!(h.names(), ["drain", "writeOk", "writeOk"]);
    assert_eq!(h.s.bytes_written(), 16384);
}

#[test]
fn no_data_is_offered_before_connect() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.write("abc");
    assert_eq!(h.s.write_chunks().count(), 0);
    assert_eq!(h.s.peek_write(), None);
    h.s.handle_written(3, h.now);
    assert_eq!(h.s.writable_length(), 3, "stale write report ignored");
}

#[test]
fn refused_with_pending_writes() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(9, "127.0.0.1"), h.now)
        .unwrap();
    h.write("one");
    h.write("two");
    h.s.end(h.now).unwrap();
    h.tick();
    let a = h.attempt();
    h.evs();
    h.s.handle_connect_failed(a, ErrorCode::ECONNREFUSED, h.now);
    let evs = h.evs();
    // node: connectionAttemptFailed, error, close(true), then the parked first write's
    // callback (a 'close' listener) and the buffered one with the stream's error.
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        [
            "connectionAttemptFailed",
            "error",
            "close(true)",
            "writeErr",
            "writeErr"
        ]
    );
    assert_eq!(
        write_results(&evs),
        [
            Some("ERR_SOCKET_CLOSED_BEFORE_CONNECTION".into()),
            Some("ECONNREFUSED".into())
        ]
    );
}

#[test]
fn destroy_while_connecting_with_pending_writes() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.write("one");
    h.write("two");
    h.write("three");
    h.s.destroy(None);
    let evs = h.evs();
    // node (test-net-write-cb-on-destroy-before-connect.js): 'close' first, then the
    // callbacks, all ERR_SOCKET_CLOSED_BEFORE_CONNECTION.
    assert_eq!(name(&evs[0]), "close(false)");
    assert_eq!(
        write_results(&evs),
        vec![Some("ERR_SOCKET_CLOSED_BEFORE_CONNECTION".to_string()); 3]
    );
    assert_eq!(evs.len(), 4);
    // Node's `_pendingData` (the parked first write) stays counted after the close.
    assert_eq!(h.s.bytes_written(), 3);
}

#[test]
fn destroy_before_the_connect_tick_emits_only_close() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.s.destroy(None);
    h.tick();
    assert_eq!(h.names(), ["close(false)"]);
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
}

#[test]
fn end_before_connect_sends_data_then_fin() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.s.end_tracked_with(b("early"), h.now);
    assert_eq!(h.s.ready_state(), ReadyState::Opening);
    assert!(!h.s.writable());
    let a = h.connect_attempt_after_tick();
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.s.ready_state(), ReadyState::ReadOnly);
    assert_eq!(h.cmds(), [Command::Write, Command::StartReading]);
    h.flush_all();
    assert_eq!(h.cmds(), [Command::Shutdown]);
    h.s.handle_shutdown(Ok(()), h.now);
    assert_eq!(
        h.names(),
        ["connectionAttempt", "connect", "ready", "writeOk", "finish"]
    );
    h.s.handle_eof(h.now);
    assert_eq!(h.names(), ["end", "close(false)"]);
}

trait AttemptAfterTick {
    fn connect_attempt_after_tick(&mut self) -> AttemptId;
}
impl AttemptAfterTick for H {
    fn connect_attempt_after_tick(&mut self) -> AttemptId {
        self.tick();
        self.attempt()
    }
}

#[test]
fn end_without_data_before_connect_shuts_down_at_connect() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.s.end(h.now).unwrap();
    let a = h.connect_attempt_after_tick();
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.cmds(), [Command::Shutdown, Command::StartReading]);
}

#[test]
fn reset_and_destroy_while_connecting_is_deferred() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.s.reset_and_destroy().unwrap();
    assert!(!h.s.destroyed());
    let a = h.connect_attempt_after_tick();
    h.evs();
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.names(), ["connect", "ready", "close(false)"]);
    assert_eq!(h.cmds(), [Command::Close { reset: true }]);
}

#[test]
fn pause_before_connect_means_no_reading() {
    let mut h = H::client();
    h.s.pause();
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.s.handle_connected(a, None, h.now);
    assert!(h.cmds().is_empty());
    h.s.resume(h.now);
    // Node's resume_ runs on the next tick.
    assert!(h.cmds().is_empty());
    h.tick();
    assert_eq!(h.cmds(), [Command::StartReading]);
}

#[test]
fn stored_options_are_applied_at_connect() {
    let mut h = H::client();
    h.s.set_keep_alive(true, 7000);
    h.s.set_no_delay(true);
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.s.handle_connected(a, None, h.now);
    assert_eq!(
        h.cmds(),
        [
            Command::SetNoDelay(true),
            Command::SetKeepAlive {
                enable: true,
                initial_delay_secs: 7
            },
            Command::StartReading
        ]
    );
}

#[test]
fn connect_options_carry_socket_options() {
    let mut h = H::client();
    let opts = ConnectOptions {
        no_delay: Some(true),
        keep_alive: Some(true),
        keep_alive_initial_delay: Some(1999.0),
        ..ConnectOptions::tcp(80, "127.0.0.1")
    };
    let a = h.connect_to(opts);
    h.s.handle_connected(a, None, h.now);
    let c = h.cmds();
    assert!(c.contains(&Command::SetNoDelay(true)));
    assert!(c.contains(&Command::SetKeepAlive {
        enable: true,
        initial_delay_secs: 1
    }));
}

#[test]
fn keep_alive_without_delay_uses_zero() {
    let mut h = H::new(SocketOptions {
        keep_alive: true,
        ..SocketOptions::default()
    });
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.s.handle_connected(a, None, h.now);
    assert!(h.cmds().contains(&Command::SetKeepAlive {
        enable: true,
        initial_delay_secs: 0
    }));
}

#[test]
fn disabled_options_are_not_applied_at_connect() {
    let mut h = H::client();
    h.s.set_keep_alive(false, 7000);
    h.s.set_no_delay(false);
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.cmds(), [Command::StartReading]);
}

// ---- timers while connecting ----------------------------------------------------------

#[test]
fn hung_connect_times_out_once() {
    let mut h = H::client();
    h.s.set_timeout(150, h.now).unwrap();
    h.connect_to(ConnectOptions::tcp(80, "10.255.255.1"));
    h.evs();
    assert!(h.run_timer());
    assert_eq!(h.ms(), 150);
    assert_eq!(h.names(), ["timeout"]);
    assert!(h.s.connecting());
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn connect_timeout_option() {
    let mut h = H::client();
    let opts = ConnectOptions {
        timeout: Some(50.into()),
        ..ConnectOptions::tcp(80, "127.0.0.1")
    };
    let a = h.connect_to(opts);
    h.s.handle_connected(a, None, h.now);
    h.evs();
    assert_eq!(h.s.timeout(), Some(50.0));
    h.run_timer();
    assert_eq!(h.names(), ["timeout"]);
    assert_eq!(h.s.ready_state(), ReadyState::Open, "timeout never closes");
}

#[test]
fn zero_timeout_option_is_ignored() {
    let mut h = H::client();
    let opts = ConnectOptions {
        timeout: Some(0.into()),
        ..ConnectOptions::tcp(80, "127.0.0.1")
    };
    h.s.connect(opts, h.now).unwrap();
    assert_eq!(h.s.timeout(), None);
}

#[test]
fn connect_completion_refreshes_timer() {
    let mut h = H::client();
    h.s.set_timeout(100, h.now).unwrap();
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.advance(90);
    h.s.handle_connected(a, None, h.now);
    assert_eq!(
        h.s.poll_timeout(),
        Some(h.now + std::time::Duration::from_millis(100))
    );
}

// ---- second connect, stale attempts, reconnect ----------------------------------------

#[test]
fn second_connect_while_connecting_is_ealready() {
    let mut h = H::client();
    h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.evs();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.tick();
    let evs = h.evs();
    // node: connectionAttempt (the second), error EALREADY, close(true). Node names the
    // local address the kernel already bound (` - Local (127.0.0.1:<port>)`), which a
    // socket learns only once connected.
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["connectionAttempt", "error", "close(true)"]
    );
    let e = error_of(&evs);
    assert_eq!(e.code(), ErrorCode::EALREADY);
    assert_eq!(e.message(), "connect EALREADY 127.0.0.1:80");
}

#[test]
fn connect_on_open_socket_is_eisconn() {
    let mut h = H::connected();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.tick();
    assert_eq!(error_of(&h.evs()).code(), ErrorCode::EISCONN);
}

#[test]
fn stale_attempt_answers_are_ignored() {
    let mut h = H::client();
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.evs();
    let stale = AttemptId(a.0 + 7);
    h.s.handle_connected(stale, None, h.now);
    h.s.handle_connect_failed(stale, ErrorCode::ECONNREFUSED, h.now);
    h.s.handle_bind_failed(stale, ErrorCode::EADDRINUSE, h.now);
    assert!(h.evs().is_empty());
    assert!(h.s.connecting());
}

#[test]
fn answers_after_destroy_are_ignored() {
    let mut h = H::client();
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.s.destroy(None);
    h.evs();
    h.s.handle_connected(a, None, h.now);
    h.s.handle_data(b("x"), h.now);
    h.s.handle_eof(h.now);
    h.s.handle_connect_failed(a, ErrorCode::ECONNREFUSED, h.now);
    assert!(h.evs().is_empty());
    assert!(h.cmds().iter().all(|c| matches!(c, Command::Close { .. })));
}

#[test]
fn reconnect_after_close() {
    let mut h = H::client();
    let a = h.connect_to(ConnectOptions::tcp(9, "127.0.0.1"));
    h.s.handle_connect_failed(a, ErrorCode::ECONNREFUSED, h.now);
    h.evs();
    h.cmds();
    let a2 = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    assert_ne!(a, a2);
    assert!(!h.s.destroyed());
    h.s.handle_connected(a2, None, h.now);
    assert_eq!(h.names(), ["connectionAttempt", "connect", "ready"]);
    assert_eq!(h.s.ready_state(), ReadyState::Open);
    assert_eq!(h.s.bytes_read(), 0);
    h.s.destroy(None);
    assert_eq!(h.names(), ["close(false)"]);
}

#[test]
fn reconnect_resets_counters_and_caches() {
    let mut h = H::connected();
    h.s.handle_data(b("12345"), h.now);
    h.write("ab");
    h.flush_all();
    assert_eq!(h.s.remote_port(), Some(80));
    h.s.destroy(None);
    assert_eq!(h.s.bytes_read(), 5);
    assert_eq!(h.s.bytes_written(), 2);
    assert_eq!(h.s.remote_port(), Some(80), "peer cached after close");
    h.s.connect(ConnectOptions::tcp(81, "127.0.0.1"), h.now)
        .unwrap();
    assert_eq!((h.s.bytes_read(), h.s.bytes_written()), (0, 0));
    assert_eq!(h.s.remote_address(), None);
}

// ---- bufferSize (test-net-buffersize) ----------------------------------------------

#[test]
fn buffer_size_is_the_writable_length_while_there_is_a_handle() {
    let mut h = H::client();
    // new net.Socket(): no handle, bufferSize undefined.
    assert_eq!(h.s.buffer_size(), None);
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    // connect() creates the handle at once.
    assert_eq!(h.s.buffer_size(), Some(0));
    for i in 1..10 {
        h.write("a");
        assert_eq!(h.s.buffer_size(), Some(i));
    }
    h.tick();
    let a = h.attempt();
    h.s.handle_connected(a, "127.0.0.1:5555".parse().ok(), h.now);
    h.flush_all();
    assert_eq!(h.s.buffer_size(), Some(0));
    // destroy() closes the handle: undefined again.
    h.s.destroy(None);
    assert_eq!(h.s.buffer_size(), None);
}
