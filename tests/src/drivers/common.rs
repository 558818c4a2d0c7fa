//! What every Rust driver (the three backends and the simulator) does the same way:
//! building Node's options from a scenario's specs, reading Node's properties from the
//! core state machines, and turning core events into trace events.
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use nodenet_core::{
    BlockList, ConnectOptions, Endpoint, Error, ErrorCode, ListenOptions, PortArg, ServerOptions,
    SocketEvent, SocketOptions, WriteId,
};

use crate::scenario::{BlockRule, ClientSpec, ListenSpec, ServerSpec};
use crate::trace::{Event, PropertyValue};

/// A synchronous failure as the trace shows it (`throw:<CODE>`), or any error's code.
pub fn code(e: Error) -> String {
    e.code().as_str().to_owned()
}

/// The trace event of an `error` event: the code, and the text as JavaScript's
/// `String(err)` prints it (nodenet's `Display` is that text).
pub fn error_event(e: Error) -> Event {
    let text = e.to_string();
    Event::Error(code(e), text)
}

/// The error of Node's test mock `errorLookupMock(code)` for a host: `getaddrinfo <code>
/// <host>`, as a custom lookup returns it.
pub fn lookup_failure(c: &str) -> Result<impl Fn(&str) -> Error + Send + Sync + 'static, String> {
    let code = ErrorCode::from_name(c).ok_or_else(|| format!("UNKNOWN_CODE_{c}"))?;
    Ok(move |host: &str| Error::getaddrinfo(code, host))
}

/// `new net.BlockList()` with the scenario's rules.
pub fn block_list(rules: &[BlockRule]) -> Result<BlockList, String> {
    let mut list = BlockList::new();
    for r in rules {
        let family = r.family.as_deref().unwrap_or("ipv4");
        let added = match (&r.subnet, &r.address) {
            (Some(net), _) => {
                list.add_subnet(net.as_str(), f64::from(r.prefix.unwrap_or(0)), family)
            }
            (None, Some(addr)) => list.add_address(addr.as_str(), family),
            (None, None) => return Err("BAD_BLOCK_RULE".into()),
        };
        added.map_err(code)?;
    }
    Ok(list)
}

/// `net.createServer(options)` for a server spec.
pub fn server_options(spec: &ServerSpec) -> Result<ServerOptions, String> {
    let o = &spec.options;
    let mut socket = SocketOptions {
        allow_half_open: o.allow_half_open.unwrap_or(false),
        pause_on_connect: o.pause_on_connect.unwrap_or(false),
        no_delay: o.no_delay.unwrap_or(false),
        keep_alive: o.keep_alive.unwrap_or(false),
        ..SocketOptions::default()
    };
    if let Some(ms) = o.keep_alive_initial_delay {
        socket = socket.keep_alive_initial_delay_ms(ms as f64);
    }
    let mut options = ServerOptions::new(socket);
    if let Some(rules) = &o.block_list {
        options = options.block_list(Arc::new(block_list(rules)?));
    }
    Ok(options)
}

/// A scenario's literal port as Node's argument (a JSON number or string).
pub fn port_arg(value: &serde_json::Value) -> Result<PortArg, String> {
    match value {
        serde_json::Value::Number(n) => n
            .as_f64()
            .map(PortArg::Number)
            .ok_or_else(|| format!("BAD_SCENARIO_PORT_{n}")),
        serde_json::Value::String(s) => Ok(PortArg::String(s.clone())),
        other => Err(format!("BAD_SCENARIO_PORT_{other}")),
    }
}

/// `server.listen(options)` for a listen spec: IPC paths inside `tmp`, `port_of` already
/// resolved to `port`, a literal `port` used as given.
pub fn listen_options(l: &ListenSpec, tmp: &Path, port: u16) -> Result<ListenOptions, String> {
    if let Some(p) = &l.path {
        return Ok(ListenOptions::path(
            tmp.join(p).to_string_lossy().into_owned(),
        ));
    }
    let mut o = match &l.port {
        Some(literal) => ListenOptions::port(port_arg(literal)?),
        None => ListenOptions::port(port),
    };
    if let Some(h) = &l.host {
        o = o.host(h.clone());
    }
    if let Some(v6) = l.ipv6_only {
        o = o.ipv6_only(v6);
    }
    if let Some(b) = l.backlog {
        o = o.backlog(b);
    }
    Ok(o)
}

