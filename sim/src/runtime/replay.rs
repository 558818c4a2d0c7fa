//! Seeds from the environment and the command that replays a failing one.
//!
//! `NODENET_SIM_SEED=N` runs only seed `N` (with its full trace) in a [`sweep`], and the
//! command printed with every failure sets it: the same test binary, the same test, one
//! seed.

use std::ops::Range;

use super::sim::SimError;

/// The seed `NODENET_SIM_SEED` asks to replay, if any (read once per process: every
/// simulation asks).
pub fn seed_from_env() -> Option<u64> {
    static SEED: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| std::env::var("NODENET_SIM_SEED").ok()?.trim().parse().ok())
}

/// The command that reruns the current test on `seed` alone, with its full trace:
/// `NODENET_SIM_SEED=<seed> cargo test -p <package> --test <binary> <test> -- --exact
/// --nocapture` (the package, test binary and test name are read from the running test;
/// `--lib` for a crate's unit tests).
pub fn replay_command(seed: u64) -> String {
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "<package>".to_string());
    let binary = std::env::args()
        .next()
        .and_then(|exe| {
            let stem = std::path::Path::new(&exe)
                .file_stem()?
                .to_str()?
                .to_string();
            // cargo names test binaries `<name>-<16 hex digits>`.
            Some(match stem.rsplit_once('-') {
                Some((name, hash)) if hash.len() == 16 => name.to_string(),
                _ => stem,
            })
        })
        .unwrap_or_default();
    let target = if binary.is_empty() || binary == package.replace('-', "_") {
        "--lib".to_string()
    } else {
        format!("--test {binary}")
    };
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(|n| format!(" {n} -- --exact --nocapture"))
        .unwrap_or_else(|| " -- --nocapture".to_string());
    format!("NODENET_SIM_SEED={seed} cargo test -p {package} {target}{test}")
}

/// What a [`sweep`] found.
#[derive(Debug, Default)]
pub struct SweepReport {
    /// Seeds run.
    pub seeds: u64,
    /// The failures (at most `max_failures`), each with its replay command.
    pub failures: Vec<SimError>,
}

impl SweepReport {
    /// Panic with every failure (seed, what failed, replay command) unless there is none.
    pub fn assert_ok(&self) {
        if !self.failures.is_empty() {
            let text: Vec<String> = self.failures.iter().map(|f| f.to_string()).collect();
            panic!(
                "{} of {} seeds failed:\n{}",
                self.failures.len(),
                self.seeds,
                text.join("\n")
            );
        }
    }
}

/// Run `one` on every seed of `seeds` (or only on `NODENET_SIM_SEED` when it is set),
/// stopping after `max_failures` failures.
pub fn sweep(
    seeds: Range<u64>,
    max_failures: usize,
    mut one: impl FnMut(u64) -> Result<(), SimError>,
) -> SweepReport {
    let seeds: Vec<u64> = match seed_from_env() {
        Some(s) => vec![s],
        None => seeds.collect(),
    };
    let mut report = SweepReport::default();
    for seed in seeds {
        report.seeds += 1;
        if let Err(e) = one(seed) {
            report.failures.push(e);
            if report.failures.len() >= max_failures {
                break;
            }
        }
    }
    report
}
