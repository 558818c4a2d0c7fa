//! The lookup index behind `BlockList::check`: every rule is turned into the set of IPv4
//! queries and the set of IPv6 queries it matches under Node's rules (§7.2) — each set is
//! one interval or empty — and the intervals of all rules are sorted and merged into
//! disjoint lists (IPv4 queries, IPv4-mapped IPv6 queries — usually the same list, then
//! shared — and other IPv6 queries), each found through a bucket table. Building is
//! O(n log n); a lookup is O(log n) worst case and two cache misses in practice.
//!
//! IPv4 queries and IPv6 queries need separate lists because Node's range rule compares
//! across families only through IPv4-mapped bounds: `::`–`ffff:…` matches `::ffff:1.2.3.4`
//! written as IPv6 but not `1.2.3.4` written as IPv4. All other rules treat an IPv4 query
//! exactly like its mapped form `::ffff:a.b.c.d`.

use std::net::IpAddr;

use ipnet::{Ipv4Net, Ipv6Net};

use super::rule::Rule;

/// `::ffff:0.0.0.0`, the first IPv4-mapped address.
const MAPPED_FIRST: u128 = 0xffff_0000_0000;
/// `::ffff:255.255.255.255`, the last IPv4-mapped address.
const MAPPED_LAST: u128 = 0xffff_ffff_ffff;

/// A closed interval of IPv4 queries.
type V4Set = Option<(u32, u32)>;
/// A closed interval of IPv6 queries.
type V6Set = Option<(u128, u128)>;

fn mapped(v4: u32) -> u128 {
    MAPPED_FIRST | u128::from(v4)
}

/// Sorted, disjoint, non-adjacent closed intervals, stored as `(start, end)` pairs (so the
/// start a lookup finds and the end it then compares with share a cache line), plus a
/// bucket table: the span from the first to the last start is cut into at most 2^16
/// equal buckets (a power-of-two width, taken from the bits below the starts' common
/// prefix), and `buckets[b]` is the index of the first start in bucket `b` or later. A
/// lookup reads its bucket's two table entries and binary-searches only the starts
/// between them — usually one or two — instead of walking a cache-cold binary search over
/// the whole array. Clustered starts just make a bucket longer; the search inside stays
/// O(log n). With 100 000 rules the lists no longer fit in L2, so what a lookup costs is
/// its dependent cache misses: one in the table, one in the pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Intervals<T> {
    spans: Vec<(T, T)>,
    /// `buckets.len()` = number of buckets + 1; the last entry is `spans.len()`.
    buckets: Vec<u32>,
    /// The first start (kept here so a lookup does not read `spans` to find its bucket).
    first: T,
    /// Bucket of `key` = `(key - first) >> shift`.
    shift: u32,
}

/// Most buckets a table gets (256 KiB of `u32`).
const MAX_BUCKETS: usize = 1 << 16;

/// Integers the interval list works on.
trait Key: Copy + Ord + Default {
    /// `self + 1`, or `None` at the maximum.
    fn succ(self) -> Option<Self>;
    /// `self - base` (for `self >= base`), widened.
    fn offset(self, base: Self) -> u128;
    /// `(self - base) >> shift` (for `self >= base`), at most `max`, in the key's own
    /// width (a 128-bit shift by a variable amount costs several instructions).
    fn bucket(self, base: Self, shift: u32, max: usize) -> usize;
}
impl Key for u32 {
    fn succ(self) -> Option<u32> {
        self.checked_add(1)
    }
    fn offset(self, base: u32) -> u128 {
        u128::from(self.wrapping_sub(base))
    }
    #[inline(always)]
    fn bucket(self, base: u32, shift: u32, max: usize) -> usize {
        let b = self.wrapping_sub(base).checked_shr(shift).unwrap_or(0);
        usize::try_from(b).unwrap_or(usize::MAX).min(max)
    }
}
impl Key for u128 {
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
    fn offset(self, base: u128) -> u128 {
        self.wrapping_sub(base)
    }
    #[inline(always)]
    fn bucket(self, base: u128, shift: u32, max: usize) -> usize {
        let b = self.wrapping_sub(base).checked_shr(shift).unwrap_or(0);
        usize::try_from(b).unwrap_or(usize::MAX).min(max)
    }
}

