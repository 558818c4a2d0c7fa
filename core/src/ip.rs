//! IP address text: `net.isIP`, `net.isIPv4`, `net.isIPv6` with exactly Node's acceptance
//! rules (§9), plus the two other text forms Node uses and that are *not* the same language:
//! libuv's `inet_pton`/`inet_ntop` ([`uv`], used by `SocketAddress` and `BlockList`) and the
//! WHATWG URL host parser ([`url`], used by `SocketAddress.parse`).
//!
//! The matcher is hand-written instead of compiling Node's regular expressions: it is one
//! left-to-right pass over the bytes with no allocation, which keeps `is_ip` in the
//! nanoseconds. The property tests compare it with Node's regexes compiled by the `regex`
//! crate, so the two cannot drift apart; the scanners are also checked against their
//! simpler byte-at-a-time predecessors (`reference`, test-only), which also pins down the
//! libuv paths the regexes do not cover (NUL terminators, the value of the address).

#[cfg(test)]
mod reference;
pub mod url;
pub mod uv;

/// `net.isIP(input)`: `4` for a dotted-quad IPv4 address, `6` for an IPv6 address (with an
/// optional `%zone`), `0` otherwise.
///
/// ```
/// use nodenet_core::is_ip;
/// assert_eq!(is_ip("127.0.0.1"), 4);
/// assert_eq!(is_ip("fe80::1%eth0"), 6);
/// assert_eq!(is_ip("01.2.3.4"), 0); // no leading zeros
/// assert_eq!(is_ip("::ffff:1.2.3.04"), 0);
/// ```
pub fn is_ip(input: &str) -> u8 {
    // The byte after the leading hex digits tells the languages apart, so at most one
    // parser runs: a dotted quad starts with 1–3 digits and a '.', while IPv6 text starts
    // with ':' or a group of 1–4 hex digits and a ':' (a '.' that early would be a dotted
    // quad in first position, which is never a whole IPv6 address).
    let s = input.as_bytes();
    let first_separator = s.iter().take(5).find(|&&b| CLASS[usize::from(b)] >= 16);
    match first_separator {
        Some(b'.') if v4_verdict(s) => 4,
        Some(b':') if v6_verdict(s) => 6,
        _ => 0, // five hex digits in a row are neither
    }
}

/// `net.isIPv4(input)`: Node's `IPv4Reg`, i.e. four decimal octets `0..=255` without
/// leading zeros, nothing before or after.
///
/// ```
/// use nodenet_core::is_ipv4;
/// assert!(is_ipv4("255.255.255.255"));
/// assert!(!is_ipv4("1.2.3.4 "));
/// ```
#[inline]
pub fn is_ipv4(input: &str) -> bool {
    v4_verdict(input.as_bytes())
}

/// `net.isIPv6(input)`: Node's `IPv6Reg`: standard IPv6 text (at most one `::`, which
/// stands for at least one group; an embedded dotted quad only in last position), then
/// optionally `%` and a zone of one or more `[0-9a-zA-Z.:-]`.
///
/// ```
/// use nodenet_core::is_ipv6;
/// assert!(is_ipv6("::ffff:127.0.0.1"));
/// assert!(is_ipv6("fe80::1%en-0:x"));
/// assert!(!is_ipv6("1:2:3:4:5:6:7::8")); // `::` must stand for a group
/// assert!(!is_ipv6("fe80::1%eth_0"));
/// ```
#[inline]
pub fn is_ipv6(input: &str) -> bool {
    v6_verdict(input.as_bytes())
}

/// `isIPv4` on bytes, always inlined (into `is_ip` too).
#[inline(always)]
fn v4_verdict(s: &[u8]) -> bool {
    matches!(scan_v4(s), Some((_, end)) if end == s.len())
}

