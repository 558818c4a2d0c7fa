//! [`InlineDeque`]: the FIFO behind the socket's event and write queues. A busy
//! connection usually holds one item at a time (a `Data` event, one queued chunk), so
//! the first item lives inline and only the second and later ones go to a heap-backed
//! `VecDeque`. The data path then allocates nothing per message, and an idle socket
//! holds no queue memory once [`release_if_empty`](InlineDeque::release_if_empty) ran.

use std::collections::VecDeque;

/// A FIFO whose first item is stored inline.
///
/// Invariant: `rest` is empty whenever `head` is `None`, so `head` is always the front.
#[derive(Debug, Clone)]
pub(crate) struct InlineDeque<T> {
    head: Option<T>,
    rest: VecDeque<T>,
}

impl<T> Default for InlineDeque<T> {
    fn default() -> Self {
        InlineDeque {
            head: None,
            rest: VecDeque::new(),
        }
    }
}

impl<T> InlineDeque<T> {
    pub(crate) fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    #[inline]
    pub(crate) fn push_back(&mut self, item: T) {
        if self.head.is_none() {
            self.head = Some(item);
        } else {
            self.rest.push_back(item);
        }
    }

    pub(crate) fn push_front(&mut self, item: T) {
        if let Some(old) = self.head.replace(item) {
            self.rest.push_front(old);
        }
    }

    /// Insert `item` so that it ends up at position `index` (clamped to the length).
    pub(crate) fn insert(&mut self, index: usize, item: T) {
        if index == 0 || self.head.is_none() {
            self.push_front(item);
        } else {
            let i = (index - 1).min(self.rest.len());
            self.rest.insert(i, item);
        }
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        // The empty case (most calls: the driver asks after every input) touches only the
        // discriminant, and the overflow is looked at only when it holds something.
        self.head.as_ref()?;
        let next = if self.rest.is_empty() {
            None
        } else {
            self.rest.pop_front()
        };
        std::mem::replace(&mut self.head, next)
    }

    pub(crate) fn front(&self) -> Option<&T> {
        self.head.as_ref()
    }

    pub(crate) fn front_mut(&mut self) -> Option<&mut T> {
        self.head.as_mut()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + Clone + '_ {
        self.head.iter().chain(self.rest.iter())
    }

    /// Remove every item, front first.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.head.take().into_iter().chain(self.rest.drain(..))
    }

    /// Keep only the items `keep` accepts, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        if self.head.as_ref().is_some_and(|h| !keep(h)) {
            self.head = None;
        }
        self.rest.retain(keep);
        if self.head.is_none() {
            self.head = self.rest.pop_front();
        }
    }

    pub(crate) fn clear(&mut self) {
        self.head = None;
        self.rest.clear();
    }

    /// Room for `n` more items past the inline one.
    pub(crate) fn reserve_rest(&mut self, n: usize) {
        self.rest.reserve(n);
    }

    /// Give the overflow's heap memory back when nothing is queued.
    #[inline]
    pub(crate) fn release_if_empty(&mut self) {
        if self.rest.capacity() != 0 && self.rest.is_empty() {
            self.rest = VecDeque::new();
        }
    }

    /// Heap bytes held (the inline slot is part of the owner).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.rest.capacity() * std::mem::size_of::<T>()
    }
}

impl<T> Extend<T> for InlineDeque<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.push_back(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        PushBack(u8),
        PushFront(u8),
        Insert(usize, u8),
        Pop,
        Drain,
        Clear,
        Release,
        RetainEven,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => any::<u8>().prop_map(Op::PushBack),
            1 => any::<u8>().prop_map(Op::PushFront),
            1 => (0usize..6, any::<u8>()).prop_map(|(i, v)| Op::Insert(i, v)),
            4 => Just(Op::Pop),
            1 => Just(Op::Drain),
            1 => Just(Op::Clear),
            1 => Just(Op::Release),
            1 => Just(Op::RetainEven),
        ]
    }

    proptest! {
        /// Every operation agrees with a plain `VecDeque`.
        #[test]
        fn behaves_as_a_vecdeque(ops in proptest::collection::vec(op(), 0..64)) {
            let mut d = InlineDeque::default();
            let mut model = VecDeque::new();
            for op in ops {
                match op {
                    Op::PushBack(v) => { d.push_back(v); model.push_back(v); }
                    Op::PushFront(v) => { d.push_front(v); model.push_front(v); }
                    Op::Insert(i, v) => {
                        d.insert(i, v);
                        model.insert(i.min(model.len()), v);
                    }
                    Op::Pop => prop_assert_eq!(d.pop_front(), model.pop_front()),
                    Op::Drain => {
                        let got: Vec<u8> = d.drain().collect();
                        let want: Vec<u8> = model.drain(..).collect();
                        prop_assert_eq!(got, want);
                    }
                    Op::Clear => { d.clear(); model.clear(); }
                    Op::Release => d.release_if_empty(),
                    Op::RetainEven => {
                        d.retain(|v| v % 2 == 0);
                        model.retain(|v| v % 2 == 0);
                    }
                }
                prop_assert_eq!(d.len(), model.len());
                prop_assert_eq!(d.is_empty(), model.is_empty());
                prop_assert_eq!(d.front(), model.front());
                prop_assert!(d.iter().eq(model.iter()));
            }
        }
    }

    #[test]
    fn one_item_at_a_time_never_allocates() {
        let mut d = InlineDeque::default();
        for i in 0..100u32 {
            d.push_back(i);
            assert_eq!(d.pop_front(), Some(i));
        }
        assert_eq!(d.heap_bytes(), 0);
    }

    #[test]
    fn overflow_memory_is_released_only_when_empty() {
        let mut d = InlineDeque::default();
        d.extend([1u64, 2, 3]);
        d.release_if_empty();
        assert!(d.heap_bytes() > 0);
        assert_eq!(d.drain().collect::<Vec<_>>(), vec![1, 2, 3]);
        d.release_if_empty();
        assert_eq!(d.heap_bytes(), 0);
    }
}