impl<T: Key> Intervals<T> {
    fn build(mut ranges: Vec<(T, T)>) -> Intervals<T> {
        ranges.sort_unstable();
        let mut spans: Vec<(T, T)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match spans.last_mut() {
                // Overlapping or adjacent: extend.
                Some((_, end)) if end.succ().is_none_or(|next| lo <= next) => {
                    *end = (*end).max(hi);
                }
                _ => spans.push((lo, hi)),
            }
        }
        spans.shrink_to_fit();
        let mut out = Intervals {
            first: spans.first().map(|&(lo, _)| lo).unwrap_or_default(),
            spans,
            buckets: Vec::new(),
            shift: 0,
        };
        out.build_buckets();
        out
    }

    fn build_buckets(&mut self) {
        let (Some(&(first, _)), Some(&(last, _))) = (self.spans.first(), self.spans.last()) else {
            return;
        };
        // About one start per bucket, a power of two, at most MAX_BUCKETS.
        let wanted = self.spans.len().next_power_of_two().min(MAX_BUCKETS);
        let span_bits = 128 - last.offset(first).leading_zeros();
        self.shift = span_bits.saturating_sub(wanted.trailing_zeros());
        let count = (last.offset(first) >> self.shift) as usize + 1;
        let mut buckets = Vec::with_capacity(count + 1);
        let mut i = 0usize;
        for b in 0..count {
            while self
                .spans
                .get(i)
                .is_some_and(|&(s, _)| ((s.offset(first) >> self.shift) as usize) < b)
            {
                i += 1;
            }
            buckets.push(i as u32);
        }
        buckets.push(self.spans.len() as u32);
        self.buckets = buckets;
    }

    #[inline]
    fn contains(&self, key: T) -> bool {
        if key < self.first {
            return false;
        }
        // Every start in an earlier bucket is <= key and every start in a later one is
        // > key, so the last start <= key is in this bucket or is the one just before it.
        let last_bucket = self.buckets.len().saturating_sub(2);
        let b = key.bucket(self.first, self.shift, last_bucket);
        let (Some(&from), Some(&to)) = (self.buckets.get(b), self.buckets.get(b + 1)) else {
            return false; // no intervals at all
        };
        let (from, to) = (from as usize, to as usize);
        let in_bucket = self.spans.get(from..to).unwrap_or_default();
        let at = from + in_bucket.partition_point(|&(s, _)| s <= key);
        match at.checked_sub(1).and_then(|i| self.spans.get(i)) {
            Some(&(_, end)) => key <= end,
            None => false,
        }
    }
}

/// The compiled rule set. IPv6 queries inside the mapped block `::ffff:0:0/96` get a list
/// of their own, keyed by the embedded 32-bit value: those are the IPv6 queries that
/// occur in practice (IPv4 peers on dual-stack sockets), and 32-bit keys make that list a
/// quarter of the size of 128-bit ones.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    /// IPv4 queries.
    v4: Intervals<u32>,
    /// IPv6 queries in `::ffff:0:0/96`, by their last 32 bits; `None` when that list
    /// would equal `v4` — the usual case, since only IPv6 rules touching the mapped block
    /// and mixed-family ranges make the two differ — so both kinds of query share one
    /// list and its cache lines.
    mapped: Option<Intervals<u32>>,
    /// All other IPv6 queries.
    v6: Intervals<u128>,
}

