//! The random scenarios of the seeded sweeps: from one `u64` seed, a fault mix
//! ([`Faults::swarm`]), a server with random options and `max_connections`, a DNS name
//! with several A/AAAA records (some dead), several clients connecting to IP literals or
//! names with random writes, ends, pauses, destroys, resets and idle timeouts, accepted
//! connections that echo, sink, greet, pause, reset or destroy, and a server that may be
//! closed or shut down with a deadline (while the fault mix may exhaust its descriptors,
//! so accepts fail with `EMFILE` and back off). The world checks
//! its invariants on every event; [`run`] returns them with the trace hash.
//!
//! ```
//! use nodenet_sim::{sweep, TraceMode};
//! let a = sweep::run(7, TraceMode::HashOnly);
//! let b = sweep::run(7, TraceMode::HashOnly);
//! assert!(a.violations.is_empty(), "{:?}", a.violations);
//! assert_eq!(a.hash, b.hash);
//! assert!(sweep::replay_command(7).contains("NODENET_SIM_SEED=7"));
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;

use nodenet_core::options::SocketOptions;
use nodenet_core::server::{ListenOptions, ServerOptions};
use nodenet_core::socket::{ConnectOptions, SocketEvent};

use super::faults::Faults;
use super::rng::Rng;
use super::trace::TraceMode;
use super::world::{ServerId, SocketId, World, WorldConfig, WorldEvent};

/// What one seed produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// FNV-1a of the trace (the offset basis with [`TraceMode::Off`]).
    pub hash: u64,
    /// Invariant violations (empty when the seed passed).
    pub violations: Vec<String>,
    /// Socket and server events emitted.
    pub events: u64,
    /// Kernel steps and timer firings processed.
    pub steps: u64,
    /// The trace lines (with [`TraceMode::Full`]).
    pub trace: Vec<String>,
}

/// The one-line command that replays `seed` with its full trace.
pub fn replay_command(seed: u64) -> String {
    format!(
        "NODENET_SIM_SEED={seed} cargo test -p nodenet-sim --test sim_sweep sim_replay -- --nocapture"
    )
}

/// How an accepted connection behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Echo,
    Sink,
    Greeter,
    Pauser,
    Resetter,
    Destroyer,
}

#[derive(Clone, Debug)]
enum Action {
    Write(SocketId, usize),
    End(SocketId),
    Destroy(SocketId),
    DestroySoon(SocketId),
    Reset(SocketId),
    Pause(SocketId),
    Resume(SocketId),
    SetTimeout(SocketId, u64),
    CloseServer,
    Shutdown(Duration),
    SetMax(Option<u32>),
}

struct Writer {
    queue: VecDeque<Bytes>,
    blocked: bool,
}

struct Scenario {
    rng: Rng,
    world: World,
    server: ServerId,
    half_open: BTreeMap<SocketId, bool>,
    roles: BTreeMap<SocketId, Role>,
    writers: BTreeMap<SocketId, Writer>,
    agenda: BTreeMap<(Duration, u64), Action>,
    seq: u64,
}

/// Virtual time after which a scenario stops acting and tears down.
const HORIZON: Duration = Duration::from_secs(300);
/// A scenario that needs more steps than this is livelocked.
const MAX_STEPS: u64 = 200_000;

/// Run the scenario of `seed` and check every invariant.
pub fn run(seed: u64, trace: TraceMode) -> Outcome {
    let mut faults_rng = Rng::fork(seed, 3);
    let faults = Faults::swarm(&mut faults_rng);
    let mut rng = Rng::fork(seed, 2);
    let mut world = World::with_config(WorldConfig {
        seed,
        faults,
        trace,
        check: true,
        keep_events: false,
    });
    world.dns(
        "svc.test",
        &pick_records(&mut rng, &["10.0.0.1", "fd00::1", "10.0.0.9", "fd00::9"]),
    );
    let server_socket = SocketOptions {
        allow_half_open: rng.chance(500),
        pause_on_connect: rng.chance(150),
        high_water_mark: *rng.pick(&[1024usize, 16 * 1024]).unwrap_or(&1024),
        ..SocketOptions::default()
    };
    let server = world
        .host("10.0.0.1")
        .address("fd00::1")
        .listen_with(
            ServerOptions::new(server_socket),
            ListenOptions::port(80).backlog(rng.range(1, 8) as u32),
        )
        .unwrap_or(ServerId(0));
    if rng.chance(400) {
        world.set_max_connections(server, Some(rng.range(0, 3) as u32));
    }
    let mut sc = Scenario {
        rng,
        world,
        server,
        half_open: BTreeMap::new(),
        roles: BTreeMap::new(),
        writers: BTreeMap::new(),
        agenda: BTreeMap::new(),
        seq: 0,
    };
    sc.add_clients();
    sc.run_loop();
    sc.world.teardown();
    Outcome {
        seed,
        hash: sc.world.trace_hash(),
        violations: sc.world.violations().to_vec(),
        events: sc.world.events_emitted(),
        steps: sc.world.steps(),
        trace: sc.world.trace().to_vec(),
    }
}

