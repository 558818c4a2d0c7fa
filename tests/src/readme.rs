//! Compiles (and runs) every Rust block of the README and of the docs as doctests, so the
//! examples a user copies cannot drift from the code. Only built by `cargo test` (rustdoc's
//! doctest pass); the published crates do not carry the files.

/// The README's Rust blocks.
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// `docs/toolkit.md`'s Rust blocks.
#[doc = include_str!("../../docs/toolkit.md")]
pub struct ToolkitDoctests;

/// `docs/core.md`'s Rust blocks.
#[doc = include_str!("../../docs/core.md")]
pub struct CoreDoctests;

/// `docs/coming-from-tokio.md`'s Rust blocks.
#[doc = include_str!("../../docs/coming-from-tokio.md")]
pub struct ComingFromTokioDoctests;

/// `docs/simulator.md`'s Rust blocks.
#[doc = include_str!("../../docs/simulator.md")]
pub struct SimulatorDoctests;

/// `core/README.md`'s Rust blocks.
#[doc = include_str!("../../core/README.md")]
pub struct CoreReadmeDoctests;
