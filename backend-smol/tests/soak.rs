//! Soak on loopback (`nodenet/testsuite/soak.rs`) on smol: connect / transfer / close cycles,
//! then no descriptor and no memory growth.

use nodenet_smol::*;

include!("harness/smol.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");
include!("../../nodenet/testsuite/soak.rs");
