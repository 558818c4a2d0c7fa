//! The demo's echo server under ordinary and hostile load, on every backend, in its own
//! process as a user runs it: connect / hello / echo / close cycles with flat memory and
//! descriptors, an `accept EMFILE` burst under a low descriptor limit (the server logs it
//! and goes on), and an RST storm. Loopback only, bounded.
//!
//! The server process is this test binary run again with `NODENET_DEMO_SERVER=<backend>`
//! (see `serve_as_child`); the parent drives the load and reads the child's `/proc`
//! figures. A plain `main` (no libtest harness: the child mode is not a test). The light
//! variant runs with `cargo test`; the heavy one (200,000 cycles per backend) is
//! `cargo test --release -p nodenet-examples --test demo_under_load -- --ignored`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nodenet_examples::{smol_demo, std_demo, tokio_demo, CLIENT_LINE};
use nodenet_tokio::ListenOptions;

/// Client threads driving the cycles.
const CLIENT_THREADS: usize = 4;
/// The child's descriptor limit in the EMFILE test.
const LOW_NOFILE: u64 = 48;

/// The demo server of one backend in a child process.
struct DemoServer {
    child: Child,
    port: u16,
}

impl DemoServer {
    fn start(backend: &str, nofile: Option<u64>) -> DemoServer {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.env("NODENET_DEMO_SERVER", backend)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(n) = nofile {
            cmd.env("NODENET_DEMO_NOFILE", n.to_string());
        }
        let mut child = cmd.spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let port = loop {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "the child exited");
            if let Some(p) = line.trim().strip_prefix("port ") {
                break p.parse().unwrap();
            }
        };
        // Keep draining the child's log (its `server: accept EMFILE` lines) so it never
        // blocks on a full pipe; they are echoed for the record.
        std::thread::spawn(move || {
            for l in stderr.lines().map_while(Result::ok) {
                eprintln!("  child: {l}");
            }
        });
        DemoServer { child, port }
    }

    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    fn rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .unwrap()
            .count()
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One cycle: connect, read the greeting, send a line, read it back, close.
fn cycle(port: u16) -> std::io::Result<()> {
    let mut c = TcpStream::connect(("127.0.0.1", port))?;
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    let want = format!("hello\r\n{CLIENT_LINE}");
    c.write_all(CLIENT_LINE.as_bytes())?;
    let mut got = vec![0u8; want.len()];
    c.read_exact(&mut got)?;
    if got != want.as_bytes() {
        return Err(std::io::Error::other(format!(
            "{:?}",
            String::from_utf8_lossy(&got)
        )));
    }
    Ok(())
}

/// `n` cycles over [`CLIENT_THREADS`] threads; the failures.
fn cycles(port: u16, n: usize) -> usize {
    let threads: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            let share = n / CLIENT_THREADS + usize::from(t < n % CLIENT_THREADS);
            std::thread::spawn(move || (0..share).filter(|_| cycle(port).is_err()).count())
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}

/// The child's figures settle (closed connections' tasks and threads finish).
fn settled(server: &DemoServer, fds: usize) -> usize {
    let t = Instant::now();
    while server.fds() > fds && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.fds()
}

/// Churn: `total` cycles; memory and descriptors after the warm-up and at the end.
fn churn(backend: &str, total: usize, rss_bound_kib: u64) {
    let server = DemoServer::start(backend, None);
    let warm_up = (total / 10).min(5_000);
    assert_eq!(cycles(server.port, warm_up), 0, "warm-up failures");
    let fds0 = settled(&server, 0);
    let rss0 = server.rss_kib();
    let t0 = Instant::now();
    let failed = cycles(server.port, total);
    let elapsed = t0.elapsed();
    let fds1 = settled(&server, fds0);
    let rss1 = server.rss_kib();
    eprintln!(
        "[{backend}] demo churn: {total} cycles in {elapsed:?}, {failed} failed; \
         descriptors {fds0} -> {fds1}; RSS {rss0} -> {rss1} KiB; {} threads",
        server.threads()
    );
    assert_eq!(failed, 0);
    assert!(fds1 <= fds0, "descriptors grew: {fds0} -> {fds1}");
    assert!(
        rss1 <= rss0 + rss_bound_kib,
        "RSS grew by {} KiB over {total} cycles",
        rss1 - rss0
    );
}

