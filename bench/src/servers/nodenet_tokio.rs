//! The `nodenet-tokio` echo server: Node's `net.createServer(s => s.pipe(s))` written
//! with the public nodenet API the way a user would (the echo demo's logic), on the same
//! [`tokio_server_runtime`](super::tokio_server_runtime) as the raw tokio floor.
//!
//! One task per connection: on `Data` write the bytes back; when `write` returns `false`
//! pause until `Drain` (pipe's backpressure); on `End` end our side (pipe's default).

use std::io;
use std::net::SocketAddr;

use nodenet_tokio::{
    create_server, Endpoint, ListenOptions, ServerEvent, ServerOptions, Socket, SocketEvent,
};

/// Binds `addr`, calls `ready` with the bound address, then serves forever (blocking the
/// calling thread).
///
/// # Errors
/// Fails when the runtime cannot be built or the address cannot be bound.
pub fn serve(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let runtime = super::tokio_server_runtime()?;
    runtime.block_on(async move {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(addr.port()).host(addr.ip().to_string()))?;
        let mut ready = Some(ready);
        while let Some(ev) = server.next_event().await {
            match ev {
                ServerEvent::Listening => {
                    if let (Some(f), Some(Endpoint::Tcp(bound))) = (ready.take(), server.address())
                    {
                        f(bound);
                    }
                }
                ServerEvent::Connection(socket) => {
                    tokio::spawn(echo(socket));
                }
                ServerEvent::Error(e) => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    })
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
