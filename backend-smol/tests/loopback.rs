//! The shared loopback suite (`nodenet/testsuite/loopback.rs`) on smol / async-io (each
//! side of a scenario runs `async_io::block_on` on its own thread), plus `futures-io`
//! interop.

use nodenet_smol::*;

include!("harness/smol.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/loopback.rs");

nn_test! {
    fn futures_io_interop() {
        use futures_lite::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, io::BufReader};
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let c = accept!(server);
            let (r, mut w) = futures_lite::io::split(c);
            futures_lite::io::copy(r, &mut w).await.unwrap();
            w.close().await.unwrap();
        });
        let client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut client = BufReader::new(client);
        client.get_mut().write_all(b"line one\nline two\n").await.unwrap();
        let mut line = String::new();
        client.read_line(&mut line).await.unwrap();
        assert_eq!(line, "line one\n");
        client.get_mut().close().await.unwrap();
        let mut rest = String::new();
        client.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "line two\n");
        join!(h);
    }
}

nn_test! {
    fn io_trait_write_all_then_drop_delivers_everything_then_the_fin() {
        use futures_lite::AsyncWriteExt;
        // write_all returns once the last bytes are queued (below the high-water mark),
        // not sent: the drop must deliver them, then end the stream cleanly.
        let (mut server, port) = loopback_server!();
        let peer = read_to_end_on_thread(port, None);
        let mut c = accept!(server);
        let payload = pattern(DROPPED_WRITE);
        c.write_all(&payload).await.unwrap();
        drop(c);
        let got = peer.join().unwrap().unwrap();
        assert_eq!(got.len(), DROPPED_WRITE);
        assert!(got == payload, "in order, intact");
    }
}
