//! Measures the resident memory an idle accepted connection costs on each backend:
//! `cargo run --release --example idle_memory -- [tokio|smol|std] [connections]`.
//! Accepts N loopback connections, polls each accepted socket until it is idle (reading,
//! nothing to deliver), then reports the RSS growth per connection (the peers are plain
//! std sockets whose buffers live in the kernel, not in RSS).

use std::time::{Duration, Instant};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

macro_rules! measure {
    ($b:ident, $n:expr, $poll_once:expr, $next:ident) => {{
        use $b::{create_server, Endpoint, ListenOptions, ServerEvent, ServerOptions};
        let mut server = create_server(ServerOptions::default());
        server
            .listen(ListenOptions::port(0).host("127.0.0.1"))
            .unwrap();
        let _ = $next!(server); // Listening
        let Some(Endpoint::Tcp(addr)) = server.address() else {
            panic!("not listening")
        };
        let mut peers = Vec::with_capacity($n);
        let mut sockets = Vec::with_capacity($n);
        let before = rss_kib();
        for _ in 0..$n {
            peers.push(std::net::TcpStream::connect(addr).unwrap());
            match $next!(server) {
                Some(ServerEvent::Connection(mut s)) => {
                    $poll_once(&mut s);
                    sockets.push(s);
                }
                other => panic!("{other:?}"),
            }
        }
        let after = rss_kib();
        (before, after, sockets.len(), peers.len())
    }};
}

macro_rules! next_async {
    ($s:expr) => {
        $s.next_event().await
    };
}
macro_rules! next_blocking {
    ($s:expr) => {
        $s.next_event()
    };
}

fn main() {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "tokio".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let t0 = Instant::now();
    let (before, after, socks, _) = match backend.as_str() {
        "std" => measure!(
            nodenet_std,
            n,
            |s: &mut nodenet_std::Socket| {
                // One bounded poll: run the accepted socket's first commands (start reading).
                let _ = s.set_timeout(1);
                let _ = s.next_event();
                let _ = s.set_timeout(0);
            },
            next_blocking
        ),
        "smol" => async_io::block_on(async {
            measure!(
                nodenet_smol,
                n,
                |s: &mut nodenet_smol::Socket| {
                    let _ = s.set_timeout(1);
                    let _ = async_io::block_on(s.next_event());
                    let _ = s.set_timeout(0);
                },
                next_async
            )
        }),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                measure!(
                    nodenet_tokio,
                    n,
                    |s: &mut nodenet_tokio::Socket| futures_poll_once(s),
                    next_async
                )
            }),
    };
    let per = (after.saturating_sub(before) * 1024) / socks.max(1) as u64;
    println!(
        "size_of: nodenet_tokio::Socket {} B, core Socket {} B, SocketEvent {} B, Command {} B",
        std::mem::size_of::<nodenet_tokio::Socket>(),
        std::mem::size_of::<nodenet_core::Socket>(),
        std::mem::size_of::<nodenet_core::SocketEvent>(),
        std::mem::size_of::<nodenet_core::Command>(),
    );
    println!(
        "{backend}: {socks} idle connections, RSS {before} KiB -> {after} KiB, {per} bytes per connection ({:?})",
        t0.elapsed()
    );
    std::thread::sleep(Duration::from_millis(10));
}

/// Poll `next_event` once inside the tokio runtime (it stays pending: idle socket).
fn futures_poll_once(s: &mut nodenet_tokio::Socket) {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut fut = std::pin::pin!(s.next_event());
    let _ = fut.as_mut().poll(&mut cx);
}
use std::future::Future;
