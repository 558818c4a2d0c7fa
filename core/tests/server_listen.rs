//! Transcript tests for `Server::listen` (§6.2, §6.3, §10): input, then the exact commands
//! and events expected.

use std::net::SocketAddr;
use std::time::Instant;

use nodenet_core::dns::LookupOptions;
use nodenet_core::server::{
    ListenOptions, ListenStage, ListenerId, ResolveId, Server, ServerCommand, ServerEvent,
    ServerOptions,
};
use nodenet_core::{Endpoint, Error, ErrorCode, LookupAddress};

fn server() -> Server {
    Server::new(ServerOptions::default())
}

fn commands(s: &mut Server) -> Vec<ServerCommand> {
    std::iter::from_fn(|| s.poll_command()).collect()
}

fn events(s: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn tcp(s: &str) -> Endpoint {
    Endpoint::Tcp(s.parse::<SocketAddr>().unwrap())
}

fn listen_cmd(id: ListenerId, endpoint: Endpoint) -> ServerCommand {
    ServerCommand::Listen {
        id,
        endpoint,
        backlog: 511,
        ipv6_only: false,
        exclusive: false,
        readable_all: false,
        writable_all: false,
        reuse_port: false,
    }
}

/// Node's lookup callback: the answer given to `handle_resolved` takes effect when the
/// user's code returned (the next `poll_event`), with no event of its own here.
fn lookup_callback(s: &mut Server) {
    assert_eq!(s.poll_event(), None);
}

/// The id of the single `Listen` command queued, checking its endpoint.
fn expect_listen(s: &mut Server, endpoint: Endpoint) -> ListenerId {
    let cmds = commands(s);
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    match &cmds[0] {
        ServerCommand::Listen {
            id, endpoint: e, ..
        } => {
            assert_eq!(e, &endpoint);
            *id
        }
        other => panic!("expected Listen, got {other:?}"),
    }
}

fn expect_error(s: &mut Server) -> Error {
    match events(s).as_slice() {
        [ServerEvent::Error(e)] => e.clone(),
        other => panic!("expected one Error, got {other:?}"),
    }
}

#[test]
fn fresh_server_is_not_listening() {
    let s = server();
    assert!(!s.listening());
    assert_eq!(s.address(), None);
    assert_eq!(s.connections(), 0);
    assert_eq!(s.max_connections(), None);
}

#[test]
fn listen_any_port_binds_dual_stack_then_emits_listening() {
    let now = Instant::now();
    // listen() / listen(0) / listen('0') all mean port 0 on `::`.
    for opts in [
        ListenOptions::new(),
        ListenOptions::port(0),
        ListenOptions::port("0"),
    ] {
        let mut s = server();
        s.listen(opts, now).unwrap();
        let id = expect_listen(&mut s, tcp("[::]:0"));
        assert!(!s.listening());
        assert_eq!(events(&mut s), []);
        s.handle_listening(id, tcp("[::]:41234"), now);
        assert!(s.listening());
        assert_eq!(s.address(), Some(tcp("[::]:41234")));
        assert_eq!(events(&mut s), [ServerEvent::Listening]);
    }
}

#[test]
fn listen_command_carries_backlog_and_flags() {
    let now = Instant::now();
    let mut s = server();
    s.listen(
        ListenOptions::port(8080)
            .backlog(10)
            .ipv6_only(true)
            .exclusive(true),
        now,
    )
    .unwrap();
    let cmds = commands(&mut s);
    let ServerCommand::Listen { id, .. } = cmds[0] else {
        panic!()
    };
    assert_eq!(
        cmds,
        [ServerCommand::Listen {
            id,
            endpoint: tcp("[::]:8080"),
            backlog: 10,
            ipv6_only: true,
            exclusive: true,
            readable_all: false,
            writable_all: false,
            reuse_port: false,
        }]
    );
    // backlog 0 is falsy in Node: 511.
    let mut s = server();
    s.listen(ListenOptions::port(1).backlog(0), now).unwrap();
    let id = ListenerId(1);
    assert_eq!(commands(&mut s), [listen_cmd(id, tcp("[::]:1"))]);
}

#[test]
fn bad_ports_throw_with_options_port_wording() {
    let now = Instant::now();
    let cases: [(ListenOptions, &str); 6] = [
        (ListenOptions::port(-1), "type number (-1)"),
        (ListenOptions::port(65536), "type number (65536)"),
        (ListenOptions::port(1.5), "type number (1.5)"),
        (ListenOptions::port(" "), "type string (' ')"),
        (ListenOptions::port("abc"), "type string ('abc')"),
        (ListenOptions::port(f64::NAN), "type number (NaN)"),
    ];
    for (opts, received) in cases {
        let mut s = server();
        let e = s.listen(opts, now).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ERR_SOCKET_BAD_PORT);
        assert_eq!(
            e.message(),
            format!("options.port should be >= 0 and < 65536. Received {received}.")
        );
        assert_eq!(commands(&mut s), []);
        assert!(!s.listening());
    }
}

