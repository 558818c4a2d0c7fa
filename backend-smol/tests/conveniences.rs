//! The conveniences beside Node's API (issue 20) on smol: `connected()`, the owned
//! split, `peer_addr`/`local_addr`/`as_fd`, the typed constructors and the async
//! `lookup`. Loopback only; each test is bounded by `LIMIT`.

use std::future::Future;
use std::time::Duration;

use nodenet_smol::{
    connect, create_server, AsyncLookup, ConnectOptions, Endpoint, ErrorCode, ListenOptions,
    LookupAddress, LookupOptions, ServerEvent, ServerOptions, Socket, SocketEvent, SocketOptions,
};

const LIMIT: Duration = Duration::from_secs(20);

/// Run `f` on the test thread (async-io drives the reactor), failing after `LIMIT`.
fn run(f: impl Future<Output = ()>) {
    async_io::block_on(futures_lite::future::or(f, async {
        async_io::Timer::after(LIMIT).await;
        panic!("test timed out");
    }));
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn events_until_close(s: &mut Socket) -> Vec<SocketEvent> {
    let mut out = Vec::new();
    while let Some(ev) = s.next_event().await {
        out.push(ev);
    }
    out
}

#[test]
fn connected_resolves_at_connect_and_keeps_the_events() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut c = connect(ConnectOptions {
            family: 4,
            ..ConnectOptions::tcp(port, "localhost")
        })
        .unwrap();
        c.connected().await.unwrap();
        c.connected().await.unwrap();
        let lookup = c.next_event().await;
        assert!(
            matches!(&lookup, Some(SocketEvent::Lookup { error: None, host, .. }) if host == "localhost"),
            "{lookup:?}"
        );
        assert!(matches!(
            c.next_event().await,
            Some(SocketEvent::ConnectionAttempt { port: Some(p), .. }) if p == port
        ));
        assert_eq!(c.next_event().await, Some(SocketEvent::Connect));
        assert_eq!(c.next_event().await, Some(SocketEvent::Ready));
    });
}

#[test]
fn connected_reports_the_connect_error_and_keeps_error_and_close() {
    run(async {
        let port = closed_port();
        let mut c = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let err = c.connected().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ECONNREFUSED);
        let evs = events_until_close(&mut c).await;
        assert!(evs.contains(&SocketEvent::Error(err)), "{evs:?}");
        assert_eq!(
            evs.last(),
            Some(&SocketEvent::Close {
                had_error: Some(true)
            })
        );
        let mut never = Socket::new(SocketOptions::default());
        assert_eq!(
            never.connected().await.unwrap_err().code(),
            ErrorCode::ERR_SOCKET_CLOSED
        );
    });
}

#[test]
fn typed_constructors_listen_connect_and_display() {
    run(async {
        let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
        let hosts: &[&str] = if ipv6 {
            &["127.0.0.1", "::1"]
        } else {
            &["127.0.0.1"]
        };
        for host in hosts {
            let mut server = create_server(ServerOptions::default());
            let any: std::net::SocketAddr = (host.parse::<std::net::IpAddr>().unwrap(), 0).into();
            server.listen(ListenOptions::tcp_addr(any)).unwrap();
            assert!(matches!(
                server.next_event().await,
                Some(ServerEvent::Listening)
            ));
            let Some(Endpoint::Tcp(addr)) = server.address() else {
                panic!()
            };
            let shown = server.address().unwrap().to_string();
            match addr {
                std::net::SocketAddr::V4(_) => {
                    assert_eq!(shown, format!("127.0.0.1:{}", addr.port()))
                }
                std::net::SocketAddr::V6(_) => assert_eq!(shown, format!("[::1]:{}", addr.port())),
            }
            let mut a = connect(ConnectOptions::tcp_addr(addr)).unwrap();
            a.connected().await.unwrap();
            let mut b = connect(ConnectOptions::host_port(*host, addr.port())).unwrap();
            b.connected().await.unwrap();
            assert_eq!(a.remote_port(), Some(addr.port()));
            assert_eq!(b.remote_address(), Some(addr.ip()));
        }
    });
}

