//! The answers to `Resolve` and `Listen`: turning a lookup into a bind, libuv's and Node's
//! rules for bind/listen failures (the `0.0.0.0` fallback, the deferred `EADDRINUSE`,
//! errors named after the `listen` syscall), and the `Listening` event.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::time::Instant;

use super::events::{ListenStage, ListenerId, ResolveId, ServerCommand, ServerEvent};
use super::listen::ListenTarget;
use super::{unlink_path, Server, State};
use crate::error::{Error, ErrorCode, Result};
use crate::options::{Endpoint, LookupAddress};

impl Server {
    /// Answer to [`ServerCommand::Resolve`]: the lookup's addresses (Node v20 binds the
    /// first) or its error, which is emitted unchanged as [`ServerEvent::Error`]. It takes
    /// effect at the next [`poll_event`](Server::poll_event), as Node's lookup callback
    /// runs after `listen()` returned; a stale answer (a later `listen` or a `close` came
    /// first) is ignored.
    pub fn handle_resolved(
        &mut self,
        id: ResolveId,
        result: Result<Vec<LookupAddress>>,
        _now: Instant,
    ) {
        if let State::Resolving {
            id: current,
            answer: answer @ None,
            ..
        } = &mut self.state
        {
            if *current == id {
                *answer = Some(result);
            }
        }
    }

    /// Node's lookup callback for `listen({host})`: bind the first address.
    pub(super) fn apply_resolved(&mut self) {
        let (port, request, host, result) = match &mut self.state {
            State::Resolving {
                port,
                request,
                answer: answer @ Some(_),
                ..
            } => {
                let host = match &request.target {
                    ListenTarget::Tcp { host, .. } => host.clone().unwrap_or_default(),
                    ListenTarget::Pipe { .. } => String::new(),
                };
                let Some(result) = answer.take() else { return };
                (*port, request.clone(), host, result)
            }
            _ => return,
        };
        self.state = State::Idle;
        let first = match result {
            Err(err) => {
                self.events.push_back(ServerEvent::Error(err));
                return;
            }
            Ok(list) => match list.into_iter().next() {
                Some(first) => first,
                // dns.lookup never answers with nothing; a resolver that does is reported
                // as the name not being found.
                None => {
                    let err = Error::getaddrinfo(ErrorCode::ENOTFOUND, &host);
                    self.events.push_back(ServerEvent::Error(err));
                    return;
                }
            },
        };
        match parse_ip(&first.address) {
            Some(ip) => {
                let address = first.address.clone();
                self.start_listen(
                    Endpoint::Tcp(with_port(ip, port)),
                    address,
                    port,
                    false,
                    request,
                );
            }
            // Node hands the text to bind(), which refuses it.
            None => {
                let err = Error::listen(ErrorCode::EINVAL, &first.address, port);
                self.events.push_back(ServerEvent::Error(err));
            }
        }
    }

    /// Answer to [`ServerCommand::Listen`]: listener `id` is bound and listening on
    /// `local` (for TCP the real port when 0 was asked). Queues [`ServerEvent::Listening`].
    /// A listener the server no longer wants is closed (`CloseListener`).
    pub fn handle_listening(&mut self, id: ListenerId, local: Endpoint, _now: Instant) {
        match &self.state {
            State::Binding {
                id: current,
                request,
                ..
            } if *current == id => {
                let request = request.clone();
                self.backoff.reset();
                self.state = State::Listening { id, local, request };
                self.events.push_back(ServerEvent::Listening);
            }
            _ => {
                let unlink = self.abandoned.remove(&id).flatten();
                self.close_listener(id, unlink);
            }
        }
    }

    /// Answer to [`ServerCommand::Listen`]: `stage` failed with `code` and the backend
    /// discarded the handle. Applies libuv's and Node's rules:
    ///
    /// * `bind` of `::` for a host-less listen failed → retry on `0.0.0.0` (a second
    ///   `Listen` command), except for `EADDRINUSE`, which libuv defers to `listen(2)`;
    /// * a pipe's `bind` failing with `ENOENT` (its directory does not exist) is reported
    ///   as `EACCES`, as libuv's `uv_pipe_bind` does;
    /// * otherwise [`ServerEvent::Error`] in Node's `listen` shape
    ///   (`listen EADDRINUSE: address already in use :::8080`), or `uv_pipe_chmod EPERM`
    ///   for a chmod failure; the server is idle again and `listen` may be called again;
    /// * a pipe whose file was created (the bind succeeded) gets it unlinked, as libuv does
    ///   when it closes the handle.
    pub fn handle_listen_failed(
        &mut self,
        id: ListenerId,
        stage: ListenStage,
        code: ErrorCode,
        _now: Instant,
    ) {
        let (address, port, may_fall_back, request) = match &self.state {
            State::Binding {
                id: current,
                address,
                port,
                may_fall_back,
                request,
            } if *current == id => (address.clone(), *port, *may_fall_back, request.clone()),
            _ => {
                self.abandoned.remove(&id);
                return;
            }
        };
        let is_pipe = matches!(request.target, ListenTarget::Pipe { .. });
        // libuv's uv__tcp_bind: EADDRINUSE is kept and reported by listen(); EAFNOSUPPORT
        // is reported as EINVAL. libuv's uv_pipe_bind reports ENOENT (a missing directory)
        // as EACCES, "for compatibility with Windows".
        let (stage, code) = match (stage, code, is_pipe) {
            (ListenStage::Bind, ErrorCode::ENOENT, true) => (ListenStage::Bind, ErrorCode::EACCES),
            (ListenStage::Bind, ErrorCode::EADDRINUSE, false) => {
                (ListenStage::Listen, ErrorCode::EADDRINUSE)
            }
            (ListenStage::Bind, ErrorCode::EAFNOSUPPORT, false) => {
                (ListenStage::Bind, ErrorCode::EINVAL)
            }
            other => (other.0, other.1),
        };
        self.state = State::Idle;
        if may_fall_back && stage == ListenStage::Bind {
            let fallback = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
            let mut request = request;
            // Node's fallback bind passes no flags.
            request.ipv6_only = false;
            self.start_listen(
                Endpoint::Tcp(fallback),
                "0.0.0.0".to_string(),
                port,
                false,
                request,
            );
            return;
        }
        if is_pipe && stage != ListenStage::Bind {
            if let Some(path) = unlink_path(&request) {
                self.commands.push_back(ServerCommand::Unlink { path });
            }
        }
        let err = match stage {
            ListenStage::Chmod => Error::errno_exception(code, "uv_pipe_chmod"),
            ListenStage::Bind | ListenStage::Listen => Error::listen(code, &address, port),
        };
        self.events.push_back(ServerEvent::Error(err));
    }
}

/// An IP from a lookup entry; IPv6 may carry a numeric zone (`fe80::1%2`).
fn parse_ip(text: &str) -> Option<(IpAddr, u32)> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some((ip, 0));
    }
    let (addr, zone) = text.split_once('%')?;
    let ip = addr.parse::<Ipv6Addr>().ok()?;
    let scope = zone.parse::<u32>().ok()?;
    Some((IpAddr::V6(ip), scope))
}

fn with_port((ip, scope): (IpAddr, u32), port: u16) -> SocketAddr {
    match ip {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), port),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope)),
    }
}
