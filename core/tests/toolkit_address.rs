//! `SocketAddress` (§8): every test vector of `docs/node-semantics.md` §8, confirmed with node v20.20.2.

use std::net::SocketAddr;

use nodenet_core::{ErrorCode, Family, SocketAddress, SocketAddressOptions as Opts};

fn json(o: Opts) -> String {
    match SocketAddress::new(o) {
        Ok(sa) => sa.to_json(),
        Err(e) => format!("{} {}", e.code(), e.message()),
    }
}

fn code(o: Opts) -> ErrorCode {
    SocketAddress::new(o).unwrap_err().code()
}

#[test]
fn defaults_and_family_spelling() {
    assert_eq!(
        json(Opts::new()),
        r#"{"address":"127.0.0.1","port":0,"family":"ipv4","flowlabel":0}"#
    );
    let v6 = r#"{"address":"::","port":0,"family":"ipv6","flowlabel":0}"#;
    assert_eq!(json(Opts::new().family("ipv6")), v6);
    assert_eq!(json(Opts::new().family("IPv6")), v6);
    assert_eq!(
        json(Opts::new().family("IPV4").address("1.2.3.4").port(80)),
        r#"{"address":"1.2.3.4","port":80,"family":"ipv4","flowlabel":0}"#
    );
    // The default address is chosen before lower-casing: 'ipV4' defaults to '::'.
    assert_eq!(
        code(Opts::new().family("ipV4")),
        ErrorCode::ERR_INVALID_ADDRESS
    );
    assert_eq!(
        json(Opts::new().family("inet")),
        "ERR_INVALID_ARG_VALUE The property 'options.family' is invalid. Received 'inet'"
    );
    assert_eq!(SocketAddress::default().to_json(), json(Opts::new()));
}

#[test]
fn address_validation() {
    assert_eq!(
        code(Opts::new().address("::1")),
        ErrorCode::ERR_INVALID_ADDRESS
    );
    assert_eq!(
        code(Opts::new().address("1.2.3.4").family("ipv6")),
        ErrorCode::ERR_INVALID_ADDRESS
    );
    for bad in ["", "localhost", "01.2.3.4", "1.2.3", "1.2.3.4 "] {
        assert_eq!(
            json(Opts::new().address(bad)),
            "ERR_INVALID_ADDRESS Invalid socket address",
            "{bad:?}"
        );
    }
    assert_eq!(
        code(Opts::new().address("[::1]").family("ipv6")),
        ErrorCode::ERR_INVALID_ADDRESS
    );
}

#[test]
fn port_validation() {
    assert_eq!(
        SocketAddress::new(Opts::new().port(65535)).unwrap().port(),
        65535
    );
    for (port, shown) in [(65536.0, "65536"), (-1.0, "-1"), (1.5, "1.5")] {
        assert_eq!(
            json(Opts::new().port(port)),
            format!("ERR_SOCKET_BAD_PORT options.port should be >= 0 and < 65536. Received type number ({shown}).")
        );
    }
    // v20 aborts on a string port; v22.13+ coerces it. We validate it as Node's
    // validatePort does and use the number.
    assert_eq!(
        SocketAddress::new(Opts::new().port("80")).unwrap().port(),
        80
    );
    assert_eq!(code(Opts::new().port("8o")), ErrorCode::ERR_SOCKET_BAD_PORT);
}

#[test]
fn flowlabel_rules() {
    let label = |o: Opts| SocketAddress::new(o).map(|sa| sa.flowlabel());
    assert_eq!(label(Opts::new().family("ipv6").flowlabel(1)), Ok(1));
    assert_eq!(label(Opts::new().flowlabel(1)), Ok(0));
    assert_eq!(
        label(Opts::new().family("ipv6").flowlabel(1048575)),
        Ok(1048575)
    );
    assert_eq!(label(Opts::new().flowlabel(4294967295u32)), Ok(0));
    assert_eq!(
        json(Opts::new().flowlabel(-1)),
        "ERR_OUT_OF_RANGE The value of \"options.flowlabel\" is out of range. It must be >= 0 && <= 4294967295. Received -1"
    );
    assert_eq!(
        json(Opts::new().flowlabel(4294967296u64)),
        "ERR_OUT_OF_RANGE The value of \"options.flowlabel\" is out of range. It must be >= 0 && <= 4294967295. Received 4294967296"
    );
    assert_eq!(
        json(Opts::new().flowlabel(1.5)),
        "ERR_OUT_OF_RANGE The value of \"options.flowlabel\" is out of range. It must be an integer. Received 1.5"
    );
    // Node v20 aborts the process here (C++ CHECK); we throw instead.
    assert_eq!(
        json(Opts::new().family("ipv6").flowlabel(1048576)),
        "ERR_OUT_OF_RANGE The value of \"options.flowlabel\" is out of range. It must be >= 0 && <= 1048575. Received 1048576"
    );
}

