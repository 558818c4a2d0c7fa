//! Load on loopback: `conns` clients connect (in waves, so the listen backlog never
//! overflows and no SYN is retried), all are held open at once (the server counts them),
//! then every client sends its own pseudo-random stream through the server's echo and
//! checks what comes back: the same length and the same FNV-1a checksum as what it sent
//! (no byte lost, duplicated or reordered). The default variant is small enough for CI;
//! the `#[ignore]`d one is 10 000 connections and 1 GiB (run with
//! `--release -- --ignored`). Each runtime runs it
//! in a test binary of its own (`load_<runtime>.rs`).
//!
//! The clients run in a child process (the same test binary, running
//! `load_client_process` with the parameters in the environment): 10 000 connections
//! are 20 000 descriptors on loopback, and an unprivileged process cannot raise its hard
//! limit (20 000 here). Protocol on the child's stdout/stdin: the child prints
//! `NODENET-LOAD connected <ms>` once every client connected, waits for a line on stdin,
//! transfers, and prints `NODENET-LOAD done <bytes> <ms>`; every per-connection check is
//! an assertion in the child, whose exit status the parent checks.
use std::time::Instant;

use nodenet::{ConnectOptions, ServerOptions, Socket, SocketEvent};
use nodenet_core::ServerEvent;

use super::gate::Gate;
use super::proc_stats::{open_fds, raise_fd_limit, rss_kib, Fnv};
use super::support::{accept, connect, loopback_server};
use crate::harness::Settings;
use crate::test_runtime::{next, TestRuntime};

/// Serial (the tests count the process's descriptors and memory), bounded by 300 s.
pub const SETTINGS: Settings = super::RELIABILITY;

/// 1 000 connections held at once, 64 MiB echoed, every checksum equal.
pub async fn load_1000_connections_64_mib_echoed_with_checksums<R: TestRuntime>() {
    load_run::<R>(1000, 64 * 1024 * 1024 / 1000 + 1).await;
}

/// The heavy variant: 10 000 connections held at once, 1 GiB echoed.
pub async fn load_10000_connections_1_gib_echoed_with_checksums<R: TestRuntime>() {
    load_run::<R>(10_000, (1 << 30) / 10_000 + 1).await;
}

/// xorshift64*: the per-connection payload, reproducible from the connection index.
struct Payload(u64);

impl Payload {
    fn new(i: usize) -> Payload {
        Payload(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9))
    }
    fn chunk(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            out.extend_from_slice(&self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

/// What one client saw.
struct ClientResult {
    sent: u64,
    sent_sum: Fnv,
    received: u64,
    received_sum: Fnv,
}

/// Bytes per client write.
const WRITE_CHUNK: usize = 16 * 1024;
/// Connections started before waiting for them to connect (under the 511 backlog).
const WAVE: usize = 256;
/// What the child prints in front of its protocol lines.
const LINE_PREFIX: &str = "NODENET-LOAD ";

/// One client's writing side: writes until the high-water mark, then again on each
/// `Drain`, and ends once everything was written.
struct Writer {
    payload: Payload,
    r: ClientResult,
    total: u64,
    ended: bool,
}

impl Writer {
    fn fill<R: TestRuntime>(&mut self, c: &mut Socket<R>) {
        while self.r.sent < self.total {
            let n = WRITE_CHUNK.min((self.total - self.r.sent) as usize);
            let chunk = self.payload.chunk(n);
            self.r.sent_sum.update(&chunk);
            self.r.sent += n as u64;
            if !c.write(chunk) {
                break;
            }
        }
        if self.r.sent == self.total && !self.ended {
            self.ended = true;
            c.end().unwrap();
        }
    }
}

/// The server half (this process): accept, hold, echo; drive the child's clients.
async fn load_run<R: TestRuntime>(conns: usize, per_conn: usize) {
    use std::io::{BufRead, Write};
    let limit = raise_fd_limit(conns as u64 + 1024);
    assert!(
        limit >= conns as u64 + 64,
        "fd limit {limit} too low for {conns} connections"
    );
    let fds_before = open_fds();
    let rss_before = rss_kib();

    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;

    // The server: accept every connection (all are held: the clients wait for the
    // go), then echo each one in its own task.
    let acceptor = <R as TestRuntime>::spawn(async move {
        let mut echoes = Vec::with_capacity(conns);
        for _ in 0..conns {
            let mut c = accept(&mut server).await;
            echoes.push(<R as TestRuntime>::spawn(async move {
                let mut echoed = 0u64;
                while let Some(ev) = next(&mut c).await {
                    match ev {
                        SocketEvent::Data(d) => {
                            echoed += d.len() as u64;
                            c.write(d);
                        }
                        SocketEvent::Error(e) => panic!("server side: {e}"),
                        _ => {}
                    }
                }
                echoed
            }));
        }
        let held = server.connections();
        (server, echoes, held)
    });

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "load_client_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NODENET_LOAD_PORT", port.to_string())
        .env("NODENET_LOAD_CONNS", conns.to_string())
        .env("NODENET_LOAD_PER_CONN", per_conn.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The child's protocol lines, read on a thread (a gate counts them; EOF counts
    // as a line too, so a crashed child cannot hang the parent).
    let lines = std::sync::Arc::new((Gate::default(), std::sync::Mutex::new(Vec::<String>::new())));
    let reader = {
        let lines = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may have printed `test load_client_process ... ` first.
                if let Some((_, l)) = line.split_once(LINE_PREFIX) {
                    lines.1.lock().unwrap().push(l.to_string());
                    lines.0.add(1);
                }
            }
            lines.1.lock().unwrap().push("eof".to_string());
            lines.0.add(1);
        })
    };
    lines.0.wait_for(1).await;
    let connected_line = lines.1.lock().unwrap()[0].clone();
    assert!(
        connected_line.starts_with("connected "),
        "child: {connected_line}"
    );
    let (mut server, echoes, held) = acceptor.await;
    assert_eq!(held, conns, "connections held at once on the server");
    let fds_held = open_fds();
    let rss_held = rss_kib();
    assert!(
        fds_held >= fds_before + conns,
        "{fds_held} fds with {conns} connections held"
    );

    let t1 = Instant::now();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
    stdin.flush().unwrap();
    drop(stdin);
    lines.0.wait_for(2).await;
    let done_line = lines.1.lock().unwrap()[1].clone();
    let wall = t1.elapsed();
    let mut echoed = 0;
    for h in echoes {
        echoed += h.await;
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success(), "client process failed: {status}");
    let parts: Vec<&str> = done_line.split_whitespace().collect();
    assert_eq!(parts.first(), Some(&"done"), "child: {done_line}");
    let total_sent: u64 = parts[1].parse().unwrap();
    assert_eq!(total_sent, (conns * per_conn) as u64);
    assert_eq!(echoed, total_sent, "bytes echoed by the server");
    assert_eq!(server.connections(), 0);
    server.close().unwrap();
    assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
    drop(server);
    let fds_after = open_fds();
    assert!(
        fds_after <= fds_before,
        "descriptors leaked: {fds_before} before, {fds_after} after"
    );
    let mib = total_sent as f64 / (1024.0 * 1024.0);
    eprintln!(
        "[{}] load: {conns} connections held (child {connected_line}; server {fds_held} fds, \
         RSS {rss_before} -> {rss_held} KiB = {:.1} KiB/connection), {mib:.0} MiB echoed \
         (each way) in {wall:.2?} = {:.0} MiB/s (child {done_line}), server fds {fds_before} -> {fds_after}",
        R::NAME,
        (rss_held.saturating_sub(rss_before)) as f64 / conns as f64,
        mib / wall.as_secs_f64(),
    );
}

