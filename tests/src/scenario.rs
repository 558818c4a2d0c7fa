//! The scenario model: one JSON file in `tests/scenarios/` describes one client/server
//! interaction as a script, plus the traces Node v20 printed for it and the documented
//! differences of nodenet.
//!
//! # File format
//!
//! ```json
//! {
//!   "name": "connect_data_end_close",
//!   "description": "what the scenario shows",
//!   "node_test": "test-net-bytes-read.js",
//!   "spec": ["§2.1 rule 3"],
//!   "servers": { "server": { "options": {"allowHalfOpen": false}, "listen": {"host": "127.0.0.1"} } },
//!   "clients": { "client": { "connect": {"host": "127.0.0.1"} } },
//!   "quiet_data": [],
//!   "count_data": [],
//!   "error_messages": [],
//!   "on": [ {"actor": "client", "event": "connect", "do": [ {"op": "destroy"} ]} ],
//!   "steps": [ {"op": "listen", "actor": "server"}, {"op": "wait", "actor": "server", "event": "listening"} ],
//!   "settle_ms": 50,
//!   "expected": { "server": ["listening"] },
//!   "differences": [],
//!   "known_divergences": [
//!     {"issue": "17.4", "reason": "...", "runtimes": ["tokio"], "expected": {"client": ["..."]}}
//!   ]
//! }
//! ```
//!
//! `node_test` names the `test/parallel/test-net-*.js` the scenario is ported from (or a
//! related `test-socket-*.js` or `test-pipe-*.js`; `sequential/test-net-*.js` for one of
//! `test/sequential/`).
//! `differences` are deliberate (argued) departures from Node; `known_divergences` are
//! bugs: per runtime (all when `runtimes` is absent), the issue item and the traces nodenet
//! prints today, checked by the suites so that a fix forces the marker's removal.
//!
//! Option names inside `options`/`listen`/`connect` are Node's (`allowHalfOpen`,
//! `keepAliveInitialDelay`); operation names are nodenet's (`destroy_soon`,
//! `reset_and_destroy`). Ports are always dynamic: a listen binds port 0 (or the port of
//! another server with `port_of`), a client connects to the port of `port_of` (default
//! `"server"`). A literal `port` (possibly invalid, to see the validation) replaces both.
//! IPC paths are file names inside a per-run temporary directory, which traces show as
//! `<tmp>`.
//!
//! A client's socket is created by its first `connect` (or by `create`, which makes it
//! without connecting); a later `connect` calls `connect` again on the same socket.
//! `write` and `end` take an optional callback label `cb`: `write:<cb>=<returned value>`
//! is recorded at once and `cb:<cb>:ok` / `cb:<cb>:<CODE>` when Node calls the callback.
//!
//! # Actors
//!
//! Servers and clients are named by the file (`server`, `server2`, `client`, `client2`).
//! Accepted sockets are named by acceptance order over the whole run: `conn`, `conn2`, ...
//!
//! # Execution model (identical for Node and every nodenet driver)
//!
//! Steps run in order. A `wait` step blocks until the actor's trace holds its n-th entry
//! matching the event (n = how many waits on that same actor and event came before, plus
//! one), or fails the run after `timeout_ms` (default 2000): the runner then records
//! `timeout:<actor>:<event>` in the `runner` actor and skips the remaining steps. An entry
//! matches an event when it equals it or starts with `<event>:` (`close` matches
//! `close:true`). `sleep` waits `ms`. Every other step is an action, run at once; a run of
//! actions between two waits happens without giving the event loop a turn (in Node: in the
//! same tick). When a rule in `on` matches an event (first occurrence only; matched against
//! that event's own entry, `data:two`, not the merged `data:onetwo` a wait sees), its
//! actions run right away: in Node synchronously inside the event handler, in Rust right after that
//! event was drained. After the last step the runner waits `settle_ms` (default 50) for
//! late events, then stops recording. A thrown error (Node) or a synchronous `Err` (Rust)
//! from an action is recorded as `throw:<CODE>` in that actor's trace.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::trace::Traces;