/// `new net.Socket(options)` and the `connect(options)` for a client spec (the target
/// port already resolved; the custom `lookup` is the driver's business).
pub fn connect_options(
    spec: &ClientSpec,
    tmp: &Path,
    port: Option<u16>,
) -> Result<(SocketOptions, ConnectOptions), String> {
    let c = &spec.connect;
    let mut options = match (&c.path, &c.port, port) {
        // `connect({})`: Node's argument check refuses it.
        _ if c.no_target => ConnectOptions::default(),
        (Some(p), _, _) => ConnectOptions::path(tmp.join(p).to_string_lossy().into_owned()),
        (None, Some(literal), _) => ConnectOptions::tcp(port_arg(literal)?, c.host()),
        (None, None, Some(port)) => ConnectOptions::tcp(port, c.host()),
        (None, None, None) => return Err(format!("NO_PORT_{}", c.port_of())),
    };
    options.local_address = c.local_address.clone();
    if let Some(f) = c.family {
        options.family = u32::from(f);
    }
    options.auto_select_family = c.auto_select_family;
    options.auto_select_family_attempt_timeout = c
        .auto_select_family_attempt_timeout
        .map(|ms| (ms as f64).into());
    options.no_delay = c.no_delay;
    options.keep_alive = c.keep_alive;
    options.keep_alive_initial_delay = c.keep_alive_initial_delay.map(|ms| ms as f64);
    options.timeout = c.timeout.map(|ms| (ms as f64).into());
    if let Some(rules) = &c.block_list {
        options.block_list = Some(block_list(rules)?);
    }
    let mut socket = SocketOptions {
        allow_half_open: c.allow_half_open.unwrap_or(false),
        ..SocketOptions::default()
    };
    if let Some(hwm) = c.high_water_mark {
        socket.high_water_mark = usize::try_from(hwm).unwrap_or(usize::MAX);
    }
    Ok((socket, options))
}

/// A socket property by Node's name, from the core's getters (not the `sockopt.*`
/// read-backs, which need the OS socket).
pub fn socket_property(core: &nodenet_core::Socket, property: &str) -> PropertyValue {
    let opt_str = |v: Option<String>| v.map_or(PropertyValue::Undefined, PropertyValue::Str);
    match property {
        "readyState" => PropertyValue::Str(core.ready_state().as_str().to_owned()),
        "bytesRead" => PropertyValue::Number(core.bytes_read() as f64),
        "bytesWritten" => PropertyValue::Number(core.bytes_written() as f64),
        "destroyed" => PropertyValue::Bool(core.destroyed()),
        "writable" => PropertyValue::Bool(core.writable()),
        "readable" => PropertyValue::Bool(core.readable()),
        "writableEnded" => PropertyValue::Bool(core.writable_ended()),
        "writableFinished" => PropertyValue::Bool(core.writable_finished()),
        "readableEnded" => PropertyValue::Bool(core.readable_ended()),
        "writableLength" => PropertyValue::Number(core.writable_length() as f64),
        "readableLength" => PropertyValue::Number(core.readable_length() as f64),
        "bufferSize" => core.buffer_size().map_or(PropertyValue::Undefined, |n| {
            PropertyValue::Number(n as f64)
        }),
        "localPort" => core.local_port().map_or(PropertyValue::Undefined, |p| {
            PropertyValue::Number(p.into())
        }),
        "pending" => PropertyValue::Bool(core.pending()),
        "connecting" => PropertyValue::Bool(core.connecting()),
        "remoteAddress" => opt_str(core.remote_address().map(|a| a.to_string())),
        "remoteFamily" => opt_str(core.remote_family().map(|f| f.as_str().to_owned())),
        "remotePort" => core.remote_port().map_or(PropertyValue::Undefined, |p| {
            PropertyValue::Number(p.into())
        }),
        "localAddress" => opt_str(core.local_address().map(|a| a.to_string())),
        "localFamily" => opt_str(core.local_family().map(|f| f.as_str().to_owned())),
        "timeout" => core
            .timeout()
            .map_or(PropertyValue::Undefined, PropertyValue::Number),
        "autoSelectFamilyAttemptedAddresses" => {
            match core.auto_select_family_attempted_addresses() {
                None => PropertyValue::Undefined,
                // "ip:port" with a dynamic port: keep only the ip, as the Node runner does.
                Some(list) => PropertyValue::List(
                    list.iter()
                        .map(|a| {
                            a.rsplit_once(':')
                                .map_or(a.as_str(), |(ip, _)| ip)
                                .to_owned()
                        })
                        .collect(),
                ),
            }
        }
        other => PropertyValue::Str(format!("<unknown socket property {other}>")),
    }
}

