//! The conformance driver on the deterministic simulator (`nodenet_sim`): each
//! scenario runs in a fresh [`World`] — the real core state machines over the fake
//! kernel, in virtual time — with its servers and clients on the loopback host
//! (`127.0.0.1` and `::1` belong to the world's default host). The scenario's custom
//! `lookup` becomes an entry of the world's DNS table.
//!
//! Not modelled by the simulator, hence excluded (and printed by the suite):
//! IPC (Unix domain sockets) and the getsockopt read-backs ([`SIM_EXCLUSIONS`]).
//!
//! ```
//! use nodenet_tests::sim_driver::SimDriver;
//! use nodenet_tests::{check, load_dir, scenarios_dir};
//! let files = load_dir(&scenarios_dir()).unwrap();
//! let refused = files.iter().find(|f| f.scenario.name == "connect_refused").unwrap();
//! check(&mut SimDriver::new(7), &refused.scenario).unwrap();
//! ```
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nodenet_core::{Endpoint, ServerEvent};
use nodenet_sim::{Faults, ServerId, SocketId, World, WorldEvent};

use crate::driver::{DriverError, ScenarioDriver};
use crate::drivers::common::{
    code, connect_options, emits_follower, error_event, listen_options, server_options,
    server_property, socket_property, Callbacks,
};
use crate::drivers::net::scenario_error;
use crate::drivers::suite::Exclusion;
use crate::scenario::{Op, Scenario, Target};
use crate::script::{Actors, Poll, ScriptRunner};
use crate::trace::{Event, PropertyValue, Traces};

