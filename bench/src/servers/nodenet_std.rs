//! The blocking `nodenet-std` echo server: the same user code as
//! [`nodenet_tokio`](super::nodenet_tokio) without `.await`, one thread per connection
//! (how the blocking API is meant to be used; each socket has its own small reactor).

use std::io;
use std::net::SocketAddr;

use nodenet_std::{
    create_server, Endpoint, ListenOptions, ServerEvent, ServerOptions, Socket, SocketEvent,
};

/// Binds `addr`, calls `ready` with the bound address, then serves forever (blocking the
/// calling thread).
///
/// # Errors
/// Fails when the address cannot be bound.
pub fn serve(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let mut server = create_server(ServerOptions::default());
    server.listen(ListenOptions::port(addr.port()).host(addr.ip().to_string()))?;
    let mut ready = Some(ready);
    while let Some(ev) = server.next_event() {
        match ev {
            ServerEvent::Listening => {
                if let (Some(f), Some(Endpoint::Tcp(bound))) = (ready.take(), server.address()) {
                    f(bound);
                }
            }
            ServerEvent::Connection(socket) => {
                // A thread that cannot be spawned drops (closes) the connection.
                let _ = std::thread::Builder::new().spawn(move || echo(socket));
            }
            ServerEvent::Error(e) => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// `socket.pipe(socket)`.
fn echo(mut c: Socket) {
    while let Some(ev) = c.next_event() {
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
