//! Admitting accepted connections (§6.4): the `max_connections` check with Node's `drop`
//! data, the server block list, the connection count, and the `close` that waits for the
//! last connection.

use std::time::Instant;

use super::events::{
    AcceptedConnection, ConnectionId, DropInfo, ListenerId, ServerCommand, ServerEvent,
};
use super::{Server, State};
use crate::ip::is_ip;
use crate::options::Endpoint;

impl Server {
    /// The backend accepted a connection on `listener` with these endpoints (`getsockname`,
    /// `getpeername`). Returns the id the backend keeps the OS socket under. Then, in
    /// Node's order:
    ///
    /// 1. `max_connections` is set and reached → [`ServerEvent::Drop`] and
    ///    [`ServerCommand::Reject`];
    /// 2. the peer's IP is in the server's block list → [`ServerEvent::Blocked`] (beyond
    ///    Node, which closes silently) and `Reject`;
    /// 3. otherwise the count goes up and [`ServerEvent::Connection`] carries the
    ///    connection with the server's socket options.
    ///
    /// A connection on a listener that is no longer the server's is rejected without an
    /// event.
    pub fn handle_accepted(
        &mut self,
        listener: ListenerId,
        local: Endpoint,
        remote: Endpoint,
        _now: Instant,
    ) -> ConnectionId {
        let id = ConnectionId(self.fresh_id());
        if !self.is_current_listener(listener) {
            self.commands.push_back(ServerCommand::Reject { id });
            return id;
        }
        self.accept_succeeded();
        if let Some(max) = self.max_connections {
            if self.connections.len() >= max as usize {
                let info = DropInfo::from_endpoints(&local, &remote);
                self.events.push_back(ServerEvent::Drop(info));
                self.commands.push_back(ServerCommand::Reject { id });
                return id;
            }
        }
        if self.is_blocked(&remote) {
            self.events.push_back(ServerEvent::Blocked { id, remote });
            self.commands.push_back(ServerCommand::Reject { id });
            return id;
        }
        self.connections.insert(id);
        self.events
            .push_back(ServerEvent::Connection(AcceptedConnection {
                id,
                local,
                remote,
                options: self.options.socket.clone(),
            }));
        id
    }

    /// The socket of connection `id` was destroyed (or dropped): the count goes down and,
    /// if the server was closed and this was the last connection, [`ServerEvent::Close`] is
    /// queued (which also completes a [`shutdown`](Server::shutdown)). Unknown or repeated
    /// ids change nothing.
    pub fn handle_connection_closed(&mut self, id: ConnectionId, _now: Instant) {
        if self.connections.remove(&id) {
            self.emit_close_if_drained();
        }
    }

    /// Whether [`handle_connection_closed`](Server::handle_connection_closed) can queue an
    /// event now. Only without a listening handle: the last close then emits
    /// [`ServerEvent::Close`]. While a handle exists a close only lowers the count, which
    /// nothing reads before the next [`handle_accepted`](Server::handle_accepted) or
    /// [`connections`](Server::connections) call, so a driver whose connections close on
    /// other threads may report those closes at its next turn (before it accepts)
    /// instead of waking the server for each one.
    pub fn closes_emit_events(&self) -> bool {
        !self.has_handle()
    }

    pub(super) fn is_current_listener(&self, listener: ListenerId) -> bool {
        matches!(self.state, State::Listening { id, .. } if id == listener)
    }

    /// Node v22.13: `blockList.check(remoteAddress, 'ipv' + isIP(remoteAddress))`; pipes
    /// and check errors are never blocked.
    fn is_blocked(&self, remote: &Endpoint) -> bool {
        let (Some(list), Endpoint::Tcp(addr)) = (&self.options.block_list, remote) else {
            return false;
        };
        let ip = addr.ip().to_string();
        match is_ip(&ip) {
            4 => list.check(&ip, "ipv4").unwrap_or(false),
            6 => list.check(&ip, "ipv6").unwrap_or(false),
            _ => false,
        }
    }
}
