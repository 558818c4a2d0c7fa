//! Node's echo server: `cargo run --example echo_server [-- --backend tokio|smol|std]
//! [--port 8124] [--host ::1] [--path /tmp/echo.sock]`, then `nc localhost 8124`.

use nodenet_examples::args::Args;
use nodenet_examples::{smol_demo, std_demo, tokio_demo};
use nodenet_tokio::ListenOptions;

fn main() {
    let args = Args::parse(std::env::args().skip(1)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let listen = match (&args.path, &args.host) {
        (Some(p), _) => ListenOptions::path(p.clone()),
        (None, Some(h)) => ListenOptions::port(args.port).host(h.clone()),
        (None, None) => ListenOptions::port(args.port),
    };
    let result = match args.backend.as_str() {
        "smol" => smol::block_on(smol_demo::echo_server(listen, None, |_| {})),
        "std" => std_demo::echo_server(listen, None, |_| {}),
        _ => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(tokio_demo::echo_server(listen, None, |_| {})),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        },
    };
    if let Err(e) = result {
        // Node's example throws the server error: `listen EADDRINUSE: ...`.
        eprintln!("Error: {} ({})", e.message(), e.code());
        std::process::exit(1);
    }
}
