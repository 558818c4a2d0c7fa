//! Transcript tests for the server's own rules beyond Node: the accept back-off after
//! `EMFILE` (one report per burst, pauses of 10 ms doubling to 250 ms, the queue kept)
//! and `shutdown(deadline)` (end every connection, destroy the rest at the deadline), with
//! the server's timers (`poll_timeout` / `handle_timeout`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nodenet_core::server::{
    ConnectionId, ListenOptions, ListenerId, Server, ServerCommand, ServerEvent, ServerOptions,
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

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A server listening on `[::]:4000` with every queue drained.
fn listening(now: Instant) -> (Server, ListenerId) {
    let mut s = Server::new(ServerOptions::default());
    s.listen(ListenOptions::port(4000), now).unwrap();
    let Some(ServerCommand::Listen { id, .. }) = s.poll_command() else {
        panic!()
    };
    s.handle_listening(id, tcp("[::]:4000"), now);
    assert_eq!(events(&mut s), [ServerEvent::Listening]);
    (s, id)
}

fn accept(s: &mut Server, l: ListenerId, port: u16, now: Instant) -> ConnectionId {
    let id = s.handle_accepted(
        l,
        tcp("[::ffff:127.0.0.1]:4000"),
        tcp(&format!("[::ffff:127.0.0.1]:{port}")),
        now,
    );
    assert!(matches!(&events(s)[..], [ServerEvent::Connection(c)] if c.id == id));
    id
}

