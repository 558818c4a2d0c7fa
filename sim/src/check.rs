//! The invariants the simulator checks on every event of every socket:
//!
//! * `Close` exactly once and last (only write completions may follow it);
//! * at most one `Error`, before `Close`, and `Close { had_error }` agreeing with it;
//! * no `Data` after `End`, no `Data` before `Connect` on a client, `End`, `Connect` and
//!   `Finish` at most once, `Drain` only after a `write` returned `false`;
//! * byte streams: what a socket receives is always a prefix of what its peer wrote, and
//!   at `End` it is exactly what the peer's kernel end sent (nothing lost, nothing
//!   duplicated, in order), including every write the peer saw complete — less the
//!   bytes an RST arriving at this end discarded in flight (a reset right after a
//!   partial read ends the stream, as libuv ends it). Bytes are
//!   compared unless identity proves them equal: `Bytes` never change, so received
//!   bytes that lie at the very addresses of what the peer wrote at that stream offset
//!   are those bytes (the simulated kernel keeps the written `Bytes`, so a read within
//!   one of them is a slice of it); and when a read joins several, the kernel copies
//!   them once, from slices it shows to be the written ones at that offset, and received
//!   bytes at the very addresses of that copy are those bytes too (the one trusted step
//!   is the kernel's `memcpy`);
//! * no timer armed on a closed socket, and `bytesRead`/`bytesWritten` against the
//!   kernel (checked by the simulation runtime itself, in `runtime/observe.rs`);
//! * servers (`server` module): `Connection` + `Drop` + `Blocked` events = connections
//!   the kernel handed over (less those a `shutdown()` withdrew unannounced); exactly
//!   one accept `Error` per burst of failed accepts, `accept_failures()` = the failed
//!   accepts, and no retry before its back-off pause is over; `getConnections()` = the
//!   accepted sockets neither closed nor dropped (plus those admitted, not yet handed
//!   out), and `Close` only when none is open; nothing of a server open once the clock
//!   passes its `shutdown(deadline)`; and, when the programs keep polling their servers,
//!   no connection left in an accept queue past the longest accept pause.

use bytes::Bytes;

use nodenet_core::socket::{SocketEvent, WriteId, WriteResult};

mod server;

pub use server::Checked;
pub(crate) use server::{Accept, Seen, ServerId, ServerView};

/// A socket the checker follows: the simulation runtime's handle number (`probe`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SocketId(pub(crate) usize);

#[derive(Clone, Debug, Default)]
struct SockState {
    written: Written,
    write_lens: WriteLens,
    ok_bytes: u64,
    /// The scalar fields, copied out for one event's checks.
    flags: Flags,
}

/// What the peer's kernel end sent toward a socket, for the checks at its `End`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PeerSent {
    /// Bytes the peer's socket wrote into the connection.
    pub(crate) sent: u64,
    /// Of those, the bytes an RST arriving at this socket's end discarded in flight. A
    /// reset can still end the stream cleanly (libuv ends a stream whose partial read
    /// came with a hang-up, and nodenet's driver treats a reset found right after a
    /// partial read the same way), so `End` then comes after `sent - lost` bytes.
    pub(crate) lost: u64,
}

/// The invariant checker the simulation runtime feeds (see `runtime/observe.rs`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Checker {
    sockets: Vec<SockState>,
    servers: server::Servers,
    violations: Vec<String>,
    /// Socket states of an earlier simulation, emptied (their queues keep their room):
    /// a simulation's sockets start from these rather than from new allocations.
    spare: Vec<SockState>,
}

impl SockState {
    /// Back to `SockState::default()`, keeping the queues' room.
    fn reset(&mut self) {
        let SockState {
            written,
            write_lens,
            ok_bytes,
            flags,
        } = self;
        let Written {
            chunks,
            len,
            copies,
        } = written;
        chunks.clear();
        *len = 0;
        copies.clear();
        write_lens.0.clear();
        *ok_bytes = 0;
        *flags = Flags::default();
    }
}

