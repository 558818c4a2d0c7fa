//! The loopback suite (`nodenet_tests::suite::loopback`) on blocking std, plus
//! `std::io::Read`/`Write` interop over a `Socket`.
use nodenet::ConnectOptions;
use nodenet_std::{ServerOptions, StdRuntime};
use nodenet_tests::harness::run;
use nodenet_tests::suite::loopback::SETTINGS;
use nodenet_tests::suite::support::{accept, connect, loopback_server};
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
