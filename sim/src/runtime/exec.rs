//! The deterministic executor: one thread, tasks polled in the order they were woken
//! (a FIFO of task ids, no hashing, no threads), and virtual time that jumps to the next
//! thing that happens (a kernel event or a timer) only when no task can run. While a
//! task is polled, the thread knows the simulation and the task's host, which is what
//! `SimRuntime::default()`, [`spawn`], [`sleep`] and [`now`] use.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use atomic_refcell::AtomicRefCell;

use super::io::{sim_now, Sleep};
use super::kernel::{borrow, HostIx, Shared};

/// A task's future.
pub(crate) type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// What the running simulation publishes to the thread it runs on.
pub(crate) struct Active {
    pub(crate) shared: Arc<Shared>,
    /// The host whose task is being polled.
    pub(crate) host: Option<HostIx>,
    /// Tasks spawned during the poll, collected by the executor afterwards.
    pub(crate) spawned: Vec<(HostIx, LocalFuture<()>)>,
    /// Crashes and restarts asked for from inside a task.
    pub(crate) control: Vec<Control>,
}

/// A request from inside the simulation that needs the executor (tasks are dropped or
/// started).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Control {
    Crash(HostIx),
    Restart(HostIx),
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
    /// The emptied task tables of the last simulation dropped on this thread, for the
    /// next one (as the kernel keeps its tables: growing them from nothing was several
    /// allocations per simulation).
    static SPARE_TASKS: RefCell<Option<SpareTasks>> = const { RefCell::new(None) };
}

/// What [`Tasks`] leaves to the next simulation: its emptied tables.
struct SpareTasks {
    slots: Vec<Option<Task>>,
    free: Vec<usize>,
    batch: VecDeque<(usize, u64)>,
    ready: VecDeque<(usize, u64)>,
}

/// Run `f` with the active simulation of this thread, if any.
pub(crate) fn with_active<T>(f: impl FnOnce(Option<&mut Active>) -> T) -> T {
    ACTIVE.with(|a| match a.try_borrow_mut() {
        Ok(mut a) => f(a.as_mut()),
        Err(_) => f(None),
    })
}

/// The running simulation and the host of the task being polled.
pub(crate) fn current() -> Option<(Arc<Shared>, HostIx)> {
    with_active(|a| a.and_then(|a| Some((Arc::clone(&a.shared), a.host?))))
}

/// Installs a simulation as the thread's active one; restores the previous on drop.
pub(crate) struct Enter {
    previous: Option<Active>,
}

impl Enter {
    pub(crate) fn new(shared: Arc<Shared>) -> Enter {
        let mut active = Active {
            shared,
            host: None,
            spawned: Vec::new(),
            control: Vec::new(),
        };
        let mut previous = ACTIVE.with(|a| a.borrow_mut().take());
        // What a harness asked for outside the run (of the same simulation) is taken in
        // by the run.
        if let Some(p) = &mut previous {
            if Arc::ptr_eq(&p.shared, &active.shared) {
                active.spawned = std::mem::take(&mut p.spawned);
                active.control = std::mem::take(&mut p.control);
            }
        }
        ACTIVE.with(|a| *a.borrow_mut() = Some(active));
        Enter { previous }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let previous = self.previous.take();
        ACTIVE.with(|a| *a.borrow_mut() = previous);
    }
}

/// The ready queue shared by the tasks' wakers.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    queue: AtomicRefCell<VecDeque<(usize, u64)>>,
}

impl ReadyQueue {
    fn push(&self, id: (usize, u64)) {
        let mut queue = borrow(&self.queue);
        if queue.capacity() == 0 {
            // Room for a simulation's usual wake-ups at once, not a growth per doubling.
            queue.reserve(16);
        }
        queue.push_back(id);
    }

    /// Move every queued id to the back of `into` (one lock for a batch of tasks).
    fn take_all(&self, into: &mut VecDeque<(usize, u64)>) {
        let mut queue = borrow(&self.queue);
        if into.is_empty() {
            // Swapped, not copied: the two buffers take turns.
            std::mem::swap(into, &mut *queue);
        } else {
            into.extend(queue.drain(..));
        }
    }
}

