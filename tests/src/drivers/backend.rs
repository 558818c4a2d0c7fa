//! The seam between the generic scenario driver ([`super::net`]) and one nodenet backend:
//! [`Backend`] names the backend's `Socket`/`Server` and forwards every call the
//! scenarios use; [`forward_backend_api!`](crate::forward_backend_api) writes those
//! forwards once for the three crates (their synchronous APIs are identical by
//! construction: the same macros of `nodenet` generate them). Only the way to wait for
//! the next event of several actors differs: async backends poll `next_event()` futures
//! (polling the actors' `next_event` futures together), the blocking one asks each socket with a deadline.
use std::io;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use nodenet::KeepAlive;
use nodenet::Lookup;
use nodenet_core::ServerEvent;
use nodenet_core::{
    ConnectOptions, Error, ListenOptions, ServerOptions, SocketEvent, SocketOptions,
};

use super::net::{Actor, ActorTable};

/// One event of one actor, as the backend reports it.
#[derive(Debug)]
pub enum Ev<S> {
    /// A socket event.
    Socket(SocketEvent),
    /// A server event (a `Connection` carries the accepted socket).
    Server(ServerEvent<S>),
}

/// A nodenet backend as the conformance driver sees it: the public API of `nodenet-std`,
/// `nodenet-smol` or `nodenet-tokio`, call for call.
pub trait Backend: Sized {
    /// The backend's `Socket`.
    type Socket: std::fmt::Debug;
    /// The backend's `Server`.
    type Server: std::fmt::Debug;

    /// `Socket::new`.
    fn socket_new(options: SocketOptions) -> Self::Socket;
    /// `Socket::set_lookup`.
    fn set_lookup(s: &mut Self::Socket, lookup: impl Lookup);
    /// `Socket::connect`.
    fn connect(s: &mut Self::Socket, options: ConnectOptions) -> nodenet_core::Result<()>;
    /// `Socket::write`.
    fn write(s: &mut Self::Socket, data: Bytes) -> bool;
    /// `Socket::end`.
    fn end(s: &mut Self::Socket) -> nodenet_core::Result<()>;
    /// `Socket::end_with`.
    fn end_with(s: &mut Self::Socket, data: Bytes) -> bool;
    /// `Socket::destroy`.
    fn destroy(s: &mut Self::Socket, err: Option<Error>);
    /// `Socket::destroy_soon`.
    fn destroy_soon(s: &mut Self::Socket);
    /// `Socket::reset_and_destroy`.
    fn reset_and_destroy(s: &mut Self::Socket) -> nodenet_core::Result<()>;
    /// `Socket::pause`.
    fn pause(s: &mut Self::Socket);
    /// `Socket::resume`.
    fn resume(s: &mut Self::Socket);
    /// `Socket::set_timeout`.
    fn set_timeout(s: &mut Self::Socket, ms: f64) -> nodenet_core::Result<()>;
    /// `Socket::set_no_delay`.
    fn set_no_delay(s: &mut Self::Socket, enable: bool);
    /// `Socket::set_keep_alive`.
    fn set_keep_alive(s: &mut Self::Socket, enable: bool, initial_delay_ms: f64);
    /// `Socket::core`: every Node getter.
    fn socket_core(s: &Self::Socket) -> &nodenet_core::Socket;
    /// `Socket::keep_alive_settings` (getsockopt).
    fn keep_alive_settings(s: &Self::Socket) -> Option<io::Result<(KeepAlive, bool)>>;

    /// `Server::new`.
    fn server_new(options: ServerOptions) -> Self::Server;
    /// `Server::listen`.
    fn listen(s: &mut Self::Server, options: ListenOptions) -> nodenet_core::Result<()>;
    /// `Server::close`.
    fn close(s: &mut Self::Server) -> nodenet_core::Result<()>;
    /// `Server::core`: `listening`, `address`, `max_connections`.
    fn server_core(s: &Self::Server) -> &nodenet_core::Server;
    /// `Server::connections`.
    fn connections(s: &Self::Server) -> usize;
    /// `Server::set_max_connections`.
    fn set_max_connections(s: &mut Self::Server, max: Option<u32>);

    /// The backend's short name (`tokio`, `smol`, `std`).
    fn name(&self) -> &'static str;

    /// Wait until `deadline` for the next event of any live actor of `table` (visiting
    /// them in rotation so no actor starves); `None` when the deadline passed first.
    /// An actor whose `next_event` returned `None` is marked finished.
    fn next_event(
        &mut self,
        table: &mut ActorTable<Self>,
        deadline: Instant,
    ) -> Option<(String, Ev<Self::Socket>)>;

