//! The previous (PR #481d26e) one-byte-at-a-time IPv6 scanner, kept verbatim as the oracle for
//! the faster ones in [`super`]: the property tests below feed both the same strings
//! (valid addresses, edited addresses, random bytes over the address alphabet) and require
//! the same answer. Test-only.

// The dotted-quad scanner was not rewritten; the oracle uses the live one for the
// trailing IPv4 part of an IPv6 address.
use super::{scan_v4, CLASS, COLON, DOT};

/// IPv6 text at the start of `s`: 1–4 hex digit groups separated by `:`, at most one `::`
/// standing for one or more zero groups, and an optional trailing dotted quad worth two
/// groups. Returns the address and the index of the first byte that cannot continue it
/// (the end of `s`, or e.g. the `%` of a zone); the caller decides what may follow.
///
/// One pass, one table lookup per byte. Groups before `::` accumulate in `head`, after it
/// in `tail`, so nothing needs shuffling at the end.
pub(super) fn scan_v6(s: &[u8]) -> Option<(u128, usize)> {
    let (mut head, mut tail) = (0u128, 0u128);
    let mut groups = 0u32; // groups so far (a dotted quad counts two)
    let mut gap = false;
    let mut head_groups = 0u32; // groups before `::`
    let (mut value, mut digits, mut group_start) = (0u32, 0usize, 0usize);
    // The last byte was a single ':' after a group: another group or ':' must follow.
    let mut colon_pending = false;
    let mut i = 0;
    if s.first() == Some(&b':') {
        if s.get(1) != Some(&b':') {
            return None;
        }
        gap = true;
        i = 2;
    }
    let mut push = |value: u128, width: u32, gap: bool, groups: &mut u32| -> Option<()> {
        if *groups + width > 8 {
            return None;
        }
        let acc = if gap { &mut tail } else { &mut head };
        *acc = *acc << (16 * width) | value;
        *groups += width;
        Some(())
    };
    let end = loop {
        let Some(&b) = s.get(i) else { break i };
        let class = CLASS[usize::from(b)];
        if class < 16 {
            if digits == 0 {
                group_start = i;
            }
            digits += 1;
            if digits > 4 {
                return None;
            }
            value = value << 4 | u32::from(class);
            colon_pending = false;
        } else if class == COLON {
            if digits > 0 {
                push(u128::from(value), 1, gap, &mut groups)?;
                (value, digits) = (0, 0);
                colon_pending = true;
            } else if colon_pending && !gap {
                gap = true;
                head_groups = groups;
                colon_pending = false;
            } else {
                return None;
            }
        } else if class == DOT && digits > 0 {
            // The digits read as hex were the first octet of a dotted quad, which ends
            // the address.
            let (v4, len) = scan_v4(s.get(group_start..)?)?;
            push(u128::from(v4), 2, gap, &mut groups)?;
            digits = 0;
            break group_start + len;
        } else {
            break i;
        }
        i += 1;
    };
    if digits > 0 {
        push(u128::from(value), 1, gap, &mut groups)?;
    }
    if colon_pending {
        return None;
    }
    let value = match gap {
        false if groups == 8 => head,
        // `::` must stand for at least one group; `head` moves up past the zero groups
        // and the tail.
        true if groups < 8 => match head_groups {
            0 => tail,
            n => head << (16 * (8 - n)) | tail,
        },
        _ => return None,
    };
    Some((value, end))
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::super::{ends_address, scan_v6, scan_v6_as};

    /// Address-shaped text: IPv6 in several spellings (compressed, expanded, uppercase,
    /// with a dotted quad, with a zone or a NUL), IPv4, then a few single-byte edits.
    fn address_like() -> impl Strategy<Value = Vec<u8>> {
        let text = (any::<u128>(), 0u8..7, 0u32..5).prop_map(|(v, form, zeros)| {
            let mask = match zeros {
                0 => u128::MAX,
                1 => 0xffff_ffff_0000_0000_0000_0000_ffff_ffff,
                2 => 0xffff,
                3 => 0xffff_0000_0000_0000_0000_0000_0000_0000,
                _ => 0xffff_ffff_ffff,
            };
            let ip = Ipv6Addr::from(v & mask);
            let v4 = Ipv4Addr::from(v as u32);
            match form {
                0 => ip.to_string(),
                1 => ip.segments().map(|g| format!("{g:04X}")).join(":"),
                2 => format!("{ip}%eth0"),
                3 => format!("::ffff:{v4}"),
                4 => format!("{ip}\0junk"),
                5 => v4.to_string(),
                _ => format!("{v4}\0"),
            }
        });
        let edit = (
            0usize..48,
            0u8..4,
            proptest::sample::select(b"0123456789aAfFgx:.%\0".to_vec()),
        );
        (text, proptest::collection::vec(edit, 0..4)).prop_map(|(s, edits)| {
            let mut b = s.into_bytes();
            for (at, kind, c) in edits {
                let at = at % (b.len() + 1);
                match kind {
                    0 => b.insert(at, c),
                    1 if at < b.len() => {
                        b.remove(at);
                    }
                    _ if at < b.len() => b[at] = c,
                    _ => b.push(c),
                }
            }
            b
        })
    }

    fn agree(s: &[u8]) -> Result<(), TestCaseError> {
        // The old scanner stopped at any byte that cannot continue an address; the new
        // one accepts only the terminators some caller accepts.
        let old = super::scan_v6(s).filter(|&(_, end)| ends_address(s, end));
        prop_assert_eq!(scan_v6(s), old, "scan_v6({:?})", String::from_utf8_lossy(s));
        // The verdict-only variant (`isIPv6`) agrees on where the address ends.
        prop_assert_eq!(
            scan_v6_as::<false>(s).map(|(_, end)| end),
            old.map(|(_, end)| end),
            "scan_v6_as::<false>({:?})",
            String::from_utf8_lossy(s)
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 8192, ..ProptestConfig::default() })]

        #[test]
        fn fast_scanners_agree_on_address_like_text(s in address_like()) {
            agree(&s)?;
        }

        #[test]
        fn fast_scanners_agree_on_random_bytes(s in proptest::collection::vec(
            proptest::sample::select(b"0123456789abcdefABCDEFgx:.%\0 ".to_vec()), 0..48)) {
            agree(&s)?;
        }

        #[test]
        fn fast_scanners_agree_on_any_bytes(s in proptest::collection::vec(any::<u8>(), 0..48)) {
            agree(&s)?;
        }
    }

    #[test]
    fn fast_scanners_agree_on_hand_picked_corners() {
        for s in [
            "",
            ":",
            "::",
            ":::",
            "::%",
            "::\0",
            "1::",
            "1:",
            "1::2::3",
            "::1.2.3.4",
            "::1.2.3.4.5",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "1:2:3:4:5:6::1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "12345::",
            "1234.1.1.1",
            "::ffff:1.2.3.04",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3.4567",
            "1.2.3.2555",
            "01.1.1.1",
            "1.2.3",
            "1.2.3.",
            "fe80::1%eth0",
            "::1\0%z",
        ] {
            agree(s.as_bytes()).unwrap();
        }
        // Long inputs: the new scanner reads a 48-byte copy, so runs past it must end.
        for s in [
            "f".repeat(200),
            format!("1:{}", "2".repeat(100)),
            format!("::{}", ":".repeat(100)),
            format!("1:2:3:4:5:6:7:8%{}", "a".repeat(100)),
            format!("{}1.2.3.4", "1:".repeat(40)),
        ] {
            agree(s.as_bytes()).unwrap();
        }
    }
}
