//! The scenario driver for real sockets, written once for every runtime: the actor
//! table ([`ActorTable`]), the mapping of every scenario step onto the method of the same
//! name of `nodenet::Socket<R>` / `nodenet::Server<R>` and of every property onto its
//! getters ([`NetActors`], the [`Actors`] implementation), and the run loop that feeds
//! the actors' events to the [`ScriptRunner`] ([`NetDriver`]).
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll as TaskPoll;
use std::time::Duration;

use bytes::Bytes;
use nodenet::{AbortController, AbortSignal, LookupOptions, Server, Socket};
use nodenet_core::{Endpoint, Error, ErrorClass, ErrorCode, LookupAddress};
use nodenet_core::{ServerEvent, SocketEvent};

use super::common::{
    code, connect_options, emits_follower, error_event, listen_options, lookup_failure,
    server_options, server_property, socket_property, Callbacks,
};
use super::wait::{next_of_any, poll_now, Ev};
use crate::driver::{DriverError, ScenarioDriver};
use crate::scenario::{ClientSpec, OnReadSpec, Op, Scenario, ServerSpec, SignalSpec, Target};
use crate::script::{Actors, Poll, ScriptRunner};
use crate::test_runtime::TestRuntime;
use crate::trace::{Event, PropertyValue, Traces};

/// A whole scenario run is bounded by this (Node's runner uses the same limit).
pub const HARD_LIMIT: Duration = Duration::from_secs(10);

/// One actor: a socket (client or accepted connection) or a server.
#[derive(Debug)]
pub enum Actor<R: TestRuntime> {
    /// A client or an accepted connection.
    Socket(Socket<R>),
    /// A server (boxed: it is much larger than a socket).
    Server(Box<Server<R>>),
}

/// One actor of the table, with how it is driven.
#[derive(Debug)]
pub struct Entry<R: TestRuntime> {
    /// The socket or server.
    pub actor: Actor<R>,
    /// A socket with Node's `onread` option: its reads land in these buffers.
    pub read_into: Option<ReadBuffers>,
    /// `next_event` returned `None`: nothing more can happen until `listen`/`connect`.
    finished: bool,
}

/// The caller's buffers of a socket with Node's `onread` option: one static buffer, or a
/// pool handed out in turn (`onread.buffer` given as a function), one per read.
#[derive(Debug, Clone)]
pub struct ReadBuffers {
    bufs: Vec<Vec<u8>>,
    next: usize,
}

impl ReadBuffers {
    /// The buffers an `onread` spec asks for.
    pub fn new(spec: &OnReadSpec) -> ReadBuffers {
        let count = spec.pool.unwrap_or(1).max(1);
        ReadBuffers {
            bufs: vec![vec![0; spec.buffer]; count],
            next: 0,
        }
    }

    /// The buffer the next read lands in.
    pub fn current(&mut self) -> &mut [u8] {
        let i = self.next % self.bufs.len().max(1);
        self.bufs
            .get_mut(i)
            .map_or(&mut [][..], |b| b.as_mut_slice())
    }

    /// Take the `n` bytes the last read put into the current buffer; the next read
    /// gets the pool's next buffer.
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let read = self.current().get(..n).unwrap_or_default().to_vec();
        self.next = self.next.wrapping_add(1);
        read
    }
}

/// The actors of one run, in creation order, with a rotating cursor so that waiting for
/// "the next event of anyone" visits every actor fairly.
#[derive(Debug)]
pub struct ActorTable<R: TestRuntime> {
    entries: Vec<(String, Entry<R>)>,
    cursor: usize,
}

impl<R: TestRuntime> Default for ActorTable<R> {
    fn default() -> Self {
        ActorTable {
            entries: Vec::new(),
            cursor: 0,
        }
    }
}

