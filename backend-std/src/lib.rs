//! `nodenet-std`: Node.js's `net` module on blocking std sockets — no async runtime.
//!
//! Every Node rule lives in `nodenet-core`; this crate supplies a small `mio` reactor
//! per socket (and per server) to the shared driver in `nodenet`, and runs
//! getaddrinfo on a worker thread. `next_event()` blocks the calling thread until the
//! next event (the socket's timers become the wait's timeout). The API is the same as in
//! `nodenet-tokio` and `nodenet-smol`, minus `async`.
//!
//! ```
//! use nodenet_std::{create_server, connect, ConnectOptions, ListenOptions, Endpoint,
//!                   ServerEvent, ServerOptions, SocketEvent};
//!
//! let mut server = create_server(ServerOptions::default());
//! server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
//! assert!(matches!(server.next_event(), Some(ServerEvent::Listening)));
//! let Some(Endpoint::Tcp(addr)) = server.address() else { panic!() };
//!
//! // The client connects once it is polled: give it its own thread.
//! std::thread::spawn(move || {
//!     let mut client = connect(ConnectOptions::tcp(addr.port(), "127.0.0.1")).unwrap();
//!     client.end_with("hello");
//!     while client.next_event().is_some() {}
//! });
//! let Some(ServerEvent::Connection(mut conn)) = server.next_event() else { panic!() };
//! let mut got = Vec::new();
//! while let Some(ev) = conn.next_event() {
//!     if let SocketEvent::Data(d) = ev { got.extend_from_slice(&d); }
//! }
//! assert_eq!(got, b"hello");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod io;
mod reactor;
mod runtime;

pub use nodenet::driver::{Lookup, LookupOptions, StdListener, StdStream};
pub use nodenet_core::*;
pub use runtime::{StdRtListener, StdRtSource, StdRtStream, StdRuntime};

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use nodenet::driver::Runtime as _;

nodenet::backend_types!(StdRuntime, StdRuntime::new());

impl Socket {
    /// The next event, blocking the calling thread while driving the IO; `None` once
    /// nothing more can happen (after `Close`, or never connected).
    pub fn next_event(&mut self) -> Option<SocketEvent> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_event(cx))
    }
}

impl Socket {
    /// Beyond the shared API (blocking only, like `TcpStream::set_read_timeout`): the next
    /// event, waiting at most until `deadline`. `Poll::Pending` when the deadline passed
    /// first (the socket's IO was still checked once, so a past deadline polls without
    /// waiting); `Ready(None)` as `next_event`. With it one thread can drive several
    /// sockets, or hand control back periodically; the async backends get the same from
    /// their runtime's timeouts.
    ///
    /// ```
    /// use std::task::Poll;
    /// use std::time::{Duration, Instant};
    /// use nodenet_std::{create_server, ListenOptions, ServerEvent, ServerOptions};
    ///
    /// let mut server = create_server(ServerOptions::default());
    /// server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
    /// let soon = Instant::now() + Duration::from_secs(5);
    /// assert!(matches!(server.next_event_until(soon), Poll::Ready(Some(ServerEvent::Listening))));
    /// // Nobody connects: a due deadline returns at once.
    /// let t = Instant::now();
    /// assert!(server.next_event_until(t).is_pending());
    /// assert!(t.elapsed() < Duration::from_secs(1));
    /// ```
    pub fn next_event_until(&mut self, deadline: Instant) -> Poll<Option<SocketEvent>> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        until(&rt, deadline, |cx| driver.poll_event(cx))
    }
}

impl Server {
    /// Beyond the shared API (blocking only): the next event, waiting at most until
    /// `deadline` (see [`Socket::next_event_until`]).
    pub fn next_event_until(&mut self, deadline: Instant) -> Poll<Option<ServerEvent>> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        until(&rt, deadline, |cx| driver.poll_event(cx))
            .map(|e| e.map(|e| e.map(|driver| Socket { driver })))
    }
}

/// Poll `f` on `rt`'s reactor until it is ready or `deadline` passed; the reactor waits
/// for IO at least once (even for a past deadline) so readiness is always collected.
fn until<T>(
    rt: &StdRuntime,
    deadline: Instant,
    mut f: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let mut first = true;
    rt.block_on(|cx| match f(cx) {
        Poll::Ready(v) => Poll::Ready(Poll::Ready(v)),
        Poll::Pending if !first && Instant::now() >= deadline => Poll::Ready(Poll::Pending),
        Poll::Pending => {
            first = false;
            // Register the wait bound with the reactor; a bound already past registers
            // nothing (the wait would be unbounded), so use a short one in the future.
            let mut bound = deadline;
            while rt.poll_timer(&mut (), bound, cx).is_ready() {
                bound = Instant::now() + Duration::from_micros(100);
            }
            Poll::Pending
        }
    })
}

impl Server {
    /// The next event (`Listening`, `Connection(Socket)`, `Drop`, `Error`, `Close`),
    /// blocking while accepting; `None` once nothing more can happen.
    pub fn next_event(&mut self) -> Option<ServerEvent> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_event(cx))
            .map(|e| e.map(|driver| Socket { driver }))
    }

    /// Beyond Node: stop accepting, `end()` every open connection, destroy those still
    /// open at `deadline`, and return once all are closed. The connections' owners (their
    /// threads) must keep calling `next_event`; they are woken for the requests. Dropping
    /// a socket counts as closing it.
    pub fn shutdown(&mut self, deadline: std::time::Instant) {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_shutdown(cx, deadline))
    }
}
