//! [`Sim`]: the user's handle on a simulation — hosts with their programs, clients,
//! DNS, the network's faults and controls (partitions, holds, latency, crashes), the
//! run loop, and the verdict: the first client error, panic, deadlock or invariant
//! violation, reported with the seed and the command that replays it.

use std::future::Future;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::exec::{Control, Enter, LocalFuture, Polled, TaskBody, Tasks};
use super::kernel::{HostIx, Shared, State};
use super::latency::Latency;
use super::replay::replay_command;
use crate::check::Checked;
use crate::faults::{Faults, Injected};
use crate::trace::{Trace, TraceMode};

/// What a host's or client's program returns; an `Err` fails the simulation.
pub type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// How a [`Sim`] is built.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The one seed every random choice derives from.
    pub seed: u64,
    /// The kernel faults and the default latency ([`Faults::calm`] by default).
    pub faults: Faults,
    /// How much trace to keep (the hash is kept unless [`TraceMode::Off`]).
    pub trace: TraceMode,
    /// Check Node's invariants on every socket event.
    pub check: bool,
    /// Virtual time after which the run fails (a livelock guard).
    pub time_limit: Duration,
    /// Kernel steps after which the run fails (a livelock guard).
    pub step_limit: u64,
    /// The programs keep polling their servers (as the sweep's scenarios do), so a
    /// server that stops accepting is a bug: with the checker on, a connection must not
    /// wait in an open listener's accept queue longer than the longest accept pause
    /// (250 ms) without an `accept`. Off by default: a program may stop polling a
    /// server it keeps listening.
    pub servers_polled: bool,
}

impl SimConfig {
    /// Seed `seed`, [`Faults::calm`], no trace (the full trace when `NODENET_SIM_SEED`
    /// names this seed: a replay; [`TraceMode::HashOnly`] for a fingerprint of the run),
    /// invariants checked, one hour of virtual time, ten million steps.
    pub fn new(seed: u64) -> SimConfig {
        let replaying = super::replay::seed_from_env() == Some(seed);
        SimConfig {
            seed,
            faults: Faults::calm(),
            trace: if replaying {
                TraceMode::Full
            } else {
                TraceMode::Off
            },
            check: true,
            time_limit: Duration::from_secs(3600),
            step_limit: 10_000_000,
            servers_polled: false,
        }
    }

    /// The same with these faults.
    pub fn faults(mut self, faults: Faults) -> SimConfig {
        self.faults = faults;
        self
    }

    /// The same with this trace mode (a replay keeps its full trace).
    pub fn trace(mut self, trace: TraceMode) -> SimConfig {
        if self.trace != TraceMode::Full {
            self.trace = trace;
        }
        self
    }
}

type Software = Rc<dyn Fn() -> LocalFuture<Result>>;

/// (Its name is the kernel's host's: `State::hosts` has the same index.)
struct HostEntry {
    /// Restarted after a crash (hosts; clients run once).
    software: Option<Software>,
    client: bool,
    /// The client's program finished (its result was taken).
    done: bool,
}

/// Why a run failed.
#[derive(Debug)]
pub enum Failure {
    /// A client's (or host's) program returned an error.
    Error {
        /// The host.
        host: String,
        /// The error's text.
        message: String,
    },
    /// A task panicked.
    Panic {
        /// The host.
        host: String,
        /// The panic message.
        message: String,
    },
    /// Nothing can happen any more (no task ready, no timer, nothing in flight) but
    /// these clients have not finished.
    Stuck {
        /// The clients still running.
        clients: Vec<String>,
    },
    /// The virtual time limit passed.
    TimeLimit(Duration),
    /// The step limit was reached.
    StepLimit(u64),
    /// Node's invariants were violated.
    Violations(Vec<String>),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Error { host, message } => write!(f, "{host} failed: {message}"),
            Failure::Panic { host, message } => write!(f, "{host} panicked: {message}"),
            Failure::Stuck { clients } => {
                write!(
                    f,
                    "stuck: nothing can happen, {} not finished",
                    clients.join(", ")
                )
            }
            Failure::TimeLimit(t) => write!(f, "virtual time limit {t:?} passed"),
            Failure::StepLimit(n) => write!(f, "step limit {n} reached"),
            Failure::Violations(v) => write!(f, "invariants violated: {}", v.join("; ")),
        }
    }
}

