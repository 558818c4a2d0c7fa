//! `net.SocketAddress` (§8): a validated address/family/port/flowlabel with Node's
//! defaults, validation order, error codes and canonical address text, plus
//! `SocketAddress.parse` (Node v22.13+) and conversions to and from `std::net::SocketAddr`.
//!
//! Node parses the address with libuv ([`crate::ip::uv`]), not with `isIP`'s regexes, and
//! prints it with `inet_ntop`; both are reproduced byte for byte.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::error::{Error, Result};
use crate::ip::{url, uv};
use crate::validate::{
    describe_out_of_range, inspect_string, validate_port, validate_uint32, NumberArg, PortArg,
};

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

    /// The family of an IP address.
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::IPv4,
            IpAddr::V6(_) => Family::IPv6,
        }
    }

    /// Node's `family` option as `SocketAddress` and `BlockList` read it: lower-cased, then
    /// `ipv4` or `ipv6`, else `ERR_INVALID_ARG_VALUE` for `options.family` showing the
    /// value as given.
    ///
    /// ```
    /// use nodenet_core::Family;
    /// assert_eq!(Family::from_option("IPv6").unwrap(), Family::IPv6);
    /// assert_eq!(Family::from_option("inet").unwrap_err().message(),
    ///     "The property 'options.family' is invalid. Received 'inet'");
    /// ```
    pub fn from_option(family: &str) -> Result<Family> {
        Family::from_name(family).ok_or_else(|| {
            Error::invalid_arg_value("options.family", &inspect_string(family), None)
        })
    }

    /// [`from_option`](Self::from_option) without the error, for `BlockList::check`,
    /// which answers `false` for an unknown family and must not pay for building an
    /// error it drops.
    #[inline]
    pub(crate) fn from_name(family: &str) -> Option<Family> {
        // JS `toLowerCase` is Unicode-aware, but no non-ASCII letter lowers into
        // "ipv4"/"ipv6", so an ASCII-insensitive comparison gives the same answers.
        let &[i, p, v, digit] = family.as_bytes() else {
            return None;
        };
        // Setting bit 0x20 lower-cases an ASCII letter and maps no other byte onto 'i',
        // 'p' or 'v', so this is `eq_ignore_ascii_case` in three instructions.
        if [i | 0x20, p | 0x20, v | 0x20] != *b"ipv" {
            return None;
        }
        match digit {
            b'4' => Some(Family::IPv4),
            b'6' => Some(Family::IPv6),
            _ => None,
        }
    }
}

/// The largest IPv6 flow label (20 bits). Node v20 aborts the process above it; we throw
/// `ERR_OUT_OF_RANGE` instead.
pub const MAX_FLOWLABEL: u32 = 0xF_FFFF;

/// Options for [`SocketAddress::new`], mirroring `new SocketAddress({address, family, port,
/// flowlabel})`. `None` means "not given" (Node's defaults apply). `port` and `flowlabel`
/// take JavaScript-like values ([`PortArg`], [`NumberArg`]) so that every validation error
/// Node raises for them stays reachable.
///
/// ```
/// use nodenet_core::{SocketAddress, SocketAddressOptions};
/// let sa = SocketAddress::new(
///     SocketAddressOptions::new().family("ipv6").address("2001:0DB8::0001").port(443),
/// ).unwrap();
/// assert_eq!(sa.to_json(), r#"{"address":"2001:db8::1","port":443,"family":"ipv6","flowlabel":0}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SocketAddressOptions {
    /// `address`; default `'127.0.0.1'` when `family` is exactly `'ipv4'` (or absent),
    /// else `'::'`.
    pub address: Option<String>,
    /// `family`, case-insensitive `'ipv4'` or `'ipv6'`; default `'ipv4'`.
    pub family: Option<String>,
    /// `port`, default 0; a number or numeric string (`validatePort`).
    pub port: Option<PortArg>,
    /// `flowlabel`, default 0; a uint32, at most 20 bits for IPv6, ignored for IPv4.
    pub flowlabel: Option<NumberArg>,
}

