//! The conformance driver on the simulation runtime (`nodenet_sim::runtime`): the same
//! generic driver as tokio, smol and std ([`NetDriver`]), whose sockets and servers are
//! `nodenet::Socket<SimRuntime>` / `nodenet::Server<SimRuntime>` — the real nodenet
//! driver over the simulated kernel — on one simulated host (`127.0.0.1` and `::1` are
//! its loopback), in virtual time. Each scenario runs in a fresh simulation; waiting for
//! the next event runs the simulation until an actor has one or the script's deadline
//! (virtual) passed.
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet_core::{ServerEvent, SocketEvent};
use nodenet_sim::runtime::{self as sim_rt, Sim, SimConfig, SimGuard};
use nodenet_sim::Faults;

use super::backend::{Backend, Ev, PollActor};
use super::net::{ActorTable, NetDriver};
use super::suite::Exclusion;

/// Scenarios the simulation runtime cannot run, with the reason.
pub const SIM_EXCLUSIONS: &[Exclusion] = &[
    Exclusion {
        scenario: "ipc_listen_connect_unlink",
        reason: "the simulated kernel models TCP only: no Unix domain sockets, no socket files",
    },
    Exclusion {
        scenario: "server_listen_path_twice",
        reason: "the simulated kernel models TCP only: no Unix domain sockets, no socket files",
    },
];

/// The host every actor of a scenario lives on.
const HOST: &str = "localhost";

/// The simulation backend: a seed and a fault mix; a fresh simulation per scenario.
pub struct SimBackend {
    seed: u64,
    faults: Faults,
    // The guard goes before the simulation.
    guard: Option<SimGuard>,
    sim: Option<Sim>,
}

impl std::fmt::Debug for SimBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimBackend")
            .field("seed", &self.seed)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl SimBackend {
    /// Simulations on `seed` with `faults`.
    pub fn new(seed: u64, faults: Faults) -> SimBackend {
        SimBackend {
            seed,
            faults,
            guard: None,
            sim: None,
        }
    }
}

/// The conformance driver on the simulation runtime: `seed`, and [`Faults::none`] (a
/// loopback network: the event order is the kernel's, not a fault's).
pub fn driver(seed: u64) -> NetDriver<SimBackend> {
    NetDriver::new(SimBackend::new(seed, Faults::none()))
}

/// The same with `faults` (e.g. [`Faults::calm`]: latency, chunked reads and short
/// writes, which no scenario's trace may depend on).
pub fn driver_with_faults(seed: u64, faults: Faults) -> NetDriver<SimBackend> {
    NetDriver::new(SimBackend::new(seed, faults))
}

impl Backend for SimBackend {
    crate::forward_backend_api!(sim_rt);

    fn name(&self) -> &'static str {
        "sim"
    }

    fn now(&self) -> Instant {
        sim_rt::now()
    }

    fn begin_run(&mut self) {
        self.end_run();
        let mut config = SimConfig::new(self.seed).faults(self.faults.clone());
        // Scenario scripts bound themselves; the simulation's own guard only needs to
        // outlast them.
        config.time_limit = std::time::Duration::from_secs(600);
        let mut sim = Sim::with_config(config);
        sim.machine(HOST, Some(&["10.0.0.1", "fd00::1"]));
        self.guard = Some(sim.enter(HOST));
        self.sim = Some(sim);
    }

    fn end_run(&mut self) {
        self.guard = None;
        self.sim = None;
    }

    fn next_event(
        &mut self,
        table: &mut ActorTable<Self>,
        deadline: Instant,
    ) -> Option<(String, Ev<sim_rt::Socket>)> {
        let sim = self.sim.as_mut()?;
        match sim.poll_until(HOST, Some(deadline), |cx| Self::poll_any(table, cx)) {
            Ok(ev) => ev,
            Err(e) => {
                eprintln!("[sim] {e}");
                None
            }
        }
    }

    fn poll_now(
        &mut self,
        table: &mut ActorTable<Self>,
        actor: &str,
    ) -> Option<Ev<sim_rt::Socket>> {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        match table.poll_one(actor, |a| Self::poll_actor(a, &mut cx)) {
            Poll::Ready(ev) => ev,
            Poll::Pending => None,
        }
    }
}

impl PollActor<SimBackend> for SimBackend {
    fn poll_socket(s: &mut sim_rt::Socket, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        pin!(s.next_event()).poll(cx)
    }
    fn poll_server(
        s: &mut sim_rt::Server,
        cx: &mut Context<'_>,
    ) -> Poll<Option<ServerEvent<sim_rt::Socket>>> {
        pin!(s.next_event()).poll(cx)
    }
}
