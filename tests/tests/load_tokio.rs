//! Load on loopback (`nodenet_tests::suite::load`) on tokio: connections held at once,
//! every byte echoed and checked with a per-connection checksum. Its own test binary:
//! the tests count the process's descriptors and memory, and run this binary again as
//! the clients' process.
nodenet_tests::load_tests!(nodenet_tokio::TokioRuntime);
