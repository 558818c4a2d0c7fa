//! The socket side of happy eyeballs (§5.3 steps 6–11): when a lookup yields two or more
//! candidates, a [`Planner`] decides which attempt to start, time out, abort or keep, and
//! this module translates between it and the socket — planner actions become
//! [`Command::Connect`] / [`Command::Abort`] and `ConnectionAttempt*` events, backend
//! answers for planner attempts go back into the planner, and the outcome either adopts
//! the winning attempt as the socket's connection or destroys the socket with the
//! `AggregateError`.
//!
//! Binding: the backend binds and connects in one [`Command::Connect`] (with `local`), as
//! on the single path, while Node binds synchronously before it emits
//! `connectionAttempt` and starts the attempt timer. The socket therefore issues the
//! command as soon as the planner asks for the bind and treats the bind as successful
//! one Node tick later (a [`Tick::BindDone`], anchored at the time the command was
//! issued), or when the attempt's answer comes first, unless the backend reported
//! `handle_bind_failed` before — which a backend that binds while executing the command
//! always does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::block_list::BlockList;
use crate::error::ErrorCode;
use crate::happy_eyeballs::{Action, Candidate, Planner, PlannerOptions};
use crate::options::{AttemptId, Endpoint};

use super::connect::{parse_sockaddr, Connector, TcpPlan};
use super::events::{Command, SocketEvent};
use super::state::Tick;
use super::Socket;

/// A running multi-address connect.
#[derive(Debug)]
pub(crate) struct Multi {
    pub(crate) planner: Planner,
    /// Attempts with a `Connect` command out, i.e. a socket at the backend that an
    /// `Abort` must close.
    issued: Vec<AttemptId>,
    /// The attempt whose answer is being delivered: whatever runs before the answer is
    /// processed (a pending tick that destroys the socket) must not `Abort` it, since
    /// the backend already consumed it.
    answering: Option<AttemptId>,
    /// The port every candidate is connected on.
    port: u16,
    /// The socket's `blockList`, checked before a bound attempt's command goes out.
    block_list: Option<Arc<BlockList>>,
}

impl Socket {
    /// §5.3 step 6: start the planner over `candidates` (two or more).
    pub(crate) fn start_multi(&mut self, candidates: Vec<Candidate>, plan: &TcpPlan, now: Instant) {
        let mut options = PlannerOptions::new(plan.port);
        options.mode = plan.mode;
        options.attempt_timeout_ms = plan.attempt_timeout;
        options.local_port = Some(plan.local_port).filter(|p| *p != 0);
        options.block_list = plan.block_list.clone();
        options.first_attempt_id = AttemptId(self.next_attempt + 1);
        let planner = Planner::start(options, candidates, now);
        self.attempted = None;
        self.connector = Connector::Multi(Box::new(Multi {
            planner,
            issued: Vec::new(),
            answering: None,
            port: plan.port,
            block_list: plan.block_list.clone(),
        }));
        self.drive_planner(now, None);
    }

    /// The backend answers `id` (connected, failed, or its bind failed): until the answer
    /// is processed the attempt is no longer outstanding, so nothing that runs first — a
    /// pending tick that destroys the socket — may `Abort` it. A connected handle the
    /// socket then does not keep is closed by its `Close` command.
    pub(crate) fn attempt_answered(&mut self, id: AttemptId) {
        if let Connector::Multi(m) = &mut self.connector {
            m.answering = Some(id);
        }
    }

    pub(crate) fn is_multi(&self) -> bool {
        matches!(self.connector, Connector::Multi(_))
    }

