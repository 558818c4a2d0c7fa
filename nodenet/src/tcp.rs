//! TCP listeners and outgoing connections.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

use socket2::{Domain, Protocol, Socket, Type};

use crate::{Step, StepError};

fn new_tcp_socket(family_of: &SocketAddr, nonblocking: bool) -> io::Result<Socket> {
    let ty = if nonblocking {
        // One syscall: SOCK_NONBLOCK at creation rather than a later fcntl.
        Type::STREAM.nonblocking()
    } else {
        Type::STREAM
    };
    Socket::new(Domain::for_address(*family_of), ty, Some(Protocol::TCP))
}

/// Bind `addr` and listen with `backlog`, as libuv does for `server.listen()`:
/// `SO_REUSEADDR` on, `IPV6_V6ONLY` as asked for IPv6 addresses (so `::` is dual-stack
/// unless `ipv6_only`), `SO_REUSEPORT` when `reuse_port` (Node's `reusePort`; a bind
/// failure with `ENOTSUP` where the OS has no such option, as libuv's). The error says
/// whether bind or listen failed; the core decides whether to fall back to `0.0.0.0` and
/// how to word the error.
pub fn tcp_listen(
    addr: SocketAddr,
    backlog: u32,
    ipv6_only: bool,
    reuse_port: bool,
    nonblocking: bool,
) -> Result<TcpListener, StepError> {
    let socket = new_tcp_socket(&addr, nonblocking).map_err(StepError::at(Step::Socket))?;
    socket
        .set_reuse_address(true)
        .map_err(StepError::at(Step::Socket))?;
    if reuse_port {
        set_reuse_port(&socket).map_err(StepError::at(Step::Bind))?;
    }
    if addr.is_ipv6() {
        socket
            .set_only_v6(ipv6_only)
            .map_err(StepError::at(Step::Socket))?;
    }
    socket
        .bind(&addr.into())
        .map_err(StepError::at(Step::Bind))?;
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    socket
        .listen(backlog)
        .map_err(StepError::at(Step::Listen))?;
    Ok(socket.into())
}

/// `SO_REUSEPORT` on, where the OS has it (Linux 3.9+, the BSDs, macOS).
#[cfg(not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin")))]
fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

/// Elsewhere libuv's bind fails with `UV_ENOTSUP`.
#[cfg(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))]
fn set_reuse_port(_socket: &Socket) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// An outgoing TCP connection that has been started.
#[derive(Debug)]
pub struct ConnectStart {
    /// The socket. For a non-blocking start it may still be connecting.
    pub stream: TcpStream,
    /// `true` when `connect(2)` returned `EINPROGRESS`: wait for writability, then read
    /// `SO_ERROR` (`stream.take_error()`) to learn the result.
    #[allow(dead_code)] // the driver waits for writability either way; tests read it
    pub in_progress: bool,
}

/// Start a TCP connection to `remote`, first binding `local` when given (Node's
/// `localAddress` / `localPort`; libuv sets `SO_REUSEADDR` on that bind too).
/// Non-blocking starts return at once with `in_progress`; blocking ones return when the
/// kernel has answered.
pub fn tcp_connect(
    remote: SocketAddr,
    local: Option<SocketAddr>,
    nonblocking: bool,
) -> Result<ConnectStart, StepError> {
    let socket = new_tcp_socket(&remote, nonblocking).map_err(StepError::at(Step::Socket))?;
    if let Some(local) = local {
        socket
            .set_reuse_address(true)
            .map_err(StepError::at(Step::Socket))?;
        socket
            .bind(&local.into())
            .map_err(StepError::at(Step::Bind))?;
    }
    let in_progress = match socket.connect(&remote.into()) {
        Ok(()) => false,
        Err(e) if nonblocking && is_in_progress(&e) => true,
        Err(e) => return Err(StepError::at(Step::Connect)(e)),
    };
    Ok(ConnectStart {
        stream: socket.into(),
        in_progress,
    })
}

