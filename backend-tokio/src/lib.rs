//! `nodenet-tokio`: Node.js's `net` module on tokio.
//!
//! Every Node rule lives in `nodenet-core`; this crate only supplies tokio's reactor,
//! timers and blocking pool to the shared driver in `nodenet`. The API is the same
//! in `nodenet-smol` and (blocking) `nodenet-std`.
//!
//! ```
//! use nodenet_tokio::{create_server, connect, ConnectOptions, ListenOptions, Endpoint,
//!                     ServerEvent, ServerOptions, SocketEvent};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut server = create_server(ServerOptions::default());
//! server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
//! assert!(matches!(server.next_event().await, Some(ServerEvent::Listening)));
//! let Some(Endpoint::Tcp(addr)) = server.address() else { panic!() };
//!
//! // The client connects once it is polled: give it its own task.
//! let mut client = connect(ConnectOptions::tcp(addr.port(), "127.0.0.1")).unwrap();
//! client.end_with("hello");
//! tokio::spawn(async move { while client.next_event().await.is_some() {} });
//! let Some(ServerEvent::Connection(mut conn)) = server.next_event().await else { panic!() };
//! let mut got = Vec::new();
//! while let Some(ev) = conn.next_event().await {
//!     if let SocketEvent::Data(d) = ev { got.extend_from_slice(&d); }
//! }
//! assert_eq!(got, b"hello");
//! # });
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod io;
mod runtime;

pub use nodenet::driver::{Lookup, LookupOptions, StdListener, StdStream};
pub use nodenet_core::*;
pub use runtime::{TokioListener, TokioRuntime, TokioStream};

nodenet::backend_types!(TokioRuntime, TokioRuntime);
nodenet::async_api!();
