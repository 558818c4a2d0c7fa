//! The read side (§2 rules 2–4, §3.3): reading on and off (`pause`/`resume`,
//! `pause_on_connect`), `Data` then `End` only after buffered data is delivered, the
//! half-open rules, and `set_encoding`.

use std::time::Instant;

use bytes::Bytes;

use crate::error::{Error, ErrorCode, Result};

use super::decoder::{Decoder, Encoding};
use super::events::{Command, SocketEvent};
use super::later_reads::LaterRead;
use super::state::Tick;
use super::Socket;

impl Socket {
    /// `socket.pause()`: stop delivering `Data`. As in Node (`flowing = false`), the
    /// socket keeps reading into its buffer until that holds a high-water mark of bytes,
    /// then asks the backend to stop; what it read is delivered on `resume`. So an EOF
    /// that arrives while nothing is buffered still ends the readable side (`End`, and
    /// with `allow_half_open` false the write side and the socket close), and a reset is
    /// still heard. A socket that never started reading (paused before it connected,
    /// `pause_on_connect`) does not start. A socket whose reads land in the caller's
    /// buffer (Node's `onread`, see [`handle_read_into`](Socket::handle_read_into)) has no
    /// buffer to fill: it stops reading at once, as Node's `readStop` for it.
    ///
    /// `Data` events that are queued but not yet drained with
    /// [`poll_event`](Socket::poll_event) are taken back into the read buffer too, so a
    /// `pause()` made while handling one `Data` event stops the flow right there, as it
    /// does inside a Node `'data'` handler. (Not once `End` is queued, nor for decoded
    /// `Text`: those stay as they are.)
    pub fn pause(&mut self) {
        if !self.paused && !self.destroyed && !self.end_emitted && self.decoder.is_none() {
            self.take_back_queued_data();
        }
        self.paused = true;
        if self.reads_into {
            self.stop_reading();
        } else {
            self.stop_reading_when_full();
        }
    }

    fn stop_reading(&mut self) {
        if self.reading {
            self.reading = false;
            self.commands.push_back(Command::StopReading);
        }
    }

    /// Node's `onStreamRead`: reading stops once `push` says the buffer is full
    /// (`length >= highWaterMark`, and not empty).
    fn stop_reading_when_full(&mut self) {
        if self.read_buf_len > 0 && self.read_buf_len >= self.high_water_mark {
            self.stop_reading();
        }
    }

    fn take_back_queued_data(&mut self) {
        if !self
            .events
            .iter()
            .any(|e| matches!(e, SocketEvent::Data(_)))
        {
            return;
        }
        let mut kept = super::inline_deque::InlineDeque::default();
        let mut taken = std::collections::VecDeque::new();
        for event in self.events.drain() {
            match event {
                SocketEvent::Data(chunk) => taken.push_back(chunk),
                other => kept.push_back(other),
            }
        }
        self.events = kept;
        // The taken chunks were delivered before anything still in the read buffer.
        while let Some(chunk) = taken.pop_back() {
            self.read_buf_len += chunk.len();
            self.read_buf.push_front(chunk);
        }
    }

    /// `socket.resume()`: on the next tick (Node's `resume_`), deliver buffered data (and
    /// a pending `End`), then read again — unless `pause()` came first.
    pub fn resume(&mut self, now: Instant) {
        self.last_now = Some(now);
        if !self.paused {
            return;
        }
        self.paused = false;
        self.ticks.push_back(Tick::Flow);
    }

    /// Node's `resume_` (a [`Tick::Flow`]).
    pub(crate) fn flow(&mut self) {
        if self.paused || self.destroyed {
            return;
        }
        while let Some(chunk) = self.read_buf.pop_front() {
            self.read_buf_len -= chunk.len();
            self.emit_data(chunk);
        }
        self.maybe_end();
        if self.is_open() && !self.eof {
            self.start_reading();
        }
    }

    /// `socket.setEncoding(enc)`: deliver `Text` instead of `Data`, decoded as Node's
    /// `StringDecoder` does (every encoding Node accepts, see [`Encoding`]); an unknown
    /// name is Node's `ERR_UNKNOWN_ENCODING`. A second call starts a fresh decoder.
    pub fn set_encoding(&mut self, encoding: &str) -> Result<()> {
        self.decoder = Some(Box::new(Decoder::new(Encoding::parse(encoding)?)));
        Ok(())
    }

    /// `socket.readableEncoding`: the normalized encoding given to `set_encoding`.
    pub fn readable_encoding(&self) -> Option<Encoding> {
        self.decoder.as_ref().map(|d| d.encoding())
    }

