//! Unix domain stream sockets (Node's pipes) in the simulated kernel, as Linux has them:
//!
//! * a host's socket files, by path (`Host::files`): `bind(2)` of a path creates the
//!   file, and fails with `EADDRINUSE` while a file is there, listened on or stale, and
//!   with `ENOENT` when its directory does not exist (directories are the machine's:
//!   see `parent_is_dir`);
//!   the file outlives its listener (and a crash of its host) until it is unlinked
//!   (nodenet's server unlinks it at `close()`, as libuv does);
//! * Linux's abstract names (a leading `\0`): no file, the name is taken while its
//!   listener is open;
//! * a path longer than `sockaddr_un` holds fails `bind` and `connect` with `EINVAL`,
//!   where the OS runtimes' socket2 refuses it;
//! * `connect(2)`: `ENOENT` without the file, `ECONNREFUSED` when nobody listens on it,
//!   `EAGAIN` when the listener's backlog is full, and otherwise connected at once (a
//!   local connect does not wait for an answer), the connection queued for `accept`;
//! * the stream is TCP's data path (`tcp`: the same pipes, buffers, short writes and
//!   chunked reads) without a network: bytes are in the peer's queue as soon as they
//!   are sent, and a close reaches the peer at once, as `unix_release_sock` does it:
//!   the peer reads what it has, then end-of-stream, and its writes fail with `EPIPE`;
//!   bytes left unread by the closing end (or a connection still in a closing
//!   listener's queue) leave the peer one `ECONNRESET` for a read, after its unread
//!   bytes and before the end-of-stream.
//!
//! Unix sockets report no TCP addresses: an accepted one's local endpoint is the
//! listener's path and its remote one the empty (unnamed) path, as `getsockname` /
//! `getpeername` give them.

use std::net::{Ipv4Addr, SocketAddr};

use nodenet::runtime::{BindOptions, Step, StepError};
use nodenet_core::{Endpoint, ErrorCode};

use super::kernel::{Conn, ConnId, End, HostIx, Listener, ListenerId, Sock, SockId, SockState};
use super::kernel::{SocketFile, State};
use super::tcp::os_error;

/// `sizeof(sockaddr_un.sun_path)` on Linux.
const SUN_PATH: usize = 108;
/// `S_IFSOCK`: the file type of a socket file.
const S_IFSOCK: u32 = 0o140_000;
/// The mode `bind(2)` gives a socket file: `0o777` less the usual umask `022`.
const BIND_MODE: u32 = 0o755;

/// The placeholder TCP address of Unix sockets and listeners (never reported).
const NO_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

fn step_error(step: Step, code: ErrorCode) -> StepError {
    StepError {
        step,
        error: os_error(code),
    }
}

/// A Linux abstract name: no file.
fn is_abstract(path: &str) -> bool {
    path.starts_with('\0')
}

/// Longer than `sun_path` holds (a path needs room for its terminating NUL; an abstract
/// name does not), as socket2 checks it for the OS runtimes.
fn too_long(path: &str) -> bool {
    if is_abstract(path) {
        path.len() > SUN_PATH
    } else {
        path.len() >= SUN_PATH
    }
}

/// The directory a socket file would be created in exists. Directories are the
/// machine's, read-only (a simulation has no directory API: its programs and harnesses
/// make their directories with `std::fs` or `tempfile`, outside it); only the socket
/// files are simulated, per host. A relative path's directory is the working directory.
fn parent_is_dir(path: &str) -> bool {
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.is_dir(),
        _ => true,
    }
}

impl State {
    /// The open listener `path` names on `host`: through its socket file, or the
    /// abstract name an open listener holds. `ENOENT`/`ECONNREFUSED` otherwise.
    fn unix_target(&self, host: HostIx, path: &str) -> Result<ListenerId, ErrorCode> {
        let open = |l: &Listener| l.open && l.host == host && l.path.as_deref() == Some(path);
        if is_abstract(path) {
            return self
                .listeners
                .iter()
                .position(open)
                .ok_or(ErrorCode::ECONNREFUSED);
        }
        let file = self.hosts[host].files.get(path).ok_or(ErrorCode::ENOENT)?;
        match self.listeners.get(file.listener) {
            Some(l) if open(l) => Ok(file.listener),
            _ => Err(ErrorCode::ECONNREFUSED),
        }
    }