/// One conformance scenario (one file in `tests/scenarios/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique name, equal to the file stem.
    pub name: String,
    /// What the scenario shows, in one or two sentences.
    pub description: String,
    /// The Node test it is ported from (`test-net-*.js` in Node's `test/parallel/`, or
    /// `sequential/test-net-*.js` in `test/sequential/`).
    pub node_test: String,
    /// Sections of `docs/node-semantics.md` the scenario exercises.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spec: Vec<String>,
    /// Server actors by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub servers: BTreeMap<String, ServerSpec>,
    /// Client actors by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clients: BTreeMap<String, ClientSpec>,
    /// Actors whose `data` events are recorded without their text (for large payloads).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quiet_data: Vec<String>,
    /// Actors whose `data` events are recorded as their length, `data#<n>` (n = UTF-16
    /// code units of the text, JavaScript's `string.length`; consecutive data summed): for
    /// large decoded text (`setEncoding`), where a character split between two reads
    /// would change the count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub count_data: Vec<String>,
    /// Actors whose `error` events also show the error's text as JavaScript's
    /// `String(err)` prints it: `error:<CODE>:<text>`, the ports of the run's servers
    /// shown as `<port>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_messages: Vec<String>,
    /// Reactive rules: actions run as soon as an actor sees an event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on: Vec<Rule>,
    /// The script.
    pub steps: Vec<Step>,
    /// How long to keep recording after the last step (default 50 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_ms: Option<u64>,
    /// The traces Node v20 printed (recorded by `tests/node/record.js`, never hand-edited).
    pub expected: Traces,
    /// Where nodenet deliberately differs from Node v20, with nodenet's expected traces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    /// Known nodenet bugs this scenario shows, with the traces nodenet prints today. The
    /// suites check that each bug is still there (so its marker goes once it is fixed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_divergences: Vec<KnownDivergence>,
}

/// A known bug of nodenet that makes a scenario differ from Node v20 (not a deliberate
/// difference): which issue item tracks it, on which runtimes, and what nodenet prints
/// instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDivergence {
    /// The tracking issue item, e.g. `17.1` (issue 17, item 1).
    pub issue: String,
    /// What nodenet does wrong, in prose.
    pub reason: String,
    /// The runtimes (`tokio`, `smol`, `std`, `sim`) that show it; empty = all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtimes: Vec<String>,
    /// nodenet's traces today, for the actors that differ (whole replacement traces).
    pub expected: Traces,
}

impl KnownDivergence {
    /// Whether the runtime named `runtime` shows this divergence.
    pub fn applies_to(&self, runtime: &str) -> bool {
        self.runtimes.is_empty() || self.runtimes.iter().any(|r| r == runtime)
    }
}

/// A server actor: constructor options and what `listen` binds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// `net.createServer(options)`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub options: ServerOptions,
    /// What every `listen` step on this server binds.
    #[serde(default)]
    pub listen: ListenSpec,
}

/// `net.createServer` options used by the scenarios (Node's names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerOptions {
    /// `allowHalfOpen` for accepted sockets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_half_open: Option<bool>,
    /// `pauseOnConnect`: accepted sockets start paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_on_connect: Option<bool>,
    /// `noDelay` for accepted sockets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_delay: Option<bool>,
    /// `keepAlive` for accepted sockets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<bool>,
    /// `keepAliveInitialDelay` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive_initial_delay: Option<u64>,
    /// `blockList` (Node v22.13+; ignored by Node v20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_list: Option<Vec<BlockRule>>,
}

/// What a `listen` step binds: TCP (`host` absent = dual-stack `::`) or an IPC path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenSpec {
    /// Host to bind (`127.0.0.1`, `::1`); absent = Node's default (`::`, dual-stack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Bind the port another server got (for EADDRINUSE); absent = port 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_of: Option<String>,
    /// IPC: file name inside the run's temporary directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A literal port (a number or a string, possibly invalid, to see Node's validation);
    /// wins over `port_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<serde_json::Value>,
    /// `ipv6Only`.
    #[serde(rename = "ipv6Only", default, skip_serializing_if = "Option::is_none")]
    pub ipv6_only: Option<bool>,
    /// `backlog`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u32>,
    /// `signal`: an `AbortController`'s signal for this server (aborted by the `abort`
    /// step), or one already aborted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<SignalSpec>,
}

