//! `nodenet-fuzz-checks`: the checks shared by the cargo-fuzz targets (`fuzz/`) and by the
//! stable tests that replay their corpora and run the property tests, so each oracle is
//! written once. Not published; it uses only `nodenet-core`'s public API.
//!
//! Every `check_*` function panics (with the input in the message) when nodenet disagrees
//! with the oracle or breaks an invariant; that is how a fuzzer reports a finding.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ops;
pub mod planner_ops;
pub mod reference;
pub mod server_ops;
pub mod socket_ops;

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use regex::Regex;

pub use ops::{ops_from_bytes, run_ops, Op};
pub use planner_ops::check_planner_ops;
pub use server_ops::check_server_ops;
pub use socket_ops::check_socket_ops;

use nodenet_core::{is_ip, is_ipv4, is_ipv6, SocketAddress, SocketAddressOptions};

const V4_SEG: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const V6_SEG: &str = "(?:[0-9a-fA-F]{1,4})";

/// Node's `IPv4Reg` (lib/internal/net.js, unchanged v11 → v24).
pub fn node_ipv4_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let v4 = format!("(?:{V4_SEG}\\.){{3}}{V4_SEG}");
        Regex::new(&format!("^{v4}$")).unwrap_or_else(|e| panic!("IPv4Reg: {e}"))
    })
}

/// Node's `IPv6Reg`, alternative by alternative as in lib/internal/net.js.
pub fn node_ipv6_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let v4 = format!("(?:{V4_SEG}\\.){{3}}{V4_SEG}");
        let s = V6_SEG;
        let alternatives = [
            format!("(?:{s}:){{7}}(?:{s}|:)"),
            format!("(?:{s}:){{6}}(?:{v4}|:{s}|:)"),
            format!("(?:{s}:){{5}}(?::{v4}|(?::{s}){{1,2}}|:)"),
            format!("(?:{s}:){{4}}(?:(?::{s}){{0,1}}:{v4}|(?::{s}){{1,3}}|:)"),
            format!("(?:{s}:){{3}}(?:(?::{s}){{0,2}}:{v4}|(?::{s}){{1,4}}|:)"),
            format!("(?:{s}:){{2}}(?:(?::{s}){{0,3}}:{v4}|(?::{s}){{1,5}}|:)"),
            format!("(?:{s}:){{1}}(?:(?::{s}){{0,4}}:{v4}|(?::{s}){{1,6}}|:)"),
            format!("(?::(?:(?::{s}){{0,5}}:{v4}|(?::{s}){{1,7}}|:))"),
        ];
        let re = format!("^(?:{})(?:%[0-9a-zA-Z-.:]{{1,}})?$", alternatives.join("|"));
        Regex::new(&re).unwrap_or_else(|e| panic!("IPv6Reg: {e}"))
    })
}

/// `net.isIP` computed with Node's regexes.
pub fn node_is_ip(input: &str) -> u8 {
    if node_ipv4_regex().is_match(input) {
        4
    } else if node_ipv6_regex().is_match(input) {
        6
    } else {
        0
    }
}

/// `is_ip`/`is_ipv4`/`is_ipv6` agree with Node's regexes on `data` (as UTF-8, lossily).
pub fn check_is_ip(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let want = node_is_ip(&input);
    assert_eq!(is_ip(&input), want, "is_ip({input:?})");
    assert_eq!(is_ipv4(&input), want == 4, "is_ipv4({input:?})");
    assert_eq!(
        is_ipv6(&input),
        node_ipv6_regex().is_match(&input),
        "is_ipv6({input:?})"
    );
}

/// `SocketAddress::parse` and `SocketAddress::new` on arbitrary text: no panic, and every
/// address they produce is canonical and survives a round trip through its own text, its
/// JSON and `std::net::SocketAddr`.
pub fn check_socket_address(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    if let Some(sa) = SocketAddress::parse(&input) {
        assert_round_trips(&sa, &input);
        // The printed form parses back to itself (port 80 reads back as 0, as in Node).
        let text = match sa.family() {
            nodenet_core::Family::IPv4 => format!("{}:{}", sa.address(), sa.port()),
            nodenet_core::Family::IPv6 => format!("[{}]:{}", sa.address(), sa.port()),
        };
        let again = SocketAddress::parse(&text);
        assert_eq!(again, Some(sa), "parse({text:?}) from {input:?}");
    }
    for family in ["ipv4", "ipv6", "IPv6", "x"] {
        let options = SocketAddressOptions::new()
            .address(input.as_ref())
            .family(family);
        if let Ok(sa) = SocketAddress::new(options) {
            assert_round_trips(&sa, &input);
            assert_eq!(sa.family().as_lower_str(), family.to_ascii_lowercase());
        }
    }
}

fn assert_round_trips(sa: &SocketAddress, input: &str) {
    let address = sa.address();
    assert_eq!(
        is_ip(&address),
        sa.family().as_number(),
        "canonical {address:?} from {input:?}"
    );
    let again = SocketAddress::new(
        SocketAddressOptions::new()
            .address(address.as_str())
            .family(sa.family().as_lower_str())
            .port(sa.port())
            .flowlabel(sa.flowlabel()),
    );
    assert_eq!(
        again.as_ref(),
        Ok(sa),
        "re-parse of {address:?} from {input:?}"
    );
    assert_eq!(
        SocketAddress::from(std::net::SocketAddr::from(*sa)),
        *sa,
        "std round trip of {input:?}"
    );
    assert!(sa.to_json().contains(&format!("\"address\":\"{address}\"")));
}

/// A BlockList operation sequence decoded from `data` behaves exactly like the naive
/// reference: same results, same error codes, same `rules()`, same answers to probes
/// around every rule bound.
pub fn check_block_list_ops(data: &[u8]) {
    run_ops(&ops_from_bytes(data));
}

/// Decode a configuration and then up to 200 operations from fuzzer bytes (the state
/// machine targets' common input shape); `None` when not even a configuration fits.
pub(crate) fn config_and_ops<'a, C: Arbitrary<'a>, O: Arbitrary<'a>>(
    data: &'a [u8],
) -> Option<(C, Vec<O>)> {
    let mut u = Unstructured::new(data);
    let config = C::arbitrary(&mut u).ok()?;
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 200 {
        match O::arbitrary(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    Some((config, ops))
}
