//! Access control under a connection flood and Unix socket file modes
//! (`nodenet/testsuite/flood.rs`) on std.

use nodenet_std::*;

include!("harness/std.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");
include!("../../nodenet/testsuite/flood.rs");