    /// `socket(AF_UNIX)` + non-blocking `connect(path)` on `host`: connected at once,
    /// the connection queued on the listener, or the error `connect(2)` returns.
    pub(crate) fn connect_unix(&mut self, host: HostIx, path: &str) -> Result<SockId, StepError> {
        if too_long(path) {
            return Err(step_error(Step::Connect, ErrorCode::EINVAL));
        }
        let li = self
            .unix_target(host, path)
            .map_err(|code| step_error(Step::Connect, code))?;
        let l = &self.listeners[li];
        if l.queue.len() > l.backlog {
            // Linux's unix_stream_connect on a full queue (`unix_recvq_full`: more than
            // the backlog waiting), non-blocking.
            return Err(step_error(Step::Connect, ErrorCode::EAGAIN));
        }
        let s = self.socks.len();
        let conn = self.conns.len();
        let mut sock = Sock::new(host, SockState::Connected { conn, side: 0 }, NO_ADDR);
        sock.unix = true;
        self.socks.push(sock);
        let (a, b) = (self.spare_pipe(), self.spare_pipe());
        self.conns.push(Conn {
            ends: [
                End::new(Some(s), host, NO_ADDR, a),
                End::new(None, host, NO_ADDR, b),
            ],
            unix: true,
        });
        let now = self.now;
        let l = &mut self.listeners[li];
        if l.queue.is_empty() {
            l.waiting_since = now;
        }
        l.queue.push_back(conn);
        if let Some(w) = l.waker.take() {
            w.wake();
        }
        self.host_log(
            host,
            format_args!("CONNECT {} (conn {conn})", path.escape_debug()),
        );
        Ok(s)
    }

    /// `socket(AF_UNIX)` + `bind(path)` + `listen()` on `host` for the server with
    /// handle `server`; then `readableAll`/`writableAll` widen the file's mode.
    pub(crate) fn listen_unix(
        &mut self,
        host: HostIx,
        server: u32,
        path: &str,
        options: BindOptions,
    ) -> Result<ListenerId, StepError> {
        if too_long(path) {
            return Err(step_error(Step::Bind, ErrorCode::EINVAL));
        }
        let taken = if is_abstract(path) {
            self.listeners
                .iter()
                .any(|l| l.open && l.host == host && l.path.as_deref() == Some(path))
        } else {
            self.hosts[host].files.contains_key(path)
        };
        if taken {
            return Err(step_error(Step::Bind, ErrorCode::EADDRINUSE));
        }
        if !is_abstract(path) && !parent_is_dir(path) {
            return Err(step_error(Step::Bind, ErrorCode::ENOENT));
        }
        let id = self.listeners.len();
        self.listeners.push(Listener {
            host,
            addr: NO_ADDR,
            path: Some(path.to_owned()),
            ipv6_only: false,
            reuse_port: false,
            backlog: options.backlog as usize,
            queue: Default::default(),
            waker: None,
            open: true,
            server,
            waiting_since: self.now,
        });
        if !is_abstract(path) {
            let mut mode = BIND_MODE;
            if options.readable_all {
                mode |= 0o444;
            }
            if options.writable_all {
                mode |= 0o222;
            }
            let file = SocketFile {
                listener: id,
                mode: S_IFSOCK | mode,
            };
            self.hosts[host].files.insert(path.to_owned(), file);
        }
        self.host_log(host, format_args!("LISTEN {}", path.escape_debug()));
        Ok(id)
    }

    /// `unlink(path)` on `host` (a missing file is no error anyone hears of).
    pub(crate) fn unlink(&mut self, host: HostIx, path: &str) {
        if self.hosts[host].files.remove(path).is_some() {
            self.host_log(host, format_args!("UNLINK {}", path.escape_debug()));
        }
    }

    /// `stat(path).st_mode` of a socket file on `host`; `None` when there is none.
    pub(crate) fn socket_file_mode(&self, host: HostIx, path: &str) -> Option<u32> {
        self.hosts[host].files.get(path).map(|f| f.mode)
    }

    /// The endpoints `accept` reports for Unix connection `conn` on listener `l`: the
    /// listener's path, and the unnamed peer.
    pub(crate) fn unix_accepted_endpoints(&self, l: ListenerId) -> (Endpoint, Endpoint) {
        let path = self.listeners[l].path.clone().unwrap_or_default();
        (Endpoint::Pipe(path), Endpoint::Pipe(String::new()))
    }