#[test]
fn validation_order_is_family_port_flowlabel_address() {
    // Confirmed with node: a bad port wins over a bad address, and so does a bad flowlabel.
    assert_eq!(
        code(Opts::new().address("bad").port(-1)),
        ErrorCode::ERR_SOCKET_BAD_PORT
    );
    assert_eq!(
        code(Opts::new().address("bad").flowlabel(-1)),
        ErrorCode::ERR_OUT_OF_RANGE
    );
    assert_eq!(
        code(Opts::new().address("bad").family("x").port(-1)),
        ErrorCode::ERR_INVALID_ARG_VALUE
    );
}

#[test]
fn canonical_text() {
    let addr = |a: &str| {
        SocketAddress::new(Opts::new().family("ipv6").address(a))
            .unwrap()
            .address()
    };
    assert_eq!(
        addr("2001:0DB8:0000:0000:0000:0000:0000:0001"),
        "2001:db8::1"
    );
    assert_eq!(addr("::ffff:c000:0280"), "::ffff:192.0.2.128");
    assert_eq!(addr("fe80::1%lo"), "fe80::1");
    assert_eq!(addr("fe80::1%1"), "fe80::1");
}

#[test]
fn json_and_inspect_shapes() {
    let sa = SocketAddress::new(Opts::new().family("ipv6").address("::1").port(443)).unwrap();
    assert_eq!(
        sa.to_json(),
        r#"{"address":"::1","port":443,"family":"ipv6","flowlabel":0}"#
    );
    let sa = SocketAddress::new(Opts::new().address("1.2.3.4").port(8)).unwrap();
    assert_eq!(
        sa.to_string(),
        "SocketAddress { address: '1.2.3.4', port: 8, family: 'ipv4', flowlabel: 0 }"
    );
    assert_eq!(sa.family(), Family::IPv4);
}

#[test]
fn std_conversions() {
    let std: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
    let sa = SocketAddress::from(std);
    assert_eq!((sa.address().as_str(), sa.port()), ("2001:db8::1", 443));
    assert_eq!(SocketAddr::from(sa), std);
    let v6 = SocketAddr::V6(std::net::SocketAddrV6::new(
        "::1".parse().unwrap(),
        1,
        0xABCDEF,
        3,
    ));
    // 20-bit flow label kept, scope id dropped as Node drops zones.
    assert_eq!(SocketAddress::from(v6).flowlabel(), 0xBCDEF);
    let back = SocketAddr::from(SocketAddress::from(v6));
    assert_eq!(
        back,
        SocketAddr::V6(std::net::SocketAddrV6::new(
            "::1".parse().unwrap(),
            1,
            0xBCDEF,
            0
        ))
    );
}

#[test]
fn parse_follows_node_22_13() {
    let p = |s: &str| SocketAddress::parse(s).map(|sa| (sa.address(), sa.port(), sa.family()));
    assert_eq!(
        p("123.123.123.123:1234"),
        Some(("123.123.123.123".into(), 1234, Family::IPv4))
    );
    assert_eq!(p("[1::1]:1234"), Some(("1::1".into(), 1234, Family::IPv6)));
    assert_eq!(p("[::1]:443"), Some(("::1".into(), 443, Family::IPv6)));
    assert_eq!(p("1.2.3.4"), Some(("1.2.3.4".into(), 0, Family::IPv4)));
    assert_eq!(p("1.1:80"), Some(("1.0.0.1".into(), 0, Family::IPv4)));
    assert_eq!(p("example.com:80"), None);
    assert_eq!(p("1.2.3.4:99999"), None);
    assert_eq!(p("[::1"), None);
}
