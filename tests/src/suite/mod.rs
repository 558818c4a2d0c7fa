//! The backend test suites, written once and run on every runtime (tokio, smol, std;
//! the simulation runtime runs [`loopback`], [`options`] and [`conveniences`], listing
//! the bodies it cannot run — Unix domain sockets, OS-socket peers, wake-ups from other
//! threads — as ignored with the reason: `tests/tests/<suite>_sim.rs`).
//!
//! | module | what it checks | test binaries |
//! |---|---|---|
//! | [`loopback`] | Node's socket and server behaviour over real loopback sockets | `tests/tests/loopback_<runtime>.rs` |
//! | [`conveniences`] | `connected()`, `peer_addr`/`local_addr`/`as_fd`, typed constructors, async `lookup` | `conveniences_<runtime>.rs` |
//! | [`options`] | `signal`, `reusePort`, `onread`, `server[Symbol.asyncDispose]` | `options_<runtime>.rs` |
//! | [`emfile`] | accept under `EMFILE` (lowers the process's descriptor limit) | `emfile_<runtime>.rs` |
//! | [`soak`] | connect / transfer / close cycles leak no descriptor or memory | `soak_<runtime>.rs` |
//! | [`flood`] | block list and `max_connections` under a connection flood; Unix socket modes | `flood_<runtime>.rs` |
//! | [`load`] | thousands of connections held at once, every byte echoed and checksummed | `load_<runtime>.rs` |
//! | [`hostile`] | accept-queue resets, RST storms, slowloris, `EMFILE` under a low limit, churn, slow readers | `hostile_<runtime>.rs` |
//!
//! # Adding a test
//!
//! 1. Write the body in the suite's module as a plain generic async function:
//!
//!    ```ignore
//!    /// One line saying what Node behaviour this pins down.
//!    pub async fn my_new_test<R: TestRuntime>() {
//!        let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
//!        let side = <R as TestRuntime>::spawn(async move {
//!            let mut c = accept(&mut server).await;
//!            drain(&mut c).await
//!        });
//!        let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
//!        while let Some(ev) = next(&mut client).await { /* ... */ }
//!        let (data, events) = side.await;
//!        // assertions
//!    }
//!    ```
//!
//!    Sockets and servers are `nodenet::Socket<R>` / `nodenet::Server<R>`: call their
//!    methods directly. What differs per runtime goes through [`TestRuntime`] and the
//!    free functions of [`crate::test_runtime`]: `next(&mut s).await` for the next event
//!    (socket or server), `next_until(&mut s, deadline).await` (`None` at the deadline),
//!    `shutdown(&mut server, deadline).await`, `<R as TestRuntime>::spawn(async move { .. })` for the
//!    other side (await the handle to join it; drop it to let it run on),
//!    `R::sleep(duration).await`, `R::now()` for deadlines and durations (the runtime's
//!    clock: virtual on a simulation runtime), `R::NAME` in messages. The helpers of [`support`]
//!    (`loopback_server`, `accept`, `drain`, `echo`, ...) are ordinary functions too.
//! 2. Add its name to the suite's list macro at the bottom of the module
//!    (`loopback_tests!`, ...), with `#[ignore = "why"]` in front for a heavy variant.
//!    Every runtime's test binary calls that macro, so the test now runs on every
//!    runtime, as `cargo test -p nodenet-tests --test <suite>_<runtime> <name>`.
//!
//! # How a test runs
//!
//! The list macro expands to one `#[test] fn <name>()` per body calling
//! [`crate::harness::run`], which runs the body with the runtime's
//! [`TestRuntime::block_on`] on a thread of its own, bounded by the suite's
//! `SETTINGS.timeout`; a suite with `SETTINGS.serial` runs its tests one at a time (they
//! count the process's descriptors and memory). On tokio the body runs on a 2-worker
//! runtime and `spawn` makes tokio tasks; on smol, `async_io::block_on` and tasks on a
//! 2-thread executor; on std a thread-parking `block_on` where awaiting a socket blocks
//! the thread, and `spawn` starts a thread. A test that exists on one runtime only (the
//! IO-trait interop tests; std's thread-per-connection descriptor budget,
//! `fd_budget_std.rs`) is an ordinary `#[test]` in that runtime's test file, calling
//! `run` with a body of its own.
//!
//! [`TestRuntime`]: crate::test_runtime::TestRuntime
//! [`TestRuntime::block_on`]: crate::test_runtime::TestRuntime::block_on

use std::time::Duration;

use crate::harness::Settings;

pub mod conveniences;
pub mod emfile;
pub mod flood;
pub mod gate;
pub mod hostile;
pub mod load;
pub mod loopback;
pub mod options;
pub mod proc_stats;
pub mod soak;
pub mod support;

/// How the reliability suites ([`emfile`], [`soak`], [`flood`], [`load`], [`hostile`]) run: one test
/// at a time (they count the process's descriptors and memory, or lower its limits),
/// each bounded by 300 s.
pub const RELIABILITY: Settings = Settings {
    timeout: Duration::from_secs(300),
    serial: true,
};
