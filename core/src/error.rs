//! Node's error objects: one [`Error`] type carrying Node's `code`, message text and the
//! `syscall` / `address` / `port` properties Node attaches, plus the constructors for every
//! shape in `docs/node-semantics.md` §0.
//!
//! Rust callers match on [`Error::code`]; people porting Node code compare
//! [`ErrorCode::as_str`] with the strings they already know (`"ECONNREFUSED"`).

use std::fmt;
use std::io;

/// The JavaScript class Node uses for an error (`err.name`), kept so that messages and
/// differential traces can be compared with Node one to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// `Error` (system errors and most `ERR_*`).
    Error,
    /// `TypeError` (argument type problems, `ERR_INVALID_ARG_VALUE`, ...).
    TypeError,
    /// `RangeError` (`ERR_SOCKET_BAD_PORT`, `ERR_OUT_OF_RANGE`, ...).
    RangeError,
    /// `AggregateError` (happy-eyeballs total failure).
    AggregateError,
    /// `AbortError` (`ABORT_ERR`).
    AbortError,
}

impl ErrorClass {
    /// The class name as JavaScript prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Error => "Error",
            ErrorClass::TypeError => "TypeError",
            ErrorClass::RangeError => "RangeError",
            ErrorClass::AggregateError => "AggregateError",
            ErrorClass::AbortError => "AbortError",
        }
    }
}

macro_rules! error_codes {
    (
        system { $( $sys:ident = $errno:expr, $uvmsg:expr, $kind:ident; )* }
        node { $( $node:ident, $nkind:ident; )* }
    ) => {
        /// Node's `err.code`: the libuv/system codes seen by `net` and Node's own `ERR_*`
        /// codes. The variant names are exactly Node's strings.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", stringify!($sys), "` (libuv errno ", stringify!($errno), "): ", $uvmsg, ".")]
                $sys,
            )*
            $(
                #[doc = concat!("Node's `", stringify!($node), "`.")]
                $node,
            )*
            /// A system error libuv has no name for here; carries the negative errno.
            Unknown(i32),
        }

        impl ErrorCode {
            /// The code exactly as Node spells it (`"ECONNREFUSED"`, `"ERR_SOCKET_BAD_PORT"`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$sys => stringify!($sys), )*
                    $( ErrorCode::$node => stringify!($node), )*
                    ErrorCode::Unknown(_) => "UNKNOWN",
                }
            }

            /// libuv's (negative, Linux) errno for system codes; `None` for `ERR_*` codes.
            pub fn errno(self) -> Option<i32> {
                match self {
                    $( ErrorCode::$sys => Some($errno), )*
                    ErrorCode::Unknown(n) => Some(n),
                    _ => None,
                }
            }

            /// libuv's message for a system code (`"address already in use"`), as used in
            /// `listen` errors; `None` for `ERR_*` codes.
            pub fn uv_message(self) -> Option<&'static str> {
                match self {
                    $( ErrorCode::$sys => Some($uvmsg), )*
                    ErrorCode::Unknown(_) => Some("unknown error"),
                    _ => None,
                }
            }

            /// The code for a libuv (negative) errno.
            pub fn from_errno(errno: i32) -> ErrorCode {
                match errno {
                    $( $errno => ErrorCode::$sys, )*
                    n => ErrorCode::Unknown(n),
                }
            }

            /// Parse Node's spelling of a code (`"EADDRINUSE"`).
            pub fn from_name(name: &str) -> Option<ErrorCode> {
                match name {
                    $( stringify!($sys) => Some(ErrorCode::$sys), )*
                    $( stringify!($node) => Some(ErrorCode::$node), )*
                    _ => None,
                }
            }

            fn io_kind(self) -> io::ErrorKind {
                match self {
                    $( ErrorCode::$sys => io::ErrorKind::$kind, )*
                    $( ErrorCode::$node => io::ErrorKind::$nkind, )*
                    ErrorCode::Unknown(_) => io::ErrorKind::Other,
                }
            }
        }
    };
}

