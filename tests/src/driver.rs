//! The one trait a backend or the simulator implements to run the conformance suite, and
//! the check that runs a scenario on a driver and compares with the expectation.
use std::fmt;

use crate::compare::{compare, TraceMismatch};
use crate::scenario::{Scenario, Target};
use crate::trace::Traces;

/// Something that executes a whole scenario and returns the traces: Node (through
/// `tests/node/runner.js`), a nodenet backend (std, smol, tokio) or the simulator.
///
/// The trait is deliberately runtime-agnostic: `run` is a plain blocking call; the
/// driver of the real runtimes ([`crate::drivers::NetDriver`]) runs each scenario in its
/// runtime's [`TestRuntime::block_on`](crate::test_runtime::TestRuntime::block_on), the
/// simulator runs virtual time.
///
/// # Plugging a backend in
///
/// 1. Implement [`crate::Actors`] over the backend's `Server`/`Socket`: map each
///    [`crate::Op`] to the API call of the same name (`destroy_soon`, `reset_and_destroy`,
///    `set_timeout`, ...), build listen/connect options from [`crate::ServerSpec`] /
///    [`crate::ConnectSpec`] (port 0, `port_of`, IPC paths under a temporary directory,
///    the custom `lookup` answering the listed addresses), and read properties (including
///    the `sockopt.*` getsockopt read-backs).
/// 2. Implement `run` with the loop shown in [`crate::script`]: poll a
///    [`crate::ScriptRunner`], drive IO until its deadline, deliver every socket/server
///    event in emission order with [`crate::ScriptRunner::record`] (accepted sockets get
///    their names from [`crate::ScriptRunner::accept_name`]), repeat until
///    [`crate::Poll::Done`]; then destroy everything and return the traces.
/// 3. Return [`Target::Nodenet`] from `target` and add a test that calls [`check`] for
///    every file of [`crate::load_dir`]`(&`[`crate::scenarios_dir`]`())`, like
///    `tests/tests/node_differential.rs` does for Node.
pub trait ScenarioDriver {
    /// Short name for reports: `node`, `std`, `smol`, `tokio`, `sim`.
    fn name(&self) -> &str;

    /// The expectation this driver is held to.
    fn target(&self) -> Target;

    /// Execute the whole scenario (bounded in time) and return the traces.
    fn run(&mut self, scenario: &Scenario) -> Result<Traces, DriverError>;
}

/// A driver could not run a scenario at all (as opposed to producing a wrong trace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverError(pub String);

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DriverError {}

/// Why a scenario failed on a driver.
#[derive(Debug)]
pub enum Failure {
    /// The driver could not run it.
    Driver(DriverError),
    /// The traces differ from the expectation.
    Mismatch(TraceMismatch),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Driver(e) => write!(f, "driver error: {e}"),
            Failure::Mismatch(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Failure {}

/// Run `scenario` on `driver` and compare with what the driver produces today: Node's
/// recorded traces for Node; for a nodenet runtime, those with the documented deliberate
/// differences and the runtime's known divergence (a recorded bug) applied.
pub fn check(driver: &mut dyn ScenarioDriver, scenario: &Scenario) -> Result<(), Failure> {
    let actual = driver.run(scenario).map_err(Failure::Driver)?;
    let expected = match driver.target() {
        Target::Node => scenario.expected_for(Target::Node),
        Target::Nodenet => scenario.expected_on(driver.name()),
    };
    compare(&expected, &actual).map_err(Failure::Mismatch)
}
