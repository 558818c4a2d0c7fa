//! The key-value store of `src/kv.rs` on tokio over loopback: the code the simulator
//! sweeps (`tests/kv_sim.rs`) also works on a real runtime — including the injected
//! framing bug, which a loopback does not reveal.

use nodenet_core::{ConnectOptions, Endpoint, ListenOptions, ServerOptions};
use nodenet_examples::kv::{check_store, serve, Client, Framing, Store};
use nodenet_tokio::{Server, ServerEvent, TokioRuntime};

fn run(framing: Framing) -> Result<u32, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let mut server = Server::new(ServerOptions::default());
        server
            .listen(ListenOptions::port(0).host("127.0.0.1"))
            .map_err(|e| e.to_string())?;
        let Some(ServerEvent::Listening) = server.next_event().await else {
            return Err("the server did not start".to_string());
        };
        let Some(Endpoint::Tcp(addr)) = server.address() else {
            return Err("no address".to_string());
        };
        tokio::task::spawn_local(serve(server, Store::default(), framing));
        let mut client = Client::new(
            TokioRuntime,
            ConnectOptions::tcp(addr.port(), "127.0.0.1"),
            tokio::time::sleep,
        );
        let sets: Vec<(String, String)> = (0..20)
            .map(|i| (format!("k{}", i % 7), format!("v{i}")))
            .collect();
        check_store(&mut client, &sets)
            .await
            .map_err(|e| e.to_string())?;
        Ok(client.reconnects)
    })
}

#[test]
fn the_store_works_on_tokio() {
    assert_eq!(run(Framing::Lines), Ok(1), "one connection, no retries");
}

#[test]
fn the_framing_bug_hides_on_a_loopback() {
    // One small write arrives as one read on a loopback: the buggy server passes here,
    // which is why it takes the simulator's split reads to find it.
    assert_eq!(run(Framing::PerChunk), Ok(1));
}
