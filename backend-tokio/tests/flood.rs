//! Access control under a connection flood and Unix socket file modes
//! (`nodenet/testsuite/flood.rs`) on tokio.

use nodenet_tokio::*;

include!("harness/tokio.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");
include!("../../nodenet/testsuite/flood.rs");
