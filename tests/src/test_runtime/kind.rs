//! [`Drive`]: how a socket's events are awaited, decided by the runtime's kind. Async
//! runtimes poll `poll_event` under the caller's waker (and their own timers for a
//! deadline); the blocking runtime blocks inside `poll`, which is fine because a
//! blocking body has its thread to itself.
use std::future::{poll_fn, Future};
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet::runtime::{Async, AsyncRuntime, Blocking, BlockingRuntime, Runtime, RuntimeKind};
use nodenet::{ReadInto, Server, ServerEvent, Socket, SocketEvent};

/// How sockets and servers of runtime `R`, whose kind is `Self`, are driven from a
/// test. Implemented for [`Async`] (every async runtime, the simulation runtime
/// included) and [`Blocking`] (nodenet-std); nothing else implements it.
pub trait Drive<R: Runtime>: RuntimeKind + Sized {
    /// The socket's next event.
    fn next_socket(
        s: &mut Socket<R, Self>,
    ) -> impl Future<Output = Option<SocketEvent>> + Send + '_;

    /// The server's next event.
    fn next_server(
        s: &mut Server<R, Self>,
    ) -> impl Future<Output = Option<ServerEvent<R>>> + Send + '_;

    /// The socket's next event, or `None` once `deadline` passed first.
    fn next_socket_until(
        s: &mut Socket<R, Self>,
        deadline: Instant,
    ) -> impl Future<Output = Option<Option<SocketEvent>>> + Send + '_;

    /// The server's next event, or `None` once `deadline` passed first.
    fn next_server_until(
        s: &mut Server<R, Self>,
        deadline: Instant,
    ) -> impl Future<Output = Option<Option<ServerEvent<R>>>> + Send + '_;

    /// `server.shutdown(deadline)`.
    fn shutdown(s: &mut Server<R, Self>, deadline: Instant)
        -> impl Future<Output = ()> + Send + '_;

    /// `socket.next_event_into(buf)` (Node's `onread`: reads land in `buf`).
    fn next_socket_into<'a>(
        s: &'a mut Socket<R, Self>,
        buf: &'a mut [u8],
    ) -> impl Future<Output = Option<ReadInto>> + Send + 'a;

    /// `server.close_and_wait()` (Node's `server[Symbol.asyncDispose]()`).
    fn close_and_wait(s: &mut Server<R, Self>) -> impl Future<Output = ()> + Send + '_;

    /// `socket.connected()`: `Ok` at `Connect`, or the connect error.
    fn connected(s: &mut Socket<R, Self>) -> impl Future<Output = nodenet::Result<()>> + Send + '_;

    /// `server.listened()`: `Ok` at `Listening`, or the listen error.
    fn listened(s: &mut Server<R, Self>) -> impl Future<Output = nodenet::Result<()>> + Send + '_;

    /// Check a socket once for an event without waiting for one, so that one caller can
    /// watch several (the conformance driver). Async: `poll_event` under `cx`'s waker.
    /// Blocking: collect the IO that is ready (`next_event_until` a deadline already due).
    fn poll_socket(s: &mut Socket<R, Self>, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>>;

    /// [`poll_socket`](Self::poll_socket) reading into `buf` (Node's `onread`):
    /// `poll_event_into` / `next_event_into_until`.
    fn poll_socket_into(
        s: &mut Socket<R, Self>,
        buf: &mut [u8],
        cx: &mut Context<'_>,
    ) -> Poll<Option<ReadInto>>;

    /// [`poll_socket`](Self::poll_socket) for a server.
    fn poll_server(s: &mut Server<R, Self>, cx: &mut Context<'_>) -> Poll<Option<ServerEvent<R>>>;

    /// Wait until `check` (which calls [`poll_socket`](Self::poll_socket) /
    /// [`poll_server`](Self::poll_server) on several actors) finds something: its
    /// `Some(value)`, or `None` once `deadline` passed or `check` said there is nothing to
    /// wait for (`Ready(None)`).
    fn wait_any<T>(
        deadline: Instant,
        check: impl FnMut(&mut Context<'_>) -> Poll<Option<T>>,
    ) -> impl Future<Output = Option<T>>;
}

/// Poll `f`, then the runtime's timer for `deadline`: `Some(value)` first, or `None` at
/// the deadline. The timer is created at the first `Pending`, in the runtime's time.
fn with_deadline<R: Runtime, T>(
    rt: R,
    deadline: Instant,
    mut f: impl FnMut(&mut Context<'_>) -> Poll<Option<T>>,
) -> impl Future<Output = Option<T>> {
    let mut timer = None;
    poll_fn(move |cx| {
        if let Poll::Ready(v) = f(cx) {
            return Poll::Ready(v);
        }
        let t = timer.get_or_insert_with(|| rt.timer(deadline));
        rt.poll_timer(t, deadline, cx).map(|()| None)
    })
}

impl<R: AsyncRuntime + Default> Drive<R> for Async {
    fn next_socket(
        s: &mut Socket<R, Async>,
    ) -> impl Future<Output = Option<SocketEvent>> + Send + '_ {
        s.next_event()
    }

    fn next_server(
        s: &mut Server<R, Async>,
    ) -> impl Future<Output = Option<ServerEvent<R>>> + Send + '_ {
        s.next_event()
    }

    fn next_socket_until(
        s: &mut Socket<R, Async>,
        deadline: Instant,
    ) -> impl Future<Output = Option<Option<SocketEvent>>> + Send + '_ {
        let rt = s.runtime().clone();
        with_deadline(rt, deadline, move |cx| s.poll_event(cx).map(Some))
    }

    fn next_server_until(
        s: &mut Server<R, Async>,
        deadline: Instant,
    ) -> impl Future<Output = Option<Option<ServerEvent<R>>>> + Send + '_ {
        let rt = s.runtime().clone();
        with_deadline(rt, deadline, move |cx| s.poll_event(cx).map(Some))
    }

    fn shutdown(
        s: &mut Server<R, Async>,
        deadline: Instant,
    ) -> impl Future<Output = ()> + Send + '_ {
        s.shutdown(deadline)
    }

    fn next_socket_into<'a>(
        s: &'a mut Socket<R, Async>,
        buf: &'a mut [u8],
    ) -> impl Future<Output = Option<ReadInto>> + Send + 'a {
        s.next_event_into(buf)
    }

    fn close_and_wait(s: &mut Server<R, Async>) -> impl Future<Output = ()> + Send + '_ {
        s.close_and_wait()
    }

    fn connected(
        s: &mut Socket<R, Async>,
    ) -> impl Future<Output = nodenet::Result<()>> + Send + '_ {
        s.connected()
    }

    fn listened(s: &mut Server<R, Async>) -> impl Future<Output = nodenet::Result<()>> + Send + '_ {
        s.listened()
    }

    fn poll_socket(s: &mut Socket<R, Async>, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        s.poll_event(cx)
    }

    fn poll_socket_into(
        s: &mut Socket<R, Async>,
        buf: &mut [u8],
        cx: &mut Context<'_>,
    ) -> Poll<Option<ReadInto>> {
        s.poll_event_into(cx, buf)
    }

    fn poll_server(s: &mut Server<R, Async>, cx: &mut Context<'_>) -> Poll<Option<ServerEvent<R>>> {
        s.poll_event(cx)
    }

    fn wait_any<T>(
        deadline: Instant,
        check: impl FnMut(&mut Context<'_>) -> Poll<Option<T>>,
    ) -> impl Future<Output = Option<T>> {
        with_deadline(R::default(), deadline, check)
    }
}

