//! nodenet-smol driven by an executor that is not smol's (`futures_lite`'s `block_on`,
//! which does not run async-io's reactor itself): async-io's own reactor thread drives
//! the sockets, so a server, a client and a socket timer all work. Loopback only,
//! bounded by the events taken.

use futures_lite::future::{block_on, zip};
use nodenet_smol::{
    connect, create_server, ConnectOptions, ListenOptions, ServerEvent, ServerOptions, SocketEvent,
};

#[test]
fn server_client_and_timer_work_under_another_executor() {
    let (got, timed_out) = block_on(async {
        let mut server = create_server(ServerOptions::default());
        server
            .listen(ListenOptions::host_port("127.0.0.1", 0))
            .unwrap();
        assert!(matches!(
            server.next_event().await,
            Some(ServerEvent::Listening)
        ));
        let port = server.local_addr().unwrap().port();
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        client.write("ping");
        let client_side = async move { while client.next_event().await.is_some() {} };
        let server_side = async move {
            let Some(ServerEvent::Connection(mut conn)) = server.next_event().await else {
                panic!("no connection");
            };
            // The peer stays open and silent after its bytes: the timeout fires.
            conn.set_timeout(20).unwrap();
            let mut got = Vec::new();
            let mut timed_out = false;
            while let Some(ev) = conn.next_event().await {
                match ev {
                    SocketEvent::Data(d) => got.extend_from_slice(&d),
                    SocketEvent::Timeout => {
                        timed_out = true;
                        conn.destroy(None);
                    }
                    _ => {}
                }
            }
            (got, timed_out)
        };
        zip(client_side, server_side).await.1
    });
    assert_eq!(got, b"ping");
    assert!(timed_out);
}
