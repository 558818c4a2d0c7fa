//! Before any attempt (§5.2, §5.3 steps 2–5): whether the multi-address path applies, the
//! per-connect attempt timeout, and the candidate list (invalid entries dropped, duplicates
//! removed, families interleaved starting with the family of the first valid address).

use crate::defaults::{
    get_default_auto_select_family_attempt_timeout, MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ip::is_ip;
use crate::options::LookupAddress;
use crate::validate::{validate_int32, NumberArg};

/// One address to try: an IP text that passed `isIP` and its family (4 or 6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The IP as the lookup returned it (an IPv6 zone such as `%eth0` is kept).
    pub ip: String,
    /// 4 or 6.
    pub family: u8,
}

impl Candidate {
    /// A candidate (no validation; [`sort_candidates`] builds validated ones).
    pub fn new(ip: impl Into<String>, family: u8) -> Candidate {
        Candidate {
            ip: ip.into(),
            family,
        }
    }
}

/// What a lookup result leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Candidates {
    /// Exactly one usable address: Node falls back to the plain single connect (with the
    /// caller's local address/port, no attempt timer, `autoSelectFamilyAttemptedAddresses`
    /// left undefined).
    Single(Candidate),
    /// Two or more: run a [`Planner`](super::Planner) over them, in this order.
    Multiple(Vec<Candidate>),
}

/// §5.2: whether `connect` takes the multi-address path (a lookup with `all: true`). Call
/// it only for a host that is not an IP literal. `family` is the option after Node's
/// `'IPv4'`/`'IPv6'` → 4/6 mapping (anything but 4 or 6, even 5, counts as unspecified);
/// an empty `local_address` counts as absent; `auto_select_family` is the option or the
/// process default. `localPort` alone does not disable it.
///
/// ```
/// use nodenet_core::happy_eyeballs::uses_auto_select_family;
/// assert!(uses_auto_select_family(0, None, true));
/// assert!(uses_auto_select_family(5, Some(""), true));
/// assert!(!uses_auto_select_family(6, None, true));
/// assert!(!uses_auto_select_family(0, Some("10.0.0.1"), true));
/// assert!(!uses_auto_select_family(0, None, false));
/// ```
pub fn uses_auto_select_family(
    family: u32,
    local_address: Option<&str>,
    auto_select_family: bool,
) -> bool {
    family != 4 && family != 6 && local_address.is_none_or(|a| a.is_empty()) && auto_select_family
}

/// The `autoSelectFamilyAttemptTimeout` connect option as Node reads it: absent → the
/// process default ([`get_default_auto_select_family_attempt_timeout`]); otherwise an int32
/// `>= 1` (`ERR_OUT_OF_RANGE` on `options.autoSelectFamilyAttemptTimeout`), and values
/// under 10 become 10. In milliseconds.
///
/// ```
/// use nodenet_core::happy_eyeballs::attempt_timeout_option;
/// assert_eq!(attempt_timeout_option(Some(1.into())).unwrap(), 10);
/// assert_eq!(attempt_timeout_option(Some(300.into())).unwrap(), 300);
/// assert!(attempt_timeout_option(Some(0.into())).is_err());
/// ```
pub fn attempt_timeout_option(value: Option<NumberArg>) -> Result<u32> {
    match value {
        None => Ok(get_default_auto_select_family_attempt_timeout()),
        Some(v) => {
            let v = validate_int32(
                v,
                "options.autoSelectFamilyAttemptTimeout",
                1,
                i32::MAX as i64,
            )?;
            Ok((v as u32).max(MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT))
        }
    }
}

/// §5.3 steps 2–5 over a lookup result (`lookup(host, {all: true})`). The socket emits one
/// `Lookup` event per entry itself, before calling this.
///
/// * entries whose address fails `isIP` or whose family is not 4/6 are dropped;
/// * the family of the first valid entry is tried first; within a family the first
///   occurrence of an IP wins;
/// * families are interleaved (`a0, b0, a1, b1, ...`, leftovers appended).
///
/// Errors (Node destroys the socket with them on the next tick): no valid entry and the
/// first address is not an IP → `ERR_INVALID_IP_ADDRESS`; its family is wrong →
/// `ERR_INVALID_ADDRESS_FAMILY` naming `host` and `port` as given in the options. An empty
/// result is reported as `getaddrinfo ENOTFOUND <host>` (Node v20 crashes with a
/// `TypeError` there).
///
/// ```
/// use nodenet_core::happy_eyeballs::{sort_candidates, Candidate, Candidates};
/// use nodenet_core::LookupAddress;
/// let found = [
///     LookupAddress::new("::1", 6),
///     LookupAddress::new("127.0.0.1", 4),
///     LookupAddress::new("::1", 6),
///     LookupAddress::new("127.0.0.2", 4),
/// ];
/// let Candidates::Multiple(list) = sort_candidates(&found, "example.test", 80).unwrap() else {
///     unreachable!()
/// };
/// let ips: Vec<&str> = list.iter().map(|c| c.ip.as_str()).collect();
/// assert_eq!(ips, ["::1", "127.0.0.1", "127.0.0.2"]);
/// ```
pub fn sort_candidates(addresses: &[LookupAddress], host: &str, port: u16) -> Result<Candidates> {
    let Some(first) = addresses.first() else {
        return Err(Error::getaddrinfo(ErrorCode::ENOTFOUND, host));
    };
    if !addresses.iter().any(valid_entry) {
        if is_ip(&first.address) == 0 {
            return Err(Error::invalid_ip_address(&first.address));
        }
        return Err(Error::invalid_address_family(
            &first.family.to_string(),
            host,
            port,
        ));
    }
    Ok(interleave(
        addresses.iter().map(|e| (e.address.clone(), e.family)),
    ))
}

/// [`sort_candidates`] of a list it may take apart: the candidates keep the lookup's
/// strings instead of copies.
pub(crate) fn sort_candidates_owned(
    addresses: Vec<LookupAddress>,
    host: &str,
    port: u16,
) -> Result<Candidates> {
    if !addresses.iter().any(valid_entry) {
        return sort_candidates(&addresses, host, port);
    }
    Ok(interleave(
        addresses.into_iter().map(|e| (e.address, e.family)),
    ))
}

fn valid_entry(entry: &LookupAddress) -> bool {
    is_ip(&entry.address) != 0 && (entry.family == 4 || entry.family == 6)
}

/// The valid entries (at least one), deduplicated per family, grouped by family (the
/// first valid entry's first) and interleaved.
fn interleave(entries: impl Iterator<Item = (String, u32)>) -> Candidates {
    // groups[0] is the preferred family (that of the first valid entry).
    let mut groups: [Vec<Candidate>; 2] = [Vec::new(), Vec::new()];
    let mut preferred: Option<u32> = None;
    for (address, family) in entries {
        let valid = is_ip(&address) != 0 && (family == 4 || family == 6);
        if !valid {
            continue;
        }
        let pref = *preferred.get_or_insert(family);
        let group = &mut groups[usize::from(family != pref)];
        if !group.iter().any(|c| c.ip == address) {
            group.push(Candidate::new(address, family as u8));
        }
    }
    let [a, b] = groups;
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter();
    let mut b = b.into_iter();
    loop {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
    if out.len() == 1 {
        if let Some(only) = out.pop() {
            return Candidates::Single(only);
        }
    }
    Candidates::Multiple(out)
}
