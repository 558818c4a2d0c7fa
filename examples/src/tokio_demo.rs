//! The echo server and client on `nodenet-tokio`: one detached task per connection.

use nodenet_tokio::{
    create_server, ConnectOptions, Error, ListenOptions, Server, ServerEvent, ServerOptions,
    Socket, SocketEvent, SocketOptions,
};

/// Node's doc example: `net.createServer(c => { c.write('hello\r\n'); c.pipe(c) })` with
/// `server.listen(8124, () => console.log('server bound'))`, run inside a tokio runtime.
/// Serves until the server closes; `limit` closes it after that many connections (for
/// tests); `on_bound` sees the bound server.
///
/// Each connection runs on its own task, which is not kept: it ends when its client
/// does, so a server that has seen millions of connections holds only the open ones.
/// Errors that leave the server listening (`accept EMFILE` while descriptors run out:
/// the waiting clients stay queued and are served once descriptors are free) are logged
/// and serving goes on; an error that stopped the server (`listen EADDRINUSE`) is
/// returned, as Node's example throws it.
pub async fn echo_server(
    listen: ListenOptions,
    limit: Option<usize>,
    on_bound: impl FnOnce(&Server),
) -> Result<(), Error> {
    let mut server = create_server(ServerOptions::default());
    server.listen(listen)?;
    let mut on_bound = Some(on_bound);
    let mut served = 0;
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
                tokio::spawn(serve_client(socket));
                served += 1;
                if Some(served) == limit {
                    let _ = server.close();
                }
            }
            ServerEvent::Error(e) if server.listening() => eprintln!("server: {e}"),
            ServerEvent::Error(e) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// `c.write('hello\r\n'); c.pipe(c)`, with pipe's backpressure: pause when the write
/// queue is full, resume on `Drain`.
async fn serve_client(mut c: Socket) {
    c.write("hello\r\n");
    while let Some(ev) = c.next_event().await {
        match ev {
            SocketEvent::Data(d) => {
                let below_high_water_mark = c.write(d);
                if !below_high_water_mark {
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
    let want = format!("hello\r\n{line}").len();
    while let Some(ev) = s.next_event().await {
        match ev {
            SocketEvent::Connect => {
                s.write(line.to_string());
            }
            SocketEvent::Data(d) => {
                got.extend_from_slice(&d);
                if got.len() >= want {
                    s.end()?;
                }
            }
            SocketEvent::Error(e) => return Err(e),
            _ => {}
        }
    }
    Ok(got)
}
