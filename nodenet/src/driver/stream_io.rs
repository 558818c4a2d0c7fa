//! Byte-stream adapters over a [`SocketDriver`], behind each runtime's IO traits (tokio
//! `AsyncRead`/`AsyncWrite`, `futures-io`, `std::io::Read`/`Write`). While the traits are
//! in use they consume the socket's events: data is buffered for `read`, `End`/`Close`
//! become end-of-stream, `Error` becomes an `io::Error`; other events are dropped.

use std::io;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use nodenet_core::{Error, SocketEvent};

use super::runtime::{RtStream, Runtime};
use super::socket::SocketDriver;

impl<R: Runtime> SocketDriver<R> {
    /// Keep what the IO traits need from an event.
    fn stash(&mut self, ev: SocketEvent) {
        match ev {
            SocketEvent::Data(b) => self.0.rx_mut().chunks.push_back(b),
            SocketEvent::Text(t) => self.0.rx_mut().chunks.push_back(Bytes::from(t)),
            SocketEvent::End | SocketEvent::Close { .. } => self.0.rx_mut().eof = true,
            SocketEvent::Error(e) => self.0.rx_mut().error = Some(e),
            _ => {}
        }
    }

    /// Drive one event into the stash; `Ready(false)` when the socket is finished.
    /// `reader` says which side is waiting, so the other side's task is woken when this
    /// one made progress for it (the readiness wakers only remember the last poller).
    fn pump(&mut self, cx: &mut Context<'_>, reader: bool) -> Poll<bool> {
        let queued = self.0.core.writable_length();
        let r = match self.poll_event(cx) {
            Poll::Ready(Some(ev)) => {
                self.stash(ev);
                Poll::Ready(true)
            }
            Poll::Ready(None) => {
                self.0.rx_mut().eof = true;
                Poll::Ready(false)
            }
            // The queue drained without an event (no `Drain` is due below the
            // high-water mark): progress for a writer waiting on it, who would otherwise
            // wait for a wake that never comes.
            Poll::Pending if self.0.core.writable_length() != queued => Poll::Ready(true),
            Poll::Pending => {
                let rx = self.0.rx_mut();
                let slot = if reader {
                    &mut rx.read_waker
                } else {
                    &mut rx.write_waker
                };
                match slot {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
        };
        let other = self.0.rx.as_deref_mut().and_then(|rx| {
            if reader {
                rx.write_waker.take()
            } else {
                rx.read_waker.take()
            }
        });
        if let Some(w) = other {
            w.wake();
        }
        r
    }

    fn take_error(&mut self) -> Option<io::Error> {
        self.0
            .rx
            .as_deref_mut()
            .and_then(|rx| rx.error.take())
            .map(io::Error::from)
    }

    /// `AsyncRead::poll_read` on a plain buffer: received bytes, `Ok(0)` at the end.
    pub fn poll_read_bytes(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, buf.len(), |src| {
            if let Some(dst) = buf.get_mut(..src.len()) {
                dst.copy_from_slice(src);
            }
        })
    }

    /// A read into room for `room` bytes: `put` gets at most `room` received bytes (the
    /// caller copies them out, so an uninitialised buffer needs no zeroing first); the
    /// count put, `Ok(0)` at the end.
    pub fn poll_read_with(
        &mut self,
        cx: &mut Context<'_>,
        room: usize,
        put: impl FnOnce(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let buf_len = room;
        loop {
            if let Some(chunks) = self.0.rx.as_deref_mut().map(|rx| &mut rx.chunks) {
                if let Some(front) = chunks.front_mut() {
                    let n = front.len().min(buf_len);
                    if let Some(src) = front.get(..n) {
                        put(src);
                    }
                    front.advance(n);
                    if front.is_empty() {
                        chunks.pop_front();
                    }
                    return Poll::Ready(Ok(n));
                }
            }
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            if self.0.rx_eof() || buf_len == 0 {
                return Poll::Ready(Ok(0));
            }
            if self.pump(cx, true).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// `AsyncWrite::poll_write`: waits while the core's queue is at the high-water mark,
    /// then queues all of `data`. "Written" means accepted into the queue, as for Node's
    /// `write()`: dropping the socket afterwards still delivers it, then the FIN (see
    /// [`SocketDriver`]'s docs for the bound).
    pub fn poll_write_bytes(
        &mut self,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            if let Some(refused) = self.0.core.write_refusal() {
                return Poll::Ready(Err(refused.into()));
            }
            if self.0.core.writable_length() < self.0.core.writable_high_water_mark() {
                self.write(Bytes::copy_from_slice(data));
                return Poll::Ready(Ok(data.len()));
            }
            match self.pump(cx, false) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
    }

    /// `AsyncWrite::poll_write` as a `TcpStream` does it (the write half of a split):
    /// `Ok(n)` only for bytes the kernel took, so nothing a write reported is left in the
    /// socket's queue when the socket is dropped. Waits for the connection and for the
    /// core's queue (bytes written before the split) to empty first; then one `send` of
    /// `data`, whose accepted prefix is handed to the core as written at once (the core
    /// keeps Node's accounting: `bytesWritten`, the idle timer).
    pub fn poll_write_direct(
        &mut self,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            let core = &self.0.core;
            if core.writable_ended() && !core.destroyed() {
                return Poll::Ready(Err(Error::write_after_end().into()));
            }
            if !core.writable() || core.destroyed() {
                return Poll::Ready(Err(Error::stream_destroyed("write").into()));
            }
            if data.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let stream = match &self.0.stream {
                Some(s) if !core.connecting() && core.writable_length() == 0 => s,
                // Connecting, or the queue is draining: drive the socket meanwhile.
                _ => match self.pump(cx, false) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(true) => continue,
                    Poll::Ready(false) => {
                        return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()))
                    }
                },
            };
            match stream.try_write_vectored(&[io::IoSlice::new(data)]) {
                // A stream socket takes at least one byte or says `EAGAIN`.
                Ok(0) => return self.fail_write(data, io::ErrorKind::BrokenPipe.into()),
                Ok(n) => {
                    let sent = Bytes::copy_from_slice(data.get(..n).unwrap_or(data));
                    let now = R::now();
                    // The bytes are in the kernel already: the core's dispatch says so.
                    self.0
                        .core
                        .write_dispatch(sent, |chunk| Ok(chunk.len()), now);
                    self.after_user_call();
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match stream.poll_write_ready(cx) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Err(e) => return self.fail_write(data, e),
            }
        }
    }

    /// A failed `send` of the write half, reported through the core, which destroys the
    /// socket with Node's error (`write EPIPE`, ...).
    fn fail_write(&mut self, data: &[u8], e: io::Error) -> Poll<io::Result<usize>> {
        let code = nodenet_core::error::code_from_io(&e);
        let chunk = Bytes::copy_from_slice(data);
        let now = R::now();
        self.0.core.write_dispatch(chunk, |_| Err(code), now);
        self.after_user_call();
        Poll::Ready(Err(e))
    }

    /// `AsyncWrite::poll_flush`: ready once the queue is empty.
    pub fn poll_flush_bytes(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            if self.0.core.writable_length() == 0 || self.0.core.destroyed() {
                return Poll::Ready(Ok(()));
            }
            match self.pump(cx, false) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(Ok(())),
            }
        }
    }

    /// `AsyncWrite::poll_shutdown` / `poll_close`: `end()`, ready once `Finish` happened
    /// (or the socket is gone).
    pub fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.0.core.writable_ended() && !self.0.core.destroyed() {
            let _ = self.0.core.end(R::now());
            self.after_user_call();
        }
        loop {
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            if self.0.core.writable_finished() || self.0.core.destroyed() {
                return Poll::Ready(Ok(()));
            }
            match self.pump(cx, false) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(Ok(())),
            }
        }
    }
}
