//! The one seam between a test body and the runtime it runs on: [`TestRuntime`].
//!
//! A test body is a plain `async fn name<R: TestRuntime>()`: it creates
//! [`nodenet::Socket<R>`](nodenet::Socket) and [`nodenet::Server<R>`](nodenet::Server)
//! and calls their methods directly, waits for their events with [`next`] /
//! [`next_until`], runs the other side of a scenario with [`TestRuntime::spawn`] and waits
//! with [`TestRuntime::sleep`]. The same body then runs on every runtime:
//!
//! * `TokioRuntime`: the body on a 2-worker tokio runtime, `spawn` is `tokio::spawn`.
//! * `SmolRuntime`: the body on `async_io::block_on`, `spawn` puts a task on a 2-thread
//!   `async_executor` shared by the test binary.
//! * `StdRuntime` (blocking): the body on a thread-parking `block_on`; awaiting a
//!   socket's next event simply blocks inside `poll` (the body has its thread to itself),
//!   and `spawn` starts a thread.
//! * `SimRuntime` (`nodenet_sim::runtime`): the body in a fresh deterministic simulation,
//!   as the program of one simulated host, in virtual time; `spawn` is a task on that
//!   host (see [`SimSettings`]).
//!
//! Only how to wait for a socket's event differs between async and blocking runtimes,
//! and that is decided by the runtime's [`Kind`](nodenet::Runtime::Kind) through
//! [`Drive`], implemented once for [`Async`](nodenet::runtime::Async) and once for
//! [`Blocking`](nodenet::runtime::Blocking). A new runtime (the deterministic simulation
//! runtime did) therefore plugs in by implementing [`TestRuntime`]'s four items —
//! `NAME`, `block_on`, `spawn`, `sleep` (and `socket_file_mode` when its Unix socket
//! files are not the machine's); bodies take their deadlines from the runtime's
//! own clock, [`Runtime::now`] (virtual time on a simulation), and [`next_until`] waits
//! on the runtime's own timer.
use std::future::Future;
use std::time::{Duration, Instant};

use nodenet::{ReadInto, Runtime, Server, ServerEvent, Socket, SocketEvent};

mod kind;
mod sim_rt;
mod smol_rt;
mod std_rt;
mod tokio_rt;

pub use kind::Drive;
pub use sim_rt::{with_sim_settings, SimSettings, SimTask, SIM_HOST};
pub use smol_rt::SmolTask;
pub use std_rt::ThreadTask;
pub use tokio_rt::TokioTask;

/// A nodenet [`Runtime`] as the shared test bodies use it: how to run a body, run
/// something beside it, and let time pass. Implemented on the runtime handle types
/// themselves (`nodenet_tokio::TokioRuntime`, `nodenet_smol::SmolRuntime`,
/// `nodenet_std::StdRuntime`), so a body names its sockets `Socket<R>`.
///
/// The bound `Kind: Drive<Self>` is what lets [`next`] work on `Socket<R>` for every
/// `R: TestRuntime`: both kinds implement it, so every runtime meets it by itself.
pub trait TestRuntime: Runtime<Kind: Drive<Self>> + Default {
    /// Short name for messages and test output (`tokio`, `smol`, `std`).
    const NAME: &'static str;

    /// What [`spawn`](Self::spawn) returns: awaiting it gives the task's output (a panic
    /// in the task panics the awaiting body); dropping it lets the task run on.
    type Task<T: Send + 'static>: Future<Output = T> + Send + 'static;

    /// Run `body` to completion on the calling thread (a whole test body, or one
    /// conformance scenario).
    fn block_on<F: Future>(body: F) -> F::Output;

    /// Run `task` concurrently with the caller (a task on the runtime; a thread for a
    /// blocking runtime). Call it from inside [`block_on`](Self::block_on).
    fn spawn<F>(task: F) -> Self::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Let `duration` pass (in the runtime's time; the deadlines and durations a body
    /// computes read the same clock, [`Runtime::now`]).
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;

    /// `stat(path).st_mode` of a Unix socket file as the runtime's sockets see the
    /// filesystem (`None`: no such file): the machine's for OS runtimes (the default),
    /// the simulated host's for the simulation runtime. Called from inside
    /// [`block_on`](Self::block_on).
    fn socket_file_mode(path: &str) -> Option<u32> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).ok().map(|m| m.permissions().mode())
    }
}