#[test]
fn addresses_and_descriptors() {
    run(async {
        use std::io::ErrorKind;
        let mut server = create_server(ServerOptions::default());
        assert_eq!(
            server.local_addr().unwrap_err().kind(),
            ErrorKind::NotConnected
        );
        assert!(server.as_fd().is_none());
        server
            .listen(ListenOptions::host_port("127.0.0.1", 0))
            .unwrap();
        assert!(matches!(
            server.next_event().await,
            Some(ServerEvent::Listening)
        ));
        let addr = server.local_addr().unwrap();
        let lfd = server.as_fd().expect("listening");
        assert_eq!(
            socket2::SockRef::from(&lfd)
                .local_addr()
                .unwrap()
                .as_socket(),
            Some(addr)
        );
        assert_eq!(
            server.as_raw_fd(),
            Some(std::os::fd::AsRawFd::as_raw_fd(&lfd))
        );

        let mut c = connect(ConnectOptions::tcp_addr(addr)).unwrap();
        assert_eq!(c.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        assert!(c.as_fd().is_none());
        c.connected().await.unwrap();
        let Some(ServerEvent::Connection(conn)) = server.next_event().await else {
            panic!()
        };
        assert_eq!(c.peer_addr().unwrap(), addr);
        assert_eq!(conn.local_addr().unwrap(), addr);
        assert_eq!(conn.peer_addr().unwrap(), c.local_addr().unwrap());
        let fd = c.as_fd().expect("connected");
        assert_eq!(
            socket2::SockRef::from(&fd).peer_addr().unwrap().as_socket(),
            Some(addr)
        );
        c.destroy(None);
        while c.next_event().await.is_some() {}
        assert_eq!(c.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        assert!(c.as_fd().is_none() && c.as_raw_fd().is_none());
        server.close().unwrap();
        drop(conn);
        while server.next_event().await.is_some() {}
        assert!(server.as_fd().is_none());

        // IPC: a descriptor, but no IP address.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock").to_str().unwrap().to_owned();
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::path(path.clone())).unwrap();
        assert!(matches!(
            server.next_event().await,
            Some(ServerEvent::Listening)
        ));
        assert_eq!(
            server.local_addr().unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(server.address().unwrap().to_string(), path);
        let mut c = connect(ConnectOptions::path(path)).unwrap();
        c.connected().await.unwrap();
        assert!(c.as_fd().is_some());
        assert_eq!(c.peer_addr().unwrap_err().kind(), ErrorKind::Unsupported);
        assert_eq!(c.local_addr().unwrap_err().kind(), ErrorKind::Unsupported);
    });
}

/// An async resolver whose answer comes from another thread a little later (so the
/// socket must wait for the wake), recording the options it was asked with.
fn threaded_lookup(
    asked: std::sync::Arc<std::sync::Mutex<Vec<(String, LookupOptions)>>>,
) -> impl AsyncLookup {
    move |host: String, opts: LookupOptions| {
        asked.lock().unwrap().push((host.clone(), opts));
        let (tx, rx) = std::sync::mpsc::channel();
        let slot = std::sync::Arc::new(std::sync::Mutex::new(None::<std::task::Waker>));
        let wake = slot.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let answer = match host.as_str() {
                "db.internal" => Ok(vec![LookupAddress::new("127.0.0.1", 4)]),
                _ => Err(nodenet_smol::Error::getaddrinfo(
                    ErrorCode::ENOTFOUND,
                    &host,
                )),
            };
            let _ = tx.send(answer);
            if let Some(w) = wake.lock().unwrap().take() {
                w.wake();
            }
        });
        std::future::poll_fn(move |cx| {
            *slot.lock().unwrap() = Some(cx.waker().clone());
            match rx.try_recv() {
                Ok(answer) => std::task::Poll::Ready(answer),
                Err(_) => std::task::Poll::Pending,
            }
        })
    }
}

#[test]
fn async_lookup_answers_on_the_socket_s_task() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let asked = std::sync::Arc::default();
        let mut s = Socket::new(SocketOptions::default());
        // The async resolver replaces a synchronous one.
        s.set_lookup(
            |_: &str, _: LookupOptions| -> nodenet_smol::Result<Vec<LookupAddress>> {
                panic!("replaced")
            },
        );
        s.set_lookup_async(threaded_lookup(std::sync::Arc::clone(&asked)));
        s.connect(ConnectOptions {
            family: 4,
            ..ConnectOptions::host_port("db.internal", port)
        })
        .unwrap();
        s.connected().await.unwrap();
        assert_eq!(
            s.next_event().await,
            Some(SocketEvent::Lookup {
                error: None,
                address: Some("127.0.0.1".into()),
                family: Some(4),
                host: "db.internal".into(),
            })
        );
        let (host, opts) = asked.lock().unwrap()[0].clone();
        assert_eq!(
            (host.as_str(), opts.family, opts.all),
            ("db.internal", 4, false)
        );
        assert_eq!(s.peer_addr().unwrap(), listener.local_addr().unwrap());

        // A failed lookup is reported unchanged.
        let mut s = Socket::new(SocketOptions::default());
        s.set_lookup_async(threaded_lookup(asked));
        s.connect(ConnectOptions::host_port("nowhere.internal", port))
            .unwrap();
        let err = s.connected().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ENOTFOUND);
        assert_eq!(err.message(), "getaddrinfo ENOTFOUND nowhere.internal");
    });
}
