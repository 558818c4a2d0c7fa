//! Runs one shared test body as a `#[test]` on one runtime: [`run`] bounds it in time and,
//! for suites that count the process's descriptors or memory, keeps the tests of one
//! binary from overlapping; [`register_tests!`](crate::register_tests) writes the
//! `#[test]` functions from a list of body names.
use std::future::Future;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use crate::test_runtime::TestRuntime;

/// How the tests of one suite run.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The bound on each test: a body still running after it fails the test.
    pub timeout: Duration,
    /// Whether the tests of a binary run one at a time (they count the process's
    /// descriptors and memory, or lower its limits).
    pub serial: bool,
}

/// Held by a serial test for its whole run (one per test binary).
static SERIAL_LOCK: Mutex<()> = Mutex::new(());

/// Run the body `body()` on runtime `R` ([`TestRuntime::block_on`]) on a thread of its
/// own, and fail (panic) if it panics or is still running after `settings.timeout`.
///
/// The body's future is made inside the runtime (tokio's timers must be created there).
/// A serial test first starts the runtime's threads and reactor (a spawned task that
/// sleeps, and a server that listens on loopback and closes), so the descriptors and
/// threads a runtime creates on first use (std's process-wide poller among them) are in
/// place before the body takes its baseline.
pub fn run<R: TestRuntime, F: Future<Output = ()>>(
    settings: Settings,
    body: impl FnOnce() -> F + Send + 'static,
) {
    let _serial = settings
        .serial
        .then(|| SERIAL_LOCK.lock().unwrap_or_else(|e| e.into_inner()));
    if settings.serial {
        R::block_on(warm_up::<R>());
    }
    let (done_tx, done_rx) = mpsc::channel();
    let name = std::thread::current().name().unwrap_or("test").to_owned();
    let body_thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                R::block_on(async move { body().await });
            }));
            let _ = done_tx.send(());
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        })
        .expect("spawn the test body's thread");
    match done_rx.recv_timeout(settings.timeout) {
        Ok(()) => {
            if let Err(panic) = body_thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(_) => panic!("test timed out after {:?} on {}", settings.timeout, R::NAME),
    }
}

/// Start what runtime `R` creates on first use: its worker threads and timers (a spawned
/// sleep) and its reactor (a loopback server that listens and closes).
async fn warm_up<R: TestRuntime>() {
    <R as TestRuntime>::spawn(R::sleep(Duration::from_millis(1))).await;
    let (mut server, _port) =
        crate::suite::support::loopback_server::<R>(nodenet::ServerOptions::default()).await;
    crate::test_runtime::close_and_wait::<R>(&mut server).await;
}

/// One `#[test]` per listed body of a suite module (`crate::suite::<suite>`), run on
/// `$runtime` with the suite's `SETTINGS`:
///
/// ```ignore
/// nodenet_tests::register_tests!(nodenet_tokio::TokioRuntime => loopback {
///     ipv4_echo_data_end_close,
///     #[ignore = "long"] soak_100000_cycles,
/// });
/// ```
///
/// Each suite module has its own list macro (`loopback_tests!`, ...) calling this with
/// every body it defines, so a runtime's test file is one line per suite.
#[macro_export]
macro_rules! register_tests {
    ($runtime:ty => $suite:ident { $($(#[$attr:meta])* $name:ident),* $(,)? }) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                $crate::harness::run::<$runtime, _>(
                    $crate::suite::$suite::SETTINGS,
                    $crate::suite::$suite::$name::<$runtime>,
                );
            }
        )*
    };
}
