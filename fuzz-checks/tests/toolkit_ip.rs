//! `is_ip` against Node's own regexes (§9.1, compiled with the `regex` crate) on random
//! strings over the address alphabet and on mutated valid addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nodenet_core::{is_ip, SocketAddress};
use nodenet_fuzz_checks::{check_is_ip, node_is_ip};
use proptest::prelude::*;

/// Valid address text in the forms people write: canonical, std, fully expanded,
/// uppercase, with a zone, mapped with a dotted quad.
fn valid_text() -> impl Strategy<Value = String> {
    let v4 = any::<u32>().prop_map(|v| Ipv4Addr::from(v).to_string());
    let v6 = (any::<u128>(), 0u8..6, 0u32..4).prop_map(|(v, form, zeros)| {
        // Zero some groups so `::` compression shows up often.
        let mask = match zeros {
            0 => u128::MAX,
            1 => 0xffff_ffff_0000_0000_0000_0000_ffff_ffff,
            2 => 0xffff,
            _ => 0xffff_ffff_ffff,
        };
        let ip = Ipv6Addr::from(v & mask);
        match form {
            0 => SocketAddress::from(ip).address(),
            1 => ip.to_string(),
            2 => ip.segments().map(|g| format!("{g:04X}")).join(":"),
            3 => format!("{ip}%eth0"),
            4 => format!("::ffff:{}", Ipv4Addr::from(v as u32)),
            _ => {
                let s = ip.segments();
                format!(
                    "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{}",
                    s[0],
                    s[1],
                    s[2],
                    s[3],
                    s[4],
                    s[5],
                    Ipv4Addr::from(v as u32)
                )
            }
        }
    });
    prop_oneof![v4, v6]
}

/// A valid address with a few single-character edits.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (
        0usize..64,
        0u8..3,
        proptest::sample::select(b"0123456789aAfFgx:.%- _1".to_vec()),
    );
    (valid_text(), proptest::collection::vec(edit, 1..4)).prop_map(|(s, edits)| {
        let mut chars: Vec<char> = s.chars().collect();
        for (at, kind, c) in edits {
            let at = at % (chars.len() + 1);
            match kind {
                0 => chars.insert(at, c as char),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ if at < chars.len() => chars[at] = c as char,
                _ => chars.push(c as char),
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_node_regex_on_valid_text(s in valid_text()) {
        prop_assert_ne!(node_is_ip(&s), 0, "{} should be valid", s);
        check_is_ip(s.as_bytes());
    }

    #[test]
    fn agrees_with_node_regex_on_mutations(s in mutated()) {
        check_is_ip(s.as_bytes());
    }

    #[test]
    fn agrees_with_node_regex_on_random_strings(s in "[0-9a-fA-F:.%gx -]{0,45}") {
        check_is_ip(s.as_bytes());
    }

    #[test]
    fn agrees_with_node_regex_on_any_string(s in any::<String>()) {
        check_is_ip(s.as_bytes());
    }

    #[test]
    fn accepted_addresses_parse_with_std(s in valid_text()) {
        // Whatever isIP accepts (zone stripped) is an address std agrees on.
        let addr = s.split('%').next().unwrap_or_default();
        let parsed: Result<IpAddr, _> = addr.parse();
        prop_assert!(parsed.is_ok(), "{}", s);
        prop_assert_eq!(is_ip(&s), if parsed.unwrap().is_ipv4() { 4 } else { 6 });
    }
}

#[test]
fn node_regexes_reproduce_the_section_9_vectors() {
    // The oracle itself must be right: spot-check it against §9's confirmed vectors.
    for (s, want) in [
        ("127.0.0.1", 4),
        ("01.2.3.4", 0),
        ("::ffff:1.2.3.04", 0),
        ("fe80::1%eth0", 6),
        ("fe80::1%eth_0", 0),
        ("1:2:3:4:5:6:7::", 6),
        ("1::2:3:4:5:6:7:8", 0),
        ("1.2.3.4\n", 0),
    ] {
        assert_eq!(node_is_ip(s), want, "{s:?}");
        assert_eq!(is_ip(s), want, "{s:?}");
    }
}
