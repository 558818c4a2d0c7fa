//! The random scenarios of the seeded sweep over the simulation runtime: from one `u64`
//! seed, a fault mix ([`Faults::swarm`]), a host `server` running a real
//! `Server<SimRuntime>` with random options, backlog, `max_connections` and sometimes a
//! block list, whose accepted `Socket<SimRuntime>`s echo, sink, greet, pause, reset or
//! destroy; one to three client hosts whose programs connect (to the server's name, a
//! DNS name with dead records, an IP literal, an unknown name or a closed port) and
//! write random sizes, end, destroy, reset, pause and resume, and set idle timeouts; a
//! server closed or shut down with a deadline at a random time (and sometimes listening
//! again afterwards); and a `chaos` host that partitions and repairs links and crashes
//! and restarts the server. Every socket is checked against Node's invariants by the runtime
//! ([`Sim`]'s checker); [`run`] returns the verdict, the trace hash and the counts of
//! every event kind, action and fault the seed produced.
//!
//! ```
//! use nodenet_sim::{scenario, TraceMode};
//! let a = scenario::run(7, TraceMode::HashOnly);
//! let b = scenario::run(7, TraceMode::HashOnly);
//! assert!(a.result.is_ok(), "{:?}", a.result);
//! assert_eq!(a.hash, b.hash);
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use nodenet_core::{ConnectOptions, ListenOptions, ServerOptions, SocketEvent, SocketOptions};

use crate::faults::Faults;
use crate::rng::Rng;
use crate::runtime::{self as rt, RunStats, ServerEvent, Sim, SimConfig, SimError, Socket};
use crate::trace::TraceMode;

/// What one seed produced.
#[derive(Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The run's statistics, or its failure (with the replay command).
    pub result: Result<RunStats, SimError>,
    /// FNV-1a of the trace (the offset basis with [`TraceMode::Off`]).
    pub hash: u64,
    /// The trace lines (with [`TraceMode::Full`]).
    pub trace: Vec<String>,
    /// How often each event kind, action and fault occurred.
    pub counts: Counts,
}

/// Occurrences by name: socket events (`Data`, `Error(ECONNRESET)`, `Close(true)`, ...),
/// server events (`server Drop`, `server Error(EMFILE)`, ...), the programs' actions
/// (`write`, `pause`, `shutdown`, ...), the chaos host's (`partition`, `crash`, ...) and
/// the kernel's injected faults (`fault refused`, `fault reset`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub BTreeMap<String, u64>);

impl Counts {
    fn add(&mut self, name: impl Into<String>, n: u64) {
        if n > 0 {
            *self.0.entry(name.into()).or_insert(0) += n;
        }
    }

    /// Add every count of `other`.
    pub fn merge(&mut self, other: &Counts) {
        for (k, v) in &other.0 {
            self.add(k.clone(), *v);
        }
    }