/// Something with events to wait for: a [`Socket<R>`] or a [`Server<R>`] of a
/// [`TestRuntime`]. Use it through [`next`] and [`next_until`].
pub trait Events {
    /// `SocketEvent` or `ServerEvent<R>`.
    type Event;

    /// The next event (`None`: nothing more can happen).
    fn next_event_of(&mut self) -> impl Future<Output = Option<Self::Event>> + Send + '_;

    /// The next event, or `None` once `deadline` passed first.
    fn next_event_until(
        &mut self,
        deadline: Instant,
    ) -> impl Future<Output = Option<Option<Self::Event>>> + Send + '_;
}

impl<R: TestRuntime> Events for Socket<R> {
    type Event = SocketEvent;

    fn next_event_of(&mut self) -> impl Future<Output = Option<SocketEvent>> + Send + '_ {
        <R::Kind as Drive<R>>::next_socket(self)
    }

    fn next_event_until(
        &mut self,
        deadline: Instant,
    ) -> impl Future<Output = Option<Option<SocketEvent>>> + Send + '_ {
        <R::Kind as Drive<R>>::next_socket_until(self, deadline)
    }
}

impl<R: TestRuntime> Events for Server<R> {
    type Event = ServerEvent<R>;

    fn next_event_of(&mut self) -> impl Future<Output = Option<ServerEvent<R>>> + Send + '_ {
        <R::Kind as Drive<R>>::next_server(self)
    }

    fn next_event_until(
        &mut self,
        deadline: Instant,
    ) -> impl Future<Output = Option<Option<ServerEvent<R>>>> + Send + '_ {
        <R::Kind as Drive<R>>::next_server_until(self, deadline)
    }
}

/// `socket.next_event()` / `server.next_event()` on any runtime: `.await` it in a body.
pub fn next<E: Events>(source: &mut E) -> impl Future<Output = Option<E::Event>> + Send + '_ {
    source.next_event_of()
}

/// The next event, or `None` when `deadline` passed first (`Some(None)`: nothing more
/// can happen).
pub fn next_until<E: Events>(
    source: &mut E,
    deadline: Instant,
) -> impl Future<Output = Option<Option<E::Event>>> + Send + '_ {
    source.next_event_until(deadline)
}

/// `server.shutdown(deadline)` on any runtime (beyond Node: end every connection,
/// destroy those still open at `deadline`, return once all are closed).
pub fn shutdown<R: TestRuntime>(
    server: &mut Server<R>,
    deadline: Instant,
) -> impl Future<Output = ()> + Send + '_ {
    <R::Kind as Drive<R>>::shutdown(server, deadline)
}

/// `socket.next_event_into(buf)` on any runtime (Node's `onread`): the next read, landed
/// in `buf`, or the next other event.
pub fn next_into<'a, R: TestRuntime>(
    socket: &'a mut Socket<R>,
    buf: &'a mut [u8],
) -> impl Future<Output = Option<ReadInto>> + Send + 'a {
    <R::Kind as Drive<R>>::next_socket_into(socket, buf)
}

/// `server.close_and_wait()` on any runtime (Node's `server[Symbol.asyncDispose]()`):
/// close, and return once every connection closed.
pub fn close_and_wait<R: TestRuntime>(
    server: &mut Server<R>,
) -> impl Future<Output = ()> + Send + '_ {
    <R::Kind as Drive<R>>::close_and_wait(server)
}

/// `socket.connected()` on any runtime: `Ok` once the socket emitted `Connect` (the
/// events taken meanwhile are replayed by `next`), or the connect error.
pub fn connected<R: TestRuntime>(
    socket: &mut Socket<R>,
) -> impl Future<Output = nodenet::Result<()>> + Send + '_ {
    <R::Kind as Drive<R>>::connected(socket)
}

/// `server.listened()` on any runtime: `Ok` once the server emitted `Listening` (the
/// events taken meanwhile are replayed by `next_server`), or the listen error.
pub fn listened<R: TestRuntime>(
    server: &mut Server<R>,
) -> impl Future<Output = nodenet::Result<()>> + Send + '_ {
    <R::Kind as Drive<R>>::listened(server)
}
