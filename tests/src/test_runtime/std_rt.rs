//! [`TestRuntime`] on blocking std: the body runs on a thread-parking `block_on`
//! (socket waits block inside `poll`), `spawn` starts a thread running its own
//! `block_on`, and `sleep` sleeps the thread.
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use nodenet_std::StdRuntime;

use super::TestRuntime;

impl TestRuntime for StdRuntime {
    const NAME: &'static str = "std";
    type Task<T: Send + 'static> = ThreadTask<T>;

    fn block_on<F: Future>(body: F) -> F::Output {
        futures_lite::future::block_on(body)
    }

    fn spawn<F>(task: F) -> ThreadTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let slot = Arc::new(Mutex::new(Slot {
            done: None,
            waker: None,
        }));
        let theirs = slot.clone();
        thread::spawn(move || {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Self::block_on(task)));
            let waker = {
                let mut s = theirs.lock().unwrap_or_else(|e| e.into_inner());
                s.done = Some(result);
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        });
        ThreadTask(slot)
    }

    async fn sleep(duration: Duration) {
        thread::sleep(duration)
    }
}

/// What a spawned thread hands back, and who waits for it.
#[derive(Debug)]
struct Slot<T> {
    done: Option<thread::Result<T>>,
    waker: Option<Waker>,
}

/// A spawned thread's handle: ready with the thread's output once it finished (its panic
/// is resumed in the awaiting body); dropping it lets the thread run on. Awaiting it
/// parks the awaiting body instead of blocking inside `poll`, so a body can await it
/// next to other futures.
#[derive(Debug)]
pub struct ThreadTask<T>(Arc<Mutex<Slot<T>>>);

impl<T> Future for ThreadTask<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match s.done.take() {
            Some(Ok(v)) => Poll::Ready(v),
            Some(Err(panic)) => {
                drop(s);
                std::panic::resume_unwind(panic)
            }
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