error_codes! {
    system {
        EPERM = -1, "operation not permitted", PermissionDenied;
        ENOENT = -2, "no such file or directory", NotFound;
        EINTR = -4, "interrupted system call", Interrupted;
        EIO = -5, "i/o error", Other;
        EBADF = -9, "bad file descriptor", Other;
        EAGAIN = -11, "resource temporarily unavailable", WouldBlock;
        ENOMEM = -12, "not enough memory", OutOfMemory;
        EACCES = -13, "permission denied", PermissionDenied;
        EBUSY = -16, "resource busy or locked", ResourceBusy;
        EEXIST = -17, "file already exists", AlreadyExists;
        ENOTDIR = -20, "not a directory", NotADirectory;
        EINVAL = -22, "invalid argument", InvalidInput;
        ENFILE = -23, "file table overflow", Other;
        EMFILE = -24, "too many open files", Other;
        ENOSPC = -28, "no space left on device", StorageFull;
        EPIPE = -32, "broken pipe", BrokenPipe;
        ENAMETOOLONG = -36, "name too long", InvalidFilename;
        ENOSYS = -38, "function not implemented", Unsupported;
        ENOTSOCK = -88, "socket operation on non-socket", InvalidInput;
        EPROTONOSUPPORT = -93, "protocol not supported", Unsupported;
        ENOTSUP = -95, "operation not supported on socket", Unsupported;
        EAFNOSUPPORT = -97, "address family not supported", Unsupported;
        EADDRINUSE = -98, "address already in use", AddrInUse;
        EADDRNOTAVAIL = -99, "address not available", AddrNotAvailable;
        ENETDOWN = -100, "network is down", NetworkDown;
        ENETUNREACH = -101, "network is unreachable", NetworkUnreachable;
        ECONNABORTED = -103, "software caused connection abort", ConnectionAborted;
        ECONNRESET = -104, "connection reset by peer", ConnectionReset;
        ENOBUFS = -105, "no buffer space available", OutOfMemory;
        EISCONN = -106, "socket is already connected", Other;
        ENOTCONN = -107, "socket is not connected", NotConnected;
        ETIMEDOUT = -110, "connection timed out", TimedOut;
        ECONNREFUSED = -111, "connection refused", ConnectionRefused;
        EHOSTUNREACH = -113, "host is unreachable", HostUnreachable;
        EALREADY = -114, "connection already in progress", Other;
        ECANCELED = -125, "operation canceled", Interrupted;
        EAI_AGAIN = -3001, "temporary failure", Other;
        EAI_FAIL = -3004, "permanent failure", Other;
        EAI_FAMILY = -3005, "ai_family not supported", Unsupported;
        EAI_MEMORY = -3006, "out of memory", OutOfMemory;
        EAI_NODATA = -3007, "no address", NotFound;
        ENOTFOUND = -3008, "unknown node or service", NotFound;
        EAI_SERVICE = -3010, "service not available for socket type", Unsupported;
        EOF = -4095, "end of file", UnexpectedEof;
    }
    node {
        ERR_SOCKET_BAD_PORT, InvalidInput;
        ERR_SERVER_ALREADY_LISTEN, InvalidInput;
        ERR_SERVER_NOT_RUNNING, NotConnected;
        ERR_SOCKET_CLOSED, NotConnected;
        ERR_SOCKET_CLOSED_BEFORE_CONNECTION, NotConnected;
        ERR_SOCKET_CONNECTION_TIMEOUT, TimedOut;
        ERR_INVALID_HANDLE_TYPE, Unsupported;
        ERR_INVALID_ADDRESS_FAMILY, InvalidInput;
        ERR_INVALID_IP_ADDRESS, InvalidInput;
        ERR_INVALID_FD_TYPE, InvalidInput;
        ERR_MISSING_ARGS, InvalidInput;
        ERR_OUT_OF_RANGE, InvalidInput;
        ERR_INVALID_ARG_VALUE, InvalidInput;
        ERR_INVALID_ARG_TYPE, InvalidInput;
        ERR_STREAM_WRITE_AFTER_END, BrokenPipe;
        ERR_STREAM_DESTROYED, BrokenPipe;
        ERR_STREAM_ALREADY_FINISHED, BrokenPipe;
        ERR_STREAM_NULL_VALUES, InvalidInput;
        ERR_UNKNOWN_ENCODING, InvalidInput;
        ERR_INVALID_ADDRESS, InvalidInput;
        ERR_IP_BLOCKED, PermissionDenied;
        ERR_BUFFER_FULL, OutOfMemory;
        ERR_INVALID_STATE, Other;
        ABORT_ERR, Interrupted;
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Node `net` error: `code`, `message` and the properties Node attaches.
///
/// ```
/// use nodenet_core::{Error, ErrorCode};
/// let err = Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.1", 8124, None);
/// assert_eq!(err.code(), ErrorCode::ECONNREFUSED);
/// assert_eq!(err.message(), "connect ECONNREFUSED 127.0.0.1:8124");
/// assert_eq!(err.errno(), Some(-111));
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    // Boxed so `Result<T, Error>` stays one pointer wide on the hot path.
    inner: Box<Inner>,
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    code: ErrorCode,
    class: ErrorClass,
    message: String,
    syscall: Option<&'static str>,
    address: Option<String>,
    port: Option<u16>,
    local_address: Option<String>,
    local_port: Option<u16>,
    host: Option<String>,
    /// Node's `err.cause` (an `AbortError`'s is the signal's reason).
    cause: Option<Error>,
    errors: Vec<Error>,
}

/// What JavaScript's `String(err)` gives, which is also the first line of Node's
/// `util.inspect(err)`: Node's own `ERR_*` errors put the code in the name
/// (`RangeError [ERR_SOCKET_BAD_PORT]: Port should be ...`), system and DNS errors do not
/// (`Error: connect ECONNREFUSED 127.0.0.1:9`). An `AggregateError` has an empty message,
/// so it prints `util.inspect`'s header (`AggregateError [ECONNREFUSED]:`) followed by its
/// inner errors' messages instead of `String(err)`'s bare `AggregateError`.
///
/// ```
/// use nodenet_core::{Error, ErrorCode};
/// let e = Error::bad_port("Port", "type number (70000)");
/// assert_eq!(
///     e.to_string(),
///     "RangeError [ERR_SOCKET_BAD_PORT]: Port should be >= 0 and < 65536. Received type number (70000)."
/// );
/// let e = Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.1", 9, None);
/// assert_eq!(e.to_string(), "Error: connect ECONNREFUSED 127.0.0.1:9");
/// ```
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let class = inner.class.as_str();
        if inner.class == ErrorClass::AggregateError && inner.message.is_empty() {
            write!(f, "{class} [{}]:", inner.code)?;
            for (i, e) in inner.errors.iter().enumerate() {
                write!(f, "{} {}", if i == 0 { "" } else { ";" }, e.message())?;
            }
            return Ok(());
        }
        if self.code_in_name() {
            write!(f, "{class} [{}]: {}", inner.code, inner.message)
        } else if inner.message.is_empty() {
            f.write_str(class)
        } else {
            write!(f, "{class}: {}", inner.message)
        }
    }
}

