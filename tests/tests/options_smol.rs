//! The options suite (`nodenet_tests::suite::options`: `signal`, `reusePort`, `onread`,
//! `server[Symbol.asyncDispose]`) on smol.
nodenet_tests::options_tests!(nodenet_smol::SmolRuntime);
