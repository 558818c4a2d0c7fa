//! Load on loopback (`nodenet_tests::suite::load`) on blocking std: connections held at
//! once (one thread each), every byte echoed and checked with a per-connection checksum.
//! Its own test binary: the tests count the process's descriptors and memory, and run
//! this binary again as the clients' process.
//!
//! The 10 000-connection variant is not registered here: a std socket carries its own
//! reactor (measured: 4 descriptors per connection, the socket plus its reactor's), so
//! 10 000 connections need about 40 000 descriptors per process, twice the hard limit
//! an unprivileged process has on this machine (20 000).
nodenet_tests::register_tests!(nodenet_std::StdRuntime => load {
    load_1000_connections_64_mib_echoed_with_checksums,
    #[ignore = "the client half of the load tests, run by them in a child process"]
    load_client_process,
});