impl Checker {
    /// Back to `Checker::default()` for the next simulation, keeping the room of its
    /// tables and of its socket states (as `spare`).
    pub(crate) fn recycle(&mut self) {
        let Checker {
            sockets,
            servers,
            violations,
            spare,
        } = self;
        let from = spare.len();
        spare.append(sockets);
        for st in &mut spare[from..] {
            st.reset();
        }
        servers.recycle();
        violations.clear();
    }

    pub(crate) fn violations(&self) -> &[String] {
        &self.violations
    }

    pub(crate) fn violation(&mut self, v: String) {
        // One failure usually cascades (or is seen again at the next check); the first
        // few distinct ones are what matters.
        if self.violations.len() < 20 && !self.violations.contains(&v) {
            self.violations.push(v);
        }
    }

    /// Make sure socket `s` is tracked (sockets of the simulation runtime are numbered
    /// by their runtime handle, in no particular order); `accepted` sockets start
    /// connected.
    pub(crate) fn ensure_socket(&mut self, s: SocketId, accepted: bool) {
        while self.sockets.len() <= s.0 {
            let st = self.spare.pop().unwrap_or_default();
            self.sockets.push(st);
        }
        if accepted {
            self.sockets[s.0].flags.connected = true;
        }
    }

    /// The peer socket `s` is paired with, and the bytes it received (for tests of the
    /// wiring).
    #[cfg(test)]
    pub(crate) fn pairing(&self, s: SocketId) -> Option<(Option<SocketId>, u64)> {
        self.sockets
            .get(s.0)
            .map(|st| (st.flags.peer, st.flags.received))
    }

    /// Socket `s` emitted `Close`.
    pub(crate) fn closed(&self, s: SocketId) -> bool {
        self.sockets.get(s.0).is_some_and(|st| st.flags.closed)
    }

    /// Socket `s` starts a new life (`connect()` after it closed, as Node allows): its
    /// checks start over.
    pub(crate) fn restart_socket(&mut self, s: SocketId) {
        if let Some(st) = self.sockets.get_mut(s.0) {
            *st = SockState::default();
        }
    }

    pub(crate) fn set_peers(&mut self, a: SocketId, b: SocketId) {
        if let Some(s) = self.sockets.get_mut(a.0) {
            s.flags.peer = Some(b);
        }
        if let Some(s) = self.sockets.get_mut(b.0) {
            s.flags.peer = Some(a);
        }
    }

