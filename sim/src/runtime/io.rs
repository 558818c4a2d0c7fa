//! [`SimRuntime`]: nodenet's [`Runtime`] over the simulated kernel. A handle names the
//! simulated host its sockets live on; streams, listeners and timers are indices into
//! the kernel behind the simulation's shared lock, so the generic driver — the same
//! code tokio, smol and std run — performs its connects, reads, writes, options and
//! timers in virtual time. Each socket gets its own handle (`for_connection`, a clone,
//! or `Default` inside a host's task), which is how the invariant checker tells sockets
//! apart (see `observe`).

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nodenet::runtime::{
    Async, BindOptions, BoxFuture, Observed, ObservedServer, ReadChunk, RtListener, RtStream,
    Runtime, StdListener, StdStream, Step, StepError,
};
use nodenet::KeepAlive;
use nodenet_core::dns::GaiQuery;
use nodenet_core::{Endpoint, ErrorCode, WriteId};

use super::exec::{current, with_active};
use super::kernel::{ConnId, HostIx, ListenerId, Shared, SockId, SockState};
use super::observe::ServerObservation;
use super::tcp::os_error;
use crate::check::{ServerId, SocketId};

/// nodenet's [`Runtime`] on a simulated host: `nodenet::Socket<SimRuntime>` is a socket
/// of the simulation (named [`Socket`](crate::runtime::Socket) in this crate).
///
/// Inside a host's task, `SimRuntime::default()` (and so `Socket::new`,
/// [`connect`](crate::runtime::connect), [`create_server`](crate::runtime::create_server))
/// is a handle on that host. Outside a simulation every operation fails with
/// `ENOTSUP`.
#[derive(Debug)]
pub struct SimRuntime {
    pub(crate) shared: Option<Arc<Shared>>,
    pub(crate) host: HostIx,
    /// This handle's identity for the invariant checker.
    pub(crate) probe: u32,
}

impl SimRuntime {
    pub(crate) fn on(shared: Arc<Shared>, host: HostIx) -> SimRuntime {
        let probe = shared.next_probe.fetch_add(1, Ordering::Relaxed);
        SimRuntime {
            shared: Some(shared),
            host,
            probe,
        }
    }

    fn shared(&self) -> io::Result<&Arc<Shared>> {
        self.shared
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "not inside a simulation"))
    }

    /// `stat(path).st_mode` of the Unix socket file at `path` on this handle's host
    /// (`S_IFSOCK` and the permission bits), or `None` when the host has no socket file
    /// there (also outside a simulation). The simulated filesystem holds socket files
    /// only: a server listening on a path creates one, its `close()` unlinks it, and one
    /// left behind (a crashed host's) stays until unlinked.
    pub fn socket_file_mode(&self, path: &str) -> Option<u32> {
        let shared = self.shared.as_ref()?;
        shared.lock().socket_file_mode(self.host, path)
    }

    /// The name of the simulated host this handle is on (empty outside a simulation).
    pub fn host_name(&self) -> String {
        match &self.shared {
            Some(s) => s.lock().hosts[self.host].name.clone(),
            None => String::new(),
        }
    }
}

impl Default for SimRuntime {
    /// A handle on the host whose task is running (inside [`Sim::run`](crate::runtime::Sim::run)).
    fn default() -> SimRuntime {
        match current() {
            Some((shared, host)) => SimRuntime::on(shared, host),
            None => SimRuntime {
                shared: None,
                host: 0,
                probe: u32::MAX,
            },
        }
    }
}

impl Clone for SimRuntime {
    /// Another handle on the same host (a new identity for the checker: a handle is
    /// cloned to drive another socket).
    fn clone(&self) -> SimRuntime {
        match &self.shared {
            Some(s) => SimRuntime::on(Arc::clone(s), self.host),
            None => SimRuntime {
                shared: None,
                host: self.host,
                probe: u32::MAX,
            },
        }
    }
}

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the simulation has no OS sockets",
    )
}

