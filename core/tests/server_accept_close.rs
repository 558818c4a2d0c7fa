//! Transcript tests for accepting (§6.4), the connection count and `close` (§6.5).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use nodenet_core::address::Family;
use nodenet_core::server::{
    AcceptedConnection, ConnectionId, DropInfo, ListenOptions, ListenerId, Server, ServerCommand,
    ServerEvent, ServerOptions,
};
use nodenet_core::{BlockList, Endpoint, ErrorCode, SocketOptions};

fn commands(s: &mut Server) -> Vec<ServerCommand> {
    std::iter::from_fn(|| s.poll_command()).collect()
}

fn events(s: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn tcp(s: &str) -> Endpoint {
    Endpoint::Tcp(s.parse::<SocketAddr>().unwrap())
}

/// A server listening on 127.0.0.1:4000 with every queue drained.
fn listening(options: ServerOptions, now: Instant) -> (Server, ListenerId) {
    let mut s = Server::new(options);
    s.listen(ListenOptions::port(4000).host("127.0.0.1"), now)
        .unwrap();
    let Some(ServerCommand::Resolve { id, .. }) = s.poll_command() else {
        panic!()
    };
    s.handle_resolved(
        id,
        Ok(vec![nodenet_core::LookupAddress::new("127.0.0.1", 4)]),
        now,
    );
    // The lookup callback runs at the next poll_event.
    assert_eq!(s.poll_event(), None);
    let Some(ServerCommand::Listen { id, .. }) = s.poll_command() else {
        panic!()
    };
    s.handle_listening(id, tcp("127.0.0.1:4000"), now);
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
    (s, id)
}

fn accept(s: &mut Server, l: ListenerId, remote_port: u16, now: Instant) -> ConnectionId {
    s.handle_accepted(
        l,
        tcp("127.0.0.1:4000"),
        tcp(&format!("127.0.0.1:{remote_port}")),
        now,
    )
}

#[test]
fn accepted_connection_carries_the_server_socket_options() {
    let now = Instant::now();
    let opts = SocketOptions {
        allow_half_open: true,
        pause_on_connect: true,
        no_delay: true,
        keep_alive: true,
        ..SocketOptions::default()
    }
    .keep_alive_initial_delay_ms(3000.0);
    let (mut s, l) = listening(ServerOptions::new(opts.clone()), now);
    let id = accept(&mut s, l, 50000, now);
    assert_eq!(commands(&mut s), []);
    assert_eq!(
        events(&mut s),
        [ServerEvent::Connection(AcceptedConnection {
            id,
            local: tcp("127.0.0.1:4000"),
            remote: tcp("127.0.0.1:50000"),
            options: opts,
        })]
    );
    assert_eq!(s.connections(), 1);
}

#[test]
fn max_connections_drops_with_node_data_and_rejects() {
    let now = Instant::now();
    let (mut s, l) = listening(ServerOptions::default(), now);
    s.set_max_connections(Some(1));
    let first = accept(&mut s, l, 50000, now);
    assert!(matches!(events(&mut s)[..], [ServerEvent::Connection(_)]));
    let second = accept(&mut s, l, 50001, now);
    assert_ne!(first, second);
    assert_eq!(
        events(&mut s),
        [ServerEvent::Drop(Some(DropInfo {
            local_address: "127.0.0.1".into(),
            local_port: 4000,
            local_family: Family::IPv4,
            remote_address: "127.0.0.1".into(),
            remote_port: 50001,
            remote_family: Family::IPv4,
        }))]
    );
    assert_eq!(commands(&mut s), [ServerCommand::Reject { id: second }]);
    assert_eq!(s.connections(), 1);
    // Once the first one is gone there is room again.
    s.handle_connection_closed(first, now);
    assert_eq!(events(&mut s), []);
    accept(&mut s, l, 50002, now);
    assert!(matches!(events(&mut s)[..], [ServerEvent::Connection(_)]));
}

#[test]
fn max_connections_zero_drops_everything_as_node_21() {
    let now = Instant::now();
    let (mut s, l) = listening(ServerOptions::default(), now);
    s.set_max_connections(Some(0));
    let id = accept(&mut s, l, 50000, now);
    assert!(matches!(events(&mut s)[..], [ServerEvent::Drop(Some(_))]));
    assert_eq!(commands(&mut s), [ServerCommand::Reject { id }]);
    // Unset again: unlimited.
    s.set_max_connections(None);
    for port in 0..10 {
        accept(&mut s, l, 50001 + port, now);
    }
    assert_eq!(s.connections(), 10);
}

#[test]
fn dual_stack_drop_reports_mapped_ipv4_as_ipv6() {
    let info = DropInfo::from_endpoints(
        &tcp("[::ffff:127.0.0.1]:4000"),
        &tcp("[::ffff:127.0.0.1]:50000"),
    )
    .unwrap();
    assert_eq!(info.remote_address, "::ffff:127.0.0.1");
    assert_eq!(info.remote_family, Family::IPv6);
    assert_eq!(info.local_family, Family::IPv6);
}

#[test]
fn pipe_drop_has_no_data() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    s.listen(ListenOptions::path("/tmp/p.sock"), now).unwrap();
    let Some(ServerCommand::Listen { id, .. }) = s.poll_command() else {
        panic!()
    };
    s.handle_listening(id, Endpoint::Pipe("/tmp/p.sock".into()), now);
    s.set_max_connections(Some(0));
    let pipe = Endpoint::Pipe("/tmp/p.sock".into());
    let c = s.handle_accepted(id, pipe.clone(), Endpoint::Pipe(String::new()), now);
    assert_eq!(
        events(&mut s),
        [ServerEvent::Listening, ServerEvent::Drop(None)]
    );
    assert_eq!(commands(&mut s), [ServerCommand::Reject { id: c }]);
}

