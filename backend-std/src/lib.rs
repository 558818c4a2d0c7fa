//! `nodenet-std`: Node's `net` API over the pure `nodenet-core` state machines, run on
//! std. Only the core's types are available so far; the IO driver is tracked in issue 6.

pub use nodenet_core::*;
