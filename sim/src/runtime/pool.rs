//! The kernel's copy pool: where a read that spans several written chunks gets its
//! bytes joined (and a copying `send` its copy), and how such copies are handed out
//! again as slices rather than copied a second time.
//!
//! * One block per thread, split off per copy and reused by the next simulations once
//!   their reads are dropped (no allocation per copy, none per simulation).
//! * A copy is made once for a whole stretch of a pipe (see `Pipe::coalesce`), so the
//!   reads that follow are slices of it.
//! * The pool remembers its recent copies (`masters`). Bytes handed out from one of them
//!   travel on unchanged (an echo writes what it read), and a later read that spans
//!   several such pieces lying side by side in one copy is a slice of that copy, not a
//!   new copy. This is decided by address only: `Bytes` never change, and memory inside
//!   a live allocation belongs to that allocation, so pieces laid end to end inside a
//!   remembered copy *are* that copy's bytes. Whether a read is a slice or a copy never
//!   changes the bytes it returns, so it changes no trace and no check.

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};

/// The block copies are made into: room for what a typical simulation copies, so that
/// the next one finds it unshared and reuses it (a smaller block is replaced several
/// times per simulation, each a large `malloc` and `free`).
const BLOCK: usize = 256 * 1024;

/// Recent copies remembered (most simulations make a handful).
const MASTERS: usize = 8;

#[derive(Default)]
struct Pool {
    block: BytesMut,
    /// Recent copies, oldest first.
    masters: Vec<Bytes>,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// Start the pool over at the beginning of its block, as a new simulation begins: the
/// copies of the previous simulation are forgotten and, once its reads are dropped, the
/// block is unshared and `reserve` takes it back without allocating. (Without this a
/// simulation began where the last one stopped, ran out of block midway while its own
/// reads still held it, and paid for a new block about every third echo seed.)
pub(crate) fn rewind() {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.masters.clear();
        pool.block.clear();
        if pool.block.capacity() > 0 && pool.block.capacity() < BLOCK {
            pool.block.reserve(BLOCK);
        }
    });
}

/// The first `n` bytes of `pieces`, copied into one buffer of the pool (remembered as a
/// copy later reads may slice).
pub(crate) fn copy<'a>(pieces: impl Iterator<Item = &'a [u8]>, n: usize) -> Bytes {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let block = &mut pool.block;
        block.clear();
        if block.capacity() < n {
            block.reserve(n.max(BLOCK));
        }
        for p in pieces {
            let want = n - block.len();
            if want == 0 {
                break;
            }
            block.extend_from_slice(&p[..want.min(p.len())]);
        }
        let copy = block.split().freeze();
        if pool.masters.len() == MASTERS {
            pool.masters.remove(0);
        }
        pool.masters.push(copy.clone());
        copy
    })
}

/// The address range of `b`.
fn span(b: &[u8]) -> (usize, usize) {
    let start = b.as_ptr() as usize;
    (start, start + b.len())
}

/// The first `n` bytes of `pieces` when they lie end to end inside one remembered copy:
/// that copy's slice (no bytes copied).
pub(crate) fn slice_of<'a>(pieces: impl Iterator<Item = &'a [u8]>, n: usize) -> Option<Bytes> {
    let mut pieces = pieces;
    let first = pieces.next()?;
    let (start, mut end) = span(first);
    let mut len = first.len();
    for p in pieces {
        if len >= n {
            break;
        }
        let (s, e) = span(p);
        if s != end {
            return None;
        }
        end = e;
        len += p.len();
    }
    if len < n {
        return None;
    }
    POOL.with(|pool| {
        let pool = pool.borrow();
        pool.masters.iter().rev().find_map(|m| {
            let (ms, me) = span(m);
            (ms <= start && start + n <= me).then(|| m.slice(start - ms..start - ms + n))
        })
    })
}

/// `b` lies inside a remembered copy (a pipe's stretch of such pieces needs no new
/// copy: reads of them are slices already, or slices of that copy).
#[cfg(test)]
pub(crate) fn in_copy(b: &[u8]) -> bool {
    with_in_copy(|in_copy| in_copy(b))
}

/// `f` given [`in_copy`] with the pool looked up once (a pipe asks it of each chunk
/// of a stretch).
pub(crate) fn with_in_copy<T>(f: impl FnOnce(&dyn Fn(&[u8]) -> bool) -> T) -> T {
    POOL.with(|pool| {
        let pool = pool.borrow();
        f(&|b: &[u8]| {
            let (s, e) = span(b);
            pool.masters.iter().any(|m| {
                let (ms, me) = span(m);
                ms <= s && e <= me
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces side by side inside one copy come back as a slice of it (same addresses);
    /// pieces from elsewhere, or not adjacent, do not.
    #[test]
    fn adjacent_pieces_of_a_copy_are_a_slice_of_it() {
        rewind();
        let a = Bytes::from_static(b"hello ");
        let b = Bytes::from_static(b"world");
        let m = copy([&a[..], &b[..]].into_iter(), 11);
        assert_eq!(&m[..], b"hello world");
        let (x, y) = (m.slice(2..6), m.slice(6..9));
        let s = slice_of([&x[..], &y[..]].into_iter(), 6).expect("a slice");
        assert_eq!((&s[..], s.as_ptr()), (&b"llo wo"[..], x.as_ptr()));
        let part = slice_of([&x[..], &y[..]].into_iter(), 5).expect("a shorter slice");
        assert_eq!(&part[..], b"llo w");
        assert!(
            slice_of([&x[..], &m[9..]].into_iter(), 7).is_none(),
            "a gap"
        );
        assert!(
            slice_of([&a[..], &b[..]].into_iter(), 11).is_none(),
            "not a copy"
        );
        assert!(slice_of([&x[..]].into_iter(), 5).is_none(), "too short");
        assert!(in_copy(&y) && !in_copy(&a));
    }
}