/// Only the properties that are set, so a printed error reads like Node's inspected
/// object: `Error { code: ECONNREFUSED, message: "connect ECONNREFUSED 127.0.0.1:9",
/// syscall: "connect", address: "127.0.0.1", port: 9 }`.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("code", &i.code);
        if i.class != ErrorClass::Error {
            d.field("class", &i.class);
        }
        d.field("message", &i.message);
        if let Some(v) = i.syscall {
            d.field("syscall", &v);
        }
        if let Some(v) = &i.address {
            d.field("address", v);
        }
        if let Some(v) = i.port {
            d.field("port", &v);
        }
        if let Some(v) = &i.local_address {
            d.field("local_address", v);
        }
        if let Some(v) = i.local_port {
            d.field("local_port", &v);
        }
        if let Some(v) = &i.host {
            d.field("host", v);
        }
        if !i.errors.is_empty() {
            d.field("errors", &i.errors);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    /// Node's `err.cause`, when there is one.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.cause.as_ref().map(|c| c as _)
    }
}

impl Error {
    /// A bare error with a code, class and message (no extra properties).
    pub fn new(code: ErrorCode, class: ErrorClass, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                code,
                class,
                message: message.into(),
                syscall: None,
                address: None,
                port: None,
                local_address: None,
                local_port: None,
                host: None,
                cause: None,
                errors: Vec::new(),
            }),
        }
    }

    /// Whether `String(err)` shows the code: Node's JavaScript-made `ERR_*` errors name
    /// themselves `Name [CODE]`; system errors, DNS errors and the errors Node's C++
    /// layer throws (`ERR_INVALID_ADDRESS`) keep the plain class name.
    fn code_in_name(&self) -> bool {
        let code = self.inner.code;
        code.as_str().starts_with("ERR_") && code != ErrorCode::ERR_INVALID_ADDRESS
    }

    /// Node's `err.code`.
    pub fn code(&self) -> ErrorCode {
        self.inner.code
    }
    /// Node's `err.name` / constructor.
    pub fn class(&self) -> ErrorClass {
        self.inner.class
    }
    /// Node's `err.message`, byte for byte.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
    /// Node's `err.errno` (negative libuv number) for system errors.
    pub fn errno(&self) -> Option<i32> {
        self.inner.code.errno()
    }
    /// Node's `err.syscall` (`"connect"`, `"listen"`, `"read"`, ...).
    pub fn syscall(&self) -> Option<&'static str> {
        self.inner.syscall
    }
    /// Node's `err.address`.
    pub fn address(&self) -> Option<&str> {
        self.inner.address.as_deref()
    }
    /// Node's `err.port` (absent when Node leaves it out, i.e. when it is 0).
    pub fn port(&self) -> Option<u16> {
        self.inner.port
    }
    /// Node's `err.localAddress` (async connect failures with a bound local address).
    pub fn local_address(&self) -> Option<&str> {
        self.inner.local_address.as_deref()
    }
    /// Node's `err.localPort`.
    pub fn local_port(&self) -> Option<u16> {
        self.inner.local_port
    }
    /// Node's `err.host` (`ERR_INVALID_ADDRESS_FAMILY`) or `err.hostname` (DNS errors).
    pub fn host(&self) -> Option<&str> {
        self.inner.host.as_deref()
    }
    /// The inner errors of an `AggregateError`, in attempt order; empty otherwise.
    pub fn errors(&self) -> &[Error] {
        &self.inner.errors
    }

    /// Set `syscall` (builder style).
    pub fn with_syscall(mut self, syscall: &'static str) -> Error {
        self.inner.syscall = Some(syscall);
        self
    }
    /// Set `address` (builder style).
    pub fn with_address(mut self, address: impl Into<String>) -> Error {
        self.inner.address = Some(address.into());
        self
    }
    /// Set `port` (builder style).
    pub fn with_port(mut self, port: u16) -> Error {
        self.inner.port = Some(port);
        self
    }
    /// Set `host` (builder style).
    pub fn with_host(mut self, host: impl Into<String>) -> Error {
        self.inner.host = Some(host.into());
        self
    }

    // ---- system errors -------------------------------------------------------------

    /// `ExceptionWithHostPort(errno, syscall, address, port, extra)`: connect and bind
    /// errors, message `"<syscall> <CODE>[ <address>[:<port>]][ - Local (<extra>)]"`.
    /// `port` 0 is left out, as Node does. `local` is `(localAddress, localPort)`.
    pub fn with_host_port(
        code: ErrorCode,
        syscall: &'static str,
        address: &str,
        port: u16,
        local: Option<(&str, u16)>,
    ) -> Error {
        let mut message = format!("{syscall} {code}");
        if port > 0 {
            message.push_str(&format!(" {address}:{port}"));
        } else if !address.is_empty() {
            message.push(' ');
            message.push_str(address);
        }
        let mut err = Error::new(code, ErrorClass::Error, String::new()).with_syscall(syscall);
        if !address.is_empty() {
            err.inner.address = Some(address.to_string());
        }
        if port > 0 {
            err.inner.port = Some(port);
        }
        if let Some((la, lp)) = local {
            message.push_str(&format!(" - Local ({la}:{lp})"));
            err.inner.local_address = Some(la.to_string());
            err.inner.local_port = Some(lp);
        }
        err.inner.message = message;
        err
    }

    /// `connect <CODE> <address>:<port>` (with ` - Local (a:p)` when bound locally).
    pub fn connect(code: ErrorCode, address: &str, port: u16, local: Option<(&str, u16)>) -> Error {
        Error::with_host_port(code, "connect", address, port, local)
    }

    /// `connect <CODE> <address>:<port> - Local (<sockname>)` for a `connect(2)` that
    /// failed at once: Node adds the socket's `getsockname` to the message only (no
    /// `localAddress`/`localPort` properties).
    ///
    /// ```
    /// use nodenet_core::{Error, ErrorCode};
    /// let err = Error::connect_at_once(ErrorCode::ENETUNREACH, "224.0.0.1", 80, "0.0.0.0:0");
    /// assert_eq!(err.message(), "connect ENETUNREACH 224.0.0.1:80 - Local (0.0.0.0:0)");
    /// assert_eq!(err.local_address(), None);
    /// ```
    pub fn connect_at_once(code: ErrorCode, address: &str, port: u16, sockname: &str) -> Error {
        let mut err = Error::with_host_port(code, "connect", address, port, None);
        err.inner
            .message
            .push_str(&format!(" - Local ({sockname})"));
        err
    }

    /// `UVExceptionWithHostPort` for `listen`: `listen EADDRINUSE: address already in use
    /// :::8080` (port left out when 0).
    pub fn listen(code: ErrorCode, address: &str, port: u16) -> Error {
        let uv = code.uv_message().unwrap_or("unknown error");
        let details = if port > 0 {
            format!(" {address}:{port}")
        } else if !address.is_empty() {
            format!(" {address}")
        } else {
            String::new()
        };
        let mut err = Error::new(
            code,
            ErrorClass::Error,
            format!("listen {code}: {uv}{details}"),
        )
        .with_syscall("listen");
        if !address.is_empty() {
            err.inner.address = Some(address.to_string());
        }
        if port > 0 {
            err.inner.port = Some(port);
        }
        err
    }

    /// `ErrnoException(errno, syscall)`: `read ECONNRESET`, `write EPIPE`, `accept EMFILE`.
    pub fn errno_exception(code: ErrorCode, syscall: &'static str) -> Error {
        Error::new(code, ErrorClass::Error, format!("{syscall} {code}")).with_syscall(syscall)
    }

    /// The generic EPIPE after the peer's FIN: `This socket has been ended by the other
    /// party` (code only, no errno/syscall in Node).
    pub fn ended_by_other_party() -> Error {
        Error::new(
            ErrorCode::EPIPE,
            ErrorClass::Error,
            "This socket has been ended by the other party",
        )
    }

    /// `getaddrinfo ENOTFOUND <host>` as `dns.lookup` reports it.
    pub fn getaddrinfo(code: ErrorCode, hostname: &str) -> Error {
        Error::new(
            code,
            ErrorClass::Error,
            format!("getaddrinfo {code} {hostname}"),
        )
        .with_syscall("getaddrinfo")
        .with_host(hostname)
    }

    /// Happy eyeballs total failure: `AggregateError` with an empty message and the code of
    /// the first inner error (`ERR_SOCKET_CONNECTION_TIMEOUT` when there is none).
    pub fn aggregate(errors: Vec<Error>) -> Error {
        match errors.first() {
            None => Error::connection_timeout(),
            Some(first) => {
                let mut err = Error::new(first.inner.code, ErrorClass::AggregateError, "");
                err.inner.errors = errors;
                err
            }
        }
    }

    /// Convert an OS error from a syscall into Node's shape (`read ECONNRESET`).
    pub fn from_io(err: &io::Error, syscall: &'static str) -> Error {
        Error::errno_exception(code_from_io(err), syscall)
    }

    // ---- Node ERR_* errors ---------------------------------------------------------

    /// `ERR_SOCKET_BAD_PORT`: `<name> should be >= 0 and < 65536. Received <received>.`
    /// `name` is `Port` for connect and `options.port` for listen / SocketAddress;
    /// `received` is Node's description, e.g. `type number (-1)` or `type string ('abc')`.
    pub fn bad_port(name: &str, received: &str) -> Error {
        Error::new(
            ErrorCode::ERR_SOCKET_BAD_PORT,
            ErrorClass::RangeError,
            format!("{name} should be >= 0 and < 65536. Received {received}."),
        )
    }
    /// `ERR_SERVER_ALREADY_LISTEN`.
    pub fn server_already_listen() -> Error {
        Error::new(
            ErrorCode::ERR_SERVER_ALREADY_LISTEN,
            ErrorClass::Error,
            "Listen method has been called more than once without closing.",
        )
    }
    /// `ERR_SERVER_NOT_RUNNING`.
    pub fn server_not_running() -> Error {
        Error::new(
            ErrorCode::ERR_SERVER_NOT_RUNNING,
            ErrorClass::Error,
            "Server is not running.",
        )
    }
    /// `ERR_SOCKET_CLOSED`.
    pub fn socket_closed() -> Error {
        Error::new(
            ErrorCode::ERR_SOCKET_CLOSED,
            ErrorClass::Error,
            "Socket is closed",
        )
    }
    /// `ERR_SOCKET_CLOSED_BEFORE_CONNECTION`.
    pub fn socket_closed_before_connection() -> Error {
        Error::new(
            ErrorCode::ERR_SOCKET_CLOSED_BEFORE_CONNECTION,
            ErrorClass::Error,
            "Socket closed before the connection was established",
        )
    }
    /// `ERR_SOCKET_CONNECTION_TIMEOUT`.
    pub fn connection_timeout() -> Error {
        Error::new(
            ErrorCode::ERR_SOCKET_CONNECTION_TIMEOUT,
            ErrorClass::Error,
            "Socket connection timeout",
        )
    }
    /// `ERR_INVALID_HANDLE_TYPE`.
    pub fn invalid_handle_type() -> Error {
        Error::new(
            ErrorCode::ERR_INVALID_HANDLE_TYPE,
            ErrorClass::TypeError,
            "This handle type cannot be sent",
        )
    }
    /// `ERR_INVALID_ADDRESS_FAMILY`: `Invalid address family: <family> <host>:<port>`.
    pub fn invalid_address_family(family: &str, host: &str, port: u16) -> Error {
        Error::new(
            ErrorCode::ERR_INVALID_ADDRESS_FAMILY,
            ErrorClass::RangeError,
            format!("Invalid address family: {family} {host}:{port}"),
        )
        .with_host(host)
        .with_port(port)
    }
    /// `ERR_INVALID_IP_ADDRESS`: `Invalid IP address: <value>`.
    pub fn invalid_ip_address(value: &str) -> Error {
        Error::new(
            ErrorCode::ERR_INVALID_IP_ADDRESS,
            ErrorClass::TypeError,
            format!("Invalid IP address: {value}"),
        )
    }
    /// `ERR_INVALID_FD_TYPE`: `Unsupported fd type: <TYPE>`.
    pub fn invalid_fd_type(kind: &str) -> Error {
        Error::new(
            ErrorCode::ERR_INVALID_FD_TYPE,
            ErrorClass::TypeError,
            format!("Unsupported fd type: {kind}"),
        )
    }
    /// `ERR_MISSING_ARGS` as `connect()` raises it.
    pub fn missing_connect_args() -> Error {
        Error::new(
            ErrorCode::ERR_MISSING_ARGS,
            ErrorClass::TypeError,
            "The \"options\" or \"port\" or \"path\" argument must be specified",
        )
    }
    /// `ERR_OUT_OF_RANGE`: `The value of "<name>" is out of range. It must be <range>.
    /// Received <received>`.
    pub fn out_of_range(name: &str, range: &str, received: &str) -> Error {
        Error::new(
            ErrorCode::ERR_OUT_OF_RANGE,
            ErrorClass::RangeError,
            format!(
                "The value of \"{name}\" is out of range. It must be {range}. Received {received}"
            ),
        )
    }
    /// `ERR_INVALID_ARG_VALUE`: `The property|argument '<name>' <reason>. Received
    /// <inspected>` ("property" when the name contains a dot, as Node does).
    pub fn invalid_arg_value(name: &str, inspected: &str, reason: Option<&str>) -> Error {
        let kind = if name.contains('.') {
            "property"
        } else {
            "argument"
        };
        let reason = reason.unwrap_or("is invalid");
        Error::new(
            ErrorCode::ERR_INVALID_ARG_VALUE,
            ErrorClass::TypeError,
            format!("The {kind} '{name}' {reason}. Received {inspected}"),
        )
    }
    /// `ERR_INVALID_ARG_TYPE`: `The "<name>" argument|property must be <expected>.
    /// Received <received>`.
    pub fn invalid_arg_type(name: &str, expected: &str, received: &str) -> Error {
        let kind = if name.contains('.') {
            "property"
        } else {
            "argument"
        };
        Error::new(
            ErrorCode::ERR_INVALID_ARG_TYPE,
            ErrorClass::TypeError,
            format!("The \"{name}\" {kind} must be {expected}. Received {received}"),
        )
    }
    /// `ERR_STREAM_WRITE_AFTER_END`.
    pub fn write_after_end() -> Error {
        Error::new(
            ErrorCode::ERR_STREAM_WRITE_AFTER_END,
            ErrorClass::Error,
            "write after end",
        )
    }
    /// `ERR_STREAM_DESTROYED` for `method` (`"write"` or `"end"`).
    pub fn stream_destroyed(method: &str) -> Error {
        Error::new(
            ErrorCode::ERR_STREAM_DESTROYED,
            ErrorClass::Error,
            format!("Cannot call {method} after a stream was destroyed"),
        )
    }
    /// `ERR_STREAM_ALREADY_FINISHED` for `method` (`"end"`).
    pub fn stream_already_finished(method: &str) -> Error {
        Error::new(
            ErrorCode::ERR_STREAM_ALREADY_FINISHED,
            ErrorClass::Error,
            format!("Cannot call {method} after a stream was finished"),
        )
    }
    /// `ERR_STREAM_NULL_VALUES`.
    pub fn stream_null_values() -> Error {
        Error::new(
            ErrorCode::ERR_STREAM_NULL_VALUES,
            ErrorClass::TypeError,
            "May not write null values to stream",
        )
    }
    /// `ERR_UNKNOWN_ENCODING`.
    pub fn unknown_encoding(encoding: &str) -> Error {
        Error::new(
            ErrorCode::ERR_UNKNOWN_ENCODING,
            ErrorClass::TypeError,
            format!("Unknown encoding: {encoding}"),
        )
    }
    /// `ERR_INVALID_ADDRESS` (raised by Node's C++ SocketAddress parsing).
    pub fn invalid_address() -> Error {
        Error::new(
            ErrorCode::ERR_INVALID_ADDRESS,
            ErrorClass::Error,
            "Invalid socket address",
        )
    }
    /// `ERR_IP_BLOCKED`: `IP(<ip>) is blocked by net.BlockList`.
    pub fn ip_blocked(ip: &str) -> Error {
        Error::new(
            ErrorCode::ERR_IP_BLOCKED,
            ErrorClass::Error,
            format!("IP({ip}) is blocked by net.BlockList"),
        )
    }
    /// `ABORT_ERR`.
    pub fn abort() -> Error {
        Error::new(
            ErrorCode::ABORT_ERR,
            ErrorClass::AbortError,
            "The operation was aborted",
        )
    }
    /// Node's `ERR_INVALID_STATE` (`Invalid state: <reason>`): here, a runtime adapter
    /// that cannot serve the socket from where it is polled (nodenet-tokio outside a
    /// Tokio runtime).
    ///
    /// ```
    /// use nodenet_core::{Error, ErrorCode};
    /// let err = Error::invalid_state("no reactor");
    /// assert_eq!(err.code(), ErrorCode::ERR_INVALID_STATE);
    /// assert_eq!(err.to_string(), "Error [ERR_INVALID_STATE]: Invalid state: no reactor");
    /// ```
    pub fn invalid_state(reason: &str) -> Error {
        Error::new(
            ErrorCode::ERR_INVALID_STATE,
            ErrorClass::Error,
            format!("Invalid state: {reason}"),
        )
    }
    /// The Node error an `io::Error` carries whole (made with `io::Error::from(Error)`,
    /// e.g. by a runtime adapter whose reason no errno names), if it is one.
    pub fn in_io(err: &io::Error) -> Option<&Error> {
        err.get_ref()?.downcast_ref::<Error>()
    }
    /// `ERR_BUFFER_FULL` (beyond Node): a write would grow the queue past the socket's
    /// opt-in `max_buffered_bytes` cap.
    pub fn buffer_full(limit: usize) -> Error {
        Error::new(
            ErrorCode::ERR_BUFFER_FULL,
            ErrorClass::RangeError,
            format!("Write would exceed the socket's max_buffered_bytes ({limit})"),
        )
    }
}

