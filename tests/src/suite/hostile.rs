//! Hostile traffic on loopback: accept-queue resets, RST storms, slowloris, `EMFILE`
//! under a low limit, connection churn, slow readers. The raw clients are plain std
//! threads; the server side is the runtime under test (one detached task per
//! connection). Each runtime runs it in a test
//! binary of its own (`hostile_<runtime>.rs`), because the tests count the process's
//! descriptors and memory and one lowers its descriptor limit.
//!
//! The light variants run in `cargo test --workspace`; the heavy ones are `#[ignore]`d
//! and run with
//!
//! ```text
//! cargo test --release -p nodenet-tests --test hostile_tokio --test hostile_smol \
//!     --test hostile_std -- --ignored --nocapture --test-threads 1
//! ```
//!
//! Figures print as `[runtime] hostile <test>: ...` lines.
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nodenet::{Bytes, Server, ServerOptions, SocketEvent};
use nodenet_core::ServerEvent;

use super::proc_stats::{listen_drops, open_fds, raise_fd_limit, rss_kib};
use super::support::{accept, drain, loopback_server};
use crate::harness::Settings;
use crate::test_runtime::{next, next_until, TestRuntime};

/// Serial (the tests count the process's descriptors and memory), bounded by 300 s.
pub const SETTINGS: Settings = super::RELIABILITY;

/// Connections that send bytes and reset while waiting in the accept queue.
const QUEUE_RESETS: usize = 20;

/// Client threads of the load tests.
const CLIENT_THREADS: usize = 4;

/// A raw client that connects, sends `bytes` and resets (`SO_LINGER` 0, then close): on
/// loopback the bytes and the RST are in the server's queue when this returns.
fn send_and_reset(port: u16, bytes: &[u8]) {
    use std::io::Write;
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(bytes).unwrap();
    socket2::SockRef::from(&c)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

/// Connections reset while still in the accept queue are each delivered with their
/// bytes, `End` and a clean `Close`, and no `Error`, as in Node.
pub async fn resets_in_the_accept_queue_are_delivered_with_their_bytes<R: TestRuntime>() {
    // Node delivers each: 'data' with the bytes, 'end', a clean 'close', no 'error'
    // (libuv reads the data, sees the hang-up with a partial read and ends there).
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    for i in 0..QUEUE_RESETS {
        send_and_reset(port, format!("hello {i}").as_bytes());
    }
    let mut delivered = 0;
    let deadline = R::now() + Duration::from_secs(10);
    for i in 0..QUEUE_RESETS {
        let mut c = match next_until(&mut server, deadline).await {
            Some(Some(ServerEvent::Connection(c))) => c,
            other => panic!("{delivered} of {QUEUE_RESETS} delivered, then {other:?}"),
        };
        let (data, events) = drain(&mut c).await;
        assert_eq!(
            String::from_utf8_lossy(&data),
            format!("hello {i}"),
            "{events:?}"
        );
        assert!(
            events.iter().all(|e| !matches!(e, SocketEvent::Error(_))),
            "no error, as in Node: {events:?}"
        );
        assert!(events.contains(&SocketEvent::End), "{events:?}");
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close {
                had_error: Some(false)
            })
        );
        delivered += 1;
    }
    eprintln!(
        "[{}] hostile accept-queue resets: {delivered} of {QUEUE_RESETS} delivered",
        R::NAME
    );
    assert_eq!(server.connections(), 0);
    server.close().unwrap();
    assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
}

/// What the hostile tests' echo server saw (shared with its connection tasks).
#[derive(Debug, Default)]
struct Served {
    accepted: AtomicUsize,
    closed: AtomicUsize,
    bytes: AtomicUsize,
    /// Connections that ended with an `Error` event (a reset after the data, ...).
    errored: AtomicUsize,
    server_errors: Mutex<Vec<String>>,
}