/// The `signal` option of a scenario's socket or listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalSpec {
    /// `new AbortController().signal`, aborted by an `abort` step on the actor.
    Live,
    /// `AbortSignal.abort()`: aborted before it is passed.
    Aborted,
}

/// A client actor: what its `connect` step does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// `net.connect(options)`.
    pub connect: ConnectSpec,
}

/// `net.connect` options used by the scenarios (Node's names), plus the target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectSpec {
    /// Host (default `127.0.0.1`). A name that is not an IP goes through `lookup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Connect to the port of this server (default `"server"`).
    #[serde(rename = "port_of", default, skip_serializing_if = "Option::is_none")]
    pub port_of: Option<String>,
    /// A literal port (a number or a string, possibly invalid, to see Node's validation);
    /// wins over `port_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<serde_json::Value>,
    /// IPC: file name inside the run's temporary directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `localAddress` to bind before connecting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_address: Option<String>,
    /// `localPort`: the port another server listens on (to see the bind fail).
    #[serde(
        rename = "localPort_of",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_port_of: Option<String>,
    /// `highWaterMark` of the socket (constructor option).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_water_mark: Option<u64>,
    /// `signal` (constructor option): see [`SignalSpec`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<SignalSpec>,
    /// Connect with no target at all (`connect({})`, to see Node's argument check):
    /// no `port`, `host` nor `path`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_target: bool,
    /// `allowHalfOpen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_half_open: Option<bool>,
    /// `family` (4 or 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<u8>,
    /// `autoSelectFamily`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_select_family: Option<bool>,
    /// `autoSelectFamilyAttemptTimeout` in milliseconds (possibly out of range, to see
    /// the validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_select_family_attempt_timeout: Option<i64>,
    /// `noDelay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_delay: Option<bool>,
    /// `keepAlive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<bool>,
    /// `keepAliveInitialDelay` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive_initial_delay: Option<u64>,
    /// `timeout`: idle timeout set before connecting, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// A custom `lookup` answering these addresses, in order (asynchronously).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<Vec<LookupAnswer>>,
    /// A custom `lookup` failing with this code, as Node's test mock does (an `Error`
    /// `getaddrinfo <CODE> <host>`, syscall `getaddrinfo`, asynchronously).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_error: Option<String>,
    /// `blockList` (Node v22.13+; ignored by Node v20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_list: Option<Vec<BlockRule>>,
    /// `onread` (constructor option): reads land in the caller's buffers and are
    /// recorded as `read:<text>` (consecutive reads merged), no `data` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onread: Option<OnReadSpec>,
}

/// The `onread` option of a scenario's socket: `{ buffer, callback }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnReadSpec {
    /// Bytes per buffer.
    pub buffer: usize,
    /// `buffer` given as a function handing out this many buffers in turn (Node's test
    /// pool); absent: one static buffer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<usize>,
}

impl ConnectSpec {
    /// The host to connect to: the given one or `127.0.0.1`.
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("127.0.0.1")
    }

    /// The server whose port to connect to: the given one or `"server"`.
    pub fn port_of(&self) -> &str {
        self.port_of.as_deref().unwrap_or("server")
    }
}

/// One address returned by a custom `lookup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupAnswer {
    /// The IP address text.
    pub address: String,
    /// 4 or 6.
    pub family: u8,
}

/// One BlockList rule: an address, or a subnet when `subnet`/`prefix` are given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockRule {
    /// `addAddress(address, family)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `addSubnet(subnet, prefix, family)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// Prefix length for `subnet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<u8>,
    /// `ipv4` (default) or `ipv6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

/// A reactive rule: when `actor` first records an entry matching `event`, run `do`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The actor whose event triggers the rule.
    pub actor: String,
    /// The event (matched like a `wait`, but against each event's own entry: a `data`
    /// rule sees one chunk, not the merged trace entry).
    pub event: String,
    /// Actions; an action without `actor` acts on the rule's actor.
    #[serde(rename = "do")]
    pub actions: Vec<Step>,
}

