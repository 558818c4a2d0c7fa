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
//!
//! What libuv completes only after the reads of the current readiness (the rest of a
//! write the kernel did not take inside `write()`, the FIN's shutdown callback) waits
//! behind those reads too when the backend completes it inside the user's handler while
//! reads wait: its callbacks, `Drain` and `Finish` then follow them, as in Node.

use std::time::Instant;

use bytes::Bytes;

use crate::error::ErrorCode;

use super::events::WriteId;
use super::inline_deque::InlineDeque;
use super::state::Tick;
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
    /// A write completion reported while reads wait (the rest of a write the kernel did
    /// not take inside `write()`, sent by the backend still inside the user's handler):
    /// libuv completes such a write after the reads of the current readiness (its
    /// callback is fed to the next loop iteration), so the callbacks of the writes it
    /// finished and the `Drain` check wait behind those reads. The bytes left the queue
    /// at once; `bytes` is the whole length of the writes it finished, which Node's
    /// Writable `state.length` keeps counting until their completion runs.
    Written {
        /// The callbacks of the writes it finished, in write order.
        done: Vec<WriteId>,
        /// The full length of the writes it finished.
        bytes: usize,
    },
    /// The FIN completed while reads wait: libuv's shutdown callback comes after the
    /// reads of the current readiness too, so `Finish` waits behind them.
    Shutdown,
}

/// The waiting reads, oldest first, and the bytes of reads a destroy dropped. Boxed and
/// rarely used (a burst of reads): an idle connection pays one pointer.
#[derive(Debug, Default)]
pub(crate) struct LaterReads(Option<Box<Waiting>>);

#[derive(Debug, Default)]
struct Waiting {
    /// The first waiting read inline: a burst is usually one read behind the current
    /// one, and then its box is the only allocation.
    queue: InlineDeque<(LaterRead, Instant)>,
    /// Bytes of reads that were waiting when the socket was destroyed: the backend took
    /// them from the kernel, no read callback ever delivered them.
    dropped: u64,
}

impl LaterReads {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|w| w.queue.is_empty())
    }

    fn push(&mut self, read: LaterRead, at: Instant) {
        let queue = &mut self.0.get_or_insert_default().queue;
        if queue.len() == 1 {
            // Reads wait in bursts: one allocation rather than a growth per doubling.
            queue.reserve_rest(8);
        }
        queue.push_back((read, at));
    }

    /// Bytes of the waiting reads.
    #[inline]
    fn waiting_bytes(&self) -> u64 {
        self.0.as_ref().map_or(0, |w| {
            w.queue
                .iter()
                .map(|(r, _)| match r {
                    LaterRead::Data(d) => d.len() as u64,
                    _ => 0,
                })
                .sum()
        })
    }

    /// A write completion waits (see [`LaterRead::Written`]).
    #[inline]
    fn has_write_completion(&self) -> bool {
        self.0.as_ref().is_some_and(|w| {
            w.queue
                .iter()
                .any(|(r, _)| matches!(r, LaterRead::Written { .. }))
        })
    }

    /// The length of the writes whose completion waits (see [`LaterRead::Written`]).
    #[inline]
    fn unreported_write_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |w| {
            w.queue
                .iter()
                .map(|(r, _)| match r {
                    LaterRead::Written { bytes, .. } => *bytes,
                    _ => 0,
                })
                .sum()
        })
    }

    #[inline]
    fn dropped_bytes(&self) -> u64 {
        self.0.as_ref().map_or(0, |w| w.dropped)
    }

    pub(crate) fn pop(&mut self) -> Option<(LaterRead, Instant)> {
        self.0.as_mut()?.queue.pop_front()
    }

    /// The socket was destroyed: the waiting reads never run (their bytes are counted).
    /// Returns the writes whose completion waited: they did complete.
    pub(crate) fn drop_waiting(&mut self) -> Vec<WriteId> {
        let bytes = self.waiting_bytes();
        let Some(w) = &mut self.0 else {
            return Vec::new();
        };
        w.dropped += bytes;
        let mut queue = std::mem::take(&mut w.queue);
        let done = queue
            .drain()
            .flat_map(|(r, _)| match r {
                LaterRead::Written { done, .. } => done,
                _ => Vec::new(),
            })
            .collect();
        done
    }

    /// A new connection (`connect()` after `destroy()`) starts from nothing.
    pub(crate) fn reset(&mut self) {
        self.0 = None;
    }

    #[inline]
    pub(crate) fn release_if_empty(&mut self) {
        if self.is_empty() && self.dropped_bytes() == 0 {
            self.0 = None;
        }
    }

    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |w| std::mem::size_of::<Waiting>() + w.queue.heap_bytes())
    }
}

impl Socket {
    /// Beyond Node: every byte the backend reported with
    /// [`handle_data`](Socket::handle_data) on this connection, whether its read callback
    /// ran ([`bytes_read`](Socket::bytes_read)), still waits for the previous read's
    /// events and ticks, or never will (a `destroy()` came first; in Node that read never
    /// happened, so it is not in `bytes_read`). What the backend took from the kernel,
    /// for a backend that checks its own accounting.
    #[inline]
    pub fn bytes_received(&self) -> u64 {
        self.bytes_read + self.later_reads.waiting_bytes() + self.later_reads.dropped_bytes()
    }

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

    /// Whether IO callbacks wait for the current one's events and ticks: a completion
    /// reported now is then the backend's, inside the user's handler (see
    /// [`LaterRead::Written`]).
    pub(crate) fn reads_waiting(&self) -> bool {
        !self.later_reads.is_empty()
    }

    /// A write's completion waits behind reads: for Node that write is still in flight,
    /// so a new one queues behind it instead of being tried at once (its callback then
    /// follows the earlier one's, in write order).
    #[inline]
    pub(crate) fn write_in_flight_behind_reads(&self) -> bool {
        self.later_reads.has_write_completion()
    }

    /// Bytes of writes the backend finished whose completion the user has not been told
    /// of yet (it waits behind reads): Node's `state.length` still counts them, so they
    /// count toward the next `write()`'s return value.
    #[inline]
    pub(crate) fn unreported_write_bytes(&self) -> usize {
        self.later_reads.unreported_write_bytes()
    }

    /// Keep a completion for its turn behind the waiting reads.
    pub(crate) fn defer_completion(&mut self, completion: LaterRead, now: Instant) {
        self.later_reads.push(completion, now);
    }

    /// Node's next read callback, once every tick of the previous one ran.
    pub(crate) fn run_later_read(&mut self, read: LaterRead, at: Instant) {
        // An input made since (a write inside the user's handler) may carry a later time.
        let now = self.last_now.map_or(at, |t| t.max(at));
        match read {
            LaterRead::Data(data) => self.read_data(data, now),
            LaterRead::Eof => self.read_eof(now),
            LaterRead::Error(code) => self.read_error(code, now),
            LaterRead::Written { done, .. } => {
                // Node's afterWrite: `'drain'` when nothing is left and one is due. A
                // later write whose own completion still waits behind reads does not
                // count: Node dispatches it from this write's completion (clearBuffer),
                // where the kernel takes it at once, as it did for the backend.
                if self.need_drain && self.queue.is_empty() && !self.ending {
                    self.need_drain = false;
                    self.ticks.push_back(Tick::Drain);
                }
                for id in done {
                    self.ticks.push_back(Tick::WriteDone(id, None));
                }
            }
            LaterRead::Shutdown => self.ticks.push_back(Tick::Finish),
        }
    }
}
