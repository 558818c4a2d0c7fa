// The tokio harness of every test binary of this crate: the loopback suite
// (`nodenet/testsuite/loopback.rs`) and the reliability suites
// (`nodenet/testsuite/{emfile,soak,flood,load}.rs`). Each test builds its own 2-worker
// runtime and is bounded by `TEST_TIMEOUT`; when `SERIAL` is true it also holds the
// binary-wide `SERIAL_LOCK` (the reliability suites count the process's descriptors and
// memory, so tests of one binary must not overlap). The suite sets both: 20 s and
// parallel for the loopback suite, 300 s and serial for the reliability suites.

const BACKEND: &str = "tokio";
static SERIAL_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

macro_rules! nn_test {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            let _serial = SERIAL.then(|| SERIAL_LOCK.lock().unwrap_or_else(|e| e.into_inner()));
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                tokio::time::timeout(TEST_TIMEOUT, async move $body)
                    .await
                    .expect("test timed out")
            });
        }
    };
}
#[allow(unused_macros)]
macro_rules! next {
    ($s:expr) => {
        $s.next_event().await
    };
}
/// `Some(next event)`, or `None` when `deadline` passed first.
#[allow(unused_macros)]
macro_rules! next_until {
    ($s:expr, $deadline:expr) => {
        tokio::time::timeout_at(tokio::time::Instant::from_std($deadline), $s.next_event())
            .await
            .ok()
    };
}
/// Run a future concurrently (a task on the runtime).
#[allow(unused_macros)]
macro_rules! spawn {
    ($b:block) => {
        tokio::spawn(async move $b)
    };
}
/// The reliability suites' name for `spawn!`.
#[allow(unused_macros)]
macro_rules! task {
    ($b:block) => {
        spawn!($b)
    };
}
#[allow(unused_macros)]
macro_rules! join {
    ($h:expr) => {
        $h.await.unwrap()
    };
}
/// Let a task run on without waiting for it.
#[allow(unused_macros)]
macro_rules! detach {
    ($h:expr) => {
        drop($h)
    };
}
#[allow(unused_macros)]
macro_rules! sleep_ms {
    ($ms:expr) => {
        tokio::time::sleep(std::time::Duration::from_millis($ms)).await
    };
}
#[allow(unused_macros)]
macro_rules! shutdown {
    ($server:expr, $deadline:expr) => {
        $server.shutdown($deadline).await
    };
}
