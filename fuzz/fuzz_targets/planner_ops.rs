//! Arbitrary planner operation sequences against the invariants of `docs/design.md`
//! (`nodenet_fuzz_checks::planner_ops`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nodenet_fuzz_checks::check_planner_ops(data));
