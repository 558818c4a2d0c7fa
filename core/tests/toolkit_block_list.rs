//! `BlockList` (§7): every test vector of `docs/node-semantics.md` §7, confirmed with node v20.20.2.

use nodenet_core::{BlockList, ErrorCode, SocketAddress, SocketAddressOptions as Opts};

fn sa(address: &str, family: &str) -> SocketAddress {
    SocketAddress::new(Opts::new().address(address).family(family)).unwrap()
}

/// The reference list of `docs/node-semantics.md` §7's examples.
fn reference_list() -> BlockList {
    let mut bl = BlockList::new();
    bl.add_address("123.123.123.123", "ipv4").unwrap();
    bl.add_range("10.0.0.1", "10.0.0.10", "ipv4").unwrap();
    bl.add_subnet("8592:757c:efae:4e45::", 64, "ipv6").unwrap();
    bl.add_address("::1", "ipv6").unwrap();
    bl.add_subnet("192.168.0.0", 16, "ipv4").unwrap();
    bl.add_range("::ffff:1.1.1.1", "::ffff:1.1.1.9", "ipv6")
        .unwrap();
    bl
}

#[test]
fn reference_list_rules_and_checks() {
    let bl = reference_list();
    assert_eq!(
        bl.rules(),
        [
            "Range: IPv6 ::ffff:1.1.1.1-::ffff:1.1.1.9",
            "Subnet: IPv4 192.168.0.0/16",
            "Address: IPv6 ::1",
            "Subnet: IPv6 8592:757c:efae:4e45::/64",
            "Range: IPv4 10.0.0.1-10.0.0.10",
            "Address: IPv4 123.123.123.123",
        ]
    );
    for (address, family, want) in [
        ("123.123.123.123", "ipv4", true),
        ("10.0.0.3", "ipv4", true),
        ("10.0.0.1", "ipv4", true),
        ("10.0.0.10", "ipv4", true),
        ("10.0.0.11", "ipv4", false),
        ("222.111.111.222", "ipv4", false),
        ("::ffff:7b7b:7b7b", "ipv6", true),
        ("::ffff:123.123.123.123", "ipv6", true),
        ("::ffff:10.0.0.5", "ipv6", true),
        ("8592:757c:efae:4e45::1", "ipv6", true),
        ("8592:757c:efae:4e46::1", "ipv6", false),
        ("::1", "ipv6", true),
        ("::1", "ipv4", false),
        ("0:0:0:0:0:0:0:1", "ipv6", true),
        ("::0:1", "ipv6", true),
        ("192.168.55.1", "ipv4", true),
        ("::ffff:192.168.1.1", "ipv6", true),
        ("1.1.1.5", "ipv4", true),
        ("1.1.1.10", "ipv4", false),
        ("not-an-ip", "ipv4", false),
        ("123.123.123.123", "ipv6", false),
        ("123.123.123.123", "IPV4", true),
        ("1.2.3.4", "ipv5", false),
        ("::ffff:0:7b7b:7b7b", "ipv6", false),
        ("64:ff9b::7b7b:7b7b", "ipv6", false),
    ] {
        assert_eq!(
            bl.check(address, family),
            Ok(want),
            "check({address:?}, {family:?})"
        );
    }
    assert!(bl.check(sa("::ffff:10.0.0.2", "ipv6"), "ignored").unwrap());
    assert!(bl.check_socket_address(&sa("::ffff:10.0.0.2", "ipv6")));
}

