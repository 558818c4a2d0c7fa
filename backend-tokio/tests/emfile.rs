//! Accept under EMFILE (`sys/testsuite/emfile.rs`) on tokio. Its own test binary: the test
//! lowers the process's descriptor limit (restored before it ends).

use nodenet_tokio::*;

include!("harness/tokio.rs");
include!("../../sys/testsuite/macros.rs");
include!("../../sys/testsuite/reliability.rs");
include!("../../sys/testsuite/proc_stats.rs");
include!("../../sys/testsuite/emfile.rs");
