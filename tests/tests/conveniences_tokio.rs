//! The conveniences suite (`nodenet_tests::suite::conveniences`: `connected()`, `listened()`,
//! addresses and descriptors, typed constructors, async `lookup`) on tokio.
nodenet_tests::conveniences_tests!(nodenet_tokio::TokioRuntime);
