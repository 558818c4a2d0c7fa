//! Load on loopback (`nodenet/testsuite/load.rs`) on tokio: connections held at once, every
//! byte echoed and checked with a per-connection checksum.

use nodenet_tokio::*;

include!("harness/tokio.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");
include!("../../nodenet/testsuite/gate.rs");
include!("../../nodenet/testsuite/load.rs");
