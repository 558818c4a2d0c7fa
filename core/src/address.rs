//! `net.SocketAddress` (§8): validated address/family/port/flowlabel with Node's defaults,
//! validation order, error codes and canonical address text.
//!
//! TEMPORARY skeleton; completed by the toolkit issue.

/// An address family, printed as Node prints it (`IPv4`/`IPv6` for sockets,
/// `ipv4`/`ipv6` for `SocketAddress` and `BlockList`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4.
    IPv4,
    /// IPv6.
    IPv6,
}

impl Family {
    /// `"IPv4"` / `"IPv6"` (a socket's `remoteFamily`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::IPv4 => "IPv4",
            Family::IPv6 => "IPv6",
        }
    }
    /// `"ipv4"` / `"ipv6"` (a `SocketAddress`'s `family`).
    pub fn as_lower_str(self) -> &'static str {
        match self {
            Family::IPv4 => "ipv4",
            Family::IPv6 => "ipv6",
        }
    }
    /// 4 or 6, as Node's `family` numbers.
    pub fn as_number(self) -> u8 {
        match self {
            Family::IPv4 => 4,
            Family::IPv6 => 6,
        }
    }
}

/// Options for [`SocketAddress::new`].
#[derive(Clone, Debug, Default)]
pub struct SocketAddressOptions;

/// `net.SocketAddress`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SocketAddress;
