//! Reads into a buffer the caller provides (Node's `onread: { buffer, callback }`): the
//! backend reads straight into the user's memory and the socket only accounts for it,
//! instead of receiving the bytes as a chunk and emitting `Data`.

use std::time::Instant;

use super::Socket;

impl Socket {
    /// This socket's reads land in the caller's buffer (Node's `onread`; also implied by
    /// the first [`handle_read_into`](Socket::handle_read_into)): [`pause`](Socket::pause)
    /// then stops reading at once, as Node's `readStop` for such a socket, where a socket
    /// that receives chunks reads on into its buffer up to the high-water mark.
    pub fn set_reads_into(&mut self) {
        self.reads_into = true;
    }

    /// `nread` bytes were read into the caller's buffer (Node's `onread` option): the
    /// bytes count for `bytes_read` and refresh the idle timer like
    /// [`handle_data`](Socket::handle_data), but no `Data` event is queued — the backend
    /// hands `nread` straight to the user, who owns the bytes (Node calls
    /// `onread.callback(nread, buffer)` and emits no `'data'`). Returns whether to deliver
    /// them: `false` when the socket is no longer open or already saw EOF (Node drops a
    /// read that completes after `destroy()`).
    ///
    /// A read is only made while the socket reads (after [`Command::StartReading`],
    /// before `StopReading`); Node's "return `false` from the callback to pause" is a
    /// [`pause`](Socket::pause) call when handling the delivered read. End-of-stream and
    /// read errors are reported as usual ([`handle_eof`](Socket::handle_eof),
    /// [`handle_read_error`](Socket::handle_read_error)); `End` comes after every read
    /// was delivered, as always.
    ///
    /// [`Command::StartReading`]: super::Command::StartReading
    ///
    /// ```
    /// use std::time::Instant;
    /// use nodenet_core::options::Endpoint;
    /// use nodenet_core::{Socket, SocketEvent, SocketOptions};
    ///
    /// let now = Instant::now();
    /// let local = Endpoint::Tcp("127.0.0.1:8124".parse().unwrap());
    /// let remote = Endpoint::Tcp("127.0.0.1:50000".parse().unwrap());
    /// let mut s = Socket::accepted(&SocketOptions::default(), local, remote, now);
    /// // The backend read 5 bytes into the user's buffer.
    /// assert!(s.handle_read_into(5, now));
    /// assert_eq!(s.bytes_read(), 5);
    /// assert_eq!(s.poll_event(), None); // no Data: the user has the bytes
    /// s.handle_eof(now);
    /// assert_eq!(s.poll_event(), Some(SocketEvent::End));
    /// assert!(!s.handle_read_into(1, now)); // after EOF nothing is delivered
    /// ```
    pub fn handle_read_into(&mut self, nread: usize, now: Instant) -> bool {
        self.reads_into = true;
        self.input(now);
        if !self.is_open() || self.eof || nread == 0 {
            return false;
        }
        self.bytes_read += nread as u64;
        self.timer.refresh(now);
        true
    }
}
