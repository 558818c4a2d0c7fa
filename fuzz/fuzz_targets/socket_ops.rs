//! Arbitrary socket operation sequences against DESIGN.md's invariants
//! (`nodenet_fuzz_checks::socket_ops`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nodenet_fuzz_checks::check_socket_ops(data));
