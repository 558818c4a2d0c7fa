//! BlockList operation sequences: the [`Op`] vocabulary, a decoder from fuzzer bytes that
//! leans towards the edges (/0, /32, /96, /128, 0.0.0.0, 255.255.255.255, `::`,
//! all-ones, the `::ffff:0:0/96` borders), and [`run_ops`], which drives a [`BlockList`]
//! and the naive reference side by side and panics on the first difference.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::reference::{NaiveBlockList, NaiveRule};
use nodenet_core::validate::{validate_int32, NumberArg};
use nodenet_core::{BlockList, Error, Family, SocketAddress, SocketAddressOptions};

/// One call on a BlockList. Text arguments go through Node's parsing; `*Ip` variants use the
/// `SocketAddress` form (family ignored), which is the only way to build mixed-family
/// ranges.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `addAddress(address, family)`.
    AddAddress(String, String),
    /// `addRange(start, end, family)`.
    AddRange(String, String, String),
    /// `addRange(SocketAddress, SocketAddress)`.
    AddRangeIp(IpAddr, IpAddr),
    /// `addSubnet(network, prefix, family)`.
    AddSubnet(String, f64, String),
    /// `addSubnet(SocketAddress, prefix)`.
    AddSubnetIp(IpAddr, f64),
    /// `remove_address(address, family)`.
    RemoveAddress(String, String),
    /// `remove_range(start, end, family)`.
    RemoveRange(String, String, String),
    /// `remove_subnet(network, prefix, family)`.
    RemoveSubnet(String, f64, String),
    /// `check(address, family)`.
    Check(String, String),
    /// `to_json` then `from_json` into a fresh list, which must answer every probe alike.
    JsonRoundTrip,
}

/// Addresses where off-by-one and cross-family mistakes live.
pub const EDGE_ADDRESSES: &[&str] = &[
    "0.0.0.0",
    "0.0.0.1",
    "9.255.255.255",
    "10.0.0.0",
    "10.255.255.255",
    "127.0.0.1",
    "255.255.255.254",
    "255.255.255.255",
    "::",
    "::1",
    "::fffe:ffff:ffff",
    "::ffff:0:0",
    "::ffff:0.0.0.1",
    "::ffff:10.0.0.0",
    "::ffff:255.255.255.255",
    "::1:0:0:0",
    "::10.0.0.1",
    "64:ff9b::a00:1",
    "ffff::",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
];

/// Prefixes at the boundaries, including invalid ones.
pub const EDGE_PREFIXES: &[f64] = &[
    0.0, 1.0, 7.0, 8.0, 31.0, 32.0, 33.0, 64.0, 95.0, 96.0, 97.0, 104.0, 120.0, 127.0, 128.0,
    129.0, -1.0, 1.5,
];

/// Strings that are not addresses, or not in the family asked for.
const JUNK: &[&str] = &[
    "", "bad", "01.2.3.4", "1.2.3", "[::1]", " 1.2.3.4", "::1%", "1::2::3",
];

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn pick<'t, T>(&mut self, table: &'t [T]) -> &'t T {
        &table[usize::from(self.byte()) % table.len()]
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    fn ip(&mut self) -> IpAddr {
        match self.byte() % 8 {
            0 => edge(self.pick::<&str>(EDGE_ADDRESSES)),
            1 => IpAddr::V4(Ipv4Addr::from(self.u32())),
            2 => {
                let hi = u128::from(self.u32()) << 96 | u128::from(self.u32()) << 64;
                IpAddr::V6(Ipv6Addr::from(
                    hi | u128::from(self.u32()) << 32 | u128::from(self.u32()),
                ))
            }
            3 => IpAddr::V6(Ipv4Addr::from(self.u32()).to_ipv6_mapped()),
            4 => {
                // An edge nudged by a small signed step.
                let base = edge(self.pick::<&str>(EDGE_ADDRESSES));
                let step = i64::from(self.byte() as i8);
                match base {
                    IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(
                        (i64::from(u32::from(v4)) + step).clamp(0, i64::from(u32::MAX)) as u32,
                    )),
                    IpAddr::V6(v6) => {
                        let v = u128::from(v6);
                        let v = if step < 0 {
                            v.saturating_sub(step.unsigned_abs().into())
                        } else {
                            v.saturating_add(step.unsigned_abs().into())
                        };
                        IpAddr::V6(Ipv6Addr::from(v))
                    }
                }
            }
            5 => IpAddr::V4(Ipv4Addr::new(10, 0, 0, self.byte() % 16)),
            6 => IpAddr::V6(Ipv6Addr::from(u128::from(self.byte() % 16))),
            _ => IpAddr::V6(Ipv4Addr::new(10, 0, 0, self.byte() % 16).to_ipv6_mapped()),
        }
    }

    /// Address text in one of the forms Node accepts (or junk).
    fn text(&mut self, ip: IpAddr) -> String {
        match (self.byte() % 8, ip) {
            (0..=2, ip) => SocketAddress::from(ip).address(),
            (3, ip) => ip.to_string(),
            (4, IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!(
                    "{:04X}:{:04X}:{:04X}:{:04X}:{:04X}:{:04X}:{:04X}:{:04X}",
                    s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
                )
            }
            (5, IpAddr::V6(v6)) => format!("{v6}%eth0"),
            (6, _) => self.pick(JUNK).to_string(),
            (_, ip) => ip.to_string(),
        }
    }

    fn family(&mut self, ip: IpAddr) -> String {
        let (natural, other) = match ip {
            IpAddr::V4(_) => ("ipv4", "ipv6"),
            IpAddr::V6(_) => ("ipv6", "ipv4"),
        };
        match self.byte() % 8 {
            0..=4 => natural.to_string(),
            5 => natural.to_ascii_uppercase(),
            6 => other.to_string(),
            _ => "ipv5".to_string(),
        }
    }

    fn prefix(&mut self) -> f64 {
        match self.byte() % 3 {
            0 => f64::from(self.byte() % 130),
            _ => *self.pick(EDGE_PREFIXES),
        }
    }

    /// Address text and a family for it.
    fn arg(&mut self) -> (String, String) {
        let ip = self.ip();
        (self.text(ip), self.family(ip))
    }
}

