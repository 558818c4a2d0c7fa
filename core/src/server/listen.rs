//! `server.listen(...)`'s options and Node's validation of them (§6.2, §10): which of the
//! TCP (port + optional host) and IPC (path) forms a call takes, and the errors Node throws
//! synchronously (`ERR_SOCKET_BAD_PORT` with `options.port` wording,
//! `ERR_INVALID_ARG_VALUE`).

use crate::error::{Error, Result};
use crate::options::DEFAULT_BACKLOG;
use crate::validate::{
    inspect_number, inspect_string, js_string_to_number, validate_port, PortArg,
};

/// The options of `server.listen(options)`. Node's positional overloads map onto it:
/// `listen()` / `listen(0)` → [`ListenOptions::new`] or [`ListenOptions::port`],
/// `listen(port, host, backlog)` → `ListenOptions::port(port).host(host).backlog(backlog)`,
/// `listen(path)` → [`ListenOptions::path`].
///
/// Rust has no `undefined` versus absent property, so an options value with neither `port`
/// nor `path` means `listen()` (any port), not Node's `listen({})` error.
///
/// ```
/// use nodenet_core::server::ListenOptions;
/// let o = ListenOptions::port(8080).host("127.0.0.1").backlog(128);
/// assert_eq!(o.host.as_deref(), Some("127.0.0.1"));
/// let ipc = ListenOptions::path("/tmp/app.sock").readable_all(true);
/// assert!(ipc.readable_all);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListenOptions {
    /// `port`: a number or numeric string (`'0x50'` is 80); 0 = any free port. Checked
    /// with `validatePort(port, 'options.port')`. When set, `path` is ignored (as in Node).
    pub port: Option<PortArg>,
    /// `host`: resolved with a `Resolve` command when non-empty (even an IP literal, as
    /// Node does); absent or empty binds `::` and falls back to `0.0.0.0`.
    pub host: Option<String>,
    /// `backlog` for `listen(2)`; absent or 0 means 511.
    pub backlog: Option<u32>,
    /// `path`: a Unix socket path (a string that `Number()` turns into NaN or a negative
    /// number); a leading `\0` is a Linux abstract name.
    pub path: Option<String>,
    /// `ipv6Only`: no dual-stack (IPV6_V6ONLY) when binding `::` or an IPv6 host.
    pub ipv6_only: bool,
    /// `exclusive`: only meaningful with Node's cluster; passed to the backend as is.
    pub exclusive: bool,
    /// `readableAll` (pipes): make the socket file readable by all.
    pub readable_all: bool,
    /// `writableAll` (pipes): make the socket file writable by all.
    pub writable_all: bool,
    /// `reusePort` (TCP, Node v22.12+): `SO_REUSEPORT`, so several servers (threads,
    /// processes, accept loops) can listen on the same port and the kernel spreads the
    /// connections over them. Ignored for pipes, as in Node.
    pub reuse_port: bool,
}

