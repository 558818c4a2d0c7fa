//! BlockList operation sequences against the naive linear reference (§7.2).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nodenet_fuzz_checks::check_block_list_ops(data));
