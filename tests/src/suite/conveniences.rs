//! The conveniences a tokio user expects beside Node's API (issue 20), on every runtime:
//! `connected()`, `listened()`, `peer_addr`/`local_addr`/`as_fd`, the typed constructors
//! and the async `lookup`. The owned split is checked per runtime, through each runtime's own IO
//! traits, in `backend-*/tests/split.rs`.
//! Loopback only; the tests count no process-wide resource, so they run in parallel, each
//! bounded by 20 s.
use std::time::Duration;

use nodenet::{
    AsyncLookup, ConnectOptions, Endpoint, ErrorCode, ListenOptions, LookupAddress, LookupOptions,
    ServerOptions, Socket, SocketEvent, SocketOptions,
};
use nodenet_core::ServerEvent;

use super::support::{connect, create_server};
use crate::harness::Settings;
use crate::test_runtime::{connected, listened, next, TestRuntime};

/// Each test is bounded by 20 s; the tests run in parallel.
pub const SETTINGS: Settings = Settings {
    timeout: Duration::from_secs(20),
    serial: false,
};

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn events_until_close<R: TestRuntime>(s: &mut Socket<R>) -> Vec<SocketEvent> {
    let mut out = Vec::new();
    while let Some(ev) = next(s).await {
        out.push(ev);
    }
    out
}

/// `connected()` resolves at `Connect`; the events it took (`Lookup`, the attempt, `Connect`) come back from `next_event`.
pub async fn connected_resolves_at_connect_and_keeps_the_events<R: TestRuntime>() {
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut c = connect::<R>(ConnectOptions {
            family: 4,
            ..ConnectOptions::tcp(port, "localhost")
        })
        .unwrap();
        connected(&mut c).await.unwrap();
        // Waiting again is immediate.
        connected(&mut c).await.unwrap();
        let lookup = next(&mut c).await;
        assert!(
            matches!(&lookup, Some(SocketEvent::Lookup { error: None, host, .. }) if host == "localhost"),
            "{lookup:?}"
        );
        assert!(matches!(
            next(&mut c).await,
            Some(SocketEvent::ConnectionAttempt { port: Some(p), .. }) if p == port
        ));
        assert_eq!(next(&mut c).await, Some(SocketEvent::Connect));
        assert_eq!(next(&mut c).await, Some(SocketEvent::Ready));
        c.destroy(None);
        assert_eq!(
            next(&mut c).await,
            Some(SocketEvent::Close {
                had_error: Some(false)
            })
        );
    }
}

/// A refused connect: `connected()` gives Node's `ECONNREFUSED`, and `Error` and `Close` still follow.
pub async fn connected_reports_the_connect_error_and_keeps_error_and_close<R: TestRuntime>() {
    {
        let port = closed_port();
        let mut c = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let err = connected(&mut c).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ECONNREFUSED);
        assert_eq!(
            err.message(),
            format!("connect ECONNREFUSED 127.0.0.1:{port}")
        );
        let evs = events_until_close(&mut c).await;
        assert!(matches!(
            evs.first(),
            Some(SocketEvent::ConnectionAttempt { .. })
        ));
        assert!(evs.contains(&SocketEvent::Error(err.clone())), "{evs:?}");
        assert_eq!(
            evs.last(),
            Some(&SocketEvent::Close {
                had_error: Some(true)
            })
        );
        // Everything was taken: nothing more will happen.
        assert_eq!(
            connected(&mut c).await.unwrap_err().code(),
            ErrorCode::ERR_SOCKET_CLOSED
        );
    }
}

/// A `connected()` wait dropped after one poll loses no event.
pub async fn connected_is_cancel_safe<R: TestRuntime>() {
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut c = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        // Poll once and drop the wait: the events it took must come back.
        let waker = std::task::Waker::noop();
        let _ = c.poll_connected(&mut std::task::Context::from_waker(waker));
        connected(&mut c).await.unwrap();
        assert!(matches!(
            next(&mut c).await,
            Some(SocketEvent::ConnectionAttempt { .. })
        ));
        assert_eq!(next(&mut c).await, Some(SocketEvent::Connect));
    }
}

