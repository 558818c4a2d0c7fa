//! Arbitrary socket operation sequences against the invariants of `docs/design.md`
//! (`nodenet_fuzz_checks::socket_ops`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nodenet_fuzz_checks::check_socket_ops(data));