    /// A backend answer (`handle_connected` / `handle_connect_failed`) for attempt `id`
    /// while the planner runs. `Ok(local)` carries the connected socket's own address.
    /// An answer that comes before the attempt's `Tick::BindDone` ran confirms its bind
    /// first (the attempt is announced before its outcome).
    pub(crate) fn multi_result(
        &mut self,
        now: Instant,
        id: AttemptId,
        result: std::result::Result<Option<SocketAddr>, ErrorCode>,
        at_once: bool,
    ) {
        let mut bound_at = None;
        self.ticks.retain(|t| match t {
            Tick::BindDone(a, at) if *a == id => {
                bound_at = Some(*at);
                false
            }
            _ => true,
        });
        if let Some(at) = bound_at {
            self.multi_bind_done(now, id, at);
        }
        let Connector::Multi(m) = &mut self.connector else {
            return;
        };
        m.answering = None;
        if !self.connecting || self.destroyed {
            return;
        }
        let local = match result {
            Ok(local) => {
                m.planner.handle_attempt_result(id, Ok(()), now);
                local
            }
            Err(code) => {
                // The backend dropped the failed attempt's socket itself.
                m.issued.retain(|i| *i != id);
                if at_once {
                    m.planner.handle_attempt_failed_at_once(id, code, now);
                } else {
                    m.planner.handle_attempt_result(id, Err(code), now);
                }
                None
            }
        };
        self.drive_planner(now, local);
    }

    /// `handle_bind_failed` for attempt `id` while the planner runs. `before_confirm`:
    /// the failure arrived before the bind was taken as successful (the normal case), so
    /// it is recorded as Node's `bind <CODE> 0.0.0.0:<localPort>`; a later report can only
    /// fail the connect attempt.
    pub(crate) fn multi_bind_failed(
        &mut self,
        now: Instant,
        id: AttemptId,
        code: ErrorCode,
        before_confirm: bool,
    ) {
        let Connector::Multi(m) = &mut self.connector else {
            return;
        };
        m.answering = None;
        if !self.connecting || self.destroyed {
            return;
        }
        m.issued.retain(|i| *i != id);
        if before_confirm {
            m.planner.handle_attempt_bound(id, Err(code), now);
        } else {
            m.planner.handle_attempt_result(id, Err(code), now);
        }
        self.drive_planner(now, None);
    }

    /// A `Tick::BindDone`: the backend did not report a bind failure, so attempt `id` is
    /// bound since `at` (its attempt timer starts then).
    pub(crate) fn multi_bind_done(&mut self, now: Instant, id: AttemptId, at: Instant) {
        let Connector::Multi(m) = &mut self.connector else {
            return;
        };
        m.planner.handle_attempt_bound(id, Ok(()), at);
        self.drive_planner(now, None);
    }

    /// The planner's attempt timer passed.
    pub(crate) fn multi_timeout(&mut self, now: Instant) {
        let Connector::Multi(m) = &mut self.connector else {
            return;
        };
        m.planner.handle_timeout(now);
        self.drive_planner(now, None);
    }

    #[inline]
    pub(crate) fn multi_deadline(&self) -> Option<Instant> {
        match &self.connector {
            Connector::Multi(m) => m.planner.poll_timeout(),
            _ => None,
        }
    }

    /// `destroy()` mid-algorithm (§5.3 rule 11): abort every live attempt; returns the
    /// `ConnectionAttemptFailed(... ECANCELED)` events Node emits after `destroy()`, for
    /// the caller to place before `Close`.
    pub(crate) fn cancel_multi(&mut self) -> Vec<SocketEvent> {
        let Connector::Multi(mut m) = std::mem::take(&mut self.connector) else {
            return Vec::new();
        };
        if let Some(now) = self.last_now {
            m.planner.cancel(now);
        }
        let mut events = Vec::new();
        while let Some(action) = m.planner.poll_action() {
            match action {
                Action::Abort { id } if m.issued.contains(&id) && m.answering != Some(id) => {
                    self.commands.push_back(Command::Abort { attempt: id });
                }
                Action::ConnectionAttemptFailed {
                    ip,
                    port,
                    family,
                    error,
                } => events.push(SocketEvent::ConnectionAttemptFailed {
                    address: ip,
                    port: Some(port),
                    family: Some(family),
                    error,
                }),
                _ => {}
            }
        }
        self.finish_multi(&m);
        events
    }

