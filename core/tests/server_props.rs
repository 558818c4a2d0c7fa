//! Property test: random interleavings of user calls and backend answers never break the
//! server's bookkeeping.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use nodenet_core::server::{
    ConnectionId, ListenOptions, ListenStage, ListenerId, ResolveId, Server, ServerCommand,
    ServerEvent, ServerOptions,
};
use nodenet_core::{Endpoint, ErrorCode, LookupAddress};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    ListenAny,
    ListenHost,
    ListenPipe,
    Close,
    SetMax(Option<u32>),
    /// Answer the `n`-th Listen command ever seen.
    Listening(usize),
    ListenFailed(usize, u8),
    Resolved(usize),
    Accept(usize),
    ConnClosed(usize),
    DrainEvents,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::ListenAny),
        1 => Just(Op::ListenHost),
        1 => Just(Op::ListenPipe),
        1 => Just(Op::Close),
        1 => prop::option::of(0..3u32).prop_map(Op::SetMax),
        1 => (0..6usize).prop_map(Op::Listening),
        1 => (0..6usize, 0..3u8).prop_map(|(n, s)| Op::ListenFailed(n, s)),
        1 => (0..6usize).prop_map(Op::Resolved),
        3 => (0..6usize).prop_map(Op::Accept),
        3 => (0..12usize).prop_map(Op::ConnClosed),
        1 => Just(Op::DrainEvents),
    ]
}

fn tcp(s: &str) -> Endpoint {
    Endpoint::Tcp(s.parse::<SocketAddr>().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn bookkeeping_holds(ops in prop::collection::vec(op(), 0..60)) {
        let now = Instant::now();
        let mut s = Server::new(ServerOptions::default());
        let mut listens: Vec<ListenerId> = vec![];
        let mut resolves: Vec<ResolveId> = vec![];
        let mut reported_listening: HashSet<ListenerId> = HashSet::new();
        let mut accepted: Vec<ConnectionId> = vec![];
        let mut open: HashSet<ConnectionId> = HashSet::new();
        let mut rejected: HashSet<ConnectionId> = HashSet::new();
        for op in ops {
            match op {
                Op::ListenAny => { let _ = s.listen(ListenOptions::port(0), now); }
                Op::ListenHost => { let _ = s.listen(ListenOptions::port(0).host("localhost"), now); }
                Op::ListenPipe => { let _ = s.listen(ListenOptions::path("/tmp/p.sock"), now); }
                Op::Close => { let _ = s.close(now); }
                Op::SetMax(m) => s.set_max_connections(m),
                Op::Listening(n) => if let Some(id) = listens.get(n).copied() {
                    reported_listening.insert(id);
                    s.handle_listening(id, tcp("[::]:4000"), now);
                },
                Op::ListenFailed(n, stage) => if let Some(id) = listens.get(n).copied() {
                    let stage = [ListenStage::Bind, ListenStage::Listen, ListenStage::Chmod][stage as usize];
                    s.handle_listen_failed(id, stage, ErrorCode::EADDRINUSE, now);
                },
                Op::Resolved(n) => if let Some(id) = resolves.get(n).copied() {
                    s.handle_resolved(id, Ok(vec![LookupAddress::new("127.0.0.1", 4)]), now);
                },
                Op::Accept(n) => if let Some(id) = listens.get(n).copied() {
                    let c = s.handle_accepted(id, tcp("127.0.0.1:4000"), tcp("127.0.0.1:5000"), now);
                    prop_assert!(!accepted.contains(&c));
                    accepted.push(c);
                },
                Op::ConnClosed(n) => if let Some(c) = accepted.get(n).copied() {
                    let quiet = !s.closes_emit_events();
                    // A lookup answer still waiting for its tick counts as a command
                    // already owed; the property is about what the close itself queues.
                    let owed = s.has_commands();
                    open.remove(&c);
                    s.handle_connection_closed(c, now);
                    if quiet && !owed {
                        // Only the count changed: a driver may report such a close at
                        // its next turn instead of waking the server for it.
                        prop_assert!(!s.has_commands());
                        prop_assert_eq!(s.poll_event(), None);
                    }
                },
                Op::DrainEvents => {}
            }
            while let Some(cmd) = s.poll_command() {
                match cmd {
                    ServerCommand::Listen { id, .. } => listens.push(id),
                    ServerCommand::Resolve { id, .. } => resolves.push(id),
                    ServerCommand::Reject { id } => {
                        prop_assert!(!open.contains(&id));
                        prop_assert!(rejected.insert(id));
                    }
                    ServerCommand::CloseListener { id } => {
                        prop_assert!(reported_listening.contains(&id));
                    }
                    ServerCommand::Unlink { path } => prop_assert_eq!(path, "/tmp/p.sock"),
                    // No accept errors, timers or shutdown in this model.
                    cmd @ (ServerCommand::PauseAccept { .. }
                    | ServerCommand::ResumeAccept { .. }
                    | ServerCommand::EndConnections
                    | ServerCommand::DestroyConnections) => {
                        prop_assert!(false, "unexpected {:?}", cmd);
                    }
                }
            }
            {
                while let Some(ev) = s.poll_event() {
                    match ev {
                        ServerEvent::Connection(c) => {
                            prop_assert!(!rejected.contains(&c.id));
                            prop_assert!(accepted.contains(&c.id));
                            prop_assert!(open.insert(c.id));
                        }
                        ServerEvent::Close => {
                            prop_assert!(!s.listening());
                            prop_assert_eq!(open.len(), 0);
                        }
                        ServerEvent::Listening => {}
                        ServerEvent::Drop(_) | ServerEvent::Blocked { .. } | ServerEvent::Error(_) => {}
                    }
                }
            }
            // The count is exactly the admitted connections not yet reported closed.
            prop_assert_eq!(s.connections(), open.len());
            if !s.listening() {
                prop_assert!(!matches!(s.address(), Some(Endpoint::Tcp(_))));
            }
        }
    }
}
