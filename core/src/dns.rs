//! `dns.lookup(host, {family, hints, all})` as Node's `net` module calls it, written once
//! for every driver and the simulator: an IP literal is answered without any resolver;
//! anything else becomes a [`GaiQuery`] for the system resolver (getaddrinfo), whose raw
//! answer [`GaiQuery::answer`] shapes as Node does — filtered to the requested family,
//! duplicates removed (getaddrinfo returns one entry per socket type), the first entry only
//! unless `all`, and failures as `getaddrinfo <CODE> <host>`.
//!
//! ```
//! use std::net::IpAddr;
//! use nodenet_core::dns::{dns_lookup, DnsLookup, LookupOptions};
//! use nodenet_core::LookupAddress;
//!
//! // A literal needs no resolver.
//! let DnsLookup::Answered(Ok(list)) = dns_lookup("::1", LookupOptions::default()) else {
//!     panic!()
//! };
//! assert_eq!(list, [LookupAddress::new("::1", 6)]);
//!
//! // A name goes to getaddrinfo; the answer is shaped.
//! let DnsLookup::Query(query) = dns_lookup("localhost", LookupOptions::default()) else {
//!     panic!()
//! };
//! let raw: Vec<IpAddr> = vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()];
//! let first = query.answer(Some(Ok(raw))).unwrap();
//! assert_eq!(first, [LookupAddress::new("::1", 6)]); // `all` is false: the first only
//! ```

use std::net::IpAddr;

use crate::error::{Error, ErrorCode, Result};
use crate::options::LookupAddress;

/// getaddrinfo's `AI_ADDRCONFIG` on Linux (Node's `dns.ADDRCONFIG`): `net.connect` adds it
/// when no family is given.
pub const ADDRCONFIG: u32 = 32;
/// getaddrinfo's `AI_V4MAPPED` on Linux (Node's `dns.V4MAPPED`): with family 6, answer
/// IPv4-only names with IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`).
pub const V4MAPPED: u32 = 8;
/// getaddrinfo's `AI_ALL` on Linux (Node's `dns.ALL`): with `V4MAPPED`, return the mapped
/// IPv4 addresses as well as the IPv6 ones.
pub const ALL: u32 = 16;

/// What Node passes to `dns.lookup(host, options)` (and to a user's `lookup` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupOptions {
    /// 0 (any), 4 or 6.
    pub family: u32,
    /// getaddrinfo flags ([`ADDRCONFIG`], [`V4MAPPED`], [`ALL`]), passed to getaddrinfo
    /// as `ai_flags`.
    pub hints: u32,
    /// Return every address (happy eyeballs) rather than the first.
    pub all: bool,
}

impl LookupOptions {
    /// The options of `server.listen({host})`: Node calls `dns.lookup(host, callback)`,
    /// so any family, no hints, the first address.
    pub fn for_listen() -> LookupOptions {
        LookupOptions::default()
    }
}

/// The first step of a lookup: answered at once, or a question for getaddrinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsLookup {
    /// No resolver is needed (`host` is an IP literal): this is the answer.
    Answered(Result<Vec<LookupAddress>>),
    /// Ask the system resolver, off the event loop, then call [`GaiQuery::answer`].
    Query(GaiQuery),
}

/// `dns.lookup(host, options)`: an IP literal is answered with itself and its family
/// (Node answers literals before `family` or `hints` matter); a name becomes a
/// [`GaiQuery`].
///
/// A scoped IPv6 literal (`fe80::1%eth0`) is left to getaddrinfo, which turns the
/// interface name into the scope id a bind or connect needs.
pub fn dns_lookup(host: &str, options: LookupOptions) -> DnsLookup {
    match host.parse::<IpAddr>() {
        Ok(ip) => {
            let family = if ip.is_ipv4() { 4 } else { 6 };
            DnsLookup::Answered(Ok(vec![LookupAddress::new(host, family)]))
        }
        Err(_) => DnsLookup::Query(GaiQuery {
            host: host.to_string(),
            options,
        }),
    }
}

/// One getaddrinfo call to make: `getaddrinfo(host, NULL, {ai_family, ai_socktype:
/// SOCK_STREAM, ai_flags: hints})`, as Node's `cares_wrap` makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaiQuery {
    host: String,
    options: LookupOptions,
}

impl GaiQuery {
    /// The name to resolve.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The address family to ask for: 4 (`AF_INET`), 6 (`AF_INET6`) or 0 (`AF_UNSPEC`,
    /// also for any other number, which getaddrinfo would reject).
    pub fn family(&self) -> u8 {
        match self.options.family {
            4 => 4,
            6 => 6,
            _ => 0,
        }
    }

    /// getaddrinfo's `ai_flags`: Node's `hints`, limited to the flags `dns.lookup`
    /// accepts ([`ADDRCONFIG`], [`V4MAPPED`], [`ALL`]; Node throws for any other).
    pub fn hints(&self) -> u32 {
        self.options.hints & (ADDRCONFIG | V4MAPPED | ALL)
    }

    /// The lookup's options.
    pub fn options(&self) -> LookupOptions {
        self.options
    }

