//! Toolkit benchmarks (BlockList `check`, `is_ip`) side by side with Node v20.
fn main() {}