    /// The socket on end `side` of Unix connection `conn` closed (or its queue entry
    /// was dropped: `embryo`): Linux's `unix_release_sock`. The peer's both directions
    /// shut at once — end-of-stream after what it has, `EPIPE` for its writes — and
    /// bytes this end left unread, or a connection never accepted, leave it a pending
    /// `ECONNRESET`.
    pub(crate) fn close_unix_end(&mut self, conn: ConnId, side: usize, embryo: bool) {
        let Some(unread) = self.conns[conn].ends[side].release() else {
            return;
        };
        let peer = &mut self.conns[conn].ends[1 - side];
        if peer.closed {
            return;
        }
        if unread || embryo {
            peer.unix_reset = true;
        }
        let up = self.hosts[peer.host].up;
        let fin_sent = self.conns[conn].ends[side].fin_sent;
        self.conns[conn].ends[side].fin_sent = true;
        if !fin_sent {
            let at = Some(self.now).filter(|_| up);
            let arrival = self.conns[conn].ends[1 - side].incoming.fin(at);
            self.after_push(conn, 1 - side, arrival);
        }
        let why = if unread || embryo { ", ECONNRESET" } else { "" };
        self.kernel_log(format_args!("unix close (conn {conn}{why})"));
        if let Some(s) = self.conns[conn].ends[1 - side].sock {
            self.socks[s].wake_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;
    use crate::trace::{Trace, TraceMode};
    use std::io;
    use std::task::{Poll, Waker};

    fn kernel() -> State {
        let mut st = State::new(1, Faults::none(), Trace::new(TraceMode::Off), false);
        st.add_host("box", &["10.0.0.1".parse().unwrap()]);
        st.add_host("other", &["10.0.0.2".parse().unwrap()]);
        st
    }

    fn options(backlog: u32) -> BindOptions {
        BindOptions {
            backlog,
            ..BindOptions::default()
        }
    }

    fn code(e: &io::Error) -> ErrorCode {
        nodenet_core::error::code_from_io(e)
    }

    fn listen(st: &mut State, path: &str) -> Result<ListenerId, ErrorCode> {
        let endpoint = Endpoint::Pipe(path.to_owned());
        st.listen(0, 1, &endpoint, options(8))
            .map(|(id, address)| {
                assert_eq!(address, endpoint);
                id
            })
            .map_err(|e| code(&e.error))
    }

    fn connect(st: &mut State, host: HostIx, path: &str) -> Result<SockId, ErrorCode> {
        st.connect(host, &Endpoint::Pipe(path.to_owned()), None)
            .map_err(|e| code(&e.error))
    }

    /// Accept the next connection of `l` and give it its socket.
    fn accept(st: &mut State, l: ListenerId) -> SockId {
        match st.accept(l, Waker::noop()) {
            Poll::Ready(Ok((conn, local, remote))) => {
                let path = st.listeners[l].path.clone().unwrap();
                assert_eq!(
                    (local, remote),
                    (Endpoint::Pipe(path), Endpoint::Pipe("".into()))
                );
                st.register_accepted(conn, 0)
            }
            other => panic!("nothing to accept: {other:?}"),
        }
    }

    fn send(st: &mut State, s: SockId, data: &'static [u8]) -> Result<usize, ErrorCode> {
        st.send(s, std::iter::once(&bytes::Bytes::from_static(data)))
            .map_err(|e| code(&e))
    }

    /// One read: the bytes, `Ok(empty)` at end-of-stream, `None` when nothing is there.
    fn recv(st: &mut State, s: SockId) -> Option<Result<Vec<u8>, ErrorCode>> {
        match st.recv(s, Waker::noop()) {
            Poll::Ready(r) => Some(r.map(|c| c.data.to_vec()).map_err(|e| code(&e))),
            Poll::Pending => None,
        }
    }

    /// Socket files: `EADDRINUSE` while the file is there (listened on or stale),
    /// `ENOENT` without it, `ECONNREFUSED` when nobody listens, per host; `unlink` frees
    /// the path; the file has a socket's mode.
    #[test]
    fn socket_files_outlive_their_listener_until_unlinked() {
        let mut st = kernel();
        assert_eq!(connect(&mut st, 0, "a.sock"), Err(ErrorCode::ENOENT));
        let l = listen(&mut st, "a.sock").unwrap();
        assert_eq!(st.socket_file_mode(0, "a.sock"), Some(S_IFSOCK | 0o755));
        assert_eq!(st.socket_file_mode(1, "a.sock"), None, "per host");
        assert_eq!(listen(&mut st, "a.sock"), Err(ErrorCode::EADDRINUSE));
        assert_eq!(connect(&mut st, 1, "a.sock"), Err(ErrorCode::ENOENT));
        let c = connect(&mut st, 0, "a.sock").unwrap();
        assert!(matches!(
            st.socks[c].state,
            SockState::Connected { side: 0, .. }
        ));
        st.close_listener(l);
        assert!(st.socket_file_mode(0, "a.sock").is_some(), "the file stays");
        assert_eq!(connect(&mut st, 0, "a.sock"), Err(ErrorCode::ECONNREFUSED));
        assert_eq!(listen(&mut st, "a.sock"), Err(ErrorCode::EADDRINUSE));
        st.unlink(0, "a.sock");
        assert_eq!(connect(&mut st, 0, "a.sock"), Err(ErrorCode::ENOENT));
        listen(&mut st, "a.sock").unwrap();
        assert_eq!(
            listen(&mut st, "no-such-dir-nodenet-sim/a.sock"),
            Err(ErrorCode::ENOENT)
        );
        let long = "x".repeat(SUN_PATH);
        assert_eq!(listen(&mut st, &long), Err(ErrorCode::EINVAL));
        assert_eq!(connect(&mut st, 0, &long), Err(ErrorCode::EINVAL));
    }

    /// Abstract names have no file: taken while their listener is open.
    #[test]
    fn abstract_names_are_free_once_their_listener_closed() {
        let mut st = kernel();
        let l = listen(&mut st, "\0name").unwrap();
        assert_eq!(st.socket_file_mode(0, "\0name"), None);
        assert_eq!(listen(&mut st, "\0name"), Err(ErrorCode::EADDRINUSE));
        connect(&mut st, 0, "\0name").unwrap();
        st.close_listener(l);
        assert_eq!(connect(&mut st, 0, "\0name"), Err(ErrorCode::ECONNREFUSED));
        listen(&mut st, "\0name").unwrap();
    }

    /// A full accept queue refuses a non-blocking connect with `EAGAIN`: with backlog 1,
    /// the third connect (Linux queues one more than the backlog; checked with real
    /// Unix sockets).
    #[test]
    fn a_full_backlog_says_eagain() {
        let mut st = kernel();
        let path = Endpoint::Pipe("q.sock".into());
        st.listen(0, 1, &path, options(1)).unwrap();
        connect(&mut st, 0, "q.sock").unwrap();
        connect(&mut st, 0, "q.sock").unwrap();
        assert_eq!(connect(&mut st, 0, "q.sock"), Err(ErrorCode::EAGAIN));
    }

    /// A close reaches the peer at once: it reads what it has, then end-of-stream, and
    /// its writes fail with `EPIPE`.
    #[test]
    fn a_close_shuts_the_peer_at_once() {
        let mut st = kernel();
        let l = listen(&mut st, "c.sock").unwrap();
        let c = connect(&mut st, 0, "c.sock").unwrap();
        let s = accept(&mut st, l);
        assert_eq!(send(&mut st, c, b"bye"), Ok(3));
        st.close_sock(c);
        assert_eq!(recv(&mut st, s), Some(Ok(b"bye".to_vec())));
        assert_eq!(recv(&mut st, s), Some(Ok(Vec::new())));
        assert_eq!(send(&mut st, s, b"late"), Err(ErrorCode::EPIPE));
    }

    /// Closing with bytes unread leaves the peer one `ECONNRESET` for a read, after the
    /// bytes it has and before its end-of-stream (its writes fail with `EPIPE` first); a
    /// connection still queued when its listener closes gets the same. (What Linux does,
    /// checked with real Unix sockets.)
    #[test]
    fn unread_bytes_at_close_leave_the_peer_econnreset() {
        let mut st = kernel();
        let l = listen(&mut st, "r.sock").unwrap();
        let c = connect(&mut st, 0, "r.sock").unwrap();
        let s = accept(&mut st, l);
        assert_eq!(send(&mut st, s, b"unread"), Ok(6));
        assert_eq!(send(&mut st, c, b"last"), Ok(4));
        st.close_sock(c);
        assert_eq!(recv(&mut st, s), Some(Ok(b"last".to_vec())));
        assert_eq!(recv(&mut st, s), Some(Err(ErrorCode::ECONNRESET)));
        assert_eq!(recv(&mut st, s), Some(Ok(Vec::new())));
        assert_eq!(send(&mut st, s, b"x"), Err(ErrorCode::EPIPE));

        let queued = connect(&mut st, 0, "r.sock").unwrap();
        assert_eq!(
            recv(&mut st, queued),
            None,
            "connected, nothing to read yet"
        );
        st.close_listener(l);
        assert_eq!(send(&mut st, queued, b"x"), Err(ErrorCode::EPIPE));
        assert_eq!(recv(&mut st, queued), Some(Err(ErrorCode::ECONNRESET)));
        assert_eq!(recv(&mut st, queued), Some(Ok(Vec::new())));
    }

    #[test]
    fn path_lengths_as_sockaddr_un_holds_them() {
        assert!(!too_long(&"x".repeat(SUN_PATH - 1)));
        assert!(too_long(&"x".repeat(SUN_PATH)));
        let abstract_name = format!("\0{}", "x".repeat(SUN_PATH - 1));
        assert!(!too_long(&abstract_name));
        assert!(too_long(&format!("{abstract_name}x")));
    }
}
