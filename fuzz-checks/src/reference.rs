//! The naive BlockList: Node's C++ `SocketAddressBlockList` transcribed rule by rule from
//! §7.2 — a list scanned newest first, each rule type with its own cross-family logic —
//! with none of the interval machinery of `nodenet_core::block_list`. It is the oracle the
//! property tests and the fuzzer compare `BlockList` against.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nodenet_core::SocketAddress;

/// One rule, as stored by Node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NaiveRule {
    /// `addAddress`.
    Address(IpAddr),
    /// `addRange`.
    Range(IpAddr, IpAddr),
    /// `addSubnet`.
    Subnet(IpAddr, u8),
}

/// Node's `SocketAddress::CompareResult`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `NOT_COMPARABLE`.
    NotComparable,
    /// `LESS_THAN`.
    Less,
    /// `SAME`.
    Same,
    /// `GREATER_THAN`.
    Greater,
}

/// The IPv4 inside an IPv4-mapped IPv6 address (10 zero bytes, `ff ff`, 4 bytes).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let b = v6.octets();
    if b[..10].iter().all(|&x| x == 0) && b[10] == 0xff && b[11] == 0xff {
        Some(Ipv4Addr::new(b[12], b[13], b[14], b[15]))
    } else {
        None
    }
}

fn cmp_bytes(a: &[u8], b: &[u8]) -> Cmp {
    match a.cmp(b) {
        std::cmp::Ordering::Less => Cmp::Less,
        std::cmp::Ordering::Equal => Cmp::Same,
        std::cmp::Ordering::Greater => Cmp::Greater,
    }
}

/// `SocketAddress::compare(a, b)`.
pub fn compare(a: IpAddr, b: IpAddr) -> Cmp {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => cmp_bytes(&a.octets(), &b.octets()),
        (IpAddr::V6(a), IpAddr::V6(b)) => cmp_bytes(&a.octets(), &b.octets()),
        (IpAddr::V4(a), IpAddr::V6(b)) => match embedded_v4(b) {
            Some(b) => cmp_bytes(&a.octets(), &b.octets()),
            None => Cmp::NotComparable,
        },
        (IpAddr::V6(_), IpAddr::V4(_)) => match compare(b, a) {
            Cmp::Less => Cmp::Greater,
            Cmp::Greater => Cmp::Less,
            other => other,
        },
    }
}

/// `is_match`: byte equality within a family; across families through the mapped form.
fn is_match(rule: IpAddr, addr: IpAddr) -> bool {
    match (rule, addr) {
        (IpAddr::V4(r), IpAddr::V6(a)) => embedded_v4(a) == Some(r),
        (IpAddr::V6(r), IpAddr::V4(a)) => embedded_v4(r) == Some(a),
        (r, a) => r == a,
    }
}

/// The first `prefix` bits of `a` and `b` are equal (bit by bit, most significant first).
fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    (0..usize::from(prefix)).all(|bit| {
        let (byte, shift) = (bit / 8, 7 - bit % 8);
        (a[byte] >> shift) & 1 == (b[byte] >> shift) & 1
    })
}

/// `is_in_network(net, prefix)` for `addr`, per family pair.
fn is_in_network(net: IpAddr, prefix: u8, addr: IpAddr) -> bool {
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(&n.octets(), &a.octets(), prefix),
        (IpAddr::V6(n), IpAddr::V6(a)) => same_prefix(&n.octets(), &a.octets(), prefix),
        (IpAddr::V6(n), IpAddr::V4(a)) => {
            same_prefix(&n.octets(), &a.to_ipv6_mapped().octets(), prefix)
        }
        (IpAddr::V4(n), IpAddr::V6(a)) => match embedded_v4(a) {
            Some(a) => same_prefix(&n.octets(), &a.octets(), prefix),
            None => false,
        },
    }
}

impl NaiveRule {
    /// Node's `Apply` for this rule.
    pub fn applies(&self, addr: IpAddr) -> bool {
        match *self {
            NaiveRule::Address(a) => is_match(a, addr),
            NaiveRule::Range(start, end) => {
                let ge = matches!(compare(addr, start), Cmp::Same | Cmp::Greater);
                let le = matches!(compare(addr, end), Cmp::Less | Cmp::Same);
                ge && le
            }
            NaiveRule::Subnet(net, prefix) => is_in_network(net, prefix, addr),
        }
    }

    /// The rule's line in `rules`.
    pub fn text(&self) -> String {
        let label = |ip: IpAddr| if ip.is_ipv4() { "IPv4" } else { "IPv6" };
        let show = |ip: IpAddr| SocketAddress::from(ip).address();
        match *self {
            NaiveRule::Address(a) => format!("Address: {} {}", label(a), show(a)),
            NaiveRule::Range(s, e) => format!("Range: {} {}-{}", label(s), show(s), show(e)),
            NaiveRule::Subnet(n, p) => format!("Subnet: {} {}/{}", label(n), show(n), p),
        }
    }
}

/// Node's linked list of rules: newest first, linear scan.
#[derive(Clone, Debug, Default)]
pub struct NaiveBlockList {
    /// Newest first.
    pub rules: Vec<NaiveRule>,
}

impl NaiveBlockList {
    /// `addAddress` (already parsed).
    pub fn add_address(&mut self, a: IpAddr) {
        self.rules.insert(0, NaiveRule::Address(a));
    }
    /// `addRange` (already parsed): `false` when start is greater than end.
    pub fn add_range(&mut self, start: IpAddr, end: IpAddr) -> bool {
        if compare(start, end) == Cmp::Greater {
            return false;
        }
        self.rules.insert(0, NaiveRule::Range(start, end));
        true
    }
    /// `addSubnet` (already parsed and validated).
    pub fn add_subnet(&mut self, net: IpAddr, prefix: u8) {
        self.rules.insert(0, NaiveRule::Subnet(net, prefix));
    }
    /// Remove every rule equal to `rule`; whether any was.
    pub fn remove(&mut self, rule: &NaiveRule) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r != rule);
        before != self.rules.len()
    }
    /// `check`.
    pub fn check(&self, addr: IpAddr) -> bool {
        self.rules.iter().any(|r| r.applies(addr))
    }
    /// `rules`.
    pub fn rules(&self) -> Vec<String> {
        self.rules.iter().map(NaiveRule::text).collect()
    }
}
