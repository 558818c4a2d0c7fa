//! The OS operations of every OS-socket runtime, written once: the blanket
//! [`Runtime`], [`RtStream`] and [`RtListener`] implementations for the adapters'
//! [`OsRuntime`], [`OsStream`] and [`OsListener`]. Sockets are built with socket2
//! (libuv's options, `crate::tcp` and `crate::unix`), options and addresses are
//! `setsockopt`/`getsockname` on the descriptor, names are resolved with getaddrinfo on
//! the runtime's blocking pool. Everything here is monomorphised into the adapter's
//! types: the data path (`try_write_vectored`, `poll_read_chunk`) forwards straight to
//! the adapter.

use std::io::{self, IoSlice};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet_core::dns::GaiQuery;
use nodenet_core::{Endpoint, ErrorCode};
use socket2::SockRef;

use super::resolve::getaddrinfo;
use super::runtime::{
    BindOptions, BoxFuture, OsListener, OsRuntime, OsStream, ReadChunk, RtListener, RtStream,
    Runtime, StdListener, StdStream,
};
use super::socket::{accepted_tcp_endpoints, accepted_unix_endpoints, endpoints, fixed_local_addr};
use crate::{tcp_connect, tcp_listen, unix_connect, unix_listen, KeepAlive, Step, StepError};

impl<S: OsStream> RtStream for S {
    #[inline]
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        OsStream::try_write_vectored(self, bufs)
    }
    #[inline]
    fn poll_read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        drained: bool,
    ) -> Poll<io::Result<ReadChunk>> {
        OsStream::poll_read_chunk(self, cx, drained)
    }
    #[inline]
    fn poll_read_chunk_now(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ReadChunk>> {
        OsStream::poll_read_chunk_now(self, cx)
    }
    #[inline]
    fn read_chunk_again(
        &mut self,
        cx: &mut Context<'_>,
        drained: bool,
    ) -> Option<io::Result<ReadChunk>> {
        OsStream::read_chunk_again(self, cx, drained)
    }
    #[inline]
    fn poll_read_into(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        OsStream::poll_read_into(self, cx, buf)
    }
    #[inline]
    fn poll_read_into_now(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        OsStream::poll_read_into_now(self, cx, buf)
    }
    #[inline]
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        OsStream::poll_write_ready(self, cx)
    }
    fn has_unread(&self) -> bool {
        let flags = rustix::net::RecvFlags::PEEK | rustix::net::RecvFlags::DONTWAIT;
        let mut probe = [0u8; 1];
        matches!(rustix::net::recv(self, &mut probe, flags), Ok((n, _)) if n > 0)
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.as_fd())
    }
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        SockRef::from(self).take_error()
    }
    fn local_addr(&self) -> io::Result<Option<SocketAddr>> {
        SockRef::from(self).local_addr().map(|a| a.as_socket())
    }
    fn peer_addr(&self) -> io::Result<Option<SocketAddr>> {
        SockRef::from(self).peer_addr().map(|a| a.as_socket())
    }
    fn shutdown_write(&self) -> io::Result<()> {
        SockRef::from(self).shutdown(Shutdown::Write)
    }
    fn set_no_delay(&self, enable: bool) -> io::Result<()> {
        crate::set_no_delay(self, enable)
    }
    fn set_keep_alive(&self, enable: bool, initial_delay_secs: u32) -> io::Result<()> {
        crate::set_keep_alive(self, enable, initial_delay_secs)
    }
    fn set_linger_zero(&self) -> io::Result<()> {
        crate::set_linger_zero(self)
    }
    fn keep_alive_settings(&self) -> Option<io::Result<(KeepAlive, bool)>> {
        SockRef::from(self).local_addr().ok()?.as_socket()?;
        Some(crate::keep_alive_settings(self))
    }
}

/// An OS listener registered with its runtime, with what every connection it accepts
/// shares: the Unix path (the accepted sockets' local endpoint) and, for a TCP listener
/// bound to a specific address, that address (saves a `getsockname` per connection).
#[derive(Debug)]
pub struct OsRegistered<L> {
    listener: L,
    path: Option<String>,
    fixed_local: Option<SocketAddr>,
}

impl<L: OsListener> RtListener for OsRegistered<L> {
    type Accepted = StdStream;

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StdStream, Endpoint, Endpoint)>> {
        self.listener.poll_accept_from(cx).map_ok(|(s, peer)| {
            let (local, remote) = match &s {
                StdStream::Tcp(t) => accepted_tcp_endpoints(t, self.fixed_local, peer),
                StdStream::Unix(_) => accepted_unix_endpoints(&s, self.path.as_deref()),
            };
            (s, local, remote)
        })
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.listener.as_fd())
    }
}

