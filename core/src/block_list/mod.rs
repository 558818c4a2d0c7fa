//! `net.BlockList` (§7): address, range and subnet rules with Node v20's validation, rule
//! text and cross-family matching, checked in O(log n).
//!
//! Node scans its rules linearly on every `check`. Here the rules are kept as Node keeps
//! them (for `rules()`, newest first, duplicates included) and, on the first `check` after
//! a change, compiled into two sorted, disjoint interval lists — one answering IPv4
//! queries, one answering IPv6 queries — which `check` binary-searches (module `index`). Two
//! lists are needed because Node's matching is not a function of the 128-bit mapped
//! address alone: an IPv6 range whose bounds are not IPv4-mapped never matches an IPv4
//! query, yet matches the same address written as `::ffff:a.b.c.d`.
//!
//! Beyond Node: `remove_*`, and `to_json`/`from_json` in Node v24.5's format.

mod index;
mod json;
mod rule;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;

use crate::address::{parse_for_family, Family, SocketAddress};
use crate::error::{Error, Result};
use crate::ip::uv;
use crate::validate::NumberArg;

use index::Index;
use rule::Rule;

/// An address argument as Node's `BlockList` methods take it: a string (parsed for the
/// `family` argument) or a `SocketAddress` (whose own family is used and the `family`
/// argument ignored). `IpAddr`/`SocketAddr` behave like a `SocketAddress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressArg<'a> {
    /// Address text, parsed with libuv's rules for the given family.
    Text(&'a str),
    /// An already parsed address.
    Socket(SocketAddress),
}

impl<'a> From<&'a str> for AddressArg<'a> {
    fn from(s: &'a str) -> AddressArg<'a> {
        AddressArg::Text(s)
    }
}
impl<'a> From<&'a String> for AddressArg<'a> {
    fn from(s: &'a String) -> AddressArg<'a> {
        AddressArg::Text(s)
    }
}
impl From<SocketAddress> for AddressArg<'_> {
    fn from(sa: SocketAddress) -> Self {
        AddressArg::Socket(sa)
    }
}
impl From<&SocketAddress> for AddressArg<'_> {
    fn from(sa: &SocketAddress) -> Self {
        AddressArg::Socket(*sa)
    }
}
impl From<IpAddr> for AddressArg<'_> {
    fn from(ip: IpAddr) -> Self {
        AddressArg::Socket(ip.into())
    }
}
impl From<Ipv4Addr> for AddressArg<'_> {
    fn from(ip: Ipv4Addr) -> Self {
        AddressArg::Socket(ip.into())
    }
}
impl From<Ipv6Addr> for AddressArg<'_> {
    fn from(ip: Ipv6Addr) -> Self {
        AddressArg::Socket(ip.into())
    }
}
impl From<SocketAddr> for AddressArg<'_> {
    fn from(addr: SocketAddr) -> Self {
        AddressArg::Socket(addr.into())
    }
}

impl AddressArg<'_> {
    /// What Node does with a string argument: `new SocketAddress({address, family})`,
    /// i.e. family validated first (`ERR_INVALID_ARG_VALUE`), then the address
    /// (`ERR_INVALID_ADDRESS`).
    fn resolve(self, family: &str) -> Result<SocketAddress> {
        match self {
            AddressArg::Socket(sa) => Ok(sa),
            AddressArg::Text(text) => {
                let family = Family::from_option(family)?;
                let ip = parse_for_family(text, family).ok_or_else(Error::invalid_address)?;
                Ok(SocketAddress::from(ip))
            }
        }
    }
}

/// `net.BlockList`.
///
/// ```
/// use nodenet_core::BlockList;
/// let mut list = BlockList::new();
/// list.add_address("123.123.123.123", "ipv4").unwrap();
/// list.add_range("10.0.0.1", "10.0.0.10", "ipv4").unwrap();
/// list.add_subnet("8592:757c:efae:4e45::", 64, "ipv6").unwrap();
///
/// assert!(list.check("123.123.123.123", "ipv4").unwrap());
/// assert!(list.check("10.0.0.3", "ipv4").unwrap());
/// assert!(!list.check("222.111.111.222", "ipv4").unwrap());
/// // IPv6 notation for IPv4 addresses works:
/// assert!(list.check("::ffff:7b7b:7b7b", "ipv6").unwrap());
/// assert!(list.check("::ffff:123.123.123.123", "ipv6").unwrap());
/// assert_eq!(list.rules(), [
///     "Subnet: IPv6 8592:757c:efae:4e45::/64",
///     "Range: IPv4 10.0.0.1-10.0.0.10",
///     "Address: IPv4 123.123.123.123",
/// ]);
/// ```
///
/// `check` takes `&self` and is safe to call from many threads at once: the lookup index
/// is built once after a change (a [`OnceLock`], reset by every `&mut self` method).
/// Unlike Node's structured clone, `clone()` gives an independent list; share one list
/// with `Arc<RwLock<BlockList>>` if updates must be seen everywhere.
#[derive(Clone, Default)]
pub struct BlockList {
    /// Oldest first; `rules()` reverses.
    rules: Vec<Rule>,
    index: OnceLock<Index>,
}

