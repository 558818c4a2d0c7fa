//! Reads into the caller's buffer (Node's `onread`): the socket is driven as by
//! `poll_event`, except that when it wants to read, the bytes go straight into the
//! buffer the caller lent for this poll and come back as [`ReadInto::Read`].

use std::io;
use std::task::{Context, Poll};

use nodenet_core::error::code_from_io;
use nodenet_core::ErrorCode;

use super::{LazyNow, SocketDriver};
use crate::driver::runtime::{RtStream, Runtime};
use crate::ReadInto;

/// What one read into the caller's buffer did.
enum ReadOnce {
    /// `n` bytes are in the buffer, for the user.
    Read(usize),
    /// The core got an input (end of stream, an error, bytes it keeps): drive it again.
    Progress,
    /// Nothing to read now (the waker is registered).
    Nothing,
}

impl<R: Runtime> SocketDriver<R> {
    /// `poll_event`, with reads landing in `buf`. Every queued event (and everything due,
    /// Node's ticks included) comes first, so a read is handed over in order and at
    /// most one is in `buf` at a time: the next read happens at a later call.
    pub(crate) fn poll_event_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Option<ReadInto>> {
        // Node's onread socket: `pause()` stops its reading at once.
        self.0.core.set_reads_into();
        loop {
            self.0.reads_elsewhere = true;
            let event = self.poll_event(cx);
            self.0.reads_elsewhere = false;
            match event {
                Poll::Ready(Some(ev)) => return Poll::Ready(Some(ReadInto::Event(ev))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
            // Nothing else to do: read, if the core wants to. A write that waited for
            // writability was left for after the read (asking the kernel at once), as
            // libuv handles one readiness (see `read_before_blocked_write`).
            let blocked = self.0.write_blocked && self.0.writing;
            if blocked {
                self.0.read_now = true;
            }
            match self.read_into_once(cx, buf) {
                ReadOnce::Read(n) => return Poll::Ready(Some(ReadInto::Read(n))),
                ReadOnce::Progress => continue,
                ReadOnce::Nothing => {}
            }
            if blocked && self.write_queued(&mut LazyNow::default(), Some(cx)) {
                continue;
            }
            return Poll::Pending;
        }
    }

    /// One read into `buf`, if the core wants to read.
    fn read_into_once(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> ReadOnce {
        let state = &mut *self.0;
        let Some(stream) = state.stream.as_mut().filter(|_| state.reading) else {
            state.read_now = false;
            return ReadOnce::Nothing;
        };
        let mut now = LazyNow::<R>::default();
        if buf.is_empty() {
            // libuv's answer to a read into no room.
            state.reading = false;
            let now = now.for_input(&state.core);
            state.core.handle_read_error(ErrorCode::ENOBUFS, now);
            return ReadOnce::Progress;
        }
        let poll = if state.read_now {
            stream.poll_read_into_now(cx, buf)
        } else {
            stream.poll_read_into(cx, buf)
        };
        state.read_now = false;
        let read = match poll {
            Poll::Ready(r) => r,
            Poll::Pending => return ReadOnce::Nothing,
        };
        let now = now.for_input(&state.core);
        match read {
            Ok(0) => {
                state.reading = false;
                state.core.handle_eof(now);
            }
            Ok(n) => {
                // As `try_read`: after the first partial read, the next one asks the
                // kernel at once (a reset that came with the first bytes).
                state.read_now = state.core.bytes_read() == 0 && n < buf.len();
                if state.core.handle_read_into(n, now) {
                    return ReadOnce::Read(n);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                state.reading = false;
                state.core.handle_read_error(code_from_io(&e), now);
            }
        }
        ReadOnce::Progress
    }
}