impl SocketAddressOptions {
    /// No options given: `new SocketAddress()`.
    pub fn new() -> SocketAddressOptions {
        SocketAddressOptions::default()
    }
    /// Set `address`.
    pub fn address(mut self, address: impl Into<String>) -> SocketAddressOptions {
        self.address = Some(address.into());
        self
    }
    /// Set `family`.
    pub fn family(mut self, family: impl Into<String>) -> SocketAddressOptions {
        self.family = Some(family.into());
        self
    }
    /// Set `port`.
    pub fn port(mut self, port: impl Into<PortArg>) -> SocketAddressOptions {
        self.port = Some(port.into());
        self
    }
    /// Set `flowlabel`.
    pub fn flowlabel(mut self, flowlabel: impl Into<NumberArg>) -> SocketAddressOptions {
        self.flowlabel = Some(flowlabel.into());
        self
    }
}

/// `net.SocketAddress`: an IP address, port and (IPv6) flow label.
///
/// ```
/// use nodenet_core::{Family, SocketAddress, SocketAddressOptions};
/// let sa = SocketAddress::new(SocketAddressOptions::new()).unwrap();
/// assert_eq!((sa.address().as_str(), sa.port(), sa.family()), ("127.0.0.1", 0, Family::IPv4));
///
/// let sa = SocketAddress::new(
///     SocketAddressOptions::new().family("ipv6").address("fe80::1%eth0").flowlabel(7),
/// ).unwrap();
/// assert_eq!((sa.address().as_str(), sa.flowlabel()), ("fe80::1", 7));
///
/// let err = SocketAddress::new(SocketAddressOptions::new().address("::1")).unwrap_err();
/// assert_eq!(err.code().as_str(), "ERR_INVALID_ADDRESS");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketAddress {
    ip: IpAddr,
    port: u16,
    flowlabel: u32,
}

impl Default for SocketAddress {
    /// `new SocketAddress()`: `127.0.0.1`, port 0.
    fn default() -> SocketAddress {
        SocketAddress {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            flowlabel: 0,
        }
    }
}

impl SocketAddress {
    /// `new SocketAddress(options)`, validating in Node's order: `family`
    /// (`ERR_INVALID_ARG_VALUE`), `port` (`ERR_SOCKET_BAD_PORT`), `flowlabel`
    /// (`ERR_OUT_OF_RANGE`), and only then the address text (`ERR_INVALID_ADDRESS`).
    pub fn new(options: SocketAddressOptions) -> Result<SocketAddress> {
        let family_given = options.family.as_deref().unwrap_or("ipv4");
        // Node picks the default address from the family *before* lower-casing it, so
        // `{family: 'IPv4'}` defaults to '::' and then fails to parse as IPv4.
        let default_address = if family_given == "ipv4" {
            "127.0.0.1"
        } else {
            "::"
        };
        let family = Family::from_option(family_given)?;
        let port = match &options.port {
            Some(port) => validate_port(port, "options.port")?,
            None => 0,
        };
        let flowlabel = match options.flowlabel {
            Some(label) => validate_uint32(label, "options.flowlabel", false)?,
            None => 0,
        };
        let address = options.address.as_deref().unwrap_or(default_address);
        let ip = parse_for_family(address, family).ok_or_else(Error::invalid_address)?;
        let flowlabel = match family {
            Family::IPv4 => 0,
            Family::IPv6 if flowlabel > MAX_FLOWLABEL => {
                return Err(Error::out_of_range(
                    "options.flowlabel",
                    &format!(">= 0 && <= {MAX_FLOWLABEL}"),
                    &describe_out_of_range(f64::from(flowlabel)),
                ))
            }
            Family::IPv6 => flowlabel,
        };
        Ok(SocketAddress {
            ip,
            port,
            flowlabel,
        })
    }

    /// A socket address from its parts, as the kernel reports them; the flow label is
    /// masked to its 20 bits (IPv6) or dropped (IPv4).
    pub fn from_parts(ip: IpAddr, port: u16, flowlabel: u32) -> SocketAddress {
        let flowlabel = match ip {
            IpAddr::V4(_) => 0,
            IpAddr::V6(_) => flowlabel & MAX_FLOWLABEL,
        };
        SocketAddress {
            ip,
            port,
            flowlabel,
        }
    }

