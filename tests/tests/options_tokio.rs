//! The options suite (`nodenet_tests::suite::options`: `signal`, `reusePort`, `onread`,
//! `server[Symbol.asyncDispose]`) on tokio.
nodenet_tests::options_tests!(nodenet_tokio::TokioRuntime);