#[test]
fn string_ports_are_converted_like_node() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port("0x50"), now).unwrap();
    expect_listen(&mut s, tcp("[::]:80"));
}

#[test]
fn non_pipe_paths_are_invalid_arg_values() {
    let now = Instant::now();
    for (path, shown) in [("8080", "'8080'"), ("", "''"), ("0x10", "'0x10'")] {
        let mut s = server();
        let e = s.listen(ListenOptions::path(path), now).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ERR_INVALID_ARG_VALUE);
        assert_eq!(
            e.message(),
            format!("The argument 'options' is invalid. Received {{ path: {shown} }}")
        );
    }
}

#[test]
fn abstract_path_rejects_readable_all_and_writable_all() {
    let now = Instant::now();
    let mut s = server();
    let e = s
        .listen(ListenOptions::path("\0abs").readable_all(true), now)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_ARG_VALUE);
    assert_eq!(
        e.message(),
        "The argument 'options' can not set readableAll or writableAllt to true when path is \
         abstract unix socket. Received { path: '\\x00abs', readableAll: true }"
    );
    let e = s
        .listen(ListenOptions::path("\0abs").writable_all(true), now)
        .unwrap_err();
    assert!(e
        .message()
        .ends_with("Received { path: '\\x00abs', writableAll: true }"));
    assert_eq!(commands(&mut s), []);
    // Without the flags the abstract name is listened on, and nothing is unlinked later.
    s.listen(ListenOptions::path("\0abs"), now).unwrap();
    let id = expect_listen(&mut s, Endpoint::Pipe("\0abs".into()));
    s.handle_listening(id, Endpoint::Pipe("\0abs".into()), now);
    assert_eq!(s.address(), Some(Endpoint::Pipe("\0abs".into())));
    s.close(now).unwrap();
    assert_eq!(commands(&mut s), [ServerCommand::CloseListener { id }]);
}

#[test]
fn listen_twice_throws_already_listen() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(0), now).unwrap();
    // Even while the bind is out (Node has the handle synchronously).
    let e = s.listen(ListenOptions::port(0), now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_SERVER_ALREADY_LISTEN);
    assert_eq!(
        e.message(),
        "Listen method has been called more than once without closing."
    );
    let id = expect_listen(&mut s, tcp("[::]:0"));
    s.handle_listening(id, tcp("[::]:5000"), now);
    let e = s.listen(ListenOptions::port(0), now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_SERVER_ALREADY_LISTEN);
    assert!(s.listening());
}