    /// The event `actor` has available right now, without waiting (`None`: nothing now,
    /// or finished). The driver asks for it after an event Node always follows
    /// synchronously with another (`connect` then `ready`), so that a script step
    /// waiting for the first runs after both, as in Node.
    fn poll_now(&mut self, table: &mut ActorTable<Self>, actor: &str) -> Option<Ev<Self::Socket>>;
}

/// How an async backend polls one actor once: a fresh `next_event()` future, which is
/// cancel-safe (a `poll_fn` over the shared driver: dropping it loses nothing).
pub trait PollActor<B: Backend> {
    /// Poll a socket's `next_event()` once.
    fn poll_socket(s: &mut B::Socket, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>>;
    /// Poll a server's `next_event()` once.
    fn poll_server(s: &mut B::Server, cx: &mut Context<'_>)
        -> Poll<Option<ServerEvent<B::Socket>>>;

    /// Poll one actor once (`Ready(None)`: it is finished).
    fn poll_actor(actor: &mut Actor<B>, cx: &mut Context<'_>) -> Poll<Option<Ev<B::Socket>>> {
        match actor {
            Actor::Socket(s) => Self::poll_socket(s, cx).map(|e| e.map(Ev::Socket)),
            Actor::Server(s) => Self::poll_server(s, cx).map(|e| e.map(Ev::Server)),
        }
    }

    /// Poll every live actor once, in rotation; the first event found.
    fn poll_any(table: &mut ActorTable<B>, cx: &mut Context<'_>) -> Poll<(String, Ev<B::Socket>)> {
        table.visit(|actor| Self::poll_actor(actor, cx))
    }
}

/// Implements the forwarding part of [`Backend`] for one backend crate (`$b`): every
/// method is the backend's own method of the same name.
#[macro_export]
#[doc(hidden)]
macro_rules! forward_backend_api {
    ($b:ident) => {
        type Socket = $b::Socket;
        type Server = $b::Server;

        fn socket_new(options: nodenet_core::SocketOptions) -> $b::Socket {
            $b::Socket::new(options)
        }
        fn set_lookup(s: &mut $b::Socket, lookup: impl nodenet::Lookup) {
            s.set_lookup(lookup)
        }
        fn connect(
            s: &mut $b::Socket,
            options: nodenet_core::ConnectOptions,
        ) -> nodenet_core::Result<()> {
            s.connect(options)
        }
        fn write(s: &mut $b::Socket, data: bytes::Bytes) -> bool {
            s.write(data)
        }
        fn end(s: &mut $b::Socket) -> nodenet_core::Result<()> {
            s.end()
        }
        fn end_with(s: &mut $b::Socket, data: bytes::Bytes) -> bool {
            s.end_with(data)
        }
        fn destroy(s: &mut $b::Socket, err: Option<nodenet_core::Error>) {
            s.destroy(err)
        }
        fn destroy_soon(s: &mut $b::Socket) {
            s.destroy_soon()
        }
        fn reset_and_destroy(s: &mut $b::Socket) -> nodenet_core::Result<()> {
            s.reset_and_destroy()
        }
        fn pause(s: &mut $b::Socket) {
            s.pause()
        }
        fn resume(s: &mut $b::Socket) {
            s.resume()
        }
        fn set_timeout(s: &mut $b::Socket, ms: f64) -> nodenet_core::Result<()> {
            s.set_timeout(ms)
        }
        fn set_no_delay(s: &mut $b::Socket, enable: bool) {
            s.set_no_delay(enable)
        }
        fn set_keep_alive(s: &mut $b::Socket, enable: bool, initial_delay_ms: f64) {
            s.set_keep_alive(enable, initial_delay_ms)
        }
        fn socket_core(s: &$b::Socket) -> &nodenet_core::Socket {
            s.core()
        }
        fn keep_alive_settings(
            s: &$b::Socket,
        ) -> Option<std::io::Result<(nodenet::KeepAlive, bool)>> {
            s.keep_alive_settings()
        }
        fn server_new(options: nodenet_core::ServerOptions) -> $b::Server {
            $b::Server::new(options)
        }
        fn listen(
            s: &mut $b::Server,
            options: nodenet_core::ListenOptions,
        ) -> nodenet_core::Result<()> {
            s.listen(options)
        }
        fn close(s: &mut $b::Server) -> nodenet_core::Result<()> {
            s.close()
        }
        fn server_core(s: &$b::Server) -> &nodenet_core::Server {
            s.core()
        }
        fn connections(s: &$b::Server) -> usize {
            s.connections()
        }
        fn set_max_connections(s: &mut $b::Server, max: Option<u32>) {
            s.set_max_connections(max)
        }
    };
}
