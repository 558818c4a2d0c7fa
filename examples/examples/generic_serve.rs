//! One server function for every async runtime, and its blocking twin:
//! `cargo run --example generic_serve`.
//!
//! `serve` is written once against `nodenet::Server<R>` with `R: AsyncRuntime` and runs
//! unchanged on tokio and on smol; `serve_blocking` is the same logic on the blocking
//! runtime (`R: BlockingRuntime`, nodenet-std). Each answers one client with the upper-
//! cased bytes it sent, then closes; `main` runs all three against a client and checks
//! the answers.

use nodenet::{AsyncRuntime, BlockingRuntime, Server, ServerEvent, Socket, SocketEvent};
use nodenet_core::{Endpoint, ListenOptions, ServerOptions, SocketOptions};

/// Serve connections one at a time until `connections` have been served, on any
/// async runtime.
async fn serve<R: AsyncRuntime>(mut server: Server<R>, connections: usize) {
    let mut served = 0;
    while let Some(ev) = server.next_event().await {
        match ev {
            ServerEvent::<R>::Connection(socket) => {
                answer(socket).await;
                served += 1;
                if served == connections {
                    let _ = server.close();
                }
            }
            ServerEvent::<R>::Error(e) => eprintln!("server: {e}"),
            _ => {}
        }
    }
}

/// Echo upper-cased until the peer ends, then end.
async fn answer<R: AsyncRuntime>(mut socket: Socket<R>) {
    while let Some(ev) = socket.next_event().await {
        match ev {
            SocketEvent::Data(d) => {
                socket.write(d.to_ascii_uppercase());
            }
            SocketEvent::End => {
                let _ = socket.end();
            }
            _ => {}
        }
    }
}

/// The same server on a blocking runtime: `next_event` blocks instead of awaiting.
fn serve_blocking<R: BlockingRuntime>(mut server: Server<R>, connections: usize) {
    let mut served = 0;
    while let Some(ev) = server.next_event() {
        match ev {
            ServerEvent::<R>::Connection(mut socket) => {
                while let Some(ev) = socket.next_event() {
                    match ev {
                        SocketEvent::Data(d) => {
                            socket.write(d.to_ascii_uppercase());
                        }
                        SocketEvent::End => {
                            let _ = socket.end();
                        }
                        _ => {}
                    }
                }
                served += 1;
                if served == connections {
                    let _ = server.close();
                }
            }
            ServerEvent::<R>::Error(e) => eprintln!("server: {e}"),
            _ => {}
        }
    }
}

/// A plain std client: send `text`, half-close, read the answer to the end.
fn ask(port: u16, text: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.write_all(text.as_bytes())?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn listening_port<R: nodenet::Runtime>(server: &Server<R>) -> u16 {
    match server.address() {
        Some(Endpoint::Tcp(a)) => a.port(),
        other => panic!("not listening on TCP: {other:?}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = || ListenOptions::port(0).host("127.0.0.1");
    let allow_half_open = || {
        ServerOptions::new(SocketOptions {
            allow_half_open: true,
            ..SocketOptions::default()
        })
    };

    // tokio
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer_tokio = rt.block_on(async {
        let mut server = nodenet_tokio::create_server(allow_half_open());
        server.listen(listen())?;
        assert!(matches!(
            server.next_event().await,
            Some(ServerEvent::Listening)
        ));
        let port = listening_port(&server);
        let client = tokio::task::spawn_blocking(move || ask(port, "hello tokio"));
        serve(server, 1).await;
        Ok::<_, Box<dyn std::error::Error>>(client.await??)
    })?;
    println!("tokio: {answer_tokio}");
    assert_eq!(answer_tokio, "HELLO TOKIO");

    // smol
    let answer_smol = async_io::block_on(async {
        let mut server = nodenet_smol::create_server(allow_half_open());
        server.listen(listen())?;
        assert!(matches!(
            server.next_event().await,
            Some(ServerEvent::Listening)
        ));
        let port = listening_port(&server);
        let client = std::thread::spawn(move || ask(port, "hello smol"));
        serve(server, 1).await;
        Ok::<_, Box<dyn std::error::Error>>(client.join().map_err(|_| "client panicked")??)
    })?;
    println!("smol: {answer_smol}");
    assert_eq!(answer_smol, "HELLO SMOL");

    // std (blocking)
    let mut server = nodenet_std::create_server(allow_half_open());
    server.listen(listen())?;
    assert!(matches!(server.next_event(), Some(ServerEvent::Listening)));
    let port = listening_port(&server);
    let client = std::thread::spawn(move || ask(port, "hello std"));
    serve_blocking(server, 1);
    let answer_std = client.join().map_err(|_| "client panicked")??;
    println!("std: {answer_std}");
    assert_eq!(answer_std, "HELLO STD");
    Ok(())
}
