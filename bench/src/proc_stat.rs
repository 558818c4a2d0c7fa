//! Reading a process's CPU time and resident memory from Linux's `/proc`.
//!
//! The harness samples the *server* process before and after every workload, so the cost
//! it reports is the server's alone even though client and server share the machine's
//! cores. CPU time is the process's CPU-time clock (`clock_getcpuclockid(pid)`, read with
//! `clock_gettime`): the scheduler's own nanosecond count for all threads of the process,
//! those that already exited included. `/proc/<pid>/stat`'s `utime + stime` counts the same
//! time but in clock ticks (10 ms): over a short repetition that rounding alone moved a
//! per-round ratio by several percent, so it is only the fallback (converted with the real
//! `sysconf(_SC_CLK_TCK)`, read safely through `rustix`). Resident memory is `VmRSS` from
//! `/proc/<pid>/status`.

use std::io;
use std::time::Duration;

/// One sample of a process's resource use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSample {
    /// User plus system CPU time consumed so far by all threads of the process.
    pub cpu: Duration,
    /// Resident set size in bytes (`VmRSS`).
    pub rss_bytes: u64,
}

impl ProcSample {
    /// Reads `/proc/<pid>/stat` and `/proc/<pid>/status` for `pid`.
    ///
    /// # Errors
    /// Fails when the process does not exist (any more) or the files do not parse.
    pub fn read(pid: u32) -> io::Result<ProcSample> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let rss_bytes = parse_status_rss_bytes(&status)
            .ok_or_else(|| bad_data("VmRSS in /proc/<pid>/status"))?;
        let cpu = match process_cpu_clock(pid) {
            Some(cpu) => cpu,
            None => {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
                let ticks =
                    parse_stat_cpu_ticks(&stat).ok_or_else(|| bad_data("/proc/<pid>/stat"))?;
                ticks_to_duration(ticks, clock_ticks_per_second())
            }
        };
        Ok(ProcSample { cpu, rss_bytes })
    }

    /// CPU time consumed between `earlier` and `self` (zero if the counter went backwards,
    /// which only happens when the samples are of different processes).
    pub fn cpu_since(&self, earlier: &ProcSample) -> Duration {
        self.cpu.saturating_sub(earlier.cpu)
    }

    /// Change of resident memory since `earlier`, in bytes (negative when memory was freed).
    pub fn rss_delta_since(&self, earlier: &ProcSample) -> i64 {
        let after = i64::try_from(self.rss_bytes).unwrap_or(i64::MAX);
        let before = i64::try_from(earlier.rss_bytes).unwrap_or(i64::MAX);
        after.saturating_sub(before)
    }
}

/// CPU time of process `pid` from its CPU-time clock, in nanoseconds; `None` where the
/// kernel does not offer it.
pub fn process_cpu_clock(pid: u32) -> Option<Duration> {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).ok()?);
    let clock = nix::time::clock_getcpuclockid(pid).ok()?;
    let t = nix::time::clock_gettime(clock).ok()?;
    let secs = u64::try_from(t.tv_sec()).ok()?;
    let nanos = u32::try_from(t.tv_nsec()).ok()?;
    Some(Duration::new(secs, nanos))
}

fn bad_data(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("cannot parse {what}"))
}

/// The kernel's clock tick rate for `/proc` CPU times (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks_per_second() -> u64 {
    // rustix reads AT_CLKTCK from the auxiliary vector, which is what glibc's sysconf does.
    rustix::param::clock_ticks_per_second()
}

/// Converts a clock-tick count into a duration at `hz` ticks per second.
pub fn ticks_to_duration(ticks: u64, hz: u64) -> Duration {
    if hz == 0 {
        return Duration::ZERO;
    }
    let secs = ticks / hz;
    let rem = ticks % hz;
    // rem < hz, so rem * 1e9 / hz fits easily in u64 for any sane hz.
    let nanos = rem.saturating_mul(1_000_000_000) / hz;
    Duration::from_secs(secs) + Duration::from_nanos(nanos)
}

/// Extracts `utime + stime` (fields 14 and 15, in clock ticks) from the text of
/// `/proc/<pid>/stat`.
///
/// The second field is the command name in parentheses and may itself contain spaces and
/// parentheses, so parsing starts after the *last* `)`.
///
/// ```
/// let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0";
/// assert_eq!(nodenet_bench::proc_stat::parse_stat_cpu_ticks(stat), Some(325));
/// ```
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = stat.get(stat.rfind(')')? + 1..)?;
    // Fields after the command: state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8)
    // flags(9) minflt(10) cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15).
    let mut fields = after_comm.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    utime.checked_add(stime)
}

