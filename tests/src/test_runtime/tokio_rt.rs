//! [`TestRuntime`] on tokio: each body gets its own 2-worker multi-thread runtime (so
//! the two sides of a scenario really run in parallel), `spawn` is `tokio::spawn`.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use nodenet_tokio::TokioRuntime;

use super::TestRuntime;

impl TestRuntime for TokioRuntime {
    const NAME: &'static str = "tokio";
    type Task<T: Send + 'static> = TokioTask<T>;

    fn block_on<F: Future>(body: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(body)
    }

    fn spawn<F>(task: F) -> TokioTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TokioTask(tokio::spawn(task))
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}

/// A tokio task's handle: its output, or the task's panic resumed in the awaiting body.
#[derive(Debug)]
pub struct TokioTask<T>(tokio::task::JoinHandle<T>);

impl<T> Future for TokioTask<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx).map(|r| match r {
            Ok(v) => v,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("task {e}"),
        })
    }
}
