//! What every Rust driver (the three backends and the simulator) does the same way:
//! building Node's options from a scenario's specs, reading Node's properties from the
//! core state machines, and turning core events into trace events.
use std::path::Path;
use std::sync::Arc;

use nodenet_core::{
    BlockList, ConnectOptions, Endpoint, Error, ListenOptions, ServerOptions, SocketEvent,
    SocketOptions,
};

use crate::scenario::{BlockRule, ClientSpec, ListenSpec, ServerSpec};
use crate::trace::{Event, PropertyValue};

/// A synchronous failure as the trace shows it (`throw:<CODE>`), or any error's code.
pub fn code(e: Error) -> String {
    e.code().as_str().to_owned()
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

/// `server.listen(options)` for a listen spec: IPC paths inside `tmp`, `port_of` already
/// resolved to `port`.
pub fn listen_options(l: &ListenSpec, tmp: &Path, port: u16) -> ListenOptions {
    if let Some(p) = &l.path {
        return ListenOptions::path(tmp.join(p).to_string_lossy().into_owned());
    }
    let mut o = ListenOptions::port(port);
    if let Some(h) = &l.host {
        o = o.host(h.clone());
    }
    if let Some(v6) = l.ipv6_only {
        o = o.ipv6_only(v6);
    }
    if let Some(b) = l.backlog {
        o = o.backlog(b);
    }
    o
}

/// `new net.Socket(options)` and the `connect(options)` for a client spec (the target
/// port already resolved; the custom `lookup` is the driver's business).
pub fn connect_options(
    spec: &ClientSpec,
    tmp: &Path,
    port: Option<u16>,
) -> Result<(SocketOptions, ConnectOptions), String> {
    let c = &spec.connect;
    let mut options = match (&c.path, port) {
        (Some(p), _) => ConnectOptions::path(tmp.join(p).to_string_lossy().into_owned()),
        (None, Some(port)) => ConnectOptions::tcp(port, c.host()),
        (None, None) => return Err(format!("NO_PORT_{}", c.port_of())),
    };
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
    let socket = SocketOptions {
        allow_half_open: c.allow_half_open.unwrap_or(false),
        ..SocketOptions::default()
    };
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
        SocketEvent::Error(e) => Event::Error(code(e)),
        SocketEvent::Close { had_error } => Event::Close(had_error),
        SocketEvent::WriteDone { .. } => return None,
    })
}

/// Whether Node emits another event synchronously right after this one, before any
/// promise continuation (a script step after a `wait`) can run: `afterConnect` emits
/// `connect` then `ready`; `emitErrorCloseNT` emits `error` then `close`. Drivers deliver
/// the follower before the script continues.
pub fn emits_follower(ev: &SocketEvent) -> bool {
    matches!(ev, SocketEvent::Connect | SocketEvent::Error(_))
}
