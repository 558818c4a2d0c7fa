//! The write side (§3.1, §3.2, §2 rules 5, 10–15): `write` with Node's return value and
//! error cases, `end`, flushing queued data to the backend, `Drain`, per-write
//! completions, the FIN (`Shutdown`) and `Finish`.

use std::time::Instant;

use bytes::Bytes;

use crate::error::{Error, ErrorCode};

use super::events::{Command, SocketEvent, WriteId, WriteResult};
use super::later_reads::LaterRead;
use super::state::Tick;
use super::Socket;

impl Socket {
    /// `socket.write(data, callback)`: queue `data` and return Node's boolean (`ok ==
    /// false` means wait for `Drain`) with the id its [`SocketEvent::WriteDone`] (the
    /// callback) will carry.
    ///
    /// Writes while connecting are queued and flushed after `Connect`. Failures, as in
    /// Node (the `WriteDone` always on the next tick, before anything else it causes):
    /// after `end()` → `ERR_STREAM_WRITE_AFTER_END` (then `Error`, `Close`); after the
    /// peer's end once the write side ended (with `allow_half_open` false) → `EPIPE`
    /// "This socket has been ended by the other party" (then `Error`, `Close`); after
    /// destroy → `ERR_STREAM_DESTROYED` (no `Error` event); on a socket that never
    /// connected → `ERR_SOCKET_CLOSED` (then `Error`, `Close` without argument).
    ///
    /// The writes are named as in the user API (`nodenet::Socket`): `write` has no
    /// completion, `write_tracked` has one; the `_dispatch` forms also try the kernel
    /// at once. The return value here is computed as if nothing could be written before
    /// `write_tracked` returns; a backend that can write synchronously (Node's libuv
    /// `try_write`) should use [`write_tracked_dispatch`](Socket::write_tracked_dispatch)
    /// to get Node's answer.
    pub fn write_tracked(&mut self, data: Bytes, now: Instant) -> WriteResult {
        self.write_inner(
            data,
            now,
            true,
            None::<fn(&Bytes) -> Result<usize, ErrorCode>>,
        )
    }

    /// `socket.write(data)` without a callback: [`write_tracked`](Socket::write_tracked)
    /// except that no [`SocketEvent::WriteDone`] follows (see
    /// [`write_dispatch`](Socket::write_dispatch) for what is then reported where).
    pub fn write(&mut self, data: Bytes, now: Instant) -> bool {
        self.write_inner(
            data,
            now,
            false,
            None::<fn(&Bytes) -> Result<usize, ErrorCode>>,
        )
        .ok
    }

    /// `socket.write(data)` with Node's synchronous dispatch: when the socket is
    /// connected and no earlier write is still in flight (the queue was empty), `dispatch`
    /// is called once with `data` (the queued `Bytes` itself, which a backend may keep
    /// rather than copy) — try to write it now without blocking and return how
    /// many bytes went out (`Ok(0)` for "would block"), or the error code. Only then is
    /// Node's return value computed (§3.1: `writableLength < highWaterMark ||
    /// writableLength == 0` after the dispatch attempt), so a fully dispatched write
    /// returns `true` whatever its size and is followed by no `Drain`; a partly
    /// dispatched one still counts in full (Node releases a write's length only when the
    /// whole write completes), may return `false`, and then gets `Drain` once the rest
    /// was reported with [`handle_written`](Socket::handle_written) and the queue is
    /// empty. Bytes that were not dispatched are left to the usual [`Command::Write`]
    /// loop. A dispatch error destroys the socket like
    /// [`handle_write_error`](Socket::handle_write_error) and returns `false`.
    ///
    /// In every other state (connecting, writes pending, ended, destroyed) it is exactly
    /// [`write_tracked`](Socket::write_tracked) and `dispatch` is not called.
    ///
    /// ```
    /// use std::time::Instant;
    /// use bytes::Bytes;
    /// use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
    /// use nodenet_core::SocketOptions;
    ///
    /// let now = Instant::now();
    /// let mut sock = Socket::new(SocketOptions::default());
    /// sock.connect(ConnectOptions::tcp(80, "127.0.0.1"), now).unwrap();
    /// sock.handle_timeout(now); // Node's tick: the connect starts
    /// let Some(Command::Connect { attempt, .. }) = sock.poll_command() else { panic!() };
    /// sock.handle_connected(attempt, None, now);
    /// while sock.poll_event().is_some() {}
    ///
    /// // The kernel takes all 16 KiB at once: Node's write() returns true.
    /// let r = sock.write_tracked_dispatch(Bytes::from(vec![0u8; 16384]), |chunk| Ok(chunk.len()), now);
    /// assert!(r.ok);
    /// assert_eq!(sock.writable_length(), 0);
    /// assert_eq!(sock.poll_event(), Some(SocketEvent::WriteDone { id: r.id, result: Ok(()) }));
    /// ```
    pub fn write_tracked_dispatch(
        &mut self,
        data: Bytes,
        dispatch: impl FnOnce(&Bytes) -> Result<usize, ErrorCode>,
        now: Instant,
    ) -> WriteResult {
        self.write_inner(data, now, true, Some(dispatch))
    }

