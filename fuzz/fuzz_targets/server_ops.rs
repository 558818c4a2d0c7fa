//! Arbitrary server operation sequences against the invariants of `docs/design.md`
//! (`nodenet_fuzz_checks::server_ops`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nodenet_fuzz_checks::check_server_ops(data));