/// Replace whole actor traces of `traces` by those of `with`.
fn overlay(traces: &mut Traces, with: &Traces) {
    for (actor, trace) in with {
        traces.insert(actor.clone(), trace.clone());
    }
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// One step of the script (or one action of a rule).
// Deserialised by hand (`TryFrom`): serde's `flatten` would silently accept unknown keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct Step {
    /// The actor the step is about (absent only inside rules and for `sleep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// What to do.
    #[serde(flatten)]
    pub op: Op,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for Step {
    type Error = String;

    fn try_from(mut map: serde_json::Map<String, serde_json::Value>) -> Result<Step, String> {
        let actor = match map.remove("actor") {
            None => None,
            Some(serde_json::Value::String(actor)) => Some(actor),
            Some(other) => return Err(format!("actor must be a string, got {other}")),
        };
        let op: Op = serde_json::from_value(serde_json::Value::Object(map.clone()))
            .map_err(|e| e.to_string())?;
        // serde ignores unknown keys of field-less variants even with deny_unknown_fields:
        // every key must survive a round trip through the parsed operation.
        let parsed = serde_json::to_value(&op).map_err(|e| e.to_string())?;
        if let Some(unknown) = map.keys().find(|k| parsed.get(k.as_str()).is_none()) {
            return Err(format!(
                "unknown or null field `{unknown}` in a `{}` step",
                parsed["op"]
            ));
        }
        Ok(Step { actor, op })
    }
}

/// The operations a step can perform. `wait` and `sleep` block; the others are actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Block until the actor has seen the event (see the module docs for matching).
    Wait {
        /// Event name, or a full entry such as `data:hello`.
        event: String,
        /// Bound on the wait (default 2000 ms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Let time pass.
    Sleep {
        /// Milliseconds.
        ms: u64,
    },
    /// Server: `listen` with the server's [`ListenSpec`] (may be repeated); a literal
    /// `port` here replaces the spec's port for this call (e.g. `0` after an
    /// `EADDRINUSE`).
    Listen {
        /// This call's port (a number or a string), instead of the spec's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        port: Option<serde_json::Value>,
    },
    /// Server: `close()`.
    Close,
    /// Server: `maxConnections = value`.
    SetMaxConnections {
        /// The limit.
        value: u32,
    },
    /// Client: `new net.Socket(options)` without connecting (the socket options of the
    /// client's [`ConnectSpec`]: `allowHalfOpen`, `timeout`).
    Create,
    /// Client: `connect` with the client's [`ConnectSpec`]; on a socket that exists
    /// already (from `create` or an earlier `connect`), `socket.connect(options)` again.
    Connect,
    /// `write(data)` (UTF-8). With `cb`, the write has a callback: `write:<cb>=<returned
    /// boolean>` is recorded at once and `cb:<cb>:ok` / `cb:<cb>:<CODE>` when it is called.
    Write {
        /// The text.
        data: String,
        /// Write `data` repeated this many times, as one chunk (for large writes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repeat: Option<usize>,
        /// Label of the write's callback.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cb: Option<String>,
        /// `write(data, encoding)`: the text's encoding (`utf8` when absent; `latin1`,
        /// `hex`), which the Rust drivers apply as `Buffer.from(data, encoding)` does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoding: Option<String>,
    },
    /// `end()` or `end(data)` (the end_with_data case). With `cb`, `end` gets a callback,
    /// recorded as `cb:<cb>:ok` / `cb:<cb>:<CODE>` when called.
    End {
        /// Optional final data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        /// Label of `end`'s callback.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cb: Option<String>,
    },
    /// `destroy()`.
    Destroy,
    /// `abort()` on the `AbortController` of the actor's `signal`.
    Abort,
    /// `destroy(err)` with an error whose code is `code`.
    DestroyWithError {
        /// Node error code, e.g. `ECONNABORTED`.
        code: String,
    },
    /// `destroySoon()`.
    DestroySoon,
    /// `resetAndDestroy()`.
    ResetAndDestroy,
    /// `pause()`.
    Pause,
    /// `resume()`.
    Resume,
    /// `setTimeout(ms)`.
    SetTimeout {
        /// Milliseconds (0 disables; negative to see the validation).
        ms: i64,
    },
    /// `setEncoding(encoding)`: data is decoded text from then on.
    SetEncoding {
        /// Node's encoding name.
        encoding: String,
    },
    /// `setNoDelay(enable)` (default true).
    SetNoDelay {
        /// Enable or disable.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enable: Option<bool>,
    },
    /// `setKeepAlive(enable, initialDelay)`.
    SetKeepAlive {
        /// Enable or disable (default true).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enable: Option<bool>,
        /// Initial delay in milliseconds (default 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial_delay_ms: Option<u64>,
    },
    /// Write `chunk_size` bytes of `x` until `write()` returns false (records `blocked`) or
    /// `max_chunks` were written (records `neverBlocked`).
    WriteUntilBlocked {
        /// Bytes per write (default 65536).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk_size: Option<usize>,
        /// Write this text instead (`data` repeated `repeat` times, in `encoding`), as
        /// the `write` step does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        /// Repeat count of `data`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repeat: Option<usize>,
        /// Encoding of `data`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoding: Option<String>,
        /// Bound on the number of writes (default 4096).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_chunks: Option<usize>,
    },
    /// Record `mark:<label>` in the actor's trace (to show order against other events).
    Mark {
        /// The label.
        label: String,
    },
    /// Record a property snapshot `<property>=<value>` in the actor's trace.
    Assert {
        /// Property name (see [`crate::Actors::property`]).
        property: String,
        /// The value the scenario author expects (checked against `expected` when the
        /// scenarios are loaded, not at run time: the trace shows the actual value).
        #[serde(
            default,
            deserialize_with = "present_value",
            skip_serializing_if = "Option::is_none"
        )]
        equals: Option<serde_json::Value>,
        /// Compare with another actor's property instead of a literal: records
        /// `<property>=<actor>.<property>` when equal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        same_as: Option<PropertyRef>,
        /// Only the Rust drivers evaluate it (socket options read with getsockopt).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rust_only: bool,
    },
}

