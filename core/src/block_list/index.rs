//! The lookup index behind `BlockList::check`: every rule is turned into the set of IPv4
//! queries and the set of IPv6 queries it matches under Node's rules (§7.2) — each set is
//! one interval or empty — and the intervals of all rules are sorted and merged into two
//! disjoint lists that are binary-searched. Building is O(n log n); a lookup is O(log n).
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

/// Sorted, disjoint, non-adjacent closed intervals, stored as two parallel arrays so the
/// binary search only touches the starts.
#[derive(Clone, Debug, Default)]
struct Intervals<T> {
    starts: Vec<T>,
    ends: Vec<T>,
}

/// Integers the interval list works on.
trait Key: Copy + Ord {
    /// `self + 1`, or `None` at the maximum.
    fn succ(self) -> Option<Self>;
}
impl Key for u32 {
    fn succ(self) -> Option<u32> {
        self.checked_add(1)
    }
}
impl Key for u128 {
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
}

impl<T: Key> Intervals<T> {
    fn build(mut ranges: Vec<(T, T)>) -> Intervals<T> {
        ranges.sort_unstable();
        let mut out = Intervals {
            starts: Vec::with_capacity(ranges.len()),
            ends: Vec::with_capacity(ranges.len()),
        };
        let mut current: Option<(T, T)> = None;
        for (lo, hi) in ranges {
            current = match current {
                // Overlapping or adjacent: extend.
                Some((clo, chi)) if chi.succ().is_none_or(|next| lo <= next) => {
                    Some((clo, chi.max(hi)))
                }
                Some((clo, chi)) => {
                    out.starts.push(clo);
                    out.ends.push(chi);
                    Some((lo, hi))
                }
                None => Some((lo, hi)),
            };
        }
        if let Some((lo, hi)) = current {
            out.starts.push(lo);
            out.ends.push(hi);
        }
        out
    }

    fn contains(&self, key: T) -> bool {
        // Index of the first interval starting after `key`; the one before it is the only
        // candidate.
        let after = self.starts.partition_point(|&s| s <= key);
        match after.checked_sub(1).and_then(|i| self.ends.get(i)) {
            Some(&end) => key <= end,
            None => false,
        }
    }
}

/// The compiled rule set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    v4: Intervals<u32>,
    v6: Intervals<u128>,
}

impl Index {
    pub(crate) fn build(rules: &[Rule]) -> Index {
        let mut v4 = Vec::with_capacity(rules.len());
        let mut v6 = Vec::with_capacity(rules.len());
        for rule in rules {
            let (q4, q6) = matched_sets(rule);
            v4.extend(q4);
            v6.extend(q6);
        }
        Index {
            v4: Intervals::build(v4),
            v6: Intervals::build(v6),
        }
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(ip) => self.v4.contains(u32::from(ip)),
            IpAddr::V6(ip) => self.v6.contains(u128::from(ip)),
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
        assert_eq!(set.starts, [1, 20, u32::MAX]);
        assert_eq!(set.ends, [12, 30, u32::MAX]);
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
