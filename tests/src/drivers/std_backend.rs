//! The conformance driver on blocking `nodenet-std`: one thread drives every actor by
//! asking each in turn for its next event with a deadline already due
//! (`next_event_until`), which checks the socket's IO once — each check waits up to half
//! a millisecond in the socket's own `mio` reactor, so the loop does not spin.
use std::task::Poll;
use std::time::{Duration, Instant};

use super::backend::{Backend, Ev};
use super::net::{Actor, ActorTable, NetDriver};

/// The blocking std backend (each socket and server carries its own reactor).
#[derive(Debug, Default)]
pub struct Std;

/// The conformance driver for `nodenet-std`.
pub fn driver() -> NetDriver<Std> {
    NetDriver::new(Std)
}

/// Check one actor's IO once, without waiting for an event.
fn poll_once(actor: &mut Actor<Std>) -> Poll<Option<Ev<nodenet_std::Socket>>> {
    let now = Instant::now();
    match actor {
        Actor::Socket(s) => s.next_event_until(now).map(|e| e.map(Ev::Socket)),
        Actor::Server(s) => s.next_event_until(now).map(|e| e.map(Ev::Server)),
    }
}

impl Backend for Std {
    crate::forward_backend_api!(nodenet_std);

    fn name(&self) -> &'static str {
        "std"
    }

    fn next_event(
        &mut self,
        table: &mut ActorTable<Self>,
        deadline: Instant,
    ) -> Option<(String, Ev<nodenet_std::Socket>)> {
        loop {
            if let Poll::Ready(found) = table.visit(poll_once) {
                return Some(found);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            if table.live().is_empty() {
                // Nobody to ask: just let the time pass (bounded, no spinning).
                std::thread::sleep((deadline - now).min(Duration::from_millis(1)));
            }
        }
    }

    fn poll_now(
        &mut self,
        table: &mut ActorTable<Self>,
        actor: &str,
    ) -> Option<Ev<nodenet_std::Socket>> {
        match table.poll_one(actor, poll_once) {
            Poll::Ready(ev) => ev,
            Poll::Pending => None,
        }
    }
}
