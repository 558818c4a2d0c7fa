//! The socket's lifecycle flags and what Node derives from them (`readyState`,
//! `readable`, `writable`, `pending`), §1.2. Node stores no state name: every property
//! is a formula over a few flags, and reproducing the formulas is what keeps quirks such
//! as "a never-connected socket is `open`" exact.

/// Node's `socket.readyState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// `'opening'`: a connect is in progress.
    Opening,
    /// `'open'`: readable and writable (also a brand-new, never-connected socket).
    Open,
    /// `'readOnly'`: the write side ended (or errored).
    ReadOnly,
    /// `'writeOnly'`: the peer's end was delivered (`End`) and the write side is open.
    WriteOnly,
    /// `'closed'`.
    Closed,
}

impl ReadyState {
    /// Node's string.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadyState::Opening => "opening",
            ReadyState::Open => "open",
            ReadyState::ReadOnly => "readOnly",
            ReadyState::WriteOnly => "writeOnly",
            ReadyState::Closed => "closed",
        }
    }
}

/// What kind of OS handle the socket has (Node's `TCP` / `Pipe` wraps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandleKind {
    /// A TCP socket.
    Tcp,
    /// A Unix domain socket (Node's "pipe").
    Pipe,
}

/// Work Node defers to `process.nextTick`: run before the next IO completion, or by
/// `handle_timeout` (the socket then reports `poll_timeout() == last now`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Start the connect to an IP literal (Node connects on the next tick).
    StartConnect,
    /// `allowHalfOpen: false`: the automatic `end()` after `'end'`.
    AutoEnd,
    /// A deferred `destroy(err)`.
    Destroy(crate::error::Error),
    /// A write callback with an error that Node delivers on the next tick.
    WriteFailed(super::events::WriteId, crate::error::Error),
    /// Happy eyeballs with a local port: no bind failure was reported for the attempt
    /// whose combined bind+connect command went out at the given time, so it is bound.
    BindDone(crate::options::AttemptId, std::time::Instant),
}