#[test]
fn busy_port_reports_listen_eaddrinuse_on_dual_stack_address_and_can_retry() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(8124), now).unwrap();
    let id = expect_listen(&mut s, tcp("[::]:8124"));
    // libuv defers a bind's EADDRINUSE to listen(): no fallback to 0.0.0.0.
    s.handle_listen_failed(id, ListenStage::Bind, ErrorCode::EADDRINUSE, now);
    assert_eq!(commands(&mut s), []);
    let e = expect_error(&mut s);
    assert_eq!(e.code(), ErrorCode::EADDRINUSE);
    assert_eq!(e.errno(), Some(-98));
    assert_eq!(e.syscall(), Some("listen"));
    assert_eq!(e.address(), Some("::"));
    assert_eq!(e.port(), Some(8124));
    assert_eq!(
        e.message(),
        "listen EADDRINUSE: address already in use :::8124"
    );
    assert!(!s.listening());
    assert_eq!(s.address(), None);
    // listen again without close.
    s.listen(ListenOptions::port(8124), now).unwrap();
    let id = expect_listen(&mut s, tcp("[::]:8124"));
    s.handle_listening(id, tcp("[::]:8124"), now);
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
}

#[test]
fn failed_ipv6_bind_falls_back_to_ipv4_any() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(3000).ipv6_only(true), now)
        .unwrap();
    let first = expect_listen(&mut s, tcp("[::]:3000"));
    s.handle_listen_failed(first, ListenStage::Bind, ErrorCode::EAFNOSUPPORT, now);
    assert_eq!(events(&mut s), []);
    let cmds = commands(&mut s);
    let ServerCommand::Listen { id: second, .. } = cmds[0] else {
        panic!("{cmds:?}")
    };
    assert_ne!(first, second);
    // The fallback binds without flags.
    assert_eq!(cmds, [listen_cmd(second, tcp("0.0.0.0:3000"))]);
    // A late answer for the first listener is ignored.
    s.handle_listen_failed(first, ListenStage::Listen, ErrorCode::EACCES, now);
    assert_eq!(events(&mut s), []);
    // A failure of the fallback names 0.0.0.0.
    s.handle_listen_failed(second, ListenStage::Bind, ErrorCode::EACCES, now);
    let e = expect_error(&mut s);
    assert_eq!(e.message(), "listen EACCES: permission denied 0.0.0.0:3000");
    assert_eq!(e.address(), Some("0.0.0.0"));
}

#[test]
fn fallback_success_listens_on_ipv4() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::new(), now).unwrap();
    let first = expect_listen(&mut s, tcp("[::]:0"));
    s.handle_listen_failed(first, ListenStage::Bind, ErrorCode::EADDRNOTAVAIL, now);
    let second = expect_listen(&mut s, tcp("0.0.0.0:0"));
    s.handle_listening(second, tcp("0.0.0.0:40000"), now);
    assert_eq!(s.address(), Some(tcp("0.0.0.0:40000")));
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
}

#[test]
fn listen_stage_failure_on_dual_stack_does_not_fall_back() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(9), now).unwrap();
    let id = expect_listen(&mut s, tcp("[::]:9"));
    s.handle_listen_failed(id, ListenStage::Listen, ErrorCode::EACCES, now);
    assert_eq!(commands(&mut s), []);
    assert_eq!(
        expect_error(&mut s).message(),
        "listen EACCES: permission denied :::9"
    );
}

#[test]
fn host_is_resolved_first_even_for_ip_literals() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(0).host("127.0.0.1"), now)
        .unwrap();
    assert!(!s.listening());
    assert_eq!(s.address(), None);
    let cmds = commands(&mut s);
    let ServerCommand::Resolve { id, host, options } = &cmds[0] else {
        panic!("{cmds:?}")
    };
    assert_eq!(host, "127.0.0.1");
    // Node's `dns.lookup(host, cb)`: any family, no hints, the first address.
    assert_eq!(*options, LookupOptions::default());
    s.handle_resolved(*id, Ok(vec![LookupAddress::new("127.0.0.1", 4)]), now);
    // Even a literal binds only in the lookup callback (node: listening false, address()
    // null right after listen()).
    assert!(!s.listening());
    assert!(commands(&mut s).is_empty());
    lookup_callback(&mut s);
    let lid = expect_listen(&mut s, tcp("127.0.0.1:0"));
    s.handle_listening(lid, tcp("127.0.0.1:36000"), now);
    assert_eq!(s.address(), Some(tcp("127.0.0.1:36000")));
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
}

