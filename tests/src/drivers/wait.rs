//! How the conformance driver waits for the next event of several actors at once: the
//! one part of the driver that differs per runtime, and it differs only by the runtime's
//! kind ([`Drive`]): async runtimes poll every actor under one waker, raced against
//! the runtime's timer; the blocking runtime asks each actor in turn for what its IO has
//! ready, each check waiting briefly in that actor's own reactor.
use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet::{ReadInto, ServerEvent, SocketEvent};

use super::net::{Actor, ActorTable, Entry};
use crate::test_runtime::{Drive, TestRuntime};

/// One event of one actor.
#[derive(Debug)]
pub enum Ev<R: TestRuntime> {
    /// A socket event.
    Socket(SocketEvent),
    /// Bytes a socket with the `onread` option read into its buffer.
    Read(Vec<u8>),
    /// A server event (a `Connection` carries the accepted socket).
    Server(ServerEvent<R>),
}

/// Check one actor once ([`Drive::poll_socket`], [`Drive::poll_socket_into`] for a
/// socket with the `onread` option, [`Drive::poll_server`]; `Ready(None)`: it is
/// finished).
fn poll_actor<R: TestRuntime>(entry: &mut Entry<R>, cx: &mut Context<'_>) -> Poll<Option<Ev<R>>> {
    match (&mut entry.actor, &mut entry.read_into) {
        (Actor::Socket(s), Some(bufs)) => {
            <R::Kind as Drive<R>>::poll_socket_into(s, bufs.current(), cx).map(|e| {
                e.map(|r| match r {
                    ReadInto::Read(n) => Ev::Read(bufs.take(n)),
                    ReadInto::Event(ev) => Ev::Socket(ev),
                })
            })
        }
        (Actor::Socket(s), None) => {
            <R::Kind as Drive<R>>::poll_socket(s, cx).map(|e| e.map(Ev::Socket))
        }
        (Actor::Server(s), _) => {
            <R::Kind as Drive<R>>::poll_server(s, cx).map(|e| e.map(Ev::Server))
        }
    }
}

/// The next event of any live actor of `table` (visited in rotation so none starves);
/// `None` once `deadline` passed first, or when no actor is live any more. An actor
/// whose events ended is marked finished.
pub async fn next_of_any<R: TestRuntime>(
    table: &mut ActorTable<R>,
    deadline: Instant,
) -> Option<(String, Ev<R>)> {
    <R::Kind as Drive<R>>::wait_any(deadline, |cx| table.visit(|a| poll_actor(a, cx))).await
}

/// The event `actor` has available right now, without waiting (`None`: nothing now, or
/// finished). The driver asks for it after an event Node always follows synchronously
/// with another (`connect` then `ready`), so that a script step waiting for the first
/// runs after both, as in Node.
pub async fn poll_now<R: TestRuntime>(table: &mut ActorTable<R>, actor: &str) -> Option<Ev<R>> {
    poll_fn(|cx| {
        Poll::Ready(match table.poll_one(actor, |a| poll_actor(a, cx)) {
            Poll::Ready(ev) => ev,
            Poll::Pending => None,
        })
    })
    .await
}
