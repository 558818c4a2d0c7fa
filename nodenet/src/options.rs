//! Per-connection socket options with libuv's exact values: `TCP_NODELAY`, keep-alive,
//! and `SO_LINGER {on, 0}` for `resetAndDestroy`.

use std::io;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};

/// libuv's `TCP_KEEPINTVL` when keep-alive is enabled with a delay.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(1);
/// libuv's `TCP_KEEPCNT` when keep-alive is enabled with a delay.
const KEEPALIVE_RETRIES: u32 = 10;

/// `TCP_NODELAY` on or off.
pub fn set_no_delay<'s, S>(socket: &'s S, enable: bool) -> io::Result<()>
where
    SockRef<'s>: From<&'s S>,
{
    SockRef::from(socket).set_tcp_nodelay(enable)
}

/// `setKeepAlive(enable, delay)` as libuv does it on Linux: enabling sets `SO_KEEPALIVE`
/// and, for a non-zero delay, `TCP_KEEPIDLE = delay`, `TCP_KEEPINTVL = 1`,
/// `TCP_KEEPCNT = 10`; a zero delay keeps the kernel's values (libuv's `TCP_KEEPIDLE=0`
/// fails with EINVAL and is ignored). Disabling only clears `SO_KEEPALIVE`.
pub fn set_keep_alive<'s, S>(socket: &'s S, enable: bool, initial_delay_secs: u32) -> io::Result<()>
where
    SockRef<'s>: From<&'s S>,
{
    let sock = SockRef::from(socket);
    if !enable || initial_delay_secs == 0 {
        return sock.set_keepalive(enable);
    }
    let params = TcpKeepalive::new()
        .with_time(Duration::from_secs(u64::from(initial_delay_secs)))
        .with_interval(KEEPALIVE_INTERVAL)
        .with_retries(KEEPALIVE_RETRIES);
    sock.set_tcp_keepalive(&params)
}

/// `SO_LINGER {on, 0}`: closing the socket afterwards sends RST instead of FIN.
pub fn set_linger_zero<'s, S>(socket: &'s S) -> io::Result<()>
where
    SockRef<'s>: From<&'s S>,
{
    SockRef::from(socket).set_linger(Some(Duration::ZERO))
}

/// The keep-alive settings read back with getsockopt (for tests and diagnostics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAlive {
    /// `SO_KEEPALIVE`.
    pub enabled: bool,
    /// `TCP_KEEPIDLE` in seconds.
    pub idle_secs: u64,
    /// `TCP_KEEPINTVL` in seconds.
    pub interval_secs: u64,
    /// `TCP_KEEPCNT`.
    pub count: u32,
}

/// Read back keep-alive settings and `TCP_NODELAY`.
pub fn keep_alive_settings<'s, S>(socket: &'s S) -> io::Result<(KeepAlive, bool)>
where
    SockRef<'s>: From<&'s S>,
{
    let sock = SockRef::from(socket);
    let keep_alive = KeepAlive {
        enabled: sock.keepalive()?,
        idle_secs: sock.tcp_keepalive_time()?.as_secs(),
        interval_secs: sock.tcp_keepalive_interval()?.as_secs(),
        count: sock.tcp_keepalive_retries()?,
    };
    Ok((keep_alive, sock.tcp_nodelay()?))
}
