//! The shared loopback suite (`nodenet/testsuite/loopback.rs`) on blocking std (each side of
//! a scenario on its own thread), plus `std::io::Read`/`Write` interop.

use nodenet_std::*;

include!("harness/std.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/loopback.rs");

nn_test! {
    fn std_read_write_interop() {
        use std::io::{BufRead, BufReader, Read, Write};
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            // An echo server written with std::io::copy over the Socket.
            let mut c = accept!(server);
            let mut buf = [0u8; 1024];
            loop {
                let n = c.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                c.write_all(&buf[..n]).unwrap();
            }
            c.shutdown_write().unwrap();
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        client.write_all(b"line one\nline two\n").unwrap();
        client.flush().unwrap();
        let mut reader = BufReader::new(client);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "line one\n");
        reader.get_mut().shutdown_write().unwrap();
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "line two\n");
        join!(h);
    }
}

nn_test! {
    fn io_trait_write_all_then_drop_delivers_everything_then_the_fin() {
        use std::io::Write;
        // write_all returns once the last bytes are queued (below the high-water mark),
        // not sent: the drop must deliver them, then end the stream cleanly.
        let (mut server, port) = loopback_server!();
        let peer = read_to_end_on_thread(port, None);
        let mut c = accept!(server);
        let payload = pattern(DROPPED_WRITE);
        c.write_all(&payload).unwrap();
        drop(c);
        let got = peer.join().unwrap().unwrap();
        assert_eq!(got.len(), DROPPED_WRITE);
        assert!(got == payload, "in order, intact");
    }
}
