//! The kernel's timed event queue: what the network does next, in (time, sequence)
//! order. A binary heap: a send schedules an arrival and the simulation pops it soon
//! after, which a `BTreeMap` made cost a node allocation and a rebalancing each.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Duration;

use super::kernel::Ev;

/// An event's key: its time, then the order it was scheduled in (unique).
pub(crate) type EvKey = (Duration, u64);

struct Entry(EvKey, Ev);

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.0 == other.0
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Entry) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Entry) -> Ordering {
        self.0.cmp(&other.0)
    }
}

/// Events by key, earliest first (keys are unique, so the order is total).
#[derive(Default)]
pub(crate) struct EventQueue(BinaryHeap<Reverse<Entry>>);

impl std::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EventQueue({} events)", self.0.len())
    }
}

impl EventQueue {
    pub(crate) fn insert(&mut self, key: EvKey, ev: Ev) {
        self.0.push(Reverse(Entry(key, ev)));
    }

    /// Cancel the event with `key` (a connect timeout), if still queued. Rare (once per
    /// connect), so a linear rebuild.
    pub(crate) fn remove(&mut self, key: &EvKey) {
        self.0.retain(|Reverse(e)| e.0 != *key);
    }

    /// Drop every event, keeping the room.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// The earliest key.
    pub(crate) fn first_key(&self) -> Option<EvKey> {
        self.0.peek().map(|Reverse(e)| e.0)
    }

    /// The earliest event, if it is due at or before `t`.
    pub(crate) fn pop_due(&mut self, t: Duration) -> Option<Ev> {
        if self.first_key()?.0 > t {
            return None;
        }
        self.0.pop().map(|Reverse(e)| e.1)
    }
}