    /// `SocketAddress.parse(input)` (Node v22.13+/v23.4+): `1.2.3.4:80`, `[::1]:443`,
    /// `1.2.3.4` (port 0). Node runs `'http://' + input` through the WHATWG URL parser,
    /// so its rules apply: IPv4 shorthand and hex/octal parts (`1.1:8080` → `1.0.0.1`),
    /// userinfo and paths are ignored, and the http default port `:80` reads back as 0.
    /// Anything that is not an IP address gives `None`.
    ///
    /// ```
    /// use nodenet_core::SocketAddress;
    /// let sa = SocketAddress::parse("[1::1]:1234").unwrap();
    /// assert_eq!((sa.address().as_str(), sa.port()), ("1::1", 1234));
    /// assert_eq!(SocketAddress::parse("1.1:8080").unwrap().address(), "1.0.0.1");
    /// assert!(SocketAddress::parse("example.com:80").is_none());
    /// ```
    pub fn parse(input: &str) -> Option<SocketAddress> {
        let (ip, port) = url::parse_host_port(input)?;
        Some(SocketAddress::from_parts(ip, port, 0))
    }

    /// `address`: canonical text (`inet_ntop`: lowercase, `::` compression,
    /// `::ffff:a.b.c.d`, zone dropped).
    pub fn address(&self) -> String {
        uv::inet_ntop(self.ip)
    }
    /// The address as a std type.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
    /// `family`.
    pub fn family(&self) -> Family {
        Family::of(self.ip)
    }
    /// `port`.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// `flowlabel` (always 0 for IPv4).
    pub fn flowlabel(&self) -> u32 {
        self.flowlabel
    }

    /// `JSON.stringify(sa)` (`toJSON()`): `{"address":…,"port":…,"family":…,"flowlabel":…}`.
    pub fn to_json(&self) -> String {
        format!(
            r#"{{"address":"{}","port":{},"family":"{}","flowlabel":{}}}"#,
            self.address(),
            self.port,
            self.family().as_lower_str(),
            self.flowlabel
        )
    }
}

/// Parse address text for a family with libuv's rules (`SocketAddress`'s C++ side).
pub(crate) fn parse_for_family(address: &str, family: Family) -> Option<IpAddr> {
    match family {
        Family::IPv4 => uv::ip4_addr(address).map(IpAddr::V4),
        Family::IPv6 => uv::ip6_addr(address).map(IpAddr::V6),
    }
}

impl fmt::Display for SocketAddress {
    /// `util.inspect(sa)`: `SocketAddress { address: '1.2.3.4', port: 8, family: 'ipv4',
    /// flowlabel: 0 }` (also how Node prints it inside error messages).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SocketAddress {{ address: '{}', port: {}, family: '{}', flowlabel: {} }}",
            self.address(),
            self.port,
            self.family().as_lower_str(),
            self.flowlabel
        )
    }
}

impl From<SocketAddr> for SocketAddress {
    /// Keeps the IPv6 flow label (20 bits); the scope id is dropped as Node drops zones.
    fn from(addr: SocketAddr) -> SocketAddress {
        match addr {
            SocketAddr::V4(a) => SocketAddress::from_parts(IpAddr::V4(*a.ip()), a.port(), 0),
            SocketAddr::V6(a) => {
                SocketAddress::from_parts(IpAddr::V6(*a.ip()), a.port(), a.flowinfo())
            }
        }
    }
}

impl From<SocketAddress> for SocketAddr {
    fn from(sa: SocketAddress) -> SocketAddr {
        match sa.ip {
            IpAddr::V4(ip) => SocketAddr::V4(SocketAddrV4::new(ip, sa.port)),
            IpAddr::V6(ip) => SocketAddr::V6(SocketAddrV6::new(ip, sa.port, sa.flowlabel, 0)),
        }
    }
}

impl From<IpAddr> for SocketAddress {
    /// The address with port 0.
    fn from(ip: IpAddr) -> SocketAddress {
        SocketAddress::from_parts(ip, 0, 0)
    }
}

impl From<Ipv4Addr> for SocketAddress {
    fn from(ip: Ipv4Addr) -> SocketAddress {
        SocketAddress::from(IpAddr::V4(ip))
    }
}

impl From<Ipv6Addr> for SocketAddress {
    fn from(ip: Ipv6Addr) -> SocketAddress {
        SocketAddress::from(IpAddr::V6(ip))
    }
}
