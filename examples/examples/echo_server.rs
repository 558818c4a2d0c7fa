//! Node's echo server: `cargo run --example echo_server [-- --backend tokio|smol|std]
//! [--port 8124] [--path /tmp/echo.sock]`, then `nc localhost 8124`.

use nodenet_examples::args::Args;
use nodenet_tokio::ListenOptions;

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let listen = match (&args.path, &args.host) {
        (Some(p), _) => ListenOptions::path(p.clone()),
        (None, Some(h)) => ListenOptions::port(args.port).host(h.clone()),
        (None, None) => ListenOptions::port(args.port),
    };
    let result = match args.backend.as_str() {
        "tokio" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| {
                rt.block_on(nodenet_examples::tokio_demo::echo_server(
                    listen,
                    None,
                    |_| {},
                ))
                .map_err(|e| e.to_string())
            }),
        other => Err(format!("backend {other} is not wired into the demo yet")),
    };
    if let Err(e) = result {
        // Node's example throws the server error.
        eprintln!("{e}");
        std::process::exit(1);
    }
}