impl<R: TestRuntime> ActorTable<R> {
    fn get(&self, name: &str) -> Option<&Actor<R>> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| &e.actor)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Actor<R>> {
        self.entry_mut(name).map(|e| &mut e.actor)
    }

    fn entry_mut(&mut self, name: &str) -> Option<&mut Entry<R>> {
        self.entries
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }

    fn insert(&mut self, name: &str, actor: Actor<R>) {
        let entry = Entry {
            actor,
            read_into: None,
            finished: false,
        };
        match self.entry_mut(name) {
            Some(e) => *e = entry,
            None => self.entries.push((name.to_owned(), entry)),
        }
    }

    /// Mark an actor live again (after `listen` or `connect`).
    fn revive(&mut self, name: &str) {
        if let Some(e) = self.entry_mut(name) {
            e.finished = false;
        }
    }

    /// Names of the actors not finished yet.
    pub fn live(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, e)| !e.finished)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Ask each live actor, starting after the last one that produced an event, for its
    /// next event with `f` (`Ready(Some)` = event, `Ready(None)` = finished, `Pending` =
    /// nothing now): the first event found (`Ready(Some)`), `Ready(None)` when no actor
    /// is live (nothing to wait for), `Pending` otherwise.
    pub fn visit<E>(
        &mut self,
        mut f: impl FnMut(&mut Entry<R>) -> TaskPoll<Option<E>>,
    ) -> TaskPoll<Option<(String, E)>> {
        let n = self.entries.len();
        let mut live = false;
        for k in 0..n {
            let i = (self.cursor + k) % n;
            let Some((name, entry)) = self.entries.get_mut(i) else {
                continue;
            };
            if entry.finished {
                continue;
            }
            match f(entry) {
                TaskPoll::Ready(Some(ev)) => {
                    self.cursor = i + 1;
                    return TaskPoll::Ready(Some((name.clone(), ev)));
                }
                TaskPoll::Ready(None) => entry.finished = true,
                TaskPoll::Pending => live = true,
            }
        }
        if live {
            TaskPoll::Pending
        } else {
            TaskPoll::Ready(None)
        }
    }

    /// Ask one actor (by name) the same way as [`visit`](Self::visit).
    pub fn poll_one<E>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Entry<R>) -> TaskPoll<Option<E>>,
    ) -> TaskPoll<Option<E>> {
        let Some(entry) = self.entry_mut(name) else {
            return TaskPoll::Ready(None);
        };
        if entry.finished {
            return TaskPoll::Ready(None);
        }
        let r = f(entry);
        if let TaskPoll::Ready(None) = r {
            entry.finished = true;
        }
        r
    }

    /// Take a socket actor out (to call `connect` on it again); `None` when `name` is no
    /// socket.
    fn take_socket(&mut self, name: &str) -> Option<Socket<R>> {
        let at = self
            .entries
            .iter()
            .position(|(n, e)| n == name && matches!(e.actor, Actor::Socket(_)))?;
        match self.entries.remove(at).1.actor {
            Actor::Socket(s) => Some(s),
            Actor::Server(_) => None,
        }
    }

    /// Take every actor out (to tear the run down).
    fn drain(&mut self) -> Vec<Actor<R>> {
        std::mem::take(&mut self.entries)
            .into_iter()
            .map(|(_, e)| e.actor)
            .collect()
    }
}

/// The actors of one run on runtime `R`, plus what the scenario needs to build options:
/// the temporary directory for IPC paths and the listening ports.
#[derive(Debug)]
pub struct NetActors<'s, R: TestRuntime> {
    scenario: &'s Scenario,
    tmp: PathBuf,
    /// Each server's port, remembered at `listening` like the Node runner does (so
    /// `port_of` still works after the server closed).
    ports: BTreeMap<String, u16>,
    /// The labelled `write`/`end` callbacks waiting to run.
    callbacks: Callbacks,
    /// The `AbortController` behind each actor's live `signal` (for the `abort` step).
    controllers: BTreeMap<String, AbortController>,
    /// The actors the script acted on in Node's poll phase since they last had nothing
    /// to say, oldest first: what such an action causes (a callback, a destroyed
    /// handle's `close`) comes before anyone's new IO, as in Node's loop.
    touched: std::collections::VecDeque<String>,
    /// The actors the script acted on since the driver last looked.
    acted_on: Vec<String>,
    /// The actors.
    pub table: ActorTable<R>,
}