/// `isIPv6` on bytes, always inlined (into `is_ip` too).
#[inline(always)]
fn v6_verdict(s: &[u8]) -> bool {
    match scan_v6_as::<false>(s) {
        Some((_, end)) if end == s.len() => true,
        // The zone alphabet has no '%', so the address ends at the first '%'.
        Some((_, end)) if s.get(end) == Some(&b'%') => match s.get(end + 1..) {
            Some(zone) if !zone.is_empty() => zone
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':')),
            _ => false,
        },
        _ => false,
    }
}

/// Byte classes for the IPv6 scanner: hex digit values `0..=15`, then `COLON`, `DOT`, and
/// `OTHER` for every other byte (one table lookup per byte).
const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t[b':' as usize] = COLON;
    t[b'.' as usize] = DOT;
    t
};
const COLON: u8 = 16;
const DOT: u8 = 17;
const OTHER: u8 = 0xff;

/// The address part of Node's `IPv6Reg` (equivalently libuv's `inet_pton6`) with nothing
/// after it.
pub(crate) fn parse_v6(s: &[u8]) -> Option<[u8; 16]> {
    scan_v6(s).and_then(|(ip, end)| (end == s.len()).then_some(ip.to_be_bytes()))
}

/// The decimal digit at `i`, if any.
fn digit(s: &[u8], i: usize) -> Option<u32> {
    match s.get(i) {
        Some(&b) if b.is_ascii_digit() => Some(u32::from(b - b'0')),
        _ => None,
    }
}

/// One octet at `i`: `0`, or 1–3 digits without a leading zero, at most 255. Returns the
/// value and the index after it; a fourth digit is left for the caller to reject.
fn octet(s: &[u8], i: usize) -> Option<(u32, usize)> {
    let d0 = digit(s, i)?;
    let Some(d1) = digit(s, i + 1) else {
        return Some((d0, i + 1));
    };
    if d0 == 0 {
        return None; // leading zero
    }
    let Some(d2) = digit(s, i + 2) else {
        return Some((d0 * 10 + d1, i + 2));
    };
    let v = d0 * 100 + d1 * 10 + d2;
    (v <= 255).then_some((v, i + 3))
}

/// A dotted quad at the start of `s`: exactly four decimal octets `0..=255`, no leading
/// zeros, no sign. Returns it and the index just after it; the caller decides what may
/// follow (nothing for `isIPv4`, a NUL for libuv, ...).
pub(crate) fn scan_v4(s: &[u8]) -> Option<(u32, usize)> {
    let (a, i) = octet(s, 0)?;
    let mut value = a;
    let mut i = i;
    for _ in 0..3 {
        if s.get(i) != Some(&b'.') {
            return None;
        }
        let (o, next) = octet(s, i + 1)?;
        value = value << 8 | o;
        i = next;
    }
    Some((value, i))
}

/// Whether the byte at `i` ends address text for every caller: the end of the input,
/// the `%` of a zone, or the NUL at which C stops reading.
#[inline(always)]
fn ends_address(s: &[u8], i: usize) -> bool {
    matches!(s.get(i), None | Some(b'%') | Some(0))
}

/// IPv6 text at the start of `s`: 1–4 hex digit groups separated by `:`, at most one `::`
/// standing for one or more zero groups, and an optional trailing dotted quad worth two
/// groups, followed by the end of `s`, a `%` (zone) or a NUL. Returns the address and the
/// index of that terminator; the caller decides which terminators it accepts (`isIPv6`: the
/// end or a valid zone; libuv: all three). Any other byte after the address gives `None`.
///
/// Why it is fast: a group of four hex digits followed by ':' (most groups of real
/// addresses) is decoded with one bounds check and four independent table lookups;
/// other groups go through a tight loop (one table lookup per byte). The groups are
/// shifted into one 128-bit accumulator and the groups after `::` are moved to the
/// bottom once at the end; only the byte after a group (`:`, `::`, `.`, a terminator)
/// takes the slower paths. Measured and rejected: branch-free decoding of every group
/// (the select chains cost more than the branches, which the predictor learns) and
/// copying the input into a padded buffer to drop the bounds checks (the copy costs more
/// than the checks on short inputs).
#[inline]
pub(crate) fn scan_v6(s: &[u8]) -> Option<(u128, usize)> {
    scan_v6_as::<true>(s)
}

