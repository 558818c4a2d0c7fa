//! One BlockList rule as Node stores it (addresses as given, subnet network unmasked), its
//! exact `rules` text, the parser for that text (`fromJSON`), and Node's address ordering
//! (`SocketAddress::compare`), which decides what `addRange` accepts.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

use crate::address::{parse_for_family, Family};
use crate::error::{Error, Result};
use crate::ip::uv::inet_ntop;
use crate::validate::NumberArg;

/// A rule, in the form `rules` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    Address(IpAddr),
    Range(IpAddr, IpAddr),
    Subnet(IpAddr, u8),
}

/// Node's `SocketAddress::compare`: same family → numeric; IPv4 against IPv6 → only when
/// the IPv6 address is IPv4-mapped (its embedded IPv4 is compared), else `None` (not
/// comparable, so every relational test is false).
pub(crate) fn compare(a: IpAddr, b: IpAddr) -> Option<Ordering> {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Some(a.cmp(&b)),
        (IpAddr::V6(a), IpAddr::V6(b)) => Some(a.cmp(&b)),
        (IpAddr::V4(a), IpAddr::V6(b)) => b.to_ipv4_mapped().map(|b| a.cmp(&b)),
        (IpAddr::V6(a), IpAddr::V4(b)) => a.to_ipv4_mapped().map(|a| a.cmp(&b)),
    }
}

/// `addRange`'s error when `start` is after `end`: `The argument 'start' must come before
/// end. Received SocketAddress { … }`.
pub(crate) fn start_after_end(start: &crate::SocketAddress) -> Error {
    Error::invalid_arg_value("start", &start.to_string(), Some("must come before end"))
}

/// `addSubnet`'s prefix check: an integer in `0..=32` (IPv4) or `0..=128` (IPv6), else
/// `ERR_OUT_OF_RANGE` as Node's `validateInt32` words it.
pub(crate) fn validate_prefix(prefix: NumberArg, family: Family) -> Result<u8> {
    let max = match family {
        Family::IPv4 => 32,
        Family::IPv6 => 128,
    };
    let prefix = crate::validate::validate_int32(prefix, "prefix", 0, max)?;
    // In range, so the conversion cannot fail; report it as out of range regardless.
    u8::try_from(prefix).map_err(|_| {
        Error::out_of_range("prefix", &format!(">= 0 && <= {max}"), &prefix.to_string())
    })
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Rule::Address(ip) => {
                write!(f, "Address: {} {}", Family::of(ip).as_str(), inet_ntop(ip))
            }
            Rule::Range(start, end) => write!(
                f,
                "Range: {} {}-{}",
                Family::of(start).as_str(),
                inet_ntop(start),
                inet_ntop(end)
            ),
            Rule::Subnet(net, prefix) => {
                write!(
                    f,
                    "Subnet: {} {}/{}",
                    Family::of(net).as_str(),
                    inet_ntop(net),
                    prefix
                )
            }
        }
    }
}

impl Rule {
    /// Parse one line of `rules` text. `Ok(None)` for a line in no known format (Node's
    /// `fromJSON` skips those); an error when the format is right but the address or
    /// prefix is not, or a range runs backwards — the errors the `add*` call would raise.
    pub(crate) fn parse(line: &str) -> Result<Option<Rule>> {
        let line = line.trim();
        let Some((kind, rest)) = line.split_once(": ") else {
            return Ok(None);
        };
        let Some((label, body)) = rest.split_once(' ') else {
            return Ok(None);
        };
        let family = match label {
            "IPv4" => Family::IPv4,
            "IPv6" => Family::IPv6,
            _ => return Ok(None),
        };
        let addr = |text: &str, family: Family| {
            parse_for_family(text, family).ok_or_else(Error::invalid_address)
        };
        // The end of a range is printed in its own family, which its text reveals.
        let family_of_text = |text: &str| {
            if text.contains(':') {
                Family::IPv6
            } else {
                Family::IPv4
            }
        };
        let rule = match kind {
            "Address" => Rule::Address(addr(body, family)?),
            "Range" => {
                let Some((start, end)) = body.split_once('-') else {
                    return Ok(None);
                };
                let (start, end) = (addr(start, family)?, addr(end, family_of_text(end))?);
                if compare(start, end) == Some(Ordering::Greater) {
                    return Err(start_after_end(&crate::SocketAddress::from(start)));
                }
                Rule::Range(start, end)
            }
            "Subnet" => {
                let Some((net, prefix)) = body.split_once('/') else {
                    return Ok(None);
                };
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return Ok(None);
                }
                // The network is checked before the prefix, as `addSubnet` does.
                let net = addr(net, family)?;
                // Saturate: anything this long is out of range anyway.
                let value = prefix.parse::<u32>().unwrap_or(u32::MAX);
                Rule::Subnet(net, validate_prefix(NumberArg(f64::from(value)), family)?)
            }
            _ => return Ok(None),
        };
        Ok(Some(rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for line in [
            "Address: IPv4 1.2.3.4",
            "Address: IPv6 ::ffff:1.2.3.4",
            "Range: IPv4 1.1.1.1-::ffff:1.1.1.9",
            "Range: IPv6 ::1-1.1.1.9",
            "Subnet: IPv6 8592:757c:efae:4e45::/64",
            "Subnet: IPv4 1.2.3.77/24",
        ] {
            let rule = Rule::parse(line).unwrap().unwrap();
            assert_eq!(rule.to_string(), line);
        }
        assert_eq!(Rule::parse("garbage").unwrap(), None);
        assert_eq!(Rule::parse("Subnet: IPv4 1.2.3.4").unwrap(), None);
        assert!(Rule::parse("Subnet: IPv4 1.2.3.4/33").is_err());
        assert_eq!(
            Rule::parse("Subnet: IPv4 bad/99").unwrap_err().code(),
            crate::ErrorCode::ERR_INVALID_ADDRESS
        );
        assert!(Rule::parse("Address: IPv4 01.2.3.4").is_err());
        assert!(Rule::parse("Range: IPv4 1.1.1.9-1.1.1.1").is_err());
    }
}
