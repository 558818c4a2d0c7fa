//! Hostile traffic (`nodenet_tests::suite::hostile`) on smol: accept-queue resets, RST
//! storms, slowloris, EMFILE under a low limit, churn, slow readers. Its own test binary:
//! the tests count the process's descriptors and memory, and one lowers its descriptor
//! limit.
nodenet_tests::hostile_tests!(nodenet_smol::SmolRuntime);
