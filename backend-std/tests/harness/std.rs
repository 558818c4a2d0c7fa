// The blocking-std harness of every test binary of this crate: the loopback suite
// (`nodenet/testsuite/loopback.rs`) and the reliability suites
// (`nodenet/testsuite/{emfile,soak,flood}.rs`). A "task" is a thread; each test runs on its
// own thread and is bounded by `TEST_TIMEOUT`; when `SERIAL` is true it also holds the
// binary-wide `SERIAL_LOCK` (the reliability suites count the process's descriptors and
// memory, so tests of one binary must not overlap). The suite sets both: 20 s and
// parallel for the loopback suite, 300 s and serial for the reliability suites.

const BACKEND: &str = "std";
static SERIAL_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

macro_rules! nn_test {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            let _serial = SERIAL.then(|| SERIAL_LOCK.lock().unwrap_or_else(|e| e.into_inner()));
            // Start the process-wide poller (its epoll descriptors) before the body
            // counts descriptors.
            drop(StdRuntime::new());
            let (tx, rx) = std::sync::mpsc::channel();
            let t = std::thread::spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body));
                let _ = tx.send(());
                if let Err(p) = r {
                    std::panic::resume_unwind(p);
                }
            });
            match rx.recv_timeout(TEST_TIMEOUT) {
                Ok(()) => t.join().unwrap(),
                Err(_) => panic!("test timed out"),
            }
        }
    };
}
#[allow(unused_macros)]
macro_rules! next {
    ($s:expr) => {
        $s.next_event()
    };
}
/// `Some(next event)`, or `None` when `deadline` passed first.
#[allow(unused_macros)]
macro_rules! next_until {
    ($s:expr, $deadline:expr) => {
        match $s.next_event_until($deadline) {
            std::task::Poll::Ready(e) => Some(e),
            std::task::Poll::Pending => None,
        }
    };
}
/// Run a closure concurrently (a thread).
#[allow(unused_macros)]
macro_rules! spawn {
    ($b:block) => {
        std::thread::spawn(move || $b)
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
        $h.join().unwrap()
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
        std::thread::sleep(std::time::Duration::from_millis($ms))
    };
}
#[allow(unused_macros)]
macro_rules! shutdown {
    ($server:expr, $deadline:expr) => {
        $server.shutdown($deadline)
    };
}