fn edge(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Decode up to 64 operations from fuzzer bytes.
pub fn ops_from_bytes(data: &[u8]) -> Vec<Op> {
    let mut r = Reader { data, at: 0 };
    let mut ops = Vec::new();
    while r.at < data.len() && ops.len() < 64 {
        let op = match r.byte() % 12 {
            0 | 1 => {
                let (a, f) = r.arg();
                Op::AddAddress(a, f)
            }
            2 | 3 => {
                let (s, f) = r.arg();
                let end = r.ip();
                Op::AddRange(s, r.text(end), f)
            }
            4 => Op::AddRangeIp(r.ip(), r.ip()),
            5 | 6 => {
                let (n, f) = r.arg();
                Op::AddSubnet(n, r.prefix(), f)
            }
            7 => Op::AddSubnetIp(r.ip(), r.prefix()),
            8 => {
                let (a, f) = r.arg();
                Op::RemoveAddress(a, f)
            }
            9 => {
                let (s, f) = r.arg();
                let end = r.ip();
                Op::RemoveRange(s, r.text(end), f)
            }
            10 => {
                let (n, f) = r.arg();
                Op::RemoveSubnet(n, r.prefix(), f)
            }
            _ => match r.byte() % 4 {
                0 => Op::JsonRoundTrip,
                _ => {
                    let (a, f) = r.arg();
                    Op::Check(a, f)
                }
            },
        };
        ops.push(op);
    }
    ops
}

/// What Node's JS does with a string address: `new SocketAddress({address, family})`.
fn parse(address: &str, family: &str) -> Result<IpAddr, Error> {
    SocketAddress::new(SocketAddressOptions::new().address(address).family(family))
        .map(|sa| sa.ip())
}

fn prefix_for(net: IpAddr, prefix: f64) -> Result<u8, Error> {
    let max = match Family::of(net) {
        Family::IPv4 => 32,
        Family::IPv6 => 128,
    };
    validate_int32(NumberArg(prefix), "prefix", 0, max).map(|p| p as u8)
}

fn range(naive: &mut NaiveBlockList, start: IpAddr, end: IpAddr) -> Result<(), Error> {
    if naive.add_range(start, end) {
        Ok(())
    } else {
        Err(Error::invalid_arg_value(
            "start",
            &SocketAddress::from(start).to_string(),
            Some("must come before end"),
        ))
    }
}

fn same<T: PartialEq + std::fmt::Debug>(got: Result<T, Error>, want: Result<T, Error>, op: &Op) {
    match (&got, &want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w, "{op:?}"),
        (Err(g), Err(w)) => {
            assert_eq!(g.code(), w.code(), "{op:?}");
            assert_eq!(g.message(), w.message(), "{op:?}");
        }
        _ => panic!("{op:?}: BlockList gave {got:?}, reference {want:?}"),
    }
}