#[test]
fn add_errors() {
    let mut bl = BlockList::new();
    for (address, family) in [
        ("bad", "ipv4"),
        ("::1", "ipv4"),
        ("1.2.3.4", "ipv6"),
        ("01.2.3.4", "ipv4"),
    ] {
        let e = bl.add_address(address, family).unwrap_err();
        assert_eq!(
            (e.code(), e.message()),
            (ErrorCode::ERR_INVALID_ADDRESS, "Invalid socket address")
        );
    }
    let e = bl.add_address("1.2.3.4", "foo").unwrap_err();
    assert_eq!(
        e.message(),
        "The property 'options.family' is invalid. Received 'foo'"
    );
    let e = bl.add_range("10.0.0.10", "10.0.0.1", "ipv4").unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_ARG_VALUE);
    assert_eq!(
        e.message(),
        "The argument 'start' must come before end. Received SocketAddress { address: '10.0.0.10', port: 0, family: 'ipv4', flowlabel: 0 }"
    );
    let prefix_err = |bl: &mut BlockList, net: &str, p: f64, fam: &str| {
        bl.add_subnet(net, p, fam)
            .unwrap_err()
            .message()
            .to_string()
    };
    assert_eq!(
        prefix_err(&mut bl, "1.2.3.0", 33.0, "ipv4"),
        "The value of \"prefix\" is out of range. It must be >= 0 && <= 32. Received 33"
    );
    assert_eq!(
        prefix_err(&mut bl, "1.2.3.0", -1.0, "ipv4"),
        "The value of \"prefix\" is out of range. It must be >= 0 && <= 32. Received -1"
    );
    assert_eq!(
        prefix_err(&mut bl, "1.2.3.0", 1.5, "ipv4"),
        "The value of \"prefix\" is out of range. It must be an integer. Received 1.5"
    );
    assert_eq!(
        prefix_err(&mut bl, "::", 129.0, "ipv6"),
        "The value of \"prefix\" is out of range. It must be >= 0 && <= 128. Received 129"
    );
    assert_eq!(
        prefix_err(&mut bl, "1.2.3.0", 2f64.powi(40), "ipv4"),
        "The value of \"prefix\" is out of range. It must be >= 0 && <= 32. Received 1_099_511_627_776"
    );
    // The address is checked before the prefix.
    assert_eq!(
        bl.add_subnet("bad", 99, "ipv4").unwrap_err().code(),
        ErrorCode::ERR_INVALID_ADDRESS
    );
    assert!(bl.is_empty());
}

#[test]
fn ranges() {
    let mut bl = BlockList::new();
    bl.add_range("10.0.0.1", "10.0.0.1", "ipv4").unwrap();
    assert!(bl.check("10.0.0.1", "ipv4").unwrap());

    let mut bl = BlockList::new();
    bl.add_range(sa("1.1.1.1", "ipv4"), sa("::ffff:1.1.1.9", "ipv6"), "ipv4")
        .unwrap();
    assert_eq!(bl.rules(), ["Range: IPv4 1.1.1.1-::ffff:1.1.1.9"]);
    assert!(bl.check("1.1.1.5", "ipv4").unwrap());
    assert!(bl.check("::ffff:1.1.1.5", "ipv6").unwrap());

    let mut bl = BlockList::new();
    bl.add_range(sa("::1", "ipv6"), sa("1.1.1.9", "ipv4"), "ipv4")
        .unwrap();
    assert_eq!(bl.rules(), ["Range: IPv6 ::1-1.1.1.9"]);

    let mut bl = BlockList::new();
    bl.add_range("0.0.0.0", "255.255.255.255", "ipv4").unwrap();
    assert!(!bl.check("::1", "ipv6").unwrap());
    assert!(bl.check("::ffff:1.2.3.4", "ipv6").unwrap());

    let mut bl = BlockList::new();
    bl.add_range("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ipv6")
        .unwrap();
    assert!(!bl.check("1.2.3.4", "ipv4").unwrap(), "not comparable");
    assert!(bl.check("::1", "ipv6").unwrap());
    assert!(bl.check("::ffff:1.2.3.4", "ipv6").unwrap());
}

fn subnet_checks(net: &str, prefix: u8, family: &str, cases: &[(&str, &str, bool)]) {
    let mut bl = BlockList::new();
    bl.add_subnet(net, prefix, family).unwrap();
    for &(address, fam, want) in cases {
        assert_eq!(
            bl.check(address, fam),
            Ok(want),
            "{net}/{prefix}: check({address}, {fam})"
        );
    }
}