impl fmt::Debug for BlockList {
    /// As `util.inspect` shows it: `BlockList { rules: [...] }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockList")
            .field("rules", &self.rules())
            .finish()
    }
}

impl BlockList {
    /// `new BlockList()`.
    pub fn new() -> BlockList {
        BlockList::default()
    }

    fn push(&mut self, rule: Rule) {
        self.rules.push(rule);
        self.index = OnceLock::new();
    }

    /// `addAddress(address, family = 'ipv4')`.
    ///
    /// Errors: `ERR_INVALID_ARG_VALUE` for a family other than (case-insensitive)
    /// `ipv4`/`ipv6`; `ERR_INVALID_ADDRESS` for text that is not an address of that family.
    pub fn add_address<'a>(
        &mut self,
        address: impl Into<AddressArg<'a>>,
        family: &str,
    ) -> Result<()> {
        let address = address.into().resolve(family)?;
        self.push(Rule::Address(address.ip()));
        Ok(())
    }

    /// `addRange(start, end, family = 'ipv4')`: blocks `start..=end`.
    ///
    /// Errors as [`add_address`](Self::add_address), plus `ERR_INVALID_ARG_VALUE` (`The
    /// argument 'start' must come before end. Received SocketAddress {…}`) when `start` is
    /// after `end`. Bounds of different families that Node cannot compare (an IPv6 bound
    /// that is not IPv4-mapped against an IPv4 one) are accepted, as in Node.
    pub fn add_range<'a, 'b>(
        &mut self,
        start: impl Into<AddressArg<'a>>,
        end: impl Into<AddressArg<'b>>,
        family: &str,
    ) -> Result<()> {
        let (start, end) = Self::range_bounds(start.into(), end.into(), family)?;
        self.push(Rule::Range(start.ip(), end.ip()));
        Ok(())
    }

    /// `addSubnet(network, prefix, family = 'ipv4')`: blocks the addresses whose first
    /// `prefix` bits equal `network`'s. The network is kept as written (`1.2.3.77/24`).
    ///
    /// Errors as [`add_address`](Self::add_address), plus `ERR_OUT_OF_RANGE` for a prefix
    /// that is not an integer in `0..=32` (IPv4) or `0..=128` (IPv6).
    pub fn add_subnet<'a>(
        &mut self,
        network: impl Into<AddressArg<'a>>,
        prefix: impl Into<NumberArg>,
        family: &str,
    ) -> Result<()> {
        let (network, prefix) = Self::subnet(network.into(), prefix.into(), family)?;
        self.push(Rule::Subnet(network, prefix));
        Ok(())
    }

    /// `check(address, family = 'ipv4')`: whether any rule matches.
    ///
    /// As in Node, an unknown family or text that is not an address of the family gives
    /// `Ok(false)`, never an error (Node throws only for non-string arguments, which Rust's
    /// types rule out), so the `Result` is always `Ok` today.
    pub fn check<'a>(&self, address: impl Into<AddressArg<'a>>, family: &str) -> Result<bool> {
        Ok(match address.into() {
            AddressArg::Socket(sa) => self.check_ip(sa.ip()),
            AddressArg::Text(text) => self.check_text(text, family),
        })
    }

    /// `check` for text: what [`AddressArg::resolve`] decides, minus the `SocketAddress`
    /// and the `Error` that `check` would only drop, and with each family going straight
    /// to its parser and its lookup list.
    #[inline]
    fn check_text(&self, text: &str, family: &str) -> bool {
        match Family::from_name(family) {
            Some(Family::IPv4) => {
                uv::ip4_addr(text).is_some_and(|ip| self.index().contains_v4(u32::from(ip)))
            }
            Some(Family::IPv6) => {
                uv::ip6_addr(text).is_some_and(|ip| self.index().contains_v6(u128::from(ip)))
            }
            None => false,
        }
    }

    /// The lookup index, built on first use after a change.
    #[inline]
    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(&self.rules))
    }

    /// `check` for an already parsed address, with Node's cross-family rules.
    ///
    /// ```
    /// use nodenet_core::BlockList;
    /// let mut list = BlockList::new();
    /// list.add_subnet("10.0.0.0", 8, "ipv4").unwrap();
    /// assert!(list.check_ip("10.1.2.3".parse().unwrap()));
    /// assert!(list.check_ip("::ffff:10.1.2.3".parse().unwrap()));
    /// assert!(!list.check_ip("::10.1.2.3".parse().unwrap()));
    /// ```
    pub fn check_ip(&self, ip: IpAddr) -> bool {
        self.index().contains(ip)
    }

    /// `check(socketAddress)`: the port and flow label play no part.
    pub fn check_socket_address(&self, address: &SocketAddress) -> bool {
        self.check_ip(address.ip())
    }

    /// `rules`: one line per rule, newest first, in Node's exact text (`Address: IPv4
    /// 1.2.3.4`, `Range: IPv4 10.0.0.1-10.0.0.10`, `Subnet: IPv6 2001:db8::/32`).
    pub fn rules(&self) -> Vec<String> {
        self.rules.iter().rev().map(Rule::to_string).collect()
    }

    /// Beyond Node: removes every address rule for exactly this address (same family and
    /// value, as `rules()` would print it). Returns whether any rule was removed. The
    /// arguments are validated as [`add_address`](Self::add_address) validates them.
    pub fn remove_address<'a>(
        &mut self,
        address: impl Into<AddressArg<'a>>,
        family: &str,
    ) -> Result<bool> {
        let address = address.into().resolve(family)?;
        Ok(self.remove(&Rule::Address(address.ip())))
    }

    /// Beyond Node: removes every range rule with exactly these bounds.
    pub fn remove_range<'a, 'b>(
        &mut self,
        start: impl Into<AddressArg<'a>>,
        end: impl Into<AddressArg<'b>>,
        family: &str,
    ) -> Result<bool> {
        let (start, end) = Self::range_bounds(start.into(), end.into(), family)?;
        Ok(self.remove(&Rule::Range(start.ip(), end.ip())))
    }

    /// Beyond Node: removes every subnet rule with exactly this network (as written) and
    /// prefix.
    pub fn remove_subnet<'a>(
        &mut self,
        network: impl Into<AddressArg<'a>>,
        prefix: impl Into<NumberArg>,
        family: &str,
    ) -> Result<bool> {
        let (network, prefix) = Self::subnet(network.into(), prefix.into(), family)?;
        Ok(self.remove(&Rule::Subnet(network, prefix)))
    }

    fn remove(&mut self, rule: &Rule) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r != rule);
        let removed = self.rules.len() != before;
        if removed {
            self.index = OnceLock::new();
        }
        removed
    }

    /// Beyond Node v20: `toJSON()` (Node v24.5+), i.e. `JSON.stringify(list.rules)`.
    ///
    /// ```
    /// use nodenet_core::BlockList;
    /// let mut list = BlockList::new();
    /// list.add_subnet("192.168.0.0", 16, "ipv4").unwrap();
    /// list.add_address("::1", "ipv6").unwrap();
    /// let json = list.to_json();
    /// assert_eq!(json, r#"["Address: IPv6 ::1","Subnet: IPv4 192.168.0.0/16"]"#);
    ///
    /// let mut copy = BlockList::new();
    /// copy.from_json(&json).unwrap();
    /// assert!(copy.check("192.168.3.4", "ipv4").unwrap());
    /// // As in Node, each rule is added in array order, so the listing comes out reversed.
    /// assert_eq!(copy.rules(), ["Subnet: IPv4 192.168.0.0/16", "Address: IPv6 ::1"]);
    /// ```
    pub fn to_json(&self) -> String {
        json::array_of_strings(&self.rules())
    }

    /// Beyond Node v20: `fromJSON(json)` (Node v24.5+): adds every rule of a JSON array of
    /// rule strings (as `to_json`/`rules` produce them), in array order. Lines in no known
    /// rule format are skipped, as Node skips them; a rule with an invalid address or
    /// prefix fails as the matching `add_*` call would. Unlike Node's regexes, mapped IPv4
    /// (`::ffff:1.2.3.4`) and mixed-family ranges read back exactly.
    ///
    /// Errors: `ERR_INVALID_ARG_TYPE` when the JSON is not an array of strings,
    /// `ERR_INVALID_ARG_VALUE` when it is not JSON at all (Node throws a `SyntaxError`).
    pub fn from_json(&mut self, json: &str) -> Result<()> {
        let rules = json::parse_array_of_strings(json)?;
        self.from_rules(&rules)
    }

    /// `fromJSON(array)`: like [`from_json`](Self::from_json) for already split lines.
    pub fn from_rules<S: AsRef<str>>(&mut self, rules: &[S]) -> Result<()> {
        for line in rules {
            if let Some(rule) = Rule::parse(line.as_ref())? {
                self.push(rule);
            }
        }
        Ok(())
    }

    /// Number of rules (duplicates included).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn range_bounds(
        start: AddressArg<'_>,
        end: AddressArg<'_>,
        family: &str,
    ) -> Result<(SocketAddress, SocketAddress)> {
        let start = start.resolve(family)?;
        let end = end.resolve(family)?;
        if rule::compare(start.ip(), end.ip()) == Some(std::cmp::Ordering::Greater) {
            return Err(rule::start_after_end(&start));
        }
        Ok((start, end))
    }

    fn subnet(network: AddressArg<'_>, prefix: NumberArg, family: &str) -> Result<(IpAddr, u8)> {
        let network = network.resolve(family)?;
        let prefix = rule::validate_prefix(prefix, network.family())?;
        Ok((network.ip(), prefix))
    }
}
