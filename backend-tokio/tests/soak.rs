//! Soak on loopback (`nodenet/testsuite/soak.rs`) on tokio: connect / transfer / close cycles,
//! then no descriptor and no memory growth.

use nodenet_tokio::*;

include!("harness/tokio.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");
include!("../../nodenet/testsuite/soak.rs");
