//! `shutdown(deadline)` (beyond Node) and the server's timers: stop accepting and close
//! (as `close()`), ask every open connection to `end()`, and destroy those still open at
//! the deadline. The server learns of each connection's end through
//! [`Server::handle_connection_closed`], so it knows when nothing is left; the deadline is
//! one of the server's timers ([`Server::poll_timeout`], [`Server::handle_timeout`]), with
//! the end of an accept pause (see `backoff`).

use std::time::Instant;

use super::events::{ServerCommand, ServerEvent};
use super::Server;

/// A shutdown in progress.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shutdown {
    deadline: Instant,
    /// `DestroyConnections` was sent (or nothing was left to destroy).
    destroyed: bool,
}

impl Shutdown {
    /// The deadline passed (the remaining connections were told to go).
    pub(crate) fn is_done(&self) -> bool {
        self.destroyed
    }
}

impl Server {
    /// Beyond Node: a graceful shutdown with a deadline. Stops accepting and closes the
    /// server as [`close`](Server::close) does (a server that is not running is fine
    /// here); connections accepted but not yet handed out as
    /// [`ServerEvent::Connection`] are rejected ([`ServerCommand::Reject`]); every open
    /// connection is asked to `end()` ([`ServerCommand::EndConnections`]); those still open
    /// at `deadline` are destroyed ([`ServerCommand::DestroyConnections`], sent by
    /// [`handle_timeout`](Server::handle_timeout)). The shutdown is complete when
    /// [`ServerEvent::Close`] is emitted.
    ///
    /// Calling it again during a shutdown closes again (a `listen()` made meanwhile does
    /// not cancel the shutdown), asks the connections opened since to end, and keeps the
    /// earlier deadline.
    pub fn shutdown(&mut self, deadline: Instant, now: Instant) {
        let mut withdrawn = Vec::new();
        self.events.retain(|e| match e {
            ServerEvent::Connection(c) => {
                withdrawn.push(c.id);
                false
            }
            _ => true,
        });
        for id in withdrawn {
            self.connections.remove(&id);
            self.commands.push_back(ServerCommand::Reject { id });
        }
        // `close()`'s ERR_SERVER_NOT_RUNNING only tells that there was no listener.
        let _not_running = self.close(now);
        let open = !self.connections.is_empty();
        if open {
            self.commands.push_back(ServerCommand::EndConnections);
        }
        let deadline = match self.shutdown {
            Some(s) if !s.destroyed => s.deadline.min(deadline),
            _ => deadline,
        };
        self.shutdown = Some(Shutdown {
            deadline,
            destroyed: !open,
        });
        if open && deadline <= now {
            self.handle_timeout(now);
        }
    }

    /// Whether a [`shutdown`](Server::shutdown) is in progress or was completed (a
    /// `listen()` after a completed shutdown starts over).
    pub fn shutting_down(&self) -> bool {
        self.shutdown.is_some()
    }

    /// The next instant at which [`handle_timeout`](Server::handle_timeout) has work: the
    /// end of an accept pause, or the shutdown deadline while connections are open.
    /// `None` when no timer is armed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let shutdown = self
            .shutdown
            .filter(|s| !s.destroyed && !self.connections.is_empty())
            .map(|s| s.deadline);
        match (self.backoff.deadline(), shutdown) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time has reached `now`: resume accepting after a pause
    /// ([`ServerCommand::ResumeAccept`]) and, past the shutdown deadline, destroy the
    /// connections still open ([`ServerCommand::DestroyConnections`]). Calling it early
    /// does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.resume_accept_if_due(now);
        if let Some(s) = &mut self.shutdown {
            if !s.destroyed && s.deadline <= now {
                s.destroyed = true;
                if !self.connections.is_empty() {
                    self.commands.push_back(ServerCommand::DestroyConnections);
                }
            }
        }
    }
}