#[test]
fn block_list_rejects_after_the_max_connections_check() {
    let now = Instant::now();
    // The stub BlockList blocks everything; a real one blocking 127.0.0.1 behaves the same.
    let mut list = BlockList::new();
    list.add_subnet("127.0.0.0", 8, "ipv4").unwrap();
    let (mut s, l) = listening(ServerOptions::default().block_list(Arc::new(list)), now);
    let id = accept(&mut s, l, 50000, now);
    assert_eq!(
        events(&mut s),
        [ServerEvent::Blocked {
            id,
            remote: tcp("127.0.0.1:50000")
        }]
    );
    assert_eq!(commands(&mut s), [ServerCommand::Reject { id }]);
    assert_eq!(s.connections(), 0);
    // max_connections is checked first (Node's order): a drop, not a block.
    s.set_max_connections(Some(0));
    accept(&mut s, l, 50001, now);
    assert!(matches!(events(&mut s)[..], [ServerEvent::Drop(_)]));
}

#[test]
fn accept_error_is_reported_and_listening_continues() {
    let now = Instant::now();
    let (mut s, l) = listening(ServerOptions::default(), now);
    s.handle_accept_error(l, ErrorCode::EMFILE, now);
    let ev = events(&mut s);
    let [ServerEvent::Error(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.message(), "accept EMFILE");
    assert_eq!(e.syscall(), Some("accept"));
    assert!(s.listening());
}

#[test]
fn close_with_open_connection_waits_for_it() {
    let now = Instant::now();
    let (mut s, l) = listening(ServerOptions::default(), now);
    let c = accept(&mut s, l, 50000, now);
    events(&mut s);
    assert_eq!(s.close(now), Ok(()));
    assert!(!s.listening());
    assert_eq!(s.address(), None);
    assert_eq!(commands(&mut s), [ServerCommand::CloseListener { id: l }]);
    assert_eq!(s.connections(), 1);
    assert_eq!(events(&mut s), []);
    // Accepts racing the close are rejected silently.
    let late = accept(&mut s, l, 50001, now);
    assert_eq!(commands(&mut s), [ServerCommand::Reject { id: late }]);
    assert_eq!(events(&mut s), []);
    s.handle_connection_closed(c, now);
    assert_eq!(s.connections(), 0);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    // Repeated or unknown ids change nothing.
    s.handle_connection_closed(c, now);
    s.handle_connection_closed(ConnectionId(12345), now);
    assert_eq!(events(&mut s), []);
}

#[test]
fn close_twice_on_listening_server_gives_two_close_events() {
    let now = Instant::now();
    let (mut s, _l) = listening(ServerOptions::default(), now);
    assert_eq!(s.close(now), Ok(()));
    let e = s.close(now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_SERVER_NOT_RUNNING);
    assert_eq!(e.message(), "Server is not running.");
    assert_eq!(events(&mut s), [ServerEvent::Close, ServerEvent::Close]);
}

#[test]
fn close_twice_with_a_connection_gives_one_close() {
    let now = Instant::now();
    let (mut s, l) = listening(ServerOptions::default(), now);
    let c = accept(&mut s, l, 50000, now);
    events(&mut s);
    s.close(now).unwrap();
    s.close(now).unwrap_err();
    assert_eq!(events(&mut s), []);
    s.handle_connection_closed(c, now);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
}

#[test]
fn close_on_never_listened_server() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    let e = s.close(now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_SERVER_NOT_RUNNING);
    assert_eq!(commands(&mut s), []);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
}

