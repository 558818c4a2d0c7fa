//! `net.isIP`, `net.isIPv4`, `net.isIPv6` with exactly Node's acceptance rules (§9).
//!
//! TEMPORARY: approximated with std's parser until the toolkit issue lands the exact
//! hand-written matcher.

/// `net.isIP(input)`: 4, 6 or 0.
pub fn is_ip(input: &str) -> u8 {
    if is_ipv4(input) {
        4
    } else if is_ipv6(input) {
        6
    } else {
        0
    }
}

/// `net.isIPv4(input)`.
pub fn is_ipv4(input: &str) -> bool {
    input.parse::<std::net::Ipv4Addr>().is_ok()
}

/// `net.isIPv6(input)`.
pub fn is_ipv6(input: &str) -> bool {
    let addr = input.split('%').next().unwrap_or("");
    addr.parse::<std::net::Ipv6Addr>().is_ok()
}
