//! The owned split on smol (issue 20): `into_split` halves used from two tasks or
//! threads through the runtime's own IO traits, `reunite`, and nothing lost when the
//! halves drop. The runtime-agnostic conveniences (`connected()`, addresses, typed
//! constructors, async `lookup`) run on every runtime in `nodenet_tests::suite::conveniences`.
//! Loopback only; each test is bounded by `LIMIT`.

use std::future::Future;
use std::time::Duration;

use nodenet_smol::{
    connect, create_server, ConnectOptions, ListenOptions, ServerEvent, ServerOptions, Socket,
    SocketEvent,
};

const LIMIT: Duration = Duration::from_secs(20);

/// Run `f` on the test thread (async-io drives the reactor), failing after `LIMIT`.
fn run(f: impl Future<Output = ()>) {
    async_io::block_on(futures_lite::future::or(f, async {
        async_io::Timer::after(LIMIT).await;
        panic!("test timed out");
    }));
}

/// A loopback server, past `Listening`, and its address.
async fn listening_server() -> (nodenet_smol::Server, std::net::SocketAddr) {
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

async fn accept(server: &mut nodenet_smol::Server) -> Socket {
    match server.next_event().await {
        Some(ServerEvent::Connection(c)) => c,
        other => panic!("expected a connection, got {other:?}"),
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Run `f` on its own thread (its own `block_on`): the halves live on different threads.
fn thread<T: Send + 'static>(
    f: impl Future<Output = T> + Send + 'static,
) -> std::thread::JoinHandle<T> {
    std::thread::spawn(move || async_io::block_on(f))
}

#[test]
fn split_halves_echo_from_separate_threads() {
    use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let (mut server, addr) = listening_server().await;
        let echo = thread(async move {
            let (mut rd, mut wr) = accept(&mut server).await.into_split();
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
            let reader = thread(async move {
                let mut buf = vec![0; 16 * 1024];
                loop {
                    match rd.read(&mut buf).await.unwrap() {
                        0 => break,
                        n => tx.send(buf[..n].to_vec()).unwrap(),
                    }
                }
            });
            let writer = std::thread::spawn(move || {
                async_io::block_on(async move {
                    while let Ok(chunk) = rx.recv() {
                        wr.write_all(&chunk).await.unwrap();
                    }
                })
            });
            reader.join().unwrap();
            writer.join().unwrap();
        });
        let (mut rd, mut wr) = connect(ConnectOptions::tcp_addr(addr))
            .unwrap()
            .into_split();
        let sent = pattern(2 * 1024 * 1024);
        let expected = sent.clone();
        let writer = thread(async move {
            wr.write_all(&sent).await.unwrap();
            wr.close().await.unwrap();
            wr
        });
        let mut got = Vec::new();
        rd.read_to_end(&mut got).await.unwrap();
        assert!(got == expected, "echo differs ({} bytes)", got.len());
        let wr = writer.join().unwrap();
        echo.join().unwrap();
        let socket = rd.reunite(wr).unwrap();
        assert_eq!(socket.bytes_written(), expected.len() as u64);
    });
}

#[test]
fn written_bytes_survive_dropping_both_halves() {
    use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let (mut server, addr) = listening_server().await;
        let sent = pattern(4 * 1024 * 1024);
        let expected = sent.clone();
        let client = thread(async move {
            let mut c = connect(ConnectOptions::tcp_addr(addr)).unwrap();
            c.write("queued before the split: ");
            let (rd, mut wr) = c.into_split();
            wr.write_all(&sent).await.unwrap();
            drop(wr);
            drop(rd);
            eprintln!("client dropped all");
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
        client.join().unwrap();
    });
}

#[test]
fn dropping_the_write_half_ends_only_the_write_side() {
    use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let (mut server, addr) = listening_server().await;
        let (mut rd, mut wr) = connect(ConnectOptions::tcp_addr(addr))
            .unwrap()
            .into_split();
        wr.write_all(b"question").await.unwrap();
        drop(wr);
        let server_side = thread(async move {
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
        server_side.join().unwrap();
        let err = rd.reunite(
            connect(ConnectOptions::tcp_addr(addr))
                .unwrap()
                .into_split()
                .1,
        );
        assert!(err.is_err());
    });
}