/// Scenarios the simulator cannot run, with the reason.
pub const SIM_EXCLUSIONS: &[Exclusion] = &[
    Exclusion {
        scenario: "ipc_listen_connect_unlink",
        reason: "the simulator models TCP only: no Unix domain sockets, no socket files",
    },
    Exclusion {
        scenario: "listen_twice_ip_literal",
        reason: "the simulator makes a new server for every listen, so it cannot call listen twice on one server",
    },
    Exclusion {
        scenario: "listen_twice_no_host",
        reason: "the simulator makes a new server for every listen, so it cannot call listen twice on one server",
    },
    Exclusion {
        scenario: "listen_invalid_port",
        reason: "the world creates a server only through a successful listen, so a server whose listen threw has no properties to read",
    },
    Exclusion {
        scenario: "reconnect",
        reason: "the world's invariant checker treats a socket's Close as final, so reconnecting a closed socket trips it (timer armed after Close)",
    },
    Exclusion {
        scenario: "connect_destroy_unconnected",
        reason: "the world has no unconnected socket (new net.Socket() without connect)",
    },
    Exclusion {
        scenario: "connect_reset_unconnected",
        reason: "the world has no unconnected socket (new net.Socket() without connect)",
    },
    Exclusion {
        scenario: "end_without_connect",
        reason: "the world has no unconnected socket (new net.Socket() without connect)",
    },
    Exclusion {
        scenario: "timeout_no_handle",
        reason: "the world has no unconnected socket (new net.Socket() without connect)",
    },
    Exclusion {
        scenario: "pipe_connect_enoent",
        reason: "the simulator models TCP only: no Unix domain sockets (and an IPC connect hangs there, issue 17 item 12)",
    },
    Exclusion {
        scenario: "server_listen_path_twice",
        reason: "the simulator models TCP only: no Unix domain sockets, no socket files",
    },
    Exclusion {
        scenario: "end_after_destroy",
        reason: "the World driver does not yet pump the core's nextTick/close phases in Node's order (the backends do); the simulation runtime of issue 19 replaces this driver",
    },
    Exclusion {
        scenario: "end_data_then_write",
        reason: "the World driver does not yet pump the core's nextTick/close phases in Node's order (the backends do); the simulation runtime of issue 19 replaces this driver",
    },
    Exclusion {
        scenario: "end_destroyed_flag",
        reason: "the World driver does not yet pump the core's nextTick/close phases in Node's order (the backends do); the simulation runtime of issue 19 replaces this driver",
    },
    Exclusion {
        scenario: "remote_address_in_close",
        reason: "the World driver does not yet pump the core's nextTick/close phases in Node's order (the backends do); the simulation runtime of issue 19 replaces this driver",
    },
    Exclusion {
        scenario: "write_after_end_nt",
        reason: "the World driver does not yet pump the core's nextTick/close phases in Node's order (the backends do); the simulation runtime of issue 19 replaces this driver",
    },
    Exclusion {
        scenario: "set_encoding_base64",
        reason: "the world's invariant checker counts the bytes of Data events only, so decoded Text events trip its End accounting",
    },
    Exclusion {
        scenario: "set_encoding_latin1_hex",
        reason: "the world's invariant checker counts the bytes of Data events only, so decoded Text events trip its End accounting",
    },
    Exclusion {
        scenario: "persistent_nodelay",
        reason: "the world has no unconnected socket, and no OS socket to read TCP_NODELAY back",
    },
    Exclusion {
        scenario: "persistent_keepalive",
        reason: "the world has no unconnected socket, and no OS socket to read SO_KEEPALIVE back",
    },
    Exclusion {
        scenario: "listen_error_not_local",
        reason: "the simulated host has no interface list: it binds any address, so listening on an address it does not own cannot fail with EADDRNOTAVAIL",
    },
    Exclusion {
        scenario: "keepalive_idle_open",
        reason: "the simulator has no OS socket to read SO_KEEPALIVE back with getsockopt",
    },
    Exclusion {
        scenario: "server_keepalive",
        reason: "the simulator has no OS socket to read SO_KEEPALIVE/TCP_KEEPIDLE back with getsockopt",
    },
    Exclusion {
        scenario: "server_nodelay",
        reason: "the simulator has no OS socket to read TCP_NODELAY back with getsockopt",
    },
    Exclusion {
        scenario: "connect_nodelay",
        reason: "the simulator has no OS socket to read TCP_NODELAY back with getsockopt",
    },
    Exclusion {
        scenario: "socket_setnodelay",
        reason: "the simulator has no OS socket to read TCP_NODELAY back with getsockopt",
    },
    Exclusion {
        scenario: "socket_connect_without_cb",
        reason: "the world has no unconnected socket (new net.Socket() without connect)",
    },
    Exclusion {
        scenario: "connect_options_path",
        reason: "the simulator models TCP only: no Unix domain sockets, no socket files",
    },
    Exclusion {
        scenario: "listen_path_enoent",
        reason: "the simulator models TCP only: every pipe listen fails there with EACCES, which would match Node's code here by accident, not by modelling the missing directory",
    },
    Exclusion {
        scenario: "connect_buffer",
        reason: "the world's invariant checker counts the bytes of Data events only, so decoded Text events trip its End accounting",
    },
    Exclusion {
        scenario: "large_string",
        reason: "the world's invariant checker counts the bytes of Data events only, so decoded Text events trip its End accounting",
    },
    Exclusion {
        scenario: "buffersize",
        reason: "the world has no unconnected socket (new net.Socket() without connect)",
    },
    Exclusion {
        scenario: "connect_no_arg",
        reason: "the world has no unconnected socket (new net.Socket() without connect)",
    },
    Exclusion {
        scenario: "client_bind_twice",
        reason: "the simulated host lets a client bind the local port a listener holds, so the bind cannot fail with EADDRINUSE",
    },
    Exclusion {
        scenario: "lookup_error_message",
        reason: "the world's DNS table answers every name it has; a custom lookup that fails is not modelled",
    },
    Exclusion {
        scenario: "connect_abort_post",
        reason: "the world has no AbortSignal: a socket or listen cannot be given a signal to abort",
    },
    Exclusion {
        scenario: "connect_abort_pre",
        reason: "the world has no AbortSignal: a socket or listen cannot be given a signal to abort",
    },
    Exclusion {
        scenario: "connect_abort_connected",
        reason: "the world has no AbortSignal: a socket or listen cannot be given a signal to abort",
    },
    Exclusion {
        scenario: "server_listen_signal",
        reason: "the world has no AbortSignal: a socket or listen cannot be given a signal to abort",
    },
    Exclusion {
        scenario: "autoselectfamily_ipv4first",
        reason: "the world's invariant checker counts the bytes of Data events only, so decoded Text events trip its End accounting",
    },
    Exclusion {
        scenario: "listen_error_message",
        reason: "the simulated host has no interface list: it binds any address, so listening on an address it does not own cannot fail with EADDRNOTAVAIL",
    },
    Exclusion {
        scenario: "connect_path_message",
        reason: "the simulator models TCP only: no Unix domain sockets (and an IPC connect hangs there, issue 17 item 12)",
    },
    Exclusion {
        scenario: "server_listen_options",
        reason: "the world creates a server only through a successful listen, so a server whose listen threw has no properties to read",
    },
    Exclusion {
        scenario: "keep_alive_no_delay",
        reason:
            "the simulator has no OS socket to read TCP_NODELAY/SO_KEEPALIVE back with getsockopt",
    },
];

