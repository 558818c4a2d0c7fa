//! Load on loopback (`nodenet/testsuite/load.rs`) on smol: connections held at once, every
//! byte echoed and checked with a per-connection checksum.

use nodenet_smol::*;

include!("harness/smol.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");
include!("../../nodenet/testsuite/gate.rs");
include!("../../nodenet/testsuite/load.rs");
