//! The shared options suite (`nodenet/testsuite/options.rs`: `signal`, `reusePort`,
//! `onread`, `server[Symbol.asyncDispose]`) on std.

use nodenet_std::*;

include!("harness/std.rs");
include!("../../nodenet/testsuite/macros.rs");

/// `next_event_into` (Node's `onread`).
macro_rules! next_into {
    ($s:expr, $buf:expr) => {
        $s.next_event_into($buf)
    };
}
/// `close_and_wait` (Node's `server[Symbol.asyncDispose]()`).
macro_rules! close_and_wait {
    ($s:expr) => {
        $s.close_and_wait()
    };
}

include!("../../nodenet/testsuite/options.rs");