/// Virtual time a run may take at most (the real drivers' wall-clock bound, in virtual
/// time: scenarios wait at most a few seconds).
const VIRTUAL_LIMIT: Duration = Duration::from_secs(60);

/// Runs scenarios in a simulated world built from `seed` ([`Faults::none`]: a loopback
/// network, so event order is the kernel's, not a fault's).
#[derive(Debug, Clone)]
pub struct SimDriver {
    seed: u64,
    faults: Faults,
}

impl SimDriver {
    /// A driver whose worlds use `seed` and no faults.
    pub fn new(seed: u64) -> SimDriver {
        SimDriver {
            seed,
            faults: Faults::none(),
        }
    }

    /// A driver whose worlds use `seed` and `faults` (e.g. [`Faults::calm`]: latency,
    /// chunked reads and short writes, which no scenario's trace may depend on).
    pub fn with_faults(seed: u64, faults: Faults) -> SimDriver {
        SimDriver { seed, faults }
    }
}

/// The actors of one run: names ↔ world ids.
struct SimActors<'s> {
    scenario: &'s Scenario,
    world: World,
    sockets: BTreeMap<String, SocketId>,
    /// Every server id an actor used, the current one last (the world makes a new server
    /// per `listen`, so a second `listen` of the same actor is a second world server).
    servers: BTreeMap<String, Vec<ServerId>>,
    socket_names: BTreeMap<SocketId, String>,
    server_names: BTreeMap<ServerId, String>,
    ports: BTreeMap<String, u16>,
    callbacks: Callbacks,
}

impl SimActors<'_> {
    fn socket(&self, actor: &str) -> Result<SocketId, String> {
        self.sockets
            .get(actor)
            .copied()
            .ok_or_else(|| format!("NO_SOCKET_{actor}"))
    }

    fn server(&self, actor: &str) -> Option<ServerId> {
        self.servers.get(actor).and_then(|v| v.last().copied())
    }

    fn port_of(&self, actor: &str) -> Result<u16, String> {
        self.ports
            .get(actor)
            .copied()
            .ok_or_else(|| format!("NO_PORT_{actor}"))
    }

    fn listen(&mut self, actor: &str, port: Option<&serde_json::Value>) -> Result<bool, String> {
        let spec = self
            .scenario
            .servers
            .get(actor)
            .ok_or_else(|| format!("NO_SERVER_{actor}"))?;
        if spec.listen.signal.is_some() {
            return Err("UNSUPPORTED_IN_SIM_SIGNAL".to_owned());
        }
        let mut listen = spec.listen.clone();
        if port.is_some() {
            listen.port = port.cloned();
            listen.port_of = None;
        }
        let port = match &listen.port_of {
            Some(other) => self.port_of(other)?,
            None => 0,
        };
        let options = listen_options(&listen, Path::new("/"), port)?;
        let host = listen.host.as_deref().unwrap_or("127.0.0.1");
        let id = self
            .world
            .host(host)
            .listen_with(server_options(spec)?, options)
            .map_err(code)?;
        self.servers.entry(actor.to_owned()).or_default().push(id);
        self.server_names.insert(id, actor.to_owned());
        Ok(true)
    }

    fn connect(&mut self, actor: &str) -> Result<bool, String> {
        let spec = self
            .scenario
            .clients
            .get(actor)
            .ok_or_else(|| format!("NO_CLIENT_{actor}"))?;
        if spec.connect.signal.is_some() || spec.connect.lookup_error.is_some() {
            return Err("UNSUPPORTED_IN_SIM_SIGNAL_OR_LOOKUP_ERROR".to_owned());
        }
        let port = match (&spec.connect.port, spec.connect.no_target) {
            (None, false) => Some(self.port_of(spec.connect.port_of())?),
            _ => None,
        };
        let (socket, mut options) = connect_options(spec, Path::new("/"), port)?;
        if let Some(server) = &spec.connect.local_port_of {
            options.local_port = Some(self.port_of(server)?);
        }
        if let Some(answers) = &spec.connect.lookup {
            // The custom resolver's answers, in order, as the world's DNS entry.
            let addrs: Vec<&str> = answers.iter().map(|a| a.address.as_str()).collect();
            self.world.dns(spec.connect.host(), &addrs);
            options.lookup = true;
        }
        if let Some(&existing) = self.sockets.get(actor) {
            // `socket.connect(options)` again on the client's socket.
            options.timeout = None;
            return self
                .world
                .with_socket(existing, |s, now| s.connect(options, now))
                .map(|()| true)
                .map_err(code);
        }
        let id = self
            .world
            .host("127.0.0.1")
            .connect_with(socket, options)
            .map_err(code)?;
        self.sockets.insert(actor.to_owned(), id);
        self.socket_names.insert(id, actor.to_owned());
        Ok(true)
    }
}