impl<'s, R: TestRuntime> NetActors<'s, R> {
    /// No actors yet; IPC paths live in `tmp`.
    pub fn new(scenario: &'s Scenario, tmp: &Path) -> Self {
        NetActors {
            scenario,
            tmp: tmp.to_path_buf(),
            ports: BTreeMap::new(),
            callbacks: Callbacks::default(),
            controllers: BTreeMap::new(),
            touched: std::collections::VecDeque::new(),
            acted_on: Vec::new(),
            table: ActorTable::default(),
        }
    }

    fn server(&self, name: &str) -> Option<&Server<R>> {
        match self.table.get(name) {
            Some(Actor::Server(s)) => Some(s),
            _ => None,
        }
    }

    fn socket(&self, name: &str) -> Option<&Socket<R>> {
        match self.table.get(name) {
            Some(Actor::Socket(s)) => Some(s),
            _ => None,
        }
    }

    /// The TCP port a server listens on (for `port_of`).
    fn port_of(&self, name: &str) -> Result<u16, String> {
        self.ports
            .get(name)
            .copied()
            .ok_or_else(|| format!("NO_PORT_{name}"))
    }

    /// Remember the port `name` listens on (at its `listening` event), and return it.
    fn note_port(&mut self, name: &str) -> Option<u16> {
        let Some(Endpoint::Tcp(a)) = self.server(name).and_then(|s| s.address()) else {
            return None;
        };
        self.ports.insert(name.to_owned(), a.port());
        Some(a.port())
    }

    /// `server.listen(options)`; `port` replaces the spec's port for this call.
    fn listen(&mut self, name: &str, port: Option<&serde_json::Value>) -> Result<bool, String> {
        let spec: &ServerSpec = self
            .scenario
            .servers
            .get(name)
            .ok_or_else(|| format!("NO_SERVER_{name}"))?;
        let mut listen = spec.listen.clone();
        if port.is_some() {
            listen.port = port.cloned();
            listen.port_of = None;
        }
        let port = match &listen.port_of {
            Some(other) => self.port_of(other)?,
            None => 0,
        };
        let options = listen_options(&listen, &self.tmp, port)?;
        let signal = listen.signal.map(|s| self.signal_for(name, s));
        if !matches!(self.table.get(name), Some(Actor::Server(_))) {
            let server = Server::<R>::new(server_options(spec)?);
            self.table.insert(name, Actor::Server(Box::new(server)));
        }
        self.table.revive(name);
        match self.table.get_mut(name) {
            Some(Actor::Server(s)) => {
                if let Some(signal) = &signal {
                    s.set_signal(signal);
                }
                s.listen(options).map(|()| true).map_err(code)
            }
            _ => Err(format!("NO_SERVER_{name}")),
        }
    }

    /// The signal for `actor`'s `signal` option: a new controller's (kept for the `abort`
    /// step), or one already aborted.
    fn signal_for(&mut self, actor: &str, spec: SignalSpec) -> AbortSignal {
        match spec {
            SignalSpec::Aborted => AbortSignal::aborted_with(None),
            SignalSpec::Live => self
                .controllers
                .entry(actor.to_owned())
                .or_default()
                .signal(),
        }
    }

    /// `new net.Socket(options)` for a client: its constructor options, and its `signal`.
    fn new_socket(&mut self, name: &str, spec: &ClientSpec) -> Result<Socket<R>, String> {
        let (socket_options, _) = connect_options(spec, &self.tmp, Some(0))?;
        let mut socket = Socket::<R>::new(socket_options);
        if let Some(s) = spec.connect.signal {
            socket.set_signal(&self.signal_for(name, s));
        }
        Ok(socket)
    }

