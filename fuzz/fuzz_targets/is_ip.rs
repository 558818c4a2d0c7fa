//! `is_ip`/`is_ipv4`/`is_ipv6` against Node's regexes (§9.1).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nodenet_fuzz_checks::check_is_ip(data));
