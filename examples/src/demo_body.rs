// The echo demo, written once for the three backends: each `*_demo` module defines
// `demo_fn!` (adds `async` or not), `next!` (`.next_event()` with or without `.await`),
// `spawn_task!` / `join_task!` (a task or a thread) and then `include!`s this file.

demo_fn! {
    /// Node's doc example: `net.createServer(c => { c.write('hello\r\n'); c.pipe(c) })`
    /// with `server.listen(8124, () => console.log('server bound'))`. Serves until the
    /// server closes; `limit` closes it after that many connections (for tests);
    /// `on_bound` sees the bound server.
    pub fn echo_server(
        listen: ListenOptions,
        limit: Option<usize>,
        on_bound: impl FnOnce(&Server),
    ) -> Result<(), Error> {
        let mut server = create_server(ServerOptions::default());
        server.listen(listen)?;
        let mut on_bound = Some(on_bound);
        let mut served = 0;
        let mut tasks = Vec::new();
        while let Some(ev) = next!(server) {
            match ev {
                ServerEvent::Listening => {
                    println!("server bound");
                    if let Some(f) = on_bound.take() {
                        f(&server);
                    }
                }
                ServerEvent::Connection(socket) => {
                    println!("client connected");
                    tasks.push(spawn_task!(serve_client(socket)));
                    served += 1;
                    if Some(served) == limit {
                        let _ = server.close();
                    }
                }
                // Node's example throws it.
                ServerEvent::Error(e) => return Err(e),
                _ => {}
            }
        }
        for t in tasks {
            join_task!(t);
        }
        Ok(())
    }
}

demo_fn! {
    /// `c.write('hello\r\n'); c.pipe(c)`, with pipe's backpressure: pause when the
    /// write queue is full, resume on `Drain`.
    fn serve_client(mut c: Socket) -> () {
        c.write("hello\r\n");
        while let Some(ev) = next!(c) {
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
}

demo_fn! {
    /// Connect, send `line`, and return everything the server sent until it has echoed
    /// the line back (then end the connection).
    pub fn echo_client(connect: ConnectOptions, line: &str) -> Result<Vec<u8>, Error> {
        let mut s = Socket::new(SocketOptions::default());
        s.connect(connect)?;
        let mut got = Vec::new();
        let want = format!("hello\r\n{line}").len();
        while let Some(ev) = next!(s) {
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
}