    /// Shape getaddrinfo's answer as `dns.lookup` reports it: the addresses in
    /// getaddrinfo's order (Node v20's `verbatim`), only those of the requested family,
    /// each once, the first only unless `all`. An empty result is
    /// `getaddrinfo ENOTFOUND <host>`; a failure `getaddrinfo <code> <host>` (the driver
    /// maps getaddrinfo's status: `EAI_NONAME`/`EAI_NODATA` → `ENOTFOUND`, `EAI_AGAIN` →
    /// `EAI_AGAIN`, ...). `None` means the resolver never answered (its thread or task was
    /// lost): `getaddrinfo EAI_FAIL <host>`.
    pub fn answer(
        &self,
        raw: Option<std::result::Result<Vec<IpAddr>, ErrorCode>>,
    ) -> Result<Vec<LookupAddress>> {
        let addrs = match raw {
            Some(Ok(addrs)) => addrs,
            Some(Err(code)) => return Err(Error::getaddrinfo(code, &self.host)),
            None => return Err(Error::getaddrinfo(ErrorCode::EAI_FAIL, &self.host)),
        };
        let wanted = self.family();
        let mut out: Vec<LookupAddress> = Vec::new();
        for ip in addrs {
            let family = if ip.is_ipv4() { 4 } else { 6 };
            if wanted != 0 && family != wanted {
                continue;
            }
            let entry = LookupAddress::new(crate::ip::ip_text(ip), u32::from(family));
            if !out.contains(&entry) {
                out.push(entry);
            }
            if !self.options.all {
                break;
            }
        }
        if out.is_empty() {
            return Err(Error::getaddrinfo(ErrorCode::ENOTFOUND, &self.host));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(host: &str, family: u32, all: bool) -> GaiQuery {
        match dns_lookup(
            host,
            LookupOptions {
                family,
                hints: 0,
                all,
            },
        ) {
            DnsLookup::Query(q) => q,
            DnsLookup::Answered(a) => panic!("{host} answered without a resolver: {a:?}"),
        }
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn literals_are_answered_with_their_family_whatever_the_options() {
        for (host, family) in [("127.0.0.1", 4), ("::1", 6), ("::ffff:10.0.0.1", 6)] {
            let opts = LookupOptions {
                family: 4,
                hints: V4MAPPED,
                all: true,
            };
            assert_eq!(
                dns_lookup(host, opts),
                DnsLookup::Answered(Ok(vec![LookupAddress::new(host, family)]))
            );
        }
        assert!(matches!(
            dns_lookup("fe80::1%lo", LookupOptions::default()),
            DnsLookup::Query(_)
        ));
        assert!(matches!(
            dns_lookup("localhost", LookupOptions::default()),
            DnsLookup::Query(_)
        ));
    }

    #[test]
    fn answers_are_filtered_deduplicated_and_truncated() {
        let raw = ips(&["::1", "::1", "127.0.0.1", "127.0.0.1", "10.0.0.1"]);
        let all = query("h", 0, true).answer(Some(Ok(raw.clone()))).unwrap();
        assert_eq!(
            all,
            [
                LookupAddress::new("::1", 6),
                LookupAddress::new("127.0.0.1", 4),
                LookupAddress::new("10.0.0.1", 4)
            ]
        );
        let v4 = query("h", 4, true).answer(Some(Ok(raw.clone()))).unwrap();
        assert_eq!(
            v4,
            [
                LookupAddress::new("127.0.0.1", 4),
                LookupAddress::new("10.0.0.1", 4)
            ]
        );
        let first_v4 = query("h", 4, false).answer(Some(Ok(raw.clone()))).unwrap();
        assert_eq!(first_v4, [LookupAddress::new("127.0.0.1", 4)]);
        let first = query("h", 0, false).answer(Some(Ok(raw))).unwrap();
        assert_eq!(first, [LookupAddress::new("::1", 6)]);
        // A mapped address is an IPv6 answer (what V4MAPPED gives for family 6).
        let mapped = query("h", 6, false).answer(Some(Ok(ips(&["::ffff:127.0.0.1"]))));
        assert_eq!(mapped.unwrap(), [LookupAddress::new("::ffff:127.0.0.1", 6)]);
    }

    #[test]
    fn failures_have_node_s_shape() {
        let q = query("nx.test", 6, false);
        let e = q.answer(Some(Ok(ips(&["10.0.0.1"])))).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ENOTFOUND);
        assert_eq!(e.message(), "getaddrinfo ENOTFOUND nx.test");
        let e = q.answer(Some(Err(ErrorCode::EAI_AGAIN))).unwrap_err();
        assert_eq!(e.message(), "getaddrinfo EAI_AGAIN nx.test");
        let e = q.answer(None).unwrap_err();
        assert_eq!(e.code(), ErrorCode::EAI_FAIL);
        assert_eq!(e.message(), "getaddrinfo EAI_FAIL nx.test");
        assert_eq!(
            q.answer(Some(Ok(Vec::new()))).unwrap_err().code(),
            ErrorCode::ENOTFOUND
        );
    }

    #[test]
    fn the_query_carries_family_and_hints() {
        let DnsLookup::Query(q) = dns_lookup(
            "localhost",
            LookupOptions {
                family: 6,
                hints: V4MAPPED,
                all: false,
            },
        ) else {
            panic!()
        };
        assert_eq!(
            (q.host(), q.family(), q.hints()),
            ("localhost", 6, V4MAPPED)
        );
        assert_eq!(query("x", 5, false).family(), 0);
        let canonname = 2;
        let DnsLookup::Query(q) = dns_lookup(
            "h",
            LookupOptions {
                family: 0,
                hints: canonname | ALL,
                all: false,
            },
        ) else {
            panic!()
        };
        assert_eq!(q.hints(), ALL);
        assert_eq!(
            LookupOptions::for_listen(),
            LookupOptions {
                family: 0,
                hints: 0,
                all: false
            }
        );
    }
}