/// Keeps an explicit `null` as `Some(Value::Null)` (absent stays `None`).
fn present_value<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

/// A property of another actor, for [`Op::Assert`]'s `same_as`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyRef {
    /// The actor.
    pub actor: String,
    /// The property.
    pub property: String,
}

/// Why nodenet's expected trace differs from Node v20's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// A newer Node rule nodenet follows (`node_version` says which).
    NewerNode,
    /// A check Node cannot make (getsockopt read-back); Node's trace lacks those entries.
    RustOnly,
    /// Rust's type system cannot express Node's value (e.g. a close without argument).
    RustTypes,
    /// nodenet refuses on purpose what Node v20 does there, because Node's trace reports
    /// something that did not happen (a second connection on a connected socket, a
    /// connect attempt by a socket its signal already destroyed); the reason is argued
    /// where the user meets it (the README's table, the method's rustdoc).
    Deliberate,
}

/// One documented difference: nodenet's expected traces for the actors it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    /// Kind of difference.
    pub kind: DifferenceKind,
    /// The Node version whose behaviour nodenet follows (for [`DifferenceKind::NewerNode`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_version: Option<String>,
    /// Why, in prose.
    pub reason: String,
    /// Whole replacement traces for the actors that differ (an empty list = no events).
    pub expected: Traces,
}

/// Which expectation a driver is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Node v20 itself: the recorded `expected`.
    Node,
    /// nodenet (every backend and the simulator): `expected` with `differences` applied.
    Nodenet,
}

impl Op {
    /// The bytes a `write` step writes (`data`, `repeat` times).
    pub fn write_data(data: &str, repeat: Option<usize>) -> bytes::Bytes {
        bytes::Bytes::from(data.repeat(repeat.unwrap_or(1)))
    }