/// [`scan_v6`], computing the address only if `VALUE` (`isIPv6` needs just the verdict,
/// and leaving out the 128-bit bookkeeping makes it a third faster); always inlined so
/// the answer stays in registers.
#[inline(always)]
fn scan_v6_as<const VALUE: bool>(s: &[u8]) -> Option<(u128, usize)> {
    let mut acc = 0u128; // every group so far, 16 bits each, the latest lowest
    let mut groups = 0u32; // groups in `acc` (a dotted quad counts two)
    let mut gap: Option<u32> = None; // groups before `::`
    let mut i = 0;
    // After `::` the address may end; everywhere else a group must follow.
    let mut group_optional = false;
    if s.first() == Some(&b':') {
        if s.get(1) != Some(&b':') {
            return None;
        }
        gap = Some(0);
        group_optional = true;
        i = 2;
    }
    loop {
        let start = i;
        // Fast path: four hex digits and a ':', as most groups of real addresses are:
        // one bounds check and four independent table lookups instead of a loop.
        if let Some(&[a, b, c, d, b':']) = s.get(i..i + 5) {
            let class = |x: u8| u32::from(CLASS[usize::from(x)]);
            let (a, b, c, d) = (class(a), class(b), class(c), class(d));
            if (a | b | c | d) < 16 {
                if groups == 8 {
                    return None;
                }
                if VALUE {
                    acc = acc << 16 | u128::from(a << 12 | b << 8 | c << 4 | d);
                }
                groups += 1;
                i += 5;
                group_optional = s.get(i) == Some(&b':');
                if group_optional {
                    if gap.is_some() {
                        return None;
                    }
                    gap = Some(groups);
                    i += 1;
                }
                continue;
            }
        }
        // At most four digits (a bounded loop the compiler unrolls); a fifth is caught
        // below, being neither a separator nor a terminator.
        let mut value = 0u32;
        for _ in 0..4 {
            let class = s.get(i).map_or(OTHER, |&b| CLASS[usize::from(b)]);
            if class >= 16 {
                break;
            }
            value = value << 4 | u32::from(class);
            i += 1;
        }
        match i - start {
            0 if group_optional => break,
            1..=4 => {}
            _ => return None,
        }
        let next = s.get(i).copied();
        if next == Some(b'.') {
            // The digits read as hex were the first octet of a dotted quad, which ends
            // the address.
            let (v4, len) = scan_v4(s.get(start..)?)?;
            if groups > 6 {
                return None;
            }
            if VALUE {
                acc = acc << 32 | u128::from(v4);
            }
            groups += 2;
            i = start + len;
            break;
        }
        if groups == 8 {
            return None;
        }
        if VALUE {
            acc = acc << 16 | u128::from(value);
        }
        groups += 1;
        if next != Some(b':') {
            break; // a terminator is checked below
        }
        i += 1;
        group_optional = s.get(i) == Some(&b':');
        if group_optional {
            if gap.is_some() {
                return None;
            }
            gap = Some(groups);
            i += 1;
        }
    }
    if !ends_address(s, i) {
        return None;
    }
    let value = match gap {
        _ if !VALUE => (groups <= 8 && (gap.is_some() != (groups == 8))).then_some(0)?,
        None if groups == 8 => acc,
        // `::` must stand for at least one group: move the head groups up past the zero
        // groups, leaving the tail at the bottom.
        Some(head) if groups < 8 => {
            let tail_bits = 16 * (groups - head);
            let tail = acc & ((1u128 << tail_bits) - 1);
            match head {
                0 => tail,
                _ => (acc >> tail_bits) << (128 - 16 * head) | tail,
            }
        }
        _ => return None,
    };
    Some((value, i))
}