/// Node's code for an OS error (`io::Error::raw_os_error`), or the closest one for a
/// synthetic error that only has an `ErrorKind` (the code of a Node [`Error`] carried
/// whole, see [`Error::in_io`]).
pub fn code_from_io(err: &io::Error) -> ErrorCode {
    if let Some(node) = Error::in_io(err) {
        return node.code();
    }
    if let Some(raw) = err.raw_os_error() {
        if raw > 0 {
            return ErrorCode::from_errno(-raw);
        }
    }
    match err.kind() {
        io::ErrorKind::NotFound => ErrorCode::ENOENT,
        io::ErrorKind::PermissionDenied => ErrorCode::EACCES,
        io::ErrorKind::ConnectionRefused => ErrorCode::ECONNREFUSED,
        io::ErrorKind::ConnectionReset => ErrorCode::ECONNRESET,
        io::ErrorKind::ConnectionAborted => ErrorCode::ECONNABORTED,
        io::ErrorKind::NotConnected => ErrorCode::ENOTCONN,
        io::ErrorKind::AddrInUse => ErrorCode::EADDRINUSE,
        io::ErrorKind::AddrNotAvailable => ErrorCode::EADDRNOTAVAIL,
        io::ErrorKind::BrokenPipe => ErrorCode::EPIPE,
        io::ErrorKind::AlreadyExists => ErrorCode::EEXIST,
        io::ErrorKind::WouldBlock => ErrorCode::EAGAIN,
        io::ErrorKind::InvalidInput => ErrorCode::EINVAL,
        io::ErrorKind::TimedOut => ErrorCode::ETIMEDOUT,
        io::ErrorKind::Interrupted => ErrorCode::EINTR,
        io::ErrorKind::Unsupported => ErrorCode::ENOTSUP,
        io::ErrorKind::UnexpectedEof => ErrorCode::EOF,
        io::ErrorKind::OutOfMemory => ErrorCode::ENOMEM,
        io::ErrorKind::HostUnreachable => ErrorCode::EHOSTUNREACH,
        io::ErrorKind::NetworkUnreachable => ErrorCode::ENETUNREACH,
        _ => ErrorCode::Unknown(-4094),
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        let kind = err.inner.code.io_kind();
        io::Error::new(kind, err)
    }
}

