//! The echo server and client on `nodenet-tokio`.

use nodenet_tokio::{
    create_server, ConnectOptions, Error, ListenOptions, ServerEvent, ServerOptions, Socket,
    SocketEvent, SocketOptions,
};

/// Node's doc example: `net.createServer(c => { c.write('hello\r\n'); c.pipe(c) })`.
/// Serves until the server closes; `limit` closes it after that many connections (for
/// tests). `on_bound` sees the bound server (`server bound`).
pub async fn echo_server(
    listen: ListenOptions,
    limit: Option<usize>,
    on_bound: impl FnOnce(&nodenet_tokio::Server),
) -> Result<(), Error> {
    let mut server = create_server(ServerOptions::default());
    server.listen(listen)?;
    let mut on_bound = Some(on_bound);
    let mut served = 0;
    let mut tasks = Vec::new();
    while let Some(ev) = server.next_event().await {
        match ev {
            ServerEvent::Listening => {
                println!("server bound");
                if let Some(f) = on_bound.take() {
                    f(&server);
                }
            }
            ServerEvent::Connection(socket) => {
                println!("client connected");
                tasks.push(tokio::spawn(serve_client(socket)));
                served += 1;
                if Some(served) == limit {
                    let _ = server.close();
                }
            }
            ServerEvent::Error(e) => return Err(e),
            _ => {}
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// `c.write('hello\r\n'); c.pipe(c)`, with pipe's backpressure.
async fn serve_client(mut c: Socket) {
    c.write("hello\r\n");
    while let Some(ev) = c.next_event().await {
        match ev {
            SocketEvent::Data(d) => {
                let queued_below_mark = c.write(d);
                if !queued_below_mark {
                    c.pause();
                }
            }
            SocketEvent::Drain => c.resume(),
            SocketEvent::End => println!("client disconnected"),
            _ => {}
        }
    }
}

/// Connect, send `line`, and return everything the server sent until it has echoed the
/// line back (then end the connection).
pub async fn echo_client(connect: ConnectOptions, line: &str) -> Result<Vec<u8>, Error> {
    let mut s = Socket::new(SocketOptions::default());
    s.connect(connect)?;
    let mut got = Vec::new();
    let want = format!("hello\r\n{line}").into_bytes();
    while let Some(ev) = s.next_event().await {
        match ev {
            SocketEvent::Connect => {
                s.write(line.to_string());
            }
            SocketEvent::Data(d) => {
                got.extend_from_slice(&d);
                if got.len() >= want.len() {
                    s.end()?;
                }
            }
            SocketEvent::Error(e) => return Err(e),
            _ => {}
        }
    }
    Ok(got)
}