#[test]
fn listen_then_close_in_the_same_tick_gives_only_close() {
    let now = Instant::now();
    // The Listen command was not performed yet: it is withdrawn.
    let mut s = Server::new(ServerOptions::default());
    s.listen(ListenOptions::port(0), now).unwrap();
    s.close(now).unwrap();
    assert_eq!(commands(&mut s), []);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    // The backend bound it already but `Listening` was not drained: it is suppressed.
    let mut s = Server::new(ServerOptions::default());
    s.listen(ListenOptions::port(0), now).unwrap();
    let Some(ServerCommand::Listen { id, .. }) = s.poll_command() else {
        panic!()
    };
    s.handle_listening(id, tcp("[::]:4242"), now);
    s.close(now).unwrap();
    assert_eq!(commands(&mut s), [ServerCommand::CloseListener { id }]);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
}

#[test]
fn close_during_lookup_cancels_it() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    s.listen(ListenOptions::port(0).host("localhost"), now)
        .unwrap();
    let Some(ServerCommand::Resolve { id, .. }) = s.poll_command() else {
        panic!()
    };
    // No handle during the lookup: the callback would get ERR_SERVER_NOT_RUNNING.
    assert_eq!(
        s.close(now).unwrap_err().code(),
        ErrorCode::ERR_SERVER_NOT_RUNNING
    );
    s.handle_resolved(
        id,
        Ok(vec![nodenet_core::LookupAddress::new("127.0.0.1", 4)]),
        now,
    );
    assert_eq!(commands(&mut s), []);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    assert!(!s.listening());
}

#[test]
fn relisten_after_close_works() {
    let now = Instant::now();
    let (mut s, _l) = listening(ServerOptions::default(), now);
    s.close(now).unwrap();
    commands(&mut s);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    s.listen(ListenOptions::port(0), now).unwrap();
    let Some(ServerCommand::Listen { id, .. }) = s.poll_command() else {
        panic!()
    };
    s.handle_listening(id, tcp("[::]:1000"), now);
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
    assert!(s.listening());
}

#[test]
fn create_server_defaults_match_node() {
    let s = nodenet_core::create_server(ServerOptions::default());
    let o = s.socket_options();
    assert!(!o.allow_half_open && !o.pause_on_connect && !o.no_delay && !o.keep_alive);
    assert_eq!(o.keep_alive_initial_delay_secs, 0);
    assert_eq!(o.high_water_mark, 16384);
    assert_eq!(s.max_connections(), None);
    assert_eq!(s.connections(), 0);
    assert!(!s.listening());
    assert_eq!(s.address(), None);
}