/// The client half, run by the load tests in a child process (this test binary again,
/// with the parameters in the environment; run alone it does nothing): connect every
/// client in waves, report, wait for the go on stdin, transfer, check every client's
/// length and checksum, report.
pub async fn load_client_process<R: TestRuntime>() {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
    let (Some(port), Some(conns), Some(per_conn)) = (
        env("NODENET_LOAD_PORT"),
        env("NODENET_LOAD_CONNS"),
        env("NODENET_LOAD_PER_CONN"),
    ) else {
        eprintln!("load_client_process: run by the load tests only");
        return;
    };
    let port = port as u16;
    raise_fd_limit(conns as u64 + 1024);
    let connected = std::sync::Arc::new(Gate::default());
    let go = std::sync::Arc::new(Gate::default());
    {
        let go = go.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            go.add(1);
        });
    }
    let t0 = Instant::now();
    let mut clients = Vec::with_capacity(conns);
    for i in 0..conns {
        let (arrived, go) = (connected.clone(), go.clone());
        clients.push(<R as TestRuntime>::spawn(async move {
            let mut c = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            loop {
                match next(&mut c).await {
                    Some(SocketEvent::Connect) => break,
                    Some(SocketEvent::Error(e)) => panic!("client {i}: {e}"),
                    None => panic!("client {i} closed before connecting"),
                    Some(_) => {}
                }
            }
            arrived.add(1);
            go.wait_for(1).await;
            let mut writer = Writer {
                payload: Payload::new(i),
                r: ClientResult {
                    sent: 0,
                    sent_sum: Fnv::new(),
                    received: 0,
                    received_sum: Fnv::new(),
                },
                total: per_conn as u64,
                ended: false,
            };
            writer.fill(&mut c);
            while let Some(ev) = next(&mut c).await {
                match ev {
                    SocketEvent::Data(d) => {
                        writer.r.received_sum.update(&d);
                        writer.r.received += d.len() as u64;
                    }
                    SocketEvent::Drain => writer.fill(&mut c),
                    SocketEvent::Error(e) => panic!("client {i}: {e}"),
                    _ => {}
                }
            }
            writer.r
        }));
        if (i + 1) % WAVE == 0 || i + 1 == conns {
            connected.wait_for(i + 1).await;
        }
    }
    println!(
        "{LINE_PREFIX}connected in {:?}, client fds {}",
        t0.elapsed(),
        open_fds()
    );
    go.wait_for(1).await;
    let t1 = Instant::now();
    let mut total_sent = 0u64;
    for (i, h) in clients.into_iter().enumerate() {
        let r = h.await;
        assert_eq!(r.sent, per_conn as u64, "client {i} sent");
        assert_eq!(r.received, r.sent, "client {i}: bytes lost or duplicated");
        assert_eq!(
            r.received_sum, r.sent_sum,
            "client {i}: checksum differs (reordered or corrupted)"
        );
        total_sent += r.sent;
    }
    println!(
        "{LINE_PREFIX}done {total_sent} in {:?}, {conns} checksums equal",
        t1.elapsed()
    );
}

/// Registers the load tests (and the client half they run in a child) for `$runtime`.
#[macro_export]
macro_rules! load_tests {
    ($runtime:ty) => {
        $crate::register_tests!($runtime => load {
            load_1000_connections_64_mib_echoed_with_checksums,
            #[ignore = "heavy: 10 000 connections and 1 GiB; run with --release -- --ignored"]
            load_10000_connections_1_gib_echoed_with_checksums,
            #[ignore = "the client half of the load tests, run by them in a child process"]
            load_client_process,
        });
    };
}
