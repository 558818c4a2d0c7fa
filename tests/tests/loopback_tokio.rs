//! The loopback suite (`nodenet_tests::suite::loopback`) on tokio, plus tokio-only interop
//! tests (`AsyncRead`/`AsyncWrite` over a `Socket`).
use nodenet::ConnectOptions;
use nodenet_tests::harness::run;
use nodenet_tests::suite::loopback::SETTINGS;
use nodenet_tests::suite::support::{
    accept, connect, join_thread, loopback_server, pattern, read_to_end_on_thread, DROPPED_WRITE,
};
use nodenet_tests::test_runtime::TestRuntime;
use nodenet_tokio::{ServerOptions, SocketOptions, TokioRuntime};

nodenet_tests::loopback_tests!(TokioRuntime);

#[test]
fn async_read_write_interop() {
    run::<TokioRuntime, _>(SETTINGS, || async {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let (mut server, port) = loopback_server::<TokioRuntime>(ServerOptions::default()).await;
        let h = TokioRuntime::spawn(async move {
            // An echo server written with tokio::io::copy over a split Socket.
            let c = accept(&mut server).await;
            let (mut r, mut w) = tokio::io::split(c);
            tokio::io::copy(&mut r, &mut w).await.unwrap();
            w.shutdown().await.unwrap();
        });
        let client = connect::<TokioRuntime>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut client = BufReader::new(client);
        client
            .get_mut()
            .write_all(b"line one\nline two\n")
            .await
            .unwrap();
        let mut line = String::new();
        client.read_line(&mut line).await.unwrap();
        assert_eq!(line, "line one\n");
        client.get_mut().shutdown().await.unwrap();
        let mut rest = String::new();
        client.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "line two\n");
        h.await;
    });
}

#[test]
fn async_write_waits_on_backpressure() {
    run::<TokioRuntime, _>(SETTINGS, || async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // 4 MiB through tokio::io::copy and back: poll_write must wait at the
        // high-water mark instead of queueing everything. The echo ends its side itself
        // (shutdown after copy), so the server allows half-open connections: with Node's
        // default, the client's FIN read while copy's last write still waits at the mark
        // ends the socket at once ('end' then end()), and that write fails with EPIPE.
        let options = ServerOptions::new(SocketOptions {
            allow_half_open: true,
            ..SocketOptions::default()
        });
        let (mut server, port) = loopback_server::<TokioRuntime>(options).await;
        let h = TokioRuntime::spawn(async move {
            let c = accept(&mut server).await;
            let (mut r, mut w) = tokio::io::split(c);
            tokio::io::copy(&mut r, &mut w).await.unwrap();
            w.shutdown().await.unwrap();
        });
        let client = connect::<TokioRuntime>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let (mut r, mut w) = tokio::io::split(client);
        let payload: Vec<u8> = (0..4 * 1024 * 1024)
            .map(|i: usize| (i % 251) as u8)
            .collect();
        let expected = payload.clone();
        let writer = TokioRuntime::spawn(async move {
            w.write_all(&payload).await.unwrap();
            w.shutdown().await.unwrap();
        });
        let mut back = Vec::new();
        r.read_to_end(&mut back).await.unwrap();
        assert!(back == expected);
        writer.await;
        h.await;
    });
}

#[test]
fn io_trait_write_all_then_drop_delivers_everything_then_the_fin() {
    run::<TokioRuntime, _>(SETTINGS, || async {
        use tokio::io::AsyncWriteExt;
        // write_all returns once the last bytes are queued (below the high-water mark),
        // not sent: the drop must deliver them, then end the stream cleanly.
        let (mut server, port) = loopback_server::<TokioRuntime>(ServerOptions::default()).await;
        let peer = read_to_end_on_thread(port, None);
        let mut c = accept(&mut server).await;
        let payload = pattern(DROPPED_WRITE);
        c.write_all(&payload).await.unwrap();
        drop(c);
        let got = join_thread::<TokioRuntime, _>(peer).await.unwrap();
        assert_eq!(got.len(), DROPPED_WRITE);
        assert!(got == payload, "in order, intact");
    });
}
