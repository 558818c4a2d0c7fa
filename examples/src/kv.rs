//! A small key-value store over nodenet, written once for every async runtime
//! (`R: nodenet::AsyncRuntime`): the server, and a client that reconnects and retries.
//! `examples/kv.rs` runs them on tokio over loopback; `tests/kv_sim.rs` runs the very same
//! functions on simulated hosts over 10 000 seeds with network faults.
//!
//! The protocol is one text line per request and per response:
//!
//! * `SET <key> <value>` → `OK`
//! * `GET <key>` → `VALUE <value>` or `NONE`
//! * anything else → `ERR <what>`
//!
//! The client sends one request at a time and waits for its response. Every failure —
//! a refused or hanging connect, a reset, the server closing, an idle timeout — drops
//! the connection; the client then sleeps (an exponential backoff) and sends the request
//! again on a new one. `SET` is idempotent, so a retried request that had already been
//! applied does no harm.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use nodenet::{AsyncRuntime, Server, ServerEvent, Socket, SocketEvent};
use nodenet_core::{ConnectOptions, SocketOptions};

/// How the server splits its input into requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Requests end with `\n`, however the bytes arrive (correct).
    Lines,
    /// Each `Data` chunk is taken as one whole request: the classic bug of reading a
    /// stream as if it were a sequence of messages. It works on a loopback, where a small
    /// write arrives in one read, and breaks as soon as reads are split or joined.
    PerChunk,
}

/// The store: one map shared by every connection of a server.
pub type Store = Rc<RefCell<BTreeMap<String, String>>>;

/// Answer one request line.
pub fn answer(store: &Store, line: &str) -> String {
    let mut parts = line.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("SET"), Some(key), Some(value)) => {
            store
                .borrow_mut()
                .insert(key.to_string(), value.to_string());
            "OK".to_string()
        }
        (Some("GET"), Some(key), None) => match store.borrow().get(key) {
            Some(v) => format!("VALUE {v}"),
            None => "NONE".to_string(),
        },
        _ => format!("ERR bad request {line:?}"),
    }
}

/// One accepted connection: its socket and the bytes of an unfinished request.
struct Conn<R: AsyncRuntime> {
    socket: Socket<R>,
    input: Vec<u8>,
    done: bool,
}

impl<R: AsyncRuntime> Conn<R> {
    /// Handle one event; false once the connection is finished.
    fn on_event(&mut self, ev: Option<SocketEvent>, store: &Store, framing: Framing) {
        match ev {
            Some(SocketEvent::Data(d)) => match framing {
                Framing::Lines => {
                    self.input.extend_from_slice(&d);
                    while let Some(end) = self.input.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = self.input.drain(..=end).collect();
                        let line = String::from_utf8_lossy(&line[..end]).into_owned();
                        self.socket.write(answer(store, &line) + "\n");
                    }
                }
                Framing::PerChunk => {
                    let text = String::from_utf8_lossy(&d);
                    let line = text.trim_end_matches('\n');
                    self.socket.write(answer(store, line) + "\n");
                }
            },
            Some(SocketEvent::End) => {
                let _ = self.socket.end();
            }
            Some(_) => {}
            None => self.done = true,
        }
    }
}

/// Serve `server` (already listening) until it closes: every connection is driven by
/// this one future, so no task spawning is needed and the function runs on any async
/// runtime.
pub async fn serve<R: AsyncRuntime>(mut server: Server<R>, store: Store, framing: Framing) {
    let mut conns: Vec<Conn<R>> = Vec::new();
    std::future::poll_fn(|cx| loop {
        let mut progress = false;
        match server.poll_event(cx) {
            Poll::Ready(Some(ServerEvent::<R>::Connection(socket))) => {
                conns.push(Conn {
                    socket,
                    input: Vec::new(),
                    done: false,
                });
                progress = true;
            }
            Poll::Ready(Some(_)) => progress = true,
            Poll::Ready(None) if conns.is_empty() => return Poll::Ready(()),
            Poll::Ready(None) | Poll::Pending => {}
        }
        for c in conns.iter_mut() {
            while let Poll::Ready(ev) = c.socket.poll_event(cx) {
                progress = true;
                let last = ev.is_none();
                c.on_event(ev, &store, framing);
                if last {
                    break;
                }
            }
        }
        conns.retain(|c| !c.done);
        if !progress {
            return Poll::Pending;
        }
    })
    .await
}