fn payload_pool() -> &'static Bytes {
    static POOL: OnceLock<Bytes> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut r = Rng::new(0x5EED);
        let v: Vec<u8> = (0..(128 * 1024) / 8)
            .flat_map(|_| r.next_u64().to_le_bytes())
            .collect();
        Bytes::from(v)
    })
}

fn pick_records(rng: &mut Rng, pool: &[&'static str]) -> Vec<&'static str> {
    let n = rng.range(1, pool.len() as u64) as usize;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        if let Some(a) = rng.pick(pool) {
            if !out.contains(a) {
                out.push(*a);
            }
        }
    }
    out
}

impl Scenario {
    fn ms(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.rng.range(lo, hi))
    }

    fn plan(&mut self, after: Duration, action: Action) {
        self.seq += 1;
        let at = self.world.now() + after;
        self.agenda.insert((at, self.seq), action);
    }

    /// `len` bytes of a fixed random block from a random offset: distinct content per
    /// write (so reordering or loss shows in the prefix check) without generating bytes.
    fn payload(&mut self, len: usize) -> Bytes {
        let pool = payload_pool();
        let len = len.min(pool.len());
        let off = self.rng.below((pool.len() - len + 1) as u64) as usize;
        pool.slice(off..off + len)
    }

    fn add_clients(&mut self) {
        let n = self.rng.range(1, 4);
        for _ in 0..n {
            let host = *self
                .rng
                .pick(&[
                    "10.0.0.1", "10.0.0.1", "fd00::1", "svc.test", "svc.test", "10.0.0.2",
                    "nx.test",
                ])
                .unwrap_or(&"10.0.0.1");
            let port = if self.rng.chance(80) { 81 } else { 80 };
            let half_open = self.rng.chance(400);
            let opts = SocketOptions {
                allow_half_open: half_open,
                high_water_mark: *self.rng.pick(&[512usize, 16 * 1024]).unwrap_or(&512),
                ..SocketOptions::default()
            };
            let mut connect = ConnectOptions::tcp(port, host);
            if self.rng.chance(200) {
                connect.family = if self.rng.chance(500) { 4 } else { 6 };
            }
            let Ok(c) = self.world.host("10.0.0.100").connect_with(opts, connect) else {
                continue;
            };
            self.half_open.insert(c, half_open);
            self.writers.insert(
                c,
                Writer {
                    queue: VecDeque::new(),
                    blocked: false,
                },
            );
            if self.rng.chance(500) {
                let t = self.rng.range(5, 3000);
                let _ = self.world.set_timeout(c, t as f64);
            }
            // Writes (also before the connect completes), then maybe end or abort.
            let writes = self.rng.range(0, 4);
            let mut t = Duration::ZERO;
            for _ in 0..writes {
                t += self.ms(0, 50);
                let len = self.rng.range(0, 40_000) as usize;
                self.plan(t, Action::Write(c, len));
            }
            t += self.ms(0, 100);
            let last = match self.rng.below(10) {
                0 => Action::Destroy(c),
                1 => Action::Reset(c),
                2 => Action::DestroySoon(c),
                3 => Action::Pause(c),
                _ => Action::End(c),
            };
            let paused = matches!(last, Action::Pause(_));
            self.plan(t, last);
            if paused {
                let d = self.ms(1, 500);
                self.plan(t + d, Action::Resume(c));
                let d = self.ms(1, 600);
                self.plan(t + d, Action::End(c));
            }
            if self.rng.chance(150) {
                let d = self.ms(0, 400);
                let ms = self.rng.range(1, 200);
                self.plan(d, Action::SetTimeout(c, ms));
            }
        }
        if self.rng.chance(300) {
            let d = self.ms(0, 500);
            self.plan(d, Action::CloseServer);
        } else if self.rng.chance(250) {
            let d = self.ms(0, 500);
            let deadline = self.ms(0, 300);
            self.plan(d, Action::Shutdown(deadline));
        }
        if self.rng.chance(150) {
            let d = self.ms(0, 300);
            let max = if self.rng.chance(500) {
                None
            } else {
                Some(self.rng.range(0, 2) as u32)
            };
            self.plan(d, Action::SetMax(max));
        }
    }

    fn run_loop(&mut self) {
        loop {
            if self.world.steps() > MAX_STEPS {
                if let Some(c) = &mut self.world.checker {
                    c.violation(format!("livelock: more than {MAX_STEPS} steps"));
                }
                return;
            }
            let next = self.agenda.keys().next().map(|(t, _)| *t);
            match self.world.next_event(next) {
                Some(ev) => self.react(ev),
                None => match self.agenda.pop_first() {
                    Some(((at, _), action)) => {
                        if at > HORIZON {
                            return;
                        }
                        self.act(action);
                    }
                    None => return,
                },
            }
            if self.world.now() > HORIZON {
                return;
            }
        }
    }

    fn act(&mut self, action: Action) {
        let w = &mut self.world;
        match action {
            Action::Write(s, len) => {
                let data = self.payload(len);
                if let Some(wr) = self.writers.get_mut(&s) {
                    wr.queue.push_back(data);
                }
                self.flush(s);
            }
            Action::End(s) => {
                // A polite writer ends after its queued data.
                if self.writers.get(&s).is_some_and(|w| !w.queue.is_empty()) {
                    let d = Duration::from_millis(20);
                    self.plan(d, Action::End(s));
                } else {
                    let _ = w.end(s);
                }
            }
            Action::Destroy(s) => w.destroy(s, None),
            Action::DestroySoon(s) => w.destroy_soon(s),
            Action::Reset(s) => {
                let _ = w.reset_and_destroy(s);
            }
            Action::Pause(s) => w.pause(s),
            Action::Resume(s) => w.resume(s),
            Action::SetTimeout(s, ms) => {
                let _ = w.set_timeout(s, ms as f64);
            }
            Action::CloseServer => {
                let _ = w.close_server(self.server);
            }
            Action::Shutdown(deadline) => w.shutdown_server(self.server, deadline),
            Action::SetMax(m) => w.set_max_connections(self.server, m),
        }
    }

    /// Write queued payloads until `write` returns false (then wait for `Drain`).
    fn flush(&mut self, s: SocketId) {
        loop {
            let Some(wr) = self.writers.get_mut(&s) else {
                return;
            };
            if wr.blocked {
                return;
            }
            let Some(data) = wr.queue.pop_front() else {
                return;
            };
            let r = self.world.write(s, data);
            if !r.ok {
                if let Some(wr) = self.writers.get_mut(&s) {
                    wr.blocked = true;
                }
                return;
            }
        }
    }

    fn react(&mut self, ev: WorldEvent) {
        match ev {
            WorldEvent::Accepted { socket, .. } => self.on_accept(socket),
            WorldEvent::Socket(s, ev) => match ev {
                SocketEvent::Data(d) if self.roles.get(&s) == Some(&Role::Echo) => {
                    self.world.write(s, d);
                }
                SocketEvent::End => {
                    let half_open = self.half_open.get(&s).copied().unwrap_or(false);
                    if half_open {
                        let d = self.ms(0, 20);
                        self.plan(d, Action::End(s));
                    }
                }
                SocketEvent::Drain => {
                    if let Some(wr) = self.writers.get_mut(&s) {
                        wr.blocked = false;
                    }
                    self.flush(s);
                }
                SocketEvent::Timeout => self.world.destroy(s, None),
                _ => {}
            },
            WorldEvent::Server(..) => {}
        }
    }

    fn on_accept(&mut self, s: SocketId) {
        let role = *self
            .rng
            .pick(&[
                Role::Echo,
                Role::Echo,
                Role::Sink,
                Role::Greeter,
                Role::Pauser,
                Role::Resetter,
                Role::Destroyer,
            ])
            .unwrap_or(&Role::Sink);
        self.roles.insert(s, role);
        let half_open = self.world.socket(s).allow_half_open();
        self.half_open.insert(s, half_open);
        if self.world.socket(s).is_paused() {
            let d = self.ms(1, 300);
            self.plan(d, Action::Resume(s));
        }
        match role {
            Role::Greeter => {
                self.writers.insert(
                    s,
                    Writer {
                        queue: VecDeque::new(),
                        blocked: false,
                    },
                );
                let len = self.rng.range(1, 30_000) as usize;
                self.plan(Duration::ZERO, Action::Write(s, len));
                let d = self.ms(0, 50);
                self.plan(d, Action::End(s));
            }
            Role::Pauser => {
                self.world.pause(s);
                let d = self.ms(1, 800);
                self.plan(d, Action::Resume(s));
            }
            Role::Resetter => {
                let d = self.ms(0, 200);
                self.plan(d, Action::Reset(s));
            }
            Role::Destroyer => {
                let d = self.ms(0, 200);
                self.plan(d, Action::Destroy(s));
            }
            Role::Echo | Role::Sink => {}
        }
        if self.rng.chance(200) {
            let t = self.rng.range(5, 1000);
            let _ = self.world.set_timeout(s, t as f64);
        }
    }
}
