//! Soak on loopback (`nodenet_tests::suite::soak`) on std: connect / transfer / close
//! cycles, then no descriptor and no memory growth. Its own test binary: the tests count
//! the process's descriptors and memory.
nodenet_tests::soak_tests!(nodenet_std::StdRuntime);
