//! The hostile-traffic suite (`nodenet/testsuite/hostile.rs`) on smol: accept-queue resets,
//! RST storms, slowloris, EMFILE under a low limit, churn, slow readers. Its own test
//! binary: the tests count the process's descriptors and memory.

use nodenet_smol::*;

include!("harness/smol.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");
include!("../../nodenet/testsuite/hostile.rs");
