//! The shared loopback suite of the backends (`nodenet/testsuite/loopback.rs`), unchanged,
//! on the simulation runtime: every test body runs on a simulated host in virtual time
//! (see `harness/sim.rs` for the few that need OS sockets or Unix domain sockets).

#![allow(unused_imports, dead_code)]

use nodenet::{
    BlockList, Bytes, ConnectOptions, Endpoint, Error, ErrorCode, Family, KeepAlive, ListenOptions,
    Lookup, LookupAddress, LookupOptions, ReadyState, ServerOptions, SocketEvent, SocketOptions,
    WriteId, WriteResult,
};
use nodenet_sim::runtime::{
    connect, create_connection, create_server, Server, ServerEvent, Socket,
};

include!("harness/sim.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/loopback.rs");
