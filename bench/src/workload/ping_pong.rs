//! Ping-pong: each connection sends 64 bytes, waits for the same 64 bytes back, and
//! records the round trip; one message in flight per connection.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use super::{connect, no_connection, LoadOutcome, GRACE, PING_SIZE};
use crate::latency::LatencyRecorder;

/// Cap on round trips per connection in one run (far above what a few seconds reach).
pub const MAX_ROUND_TRIPS_PER_CONNECTION: u64 = 50_000_000;

/// Runs ping-pong for `duration` over `connections` connections to `addr`.
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

    let start = Instant::now();
    let deadline = start + duration;
    let give_up = deadline + GRACE;
    let mut tasks = JoinSet::new();
    for (i, stream) in streams.into_iter().enumerate() {
        tasks.spawn(async move {
            let mut latency = LatencyRecorder::new();
            let r = tokio::time::timeout_at(
                give_up.into(),
                ping_one(stream, deadline, i as u8, &mut latency),
            )
            .await
            .unwrap_or_else(|_| {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no echo within the grace period",
                ))
            });
            (r, latency)
        });
    }
    let mut latency = LatencyRecorder::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((r, l)) => {
                latency.merge(&l);
                if let Err(e) = r {
                    outcome.note_error(&e);
                }
            }
            Err(e) => outcome.note_error(&io::Error::other(e)),
        }
    }
    outcome.elapsed = start.elapsed();
    outcome.ops = latency.count();
    outcome.latency = Some(latency.summary());
    Ok(outcome)
}

/// Round trips on one connection until `deadline`, checking every echo is the message
/// that was sent.
async fn ping_one(
    mut stream: tokio::net::TcpStream,
    deadline: Instant,
    seed: u8,
    latency: &mut LatencyRecorder,
) -> io::Result<()> {
    let mut msg = [0u8; PING_SIZE];
    let mut back = [0u8; PING_SIZE];
    let mut n = 0u64;
    while n < MAX_ROUND_TRIPS_PER_CONNECTION && Instant::now() < deadline {
        // Vary the payload so a server that echoed stale bytes would be caught.
        msg.fill(seed.wrapping_add(n as u8));
        let sent_at = Instant::now();
        stream.write_all(&msg).await?;
        stream.read_exact(&mut back).await?;
        latency.record(sent_at.elapsed());
        if back != msg {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "echo differs from the message sent",
            ));
        }
        n += 1;
    }
    Ok(())
}