    /// The count of `name` (0 when it never occurred).
    pub fn get(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}

/// The programs' shared state: the scenario's generator and the counts. One thread
/// polls every task, so a `RefCell` borrowed only between awaits is enough.
struct Ctx {
    rng: Rng,
    /// For choices added after the sweep's first seeds were fixed (the server's block
    /// list): a stream of its own, so the older choices of every seed stay the same.
    more: Rng,
    counts: Counts,
}

type Shared = Rc<RefCell<Ctx>>;

fn count(ctx: &Shared, name: impl Into<String>) {
    ctx.borrow_mut().counts.add(name, 1);
}

fn ms(ctx: &Shared, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(ctx.borrow_mut().rng.range(lo, hi))
}

/// A scenario that needs more steps than this is livelocked.
const STEP_LIMIT: u64 = 300_000;
const PORT: u16 = 80;

/// Run the scenario of `seed` with the invariant checker on.
pub fn run(seed: u64, trace: TraceMode) -> Outcome {
    let faults = Faults::swarm(&mut Rng::fork(seed, 3));
    let mut config = SimConfig::new(seed).faults(faults).trace(trace);
    config.step_limit = STEP_LIMIT;
    // The server program always waits on its server: one that stops accepting is a bug.
    config.servers_polled = true;
    let mut sim = Sim::with_config(config);
    let ctx: Shared = Rc::new(RefCell::new(Ctx {
        rng: Rng::fork(seed, 2),
        more: Rng::fork(seed, 4),
        counts: Counts::default(),
    }));

    let server_ctx = Rc::clone(&ctx);
    sim.host_with("server", Some(&["10.0.0.1", "fd00::1"]), move || {
        server_program(Rc::clone(&server_ctx))
    });
    let records = pick_records(
        &mut ctx.borrow_mut().rng,
        &["10.0.0.1", "fd00::1", "10.0.0.99", "fd00::99"],
    );
    sim.dns("svc.test", &records);
    let clients = ctx.borrow_mut().rng.range(1, 4);
    for i in 0..clients {
        let name = format!("client{i}");
        let addrs = [format!("10.0.1.{i}"), format!("fd00::1:{i}")];
        let addrs: Vec<&str> = addrs.iter().map(String::as_str).collect();
        sim.client_with(&name, Some(&addrs), client_program(Rc::clone(&ctx)));
    }
    let chaos_ctx = Rc::clone(&ctx);
    sim.host_with("chaos", Some(&["10.0.2.1"]), move || {
        chaos_program(Rc::clone(&chaos_ctx), clients)
    });

    let result = sim.run();
    let injected = sim.injected();
    let mut counts = std::mem::take(&mut ctx.borrow_mut().counts);
    for (name, n) in [
        ("fault refused", injected.refused),
        ("fault black hole", injected.black_holed),
        ("fault reset", injected.resets),
        ("fault accept EMFILE", injected.accept_emfile),
        ("fault short write", injected.short_writes),
        ("fault IPv6 unreachable", injected.ipv6_unreachable),
    ] {
        counts.add(name, n);
    }
    // Seeds whose runs exercised each server check (a check that never ran proves
    // nothing).
    let checked = sim.checked();
    for (name, n) in [
        ("checked server events", checked.server_events),
        ("checked accounting", checked.accounting),
        (
            "checked accounting after Drop/Blocked",
            checked.accounting_refused,
        ),
        (
            "checked accounting after a withdrawal",
            checked.accounting_withdrawn,
        ),
        ("checked accept error bursts", checked.accept_bursts),
        ("checked accept pauses", checked.accept_pauses),
        (
            "checked getConnections with connections open",
            checked.connections_open,
        ),
        (
            "checked accept queue waiting",
            checked.accept_queues_waiting,
        ),
        ("checked shutdown deadline", checked.shutdown_deadlines),
        (
            "checked shutdown deadline after destroying",
            checked.shutdown_destroyed,
        ),
    ] {
        counts.add(format!("seeds {name}"), u64::from(n > 0));
    }
    Outcome {
        seed,
        result,
        hash: sim.trace_hash(),
        trace: sim.trace(),
        counts,
    }
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

/// `len` bytes of a fixed random block from a random offset: distinct content per write
/// (so reordering or loss shows in the checker's prefix check) without generating bytes.
fn payload(ctx: &Shared, len: usize) -> Bytes {
    let pool = payload_pool();
    let len = len.min(pool.len());
    let off = ctx.borrow_mut().rng.below((pool.len() - len + 1) as u64) as usize;
    pool.slice(off..off + len)
}

/// What a socket's program does at a planned time.
#[derive(Clone, Copy, Debug)]
enum Act {
    Write(usize),
    End,
    Destroy,
    DestroySoon,
    Reset,
    Pause,
    Resume,
    SetTimeout(u64),
}

impl Act {
    fn name(self) -> &'static str {
        match self {
            Act::Write(_) => "write",
            Act::End => "end",
            Act::Destroy => "destroy",
            Act::DestroySoon => "destroySoon",
            Act::Reset => "resetAndDestroy",
            Act::Pause => "pause",
            Act::Resume => "resume",
            Act::SetTimeout(_) => "setTimeout",
        }
    }
}

/// The count name of a socket event: its variant, errors with their code, `Close` with
/// `hadError`.
fn event_name(ev: &SocketEvent) -> String {
    match ev {
        SocketEvent::Error(e) => format!("Error({})", e.code().as_str()),
        SocketEvent::Close { had_error } => format!("Close({})", had_error.unwrap_or(false)),
        other => {
            let text = format!("{other:?}");
            let end = text
                .find(|c: char| !c.is_alphanumeric())
                .unwrap_or(text.len());
            text[..end].to_string()
        }
    }
}

/// One socket's program: carry out `agenda` (times from now) while handling its events
/// — echo data back if `echo`, end after the peer's `End` when half-open, write queued
/// payloads as `Drain` allows, destroy on `Timeout` — until the socket is done.
async fn drive(ctx: Shared, mut socket: Socket, mut agenda: Vec<(Duration, Act)>, echo: bool) {
    let start = rt::now();
    let half_open = socket.core().allow_half_open();
    let mut queue: VecDeque<Bytes> = VecDeque::new();
    let mut blocked = false;
    agenda.sort_by_key(|(t, _)| *t);
    let mut agenda: VecDeque<(Duration, Act)> = agenda.into();
    loop {
        let ev = match agenda.front().map(|(t, _)| *t) {
            Some(at) => {
                let wait = at.saturating_sub(rt::now() - start);
                match rt::timeout(wait, socket.next_event()).await {
                    Ok(ev) => ev,
                    Err(_) => {
                        let Some((at, act)) = agenda.pop_front() else {
                            continue;
                        };
                        let deferred = matches!(act, Act::End) && !queue.is_empty();
                        if !deferred {
                            count(&ctx, act.name());
                        }
                        match act {
                            Act::Write(len) => {
                                queue.push_back(payload(&ctx, len));
                                flush(&mut socket, &mut queue, &mut blocked);
                            }
                            // A polite writer ends after its queued data.
                            Act::End if !queue.is_empty() => {
                                let later = at + Duration::from_millis(20);
                                let ix = agenda.partition_point(|(t, _)| *t <= later);
                                agenda.insert(ix, (later, Act::End));
                            }
                            Act::End => {
                                let _ = socket.end();
                            }
                            Act::Destroy => socket.destroy(None),
                            Act::DestroySoon => socket.destroy_soon(),
                            Act::Reset => {
                                let _ = socket.reset_and_destroy();
                            }
                            Act::Pause => socket.pause(),
                            Act::Resume => socket.resume(),
                            Act::SetTimeout(ms) => {
                                let _ = socket.set_timeout(ms as f64);
                            }
                        }
                        continue;
                    }
                }
            }
            None => socket.next_event().await,
        };
        let Some(ev) = ev else { break };
        count(&ctx, event_name(&ev));
        match ev {
            SocketEvent::Data(d) if echo => {
                socket.write(d);
            }
            SocketEvent::End if half_open => {
                let later = rt::now() - start + ms(&ctx, 0, 20);
                let ix = agenda.partition_point(|(t, _)| *t <= later);
                agenda.insert(ix, (later, Act::End));
            }
            SocketEvent::Drain => {
                blocked = false;
                flush(&mut socket, &mut queue, &mut blocked);
            }
            SocketEvent::Timeout => socket.destroy(None),
            _ => {}
        }
    }
}

/// Write queued payloads until `write` returns false (then wait for `Drain`).
fn flush(socket: &mut Socket, queue: &mut VecDeque<Bytes>, blocked: &mut bool) {
    while !*blocked {
        let Some(data) = queue.pop_front() else {
            return;
        };
        if !socket.write(data) {
            *blocked = true;
        }
    }
}

/// A client: one socket to a random target with random writes, then an end, destroy,
/// reset, `destroySoon` or a pause; an idle timeout (Node's `setTimeout`, destroying on
/// `Timeout`) so that no client waits forever on a peer that went silent.
async fn client_program(ctx: Shared) -> rt::Result {
    let (opts, connect, agenda) = {
        let mut c = ctx.borrow_mut();
        let r = &mut c.rng;
        let host = *r
            .pick(&[
                "server", "svc.test", "svc.test", "10.0.0.1", "fd00::1", "nx.test",
            ])
            .unwrap_or(&"server");
        let port = if r.chance(80) { PORT + 1 } else { PORT };
        let opts = SocketOptions {
            allow_half_open: r.chance(400),
            high_water_mark: *r.pick(&[512usize, 16 * 1024]).unwrap_or(&512),
            ..SocketOptions::default()
        };
        let mut connect = ConnectOptions::tcp(port, host);
        if r.chance(200) {
            connect.family = if r.chance(500) { 4 } else { 6 };
        }
        let mut agenda = Vec::new();
        let mut t = Duration::ZERO;
        for _ in 0..r.range(0, 4) {
            t += Duration::from_millis(r.range(0, 50));
            agenda.push((t, Act::Write(r.range(0, 40_000) as usize)));
        }
        t += Duration::from_millis(r.range(0, 100));
        let last = match r.below(10) {
            0 => Act::Destroy,
            1 => Act::Reset,
            2 => Act::DestroySoon,
            3 => Act::Pause,
            _ => Act::End,
        };
        agenda.push((t, last));
        if matches!(last, Act::Pause) {
            agenda.push((t + Duration::from_millis(r.range(1, 500)), Act::Resume));
            agenda.push((t + Duration::from_millis(r.range(1, 600)), Act::End));
        }
        if r.chance(150) {
            let at = Duration::from_millis(r.range(0, 400));
            agenda.push((at, Act::SetTimeout(r.range(1, 200))));
        }
        (opts, connect, agenda)
    };
    let mut socket = Socket::new(opts);
    let idle = ms(&ctx, 5, 30_000);
    let _ = socket.set_timeout(idle.as_millis() as f64);
    if let Err(e) = socket.connect(connect) {
        count(&ctx, format!("connect threw {}", e.code().as_str()));
        return Ok(());
    }
    drive(ctx, socket, agenda, false).await;
    Ok(())
}

/// How an accepted connection behaves.
#[derive(Clone, Copy, Debug)]
enum Role {
    Echo,
    Sink,
    Greeter,
    Pauser,
    Resetter,
    Destroyer,
}

/// The server host's program (again after each restart): listen with random options,
/// give each connection a role, and maybe close, shut down or change
/// `max_connections` at a random time.
async fn server_program(ctx: Shared) -> rt::Result {
    #[derive(Clone, Copy)]
    enum Control {
        Close,
        Shutdown(Duration),
        SetMax(Option<u32>),
        /// `listen()` again after a `close()` or `shutdown()`.
        Listen,
    }
    let (options, listen, max, mut controls) = {
        let mut c = ctx.borrow_mut();
        let r = &mut c.rng;
        let socket = SocketOptions {
            allow_half_open: r.chance(500),
            pause_on_connect: r.chance(150),
            high_water_mark: *r.pick(&[1024usize, 16 * 1024]).unwrap_or(&1024),
            ..SocketOptions::default()
        };
        let listen = ListenOptions::port(PORT).backlog(r.range(1, 8) as u32);
        let max = r.chance(400).then(|| r.range(0, 3) as u32);
        let mut controls = Vec::new();
        if r.chance(300) {
            controls.push((Duration::from_millis(r.range(0, 500)), Control::Close));
        } else if r.chance(250) {
            let at = Duration::from_millis(r.range(0, 500));
            let deadline = Duration::from_millis(r.range(0, 300));
            controls.push((at, Control::Shutdown(deadline)));
        }
        if r.chance(150) {
            let max = (!r.chance(500)).then(|| r.range(0, 2) as u32);
            controls.push((Duration::from_millis(r.range(0, 300)), Control::SetMax(max)));
        }
        // Sometimes the closed (or shut down) server listens again a little later.
        let stop = controls
            .iter()
            .find(|(_, c)| matches!(c, Control::Close | Control::Shutdown(_)))
            .map(|(t, c)| match c {
                Control::Shutdown(d) => *t + *d,
                _ => *t,
            });
        if let Some(at) = stop.filter(|_| c.more.chance(300)) {
            let later = Duration::from_millis(c.more.range(0, 300));
            controls.push((at + later, Control::Listen));
        }
        controls.sort_by_key(|(t, _)| *t);
        let mut options = ServerOptions::new(socket);
        if let Some(list) = block_list(&mut c.more) {
            options = options.block_list(std::sync::Arc::new(list));
        }
        (options, listen, max, VecDeque::from(controls))
    };
    let start = rt::now();
    let mut server = rt::create_server(options);
    server.set_max_connections(max);
    server.listen(listen.clone())?;
    loop {
        let ev = match controls.front().map(|(t, _)| *t) {
            Some(at) => {
                let wait = at.saturating_sub(rt::now() - start);
                match rt::timeout(wait, server.next_event()).await {
                    Ok(ev) => ev,
                    Err(_) => {
                        match controls.pop_front().map(|(_, c)| c) {
                            Some(Control::Close) => {
                                count(&ctx, "server close");
                                let _ = server.close();
                            }
                            Some(Control::Shutdown(d)) => {
                                count(&ctx, "server shutdown");
                                server.shutdown(rt::now() + d).await;
                            }
                            Some(Control::SetMax(m)) => {
                                count(&ctx, "server maxConnections");
                                server.set_max_connections(m);
                            }
                            Some(Control::Listen) => listen_again(&ctx, &mut server, &listen),
                            None => {}
                        }
                        continue;
                    }
                }
            }
            None => server.next_event().await,
        };
        let Some(ev) = ev else {
            // Nothing more can happen, unless the server is to listen again.
            match controls.front() {
                Some((at, Control::Listen)) => {
                    rt::sleep_until(start + *at).await;
                    controls.pop_front();
                    listen_again(&ctx, &mut server, &listen);
                    continue;
                }
                _ => break,
            }
        };
        let name = match &ev {
            ServerEvent::Listening => "Listening".to_string(),
            ServerEvent::Connection(_) => "Connection".to_string(),
            ServerEvent::Drop(_) => "Drop".to_string(),
            ServerEvent::Blocked { .. } => "Blocked".to_string(),
            ServerEvent::Error(e) => format!("Error({})", e.code().as_str()),
            ServerEvent::Close => "Close".to_string(),
        };
        count(&ctx, format!("server {name}"));
        match ev {
            ServerEvent::Connection(socket) => {
                rt::spawn(connection(Rc::clone(&ctx), socket));
            }
            // Sometimes start over on a failed accept (accepting is paused): the new
            // listener must accept at once.
            ServerEvent::Error(e)
                if e.syscall() == Some("accept") && ctx.borrow_mut().more.chance(300) =>
            {
                count(&ctx, "server close on accept error");
                let _ = server.close();
                listen_again(&ctx, &mut server, &listen);
            }
            _ => {}
        }
    }
    Ok(())
}

/// `server.listen()` again, with the first options (after a `close()` or `shutdown()`).
fn listen_again(ctx: &Shared, server: &mut rt::Server, listen: &ListenOptions) {
    count(ctx, "server listen again");
    if let Err(e) = server.listen(listen.clone()) {
        count(ctx, format!("server listen threw {}", e.code().as_str()));
    }
}

/// Sometimes a `blockList` for the server: one client's IPv4 address, or the IPv6
/// subnet of every client.
fn block_list(r: &mut Rng) -> Option<nodenet_core::BlockList> {
    if !r.chance(150) {
        return None;
    }
    let mut list = nodenet_core::BlockList::new();
    let added = if r.chance(500) {
        list.add_address(format!("10.0.1.{}", r.below(3)).as_str(), "ipv4")
    } else {
        list.add_subnet("fd00::1:0", 112, "ipv6")
    };
    added.ok().map(|()| list)
}

/// An accepted connection's program, by a random [`Role`].
async fn connection(ctx: Shared, mut socket: Socket) {
    let (role, agenda, timeout) = {
        let mut c = ctx.borrow_mut();
        let r = &mut c.rng;
        let role = *r
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
        let mut agenda = Vec::new();
        if socket.core().is_paused() {
            agenda.push((Duration::from_millis(r.range(1, 300)), Act::Resume));
        }
        match role {
            Role::Greeter => {
                agenda.push((Duration::ZERO, Act::Write(r.range(1, 30_000) as usize)));
                agenda.push((Duration::from_millis(r.range(0, 50)), Act::End));
            }
            Role::Pauser => {
                agenda.push((Duration::ZERO, Act::Pause));
                agenda.push((Duration::from_millis(r.range(1, 800)), Act::Resume));
            }
            Role::Resetter => agenda.push((Duration::from_millis(r.range(0, 200)), Act::Reset)),
            Role::Destroyer => {
                agenda.push((Duration::from_millis(r.range(0, 200)), Act::Destroy));
            }
            Role::Echo | Role::Sink => {}
        }
        let timeout = r.chance(200).then(|| r.range(5, 1000));
        (role, agenda, timeout)
    };
    count(&ctx, format!("role {role:?}"));
    if let Some(ms) = timeout {
        let _ = socket.set_timeout(ms as f64);
    }
    drive(ctx, socket, agenda, matches!(role, Role::Echo)).await;
}

/// The `chaos` host: maybe partitions the server from a client for a while, maybe
/// crashes the server and restarts it later.
async fn chaos_program(ctx: Shared, clients: u64) -> rt::Result {
    let (partition, crash) = {
        let mut c = ctx.borrow_mut();
        let r = &mut c.rng;
        let partition = r.chance(250).then(|| {
            (
                r.below(clients),
                Duration::from_millis(r.range(0, 300)),
                Duration::from_millis(r.range(1, 3000)),
            )
        });
        let crash = r.chance(150).then(|| {
            (
                Duration::from_millis(r.range(0, 400)),
                Duration::from_millis(r.range(1, 2000)),
            )
        });
        (partition, crash)
    };
    let mut plan: Vec<(Duration, &str, Option<String>)> = Vec::new();
    if let Some((client, at, length)) = partition {
        let name = format!("client{client}");
        plan.push((at, "partition", Some(name.clone())));
        plan.push((at + length, "repair", Some(name)));
    }
    if let Some((at, down)) = crash {
        plan.push((at, "crash", None));
        plan.push((at + down, "restart", None));
    }
    plan.sort_by_key(|(t, _, _)| *t);
    let start = rt::now();
    for (at, what, client) in plan {
        rt::sleep_until(start + at).await;
        count(&ctx, what);
        match (what, client) {
            ("partition", Some(c)) => rt::partition("server", &c),
            ("repair", Some(c)) => rt::repair("server", &c),
            ("crash", _) => rt::crash("server"),
            _ => rt::restart("server"),
        }
    }
    Ok(())
}