/// Addresses around every bound of every rule, in both families where Node relates them.
fn probes(naive: &NaiveBlockList) -> Vec<IpAddr> {
    let mut bounds: Vec<IpAddr> = EDGE_ADDRESSES.iter().map(|s| edge(s)).collect();
    for rule in &naive.rules {
        match *rule {
            NaiveRule::Address(a) => bounds.push(a),
            NaiveRule::Range(s, e) => bounds.extend([s, e]),
            NaiveRule::Subnet(IpAddr::V4(n), p) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(p)).unwrap_or(0);
                let lo = u32::from(n) & mask;
                bounds.extend([lo, lo | !mask].map(|v| IpAddr::V4(v.into())));
            }
            NaiveRule::Subnet(IpAddr::V6(n), p) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(p)).unwrap_or(0);
                let lo = u128::from(n) & mask;
                bounds.extend([lo, lo | !mask].map(|v| IpAddr::V6(v.into())));
            }
        }
    }
    let mut out = Vec::new();
    for b in bounds {
        let v6 = match b {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        let v = u128::from(v6);
        for p in [v.wrapping_sub(1), v, v.wrapping_add(1)] {
            let p = Ipv6Addr::from(p);
            out.push(IpAddr::V6(p));
            if let Some(v4) = p.to_ipv4_mapped() {
                out.push(IpAddr::V4(v4));
            }
        }
    }
    out
}

fn assert_same_answers(list: &BlockList, naive: &NaiveBlockList, context: &str) {
    for p in probes(naive) {
        assert_eq!(
            list.check_ip(p),
            naive.check(p),
            "check({p}) {context}; rules {:?}",
            naive.rules()
        );
        let family = Family::of(p).as_lower_str();
        assert_eq!(
            list.check(p.to_string().as_str(), family).ok(),
            Some(naive.check(p)),
            "check({p:?} text)"
        );
    }
}

/// Run `ops` on a [`BlockList`] and on the naive reference; panic on any difference in
/// results, errors, `rules()` or `check` answers around every rule bound.
pub fn run_ops(ops: &[Op]) {
    let mut list = BlockList::new();
    let mut naive = NaiveBlockList::default();
    for op in ops {
        match op {
            Op::AddAddress(a, f) => {
                let want = parse(a, f).map(|ip| naive.add_address(ip));
                same(list.add_address(a.as_str(), f), want, op);
            }
            Op::AddRange(s, e, f) => {
                let want =
                    parse(s, f).and_then(|s| parse(e, f).and_then(|e| range(&mut naive, s, e)));
                same(list.add_range(s.as_str(), e.as_str(), f), want, op);
            }
            Op::AddRangeIp(s, e) => {
                let want = range(&mut naive, *s, *e);
                same(list.add_range(*s, *e, "ignored"), want, op);
            }
            Op::AddSubnet(n, p, f) => {
                let want =
                    parse(n, f).and_then(|n| prefix_for(n, *p).map(|p| naive.add_subnet(n, p)));
                same(list.add_subnet(n.as_str(), *p, f), want, op);
            }
            Op::AddSubnetIp(n, p) => {
                let want = prefix_for(*n, *p).map(|p| naive.add_subnet(*n, p));
                same(list.add_subnet(*n, *p, "ignored"), want, op);
            }
            Op::RemoveAddress(a, f) => {
                let want = parse(a, f).map(|ip| naive.remove(&NaiveRule::Address(ip)));
                same(list.remove_address(a.as_str(), f), want, op);
            }
            Op::RemoveRange(s, e, f) => {
                let want = parse(s, f).and_then(|s| {
                    parse(e, f).and_then(|e| {
                        if super::reference::compare(s, e) == super::reference::Cmp::Greater {
                            range(&mut NaiveBlockList::default(), s, e).map(|_| false)
                        } else {
                            Ok(naive.remove(&NaiveRule::Range(s, e)))
                        }
                    })
                });
                same(list.remove_range(s.as_str(), e.as_str(), f), want, op);
            }
            Op::RemoveSubnet(n, p, f) => {
                let want = parse(n, f).and_then(|n| {
                    prefix_for(n, *p).map(|p| naive.remove(&NaiveRule::Subnet(n, p)))
                });
                same(list.remove_subnet(n.as_str(), *p, f), want, op);
            }
            Op::Check(a, f) => {
                let want = Ok(parse(a, f).map(|ip| naive.check(ip)).unwrap_or(false));
                same(list.check(a.as_str(), f), want, op);
            }
            Op::JsonRoundTrip => {
                let mut copy = BlockList::new();
                let json = list.to_json();
                if let Err(e) = copy.from_json(&json) {
                    panic!("from_json({json}): {e}");
                }
                let mut reversed = list.rules();
                reversed.reverse();
                assert_eq!(
                    copy.rules(),
                    reversed,
                    "from_json(to_json) lists in array order"
                );
                assert_same_answers(&copy, &naive, "after a JSON round trip");
            }
        }
        assert_eq!(list.rules(), naive.rules(), "rules after {op:?}");
    }
    assert_same_answers(&list, &naive, "at the end");
}