/// `Result` with Node's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// `err.cause` and the errors of an aborted operation (Node's `AbortController`).
impl Error {
    /// Node's `err.cause`: for an `AbortError`, the reason the signal was aborted with.
    pub fn cause(&self) -> Option<&Error> {
        self.inner.cause.as_ref()
    }
    /// Set `cause` (builder style).
    pub fn with_cause(mut self, cause: Error) -> Error {
        self.inner.cause = Some(cause);
        self
    }
    /// The reason of a signal aborted without one: Node's
    /// `DOMException [AbortError]: This operation was aborted`.
    ///
    /// ```
    /// use nodenet_core::{Error, ErrorClass, ErrorCode};
    /// let reason = Error::abort_reason();
    /// assert_eq!((reason.code(), reason.class()), (ErrorCode::ABORT_ERR, ErrorClass::AbortError));
    /// assert_eq!(reason.message(), "This operation was aborted");
    /// ```
    pub fn abort_reason() -> Error {
        Error::new(
            ErrorCode::ABORT_ERR,
            ErrorClass::AbortError,
            "This operation was aborted",
        )
    }
    /// What an aborted operation fails with: Node's `new AbortError(undefined, { cause })`
    /// (`ABORT_ERR`, "The operation was aborted", `cause` the signal's reason).
    ///
    /// ```
    /// use nodenet_core::{Error, ErrorCode};
    /// let e = Error::aborted(Error::abort_reason());
    /// assert_eq!(e.code(), ErrorCode::ABORT_ERR);
    /// assert_eq!(e.message(), "The operation was aborted");
    /// assert_eq!(e.cause().map(Error::message), Some("This operation was aborted"));
    /// assert!(std::error::Error::source(&e).is_some());
    /// ```
    pub fn aborted(reason: Error) -> Error {
        Error::abort().with_cause(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_refused_shapes() {
        let e = Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.1", 9, None);
        assert_eq!(e.message(), "connect ECONNREFUSED 127.0.0.1:9");
        assert_eq!(e.port(), Some(9));
        assert_eq!(e.syscall(), Some("connect"));
        let e = Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.1", 0, None);
        assert_eq!(e.message(), "connect ECONNREFUSED 127.0.0.1");
        assert_eq!(e.port(), None);
        let e = Error::connect(
            ErrorCode::ECONNREFUSED,
            "127.0.0.1",
            9,
            Some(("0.0.0.0", 5000)),
        );
        assert_eq!(
            e.message(),
            "connect ECONNREFUSED 127.0.0.1:9 - Local (0.0.0.0:5000)"
        );
        assert_eq!(e.local_port(), Some(5000));
    }

    #[test]
    fn bind_and_listen_shapes() {
        let e = Error::with_host_port(ErrorCode::EADDRNOTAVAIL, "bind", "8.8.8.8", 0, None);
        assert_eq!(e.message(), "bind EADDRNOTAVAIL 8.8.8.8");
        let e = Error::listen(ErrorCode::EADDRINUSE, "::", 8080);
        assert_eq!(
            e.message(),
            "listen EADDRINUSE: address already in use :::8080"
        );
        assert_eq!(e.errno(), Some(-98));
        let e = Error::listen(ErrorCode::EADDRINUSE, "/tmp/nt/test.sock", 0);
        assert_eq!(
            e.message(),
            "listen EADDRINUSE: address already in use /tmp/nt/test.sock"
        );
        let e = Error::connect(ErrorCode::ENOENT, "/path", 0, None);
        assert_eq!(e.message(), "connect ENOENT /path");
        assert_eq!(e.address(), Some("/path"));
    }

    #[test]
    fn errno_and_generic_shapes() {
        let e = Error::errno_exception(ErrorCode::ECONNRESET, "read");
        assert_eq!((e.message(), e.errno()), ("read ECONNRESET", Some(-104)));
        let e = Error::ended_by_other_party();
        assert_eq!(e.code(), ErrorCode::EPIPE);
        assert_eq!(e.syscall(), None);
        let agg = Error::aggregate(vec![
            Error::connect(ErrorCode::ETIMEDOUT, "127.0.0.1", 1, None),
            Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.2", 1, None),
        ]);
        assert_eq!(agg.code(), ErrorCode::ETIMEDOUT);
        assert_eq!(agg.message(), "");
        assert_eq!(agg.errors().len(), 2);
        assert_eq!(agg.class(), ErrorClass::AggregateError);
        assert!(agg.to_string().contains("connect ECONNREFUSED 127.0.0.2:1"));
        assert_eq!(
            Error::aggregate(vec![]).code(),
            ErrorCode::ERR_SOCKET_CONNECTION_TIMEOUT
        );
    }

    #[test]
    fn node_err_messages() {
        assert_eq!(
            Error::bad_port("Port", "type number (-1)").message(),
            "Port should be >= 0 and < 65536. Received type number (-1)."
        );
        assert_eq!(
            Error::invalid_arg_value("options.family", "'foo'", None).message(),
            "The property 'options.family' is invalid. Received 'foo'"
        );
        assert_eq!(
            Error::invalid_arg_value(
                "options",
                "{}",
                Some("must have the property \"port\" or \"path\"")
            )
            .message(),
            "The argument 'options' must have the property \"port\" or \"path\". Received {}"
        );
        assert_eq!(
            Error::out_of_range("prefix", ">= 0 && <= 32", "33").message(),
            "The value of \"prefix\" is out of range. It must be >= 0 && <= 32. Received 33"
        );
        assert_eq!(
            Error::ip_blocked("1.2.3.4").message(),
            "IP(1.2.3.4) is blocked by net.BlockList"
        );
        assert_eq!(
            Error::invalid_address_family("5", "bad.test", 80).message(),
            "Invalid address family: 5 bad.test:80"
        );
    }

    #[test]
    fn io_conversion_round_trip() {
        let os = io::Error::from_raw_os_error(111);
        assert_eq!(code_from_io(&os), ErrorCode::ECONNREFUSED);
        let e = Error::from_io(&os, "connect");
        let io: io::Error = e.clone().into();
        assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused);
        let inner = io.get_ref().and_then(|e| e.downcast_ref::<Error>());
        assert_eq!(inner, Some(&e));
        assert_eq!(
            ErrorCode::from_name("EADDRINUSE"),
            Some(ErrorCode::EADDRINUSE)
        );
        assert_eq!(ErrorCode::from_errno(-98), ErrorCode::EADDRINUSE);
        assert_eq!(ErrorCode::from_errno(-7777), ErrorCode::Unknown(-7777));
    }

    #[test]
    fn a_node_error_carried_in_an_io_error_keeps_its_code() {
        let e = Error::invalid_state("no reactor");
        let io: io::Error = e.clone().into();
        assert_eq!(Error::in_io(&io), Some(&e));
        assert_eq!(code_from_io(&io), ErrorCode::ERR_INVALID_STATE);
        assert_eq!(Error::in_io(&io::Error::other("plain")), None);
        assert_eq!(
            code_from_io(&io::Error::other("plain")),
            ErrorCode::Unknown(-4094)
        );
    }
}