impl<T: OsRuntime> Runtime for T {
    type Kind = T::Kind;
    type Stream = T::Stream;
    type Listener = OsRegistered<T::Listener>;
    type Bound = StdListener;
    type Timer = T::Timer;

    #[inline]
    fn for_connection(&self) -> Self {
        OsRuntime::for_connection(self)
    }
    #[inline]
    fn now() -> Instant {
        Instant::now()
    }
    fn connect(
        &self,
        endpoint: &Endpoint,
        local: Option<SocketAddr>,
    ) -> Result<T::Stream, StepError> {
        let started = match endpoint {
            Endpoint::Tcp(remote) => {
                tcp_connect(*remote, local, true).map(|s| StdStream::Tcp(s.stream))
            }
            Endpoint::Pipe(path) => unix_connect(path, true).map(|s| StdStream::Unix(s.stream)),
        }?;
        self.stream(started).map_err(StepError::at(Step::Connect))
    }
    fn bind(
        &self,
        endpoint: &Endpoint,
        options: BindOptions,
    ) -> Result<(StdListener, Option<Endpoint>), StepError> {
        let listener = match endpoint {
            Endpoint::Tcp(addr) => tcp_listen(
                *addr,
                options.backlog,
                options.ipv6_only,
                options.reuse_port,
                true,
            )
            .map(StdListener::Tcp),
            Endpoint::Pipe(path) => unix_listen(
                path,
                options.backlog,
                options.readable_all,
                options.writable_all,
                true,
            )
            .map(|l| StdListener::Unix(l, path.clone())),
        }?;
        let local = listener_endpoint(&listener);
        Ok((listener, local))
    }
    fn register_listener(&self, bound: StdListener) -> io::Result<Self::Listener> {
        let (path, fixed_local) = match &bound {
            StdListener::Unix(_, p) => (Some(p.clone()), None),
            // One getsockname per listener instead of one per connection.
            StdListener::Tcp(t) => (None, t.local_addr().ok().and_then(fixed_local_addr)),
        };
        Ok(OsRegistered {
            listener: self.listener(bound)?,
            path,
            fixed_local,
        })
    }
    fn register_accepted(&self, conn: StdStream) -> io::Result<T::Stream> {
        self.stream(conn)
    }
    fn getaddrinfo(&self, query: GaiQuery) -> BoxFuture<Option<Result<Vec<IpAddr>, ErrorCode>>> {
        self.unblock(move || getaddrinfo(&query))
    }
    fn unlink(&self, path: &str) {
        // No answer: the core's contract (libuv ignores the failure too).
        if let Some(file) = crate::unix::socket_file(path) {
            let _ = std::fs::remove_file(file);
        }
    }
    #[inline]
    fn spawn(&self, task: BoxFuture<()>) {
        OsRuntime::spawn(self, task)
    }
    #[inline]
    fn timer(&self, deadline: Instant) -> T::Timer {
        OsRuntime::timer(self, deadline)
    }
    #[inline]
    fn poll_timer(
        &self,
        timer: &mut T::Timer,
        deadline: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        OsRuntime::poll_timer(self, timer, deadline, cx)
    }
    fn stream_from_std(&self, stream: StdStream) -> io::Result<(T::Stream, Endpoint, Endpoint)> {
        stream.set_nonblocking(true)?;
        let (local, remote) = endpoints(&stream, None)?;
        Ok((self.stream(stream)?, local, remote))
    }
    fn stream_into_std(&self, stream: T::Stream) -> io::Result<StdStream> {
        self.unwrap_stream(stream)
    }
    fn listener_from_std(
        &self,
        listener: StdListener,
    ) -> io::Result<(StdListener, Option<Endpoint>)> {
        listener.set_nonblocking(true)?;
        let local = listener_endpoint(&listener);
        Ok((listener, local))
    }
    fn bound_into_std(&self, bound: StdListener) -> io::Result<StdListener> {
        Ok(bound)
    }
    fn bound_fd<'a>(&self, bound: &'a StdListener) -> Option<BorrowedFd<'a>> {
        Some(bound.as_fd())
    }
    fn listener_into_std(&self, listener: Self::Listener) -> io::Result<StdListener> {
        self.unwrap_listener(listener.listener, listener.path)
    }
}

/// The address a bound std listener reports (`address()`): `getsockname` for TCP, the
/// path for a Unix socket.
fn listener_endpoint(listener: &StdListener) -> Option<Endpoint> {
    match listener {
        StdListener::Tcp(t) => t.local_addr().map(Endpoint::Tcp).ok(),
        StdListener::Unix(_, path) => Some(Endpoint::Pipe(path.clone())),
    }
}