/// A server pseudo-property (see [`crate::Actors::property`]); `connections` and
/// `path_exists` come from the driver.
pub fn server_property(
    core: &nodenet_core::Server,
    property: &str,
    connections: usize,
    path_exists: bool,
) -> PropertyValue {
    match property {
        "listening" => PropertyValue::Bool(core.listening()),
        "address" => match core.address() {
            None => PropertyValue::Null,
            Some(Endpoint::Tcp(a)) => PropertyValue::Str(a.ip().to_string()),
            Some(Endpoint::Pipe(p)) => PropertyValue::Str(p),
        },
        "addressFamily" => match core.address() {
            None => PropertyValue::Null,
            Some(Endpoint::Tcp(a)) if a.is_ipv4() => PropertyValue::Str("IPv4".into()),
            Some(Endpoint::Tcp(_)) => PropertyValue::Str("IPv6".into()),
            Some(Endpoint::Pipe(_)) => PropertyValue::Str("pipe".into()),
        },
        "connections" => PropertyValue::Number(connections as f64),
        "port" => match core.address() {
            Some(Endpoint::Tcp(a)) => PropertyValue::Number(a.port().into()),
            _ => PropertyValue::Undefined,
        },
        "maxConnections" => match core.max_connections() {
            Some(m) => PropertyValue::Number(f64::from(m)),
            None => PropertyValue::Undefined,
        },
        "pathExists" => PropertyValue::Bool(path_exists),
        other => PropertyValue::Str(format!("<unknown server property {other}>")),
    }
}

/// The trace entry of a socket event; `None` for events Node has no listener for here
/// (write completions).
pub fn socket_trace_event(ev: SocketEvent) -> Option<Event> {
    Some(match ev {
        SocketEvent::Lookup { error: Some(e), .. } => Event::LookupError(code(e)),
        SocketEvent::Lookup { address, .. } => Event::Lookup(address.unwrap_or_default()),
        SocketEvent::ConnectionAttempt { address, .. } => Event::ConnectionAttempt(address),
        SocketEvent::ConnectionAttemptFailed { address, error, .. } => {
            Event::ConnectionAttemptFailed(address, code(error))
        }
        SocketEvent::ConnectionAttemptTimeout { address, .. } => {
            Event::ConnectionAttemptTimeout(address)
        }
        SocketEvent::Connect => Event::Connect,
        SocketEvent::Ready => Event::Ready,
        SocketEvent::Data(d) => Event::Data(d.to_vec()),
        SocketEvent::Text(t) => Event::Data(t.into_bytes()),
        SocketEvent::End => Event::End,
        SocketEvent::Drain => Event::Drain,
        SocketEvent::Timeout => Event::Timeout,
        SocketEvent::Finish => Event::Finish,
        SocketEvent::Error(e) => error_event(e),
        SocketEvent::Close { had_error } => Event::Close(had_error),
        SocketEvent::WriteDone { .. } => return None,
    })
}

/// The labelled callbacks of one run (`write`/`end` steps with `cb`), and how they show up
/// among a socket's events: a write's callback is its `WriteDone`; `end`'s runs just
/// before `Finish`, or — when the socket is destroyed unfinished — just before its
/// `Error` (with that error) or its `Close` (with `ERR_STREAM_DESTROYED`): Node's
/// `kOnFinished` callbacks, which `errorBuffer` calls with `state.errored` or
/// `ERR_STREAM_DESTROYED` on the tick after `destroy`.
#[derive(Debug, Default)]
pub struct Callbacks {
    writes: BTreeMap<(String, WriteId), String>,
    ends: BTreeMap<String, Vec<String>>,
}

