//! Name resolution: the system resolver (getaddrinfo with Node's family and hints, run off
//! the event loop by the runtime) and the user-supplied resolver (Node's `lookup`
//! option). What to ask and how to shape the answer is the core's
//! ([`nodenet_core::dns`]); this file only calls getaddrinfo and maps its status.

use std::net::IpAddr;

use dns_lookup::{AddrInfoHints, LookupErrorKind};
use nodenet_core::dns::GaiQuery;
#[cfg(test)]
use nodenet_core::dns::{dns_lookup, DnsLookup};
use nodenet_core::{Error, ErrorCode, LookupAddress};

pub use nodenet_core::dns::LookupOptions;

/// A user-supplied resolver: Node's `lookup` option. Any
/// `Fn(&str, LookupOptions) -> Result<Vec<LookupAddress>, Error>` closure is one.
///
/// ```
/// use nodenet::{Lookup, LookupAddress, LookupOptions};
/// let both = |_host: &str, _o: LookupOptions| {
///     Ok(vec![LookupAddress::new("::1", 6), LookupAddress::new("127.0.0.1", 4)])
/// };
/// let opts = LookupOptions { family: 0, hints: 0, all: true };
/// assert_eq!(both.lookup("example", opts).unwrap().len(), 2);
/// ```
pub trait Lookup: Send + Sync + 'static {
    /// Resolve `host`; the error is reported unchanged (Node passes it through).
    fn lookup(&self, host: &str, options: LookupOptions) -> Result<Vec<LookupAddress>, Error>;
}

impl<F> Lookup for F
where
    F: Fn(&str, LookupOptions) -> Result<Vec<LookupAddress>, Error> + Send + Sync + 'static,
{
    fn lookup(&self, host: &str, options: LookupOptions) -> Result<Vec<LookupAddress>, Error> {
        self(host, options)
    }
}

/// `dns.lookup(host, {family, all})` with the system resolver, blocking (the core's
/// [`dns_lookup()`](nodenet_core::dns::dns_lookup) with the system getaddrinfo as the
/// resolver).
#[cfg(test)]
pub fn resolve_blocking(host: &str, family: u32, all: bool) -> Result<Vec<LookupAddress>, Error> {
    let options = LookupOptions {
        family,
        hints: 0,
        all,
    };
    match dns_lookup(host, options) {
        DnsLookup::Answered(answer) => answer,
        DnsLookup::Query(query) => query.answer(Some(getaddrinfo(&query))),
    }
}

/// `getaddrinfo(host, NULL, {ai_family, ai_socktype: SOCK_STREAM, ai_flags})` as Node's
/// `cares_wrap` calls it, blocking: the addresses in the resolver's order, or its status
/// as Node names it (`EAI_NONAME`/`EAI_NODATA` are `ENOTFOUND`).
pub(crate) fn getaddrinfo(query: &GaiQuery) -> Result<Vec<IpAddr>, ErrorCode> {
    let family = match query.family() {
        4 => socket2::Domain::IPV4.into(),
        6 => socket2::Domain::IPV6.into(),
        _ => 0,
    };
    let hints = AddrInfoHints {
        flags: i32::try_from(query.hints()).unwrap_or(0),
        address: family,
        socktype: socket2::Type::STREAM.into(),
        protocol: 0,
    };
    // Node hands the name to getaddrinfo as a C string, which ends at its first NUL
    // (`'127.0.0.1\0x'` resolves as `'127.0.0.1'`); the error still names all of it.
    let host = query.host().split('\0').next().unwrap_or_default();
    let list = dns_lookup::getaddrinfo(Some(host), None, Some(hints))
        .map_err(|e| gai_code(e.kind(), &std::io::Error::from(e)))?;
    // An entry the wrapper cannot read (an unknown address family) is skipped.
    Ok(list.flatten().map(|a| a.sockaddr.ip()).collect())
}

/// getaddrinfo's status as Node reports it (`lib/internal/errors.js` `dnsException`).
fn gai_code(kind: LookupErrorKind, io: &std::io::Error) -> ErrorCode {
    match kind {
        LookupErrorKind::NoName | LookupErrorKind::NoData => ErrorCode::ENOTFOUND,
        LookupErrorKind::Again => ErrorCode::EAI_AGAIN,
        LookupErrorKind::Fail => ErrorCode::EAI_FAIL,
        LookupErrorKind::Family => ErrorCode::EAI_FAMILY,
        LookupErrorKind::Memory => ErrorCode::EAI_MEMORY,
        LookupErrorKind::Service | LookupErrorKind::Socktype => ErrorCode::EAI_SERVICE,
        LookupErrorKind::System | LookupErrorKind::IO => nodenet_core::error::code_from_io(io),
        // UV_EAI_BADFLAGS and anything newer.
        _ => ErrorCode::from_errno(-3002),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodenet_core::dns::V4MAPPED;

    fn query(host: &str, family: u32, hints: u32) -> GaiQuery {
        match dns_lookup(
            host,
            LookupOptions {
                family,
                hints,
                all: true,
            },
        ) {
            DnsLookup::Query(q) => q,
            DnsLookup::Answered(a) => panic!("answered: {a:?}"),
        }
    }

    #[test]
    fn a_name_ends_at_its_first_nul_as_a_c_string_does() {
        // Node v20: `'localhost\0junk'` resolves as `localhost`; `'\0x'` as `''`.
        let answer = resolve_blocking("localhost\0junk", 4, false).unwrap();
        assert_eq!(answer, [LookupAddress::new("127.0.0.1", 4)]);
        let e = resolve_blocking("\0x", 0, false).unwrap_err();
        assert_eq!(e.to_string(), "Error: getaddrinfo ENOTFOUND \0x");
    }

    #[test]
    fn localhost_resolves_and_filters_by_family() {
        let v4 = resolve_blocking("localhost", 4, true).unwrap();
        assert!(v4.iter().all(|a| a.family == 4));
        assert!(v4.contains(&LookupAddress::new("127.0.0.1", 4)));
        assert_eq!(resolve_blocking("localhost", 0, false).unwrap().len(), 1);
    }

    #[test]
    fn family_and_hints_reach_getaddrinfo() {
        // AF_INET6 with V4MAPPED: IPv6 answers only, mapped when the name has no AAAA
        // record (as on this machine's /etc/hosts) or `::1` when it has one.
        let q = query("localhost", 6, V4MAPPED);
        let answer = getaddrinfo(&q).unwrap();
        assert!(!answer.is_empty());
        assert!(answer.iter().all(IpAddr::is_ipv6), "{answer:?}");
        let shaped = q.answer(Some(Ok(answer))).unwrap();
        assert!(
            shaped
                .iter()
                .any(|a| a.address == "::ffff:127.0.0.1" || a.address == "::1"),
            "{shaped:?}"
        );
        // AF_INET asks for IPv4 only.
        let v4 = getaddrinfo(&query("localhost", 4, 0)).unwrap();
        assert!(v4.iter().all(IpAddr::is_ipv4), "{v4:?}");
    }

    #[test]
    fn unknown_host_is_node_shaped() {
        let err = resolve_blocking("nodenet-no-such-host.invalid", 0, false).unwrap_err();
        // EAI_AGAIN when the machine has no DNS at all.
        let code = err.code();
        assert!(matches!(code, ErrorCode::ENOTFOUND | ErrorCode::EAI_AGAIN));
        assert_eq!(
            err.message(),
            format!("getaddrinfo {code} nodenet-no-such-host.invalid")
        );
    }
}
