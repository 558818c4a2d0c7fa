//! The raw smol echo server: the floor under `nodenet-smol`, the way
//! [`raw_tokio`](super::raw_tokio) is the floor under `nodenet-tokio`.
//!
//! The idiomatic smol echo server on the same executor setup as the `nodenet-smol`
//! server (one `LocalExecutor` thread, an accept task, one task per connection): a
//! 64 KiB buffer per connection, `read` then `write_all`. It shows what async-io's
//! reactor costs by itself, so the report can tell smol's share of `nodenet-smol`'s
//! numbers from nodenet's.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};

use super::raw_tokio::READ_BUFFER_SIZE;

/// Binds `addr`, calls `ready` with the bound address, then serves forever (blocking the
/// calling thread).
///
/// # Errors
/// Fails when the address cannot be bound.
pub fn serve(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let ex = Rc::new(smol::LocalExecutor::new());
    smol::block_on(ex.run(async {
        let listener = TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        ex.spawn(accept_loop(Rc::clone(&ex), listener)).await
    }))
}

/// Accept forever, one task per connection; per-connection accept errors are skipped.
async fn accept_loop(
    ex: Rc<smol::LocalExecutor<'static>>,
    listener: TcpListener,
) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => ex.spawn(echo(stream)).detach(),
            Err(e) if super::raw_tokio::is_per_connection_error(&e) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Echoes one connection until EOF or error, then half-closes it.
async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; READ_BUFFER_SIZE];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let Some(data) = buf.get(..n) else { break };
        if stream.write_all(data).await.is_err() {
            break;
        }
    }
    let _ = stream.close().await;
}
