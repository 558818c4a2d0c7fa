//! Accept under EMFILE (`nodenet_tests::suite::emfile`) on smol. Its own test binary: the
//! test lowers the process's descriptor limit (restored before it ends).
nodenet_tests::emfile_tests!(nodenet_smol::SmolRuntime);
