//! The conformance driver on `nodenet-smol`: the actors' `next_event()` futures polled
//! together on `async_io::block_on`, raced against an `async_io::Timer` for the
//! script's deadline.
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet_core::ServerEvent;
use nodenet_core::SocketEvent;

use super::backend::{Backend, Ev, PollActor};
use super::net::{ActorTable, NetDriver};

/// The smol backend (async-io's global reactor needs no handle).
#[derive(Debug, Default)]
pub struct Smol;

/// The conformance driver for `nodenet-smol`.
pub fn driver() -> NetDriver<Smol> {
    NetDriver::new(Smol)
}

impl Backend for Smol {
    crate::forward_backend_api!(nodenet_smol);

    fn name(&self) -> &'static str {
        "smol"
    }

    fn next_event(
        &mut self,
        table: &mut ActorTable<Self>,
        deadline: Instant,
    ) -> Option<(String, Ev<nodenet_smol::Socket>)> {
        let any = async { Some(poll_fn(|cx| Self::poll_any(table, cx)).await) };
        let timer = async {
            async_io::Timer::at(deadline).await;
            None
        };
        async_io::block_on(futures_lite::future::or(any, timer))
    }

    fn poll_now(
        &mut self,
        table: &mut ActorTable<Self>,
        actor: &str,
    ) -> Option<Ev<nodenet_smol::Socket>> {
        async_io::block_on(poll_fn(|cx| {
            Poll::Ready(match table.poll_one(actor, |a| Self::poll_actor(a, cx)) {
                Poll::Ready(ev) => ev,
                Poll::Pending => None,
            })
        }))
    }
}

impl PollActor<Smol> for Smol {
    fn poll_socket(
        s: &mut nodenet_smol::Socket,
        cx: &mut Context<'_>,
    ) -> Poll<Option<SocketEvent>> {
        pin!(s.next_event()).poll(cx)
    }
    fn poll_server(
        s: &mut nodenet_smol::Server,
        cx: &mut Context<'_>,
    ) -> Poll<Option<ServerEvent<nodenet_smol::Socket>>> {
        pin!(s.next_event()).poll(cx)
    }
}
