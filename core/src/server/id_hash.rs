//! The hasher for the server's set of open connections. Connection ids are the server's
//! own sequence numbers, never chosen by a peer, so they need no DoS-resistant hash:
//! one multiply (Fibonacci hashing, which spreads sequential ids over hashbrown's control
//! bits) replaces SipHash on every accept and close.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use super::events::ConnectionId;

/// A set of connection ids with [`IdHasher`].
pub(crate) type ConnectionSet = HashSet<ConnectionId, BuildHasherDefault<IdHasher>>;

/// Hashes one `u64` (what `ConnectionId`'s derived `Hash` writes).
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    /// Only reached if the id type ever changes: fold the bytes in, still correct.
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_insert_and_remove() {
        let mut set = ConnectionSet::default();
        for i in 0..10_000 {
            assert!(set.insert(ConnectionId(i)));
        }
        assert!(!set.insert(ConnectionId(5)));
        for i in (0..10_000).step_by(2) {
            assert!(set.remove(&ConnectionId(i)));
        }
        assert_eq!(set.len(), 5_000);
        assert!(set.contains(&ConnectionId(1)) && !set.contains(&ConnectionId(2)));
    }
}
