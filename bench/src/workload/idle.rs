//! Idle connections: open many connections, prove each is served with a 1-byte echo, and
//! hold them so the harness can read the server's resident memory.
//!
//! Connections are opened a bounded number at a time so the listen backlog never
//! overflows (a dropped SYN would cost a 1 s retransmit and distort the run).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::connect;

/// Connections being opened at once.
pub const OPEN_CONCURRENCY: usize = 128;

/// Time allowed for opening one connection and its echo.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections held open; dropping this closes them all.
#[derive(Debug)]
pub struct IdleConnections {
    streams: Vec<TcpStream>,
}

impl IdleConnections {
    /// Number of connections held.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether no connection is held.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }
}

/// Opens `count` connections to `addr`, each echoed once (so the server has accepted and
/// read from it), and returns them held open.
///
/// # Errors
/// Fails on the first connection that cannot be opened or echoed, closing the others.
pub async fn open(addr: SocketAddr, count: usize) -> io::Result<IdleConnections> {
    let permits = Arc::new(Semaphore::new(OPEN_CONCURRENCY));
    let mut tasks = JoinSet::new();
    for _ in 0..count {
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|_| io::Error::other("semaphore closed"))?;
            tokio::time::timeout(OPEN_TIMEOUT, open_one(addr))
                .await
                .unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "opening an idle connection timed out",
                    ))
                })
        });
    }
    let mut streams = Vec::with_capacity(count);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(s)) => streams.push(s),
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(io::Error::other(e)),
        }
    }
    Ok(IdleConnections { streams })
}

async fn open_one(addr: SocketAddr) -> io::Result<TcpStream> {
    let mut s = connect(addr).await?;
    s.write_all(b"i").await?;
    let mut back = [0u8; 1];
    s.read_exact(&mut back).await?;
    if &back != b"i" {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "echo differs from the byte sent",
        ));
    }
    Ok(s)
}
