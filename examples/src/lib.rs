//! The echo demo from Node's `net` documentation, on every nodenet backend: the server
//! says `hello\r\n` to each client and echoes what it sends (`socket.pipe(socket)`, with
//! the same backpressure: pause on a full queue, resume on `Drain`); the client sends one
//! line and prints the answer. `cargo run --example echo_server` / `echo_client` run
//! them; the functions here are what the examples and the in-process tests call.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod args;
pub mod smol_demo;
pub mod std_demo;
pub mod tokio_demo;

/// What the echo client sends.
pub const CLIENT_LINE: &str = "hello from nodenet\n";