#[test]
fn subnets() {
    subnet_checks(
        "1.2.3.4",
        32,
        "ipv4",
        &[
            ("1.2.3.4", "ipv4", true),
            ("1.2.3.5", "ipv4", false),
            ("9.9.9.9", "ipv4", false),
        ],
    );
    subnet_checks(
        "1.2.3.4",
        0,
        "ipv4",
        &[
            ("1.2.3.4", "ipv4", true),
            ("200.2.3.5", "ipv4", true),
            ("::1", "ipv6", false),
            ("::ffff:9.9.9.9", "ipv6", true),
        ],
    );
    subnet_checks(
        "1.2.3.4",
        31,
        "ipv4",
        &[
            ("1.2.3.4", "ipv4", true),
            ("1.2.3.5", "ipv4", true),
            ("1.2.3.6", "ipv4", false),
        ],
    );
    subnet_checks(
        "1.2.3.77",
        24,
        "ipv4",
        &[("1.2.3.1", "ipv4", true), ("1.2.4.1", "ipv4", false)],
    );
    subnet_checks(
        "::1",
        128,
        "ipv6",
        &[("::1", "ipv6", true), ("::2", "ipv6", false)],
    );
    subnet_checks(
        "::",
        0,
        "ipv6",
        &[("::1", "ipv6", true), ("1.2.3.4", "ipv4", true)],
    );
    subnet_checks(
        "::2",
        127,
        "ipv6",
        &[
            ("::2", "ipv6", true),
            ("::3", "ipv6", true),
            ("::4", "ipv6", false),
        ],
    );
    subnet_checks(
        "::80",
        121,
        "ipv6",
        &[
            ("::80", "ipv6", true),
            ("::ff", "ipv6", true),
            ("::7f", "ipv6", false),
            ("::100", "ipv6", false),
        ],
    );
    subnet_checks(
        "::ffff:10.0.0.0",
        120,
        "ipv6",
        &[("10.0.0.200", "ipv4", true), ("10.0.1.1", "ipv4", false)],
    );
    subnet_checks(
        "::ffff:10.0.0.0",
        104,
        "ipv6",
        &[("10.5.1.1", "ipv4", true), ("11.0.0.1", "ipv4", false)],
    );
    subnet_checks(
        "::ffff:10.0.0.1",
        128,
        "ipv6",
        &[("10.0.0.1", "ipv4", true), ("10.0.0.2", "ipv4", false)],
    );
    subnet_checks(
        "::ffff:0.0.0.0",
        96,
        "ipv6",
        &[
            ("0.0.0.0", "ipv4", true),
            ("255.255.255.255", "ipv4", true),
            ("::fffe:ffff:ffff", "ipv6", false),
            ("::1:0:0:0", "ipv6", false),
        ],
    );
    subnet_checks(
        "10.0.0.0",
        8,
        "ipv4",
        &[
            ("::ffff:10.1.2.3", "ipv6", true),
            ("::ffff:11.1.2.3", "ipv6", false),
            ("::10.1.2.3", "ipv6", false),
        ],
    );
    subnet_checks(
        "10.0.0.1",
        32,
        "ipv4",
        &[
            ("::ffff:10.0.0.1", "ipv6", true),
            ("::ffff:10.0.0.2", "ipv6", false),
        ],
    );
}

#[test]
fn addresses_across_families() {
    let mut bl = BlockList::new();
    bl.add_address("10.0.0.1", "ipv4").unwrap();
    assert!(bl.check("::ffff:10.0.0.1", "ipv6").unwrap());
    assert!(bl.check("::ffff:a00:1", "ipv6").unwrap());
    assert!(!bl.check("::10.0.0.1", "ipv6").unwrap());

    let mut bl = BlockList::new();
    bl.add_address("::ffff:10.0.0.1", "ipv6").unwrap();
    assert!(bl.check("10.0.0.1", "ipv4").unwrap());
    assert!(!bl.check("10.0.0.2", "ipv4").unwrap());
}

