//! Transcripts for the server's `signal` (`Server::abort`), `server[Symbol.asyncDispose]`
//! (`Server::async_dispose`) and `reusePort`, each checked against what Node does.

use std::net::SocketAddr;
use std::time::Instant;

use nodenet_core::server::{
    ListenOptions, ListenStage, ListenerId, Server, ServerCommand, ServerEvent, ServerOptions,
};
use nodenet_core::{Endpoint, ErrorCode};

fn commands(s: &mut Server) -> Vec<ServerCommand> {
    std::iter::from_fn(|| s.poll_command()).collect()
}

fn events(s: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn tcp(s: &str) -> Endpoint {
    Endpoint::Tcp(s.parse::<SocketAddr>().unwrap())
}

/// `listen(0)`: the id of its `Listen`, answered as bound on port 4000.
fn bind(s: &mut Server, now: Instant) -> ListenerId {
    s.listen(ListenOptions::port(0), now).unwrap();
    let Some(ServerCommand::Listen { id, .. }) = s.poll_command() else {
        panic!("expected Listen")
    };
    s.handle_listening(id, tcp("[::]:4000"), now);
    id
}

// Node: `listen({port: 0, signal})` with an aborted signal: listening is true at once,
// but only 'close' is emitted ('listening' is suppressed by the close in the next tick).
#[test]
fn an_aborted_signal_closes_right_after_listen() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    let id = bind(&mut s, now);
    assert!(s.listening());
    assert!(s.abort(now));
    assert!(!s.listening());
    assert_eq!(commands(&mut s), [ServerCommand::CloseListener { id }]);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
}

// Node: the abort listener is attached by `listen()` only: before it there is nothing to
// close, and the same fired signal closes the server once it listens.
#[test]
fn the_signal_acts_from_listen_until_close() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    assert!(!s.abort(now));
    assert!(events(&mut s).is_empty());
    bind(&mut s, now);
    assert!(s.abort(now));
    assert!(!s.abort(now), "one close per listen");
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    commands(&mut s);
    // A later listen is armed again.
    bind(&mut s, now);
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
    assert!(s.abort(now));
    assert_eq!(events(&mut s), [ServerEvent::Close]);
}

// Node: abort with an open connection stops listening at once; 'close' waits for it.
#[test]
fn abort_waits_for_connections_like_close() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    let l = bind(&mut s, now);
    let c = s.handle_accepted(l, tcp("127.0.0.1:4000"), tcp("127.0.0.1:50000"), now);
    assert_eq!(events(&mut s).len(), 2); // Listening, Connection
    assert!(s.abort(now));
    assert!(!s.listening());
    assert!(events(&mut s).is_empty());
    s.handle_connection_closed(c, now);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
}

// Node: a listen that failed (EADDRINUSE) keeps its abort listener: the abort then emits
// 'close' (Node's close() on a server without a handle).
#[test]
fn abort_after_a_failed_listen_emits_close() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
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
    // The answer takes effect at the next poll (Node's next tick).
    assert!(s.poll_event().is_none());
    let Some(ServerCommand::Listen { id, .. }) = s.poll_command() else {
        panic!()
    };
    s.handle_listen_failed(id, ListenStage::Bind, ErrorCode::EADDRINUSE, now);
    let evs = events(&mut s);
    assert!(matches!(&evs[..], [ServerEvent::Error(e)] if e.code() == ErrorCode::EADDRINUSE));
    assert!(s.abort(now));
    assert_eq!(events(&mut s), [ServerEvent::Close]);
}

// Node: `server[Symbol.asyncDispose]()` closes a listening server (resolving at 'close'),
// and resolves at once, calling nothing, without a handle.
#[test]
fn async_dispose_closes_only_a_server_with_a_handle() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    assert!(!s.async_dispose(now));
    assert!(events(&mut s).is_empty(), "no close() was called");
    let l = bind(&mut s, now);
    let c = s.handle_accepted(l, tcp("127.0.0.1:4000"), tcp("127.0.0.1:50000"), now);
    events(&mut s);
    assert!(s.async_dispose(now));
    assert_eq!(commands(&mut s), [ServerCommand::CloseListener { id: l }]);
    // close() was called already: nothing more to close.
    assert!(!s.async_dispose(now));
    s.handle_connection_closed(c, now);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
}

// Node: while the host is looked up there is no handle: asyncDispose resolves at once and
// the lookup goes on to listen.
#[test]
fn async_dispose_during_lookup_leaves_the_listen_alone() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    s.listen(ListenOptions::port(0).host("localhost"), now)
        .unwrap();
    assert!(!s.async_dispose(now));
    assert!(matches!(
        commands(&mut s)[..],
        [ServerCommand::Resolve { .. }]
    ));
}

#[test]
fn reuse_port_reaches_the_listen_command_for_tcp_only() {
    let now = Instant::now();
    let mut s = Server::new(ServerOptions::default());
    s.listen(ListenOptions::port(0).reuse_port(true), now)
        .unwrap();
    assert!(matches!(
        commands(&mut s)[..],
        [ServerCommand::Listen {
            reuse_port: true,
            ..
        }]
    ));
    let mut s = Server::new(ServerOptions::default());
    s.listen(ListenOptions::path("/tmp/x.sock").reuse_port(true), now)
        .unwrap();
    assert!(matches!(
        commands(&mut s)[..],
        [ServerCommand::Listen {
            reuse_port: false,
            ..
        }]
    ));
    // Node's util.inspect of the options names it.
    let e = Server::new(ServerOptions::default())
        .listen(ListenOptions::path("").reuse_port(true), now)
        .unwrap_err();
    assert!(e.message().contains("reusePort: true"), "{}", e.message());
}
