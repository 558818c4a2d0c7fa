//! Process figures the reliability suites assert on (Linux `/proc`), the descriptor
//! limit they raise, and the checksum of the load suite.

/// Open file descriptors of this process (entries of `/proc/self/fd`, less the one
/// `read_dir` itself holds while listing).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
        .saturating_sub(1)
}

/// Resident set size in KiB (`VmRSS` of `/proc/self/status`).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// CPU time (user + system, all threads) this process used so far. `/proc/self/stat`
/// counts in USER_HZ ticks, which Linux fixes at 100 per second for user space. The file
/// stays open after the first call (re-read from offset 0), so it can be read while the
/// process has no free descriptor.
pub fn process_cpu_time() -> std::time::Duration {
    use std::io::{Read, Seek};
    static STAT: std::sync::Mutex<Option<std::fs::File>> = std::sync::Mutex::new(None);
    let mut file = STAT.lock().unwrap_or_else(|e| e.into_inner());
    let f = file
        .get_or_insert_with(|| std::fs::File::open("/proc/self/stat").expect("/proc/self/stat"));
    f.rewind().expect("rewind /proc/self/stat");
    let mut stat = String::new();
    f.read_to_string(&mut stat).expect("read /proc/self/stat");
    // Fields after the command name (which may contain spaces) start at `state`
    // (field 3); utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    std::time::Duration::from_millis(ticks * 10)
}

/// Raise this process's descriptor limit to at least `want` (the hard limit too when
/// running as root); returns the soft limit now in force.
pub fn raise_fd_limit(want: u64) -> u64 {
    use rlimit::Resource;
    let (soft, hard) = Resource::NOFILE.get().expect("getrlimit");
    if soft >= want {
        return soft;
    }
    let hard = if hard < want {
        // Only root may raise the hard limit; otherwise stay at the hard limit.
        if Resource::NOFILE.set(want, want).is_ok() {
            return want;
        }
        hard
    } else {
        hard
    };
    let soft = want.min(hard);
    Resource::NOFILE.set(soft, hard).expect("setrlimit");
    soft
}

/// 64-bit FNV-1a, streamed: the per-connection checksum of the load test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv::new()
    }
}

impl Fnv {
    /// The FNV-1a offset basis (no bytes yet).
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    /// Hash `bytes` on.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The kernel's count of connections it dropped because a listener's accept queue was
/// full (`TcpExt: ListenDrops` in `/proc/net/netstat`, machine-wide); `None` when it
/// cannot be read. Such a connection never reaches any program (Node's neither): the
/// final ACK of its handshake is dropped, and a client that resets at once kills it
/// before the kernel retries.
pub fn listen_drops() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let at = names.split_whitespace().position(|n| n == "ListenDrops")?;
    values.split_whitespace().nth(at)?.parse().ok()
}