impl Callbacks {
    /// A write of `actor` with id `id` has the callback `label`.
    pub fn on_write(&mut self, actor: &str, id: WriteId, label: &str) {
        self.writes.insert((actor.to_owned(), id), label.to_owned());
    }

    /// An `end` of `actor` that did not fail synchronously has the callback `label`.
    pub fn on_end(&mut self, actor: &str, label: &str) {
        self.ends
            .entry(actor.to_owned())
            .or_default()
            .push(label.to_owned());
    }

    /// The trace events a socket event of `actor` stands for, in order (none for a
    /// completion nobody asked for).
    pub fn trace_events(&mut self, actor: &str, ev: SocketEvent) -> Vec<Event> {
        let ends = |cbs: &mut Self, error: Option<String>| -> Vec<Event> {
            cbs.ends
                .remove(actor)
                .unwrap_or_default()
                .into_iter()
                .map(|label| Event::Callback(label, error.clone()))
                .collect()
        };
        match ev {
            SocketEvent::WriteDone { id, result } => self
                .writes
                .remove(&(actor.to_owned(), id))
                .map(|label| Event::Callback(label, result.err().map(code)))
                .into_iter()
                .collect(),
            SocketEvent::Finish => {
                let mut out = ends(self, None);
                out.push(Event::Finish);
                out
            }
            // A refused reset (`reset EINVAL`, the FIN in flight) is emitted by net's
            // `_destroy` directly, without erroring the stream: the end callbacks wait
            // for the close, with `ERR_STREAM_DESTROYED`.
            SocketEvent::Error(e) if e.syscall() == Some("reset") => vec![error_event(e)],
            SocketEvent::Error(e) => {
                let mut out = ends(self, Some(code(e.clone())));
                out.push(error_event(e));
                out
            }
            SocketEvent::Close { had_error } => {
                let destroyed = ErrorCode::ERR_STREAM_DESTROYED.as_str().to_owned();
                let mut out = ends(self, Some(destroyed));
                out.push(Event::Close(had_error));
                out
            }
            other => socket_trace_event(other).into_iter().collect(),
        }
    }
}

/// Whether Node emits another event synchronously right after this one, before any
/// promise continuation (a script step after a `wait`) can run: `afterConnect` emits
/// `connect` then `ready`; `emitErrorCloseNT` emits `error` then `close`. Drivers deliver
/// the follower before the script continues.
pub fn emits_follower(ev: &SocketEvent) -> bool {
    matches!(ev, SocketEvent::Connect | SocketEvent::Error(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodenet_core::ErrorClass;

    fn error(code: ErrorCode) -> Error {
        Error::new(code, ErrorClass::Error, "test")
    }

    fn names(events: Vec<Event>) -> Vec<String> {
        events.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn only_labelled_writes_show_their_completion() {
        let mut cbs = Callbacks::default();
        cbs.on_write("client", WriteId(2), "w");
        let done = |id, result| SocketEvent::WriteDone {
            id: WriteId(id),
            result,
        };
        assert!(cbs.trace_events("client", done(1, Ok(()))).is_empty());
        assert!(cbs.trace_events("conn", done(2, Ok(()))).is_empty());
        let failed = done(2, Err(error(ErrorCode::EPIPE)));
        assert_eq!(names(cbs.trace_events("client", failed)), ["cb:w:EPIPE"]);
    }

    #[test]
    fn end_callbacks_run_before_finish_or_fail_before_error_or_close() {
        let mut cbs = Callbacks::default();
        cbs.on_end("client", "e");
        assert_eq!(
            names(cbs.trace_events("client", SocketEvent::Finish)),
            ["cb:e:ok", "finish"]
        );
        cbs.on_end("client", "e2");
        let err = SocketEvent::Error(error(ErrorCode::ECONNRESET));
        assert_eq!(
            names(cbs.trace_events("client", err)),
            ["cb:e2:ECONNRESET", "error:ECONNRESET"]
        );
        cbs.on_end("client", "e3");
        let close = SocketEvent::Close {
            had_error: Some(false),
        };
        assert_eq!(
            names(cbs.trace_events("client", close)),
            ["cb:e3:ERR_STREAM_DESTROYED", "close:false"]
        );
    }
}
