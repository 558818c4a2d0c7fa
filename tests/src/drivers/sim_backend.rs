//! The conformance driver on the simulation runtime (`nodenet_sim::runtime`): the same
//! generic driver as tokio, smol and std ([`NetDriver`]), whose sockets and servers are
//! `nodenet::Socket<SimRuntime>` / `nodenet::Server<SimRuntime>` — the real nodenet
//! driver over the simulated kernel — on one simulated host (`127.0.0.1` and `::1` are
//! its loopback), in virtual time. Each scenario runs in a fresh simulation
//! ([`TestRuntime::block_on`](crate::test_runtime::TestRuntime::block_on) of
//! `SimRuntime`) on this driver's seed and faults.
use nodenet_sim::runtime::SimRuntime;
use nodenet_sim::Faults;

use super::net::NetDriver;
use super::suite::Exclusion;
use crate::driver::{DriverError, ScenarioDriver};
use crate::scenario::{Scenario, Target};
use crate::test_runtime::{with_sim_settings, SimSettings};
use crate::trace::Traces;

/// Scenarios the simulation runtime cannot run, with the reason.
pub const SIM_EXCLUSIONS: &[Exclusion] = &[
    Exclusion {
        scenario: "connect_refused_message",
        reason: LOCALHOST,
    },
    Exclusion {
        scenario: "lookup_localhost",
        reason: LOCALHOST,
    },
];

/// Why a scenario that resolves `localhost` is not run on the simulation runtime.
const LOCALHOST: &str = "the simulated host's `localhost` names 127.0.0.1 and ::1 (as many \
                         /etc/hosts do); the recording machine's names 127.0.0.1 only, which \
                         the trace shows";

/// [`NetDriver<SimRuntime>`] on a seed and a fault mix. A failure of the simulation
/// (an invariant violation, a deadlock) is the scenario's [`DriverError`], with the
/// seed and the replay command.
#[derive(Debug)]
pub struct SimNetDriver {
    settings: SimSettings,
    inner: NetDriver<SimRuntime>,
}

/// The conformance driver on the simulation runtime: `seed`, and [`Faults::none`] (a
/// loopback network: the event order is the kernel's, not a fault's).
pub fn driver(seed: u64) -> SimNetDriver {
    driver_with_faults(seed, Faults::none())
}

/// The same with `faults` (e.g. [`Faults::calm`]: latency, chunked reads and short
/// writes, which no scenario's trace may depend on).
pub fn driver_with_faults(seed: u64, faults: Faults) -> SimNetDriver {
    SimNetDriver {
        settings: SimSettings { seed, faults },
        inner: NetDriver::new(),
    }
}

impl ScenarioDriver for SimNetDriver {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn target(&self) -> Target {
        self.inner.target()
    }

    fn run(&mut self, scenario: &Scenario) -> Result<Traces, DriverError> {
        let inner = &mut self.inner;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_sim_settings(self.settings.clone(), || inner.run(scenario))
        }));
        match run {
            Ok(outcome) => outcome,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".to_owned());
                Err(DriverError(format!("{}: {message}", scenario.name)))
            }
        }
    }
}