/// `connected()` on a socket that never connected, or was destroyed while connecting.
pub async fn connected_errors_without_a_connection<R: TestRuntime>() {
    {
        // Never connected.
        let mut s = Socket::<R>::new(SocketOptions::default());
        assert_eq!(
            connected(&mut s).await.unwrap_err().code(),
            ErrorCode::ERR_SOCKET_CLOSED
        );
        // Destroyed while connecting: Close without an error.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut c = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        c.destroy(None);
        assert_eq!(
            connected(&mut c).await.unwrap_err().code(),
            ErrorCode::ERR_SOCKET_CLOSED_BEFORE_CONNECTION
        );
        assert_eq!(
            events_until_close(&mut c).await.last(),
            Some(&SocketEvent::Close {
                had_error: Some(false)
            })
        );
    }
}

/// `ListenOptions::tcp_addr`, `ConnectOptions::tcp_addr`/`host_port` and `Endpoint`'s `Display`, on IPv4 and IPv6.
pub async fn typed_constructors_listen_connect_and_display<R: TestRuntime>() {
    {
        let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
        let hosts: &[&str] = if ipv6 {
            &["127.0.0.1", "::1"]
        } else {
            &["127.0.0.1"]
        };
        for host in hosts {
            let mut server = create_server::<R>(ServerOptions::default());
            let any: std::net::SocketAddr = (host.parse::<std::net::IpAddr>().unwrap(), 0).into();
            server.listen(ListenOptions::tcp_addr(any)).unwrap();
            assert!(matches!(
                next(&mut server).await,
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
            let mut a = connect::<R>(ConnectOptions::tcp_addr(addr)).unwrap();
            connected(&mut a).await.unwrap();
            let mut b = connect::<R>(ConnectOptions::host_port(*host, addr.port())).unwrap();
            connected(&mut b).await.unwrap();
            assert_eq!(a.remote_port(), Some(addr.port()));
            assert_eq!(b.remote_address(), Some(addr.ip()));
        }
    }
}

/// `peer_addr`/`local_addr` as `SocketAddr` and `as_fd`/`as_raw_fd` on sockets and servers, TCP and IPC, before, during and after a connection.
pub async fn addresses_and_descriptors<R: TestRuntime>() {
    {
        use std::io::ErrorKind;
        let mut server = create_server::<R>(ServerOptions::default());
        assert_eq!(
            server.local_addr().unwrap_err().kind(),
            ErrorKind::NotConnected
        );
        assert!(server.as_fd().is_none());
        server
            .listen(ListenOptions::host_port("127.0.0.1", 0))
            .unwrap();
        assert!(matches!(
            next(&mut server).await,
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

        let mut c = connect::<R>(ConnectOptions::tcp_addr(addr)).unwrap();
        assert_eq!(c.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        assert!(c.as_fd().is_none());
        connected(&mut c).await.unwrap();
        let Some(ServerEvent::Connection(conn)) = next(&mut server).await else {
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
        while next(&mut c).await.is_some() {}
        assert_eq!(c.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        assert!(c.as_fd().is_none() && c.as_raw_fd().is_none());
        server.close().unwrap();
        drop(conn);
        while next(&mut server).await.is_some() {}
        assert!(server.as_fd().is_none());

        // IPC: a descriptor, but no IP address.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock").to_str().unwrap().to_owned();
        let mut server = create_server::<R>(ServerOptions::default());
        server.listen(ListenOptions::path(path.clone())).unwrap();
        assert!(matches!(
            next(&mut server).await,
            Some(ServerEvent::Listening)
        ));
        assert_eq!(
            server.local_addr().unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(server.address().unwrap().to_string(), path);
        let mut c = connect::<R>(ConnectOptions::path(path)).unwrap();
        connected(&mut c).await.unwrap();
        assert!(c.as_fd().is_some());
        assert_eq!(c.peer_addr().unwrap_err().kind(), ErrorKind::Unsupported);
        assert_eq!(c.local_addr().unwrap_err().kind(), ErrorKind::Unsupported);
    }
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
                _ => Err(nodenet::Error::getaddrinfo(ErrorCode::ENOTFOUND, &host)),
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

/// An async `lookup` answered from another thread replaces the sync one; its failure is reported unchanged.
pub async fn async_lookup_answers_on_the_socket_s_task<R: TestRuntime>() {
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let asked = std::sync::Arc::default();
        let mut s = Socket::<R>::new(SocketOptions::default());
        // The async resolver replaces a synchronous one.
        s.set_lookup(
            |_: &str, _: LookupOptions| -> nodenet::Result<Vec<LookupAddress>> {
                panic!("replaced")
            },
        );
        s.set_lookup_async(threaded_lookup(std::sync::Arc::clone(&asked)));
        s.connect(ConnectOptions {
            family: 4,
            ..ConnectOptions::host_port("db.internal", port)
        })
        .unwrap();
        connected(&mut s).await.unwrap();
        assert_eq!(
            next(&mut s).await,
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
        let mut s = Socket::<R>::new(SocketOptions::default());
        s.set_lookup_async(threaded_lookup(asked));
        s.connect(ConnectOptions::host_port("nowhere.internal", port))
            .unwrap();
        let err = connected(&mut s).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ENOTFOUND);
        assert_eq!(err.message(), "getaddrinfo ENOTFOUND nowhere.internal");
    }
}

/// `listened()` resolves at `Listening` and keeps the event (also after a cancelled wait);
/// a busy port gives Node's `EADDRINUSE` and keeps the `Error`; with no listen to wait
/// for it is `ERR_SERVER_NOT_RUNNING`.
pub async fn listened_resolves_at_listening_and_keeps_the_events<R: TestRuntime>() {
    {
        let mut server = create_server::<R>(ServerOptions::default());
        assert_eq!(
            listened(&mut server).await.unwrap_err().code(),
            ErrorCode::ERR_SERVER_NOT_RUNNING
        );
        server
            .listen(ListenOptions::port(0).host("127.0.0.1"))
            .unwrap();
        // A host is looked up first: no address yet, as in Node.
        assert_eq!(server.address(), None);
        // A wait dropped after one poll loses no event.
        let waker = std::task::Waker::noop();
        let _ = server.poll_listened(&mut std::task::Context::from_waker(waker));
        listened(&mut server).await.unwrap();
        listened(&mut server).await.unwrap(); // waiting again is immediate
        let port = server.local_addr().unwrap().port();
        assert!(matches!(
            next(&mut server).await,
            Some(ServerEvent::Listening)
        ));

        // The same port again: the bind error, which next_event still returns.
        let mut busy = create_server::<R>(ServerOptions::default());
        busy.listen(ListenOptions::port(port).host("127.0.0.1"))
            .unwrap();
        let err = listened(&mut busy).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::EADDRINUSE);
        assert_eq!(
            err.message(),
            format!("listen EADDRINUSE: address already in use 127.0.0.1:{port}")
        );
        match next(&mut busy).await {
            Some(ServerEvent::Error(e)) => assert_eq!(e, err),
            other => panic!("expected the listen error, got {other:?}"),
        }
        assert!(!busy.listening());

        server.close().unwrap();
        assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
        assert_eq!(
            listened(&mut server).await.unwrap_err().code(),
            ErrorCode::ERR_SERVER_NOT_RUNNING
        );
    }
}

/// Registers every body of this suite as a `#[test]` on `$runtime`.
#[macro_export]
macro_rules! conveniences_tests {
    ($runtime:ty) => {
        $crate::register_tests!($runtime => conveniences {
            connected_resolves_at_connect_and_keeps_the_events,
            connected_reports_the_connect_error_and_keeps_error_and_close,
            connected_is_cancel_safe,
            connected_errors_without_a_connection,
            typed_constructors_listen_connect_and_display,
            addresses_and_descriptors,
            async_lookup_answers_on_the_socket_s_task,
            listened_resolves_at_listening_and_keeps_the_events,
        });
    };
}
