//! What machine a run happened on, and the process limits the run needs.

use std::io;

use serde::{Deserialize, Serialize};

/// The facts about the machine that the report prints beside the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// Logical CPUs available to this process (`nproc`).
    pub nproc: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// `node --version`, when Node is installed.
    pub node_version: Option<String>,
    /// Clock ticks per second used to convert `/proc` CPU times.
    pub clock_ticks_per_second: u64,
    /// 1-minute load average when the run started: other work on a shared machine
    /// competes with client and server and makes rates noisy.
    pub load_at_start: Option<f64>,
    /// 1-minute load average when the run ended.
    pub load_at_end: Option<f64>,
}

impl MachineInfo {
    /// Reads the machine facts; missing facts become `"unknown"`.
    pub fn detect() -> MachineInfo {
        let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| parse_cpu_model(&s))
            .unwrap_or_else(|| "unknown".to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        let node_version = std::process::Command::new(crate::servers::node_program())
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        MachineInfo {
            nproc,
            cpu_model,
            kernel,
            node_version,
            clock_ticks_per_second: crate::proc_stat::clock_ticks_per_second(),
            load_at_start: load_average(),
            load_at_end: None,
        }
    }
}

/// The 1-minute load average from `/proc/loadavg`.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    parse_load_average(&text)
}

/// The first field of the text of `/proc/loadavg`.
///
/// ```
/// assert_eq!(nodenet_bench::machine::parse_load_average("2.50 1.00 0.50 3/200 999\n"), Some(2.5));
/// ```
pub fn parse_load_average(text: &str) -> Option<f64> {
    text.split_ascii_whitespace().next()?.parse().ok()
}

/// The first `model name` in the text of `/proc/cpuinfo`.
///
/// ```
/// let info = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n";
/// assert_eq!(nodenet_bench::machine::parse_cpu_model(info).as_deref(), Some("AMD EPYC 7B13"));
/// ```
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// Raises this process's open-file soft limit to at least `wanted` if the hard limit (or,
/// as root, a raised hard limit) allows; returns the soft limit now in force. Child
/// processes (the servers) inherit it.
///
/// # Errors
/// Fails only when the limit cannot be read or set at all.
pub fn raise_nofile_limit(wanted: u64) -> io::Result<u64> {
    let (soft, hard) = rlimit::Resource::NOFILE.get()?;
    if soft >= wanted {
        return Ok(soft);
    }
    if hard < wanted {
        // Raising the hard limit needs CAP_SYS_RESOURCE; without it, fall back to the
        // largest soft limit the current hard limit allows.
        if rlimit::Resource::NOFILE.set(wanted, wanted).is_ok() {
            return Ok(wanted);
        }
    }
    rlimit::increase_nofile_limit(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_missing_is_none() {
        assert_eq!(parse_cpu_model("processor\t: 0\n"), None);
    }

    #[test]
    fn nofile_limit_is_at_least_the_current_one() {
        let (soft, _) = rlimit::Resource::NOFILE.get().unwrap();
        assert!(raise_nofile_limit(soft).unwrap() >= soft);
    }

    #[test]
    fn detect_reads_this_machine() {
        let m = MachineInfo::detect();
        assert!(m.nproc >= 1);
        assert!(m.clock_ticks_per_second > 0);
        assert!(!m.kernel.is_empty());
        assert!(m.load_at_start.is_some_and(|l| l >= 0.0));
        assert_eq!(parse_load_average(""), None);
    }
}