    fn client_spec(&self, name: &str) -> Result<&'s ClientSpec, String> {
        let scenario: &'s Scenario = self.scenario;
        scenario
            .clients
            .get(name)
            .ok_or_else(|| format!("NO_CLIENT_{name}"))
    }

    /// `new net.Socket(options)` (with the `timeout` option applied, as the Node runner
    /// does) without connecting.
    fn create(&mut self, name: &str) -> Result<bool, String> {
        let spec = self.client_spec(name)?;
        let mut socket = self.new_socket(name, spec)?;
        if let Some(ms) = spec.connect.timeout {
            socket.set_timeout(ms as f64).map_err(code)?;
        }
        self.table.insert(name, Actor::Socket(socket));
        self.set_read_into(name, spec);
        Ok(true)
    }

    /// Give a client with the `onread` option its buffers.
    fn set_read_into(&mut self, name: &str, spec: &ClientSpec) {
        if let (Some(onread), Some(entry)) = (&spec.connect.onread, self.table.entry_mut(name)) {
            entry.read_into = Some(ReadBuffers::new(onread));
        }
    }

    fn connect(&mut self, name: &str) -> Result<bool, String> {
        let spec = self.client_spec(name)?;
        let c = &spec.connect;
        let port = match (&c.path, &c.port, c.no_target) {
            (None, None, false) => Some(self.port_of(c.port_of())?),
            _ => None,
        };
        let (_, mut options) = connect_options(spec, &self.tmp, port)?;
        if let Some(server) = &c.local_port_of {
            options.local_port = Some(self.port_of(server)?);
        }
        // `socket.connect(options)` on the client's existing socket (the `timeout` option
        // was applied when it was created), or `net.connect(options)` on a new one.
        let mut socket = match self.table.take_socket(name) {
            Some(existing) => {
                options.timeout = None;
                existing
            }
            None => self.new_socket(name, spec)?,
        };
        if let Some(answers) = &c.lookup {
            let answers: Vec<LookupAddress> = answers
                .iter()
                .map(|a| LookupAddress::new(a.address.clone(), u32::from(a.family)))
                .collect();
            // Node's custom lookup as the scenario runner writes it: every address when
            // asked for all (happy eyeballs), else the first.
            socket.set_lookup(move |_host: &str, o: LookupOptions| {
                Ok(if o.all {
                    answers.clone()
                } else {
                    answers.iter().take(1).cloned().collect()
                })
            });
        }
        if let Some(c) = &c.lookup_error {
            let failure = lookup_failure(c)?;
            socket.set_lookup(move |host: &str, _: LookupOptions| Err(failure(host)));
        }
        let result = socket.connect(options);
        self.table.insert(name, Actor::Socket(socket));
        self.set_read_into(name, spec);
        self.table.revive(name);
        result.map(|()| true).map_err(code)
    }

    fn server_property(&self, server: &Server<R>, name: &str, property: &str) -> PropertyValue {
        let path = self
            .scenario
            .servers
            .get(name)
            .and_then(|s| s.listen.path.as_ref());
        let path_exists = path
            .is_some_and(|p| R::socket_file_mode(&self.tmp.join(p).to_string_lossy()).is_some());
        server_property(server.core(), property, server.connections(), path_exists)
    }
}

/// The Rust-only getsockopt read-backs (seconds and counts as libuv sets them).
fn sockopt<R: TestRuntime>(socket: &Socket<R>, opt: &str) -> PropertyValue {
    let (ka, no_delay) = match socket.keep_alive_settings() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return PropertyValue::Str(format!("<getsockopt failed: {e}>")),
        None => return PropertyValue::Undefined,
    };
    match opt {
        "noDelay" => PropertyValue::Bool(no_delay),
        "keepAlive" => PropertyValue::Bool(ka.enabled),
        "keepIdle" => PropertyValue::Number(ka.idle_secs as f64),
        "keepInterval" => PropertyValue::Number(ka.interval_secs as f64),
        "keepCount" => PropertyValue::Number(f64::from(ka.count)),
        other => PropertyValue::Str(format!("<unknown sockopt {other}>")),
    }
}

