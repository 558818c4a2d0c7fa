//! Replays every fuzz target's checked-in corpus (`fuzz/corpus/<target>/*`) through the same
//! check the target runs (`nodenet_fuzz_checks`), so stable `cargo test` covers what
//! the fuzzers found without nightly or cargo-fuzz.

use std::fs;
use std::path::PathBuf;

use nodenet_fuzz_checks::{check_block_list_ops, check_is_ip, check_socket_address};

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("corpus entry").path();
        let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(&data);
        count += 1;
    }
    assert!(count > 0, "empty corpus for {target}");
}

#[test]
fn is_ip_corpus() {
    replay("is_ip", check_is_ip);
}

#[test]
fn socket_address_corpus() {
    replay("socket_address", check_socket_address);
}

#[test]
fn block_list_ops_corpus() {
    replay("block_list_ops", check_block_list_ops);
}