/// The virtual clock of the simulation running on this thread.
pub(crate) fn sim_now() -> Instant {
    with_active(|a| a.map(|a| a.shared.instant())).unwrap_or_else(Instant::now)
}

impl Runtime for SimRuntime {
    const OBSERVES_SERVERS: bool = true;
    type Kind = Async;
    type Stream = SimStream;
    type Listener = SimListener;
    type Bound = SimListener;
    type Timer = Sleep;

    fn for_connection(&self) -> SimRuntime {
        self.clone()
    }

    fn now() -> Instant {
        sim_now()
    }

    fn connect(
        &self,
        endpoint: &Endpoint,
        local: Option<SocketAddr>,
    ) -> Result<SimStream, StepError> {
        let shared = self.shared().map_err(StepError::at(Step::Socket))?;
        let sock = shared.lock().connect(self.host, endpoint, local)?;
        Ok(SimStream {
            shared: Arc::clone(shared),
            sock,
        })
    }

    fn bind(
        &self,
        endpoint: &Endpoint,
        options: BindOptions,
    ) -> Result<(SimListener, Option<Endpoint>), StepError> {
        let shared = self.shared().map_err(StepError::at(Step::Socket))?;
        let (id, address) = shared
            .lock()
            .listen(self.host, self.probe, endpoint, options)?;
        let l = SimListener {
            shared: Arc::clone(shared),
            id,
            server: self.probe,
        };
        Ok((l, Some(address)))
    }

    fn register_listener(&self, bound: SimListener) -> io::Result<SimListener> {
        Ok(bound)
    }

    fn register_accepted(&self, mut conn: SimAccepted) -> io::Result<SimStream> {
        let shared = self.shared()?;
        let c = conn.conn.take().ok_or_else(unsupported)?;
        let mut st = shared.lock();
        let sock = st.register_accepted(c, self.host);
        if let Some(ch) = st.checker.as_mut() {
            ch.checker
                .server_socket(ServerId(conn.server), SocketId(self.probe as usize));
        }
        drop(st);
        Ok(SimStream {
            shared: Arc::clone(shared),
            sock,
        })
    }

    fn getaddrinfo(&self, query: GaiQuery) -> BoxFuture<Option<Result<Vec<IpAddr>, ErrorCode>>> {
        let Ok(shared) = self.shared() else {
            return Box::pin(std::future::ready(Some(Err(ErrorCode::EAI_FAIL))));
        };
        let (answer, at) = {
            let mut st = shared.lock();
            let answer = st.getaddrinfo(&query);
            let lat = st.latency(self.host, self.host);
            (answer, st.now + lat)
        };
        let sleep = Sleep::at(Some(Arc::clone(shared)), at);
        Box::pin(async move {
            sleep.await;
            Some(answer)
        })
    }

    fn unlink(&self, path: &str) {
        if let Some(shared) = &self.shared {
            shared.lock().unlink(self.host, path);
        }
    }

    fn spawn(&self, task: BoxFuture<()>) {
        // On this handle's host while it is up, in the simulation running on this
        // thread; anything else (a socket dropped by a crash) drops the task unfinished
        // (the driver then resets the connection).
        let up = self
            .shared
            .as_ref()
            .is_some_and(|s| s.lock().hosts[self.host].up);
        let refused = with_active(|a| match (a, &self.shared) {
            (Some(a), Some(s)) if up && Arc::ptr_eq(&a.shared, s) => {
                a.spawned.push((self.host, task));
                None
            }
            _ => Some(task),
        });
        drop(refused);
    }

    fn timer(&self, _deadline: Instant) -> Sleep {
        Sleep::at(self.shared.clone(), Duration::ZERO)
    }

    fn poll_timer(&self, timer: &mut Sleep, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(s) = &timer.shared {
            timer.at = s.offset(deadline);
        }
        Pin::new(timer).poll(cx)
    }

