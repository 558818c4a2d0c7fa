//! `nodenet-smol`: Node.js's `net` module on smol / async-io.
//!
//! Every Node rule lives in `nodenet-core`; this crate only supplies async-io's reactor
//! and timers and smol's blocking pool to the shared driver in `nodenet`. The API is
//! the same in `nodenet-tokio` and (blocking) `nodenet-std`.
//!
//! ```
//! use nodenet_smol::{create_server, connect, ConnectOptions, ListenOptions, Endpoint,
//!                    ServerEvent, ServerOptions, SocketEvent};
//!
//! async_io::block_on(async {
//!     let mut server = create_server(ServerOptions::default());
//!     server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
//!     assert!(matches!(server.next_event().await, Some(ServerEvent::Listening)));
//!     let Some(Endpoint::Tcp(addr)) = server.address() else { panic!() };
//!
//!     // The client runs on its own thread; it connects once it is polled.
//!     std::thread::spawn(move || async_io::block_on(async move {
//!         let mut client = connect(ConnectOptions::tcp(addr.port(), "127.0.0.1")).unwrap();
//!         client.end_with("hello");
//!         while client.next_event().await.is_some() {}
//!     }));
//!     let Some(ServerEvent::Connection(mut conn)) = server.next_event().await else { panic!() };
//!     let mut got = Vec::new();
//!     while let Some(ev) = conn.next_event().await {
//!         if let SocketEvent::Data(d) = ev { got.extend_from_slice(&d); }
//!     }
//!     assert_eq!(got, b"hello");
//! });
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod io;
mod runtime;

pub use nodenet::driver::{Lookup, LookupOptions, StdListener, StdStream};
pub use nodenet_core::*;
pub use runtime::{SmolListener, SmolRuntime, SmolStream};

nodenet::backend_types!(SmolRuntime, SmolRuntime);
nodenet::async_api!();