    /// The simulated kernel joined `sources` (slices of what the peer of socket `s`
    /// sent) into `copy` for a read of `s` at `offset` of the stream it receives.
    pub(crate) fn on_kernel_copy<'a>(
        &mut self,
        s: SocketId,
        offset: u64,
        sources: impl Iterator<Item = &'a [u8]> + Clone,
        copy: &Bytes,
    ) {
        let peer = self.sockets.get(s.0).and_then(|st| st.flags.peer);
        if let Some(st) = peer.and_then(|p| self.sockets.get_mut(p.0)) {
            st.written.kernel_copy(offset as usize, sources, copy);
        }
    }

    pub(crate) fn on_write(&mut self, s: SocketId, data: &Bytes) {
        if let Some(st) = self.sockets.get_mut(s.0) {
            st.written.push(data);
        }
    }

    pub(crate) fn on_write_result(&mut self, s: SocketId, r: WriteResult, len: usize) {
        if let Some(st) = self.sockets.get_mut(s.0) {
            // A write without a callback never completes: any `WriteDone` for it is wrong.
            if r.id != WriteId::NO_CALLBACK {
                st.write_lens.insert(r.id.0, len);
            }
            if !r.ok {
                st.flags.drain_armed = true;
            }
        }
    }

    pub(crate) fn on_socket_event(
        &mut self,
        s: SocketId,
        ev: &SocketEvent,
        peer_sent: Option<PeerSent>,
    ) {
        let name = SocketName(s.0);
        let Some(st) = self.sockets.get(s.0) else {
            return;
        };
        let st = st.flags;
        let mut v: Vec<String> = Vec::new();
        if st.closed && !matches!(ev, SocketEvent::WriteDone { .. }) {
            v.push(format!("{name}: {ev:?} after Close"));
        }
        match ev {
            SocketEvent::Connect => {
                if st.connected {
                    v.push(format!("{name}: second Connect"));
                }
                self.sockets[s.0].flags.connected = true;
            }
            SocketEvent::Data(d) => {
                if st.ended {
                    v.push(format!("{name}: Data after End"));
                }
                if !st.connected {
                    v.push(format!("{name}: Data before Connect"));
                }
                let from = st.received as usize;
                match st.peer.and_then(|p| self.sockets.get(p.0)) {
                    Some(peer) => {
                        if !peer.written.matches(from, d) {
                            v.push(format!(
                                "{name}: received bytes {from}..{} differ from what socket {} wrote",
                                from + d.len(),
                                st.peer.map_or(0, |p| p.0)
                            ));
                        }
                    }
                    None => v.push(format!("{name}: Data without a peer")),
                }
                self.sockets[s.0].flags.received += d.len() as u64;
                // What the peer wrote up to here was checked: keep only the rest.
                if let Some(peer) = st.peer.and_then(|p| self.sockets.get_mut(p.0)) {
                    peer.written.forget_before(from + d.len());
                }
            }
            SocketEvent::End => {
                if st.ended {
                    v.push(format!("{name}: second End"));
                }
                self.sockets[s.0].flags.ended = true;
                let lost = peer_sent.map_or(0, |p| p.lost);
                if let Some(PeerSent { sent, lost }) = peer_sent {
                    if st.received != sent.saturating_sub(lost) {
                        v.push(format!(
                            "{name}: End after {} bytes but the peer sent {sent} ({lost} lost to an RST)",
                            st.received
                        ));
                    }
                }
                if let Some(peer) = st.peer.and_then(|p| self.sockets.get(p.0)) {
                    if peer.ok_bytes > st.received + lost {
                        v.push(format!(
                            "{name}: End after {} bytes but the peer completed writes of {}",
                            st.received, peer.ok_bytes
                        ));
                    }
                }
            }
            SocketEvent::Drain => {
                if !st.drain_armed {
                    v.push(format!("{name}: Drain without a write that returned false"));
                }
                self.sockets[s.0].flags.drain_armed = false;
            }
            SocketEvent::Finish => {
                if st.finished {
                    v.push(format!("{name}: second Finish"));
                }
                self.sockets[s.0].flags.finished = true;
            }
            SocketEvent::Error(e) => {
                if st.errors > 0 {
                    v.push(format!("{name}: second Error {}", e.code().as_str()));
                }
                self.sockets[s.0].flags.errors += 1;
            }
            SocketEvent::Close { had_error } => {
                if st.closed {
                    v.push(format!("{name}: second Close"));
                }
                if let Some(h) = had_error {
                    if *h != (st.errors > 0) {
                        v.push(format!(
                            "{name}: Close(had_error: {h}) after {} Error events",
                            st.errors
                        ));
                    }
                }
                self.sockets[s.0].flags.closed = true;
            }
            SocketEvent::WriteDone { id, result } => {
                let len = self.sockets[s.0].write_lens.remove(&id.0);
                match len {
                    None => v.push(format!(
                        "{name}: WriteDone for unknown or completed write {}",
                        id.0
                    )),
                    Some(n) if result.is_ok() => self.sockets[s.0].ok_bytes += n as u64,
                    Some(_) => {}
                }
            }
            _ => {}
        }
        if !v.is_empty() {
            for x in v {
                self.violation(x);
            }
        }
    }
}

/// The lengths of a socket's writes not completed yet, by write id: a map kept as a
/// sorted deque, since ids grow and complete in order (insert at the back, remove at
/// the front), which a `BTreeMap` made cost an allocation and a rebalancing per write.
#[derive(Clone, Debug, Default)]
struct WriteLens(std::collections::VecDeque<(u64, usize)>);