/// `ip.to_string()` (Rust's `Display`, which is Node's text for resolved addresses:
/// dotted quads, RFC 5952 IPv6, `::ffff:a.b.c.d` for IPv4-mapped) written directly into a
/// `String` of the right size, without the formatting machinery: the simulator formats
/// a DNS answer per connect.
pub(crate) fn ip_text(ip: std::net::IpAddr) -> String {
    let mut out = String::with_capacity(if ip.is_ipv4() { 15 } else { 39 });
    match ip {
        std::net::IpAddr::V4(v4) => push_v4(&mut out, v4),
        std::net::IpAddr::V6(v6) => push_v6(&mut out, v6),
    }
    out
}

/// `text:port` (`autoSelectFamilyAttemptedAddresses` entries) without `format!`.
pub(crate) fn with_port(text: &str, port: u16) -> String {
    let mut out = String::with_capacity(text.len() + 6);
    out.push_str(text);
    out.push(':');
    push_decimal(&mut out, u32::from(port));
    out
}

fn push_decimal(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

fn push_v4(out: &mut String, v4: std::net::Ipv4Addr) {
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_decimal(out, u32::from(octet));
    }
}

fn push_hex(out: &mut String, n: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut started = false;
    for shift in [12, 8, 4, 0] {
        let d = (n >> shift) & 0xf;
        if d != 0 || started || shift == 0 {
            started = true;
            out.push(char::from(HEX[usize::from(d)]));
        }
    }
}

fn push_v6(out: &mut String, v6: std::net::Ipv6Addr) {
    if let Some(v4) = v6.to_ipv4_mapped() {
        out.push_str("::ffff:");
        return push_v4(out, v4);
    }
    let segments = v6.segments();
    // The longest run of zero segments (the first of equal ones), compressed when it is
    // longer than one segment.
    let (mut best, mut best_len, mut start, mut len) = (0, 0, 0, 0);
    for (i, &seg) in segments.iter().enumerate() {
        if seg == 0 {
            if len == 0 {
                start = i;
            }
            len += 1;
            if len > best_len {
                (best, best_len) = (start, len);
            }
        } else {
            len = 0;
        }
    }
    let part = |out: &mut String, segs: &[u16]| {
        for (i, &seg) in segs.iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            push_hex(out, seg);
        }
    };
    if best_len > 1 {
        part(out, &segments[..best]);
        out.push_str("::");
        part(out, &segments[best + best_len..]);
    } else {
        part(out, &segments);
    }
}

#[cfg(test)]
mod tests {
    /// `ip_text` is `Display`, on the edge cases and on many random addresses (runs of
    /// zeros of every length and position, IPv4-mapped, equal runs).
    #[test]
    fn ip_text_is_display() {
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        let mut cases: Vec<IpAddr> = [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "1.20.255.9",
            "::",
            "::1",
            "1::",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "1:0:0:2:0:0:0:3",
            "1:0:0:2:0:0:3:4",
            "0:0:1:0:0:1:0:0",
            "fe80::1",
            "2001:db8::ff00:42:8329",
            "1:2:3:4:5:6:7:8",
            "1:0:2:3:4:5:6:7",
            "::ffff:0:0",
            "64:ff9b::1.2.3.4",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut segs = [0u16; 8];
            for (i, s) in segs.iter_mut().enumerate() {
                // Mostly zeros, so that runs of every shape occur.
                let r = (x >> (i * 8)) as u16;
                *s = if r.is_multiple_of(3) { r >> 2 } else { 0 };
            }
            cases.push(IpAddr::V6(Ipv6Addr::from(segs)));
            cases.push(IpAddr::V4(Ipv4Addr::from((x >> 16) as u32)));
            if x.is_multiple_of(7) {
                cases.push(IpAddr::V6(Ipv4Addr::from(x as u32).to_ipv6_mapped()));
            }
        }
        for ip in cases {
            assert_eq!(ip_text(ip), ip.to_string(), "{ip:?}");
        }
        assert_eq!(with_port("::1", 80), "::1:80");
        assert_eq!(with_port("10.0.0.1", 65535), "10.0.0.1:65535");
        assert_eq!(with_port("h", 0), "h:0");
    }

    use super::*;

