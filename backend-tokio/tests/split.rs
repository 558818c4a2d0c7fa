//! The owned split on tokio (issue 20): `into_split` halves used from two tasks or
//! threads through the runtime's own IO traits, `reunite`, and nothing lost when the
//! halves drop. The runtime-agnostic conveniences (`connected()`, addresses, typed
//! constructors, async `lookup`) run on every runtime in `nodenet_tests::suite::conveniences`.
//! Loopback only; each test is bounded by `LIMIT`.

use std::future::Future;
use std::time::Duration;

use nodenet_tokio::{
    connect, create_server, ConnectOptions, ListenOptions, ServerEvent, ServerOptions, Socket,
    SocketEvent,
};

const LIMIT: Duration = Duration::from_secs(20);

/// Run `f` on a 2-worker runtime, failing after `LIMIT`.
fn run<F: Future<Output = ()> + Send + 'static>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            tokio::time::timeout(LIMIT, f)
                .await
                .expect("test timed out")
        });
}

/// A loopback server, past `Listening`, and its address.
async fn listening_server() -> (nodenet_tokio::Server, std::net::SocketAddr) {
    let mut server = create_server(ServerOptions::default());
    server
        .listen(ListenOptions::host_port("127.0.0.1", 0))
        .unwrap();
    assert!(matches!(
        server.next_event().await,
        Some(ServerEvent::Listening)
    ));
    let addr = server.local_addr().unwrap();
    (server, addr)
}

async fn accept(server: &mut nodenet_tokio::Server) -> Socket {
    match server.next_event().await {
        Some(ServerEvent::Connection(c)) => c,
        other => panic!("expected a connection, got {other:?}"),
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn split_halves_echo_from_separate_tasks() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let (mut server, addr) = listening_server().await;
        // Server: read half and write half in two tasks, joined by a channel.
        let echo = tokio::spawn(async move {
            let conn = accept(&mut server).await;
            assert!(conn.peer_addr().is_ok());
            let (mut rd, mut wr) = conn.into_split();
            assert_eq!(rd.local_addr().unwrap(), addr);
            assert_eq!(wr.local_addr().unwrap(), addr);
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
            let reader = tokio::spawn(async move {
                let mut buf = vec![0; 16 * 1024];
                loop {
                    match rd.read(&mut buf).await.unwrap() {
                        0 => break,
                        n => tx.send(buf[..n].to_vec()).await.unwrap(),
                    }
                }
            });
            let writer = tokio::spawn(async move {
                while let Some(chunk) = rx.recv().await {
                    wr.write_all(&chunk).await.unwrap();
                }
                // Dropping `wr` ends the write side.
            });
            reader.await.unwrap();
            writer.await.unwrap();
        });
        // Client: split too, writing 2 MiB while reading the echo.
        let (mut rd, mut wr) = connect(ConnectOptions::tcp_addr(addr))
            .unwrap()
            .into_split();
        let sent = pattern(2 * 1024 * 1024);
        let expected = sent.clone();
        let writer = tokio::spawn(async move {
            wr.write_all(&sent).await.unwrap();
            wr.shutdown().await.unwrap();
            wr
        });
        let mut got = Vec::new();
        rd.read_to_end(&mut got).await.unwrap();
        assert!(got == expected, "echo differs ({} bytes)", got.len());
        let wr = writer.await.unwrap();
        echo.await.unwrap();
        let mut socket = rd.reunite(wr).unwrap();
        assert_eq!(socket.bytes_written(), expected.len() as u64);
        assert_eq!(socket.bytes_read(), expected.len() as u64);
        while socket.next_event().await.is_some() {}
    });
}