impl WriteLens {
    fn insert(&mut self, id: u64, len: usize) {
        match self.0.back() {
            Some(&(last, _)) if last >= id => match self.0.binary_search_by_key(&id, |&(k, _)| k) {
                Ok(i) => self.0[i].1 = len,
                Err(i) => self.0.insert(i, (id, len)),
            },
            _ => self.0.push_back((id, len)),
        }
    }

    fn remove(&mut self, id: &u64) -> Option<usize> {
        let i = self.0.binary_search_by_key(id, |&(k, _)| k).ok()?;
        self.0.remove(i).map(|(_, len)| len)
    }
}

/// What a socket wrote and its peer has not received yet, as the chunks it wrote
/// (shared, not copied), and where the kernel copied them.
#[derive(Clone, Debug, Default)]
struct Written {
    /// Each chunk with its offset in the stream.
    chunks: std::collections::VecDeque<(usize, Bytes)>,
    len: usize,
    /// The kernel's copies of these bytes whose sources were the written chunks
    /// themselves (by address), in stream order.
    copies: std::collections::VecDeque<KernelCopy>,
}

/// `len` bytes at `at` in the stream, copied by the kernel to address `addr`.
#[derive(Clone, Debug)]
struct KernelCopy {
    at: usize,
    addr: usize,
    len: usize,
    /// The copy itself: while it lives, nothing else is written at `addr`.
    _keep: Bytes,
}

impl Written {
    /// The peer received everything before `offset`: those chunks are no longer needed.
    fn forget_before(&mut self, offset: usize) {
        while let Some((at, c)) = self.chunks.front() {
            if at + c.len() > offset {
                break;
            }
            self.chunks.pop_front();
        }
        while let Some(c) = self.copies.front() {
            if c.at + c.len > offset {
                break;
            }
            self.copies.pop_front();
        }
    }