    /// `socket.write(data)` with no callback: exactly
    /// [`write_tracked_dispatch`](Socket::write_tracked_dispatch)
    /// (same dispatch, queueing, return value, `Drain` and failures) except that no
    /// [`SocketEvent::WriteDone`] ever follows, as Node calls no callback that was not
    /// given. A failure Node reports through `'error'` still arrives as
    /// [`SocketEvent::Error`]; the ones Node reports only to the callback (a write after
    /// `destroy`, a refused write over `max_buffered_bytes`) show only in the `false`.
    ///
    /// For a user who never looks at completions this saves an event per write, which is
    /// what the backends' plain `write` uses.
    ///
    /// ```
    /// use std::time::Instant;
    /// use bytes::Bytes;
    /// use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
    /// use nodenet_core::SocketOptions;
    ///
    /// let now = Instant::now();
    /// let mut sock = Socket::new(SocketOptions::default());
    /// sock.connect(ConnectOptions::tcp(80, "127.0.0.1"), now).unwrap();
    /// sock.handle_timeout(now); // Node's tick: the connect starts
    /// let Some(Command::Connect { attempt, .. }) = sock.poll_command() else { panic!() };
    /// sock.handle_connected(attempt, None, now);
    /// while sock.poll_event().is_some() {}
    ///
    /// let ok = sock.write_dispatch(Bytes::from_static(b"hi"), |c| Ok(c.len()), now);
    /// assert!(ok);
    /// assert_eq!(sock.bytes_written(), 2);
    /// assert_eq!(sock.poll_event(), None); // no WriteDone
    /// ```
    pub fn write_dispatch(
        &mut self,
        data: Bytes,
        dispatch: impl FnOnce(&Bytes) -> Result<usize, ErrorCode>,
        now: Instant,
    ) -> bool {
        self.write_inner(data, now, false, Some(dispatch)).ok
    }

    fn write_inner(
        &mut self,
        data: Bytes,
        now: Instant,
        callback: bool,
        dispatch: Option<impl FnOnce(&Bytes) -> Result<usize, ErrorCode>>,
    ) -> WriteResult {
        self.last_now = Some(now);
        // A write without a callback carries `NO_CALLBACK`, which every completion skips.
        let id = if callback {
            self.next_write += 1;
            WriteId(self.next_write)
        } else {
            WriteId::NO_CALLBACK
        };
        // Node calls the callback of a refused write on the next tick.
        let fail = |s: &mut Socket, err: Error| {
            if callback {
                let ev = SocketEvent::WriteDone {
                    id,
                    result: Err(err),
                };
                s.ticks.push_back(Tick::emit(ev));
            }
            WriteResult { id, ok: false }
        };
        // Node checks `ending` before `destroyed`; once the peer's 'end' was emitted
        // (allowHalfOpen false) an ended socket's write is writeAfterFIN's EPIPE.
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
        if self.destroyed {
            return fail(self, Error::stream_destroyed("write"));
        }
        if let Some(limit) = self.max_buffered {
            if self.queue.len().saturating_add(data.len()) > limit {
                // `false` means "wait for Drain": promise one when the queue empties.
                if !self.queue.is_empty() {
                    self.need_drain = true;
                }
                return fail(self, Error::buffer_full(limit));
            }
        }
        if self.handle.is_none() && !self.connecting {
            // §2 rule 13: the callback and the destroy run on the next tick.
            let err = Error::socket_closed();
            if callback {
                let ev = SocketEvent::WriteDone {
                    id,
                    result: Err(err.clone()),
                };
                self.ticks.push_back(Tick::emit(ev));
            }
            if !self.errored {
                self.errored = true;
                self.ticks.push_back(Tick::Destroy(err));
            }
            return WriteResult { id, ok: false };
        }
        if callback && self.connecting && self.queue.is_empty() {
            self.pending_write = Some(id);
        }
        // Node dispatches at once only when no earlier write is in flight.
        let idle = self.queue.is_empty() && !self.write_in_flight_behind_reads();
        let sync = dispatch.filter(|_| idle && self.is_open() && !data.is_empty());
        if let Some(dispatch) = sync {
            self.timer.refresh(now);
            // Tried before it is queued: a write the kernel takes whole (the usual case)
            // is accounted as queued-then-written without entering the queue.
            match dispatch(&data) {
                Ok(n) if n >= data.len() => {
                    self.queue.record_sent(data.len());
                    if callback {
                        self.ticks.push_back(Tick::WriteDone(id, None));
                    }
                }
                Ok(n) => {
                    self.queue.push(id, data);
                    self.advance_written(n);
                }
                Err(code) => {
                    self.queue.push(id, data);
                    let err = Error::errno_exception(code, "write");
                    self.destroy_with(Some(err), false, true);
                    return WriteResult { id, ok: false };
                }
            }
            self.flush();
        } else {
            self.queue.push(id, data);
            if self.is_open() {
                self.timer.refresh(now);
                self.flush();
            }
        }
        // Node's `state.length`: a write the backend finished while reads wait is still
        // in flight for Node until its completion runs behind them.
        let len = self.queue.node_len() + self.unreported_write_bytes();
        let ok = len < self.high_water_mark || len == 0;
        if !ok {
            self.need_drain = true;
        }
        WriteResult { id, ok }
    }