#[test]
fn written_bytes_survive_dropping_both_halves() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let (mut server, addr) = listening_server().await;
        let sent = pattern(4 * 1024 * 1024);
        let expected = sent.clone();
        let client = tokio::spawn(async move {
            let mut c = connect(ConnectOptions::tcp_addr(addr)).unwrap();
            c.write("queued before the split: ");
            let (rd, mut wr) = c.into_split();
            wr.write_all(&sent).await.unwrap();
            // No flush, no shutdown: the bytes are in the kernel already, and dropping
            // the write half sends the FIN after them.
            drop(wr);
            drop(rd);
        });
        let mut conn = accept(&mut server).await;
        let mut got = Vec::new();
        conn.read_to_end(&mut got).await.unwrap();
        let (head, tail) = got.split_at(25.min(got.len()));
        assert_eq!(head, b"queued before the split: ");
        assert!(
            tail == expected,
            "got {} of {} bytes",
            tail.len(),
            expected.len()
        );
        client.await.unwrap();
    });
}

#[test]
fn dropping_the_write_half_ends_only_the_write_side() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let (mut server, addr) = listening_server().await;
        let (mut rd, mut wr) = connect(ConnectOptions::tcp_addr(addr))
            .unwrap()
            .into_split();
        wr.write_all(b"question").await.unwrap();
        drop(wr);
        // The server reads to the end, then answers on its still-open write side.
        let server_side = tokio::spawn(async move {
            let mut conn = accept(&mut server).await;
            let mut got = Vec::new();
            while let Some(ev) = conn.next_event().await {
                match ev {
                    SocketEvent::Data(d) => got.extend_from_slice(&d),
                    SocketEvent::End => break,
                    _ => {}
                }
            }
            assert_eq!(got, b"question");
            conn.end_with("answer");
            while conn.next_event().await.is_some() {}
        });
        let mut answer = Vec::new();
        rd.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"answer");
        server_side.await.unwrap();
    });
}

#[test]
fn reunite_checks_the_halves_belong_together() {
    use tokio::io::AsyncWriteExt;
    run(async {
        let (mut server, addr) = listening_server().await;
        let (rd_a, wr_a) = connect(ConnectOptions::tcp_addr(addr))
            .unwrap()
            .into_split();
        let (rd_b, wr_b) = connect(ConnectOptions::tcp_addr(addr))
            .unwrap()
            .into_split();
        let err = rd_a.reunite(wr_b).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tried to reunite halves of different sockets"
        );
        let (rd_a, wr_b) = (err.0, err.1);
        let err = wr_a.reunite(rd_b).unwrap_err();
        let (rd_b, wr_a) = (err.0, err.1);
        let mut a = rd_a.reunite(wr_a).unwrap();
        let _b = wr_b.reunite(rd_b).unwrap();
        // A reunited socket is neither shut down nor paused.
        a.connected().await.unwrap();
        a.write_all(b"still open").await.unwrap();
        a.end().unwrap();
        let mut conn = accept(&mut server).await;
        let mut got = Vec::new();
        while let Some(ev) = conn.next_event().await {
            if let SocketEvent::Data(d) = ev {
                got.extend_from_slice(&d);
            }
            if got.len() == 10 {
                break;
            }
        }
        assert_eq!(got, b"still open");
    });
}

#[test]
fn flush_completes_when_the_queue_drains_without_a_drain_event() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let (mut server, addr) = listening_server().await;
        let mut c = connect(ConnectOptions::tcp_addr(addr)).unwrap();
        c.connected().await.unwrap();
        let mut conn = accept(&mut server).await;
        // Fill the kernel's buffers behind the socket's back (the server does not read
        // yet), so the next bytes are queued, below the high-water mark: no `Drain` is
        // due when they go out, and `flush` must notice the queue emptied all the same.
        let mut filled = 0;
        {
            let fd = c.as_fd().unwrap();
            let sock = socket2::SockRef::from(&fd);
            let block = [7u8; 64 * 1024];
            while let Ok(n) = sock.send(&block) {
                filled += n;
            }
        }
        c.write_all(b"tail").await.unwrap();
        assert_eq!(
            c.writable_length(),
            4,
            "queued behind the full kernel buffer"
        );
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            conn.read_to_end(&mut got).await.unwrap();
            got.len()
        });
        c.flush().await.unwrap();
        assert_eq!(c.writable_length(), 0);
        c.shutdown().await.unwrap();
        assert_eq!(reader.await.unwrap(), filled + 4);
    });
}
