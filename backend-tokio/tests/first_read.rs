//! An accepted connection's first bytes are read without waiting for tokio's reactor
//! (issue 18, item 5): tokio knows no readiness for a stream registered with `from_std`
//! until its reactor's first event, and waiting for that event cost every connection a
//! trip through the reactor (on a multi-thread runtime, a wake-up of another thread).
//! tokio's own `accept` marks its streams ready for the same reason.
//!
//! The runtime is current-thread and the socket is polled by hand, once, with a waker
//! that does nothing: its reactor cannot turn between the accept and that poll, so only
//! a read that does not wait for it can see the bytes. Loopback only, bounded by `LIMIT`.

use std::future::Future;
use std::io::Write;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use nodenet_tokio::{
    create_server, Endpoint, ListenOptions, ReadInto, ServerEvent, ServerOptions, Socket,
    SocketEvent,
};

const LIMIT: Duration = Duration::from_secs(20);

fn run<F: Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            tokio::time::timeout(LIMIT, f)
                .await
                .expect("test timed out")
        });
}

/// One poll of `socket.next_event()`, with a waker that does nothing.
fn poll_once(socket: &mut Socket) -> Poll<Option<SocketEvent>> {
    let mut cx = Context::from_waker(Waker::noop());
    pin!(socket.next_event()).poll(&mut cx)
}

/// One poll of `socket.next_event_into(buf)` (Node's `onread`), with a waker that does
/// nothing.
fn poll_once_into(socket: &mut Socket, buf: &mut [u8]) -> Poll<Option<ReadInto>> {
    let mut cx = Context::from_waker(Waker::noop());
    pin!(socket.next_event_into(buf)).poll(&mut cx)
}

async fn listening_server() -> (nodenet_tokio::Server, std::net::SocketAddr) {
    let mut server = create_server(ServerOptions::default());
    server
        .listen(ListenOptions::host_port("127.0.0.1", 0))
        .unwrap();
    assert!(matches!(
        server.next_event().await,
        Some(ServerEvent::Listening)
    ));
    let Some(Endpoint::Tcp(addr)) = server.address() else {
        panic!("no address")
    };
    (server, addr)
}

async fn accept(server: &mut nodenet_tokio::Server) -> Socket {
    match server.next_event().await {
        Some(ServerEvent::Connection(s)) => s,
        other => panic!("expected Connection, got {other:?}"),
    }
}

#[test]
fn the_first_bytes_are_read_at_the_first_poll_and_later_ones_after_a_wait() {
    run(async {
        let (mut server, addr) = listening_server().await;

        // Bytes sent with the connection: there at the first poll.
        let mut early = std::net::TcpStream::connect(addr).unwrap();
        early.write_all(b"hello").unwrap();
        let mut socket = accept(&mut server).await;
        match poll_once(&mut socket) {
            Poll::Ready(Some(SocketEvent::Data(d))) => assert_eq!(&d[..], b"hello"),
            other => panic!("expected the bytes at the first poll, got {other:?}"),
        }

        // Nothing sent yet: the first poll waits, and the bytes sent later still arrive
        // (the read that found nothing left tokio's waker registered).
        let mut late = std::net::TcpStream::connect(addr).unwrap();
        let mut quiet = accept(&mut server).await;
        assert!(poll_once(&mut quiet).is_pending());
        late.write_all(b"later").unwrap();
        match quiet.next_event().await {
            Some(SocketEvent::Data(d)) => assert_eq!(&d[..], b"later"),
            other => panic!("expected Data, got {other:?}"),
        }
        drop(late);
        assert!(matches!(quiet.next_event().await, Some(SocketEvent::End)));

        // The early connection goes on as usual.
        early.write_all(b" again").unwrap();
        match socket.next_event().await {
            Some(SocketEvent::Data(d)) => assert_eq!(&d[..], b" again"),
            other => panic!("expected Data, got {other:?}"),
        }
    });
}

#[test]
fn reads_into_the_callers_buffer_see_the_first_bytes_at_the_first_poll_too() {
    run(async {
        let (mut server, addr) = listening_server().await;
        let mut buf = [0u8; 64];

        let mut early = std::net::TcpStream::connect(addr).unwrap();
        early.write_all(b"hello").unwrap();
        let mut socket = accept(&mut server).await;
        match poll_once_into(&mut socket, &mut buf) {
            Poll::Ready(Some(ReadInto::Read(n))) => assert_eq!(&buf[..n], b"hello"),
            other => panic!("expected the bytes at the first poll, got {other:?}"),
        }

        let mut late = std::net::TcpStream::connect(addr).unwrap();
        let mut quiet = accept(&mut server).await;
        assert!(poll_once_into(&mut quiet, &mut buf).is_pending());
        late.write_all(b"later").unwrap();
        match quiet.next_event_into(&mut buf).await {
            Some(ReadInto::Read(n)) => assert_eq!(&buf[..n], b"later"),
            other => panic!("expected a read, got {other:?}"),
        }
        drop(late);
        assert!(matches!(
            quiet.next_event_into(&mut buf).await,
            Some(ReadInto::Event(SocketEvent::End))
        ));

        early.write_all(b" again").unwrap();
        match socket.next_event_into(&mut buf).await {
            Some(ReadInto::Read(n)) => assert_eq!(&buf[..n], b" again"),
            other => panic!("expected a read, got {other:?}"),
        }
    });
}