impl<R: BlockingRuntime> Drive<R> for Blocking {
    async fn next_socket(s: &mut Socket<R, Blocking>) -> Option<SocketEvent> {
        s.next_event()
    }

    async fn next_server(s: &mut Server<R, Blocking>) -> Option<ServerEvent<R>> {
        s.next_event()
    }

    async fn next_socket_until(
        s: &mut Socket<R, Blocking>,
        deadline: Instant,
    ) -> Option<Option<SocketEvent>> {
        ready(s.next_event_until(deadline))
    }

    async fn next_server_until(
        s: &mut Server<R, Blocking>,
        deadline: Instant,
    ) -> Option<Option<ServerEvent<R>>> {
        ready(s.next_event_until(deadline))
    }

    async fn shutdown(s: &mut Server<R, Blocking>, deadline: Instant) {
        s.shutdown(deadline)
    }

    async fn next_socket_into<'a>(
        s: &'a mut Socket<R, Blocking>,
        buf: &'a mut [u8],
    ) -> Option<ReadInto> {
        s.next_event_into(buf)
    }

    async fn close_and_wait(s: &mut Server<R, Blocking>) {
        s.close_and_wait()
    }

    async fn connected(s: &mut Socket<R, Blocking>) -> nodenet::Result<()> {
        s.connected()
    }

    async fn listened(s: &mut Server<R, Blocking>) -> nodenet::Result<()> {
        s.listened()
    }

    fn poll_socket(s: &mut Socket<R, Blocking>, _: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        s.next_event_until(Instant::now())
    }

    fn poll_socket_into(
        s: &mut Socket<R, Blocking>,
        buf: &mut [u8],
        _: &mut Context<'_>,
    ) -> Poll<Option<ReadInto>> {
        s.next_event_into_until(buf, Instant::now())
    }

    fn poll_server(
        s: &mut Server<R, Blocking>,
        _: &mut Context<'_>,
    ) -> Poll<Option<ServerEvent<R>>> {
        s.next_event_until(Instant::now())
    }

    fn wait_any<T>(
        deadline: Instant,
        mut check: impl FnMut(&mut Context<'_>) -> Poll<Option<T>>,
    ) -> impl Future<Output = Option<T>> {
        // Each check of a live actor waits briefly in that actor's own reactor
        // (`next_event_until` waits for IO at least once), so this loop does not spin
        // while anyone is live; with nobody left `check` says so and the wait ends.
        poll_fn(move |cx| loop {
            if let Poll::Ready(v) = check(cx) {
                return Poll::Ready(v);
            }
            if Instant::now() >= deadline {
                return Poll::Ready(None);
            }
        })
    }
}

/// `Poll` (from a blocking `next_event_until`) as `next_until`'s answer.
fn ready<T>(p: Poll<T>) -> Option<T> {
    match p {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}
