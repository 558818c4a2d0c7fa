//! Arbitrary planner operation sequences against DESIGN.md's invariants
//! (`nodenet_fuzz_checks::planner_ops`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nodenet_fuzz_checks::check_planner_ops(data));