/// A task's waker: queues the task once until it is polled.
struct TaskWake {
    id: (usize, u64),
    queued: AtomicBool,
    ready: Arc<ReadyQueue>,
}

impl Wake for TaskWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.ready.push(self.id);
        }
    }
}

/// What a task is: a host's main program (whose result is the host's) or a spawned one.
pub(crate) enum TaskBody {
    Main(LocalFuture<crate::runtime::Result>),
    Spawned(LocalFuture<()>),
}

pub(crate) struct Task {
    pub(crate) host: HostIx,
    pub(crate) body: TaskBody,
    wake: Arc<TaskWake>,
    waker: Waker,
}

/// The tasks of a simulation.
#[derive(Default)]
pub(crate) struct Tasks {
    slots: Vec<Option<Task>>,
    free: Vec<usize>,
    generation: u64,
    pub(crate) ready: Arc<ReadyQueue>,
    /// Woken tasks taken from `ready`, to poll in order.
    batch: VecDeque<(usize, u64)>,
}

/// How polling a task ended.
pub(crate) enum Polled {
    Pending,
    /// A host's main program returned.
    MainDone(HostIx, crate::runtime::Result),
    SpawnedDone,
    /// The task panicked (the message).
    Panicked(HostIx, String),
    /// A stale wake-up (the task is gone).
    Gone,
}

impl Tasks {
    /// Empty task tables: the thread's spare ones if there are any (equal to
    /// `Tasks::default()` but for their room).
    pub(crate) fn new() -> Tasks {
        let Some(spare) = SPARE_TASKS
            .try_with(|s| s.borrow_mut().take())
            .ok()
            .flatten()
        else {
            return Tasks::default();
        };
        let SpareTasks {
            slots,
            free,
            batch,
            ready,
        } = spare;
        Tasks {
            slots,
            free,
            generation: 0,
            // A new queue (stale wakers of the last simulation may still hold its own),
            // with the last one's buffer.
            ready: Arc::new(ReadyQueue {
                queue: AtomicRefCell::new(ready),
            }),
            batch,
        }
    }

    /// Leave the emptied tables to the next simulation on this thread (once every task
    /// was taken out: `take_first`).
    pub(crate) fn recycle(&mut self) {
        if self.slots.iter().any(Option::is_some) {
            return;
        }
        let mut slots = std::mem::take(&mut self.slots);
        let mut free = std::mem::take(&mut self.free);
        let mut batch = std::mem::take(&mut self.batch);
        let mut ready = std::mem::take(&mut *borrow(&self.ready.queue));
        slots.clear();
        free.clear();
        batch.clear();
        ready.clear();
        let spare = SpareTasks {
            slots,
            free,
            batch,
            ready,
        };
        // During the thread's own teardown the slot may be gone: then they are just freed.
        let _ = SPARE_TASKS.try_with(|s| {
            if let Ok(mut slot) = s.try_borrow_mut() {
                if slot.is_none() {
                    *slot = Some(spare);
                }
            }
        });
    }

    pub(crate) fn spawn(&mut self, host: HostIx, body: TaskBody) {
        self.generation += 1;
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let id = (slot, self.generation);
        let wake = Arc::new(TaskWake {
            id,
            queued: AtomicBool::new(true),
            ready: Arc::clone(&self.ready),
        });
        let waker = Waker::from(Arc::clone(&wake));
        self.slots[slot] = Some(Task {
            host,
            body,
            wake,
            waker,
        });
        self.ready.push(id);
    }

    /// The next woken task, in the order they were woken.
    pub(crate) fn next_ready(&mut self) -> Option<(usize, u64)> {
        if self.batch.is_empty() {
            self.ready.take_all(&mut self.batch);
        }
        self.batch.pop_front()
    }

