//! Reading into a buffer the caller provides: the Rust form of Node's
//! `onread: { buffer, callback }` option ([`Socket::poll_event_into`],
//! `next_event_into`), for users who manage their own buffers.

use std::task::{Context, Poll};

use nodenet_core::SocketEvent;

use crate::runtime::{Async, AsyncRuntime, Blocking, BlockingRuntime, Runtime};
use crate::Socket;

/// What [`Socket::poll_event_into`] (and `next_event_into`) hand over: bytes read into
/// the caller's buffer, or any other event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadInto {
    /// Node's `onread.callback(nread, buffer)`: `nread` (> 0) bytes were read into
    /// `buf[..nread]` of the buffer given to this call. Calling
    /// [`pause`](Socket::pause) now is the callback's `return false`.
    Read(usize),
    /// Any other event, in Node's order (`End` after the last read). `Data` or `Text`
    /// only carry bytes the socket had read before it was driven this way (a socket
    /// paused with data buffered, then resumed).
    Event(SocketEvent),
}

impl<R: Runtime, K> Socket<R, K> {
    /// [`poll_event`](Self::poll_event), except that the socket reads straight into
    /// `buf` — Node's `onread` option, the zero-copy path for callers that manage their
    /// own buffers: no chunk is allocated and no `Data` event is made, the kernel
    /// writes into the caller's memory and the socket only counts the bytes
    /// (`bytes_read`, the idle timer).
    ///
    /// At most one read is in `buf` per call, and only after every event queued before
    /// it, so process `buf[..n]` before the next call (a later call may read into the
    /// same bytes). The buffer may change from call to call (Node's `onread.buffer` given
    /// as a function). To pause — the callback's `return false` — call
    /// [`pause`](Self::pause); [`resume`](Self::resume) reads again. An empty `buf` fails
    /// the socket with `read ENOBUFS`, as libuv does. Cancel-safe, like `poll_event`.
    #[doc(alias = "onread")]
    #[must_use = "a Ready read or event is taken out of the socket and lost when ignored"]
    pub fn poll_event_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Option<ReadInto>> {
        self.driver.poll_event_into(cx, buf)
    }
}

impl<R: AsyncRuntime> Socket<R, Async> {
    /// The next event, with reads landing in `buf` ([`poll_event_into`](Self::poll_event_into)):
    /// Node's `onread: { buffer, callback }`.
    ///
    /// ```no_run
    /// # async fn demo<R: nodenet::AsyncRuntime>(mut socket: nodenet::Socket<R>) {
    /// use nodenet::ReadInto;
    /// let mut buf = vec![0u8; 64 * 1024]; // the caller's own buffer, reused
    /// let mut total = 0;
    /// while let Some(ev) = socket.next_event_into(&mut buf).await {
    ///     match ev {
    ///         ReadInto::Read(n) => {
    ///             total += n; // the bytes are buf[..n]
    ///             if total > 1 << 20 {
    ///                 socket.pause(); // the callback's `return false`
    ///             }
    ///         }
    ///         ReadInto::Event(ev) => println!("{ev:?}"),
    ///     }
    /// }
    /// # }
    /// ```
    #[doc(alias = "onread")]
    pub async fn next_event_into(&mut self, buf: &mut [u8]) -> Option<ReadInto> {
        std::future::poll_fn(|cx| self.driver.poll_event_into(cx, buf)).await
    }
}

impl<R: BlockingRuntime> Socket<R, Blocking> {
    /// The next event, with reads landing in `buf`, blocking the calling thread
    /// ([`poll_event_into`](Self::poll_event_into)): Node's `onread`.
    ///
    /// ```no_run
    /// # fn demo<R: nodenet::BlockingRuntime>(mut socket: nodenet::Socket<R>) {
    /// let mut buf = [0u8; 4096];
    /// while let Some(ev) = socket.next_event_into(&mut buf) {
    ///     if let nodenet::ReadInto::Read(n) = ev {
    ///         println!("{:?}", &buf[..n]);
    ///     }
    /// }
    /// # }
    /// ```
    #[doc(alias = "onread")]
    pub fn next_event_into(&mut self, buf: &mut [u8]) -> Option<ReadInto> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_event_into(cx, buf))
    }

    /// [`next_event_into`](Self::next_event_into), waiting at most until `deadline`, as
    /// [`next_event_until`](Self::next_event_until) does: `Poll::Pending` when the
    /// deadline passed first (the IO was still checked once). With it one thread can
    /// drive several sockets, some of them reading into their own buffers.
    #[doc(alias = "onread")]
    pub fn next_event_into_until(
        &mut self,
        buf: &mut [u8],
        deadline: std::time::Instant,
    ) -> Poll<Option<ReadInto>> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_until(deadline, |cx| driver.poll_event_into(cx, buf))
    }
}