/// A failed run: what failed, on which seed, and how to replay it.
#[derive(Debug)]
pub struct SimError {
    /// The seed.
    pub seed: u64,
    /// Virtual time of the failure.
    pub at: Duration,
    /// What failed.
    pub failure: Box<Failure>,
    /// The command that replays this seed with its full trace.
    pub replay: String,
    /// The last trace lines (with [`TraceMode::Full`]).
    pub trace_tail: Vec<String>,
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} at t={:?}: {}\n  replay: {}",
            self.seed, self.at, self.failure, self.replay
        )?;
        for line in &self.trace_tail {
            write!(f, "\n  | {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SimError {}

/// What a finished run measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// Virtual time at the end.
    pub elapsed: Duration,
    /// Kernel events and timer firings processed.
    pub steps: u64,
    /// Simulated socket operations (connects, sends, receives, accepts, closes, ...).
    pub socket_ops: u64,
    /// Task polls.
    pub polls: u64,
}

/// A deterministic simulation of hosts running real nodenet programs.
///
/// Each host has addresses (by default `10.0.0.N` and `fd00::N`, its name in the DNS
/// table) and a program: an `async` function using [`Socket`](crate::runtime::Socket),
/// [`Server`](crate::runtime::Server) (nodenet's own types on [`SimRuntime`](crate::runtime::SimRuntime)),
/// or any code generic over `R: nodenet::AsyncRuntime`. [`run`](Sim::run) polls the
/// programs on one thread in virtual time until every client finished; every random
/// choice (latencies, chunking, short writes, faults) comes from the seed, so a seed
/// replays exactly, and Node's invariants are checked on every socket event.
///
/// ```
/// use nodenet_sim::runtime::{connect, create_server, Sim, ServerEvent};
/// use nodenet_core::{ConnectOptions, ListenOptions, ServerOptions, SocketEvent};
///
/// let mut sim = Sim::new(7);
/// sim.host("server", || async {
///     let mut server = create_server(ServerOptions::default());
///     server.listen(ListenOptions::port(80))?;
///     while let Some(ev) = server.next_event().await {
///         if let ServerEvent::Connection(mut conn) = ev {
///             nodenet_sim::runtime::spawn(async move {
///                 while let Some(ev) = conn.next_event().await {
///                     match ev {
///                         SocketEvent::Data(d) => { conn.write(d); }
///                         SocketEvent::End => { let _ = conn.end(); }
///                         _ => {}
///                     }
///                 }
///             });
///         }
///     }
///     Ok(())
/// });
/// sim.client("client", async {
///     let mut socket = connect(ConnectOptions::tcp(80, "server"))?;
///     socket.end_with("ping");
///     let mut echoed = Vec::new();
///     while let Some(ev) = socket.next_event().await {
///         if let SocketEvent::Data(d) = ev { echoed.extend_from_slice(&d); }
///     }
///     assert_eq!(echoed, b"ping");
///     Ok(())
/// });
/// sim.run().unwrap();
/// ```
pub struct Sim {
    pub(crate) shared: Arc<Shared>,
    tasks: Tasks,
    hosts: Vec<HostEntry>,
    config: SimConfig,
    polls: u64,
    /// Clients whose program has not finished (`clients_done` is asked before every
    /// poll).
    clients_running: usize,
}

impl Sim {
    /// A simulation on `seed` with [`SimConfig::new`].
    pub fn new(seed: u64) -> Sim {
        Sim::with_config(SimConfig::new(seed))
    }

    /// A simulation on `seed` with these faults.
    pub fn with_faults(seed: u64, faults: Faults) -> Sim {
        Sim::with_config(SimConfig::new(seed).faults(faults))
    }

    /// A simulation from a full configuration.
    pub fn with_config(config: SimConfig) -> Sim {
        let mut state = State::new(
            config.seed,
            config.faults.clone(),
            Trace::new(config.trace),
            config.check,
        );
        if let Some(ch) = state.checker.as_mut() {
            ch.servers_polled = config.servers_polled;
        }
        Sim {
            shared: Arc::new(Shared {
                // The only clock read of the simulation: virtual time is an offset from here.
                base: Instant::now(),
                now_nanos: AtomicU64::new(0),
                next_probe: AtomicU32::new(0),
                observed: config.check || config.trace != TraceMode::Off,
                state: atomic_refcell::AtomicRefCell::new(state),
            }),
            tasks: Tasks::new(),
            hosts: Vec::new(),
            config,
            polls: 0,
            clients_running: 0,
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    fn default_addrs(&self) -> [IpAddr; 2] {
        let n = self.hosts.len() + 1;
        let (hi, lo) = ((n / 250) as u8, (n % 250) as u8);
        let v4 = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, hi, lo));
        let v6 = IpAddr::V6(std::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n as u16));
        [v4, v6]
    }

    fn add(
        &mut self,
        name: &str,
        addrs: Option<&[&str]>,
        software: Option<Software>,
        client: bool,
    ) -> HostIx {
        let h = match addrs {
            Some(list) => {
                let parsed: Vec<IpAddr> = list.iter().filter_map(|a| a.parse().ok()).collect();
                self.shared.lock().add_host(name, &parsed)
            }
            None => {
                let defaults = self.default_addrs();
                self.shared.lock().add_host(name, &defaults)
            }
        };
        self.hosts.push(HostEntry {
            software,
            client,
            done: false,
        });
        if client {
            self.clients_running += 1;
        }
        h
    }

    /// A host running `software` (started now, and again after each [`restart`](Sim::restart)),
    /// with addresses `10.0.0.N` and `fd00::N` and its name in the DNS table.
    pub fn host<F, Fut>(&mut self, name: &str, software: F)
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result> + 'static,
    {
        self.host_with(name, None, software);
    }

    /// [`host`](Sim::host) with these addresses (IPv4 and IPv6; unparsable ones are
    /// skipped), or the default ones for `None`.
    pub fn host_with<F, Fut>(&mut self, name: &str, addrs: Option<&[&str]>, software: F)
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result> + 'static,
    {
        let software: Software = Rc::new(move || Box::pin(software()));
        let h = self.add(name, addrs, Some(Rc::clone(&software)), false);
        self.tasks.spawn(h, TaskBody::Main(software()));
    }

    /// A client: `program` runs once; [`run`](Sim::run) returns when every client has
    /// finished.
    pub fn client<Fut>(&mut self, name: &str, program: Fut)
    where
        Fut: Future<Output = Result> + 'static,
    {
        self.client_with(name, None, program);
    }

    /// [`client`](Sim::client) with these addresses.
    pub fn client_with<Fut>(&mut self, name: &str, addrs: Option<&[&str]>, program: Fut)
    where
        Fut: Future<Output = Result> + 'static,
    {
        let h = self.add(name, addrs, None, true);
        self.tasks.spawn(h, TaskBody::Main(Box::pin(program)));
    }

    /// Add `name` to the DNS table with these A/AAAA records, in this order (the order
    /// `dns.lookup` answers). Unparsable entries are skipped.
    pub fn dns(&mut self, name: &str, addrs: &[&str]) {
        let list = addrs.iter().filter_map(|a| a.parse().ok()).collect();
        self.shared.lock().dns.insert(name.to_string(), list);
    }

    fn host_name(&self, h: HostIx) -> String {
        self.shared.lock().hosts[h].name.clone()
    }

    fn ix(&self, name: &str) -> HostIx {
        let st = self.shared.lock();
        match st.hosts.iter().position(|h| h.name == name) {
            Some(i) => i,
            None => panic!("no simulated host is named {name:?}"),
        }
    }

    /// Cut the link between hosts `a` and `b`: segments are lost, so established
    /// connections stall (and their unacknowledged data gives up with `ETIMEDOUT` after
    /// about 15 minutes), connects time out after 127 s. Panics on an unknown name.
    pub fn partition(&mut self, a: &str, b: &str) {
        let (a, b) = (self.ix(a), self.ix(b));
        self.shared.lock().set_link(a, b, |l| l.partitioned = true);
    }

    /// Heal a [`partition`](Sim::partition): what waited is delivered.
    pub fn repair(&mut self, a: &str, b: &str) {
        let (a, b) = (self.ix(a), self.ix(b));
        self.shared.lock().set_link(a, b, |l| l.partitioned = false);
    }

    /// Hold the segments between `a` and `b` (nothing gives up) until
    /// [`release`](Sim::release).
    pub fn hold(&mut self, a: &str, b: &str) {
        let (a, b) = (self.ix(a), self.ix(b));
        self.shared.lock().set_link(a, b, |l| l.held = true);
    }

    /// Deliver what [`hold`](Sim::hold) kept, and stop holding.
    pub fn release(&mut self, a: &str, b: &str) {
        let (a, b) = (self.ix(a), self.ix(b));
        self.shared.lock().set_link(a, b, |l| l.held = false);
    }

    /// The latency distribution of the link between `a` and `b` (both directions).
    pub fn set_latency(&mut self, a: &str, b: &str, latency: Latency) {
        let (a, b) = (self.ix(a), self.ix(b));
        self.shared.lock().set_link_latency(a, b, latency);
    }

    /// The latency distribution of every link without one of its own.
    pub fn set_default_latency(&mut self, latency: Latency) {
        self.shared.lock().set_default_latency(latency);
    }

    /// Crash host `name`: its tasks are dropped and its sockets vanish (peers see
    /// silence, or an RST once it is back). A crashed client counts as finished.
    pub fn crash(&mut self, name: &str) {
        let h = self.ix(name);
        self.crash_ix(h);
    }

    fn crash_ix(&mut self, h: HostIx) {
        self.shared.lock().crash(h);
        let _enter = Enter::new(Arc::clone(&self.shared));
        drop(self.tasks.take_host(h));
        // A crashed client's program is over (it is not restarted).
        self.client_finished(h);
    }

    /// Restart a crashed host: its software starts again, with no sockets.
    pub fn restart(&mut self, name: &str) {
        let h = self.ix(name);
        self.restart_ix(h);
    }

    fn restart_ix(&mut self, h: HostIx) {
        self.shared.lock().restart(h);
        if let Some(software) = self.hosts[h].software.clone() {
            self.tasks.spawn(h, TaskBody::Main(software()));
        }
    }

    /// Virtual time elapsed.
    pub fn elapsed(&self) -> Duration {
        self.shared.lock().now
    }

    /// FNV-1a of the trace (with [`TraceMode::HashOnly`] or [`TraceMode::Full`]): the
    /// same seed and program give the same hash.
    pub fn trace_hash(&self) -> u64 {
        self.shared.lock().trace.hash()
    }

    /// The trace lines (with [`TraceMode::Full`]).
    pub fn trace(&self) -> Vec<String> {
        self.shared.lock().trace.lines().to_vec()
    }

    /// Invariant violations so far.
    pub fn violations(&self) -> Vec<String> {
        self.shared
            .lock()
            .checker
            .as_ref()
            .map(|c| c.violations().to_vec())
            .unwrap_or_default()
    }

    /// The faults the kernel injected so far.
    pub fn injected(&self) -> Injected {
        self.shared.lock().injected
    }

    /// How often the server invariants were checked so far (all zero with the checker
    /// off).
    pub fn checked(&self) -> Checked {
        self.shared
            .lock()
            .checker
            .as_ref()
            .map(|c| c.checked())
            .unwrap_or_default()
    }

    /// What the run measured so far.
    pub fn stats(&self) -> RunStats {
        let st = self.shared.lock();
        RunStats {
            elapsed: st.now,
            steps: st.steps,
            socket_ops: st.ops,
            polls: self.polls,
        }
    }

    /// Run until every client finished; the first failure otherwise (a client's error,
    /// a panic, a deadlock, a limit, or an invariant violation), with the replay
    /// command. Hosts keep running (a later `run` continues them).
    pub fn run(&mut self) -> std::result::Result<RunStats, SimError> {
        self.run_until(None)
    }

    /// Run until virtual time reaches `t` (from the start), whether or not the clients
    /// finished (to change the network at `t`, then run on).
    pub fn run_for(&mut self, t: Duration) -> std::result::Result<RunStats, SimError> {
        self.run_until(Some(t))
    }

    fn run_until(&mut self, until: Option<Duration>) -> std::result::Result<RunStats, SimError> {
        let _enter = Enter::new(Arc::clone(&self.shared));
        let result = self.run_loop(until);
        let result = result.and_then(|()| match self.violations() {
            v if v.is_empty() => Ok(()),
            v => Err(Failure::Violations(v)),
        });
        match result {
            Ok(()) => Ok(self.stats()),
            Err(failure) => Err(self.failed(failure)),
        }
    }

    fn failed(&self, failure: Failure) -> SimError {
        let st = self.shared.lock();
        let lines = st.trace.lines();
        if !lines.is_empty() {
            for l in lines {
                eprintln!("{l}");
            }
        }
        let tail = lines.iter().rev().take(30).rev().cloned().collect();
        SimError {
            seed: self.config.seed,
            at: st.now,
            failure: Box::new(failure),
            replay: replay_command(self.config.seed),
            trace_tail: tail,
        }
    }

    fn clients_done(&self) -> bool {
        self.clients_running == 0
    }

    /// Host `h`'s program finished (returned, or its host crashed): a client counts as
    /// done from then on.
    fn client_finished(&mut self, h: HostIx) {
        let host = &mut self.hosts[h];
        if host.client && !host.done {
            host.done = true;
            self.clients_running -= 1;
        }
    }

    fn run_loop(&mut self, until: Option<Duration>) -> std::result::Result<(), Failure> {
        loop {
            loop {
                self.absorb();
                if until.is_none() && self.clients_done() {
                    return Ok(());
                }
                let Some(id) = self.tasks.next_ready() else {
                    break;
                };
                self.poll_task(id)?;
            }
            match self.advance(until)? {
                Advance::Moved => {}
                Advance::Reached => return Ok(()),
                Advance::Idle => {
                    let clients = (0..self.hosts.len())
                        .filter(|&h| self.hosts[h].client && !self.hosts[h].done)
                        .map(|h| self.host_name(h))
                        .collect();
                    return Err(Failure::Stuck { clients });
                }
            }
        }
    }

    /// Poll one woken task.
    fn poll_task(&mut self, id: (usize, u64)) -> std::result::Result<(), Failure> {
        self.polls += 1;
        match self.tasks.poll(id) {
            Polled::Pending | Polled::SpawnedDone | Polled::Gone => Ok(()),
            Polled::MainDone(h, r) => {
                self.client_finished(h);
                r.map_err(|e| Failure::Error {
                    host: self.host_name(h),
                    message: e.to_string(),
                })
            }
            Polled::Panicked(h, message) => Err(Failure::Panic {
                host: self.host_name(h),
                message,
            }),
        }
    }

    /// Poll every woken task until none is.
    fn run_ready(&mut self) -> std::result::Result<(), Failure> {
        loop {
            self.absorb();
            let Some(id) = self.tasks.next_ready() else {
                return Ok(());
            };
            self.poll_task(id)?;
        }
    }

    /// No task can run: move time to the next thing that happens (not past `until`)
    /// and let it happen.
    fn advance(&mut self, until: Option<Duration>) -> std::result::Result<Advance, Failure> {
        let mut st = self.shared.lock();
        let next = st.next_time();
        let stop = match (next, until) {
            (None, Some(u)) => Some(u),
            (Some(t), Some(u)) if t > u => Some(u),
            _ => None,
        };
        if let Some(u) = stop {
            // Nothing more happens before `u`: the clock stands there.
            if u > st.now {
                st.clock_moves(u);
            }
            st.now = st.now.max(u);
            self.shared
                .now_nanos
                .store(st.now.as_nanos() as u64, Ordering::Relaxed);
            return Ok(Advance::Reached);
        }
        let Some(t) = next else {
            return Ok(Advance::Idle);
        };
        if t > self.config.time_limit {
            return Err(Failure::TimeLimit(self.config.time_limit));
        }
        if st.steps > self.config.step_limit {
            return Err(Failure::StepLimit(self.config.step_limit));
        }
        if t > st.now {
            st.clock_moves(t);
        }
        st.now = st.now.max(t);
        self.shared
            .now_nanos
            .store(st.now.as_nanos() as u64, Ordering::Relaxed);
        while let Some(ev) = st.queue.pop_due(t) {
            st.process(ev);
        }
        st.fire_timers();
        Ok(Advance::Moved)
    }

    /// Poll `f` as if it ran on host `host` (it may create and drive sockets there), running
    /// the simulation between its polls, until it is ready or virtual time reaches
    /// `deadline`: `Ok(None)` then, or when nothing at all can happen any more. This is
    /// how a harness outside the simulation (a test, the conformance driver) drives
    /// sockets it owns.
    pub fn poll_until<T>(
        &mut self,
        host: &str,
        deadline: Option<Instant>,
        mut f: impl FnMut(&mut std::task::Context<'_>) -> std::task::Poll<T>,
    ) -> std::result::Result<Option<T>, SimError> {
        let h = self.ix(host);
        let until = deadline.map(|d| self.shared.offset(d));
        let _enter = Enter::new(Arc::clone(&self.shared));
        let flag = Arc::new(Flag::default());
        let waker = std::task::Waker::from(Arc::clone(&flag));
        let mut cx = std::task::Context::from_waker(&waker);
        let result = loop {
            flag.0.store(false, Ordering::Release);
            super::exec::with_active(|a| {
                if let Some(a) = a {
                    a.host = Some(h);
                }
            });
            let polled = f(&mut cx);
            super::exec::with_active(|a| {
                if let Some(a) = a {
                    a.host = None;
                }
            });
            if let std::task::Poll::Ready(v) = polled {
                break Ok(Some(v));
            }
            if let Err(e) = self.run_ready() {
                break Err(e);
            }
            if flag.0.load(Ordering::Acquire) {
                continue;
            }
            match self.advance(until) {
                Ok(Advance::Moved) => {}
                Ok(Advance::Reached | Advance::Idle) => break Ok(None),
                Err(e) => break Err(e),
            }
        };
        result.map_err(|failure| self.failed(failure))
    }

    /// Make this thread see the simulation, as if running on host `host`, until the
    /// guard is dropped: sockets can then be created and called outside its tasks (by a
    /// harness that drives them with [`poll_until`](Sim::poll_until)).
    pub fn enter(&self, host: &str) -> SimGuard {
        let h = self.ix(host);
        let enter = Enter::new(Arc::clone(&self.shared));
        super::exec::with_active(|a| {
            if let Some(a) = a {
                a.host = Some(h);
            }
        });
        SimGuard { _enter: enter }
    }

    /// A host with no program of its own (for sockets a harness drives).
    pub fn machine(&mut self, name: &str, addrs: Option<&[&str]>) {
        self.add(name, addrs, None, false);
    }

    /// Take in what tasks asked for during their polls: new tasks, crashes, restarts.
    fn absorb(&mut self) {
        // Asked before every poll, and mostly nothing was requested.
        let requested = super::exec::with_active(|a| {
            a.is_some_and(|a| !a.spawned.is_empty() || !a.control.is_empty())
        });
        if requested {
            self.absorb_requested();
        }
    }

    /// [`Sim::absorb`] when something was requested (out of line).
    #[inline(never)]
    fn absorb_requested(&mut self) {
        let (spawned, control) = super::exec::with_active(|a| match a {
            Some(a) => (
                std::mem::take(&mut a.spawned),
                std::mem::take(&mut a.control),
            ),
            None => (Vec::new(), Vec::new()),
        });
        for (host, fut) in spawned {
            self.tasks.spawn(host, TaskBody::Spawned(fut));
        }
        for c in control {
            match c {
                Control::Crash(h) => self.crash_ix(h),
                Control::Restart(h) => self.restart_ix(h),
            }
        }
    }
}

/// What [`Sim::advance`] did.
enum Advance {
    /// Time moved to the next event, which happened.
    Moved,
    /// Nothing happens before the bound: time stands at it.
    Reached,
    /// Nothing will ever happen.
    Idle,
}

/// Wakes a harness's [`Sim::poll_until`].
#[derive(Default)]
struct Flag(std::sync::atomic::AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// The simulation is visible to this thread (see [`Sim::enter`]).
pub struct SimGuard {
    _enter: Enter,
}

impl std::fmt::Debug for SimGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimGuard")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Drop the tasks (and so their sockets) while the simulation is known to the
        // thread, so nothing they do on the way out reaches another simulation.
        let _enter = Enter::new(Arc::clone(&self.shared));
        while let Some(task) = self.tasks.take_first() {
            drop(task);
        }
        self.tasks.recycle();
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.config.seed)
            .field(
                "hosts",
                &self
                    .shared
                    .lock()
                    .hosts
                    .iter()
                    .map(|h| h.name.clone())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
