//! The scenario interpreter for Rust drivers, IO-free like the core: it owns the step
//! pointer, the waits, the reactive rules and the trace; the driver owns the sockets and
//! the clock.
//!
//! A driver implements [`Actors`] (perform one action, read one property) and runs:
//!
//! ```text
//! let mut script = ScriptRunner::new(&scenario, Some(tmp_dir), now());
//! loop {
//!     match script.poll(now(), &mut actors) {
//!         Poll::Done => break,
//!         Poll::Wait { deadline } => {
//!             // Drive IO until `deadline` or until at least one event is available.
//!             // For each event, in the order the core emitted it:
//!             //   server connection: let name = script.accept_name(); register the
//!             //                      socket as `name`; script.record(server, Event::Connection, &mut actors)
//!             //   anything else:     script.record(actor, event, &mut actors)
//!             // then loop (poll again) so the script continues right after the event.
//!         }
//!     }
//! }
//! let traces = script.into_traces();
//! ```
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::scenario::{Op, Scenario, Step};
use crate::trace::{entry_matches, Event, PropertyValue, TraceRecorder, Traces};

/// Default bound of a `wait` step.
pub const DEFAULT_WAIT: Duration = Duration::from_millis(2000);
/// Default time recorded after the last step.
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(50);

/// What a driver provides to the interpreter: the actors' sockets and servers.
pub trait Actors {
    /// Perform one action (any [`Op`] except `wait`, `sleep`, `mark`, `assert` and
    /// `write_until_blocked`, which the interpreter handles) on `actor`, without blocking
    /// and without delivering events (the driver queues them and delivers them later with
    /// [`ScriptRunner::record`]). Returns `Ok(write())`'s return value for `write`, `Ok(true)`
    /// for others, or `Err(code)` when the call fails synchronously (Node would throw):
    /// recorded as `throw:<code>` — except for an `end` with a callback, whose failure is
    /// the callback's error (`cb:<label>:<code>`, recorded on Node's next tick: once the
    /// current run of actions is over).
    ///
    /// A labelled callback (`write`/`end` with `cb`) is the driver's to report, as an
    /// [`Event::Callback`] recorded when Node would call it: a write's when its
    /// completion arrives; `end`'s just before `finish`, or with `ERR_STREAM_DESTROYED`
    /// just before `close` when the socket closes unfinished.
    fn perform(&mut self, actor: &str, op: &Op) -> Result<bool, String>;

    /// Read a property for an `assert` step. Names are Node's (`readyState`, `bytesRead`,
    /// `remoteFamily`, `autoSelectFamilyAttemptedAddresses` as IPs without ports, ...) plus
    /// server pseudo-properties (`listening`, `address` (`null` when not listening, the
    /// path for IPC), `addressFamily`, `connections`, `maxConnections`, `pathExists`) and
    /// the Rust-only getsockopt read-backs `sockopt.noDelay`, `sockopt.keepAlive`,
    /// `sockopt.keepIdle`, `sockopt.keepInterval`, `sockopt.keepCount` (seconds/counts).
    fn property(&mut self, actor: &str, property: &str) -> PropertyValue;
}

/// What the interpreter needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Deliver events (with [`ScriptRunner::record`]) until `deadline`, then poll again;
    /// poll again at once after any event.
    Wait {
        /// When to poll again even without events.
        deadline: Instant,
    },
    /// The run is over; take the traces with [`ScriptRunner::into_traces`].
    Done,
}

#[derive(Debug, Clone)]
enum Blocked {
    Wait {
        actor: String,
        event: String,
        needed: usize,
        deadline: Instant,
    },
    Sleep(Instant),
    Settle(Instant),
}

/// Runs one scenario's steps and rules against a driver's [`Actors`], recording traces.
#[derive(Debug)]
pub struct ScriptRunner<'s> {
    scenario: &'s Scenario,
    recorder: TraceRecorder,
    next_step: usize,
    wait_counts: BTreeMap<(String, String), usize>,
    blocked: Option<Blocked>,
    fired: Vec<bool>,
    conns: usize,
    done: bool,
    /// Entries Node records on the next tick of what the script did (an `end`'s callback
    /// with its synchronous error: `process.nextTick(cb, err)`): noted once the current
    /// run of actions is over.
    next_tick: Vec<(String, String)>,
}