    /// `socket.end()`: finish the write side once queued data is written (FIN, then
    /// `Finish` on the next tick). While connecting it waits for `Connect`; a socket that
    /// never connects never finishes (Node v20). `Err` is what Node passes to `end`'s
    /// callback: `ERR_STREAM_ALREADY_FINISHED` after `Finish`, `ERR_STREAM_DESTROYED`
    /// after a destroy that ended or errored the stream. After a plain `destroy()` it is
    /// Node's silent no-op: `Ok`, only `writable_ended` turns true (Node never calls that
    /// callback).
    pub fn end(&mut self, now: Instant) -> Result<(), Error> {
        self.last_now = Some(now);
        if !self.ending && !self.errored {
            if self.destroyed {
                self.ending = true;
            } else {
                self.end_inner();
            }
            return Ok(());
        }
        if self.finished {
            return Err(Error::stream_already_finished("end"));
        }
        if self.destroyed {
            return Err(Error::stream_destroyed("end"));
        }
        Ok(())
    }

    /// `socket.end(data)`: [`write`](Socket::write) then [`end`](Socket::end); returns
    /// the write's boolean. As in Node, the data gets no completion of its own.
    pub fn end_with(&mut self, data: Bytes, now: Instant) -> bool {
        let ok = self.write(data, now);
        let _ = self.end(now);
        ok
    }

    /// [`end_with`](Socket::end_with) whose write is tracked like
    /// [`write_tracked`](Socket::write_tracked) (beyond Node, which has no callback for
    /// `end`'s data): returns the write's result, whose `WriteDone` follows.
    pub fn end_tracked_with(&mut self, data: Bytes, now: Instant) -> WriteResult {
        let r = self.write_tracked(data, now);
        let _ = self.end(now);
        r
    }

    pub(crate) fn end_inner(&mut self) {
        self.ending = true;
        if self.is_open() {
            self.flush();
        }
    }

