//! Access control under a connection flood and Unix socket file modes
//! (`sys/testsuite/flood.rs`) on smol.

use nodenet_smol::*;

include!("harness/smol.rs");
include!("../../sys/testsuite/macros.rs");
include!("../../sys/testsuite/reliability.rs");
include!("../../sys/testsuite/proc_stats.rs");
include!("../../sys/testsuite/flood.rs");