    fn stream_from_std(&self, _stream: StdStream) -> io::Result<(SimStream, Endpoint, Endpoint)> {
        Err(unsupported())
    }

    fn stream_into_std(&self, _stream: SimStream) -> io::Result<StdStream> {
        Err(unsupported())
    }

    fn listener_from_std(
        &self,
        _listener: StdListener,
    ) -> io::Result<(SimListener, Option<Endpoint>)> {
        Err(unsupported())
    }

    fn bound_into_std(&self, _bound: SimListener) -> io::Result<StdListener> {
        Err(unsupported())
    }

    fn listener_into_std(&self, _listener: SimListener) -> io::Result<StdListener> {
        Err(unsupported())
    }

    #[inline]
    fn observe(&self, core: &nodenet_core::Socket, what: Observed<'_, SimStream>) {
        // A plain write the socket took tells the checker nothing (no completion follows,
        // no `Drain` is owed): not worth the lock, as every write makes one. Decided
        // inline, in the driver: it asks after every write.
        if let Observed::Written(r) = &what {
            if r.id == WriteId::NO_CALLBACK && r.ok {
                return;
            }
        }
        if let Some(shared) = self.shared.as_ref().filter(|s| s.observed) {
            shared.lock().observe(self.probe, self.host, core, what);
        }
    }

    fn observe_server<C>(&self, core: &nodenet_core::Server, what: ObservedServer<'_, C>) {
        if let Some(shared) = self.shared.as_ref().filter(|s| s.observed) {
            let what = match what {
                ObservedServer::Event { event, connections } => {
                    ServerObservation::Event { event, connections }
                }
                ObservedServer::Shutdown { deadline } => ServerObservation::Shutdown {
                    deadline: shared.offset(deadline),
                },
            };
            shared
                .lock()
                .observe_server(self.probe, self.host, core, what);
        }
    }
}

/// A simulated socket (connecting or connected); closing it is dropping it.
#[derive(Debug)]
pub struct SimStream {
    pub(crate) shared: Arc<Shared>,
    pub(crate) sock: SockId,
}

impl Drop for SimStream {
    fn drop(&mut self) {
        self.shared.lock().close_sock(self.sock);
    }
}

impl RtStream for SimStream {
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.shared.lock().send_copy(self.sock, bufs)
    }

    fn try_write_bytes<'a>(
        &self,
        chunks: impl Iterator<Item = &'a Bytes> + Clone,
    ) -> io::Result<usize> {
        self.shared.lock().send(self.sock, chunks)
    }

    fn poll_read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        _drained: bool,
    ) -> Poll<io::Result<ReadChunk>> {
        self.shared.lock().recv(self.sock, cx.waker())
    }

    fn poll_read_into(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.shared.lock().recv_into(self.sock, buf, cx.waker())
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shared.lock().poll_writable(self.sock, cx.waker())
    }

    fn has_unread(&self) -> bool {
        self.shared.lock().has_unread(self.sock)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(self.shared.lock().socks[self.sock]
            .error
            .take()
            .map(os_error))
    }

    fn local_addr(&self) -> io::Result<Option<SocketAddr>> {
        let st = self.shared.lock();
        let s = &st.socks[self.sock];
        Ok((!s.unix).then_some(s.local))
    }

    fn peer_addr(&self) -> io::Result<Option<SocketAddr>> {
        let st = self.shared.lock();
        let s = &st.socks[self.sock];
        match s.state {
            SockState::Connected { .. } if s.unix => Ok(None),
            SockState::Connected { .. } => Ok(s.peer),
            _ => Err(os_error(ErrorCode::ENOTCONN)),
        }
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shared.lock().shutdown_write(self.sock)
    }

    fn set_no_delay(&self, enable: bool) -> io::Result<()> {
        self.shared.lock().socks[self.sock].no_delay = enable;
        Ok(())
    }

    fn set_keep_alive(&self, enable: bool, initial_delay_secs: u32) -> io::Result<()> {
        let mut st = self.shared.lock();
        let ka = &mut st.socks[self.sock].keep_alive;
        ka.enabled = enable;
        // libuv: a delay sets idle/interval/count; none keeps the kernel's.
        if enable && initial_delay_secs > 0 {
            ka.idle_secs = u64::from(initial_delay_secs);
            ka.interval_secs = 1;
            ka.count = 10;
        }
        Ok(())
    }

    fn set_linger_zero(&self) -> io::Result<()> {
        self.shared.lock().socks[self.sock].linger_zero = true;
        Ok(())
    }

    fn keep_alive_settings(&self) -> Option<io::Result<(KeepAlive, bool)>> {
        let st = self.shared.lock();
        let s = &st.socks[self.sock];
        // Not TCP: nothing to read back.
        (!s.unix).then_some(Ok((s.keep_alive, s.no_delay)))
    }
}

