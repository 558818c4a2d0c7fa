//! Short end-to-end checks of the load generator and the harness on loopback: every run
//! here lasts a fraction of a second, so `cargo test --workspace` stays fast.

use std::path::PathBuf;
use std::time::Duration;

use nodenet_bench::harness::{self, RunConfig};
use nodenet_bench::process::ServerProcess;
use nodenet_bench::servers::{raw_tokio, ServerImpl};
use nodenet_bench::workload::{idle, OpUnit, Workload, CHUNK_SIZE};

const SHORT: Duration = Duration::from_millis(200);

fn bench_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nodenet-bench"))
}

/// Runs `f` against an in-process raw tokio echo server.
fn with_in_process_server<T>(f: impl AsyncFnOnce(std::net::SocketAddr) -> T) -> T {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(raw_tokio::accept_loop(listener));
        let out = f(addr).await;
        server.abort();
        out
    })
}

#[test]
fn throughput_echoes_every_byte_in_whole_chunks() {
    let o = with_in_process_server(async |addr| {
        Workload::Throughput { connections: 4 }
            .run_timed(addr, SHORT)
            .await
            .unwrap()
    });
    assert_eq!(o.errors, 0, "{:?}", o.first_error);
    assert!(o.ops >= CHUNK_SIZE as u64 * 4, "only {} bytes", o.ops);
    // Each connection's sent bytes are whole chunks and all came back.
    assert_eq!(o.ops % CHUNK_SIZE as u64, 0);
    assert!(o.elapsed >= SHORT && o.elapsed < SHORT + Duration::from_secs(5));
}

#[test]
fn ping_pong_counts_round_trips_and_latency_agrees() {
    let o = with_in_process_server(async |addr| {
        Workload::PingPong { connections: 2 }
            .run_timed(addr, SHORT)
            .await
            .unwrap()
    });
    assert_eq!(o.errors, 0, "{:?}", o.first_error);
    let l = o.latency.expect("ping-pong records latency");
    assert_eq!(l.count, o.ops);
    assert!(o.ops > 100, "only {} round trips", o.ops);
    assert!(l.p50_us > 0.0 && l.p50_us <= l.p99_us && l.p99_us <= l.max_us);
    assert_eq!(
        Workload::PingPong { connections: 2 }.unit(),
        OpUnit::RoundTrips
    );
}

#[test]
fn connect_rate_completes_connections_without_errors() {
    let o = with_in_process_server(async |addr| {
        Workload::ConnectRate { workers: 4 }
            .run_timed(addr, SHORT)
            .await
            .unwrap()
    });
    assert_eq!(o.errors, 0, "{:?}", o.first_error);
    assert!(o.ops > 20, "only {} connections", o.ops);
    assert!(o.rate() > 0.0);
}

#[test]
fn idle_connections_are_opened_echoed_and_held() {
    let held = with_in_process_server(async |addr| {
        let held = idle::open(addr, 300).await.unwrap();
        let n = held.len();
        drop(held);
        n
    });
    assert_eq!(held, 300);
}

#[test]
fn unreachable_server_is_an_error_not_a_hang() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Bind then drop to get a loopback port nobody listens on.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = rt
        .block_on(Workload::PingPong { connections: 1 }.run_timed(addr, SHORT))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn raw_tokio_server_process_starts_serves_is_sampled_and_stops() {
    let mut server = ServerProcess::start(ServerImpl::RawTokio, &bench_exe()).unwrap();
    assert!(server.is_running());
    assert_eq!(server.imp(), ServerImpl::RawTokio);
    let before = server.sample().unwrap();
    assert!(before.rss_bytes > 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let o = rt
        .block_on(Workload::Throughput { connections: 1 }.run_timed(server.addr(), SHORT))
        .unwrap();
    assert!(o.ops > 0);
    let after = server.sample().unwrap();
    assert!(after.cpu >= before.cpu);
    let pid = server.pid();
    server.stop().unwrap();
    assert!(!std::path::Path::new(&format!("/proc/{pid}/stat")).exists());
}

#[test]
fn node_server_process_echoes_when_node_is_installed() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("node not installed; skipping");
        return;
    }
    let server = ServerProcess::start(ServerImpl::Node, &bench_exe()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let o = rt
        .block_on(Workload::PingPong { connections: 1 }.run_timed(server.addr(), SHORT))
        .unwrap();
    assert_eq!(o.errors, 0, "{:?}", o.first_error);
    assert!(o.ops > 10);
    server.stop().unwrap();
}

#[test]
fn harness_runs_every_workload_and_reports_ratios() {
    let mut config = RunConfig::standard(true, vec![ServerImpl::RawTokio], bench_exe());
    config.duration = Duration::from_millis(100);
    config.reps = 1;
    config.idle_reps = 1;
    config.workloads = Workload::standard(200);
    let report = harness::run(&config, &mut |_| {}).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.entries.len(), 6);
    for e in &report.entries {
        assert!(e.figures.value.is_finite(), "{e:?}");
        // Raw tokio is its own baseline.
        assert_eq!(e.vs_raw_tokio.value, Some(1.0));
        assert_eq!(e.vs_node.value, None);
        assert_eq!(e.reps.len(), 1);
        // The load generator's own CPU is measured beside every timed run.
        let timed = !matches!(e.workload, Workload::IdleMemory { .. });
        assert_eq!(
            e.reps.first().and_then(|r| r.client_cpu_secs).is_some(),
            timed,
            "{e:?}"
        );
        assert_eq!(e.figures.client_cpu_us.is_some(), timed, "{e:?}");
    }
    let idle = report
        .entry(
            ServerImpl::RawTokio,
            Workload::IdleMemory { connections: 200 },
        )
        .unwrap();
    assert_eq!(idle.reps.first().map(|r| r.ops), Some(200));
    let table = report.table();
    assert!(table.contains("throughput c=64"), "{table}");
    assert!(table.contains("KiB/conn"), "{table}");
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(6));
}

#[test]
fn nodenet_servers_echo_every_workload_as_separate_processes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for imp in [
        ServerImpl::NodenetTokio,
        ServerImpl::NodenetSmol,
        ServerImpl::NodenetStd,
    ] {
        let server = ServerProcess::start(imp, &bench_exe()).unwrap();
        for w in [
            Workload::Throughput { connections: 4 },
            Workload::PingPong { connections: 4 },
            Workload::ConnectRate { workers: 4 },
        ] {
            let o = rt.block_on(w.run_timed(server.addr(), SHORT)).unwrap();
            assert_eq!(o.errors, 0, "{imp} {w:?}: {:?}", o.first_error);
            assert!(o.ops > 0, "{imp} {w:?}: nothing echoed");
        }
        let held = rt.block_on(idle::open(server.addr(), 200)).unwrap();
        assert_eq!(held.len(), 200, "{imp}");
        drop(held);
        server.stop().unwrap();
    }
}