#[test]
fn resolved_ipv6_host_keeps_ipv6_only_and_uses_the_first_address() {
    let now = Instant::now();
    let mut s = server();
    s.listen(
        ListenOptions::port(7000).host("localhost").ipv6_only(true),
        now,
    )
    .unwrap();
    let cmds = commands(&mut s);
    let ServerCommand::Resolve { id, .. } = cmds[0].clone() else {
        panic!()
    };
    s.handle_resolved(
        id,
        Ok(vec![
            LookupAddress::new("::1", 6),
            LookupAddress::new("127.0.0.1", 4),
        ]),
        now,
    );
    lookup_callback(&mut s);
    let cmds = commands(&mut s);
    let ServerCommand::Listen { id: lid, .. } = cmds[0] else {
        panic!()
    };
    assert_eq!(
        cmds,
        [ServerCommand::Listen {
            id: lid,
            endpoint: tcp("[::1]:7000"),
            backlog: 511,
            ipv6_only: true,
            exclusive: false,
            readable_all: false,
            writable_all: false,
            reuse_port: false,
        }]
    );
}

#[test]
fn host_listen_errors_name_the_resolved_ip_without_fallback() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(8124).host("127.0.0.1"), now)
        .unwrap();
    let id = match commands(&mut s).as_slice() {
        [ServerCommand::Resolve { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    s.handle_resolved(id, Ok(vec![LookupAddress::new("127.0.0.1", 4)]), now);
    lookup_callback(&mut s);
    let lid = expect_listen(&mut s, tcp("127.0.0.1:8124"));
    s.handle_listen_failed(lid, ListenStage::Bind, ErrorCode::EADDRINUSE, now);
    assert_eq!(commands(&mut s), []);
    let e = expect_error(&mut s);
    assert_eq!(
        e.message(),
        "listen EADDRINUSE: address already in use 127.0.0.1:8124"
    );
    // A non-deferred bind failure is still reported under `listen`.
    s.listen(ListenOptions::port(0).host("8.8.8.8"), now)
        .unwrap();
    let ServerCommand::Resolve { id, .. } = commands(&mut s)[0].clone() else {
        panic!()
    };
    s.handle_resolved(id, Ok(vec![LookupAddress::new("8.8.8.8", 4)]), now);
    lookup_callback(&mut s);
    let lid = expect_listen(&mut s, tcp("8.8.8.8:0"));
    s.handle_listen_failed(lid, ListenStage::Bind, ErrorCode::EADDRNOTAVAIL, now);
    let e = expect_error(&mut s);
    assert_eq!(
        e.message(),
        "listen EADDRNOTAVAIL: address not available 8.8.8.8"
    );
    assert_eq!(e.port(), None);
}

#[test]
fn lookup_error_is_emitted_unchanged() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(0).host("nope.invalid"), now)
        .unwrap();
    let ServerCommand::Resolve { id, .. } = commands(&mut s)[0].clone() else {
        panic!()
    };
    let err = Error::getaddrinfo(ErrorCode::ENOTFOUND, "nope.invalid");
    s.handle_resolved(id, Err(err.clone()), now);
    assert_eq!(events(&mut s), [ServerEvent::Error(err)]);
    assert!(!s.listening());
    // An empty answer is reported as not found.
    s.listen(ListenOptions::port(0).host("empty.test"), now)
        .unwrap();
    let ServerCommand::Resolve { id, .. } = commands(&mut s)[0].clone() else {
        panic!()
    };
    s.handle_resolved(id, Ok(vec![]), now);
    assert_eq!(
        expect_error(&mut s).message(),
        "getaddrinfo ENOTFOUND empty.test"
    );
}