impl<R: TestRuntime> Actors for NetActors<'_, R> {
    fn perform(&mut self, actor: &str, op: &Op) -> Result<bool, String> {
        if !self.acted_on.iter().any(|t| t == actor) {
            self.acted_on.push(actor.to_owned());
        }
        // An actor whose events had ended may have more to say after this call (the
        // callback of a write after `close`, the `close` of a server whose listen
        // failed): ask it again.
        self.table.revive(actor);
        match op {
            Op::Listen { port } => return self.listen(actor, port.as_ref()),
            Op::Abort => {
                return match self.controllers.get(actor) {
                    Some(controller) => {
                        controller.abort();
                        Ok(true)
                    }
                    None => Err(format!("NO_SIGNAL_{actor}")),
                }
            }
            Op::Create => return self.create(actor),
            Op::Connect => return self.connect(actor),
            Op::Close | Op::SetMaxConnections { .. } => {
                let Some(Actor::Server(s)) = self.table.get_mut(actor) else {
                    return Err(format!("NO_SERVER_{actor}"));
                };
                match op {
                    // Node's `server.close()` never throws: not running is reported to
                    // the callback only, which the scenarios do not pass.
                    Op::Close => {
                        let _ = s.close();
                    }
                    Op::SetMaxConnections { value } => s.set_max_connections(Some(*value)),
                    _ => {}
                }
                return Ok(true);
            }
            _ => {}
        }
        let callbacks = &mut self.callbacks;
        let s = match self.table.get_mut(actor) {
            Some(Actor::Socket(s)) => s,
            _ => return Err(format!("NO_SOCKET_{actor}")),
        };
        match op {
            Op::Write {
                data,
                repeat,
                cb: None,
                encoding,
            } => {
                let bytes = Op::encoded_data(data, *repeat, encoding.as_deref())?;
                return Ok(s.write(bytes));
            }
            Op::Write {
                data,
                repeat,
                cb: Some(label),
                encoding,
            } => {
                let bytes = Op::encoded_data(data, *repeat, encoding.as_deref())?;
                let r = s.write_tracked(bytes);
                callbacks.on_write(actor, r.id, label);
                return Ok(r.ok);
            }
            // Node's `end()` never throws: without a callback its error goes nowhere.
            Op::End {
                data: None,
                cb: None,
            } => {
                let _ = s.end();
            }
            Op::End {
                data: Some(d),
                cb: None,
            } => return Ok(s.end_with(Bytes::from(d.clone()))),
            // `end([data], cb)`: `end_with` is `write` then `end`; split here to see `end`'s
            // result, which is the callback's error when it fails at once.
            Op::End {
                data,
                cb: Some(label),
            } => {
                let ok = data
                    .as_ref()
                    .is_none_or(|d| s.write(Bytes::from(d.clone())));
                // Node's Writable.end after a plain destroy(): the callback joins
                // kOnFinished, which destroy's errorBuffer already flushed, so it is
                // never called (end itself is a silent no-op).
                let destroyed_before = s.destroyed();
                s.end().map_err(code)?;
                if !destroyed_before {
                    callbacks.on_end(actor, label);
                }
                return Ok(ok);
            }
            Op::Destroy => s.destroy(None),
            Op::DestroyWithError { code: c } => {
                let code = ErrorCode::from_name(c).ok_or_else(|| format!("UNKNOWN_CODE_{c}"))?;
                s.destroy(Some(Error::new(
                    code,
                    ErrorClass::Error,
                    "destroyed by the scenario",
                )));
            }
            Op::DestroySoon => s.destroy_soon(),
            Op::ResetAndDestroy => s.reset_and_destroy().map_err(code)?,
            Op::Pause => s.pause(),
            Op::Resume => s.resume(),
            Op::SetTimeout { ms } => s.set_timeout(*ms as f64).map_err(code)?,
            Op::SetEncoding { encoding } => s.set_encoding(encoding).map_err(code)?,
            Op::SetNoDelay { enable } => s.set_no_delay(enable.unwrap_or(true)),
            Op::SetKeepAlive {
                enable,
                initial_delay_ms,
            } => s.set_keep_alive(enable.unwrap_or(true), initial_delay_ms.unwrap_or(0) as f64),
            other => return Err(format!("UNSUPPORTED_OP_{other:?}")),
        }
        Ok(true)
    }

    fn property(&mut self, actor: &str, property: &str) -> PropertyValue {
        if let Some(server) = self.server(actor) {
            return self.server_property(server, actor, property);
        }
        match self.socket(actor) {
            Some(s) => match property.strip_prefix("sockopt.") {
                Some(opt) => sockopt::<R>(s, opt),
                None => socket_property(s.core(), property),
            },
            None => PropertyValue::Str(format!("<no actor {actor}>")),
        }
    }
}

