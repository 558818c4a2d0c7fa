//! The simulation's trace: one human-readable line per thing that happened
//! (`t=12.003ms client#3 Connect`, `t=12.100ms kernel: RST 10.0.0.2:80 -> 10.0.0.100:40001`)
//! and a 64-bit FNV-1a hash over all of them. Lines only ever contain virtual time
//! offsets, never real instants, so the hash of a seed is the same on every run and
//! machine.

use std::fmt::Write as _;
use std::time::Duration;

/// How much of the trace a simulation keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceMode {
    /// Keep every line and the hash (replays, determinism tests, debugging).
    Full,
    /// Only the hash (lines are formatted into a scratch buffer and dropped).
    HashOnly,
    /// Nothing (sweeps and benchmarks; `hash()` stays at the FNV offset basis).
    Off,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The recorded trace and its running hash.
#[derive(Clone, Debug)]
pub struct Trace {
    mode: TraceMode,
    lines: Vec<String>,
    scratch: String,
    hash: u64,
}

impl Trace {
    /// An empty trace in `mode`.
    pub fn new(mode: TraceMode) -> Trace {
        Trace {
            mode,
            lines: Vec::new(),
            scratch: String::new(),
            hash: FNV_OFFSET,
        }
    }

    /// Whether lines are formatted at all (callers skip building them when not).
    pub fn enabled(&self) -> bool {
        self.mode != TraceMode::Off
    }

    /// Record `what` by `who` at virtual time `t`.
    pub fn record(
        &mut self,
        t: Duration,
        who: impl std::fmt::Display,
        what: std::fmt::Arguments<'_>,
    ) {
        if self.mode == TraceMode::Off {
            return;
        }
        let micros = t.as_micros();
        if self.mode == TraceMode::HashOnly {
            // Formatted straight into the hash: no line is kept, none is buffered.
            let mut h = FnvWriter(self.hash);
            let _ = writeln!(
                h,
                "t={}.{:03}ms {} {}",
                micros / 1000,
                micros % 1000,
                who,
                what
            );
            self.hash = h.0;
            return;
        }
        self.scratch.clear();
        let _ = write!(
            self.scratch,
            "t={}.{:03}ms {} {}",
            micros / 1000,
            micros % 1000,
            who,
            what
        );
        for b in self.scratch.as_bytes().iter().chain(b"\n") {
            self.hash ^= u64::from(*b);
            self.hash = self.hash.wrapping_mul(FNV_PRIME);
        }
        self.lines.push(self.scratch.clone());
    }

    /// The lines kept so far (empty unless [`TraceMode::Full`]).
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// FNV-1a over every line (each followed by `\n`).
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// A `fmt::Write` that folds what is written into an FNV-1a hash.
struct FnvWriter(u64);

impl std::fmt::Write for FnvWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.as_bytes() {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        Ok(())
    }
}

/// FNV-1a of `bytes` (exposed so tests can hash their own text the same way).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_covers_the_text() {
        let mut t = Trace::new(TraceMode::Full);
        t.record(
            Duration::from_micros(12_003),
            "client#3",
            format_args!("Connect"),
        );
        assert_eq!(t.lines(), ["t=12.003ms client#3 Connect"]);
        assert_eq!(t.hash(), fnv1a(b"t=12.003ms client#3 Connect\n"));
        let mut h = Trace::new(TraceMode::HashOnly);
        h.record(
            Duration::from_micros(12_003),
            "client#3",
            format_args!("Connect"),
        );
        assert_eq!(h.hash(), t.hash());
        assert!(h.lines().is_empty());
    }
}
