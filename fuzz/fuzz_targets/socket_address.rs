//! `SocketAddress::parse` / `SocketAddress::new` on arbitrary text: no panic, canonical
//! output that round-trips.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nodenet_fuzz_checks::check_socket_address(data));
