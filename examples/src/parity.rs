//! Compile-time check that the three backends expose the same public API (in the style
//! of turmoil-net's parity test): every public function, method and type is named here
//! with its full signature, once per backend; only `next_event`/`shutdown` differ, by
//! `async`. A signature that drifts in one backend breaks the build of this crate.

#![allow(dead_code)]

use std::future::Future;
use std::time::Instant;

/// The signatures every backend shares, verbatim.
macro_rules! shared_api {
    ($b:ident) => {
        const _: () = {
            use bytes::Bytes;
            use $b as b;
            // Free functions.
            let _: fn(b::ConnectOptions) -> b::Result<b::Socket> = b::connect;
            let _: fn(b::ConnectOptions) -> b::Result<b::Socket> = b::create_connection;
            let _: fn(b::ServerOptions) -> b::Server = b::create_server;
            // Socket: construction and conversion.
            let _: fn(b::SocketOptions) -> b::Socket = b::Socket::new;
            let _: fn(std::net::TcpStream, b::SocketOptions) -> std::io::Result<b::Socket> =
                b::Socket::from_std;
            let _: fn(b::Socket) -> std::io::Result<Option<b::StdStream>> = b::Socket::into_std;
            // Socket: Node's methods.
            let _: fn(&mut b::Socket, b::ConnectOptions) -> b::Result<()> = b::Socket::connect;
            let _: fn(&mut b::Socket, Bytes) -> bool = b::Socket::write;
            let _: fn(&mut b::Socket) -> b::Result<()> = b::Socket::end;
            let _: fn(&mut b::Socket, Bytes) -> bool = b::Socket::end_with;
            let _: fn(&mut b::Socket, Option<b::Error>) = b::Socket::destroy;
            let _: fn(&mut b::Socket) = b::Socket::destroy_soon;
            let _: fn(&mut b::Socket) -> b::Result<()> = b::Socket::reset_and_destroy;
            let _: fn(&mut b::Socket) = b::Socket::pause;
            let _: fn(&mut b::Socket) = b::Socket::resume;
            let _: fn(&mut b::Socket, f64) -> b::Result<()> = b::Socket::set_timeout;
            let _: fn(&mut b::Socket, bool) = b::Socket::set_no_delay;
            let _: fn(&mut b::Socket, bool, f64) = b::Socket::set_keep_alive;
            let _: fn(&mut b::Socket, &str) -> b::Result<()> = b::Socket::set_encoding;
            // Socket: Node's getters.
            let _: fn(&b::Socket) -> b::ReadyState = b::Socket::ready_state;
            let _: fn(&b::Socket) -> bool = b::Socket::connecting;
            let _: fn(&b::Socket) -> bool = b::Socket::pending;
            let _: fn(&b::Socket) -> bool = b::Socket::destroyed;
            let _: fn(&b::Socket) -> u64 = b::Socket::bytes_read;
            let _: fn(&b::Socket) -> u64 = b::Socket::bytes_written;
            let _: fn(&b::Socket) -> usize = b::Socket::writable_length;
            let _: fn(&b::Socket) -> Option<std::net::IpAddr> = b::Socket::remote_address;
            let _: fn(&b::Socket) -> Option<u16> = b::Socket::remote_port;
            let _: fn(&b::Socket) -> Option<b::Family> = b::Socket::remote_family;
            let _: fn(&b::Socket) -> Option<std::net::IpAddr> = b::Socket::local_address;
            let _: fn(&b::Socket) -> Option<u16> = b::Socket::local_port;
            let _: fn(&b::Socket) -> Option<b::Family> = b::Socket::local_family;
            let _: fn(&b::Socket) -> Option<std::net::SocketAddr> = b::Socket::address;
            let _: fn(&b::Socket) -> Option<f64> = b::Socket::timeout;
            let _: fn(&b::Socket) -> Option<Vec<String>> =
                b::Socket::auto_select_family_attempted_addresses;
            let _: fn(&b::Socket) -> &nodenet_core::Socket = b::Socket::core;
            // Server.
            let _: fn(b::ServerOptions) -> b::Server = b::Server::new;
            let _: fn(std::net::TcpListener, b::ServerOptions) -> b::Result<b::Server> =
                b::Server::from_std;
            let _: fn(b::Server) -> std::io::Result<Option<b::StdListener>> = b::Server::into_std;
            let _: fn(&mut b::Server, b::ListenOptions) -> b::Result<()> = b::Server::listen;
            let _: fn(&mut b::Server) -> b::Result<()> = b::Server::close;
            let _: fn(&b::Server) -> Option<b::Endpoint> = b::Server::address;
            let _: fn(&b::Server) -> bool = b::Server::listening;
            let _: fn(&b::Server) -> usize = b::Server::connections;
            let _: fn(&b::Server) -> Option<u32> = b::Server::max_connections;
            let _: fn(&mut b::Server, Option<u32>) = b::Server::set_max_connections;
        };
    };
}

/// `next_event` / `shutdown` as `async fn`s with the shared output types.
macro_rules! async_api {
    ($b:ident) => {
        const _: () = {
            use $b as b;
            fn socket_next(s: &mut b::Socket) -> impl Future<Output = Option<b::SocketEvent>> + '_ {
                s.next_event()
            }
            fn server_next(s: &mut b::Server) -> impl Future<Output = Option<b::ServerEvent>> + '_ {
                s.next_event()
            }
            fn shutdown(s: &mut b::Server, deadline: Instant) -> impl Future<Output = ()> + '_ {
                s.shutdown(deadline)
            }
        };
    };
}

// The core types are the same items in every backend.
const _: fn(nodenet_std::SocketEvent) -> nodenet_tokio::SocketEvent = |e| e;
const _: fn(nodenet_smol::SocketEvent) -> nodenet_tokio::SocketEvent = |e| e;
const _: fn(nodenet_std::Error) -> nodenet_smol::Error = |e| e;
const _: fn(nodenet_std::ConnectOptions) -> nodenet_smol::ConnectOptions = |o| o;
const _: fn(nodenet_tokio::ListenOptions) -> nodenet_smol::ListenOptions = |o| o;

shared_api!(nodenet_std);
shared_api!(nodenet_smol);
shared_api!(nodenet_tokio);
async_api!(nodenet_smol);
async_api!(nodenet_tokio);

// The blocking backend: the same signatures without `async`.
const _: () = {
    use nodenet_std as b;
    let _: fn(&mut b::Socket) -> Option<b::SocketEvent> = b::Socket::next_event;
    let _: fn(&mut b::Server) -> Option<b::ServerEvent> = b::Server::next_event;
    let _: fn(&mut b::Server, Instant) = b::Server::shutdown;
};

// Each backend's runtime IO traits, and `Send` so sockets move between tasks/threads.
const _: fn() = io_traits;
fn io_traits() {
    fn std_io<T: std::io::Read + std::io::Write + Send>() {}
    fn futures_io<T: futures_io::AsyncRead + futures_io::AsyncWrite + Send + Unpin>() {}
    fn tokio_io<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin>() {}
    fn send<T: Send>() {}
    std_io::<nodenet_std::Socket>();
    futures_io::<nodenet_smol::Socket>();
    tokio_io::<nodenet_tokio::Socket>();
    send::<nodenet_std::Server>();
    send::<nodenet_smol::Server>();
    send::<nodenet_tokio::Server>();
}
