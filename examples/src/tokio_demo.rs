//! The echo server and client on `nodenet-tokio` (one task per connection).

use nodenet_tokio::{
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
    ($f:expr) => {
        tokio::spawn($f)
    };
}
macro_rules! join_task {
    ($t:expr) => {
        let _ = $t.await;
    };
}

include!("demo_body.rs");
