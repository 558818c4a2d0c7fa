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

impl<R: Runtime> SocketDriver<R> {
    /// `poll_event`, with reads landing in `buf`. Every queued event (and everything due,
    /// Node's ticks included) comes first, so a read is handed over in order and at
    /// most one is in `buf` at a time: the next read happens at a later call.
    pub(crate) fn poll_event_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Option<ReadInto>> {
        loop {
            self.0.reads_elsewhere = true;
            let event = self.poll_event(cx);
            self.0.reads_elsewhere = false;
            match event {
                Poll::Ready(Some(ev)) => return Poll::Ready(Some(ReadInto::Event(ev))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
            // Nothing else to do: read, if the core wants to.
            let state = &mut *self.0;
            let Some(stream) = state.stream.as_mut().filter(|_| state.reading) else {
                return Poll::Pending;
            };
            let mut now = LazyNow::<R>::default();
            if buf.is_empty() {
                // libuv's answer to a read into no room.
                state.reading = false;
                let now = now.for_input(&state.core);
                state.core.handle_read_error(ErrorCode::ENOBUFS, now);
                continue;
            }
            let poll = if state.read_now {
                stream.poll_read_into_now(cx, buf)
            } else {
                stream.poll_read_into(cx, buf)
            };
            state.read_now = false;
            let read = match poll {
                Poll::Ready(r) => r,
                Poll::Pending => return Poll::Pending,
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
                        return Poll::Ready(Some(ReadInto::Read(n)));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    state.reading = false;
                    state.core.handle_read_error(code_from_io(&e), now);
                }
            }
        }
    }
}
