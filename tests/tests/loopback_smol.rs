//! The loopback suite (`nodenet_tests::suite::loopback`) on smol / async-io, plus
//! `futures-io` interop (`AsyncRead`/`AsyncWrite` over a `Socket`).
use nodenet::ConnectOptions;
use nodenet_smol::{ServerOptions, SmolRuntime};
use nodenet_tests::harness::run;
use nodenet_tests::suite::loopback::SETTINGS;
use nodenet_tests::suite::support::{
    accept, connect, join_thread, loopback_server, pattern, read_to_end_on_thread, DROPPED_WRITE,
};
use nodenet_tests::test_runtime::TestRuntime;

nodenet_tests::loopback_tests!(SmolRuntime);

#[test]
fn futures_io_interop() {
    run::<SmolRuntime, _>(SETTINGS, || async {
        use futures_lite::{io::BufReader, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        let (mut server, port) = loopback_server::<SmolRuntime>(ServerOptions::default()).await;
        let h = SmolRuntime::spawn(async move {
            let c = accept(&mut server).await;
            let (r, mut w) = futures_lite::io::split(c);
            futures_lite::io::copy(r, &mut w).await.unwrap();
            w.close().await.unwrap();
        });
        let client = connect::<SmolRuntime>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut client = BufReader::new(client);
        client
            .get_mut()
            .write_all(b"line one\nline two\n")
            .await
            .unwrap();
        let mut line = String::new();
        client.read_line(&mut line).await.unwrap();
        assert_eq!(line, "line one\n");
        client.get_mut().close().await.unwrap();
        let mut rest = String::new();
        client.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "line two\n");
        h.await;
    });
}

#[test]
fn io_trait_write_all_then_drop_delivers_everything_then_the_fin() {
    run::<SmolRuntime, _>(SETTINGS, || async {
        use futures_lite::AsyncWriteExt;
        // write_all returns once the last bytes are queued (below the high-water mark),
        // not sent: the drop must deliver them, then end the stream cleanly.
        let (mut server, port) = loopback_server::<SmolRuntime>(ServerOptions::default()).await;
        let peer = read_to_end_on_thread(port, None);
        let mut c = accept(&mut server).await;
        let payload = pattern(DROPPED_WRITE);
        c.write_all(&payload).await.unwrap();
        drop(c);
        let got = join_thread::<SmolRuntime, _>(peer).await.unwrap();
        assert_eq!(got.len(), DROPPED_WRITE);
        assert!(got == payload, "in order, intact");
    });
}