    /// Record the kernel's copy of `sources` at `offset`, if each source is the written
    /// chunks at its offset (same addresses), or lies where an earlier recorded copy put
    /// those bytes (a copy of a copy); otherwise the bytes received from it are compared.
    fn kernel_copy<'a>(
        &mut self,
        offset: usize,
        sources: impl Iterator<Item = &'a [u8]> + Clone,
        copy: &Bytes,
    ) {
        let len = copy.len();
        if len == 0 {
            return;
        }
        if !self.written_at(offset, sources.clone(), len) && !self.copied_at(offset, sources, len) {
            return;
        }
        if self.copies.capacity() == 0 {
            self.copies.reserve(16);
        }
        self.copies.push_back(KernelCopy {
            at: offset,
            addr: copy.as_ptr() as usize,
            len,
            _keep: copy.clone(),
        });
    }

    /// The first `len` bytes of `sources`, laid end to end from `offset`, are each the
    /// written chunks at their offset or where a recorded copy put those bytes.
    fn copied_at<'a>(
        &self,
        offset: usize,
        sources: impl Iterator<Item = &'a [u8]>,
        len: usize,
    ) -> bool {
        let (mut pos, end) = (offset, offset + len);
        for src in sources {
            if pos == end {
                break;
            }
            let piece = &src[..src.len().min(end - pos)];
            if !self.written_at(pos, std::iter::once(piece), piece.len())
                && !self.is_kernel_copy(pos, piece)
            {
                return false;
            }
            pos += piece.len();
        }
        pos == end
    }

    /// The written chunk holding stream offset `at`, by index.
    fn chunk_at(&self, at: usize) -> Option<usize> {
        let (first, first_len) = self
            .chunks
            .front()
            .map_or((self.len, 0), |(a, c)| (*a, c.len()));
        if at < first || at >= self.len {
            return None;
        }
        if at < first + first_len {
            // Usually: what was received before is forgotten, so the read starts in the
            // first chunk.
            return Some(0);
        }
        Some(match self.chunks.binary_search_by_key(&at, |(a, _)| *a) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        })
    }

    /// The first `len` bytes of `sources`, laid end to end from `offset`, are the
    /// written chunks there: the very same memory (`Bytes` never change, so the same
    /// address means the same bytes).
    #[inline(always)]
    fn written_at<'a>(
        &self,
        offset: usize,
        sources: impl Iterator<Item = &'a [u8]>,
        len: usize,
    ) -> bool {
        let Some(mut i) = self.chunk_at(offset) else {
            return false;
        };
        let (mut pos, end) = (offset, offset + len);
        for src in sources {
            if pos == end {
                break;
            }
            let mut addr = src.as_ptr() as usize;
            let mut rest = src.len().min(end - pos);
            while rest > 0 {
                let Some((at, chunk)) = self.chunks.get(i) else {
                    return false;
                };
                let skip = pos - at;
                if chunk.as_ptr() as usize + skip != addr {
                    return false;
                }
                let n = (chunk.len() - skip).min(rest);
                (pos, addr, rest) = (pos + n, addr + n, rest - n);
                if pos == at + chunk.len() {
                    i += 1;
                }
            }
        }
        pos == end
    }

    /// `data`, received at `from`, lies exactly where the kernel copied the written bytes
    /// of `from..from + data.len()`.
    fn is_kernel_copy(&self, from: usize, data: &[u8]) -> bool {
        if data.is_empty() {
            return false;
        }
        let i = match self.copies.binary_search_by_key(&from, |c| c.at) {
            Ok(i) => i,
            Err(0) => return false,
            Err(i) => i - 1,
        };
        let (mut pos, mut addr, mut rest) = (from, data.as_ptr() as usize, data.len());
        for c in self.copies.range(i..) {
            if rest == 0 {
                break;
            }
            if pos < c.at || pos >= c.at + c.len || c.addr + (pos - c.at) != addr {
                return false;
            }
            let n = (c.at + c.len - pos).min(rest);
            (pos, addr, rest) = (pos + n, addr + n, rest - n);
        }
        rest == 0
    }

    fn push(&mut self, data: &Bytes) {
        if !data.is_empty() {
            if self.chunks.capacity() == 0 {
                // Writes come in bursts: one allocation rather than a growth per doubling.
                self.chunks.reserve(16);
            }
            self.chunks.push_back((self.len, data.clone()));
            self.len += data.len();
        }
    }

    /// The stream holds `data` at offset `from`: by identity when `data` is the kernel's
    /// copy of the written bytes there, else compared byte by byte.
    fn matches(&self, from: usize, data: &[u8]) -> bool {
        if from + data.len() > self.len {
            return false;
        }
        self.written_at(from, std::iter::once(data), data.len())
            || self.is_kernel_copy(from, data)
            || self.equal_at(from, data)
    }

    /// The written bytes at `from` equal `data` (a comparison).
    fn equal_at(&self, from: usize, data: &[u8]) -> bool {
        let first = self.chunks.front().map_or(self.len, |(at, _)| *at);
        if from < first {
            return false;
        }
        if data.is_empty() {
            return true;
        }
        let Some(mut i) = self.chunk_at(from) else {
            return false;
        };
        let mut pos = from;
        let mut rest = data;
        while !rest.is_empty() {
            let Some((at, chunk)) = self.chunks.get(i) else {
                return false;
            };
            let Some(have) = chunk.get(pos - at..) else {
                return false;
            };
            let n = have.len().min(rest.len());
            if have[..n] != rest[..n] {
                return false;
            }
            rest = &rest[n..];
            pos += n;
            i += 1;
        }
        true
    }
}

/// `socket N`, formatted only when a violation is reported.
struct SocketName(usize);

impl std::fmt::Display for SocketName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "socket {}", self.0)
    }
}

