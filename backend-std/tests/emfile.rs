//! Accept under EMFILE (`nodenet/testsuite/emfile.rs`) on std. Its own test binary: the test
//! lowers the process's descriptor limit (restored before it ends).

use nodenet_std::*;

include!("harness/std.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");
include!("../../nodenet/testsuite/emfile.rs");