    #[test]
    fn section_9_vectors_ipv4() {
        for (s, want) in [
            ("127.0.0.1", 4),
            ("0.0.0.0", 4),
            ("255.255.255.255", 4),
            ("256.0.0.1", 0),
            ("1.2.3", 0),
            ("1.2.3.4.5", 0),
            ("01.2.3.4", 0),
            ("1.02.3.4", 0),
            ("00.0.0.0", 0),
            ("1.2.3.04", 0),
            (" 1.2.3.4", 0),
            ("1.2.3.4 ", 0),
            ("1.2.3.4\n", 0),
            ("0x7f.0.0.1", 0),
            ("1.1", 0),
            ("0", 0),
            ("127.1", 0),
            ("１.2.3.4", 0),
            ("localhost", 0),
            ("", 0),
            ("1.2.3.4%eth0", 0),
            ("1.2.3.0255", 0),
            ("1.2.3.", 0),
            (".1.2.3", 0),
        ] {
            assert_eq!(is_ip(s), want, "{s:?}");
        }
    }

    #[test]
    fn section_9_vectors_ipv6() {
        for (s, want) in [
            ("::", 6),
            ("::1", 6),
            ("::ffff:127.0.0.1", 6),
            ("::ffff:7f00:1", 6),
            ("::FFFF:1.2.3.4", 6),
            ("1::", 6),
            ("1:2:3:4:5:6:7:8", 6),
            ("1:2:3:4:5:6:7:8:9", 0),
            ("1:2:3:4:5:6:7::", 6),
            ("::2:3:4:5:6:7:8", 6),
            ("1::8", 6),
            ("1:2:3:4:5:6:1.2.3.4", 6),
            ("1:2:3:4:5:6:7:1.2.3.4", 0),
            ("::1.2.3.4", 6),
            ("1:2:3:4:5::1.2.3.4", 6),
            ("1:2:3:4:5:6::1.2.3.4", 0),
            ("1:2:3:4:5:6:7::1.2.3.4", 0),
            ("1::2:3:4:5:6:7", 6),
            ("1::2:3:4:5:6:7:8", 0),
            ("::ffff:1.2.3.04", 0),
            ("::ffff:01.2.3.4", 0),
            ("fe80::1%eth0", 6),
            ("fe80::1%eth0.1", 6),
            ("fe80::1%en-0:x", 6),
            ("fe80::1%25eth0", 6),
            ("::ffff:1.2.3.4%eth0", 6),
            ("fe80::1%", 0),
            ("fe80::1%eth0%eth1", 0),
            ("fe80::1%eth_0", 0),
            ("[::1]", 0),
            ("::1/128", 0),
            ("12345::", 0),
            ("g::1", 0),
            (":::", 0),
            ("1:::2", 0),
            ("1::2::3", 0),
            (":1", 0),
            ("1:", 0),
            ("02001:db8::1", 0),
            ("2001:db8::1", 6),
            ("2001:DB8::1", 6),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", 6),
            ("1.2.3.4::", 0),
            ("::1.2.3.4:1", 0),
            ("1:2:3:4:5:6:7:8::", 0),
            ("::1:2:3:4:5:6:7:8", 0),
        ] {
            assert_eq!(is_ip(s), want, "{s:?}");
        }
    }

    #[test]
    fn parse_v6_places_groups_around_the_gap() {
        let v = parse_v6(b"1::8").unwrap();
        assert_eq!(parse_v6(b"1:2:3:4:5:6:7:8").unwrap()[..4], [0, 1, 0, 2]);
        assert_eq!(scan_v4(b"1.2.3.4"), Some((0x0102_0304, 7)));
        assert_eq!(v[..2], [0, 1]);
        assert_eq!(v[14..], [0, 8]);
        assert!(v[2..14].iter().all(|&b| b == 0));
        let v = parse_v6(b"::ffff:1.2.3.4").unwrap();
        assert_eq!(v[10..], [0xff, 0xff, 1, 2, 3, 4]);
        assert_eq!(parse_v6(b"1:2:3:4:5:6:7::").unwrap()[14..], [0, 0]);
    }
}