impl<'s> ScriptRunner<'s> {
    /// A runner at the first step. `tmp` is the run's temporary directory (IPC paths live
    /// there; traces show it as `<tmp>`).
    pub fn new(scenario: &'s Scenario, tmp: Option<&str>, _now: Instant) -> ScriptRunner<'s> {
        ScriptRunner {
            scenario,
            recorder: TraceRecorder::new(&scenario.quiet_data, tmp)
                .with_details(&scenario.count_data, &scenario.error_messages),
            next_step: 0,
            wait_counts: BTreeMap::new(),
            blocked: None,
            fired: vec![false; scenario.on.len()],
            conns: 0,
            done: false,
            next_tick: Vec::new(),
        }
    }

    /// Run every step that can run now; say what to wait for.
    pub fn poll(&mut self, now: Instant, actors: &mut dyn Actors) -> Poll {
        loop {
            let poll = self.run_steps(now, actors);
            // The run of steps is over (Node's tick): what it deferred to the next tick
            // happens now, and may let the script go on.
            if self.next_tick.is_empty() {
                return poll;
            }
            self.run_next_tick(actors);
        }
    }

    fn run_steps(&mut self, now: Instant, actors: &mut dyn Actors) -> Poll {
        let scenario: &'s Scenario = self.scenario;
        loop {
            if self.done {
                return Poll::Done;
            }
            match self.blocked.clone() {
                Some(Blocked::Wait {
                    actor,
                    event,
                    needed,
                    deadline,
                }) => {
                    if self.satisfied(&actor, &event, needed) {
                        self.blocked = None;
                    } else if now >= deadline {
                        self.recorder
                            .record_entry("runner", &format!("timeout:{actor}:{event}"));
                        self.next_step = scenario.steps.len();
                        self.blocked = None;
                    } else {
                        return Poll::Wait { deadline };
                    }
                }
                Some(Blocked::Sleep(until)) => {
                    if now >= until {
                        self.blocked = None;
                    } else {
                        return Poll::Wait { deadline: until };
                    }
                }
                Some(Blocked::Settle(until)) => {
                    if now >= until {
                        self.recorder.freeze();
                        self.done = true;
                        return Poll::Done;
                    }
                    return Poll::Wait { deadline: until };
                }
                None => {
                    let Some(step) = scenario.steps.get(self.next_step) else {
                        let settle = scenario
                            .settle_ms
                            .map(Duration::from_millis)
                            .unwrap_or(DEFAULT_SETTLE);
                        self.blocked = Some(Blocked::Settle(now + settle));
                        continue;
                    };
                    self.next_step += 1;
                    self.start_step(step, now, actors);
                }
            }
        }
    }

    fn start_step(&mut self, step: &'s Step, now: Instant, actors: &mut dyn Actors) {
        let actor = step.actor.as_deref().unwrap_or("");
        match &step.op {
            Op::Wait { event, timeout_ms } => {
                let count = self
                    .wait_counts
                    .entry((actor.to_owned(), event.clone()))
                    .or_insert(0);
                *count += 1;
                let needed = *count;
                if !self.satisfied(actor, event, needed) {
                    let bound = timeout_ms
                        .map(Duration::from_millis)
                        .unwrap_or(DEFAULT_WAIT);
                    self.blocked = Some(Blocked::Wait {
                        actor: actor.to_owned(),
                        event: event.clone(),
                        needed,
                        deadline: now + bound,
                    });
                }
            }
            Op::Sleep { ms } => {
                self.blocked = Some(Blocked::Sleep(now + Duration::from_millis(*ms)));
            }
            op => self.act(actor, op, actors),
        }
    }

    fn satisfied(&self, actor: &str, event: &str, needed: usize) -> bool {
        let seen = self
            .recorder
            .trace(actor)
            .iter()
            .filter(|e| entry_matches(e, event))
            .count();
        seen >= needed
    }

    /// The name the next accepted socket gets (`conn`, `conn2`, ...). Call it once per
    /// accepted socket, register the socket under that name, then record the server's
    /// [`Event::Connection`].
    pub fn accept_name(&mut self) -> String {
        self.conns += 1;
        if self.conns == 1 {
            "conn".to_owned()
        } else {
            format!("conn{}", self.conns)
        }
    }

    /// A server of the run listens on `port` (error texts show it as `<port>`).
    pub fn note_port(&mut self, port: u16) {
        self.recorder.note_port(port);
    }

    /// Record an event of `actor` and run the rules it triggers (their actions run now,
    /// before the driver delivers the next event).
    pub fn record(&mut self, actor: &str, event: &Event, actors: &mut dyn Actors) {
        if let Some(entry) = self.recorder.record(actor, event) {
            self.fire_rules(actor, &entry, actors);
        }
        self.run_next_tick(actors);
    }

    /// Note what the actions run so far deferred to Node's next tick (and what that
    /// defers in turn).
    fn run_next_tick(&mut self, actors: &mut dyn Actors) {
        while !self.next_tick.is_empty() {
            for (actor, entry) in std::mem::take(&mut self.next_tick) {
                self.note(&actor, &entry, actors);
            }
        }
    }

    fn note(&mut self, actor: &str, entry: &str, actors: &mut dyn Actors) {
        if let Some(entry) = self.recorder.record_entry(actor, entry) {
            self.fire_rules(actor, &entry, actors);
        }
    }

    fn fire_rules(&mut self, actor: &str, entry: &str, actors: &mut dyn Actors) {
        let scenario: &'s Scenario = self.scenario;
        for (i, rule) in scenario.on.iter().enumerate() {
            if self.fired[i] || rule.actor != actor || !entry_matches(entry, &rule.event) {
                continue;
            }
            self.fired[i] = true;
            for step in &rule.actions {
                let target = step.actor.as_deref().unwrap_or(&rule.actor);
                self.act(target, &step.op, actors);
            }
        }
    }

    fn act(&mut self, actor: &str, op: &Op, actors: &mut dyn Actors) {
        match op {
            Op::Mark { label } => self.note(actor, &format!("mark:{label}"), actors),
            Op::Assert {
                property, same_as, ..
            } => {
                let value = actors.property(actor, property);
                let entry = match same_as {
                    Some(other) => {
                        let rhs = actors.property(&other.actor, &other.property);
                        let name = format!("{}.{}", other.actor, other.property);
                        if value == rhs {
                            format!("{property}={name}")
                        } else {
                            format!("{property}={value}!={name}={rhs}")
                        }
                    }
                    None => format!("{property}={value}"),
                };
                self.note(actor, &entry, actors);
            }
            Op::WriteUntilBlocked {
                chunk_size,
                max_chunks,
                data,
                repeat,
                encoding,
            } => {
                let chunk = Op::Write {
                    data: data
                        .clone()
                        .unwrap_or_else(|| "x".repeat(chunk_size.unwrap_or(65536))),
                    repeat: *repeat,
                    cb: None,
                    encoding: encoding.clone(),
                };
                for _ in 0..max_chunks.unwrap_or(4096) {
                    match actors.perform(actor, &chunk) {
                        Ok(true) => {}
                        Ok(false) => return self.note(actor, "blocked", actors),
                        Err(code) => return self.note(actor, &format!("throw:{code}"), actors),
                    }
                }
                self.note(actor, "neverBlocked", actors);
            }
            Op::Wait { .. } | Op::Sleep { .. } => {
                self.note("runner", "invalid:wait or sleep inside a rule", actors);
            }
            Op::Write {
                cb: Some(label), ..
            } => match actors.perform(actor, op) {
                Ok(ret) => self.note(actor, &format!("write:{label}={ret}"), actors),
                Err(code) => self.note(actor, &format!("throw:{code}"), actors),
            },
            // `end` never throws: a synchronous failure goes to its callback, which Node
            // calls on the next tick.
            Op::End {
                cb: Some(label), ..
            } => {
                if let Err(code) = actors.perform(actor, op) {
                    self.next_tick
                        .push((actor.to_owned(), format!("cb:{label}:{code}")));
                }
            }
            other => {
                if let Err(code) = actors.perform(actor, other) {
                    self.note(actor, &format!("throw:{code}"), actors);
                }
            }
        }
    }

    /// The recorded traces (call after [`Poll::Done`]).
    pub fn into_traces(self) -> Traces {
        self.recorder.into_traces()
    }
}