    /// Poll task `id` once.
    pub(crate) fn poll(&mut self, id: (usize, u64)) -> Polled {
        let Some(Some(task)) = self.slots.get_mut(id.0) else {
            return Polled::Gone;
        };
        if task.wake.id != id {
            return Polled::Gone;
        }
        task.wake.queued.store(false, Ordering::Release);
        let host = task.host;
        with_active(|a| {
            if let Some(a) = a {
                a.host = Some(host);
            }
        });
        let mut cx = Context::from_waker(&task.waker);
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &mut task.body {
                TaskBody::Main(f) => f.as_mut().poll(&mut cx).map(Some),
                TaskBody::Spawned(f) => f.as_mut().poll(&mut cx).map(|()| None),
            }));
        with_active(|a| {
            if let Some(a) = a {
                a.host = None;
            }
        });
        let done = match outcome {
            Ok(Poll::Pending) => return Polled::Pending,
            Ok(Poll::Ready(Some(r))) => Polled::MainDone(host, r),
            Ok(Poll::Ready(None)) => Polled::SpawnedDone,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_string());
                Polled::Panicked(host, msg)
            }
        };
        self.remove(id.0);
        done
    }

    fn remove(&mut self, slot: usize) -> Option<Task> {
        let t = self.slots.get_mut(slot)?.take();
        if t.is_some() {
            self.free.push(slot);
        }
        t
    }

    /// Remove every task of `host`; they are returned so they are dropped outside any
    /// borrow (dropping them closes their sockets).
    pub(crate) fn take_host(&mut self, host: HostIx) -> Vec<Task> {
        self.take_where(|t| t.host == host)
    }

    /// Remove the task in the lowest slot (for dropping them one by one, in slot order,
    /// as a dropped `take_all` list would, without building that list).
    pub(crate) fn take_first(&mut self) -> Option<Task> {
        let i = self.slots.iter().position(Option::is_some)?;
        self.remove(i)
    }

    fn take_where(&mut self, pick: impl Fn(&Task) -> bool) -> Vec<Task> {
        let mut out = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(&pick) {
                out.extend(slot.take());
                self.free.push(i);
            }
        }
        out
    }
}

// ---- what user code calls --------------------------------------------------------

/// Spawn a task on the current host (the host of the task calling it). It runs until
/// it finishes or its host crashes. Outside a simulation the future is dropped.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let state = Rc::new(RefCell::new(JoinState {
        value: None,
        done: false,
        waker: None,
    }));
    let slot = Rc::clone(&state);
    let task = async move {
        let guard = JoinGuard(Rc::clone(&slot));
        let v = future.await;
        slot.borrow_mut().value = Some(v);
        drop(guard);
    };
    with_active(|a| match a {
        Some(a) => {
            let host = a.host.unwrap_or(0);
            a.spawned.push((host, Box::pin(task)));
        }
        None => drop(task),
    });
    JoinHandle { state }
}

struct JoinState<T> {
    value: Option<T>,
    done: bool,
    waker: Option<Waker>,
}

/// Marks the task finished however it ends (returned, or dropped with its host).
struct JoinGuard<T>(Rc<RefCell<JoinState<T>>>);

impl<T> Drop for JoinGuard<T> {
    fn drop(&mut self) {
        let mut s = self.0.borrow_mut();
        s.done = true;
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }
}

/// Waits for a [`spawn`]ed task: its output, or `None` when the task was dropped (its
/// host crashed, or the simulation ended).
pub struct JoinHandle<T> {
    state: Rc<RefCell<JoinState<T>>>,
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle")
            .field("done", &self.state.borrow().done)
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = self.state.borrow_mut();
        if s.done || s.value.is_some() {
            return Poll::Ready(s.value.take());
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The simulation's clock (`Instant::now()` outside a simulation).
pub fn now() -> Instant {
    sim_now()
}

/// Sleep for `duration` of virtual time.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::until(sim_now() + duration)
}

/// Sleep until `deadline` (an instant of [`now`]'s clock).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::until(deadline)
}

/// [`timeout`] ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed;

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Run `future` for at most `duration` of virtual time.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut sleep = std::pin::pin!(sleep(duration));
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        sleep.as_mut().poll(cx).map(|()| Err(Elapsed))
    })
    .await
}

/// Yield to the other tasks once (they run before this one is polled again).
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Ask the running simulation to crash `host` (from inside a task): its tasks are
/// dropped and its sockets vanish without a FIN or an RST, after the current poll.
pub(crate) fn request(control: Control) {
    with_active(|a| {
        if let Some(a) = a {
            a.control.push(control);
        }
    });
}
