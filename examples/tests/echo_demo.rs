//! The demo's server and client logic, in-process on an ephemeral port, on every backend.

use nodenet_examples::CLIENT_LINE;

#[test]
fn tokio_echo_demo() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server = tokio::spawn(nodenet_examples::tokio_demo::echo_server(
            nodenet_tokio::ListenOptions::port(0).host("127.0.0.1"),
            Some(1),
            move |s| {
                let _ = tx.send(s.address());
            },
        ));
        let Some(nodenet_tokio::Endpoint::Tcp(addr)) = rx.await.unwrap() else {
            panic!("no TCP address")
        };
        let got = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            nodenet_examples::tokio_demo::echo_client(
                nodenet_tokio::ConnectOptions::tcp(addr.port(), "127.0.0.1"),
                CLIENT_LINE,
            ),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            format!("hello\r\n{CLIENT_LINE}")
        );
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    });
}
