//! The part of the WHATWG URL parser that `SocketAddress.parse` (Node v22.13+/v23.4+)
//! depends on: Node parses `'http://' + input` with `URL.parse` and keeps only `hostname`
//! and `port`. Everything that decides whether that yields an IP and which one is here:
//! input clean-up (trailing C0/space stripped, tab/CR/LF removed anywhere), the slashes,
//! the userinfo (`user:pass@`), host/port splitting, the port rules (digits only,
//! `<= 65535`, the scheme default 80 reads back as no port), percent-decoding of the host,
//! the IPv6 host parser and the URL IPv4 parser (`1.1` → `1.0.0.1`, hex `0x7f.1`, octal
//! `010.0.0.1`).
//!
//! Not implemented: the full UTS #46 mapping of non-ASCII hosts. Only the mappings that can
//! produce an IPv4 text are applied (fullwidth digits and letters, `．` `。` `｡` as dots);
//! any other non-ASCII host yields `None` (Node would map it and, for an IP-looking result,
//! accept it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::parse_v6;

/// Parse `input` the way `SocketAddress.parse(input)` sees it through
/// `URL.parse('http://' + input)`: `Some((ip, port))` when the URL's hostname is an IP
/// address; `port` is `url.port | 0`, so an explicit `:80` (http's default port) gives 0.
///
/// ```
/// use nodenet_core::ip::url::parse_host_port;
/// assert_eq!(parse_host_port("1.1:8080"), Some(("1.0.0.1".parse().unwrap(), 8080)));
/// assert_eq!(parse_host_port("[::1]:443"), Some(("::1".parse().unwrap(), 443)));
/// assert_eq!(parse_host_port("1.2.3.4:80"), Some(("1.2.3.4".parse().unwrap(), 0)));
/// assert_eq!(parse_host_port("example.com:80"), None);
/// ```
pub fn parse_host_port(input: &str) -> Option<(IpAddr, u16)> {
    // The URL string is "http://" + input; only its end can carry C0/space to strip, and
    // tab/CR/LF are removed everywhere before parsing.
    let trimmed = input.trim_end_matches(|c: char| c <= ' ');
    let cleaned: String;
    let s = if trimmed.contains(['\t', '\n', '\r']) {
        cleaned = trimmed
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        cleaned.as_str()
    } else {
        trimmed
    };
    // "special authority ignore slashes": any run of '/' or '\' after "http:".
    let s = s.trim_start_matches(['/', '\\']);
    let authority_end = s.find(['/', '?', '#', '\\']).unwrap_or(s.len());
    let authority = &s[..authority_end];
    let host_port = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    // Host and port split at the first ':' outside brackets.
    let mut in_brackets = false;
    let mut split = None;
    for (i, b) in host_port.bytes().enumerate() {
        match b {
            b'[' => in_brackets = true,
            b']' => in_brackets = false,
            b':' if !in_brackets => {
                split = Some(i);
                break;
            }
            _ => {}
        }
    }
    let (host, port) = match split {
        Some(i) => (&host_port[..i], Some(&host_port[i + 1..])),
        None => (host_port, None),
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None | Some("") => 0,
        Some(p) => {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let value = p.bytes().fold(0u32, |acc, b| {
                acc.saturating_mul(10).saturating_add(u32::from(b - b'0'))
            });
            match value {
                80 => 0, // the scheme's default port: `url.port` is ''
                v => u16::try_from(v).ok()?,
            }
        }
    };
    let ip = if let Some(inner) = host.strip_prefix('[') {
        IpAddr::V6(Ipv6Addr::from(parse_v6(
            inner.strip_suffix(']')?.as_bytes(),
        )?))
    } else {
        IpAddr::V4(parse_ipv4_host(&domain_to_ascii(&percent_decode(host))?)?)
    };
    Some((ip, port))
}

/// Percent-decode (`%31` → `1`); a `%` not followed by two hex digits stays as is.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The subset of UTS #46 "domain to ASCII" that matters for IP hosts: ASCII is lowercased,
/// fullwidth digits/letters and the ideographic/fullwidth full stops map to ASCII; any
/// other non-ASCII code point gives `None` (see the module docs).
fn domain_to_ascii(s: &str) -> Option<String> {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii() => Some(c.to_ascii_lowercase()),
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFF00 + 0x20).map(|c| c.to_ascii_lowercase())
            }
            '\u{FF0E}' | '\u{3002}' | '\u{FF61}' => Some('.'),
            _ => None,
        })
        .collect()
}

