//! Soak on loopback (`sys/testsuite/soak.rs`) on std: connect / transfer / close cycles,
//! then no descriptor and no memory growth.

use nodenet_std::*;

include!("harness/std.rs");
include!("../../sys/testsuite/macros.rs");
include!("../../sys/testsuite/reliability.rs");
include!("../../sys/testsuite/proc_stats.rs");
include!("../../sys/testsuite/soak.rs");