impl ListenOptions {
    /// `listen()`: any free port on `::` (or `0.0.0.0`).
    pub fn new() -> ListenOptions {
        ListenOptions::default()
    }
    /// `listen(port)` / `listen({port})`.
    pub fn port(port: impl Into<PortArg>) -> ListenOptions {
        ListenOptions {
            port: Some(port.into()),
            ..ListenOptions::default()
        }
    }
    /// `listen(path)` / `listen({path})`.
    ///
    /// Takes a `&str`, a `String`, a `&Path` or a `PathBuf`. Node's paths are strings:
    /// a path that is not UTF-8 is converted lossily (`to_string_lossy`).
    ///
    /// ```
    /// use nodenet_core::server::ListenOptions;
    /// let sock = std::path::Path::new("/tmp").join("app.sock");
    /// assert_eq!(ListenOptions::path(&sock).path.as_deref(), Some("/tmp/app.sock"));
    /// ```
    pub fn path(path: impl AsRef<std::path::Path>) -> ListenOptions {
        ListenOptions {
            path: Some(path.as_ref().to_string_lossy().into_owned()),
            ..ListenOptions::default()
        }
    }
    /// Set `host`.
    pub fn host(mut self, host: impl Into<String>) -> ListenOptions {
        self.host = Some(host.into());
        self
    }
    /// Set `backlog`.
    pub fn backlog(mut self, backlog: u32) -> ListenOptions {
        self.backlog = Some(backlog);
        self
    }
    /// Set `ipv6Only`.
    pub fn ipv6_only(mut self, on: bool) -> ListenOptions {
        self.ipv6_only = on;
        self
    }
    /// Set `exclusive`.
    pub fn exclusive(mut self, on: bool) -> ListenOptions {
        self.exclusive = on;
        self
    }
    /// Set `readableAll`.
    pub fn readable_all(mut self, on: bool) -> ListenOptions {
        self.readable_all = on;
        self
    }
    /// Set `writableAll`.
    pub fn writable_all(mut self, on: bool) -> ListenOptions {
        self.writable_all = on;
        self
    }
    /// Set `reusePort` (Node v22.12+): share the port with other listeners that set it.
    ///
    /// ```
    /// use nodenet_core::server::ListenOptions;
    /// let o = ListenOptions::port(8080).host("127.0.0.1").reuse_port(true);
    /// assert!(o.reuse_port);
    /// ```
    pub fn reuse_port(mut self, on: bool) -> ListenOptions {
        self.reuse_port = on;
        self
    }

    /// `listen({port, host})` from a socket address: its IP as the host and its port
    /// (0 = any free port). The typed form of `port(p).host(h)`.
    ///
    /// ```
    /// use nodenet_core::server::ListenOptions;
    /// let o = ListenOptions::tcp_addr("127.0.0.1:0".parse().unwrap());
    /// assert_eq!(o, ListenOptions::port(0).host("127.0.0.1"));
    /// ```
    pub fn tcp_addr(addr: std::net::SocketAddr) -> ListenOptions {
        ListenOptions::host_port(addr.ip().to_string(), addr.port())
    }
    /// `listen({port, host})` with a typed port, in Rust's `(host, port)` order.
    ///
    /// ```
    /// use nodenet_core::server::ListenOptions;
    /// assert_eq!(ListenOptions::host_port("::1", 8080), ListenOptions::port(8080).host("::1"));
    /// ```
    pub fn host_port(host: impl Into<String>, port: u16) -> ListenOptions {
        ListenOptions::port(port).host(host)
    }
    /// `listen(port)` with a typed port (every address: `::`, or `0.0.0.0`).
    ///
    /// ```
    /// use nodenet_core::server::ListenOptions;
    /// assert_eq!(ListenOptions::tcp_port(0), ListenOptions::port(0));
    /// ```
    pub fn tcp_port(port: u16) -> ListenOptions {
        ListenOptions::port(port)
    }

    /// `util.inspect(options)` as Node prints it in `ERR_INVALID_ARG_VALUE`, listing the
    /// set properties (in declaration order; Node uses the caller's insertion order).
    pub(crate) fn inspect(&self) -> String {
        let mut parts = Vec::new();
        match &self.port {
            Some(PortArg::Number(n)) => parts.push(format!("port: {}", inspect_number(*n))),
            Some(PortArg::String(s)) => parts.push(format!("port: {}", inspect_string(s))),
            None => {}
        }
        if let Some(h) = &self.host {
            parts.push(format!("host: {}", inspect_string(h)));
        }
        if let Some(p) = &self.path {
            parts.push(format!("path: {}", inspect_string(p)));
        }
        if let Some(b) = self.backlog {
            parts.push(format!("backlog: {b}"));
        }
        for (on, name) in [
            (self.ipv6_only, "ipv6Only"),
            (self.exclusive, "exclusive"),
            (self.readable_all, "readableAll"),
            (self.writable_all, "writableAll"),
            (self.reuse_port, "reusePort"),
        ] {
            if on {
                parts.push(format!("{name}: true"));
            }
        }
        if parts.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

/// A validated listen request: what to bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListenTarget {
    /// TCP on `port`, at `host` (to resolve) or the unspecified address.
    Tcp { port: u16, host: Option<String> },
    /// IPC on a path.
    Pipe { path: String },
}

/// The validated form of [`ListenOptions`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListenRequest {
    pub target: ListenTarget,
    pub backlog: u32,
    pub ipv6_only: bool,
    pub exclusive: bool,
    pub readable_all: bool,
    pub writable_all: bool,
    pub reuse_port: bool,
}

