//! The echo server and client on blocking `nodenet-std` (one thread per connection).

use nodenet_std::{
    create_server, ConnectOptions, Error, ListenOptions, Server, ServerEvent, ServerOptions,
    Socket, SocketEvent, SocketOptions,
};

macro_rules! demo_fn {
    ($(#[$m:meta])* $v:vis fn $name:ident $args:tt -> $ret:ty $body:block) => {
        $(#[$m])* $v fn $name $args -> $ret $body
    };
}
macro_rules! next {
    ($s:expr) => {
        $s.next_event()
    };
}
macro_rules! spawn_task {
    (serve_client($s:expr)) => {{
        let s = $s;
        std::thread::spawn(move || serve_client(s))
    }};
}
macro_rules! join_task {
    ($t:expr) => {
        let _ = $t.join();
    };
}

include!("demo_body.rs");
