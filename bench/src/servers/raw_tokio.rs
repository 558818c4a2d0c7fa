//! The raw tokio echo server: the floor every nodenet backend is measured against.
//!
//! It is the idiomatic tokio echo server and nothing more: one task per connection, a
//! 64 KiB `BytesMut` per connection (the size libuv reads with, so Node and the floor
//! make the same number of read syscalls), `read_buf` then `write_all`, on the shared
//! [`tokio_server_runtime`](super::tokio_server_runtime). TCP_NODELAY is left at the
//! kernel default, as Node leaves it for accepted sockets (`noDelay: false`), so both
//! reference servers send with the same socket options.

use std::io;
use std::net::SocketAddr;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Size of each connection's read buffer.
pub const READ_BUFFER_SIZE: usize = 64 * 1024;

/// Binds `addr`, calls `ready` with the bound address, then serves forever on a new
/// [`tokio_server_runtime`](super::tokio_server_runtime) (blocking the calling thread).
///
/// # Errors
/// Fails when the runtime cannot be built or the address cannot be bound.
pub fn serve(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let runtime = super::tokio_server_runtime()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        accept_loop(listener).await
    })
}

/// Accepts connections on `listener` forever, echoing each one on its own task.
///
/// Runs until the listener fails; a failing connection only ends its own task.
///
/// # Errors
/// Returns the listener's error if `accept` fails with anything but a per-connection
/// error (those are skipped, as a server under load must).
pub async fn accept_loop(listener: TcpListener) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                tokio::spawn(echo(stream));
            }
            Err(e) if is_per_connection_error(&e) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Errors that concern one incoming connection (or a momentary fd shortage), after which
/// the listener is still usable.
pub(crate) fn is_per_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || e.raw_os_error().is_some_and(|c| c == 24 || c == 23) // EMFILE, ENFILE
}

/// Echoes one connection until EOF or error, then closes it.
async fn echo(mut stream: TcpStream) {
    // `BytesMut` + `read_buf` reads into uninitialised capacity, so the buffer's pages
    // become resident only as data lands in them; a zeroed `vec![0; N]` would be touched
    // whole by calloc and make the floor's idle memory an allocator artefact.
    let mut buf = BytesMut::with_capacity(READ_BUFFER_SIZE);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if stream.write_all(&buf).await.is_err() {
            break;
        }
        buf.clear();
    }
    // Half-close politely so a client draining its reads sees EOF, not a reset.
    let _ = stream.shutdown().await;
}