    /// Turn queued planner actions into commands, events and the outcome.
    fn drive_planner(&mut self, now: Instant, connected_local: Option<SocketAddr>) {
        loop {
            let Connector::Multi(m) = &mut self.connector else {
                return;
            };
            let Some(action) = m.planner.poll_action() else {
                break;
            };
            match action {
                Action::Bind {
                    id,
                    family,
                    local_port,
                } => {
                    let Some(cand) = m.planner.candidate_of(id).cloned() else {
                        continue;
                    };
                    if is_blocked(&cand, m.block_list.as_deref()) {
                        // Never connect to a blocked address: skip the backend and let
                        // the planner record ERR_IP_BLOCKED at once.
                        m.planner.handle_attempt_bound(id, Ok(()), now);
                        continue;
                    }
                    let local = unspecified(family, local_port);
                    match parse_sockaddr(&cand.ip, m.port) {
                        Some(remote) => {
                            m.issued.push(id);
                            self.commands.push_back(Command::Connect {
                                attempt: id,
                                endpoint: Endpoint::Tcp(remote),
                                local: Some(local),
                            });
                            self.ticks.push_back(Tick::BindDone(id, now));
                        }
                        None => m
                            .planner
                            .handle_attempt_bound(id, Err(ErrorCode::EINVAL), now),
                    }
                }
                Action::Connect { id, ip, port, .. } => {
                    if m.issued.contains(&id) {
                        continue; // bound attempt: its command is already out
                    }
                    match parse_sockaddr(&ip, port) {
                        Some(remote) => {
                            m.issued.push(id);
                            self.commands.push_back(Command::Connect {
                                attempt: id,
                                endpoint: Endpoint::Tcp(remote),
                                local: None,
                            });
                        }
                        // Unreachable for candidates that passed isIP; Node would get a
                        // synchronous connect error and move on.
                        None => m
                            .planner
                            .handle_attempt_result(id, Err(ErrorCode::EINVAL), now),
                    }
                }
                Action::Abort { id } => {
                    if let Some(pos) = m.issued.iter().position(|i| *i == id) {
                        m.issued.swap_remove(pos);
                        if m.answering != Some(id) {
                            self.commands.push_back(Command::Abort { attempt: id });
                        }
                    }
                }
                Action::ConnectionAttempt { ip, port, family } => {
                    self.events.push_back(SocketEvent::ConnectionAttempt {
                        address: ip,
                        port: Some(port),
                        family: Some(family),
                    })
                }
                Action::ConnectionAttemptFailed {
                    ip,
                    port,
                    family,
                    error,
                } => self.events.push_back(SocketEvent::ConnectionAttemptFailed {
                    address: ip,
                    port: Some(port),
                    family: Some(family),
                    error,
                }),
                Action::ConnectionAttemptTimeout { ip, port, family } => {
                    self.events
                        .push_back(SocketEvent::ConnectionAttemptTimeout {
                            address: ip,
                            port: Some(port),
                            family: Some(family),
                        })
                }
                Action::Connected { ip, port, .. } => {
                    if let Connector::Multi(m) = std::mem::take(&mut self.connector) {
                        self.finish_multi(&m);
                    }
                    let peer = parse_sockaddr(&ip, port);
                    return self.finish_connect(now, peer, connected_local);
                }
                Action::Failed(err) => {
                    if let Connector::Multi(m) = std::mem::take(&mut self.connector) {
                        self.finish_multi(&m);
                    }
                    return self.destroy_inner(Some(err), false);
                }
            }
        }
        if let Connector::Multi(m) = &self.connector {
            let next = m.planner.next_free_id().0.saturating_sub(1);
            self.next_attempt = self.next_attempt.max(next);
        }
    }

    /// The planner is done: keep `autoSelectFamilyAttemptedAddresses` and the id counter.
    fn finish_multi(&mut self, m: &Multi) {
        self.attempted = Some(m.planner.attempted_addresses().into());
        let next = m.planner.next_free_id().0.saturating_sub(1);
        self.next_attempt = self.next_attempt.max(next);
    }
}

fn is_blocked(cand: &Candidate, list: Option<&BlockList>) -> bool {
    let Some(list) = list else {
        return false;
    };
    let family = if cand.family == 6 { "ipv6" } else { "ipv4" };
    list.check(cand.ip.as_str(), family).unwrap_or(false)
}

fn unspecified(family: u8, port: u16) -> SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = if family == 6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    SocketAddr::new(ip, port)
}
