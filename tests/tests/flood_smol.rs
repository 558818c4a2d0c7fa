//! Access control under a connection flood and Unix socket file modes
//! (`nodenet_tests::suite::flood`) on smol. Its own test binary: the tests count the
//! process's descriptors.
nodenet_tests::flood_tests!(nodenet_smol::SmolRuntime);
