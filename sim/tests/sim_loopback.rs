//! Regression tests for the simulator's loopback host, found by running the conformance
//! scenarios on it: a server listening on an IP-literal host, and the source address of
//! a loopback connection.

use std::net::{IpAddr, Ipv4Addr};

use nodenet_core::server::{ListenOptions, ServerEvent};
use nodenet_sim::World;
use nodenet_core::socket::ConnectOptions;
use nodenet_core::Endpoint;

#[test]
fn listen_on_an_ip_literal_host_resolves_to_itself() {
    // Node's listen({host}) looks the host up even when it is an IP; getaddrinfo answers
    // a literal itself, so the simulator must not report ENOTFOUND.
    let mut w = World::new(1);
    let srv = w
        .host("127.0.0.1")
        .listen(ListenOptions::port(0).host("127.0.0.1"))
        .unwrap();
    w.run_until_idle();
    assert_eq!(w.server_events(srv).first(), Some(&ServerEvent::Listening));
    let Some(Endpoint::Tcp(addr)) = w.server(srv).address() else {
        panic!("not listening: {:?}", w.server_events(srv));
    };
    assert_eq!(addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
}

#[test]
fn a_loopback_connect_uses_the_loopback_source_address() {
    // Linux reaches 127.0.0.1 from 127.0.0.1: the server sees a loopback peer, not the
    // client host's LAN address.
    let mut w = World::new(1);
    let srv = w
        .host("127.0.0.1")
        .listen(ListenOptions::port(8000))
        .unwrap();
    let c = w.connect(ConnectOptions::tcp(8000, "127.0.0.1")).unwrap();
    w.run_until_idle();
    let conn = *w.accepted(srv).first().expect("accepted");
    // The server listens on `::` (dual stack): an IPv4 peer shows as IPv4-mapped.
    assert_eq!(
        w.socket(conn).remote_address().map(|a| a.to_string()),
        Some("::ffff:127.0.0.1".to_string())
    );
    assert_eq!(
        w.socket(c).local_address(),
        Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
}
