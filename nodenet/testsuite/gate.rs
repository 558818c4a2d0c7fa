// A counter async tasks can wait on, for the reliability suites of the async backends:
// runtime-agnostic (wakers in a mutex), so one body runs on tokio and on smol.

/// Counts arrivals; `wait_for(n)` is ready once the count reaches `n`.
#[allow(dead_code)]
#[derive(Default)]
struct Gate {
    state: std::sync::Mutex<(usize, Vec<std::task::Waker>)>,
}

#[allow(dead_code)]
impl Gate {
    fn add(&self, n: usize) {
        let wakers = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.0 += n;
            std::mem::take(&mut s.1)
        };
        for w in wakers {
            w.wake();
        }
    }

    fn count(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn wait_for(&self, n: usize) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.0 >= n {
                return std::task::Poll::Ready(());
            }
            s.1.push(cx.waker().clone());
            std::task::Poll::Pending
        })
    }
}
