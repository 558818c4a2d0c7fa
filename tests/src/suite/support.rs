//! The helpers every suite's bodies share (`loopback_server`, `accept`, `drain`,
//! `echo`, the drop tests' raw reader, ...), as plain generic functions over a
//! [`TestRuntime`].
use std::sync::mpsc;
use std::time::Duration;

use nodenet::{
    ConnectOptions, Endpoint, ListenOptions, Server, ServerOptions, Socket, SocketEvent,
    SocketOptions,
};
use nodenet_core::ServerEvent;

use crate::test_runtime::{next, TestRuntime};

/// `net.connect(options)` on runtime `R`: a new socket, already connecting.
pub fn connect<R: TestRuntime>(options: ConnectOptions) -> nodenet::Result<Socket<R>> {
    let mut socket = Socket::<R>::new(SocketOptions::default());
    socket.connect(options)?;
    Ok(socket)
}

/// `net.createServer(options)` on runtime `R`.
pub fn create_server<R: TestRuntime>(options: ServerOptions) -> Server<R> {
    Server::<R>::new(options)
}

/// The TCP port `server` listens on (panics for a Unix socket server).
pub fn tcp_port<R: nodenet::Runtime>(server: &Server<R>) -> u16 {
    match server.address() {
        Some(Endpoint::Tcp(a)) => a.port(),
        other => panic!("not a TCP server: {other:?}"),
    }
}

/// Wait for `Listening`, which must be the server's next event.
pub async fn listening<R: TestRuntime>(server: &mut Server<R>) {
    match next(server).await {
        Some(ServerEvent::Listening) => {}
        other => panic!("expected Listening, got {other:?}"),
    }
}

/// A TCP server with `options` on 127.0.0.1, on a port the kernel picks, past its
/// `Listening`: `(server, port)`.
pub async fn loopback_server<R: TestRuntime>(options: ServerOptions) -> (Server<R>, u16) {
    let mut server = create_server::<R>(options);
    server
        .listen(ListenOptions::port(0).host("127.0.0.1"))
        .unwrap();
    listening(&mut server).await;
    let port = tcp_port(&server);
    (server, port)
}

/// The next accepted connection (a `Listening` before it is skipped; anything else
/// panics).
pub async fn accept<R: TestRuntime>(server: &mut Server<R>) -> Socket<R> {
    loop {
        match next(server).await {
            Some(ServerEvent::Connection(c)) => return c,
            Some(ServerEvent::Listening) => continue,
            other => panic!("expected Connection, got {other:?}"),
        }
    }
}

/// Drive a socket to its end: (bytes received, events other than `Data` and
/// `WriteDone`).
pub async fn drain<R: TestRuntime>(socket: &mut Socket<R>) -> (Vec<u8>, Vec<SocketEvent>) {
    let mut data = Vec::new();
    let mut events = Vec::new();
    while let Some(ev) = next(socket).await {
        match ev {
            SocketEvent::Data(d) => data.extend_from_slice(&d),
            SocketEvent::WriteDone { .. } => {}
            other => events.push(other),
        }
    }
    (data, events)
}

/// Accept on a `pause_on_connect` server, leave the connection unread until `signal`
/// fires (at most 5 s), then resume and drain it: the bytes received. The wait polls
/// rather than blocks because on an async runtime both sides may share one thread.
pub async fn accept_paused_until_signalled<R: TestRuntime>(
    server: &mut Server<R>,
    signal: mpsc::Receiver<()>,
) -> Vec<u8> {
    let mut c = accept(server).await;
    let t0 = R::now();
    while signal.try_recv().is_err() && R::now().duration_since(t0) < Duration::from_secs(5) {
        R::sleep(Duration::from_millis(5)).await;
    }
    c.resume();
    drain(&mut c).await.0
}

/// Echo everything back until the peer ends (the `socket.pipe(socket)` of Node's demo).
pub async fn echo<R: TestRuntime>(socket: &mut Socket<R>) {
    while let Some(ev) = next(socket).await {
        if let SocketEvent::Data(d) = ev {
            socket.write(d);
        }
    }
}

/// The first `Error` among `events` (panics with `what` when there is none).
pub fn first_error(events: &[SocketEvent], what: &str) -> nodenet::Error {
    events
        .iter()
        .find_map(|e| match e {
            SocketEvent::Error(e) => Some(e.clone()),
            _ => None,
        })
        .expect(what)
}

/// Bytes the drop tests write: large enough that most of it is still in the user-space
/// queue when the writer drops the socket.
pub const DROPPED_WRITE: usize = 8 * 1024 * 1024;

/// `n` bytes of a pattern that shows truncation and reordering.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// A raw client on its own thread that reads everything until end-of-stream (bounded:
/// 15 s without a byte fails), starting when `start` says so (at once without one): the
/// bytes, or the error and how many came before it. Wait for it with [`join_thread`].
pub fn read_to_end_on_thread(
    port: u16,
    start: Option<mpsc::Receiver<()>>,
) -> std::thread::JoinHandle<Result<Vec<u8>, String>> {
    let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        use std::io::Read;
        if let Some(start) = start {
            let _ = start.recv_timeout(Duration::from_secs(15));
        }
        let mut c = c;
        c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut got = Vec::new();
        match c.read_to_end(&mut got) {
            Ok(_) => Ok(got),
            Err(e) => Err(format!("{e} after {} bytes", got.len())),
        }
    })
}

/// Wait for a plain thread's result without blocking the runtime's thread (the body may
/// share it with the tasks the thread depends on): poll every 5 ms, then join.
pub async fn join_thread<R: TestRuntime, T>(thread: std::thread::JoinHandle<T>) -> T {
    while !thread.is_finished() {
        R::sleep(Duration::from_millis(5)).await;
    }
    match thread.join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