impl Index {
    pub(crate) fn build(rules: &[Rule]) -> Index {
        let mut v4 = Vec::with_capacity(rules.len());
        let mut mapped = Vec::with_capacity(rules.len());
        let mut v6 = Vec::with_capacity(rules.len());
        for rule in rules {
            let (q4, q6) = matched_sets(rule);
            v4.extend(q4);
            if let Some((lo, hi)) = q6 {
                // Split around the mapped block.
                mapped.extend(v4_part(q6));
                v6.extend(intersect((lo, hi), (0, MAPPED_FIRST - 1)));
                v6.extend(intersect((lo, hi), (MAPPED_LAST + 1, u128::MAX)));
            }
        }
        let v4 = Intervals::build(v4);
        let mapped = Intervals::build(mapped);
        Index {
            mapped: (mapped != v4).then_some(mapped),
            v4,
            v6: Intervals::build(v6),
        }
    }

    /// Whether an IPv4 query is blocked.
    #[inline]
    pub(crate) fn contains_v4(&self, ip: u32) -> bool {
        self.v4.contains(ip)
    }

    /// Whether an IPv6 query is blocked.
    #[inline]
    pub(crate) fn contains_v6(&self, ip: u128) -> bool {
        if (MAPPED_FIRST..=MAPPED_LAST).contains(&ip) {
            self.mapped.as_ref().unwrap_or(&self.v4).contains(ip as u32)
        } else {
            self.v6.contains(ip)
        }
    }

    /// Whether a query is blocked.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(ip) => self.contains_v4(u32::from(ip)),
            IpAddr::V6(ip) => self.contains_v6(u128::from(ip)),
        }
    }
}

/// `[lo, hi]` ∩ `[lo2, hi2]`.
fn intersect<T: Ord>((lo, hi): (T, T), (lo2, hi2): (T, T)) -> Option<(T, T)> {
    let (lo, hi) = (lo.max(lo2), hi.min(hi2));
    (lo <= hi).then_some((lo, hi))
}

/// The IPv4 part of a set of IPv6 queries, as IPv4 queries (through the mapped block).
fn v4_part(set: V6Set) -> V4Set {
    let (lo, hi) = intersect(set?, (MAPPED_FIRST, MAPPED_LAST))?;
    Some((lo as u32, hi as u32))
}

/// The IPv6 queries equivalent to a set of IPv4 queries (their mapped forms).
fn v6_of_v4(set: V4Set) -> V6Set {
    set.map(|(lo, hi)| (mapped(lo), mapped(hi)))
}

/// The IPv4 queries and the IPv6 queries one rule matches (§7.2, per rule type).
fn matched_sets(rule: &Rule) -> (V4Set, V6Set) {
    match *rule {
        // Equality across families goes through the mapped form in both directions, so
        // one set determines the other.
        Rule::Address(IpAddr::V4(a)) => {
            let q4 = Some((u32::from(a), u32::from(a)));
            (q4, v6_of_v4(q4))
        }
        Rule::Address(IpAddr::V6(a)) => {
            let q6 = Some((u128::from(a), u128::from(a)));
            (v4_part(q6), q6)
        }
        Rule::Subnet(IpAddr::V4(net), prefix) => {
            let net = Ipv4Net::new(net, prefix).unwrap_or_default();
            let q4 = Some((u32::from(net.network()), u32::from(net.broadcast())));
            (q4, v6_of_v4(q4))
        }
        // An IPv4 query is compared as its mapped form, so only the mapped block counts.
        Rule::Subnet(IpAddr::V6(net), prefix) => {
            let net = Ipv6Net::new(net, prefix).unwrap_or_default();
            let q6 = Some((u128::from(net.network()), u128::from(net.broadcast())));
            (v4_part(q6), q6)
        }
        Rule::Range(start, end) => (range_v4(start, end), range_v6(start, end)),
    }
}

/// IPv4 queries `q` with `start <= q <= end` under Node's compare: an IPv6 bound counts
/// only if it is IPv4-mapped.
fn range_v4(start: IpAddr, end: IpAddr) -> V4Set {
    let as_v4 = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => Some(u32::from(v4)),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(u32::from),
    };
    let (lo, hi) = (as_v4(start)?, as_v4(end)?);
    (lo <= hi).then_some((lo, hi))
}