/// Why a request failed for good.
#[derive(Debug)]
pub struct GaveUp {
    /// The request.
    pub request: String,
    /// Attempts made.
    pub attempts: u32,
    /// What the last attempt ran into.
    pub last: String,
}

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gave up on {:?} after {} attempts (last: {})",
            self.request, self.attempts, self.last
        )
    }
}

impl std::error::Error for GaveUp {}

/// A client that reconnects and retries. `sleep` is the runtime's sleep (the client
/// backs off between attempts).
pub struct Client<R: AsyncRuntime, S> {
    connect: ConnectOptions,
    rt: R,
    sleep: S,
    socket: Option<Socket<R>>,
    input: Vec<u8>,
    /// Attempts per request before giving up.
    pub max_attempts: u32,
    /// Idle timeout of a connection (also bounds a hanging connect), in ms.
    pub timeout_ms: f64,
    /// Reconnections so far.
    pub reconnects: u32,
}

impl<R, S, F> Client<R, S>
where
    R: AsyncRuntime,
    S: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    /// A client of the server at `connect`, on runtime handle `rt`.
    pub fn new(rt: R, connect: ConnectOptions, sleep: S) -> Self {
        Client {
            connect,
            rt,
            sleep,
            socket: None,
            input: Vec::new(),
            max_attempts: 40,
            timeout_ms: 1000.0,
            reconnects: 0,
        }
    }

    /// Send one request line and return its response line, retrying on failure.
    pub async fn request(&mut self, request: &str) -> Result<String, GaveUp> {
        let mut backoff = Duration::from_millis(10);
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            match self.attempt(request).await {
                Ok(line) => return Ok(line),
                Err(why) => last = why,
            }
            self.socket = None;
            self.input.clear();
            if attempt < self.max_attempts {
                (self.sleep)(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
        Err(GaveUp {
            request: request.to_string(),
            attempts: self.max_attempts,
            last,
        })
    }

    /// One try on the current connection (a new one if there is none).
    async fn attempt(&mut self, request: &str) -> Result<String, String> {
        if self.socket.is_none() {
            let mut socket = Socket::with_runtime(self.rt.clone(), SocketOptions::default());
            socket
                .connect(self.connect.clone())
                .map_err(|e| e.to_string())?;
            socket
                .set_timeout(self.timeout_ms)
                .map_err(|e| e.to_string())?;
            self.socket = Some(socket);
            self.reconnects += 1;
        }
        let Some(socket) = self.socket.as_mut() else {
            return Err("no socket".to_string());
        };
        socket.write(format!("{request}\n"));
        loop {
            match socket.next_event().await {
                Some(SocketEvent::Data(d)) => {
                    self.input.extend_from_slice(&d);
                    if let Some(end) = self.input.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = self.input.drain(..=end).collect();
                        return Ok(String::from_utf8_lossy(&line[..end]).into_owned());
                    }
                }
                Some(SocketEvent::Timeout) => {
                    socket.destroy(None);
                    return Err("timeout".to_string());
                }
                Some(SocketEvent::Error(e)) => return Err(e.to_string()),
                Some(SocketEvent::End) => return Err("the server ended the connection".into()),
                Some(_) => {}
                None => return Err("closed".to_string()),
            }
        }
    }

    /// Close the connection (after the last request).
    pub async fn close(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.end();
            while socket.next_event().await.is_some() {}
        }
    }
}

/// The workload of one client: `sets` pairs to store (later ones overwrite earlier ones),
/// then a `GET` of every key, which must answer the last value stored. The error says
/// what went wrong.
pub async fn check_store<R, S, F>(
    client: &mut Client<R, S>,
    sets: &[(String, String)],
) -> Result<(), Box<dyn std::error::Error>>
where
    R: AsyncRuntime,
    S: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    let mut expected: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, v) in sets {
        let r = client.request(&format!("SET {k} {v}")).await?;
        if r != "OK" {
            return Err(format!("SET {k} {v} answered {r:?}").into());
        }
        expected.insert(k, v);
    }
    for (k, v) in expected {
        let r = client.request(&format!("GET {k}")).await?;
        if r != format!("VALUE {v}") {
            return Err(format!("GET {k} answered {r:?}, expected VALUE {v}").into());
        }
    }
    client.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_answered() {
        let store = Store::default();
        assert_eq!(answer(&store, "GET a"), "NONE");
        assert_eq!(answer(&store, "SET a 1"), "OK");
        assert_eq!(answer(&store, "SET a x y"), "OK");
        assert_eq!(answer(&store, "GET a"), "VALUE x y");
        assert!(answer(&store, "SE").starts_with("ERR"));
    }
}