pub(crate) fn is_in_progress(e: &io::Error) -> bool {
    // EINPROGRESS (115 on Linux) has no stable ErrorKind of its own.
    e.raw_os_error() == Some(115) || e.kind() == io::ErrorKind::WouldBlock
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{keep_alive_settings, set_keep_alive, set_linger_zero, set_no_delay};
    use std::io::{Read, Write};

    #[test]
    fn listen_connect_and_options() {
        let listener =
            tcp_listen("127.0.0.1:0".parse().unwrap(), 511, false, false, false).unwrap();
        let addr = listener.local_addr().unwrap();
        let start = tcp_connect(addr, None, false).unwrap();
        assert!(!start.in_progress);
        let (mut server_side, _) = listener.accept().unwrap();
        let mut client = start.stream;
        client.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        server_side.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");

        set_keep_alive(&client, true, 5).unwrap();
        set_no_delay(&client, true).unwrap();
        let (ka, nodelay) = keep_alive_settings(&client).unwrap();
        assert!(nodelay);
        assert_eq!(
            (ka.enabled, ka.idle_secs, ka.interval_secs, ka.count),
            (true, 5, 1, 10)
        );
        set_keep_alive(&client, false, 0).unwrap();
        set_no_delay(&client, false).unwrap();
        let (ka, nodelay) = keep_alive_settings(&client).unwrap();
        assert!(!ka.enabled && !nodelay);
    }

    #[test]
    fn keep_alive_zero_delay_keeps_kernel_defaults() {
        let listener = tcp_listen("127.0.0.1:0".parse().unwrap(), 16, false, false, false).unwrap();
        let client = tcp_connect(listener.local_addr().unwrap(), None, false)
            .unwrap()
            .stream;
        let (before, _) = keep_alive_settings(&client).unwrap();
        set_keep_alive(&client, true, 0).unwrap();
        let (after, _) = keep_alive_settings(&client).unwrap();
        assert!(after.enabled);
        assert_eq!(
            (after.idle_secs, after.interval_secs, after.count),
            (before.idle_secs, before.interval_secs, before.count)
        );
    }

    #[test]
    fn reset_close_sends_rst() {
        let listener = tcp_listen("127.0.0.1:0".parse().unwrap(), 16, false, false, false).unwrap();
        let client = tcp_connect(listener.local_addr().unwrap(), None, false)
            .unwrap()
            .stream;
        let (mut server_side, _) = listener.accept().unwrap();
        set_linger_zero(&client).unwrap();
        drop(client);
        let mut buf = [0u8; 4];
        let err = server_side.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }

    #[test]
    fn busy_port_fails_at_bind_and_dual_stack_sees_mapped_peer() {
        let first = tcp_listen("[::]:0".parse().unwrap(), 16, false, false, false).unwrap();
        let port = first.local_addr().unwrap().port();
        let err = tcp_listen(
            format!("[::]:{port}").parse().unwrap(),
            16,
            false,
            false,
            false,
        )
        .unwrap_err();
        assert_eq!(err.step, Step::Bind);
        assert_eq!(err.error.kind(), io::ErrorKind::AddrInUse);

        let client = tcp_connect(format!("127.0.0.1:{port}").parse().unwrap(), None, false)
            .unwrap()
            .stream;
        let (_s, peer) = first.accept().unwrap();
        assert_eq!(peer.ip().to_string(), "::ffff:127.0.0.1");
        drop(client);
    }

    #[test]
    fn nonblocking_connect_and_local_bind() {
        let listener = tcp_listen("127.0.0.1:0".parse().unwrap(), 16, false, false, false).unwrap();
        let start = tcp_connect(
            listener.local_addr().unwrap(),
            Some("127.0.0.1:0".parse().unwrap()),
            true,
        )
        .unwrap();
        let local = start.stream.local_addr().unwrap();
        let (_s, peer) = listener.accept().unwrap();
        assert_eq!(peer, local);
        // A refused non-blocking connect surfaces through SO_ERROR.
        let closed = tcp_listen("127.0.0.1:0".parse().unwrap(), 16, false, false, false).unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let start = tcp_connect(format!("127.0.0.1:{port}").parse().unwrap(), None, true);
        match start {
            Ok(s) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
                let e = s.stream.take_error().unwrap();
                assert_eq!(e.map(|e| e.kind()), Some(io::ErrorKind::ConnectionRefused));
            }
            Err(e) => assert_eq!(e.error.kind(), io::ErrorKind::ConnectionRefused),
        }
    }
}