/// A simulated listening socket; closing it is dropping it.
#[derive(Debug)]
pub struct SimListener {
    shared: Arc<Shared>,
    id: ListenerId,
    /// The handle number of the server it listens for.
    server: u32,
}

impl Drop for SimListener {
    fn drop(&mut self) {
        self.shared.lock().close_listener(self.id);
    }
}

impl RtListener for SimListener {
    type Accepted = SimAccepted;

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(SimAccepted, Endpoint, Endpoint)>> {
        let r = self.shared.lock().accept(self.id, cx.waker());
        r.map_ok(|(conn, local, remote)| {
            let accepted = SimAccepted {
                shared: Arc::clone(&self.shared),
                conn: Some(conn),
                server: self.server,
            };
            (accepted, local, remote)
        })
    }
}

/// A connection accepted from a [`SimListener`] before its socket takes it; dropping it
/// closes the connection.
#[derive(Debug)]
pub struct SimAccepted {
    shared: Arc<Shared>,
    conn: Option<ConnId>,
    /// The handle number of the server that accepted it.
    server: u32,
}

impl Drop for SimAccepted {
    /// The server rejected the connection (`Drop`, `Blocked`, or withdrawn by
    /// `shutdown()`).
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut st = self.shared.lock();
            st.close_end(conn, 1, false);
            if let Some(ch) = st.checker.as_mut() {
                ch.checker.server_rejected(ServerId(self.server));
            }
        }
    }
}

/// A virtual-time sleep (also the runtime's timer): ready once the simulation's clock
/// reaches its deadline. See [`sleep`](crate::runtime::sleep).
#[derive(Debug)]
pub struct Sleep {
    shared: Option<Arc<Shared>>,
    at: Duration,
    key: Option<(Duration, u64)>,
}

impl Sleep {
    pub(crate) fn at(shared: Option<Arc<Shared>>, at: Duration) -> Sleep {
        Sleep {
            shared,
            at,
            key: None,
        }
    }

    /// A sleep until `deadline` on the simulation running on this thread (ready at once
    /// outside a simulation).
    pub(crate) fn until(deadline: Instant) -> Sleep {
        let shared = with_active(|a| a.map(|a| Arc::clone(&a.shared)));
        let at = shared
            .as_ref()
            .map_or(Duration::ZERO, |s| s.offset(deadline));
        Sleep::at(shared, at)
    }

    /// The deadline.
    pub fn deadline(&self) -> Instant {
        match &self.shared {
            Some(s) => s.base + self.at,
            None => Instant::now(),
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(shared) = &this.shared else {
            return Poll::Ready(());
        };
        let mut st = shared.lock();
        if st.now >= this.at {
            st.disarm_timer(this.key.take());
            return Poll::Ready(());
        }
        st.arm_timer(&mut this.key, this.at, cx.waker());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(shared), Some(key)) = (&self.shared, self.key.take()) {
            shared.lock().disarm_timer(Some(key));
        }
    }
}
