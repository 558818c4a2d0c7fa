//! Load on loopback (`sys/testsuite/load.rs`) on tokio: connections held at once, every
//! byte echoed and checked with a per-connection checksum.

use nodenet_tokio::*;

include!("harness/tokio.rs");
include!("../../sys/testsuite/macros.rs");
include!("../../sys/testsuite/reliability.rs");
include!("../../sys/testsuite/proc_stats.rs");
include!("../../sys/testsuite/gate.rs");
include!("../../sys/testsuite/load.rs");