impl Actors for SimActors<'_> {
    fn perform(&mut self, actor: &str, op: &Op) -> Result<bool, String> {
        match op {
            Op::Listen { port } => return self.listen(actor, port.as_ref()),
            Op::Abort => return Err("UNSUPPORTED_IN_SIM_ABORT".to_owned()),
            // The world has no unconnected socket (scenarios using it are excluded).
            Op::Create => return Err("UNSUPPORTED_IN_SIM_CREATE".to_owned()),
            Op::Connect => return self.connect(actor),
            Op::Close => {
                let s = self
                    .server(actor)
                    .ok_or_else(|| format!("NO_SERVER_{actor}"))?;
                // Node's `server.close()` never throws (not running goes to the callback).
                let _ = self.world.close_server(s);
                return Ok(true);
            }
            Op::SetMaxConnections { value } => {
                let s = self
                    .server(actor)
                    .ok_or_else(|| format!("NO_SERVER_{actor}"))?;
                self.world.set_max_connections(s, Some(*value));
                return Ok(true);
            }
            _ => {}
        }
        let s = self.socket(actor)?;
        let w = &mut self.world;
        match op {
            // The world's writes always have a completion; only labelled ones are shown.
            Op::Write { data, repeat, cb } => {
                let r = w.write(s, Op::write_data(data, *repeat));
                if let Some(label) = cb {
                    self.callbacks.on_write(actor, r.id, label);
                }
                return Ok(r.ok);
            }
            Op::End { data, cb } => {
                let ok = data
                    .as_ref()
                    .is_none_or(|d| w.write(s, Bytes::from(d.clone())).ok);
                let ended = w.end(s);
                // Node's `end()` never throws: its error goes to the callback.
                if let Some(label) = cb {
                    ended.map_err(code)?;
                    self.callbacks.on_end(actor, label);
                }
                return Ok(ok);
            }
            Op::SetEncoding { encoding } => w
                .with_socket(s, |sock, _| sock.set_encoding(encoding))
                .map_err(code)?,
            Op::Destroy => w.destroy(s, None),
            Op::DestroyWithError { code: c } => w.destroy(s, Some(scenario_error(c)?)),
            Op::DestroySoon => w.destroy_soon(s),
            Op::ResetAndDestroy => w.reset_and_destroy(s).map_err(code)?,
            Op::Pause => w.pause(s),
            Op::Resume => w.resume(s),
            Op::SetTimeout { ms } => w.set_timeout(s, *ms as f64).map_err(code)?,
            Op::SetNoDelay { enable } => {
                w.with_socket(s, |sock, _| sock.set_no_delay(enable.unwrap_or(true)))
            }
            Op::SetKeepAlive {
                enable,
                initial_delay_ms,
            } => w.with_socket(s, |sock, _| {
                sock.set_keep_alive(enable.unwrap_or(true), initial_delay_ms.unwrap_or(0) as f64)
            }),
            other => return Err(format!("UNSUPPORTED_OP_{other:?}")),
        }
        Ok(true)
    }

    fn property(&mut self, actor: &str, property: &str) -> PropertyValue {
        if let Some(s) = self.server(actor) {
            let core = self.world.server(s);
            return server_property(core, property, core.connections(), false);
        }
        match self.sockets.get(actor) {
            Some(s) => socket_property(self.world.socket(*s), property),
            None => PropertyValue::Str(format!("<no actor {actor}>")),
        }
    }
}

