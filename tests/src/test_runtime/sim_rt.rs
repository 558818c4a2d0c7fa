//! [`TestRuntime`] on the simulation runtime (`nodenet_sim::runtime::SimRuntime`): each
//! body runs in a fresh simulation, as the program of one simulated host whose
//! `127.0.0.1` and `::1` are its loopback (`localhost` names both, as in a usual
//! `/etc/hosts`), in virtual time. `spawn` is a task on that
//! host, `sleep` a virtual sleep, [`Runtime::now`](nodenet::Runtime::now) the virtual
//! clock. The simulation's seed and faults come from [`SimSettings`] (by default seed 1
//! and [`Faults::none`]: a loopback network, where a small write arrives in one read, as
//! the suites assume).
//!
//! A failure of the simulation — a spawned task's panic, a violated Node invariant, a
//! body waiting for something that can never happen (nothing left to run and no time
//! left to pass) — panics with the seed and the replay command.
use std::cell::RefCell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use nodenet_sim::runtime::{Sim, SimConfig, SimRuntime};
use nodenet_sim::Faults;

use super::TestRuntime;

/// The simulated host a body runs on.
pub const SIM_HOST: &str = "sim";

/// The seed and faults of the simulations [`TestRuntime::block_on`] starts on this
/// thread (see [`with_sim_settings`]).
#[derive(Clone, Debug)]
pub struct SimSettings {
    /// The seed (of the faults' draws; the run is the same for the same seed).
    pub seed: u64,
    /// What the network does wrong.
    pub faults: Faults,
}

impl Default for SimSettings {
    /// Seed 1, no faults.
    fn default() -> SimSettings {
        SimSettings {
            seed: 1,
            faults: Faults::none(),
        }
    }
}

thread_local! {
    static SETTINGS: RefCell<SimSettings> = RefCell::new(SimSettings::default());
}

/// Run `f` with the simulations that `SimRuntime::block_on` starts on this thread using
/// `settings` (the conformance suite runs under latency and chunked reads this way).
pub fn with_sim_settings<T>(settings: SimSettings, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<SimSettings>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                SETTINGS.with(|s| *s.borrow_mut() = previous);
            }
        }
    }
    let previous = SETTINGS.with(|s| std::mem::replace(&mut *s.borrow_mut(), settings));
    let _restore = Restore(Some(previous));
    f()
}

impl TestRuntime for SimRuntime {
    const NAME: &'static str = "sim";
    type Task<T: Send + 'static> = SimTask<T>;

    fn block_on<F: Future>(body: F) -> F::Output {
        let settings = SETTINGS.with(|s| s.borrow().clone());
        let config = SimConfig::new(settings.seed).faults(settings.faults);
        let mut sim = Sim::with_config(config);
        sim.machine(SIM_HOST, Some(&["10.0.0.1", "fd00::1"]));
        sim.dns("localhost", &["127.0.0.1", "::1"]);
        // Declared after the simulation, so dropped before it: the body's sockets close
        // while the simulation is still this thread's.
        let _guard = sim.enter(SIM_HOST);
        let mut body = pin!(body);
        match sim.poll_until(SIM_HOST, None, |cx| body.as_mut().poll(cx)) {
            Ok(Some(output)) => output,
            Ok(None) => panic!(
                "[sim seed {}] the body waits for something that can never happen \
                 (no task can run and nothing is scheduled); replay: {}",
                sim.seed(),
                nodenet_sim::runtime::replay_command(sim.seed())
            ),
            Err(e) => panic!("{e}"),
        }
    }

    fn spawn<F>(task: F) -> SimTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let state = Arc::new(Mutex::new(TaskState {
            output: None,
            ended: false,
            waker: None,
        }));
        let ended = Ended(Arc::clone(&state));
        // The simulation's join handle is not `Send`; this task reports through `state`
        // instead (also when it is dropped unfinished with its host or simulation).
        drop(nodenet_sim::runtime::spawn(async move {
            let output = task.await;
            lock(&ended.0).output = Some(output);
            drop(ended);
        }));
        SimTask(state)
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        nodenet_sim::runtime::sleep(duration)
    }

    /// The simulated host's socket file (its filesystem has those only).
    fn socket_file_mode(path: &str) -> Option<u32> {
        SimRuntime::default().socket_file_mode(path)
    }
}

struct TaskState<T> {
    output: Option<T>,
    /// The task finished or was dropped.
    ended: bool,
    waker: Option<Waker>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the task ended however it ends, and wakes the awaiting body.
struct Ended<T>(Arc<Mutex<TaskState<T>>>);

impl<T> Drop for Ended<T> {
    fn drop(&mut self) {
        let waker = {
            let mut s = lock(&self.0);
            s.ended = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A simulated task's handle: its output once it finished. Dropping it lets the task
/// run on. A task's panic fails the whole simulation (and so the body).
pub struct SimTask<T>(Arc<Mutex<TaskState<T>>>);

impl<T> std::fmt::Debug for SimTask<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTask")
            .field("ended", &lock(&self.0).ended)
            .finish_non_exhaustive()
    }
}

impl<T> Future for SimTask<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = lock(&self.0);
        if let Some(output) = s.output.take() {
            return Poll::Ready(output);
        }
        if s.ended {
            panic!("the simulated task ended without an output (dropped with its simulation)");
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