    /// Bytes arrived. Refreshes the idle timer; delivered as `Data`/`Text` unless paused.
    ///
    /// Each read is Node's read callback: one reported before the events and ticks of
    /// the previous one were handed out (two reads back to back) waits until they were,
    /// so what the user did while handling them (a write's callback, `Drain`, `pause`,
    /// `destroy`) comes first, as in Node. The same holds for
    /// [`handle_eof`](Socket::handle_eof) and [`handle_read_error`](Socket::handle_read_error).
    pub fn handle_data(&mut self, data: Bytes, now: Instant) {
        if let Some(LaterRead::Data(data)) = self.defer_read(LaterRead::Data(data), now) {
            self.read_data(data, now);
        }
    }

    /// [`handle_data`](Socket::handle_data) once it is this read's turn.
    pub(crate) fn read_data(&mut self, data: Bytes, now: Instant) {
        self.input(now);
        if !self.is_open() || self.eof {
            return;
        }
        self.bytes_read += data.len() as u64;
        self.timer.refresh(now);
        if self.paused || !self.read_buf.is_empty() {
            self.read_buf_len += data.len();
            self.read_buf.push_back(data);
            self.stop_reading_when_full();
        } else {
            self.emit_data(data);
        }
    }

    /// The peer finished sending (EOF). `End` follows on a tick once buffered data is
    /// delivered; with `allow_half_open == false` the write side then ends on the tick
    /// after `End` was handled.
    pub fn handle_eof(&mut self, now: Instant) {
        if self.defer_read(LaterRead::Eof, now).is_some() {
            self.read_eof(now);
        }
    }

    /// [`handle_eof`](Socket::handle_eof) once it is this read's turn.
    pub(crate) fn read_eof(&mut self, now: Instant) {
        self.input(now);
        if !self.is_open() || self.eof {
            return;
        }
        self.eof = true;
        self.reading = false;
        self.timer.refresh(now);
        self.maybe_end();
    }

    /// Reading failed (`read ECONNRESET` when the peer reset): `Error`, `Close`.
    pub fn handle_read_error(&mut self, code: ErrorCode, now: Instant) {
        if self.defer_read(LaterRead::Error(code), now).is_some() {
            self.read_error(code, now);
        }
    }

    /// [`handle_read_error`](Socket::handle_read_error) once it is this read's turn.
    pub(crate) fn read_error(&mut self, code: ErrorCode, now: Instant) {
        self.input(now);
        if !self.is_open() {
            return;
        }
        self.destroy_inner(Some(Error::errno_exception(code, "read")), false);
    }

    pub(crate) fn start_reading(&mut self) {
        if !self.reading {
            self.reading = true;
            self.commands.push_back(Command::StartReading);
        }
    }

    fn emit_data(&mut self, data: Bytes) {
        match &mut self.decoder {
            None => self.events.push_back(SocketEvent::Data(data)),
            Some(d) => {
                let s = d.write(&data);
                if !s.is_empty() {
                    self.events.push_back(SocketEvent::Text(s));
                }
            }
        }
    }

    /// Node's endReadable: once EOF came and every byte was delivered, `End` is due on
    /// the next tick (a decoder's leftover text is delivered first). A paused socket
    /// ends too when nothing is buffered: net's EOF handling calls `read(0)`, which
    /// ends an empty stream whether it flows or not.
    fn maybe_end(&mut self) {
        if !self.eof || self.end_emitted || !self.read_buf.is_empty() || self.destroyed {
            return;
        }
        if let Some(rest) = self.decoder.as_mut().and_then(|d| d.end()) {
            self.events.push_back(SocketEvent::Text(rest));
        }
        self.ticks.push_back(Tick::EndReadable);
    }

    /// endReadableNT (a [`Tick::EndReadable`]): `End`, unless the stream was destroyed or
    /// already ended meanwhile. With `allow_half_open` false a write after it (once the
    /// write side ended) is Node's writeAfterFIN `EPIPE`.
    pub(crate) fn end_readable(&mut self) {
        if self.destroyed || self.errored || self.end_emitted || !self.read_buf.is_empty() {
            return;
        }
        self.end_emitted = true;
        self.events.push_back(SocketEvent::End);
        if !self.allow_half_open {
            self.write_after_fin = true;
        }
        self.ticks.push_front(Tick::AfterEnd);
    }

    /// The rest of endReadableNT, once the `End` handlers ran: end the write side on the
    /// next tick (`allow_half_open` false and still writable), or destroy the socket when
    /// its write side already finished (autoDestroy).
    pub(crate) fn after_end(&mut self) {
        if self.writable() && !self.allow_half_open {
            self.ticks.push_back(Tick::AutoEnd);
        } else if self.finished {
            self.destroy_inner(None, false);
        }
    }
}
