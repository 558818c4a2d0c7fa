//! libuv's address text conversions as Node's C++ `SocketAddress` uses them:
//! `uv_ip4_addr` / `uv_ip6_addr` (parsing) and `uv_inet_ntop` (canonical text).
//!
//! These differ from `isIP` in ways Node users can observe, so they are kept exactly:
//! the string reaches C as a NUL-terminated buffer (`"1.2.3.4\0junk"` parses as
//! `1.2.3.4`); for IPv6 everything after the first `%` is the zone, which is never
//! validated (`fe80::1%` and `fe80::1%a%b` are accepted) and then dropped; and the address
//! part before a `%` is cut to 39 bytes (libuv's 40-byte buffer).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{parse_v6, scan_v4, scan_v6};

/// libuv copies the part before `%` into `char address_part[40]`, keeping at most 39 bytes.
const ADDRESS_PART_MAX: usize = 39;

/// The bytes C sees: everything up to the first NUL.
fn c_string(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(end) => &s[..end],
        None => s,
    }
}

/// `uv_ip4_addr`: a strict dotted quad (no leading zeros), nothing else.
///
/// ```
/// use nodenet_core::ip::uv::ip4_addr;
/// assert_eq!(ip4_addr("10.0.0.1"), Some([10, 0, 0, 1].into()));
/// assert_eq!(ip4_addr("10.0.0.01"), None);
/// ```
pub fn ip4_addr(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    match scan_v4(b) {
        // The C string ends at the end or at a NUL.
        Some((ip, end)) if matches!(b.get(end), None | Some(0)) => Some(Ipv4Addr::from(ip)),
        _ => None,
    }
}

/// `uv_ip6_addr`: IPv6 text with an optional, unvalidated `%zone` that is dropped.
///
/// ```
/// use nodenet_core::ip::uv::ip6_addr;
/// assert_eq!(ip6_addr("fe80::1%lo"), Some("fe80::1".parse().unwrap()));
/// assert_eq!(ip6_addr("1.2.3.4"), None);
/// ```
pub fn ip6_addr(s: &str) -> Option<Ipv6Addr> {
    let b = s.as_bytes();
    // Fast path: one scan that stops at the end, a NUL or the zone's '%'.
    match scan_v6(b) {
        Some((ip, end)) => match b.get(end) {
            None | Some(0) => return Some(Ipv6Addr::from(ip)),
            Some(b'%') if end <= ADDRESS_PART_MAX => return Some(Ipv6Addr::from(ip)),
            _ => {}
        },
        None if b.len() <= ADDRESS_PART_MAX => return None,
        None => {}
    }
    // Long input: libuv's exact steps, where cutting the part before '%' at 39 bytes can
    // turn an invalid address valid (or the other way round).
    let b = c_string(b);
    let addr = match b.iter().position(|&c| c == b'%') {
        Some(zone) => &b[..zone.min(ADDRESS_PART_MAX)],
        None => b,
    };
    parse_v6(addr).map(Ipv6Addr::from)
}

/// `uv_inet_ntop`: Node's canonical address text (`SocketAddress.address`, `BlockList`
/// rules). Lowercase hex; the first longest run of two or more zero groups becomes `::`;
/// IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`, unless it is `::` or
/// `::1`-like, i.e. the run covers seven groups) addresses end in a dotted quad, as BIND's
/// `inet_ntop6` prints them.
///
/// ```
/// use nodenet_core::ip::uv::inet_ntop;
/// let ip = |s: &str| s.parse().unwrap();
/// assert_eq!(inet_ntop(ip("2001:0DB8::0001")), "2001:db8::1");
/// assert_eq!(inet_ntop(ip("::ffff:c000:0280")), "::ffff:192.0.2.128");
/// assert_eq!(inet_ntop(ip("::102:304")), "::1.2.3.4");
/// assert_eq!(inet_ntop(ip("1:0:2:3:4:5:6:7")), "1:0:2:3:4:5:6:7");
/// ```
pub fn inet_ntop(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => ntop6(v6),
    }
}

fn ntop6(ip: Ipv6Addr) -> String {
    use std::fmt::Write;
    let words = ip.segments();
    // First longest run of zero words, if at least two long.
    let (mut best_base, mut best_len) = (0usize, 0usize);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_base = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let run = if best_len >= 2 {
        Some(best_base..best_base + best_len)
    } else {
        None
    };
    let mut out = String::with_capacity(41);
    for (i, word) in words.iter().enumerate() {
        if let Some(run) = &run {
            if run.contains(&i) {
                if i == run.start {
                    out.push(':');
                }
                continue;
            }
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            let o = ip.octets();
            let _ = write!(out, "{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
            return out;
        }
        let _ = write!(out, "{word:x}");
    }
    if matches!(&run, Some(run) if run.end == 8) {
        out.push(':');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        inet_ntop(IpAddr::V6(ip6_addr(s).unwrap()))
    }

    #[test]
    fn libuv_parsing_quirks_confirmed_with_node() {
        // Confirmed with node v20.20.2 (`new SocketAddress({...}).address`).
        assert_eq!(ip4_addr("1.2.3.4\0zz"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(v6("fe80::1%"), "fe80::1");
        assert_eq!(v6("fe80::1%a%b"), "fe80::1");
        assert_eq!(v6("0000:0000:0000:0000:0000:0000:0000:00011%lo"), "::1");
        assert_eq!(ip6_addr("0000:0000:0000:0000:0000:0000:0000:00011"), None);
        assert_eq!(ip6_addr("[::1]"), None);
        assert_eq!(ip6_addr(""), None);
        assert_eq!(ip4_addr("1.2.3.4 "), None);
        assert_eq!(ip4_addr("01.2.3.4"), None);
        // The cut at 39 bytes can make a longer address part valid.
        assert_eq!(v6("0000:0000:0000:0000:0000:0000:0000:0001x%lo"), "::1");
        assert_eq!(v6("::1\0%zzz"), "::1");
        assert_eq!(ip6_addr("::1x%lo"), None);
        assert_eq!(ip6_addr("1.2.3.4"), None);
        assert_eq!(ip4_addr("1.2.3.4%x"), None);
    }

    #[test]
    fn ntop_matches_node() {
        // Every expectation printed by node v20.20.2.
        for (input, want) in [
            ("::", "::"),
            ("::1", "::1"),
            ("::102:304", "::1.2.3.4"),
            ("::1:0", "::0.1.0.0"),
            ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
            ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
            ("::ffff:0:1.2.3.4", "::ffff:0:102:304"),
            ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
            ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("::ffff:c000:0280", "::ffff:192.0.2.128"),
            ("1::", "1::"),
            ("8592:757c:efae:4e45::", "8592:757c:efae:4e45::"),
            ("0000:0000::0001", "::1"),
            ("::FFFF:1.2.3.4", "::ffff:1.2.3.4"),
        ] {
            assert_eq!(v6(input), want, "{input}");
        }
    }
}
