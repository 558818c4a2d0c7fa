//! Access control under a connection flood and Unix socket file modes
//! (`sys/testsuite/flood.rs`) on tokio.

use nodenet_tokio::*;

include!("harness/tokio.rs");
include!("../../sys/testsuite/macros.rs");
include!("../../sys/testsuite/reliability.rs");
include!("../../sys/testsuite/proc_stats.rs");
include!("../../sys/testsuite/flood.rs");
