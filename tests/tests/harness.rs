//! The test mechanism itself, on every runtime: a failing or hanging body fails its test,
//! a spawned task's panic reaches the body that awaits it, a dropped task handle lets
//! the task run on, and `next_until` gives up at its deadline.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nodenet::{ListenOptions, ServerOptions};
use nodenet_smol::SmolRuntime;
use nodenet_std::StdRuntime;
use nodenet_tests::harness::{run, Settings};
use nodenet_tests::suite::support::{create_server, listening};
use nodenet_tests::test_runtime::{next_until, TestRuntime};
use nodenet_tokio::TokioRuntime;

const QUICK: Settings = Settings {
    timeout: Duration::from_secs(20),
    serial: false,
};

/// The panic message `run` ended with, if it panicked.
fn panic_of(f: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    Some(
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

fn a_failing_body_fails<R: TestRuntime>() {
    let msg = panic_of(|| run::<R, _>(QUICK, || async { panic!("body failed on purpose") }));
    assert_eq!(
        msg.as_deref(),
        Some("body failed on purpose"),
        "{}",
        R::NAME
    );
}

fn a_hanging_body_times_out<R: TestRuntime>() {
    let settings = Settings {
        timeout: Duration::from_millis(200),
        serial: false,
    };
    let msg = panic_of(|| run::<R, _>(settings, || R::sleep(Duration::from_secs(3))));
    let msg = msg.expect("a body past its bound fails");
    assert!(msg.starts_with("test timed out"), "{}: {msg}", R::NAME);
}

fn a_task_panic_reaches_the_awaiting_body<R: TestRuntime>() {
    let msg = panic_of(|| {
        run::<R, _>(QUICK, || async {
            let task = <R as TestRuntime>::spawn(async { panic!("task failed on purpose") });
            task.await;
        })
    });
    assert_eq!(
        msg.as_deref(),
        Some("task failed on purpose"),
        "{}",
        R::NAME
    );
}

fn a_dropped_task_runs_on<R: TestRuntime>() {
    run::<R, _>(QUICK, || async {
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        drop(<R as TestRuntime>::spawn(async move {
            R::sleep(Duration::from_millis(20)).await;
            flag.store(true, Ordering::SeqCst);
        }));
        let t0 = Instant::now();
        while !ran.load(Ordering::SeqCst) {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "the dropped task never ran"
            );
            R::sleep(Duration::from_millis(5)).await;
        }
    });
}

fn next_until_gives_up_at_the_deadline<R: TestRuntime>() {
    run::<R, _>(QUICK, || async {
        let mut server = create_server::<R>(ServerOptions::default());
        server
            .listen(ListenOptions::port(0).host("127.0.0.1"))
            .unwrap();
        listening(&mut server).await;
        let t0 = Instant::now();
        let got = next_until(&mut server, t0 + Duration::from_millis(50)).await;
        assert!(got.is_none(), "{}: no client, no event: {got:?}", R::NAME);
        assert!(t0.elapsed() >= Duration::from_millis(45), "{}", R::NAME);
    });
}

#[test]
fn a_failing_body_fails_on_every_runtime() {
    a_failing_body_fails::<TokioRuntime>();
    a_failing_body_fails::<SmolRuntime>();
    a_failing_body_fails::<StdRuntime>();
}

#[test]
fn a_hanging_body_times_out_on_every_runtime() {
    a_hanging_body_times_out::<TokioRuntime>();
    a_hanging_body_times_out::<SmolRuntime>();
    a_hanging_body_times_out::<StdRuntime>();
}

#[test]
fn a_task_panic_reaches_the_awaiting_body_on_every_runtime() {
    a_task_panic_reaches_the_awaiting_body::<TokioRuntime>();
    a_task_panic_reaches_the_awaiting_body::<SmolRuntime>();
    a_task_panic_reaches_the_awaiting_body::<StdRuntime>();
}

#[test]
fn a_dropped_task_runs_on_on_every_runtime() {
    a_dropped_task_runs_on::<TokioRuntime>();
    a_dropped_task_runs_on::<SmolRuntime>();
    a_dropped_task_runs_on::<StdRuntime>();
}

#[test]
fn next_until_gives_up_at_the_deadline_on_every_runtime() {
    next_until_gives_up_at_the_deadline::<TokioRuntime>();
    next_until_gives_up_at_the_deadline::<SmolRuntime>();
    next_until_gives_up_at_the_deadline::<StdRuntime>();
}
