//! Builders the unit tests of the report, the targets and pooling share.

use crate::machine::MachineInfo;
use crate::report::{Rep, Report, RunSettings};
use crate::servers::ServerImpl;
use crate::workload::Workload;

/// A repetition of `ops` operations in `secs` seconds that cost the server `cpu` seconds.
pub fn rep(ops: u64, secs: f64, cpu: f64) -> Rep {
    Rep {
        ops,
        elapsed_secs: secs,
        server_cpu_secs: cpu,
        client_cpu_secs: None,
        rss_before_bytes: 0,
        rss_after_bytes: 0,
        errors: 0,
        first_error: None,
        latency: None,
    }
}

/// Settings of a run of `reps` rounds of 1 s on no pinned CPU, without idle repetitions;
/// tests that need other values override fields with `..settings(..)`.
pub fn settings(reps: usize, impls: Vec<ServerImpl>, workloads: Vec<Workload>) -> RunSettings {
    RunSettings {
        duration_secs: 1.0,
        reps,
        idle_reps: 0,
        server_cpu: None,
        tokio_workers: 0,
        impls,
        workloads,
    }
}

/// A 2-CPU machine with Node, a load average at the start and none at the end.
pub fn machine() -> MachineInfo {
    MachineInfo {
        nproc: 2,
        cpu_model: "test cpu".into(),
        kernel: "6.0".into(),
        node_version: Some("v20.0.0".into()),
        clock_ticks_per_second: 100,
        load_at_start: Some(0.5),
        load_at_end: None,
    }
}

/// A throughput c=1 report where nodenet-tokio used `cpu_ratios[i]` times raw tokio's
/// CPU per KiB in round `i`, at the same rate.
pub fn report_with_cpu_ratios(cpu_ratios: &[f64]) -> Report {
    let w = Workload::Throughput { connections: 1 };
    let base = cpu_ratios.iter().map(|_| rep(1 << 30, 1.0, 1.0)).collect();
    let other = cpu_ratios.iter().map(|r| rep(1 << 30, 1.0, *r)).collect();
    let settings = settings(
        cpu_ratios.len(),
        vec![ServerImpl::RawTokio, ServerImpl::NodenetTokio],
        vec![w],
    );
    Report::new(
        machine(),
        settings,
        vec![
            (ServerImpl::RawTokio, w, base),
            (ServerImpl::NodenetTokio, w, other),
        ],
        vec![],
    )
}