#[test]
fn second_listen_during_lookup_discards_the_first() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(0).host("localhost"), now)
        .unwrap();
    let ServerCommand::Resolve { id: first, .. } = commands(&mut s)[0].clone() else {
        panic!()
    };
    // No handle yet: no ERR_SERVER_ALREADY_LISTEN.
    s.listen(ListenOptions::port(0).host("127.0.0.1"), now)
        .unwrap();
    let ServerCommand::Resolve { id: second, .. } = commands(&mut s)[0].clone() else {
        panic!()
    };
    assert_ne!(first, second);
    s.handle_resolved(first, Ok(vec![LookupAddress::new("127.0.0.1", 4)]), now);
    lookup_callback(&mut s);
    assert_eq!(commands(&mut s), []);
    s.handle_resolved(second, Ok(vec![LookupAddress::new("127.0.0.1", 4)]), now);
    lookup_callback(&mut s);
    let id = expect_listen(&mut s, tcp("127.0.0.1:0"));
    s.handle_listening(id, tcp("127.0.0.1:1234"), now);
    // A single `listening`.
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
}

#[test]
fn queued_resolve_is_withdrawn_when_superseded() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(0).host("a.test"), now)
        .unwrap();
    s.listen(ListenOptions::port(0).host("b.test"), now)
        .unwrap();
    assert_eq!(
        commands(&mut s),
        [ServerCommand::Resolve {
            id: ResolveId(2),
            host: "b.test".into(),
            options: LookupOptions::for_listen(),
        }]
    );
}

#[test]
fn pipe_listen_reports_the_path_as_address() {
    let now = Instant::now();
    let mut s = server();
    let path = "/tmp/nt/test.sock";
    s.listen(
        ListenOptions::path(path)
            .readable_all(true)
            .writable_all(true),
        now,
    )
    .unwrap();
    // Node returns the stored pipe name whenever there is no TCP handle.
    assert_eq!(s.address(), Some(Endpoint::Pipe(path.into())));
    let cmds = commands(&mut s);
    let ServerCommand::Listen { id, .. } = cmds[0] else {
        panic!()
    };
    assert_eq!(
        cmds,
        [ServerCommand::Listen {
            id,
            endpoint: Endpoint::Pipe(path.into()),
            backlog: 511,
            ipv6_only: false,
            exclusive: false,
            readable_all: true,
            writable_all: true,
            reuse_port: false,
        }]
    );
    s.handle_listening(id, Endpoint::Pipe(path.into()), now);
    assert!(s.listening());
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
    // close unlinks the file; address() still returns the path.
    s.close(now).unwrap();
    assert_eq!(
        commands(&mut s),
        [
            ServerCommand::CloseListener { id },
            ServerCommand::Unlink { path: path.into() }
        ]
    );
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    assert!(!s.listening());
    assert_eq!(s.address(), Some(Endpoint::Pipe(path.into())));
}

#[test]
fn pipe_in_use_reports_path_and_does_not_unlink_the_other_servers_file() {
    let now = Instant::now();
    let mut s = server();
    let path = "/tmp/nt/test.sock";
    s.listen(ListenOptions::path(path), now).unwrap();
    let id = expect_listen(&mut s, Endpoint::Pipe(path.into()));
    s.handle_listen_failed(id, ListenStage::Bind, ErrorCode::EADDRINUSE, now);
    assert_eq!(commands(&mut s), []);
    let e = expect_error(&mut s);
    assert_eq!(
        e.message(),
        "listen EADDRINUSE: address already in use /tmp/nt/test.sock"
    );
    assert_eq!(e.address(), Some(path));
    assert_eq!(e.port(), None);
    assert!(!s.listening());
    // Still the stored pipe name after a failed listen.
    assert_eq!(s.address(), Some(Endpoint::Pipe(path.into())));
}

#[test]
fn pipe_bind_enoent_is_reported_as_eacces_like_libuv() {
    // test-net-better-error-messages-listen-path: a path in a missing directory. libuv's
    // uv_pipe_bind turns bind's ENOENT into EACCES; Node prints the path as the address.
    let now = Instant::now();
    let mut s = server();
    let path = "/blah/fadfa";
    s.listen(ListenOptions::path(path), now).unwrap();
    let id = expect_listen(&mut s, Endpoint::Pipe(path.into()));
    s.handle_listen_failed(id, ListenStage::Bind, ErrorCode::ENOENT, now);
    // Nothing was created, so nothing is unlinked.
    assert_eq!(commands(&mut s), []);
    let e = expect_error(&mut s);
    assert_eq!(e.code(), ErrorCode::EACCES);
    assert_eq!(e.message(), "listen EACCES: permission denied /blah/fadfa");
    assert_eq!(e.address(), Some(path));
    assert_eq!(e.syscall(), Some("listen"));
    assert!(!s.listening());
}

