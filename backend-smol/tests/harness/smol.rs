// The smol harness of the reliability suites (`sys/testsuite/{emfile,soak,flood,load}.rs`):
// tasks run on a 2-thread `async_executor::Executor` (async-io drives the reactor), the
// test body on the test thread with `async_io::block_on`; each test holds the
// binary-wide `SERIAL` lock (the suites count the process's descriptors and memory, so
// tests of one binary must not overlap) and is bounded by `TEST_TIMEOUT`.

const BACKEND: &str = "smol";
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Two executor threads, started on first use, shared by the binary's tests.
#[allow(dead_code)]
fn executor() -> &'static async_executor::Executor<'static> {
    static EX: std::sync::OnceLock<async_executor::Executor<'static>> = std::sync::OnceLock::new();
    EX.get_or_init(|| {
        for _ in 0..2 {
            std::thread::spawn(|| {
                let ex = executor();
                async_io::block_on(ex.run(std::future::pending::<()>()))
            });
        }
        async_executor::Executor::new()
    })
}

macro_rules! nn_test {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
            // Start the executor threads and async-io's reactor (its epoll and wake-up
            // descriptors) before the body counts descriptors.
            async_io::block_on(executor().spawn(async_io::Timer::after(std::time::Duration::from_millis(1))));
            async_io::block_on(async move {
                let timeout = async {
                    async_io::Timer::after(TEST_TIMEOUT).await;
                    panic!("test timed out");
                };
                futures_lite::future::or(async move $body, timeout).await
            })
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
        futures_lite::future::or(async { Some($s.next_event().await) }, async {
            async_io::Timer::at($deadline).await;
            None
        })
        .await
    };
}
/// Run a future concurrently (a task on the executor).
#[allow(unused_macros)]
macro_rules! task {
    ($b:block) => {
        executor().spawn(async move $b)
    };
}
#[allow(unused_macros)]
macro_rules! join {
    ($h:expr) => {
        $h.await
    };
}
/// Let a task (thread) run on without waiting for it.
#[allow(unused_macros)]
macro_rules! detach {
    ($h:expr) => {
        $h.detach()
    };
}
#[allow(unused_macros)]
macro_rules! sleep_ms {
    ($ms:expr) => {
        async_io::Timer::after(std::time::Duration::from_millis($ms)).await
    };
}
