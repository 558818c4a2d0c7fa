//! `nodenet`: socket construction and socket options, written once with socket2 and
//! shared by the three backends (std, smol, tokio).
//!
//! This crate decides nothing about Node's rules: it performs exactly the operation the
//! core asked for (bind this address with these flags, set keep-alive to these values)
//! and reports what the kernel said, including *which step* failed, because Node reports
//! bind and listen failures differently. Everything is created non-blocking or blocking as
//! the caller asks, so the async backends can wrap the std sockets built here
//! (`async_io::Async::new`, `tokio::net::TcpStream::from_std`).
//!
//! The values match libuv on Linux: `SO_REUSEADDR` on every TCP bind; keep-alive as
//! `SO_KEEPALIVE=1`, `TCP_KEEPIDLE=delay`, `TCP_KEEPINTVL=1`, `TCP_KEEPCNT=10` (a delay of 0
//! leaves the kernel's idle/interval/count untouched); `SO_LINGER {on, 0}` for a reset.

#![warn(missing_docs)]

mod options;
mod tcp;
#[cfg(unix)]
mod unix;

pub use options::{keep_alive_settings, set_keep_alive, set_linger_zero, set_no_delay, KeepAlive};
pub use tcp::{tcp_connect, tcp_listen, ConnectStart};
#[cfg(unix)]
pub use unix::{unix_connect, unix_listen, UnixConnectStart};

use std::io;

/// The step of a bind/listen or connect sequence that failed. Node words these
/// differently (`bind EADDRINUSE 127.0.0.1:5000` versus `listen EADDRINUSE: address
/// already in use :::8124`), so the core needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Creating the socket or setting an option on it before bind.
    Socket,
    /// `bind(2)`.
    Bind,
    /// `listen(2)`.
    Listen,
    /// `connect(2)` (a synchronous failure; asynchronous ones surface later).
    Connect,
    /// `chmod` of a Unix socket file (`readableAll` / `writableAll`).
    Chmod,
}

/// An OS error together with the step that produced it.
#[derive(Debug)]
pub struct StepError {
    /// Which step failed.
    pub step: Step,
    /// What the kernel said.
    pub error: io::Error,
}

impl StepError {
    pub(crate) fn at(step: Step) -> impl FnOnce(io::Error) -> StepError {
        move |error| StepError { step, error }
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.step, self.error)
    }
}

impl std::error::Error for StepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

pub mod driver;

#[doc(hidden)]
pub use bytes as __bytes;
#[doc(hidden)]
pub use nodenet_core as __core;
