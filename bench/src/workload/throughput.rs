//! Throughput: each connection streams 16 KiB chunks while reading the echo concurrently.
//!
//! The writer stops at the deadline (or at the byte cap) and half-closes; the reader keeps
//! reading until the server's EOF, so every byte sent is counted once it comes back. The
//! rate is echoed bytes over the time until the last connection saw EOF, which is what the
//! server CPU time sampled around the run also covers.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use super::{connect, no_connection, LoadOutcome, CHUNK_SIZE, GRACE};

/// Cap on bytes sent over all connections in one run (far above what a few seconds on
/// loopback move, so in practice the run is bounded by time).
pub const MAX_TOTAL_BYTES: u64 = 256 << 30;

/// Size of the client's read buffer.
const READ_BUFFER_SIZE: usize = 64 * 1024;

static CHUNK: [u8; CHUNK_SIZE] = [0x5a; CHUNK_SIZE];

/// Streams for `duration` over `connections` connections to `addr`.
///
/// # Errors
/// Fails when not one connection could be opened.
pub async fn run(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
) -> io::Result<LoadOutcome> {
    let mut outcome = LoadOutcome::default();
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        match connect(addr).await {
            Ok(s) => streams.push(s),
            Err(e) => outcome.note_error(&e),
        }
    }
    if streams.is_empty() {
        return Err(no_connection(outcome.first_error));
    }
    let cap_per_connection = MAX_TOTAL_BYTES / streams.len() as u64;

    let start = Instant::now();
    let deadline = start + duration;
    let give_up = deadline + GRACE;
    let mut tasks = JoinSet::new();
    for stream in streams {
        tasks.spawn(async move {
            let result = tokio::time::timeout_at(
                give_up.into(),
                stream_one(stream, deadline, cap_per_connection),
            )
            .await;
            match result {
                Ok(r) => r,
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "echo did not finish within the grace period",
                )),
            }
        });
    }
    let mut last_finish = start;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok((bytes, finished))) => {
                outcome.ops += bytes;
                last_finish = last_finish.max(finished);
            }
            Ok(Err(e)) => outcome.note_error(&e),
            Err(e) => outcome.note_error(&io::Error::other(e)),
        }
    }
    outcome.elapsed = last_finish.duration_since(start);
    Ok(outcome)
}

/// Writes until `deadline` while reading the echo; returns the bytes echoed and when the
/// server's EOF arrived.
async fn stream_one(
    stream: tokio::net::TcpStream,
    deadline: Instant,
    cap: u64,
) -> io::Result<(u64, Instant)> {
    let (mut rd, mut wr) = stream.into_split();
    let writer = async move {
        let mut sent = 0u64;
        while sent < cap && Instant::now() < deadline {
            wr.write_all(&CHUNK).await?;
            sent += CHUNK_SIZE as u64;
        }
        wr.shutdown().await?;
        Ok::<u64, io::Error>(sent)
    };
    let reader = async move {
        let mut buf = vec![0u8; READ_BUFFER_SIZE];
        let mut received = 0u64;
        loop {
            let n = rd.read(&mut buf).await?;
            if n == 0 {
                return Ok::<(u64, Instant), io::Error>((received, Instant::now()));
            }
            received += n as u64;
        }
    };
    let (sent, (received, finished)) = tokio::try_join!(writer, reader)?;
    if received != sent {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("sent {sent} bytes but {received} came back"),
        ));
    }
    Ok((received, finished))
}
