//! The toolkit example of the README (section "Address toolkit"), so it cannot drift from the code.

#[test]
fn readme_example() {
    use nodenet_core::{is_ip, BlockList, SocketAddress, SocketAddressOptions};

    assert_eq!(is_ip("127.0.0.1"), 4);
    assert_eq!(is_ip("fe80::1%eth0"), 6);
    assert_eq!(is_ip("01.2.3.4"), 0); // no leading zeros

    let mut list = BlockList::new();
    list.add_address("123.123.123.123", "ipv4").unwrap();
    list.add_range("10.0.0.1", "10.0.0.10", "ipv4").unwrap();
    list.add_subnet("8592:757c:efae:4e45::", 64, "ipv6")
        .unwrap();
    assert!(list.check("10.0.0.3", "ipv4").unwrap());
    assert!(list.check("::ffff:7b7b:7b7b", "ipv6").unwrap()); // IPv6 notation for IPv4 works
    assert!(!list.check("222.111.111.222", "ipv4").unwrap());
    assert_eq!(
        list.rules(),
        [
            "Subnet: IPv6 8592:757c:efae:4e45::/64",
            "Range: IPv4 10.0.0.1-10.0.0.10",
            "Address: IPv4 123.123.123.123",
        ]
    );

    let sa = SocketAddress::new(
        SocketAddressOptions::new()
            .family("ipv6")
            .address("2001:0DB8::0001")
            .port(443),
    )
    .unwrap();
    assert_eq!(
        sa.to_json(),
        r#"{"address":"2001:db8::1","port":443,"family":"ipv6","flowlabel":0}"#
    );
    assert_eq!(SocketAddress::parse("[::1]:443").unwrap().port(), 443);
}