/// The scalar fields of a [`SockState`] (copied for one event's checks; the byte
/// buffers stay where they are).
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    peer: Option<SocketId>,
    received: u64,
    connected: bool,
    ended: bool,
    finished: bool,
    closed: bool,
    errors: u32,
    drain_armed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodenet_core::error::Error;

    fn checker_with_pair() -> Checker {
        let mut c = Checker::default();
        c.ensure_socket(SocketId(0), false);
        c.ensure_socket(SocketId(1), true);
        c.set_peers(SocketId(0), SocketId(1));
        c
    }

    /// A recycled checker is a new one: no socket, server or violation left, and its
    /// spare socket states equal new ones (only their room is kept).
    #[test]
    fn a_recycled_checker_starts_over() {
        let mut c = checker_with_pair();
        c.on_write(SocketId(1), &Bytes::from_static(b"abcd"));
        c.on_socket_event(SocketId(0), &SocketEvent::Connect, None);
        c.on_socket_event(SocketId(0), &SocketEvent::Connect, None);
        c.server_socket(server::ServerId(3), SocketId(1));
        assert!(!c.violations().is_empty());
        c.recycle();
        let fresh = format!("{:?}", SockState::default());
        assert!(c.sockets.is_empty() && c.violations.is_empty());
        assert_eq!(c.spare.len(), 2);
        assert!(c.spare.iter().all(|st| format!("{st:?}") == fresh));
        assert_eq!(
            format!("{:?}", c.servers),
            format!("{:?}", server::Servers::default())
        );
        c.ensure_socket(SocketId(0), false);
        assert_eq!(format!("{:?}", c.sockets[0]), fresh);
    }

    #[test]
    fn catches_data_after_end_and_double_close() {
        let mut c = checker_with_pair();
        c.on_write(SocketId(1), &Bytes::from_static(b"abcd"));
        c.on_socket_event(SocketId(0), &SocketEvent::Connect, None);
        c.on_socket_event(
            SocketId(0),
            &SocketEvent::Data(Bytes::from_static(b"ab")),
            None,
        );
        assert!(c.violations().is_empty(), "{:?}", c.violations());
        c.on_socket_event(SocketId(0), &SocketEvent::End, Some(sent(2, 0)));
        assert!(c.violations().is_empty(), "{:?}", c.violations());
        c.on_socket_event(
            SocketId(0),
            &SocketEvent::Data(Bytes::from_static(b"cd")),
            None,
        );
        assert!(c.violations()[0].contains("Data after End"));
        let close = SocketEvent::Close {
            had_error: Some(false),
        };
        c.on_socket_event(SocketId(0), &close, None);
        c.on_socket_event(SocketId(0), &close, None);
        assert!(c.violations().iter().any(|v| v.contains("second Close")));
    }

    #[test]
    fn written_chunks_match_reads_that_span_them() {
        let mut w = Written::default();
        for c in [&b"abc"[..], b"", b"de", b"fghi"] {
            w.push(&Bytes::copy_from_slice(c));
        }
        assert!(w.matches(0, b"abcdefghi"));
        assert!(w.matches(2, b"cdef"));
        assert!(w.matches(5, b"fghi"));
        assert!(!w.matches(2, b"cdx"));
        assert!(!w.matches(7, b"hij"), "past the end");
        w.forget_before(4);
        assert_eq!(w.chunks.len(), 2, "abc is gone, de still needed");
        assert!(w.matches(4, b"efg"));
        assert!(!w.matches(0, b"abc"), "forgotten");
    }

    /// Identity only stands in for a comparison at the very offset the bytes were written
    /// at: the peer's own `Bytes` received at another offset (duplicated or reordered), a
    /// different buffer with equal bytes, and a corrupted copy all go to the comparison.
    #[test]
    fn identity_holds_only_at_the_written_offset() {
        let first = Bytes::from_static(b"abcd");
        let second = Bytes::from_static(b"wxyz");
        let mut w = Written::default();
        w.push(&first);
        w.push(&second);
        assert!(
            w.written_at(5, std::iter::once(&second[1..3]), 2),
            "a slice"
        );
        assert!(w.matches(4, &second[..3]));
        assert!(
            !w.written_at(4, std::iter::once(&first[..]), 4),
            "the first write's memory at the second's offset"
        );
        assert!(!w.matches(4, &first), "duplicated: compared, and differs");
        let equal = Bytes::copy_from_slice(b"wxyz");
        assert!(!w.written_at(4, std::iter::once(&equal[..]), 4));
        assert!(
            w.matches(4, &equal),
            "another buffer, equal bytes: compared"
        );
        assert!(!w.matches(4, b"wxzz"), "a corrupted copy");
        // One buffer written twice: each offset's bytes are that buffer's.
        let mut twice = Written::default();
        twice.push(&first);
        twice.push(&first);
        assert!(twice.matches(4, &first[..2]));
        assert!(twice.matches(2, &first[2..]), "the first write's tail");
    }

    /// A read joined by the kernel is tied to the written bytes only through a recorded
    /// copy whose sources were the written chunks themselves.
    #[test]
    fn kernel_copies_count_only_from_the_written_chunks() {
        let (a, b) = (Bytes::from_static(b"abcd"), Bytes::from_static(b"efgh"));
        let mut w = Written::default();
        w.push(&a);
        w.push(&b);
        let joined = Bytes::copy_from_slice(b"cdef");
        w.kernel_copy(2, [&a[2..], &b[..2]].into_iter(), &joined);
        assert_eq!(w.copies.len(), 1);
        assert!(w.is_kernel_copy(2, &joined));
        assert!(w.is_kernel_copy(3, &joined[1..3]), "a part of it");
        assert!(!w.is_kernel_copy(1, &joined[..2]), "at another offset");
        assert!(w.matches(2, &joined));
        // Sources that are not the written chunks (equal bytes elsewhere): no record,
        // so what is received is compared.
        let elsewhere = Bytes::copy_from_slice(b"abcdefgh");
        let forged = Bytes::copy_from_slice(b"cdex");
        w.kernel_copy(2, std::iter::once(&elsewhere[2..6]), &forged);
        assert_eq!(w.copies.len(), 1);
        assert!(!w.matches(2, &forged), "a corrupted join is caught");
        w.forget_before(6);
        assert!(w.copies.is_empty(), "received: forgotten");
    }

    /// A copy whose sources are partly an earlier recorded copy (at the offsets that copy
    /// holds) and partly the written chunks is recorded too; a source from the earlier
    /// copy at another offset is not, so what is received from it is compared.
    #[test]
    fn a_copy_of_a_recorded_copy_counts_at_its_offset_only() {
        let (a, b, c) = (
            Bytes::from_static(b"abcd"),
            Bytes::from_static(b"efgh"),
            Bytes::from_static(b"ijkl"),
        );
        let mut w = Written::default();
        for x in [&a, &b, &c] {
            w.push(x);
        }
        let first = Bytes::copy_from_slice(b"cdef");
        w.kernel_copy(2, [&a[2..], &b[..2]].into_iter(), &first);
        let second = Bytes::copy_from_slice(b"efghij");
        w.kernel_copy(4, [&first[2..], &b[2..], &c[..2]].into_iter(), &second);
        assert_eq!(w.copies.len(), 2);
        assert!(w.is_kernel_copy(4, &second) && w.matches(5, &second[1..5]));
        let shifted = Bytes::copy_from_slice(b"dghij");
        w.kernel_copy(5, [&first[1..2], &b[2..], &c[..2]].into_iter(), &shifted);
        assert_eq!(
            w.copies.len(),
            2,
            "the first copy's bytes at another offset"
        );
    }

    /// Through the checker: a peer's own bytes delivered twice are reported.
    #[test]
    fn catches_the_peers_own_bytes_delivered_twice() {
        let mut c = checker_with_pair();
        let first = Bytes::from_static(b"abcd");
        c.on_write(SocketId(1), &first);
        c.on_write(SocketId(1), &Bytes::from_static(b"efgh"));
        c.on_socket_event(SocketId(0), &SocketEvent::Connect, None);
        c.on_socket_event(SocketId(0), &SocketEvent::Data(first.clone()), None);
        assert!(c.violations().is_empty(), "{:?}", c.violations());
        c.on_socket_event(SocketId(0), &SocketEvent::Data(first), None);
        assert!(c.violations()[0].contains("differ"), "{:?}", c.violations());
    }

    #[test]
    fn catches_corrupted_and_truncated_streams() {
        let mut c = checker_with_pair();
        c.on_write(SocketId(1), &Bytes::from_static(b"abcd"));
        c.on_socket_event(SocketId(0), &SocketEvent::Connect, None);
        c.on_socket_event(
            SocketId(0),
            &SocketEvent::Data(Bytes::from_static(b"ax")),
            None,
        );
        assert!(c.violations()[0].contains("differ"));
        let mut c = checker_with_pair();
        c.on_write(SocketId(1), &Bytes::from_static(b"abcd"));
        c.on_socket_event(SocketId(0), &SocketEvent::Connect, None);
        c.on_socket_event(
            SocketId(0),
            &SocketEvent::Data(Bytes::from_static(b"ab")),
            None,
        );
        c.on_socket_event(SocketId(0), &SocketEvent::End, Some(sent(4, 0)));
        assert!(c.violations()[0].contains("peer sent 4"));
    }

    fn sent(sent: u64, lost: u64) -> PeerSent {
        PeerSent { sent, lost }
    }

    /// A reset that ends the stream (after a partial read) may have discarded bytes in
    /// flight: `End` after what was not lost is right, a shorter stream still is not.
    #[test]
    fn end_after_a_reset_accounts_for_the_bytes_it_discarded() {
        let received = |lost: u64| {
            let mut c = checker_with_pair();
            c.on_write(SocketId(1), &Bytes::from_static(b"abcd"));
            c.on_socket_event(SocketId(0), &SocketEvent::Connect, None);
            c.on_socket_event(
                SocketId(0),
                &SocketEvent::Data(Bytes::from_static(b"ab")),
                None,
            );
            c.on_socket_event(SocketId(0), &SocketEvent::End, Some(sent(4, lost)));
            c.violations().to_vec()
        };
        assert!(received(2).is_empty(), "{:?}", received(2));
        assert!(received(1)[0].contains("End after 2 bytes but the peer sent 4 (1 lost"));
    }

    #[test]
    fn catches_error_order_and_spurious_drain() {
        let mut c = checker_with_pair();
        c.on_socket_event(SocketId(0), &SocketEvent::Drain, None);
        assert!(c.violations()[0].contains("Drain without"));
        let close = SocketEvent::Close {
            had_error: Some(false),
        };
        c.on_socket_event(SocketId(1), &close, None);
        c.on_socket_event(
            SocketId(1),
            &SocketEvent::Error(Error::socket_closed()),
            None,
        );
        assert!(c.violations().iter().any(|v| v.contains("after Close")));
        let mut c = checker_with_pair();
        c.on_socket_event(
            SocketId(1),
            &SocketEvent::Error(Error::socket_closed()),
            None,
        );
        c.on_socket_event(SocketId(1), &close, None);
        assert!(c.violations()[0].contains("had_error: false"));
        // A completion after Close is fine (writes issued after Close).
        let mut c = checker_with_pair();
        c.on_write_result(
            SocketId(0),
            WriteResult {
                id: WriteId(1),
                ok: false,
            },
            3,
        );
        c.on_socket_event(SocketId(0), &close, None);
        c.on_socket_event(
            SocketId(0),
            &SocketEvent::WriteDone {
                id: WriteId(1),
                result: Err(Error::socket_closed()),
            },
            None,
        );
        assert!(c.violations().is_empty(), "{:?}", c.violations());
    }
}
