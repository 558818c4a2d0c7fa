//! Talks to the echo server: `cargo run --example echo_client [-- --backend ...]
//! [--port 8124] [--host localhost] [--path /tmp/echo.sock]`. Sends one line, prints
//! what comes back and exits.

use nodenet_examples::args::Args;
use nodenet_examples::CLIENT_LINE;
use nodenet_tokio::ConnectOptions;

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let connect = match &args.path {
        Some(p) => ConnectOptions::path(p.clone()),
        None => ConnectOptions::tcp(
            args.port,
            args.host.clone().unwrap_or_else(|| "localhost".into()),
        ),
    };
    let result = match args.backend.as_str() {
        "tokio" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| {
                rt.block_on(nodenet_examples::tokio_demo::echo_client(
                    connect,
                    CLIENT_LINE,
                ))
                .map_err(|e| e.to_string())
            }),
        other => Err(format!("backend {other} is not wired into the demo yet")),
    };
    match result {
        Ok(bytes) => print!("{}", String::from_utf8_lossy(&bytes)),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
