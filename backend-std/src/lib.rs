//! `nodenet-std`: Node.js's `net` module on blocking std sockets — no async runtime.
//!
//! Every Node rule lives in `nodenet-core`; this crate supplies a small `mio` reactor
//! per socket (and per server) to the shared driver in `nodenet-sys`, and runs
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

pub use nodenet_core::*;
pub use nodenet_sys::driver::{Lookup, LookupOptions, StdListener, StdStream};
pub use runtime::{StdRtListener, StdRtSource, StdRtStream, StdRuntime};

nodenet_sys::backend_types!(StdRuntime, StdRuntime::new());

impl Socket {
    /// The next event, blocking the calling thread while driving the IO; `None` once
    /// nothing more can happen (after `Close`, or never connected).
    pub fn next_event(&mut self) -> Option<SocketEvent> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_event(cx))
    }
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