/// Node's `isPipeName`: a string that `Number()` makes NaN or negative.
pub(crate) fn is_pipe_name(s: &str) -> bool {
    let n = js_string_to_number(s);
    n.is_nan() || n < 0.0
}

/// Whether a pipe path is a Linux abstract socket name (no file, no unlink, no chmod).
pub(crate) fn is_abstract_path(path: &str) -> bool {
    path.starts_with('\0')
}

/// Node's `listen` option checks, in Node's order (§6.2 steps 8–11).
pub(crate) fn validate_listen(options: &ListenOptions) -> Result<ListenRequest> {
    let backlog = match options.backlog {
        Some(b) if b > 0 => b,
        _ => DEFAULT_BACKLOG,
    };
    // `listen()` (neither port nor path) is `listen(0)`.
    let port = match (&options.port, &options.path) {
        (None, None) => Some(PortArg::Number(0.0)),
        (p, _) => p.clone(),
    };
    let target = if let Some(port) = port {
        let port = validate_port(&port, "options.port")?;
        let host = options.host.clone().filter(|h| !h.is_empty());
        ListenTarget::Tcp { port, host }
    } else {
        let path = options.path.clone().unwrap_or_default();
        if path.is_empty() || !is_pipe_name(&path) {
            return Err(Error::invalid_arg_value(
                "options",
                &options.inspect(),
                None,
            ));
        }
        if is_abstract_path(&path) && (options.readable_all || options.writable_all) {
            return Err(Error::invalid_arg_value(
                "options",
                &options.inspect(),
                Some("can not set readableAll or writableAllt to true when path is abstract unix socket"),
            ));
        }
        ListenTarget::Pipe { path }
    };
    let is_pipe = matches!(target, ListenTarget::Pipe { .. });
    Ok(ListenRequest {
        target,
        backlog,
        ipv6_only: options.ipv6_only && !is_pipe,
        exclusive: options.exclusive,
        readable_all: options.readable_all && is_pipe,
        writable_all: options.writable_all && is_pipe,
        reuse_port: options.reuse_port && !is_pipe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn pipe_names_follow_number_conversion() {
        assert!(is_pipe_name("/tmp/x.sock"));
        assert!(is_pipe_name("abc"));
        assert!(is_pipe_name("-1"));
        assert!(!is_pipe_name("8080"));
        assert!(!is_pipe_name("0x50"));
        assert!(!is_pipe_name(" "));
    }

    #[test]
    fn inspect_matches_node_for_simple_objects() {
        assert_eq!(ListenOptions::path("8080").inspect(), "{ path: '8080' }");
        assert_eq!(
            ListenOptions::path("\0abs").readable_all(true).inspect(),
            "{ path: '\\x00abs', readableAll: true }"
        );
        assert_eq!(ListenOptions::default().inspect(), "{}");
    }

    #[test]
    fn port_wins_over_path() {
        let mut o = ListenOptions::port(0);
        o.path = Some("8080".into());
        let r = validate_listen(&o).unwrap();
        assert_eq!(
            r.target,
            ListenTarget::Tcp {
                port: 0,
                host: None
            }
        );
        let e = validate_listen(&ListenOptions::path("")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ERR_INVALID_ARG_VALUE);
    }
}