impl Served {
    fn accepted(&self) -> usize {
        self.accepted.load(SeqCst)
    }
    fn closed(&self) -> usize {
        self.closed.load(SeqCst)
    }
    fn bytes(&self) -> usize {
        self.bytes.load(SeqCst)
    }
    fn errored(&self) -> usize {
        self.errored.load(SeqCst)
    }
    fn server_errors(&self) -> Vec<String> {
        self.server_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Serve `server` (echo, one detached task per connection, counted in `served`) until
/// `done()` holds and, with `wait_closed`, every accepted connection closed; at most
/// 120 s.
async fn serve_echo_until<R: TestRuntime>(
    server: &mut Server<R>,
    served: &Arc<Served>,
    mut done: impl FnMut() -> bool,
    wait_closed: bool,
) {
    let deadline = R::now() + Duration::from_secs(120);
    loop {
        if done() && (!wait_closed || served.closed() == served.accepted()) {
            break;
        }
        assert!(
            R::now() < deadline,
            "still serving after 120 s: {} accepted, {} closed",
            served.accepted(),
            served.closed()
        );
        match next_until(server, R::now() + Duration::from_millis(10)).await {
            Some(Some(ServerEvent::Connection(mut c))) => {
                served.accepted.fetch_add(1, SeqCst);
                let served = Arc::clone(served);
                // Detached: the task runs on; `served.closed` says when it is done.
                drop(<R as TestRuntime>::spawn(async move {
                    while let Some(ev) = next(&mut c).await {
                        match ev {
                            SocketEvent::Data(d) => {
                                served.bytes.fetch_add(d.len(), SeqCst);
                                c.write(d);
                            }
                            SocketEvent::Error(_) => {
                                served.errored.fetch_add(1, SeqCst);
                            }
                            _ => {}
                        }
                    }
                    drop(c);
                    served.closed.fetch_add(1, SeqCst);
                }));
            }
            Some(Some(ServerEvent::Error(e))) => {
                served
                    .server_errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(e.to_string());
            }
            Some(other) => panic!("server: {other:?}"),
            None => {}
        }
    }
}

/// Plain std client threads, each running `body(thread index)` to completion;
/// `(handles, finished)`: `finished` counts the threads that are done, so the test can
/// keep serving while they run.
fn client_threads<T: Send + 'static>(
    n: usize,
    body: impl Fn(usize) -> T + Send + Sync + 'static,
) -> (Vec<JoinHandle<T>>, Arc<AtomicUsize>) {
    let finished = Arc::new(AtomicUsize::new(0));
    let body = Arc::new(body);
    let handles = (0..n)
        .map(|t| {
            let finished = Arc::clone(&finished);
            let body = Arc::clone(&body);
            std::thread::spawn(move || {
                let r = body(t);
                finished.fetch_add(1, SeqCst);
                r
            })
        })
        .collect();
    (handles, finished)
}

/// One raw client cycle: connect, send a line, read the echo, close. `true` when the
/// echo came back intact.
fn echo_cycle(port: u16, line: &[u8]) -> bool {
    use std::io::{Read, Write};
    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let mut back = vec![0u8; line.len()];
    c.write_all(line).is_ok() && c.read_exact(&mut back).is_ok() && back == line
}

/// `n` churn cycles from [`CLIENT_THREADS`] raw clients, served until every client is
/// done and every connection closed: the cycles whose echo did not come back.
async fn churn_round<R: TestRuntime>(
    server: &mut Server<R>,
    served: &Arc<Served>,
    port: u16,
    n: usize,
) -> usize {
    let (handles, finished) = client_threads(CLIENT_THREADS, move |t: usize| {
        let share = n / CLIENT_THREADS + usize::from(t < n % CLIENT_THREADS);
        (0..share).filter(|_| !echo_cycle(port, b"churn\n")).count()
    });
    serve_echo_until(
        server,
        served,
        || finished.load(SeqCst) == CLIENT_THREADS,
        true,
    )
    .await;
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

/// Churn: `cycles` connect / echo / close cycles from raw clients; descriptors and RSS
/// after a warm-up and at the end (RSS within `rss_bound_kib`).
async fn churn<R: TestRuntime>(cycles: usize, rss_bound_kib: u64) {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let served = Arc::new(Served::default());
    let warm_up = (cycles / 10).min(2_000);
    assert_eq!(churn_round(&mut server, &served, port, warm_up).await, 0);
    let (fds0, rss0) = (open_fds(), rss_kib());
    let t0 = R::now();
    let lost = churn_round(&mut server, &served, port, cycles).await;
    let elapsed = R::now().duration_since(t0);
    let (fds1, rss1) = (open_fds(), rss_kib());
    eprintln!(
        "[{}] hostile churn: {cycles} cycles in {elapsed:.2?}, served {}, lost {lost}; \
         descriptors {fds0} -> {fds1}; RSS {rss0} -> {rss1} KiB",
        R::NAME,
        cycles - lost
    );
    assert_eq!(lost, 0);
    assert!(fds1 <= fds0, "descriptors {fds0} -> {fds1}");
    assert!(
        rss1 <= rss0 + rss_bound_kib,
        "RSS {rss0} -> {rss1} KiB over {cycles} cycles"
    );
    assert!(
        served.server_errors().is_empty(),
        "{:?}",
        served.server_errors()
    );
}

/// 2 000 churn cycles: no descriptor left, RSS within 8 MiB.
pub async fn churn_2000_cycles_flat_memory_and_descriptors<R: TestRuntime>() {
    churn::<R>(2_000, 8 * 1024).await;
}

/// The heavy variant: 200 000 churn cycles, RSS within 4 MiB.
pub async fn churn_200000_cycles_flat_memory_and_descriptors<R: TestRuntime>() {
    churn::<R>(200_000, 4 * 1024).await;
}

/// RST storm: `resets` raw clients send 100 bytes each and reset at once. Every one is
/// surfaced with its bytes, and no descriptor is left.
async fn rst_storm<R: TestRuntime>(resets: usize) {
    raise_fd_limit(4096);
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let served = Arc::new(Served::default());
    let (fds0, rss0) = (open_fds(), rss_kib());
    let drops0 = listen_drops();
    let t0 = R::now();
    let (handles, finished) = client_threads(CLIENT_THREADS, move |t: usize| {
        let share = resets / CLIENT_THREADS + usize::from(t < resets % CLIENT_THREADS);
        for _ in 0..share {
            send_and_reset(port, &[b'r'; 100]);
        }
    });
    let counted = Arc::clone(&served);
    serve_echo_until(
        &mut server,
        &served,
        || {
            let kernel_dropped = kernel_drops_since(drops0);
            finished.load(SeqCst) == CLIENT_THREADS && counted.accepted() + kernel_dropped >= resets
                || R::now().duration_since(t0) > Duration::from_secs(60)
        },
        true,
    )
    .await;
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = R::now().duration_since(t0);
    let (fds1, rss1) = (open_fds(), rss_kib());
    let surfaced = served.accepted();
    let kernel_dropped = kernel_drops_since(drops0);
    eprintln!(
        "[{}] hostile RST storm: {resets} resets in {elapsed:.2?}: surfaced {surfaced}, \
         lost {}, dropped by a full accept queue (kernel, machine-wide) {kernel_dropped}, \
         bytes {} of {}, {} ended with an error; descriptors {fds0} -> {fds1}; \
         RSS {rss0} -> {rss1} KiB",
        R::NAME,
        resets - surfaced,
        served.bytes(),
        resets * 100,
        served.errored()
    );
    // A connection the kernel dropped from a full accept queue never reaches any program
    // (Node's neither); every other one must surface, with its bytes.
    assert!(
        surfaced + kernel_dropped >= resets,
        "every reset connection the kernel queued is surfaced: {surfaced} of {resets}, \
         {kernel_dropped} dropped by the kernel"
    );
    assert_eq!(served.bytes(), surfaced * 100, "each with its bytes");
    assert!(fds1 <= fds0, "descriptors {fds0} -> {fds1}");
    assert!(
        served.server_errors().is_empty(),
        "{:?}",
        served.server_errors()
    );
}

/// Connections the kernel dropped from a full accept queue since `before` (0 when the
/// counter cannot be read).
fn kernel_drops_since(before: Option<u64>) -> usize {
    match (before, listen_drops()) {
        (Some(a), Some(b)) => usize::try_from(b.saturating_sub(a)).unwrap_or(usize::MAX),
        _ => 0,
    }
}

/// 1 000 clients reset at once: every connection surfaced with its bytes.
pub async fn rst_storm_1000_every_connection_surfaced<R: TestRuntime>() {
    rst_storm::<R>(1_000).await;
}

/// The heavy variant: 21 001 resets.
pub async fn rst_storm_21001_every_connection_surfaced<R: TestRuntime>() {
    rst_storm::<R>(21_001).await;
}

/// Slowloris: `slow` connections each trickle one byte every 50 ms for `secs` seconds,
/// while a normal client keeps doing echo round trips on one connection; its latency
/// is reported (and bounded only for liveness).
async fn slowloris<R: TestRuntime>(slow: usize, secs: u64) {
    raise_fd_limit(2 * slow as u64 + 1024);
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let served = Arc::new(Served::default());
    let (fds0, rss0) = (open_fds(), rss_kib());
    let peak_rss = Arc::new(AtomicU64::new(rss0));
    // Thread 0: the slow connections, round-robin; thread 1: the normal client.
    let peak = Arc::clone(&peak_rss);
    let (handles, finished) = client_threads(2, move |t: usize| -> Vec<Duration> {
        use std::io::{Read, Write};
        let until = Instant::now() + Duration::from_secs(secs);
        if t == 0 {
            let mut conns: Vec<TcpStream> = (0..slow)
                .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
                .collect();
            assert_eq!(conns.len(), slow, "slow clients connected");
            while Instant::now() < until {
                for c in &mut conns {
                    let _ = c.write_all(b"s");
                }
                peak.fetch_max(rss_kib(), SeqCst);
                std::thread::sleep(Duration::from_millis(50));
            }
            return Vec::new();
        }
        std::thread::sleep(Duration::from_millis(200)); // the slow ones are in
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut rtts = Vec::new();
        while Instant::now() < until {
            let t = Instant::now();
            c.write_all(b"ping\n").unwrap();
            let mut back = [0u8; 5];
            c.read_exact(&mut back).unwrap();
            rtts.push(t.elapsed());
            std::thread::sleep(Duration::from_millis(5));
        }
        rtts
    });
    serve_echo_until(&mut server, &served, || finished.load(SeqCst) == 2, true).await;
    let mut rtts: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    rtts.sort();
    let (fds1, rss1) = (open_fds(), rss_kib());
    let p = |q: f64| rtts[((rtts.len() - 1) as f64 * q) as usize];
    eprintln!(
        "[{}] hostile slowloris: {slow} slow connections for {secs}s, normal client \
         {} round trips: p50 {:?}, p99 {:?}, max {:?}; served {} connections; \
         descriptors {fds0} -> {fds1}; RSS {rss0} -> peak {} -> {rss1} KiB",
        R::NAME,
        rtts.len(),
        p(0.5),
        p(0.99),
        p(1.0),
        served.accepted(),
        peak_rss.load(SeqCst)
    );
    assert_eq!(served.accepted(), slow + 1);
    assert!(rtts.len() >= 3, "the normal client was served");
    assert!(
        p(1.0) < Duration::from_secs(5),
        "liveness: the normal client was starved"
    );
    assert!(fds1 <= fds0, "descriptors {fds0} -> {fds1}");
}

/// 300 slow connections for 2 s do not starve a normal client.
pub async fn slowloris_300_connections_do_not_starve_a_normal_client<R: TestRuntime>() {
    slowloris::<R>(300, 2).await;
}

/// The heavy variant: 3 000 slow connections for 10 s.
pub async fn slowloris_3000_connections_do_not_starve_a_normal_client<R: TestRuntime>() {
    slowloris::<R>(3_000, 10).await;
}

/// A slow reader: the server sends `mib` MiB, writing only while `write` says the queue
/// is below the high-water mark (waiting for `Drain` otherwise); the client reads 16 KiB
/// per millisecond. The process's RSS stays within `bound_kib` of where it started.
async fn slow_reader<R: TestRuntime>(mib: usize, bound_kib: u64) {
    let total: usize = mib * 1024 * 1024;
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let rss0 = rss_kib();
    let peak_rss = Arc::new(AtomicU64::new(rss0));
    let peak = Arc::clone(&peak_rss);
    let (handles, finished) = client_threads(1, move |_t: usize| -> usize {
        use std::io::Read;
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = vec![0u8; 16 * 1024];
        let mut got = 0;
        let mut reads = 0u64;
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
            reads += 1;
            if reads.is_multiple_of(64) {
                peak.fetch_max(rss_kib(), SeqCst);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        got
    });
    let mut c = accept(&mut server).await;
    let chunk = Bytes::from(vec![b'w'; 64 * 1024]);
    let mut sent = 0;
    let t0 = R::now();
    while sent < total {
        if c.write(chunk.clone()) {
            sent += chunk.len();
            continue;
        }
        sent += chunk.len();
        // Above the high-water mark: wait for Drain, as pipe() does.
        loop {
            match next(&mut c).await {
                Some(SocketEvent::Drain) => break,
                Some(SocketEvent::Error(e)) => panic!("{e}"),
                None => panic!("closed"),
                _ => {}
            }
        }
    }
    c.end().unwrap();
    let _ = drain(&mut c).await;
    while finished.load(SeqCst) < 1 {
        R::sleep(Duration::from_millis(5)).await;
    }
    let got = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum::<usize>();
    let peak = peak_rss.load(SeqCst);
    eprintln!(
        "[{}] hostile slow reader: {mib} MiB in {:.2?}, delivered {got} bytes; \
         RSS {rss0} -> peak {peak} KiB (+{} KiB)",
        R::NAME,
        R::now().duration_since(t0),
        peak.saturating_sub(rss0)
    );
    assert_eq!(got, total);
    assert!(peak <= rss0 + bound_kib, "RSS {rss0} -> peak {peak} KiB");
}

/// 16 MiB to a slow reader: RSS within 16 MiB of the start.
pub async fn slow_reader_16_mib_bounded_memory<R: TestRuntime>() {
    slow_reader::<R>(16, 16 * 1024).await;
}

/// The heavy variant: 512 MiB to a slow reader.
pub async fn slow_reader_512_mib_bounded_memory<R: TestRuntime>() {
    slow_reader::<R>(512, 16 * 1024).await;
}

/// Clients beyond a low descriptor limit: 400 raw clients connect (the handshake
/// completes in the kernel's backlog), then the process is left 150 descriptors. The
/// server accepts what fits, reports `accept EMFILE` once for the burst, closes no
/// client, and serves every one of them once the limit is lifted.
pub async fn emfile_under_a_low_limit_reports_once_and_serves_everyone<R: TestRuntime>() {
    emfile_low_limit::<R>(400, 150).await;
}

/// [`emfile_under_a_low_limit_reports_once_and_serves_everyone`] with `clients` clients
/// and `free` descriptors left.
async fn emfile_low_limit<R: TestRuntime>(clients: usize, free: u64) {
    use rlimit::Resource;
    use std::io::{Read, Write};
    let (soft, hard) = Resource::NOFILE.get().unwrap();
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let served = Arc::new(Served::default());
    let mut held: Vec<TcpStream> = (0..clients)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    for (i, c) in held.iter_mut().enumerate() {
        c.write_all(&[(i % 251) as u8]).unwrap();
    }
    let fds0 = open_fds();
    Resource::NOFILE.set(fds0 as u64 + free, hard).unwrap();
    // Serve under the limit for a second.
    let t0 = R::now();
    serve_echo_until(
        &mut server,
        &served,
        || R::now().duration_since(t0) > Duration::from_secs(1),
        false,
    )
    .await;
    let during = served.accepted();
    let reports = served.server_errors();
    // No client was closed: each is either echoed or still waiting.
    let mut closed = 0;
    let mut early = vec![false; clients];
    for (i, c) in held.iter().enumerate() {
        c.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        match (&*c).read(&mut b) {
            Ok(0) => closed += 1,
            Ok(_) => early[i] = b[0] == (i % 251) as u8,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            Err(_) => {}
        }
        c.set_nonblocking(false).unwrap();
    }
    Resource::NOFILE.set(soft, hard).unwrap();
    // Lifted: everyone is served (each got or gets its byte back), then leaves.
    let held = Mutex::new((std::mem::take(&mut held), early));
    let (handles, finished) = client_threads(1, move |_t: usize| {
        let (held, early) = std::mem::take(&mut *held.lock().unwrap_or_else(|e| e.into_inner()));
        let mut echoed = 0;
        for (i, mut c) in held.into_iter().enumerate() {
            if early[i] {
                echoed += 1;
                continue;
            }
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut b = [0u8; 1];
            let ok = matches!(c.read(&mut b), Ok(1) if b[0] == (i % 251) as u8);
            echoed += usize::from(ok);
        }
        echoed
    });
    serve_echo_until(&mut server, &served, || finished.load(SeqCst) == 1, true).await;
    let echoed: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    eprintln!(
        "[{}] hostile EMFILE: {clients} clients, {free} free descriptors: {during} served \
         under the limit, {closed} closed, reports {reports:?}; after the limit was lifted \
         {} accepted, {echoed} echoed; lost {}",
        R::NAME,
        served.accepted(),
        clients - echoed
    );
    assert_eq!(closed, 0, "no client is closed for want of descriptors");
    assert!(
        during > 0 && during < clients,
        "{during} served under the limit"
    );
    assert_eq!(reports.len(), 1, "one report per burst: {reports:?}");
    assert!(reports[0].contains("EMFILE"), "{reports:?}");
    assert_eq!(served.accepted(), clients);
    assert_eq!(echoed, clients, "every client served");
}

/// The background flush of a dropped socket is bounded: when the kernel takes no byte
/// for 30 s (`linger::STALL`) it resets the connection, so a peer that never reads sees
/// `ECONNRESET` rather than a clean end of a truncated stream.
pub async fn a_dropped_socket_whose_peer_never_reads_gives_up_with_a_reset<R: TestRuntime>() {
    use std::io::Read;
    const QUEUED: usize = 32 << 20;
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    // A small, fixed receive buffer (no autotuning), so the kernel soon stops taking
    // bytes: a peer that never reads.
    let peer = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    peer.set_recv_buffer_size(4096).unwrap();
    let to: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    peer.connect(&to.into()).unwrap();
    let mut peer: TcpStream = peer.into();
    let mut c = accept(&mut server).await;
    assert!(!c.write(vec![7u8; QUEUED]), "above the high-water mark");
    drop(c);
    R::sleep(Duration::from_secs(33)).await;
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let end = loop {
        match peer.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => got += n,
            Err(e) => break Some(e),
        }
    };
    eprintln!(
        "[{}] hostile linger bound: the peer read {got} bytes, then {end:?}",
        R::NAME
    );
    assert!(got < QUEUED, "the peer cannot have read everything");
    assert_eq!(
        end.map(|e| e.kind()),
        Some(std::io::ErrorKind::ConnectionReset)
    );
}

/// Registers the hostile tests for runtime `$runtime` (the heavy variants `#[ignore]`d).
#[macro_export]
macro_rules! hostile_tests {
    ($runtime:ty) => {
        $crate::register_tests!($runtime => hostile {
            resets_in_the_accept_queue_are_delivered_with_their_bytes,
            churn_2000_cycles_flat_memory_and_descriptors,
            #[ignore = "heavy: 200,000 cycles (see the command in suite/hostile.rs)"]
            churn_200000_cycles_flat_memory_and_descriptors,
            rst_storm_1000_every_connection_surfaced,
            #[ignore = "heavy: 21,001 resets (see the command in suite/hostile.rs)"]
            rst_storm_21001_every_connection_surfaced,
            slowloris_300_connections_do_not_starve_a_normal_client,
            #[ignore = "heavy: 3,000 slow connections (see the command in suite/hostile.rs)"]
            slowloris_3000_connections_do_not_starve_a_normal_client,
            slow_reader_16_mib_bounded_memory,
            #[ignore = "heavy: 512 MiB to a slow reader (see the command in suite/hostile.rs)"]
            slow_reader_512_mib_bounded_memory,
            emfile_under_a_low_limit_reports_once_and_serves_everyone,
            #[ignore = "heavy: waits out the 30 s linger bound (see the command in suite/hostile.rs)"]
            a_dropped_socket_whose_peer_never_reads_gives_up_with_a_reset,
        });
    };
}