/// Extracts `VmRSS` in bytes from the text of `/proc/<pid>/status` (the kernel prints it
/// in KiB, labelled `kB`).
///
/// ```
/// let status = "Name:\tnode\nVmPeak:\t  9000 kB\nVmRSS:\t   4096 kB\nThreads:\t7\n";
/// assert_eq!(nodenet_bench::proc_stat::parse_status_rss_bytes(status), Some(4096 * 1024));
/// ```
pub fn parse_status_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line.get("VmRSS:".len()..)?.split_ascii_whitespace();
    let kib: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => kib.checked_mul(1024),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_parenthesised_name_parses_utime_plus_stime() {
        let stat = "1 ((x) y)) R 0 1 1 0 -1 0 0 0 0 0 7 5 0 0 20 0 1 0 5 0 0";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(12));
    }

    #[test]
    fn truncated_or_garbage_stat_is_none() {
        assert_eq!(parse_stat_cpu_ticks("1 (x) R 0 1"), None);
        assert_eq!(parse_stat_cpu_ticks("no parens at all"), None);
        assert_eq!(
            parse_stat_cpu_ticks("1 (x) R 0 1 1 0 -1 0 0 0 0 0 abc 5"),
            None
        );
    }

    #[test]
    fn status_without_rss_is_none_and_units_are_checked() {
        assert_eq!(parse_status_rss_bytes("Name:\tkthreadd\n"), None);
        assert_eq!(parse_status_rss_bytes("VmRSS:\t12 MB\n"), None);
        assert_eq!(parse_status_rss_bytes("VmRSS:\t12 kB\n"), Some(12 * 1024));
    }

    #[test]
    fn ticks_convert_at_the_given_rate() {
        assert_eq!(ticks_to_duration(250, 100), Duration::from_millis(2500));
        assert_eq!(ticks_to_duration(3, 1000), Duration::from_millis(3));
        assert_eq!(ticks_to_duration(5, 0), Duration::ZERO);
    }

    #[test]
    fn own_process_reads_and_cpu_grows_with_work() {
        let pid = std::process::id();
        let before = ProcSample::read(pid).expect("own /proc entry");
        assert!(before.rss_bytes > 0);
        // Burn a little CPU so the tick counter must move (>= 1 tick at 100 Hz = 10 ms).
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let after = ProcSample::read(pid).expect("own /proc entry");
        assert!(
            after.cpu_since(&before) > Duration::ZERO,
            "cpu did not advance"
        );
        assert!(clock_ticks_per_second() > 0);
    }
}

#[cfg(test)]
mod cpu_clock_tests {
    use super::*;

    /// Spend `d` of CPU (not wall) time: on a loaded machine a wall-clock loop may get
    /// only part of a core.
    fn burn(d: Duration) {
        let pid = std::process::id();
        let start = process_cpu_clock(pid).expect("process CPU clock");
        let mut x = 0u64;
        while process_cpu_clock(pid).expect("process CPU clock") < start + d {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }

    #[test]
    fn cpu_clock_counts_threads_that_have_exited() {
        let pid = std::process::id();
        let before = process_cpu_clock(pid).expect("Linux offers process CPU clocks");
        std::thread::spawn(|| burn(Duration::from_millis(50)))
            .join()
            .expect("burner thread");
        let after = process_cpu_clock(pid).expect("process CPU clock");
        assert!(
            after.saturating_sub(before) >= Duration::from_millis(45),
            "{before:?} -> {after:?}"
        );
        // It agrees with /proc's tick count to within a few ticks.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("own stat");
        let ticks = parse_stat_cpu_ticks(&stat).expect("parses");
        let from_proc = ticks_to_duration(ticks, clock_ticks_per_second());
        let gap = after.abs_diff(from_proc);
        assert!(
            gap < Duration::from_millis(100),
            "{after:?} vs {from_proc:?}"
        );
    }

    #[test]
    fn cpu_clock_of_another_process_is_readable() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let cpu = process_cpu_clock(child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(cpu.is_some_and(|c| c < Duration::from_secs(1)), "{cpu:?}");
        assert_eq!(process_cpu_clock(u32::MAX), None);
    }
}
