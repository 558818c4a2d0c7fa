//! The write side (§3.1, §3.2, §2 rules 5, 10–15): `write` with Node's return value and
//! error cases, `end`, flushing queued data to the backend, `Drain`, per-write
//! completions, the FIN (`Shutdown`) and `Finish`.

use std::time::Instant;

use bytes::Bytes;

use crate::error::{Error, ErrorCode};

use super::events::{Command, SocketEvent, WriteId, WriteResult};
use super::state::Tick;
use super::Socket;

impl Socket {
    /// `socket.write(data)`: queue `data` and return Node's boolean (`ok == false` means
    /// wait for `Drain`) with the id its [`SocketEvent::WriteDone`] will carry.
    ///
    /// Writes while connecting are queued and flushed after `Connect`. Failures, as in
    /// Node: after `end()` → `ERR_STREAM_WRITE_AFTER_END` (then `Error`, `Close`); after
    /// the peer's end once the automatic end ran → `EPIPE` "This socket has been ended by
    /// the other party" (then `Error`, `Close`); after destroy → `ERR_STREAM_DESTROYED`
    /// (no `Error` event); on a socket that never connected → `ERR_SOCKET_CLOSED` (then
    /// `Error`, `Close` without argument, on the next tick).
    pub fn write(&mut self, data: Bytes, now: Instant) -> WriteResult {
        self.last_now = Some(now);
        self.next_write += 1;
        let id = WriteId(self.next_write);
        let fail = |s: &mut Socket, err: Error| {
            s.events.push_back(SocketEvent::WriteDone {
                id,
                result: Err(err),
            });
            WriteResult { id, ok: false }
        };
        if self.destroyed {
            return fail(self, Error::stream_destroyed("write"));
        }
        if self.ending {
            let err = if self.write_after_fin {
                Error::ended_by_other_party()
            } else {
                Error::write_after_end()
            };
            let r = fail(self, err.clone());
            self.destroy_inner(Some(err), false);
            return r;
        }
        if let Some(limit) = self.max_buffered {
            if self.queue.len().saturating_add(data.len()) > limit {
                return fail(self, Error::buffer_full(limit));
            }
        }
        if self.handle.is_none() && !self.connecting {
            // §2 rule 13: the callback and the destroy run on the next tick.
            let err = Error::socket_closed();
            self.ticks.push_back(Tick::WriteFailed(id, err.clone()));
            if !self.errored {
                self.errored = true;
                self.ticks.push_back(Tick::Destroy(err));
            }
            return WriteResult { id, ok: false };
        }
        if self.connecting && self.queue.is_empty() {
            self.pending_write = Some(id);
        }
        self.queue.push(id, data);
        if self.is_open() {
            self.timer.refresh(now);
            self.flush(now);
        }
        let len = self.queue.len();
        let ok = len < self.high_water_mark || len == 0;
        if !ok {
            self.need_drain = true;
        }
        WriteResult { id, ok }
    }

    /// `socket.end()`: finish the write side once queued data is written (FIN, then
    /// `Finish`). While connecting it waits for `Connect`; a socket that never connects
    /// never finishes (Node v20). `Err` is what Node passes to `end`'s callback:
    /// `ERR_STREAM_DESTROYED` after destroy, `ERR_STREAM_ALREADY_FINISHED` after `Finish`.
    pub fn end(&mut self, now: Instant) -> Result<(), Error> {
        self.last_now = Some(now);
        if self.destroyed {
            return Err(Error::stream_destroyed("end"));
        }
        if self.finished {
            return Err(Error::stream_already_finished("end"));
        }
        if !self.errored && !self.ending {
            self.end_inner(now);
        }
        Ok(())
    }

    /// `socket.end(data)`: `write(data)` then `end()`; returns the write's result.
    pub fn end_with(&mut self, data: Bytes, now: Instant) -> WriteResult {
        let r = self.write(data, now);
        let _ = self.end(now);
        r
    }

    pub(crate) fn end_inner(&mut self, now: Instant) {
        self.ending = true;
        if self.is_open() {
            self.flush(now);
        }
    }

    /// Hand queued data to the backend, or send the FIN once everything is written.
    pub(crate) fn flush(&mut self, now: Instant) {
        // Zero-length writes at the head complete without IO.
        let events = &mut self.events;
        self.queue.advance(0, |id| {
            events.push_back(SocketEvent::WriteDone { id, result: Ok(()) })
        });
        if !self.queue.is_empty() {
            if !self.write_armed {
                self.write_armed = true;
                self.commands.push_back(Command::Write);
            }
            return;
        }
        self.write_armed = false;
        if self.ending && !self.shutdown_sent {
            self.shutdown_sent = true;
            let _ = now;
            self.commands.push_back(Command::Shutdown);
        }
    }

    /// The queued bytes, oldest first, for the backend to write (zero-copy; pass them to
    /// one `writev`). Empty unless the socket is connected.
    pub fn write_chunks(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let open = self.is_open();
        self.queue.chunks().filter(move |_| open)
    }

    /// The first chunk of [`write_chunks`](Socket::write_chunks).
    pub fn peek_write(&self) -> Option<&[u8]> {
        self.write_chunks().next()
    }

    /// The backend wrote `n` more bytes from the front of the queue. Completes the writes
    /// that are now fully written (`Drain` first when due, then their `WriteDone`s, as
    /// Node orders them), refreshes the idle timer, and sends the FIN when `end()` is
    /// waiting for an empty queue.
    pub fn handle_written(&mut self, now: Instant, n: usize) {
        self.input(now);
        if !self.is_open() {
            return;
        }
        self.timer.refresh(now);
        let mark = self.events.len();
        let events = &mut self.events;
        self.queue.advance(n, |id| {
            events.push_back(SocketEvent::WriteDone { id, result: Ok(()) })
        });
        if self.need_drain && self.queue.is_empty() && !self.ending {
            self.need_drain = false;
            self.events.insert(mark, SocketEvent::Drain);
        }
        if self.queue.is_empty() {
            self.flush(now);
        }
    }

    /// Writing failed with `code`: the pending writes fail with `write <CODE>`, then
    /// `Error` and `Close`.
    pub fn handle_write_error(&mut self, now: Instant, code: ErrorCode) {
        self.input(now);
        if !self.is_open() {
            return;
        }
        self.destroy_inner(Some(Error::errno_exception(code, "write")), false);
    }

    /// The FIN requested by [`Command::Shutdown`] went out (Node ignores the shutdown
    /// status, so there is no error form): emits `Finish`, and closes the socket when the
    /// read side already ended (or `destroy_soon` asked for it).
    pub fn handle_shutdown(&mut self, now: Instant) {
        self.input(now);
        if !self.is_open() || !self.shutdown_sent || self.finished {
            return;
        }
        self.finished = true;
        self.events.push_back(SocketEvent::Finish);
        if self.destroy_on_finish || self.end_emitted {
            self.destroy_inner(None, false);
        }
    }
}
