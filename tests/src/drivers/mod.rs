//! Conformance drivers for the three real backends (`nodenet-tokio`, `nodenet-smol`,
//! `nodenet-std`): one generic driver ([`net`]) over the [`Backend`] seam ([`backend`]),
//! and one small module per backend saying how to wait for the next event of several
//! actors at once.
//!
//! ```no_run
//! use nodenet_tests::{check, load_dir, scenarios_dir};
//! let mut driver = nodenet_tests::drivers::smol_backend::driver();
//! for file in load_dir(&scenarios_dir()).unwrap() {
//!     println!("{}: {:?}", file.scenario.name, check(&mut driver, &file.scenario).is_ok());
//! }
//! ```
pub mod backend;
pub mod common;
pub mod net;
pub mod sim_backend;
pub mod smol_backend;
pub mod std_backend;
pub mod suite;
pub mod tokio_backend;

pub use backend::{Backend, Ev};
pub use net::{NetActors, NetDriver};