fn error_messages(s: &mut Server) -> Vec<String> {
    events(s)
        .into_iter()
        .map(|e| match e {
            ServerEvent::Error(e) => e.message().to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn one_report_per_burst_with_doubling_pauses() {
    let t0 = Instant::now();
    let (mut s, l) = listening(t0);
    assert_eq!(s.poll_timeout(), None);
    s.handle_accept_error(l, ErrorCode::EMFILE, t0);
    assert_eq!(commands(&mut s), [ServerCommand::PauseAccept { id: l }]);
    assert_eq!(error_messages(&mut s), ["accept EMFILE"]);
    assert_eq!(s.poll_timeout(), Some(t0 + ms(10)));
    // Woken early: nothing happens.
    s.handle_timeout(t0 + ms(9));
    assert_eq!(commands(&mut s), []);
    let mut now = t0 + ms(10);
    let mut pause = 10;
    for _ in 0..10 {
        assert_eq!(s.poll_timeout(), Some(now));
        s.handle_timeout(now);
        assert_eq!(commands(&mut s), [ServerCommand::ResumeAccept { id: l }]);
        assert_eq!(s.poll_timeout(), None);
        s.handle_accept_error(l, ErrorCode::EMFILE, now);
        assert_eq!(commands(&mut s), [ServerCommand::PauseAccept { id: l }]);
        assert_eq!(
            error_messages(&mut s),
            Vec::<String>::new(),
            "reported once"
        );
        pause = (pause * 2).min(250);
        now += ms(pause);
    }
    assert_eq!(pause, 250, "capped");
    assert_eq!(s.accept_failures(), 11);
    assert!(s.listening());
    // Descriptors freed: an accept works and the burst ends; the next failure reports,
    // and the pause starts over at 10 ms.
    s.handle_timeout(now);
    assert_eq!(commands(&mut s), [ServerCommand::ResumeAccept { id: l }]);
    accept(&mut s, l, 50000, now);
    s.handle_accept_error(l, ErrorCode::EMFILE, now);
    assert_eq!(commands(&mut s), [ServerCommand::PauseAccept { id: l }]);
    assert_eq!(error_messages(&mut s), ["accept EMFILE"]);
    assert_eq!(s.poll_timeout(), Some(now + ms(10)));
}

#[test]
fn an_empty_queue_ends_the_burst_and_a_new_code_is_reported() {
    let t0 = Instant::now();
    let (mut s, l) = listening(t0);
    s.handle_accept_error(l, ErrorCode::EMFILE, t0);
    assert_eq!(error_messages(&mut s), ["accept EMFILE"]);
    s.handle_timeout(t0 + ms(10));
    s.handle_accept_error(l, ErrorCode::ENFILE, t0 + ms(10));
    assert_eq!(
        error_messages(&mut s),
        ["accept ENFILE"],
        "a different code"
    );
    s.handle_timeout(t0 + ms(30));
    s.handle_accept_empty(l, t0 + ms(30));
    s.handle_accept_error(l, ErrorCode::ENFILE, t0 + ms(31));
    assert_eq!(error_messages(&mut s), ["accept ENFILE"], "a new burst");
    assert_eq!(s.poll_timeout(), Some(t0 + ms(41)), "the pause starts over");
    assert_eq!(s.accept_failures(), 3);
}

#[test]
fn aborted_connections_and_interruptions_are_retried_silently() {
    let t0 = Instant::now();
    let (mut s, l) = listening(t0);
    for code in [ErrorCode::ECONNABORTED, ErrorCode::EINTR, ErrorCode::EAGAIN] {
        s.handle_accept_error(l, code, t0);
    }
    assert_eq!(commands(&mut s), []);
    assert_eq!(events(&mut s), []);
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.accept_failures(), 0);
}

#[test]
fn close_ends_the_pause_and_a_stale_listener_is_ignored() {
    let t0 = Instant::now();
    let (mut s, l) = listening(t0);
    s.handle_accept_error(l, ErrorCode::EMFILE, t0);
    commands(&mut s);
    events(&mut s);
    s.close(t0).unwrap();
    assert_eq!(commands(&mut s), [ServerCommand::CloseListener { id: l }]);
    assert_eq!(s.poll_timeout(), None, "no pause without a listener");
    s.handle_timeout(t0 + ms(10));
    assert_eq!(
        commands(&mut s),
        [],
        "no ResumeAccept for a closed listener"
    );
    s.handle_accept_error(l, ErrorCode::EMFILE, t0 + ms(10));
    assert_eq!(commands(&mut s), []);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    assert_eq!(s.accept_failures(), 1);
}

#[test]
fn shutdown_ends_connections_then_destroys_the_rest_at_the_deadline() {
    let t0 = Instant::now();
    let (mut s, l) = listening(t0);
    let a = accept(&mut s, l, 50000, t0);
    let b = accept(&mut s, l, 50001, t0);
    // Accepted but not yet handed to the user: rejected by the shutdown.
    let queued = s.handle_accepted(
        l,
        tcp("[::ffff:127.0.0.1]:4000"),
        tcp("[::ffff:127.0.0.1]:50002"),
        t0,
    );
    s.shutdown(t0 + ms(100), t0);
    assert!(s.shutting_down());
    assert!(!s.listening());
    assert_eq!(
        commands(&mut s),
        [
            ServerCommand::Reject { id: queued },
            ServerCommand::CloseListener { id: l },
            ServerCommand::EndConnections
        ]
    );
    assert_eq!(events(&mut s), [], "the queued Connection was withdrawn");
    assert_eq!(s.connections(), 2);
    assert_eq!(s.poll_timeout(), Some(t0 + ms(100)));
    // One connection ends gracefully; the other is still open at the deadline.
    s.handle_connection_closed(a, t0 + ms(5));
    s.handle_timeout(t0 + ms(99));
    assert_eq!(commands(&mut s), []);
    s.handle_timeout(t0 + ms(100));
    assert_eq!(commands(&mut s), [ServerCommand::DestroyConnections]);
    assert_eq!(s.poll_timeout(), None);
    s.handle_connection_closed(b, t0 + ms(100));
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    // Another shutdown is another close() of a stopped server: its `Close`, nothing else.
    s.shutdown(t0 + ms(200), t0 + ms(100));
    assert_eq!(commands(&mut s), []);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn shutdown_without_connections_closes_at_once() {
    let t0 = Instant::now();
    let (mut s, l) = listening(t0);
    s.shutdown(t0 + ms(100), t0);
    assert_eq!(commands(&mut s), [ServerCommand::CloseListener { id: l }]);
    assert_eq!(events(&mut s), [ServerEvent::Close]);
    assert_eq!(s.poll_timeout(), None, "no deadline to wait for");
    // A past deadline destroys at once.
    let (mut s, l) = listening(t0);
    accept(&mut s, l, 50000, t0);
    s.shutdown(t0, t0);
    assert_eq!(
        commands(&mut s),
        [
            ServerCommand::CloseListener { id: l },
            ServerCommand::EndConnections,
            ServerCommand::DestroyConnections
        ]
    );
}