/// The error `destroy_with_error` passes (the Node runner's `new Error(...)` with `code`).
pub fn scenario_error(c: &str) -> Result<Error, String> {
    let code = ErrorCode::from_name(c).ok_or_else(|| format!("UNKNOWN_CODE_{c}"))?;
    Ok(Error::new(
        code,
        ErrorClass::Error,
        "destroyed by the scenario",
    ))
}

/// Runs scenarios on runtime `R` ([`ScenarioDriver`]), held to [`Target::Nodenet`]:
/// each scenario runs in one [`TestRuntime::block_on`].
#[derive(Debug)]
pub struct NetDriver<R> {
    runtime: PhantomData<fn() -> R>,
}

impl<R: TestRuntime> NetDriver<R> {
    /// A driver on runtime `R`.
    pub fn new() -> Self {
        NetDriver {
            runtime: PhantomData,
        }
    }
}

impl<R: TestRuntime> Default for NetDriver<R> {
    fn default() -> Self {
        Self::new()
    }
}

/// A fresh temporary directory for one run (IPC socket files live there).
fn temp_dir() -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("nodenet-conf-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Hand one backend event to the script (registering an accepted socket first).
pub fn deliver<R: TestRuntime>(
    script: &mut ScriptRunner<'_>,
    actors: &mut NetActors<'_, R>,
    actor: &str,
    ev: Ev<R>,
) {
    let event = match ev {
        Ev::Read(bytes) => Event::Read(bytes),
        Ev::Socket(ev) => {
            for event in actors.callbacks.trace_events(actor, ev) {
                script.record(actor, &event, actors);
            }
            return;
        }
        Ev::Server(ServerEvent::Connection(socket)) => {
            let name = script.accept_name();
            actors.table.insert(&name, Actor::Socket(socket));
            Event::Connection
        }
        Ev::Server(ServerEvent::Listening) => {
            if let Some(port) = actors.note_port(actor) {
                script.note_port(port);
            }
            Event::Listening
        }
        Ev::Server(ServerEvent::Drop(_)) => Event::Drop,
        // Node closes a blocked peer silently (v22.13): no event to record.
        Ev::Server(ServerEvent::Blocked { .. }) => return,
        Ev::Server(ServerEvent::Error(e)) => error_event(e),
        Ev::Server(ServerEvent::Close) => Event::Close(None),
    };
    script.record(actor, &event, actors);
}

impl<R: TestRuntime> ScenarioDriver for NetDriver<R> {
    fn name(&self) -> &str {
        R::NAME
    }

    fn target(&self) -> Target {
        Target::Nodenet
    }

    fn run(&mut self, scenario: &Scenario) -> Result<Traces, DriverError> {
        let tmp = temp_dir().map_err(|e| DriverError(format!("temporary directory: {e}")))?;
        let outcome = R::block_on(run_scenario::<R>(scenario, &tmp));
        let _ = std::fs::remove_dir_all(&tmp);
        outcome
    }
}

/// One scenario on runtime `R`, IPC paths under `tmp`: feed the actors' events to the
/// script until it is done (or [`HARD_LIMIT`] passed), then tear everything down.
async fn run_scenario<R: TestRuntime>(
    scenario: &Scenario,
    tmp: &Path,
) -> Result<Traces, DriverError> {
    let tmp_text = tmp.to_string_lossy().into_owned();
    let started = <R as nodenet::Runtime>::now();
    let hard_deadline = started + HARD_LIMIT;
    let mut actors = NetActors::<R>::new(scenario, tmp);
    let mut script = ScriptRunner::new(scenario, Some(&tmp_text), started);
    let mut outcome = Ok(());
    // Whether the script's latest actions ran in Node's poll phase (handling an IO
    // event), where what they cause (a destroyed handle's close) comes before the next
    // IO; actions after a timer (a `sleep`, a `timeout` event) or in a `close` handler
    // run in the timers or close phase, which Node's poll phase follows.
    let mut in_poll_phase = false;
    loop {
        let now = <R as nodenet::Runtime>::now();
        let poll = script.poll(now, &mut actors);
        let acted_on = std::mem::take(&mut actors.acted_on);
        if std::mem::take(&mut in_poll_phase) {
            for name in acted_on {
                if !actors.touched.contains(&name) {
                    actors.touched.push_back(name);
                }
            }
        }
        match poll {
            Poll::Done => break,
            Poll::Wait { deadline } => {
                if now >= hard_deadline {
                    outcome = Err(DriverError(format!(
                        "{}: hard time limit of {HARD_LIMIT:?} hit",
                        scenario.name
                    )));
                    break;
                }
                let until = deadline.min(hard_deadline);
                if actors.table.live().is_empty() {
                    // Nobody can produce an event: only the script's deadline matters.
                    R::sleep(until.saturating_duration_since(now)).await;
                    continue;
                }
                // Node runs what the script's actions caused (their ticks, a destroyed
                // handle's close) before it polls for IO again: the actors acted upon are
                // asked first, each until it has nothing to say right now.
                let mut next = None;
                while let Some(name) = actors.touched.front().cloned() {
                    match poll_now(&mut actors.table, &name).await {
                        Some(ev) => {
                            next = Some((name, ev));
                            break;
                        }
                        None => {
                            actors.touched.pop_front();
                        }
                    }
                }
                let next = match next {
                    Some(found) => Some(found),
                    None => next_of_any(&mut actors.table, until).await,
                };
                let Some((actor, mut ev)) = next else {
                    continue;
                };
                in_poll_phase = !matches!(
                    &ev,
                    Ev::Socket(SocketEvent::Timeout | SocketEvent::Close { .. })
                        | Ev::Server(ServerEvent::Close)
                );
                // Node emits some events back to back in one synchronous call, so a
                // script step waiting for the first runs after the second: deliver the
                // follower too when it is there already. Inside the connect emission
                // (until `Ready`) that includes the parked write's completion.
                let mut connecting = false;
                loop {
                    let follows = match &ev {
                        Ev::Socket(SocketEvent::Ready) => false,
                        Ev::Socket(e) => emits_follower(e) || connecting,
                        Ev::Server(_) | Ev::Read(_) => false,
                    };
                    connecting =
                        follows && (connecting || matches!(&ev, Ev::Socket(SocketEvent::Connect)));
                    deliver(&mut script, &mut actors, &actor, ev);
                    if !follows {
                        break;
                    }
                    match poll_now(&mut actors.table, &actor).await {
                        Some(next) => ev = next,
                        None => break,
                    }
                }
            }
        }
    }
    let traces = script.into_traces();
    // Tear down: destroy every socket, close every server, drop them (closing the file
    // descriptors); the caller removes the run's directory.
    for actor in actors.table.drain() {
        match actor {
            Actor::Socket(mut s) => s.destroy(None),
            Actor::Server(mut s) => {
                let _ = s.close();
            }
        }
    }
    outcome.map(|()| traces)
}
