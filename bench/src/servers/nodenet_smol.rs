//! The `nodenet-smol` echo server: the same user code as
//! [`nodenet_tokio`](super::nodenet_tokio), on one smol `LocalExecutor` thread (one
//! thread, like Node's event loop and the current-thread tokio servers).

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use nodenet_smol::{
    create_server, Endpoint, ListenOptions, Server, ServerEvent, ServerOptions, Socket, SocketEvent,
};

/// Binds `addr`, calls `ready` with the bound address, then serves forever (blocking the
/// calling thread).
///
/// # Errors
/// Fails when the address cannot be bound.
pub fn serve(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let ex = Rc::new(smol::LocalExecutor::new());
    smol::block_on(ex.run(async {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(addr.port()).host(addr.ip().to_string()))?;
        loop {
            match server.next_event().await {
                Some(ServerEvent::Listening) => break,
                Some(ServerEvent::Error(e)) => return Err(e.into()),
                Some(_) => {}
                None => return Ok(()),
            }
        }
        if let Some(Endpoint::Tcp(bound)) = server.address() {
            ready(bound);
        }
        // The accept loop is a task of its own, so it is polled only when the listener is
        // woken (the future given to `run` is polled on every executor tick).
        ex.spawn(accept_loop(Rc::clone(&ex), server)).await
    }))
}

/// Accept forever, one task per connection.
async fn accept_loop(ex: Rc<smol::LocalExecutor<'static>>, mut server: Server) -> io::Result<()> {
    while let Some(ev) = server.next_event().await {
        match ev {
            ServerEvent::Connection(socket) => ex.spawn(echo(socket)).detach(),
            ServerEvent::Error(e) => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// `socket.pipe(socket)`.
async fn echo(mut c: Socket) {
    while let Some(ev) = c.next_event().await {
        match ev {
            SocketEvent::Data(d) => {
                let below_high_water_mark = c.write(d);
                if !below_high_water_mark {
                    c.pause();
                }
            }
            SocketEvent::Drain => c.resume(),
            SocketEvent::End => {
                let _ = c.end();
            }
            _ => {}
        }
    }
}