    /// The bytes a `write` step with an `encoding` writes: `Buffer.from(text, encoding)`
    /// of `data` repeated `repeat` times, for the encodings the scenarios use (`utf8`,
    /// `latin1`/`binary`, `hex`: pairs of hex digits up to the first that is not one, as
    /// Node decodes them). `Err` names an encoding not supported here.
    pub fn encoded_data(
        data: &str,
        repeat: Option<usize>,
        encoding: Option<&str>,
    ) -> Result<bytes::Bytes, String> {
        let text = data.repeat(repeat.unwrap_or(1));
        match encoding.map(str::to_ascii_lowercase).as_deref() {
            None | Some("utf8" | "utf-8") => Ok(bytes::Bytes::from(text)),
            Some("latin1" | "binary") => Ok(text.chars().map(|c| c as u32 as u8).collect()),
            Some("hex") => {
                let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
                let mut out = Vec::with_capacity(text.len() / 2);
                for pair in text.as_bytes().chunks_exact(2) {
                    match (digit(pair[0]), digit(pair[1])) {
                        (Some(high), Some(low)) => out.push(high << 4 | low),
                        _ => break,
                    }
                }
                Ok(bytes::Bytes::from(out))
            }
            Some(other) => Err(format!("UNSUPPORTED_ENCODING_{other}")),
        }
    }
}

impl Scenario {
    /// Parse a scenario from JSON text.
    pub fn from_json(text: &str) -> Result<Scenario, LoadError> {
        serde_json::from_str(text).map_err(|e| LoadError::Parse {
            path: PathBuf::new(),
            message: e.to_string(),
        })
    }

    /// The known divergence the nodenet runtime `runtime` shows, if any.
    pub fn known_divergence_on(&self, runtime: &str) -> Option<&KnownDivergence> {
        self.known_divergences
            .iter()
            .find(|k| k.applies_to(runtime))
    }

    /// The traces the nodenet runtime `runtime` produces today: the conforming ones
    /// ([`expected_for`](Self::expected_for)`(Target::Nodenet)`) with the runtime's known
    /// divergence applied.
    pub fn expected_on(&self, runtime: &str) -> Traces {
        let mut traces = self.expected_for(Target::Nodenet);
        if let Some(known) = self.known_divergence_on(runtime) {
            overlay(&mut traces, &known.expected);
        }
        traces.retain(|_, trace| !trace.is_empty());
        traces
    }

    /// The traces a conforming driver of `target` produces: Node's recording, plus for
    /// nodenet its deliberate differences (never a known divergence, which is a bug).
    pub fn expected_for(&self, target: Target) -> Traces {
        let mut traces = self.expected.clone();
        if target == Target::Nodenet {
            for difference in &self.differences {
                overlay(&mut traces, &difference.expected);
            }
        }
        traces.retain(|_, trace| !trace.is_empty());
        traces
    }

    /// Whether any step or rule needs the Rust-only property read-back.
    pub fn has_rust_only_steps(&self) -> bool {
        self.all_steps().any(|s| {
            matches!(
                s.op,
                Op::Assert {
                    rust_only: true,
                    ..
                }
            )
        })
    }

    /// Every step, including the actions inside rules.
    pub fn all_steps(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .chain(self.on.iter().flat_map(|r| r.actions.iter()))
    }
}

/// Errors loading scenario files.
#[derive(Debug)]
pub enum LoadError {
    /// The directory or file could not be read.
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file is not a valid scenario.
    Parse {
        /// The path.
        path: PathBuf,
        /// serde's message.
        message: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            LoadError::Parse { path, message } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for LoadError {}

/// A scenario together with the file it came from.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    /// The file.
    pub path: PathBuf,
    /// Its content.
    pub scenario: Scenario,
}

/// The directory holding the scenario files of this crate.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Load every `*.json` scenario of `dir`, sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<ScenarioFile>, LoadError> {
    let io = |error| LoadError::Io {
        path: dir.to_path_buf(),
        error,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    paths.into_iter().map(|p| load_file(&p)).collect()
}

/// Load one scenario file.
pub fn load_file(path: &Path) -> Result<ScenarioFile, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let scenario = serde_json::from_str(&text).map_err(|e| LoadError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(ScenarioFile {
        path: path.to_path_buf(),
        scenario,
    })
}
