// The smol harness of every test binary of this crate: the loopback suite
// (`nodenet/testsuite/loopback.rs`) and the reliability suites
// (`nodenet/testsuite/{emfile,soak,flood,load}.rs`). The test body runs on the test thread
// with `async_io::block_on` and is bounded by `TEST_TIMEOUT`; when `SERIAL` is true the
// test also holds the binary-wide `SERIAL_LOCK` (the reliability suites count the
// process's descriptors and memory, so tests of one binary must not overlap) and starts
// the executor before its body. The suite sets both: 20 s and parallel for the loopback
// suite, 300 s and serial for the reliability suites.
//
// Two ways to run something concurrently: `spawn!` (the loopback suite) gives it its own
// thread with `async_io::block_on`; `task!` (the reliability suites) runs it on a
// 2-thread `async_executor::Executor` (async-io drives the reactor). `join!` waits for
// either.

const BACKEND: &str = "smol";
static SERIAL_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
            let _serial = SERIAL.then(|| SERIAL_LOCK.lock().unwrap_or_else(|e| e.into_inner()));
            if SERIAL {
                // Start the executor threads and async-io's reactor (its epoll and wake-up
                // descriptors) before the body counts descriptors.
                async_io::block_on(executor().spawn(async_io::Timer::after(std::time::Duration::from_millis(1))));
            }
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
/// Run a future concurrently on its own thread (`async_io::block_on` there).
#[allow(unused_macros)]
macro_rules! spawn {
    ($b:block) => {
        std::thread::spawn(move || async_io::block_on(async move $b))
    };
}
/// Run a future concurrently (a task on the executor).
#[allow(unused_macros)]
macro_rules! task {
    ($b:block) => {
        executor().spawn(async move $b)
    };
}
/// What `join!` waits for: a `spawn!` thread (joined: the calling thread blocks) or a
/// `task!` task (awaited).
#[allow(dead_code)]
trait Join {
    type Output;
    async fn finish(self) -> Self::Output;
}
impl<T> Join for std::thread::JoinHandle<T> {
    type Output = T;
    async fn finish(self) -> T {
        self.join().unwrap()
    }
}
impl<T> Join for async_executor::Task<T> {
    type Output = T;
    async fn finish(self) -> T {
        self.await
    }
}
#[allow(unused_macros)]
macro_rules! join {
    ($h:expr) => {
        Join::finish($h).await
    };
}
/// Let a task run on without waiting for it.
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
#[allow(unused_macros)]
macro_rules! shutdown {
    ($server:expr, $deadline:expr) => {
        $server.shutdown($deadline).await
    };
}
