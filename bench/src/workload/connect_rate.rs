//! Connection rate: workers each connect, echo 16 bytes and close, in a loop.
//!
//! The client closes first, so its side of each connection enters TIME_WAIT; Linux's
//! default `net.ipv4.tcp_tw_reuse = 2` lets loopback connections reuse those ports, which
//! keeps a few seconds of this workload from exhausting ephemeral ports. A worker that
//! keeps failing stops early instead of spinning.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use super::{connect, no_connection, LoadOutcome, CONNECT_ECHO_SIZE, GRACE};

/// Cap on connections per run over all workers.
pub const MAX_CONNECTIONS: u64 = 1_000_000;

/// Consecutive failures after which a worker gives up.
const MAX_CONSECUTIVE_ERRORS: u32 = 50;

/// Per-operation timeout: one connect-echo-close should take well under a millisecond.
const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `workers` connect/echo/close loops against `addr` for `duration`.
///
/// # Errors
/// Fails when not one connection succeeded.
pub async fn run(addr: SocketAddr, workers: usize, duration: Duration) -> io::Result<LoadOutcome> {
    let start = Instant::now();
    let deadline = start + duration;
    let give_up = deadline + GRACE;
    let cap = MAX_CONNECTIONS / workers.max(1) as u64;
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        tasks.spawn(async move {
            let mut outcome = LoadOutcome::default();
            let mut consecutive = 0u32;
            while outcome.ops < cap && Instant::now() < deadline && Instant::now() < give_up {
                match tokio::time::timeout(OP_TIMEOUT, one_connection(addr)).await {
                    Ok(Ok(())) => {
                        outcome.ops += 1;
                        consecutive = 0;
                    }
                    Ok(Err(e)) => {
                        outcome.note_error(&e);
                        consecutive += 1;
                    }
                    Err(_) => {
                        outcome.note_error(&io::Error::new(
                            io::ErrorKind::TimedOut,
                            "connect/echo/close timed out",
                        ));
                        consecutive += 1;
                    }
                }
                if consecutive >= MAX_CONSECUTIVE_ERRORS {
                    break;
                }
            }
            outcome
        });
    }
    let mut total = LoadOutcome::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(o) => {
                total.ops += o.ops;
                total.errors += o.errors;
                if total.first_error.is_none() {
                    total.first_error = o.first_error;
                }
            }
            Err(e) => total.note_error(&io::Error::other(e)),
        }
    }
    total.elapsed = start.elapsed();
    if total.ops == 0 {
        return Err(no_connection(total.first_error));
    }
    Ok(total)
}

/// One connect, 16-byte echo, close.
async fn one_connection(addr: SocketAddr) -> io::Result<()> {
    let mut stream = connect(addr).await?;
    let msg = [0x42u8; CONNECT_ECHO_SIZE];
    let mut back = [0u8; CONNECT_ECHO_SIZE];
    stream.write_all(&msg).await?;
    stream.read_exact(&mut back).await?;
    if back != msg {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "echo differs from the message sent",
        ));
    }
    Ok(())
}
