//! The echo server and client on `nodenet-smol` (each connection on its own thread
//! running `async_io::block_on`; any smol executor works the same way).

use nodenet_smol::{
    create_server, ConnectOptions, Error, ListenOptions, Server, ServerEvent, ServerOptions,
    Socket, SocketEvent, SocketOptions,
};

macro_rules! demo_fn {
    ($(#[$m:meta])* $v:vis fn $name:ident $args:tt -> $ret:ty $body:block) => {
        $(#[$m])* $v async fn $name $args -> $ret $body
    };
}
macro_rules! next {
    ($s:expr) => {
        $s.next_event().await
    };
}
macro_rules! spawn_task {
    ($f:expr) => {{
        let fut = $f;
        std::thread::spawn(move || async_io::block_on(fut))
    }};
}
macro_rules! join_task {
    ($t:expr) => {
        let _ = $t.join();
    };
}

include!("demo_body.rs");
