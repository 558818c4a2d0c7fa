//! BlockList against the naive linear reference (`nodenet_fuzz_checks::reference`, Node's §7.2
//! rules transcribed per rule type): random operation sequences biased to the edges, with
//! every result, error, `rules()` listing and probe around every rule bound compared.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nodenet_core::SocketAddress;
use nodenet_fuzz_checks::{run_ops, Op};
use proptest::prelude::*;

const EDGE_V4: &[u32] = &[
    0,
    1,
    0x0a00_0000,
    0x0aff_ffff,
    0x7f00_0001,
    u32::MAX - 1,
    u32::MAX,
];
const EDGE_V6: &[u128] = &[
    0,
    1,
    0xfffe_ffff_ffff,                // just below ::ffff:0:0/96
    0xffff_0000_0000,                // ::ffff:0.0.0.0
    0xffff_0a00_0000,                // ::ffff:10.0.0.0
    0xffff_ffff_ffff,                // ::ffff:255.255.255.255
    0x1_0000_0000_0000,              // just above the mapped block
    0x0a00_0001,                     // ::10.0.0.1 (IPv4-compatible, never matches IPv4)
    0x0064_ff9b << 96 | 0x0a00_0001, // NAT64 64:ff9b::10.0.0.1
    0xffff << 112,
    u128::MAX - 1,
    u128::MAX,
];

fn v4() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        3 => proptest::sample::select(EDGE_V4).prop_map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        2 => (0u8..16).prop_map(|b| IpAddr::V4(Ipv4Addr::new(10, 0, 0, b))),
        1 => any::<u32>().prop_map(|v| IpAddr::V4(Ipv4Addr::from(v))),
    ]
}

fn v6() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        3 => proptest::sample::select(EDGE_V6).prop_map(|v| IpAddr::V6(Ipv6Addr::from(v))),
        2 => (0u8..16).prop_map(|b| IpAddr::V6(Ipv4Addr::new(10, 0, 0, b).to_ipv6_mapped())),
        1 => (0u8..16).prop_map(|b| IpAddr::V6(Ipv6Addr::from(u128::from(b)))),
        1 => any::<u32>().prop_map(|v| IpAddr::V6(Ipv4Addr::from(v).to_ipv6_mapped())),
        1 => any::<u128>().prop_map(|v| IpAddr::V6(Ipv6Addr::from(v))),
    ]
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![v4(), v6()]
}

fn family_for(ip: IpAddr) -> impl Strategy<Value = String> {
    let (natural, other) = if ip.is_ipv4() {
        ("ipv4", "ipv6")
    } else {
        ("ipv6", "ipv4")
    };
    prop_oneof![
        8 => Just(natural.to_string()),
        1 => Just(natural.to_ascii_uppercase()),
        1 => Just(other.to_string()),
        1 => Just("ipv5".to_string()),
    ]
}

/// Address text in a form Node accepts (canonical, std, with a zone) and its family.
fn arg() -> impl Strategy<Value = (String, String)> {
    ip().prop_flat_map(|ip| {
        let text = prop_oneof![
            3 => Just(SocketAddress::from(ip).address()),
            1 => Just(ip.to_string()),
            1 => Just(if ip.is_ipv6() { format!("{ip}%lo") } else { ip.to_string() }),
            1 => Just("01.2.3.4".to_string()),
        ];
        (text, family_for(ip))
    })
}

fn prefix() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => proptest::sample::select(&[0.0, 1.0, 8.0, 31.0, 32.0, 33.0, 64.0, 95.0, 96.0, 97.0, 104.0, 127.0, 128.0, 129.0][..]),
        2 => (0u8..=128).prop_map(f64::from),
        1 => Just(-1.0),
        1 => Just(1.5),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => arg().prop_map(|(a, f)| Op::AddAddress(a, f)),
        3 => (arg(), ip()).prop_map(|((s, f), e)| Op::AddRange(s, SocketAddress::from(e).address(), f)),
        2 => (ip(), ip()).prop_map(|(s, e)| Op::AddRangeIp(s, e)),
        3 => (arg(), prefix()).prop_map(|((n, f), p)| Op::AddSubnet(n, p, f)),
        2 => (ip(), prefix()).prop_map(|(n, p)| Op::AddSubnetIp(n, p)),
        1 => arg().prop_map(|(a, f)| Op::RemoveAddress(a, f)),
        1 => (arg(), ip()).prop_map(|((s, f), e)| Op::RemoveRange(s, SocketAddress::from(e).address(), f)),
        1 => (arg(), prefix()).prop_map(|((n, f), p)| Op::RemoveSubnet(n, p, f)),
        3 => arg().prop_map(|(a, f)| Op::Check(a, f)),
        1 => Just(Op::JsonRoundTrip),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn block_list_matches_naive_reference(ops in proptest::collection::vec(op(), 0..24)) {
        run_ops(&ops);
    }
}

/// Regressions and hand-picked cross-family cases, run by name.
#[test]
fn cross_family_sequences() {
    let s = |x: &str| x.to_string();
    run_ops(&[
        Op::AddRange(
            s("::"),
            s("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            s("ipv6"),
        ),
        Op::Check(s("1.2.3.4"), s("ipv4")),
        Op::AddRangeIp("1.1.1.1".parse().unwrap(), "ffff::".parse().unwrap()),
        Op::AddRangeIp(
            "::ffff:1.1.1.1".parse().unwrap(),
            "1.1.1.9".parse().unwrap(),
        ),
        Op::AddRangeIp("::1".parse().unwrap(), "1.1.1.9".parse().unwrap()),
        Op::AddSubnet(s("::ffff:10.0.0.0"), 104.0, s("ipv6")),
        Op::AddSubnet(s("::"), 95.0, s("ipv6")),
        Op::AddSubnet(s("10.0.0.77"), 31.0, s("ipv4")),
        Op::AddAddress(s("::ffff:9.9.9.9"), s("ipv6")),
        Op::RemoveSubnet(s("::"), 95.0, s("ipv6")),
        Op::JsonRoundTrip,
    ]);
}