#[test]
fn tcp_bind_enoent_is_not_renamed() {
    // The ENOENT → EACCES rule is the pipe bind's only.
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(8080).host("127.0.0.1"), now)
        .unwrap();
    let cmds = commands(&mut s);
    let ServerCommand::Resolve { id, .. } = &cmds[0] else {
        panic!("{cmds:?}")
    };
    s.handle_resolved(*id, Ok(vec![LookupAddress::new("127.0.0.1", 4)]), now);
    lookup_callback(&mut s);
    let id = expect_listen(&mut s, tcp("127.0.0.1:8080"));
    s.handle_listen_failed(id, ListenStage::Bind, ErrorCode::ENOENT, now);
    assert_eq!(expect_error(&mut s).code(), ErrorCode::ENOENT);
}

#[test]
fn pipe_chmod_failure_is_uv_pipe_chmod_and_unlinks() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::path("/tmp/x.sock").readable_all(true), now)
        .unwrap();
    let id = expect_listen(&mut s, Endpoint::Pipe("/tmp/x.sock".into()));
    s.handle_listen_failed(id, ListenStage::Chmod, ErrorCode::EPERM, now);
    assert_eq!(
        commands(&mut s),
        [ServerCommand::Unlink {
            path: "/tmp/x.sock".into()
        }]
    );
    let e = expect_error(&mut s);
    assert_eq!(e.message(), "uv_pipe_chmod EPERM");
    assert_eq!(e.syscall(), Some("uv_pipe_chmod"));
}

#[test]
fn stale_listener_that_turns_up_listening_is_closed() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(0), now).unwrap();
    let id = expect_listen(&mut s, tcp("[::]:0"));
    // close() while the bind is out: Node had a handle, so no ERR_SERVER_NOT_RUNNING.
    assert!(s.close(now).is_ok());
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    s.handle_listening(id, tcp("[::]:5555"), now);
    assert_eq!(commands(&mut s), [ServerCommand::CloseListener { id }]);
    assert_eq!(events(&mut s), []);
    assert!(!s.listening());
    // A listener id the server never issued is closed as well.
    s.handle_listening(ListenerId(999), tcp("[::]:1"), now);
    assert_eq!(
        commands(&mut s),
        [ServerCommand::CloseListener {
            id: ListenerId(999)
        }]
    );
}

/// Issue 17 item 6: `listen(0, '127.0.0.1')` then `listen()` at once, with a backend that
/// answers the IP literal's lookup right away (as nodenet's driver does).
/// node: after the first listen: listening false, address() null; the second listen()
/// does not throw: listening true, address { address: '::', family: 'IPv6', port: P };
/// one 'listening' (both callbacks run on it).
#[test]
fn second_listen_right_after_a_literal_host_listen_replaces_it() {
    let now = Instant::now();
    let mut s = server();
    s.listen(ListenOptions::port(0).host("127.0.0.1"), now)
        .unwrap();
    // The backend runs the commands inside listen(): the literal resolves to itself.
    for cmd in commands(&mut s) {
        if let ServerCommand::Resolve { id, host, .. } = cmd {
            s.handle_resolved(id, Ok(vec![LookupAddress::new(host, 4)]), now);
        }
    }
    assert!(!s.listening());
    assert_eq!(s.address(), None);
    s.listen(ListenOptions::new(), now).unwrap();
    let lid = expect_listen(&mut s, tcp("[::]:0"));
    s.handle_listening(lid, tcp("[::]:41000"), now);
    assert!(s.listening());
    assert_eq!(s.address(), Some(tcp("[::]:41000")));
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
    assert_eq!(commands(&mut s), []);
}
