// The tokio harness of the reliability suites (`sys/testsuite/{emfile,soak,flood,load}.rs`):
// each test builds its own 2-worker runtime, holds the binary-wide `SERIAL` lock (the
// suites count the process's descriptors and memory, so tests of one binary must not
// overlap) and is bounded by `TEST_TIMEOUT`.

const BACKEND: &str = "tokio";
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

macro_rules! nn_test {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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
macro_rules! task {
    ($b:block) => {
        tokio::spawn(async move $b)
    };
}
#[allow(unused_macros)]
macro_rules! join {
    ($h:expr) => {
        $h.await.unwrap()
    };
}
/// Let a task (thread) run on without waiting for it.
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
