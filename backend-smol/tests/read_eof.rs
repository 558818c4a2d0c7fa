//! A fast writer's last bytes and its FIN reach a smol reader that reads through
//! `futures-io` (`read_to_end`): the read path must not wait for a readiness that
//! async-io already reported (this hung with the default `drained` shortcut).

use std::io::Write;
use std::time::Duration;

use futures_lite::io::AsyncReadExt;
use nodenet_smol::{create_server, ListenOptions, ServerEvent, ServerOptions};

#[test]
fn read_to_end_sees_every_byte_and_the_end() {
    async_io::block_on(futures_lite::future::or(
        async {
            let mut server = create_server(ServerOptions::default());
            server
                .listen(ListenOptions::host_port("127.0.0.1", 0))
                .unwrap();
            assert!(matches!(
                server.next_event().await,
                Some(ServerEvent::Listening)
            ));
            let addr = server.local_addr().unwrap();
            let payload: Vec<u8> = (0..4 * 1024 * 1024)
                .map(|i: usize| (i % 251) as u8)
                .collect();
            let expected = payload.clone();
            let writer = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(b"head").unwrap();
                s.write_all(&payload).unwrap();
            });
            let Some(ServerEvent::Connection(mut conn)) = server.next_event().await else {
                panic!("no connection")
            };
            let mut got = Vec::new();
            conn.read_to_end(&mut got).await.unwrap();
            assert_eq!(&got[..4], b"head");
            assert!(got[4..] == expected[..], "got {} bytes", got.len());
            writer.join().unwrap();
        },
        async {
            async_io::Timer::after(Duration::from_secs(30)).await;
            panic!("test timed out");
        },
    ));
}
