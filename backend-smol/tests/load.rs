//! Load on loopback (`sys/testsuite/load.rs`) on smol: connections held at once, every
//! byte echoed and checked with a per-connection checksum.

use nodenet_smol::*;

include!("harness/smol.rs");
include!("../../sys/testsuite/macros.rs");
include!("../../sys/testsuite/reliability.rs");
include!("../../sys/testsuite/proc_stats.rs");
include!("../../sys/testsuite/gate.rs");
include!("../../sys/testsuite/load.rs");