    /// Hand queued data to the backend, or send the FIN once everything is written.
    #[inline]
    pub(crate) fn flush(&mut self) {
        // Zero-length writes at the head complete without IO (their callback on a tick).
        let ticks = &mut self.ticks;
        self.queue
            .advance(0, |id| ticks.push_back(Tick::WriteDone(id, None)));
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
            self.commands.push_back(Command::Shutdown);
        }
    }

    /// The queued bytes, oldest first, for the backend to write (zero-copy; pass them to
    /// one `writev`). Empty unless the socket is connected.
    pub fn write_chunks(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let open = self.is_open();
        self.queue.chunks().filter(move |_| open)
    }

    /// [`write_chunks`](Socket::write_chunks) as the queued [`Bytes`] themselves (for a
    /// backend that keeps them rather than copying their bytes, as the simulation's
    /// kernel does).
    pub fn write_chunk_bytes(&self) -> impl Iterator<Item = &Bytes> + Clone + '_ {
        let open = self.is_open();
        self.queue.chunk_bytes().filter(move |_| open)
    }

    /// The first chunk of [`write_chunks`](Socket::write_chunks).
    pub fn peek_write(&self) -> Option<&[u8]> {
        self.write_chunks().next()
    }

    /// The backend wrote `n` more bytes from the front of the queue. Completes the writes
    /// that are now fully written (`Drain` first when due, then their `WriteDone`s, as
    /// Node orders them), refreshes the idle timer, and sends the FIN when `end()` is
    /// waiting for an empty queue.
    pub fn handle_written(&mut self, n: usize, now: Instant) {
        self.input(now);
        if !self.is_open() {
            return;
        }
        self.timer.refresh(now);
        if self.reads_waiting() {
            // The bytes are gone; their completion comes behind the waiting reads, and
            // until then the writes it finished still count as Node's `state.length`.
            let mut done = Vec::new();
            let before = self.queue.node_len();
            self.queue.advance(n, |id| done.push(id));
            let bytes = before - self.queue.node_len();
            if bytes > 0 || !done.is_empty() || (self.need_drain && self.queue.is_empty()) {
                self.defer_completion(LaterRead::Written { done, bytes }, now);
            }
            if self.queue.is_empty() {
                self.flush();
            }
            return;
        }
        let mark = self.ticks.len();
        self.advance_written(n);
        if self.need_drain && self.queue.is_empty() && !self.ending {
            self.need_drain = false;
            self.ticks.insert(mark, Tick::Drain);
        }
        if self.queue.is_empty() {
            self.flush();
        }
    }

    /// `n` bytes from the front of the queue went out: complete the writes that are done.
    /// Their callbacks are ticks: a backend reports a write that completes inside the
    /// user's `write` call (Node's synchronous libuv write, whose callback Node defers)
    /// like any other, and after an IO completion nothing else is queued anyway.
    pub(crate) fn advance_written(&mut self, n: usize) {
        let ticks = &mut self.ticks;
        self.queue
            .advance(n, |id| ticks.push_back(Tick::WriteDone(id, None)));
    }

    /// The result of one send of [`Socket::write_chunks`] (a `sendmsg`/`writev`), as the
    /// kernel gave it: `Ok(n)` → [`handle_written`](Socket::handle_written); a send that
    /// took nothing of non-empty data means the peer can never take it, which is
    /// reported as `EPIPE`; `Err(code)` → [`handle_write_error`](Socket::handle_write_error).
    /// `EAGAIN`/`EINTR` are not results (wait for writability, or retry).
    pub fn handle_send_result(
        &mut self,
        result: std::result::Result<usize, ErrorCode>,
        now: Instant,
    ) {
        match result {
            Ok(0) if self.write_chunks().next().is_some() => {
                self.handle_write_error(ErrorCode::EPIPE, now)
            }
            Ok(n) => self.handle_written(n, now),
            Err(code) => self.handle_write_error(code, now),
        }
    }

    /// Writing failed with `code`: the pending writes fail with `write <CODE>`, then
    /// `Error` and `Close`.
    pub fn handle_write_error(&mut self, code: ErrorCode, now: Instant) {
        self.input(now);
        if !self.is_open() {
            return;
        }
        self.destroy_with(Some(Error::errno_exception(code, "write")), false, true);
    }

    /// The `shutdown(2)` requested by [`Command::Shutdown`] completed with `status`. Node
    /// ignores the status (its `afterShutdown` never looks at it: a broken connection shows
    /// up on the next read or write): `Finish` follows on the next tick, unless the socket
    /// was destroyed by then; once its handlers ran, the socket closes when the read side
    /// already ended (or `destroy_soon` asked for it).
    pub fn handle_shutdown(&mut self, status: std::result::Result<(), ErrorCode>, now: Instant) {
        let _ignored_as_node_does = status;
        self.input(now);
        if !self.is_open() || !self.shutdown_sent || self.prefinished {
            return;
        }
        self.prefinished = true;
        if self.reads_waiting() {
            self.defer_completion(LaterRead::Shutdown, now);
        } else {
            self.ticks.push_back(Tick::Finish);
        }
    }

    /// Writable's finish() (a [`Tick::Finish`]). A backend may complete the FIN inside
    /// the user's `end()`, which Node never does; a socket destroyed since then therefore
    /// gets no `Finish`, as in Node where the shutdown callback would find it destroyed.
    pub(crate) fn finish(&mut self) {
        if self.destroyed || self.errored || self.finished {
            return;
        }
        self.finished = true;
        self.events.push_back(SocketEvent::Finish);
        self.ticks.push_front(Tick::AfterFinish);
    }
}
