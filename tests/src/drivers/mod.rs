//! The conformance driver for every runtime (tokio, smol, std, the simulation runtime): one generic driver
//! ([`net`]) over `nodenet::Socket<R>` / `nodenet::Server<R>` for any
//! [`TestRuntime`](crate::test_runtime::TestRuntime), whose only runtime-dependent part
//! is how to wait for the next event of several actors at once ([`wait`]).
//!
//! ```no_run
//! use nodenet_tests::{check, load_dir, scenarios_dir};
//! use nodenet_tests::drivers::NetDriver;
//! let mut driver = NetDriver::<nodenet_smol::SmolRuntime>::new();
//! for file in load_dir(&scenarios_dir()).unwrap() {
//!     println!("{}: {:?}", file.scenario.name, check(&mut driver, &file.scenario).is_ok());
//! }
//! ```
pub mod common;
pub mod net;
pub mod sim_backend;
pub mod suite;
pub mod wait;

pub use net::{NetActors, NetDriver};
pub use wait::Ev;
