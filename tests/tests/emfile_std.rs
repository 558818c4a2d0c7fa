//! Accept under EMFILE (`nodenet_tests::suite::emfile`) on std. Its own test binary: the
//! test lowers the process's descriptor limit (restored before it ends).
nodenet_tests::emfile_tests!(nodenet_std::StdRuntime);
