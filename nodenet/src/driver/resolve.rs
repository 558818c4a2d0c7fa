//! Name resolution: the system resolver (getaddrinfo through `ToSocketAddrs`, run off the
//! event loop by the runtime) and the user-supplied resolver (Node's `lookup` option).

use std::net::{IpAddr, ToSocketAddrs};

use nodenet_core::{Error, ErrorCode, LookupAddress};

/// What Node passes to `lookup(host, options, cb)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupOptions {
    /// 0 (any), 4 or 6.
    pub family: u32,
    /// getaddrinfo flags (`ADDRCONFIG` when the family is unspecified).
    pub hints: u32,
    /// Return every address (happy eyeballs) rather than the first.
    pub all: bool,
}

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

/// `dns.lookup(host, {family, all})` with the system resolver, blocking: getaddrinfo's
/// answers in its order (Node v20's `verbatim`), filtered to `family` when it is 4 or 6,
/// duplicates removed (getaddrinfo returns one per socket type), the first only unless
/// `all`. Failures have Node's shape: `getaddrinfo ENOTFOUND host`.
pub fn resolve_blocking(host: &str, family: u32, all: bool) -> Result<Vec<LookupAddress>, Error> {
    let addrs = (host, 0u16)
        .to_socket_addrs()
        .map_err(|e| Error::getaddrinfo(gai_code(&e), host))?;
    let mut out: Vec<LookupAddress> = Vec::new();
    for a in addrs {
        let fam = match a.ip() {
            IpAddr::V4(_) => 4,
            IpAddr::V6(_) => 6,
        };
        if (family == 4 || family == 6) && fam != family {
            continue;
        }
        let entry = LookupAddress::new(a.ip().to_string(), fam);
        if !out.contains(&entry) {
            out.push(entry);
        }
        if !all {
            break;
        }
    }
    if out.is_empty() {
        return Err(Error::getaddrinfo(ErrorCode::ENOTFOUND, host));
    }
    Ok(out)
}

/// What `dns.lookup` answers for an IP literal without asking any resolver: the literal as
/// given, with its family. `None` for a name, and for a scoped IPv6 address, which
/// `nodenet_core::is_ip` would accept: getaddrinfo turns its interface name (`%eth0`)
/// into the scope id that the core's bind parser needs.
pub(crate) fn ip_literal(host: &str) -> Option<LookupAddress> {
    let ip: IpAddr = host.parse().ok()?;
    let family = if ip.is_ipv4() { 4 } else { 6 };
    Some(LookupAddress::new(host, family))
}

/// std reports getaddrinfo failures only as text (`failed to lookup address information:
/// Temporary failure in name resolution`); Node names `EAI_AGAIN` as is and reports
/// `EAI_NONAME` / `EAI_NODATA` as `ENOTFOUND`.
fn gai_code(e: &std::io::Error) -> ErrorCode {
    let text = e.to_string();
    if text.contains("Temporary failure") {
        ErrorCode::EAI_AGAIN
    } else {
        ErrorCode::ENOTFOUND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_resolves_and_filters_by_family() {
        let v4 = resolve_blocking("localhost", 4, true).unwrap();
        assert!(v4.iter().all(|a| a.family == 4));
        assert!(v4.contains(&LookupAddress::new("127.0.0.1", 4)));
        assert_eq!(resolve_blocking("localhost", 0, false).unwrap().len(), 1);
    }

    #[test]
    fn ip_literals_need_no_resolver() {
        assert_eq!(
            ip_literal("127.0.0.1"),
            Some(LookupAddress::new("127.0.0.1", 4))
        );
        assert_eq!(ip_literal("::1"), Some(LookupAddress::new("::1", 6)));
        assert_eq!(ip_literal("localhost"), None);
        assert_eq!(ip_literal("fe80::1%lo"), None);
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
