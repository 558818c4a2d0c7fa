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
