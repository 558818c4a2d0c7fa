//! The socket's write queue: chunks accepted by `write` that the backend has not yet
//! reported written. It owns Node's write accounting (`writableLength`, the sent-byte
//! counter behind `bytesWritten`) and hands the backend borrowed chunks so it can write
//! them zero-copy (one `writev` over [`WriteQueue::chunks`]).

use bytes::{Buf, Bytes};

use super::events::WriteId;
use super::inline_deque::InlineDeque;

/// One queued write; `data` is advanced in place as the backend reports progress.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) id: WriteId,
    pub(crate) data: Bytes,
}

/// FIFO of pending writes plus byte counters.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    chunks: InlineDeque<Queued>,
    queued: usize,
    /// Bytes of the front chunk already written (it is only partly sent).
    head_sent: usize,
    /// Bytes the backend has reported written on the current handle.
    pub(crate) sent: u64,
}

impl WriteQueue {
    /// Bytes accepted but not yet written (`writableLength`).
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    /// Node's `state.length`: like [`len`](WriteQueue::len), but a partly written chunk
    /// still counts in full — Node subtracts a write's length only when the whole write
    /// request completes. This is what `write()`'s return value compares.
    pub(crate) fn node_len(&self) -> usize {
        self.queued + self.head_sent
    }

    /// No chunk (not even an empty one) is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Free the chunk list's memory when nothing is queued (an idle socket).
    #[inline]
    pub(crate) fn release_if_empty(&mut self) {
        self.chunks.release_if_empty();
    }

    /// Heap bytes the chunk list holds.
    #[cfg(test)]
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.chunks.heap_bytes()
    }

    pub(crate) fn push(&mut self, id: WriteId, data: Bytes) {
        self.queued += data.len();
        self.chunks.push_back(Queued { id, data });
    }

    /// A write of `n` bytes that went out whole as it was made (the queue was empty):
    /// counted as sent without being queued, as `push` then `advance(n)` would.
    #[inline]
    pub(crate) fn record_sent(&mut self, n: usize) {
        debug_assert!(self.chunks.is_empty());
        self.sent += n as u64;
    }

    /// The oldest queued write: its id and its unsent length (0 for an empty write).
    pub(crate) fn front(&self) -> Option<(WriteId, usize)> {
        self.chunks.front().map(|q| (q.id, q.data.len()))
    }

    /// Borrow the unsent bytes, oldest first (empty chunks skipped).
    pub(crate) fn chunks(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.chunk_bytes().map(Bytes::as_ref)
    }

    /// [`chunks`](WriteQueue::chunks) as the queued `Bytes` themselves.
    pub(crate) fn chunk_bytes(&self) -> impl Iterator<Item = &Bytes> + Clone + '_ {
        self.chunks
            .iter()
            .map(|q| &q.data)
            .filter(|c| !c.is_empty())
    }

    /// Record that `n` bytes went out; calls `done` with the id of every write that is
    /// now complete, in order, skipping writes without a callback
    /// ([`WriteId::NO_CALLBACK`]). Extra bytes beyond the queue are ignored.
    #[inline]
    pub(crate) fn advance(&mut self, mut n: usize, mut done: impl FnMut(WriteId)) {
        if n == 0 && self.chunks.front().is_none_or(|q| !q.data.is_empty()) {
            return; // fast path: nothing written and no empty write at the head
        }
        let n_total = n.min(self.queued);
        self.sent += n_total as u64;
        self.queued -= n_total;
        n = n_total;
        while let Some(front) = self.chunks.front_mut() {
            let take = n.min(front.data.len());
            front.data.advance(take);
            n -= take;
            if front.data.is_empty() {
                let id = front.id;
                self.chunks.pop_front();
                self.head_sent = 0;
                if id != WriteId::NO_CALLBACK {
                    done(id);
                }
            } else {
                self.head_sent += take;
                break;
            }
        }
    }

    /// Remove every queued write (the socket was destroyed), returning the ids of those
    /// with a callback, in order.
    pub(crate) fn drain_ids(&mut self) -> impl Iterator<Item = WriteId> + '_ {
        self.queued = 0;
        self.head_sent = 0;
        self.chunks
            .drain()
            .map(|q| q.id)
            .filter(|&id| id != WriteId::NO_CALLBACK)
    }

    /// Forget everything, including the sent counter (a new handle on reconnect).
    pub(crate) fn reset(&mut self) {
        self.chunks.clear();
        self.queued = 0;
        self.head_sent = 0;
        self.sent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_complete_in_order() {
        let mut q = WriteQueue::default();
        q.push(WriteId(1), Bytes::from_static(b"abc"));
        q.push(WriteId(2), Bytes::new());
        q.push(WriteId(3), Bytes::from_static(b"de"));
        assert_eq!(q.len(), 5);
        assert_eq!(
            q.chunks().collect::<Vec<_>>(),
            vec![&b"abc"[..], &b"de"[..]]
        );
        let mut done = Vec::new();
        q.advance(2, |id| done.push(id));
        assert!(done.is_empty());
        assert_eq!(q.chunks().next(), Some(&b"c"[..]));
        assert_eq!((q.len(), q.node_len()), (3, 5));
        q.advance(2, |id| done.push(id));
        assert_eq!((q.len(), q.node_len()), (1, 2));
        assert_eq!(done, vec![WriteId(1), WriteId(2)]);
        q.advance(100, |id| done.push(id));
        assert_eq!(done, vec![WriteId(1), WriteId(2), WriteId(3)]);
        assert_eq!((q.len(), q.sent), (0, 5));
    }
}