/// Clients beyond the child's descriptor limit: it reports `accept EMFILE`, keeps the
/// extra clients queued and its live connections open, and serves everyone once
/// descriptors are free again.
fn emfile_burst(backend: &str) {
    let mut server = DemoServer::start(backend, Some(LOW_NOFILE));
    assert_eq!(cycles(server.port, 10), 0);
    let base = settled(&server, 0);
    let held: Vec<TcpStream> = (0..LOW_NOFILE as usize * 2)
        .map(|_| TcpStream::connect(("127.0.0.1", server.port)).unwrap())
        .collect();
    // Served clients get their greeting; the rest wait in the backlog.
    let t = Instant::now();
    while server.fds() < LOW_NOFILE as usize - 1 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.alive(), "the demo exited on accept EMFILE");
    let at_limit = server.fds();
    // Every held client is served in the end, in order of the queue.
    let mut served = 0;
    for mut c in held {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut hello = [0u8; 7];
        if c.read_exact(&mut hello).is_ok() && &hello == b"hello\r\n" {
            served += 1;
        }
        drop(c); // frees a descriptor for the next queued client
    }
    assert_eq!(cycles(server.port, 100), 0, "served after the burst");
    let after = settled(&server, base);
    eprintln!(
        "[{backend}] demo EMFILE burst: limit {LOW_NOFILE}, {} clients, {served} served, \
         descriptors {base} -> {at_limit} (at the limit) -> {after}",
        LOW_NOFILE * 2
    );
    assert!(server.alive(), "the demo exited");
    assert_eq!(served, LOW_NOFILE as usize * 2);
    assert!(after <= base);
}

/// Connections that send a line and reset at once, then ordinary clients.
fn rst_storm(backend: &str, resets: usize) {
    let mut server = DemoServer::start(backend, None);
    assert_eq!(cycles(server.port, 10), 0);
    let base = settled(&server, 0);
    let port = server.port;
    let threads: Vec<_> = (0..CLIENT_THREADS)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..resets / CLIENT_THREADS {
                    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
                        continue;
                    };
                    let _ = c.write_all(CLIENT_LINE.as_bytes());
                    let _ = socket2::SockRef::from(&c).set_linger(Some(Duration::ZERO));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(server.alive(), "the demo exited during the RST storm");
    assert_eq!(cycles(server.port, 100), 0, "served after the storm");
    let after = settled(&server, base);
    eprintln!("[{backend}] demo RST storm: {resets} resets; descriptors {base} -> {after}");
    assert!(after <= base, "descriptors {base} -> {after}");
}

/// The child: the demo server of `backend`, its port on stderr, until killed.
fn serve_as_child(backend: &str) -> ! {
    if let Some(n) = std::env::var("NODENET_DEMO_NOFILE")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        let (_, hard) = rlimit::Resource::NOFILE.get().unwrap();
        rlimit::Resource::NOFILE.set(n, hard).unwrap();
    }
    let listen = ListenOptions::port(0).host("127.0.0.1");
    let on_bound = |port: Option<nodenet_tokio::Endpoint>| match port {
        Some(nodenet_tokio::Endpoint::Tcp(a)) => eprintln!("port {}", a.port()),
        other => panic!("{other:?}"),
    };
    let r = match backend {
        "std" => std_demo::echo_server(listen, None, |s| on_bound(s.address())),
        "smol" => smol::block_on(smol_demo::echo_server(listen, None, |s| {
            on_bound(s.address())
        })),
        _ => tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(tokio_demo::echo_server(listen, None, |s| {
                on_bound(s.address())
            })),
    };
    eprintln!("server ended: {r:?}");
    std::process::exit(1);
}

/// A plain harness (`harness = false`): the child mode, then the checks in order; the
/// heavy variant with `--ignored`.
fn main() {
    if let Ok(backend) = std::env::var("NODENET_DEMO_SERVER") {
        serve_as_child(&backend);
    }
    let heavy = std::env::args().any(|a| a == "--ignored");
    let mut passed = 0;
    for backend in ["tokio", "smol", "std"] {
        if heavy {
            churn(backend, 200_000, 4 * 1024);
            passed += 1;
            continue;
        }
        churn(backend, 3_000, 8 * 1024);
        emfile_burst(backend);
        rst_storm(backend, 2_000);
        passed += 3;
    }
    println!("test result: ok. {passed} passed; 0 failed");
}
