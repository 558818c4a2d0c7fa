//! The conformance driver on `nodenet-tokio`: a current-thread tokio runtime entered for
//! the whole run (so `listen` can register its listener), and the actors' `next_event()`
//! futures polled together until the script's deadline.
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet_core::ServerEvent;
use nodenet_core::SocketEvent;

use super::backend::{Backend, Ev, PollActor};
use super::net::{ActorTable, NetDriver};

/// The tokio backend (owns its runtime).
#[derive(Debug)]
pub struct Tokio {
    rt: tokio::runtime::Runtime,
}

impl Tokio {
    /// A current-thread runtime with IO and timers.
    pub fn new() -> std::io::Result<Tokio> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Tokio { rt })
    }
}

/// The conformance driver for `nodenet-tokio`.
pub fn driver() -> std::io::Result<NetDriver<Tokio>> {
    Ok(NetDriver::new(Tokio::new()?))
}

impl Backend for Tokio {
    crate::forward_backend_api!(nodenet_tokio);

    fn name(&self) -> &'static str {
        "tokio"
    }

    fn next_event(
        &mut self,
        table: &mut ActorTable<Self>,
        deadline: Instant,
    ) -> Option<(String, Ev<nodenet_tokio::Socket>)> {
        // Keep the runtime entered between polls too: `listen`, `connect` and `write` run
        // outside `block_on` and may create tokio IO objects.
        let _guard = self.rt.enter();
        let any = poll_fn(|cx| Self::poll_any(table, cx));
        self.rt.block_on(async {
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), any)
                .await
                .ok()
        })
    }

    fn poll_now(
        &mut self,
        table: &mut ActorTable<Self>,
        actor: &str,
    ) -> Option<Ev<nodenet_tokio::Socket>> {
        let _guard = self.rt.enter();
        self.rt.block_on(poll_fn(|cx| {
            Poll::Ready(match table.poll_one(actor, |a| Self::poll_actor(a, cx)) {
                Poll::Ready(ev) => ev,
                Poll::Pending => None,
            })
        }))
    }
}

impl PollActor<Tokio> for Tokio {
    fn poll_socket(
        s: &mut nodenet_tokio::Socket,
        cx: &mut Context<'_>,
    ) -> Poll<Option<SocketEvent>> {
        pin!(s.next_event()).poll(cx)
    }
    fn poll_server(
        s: &mut nodenet_tokio::Server,
        cx: &mut Context<'_>,
    ) -> Poll<Option<ServerEvent<nodenet_tokio::Socket>>> {
        pin!(s.next_event()).poll(cx)
    }
}
