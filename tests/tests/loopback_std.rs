//! The loopback suite (`nodenet_tests::suite::loopback`) on blocking std, plus
//! `std::io::Read`/`Write` interop over a `Socket`.
use nodenet::ConnectOptions;
use nodenet_std::{ServerOptions, StdRuntime};
use nodenet_tests::harness::run;
use nodenet_tests::suite::loopback::SETTINGS;
use nodenet_tests::suite::support::{
    accept, connect, join_thread, loopback_server, pattern, read_to_end_on_thread, DROPPED_WRITE,
};
use nodenet_tests::test_runtime::TestRuntime;

nodenet_tests::loopback_tests!(StdRuntime);

#[test]
fn std_read_write_interop() {
    run::<StdRuntime, _>(SETTINGS, || async {
        use std::io::{BufRead, BufReader, Read, Write};
        let (mut server, port) = loopback_server::<StdRuntime>(ServerOptions::default()).await;
        let h = StdRuntime::spawn(async move {
            // An echo server written with std::io::Read/Write over the Socket.
            let mut c = accept(&mut server).await;
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
        let mut client = connect::<StdRuntime>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
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
        h.await;
    });
}

#[test]
fn io_trait_write_all_then_drop_delivers_everything_then_the_fin() {
    run::<StdRuntime, _>(SETTINGS, || async {
        use std::io::Write;
        // write_all returns once the last bytes are queued (below the high-water mark),
        // not sent: the drop must deliver them, then end the stream cleanly.
        let (mut server, port) = loopback_server::<StdRuntime>(ServerOptions::default()).await;
        let peer = read_to_end_on_thread(port, None);
        let mut c = accept(&mut server).await;
        let payload = pattern(DROPPED_WRITE);
        c.write_all(&payload).unwrap();
        drop(c);
        let got = join_thread::<StdRuntime, _>(peer).await.unwrap();
        assert_eq!(got.len(), DROPPED_WRITE);
        assert!(got == payload, "in order, intact");
    });
}