/// IPv6 queries `q` with `start <= q <= end`: an IPv4 bound is comparable only with
/// IPv4-mapped queries, so it also confines `q` to the mapped block.
fn range_v6(start: IpAddr, end: IpAddr) -> V6Set {
    let lower = match start {
        IpAddr::V4(s) => (mapped(u32::from(s)), MAPPED_LAST),
        IpAddr::V6(s) => (u128::from(s), u128::MAX),
    };
    let upper = match end {
        IpAddr::V4(e) => (MAPPED_FIRST, mapped(u32::from(e))),
        IpAddr::V6(e) => (0, u128::from(e)),
    };
    intersect(lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn intervals_merge_overlapping_and_adjacent() {
        let set = Intervals::build(vec![
            (5u32, 9),
            (1, 2),
            (3, 4),
            (20, 30),
            (8, 12),
            (u32::MAX, u32::MAX),
        ]);
        assert_eq!(set.spans, [(1, 12), (20, 30), (u32::MAX, u32::MAX)]);
        for (k, want) in [
            (0, false),
            (1, true),
            (12, true),
            (13, false),
            (25, true),
            (31, false),
            (u32::MAX, true),
        ] {
            assert_eq!(set.contains(k), want, "{k}");
        }
        assert!(!Intervals::<u128>::build(vec![]).contains(0));
        // Many intervals: every block boundary of the two-level search.
        let set = Intervals::build((0..1000u32).map(|i| (i * 10, i * 10 + 4)).collect());
        assert_eq!(set.spans.len(), 1000);
        for k in 0..10_010u32 {
            assert_eq!(set.contains(k), k < 10_000 && k % 10 <= 4, "{k}");
        }
    }

    #[test]
    fn bucket_table_agrees_with_a_linear_scan() {
        // Wide spans, tight clusters and the extremes, so buckets are both empty and long.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut ranges = vec![(0u128, 0u128), (u128::MAX - 3, u128::MAX)];
        for i in 0..3000u128 {
            let base = match i % 3 {
                0 => u128::from(next()) << 64 | u128::from(next()),
                1 => 0x2001_0db8 << 96 | u128::from(next() % 5000),
                _ => MAPPED_FIRST + u128::from(next() % 100),
            };
            ranges.push((base, base.saturating_add(u128::from(next() % 4))));
        }
        let set = Intervals::build(ranges.clone());
        let linear = |k: u128| ranges.iter().any(|&(lo, hi)| lo <= k && k <= hi);
        let mut probes: Vec<u128> = vec![0, 1, u128::MAX, u128::MAX - 4];
        for &(lo, hi) in &ranges {
            probes.extend([lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)]);
        }
        for k in probes {
            assert_eq!(set.contains(k), linear(k), "{k:#x}");
        }
    }

    #[test]
    fn range_sets_follow_node_compare() {
        // A v6 range without mapped bounds: IPv6 queries only.
        let r = Rule::Range(ip("::"), ip("ffff::"));
        assert_eq!(matched_sets(&r).0, None);
        // v4 start, mapped v6 end: both.
        let r = Rule::Range(ip("1.1.1.1"), ip("::ffff:1.1.1.9"));
        let (q4, q6) = matched_sets(&r);
        assert_eq!(q4, Some((0x01010101, 0x01010109)));
        assert_eq!(q6, Some((mapped(0x01010101), mapped(0x01010109))));
        // v4 start, v6 end beyond the mapped block: IPv6 queries stop at the block's end.
        let r = Rule::Range(ip("1.1.1.1"), ip("ffff::"));
        let (q4, q6) = matched_sets(&r);
        assert_eq!(q4, None);
        assert_eq!(q6, Some((mapped(0x01010101), MAPPED_LAST)));
    }
}
