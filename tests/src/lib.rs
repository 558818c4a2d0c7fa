//! Shared helpers for the nodenet conformance suite (scenarios run on every backend and on
//! the simulator). The suite itself lives in `tests/tests/`.
