//! The shared options suite (`nodenet/testsuite/options.rs`: `signal`, `reusePort`,
//! `onread`, `server[Symbol.asyncDispose]`) on smol.

use nodenet_smol::*;

include!("harness/smol.rs");
include!("../../nodenet/testsuite/macros.rs");

/// `next_event_into` (Node's `onread`).
macro_rules! next_into {
    ($s:expr, $buf:expr) => {
        $s.next_event_into($buf).await
    };
}
/// `close_and_wait` (Node's `server[Symbol.asyncDispose]()`).
macro_rules! close_and_wait {
    ($s:expr) => {
        $s.close_and_wait().await
    };
}

include!("../../nodenet/testsuite/options.rs");