#[test]
fn rule_text_canonicalisation() {
    let mut bl = BlockList::new();
    bl.add_address("0000:0000::0001", "ipv6").unwrap();
    bl.add_address("2001:DB8::1", "ipv6").unwrap();
    bl.add_address("::FFFF:1.2.3.4", "ipv6").unwrap();
    bl.add_subnet("2001:db8::", 32, "IPv6").unwrap();
    bl.add_address("fe80::1%lo", "ipv6").unwrap();
    bl.add_address(sa("::2", "ipv6"), "ipv4").unwrap();
    bl.add_address(sa("::2", "ipv6"), "ipv4").unwrap();
    assert_eq!(
        bl.rules(),
        [
            "Address: IPv6 ::2",
            "Address: IPv6 ::2",
            "Address: IPv6 fe80::1",
            "Subnet: IPv6 2001:db8::/32",
            "Address: IPv6 ::ffff:1.2.3.4",
            "Address: IPv6 2001:db8::1",
            "Address: IPv6 ::1",
        ]
    );
    assert!(bl.check("fe80::1%lo", "ipv6").unwrap());
    assert!(BlockList::new().rules().is_empty());
    assert!(!bl.check(" 1.2.3.4", "ipv4").unwrap());
    assert!(!bl.check("1.2.3.4 ", "ipv4").unwrap());
    assert_eq!(format!("{:?}", BlockList::new()), "BlockList { rules: [] }");
}

#[test]
fn removal_and_json_beyond_node() {
    let mut bl = reference_list();
    assert_eq!(bl.remove_subnet("192.168.0.0", 16, "ipv4"), Ok(true));
    assert!(!bl.check("192.168.55.1", "ipv4").unwrap());
    assert_eq!(bl.remove_subnet("192.168.0.0", 16, "ipv4"), Ok(false));
    assert_eq!(bl.remove_range("10.0.0.1", "10.0.0.10", "ipv4"), Ok(true));
    assert!(!bl.check("10.0.0.3", "ipv4").unwrap());
    assert_eq!(bl.remove_address("::0:1", "ipv6"), Ok(true));
    assert!(!bl.check("::1", "ipv6").unwrap());
    assert_eq!(
        bl.remove_address("bad", "ipv4").unwrap_err().code(),
        ErrorCode::ERR_INVALID_ADDRESS
    );
    assert_eq!(bl.len(), 3);

    let json = bl.to_json();
    assert_eq!(
        json,
        r#"["Range: IPv6 ::ffff:1.1.1.1-::ffff:1.1.1.9","Subnet: IPv6 8592:757c:efae:4e45::/64","Address: IPv4 123.123.123.123"]"#
    );
    let mut copy = BlockList::new();
    copy.from_json(&json).unwrap();
    let mut reversed = bl.rules();
    reversed.reverse();
    assert_eq!(copy.rules(), reversed);
    assert!(copy.check("1.1.1.5", "ipv4").unwrap());
    assert_eq!(
        copy.from_json("{}").unwrap_err().code(),
        ErrorCode::ERR_INVALID_ARG_TYPE
    );
    assert_eq!(
        copy.from_json("[").unwrap_err().code(),
        ErrorCode::ERR_INVALID_ARG_VALUE
    );
    assert_eq!(
        copy.from_json(r#"["Address: IPv4 01.2.3.4"]"#)
            .unwrap_err()
            .code(),
        ErrorCode::ERR_INVALID_ADDRESS
    );
    copy.from_rules(&["not a rule"]).unwrap();
    assert_eq!(copy.len(), 3);
}

#[test]
fn block_list_is_shareable() {
    fn assert_traits<T: Clone + std::fmt::Debug + Default + Send + Sync>() {}
    assert_traits::<BlockList>();
    let bl = std::sync::Arc::new(reference_list());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let bl = bl.clone();
            std::thread::spawn(move || bl.check(format!("10.0.0.{i}").as_str(), "ipv4").unwrap())
        })
        .collect();
    let answers: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(answers, [false, true, true, true]);
}
