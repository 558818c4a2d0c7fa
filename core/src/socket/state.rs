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

use super::events::{SocketEvent, WriteId};
use crate::error::Error;

/// Work Node defers to `process.nextTick`, in Node's FIFO order. [`Socket::poll_event`]
/// runs a tick once every event queued before it was handed out (the user's handlers
/// ran); `handle_timeout` runs the pending ones.
/// A step Node runs right after an event's handlers (the code after `emit(...)`) is
/// queued at the front when that event is emitted.
///
/// [`Socket::poll_event`]: super::Socket::poll_event
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    /// A write callback Node runs on a tick (kept small: the hot path of every write).
    WriteDone(WriteId, Option<Error>),
    /// `'drain'` after a write that completed inside the user's call.
    Drain,
    /// Any other event Node emits from a tick: `'error'`, the handle-less `'close'`, ...
    Emit(Box<SocketEvent>),
    /// Start the connect to an IP literal (Node connects on the next tick).
    StartConnect,
    /// `allowHalfOpen: false`: the automatic `end()` after `'end'` (endWritableNT).
    AutoEnd,
    /// A deferred `destroy(err)`.
    Destroy(Error),
    /// Happy eyeballs with a local port: no bind failure was reported for the attempt
    /// whose combined bind+connect command went out at the given time, so it is bound.
    BindDone(crate::options::AttemptId, std::time::Instant),
    /// `resume()`'s `resume_`: deliver what was buffered while paused, read again.
    Flow,
    /// endReadableNT: emit `'end'` unless the stream was destroyed meanwhile.
    EndReadable,
    /// What endReadableNT does once the `'end'` handlers returned: schedule the automatic
    /// `end()`, or destroy when the write side already finished.
    AfterEnd,
    /// Writable's finish(): `'finish'` on the tick after the FIN completed.
    Finish,
    /// What finish() does once the `'finish'` handlers returned: `destroySoon`'s destroy,
    /// the autoDestroy when `'end'` was already emitted.
    AfterFinish,
}

impl Tick {
    /// The tick that emits `ev`.
    pub(crate) fn emit(ev: SocketEvent) -> Tick {
        match ev {
            SocketEvent::WriteDone { id, result } => Tick::WriteDone(id, result.err()),
            SocketEvent::Drain => Tick::Drain,
            other => Tick::Emit(Box::new(other)),
        }
    }

    /// Whether the tick only emits an event.
    pub(crate) fn is_event(&self) -> bool {
        matches!(self, Tick::WriteDone(..) | Tick::Drain | Tick::Emit(_))
    }

    /// The event the tick emits, or the tick itself when it is work to run.
    pub(crate) fn into_event(self) -> Result<SocketEvent, Tick> {
        match self {
            Tick::WriteDone(id, err) => Ok(SocketEvent::WriteDone {
                id,
                result: err.map_or(Ok(()), Err),
            }),
            Tick::Drain => Ok(SocketEvent::Drain),
            Tick::Emit(ev) => Ok(*ev),
            other => Err(other),
        }
    }
}