/// The URL "IPv4 parser", entered only when the host "ends in a number"; a host that does
/// not is a domain name, which `SocketAddress` then rejects, so both give `None`.
fn parse_ipv4_host(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    let last = parts.last()?;
    let ends_in_number = (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
        || ipv4_number(last).is_some();
    if !ends_in_number || parts.len() > 4 {
        return None;
    }
    let numbers = parts
        .iter()
        .map(|p| ipv4_number(p))
        .collect::<Option<Vec<u64>>>()?;
    let (&last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) || last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let value = init
        .iter()
        .enumerate()
        .fold(last, |acc, (i, &n)| acc + n * 256u64.pow(3 - i as u32));
    Some(Ipv4Addr::from(u32::try_from(value).ok()?))
}

/// The URL "IPv4 number parser": decimal, `0x` hex or leading-`0` octal; `0x` alone is 0.
/// Saturates instead of overflowing (anything that large is rejected by the caller).
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or(part.strip_prefix("0X")) {
        (hex, 16)
    } else if part.len() >= 2 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    digits.chars().try_fold(0u64, |acc, c| {
        let d = c.to_digit(radix)?;
        Some(
            acc.saturating_mul(u64::from(radix))
                .saturating_add(u64::from(d)),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<(String, u16)> {
        parse_host_port(s).map(|(ip, port)| (ip.to_string(), port))
    }

    #[test]
    fn ipv4_number_forms() {
        assert_eq!(p("1.1:80"), Some(("1.0.0.1".into(), 0)));
        assert_eq!(p("0x7f.1"), Some(("127.0.0.1".into(), 0)));
        assert_eq!(p("0X7F.0.0.1"), Some(("127.0.0.1".into(), 0)));
        assert_eq!(p("010.0.0.1"), Some(("8.0.0.1".into(), 0)));
        assert_eq!(p("4294967295"), Some(("255.255.255.255".into(), 0)));
        assert_eq!(p("4294967296"), None);
        assert_eq!(p("1.2.3.4."), Some(("1.2.3.4".into(), 0)));
        assert_eq!(p("1.2.3.4.5"), None);
        assert_eq!(p("1..2"), None);
        assert_eq!(p("0x"), Some(("0.0.0.0".into(), 0)));
        assert_eq!(p("09.1.1.1"), None);
        assert_eq!(p("256.1.1.1"), None);
        assert_eq!(p("1.2.65535"), Some(("1.2.255.255".into(), 0)));
        assert_eq!(p("1.2.65536"), None);
        assert_eq!(p("example.com"), None);
        assert_eq!(p("１.２.３.４"), Some(("1.2.3.4".into(), 0)));
    }

    #[test]
    fn authority_and_port_rules() {
        assert_eq!(p("1.2.3.4:1234"), Some(("1.2.3.4".into(), 1234)));
        assert_eq!(p("1.2.3.4:0080"), Some(("1.2.3.4".into(), 0)));
        assert_eq!(p("1.2.3.4:"), Some(("1.2.3.4".into(), 0)));
        assert_eq!(p("1.2.3.4:65536"), None);
        assert_eq!(p("1.2.3.4:8a"), None);
        assert_eq!(p("user:pw@1.2.3.4:9/x?y#z"), Some(("1.2.3.4".into(), 9)));
        assert_eq!(p("a@"), None);
        assert_eq!(p("//1.2.3.4"), Some(("1.2.3.4".into(), 0)));
        assert_eq!(p("1.2.\t3.4:9 \u{1}"), Some(("1.2.3.4".into(), 9)));
        assert_eq!(p("%31.2.3.4"), Some(("1.2.3.4".into(), 0)));
        assert_eq!(p(":80"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("[::1]:443"), Some(("::1".into(), 443)));
        assert_eq!(p("[1::1]:1234"), Some(("1::1".into(), 1234)));
        assert_eq!(p("[::1]x"), None);
        assert_eq!(p("[fe80::1%25lo]"), None);
        assert_eq!(p("[::ffff:1.2.3.4]"), Some(("::ffff:1.2.3.4".into(), 0)));
    }
}
