//! The owned split on blocking std sockets (issue 20): `into_split` halves used from two tasks or
//! threads through the runtime's own IO traits, `reunite`, and nothing lost when the
//! halves drop. The runtime-agnostic conveniences (`connected()`, addresses, typed
//! constructors, async `lookup`) run on every runtime in `nodenet_tests::suite::conveniences`.
//! Loopback only; each test is bounded by `LIMIT`.

use std::time::Duration;

use nodenet_std::{
    connect, create_server, ConnectOptions, ListenOptions, ServerEvent, ServerOptions, Socket,
    SocketEvent,
};

const LIMIT: Duration = Duration::from_secs(20);

/// Run `f` on its own thread, failing after `LIMIT`.
fn run(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(()) => t.join().unwrap(),
        // The thread panicked (its panic is the failure) or hangs.
        Err(_) => match t.is_finished() {
            true => std::panic::resume_unwind(t.join().unwrap_err()),
            false => panic!("test timed out"),
        },
    }
}

/// A loopback server, past `Listening`, and its address.
fn listening_server() -> (nodenet_std::Server, std::net::SocketAddr) {
    let mut server = create_server(ServerOptions::default());
    server
        .listen(ListenOptions::host_port("127.0.0.1", 0))
        .unwrap();
    assert!(matches!(server.next_event(), Some(ServerEvent::Listening)));
    let addr = server.local_addr().unwrap();
    (server, addr)
}

fn accept(server: &mut nodenet_std::Server) -> Socket {
    match server.next_event() {
        Some(ServerEvent::Connection(c)) => c,
        other => panic!("expected a connection, got {other:?}"),
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn split_halves_echo_from_separate_threads() {
    use std::io::{Read, Write};
    run(|| {
        let (mut server, addr) = listening_server();
        // Both halves block on the socket's one reactor from their own threads.
        let echo = std::thread::spawn(move || {
            let (mut rd, mut wr) = accept(&mut server).into_split();
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
            let reader = std::thread::spawn(move || {
                let mut buf = vec![0; 16 * 1024];
                loop {
                    match rd.read(&mut buf).unwrap() {
                        0 => break,
                        n => tx.send(buf[..n].to_vec()).unwrap(),
                    }
                }
            });
            while let Ok(chunk) = rx.recv() {
                wr.write_all(&chunk).unwrap();
            }
            reader.join().unwrap();
        });
        let (mut rd, mut wr) = connect(ConnectOptions::tcp_addr(addr))
            .unwrap()
            .into_split();
        let sent = pattern(2 * 1024 * 1024);
        let expected = sent.clone();
        let writer = std::thread::spawn(move || {
            wr.write_all(&sent).unwrap();
            wr.flush().unwrap();
            wr.shutdown_write().unwrap();
            wr
        });
        let mut got = Vec::new();
        rd.read_to_end(&mut got).unwrap();
        assert!(got == expected, "echo differs ({} bytes)", got.len());
        let wr = writer.join().unwrap();
        echo.join().unwrap();
        let socket = rd.reunite(wr).unwrap();
        assert_eq!(socket.bytes_written(), expected.len() as u64);
        assert_eq!(socket.bytes_read(), expected.len() as u64);
    });
}

#[test]
fn written_bytes_survive_dropping_both_halves() {
    use std::io::{Read, Write};
    run(|| {
        let (mut server, addr) = listening_server();
        let sent = pattern(4 * 1024 * 1024);
        let expected = sent.clone();
        let client = std::thread::spawn(move || {
            let mut c = connect(ConnectOptions::tcp_addr(addr)).unwrap();
            c.write("queued before the split: ");
            let (rd, mut wr) = c.into_split();
            wr.write_all(&sent).unwrap();
            drop(wr);
            drop(rd);
        });
        let mut conn = accept(&mut server);
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        let (head, tail) = got.split_at(25.min(got.len()));
        assert_eq!(head, b"queued before the split: ");
        assert!(
            tail == expected,
            "got {} of {} bytes",
            tail.len(),
            expected.len()
        );
        client.join().unwrap();
    });
}

#[test]
fn dropping_the_write_half_ends_only_the_write_side() {
    use std::io::{Read, Write};
    run(|| {
        let (mut server, addr) = listening_server();
        let (mut rd, mut wr) = connect(ConnectOptions::tcp_addr(addr))
            .unwrap()
            .into_split();
        wr.write_all(b"question").unwrap();
        drop(wr);
        let server_side = std::thread::spawn(move || {
            let mut conn = accept(&mut server);
            let mut got = Vec::new();
            while let Some(ev) = conn.next_event() {
                match ev {
                    SocketEvent::Data(d) => got.extend_from_slice(&d),
                    SocketEvent::End => break,
                    _ => {}
                }
            }
            assert_eq!(got, b"question");
            conn.end_with("answer");
            while conn.next_event().is_some() {}
        });
        let mut answer = Vec::new();
        rd.read_to_end(&mut answer).unwrap();
        assert_eq!(answer, b"answer");
        server_side.join().unwrap();
    });
}