/// Hand one world event to the script.
fn deliver(script: &mut ScriptRunner<'_>, actors: &mut SimActors<'_>, ev: WorldEvent) {
    let (actor, event) = match ev {
        WorldEvent::Socket(s, ev) => {
            let Some(name) = actors.socket_names.get(&s).cloned() else {
                return;
            };
            for event in actors.callbacks.trace_events(&name, ev) {
                script.record(&name, &event, actors);
            }
            return;
        }
        WorldEvent::Accepted { server, socket } => {
            let Some(name) = actors.server_names.get(&server).cloned() else {
                return;
            };
            let conn = script.accept_name();
            actors.sockets.insert(conn.clone(), socket);
            actors.socket_names.insert(socket, conn);
            (name, Event::Connection)
        }
        WorldEvent::Server(s, ev) => {
            let Some(name) = actors.server_names.get(&s).cloned() else {
                return;
            };
            let event = match ev {
                ServerEvent::Listening => {
                    if let Some(Endpoint::Tcp(a)) = actors.world.server(s).address() {
                        actors.ports.insert(name.clone(), a.port());
                        script.note_port(a.port());
                    }
                    Event::Listening
                }
                // The world reports accepted connections as `Accepted`.
                ServerEvent::Connection(_) => return,
                ServerEvent::Drop(_) => Event::Drop,
                // Node closes a blocked peer silently (v22.13): nothing to record.
                ServerEvent::Blocked { .. } => return,
                ServerEvent::Error(e) => error_event(e),
                ServerEvent::Close => Event::Close(None),
            };
            (name, event)
        }
    };
    script.record(&actor, &event, actors);
}

/// The socket an event is about, and whether Node emits its follower synchronously.
fn follower_of(ev: &WorldEvent) -> Option<SocketId> {
    match ev {
        WorldEvent::Socket(s, e) if emits_follower(e) => Some(*s),
        _ => None,
    }
}

impl ScenarioDriver for SimDriver {
    fn name(&self) -> &str {
        "sim"
    }

    fn target(&self) -> Target {
        Target::Nodenet
    }

    fn run(&mut self, scenario: &Scenario) -> Result<Traces, DriverError> {
        if let Some(x) = SIM_EXCLUSIONS.iter().find(|x| x.scenario == scenario.name) {
            return Err(DriverError(format!(
                "not runnable on the simulator: {}",
                x.reason
            )));
        }
        let world = World::with_faults(self.seed, self.faults.clone());
        let start = world.instant();
        let mut actors = SimActors {
            scenario,
            world,
            sockets: BTreeMap::new(),
            servers: BTreeMap::new(),
            socket_names: BTreeMap::new(),
            server_names: BTreeMap::new(),
            ports: BTreeMap::new(),
            callbacks: Callbacks::default(),
        };
        let mut script = ScriptRunner::new(scenario, None, start);
        // Events pulled while looking for a follower of another socket, in order.
        let mut stash: VecDeque<WorldEvent> = VecDeque::new();
        loop {
            let now = actors.world.instant();
            let deadline = match script.poll(now, &mut actors) {
                Poll::Done => break,
                Poll::Wait { deadline } => deadline,
            };
            if now.duration_since(start) > VIRTUAL_LIMIT {
                return Err(DriverError(format!(
                    "{}: virtual time limit of {VIRTUAL_LIMIT:?} hit",
                    scenario.name
                )));
            }
            let until = virtual_offset(start, deadline);
            let Some(mut ev) = stash
                .pop_front()
                .or_else(|| actors.world.next_event(Some(until)))
            else {
                continue;
            };
            loop {
                let follows = follower_of(&ev);
                deliver(&mut script, &mut actors, ev);
                let Some(s) = follows else { break };
                // The follower is emitted at the same virtual instant; anything else
                // pulled meanwhile is kept for later, in order.
                let now = actors.world.now();
                match actors.world.next_event(Some(now)) {
                    Some(next @ WorldEvent::Socket(id, _)) if id == s => ev = next,
                    Some(other) => {
                        stash.push_back(other);
                        break;
                    }
                    None => break,
                }
            }
        }
        let traces = script.into_traces();
        actors.world.teardown();
        // The world's invariant checker watched every event: a violation is a core bug
        // even when the traces match.
        let violations = actors.world.violations();
        if !violations.is_empty() {
            return Err(DriverError(format!(
                "{}: simulator invariants violated (seed {}): {violations:?}",
                scenario.name, self.seed
            )));
        }
        Ok(traces)
    }
}

/// A script deadline as the world's virtual offset.
fn virtual_offset(start: Instant, deadline: Instant) -> Duration {
    deadline.saturating_duration_since(start)
}
