//! [`TestRuntime`] on smol / async-io: the body runs on `async_io::block_on`, `spawn`
//! puts a task on a 2-thread `async_executor::Executor` shared by the test binary
//! (async-io drives the reactor).
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use async_executor::{Executor, Task};
use nodenet_smol::SmolRuntime;

use super::TestRuntime;

/// Two executor threads, started on first use, shared by the binary's tests.
fn executor() -> &'static Executor<'static> {
    static EX: OnceLock<Executor<'static>> = OnceLock::new();
    EX.get_or_init(|| {
        for _ in 0..2 {
            std::thread::spawn(|| async_io::block_on(executor().run(std::future::pending::<()>())));
        }
        Executor::new()
    })
}

impl TestRuntime for SmolRuntime {
    const NAME: &'static str = "smol";
    type Task<T: Send + 'static> = SmolTask<T>;

    fn block_on<F: Future>(body: F) -> F::Output {
        async_io::block_on(body)
    }

    fn spawn<F>(task: F) -> SmolTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SmolTask(Some(executor().spawn(task)))
    }

    async fn sleep(duration: Duration) {
        async_io::Timer::after(duration).await;
    }
}

/// An executor task's handle. Unlike `async_executor::Task`, dropping it detaches the
/// task (as a tokio `JoinHandle` or a thread does) instead of cancelling it. A panic in
/// the task is resumed in the awaiting body (async-executor propagates it).
#[derive(Debug)]
pub struct SmolTask<T>(Option<Task<T>>);

impl<T> Future for SmolTask<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.0.as_mut() {
            Some(task) => Pin::new(task).poll(cx),
            None => panic!("SmolTask polled after completion"),
        }
    }
}

impl<T> Drop for SmolTask<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}
