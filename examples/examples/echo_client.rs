//! Talks to the echo server: `cargo run --example echo_client [-- --backend ...]
//! [--port 8124] [--host localhost] [--path /tmp/echo.sock]`. Sends one line, prints
//! what comes back and exits.

use nodenet_examples::args::Args;
use nodenet_examples::{smol_demo, std_demo, tokio_demo, CLIENT_LINE};
use nodenet_tokio::ConnectOptions;

fn main() {
    let args = Args::parse(std::env::args().skip(1)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let connect = match &args.path {
        Some(p) => ConnectOptions::path(p.clone()),
        None => ConnectOptions::tcp(
            args.port,
            args.host.clone().unwrap_or_else(|| "localhost".into()),
        ),
    };
    let result = match args.backend.as_str() {
        "smol" => smol::block_on(smol_demo::echo_client(connect, CLIENT_LINE)),
        "std" => std_demo::echo_client(connect, CLIENT_LINE),
        _ => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(tokio_demo::echo_client(connect, CLIENT_LINE)),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        },
    };
    match result {
        Ok(bytes) => print!("{}", String::from_utf8_lossy(&bytes)),
        Err(e) => {
            eprintln!("Error: {} ({})", e.message(), e.code());
            std::process::exit(1);
        }
    }
}
