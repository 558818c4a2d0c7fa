//! IP address text: `net.isIP`, `net.isIPv4`, `net.isIPv6` with exactly Node's acceptance
//! rules (§9), plus the two other text forms Node uses and that are *not* the same language:
//! libuv's `inet_pton`/`inet_ntop` ([`uv`], used by `SocketAddress` and `BlockList`) and the
//! WHATWG URL host parser ([`url`], used by `SocketAddress.parse`).
//!
//! The matcher is hand-written instead of compiling Node's regular expressions: it is one
//! left-to-right pass over the bytes with no allocation, which keeps `is_ip` in the
//! nanoseconds. The property tests compare it with Node's regexes compiled by the `regex`
//! crate, so the two cannot drift apart.

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
    if is_ipv4(input) {
        4
    } else if is_ipv6(input) {
        6
    } else {
        0
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
pub fn is_ipv4(input: &str) -> bool {
    parse_v4(input.as_bytes()).is_some()
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
pub fn is_ipv6(input: &str) -> bool {
    let bytes = input.as_bytes();
    // The zone alphabet has no '%', so the first '%' is the only possible separator.
    let (addr, zone) = match bytes.iter().position(|&b| b == b'%') {
        Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
        None => (bytes, None),
    };
    if let Some(zone) = zone {
        let zone_ok = !zone.is_empty()
            && zone
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':'));
        if !zone_ok {
            return false;
        }
    }
    parse_v6(addr).is_some()
}

/// A strict dotted quad (Node's `v4Str`, which is also libuv's `inet_pton4`): exactly four
/// decimal octets `0..=255`, no leading zeros, no sign, nothing else.
pub(crate) fn parse_v4(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut i = 0;
    for (n, octet) in out.iter_mut().enumerate() {
        if n > 0 {
            if s.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut value: u32 = 0;
        while let Some(&b) = s.get(i) {
            if !b.is_ascii_digit() || i - start == 3 {
                break;
            }
            value = value * 10 + u32::from(b - b'0');
            i += 1;
        }
        let len = i - start;
        // `0` alone is fine, `01` is not; four digits never match (the loop stops at 3 and
        // the next byte is then neither '.' nor the end).
        if len == 0 || (len > 1 && s[start] == b'0') || value > 255 {
            return None;
        }
        *octet = value as u8;
    }
    if i == s.len() {
        Some(out)
    } else {
        None
    }
}

/// The address part of Node's `IPv6Reg` (equivalently libuv's `inet_pton6`): 1–4 hex digit
/// groups separated by `:`, at most one `::` standing for one or more zero groups, and an
/// optional trailing dotted quad worth two groups.
pub(crate) fn parse_v6(s: &[u8]) -> Option<[u8; 16]> {
    let mut groups = [0u16; 8];
    let mut count = 0usize; // groups written so far
    let mut gap: Option<usize> = None; // index in `groups` where `::` sits
    let mut i = 0;
    if s.starts_with(b"::") {
        gap = Some(0);
        i = 2;
        if i == s.len() {
            return Some([0; 16]);
        }
    }
    loop {
        // A piece starts here: hex digits, or a dotted quad that must end the input.
        let start = i;
        let mut value: u32 = 0;
        while let Some(&b) = s.get(i) {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => break,
            };
            if i - start == 4 {
                return None;
            }
            value = (value << 4) | u32::from(d);
            i += 1;
        }
        if s.get(i) == Some(&b'.') {
            let v4 = parse_v4(&s[start..])?;
            if count + 2 > 8 {
                return None;
            }
            groups[count] = u16::from_be_bytes([v4[0], v4[1]]);
            groups[count + 1] = u16::from_be_bytes([v4[2], v4[3]]);
            count += 2;
            break;
        }
        if i == start || count == 8 {
            return None;
        }
        groups[count] = value as u16;
        count += 1;
        match (s.get(i), s.get(i + 1)) {
            (None, _) => break,
            (Some(b':'), Some(b':')) => {
                if gap.is_some() {
                    return None;
                }
                gap = Some(count);
                i += 2;
                if i == s.len() {
                    break;
                }
            }
            (Some(b':'), Some(_)) => i += 1,
            _ => return None,
        }
    }
    match gap {
        None if count == 8 => {}
        // `::` must stand for at least one group.
        Some(at) if count < 8 => {
            let tail = count - at;
            groups.copy_within(at..count, 8 - tail);
            groups[at..8 - tail].fill(0);
        }
        _ => return None,
    }
    let mut out = [0u8; 16];
    for (chunk, g) in out.chunks_exact_mut(2).zip(groups) {
        chunk.copy_from_slice(&g.to_be_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
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
        assert_eq!(v[..2], [0, 1]);
        assert_eq!(v[14..], [0, 8]);
        assert!(v[2..14].iter().all(|&b| b == 0));
        let v = parse_v6(b"::ffff:1.2.3.4").unwrap();
        assert_eq!(v[10..], [0xff, 0xff, 1, 2, 3, 4]);
        assert_eq!(parse_v6(b"1:2:3:4:5:6:7::").unwrap()[14..], [0, 0]);
    }
}
