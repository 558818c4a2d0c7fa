//! nodenet-tokio driven outside a Tokio runtime (another executor's `block_on`, a plain
//! thread): tokio has no reactor there, so sockets and servers fail with
//! `ERR_INVALID_STATE` saying so, as an error event, instead of tokio's panic or a
//! `connect UNKNOWN`. A socket made outside a runtime and driven inside one works.
//! Loopback only; the client tests are bounded by the kernel's loopback answer, the
//! server test by the events it takes.

use futures_lite::future::block_on;
use nodenet_tokio::{
    connect, create_server, ConnectOptions, ErrorCode, ListenOptions, ServerEvent, ServerOptions,
    SocketEvent,
};

/// Every event of `next` until it returns `None` (at most `limit`).
fn drain<E>(mut next: impl FnMut() -> Option<E>, limit: usize) -> Vec<E> {
    let mut events = Vec::new();
    while let Some(ev) = next() {
        events.push(ev);
        assert!(events.len() <= limit, "more than {limit} events");
    }
    events
}

fn assert_no_runtime_error(err: &nodenet_tokio::Error) {
    assert_eq!(err.code(), ErrorCode::ERR_INVALID_STATE);
    let shown = err.to_string();
    assert!(
        shown.starts_with("Error [ERR_INVALID_STATE]: Invalid state: nodenet-tokio sockets"),
        "{shown}"
    );
    assert!(shown.contains("Tokio 1.x runtime"), "{shown}");
}

#[test]
fn a_client_polled_outside_a_runtime_fails_with_err_invalid_state() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let events = drain(|| block_on(client.next_event()), 8);
    let errors: Vec<_> = events
        .iter()
        .filter_map(|ev| match ev {
            SocketEvent::Error(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    assert_no_runtime_error(errors[0]);
    assert!(
        matches!(
            events.last(),
            Some(SocketEvent::Close {
                had_error: Some(true)
            })
        ),
        "{events:?}"
    );
}

#[test]
fn connected_outside_a_runtime_is_the_same_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = connect(ConnectOptions::tcp(port, "localhost")).unwrap();
    let err = block_on(client.connected()).unwrap_err();
    assert_no_runtime_error(&err);
}

#[test]
fn a_server_polled_from_a_plain_thread_reports_the_error_and_ends() {
    // `Listening` (it is bound), the error (the listener is not registered, so it is
    // closed), then nothing.
    let mut server = create_server(ServerOptions::default());
    server
        .listen(ListenOptions::port(0).host("127.0.0.1"))
        .unwrap();
    let events = std::thread::spawn(move || drain(|| block_on(server.next_event()), 4))
        .join()
        .expect("no panic");
    let errors: Vec<_> = events
        .iter()
        .filter_map(|ev| match ev {
            ServerEvent::Error(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    assert_no_runtime_error(errors[0]);
    assert!(
        matches!(
            events.as_slice(),
            [ServerEvent::Listening, ServerEvent::Error(_)]
        ),
        "{events:?}"
    );
}

#[test]
fn a_socket_made_outside_a_runtime_works_inside_one() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    client.set_timeout(30_000).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            client.connected().await.unwrap();
            client.destroy(None);
        });
}

#[test]
fn from_std_outside_a_runtime_is_the_same_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    stream.set_nonblocking(true).unwrap();
    let err = nodenet_tokio::Socket::from_std(stream, nodenet_tokio::SocketOptions::default())
        .unwrap_err();
    let node = nodenet_tokio::Error::in_io(&err).expect("a Node error");
    assert_no_runtime_error(node);
    assert_eq!(err.to_string(), node.to_string());
}
