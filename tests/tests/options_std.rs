//! The options suite (`nodenet_tests::suite::options`: `signal`, `reusePort`, `onread`,
//! `server[Symbol.asyncDispose]`) on std.
nodenet_tests::options_tests!(nodenet_std::StdRuntime);
