//! `nodenet-core`: Node.js v20's `net` module as pure, IO-free state machines.
//!
//! This crate owns every Node rule: address parsing ([`is_ip`], [`SocketAddress`]),
//! [`BlockList`], Node's errors ([`Error`], [`ErrorCode`]) and argument validation, and the
//! socket and server lifecycles. It performs no IO, reads no clock and spawns nothing; the
//! backends (`nodenet-std`, `nodenet-smol`, `nodenet-tokio`) run it on real sockets and the
//! simulator (the `nodenet-sim` crate) runs it on a fake kernel.
//!
//! ```
//! use nodenet_core::{is_ip, BlockList};
//! assert_eq!(is_ip("::ffff:127.0.0.1"), 6);
//! let mut list = BlockList::new();
//! list.add_subnet("10.0.0.0", 8, "ipv4").unwrap();
//! assert!(list.check("::ffff:10.1.2.3", "ipv6").unwrap());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod block_list;
pub mod defaults;
pub mod dns;
pub mod error;
pub mod happy_eyeballs;
pub mod ip;
pub mod options;
pub mod server;
pub mod socket;
pub mod validate;

pub use address::{Family, SocketAddress, SocketAddressOptions};
pub use block_list::{AddressArg, BlockList};
pub use defaults::{
    get_default_auto_select_family, get_default_auto_select_family_attempt_timeout,
    set_default_auto_select_family, set_default_auto_select_family_attempt_timeout,
};
pub use error::{Error, ErrorClass, ErrorCode, Result};
pub use ip::{is_ip, is_ipv4, is_ipv6};
pub use options::{AttemptId, Endpoint, LookupAddress, SocketOptions};
pub use server::{
    create_server, AcceptedConnection, ConnectionId, DropInfo, ListenOptions, Server,
    ServerCommand, ServerEvent, ServerOptions,
};
pub use socket::{Command, ConnectOptions, ReadyState, Socket, SocketEvent, WriteId, WriteResult};
pub use validate::{NumberArg, PortArg};
