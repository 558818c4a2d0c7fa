//! Read completions that wait for the previous read callback's ticks.
//!
//! In Node every libuv read callback is its own `MakeCallback`: when the `'data'` (or
//! `'end'`, `'error'`) handlers of one read return, the nextTick queue runs (write
//! callbacks, `'drain'`, `'finish'`, what `end()` or `destroy()` deferred) before the
//! next read's callback — even when libuv read twice in one `uv__read` loop. A backend
//! may report such reads back to back, before the user handled the first one (nodenet's
//! driver reads again at once after a connection's first partial read). The socket keeps
//! a read reported while earlier events or ticks are still undelivered here, and runs it
//! from [`poll_event`](super::Socket::poll_event) once they all were: the second read
//! then sees the socket as the user left it (paused, ended, destroyed: a destroyed socket
//! drops it, as Node's closed handle reads no more).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use crate::error::ErrorCode;

use super::Socket;

/// One read completion, as the backend reported it.
#[derive(Debug)]
pub(crate) enum LaterRead {
    /// `handle_data`.
    Data(Bytes),
    /// `handle_eof`.
    Eof,
    /// `handle_read_error`.
    Error(ErrorCode),
}

/// The waiting reads, oldest first. Boxed and rarely used (a burst of reads): an idle
/// connection pays one pointer.
#[derive(Debug, Default)]
pub(crate) struct LaterReads(Option<Box<VecDeque<(LaterRead, Instant)>>>);

impl LaterReads {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|q| q.is_empty())
    }

    fn push(&mut self, read: LaterRead, at: Instant) {
        self.0.get_or_insert_default().push_back((read, at));
    }

    pub(crate) fn pop(&mut self) -> Option<(LaterRead, Instant)> {
        self.0.as_mut()?.pop_front()
    }

    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }

    pub(crate) fn release_if_empty(&mut self) {
        if self.is_empty() {
            self.0 = None;
        }
    }

    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |q| {
            std::mem::size_of::<VecDeque<(LaterRead, Instant)>>()
                + q.capacity() * std::mem::size_of::<(LaterRead, Instant)>()
        })
    }
}

impl Socket {
    /// Keep `read` for later when the previous read callback is not over yet (its events
    /// or ticks are undelivered, or reads wait already); `Some(read)` when it runs now.
    pub(crate) fn defer_read(&mut self, read: LaterRead, now: Instant) -> Option<LaterRead> {
        let busy =
            !self.events.is_empty() || !self.ticks.is_empty() || !self.later_reads.is_empty();
        if busy && self.is_open() {
            self.last_now = Some(now);
            self.later_reads.push(read, now);
            None
        } else {
            Some(read)
        }
    }

    /// Node's next read callback, once every tick of the previous one ran.
    pub(crate) fn run_later_read(&mut self, read: LaterRead, at: Instant) {
        // An input made since (a write inside the user's handler) may carry a later time.
        let now = self.last_now.map_or(at, |t| t.max(at));
        match read {
            LaterRead::Data(data) => self.read_data(data, now),
            LaterRead::Eof => self.read_eof(now),
            LaterRead::Error(code) => self.read_error(code, now),
        }
    }
}
